/* SPDX-License-Identifier: MIT */
/* test_http3_basics.c - HTTP/3 over QUIC: gtlsclient and libcurl: probes, files, precompressed siblings, fifty streams on one connection, Alt-Svc on TCP. */
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

START_TEST(gtlsclient_probe_and_file)
{
	char *o;
	int port, st;

	if (!have_h3(_i))
		return;
	start_h3(_i, 1, NULL, &port);
	o = h3_gtls(port, "", "/.healthz", false);
	IT_ASSERT(strstr(o, "[:status: 200]") != NULL, "gtlsclient GET /.healthz: %s", o);
	free(o);
	o = h3_gtls(port, "", "/missing", false);
	IT_ASSERT(strstr(o, "[:status: 404]") != NULL, "gtlsclient GET /missing: %s", o);
	free(o);
	/* Byte-exact 1 MiB, read by the server with pread piece by piece. */
	o = it_run(&st, "mkdir -p %s/dl && timeout 20 gtlsclient -q --download=%s/dl "
		"--exit-on-all-streams-close --handshake-timeout=5s --timeout=5s 127.0.0.1 %d "
		"https://127.0.0.1:%d/big.bin 2>&1; cmp %s/dl/big.bin %s/www/big.bin && echo same",
		it_tmpdir(), it_tmpdir(), port, port, it_tmpdir(), it_tmpdir());
	IT_ASSERT(strstr(o, "same") != NULL, "1 MiB over gtlsclient differs: %s", o);
	free(o);
	/* A request body nobody reads is taken and dropped; the answer still comes. */
	{
		char opts[IT_PATH_MAX + 32];
		snprintf(opts, sizeof(opts), "-m POST -d %s/www/big.bin", it_tmpdir());
		o = h3_gtls(port, opts, "/index.html", false);
		IT_ASSERT(strstr(o, "[:status: 405]") != NULL, "POST with a 1 MiB body: %s", o);
		free(o);
	}
	/* Peer-initiated key update is handled by the crypto helper. */
	o = h3_gtls(port, "--key-update=100ms --delay-stream=300ms", "/index.html", false);
	IT_ASSERT(strstr(o, "[:status: 200]") != NULL, "GET after a key update: %s", o);
	free(o);
}
END_TEST

START_TEST(libcurl_probe_file_metrics_log)
{
	struct fetch f;
	struct it_proc *p;
	int port;

	if (!have_h3(_i))
		return;
	p = start_h3(_i, 1, NULL, &port);
	h3_get(port, "/.healthz", NULL, 0, &f);
	IT_ASSERT(f.rc == CURLE_OK && f.code == 200 && f.version == CURL_HTTP_VERSION_3,
		  "/.healthz: rc %d (%s) code %ld version %ld", f.rc, curl_easy_strerror(f.rc),
		  f.code, f.version);
	IT_ASSERT(strcasestr(f.head, "x-request-id:") != NULL, "no request id: %s", f.head);
	free(f.body);
	h3_get(port, "/big.bin", NULL, 0, &f);
	IT_ASSERT(f.rc == CURLE_OK && f.code == 200 && same_as_file(&f, "big.bin"),
		  "/big.bin: rc %d code %ld, %zu bytes", f.rc, f.code, f.len);
	free(f.body);
	h3_get(port, "/big.bin", "Range: bytes=100-199", 0, &f);
	IT_ASSERT(f.code == 206 && f.len == 100, "range: code %ld, %zu bytes", f.code, f.len);
	free(f.body);
	h3_get(port, "/metrics", NULL, 0, &f);
	IT_ASSERT(f.code == 200 && f.body &&
		  memmem(f.body, f.len, "protocol=\"h3\",code=\"2xx\"", 24) != NULL,
		  "metrics over HTTP/3 without h3 requests: %.*s", (int)f.len, f.body);
	free(f.body);
	/* HEAD: the length of the body, no body. */
	{
		struct fetch h = { 0 };
		CURL *c = h3_easy("", &h, NULL, 0);
		char url[128];
		snprintf(url, sizeof(url), "https://127.0.0.1:%d/big.bin", port);
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
		h.rc = curl_easy_perform(c);
		h3_info(c, &h);
		curl_easy_cleanup(c);
		IT_ASSERT(h.code == 200 && h.len == 0 && strcasestr(h.head, "content-length: 1048576"),
			  "HEAD: code %ld, %zu bytes, %s", h.code, h.len, h.head);
		free(h.body);
	}
	IT_ASSERT(it_wait_log(p, 0, "\"GET /big.bin HTTP/3.0\" 200 1048576", IT_WAIT_MS),
		  "no HTTP/3 access log line for the file");
}
END_TEST

START_TEST(precompressed_siblings)
{
	struct fetch f;
	int port;

	if (!have_h3(_i))
		return;
	start_h3(_i, 1, NULL, &port);
	h3_get(port, "/app.js", "Accept-Encoding: br, gzip", 0, &f);
	IT_ASSERT(f.code == 200 && same_as_file(&f, "app.js.br") &&
		  strcasestr(f.head, "content-encoding: br"), "br: %ld %.*s / %s", f.code,
		  (int)f.len, f.body, f.head);
	free(f.body);
	h3_get(port, "/app.js", "Accept-Encoding: gzip", 0, &f);
	IT_ASSERT(f.code == 200 && same_as_file(&f, "app.js.gz") &&
		  strcasestr(f.head, "content-encoding: gzip"), "gzip: %ld %.*s", f.code,
		  (int)f.len, f.body);
	free(f.body);
	h3_get(port, "/app.js", "Accept-Encoding: identity", 0, &f);
	IT_ASSERT(f.code == 200 && same_as_file(&f, "app.js") &&
		  !strcasestr(f.head, "content-encoding"), "identity: %ld %.*s", f.code,
		  (int)f.len, f.body);
	IT_ASSERT(strcasestr(f.head, "vary: accept-encoding") != NULL, "no Vary: %s", f.head);
	free(f.body);
}
END_TEST

/* 50 requests at once on one connection (libcurl multiplexing, PIPEWAIT). */
START_TEST(fifty_streams_one_connection)
{
	enum { N = 50 };
	static struct fetch f[N];
	CURL *c[N];
	CURLM *m;
	char url[128];
	int port, running = 1, ok = 0;
	long connects = 0;

	if (!have_h3(_i))
		return;
	start_h3(_i, 1, NULL, &port);
	m = curl_multi_init();
	curl_multi_setopt(m, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/big.bin", port);
	for (int i = 0; i < N; i++) {
		memset(&f[i], 0, sizeof(f[i]));
		c[i] = h3_easy(url, &f[i], NULL, 0);
		curl_easy_setopt(c[i], CURLOPT_PIPEWAIT, 1L);
		curl_multi_add_handle(m, c[i]);
	}
	while (running) {
		curl_multi_perform(m, &running);
		if (running)
			curl_multi_poll(m, NULL, 0, 1000, NULL);
	}
	for (int i = 0; i < N; i++) {
		h3_info(c[i], &f[i]);
		ok += f[i].code == 200 && f[i].version == CURL_HTTP_VERSION_3 &&
		      same_as_file(&f[i], "big.bin");
		connects += f[i].connects;
		curl_multi_remove_handle(m, c[i]);
		curl_easy_cleanup(c[i]);
		free(f[i].body);
	}
	curl_multi_cleanup(m);
	IT_ASSERT(ok == N, "%d of %d streams got the whole file", ok, N);
	IT_ASSERT(connects == 1, "%ld connections for %d streams", connects, N);
}
END_TEST

START_TEST(alt_svc_on_tcp)
{
	struct it_response r;
	struct it_conn *c;
	char want[64];
	int port;

	if (!have_h3(_i))
		return;
	start_h3(_i, 1, NULL, &port);
	c = it_conn_new(port);
	IT_ASSERT(it_conn_get(c, "/index.html", &r) == 0 && r.status == 200, "HTTP/1.1 GET failed");
	snprintf(want, sizeof(want), "Alt-Svc: h3=\":%d\"", port);
	IT_ASSERT(strstr(r.head, want) != NULL, "no %s in %s", want, r.head);
	it_conn_free(c);
}
END_TEST

static Suite *http3_basics_suite(void)
{
	TCase *tc;
	Suite *s = h3_suite("basics", &tc);

	tcase_add_loop_test(tc, gtlsclient_probe_and_file, 0, 2);
	tcase_add_loop_test(tc, libcurl_probe_file_metrics_log, 0, 2);
	tcase_add_loop_test(tc, precompressed_siblings, 0, 2);
	tcase_add_loop_test(tc, fifty_streams_one_connection, 0, 2);
	tcase_add_loop_test(tc, alt_svc_on_tcp, 0, 2);
	return s;
}

H3_SUITE(http3_basics_suite);
