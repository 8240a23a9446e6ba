/* tls.h - TLS over TCP with OpenSSL. */
#ifndef SW_TLS_TLS_H
#define SW_TLS_TLS_H

struct sw_diag;

/*
 * Loads a certificate chain and its key the way the server will, and
 * reports (under `path`, e.g. "tls.certificates[1]") an unreadable file, a
 * key that does not match, or an expired certificate.  SW_OK or SW_ERROR.
 */
int sw_tls_check_pair(const char *cert_path, const char *key_path,
		      const char *path, struct sw_diag *diag);

#endif
