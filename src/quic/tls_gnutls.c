/* SPDX-License-Identifier: MIT */
/* tls_gnutls.c - GnuTLS for QUIC: the worker's credentials, each connection's session, session-ticket keys. */
#include <config.h>

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <gnutls/crypto.h>
#include <ngtcp2/ngtcp2_crypto_gnutls.h>
#include "core/log.h"
#include "core/shm.h"
#include "http/context.h"
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
	const char *cert = sw_quic_cert_path(cfg), *key = sw_quic_key_path(cfg);
	const struct sw_tls_cfg *sni = sw_quic_sni_certs(cfg);
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
	for (size_t i = 0; rc >= 0 && sni && i < sni->certificates_count; i++)
		rc = gnutls_certificate_set_x509_key_file(*out, sni->certificates[i].cert_path,
							  sni->certificates[i].key_path,
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

	if (load_cred(ep->ctx->cfg, &cred, err, err_size) != SW_OK)
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

/*
 * ---- session tickets ----
 *
 * TCP seals its tickets with keys the master keeps in shared memory and
 * replaces every 12 hours, the previous one still accepted for a period
 * (core/shm.h).  QUIC derives its keys from the same two, so a ticket from
 * any worker of any generation resumes on any other, and a master key
 * never outlives the TCP key it came from.
 *
 * GnuTLS takes one 64-byte master key per session, and seals with a key
 * it derives from it for the current wall-clock step of 3 ticket
 * lifetimes, accepting the previous step's too: every process derives the
 * same, so its own rotation needs nothing shared.  It cannot be given a
 * second master key, though, so a ticket sealed under the previous shared
 * key is recognised by its key name before GnuTLS reads the ClientHello,
 * and that session gets the previous master key instead.
 */

/* How long a ticket resumes: as on TCP (OpenSSL's default). */
#define TICKET_LIFETIME_S 7200
#define TICKET_NAME_LEN 16
#define TLS_EXT_PRE_SHARED_KEY 41

static const char ticket_label[] = "swerver QUIC session-ticket master key";

/* A key of its own for GnuTLS, not the TCP key's bytes used by a second cipher. */
static int derive(const uint8_t tcp[SW_TICKET_KEY_LEN], uint8_t out[QUIC_TICKET_KEY_LEN])
{
	return gnutls_hmac_fast(GNUTLS_MAC_SHA512, tcp, SW_TICKET_KEY_LEN, ticket_label,
				sizeof(ticket_label) - 1, out);
}

/* Derives again only when the master has rotated (the seqlock moved). */
static void tickets_refresh(struct quic_ep *ep)
{
	const struct sw_ticket_keys *k = &ep->ctx->shm->head.tickets;
	uint64_t seq = __atomic_load_n(&k->seq, __ATOMIC_ACQUIRE);
	uint8_t cur[SW_TICKET_KEY_LEN], prev[SW_TICKET_KEY_LEN];

	if (ep->tickets_ready && seq == ep->tickets_seq)
		return;
	sw_ticket_keys_read(k, cur, prev);
	ep->tickets_ready = derive(cur, ep->ticket_cur) == 0 && derive(prev, ep->ticket_prev) == 0;
	ep->tickets_seq = seq;
	gnutls_memset(cur, 0, sizeof(cur));
	gnutls_memset(prev, 0, sizeof(prev));
}

/*
 * The name a ticket sealed in wall-clock step `step` under master key
 * `master` starts with: GnuTLS seals with SHA3-512(step, big-endian ||
 * master), whose first 16 bytes name the key (lib/stek.c, unchanged from
 * 3.6.14 to 3.8).  Should that ever change, no name matches and such a
 * client makes one full handshake.
 */
static void ticket_name(const uint8_t master[QUIC_TICKET_KEY_LEN], uint64_t step,
			uint8_t name[TICKET_NAME_LEN])
{
	uint8_t in[8 + QUIC_TICKET_KEY_LEN], out[64];

	for (int i = 0; i < 8; i++)
		in[i] = (uint8_t)(step >> (56 - 8 * i));
	memcpy(in + 8, master, QUIC_TICKET_KEY_LEN);
	if (gnutls_hash_fast(GNUTLS_DIG_SHA3_512, in, sizeof(in), out) != 0)
		memset(out, 0, sizeof(out));
	memcpy(name, out, TICKET_NAME_LEN);
	gnutls_memset(in, 0, sizeof(in));
	gnutls_memset(out, 0, sizeof(out));
}

/* Sealed under the previous shared key, in this step or the one before (both open). */
static bool sealed_with_prev(const struct quic_ep *ep, const uint8_t *ticket, size_t len)
{
	uint64_t step = (uint64_t)time(NULL) / (3 * TICKET_LIFETIME_S);
	uint8_t name[TICKET_NAME_LEN];

	if (len < TICKET_NAME_LEN)
		return false;
	for (uint64_t back = 0; back < 2 && back < step; back++) {
		ticket_name(ep->ticket_prev, step - back, name);
		if (memcmp(name, ticket, TICKET_NAME_LEN) == 0)
			return true;
	}
	return false;
}

/* A bounded reader over a handshake message. */
struct rd {
	const uint8_t *p;
	size_t n;
};

static bool rd_skip(struct rd *r, size_t len)
{
	if (r->n < len)
		return false;
	r->p += len;
	r->n -= len;
	return true;
}

/* A vector behind a big-endian length of width 1 or 2 bytes. */
static bool rd_vec(struct rd *r, size_t width, struct rd *out)
{
	size_t len;

	if (r->n < width)
		return false;
	len = width == 1 ? r->p[0] : ((size_t)r->p[0] << 8 | r->p[1]);
	out->p = r->p + width;
	out->n = len;
	return rd_skip(r, width + len);
}

/* The identities of a ClientHello's pre_shared_key extension (RFC 8446 4.1.2, 4.2.11). */
static bool psk_identities(const gnutls_datum_t *msg, struct rd *ids)
{
	struct rd r = { msg->data, msg->size }, v, exts, ext;

	/* legacy_version, random, session_id, cipher_suites, compression, extensions */
	if (!rd_skip(&r, 2 + 32) || !rd_vec(&r, 1, &v) || !rd_vec(&r, 2, &v) ||
	    !rd_vec(&r, 1, &v) || !rd_vec(&r, 2, &exts))
		return false;
	while (exts.n >= 4) {
		unsigned type = (unsigned)exts.p[0] << 8 | exts.p[1];
		if (!rd_skip(&exts, 2) || !rd_vec(&exts, 2, &ext))
			return false;
		if (type == TLS_EXT_PRE_SHARED_KEY)
			return rd_vec(&ext, 2, ids);
	}
	return false;
}

/* Before GnuTLS reads the ClientHello: the previous master key for a ticket sealed with it. */
static void pick_ticket_key(gnutls_session_t s, const gnutls_datum_t *msg)
{
	ngtcp2_crypto_conn_ref *ref = gnutls_session_get_ptr(s);
	struct quic_ep *ep = ((struct quic_conn *)ref->user_data)->ep;
	gnutls_datum_t prev = { ep->ticket_prev, QUIC_TICKET_KEY_LEN };
	struct rd ids, id;

	if (!ep->tickets_ready || memcmp(ep->ticket_cur, ep->ticket_prev, QUIC_TICKET_KEY_LEN) == 0 ||
	    !psk_identities(msg, &ids))
		return;
	/* Each identity is a ticket and a 4-byte obfuscated age. */
	while (rd_vec(&ids, 2, &id) && rd_skip(&ids, 4)) {
		if (sealed_with_prev(ep, id.p, id.n)) {
			/*
			 * GnuTLS has not used the first key yet, so it takes
			 * this one; the ticket this connection gets is sealed
			 * with it too and lasts until the next rotation.
			 */
			if (gnutls_session_ticket_enable_server(s, &prev) != GNUTLS_E_SUCCESS)
				sw_debug("QUIC: cannot switch to the previous ticket key");
			return;
		}
	}
}

/*
 * Before the ClientHello: the ticket key.  After: ALPN "mandatory" only
 * refuses a client that offers nothing we know, so insist on h3.
 */
static int client_hello_hook(gnutls_session_t s, unsigned type, unsigned when,
			     unsigned incoming, const gnutls_datum_t *msg)
{
	gnutls_datum_t proto;

	(void)type;
	(void)incoming;
	if (when == GNUTLS_HOOK_PRE) {
		pick_ticket_key(s, msg);
		return 0;
	}
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
	gnutls_datum_t ticket_key = { ep->ticket_cur, QUIC_TICKET_KEY_LEN };
	gnutls_session_t s;

	if (gnutls_init(&s, GNUTLS_SERVER | GNUTLS_NO_AUTO_SEND_TICKET |
			    GNUTLS_NO_END_OF_EARLY_DATA) != GNUTLS_E_SUCCESS)
		return SW_ERROR;
	qc->tls = s;
	tickets_refresh(ep);
	gnutls_db_set_cache_expiration(s, TICKET_LIFETIME_S);
	if (gnutls_priority_set(s, ep->prio) != GNUTLS_E_SUCCESS ||
	    (ep->tickets_ready &&
	     gnutls_session_ticket_enable_server(s, &ticket_key) != GNUTLS_E_SUCCESS) ||
	    ngtcp2_crypto_gnutls_configure_server_session(s) != 0 ||
	    gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, ep->cred) != GNUTLS_E_SUCCESS ||
	    gnutls_alpn_set_protocols(s, &alpn_h3, 1,
				      GNUTLS_ALPN_MANDATORY | GNUTLS_ALPN_SERVER_PRECEDENCE) != 0)
		return SW_ERROR;
	gnutls_handshake_set_hook_function(s, GNUTLS_HANDSHAKE_CLIENT_HELLO, GNUTLS_HOOK_BOTH,
					   client_hello_hook);
	qc->ref.get_conn = get_conn;
	qc->ref.user_data = qc;
	gnutls_session_set_ptr(s, &qc->ref);
	ngtcp2_conn_set_tls_native_handle(qc->conn, s);
	return SW_OK;
}
