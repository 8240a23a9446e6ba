/* tls_gnutls.c - GnuTLS for QUIC: the worker's credentials and each connection's session. */
#include <config.h>

#include <stdio.h>
#include <string.h>
#include <ngtcp2/ngtcp2_crypto_gnutls.h>
#include "core/log.h"
#include "daemon/worker.h"
#include "quic/quic_impl.h"

/*
 * QUIC carries TLS 1.3 only, without the middlebox-compatibility
 * ChangeCipherSpec; the groups and ciphers are those ngtcp2 supports.
 */
#define QUIC_PRIORITY "%DISABLE_TLS13_COMPAT_MODE:NORMAL:-VERS-ALL:+VERS-TLS1.3:" \
	"-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:+AES-128-CCM:" \
	"-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1:+GROUP-SECP521R1"

static const gnutls_datum_t alpn_h3 = { (unsigned char *)"h3", 2 };

/* Certificates of quic.*, else tls.* (the checks at load made sure one is set). */
static int load_cred(const struct sw_config *cfg, gnutls_certificate_credentials_t *out,
		     char *err, size_t err_size)
{
	const char *cert = cfg->quic.cert_path ? cfg->quic.cert_path : cfg->tls.cert_path;
	const char *key = cfg->quic.key_path ? cfg->quic.key_path : cfg->tls.key_path;
	int rc;

	if (!cert || !key) {
		snprintf(err, err_size, "QUIC needs quic.cert_path/key_path or tls.cert_path/key_path");
		return SW_ERROR;
	}
	if (gnutls_certificate_allocate_credentials(out) != GNUTLS_E_SUCCESS) {
		snprintf(err, err_size, "cannot allocate GnuTLS credentials");
		return SW_ERROR;
	}
	rc = gnutls_certificate_set_x509_key_file(*out, cert, key, GNUTLS_X509_FMT_PEM);
	/* SNI: one more key pair per tls.certificates[] entry, GnuTLS picks by name. */
	for (size_t i = 0; rc >= 0 && !cfg->quic.cert_path && i < cfg->tls.certificates_count; i++)
		rc = gnutls_certificate_set_x509_key_file(*out, cfg->tls.certificates[i].cert_path,
							  cfg->tls.certificates[i].key_path,
							  GNUTLS_X509_FMT_PEM);
	if (rc < 0) {
		snprintf(err, err_size, "%s / %s: %s", cert, key, gnutls_strerror(rc));
		gnutls_certificate_free_credentials(*out);
		return SW_ERROR;
	}
	return SW_OK;
}

int sw_quic_tls_load(struct quic_ep *ep, char *err, size_t err_size)
{
	gnutls_certificate_credentials_t cred;
	const char *pos;

	if (load_cred(ep->w->cfg, &cred, err, err_size) != SW_OK)
		return SW_ERROR;
	if (ep->cred) {
		/* Sessions still handshaking hold the old ones: keep them till exit. */
		ep->retired_creds = sw_realloc(ep->retired_creds,
					       (ep->retired_creds_count + 1) * sizeof(*ep->retired_creds));
		ep->retired_creds[ep->retired_creds_count++] = ep->cred;
	}
	ep->cred = cred;
	if (!ep->prio && gnutls_priority_init(&ep->prio, QUIC_PRIORITY, &pos) != GNUTLS_E_SUCCESS) {
		snprintf(err, err_size, "GnuTLS refuses the QUIC priority string at \"%s\"", pos);
		return SW_ERROR;
	}
	return SW_OK;
}

void sw_quic_tls_unload(struct quic_ep *ep)
{
	if (ep->cred)
		gnutls_certificate_free_credentials(ep->cred);
	for (size_t i = 0; i < ep->retired_creds_count; i++)
		gnutls_certificate_free_credentials(ep->retired_creds[i]);
	free(ep->retired_creds);
	if (ep->prio)
		gnutls_priority_deinit(ep->prio);
	ep->cred = NULL;
	ep->prio = NULL;
	ep->retired_creds = NULL;
	ep->retired_creds_count = 0;
}

/* ALPN "mandatory" only refuses a client that offers nothing we know: insist on h3. */
static int client_hello_hook(gnutls_session_t s, unsigned type, unsigned when,
			     unsigned incoming, const gnutls_datum_t *msg)
{
	gnutls_datum_t proto;

	(void)type;
	(void)when;
	(void)incoming;
	(void)msg;
	if (gnutls_alpn_get_selected_protocol(s, &proto) != 0 || proto.size != 2 ||
	    memcmp(proto.data, "h3", 2) != 0)
		return GNUTLS_E_NO_APPLICATION_PROTOCOL;
	return 0;
}

static ngtcp2_conn *get_conn(ngtcp2_crypto_conn_ref *ref)
{
	struct quic_conn *qc = ref->user_data;

	return qc->conn;
}

int sw_quic_tls_session(struct quic_conn *qc)
{
	struct quic_ep *ep = qc->ep;
	gnutls_session_t s;

	if (gnutls_init(&s, GNUTLS_SERVER | GNUTLS_NO_AUTO_SEND_TICKET |
			    GNUTLS_NO_END_OF_EARLY_DATA) != GNUTLS_E_SUCCESS)
		return SW_ERROR;
	qc->tls = s;
	if (gnutls_priority_set(s, ep->prio) != GNUTLS_E_SUCCESS ||
	    gnutls_session_ticket_enable_server(s, &sw_quic_secrets.ticket_key) != GNUTLS_E_SUCCESS ||
	    ngtcp2_crypto_gnutls_configure_server_session(s) != 0 ||
	    gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, ep->cred) != GNUTLS_E_SUCCESS ||
	    gnutls_alpn_set_protocols(s, &alpn_h3, 1,
				      GNUTLS_ALPN_MANDATORY | GNUTLS_ALPN_SERVER_PRECEDENCE) != 0)
		return SW_ERROR;
	gnutls_handshake_set_hook_function(s, GNUTLS_HANDSHAKE_CLIENT_HELLO, GNUTLS_HOOK_POST,
					   client_hello_hook);
	qc->ref.get_conn = get_conn;
	qc->ref.user_data = qc;
	gnutls_session_set_ptr(s, &qc->ref);
	ngtcp2_conn_set_tls_native_handle(qc->conn, s);
	return SW_OK;
}
