/* tls.c - OpenSSL: the tls module's registry entry and certificate checks. */
#include <config.h>

#include <stdio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include "core/config.h"
#include "core/diag.h"
#include "core/module.h"
#include "tls/tls.h"

/* The most specific OpenSSL reason for the last failure, then clear the queue. */
static const char *ssl_reason(char *buf, size_t size)
{
	unsigned long e = ERR_peek_last_error();

	if (e == 0)
		snprintf(buf, size, "unknown error");
	else
		ERR_error_string_n(e, buf, size);
	ERR_clear_error();
	return buf;
}

static int check_expiry(SSL_CTX *ctx, const char *cert_path, const char *path,
			struct sw_diag *diag)
{
	X509 *x = SSL_CTX_get0_certificate(ctx);

	if (x && X509_cmp_current_time(X509_get0_notAfter(x)) < 0) {
		sw_diag_error(diag, path, "%s: the certificate has expired", cert_path);
		return SW_ERROR;
	}
	if (x && X509_cmp_current_time(X509_get0_notBefore(x)) > 0) {
		sw_diag_error(diag, path, "%s: the certificate is not valid yet", cert_path);
		return SW_ERROR;
	}
	return SW_OK;
}

int sw_tls_check_pair(const char *cert_path, const char *key_path,
		      const char *path, struct sw_diag *diag)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	char why[256];
	int rc = SW_ERROR;

	if (!ctx) {
		sw_diag_error(diag, path, "cannot create a TLS context: %s", ssl_reason(why, sizeof(why)));
		return SW_ERROR;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, cert_path) != 1)
		sw_diag_error(diag, path, "%s: cannot load the certificate: %s", cert_path,
			      ssl_reason(why, sizeof(why)));
	else if (SSL_CTX_use_PrivateKey_file(ctx, key_path, SSL_FILETYPE_PEM) != 1)
		sw_diag_error(diag, path, "%s: cannot load the private key: %s", key_path,
			      ssl_reason(why, sizeof(why)));
	else if (SSL_CTX_check_private_key(ctx) != 1)
		sw_diag_error(diag, path, "%s: the key does not match the certificate %s",
			      key_path, cert_path);
	else
		rc = check_expiry(ctx, cert_path, path, diag);
	ERR_clear_error();
	SSL_CTX_free(ctx);
	return rc;
}

static int check_client_ca(const char *ca, struct sw_diag *diag)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	char why[256];
	int rc = SW_OK;

	if (ctx && SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
		sw_diag_error(diag, "tls.client_ca_path", "%s: cannot load CA certificates: %s",
			      ca, ssl_reason(why, sizeof(why)));
		rc = SW_ERROR;
	}
	SSL_CTX_free(ctx);
	return rc;
}

static int check_config(const struct sw_config *cfg, struct sw_diag *diag)
{
	const struct sw_tls_cfg *t = &cfg->tls;
	char path[64];
	int rc = SW_OK;

	if (t->cert_path && t->key_path &&
	    sw_tls_check_pair(t->cert_path, t->key_path, "tls.cert_path", diag) != SW_OK)
		rc = SW_ERROR;
	for (size_t i = 0; i < t->certificates_count; i++) {
		snprintf(path, sizeof(path), "tls.certificates[%zu]", i);
		if (sw_tls_check_pair(t->certificates[i].cert_path, t->certificates[i].key_path,
				      path, diag) != SW_OK)
			rc = SW_ERROR;
	}
	if (t->client_ca_path && check_client_ca(t->client_ca_path, diag) != SW_OK)
		rc = SW_ERROR;
	return rc;
}

static void versions(char *buf, size_t size)
{
	snprintf(buf, size, "%s", OpenSSL_version(OPENSSL_VERSION));
}

const struct sw_module sw_module_tls = {
	.name = "tls",
	.summary = "TLS 1.2/1.3 over TCP with OpenSSL",
	.versions = versions,
	.check_config = check_config,
};
