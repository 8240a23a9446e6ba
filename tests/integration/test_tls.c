/* SPDX-License-Identifier: MIT */
/* test_tls.c - HTTP/1.1 over TLS: handshake, SNI, protocol floor, ALPN, mTLS, files, keep-alive. */
#include <config.h>

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include "core/module.h"
#include "harness.h"

static void must(const char *what, int status)
{
	IT_ASSERT(status == 0, "%s failed (exit %d)", what, status);
}

/* A CA, a default certificate for 127.0.0.1, a.test (RSA), *.b.test (ECDSA), a client. */
static void make_certs(const char *d)
{
	int st;
	char *o;

	o = it_run(&st,
		"cd %s && "
		"openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 "
		"  -keyout ca.key -out ca.pem -subj /CN=test-ca && "
		"openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 "
		"  -keyout def.key -out def.pem -subj /CN=default.test "
		"  -addext subjectAltName=DNS:default.test,IP:127.0.0.1 && "
		"openssl req -x509 -newkey rsa:2048 -nodes -days 2 -keyout a.key -out a.pem -subj /CN=a.test && "
		"openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 "
		"  -keyout w.key -out w.pem -subj '/CN=*.b.test' && "
		"openssl req -x509 -newkey rsa:2048 -nodes -days 2 -keyout drsa.key -out drsa.pem -subj /CN=dual.test && "
		"openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 "
		"  -keyout dec.key -out dec.pem -subj /CN=dual.test && "
		"openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout client.key "
		"  -out client.csr -subj /CN=client.test && "
		"openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
		"  -out client.pem 2>&1", d);
	free(o);
	must("openssl: making test certificates", st);
}

/* A TLS listener and a plaintext one; mtls adds a client CA, extra top-level keys. */
static struct it_proc *start_tls_with(int backend, const char *mtls, const char *extra,
				      int *tls_port, int *plain_port)
{
	char cfg[IT_PATH_MAX], www[IT_PATH_MAX];
	const char *d = it_tmpdir();
	struct it_proc *p;
	int st;
	char *o;

	make_certs(d);
	it_path(www, "www");
	o = it_run(&st, "mkdir -p %s && head -c 1048576 /dev/urandom > %s/big.bin && echo hi > %s/index.html",
		www, www, www);
	free(o);
	it_free_ports(tls_port, 1);
	it_path(cfg, "swerver.json");
	it_write_filef(cfg,
		/* plaintext first: its "listening on" line is the one the harness reads */
		"{ \"server\": { \"listeners\": [ {\"address\": \"127.0.0.1\", \"port\": 0},\n"
		"                                 {\"address\": \"127.0.0.1\", \"port\": %d, \"use_tls\": true} ],\n"
		"              \"workers\": 2, \"io_backend\": \"%s\", \"static_root\": \"%s\" },\n"
		"  \"tls\": { \"cert_path\": \"%s/def.pem\", \"key_path\": \"%s/def.key\", %s\n"
		"           \"certificates\": [\n"
		"             {\"hostnames\": [\"a.test\"], \"cert_path\": \"%s/a.pem\", \"key_path\": \"%s/a.key\"},\n"
		"             {\"hostnames\": [\"*.b.test\"], \"cert_path\": \"%s/w.pem\", \"key_path\": \"%s/w.key\"},\n"
		"             {\"hostnames\": [\"dual.test\"], \"cert_path\": \"%s/drsa.pem\", \"key_path\": \"%s/drsa.key\"},\n"
		"             {\"hostnames\": [\"dual.test\"], \"cert_path\": \"%s/dec.pem\", \"key_path\": \"%s/dec.key\"} ] },\n"
		"  %s \"timeouts\": {\"drain_ms\": 3000} }\n",
		*tls_port, it_backend(backend), www, d, d, mtls ? mtls : "", d, d, d, d, d, d, d, d,
		extra ? extra : "");
	p = it_start(cfg, NULL);
	*plain_port = it_wait_port(p, "127.0.0.1", IT_WAIT_MS);
	IT_ASSERT(*plain_port > 0, "no listening line (swerver: %s)", it_code_str(it_poll_exit(p)));
	IT_ASSERT(it_wait_ready(p, "127.0.0.1", *plain_port, IT_WAIT_MS) == 200, "not ready");
	return p;
}

static struct it_proc *start_tls(int backend, const char *mtls, int *tls_port, int *plain_port)
{
	return start_tls_with(backend, mtls, NULL, tls_port, plain_port);
}

static bool have_tls(int i)
{
	return it_backend(i) && sw_module_find("tls") != NULL;
}

START_TEST(https_get_and_file)
{
	int tport, pport, st;
	char *o;

	if (!have_tls(_i))
		return;
	start_tls(_i, NULL, &tport, &pport);
	o = it_run(&st, "curl -sk -o /dev/null -w '%%{http_code} %%{scheme}' https://127.0.0.1:%d/.healthz", tport);
	IT_ASSERT(strcasecmp(o, "200 https") == 0, "GET /.healthz over TLS: \"%s\"", o);
	free(o);
	o = it_run(&st, "curl -sk https://127.0.0.1:%d/big.bin | cmp - %s/www/big.bin && echo same",
		tport, it_tmpdir());
	IT_ASSERT(strstr(o, "same") != NULL, "1 MiB file over TLS differs: %s", o);
	free(o);
	/* Keep-alive: two requests, one connection. */
	o = it_run(&st, "curl -skv https://127.0.0.1:%d/.healthz https://127.0.0.1:%d/index.html 2>&1",
		tport, tport);
	IT_ASSERT(strstr(o, "Re-using existing") || strstr(o, "Reusing existing"),
		  "second request did not reuse the TLS connection");
	free(o);
	IT_ASSERT(it_http_get("127.0.0.1", pport, "/.healthz", IT_IO_MS) == 200,
		  "the plaintext listener beside the TLS one");
}
END_TEST

/*
 * The common name in the certificate the server presents for a given SNI
 * name ("" if none).  Parsed from the RFC 2253 form rather than matched
 * in openssl's display text, which changed between releases
 * ("CN = a.test" in 3.0, "CN=a.test" in 3.5).
 */
static char *cn_for(int port, const char *name)
{
	char *o = it_run(NULL, "echo | openssl s_client -connect 127.0.0.1:%d %s%s 2>/dev/null | "
			 "openssl x509 -noout -subject -nameopt RFC2253 2>/dev/null",
			 port, name ? "-servername " : "", name ? name : "");
	char *cn = calloc(1, strlen(o) + 1), *w = cn;
	const char *r = strncmp(o, "subject=", 8) == 0 ? o + 8 : "";

	ck_assert_ptr_nonnull(cn);
	/* Components are split by unescaped commas; values unescape "\X". */
	while (*r && *r != '\n') {
		bool is_cn = strncmp(r, "CN=", 3) == 0;

		if (is_cn)
			r += 3;
		for (; *r && *r != '\n' && *r != ','; r++) {
			if (*r == '\\' && r[1])
				r++;
			if (is_cn)
				*w++ = *r;
		}
		if (is_cn)
			break;
		if (*r == ',')
			r++;
	}
	*w = '\0';
	free(o);
	return cn;
}

static void assert_cn(int port, const char *name, const char *want, const char *what)
{
	char *cn = cn_for(port, name);
	bool ok = strcmp(cn, want) == 0;

	IT_ASSERT(ok, "%s: certificate CN \"%s\", want \"%s\"", what, cn, want);
	free(cn);
}

START_TEST(sni_picks_certificate)
{
	int tport, pport;

	if (!have_tls(_i))
		return;
	start_tls(_i, NULL, &tport, &pport);
	assert_cn(tport, "a.test", "a.test", "SNI a.test");
	assert_cn(tport, "x.b.test", "*.b.test", "SNI x.b.test");
	assert_cn(tport, "y.x.b.test", "default.test", "SNI y.x.b.test");   /* a wildcard covers one label only */
	assert_cn(tport, "unknown.test", "default.test", "unknown SNI");
	assert_cn(tport, NULL, "default.test", "no SNI");
}
END_TEST

START_TEST(protocols_and_alpn)
{
	int tport, pport, st;
	char *o;

	if (!have_tls(_i))
		return;
	start_tls(_i, NULL, &tport, &pport);
	o = it_run(&st, "echo | openssl s_client -connect 127.0.0.1:%d -tls1_1 2>&1", tport);
	IT_ASSERT(st != 0 && !strstr(o, "Cipher is ECDHE"), "TLS 1.1 was accepted");
	free(o);
	o = it_run(&st, "echo | openssl s_client -connect 127.0.0.1:%d -tls1_2 2>&1 | grep '^New, '", tport);
	IT_ASSERT(strstr(o, "New, TLSv1.2, Cipher is ECDHE") != NULL, "TLS 1.2 refused: \"%s\"", o);
	free(o);
	o = it_run(&st, "echo | openssl s_client -connect 127.0.0.1:%d -tls1_3 2>&1 | grep '^New, '", tport);
	IT_ASSERT(strstr(o, "New, TLSv1.3") != NULL, "TLS 1.3 refused: \"%s\"", o);
	free(o);
	/* h2 when the unit is built in and offered, http/1.1 otherwise. */
	o = it_run(&st, "echo | openssl s_client -connect 127.0.0.1:%d -alpn h2,http/1.1 2>&1 | grep -a ALPN", tport);
	IT_ASSERT(strstr(o, sw_module_find("http2") ? "ALPN protocol: h2" : "ALPN protocol: http/1.1"),
		  "ALPN for h2,http/1.1: \"%s\"", o);
	free(o);
	o = it_run(&st, "echo | openssl s_client -connect 127.0.0.1:%d -alpn http/1.1 2>&1 | grep -a ALPN", tport);
	IT_ASSERT(strstr(o, "ALPN protocol: http/1.1") != NULL, "ALPN for http/1.1: \"%s\"", o);
	free(o);
	/* A client that speaks only protocols we do not serve is told so. */
	o = it_run(&st, "echo | openssl s_client -connect 127.0.0.1:%d -alpn spdy/1 2>&1", tport);
	IT_ASSERT(strstr(o, "no application protocol") != NULL, "unknown ALPN accepted: %.300s", o);
	free(o);
}
END_TEST

START_TEST(mtls_required)
{
	char mtls[IT_PATH_MAX + 64];
	int tport, pport, st;
	char *o;

	if (!have_tls(_i))
		return;
	snprintf(mtls, sizeof(mtls), "\"client_ca_path\": \"%s/ca.pem\", \"client_cert_required\": true,",
		 it_tmpdir());
	start_tls(_i, mtls, &tport, &pport);
	o = it_run(&st, "curl -sk -o /dev/null -w '%%{http_code}' https://127.0.0.1:%d/.healthz", tport);
	IT_ASSERT(strcmp(o, "000") == 0 && st != 0, "no client certificate, yet got \"%s\"", o);
	free(o);
	o = it_run(&st, "curl -sk --cert %s/client.pem --key %s/client.key -o /dev/null -w '%%{http_code}' "
		"https://127.0.0.1:%d/.healthz", it_tmpdir(), it_tmpdir(), tport);
	IT_ASSERT(strcmp(o, "200") == 0, "with a client certificate: \"%s\"", o);
	free(o);
	/* A certificate the CA did not sign is refused too. */
	o = it_run(&st, "curl -sk --cert %s/a.pem --key %s/a.key -o /dev/null -w '%%{http_code}' "
		"https://127.0.0.1:%d/.healthz", it_tmpdir(), it_tmpdir(), tport);
	IT_ASSERT(strcmp(o, "000") == 0, "a foreign client certificate got \"%s\"", o);
	free(o);
}
END_TEST

/*
 * An optional client certificate: verified when offered, and its subject
 * reaches the access log; without one the request is served and logged
 * without it.
 */
START_TEST(mtls_optional_subject_logged)
{
	char mtls[IT_PATH_MAX + 64];
	int tport, pport, st;
	struct it_proc *p;
	char *o, *log;

	if (!have_tls(_i))
		return;
	snprintf(mtls, sizeof(mtls), "\"client_ca_path\": \"%s/ca.pem\", \"client_cert_required\": false,",
		 it_tmpdir());
	p = start_tls_with(_i, mtls, "\"access_log\": {\"format\": \"json\"},", &tport, &pport);
	o = it_run(&st, "curl -sk -o /dev/null -w '%%{http_code}' https://127.0.0.1:%d/.healthz?anon", tport);
	IT_ASSERT(strcmp(o, "200") == 0, "optional mTLS without a certificate: \"%s\"", o);
	free(o);
	o = it_run(&st, "curl -sk --cert %s/client.pem --key %s/client.key -o /dev/null -w '%%{http_code}' "
		"https://127.0.0.1:%d/.healthz?cert", it_tmpdir(), it_tmpdir(), tport);
	IT_ASSERT(strcmp(o, "200") == 0, "optional mTLS with a certificate: \"%s\"", o);
	free(o);
	o = it_run(&st, "curl -sk --cert %s/a.pem --key %s/a.key -o /dev/null -w '%%{http_code}' "
		"https://127.0.0.1:%d/.healthz?foreign", it_tmpdir(), it_tmpdir(), tport);
	IT_ASSERT(strcmp(o, "000") == 0, "optional mTLS accepted a foreign certificate: \"%s\"", o);
	free(o);
	IT_ASSERT(it_wait_log(p, 0, "\"tls_client\":\"CN=client.test\"", 3000),
		  "the access log does not carry the client certificate subject");
	log = it_log(p);
	for (char *l = strstr(log, "\"target\":\"/.healthz?anon\""); l; l = NULL) {
		char *eol = strchr(l, '\n');
		if (eol)
			*eol = '\0';
		IT_ASSERT(!strstr(l, "tls_client"), "a request without a certificate logged one: %s", l);
	}
	free(log);
}
END_TEST

/*
 * The first record of a response after a pause fits one TCP segment; the
 * rest are full size.  /metrics is a few KiB from memory, so without the
 * rule its head and body would share one large record.  TLS 1.2 keeps the
 * handshake out of the application-data (0x17) records.
 */
START_TEST(small_first_record)
{
	int tport, pport, st, lens[64], n = 0;
	char msg[IT_PATH_MAX], *o;

	if (!have_tls(_i))
		return;
	start_tls(_i, NULL, &tport, &pport);
	it_path(msg, "records.txt");
	o = it_run(&st, "(printf 'GET /metrics HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n'; "
		"sleep 1) | openssl s_client -connect 127.0.0.1:%d -tls1_2 -quiet -msg -msgfile %s "
		">/dev/null 2>&1; grep -a -A1 '^<<< .*RecordHeader' %s | grep -a '^ *17 03 03'",
		tport, msg, msg);
	for (char *l = o; *l && n < 64; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : l + strlen(l)) {
		unsigned hi, lo;
		if (sscanf(l, " 17 03 03 %x %x", &hi, &lo) == 2)
			lens[n++] = (int)(hi << 8 | lo);
	}
	free(o);
	IT_ASSERT(n >= 2, "want at least two application-data records for /metrics, saw %d", n);
	/* 1360 bytes of plaintext plus GCM's 8-byte nonce and 16-byte tag. */
	IT_ASSERT(lens[0] <= 1360 + 24, "first record carries %d bytes", lens[0]);
	IT_ASSERT(lens[1] > lens[0], "records after the first stay small: %d, %d", lens[0], lens[1]);
}
END_TEST

/* An RSA and an ECDSA certificate for one name: each client gets what it asks for. */
START_TEST(rsa_and_ecdsa_for_one_name)
{
	int tport, pport;
	char *o;

	if (!have_tls(_i))
		return;
	start_tls(_i, NULL, &tport, &pport);
	o = it_run(NULL, "echo | openssl s_client -connect 127.0.0.1:%d -servername dual.test -tls1_2 "
		"-cipher ECDHE-RSA-AES128-GCM-SHA256 2>/dev/null | grep 'Server public key'", tport);
	IT_ASSERT(strstr(o, "2048 bit") != NULL, "RSA suite for dual.test: \"%s\"", o);
	free(o);
	o = it_run(NULL, "echo | openssl s_client -connect 127.0.0.1:%d -servername dual.test -tls1_2 "
		"-cipher ECDHE-ECDSA-AES128-GCM-SHA256 2>/dev/null | grep 'Server public key'", tport);
	IT_ASSERT(strstr(o, "256 bit") != NULL, "ECDSA suite for dual.test: \"%s\"", o);
	free(o);
}
END_TEST

/*
 * A ticket from one connection resumes the next ones whichever of the two
 * workers takes them: the keys come from the master through shared memory.
 */
START_TEST(tickets_resume_on_any_worker)
{
	const char *vers[] = { "-tls1_3", "-tls1_2" };
	char sess[IT_PATH_MAX];
	int tport, pport, st;
	char *o;

	if (!have_tls(_i))
		return;
	start_tls(_i, NULL, &tport, &pport);
	it_path(sess, "session.pem");
	for (size_t v = 0; v < 2; v++) {
		/* -ign_eof waits for the response, so the TLS 1.3 ticket arrives first. */
		o = it_run(&st, "printf 'GET /.healthz HTTP/1.1\\r\\nHost: a\\r\\nConnection: close\\r\\n\\r\\n' | "
			"openssl s_client -connect 127.0.0.1:%d %s -ign_eof -sess_out %s 2>&1 | grep -c '^New,'",
			tport, vers[v], sess);
		free(o);
		for (int k = 0; k < 8; k++) {
			o = it_run(&st, "printf 'GET /.healthz HTTP/1.1\\r\\nHost: a\\r\\nConnection: close\\r\\n\\r\\n' | "
				"openssl s_client -connect 127.0.0.1:%d %s -ign_eof -sess_in %s 2>&1 | "
				"grep -E '^(New|Reused),'", tport, vers[v], sess);
			IT_ASSERT(strncmp(o, "Reused,", 7) == 0,
				  "%s connection %d was not resumed: \"%s\"", vers[v], k, o);
			free(o);
		}
	}
}
END_TEST

/* One TLS listener serving cert/key ("def" or "a"), workers as given. */
static void write_reload_config(const char *cfg, int backend, int workers, int port, const char *pair)
{
	const char *d = it_tmpdir();

	it_write_filef(cfg,
		"{ \"server\": { \"listeners\": [ {\"address\": \"127.0.0.1\", \"port\": %d, \"use_tls\": true} ],\n"
		"              \"workers\": %d, \"io_backend\": \"%s\" },\n"
		"  \"tls\": { \"cert_path\": \"%s/%s.pem\", \"key_path\": \"%s/%s.key\" },\n"
		"  \"timeouts\": {\"drain_ms\": 5000} }\n",
		port, workers, it_backend(backend), d, pair, d, pair);
}

/*
 * New certificates apply on HUP, in single-process mode (contexts rebuilt
 * in place) and with a master (workers replaced), and a TLS request in
 * flight across the reload is not dropped: its head, half sent before the
 * HUP and finished after it, is answered.
 */
/* Copies the "from" pair over the "live" one, as a renewal (certbot) does. */
static void renew_live(const char *from)
{
	int st;
	char *o = it_run(&st, "cd %s && cp %s.pem live.pem.tmp && cp %s.key live.key.tmp && "
		      "mv live.pem.tmp live.pem && mv live.key.tmp live.key", it_tmpdir(), from, from);

	free(o);
	must("renewing live.pem", st);
}

/*
 * same_path: the file names stay and their contents change, as with a
 * renewal in place; otherwise the config names other files.
 */
static void reload_new_certificate(int backend, int workers, bool same_path)
{
	char cfg[IT_PATH_MAX], cmd[1024], *o;
	struct it_proc *p;
	FILE *slow;
	int port, st;

	make_certs(it_tmpdir());
	it_free_ports(&port, 1);
	it_path(cfg, "swerver.json");
	if (same_path)
		renew_live("def");
	write_reload_config(cfg, backend, workers, port, same_path ? "live" : "def");
	p = it_start(cfg, NULL);
	IT_ASSERT(it_wait_log(p, 0, workers > 1 ? "ready: " : "serving on", IT_WAIT_MS), "not ready");
	assert_cn(port, NULL, "default.test", "before the reload");
	/* A client that sends half a request now and the rest after the reload. */
	snprintf(cmd, sizeof(cmd),
		 "(printf 'GET /.healthz HTTP/1.1\\r\\nHost: x\\r\\n'; sleep 1.5; "
		 "printf 'Connection: close\\r\\n\\r\\n'; sleep 1) | "
		 "timeout 10 openssl s_client -quiet -connect 127.0.0.1:%d 2>/dev/null | "
		 "grep -c '^HTTP/1.1 200'", port);
	slow = popen(cmd, "r");
	ck_assert_ptr_nonnull(slow);
	it_sleep_ms(500);
	if (same_path)
		renew_live("a");
	else
		write_reload_config(cfg, backend, workers, port, "a");
	ck_assert_int_eq(it_signal(p, SIGHUP), 0);
	for (int k = 0; k < 50; k++) {
		o = cn_for(port, NULL);
		if (strcmp(o, "a.test") == 0)
			break;
		free(o);
		o = NULL;
		it_sleep_ms(100);
	}
	IT_ASSERT(o != NULL, "the new certificate was not served within 5 s of HUP");
	free(o);
	o = calloc(1, 64);
	IT_ASSERT(fgets(o, 64, slow) != NULL, "no output from the keep-alive client");
	st = pclose(slow);
	IT_ASSERT(atoi(o) == 1, "a request in flight across the reload got no answer (%s, %d)", o, st);
	free(o);
	IT_ASSERT(it_poll_exit(p) == IT_TIMEOUT, "swerver died on the reload");
}

START_TEST(reload_new_certificate_single)
{
	if (have_tls(_i))
		reload_new_certificate(_i, 1, false);
}
END_TEST

START_TEST(reload_new_certificate_workers)
{
	if (have_tls(_i))
		reload_new_certificate(_i, 2, false);
}
END_TEST

START_TEST(reload_renewed_in_place_single)
{
	if (have_tls(_i))
		reload_new_certificate(_i, 1, true);
}
END_TEST

START_TEST(reload_renewed_in_place_workers)
{
	if (have_tls(_i))
		reload_new_certificate(_i, 2, true);
}
END_TEST

static Suite *tls_suite(void)
{
	Suite *s = suite_create("tls");
	TCase *tc = it_tcase("tls");

	tcase_add_loop_test(tc, https_get_and_file, 0, 2);
	tcase_add_loop_test(tc, sni_picks_certificate, 0, 2);
	tcase_add_loop_test(tc, protocols_and_alpn, 0, 2);
	tcase_add_loop_test(tc, mtls_optional_subject_logged, 0, 2);
	tcase_add_loop_test(tc, small_first_record, 0, 2);
	tcase_add_loop_test(tc, mtls_required, 0, 2);
	tcase_add_loop_test(tc, rsa_and_ecdsa_for_one_name, 0, 2);
	tcase_add_loop_test(tc, tickets_resume_on_any_worker, 0, 2);
	tcase_add_loop_test(tc, reload_new_certificate_single, 0, 2);
	tcase_add_loop_test(tc, reload_new_certificate_workers, 0, 2);
	tcase_add_loop_test(tc, reload_renewed_in_place_single, 0, 2);
	tcase_add_loop_test(tc, reload_renewed_in_place_workers, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

IT_SUITE(tls_suite);
