/* SPDX-License-Identifier: MIT */
/* tls.c - OpenSSL: the tls module's registry entry and certificate checks. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include "core/config.h"
#include "core/diag.h"
#include "core/module.h"
#include "core/shm.h"
#include "tls/config.h"
#include "tls/tls.h"
#include "tls/tls_impl.h"

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
	const struct sw_tls_cfg *t = sw_tls_config(cfg);
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

/* ---- server contexts ---- */

/*
 * One certificate group: the names it serves (copies: the context outlives
 * the config it was made from, which an in-place reload frees) and the
 * context holding it.
 */
struct sni_entry {
	char **hostnames;
	size_t count;
	SSL_CTX *ctx;
};

struct tls_ctx {
	SSL_CTX *def;              /* unknown or missing SNI names */
	struct sni_entry *sni;
	size_t sni_count;
};

/*
 * Forward secrecy only.  We choose (server preference), and AES-128-GCM
 * comes first: as strong as needed and cheaper than AES-256, as browsers
 * and nginx order it; TLS 1.3 suites are all forward secret.
 */
#define TLS12_CIPHERS "ECDHE+AES128+AESGCM:ECDHE+AESGCM:ECDHE+CHACHA20"
#define TLS13_SUITES "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"

/*
 * h2 first when the HTTP/2 unit is built in, then http/1.1; a client that
 * offers neither is refused (no_application_protocol) rather than answered
 * in a protocol it did not ask for.  arg says whether h2 may be chosen.
 */
static int select_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
		       const unsigned char *in, unsigned int inlen, void *arg)
{
	static const unsigned char both[] = "\x02h2\x08http/1.1";
	const unsigned char *ours = arg ? both : both + 3;
	unsigned ours_len = arg ? sizeof(both) - 1 : sizeof(both) - 4;
	unsigned char *sel;

	(void)ssl;
	if (SSL_select_next_proto(&sel, outlen, ours, ours_len, in, inlen) !=
	    OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_ALERT_FATAL;   /* no_application_protocol */
	*out = sel;
	return SSL_TLSEXT_ERR_OK;
}

/* ---- session tickets sealed with the master's shared keys ---- */

static const struct sw_ticket_keys *ticket_keys;   /* in shared memory */

static int ticket_mac(EVP_MAC_CTX *hctx, const uint8_t *key)
{
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, (void *)(key + 16), 32),
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};

	return EVP_MAC_CTX_set_params(hctx, params);
}

/*
 * enc: seal a new ticket with the current key.  !enc: open one sealed with
 * the current key (1) or the previous one (2: OpenSSL then issues a fresh
 * ticket), or refuse (0: a full handshake) for an unknown key name.
 */
static int on_ticket(SSL *ssl, unsigned char name[16], unsigned char *iv,
		     EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx, int enc)
{
	uint8_t cur[SW_TICKET_KEY_LEN], prev[SW_TICKET_KEY_LEN];
	const uint8_t *key = cur;

	(void)ssl;
	sw_ticket_keys_read(ticket_keys, cur, prev);
	if (enc) {
		memcpy(name, cur, 16);
		if (RAND_bytes(iv, 16) != 1 ||
		    EVP_EncryptInit_ex(cctx, EVP_aes_256_cbc(), NULL, cur + 48, iv) != 1 ||
		    ticket_mac(hctx, cur) != 1)
			return -1;
		return 1;
	}
	if (memcmp(name, cur, 16) != 0) {
		if (memcmp(name, prev, 16) != 0)
			return 0;
		key = prev;
	}
	if (ticket_mac(hctx, key) != 1 ||
	    EVP_DecryptInit_ex(cctx, EVP_aes_256_cbc(), NULL, key + 48, iv) != 1)
		return -1;
	return key == cur ? 1 : 2;
}

/* "*.example.com" stands for exactly one label before ".example.com". */
static int name_matches(const char *pattern, const char *name)
{
	const char *dot;

	if (strcasecmp(pattern, name) == 0)
		return 1;
	if (pattern[0] != '*' || pattern[1] != '.')
		return 0;
	dot = strchr(name, '.');
	return dot && dot != name && strcasecmp(dot, pattern + 1) == 0;
}

static int on_servername(SSL *ssl, int *alert, void *arg)
{
	const struct tls_ctx *t = arg;
	const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);

	(void)alert;
	if (!name)
		return SSL_TLSEXT_ERR_NOACK;
	/* Exact names first, so a.example.com beats *.example.com. */
	for (int wild = 0; wild < 2; wild++)
		for (size_t i = 0; i < t->sni_count; i++)
			for (size_t k = 0; k < t->sni[i].count; k++) {
				const char *p = t->sni[i].hostnames[k];
				if ((p[0] == '*') == wild && name_matches(p, name)) {
					SSL_set_SSL_CTX(ssl, t->sni[i].ctx);
					return SSL_TLSEXT_ERR_OK;
				}
			}
	return SSL_TLSEXT_ERR_OK;   /* the default certificate */
}

static int load_pair(SSL_CTX *ctx, const char *cert, const char *key, char *err, size_t n)
{
	char why[256];

	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(err, n, "%s: %s", cert, ssl_reason(why, sizeof(why)));
		return SW_ERROR;
	}
	return SW_OK;
}

static SSL_CTX *new_ctx(const struct sw_tls_cfg *cfg, char *err, size_t n)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	char why[256];

	if (!ctx) {
		snprintf(err, n, "SSL_CTX_new: %s", ssl_reason(why, sizeof(why)));
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS);
	SSL_CTX_set_ciphersuites(ctx, TLS13_SUITES);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
			    SSL_OP_NO_COMPRESSION);
	/* We retry a WANT_WRITE with the same bytes, maybe from a moved buffer. */
	SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
	/*
	 * One read syscall for every record that has arrived rather than two
	 * per record (header, then body). Safe here because a connection waits
	 * for the socket only after SSL_read said WANT_READ, never while
	 * OpenSSL still holds read-ahead bytes.
	 */
	SSL_CTX_set_read_ahead(ctx, 1);
	/* Any non-NULL arg allows h2; the module table is static data. */
	SSL_CTX_set_alpn_select_cb(ctx, select_alpn, (void *)sw_module_find("http2"));
	if (ticket_keys)
		SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, on_ticket);
	if (cfg->client_ca_path) {
		STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(cfg->client_ca_path);
		if (!names || SSL_CTX_load_verify_locations(ctx, cfg->client_ca_path, NULL) != 1) {
			snprintf(err, n, "%s: %s", cfg->client_ca_path, ssl_reason(why, sizeof(why)));
			sk_X509_NAME_pop_free(names, X509_NAME_free);
			SSL_CTX_free(ctx);
			return NULL;
		}
		SSL_CTX_set_client_CA_list(ctx, names);
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | (cfg->client_cert_required ?
					SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0), NULL);
	}
	return ctx;
}

static void ctx_close(void *p)
{
	struct tls_ctx *t = p;

	if (!t)
		return;
	for (size_t i = 0; i < t->sni_count; i++) {
		for (size_t k = 0; k < t->sni[i].count; k++)
			free(t->sni[i].hostnames[k]);
		free(t->sni[i].hostnames);
		SSL_CTX_free(t->sni[i].ctx);
	}
	free(t->sni);
	SSL_CTX_free(t->def);
	free(t);
}

static bool same_names(const struct sni_entry *e, const struct sw_tls_cert_cfg *c)
{
	if (e->count != c->hostnames_count)
		return false;
	for (size_t i = 0; i < e->count; i++)
		if (strcasecmp(e->hostnames[i], c->hostnames[i]) != 0)
			return false;
	return true;
}

static struct sni_entry *find_group(struct tls_ctx *t, const struct sw_tls_cert_cfg *c)
{
	for (size_t i = 0; i < t->sni_count; i++)
		if (same_names(&t->sni[i], c))
			return &t->sni[i];
	return NULL;
}

static int open_sni(struct tls_ctx *t, const struct sw_tls_cfg *cfg, char *err, size_t n)
{
	t->sni = calloc(cfg->certificates_count ? cfg->certificates_count : 1, sizeof(*t->sni));
	if (!t->sni)
		return SW_ERROR;
	for (size_t i = 0; i < cfg->certificates_count; i++) {
		const struct sw_tls_cert_cfg *c = &cfg->certificates[i];
		struct sni_entry *e = find_group(t, c);

		/*
		 * Entries for the same names share a context: OpenSSL keeps one
		 * certificate per key type, so an RSA and an ECDSA one coexist
		 * and each client gets the kind it can verify.
		 */
		if (!e) {
			e = &t->sni[t->sni_count++];
			e->hostnames = calloc(c->hostnames_count ? c->hostnames_count : 1,
					      sizeof(*e->hostnames));
			if (!e->hostnames)
				return SW_ERROR;
			for (size_t k = 0; k < c->hostnames_count; k++, e->count++)
				if (!(e->hostnames[k] = strdup(c->hostnames[k])))
					return SW_ERROR;
			e->ctx = new_ctx(cfg, err, n);
			if (!e->ctx)
				return SW_ERROR;
		}
		if (load_pair(e->ctx, c->cert_path, c->key_path, err, n) != SW_OK)
			return SW_ERROR;
	}
	return SW_OK;
}

/*
 * The default context serves tls.cert_path, or else the first SNI
 * certificate; every context answers the servername callback, since
 * OpenSSL calls the one the handshake started on.
 */
static void *ctx_open(const struct sw_config *cfg, const struct sw_ticket_keys *keys,
		      char *err, size_t n)
{
	const struct sw_tls_cfg *tc = sw_tls_config(cfg);
	struct tls_ctx *t = calloc(1, sizeof(*t));
	const char *cert = tc->cert_path, *key = tc->key_path;

	ticket_keys = keys;
	if (!t || open_sni(t, tc, err, n) != SW_OK)
		goto fail;
	if (!cert && tc->certificates_count) {
		cert = tc->certificates[0].cert_path;
		key = tc->certificates[0].key_path;
	}
	t->def = new_ctx(tc, err, n);
	if (!t->def || !cert || load_pair(t->def, cert, key, err, n) != SW_OK)
		goto fail;
	SSL_CTX_set_tlsext_servername_callback(t->def, on_servername);
	SSL_CTX_set_tlsext_servername_arg(t->def, t);
	return t;
fail:
	if (!cert && !err[0])
		snprintf(err, n, "no certificate configured");
	ctx_close(t);
	return NULL;
}

/* ---- sessions ---- */

static void *session_new(void *ctx, int fd)
{
	struct tls_ctx *t = ctx;
	SSL *ssl = SSL_new(t->def);
	BIO *rb, *wb;

	if (!ssl)
		return NULL;
	/* Reads straight from the socket; writes gather until a flush (tls_wbio.c). */
	rb = BIO_new_socket(fd, BIO_NOCLOSE);
	wb = sw_tls_wbio_new(fd);
	if (!rb || !wb) {
		BIO_free(rb);
		BIO_free(wb);
		SSL_free(ssl);
		return NULL;
	}
	SSL_set_bio(ssl, rb, wb);
	SSL_set_accept_state(ssl);
	return ssl;
}

static void session_free(void *s)
{
	SSL_free(s);
}

/* Maps an OpenSSL result to bytes, 0 (closed), WANT_* or SW_ERROR. */
static ssize_t result(SSL *ssl, int rc)
{
	switch (SSL_get_error(ssl, rc)) {
	case SSL_ERROR_NONE:
		return rc;
	case SSL_ERROR_WANT_READ:
		return SW_TLS_WANT_READ;
	case SSL_ERROR_WANT_WRITE:
		return SW_TLS_WANT_WRITE;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	default:
		ERR_clear_error();
		return SW_ERROR;
	}
}

static int handshake(void *s)
{
	int rc = SSL_do_handshake(s);

	return rc == 1 ? SW_OK : (int)result(s, rc);
}

static ssize_t tls_read(void *s, void *buf, size_t len)
{
	size_t n = 0;
	int rc = SSL_read_ex(s, buf, len, &n);

	return rc == 1 ? (ssize_t)n : result(s, rc);
}

static ssize_t tls_write(void *s, const void *buf, size_t len)
{
	size_t n = 0;
	int rc = SSL_write_ex(s, buf, len, &n);

	return rc == 1 ? (ssize_t)n : result(s, rc);
}

static int tls_flush(void *s)
{
	BIO *wb = SSL_get_wbio(s);

	if (BIO_flush(wb) == 1)
		return SW_OK;
	return BIO_should_retry(wb) ? SW_TLS_WANT_WRITE : SW_ERROR;
}

static void tls_shutdown(void *s)
{
	/* One non-blocking try: a peer that does not read gets no close_notify. */
	if (SSL_is_init_finished((SSL *)s))
		SSL_shutdown(s);
	ERR_clear_error();
}

static const char *alpn(void *s)
{
	static char proto[32];
	const unsigned char *p;
	unsigned int n;

	SSL_get0_alpn_selected(s, &p, &n);
	if (!p || n >= sizeof(proto))
		return "";
	memcpy(proto, p, n);
	proto[n] = '\0';
	return proto;
}

/*
 * The verified client certificate's subject, RFC 2253 style
 * ("CN=alice,O=Example"), for the access log and upstreams.  Returns its
 * length, or 0 without a verified certificate.
 */
static size_t peer_subject(void *s, char *buf, size_t size)
{
	X509 *cert = SSL_get0_peer_certificate(s);
	BIO *bio;
	int n;

	if (!cert || size == 0 || SSL_get_verify_result(s) != X509_V_OK)
		return 0;
	bio = BIO_new(BIO_s_mem());
	if (!bio)
		return 0;
	X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
	n = BIO_read(bio, buf, (int)size - 1);
	BIO_free(bio);
	buf[n > 0 ? n : 0] = '\0';
	return n > 0 ? (size_t)n : 0;
}

static const struct sw_tls_api api = {
	.ctx_open = ctx_open,
	.ctx_close = ctx_close,
	.session_new = session_new,
	.session_free = session_free,
	.handshake = handshake,
	.read = tls_read,
	.write = tls_write,
	.flush = tls_flush,
	.shutdown = tls_shutdown,
	.alpn = alpn,
	.peer_subject = peer_subject,
};

static void versions(char *buf, size_t size)
{
	snprintf(buf, size, "%s", OpenSSL_version(OPENSSL_VERSION));
}

const struct sw_module sw_module_tls = {
	.name = "tls",
	.summary = "TLS 1.2/1.3 over TCP with OpenSSL",
	.versions = versions,
	.check_config = check_config,
	.config = &sw_tls_config_section,
	.impl = &api,
};
