/* quic.c - HTTP/3: the http3 module's registry entry and GnuTLS credential checks. */
#include <config.h>

#include <stdio.h>
#include <gnutls/gnutls.h>
#include <ngtcp2/ngtcp2.h>
#include <nghttp3/nghttp3.h>
#include "core/config.h"
#include "core/diag.h"
#include "core/module.h"
#include "quic/quic.h"

/*
 * QUIC's handshake runs on GnuTLS (the crypto helper Debian ships) while
 * TCP uses OpenSSL, so the same PEM files must load in both; -t proves it.
 */
int sw_quic_check_config(const struct sw_config *cfg, struct sw_diag *diag)
{
	const char *cert = cfg->quic.cert_path ? cfg->quic.cert_path : cfg->tls.cert_path;
	const char *key = cfg->quic.key_path ? cfg->quic.key_path : cfg->tls.key_path;
	bool wanted = cfg->quic.enabled;
	gnutls_certificate_credentials_t cred;
	int rc;

	for (size_t i = 0; i < cfg->server.listeners_count; i++)
		wanted = wanted || cfg->server.listeners[i].quic_enabled;
	if (!wanted || !cert || !key)
		return SW_OK;
	if (gnutls_certificate_allocate_credentials(&cred) != GNUTLS_E_SUCCESS) {
		sw_diag_error(diag, "quic", "cannot allocate GnuTLS credentials");
		return SW_ERROR;
	}
	rc = gnutls_certificate_set_x509_key_file(cred, cert, key, GNUTLS_X509_FMT_PEM);
	gnutls_certificate_free_credentials(cred);
	if (rc < 0) {
		sw_diag_error(diag, "quic.cert_path", "%s / %s: GnuTLS cannot load them: %s",
			      cert, key, gnutls_strerror(rc));
		return SW_ERROR;
	}
	return SW_OK;
}

static void versions(char *buf, size_t size)
{
	snprintf(buf, size, "ngtcp2 %s, nghttp3 %s, GnuTLS %s",
		 ngtcp2_version(0)->version_str, nghttp3_version(0)->version_str,
		 gnutls_check_version(NULL));
}

const struct sw_module sw_module_http3 = {
	.name = "http3",
	.summary = "HTTP/3 over QUIC (ngtcp2, nghttp3, GnuTLS)",
	.versions = versions,
	.check_config = sw_quic_check_config,
};
