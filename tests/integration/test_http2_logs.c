/* SPDX-License-Identifier: MIT */
/* test_http2_logs.c - HTTP/2 end to end: metrics and the access log for HTTP/2 exchanges. */
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

/* ---- metrics and access log ---- */

START_TEST(metrics_and_access_log)
{
	char extra[IT_PATH_MAX + 96], alog[IT_PATH_MAX];
	struct it_cres r;
	int64_t end;
	char *text = NULL;
	long long v;
	int port;

	if (!have_h2(_i))
		return;
	h2_populate();
	it_path(alog, "access.log");
	snprintf(extra, sizeof(extra), "\"access_log\": {\"format\": \"json\", \"target\": \"%s\"},",
		 alog);
	h2_start(_i, 1, NULL, extra, &port);
	h2curl(&r, port, NULL, "/hello.txt");
	ck_assert_int_eq(r.code, 200);
	it_cres_free(&r);
	h2curl(&r, port, "-A h2-agent", "/index.html");
	ck_assert_int_eq(r.code, 200);
	it_cres_free(&r);
	h2curl(&r, port, NULL, "/.healthz");
	ck_assert_int_eq(r.code, 200);
	it_cres_free(&r);
	h2curl(&r, port, NULL, "/missing");
	ck_assert_int_eq(r.code, 404);
	it_cres_free(&r);

	v = h2_wait_metric(port, "swerver_requests_total{protocol=\"h2\",code=\"2xx\"}", 3, 2000);
	IT_ASSERT(v == 3, "h2 2xx requests: %lld, want 3", v);
	v = (long long)it_metric(port, "swerver_requests_total{protocol=\"h2\",code=\"4xx\"}");
	IT_ASSERT(v == 1, "h2 4xx requests: %lld, want 1", v);
	v = (long long)it_metric(port, "swerver_request_duration_seconds_count{protocol=\"h2\"}");
	IT_ASSERT(v == 4, "h2 duration count: %lld, want 4", v);
	v = (long long)it_metric(port, "swerver_bytes_sent_total{protocol=\"h2\"}");
	IT_ASSERT(v > 12 + 14, "h2 bytes sent: %lld", v);
	v = (long long)it_metric(port, "swerver_bytes_received_total{protocol=\"h2\"}");
	IT_ASSERT(v > 0, "h2 bytes received: %lld", v);
	v = (long long)it_metric(port, "swerver_requests_total{protocol=\"h3\",code=\"2xx\"}");
	IT_ASSERT(v == 0, "h3 2xx requests: %lld", v);

	end = it_now_ms() + 3000;
	for (;;) {
		free(text);
		text = it_read_file(alog);
		if (strstr(text, "\"target\":\"/missing\"") || it_now_ms() > end)
			break;
		it_sleep_ms(50);
	}
	IT_ASSERT(strstr(text, "\"method\":\"GET\",\"target\":\"/hello.txt\",\"protocol\":\"HTTP/2\"")
		  != NULL, "no HTTP/2 line for /hello.txt in the access log:\n%s", text);
	IT_ASSERT(strstr(text, "\"target\":\"/missing\",\"protocol\":\"HTTP/2\"") &&
		  strstr(text, "\"status\":404"), "no HTTP/2 404 line:\n%s", text);
	IT_ASSERT(strstr(text, "\"protocol\":\"HTTP/2\",\"host\":\"127.0.0.1:"),
		  ":authority not logged as the host:\n%s", text);
	IT_ASSERT(strstr(text, "\"user_agent\":\"h2-agent\""), "user agent over h2 not logged:\n%s",
		  text);
	IT_ASSERT(strstr(text, "\"target\":\"/index.html\",\"protocol\":\"HTTP/2\",") &&
		  strstr(text, "\"bytes\":14,"), "bytes of /index.html:\n%s", text);
	free(text);
}
END_TEST

START_TEST(access_log_combined)
{
	char extra[IT_PATH_MAX + 96], alog[IT_PATH_MAX];
	struct it_cres r;
	int64_t end;
	char *text = NULL;
	int port;

	if (!have_h2(_i))
		return;
	h2_populate();
	it_path(alog, "access.log");
	snprintf(extra, sizeof(extra),
		 "\"access_log\": {\"format\": \"combined\", \"target\": \"%s\"},", alog);
	h2_start(_i, 1, NULL, extra, &port);
	h2curl(&r, port, NULL, "/hello.txt");
	ck_assert_int_eq(r.code, 200);
	it_cres_free(&r);
	end = it_now_ms() + 3000;
	for (;;) {
		free(text);
		text = it_read_file(alog);
		if (strstr(text, "/hello.txt") || it_now_ms() > end)
			break;
		it_sleep_ms(50);
	}
	IT_ASSERT(strstr(text, "\"GET /hello.txt HTTP/2.0\" 200 12 ") != NULL,
		  "combined line for an h2 request:\n%s", text);
	free(text);
}
END_TEST

static Suite *http2_logs_suite(void)
{
	Suite *s = suite_create("http2_logs");
	TCase *tc = it_tcase("logs");

	tcase_add_loop_test(tc, metrics_and_access_log, 0, 2);
	tcase_add_loop_test(tc, access_log_combined, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

IT_SUITE(http2_logs_suite);
