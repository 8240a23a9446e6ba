/* SPDX-License-Identifier: MIT */
/* test_http1_keepalive.c - the HTTP/1.1 engine end to end, on both I/O backends: keep-alive rules, leading CRLFs, pipelining, HEAD. */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "h1_fixture.h"

/* ---- keep-alive, pipelining, HEAD --------------------------------------- */

START_TEST(keep_alive_rules)
{
	const char *backend = it_backend(_i);
	struct it_conn *c;
	struct it_response r;
	char val[64];
	int port;

	if (!backend)
		return;
	h1_start(backend, "", "\"header_ms\": 10000", "", &port);

	c = it_conn_new(port);
	h1_roundtrip(c, "GET /.healthz HTTP/1.0\r\n\r\n", 200, &r, "HTTP/1.0");
	IT_ASSERT(!(h1_header(&r, "Connection", val, sizeof(val)) && strcasecmp(val, "keep-alive") == 0),
		  "HTTP/1.0 without keep-alive answered keep-alive\n%s", r.head);
	h1_expect_close(c, T_IO, "HTTP/1.0 without keep-alive");
	it_conn_free(c);

	c = it_conn_new(port);
	h1_roundtrip(c, "GET /.healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 200, &r,
		  "HTTP/1.0 keep-alive");
	IT_ASSERT(h1_header(&r, "Connection", val, sizeof(val)) && strcasecmp(val, "keep-alive") == 0,
		  "HTTP/1.0 keep-alive: no \"Connection: keep-alive\"\n%s", r.head);
	h1_expect_quiet(c, "HTTP/1.0 keep-alive");
	h1_roundtrip(c, "GET /nope HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", 404, &r,
		  "second HTTP/1.0 keep-alive");
	IT_ASSERT(h1_header(&r, "Connection", val, sizeof(val)) && strcasecmp(val, "keep-alive") == 0,
		  "second HTTP/1.0 keep-alive: no \"Connection: keep-alive\"\n%s", r.head);
	h1_roundtrip(c, "GET /.healthz HTTP/1.0\r\n\r\n", 200, &r, "HTTP/1.0 ending keep-alive");
	h1_expect_close(c, T_IO, "HTTP/1.0 after a keep-alive one");
	it_conn_free(c);

	c = it_conn_new(port);
	h1_roundtrip(c, "GET /.healthz HTTP/1.1\r\nHost: a\r\n\r\n", 200, &r, "HTTP/1.1");
	IT_ASSERT(!r.conn_close, "HTTP/1.1 default: Connection: close");
	h1_roundtrip(c, "GET /.healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", 200, &r,
		  "HTTP/1.1 Connection: close");
	IT_ASSERT(r.conn_close, "HTTP/1.1 Connection: close not echoed\n%s", r.head);
	h1_expect_close(c, T_IO, "HTTP/1.1 Connection: close");
	it_conn_free(c);

	/* Pipelined behind a Connection: close: never answered. */
	c = it_conn_new(port);
	h1_send_str(c, "GET /.healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n" PROBE,
		 "pipelined after close");
	h1_expect_status(c, 200, "pipelined after close");
	h1_expect_close(c, T_IO, "request behind Connection: close");
	it_conn_free(c);
}
END_TEST

START_TEST(leading_crlf)
{
	const char *backend = it_backend(_i);
	struct it_conn *c;
	struct it_response r;
	int port;

	if (!backend)
		return;
	h1_start(backend, "", "\"header_ms\": 10000", "", &port);
	c = it_conn_new(port);
	h1_roundtrip(c, "\r\n\r\nGET /.healthz HTTP/1.1\r\nHost: a\r\n\r\n", 200, &r,
		  "two CRLFs before the first request");
	h1_roundtrip(c, "\r\nGET /nope HTTP/1.1\r\nHost: a\r\n\r\n", 404, &r,
		  "a CRLF before a keep-alive request");
	/* The extra CRLF some clients put after a POST body. */
	h1_send_str(c, "POST /nope HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nab\r\n" PROBE,
		 "CRLF after a body");
	h1_expect_status(c, 404, "POST before CRLF");
	h1_expect_status(c, 200, "probe after a body and a CRLF");
	h1_expect_quiet(c, "after leading CRLFs");
	/* The CRLF split over two segments, the CR seen alone first. */
	h1_send_str(c, "\r", "CR alone");
	it_sleep_ms(50);
	h1_roundtrip(c, "\nGET /.healthz HTTP/1.1\r\nHost: a\r\n\r\n", 200, &r,
		  "a CRLF split as CR, then LF + request");
	it_conn_free(c);
	/* The same at the very start of a connection. */
	c = it_conn_new(port);
	h1_send_str(c, "\r", "CR alone at the start");
	it_sleep_ms(50);
	h1_roundtrip(c, "\nGET /.healthz HTTP/1.1\r\nHost: a\r\n\r\n", 200, &r,
		  "first CRLF split as CR, then LF + request");
	it_conn_free(c);
}
END_TEST

START_TEST(pipelining_ten)
{
	const char *backend = it_backend(_i);
	char req[2048], *p = req, ids[10][64];
	struct it_conn *c;
	struct it_response r;
	int port;

	if (!backend)
		return;
	h1_start(backend, "", "\"header_ms\": 10000", "", &port);
	for (int k = 0; k < 10; k++)
		p += k % 3 == 0 ? sprintf(p, "GET /.healthz HTTP/1.1\r\nHost: a\r\n\r\n")
				: sprintf(p, "GET /nope/%d HTTP/1.1\r\nHost: a\r\n\r\n", k);
	c = it_conn_new(port);
	h1_send_str(c, req, "10 pipelined");
	for (int k = 0; k < 10; k++) {
		char what[64];
		int want = k % 3 == 0 ? 200 : 404;

		snprintf(what, sizeof(what), "pipelined response %d", k);
		h1_read_final(c, &r, what);
		IT_ASSERT(r.status == want, "%s: status %d, want %d (out of order?)\n%s", what,
			  r.status, want, r.head);
		IT_ASSERT(h1_header(&r, "X-Request-Id", ids[k], sizeof(ids[k])),
			  "%s: no X-Request-Id\n%s", what, r.head);
		for (int j = 0; j < k; j++)
			IT_ASSERT(strcmp(ids[j], ids[k]) != 0, "responses %d and %d share X-Request-Id %s",
				  j, k, ids[k]);
	}
	h1_expect_quiet(c, "after 10 pipelined");
	h1_roundtrip(c, PROBE, 200, &r, "11th request");
	it_conn_free(c);
}
END_TEST

START_TEST(head_has_no_body)
{
	const char *backend = it_backend(_i);
	struct it_conn *c;
	struct it_response r;
	long get_len;
	int port;

	if (!backend)
		return;
	h1_start(backend, "", "\"header_ms\": 10000", "", &port);
	c = it_conn_new(port);
	h1_roundtrip(c, "GET /nope HTTP/1.1\r\nHost: a\r\n\r\n", 404, &r, "GET of a 404");
	get_len = r.content_length;
	IT_ASSERT(get_len > 0 && (long)r.body_len == get_len, "GET 404: CL %ld, body %zu", get_len,
		  r.body_len);

	h1_send_str(c, "HEAD /.healthz HTTP/1.1\r\nHost: a\r\n\r\n"
		 "HEAD /nope HTTP/1.1\r\nHost: a\r\n\r\n" PROBE, "HEAD");
	h1_read_head_only(c, &r, "HEAD /.healthz");
	IT_ASSERT(r.status == 200 && r.content_length == 0,
		  "HEAD /.healthz: status %d, Content-Length %ld\n%s", r.status, r.content_length,
		  r.head);
	h1_read_head_only(c, &r, "HEAD of a 404 (after HEAD /.healthz)");
	IT_ASSERT(r.status == 404, "HEAD /nope: status %d\n%s", r.status, r.head);
	IT_ASSERT(r.content_length == get_len, "HEAD /nope: Content-Length %ld, GET said %ld\n%s",
		  r.content_length, get_len, r.head);
	h1_read_head_only(c, &r, "probe after HEAD of a 404 (a body was sent?)");
	IT_ASSERT(r.status == 200, "probe after HEAD: status %d", r.status);
	h1_expect_quiet(c, "after HEADs");
	it_conn_free(c);
}
END_TEST

static Suite *http1_keepalive_suite(void)
{
	Suite *s = suite_create("http1_keepalive");
	TCase *tc = it_tcase("keepalive");

	tcase_add_loop_test(tc, keep_alive_rules, 0, 2);
	tcase_add_loop_test(tc, leading_crlf, 0, 2);
	tcase_add_loop_test(tc, pipelining_ten, 0, 2);
	tcase_add_loop_test(tc, head_has_no_body, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

IT_SUITE(http1_keepalive_suite);
