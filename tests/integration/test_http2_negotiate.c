/* SPDX-License-Identifier: MIT */
/* test_http2_negotiate.c - HTTP/2 end to end: how a connection becomes HTTP/2: h2c with prior knowledge, ALPN h2 over TLS, h2c_only listeners. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "h2_fixture.h"

/* ---- cleartext HTTP/2 with prior knowledge ---- */

START_TEST(h2c_prior_knowledge)
{
	struct it_cres r;
	int port, st;
	char *o;

	if (!have_h2(_i))
		return;
	h2_populate();
	h2_start(_i, 2, NULL,
	      "\"http2\": {\"max_streams\": 77, \"initial_window_size\": 123456,"
	      " \"max_frame_size\": 32768, \"max_header_list_size\": 4096},", &port);

	h2curl(&r, port, NULL, "/.healthz");
	IT_ASSERT(r.code == 200 && strcmp(r.version, "2") == 0 && r.size == 0,
		  "/.healthz over h2c: %d, version %s, %ld bytes", r.code, r.version, r.size);
	expect_chdr(&r, "content-length", "0", "/.healthz");
	IT_ASSERT(strncmp(r.head, "HTTP/2 200", 10) == 0, "head: %.60s", r.head);
	it_cres_free(&r);

	h2curl(&r, port, NULL, "/hello.txt");
	IT_ASSERT(r.code == 200 && strcmp(r.version, "2") == 0, "/hello.txt: %d %s", r.code,
		  r.version);
	IT_ASSERT(strcmp(r.body, "hello world\n") == 0, "/hello.txt body \"%s\"", r.body);
	expect_chdr(&r, "content-type", "text/plain; charset=utf-8", "/hello.txt");
	it_cres_free(&r);

	o = it_run(&st, T "curl -s --http2-prior-knowledge http://127.0.0.1:%d/big.bin | cmp - %s/big.bin"
		" && echo same", port, h2_www);
	IT_ASSERT(strstr(o, "same") != NULL, "1 MiB file over h2c differs: %s", o);
	free(o);

	/* The server's SETTINGS are the configured ones, and the connection window follows. */
	o = it_run(&st, T "nghttp -nv http://127.0.0.1:%d/hello.txt 2>&1", port);
	IT_ASSERT(strstr(o, "recv SETTINGS frame") != NULL, "nghttp got no SETTINGS:\n%s", o);
	IT_ASSERT(strstr(o, "[SETTINGS_MAX_CONCURRENT_STREAMS(0x03):77]") != NULL,
		  "max_streams 77 not advertised:\n%s", o);
	IT_ASSERT(strstr(o, "[SETTINGS_INITIAL_WINDOW_SIZE(0x04):123456]") != NULL,
		  "initial_window_size 123456 not advertised:\n%s", o);
	IT_ASSERT(strstr(o, "[SETTINGS_MAX_FRAME_SIZE(0x05):32768]") != NULL,
		  "max_frame_size 32768 not advertised:\n%s", o);
	IT_ASSERT(strstr(o, "[SETTINGS_MAX_HEADER_LIST_SIZE(0x06):4096]") != NULL,
		  "max_header_list_size 4096 not advertised:\n%s", o);
	/* 123456 - 65535: the connection window is widened to the stream window. */
	IT_ASSERT(strstr(o, "recv WINDOW_UPDATE frame <length=4, flags=0x00, stream_id=0>\n"
			 "          (window_size_increment=57921)") != NULL,
		  "no connection WINDOW_UPDATE of 57921:\n%s", o);
	IT_ASSERT(strstr(o, ":status: 200") != NULL, "nghttp: no 200:\n%s", o);
	IT_ASSERT(st == 0, "nghttp exit %d:\n%s", st, o);
	free(o);
	/* HTTP/1.1 still works on a listener that also takes h2c. */
	IT_ASSERT(it_http_get("127.0.0.1", port, "/hello.txt", IT_IO_MS) == 200, "HTTP/1.1 beside h2c");
}
END_TEST

/* ---- HTTP/2 over TLS, by ALPN ---- */

START_TEST(h2_over_tls_alpn)
{
	char listeners[128], extra[2 * IT_PATH_MAX + 128];
	const char *d;
	struct it_cres r;
	int tport, port, st;
	char url[128];
	char *o;

	if (!have_h2_tls(_i))
		return;
	h2_populate();
	d = it_tmpdir();
	o = it_run(&st, "cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
		"-days 2 -keyout def.key -out def.pem -subj /CN=default.test "
		"-addext subjectAltName=DNS:default.test,IP:127.0.0.1 2>&1", d);
	IT_ASSERT(st == 0, "openssl req: %s", o);
	free(o);
	it_free_ports(&tport, 1);
	snprintf(listeners, sizeof(listeners),
		 ", {\"address\": \"127.0.0.1\", \"port\": %d, \"use_tls\": true}", tport);
	snprintf(extra, sizeof(extra), "\"tls\": {\"cert_path\": \"%s/def.pem\", \"key_path\": \"%s/def.key\"},",
		 d, d);
	h2_start(_i, 2, listeners, extra, &port);
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/hello.txt", tport);

	it_curl(&r, "-k --http2", url);
	IT_ASSERT(r.code == 200 && strcmp(r.version, "2") == 0, "curl --http2 over TLS: %d, version %s",
		  r.code, r.version);
	IT_ASSERT(strcmp(r.body, "hello world\n") == 0, "body over h2/TLS: \"%s\"", r.body);
	it_cres_free(&r);

	/* A file body over TLS is read and framed, not sendfile'd: compare it whole. */
	o = it_run(&st, T "curl -sk --http2 https://127.0.0.1:%d/big.bin | cmp - %s/big.bin && echo same",
		tport, h2_www);
	IT_ASSERT(strstr(o, "same") != NULL, "1 MiB file over h2/TLS differs: %s", o);
	free(o);

	o = it_run(&st, "echo | " T "openssl s_client -connect 127.0.0.1:%d -alpn h2 2>&1 | grep -a ALPN",
		tport);
	IT_ASSERT(strstr(o, "ALPN protocol: h2") != NULL, "s_client -alpn h2: \"%s\"", o);
	free(o);

	/* A client that offers only HTTP/1.1 is served HTTP/1.1 on the same port. */
	it_curl(&r, "-k --http1.1", url);
	IT_ASSERT(r.code == 200 && strcmp(r.version, "1.1") == 0, "curl --http1.1 over TLS: %d, %s",
		  r.code, r.version);
	IT_ASSERT(strcmp(r.body, "hello world\n") == 0, "body over h1/TLS: \"%s\"", r.body);
	it_cres_free(&r);

	/* nghttp speaks h2 over TLS and gets the SETTINGS there too. */
	o = it_run(&st, T "nghttp -nv https://127.0.0.1:%d/hello.txt 2>&1", tport);
	IT_ASSERT(strstr(o, "[SETTINGS_MAX_CONCURRENT_STREAMS(0x03):128]") && strstr(o, ":status: 200"),
		  "nghttp over TLS:\n%s", o);
	free(o);
}
END_TEST

/* ---- an h2c_only listener ---- */

START_TEST(h2c_only_listener)
{
	char listeners[128];
	struct it_conn *c;
	struct it_response resp;
	struct it_cres r;
	int port, oport, rc;

	if (!have_h2(_i))
		return;
	h2_populate();
	it_free_ports(&oport, 1);
	snprintf(listeners, sizeof(listeners),
		 ", {\"address\": \"127.0.0.1\", \"port\": %d, \"h2c_only\": true}", oport);
	h2_start(_i, 1, listeners, NULL, &port);

	c = it_conn_new(oport);
	rc = it_conn_get(c, "/hello.txt", &resp);
	IT_ASSERT(rc == 0, "HTTP/1.1 on the h2c_only port: %s", strerror(-rc));
	IT_ASSERT(resp.status == 505, "HTTP/1.1 on the h2c_only port got %d, want 505\n%s",
		  resp.status, resp.head);
	IT_ASSERT(strncmp(resp.head, "HTTP/1.1 505 ", 13) == 0, "status line: %.60s", resp.head);
	IT_ASSERT(resp.conn_close, "505 without Connection: close\n%s", resp.head);
	IT_ASSERT(it_conn_wait_eof(c, IT_IO_MS), "the connection stayed open after the 505");
	it_conn_free(c);

	h2curl(&r, oport, NULL, "/hello.txt");
	IT_ASSERT(r.code == 200 && strcmp(r.version, "2") == 0 && strcmp(r.body, "hello world\n") == 0,
		  "prior knowledge on the h2c_only port: %d %s \"%s\"", r.code, r.version, r.body);
	it_cres_free(&r);
	/* The other listener keeps both. */
	IT_ASSERT(it_http_get("127.0.0.1", port, "/hello.txt", IT_IO_MS) == 200, "HTTP/1.1 elsewhere");
	h2curl(&r, port, NULL, "/hello.txt");
	IT_ASSERT(r.code == 200 && strcmp(r.version, "2") == 0, "h2c elsewhere: %d", r.code);
	it_cres_free(&r);
}
END_TEST

/* http2.h2c_only: every cleartext listener refuses HTTP/1.1. */
START_TEST(h2c_only_global)
{
	char cfg[IT_PATH_MAX];
	struct it_proc *p;
	struct it_response resp;
	struct it_conn *c;
	struct it_cres r;
	int64_t end;
	int port, rc;

	if (!have_h2(_i))
		return;
	h2_populate();
	it_path(cfg, "swerver.json");
	it_write_filef(cfg,
		"{ \"server\": { \"listeners\": [{\"address\": \"127.0.0.1\", \"port\": 0}],\n"
		"              \"workers\": 1, \"io_backend\": \"%s\", \"static_root\": \"%s\" },\n"
		"  \"http2\": {\"h2c_only\": true}, \"timeouts\": {\"drain_ms\": 1000} }\n",
		it_backend(_i), h2_www);
	p = it_start(cfg, NULL);
	port = it_wait_port(p, "127.0.0.1", IT_WAIT_MS);
	IT_ASSERT(port > 0, "no listening line (swerver: %s)", it_code_str(it_poll_exit(p)));
	end = it_now_ms() + IT_WAIT_MS;
	do {
		h2curl(&r, port, NULL, "/.ready");
		rc = r.code;
		it_cres_free(&r);
	} while (rc != 200 && it_now_ms() < end && (it_sleep_ms(20), true));
	IT_ASSERT(rc == 200, "/.ready over h2c: %d", rc);

	c = it_conn_new(port);
	rc = it_conn_get(c, "/hello.txt", &resp);
	IT_ASSERT(rc == 0 && resp.status == 505, "HTTP/1.1 with http2.h2c_only: rc %d status %d", rc,
		  resp.status);
	IT_ASSERT(it_conn_wait_eof(c, IT_IO_MS), "the connection stayed open after the 505");
	it_conn_free(c);
}
END_TEST

static Suite *http2_negotiate_suite(void)
{
	Suite *s = suite_create("http2_negotiate");
	TCase *tc = it_tcase("negotiate");

	tcase_add_loop_test(tc, h2c_prior_knowledge, 0, 2);
	tcase_add_loop_test(tc, h2_over_tls_alpn, 0, 2);
	tcase_add_loop_test(tc, h2c_only_listener, 0, 2);
	tcase_add_loop_test(tc, h2c_only_global, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

IT_SUITE(http2_negotiate_suite);
