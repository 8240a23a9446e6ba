/* SPDX-License-Identifier: MIT */
/* test_http3_handshake.c - HTTP/3 over QUIC: TLS and QUIC handshakes: tickets resumed on any worker and after a reload, Alt-Svc per listener, Retry, version negotiation. */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "core/module.h"
#include "h3_fixture.h"

/*
 * A resumed TLS handshake sends no certificate: the server's Handshake-level
 * CRYPTO stream in gtlsclient's packet log is a few hundred bytes at most
 * (EncryptedExtensions and Finished), against the certificate's size more
 * for a full one.  Its end offset, so retransmissions do not count twice;
 * 0 when the log has none (no handshake at all).
 */
static long handshake_crypto_bytes(const char *dump)
{
	long end = 0;

	for (const char *p = dump; (p = strstr(p, "frm rx")) != NULL; p += 6) {
		const char *eol = strchr(p, '\n');
		const char *h = strstr(p, " Handshake CRYPTO(");
		const char *off = h ? strstr(h, "offset=") : NULL;
		const char *len = off ? strstr(off, "len=") : NULL;
		if (len && (!eol || len < eol)) {
			long e = strtol(off + 7, NULL, 10) + strtol(len + 4, NULL, 10);
			end = e > end ? e : end;
		}
	}
	return end;
}

/*
 * Resumes with the ticket in the session file on each worker, steered
 * there by the DCID (unless the steering program could not attach: then
 * the 4-tuple hash picks, and any worker may answer).
 */
static void resume_on_both_workers(int port, const char *session, const char *tp,
				   const char *when, bool steered)
{
	char opts[2 * IT_PATH_MAX + 128], dcid[37];

	/* Each worker in turn, by the socket the Initial's DCID steers to. */
	for (unsigned want = 0; want < 2; want++) {
		char *o;
		int slot;
		long hs;

		initial_dcid(dcid, want);
		snprintf(opts, sizeof(opts), "--session-file=%s --tp-file=%s --dcid=%s", session, tp,
			 dcid);
		o = h3_gtls(port, opts, "/index.html", true);
		slot = server_slot(o);
		hs = handshake_crypto_bytes(o);
		IT_ASSERT(slot == (int)want || (!steered && slot >= 0), "%s: steered to worker %u, "
			  "answered by %d: %s", when, want, slot, tail_of(o));
		IT_ASSERT(strstr(o, "[:status: 200]") != NULL, "%s: no answer: %s", when, tail_of(o));
		IT_ASSERT(hs > 0 && hs < 400, "%s: worker %d did not resume the session "
			  "(%ld Handshake bytes, a certificate)", when, slot, hs);
		free(o);
	}
}

/*
 * Session tickets are sealed with keys derived from the master's shared
 * ones, not each worker's own: a ticket one worker issued resumes on the
 * other, and on the next generation's workers after a structural reload.
 */
START_TEST(tickets_resume_on_any_worker_and_after_reload)
{
	char cfg[IT_PATH_MAX], alog[IT_PATH_MAX], session[IT_PATH_MAX], tp[IT_PATH_MAX];
	char opts[2 * IT_PATH_MAX + 64];
	struct it_proc *p;
	bool steered;
	char *o;
	int port;

	if (!have_h3(_i))
		return;
	p = start_h3(_i, 2, NULL, &port);
	it_path(session, "session.pem");
	it_path(tp, "tp.txt");
	snprintf(opts, sizeof(opts), "--session-file=%s --tp-file=%s --wait-for-ticket "
		 "--no-quic-dump", session, tp);
	o = h3_gtls(port, opts, "/index.html", false);
	IT_ASSERT(strstr(o, "[:status: 200]") != NULL, "first connection: %s", tail_of(o));
	free(o);
	o = it_read_file(session);
	IT_ASSERT(strstr(o, "BEGIN") != NULL, "gtlsclient got no ticket");
	free(o);
	steered = !it_log_has(p, "workers will pass each other");
	resume_on_both_workers(port, session, tp, "same generation", steered);
	it_path(cfg, "swerver.json");
	it_path(alog, "access.log");
	h3_write_config(cfg, _i, 2, port, NULL, alog);
	it_signal(p, SIGHUP);
	IT_ASSERT(it_wait_log(p, 0, "reload complete", IT_WAIT_MS), "the reload did not complete");
	IT_ASSERT(it_wait_log_n(p, 0, "exited with status 0", 2, IT_WAIT_MS),
		  "the old workers did not exit");
	resume_on_both_workers(port, session, tp, "after a reload", steered);
}
END_TEST

/* The head of one GET over TCP with TLS, as HTTP/1.1 or HTTP/2 (libcurl). */
static void tls_get(int port, long version, struct fetch *f)
{
	char url[128];
	CURL *c;

	memset(f, 0, sizeof(*f));
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/index.html", port);
	c = h3_easy(url, f, NULL, 0);
	curl_easy_setopt(c, CURLOPT_HTTP_VERSION, version);
	f->rc = curl_easy_perform(c);
	h3_info(c, f);
	curl_easy_cleanup(c);
	free(f->body);
	f->body = NULL;
}

/*
 * Alt-Svc belongs to the listener: plain :A without QUIC advertises
 * nothing, TLS :B advertises its own quic_port U, TLS :C (QUIC on its own
 * port number) advertises C; HTTP/1.1 and HTTP/2 alike.
 */
START_TEST(alt_svc_per_listener)
{
	char cfg[IT_PATH_MAX], want[64];
	struct it_response r;
	struct it_conn *c;
	struct fetch f;
	int a, b, u, cc, tcp[2];
	const char *d;

	if (!have_h3(_i))
		return;
	h3_make_site();
	d = it_tmpdir();
	u = it_free_dual_port();
	do
		cc = it_free_dual_port();
	while (cc == u);
	/*
	 * Each probe frees its port before the next, so the kernel may hand
	 * out one of u and cc again as a TCP port: listeners[2] on cc must not
	 * meet listeners[1] on the same TCP port (a config error, exit 78).
	 */
	do
		it_free_ports(tcp, 2);
	while (tcp[0] == u || tcp[0] == cc || tcp[1] == u || tcp[1] == cc);
	a = tcp[0];
	b = tcp[1];
	it_path(cfg, "swerver.json");
	it_write_filef(cfg,
		"{ \"server\": { \"listeners\": [\n"
		"      {\"address\": \"127.0.0.1\", \"port\": %d},\n"
		"      {\"address\": \"127.0.0.1\", \"port\": %d, \"use_tls\": true,"
		"       \"quic_enabled\": true, \"quic_port\": %d},\n"
		"      {\"address\": \"127.0.0.1\", \"port\": %d, \"use_tls\": true,"
		"       \"quic_enabled\": true} ],\n"
		"    \"workers\": 1, \"io_backend\": \"%s\", \"static_root\": \"%s/www\" },\n"
		"  \"tls\": { \"cert_path\": \"%s/cert.pem\", \"key_path\": \"%s/key.pem\" } }\n",
		a, b, u, cc, it_backend(_i), d, d, d);
	it_start_ready(cfg, "127.0.0.1", &a);
	c = it_conn_new(a);
	IT_ASSERT(it_conn_get(c, "/index.html", &r) == 0 && r.status == 200, "plain GET failed");
	IT_ASSERT(strcasestr(r.head, "alt-svc") == NULL, "Alt-Svc on the listener without QUIC: %s",
		  r.head);
	it_conn_free(c);
	for (int v = 0; v < 2; v++) {
		long version = v ? CURL_HTTP_VERSION_2TLS : CURL_HTTP_VERSION_1_1;
		tls_get(b, version, &f);
		snprintf(want, sizeof(want), "alt-svc: h3=\":%d\"", u);
		IT_ASSERT(f.code == 200 && strcasestr(f.head, want) != NULL,
			  "HTTP/%s on :%d (quic_port %d): code %ld, %s", v ? "2" : "1.1", b, u, f.code,
			  f.head);
		tls_get(cc, version, &f);
		snprintf(want, sizeof(want), "alt-svc: h3=\":%d\"", cc);
		IT_ASSERT(f.code == 200 && strcasestr(f.head, want) != NULL,
			  "HTTP/%s on :%d (QUIC on the same port): code %ld, %s", v ? "2" : "1.1", cc,
			  f.code, f.head);
	}
	/* And the ports it names do serve HTTP/3. */
	h3_get(u, "/.healthz", NULL, 0, &f);
	IT_ASSERT(f.code == 200 && f.version == CURL_HTTP_VERSION_3, "HTTP/3 on :%d: rc %d", u, f.rc);
	free(f.body);
	h3_get(cc, "/.healthz", NULL, 0, &f);
	IT_ASSERT(f.code == 200 && f.version == CURL_HTTP_VERSION_3, "HTTP/3 on :%d: rc %d", cc, f.rc);
	free(f.body);
}
END_TEST

/* quic.retry "always": every client proves its address with a Retry token first. */
START_TEST(retry_always)
{
	struct fetch f;
	char *o;
	int port;

	if (!have_h3(_i))
		return;
	start_h3(_i, 1, ", \"retry\": \"always\"", &port);
	o = h3_gtls(port, "--no-http-dump", "/index.html", true);
	IT_ASSERT(strstr(o, "type=Retry") != NULL, "no Retry packet: %s", o);
	IT_ASSERT(strstr(o, "http: stream 0x0") != NULL || strstr(o, "stream 0 closed") != NULL,
		  "no response after the Retry: %s", o);
	free(o);
	o = h3_gtls(port, "", "/index.html", false);
	IT_ASSERT(strstr(o, "[:status: 200]") != NULL, "GET after Retry: %s", o);
	free(o);
	h3_get(port, "/big.bin", NULL, 0, &f);
	IT_ASSERT(f.rc == CURLE_OK && f.code == 200 && same_as_file(&f, "big.bin"),
		  "libcurl after Retry: rc %d code %ld", f.rc, f.code);
	free(f.body);
}
END_TEST

/* An unknown version gets Version Negotiation, and the client moves to one we speak. */
START_TEST(version_negotiation)
{
	char *o;
	int port;

	if (!have_h3(_i))
		return;
	start_h3(_i, 1, NULL, &port);
	o = h3_gtls(port, "-v 0x1a2a3a4a --no-http-dump", "/index.html", true);
	IT_ASSERT(strstr(o, "type=VN") != NULL && strstr(o, "VN v=0x00000001") != NULL,
		  "no Version Negotiation offering QUIC v1: %s", o);
	free(o);
	o = h3_gtls(port, "-v v2", "/index.html", false);
	IT_ASSERT(strstr(o, "[:status: 200]") != NULL, "QUIC v2: %s", o);
	free(o);
}
END_TEST

static Suite *http3_handshake_suite(void)
{
	TCase *tc;
	Suite *s = h3_suite("handshake", &tc);

	tcase_add_loop_test(tc, tickets_resume_on_any_worker_and_after_reload, 0, 2);
	tcase_add_loop_test(tc, alt_svc_per_listener, 0, 2);
	tcase_add_loop_test(tc, retry_always, 0, 2);
	tcase_add_loop_test(tc, version_negotiation, 0, 2);
	return s;
}

H3_SUITE(http3_handshake_suite);
