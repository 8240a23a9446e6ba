/* SPDX-License-Identifier: MIT */
/* tls.h - TLS over TCP with OpenSSL: contexts with SNI, sessions, certificate checks. */
#ifndef SW_TLS_TLS_H
#define SW_TLS_TLS_H

#include <stddef.h>
#include <sys/types.h>
#include "core/module.h"

struct sw_diag;
struct sw_config;
struct sw_ticket_keys;

/* Results of the session calls besides byte counts, SW_OK and SW_ERROR. */
enum { SW_TLS_WANT_READ = -10, SW_TLS_WANT_WRITE = -11 };

/*
 * What the connection engine uses, found through sw_tls_api() so
 * that core code links without OpenSSL when the unit is compiled out.  The
 * session does its own socket I/O (non-blocking); WANT_READ / WANT_WRITE
 * ask the caller to wait for readiness and call again.
 */
struct sw_tls_api {
	/*
	 * Server contexts for cfg: default certificate, SNI certificates, mTLS;
	 * session tickets sealed with the shared keys (may be NULL: per-process).
	 */
	void *(*ctx_open)(const struct sw_config *cfg, const struct sw_ticket_keys *keys,
			  char *err, size_t err_size);
	void (*ctx_close)(void *ctx);
	void *(*session_new)(void *ctx, int fd);
	void (*session_free)(void *session);
	int (*handshake)(void *session);
	/* Bytes, 0 at the peer's close_notify or EOF, WANT_*, or SW_ERROR. */
	ssize_t (*read)(void *session, void *buf, size_t len);
	ssize_t (*write)(void *session, const void *buf, size_t len);
	/*
	 * Sends what writes left waiting: a write only encrypts, so that the
	 * records of one batch leave in one send.  SW_OK, WANT_WRITE or SW_ERROR.
	 */
	int (*flush)(void *session);
	/* Sends close_notify if it can without blocking. */
	void (*shutdown)(void *session);
	/* The negotiated ALPN protocol ("http/1.1"), or "" when none. */
	const char *(*alpn)(void *session);
	/*
	 * Writes the verified client certificate's subject (RFC 2253) into
	 * buf; returns its length, 0 when the client sent none.
	 */
	size_t (*peer_subject)(void *session, char *buf, size_t size);
};

/* The unit's table, or NULL when it was compiled out: the one place its sw_module's impl is converted. */
static inline const struct sw_tls_api *sw_tls_api(void)
{
	const struct sw_module *m = sw_module_find("tls");

	return m ? m->impl : NULL;
}

/*
 * Loads a certificate chain and its key the way the server will, and
 * reports (under `path`, e.g. "tls.certificates[1]") an unreadable file, a
 * key that does not match, or an expired certificate.  SW_OK or SW_ERROR.
 */
int sw_tls_check_pair(const char *cert_path, const char *key_path,
		      const char *path, struct sw_diag *diag);

#endif
