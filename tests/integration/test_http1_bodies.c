/* SPDX-License-Identifier: MIT */
/* test_http1_bodies.c - the HTTP/1.1 engine end to end, on both I/O backends: request bodies: sized and chunked then pipelined, bad chunk sizes, chunked over the limit, Expect: 100-continue. */
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

/* ---- bodies ------------------------------------------------------------- */

START_TEST(bodies_then_pipelined)
{
	const char *backend = it_backend(_i);
	char req[4096], chunk[600];
	struct it_conn *c;
	struct it_response r;
	int port;

	if (!backend)
		return;
	h1_start(backend, "", "\"header_ms\": 10000, \"body_ms\": 10000", LIMITS_SMALL, &port);
	c = it_conn_new(port);

	/* Content-Length body that looks like a request, then a probe, in one write. */
	snprintf(req, sizeof(req), "POST /nope HTTP/1.1\r\nHost: a\r\nContent-Length: %zu\r\n\r\n"
		 FAKE_REQ PROBE, strlen(FAKE_REQ));
	h1_send_str(c, req, "CL body");
	h1_expect_status(c, 404, "CL body: POST");
	h1_expect_status(c, 200, "CL body: pipelined probe (body taken for a request?)");
	h1_expect_quiet(c, "CL body");

	/* Chunked with extensions and trailers, chunk data like a request, then a probe. */
	snprintf(req, sizeof(req), "POST /nope HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
		 "\r\n5;ext=1\r\nhello\r\n%zx;a=\"b c\";d\r\n" FAKE_REQ "\r\n"
		 "0;last\r\nX-Trailer: 1\r\nX-Other: two words\r\n\r\n" PROBE, strlen(FAKE_REQ));
	h1_send_str(c, req, "chunked body");
	h1_expect_status(c, 404, "chunked body: POST");
	h1_expect_status(c, 200, "chunked body: pipelined probe");
	h1_expect_quiet(c, "chunked body");

	/* The same, arriving in pieces after the answer: the body is still skipped. */
	h1_send_str(c, "POST /nope HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
		 "slow chunked head");
	h1_expect_status(c, 404, "slow chunked body: POST answered before its body");
	h1_send_str(c, "1f4\r\n", "slow chunked");
	memset(chunk, 'z', 500);
	h1_send_bytes(c, chunk, 500, "slow chunked");
	it_sleep_ms(20);
	h1_send_str(c, "\r\n1f4;x=y\r\n", "slow chunked");
	h1_send_bytes(c, chunk, 500, "slow chunked");
	it_sleep_ms(20);
	h1_send_str(c, "\r\n0\r\nT: 1\r\n", "slow chunked");
	it_sleep_ms(20);
	h1_send_str(c, "\r\n" PROBE, "slow chunked");
	h1_expect_status(c, 200, "slow chunked body (1000 of max 1024): pipelined probe");

	h1_send_str(c, "PUT /nope HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n", "slow CL");
	h1_expect_status(c, 404, "slow CL body: PUT");
	h1_send_str(c, "01234", "slow CL");
	it_sleep_ms(20);
	h1_send_str(c, "56789" PROBE, "slow CL");
	h1_expect_status(c, 200, "slow CL body: pipelined probe");

	h1_roundtrip(c, PROBE, 200, &r, "connection still usable");
	IT_ASSERT(!r.conn_close, "connection: close after bodies");
	it_conn_free(c);
}
END_TEST

/* Malformed chunk sizes: the connection is closed and the probe behind never answered. */
START_TEST(bad_chunk_sizes)
{
	static const char *const sizes[] = { "1 2", "x", "fffffffffffffffffffff", "-1", "" };
	const char *backend = it_backend(_i);
	char req[1024];
	int port;

	if (!backend)
		return;
	h1_start(backend, "", "\"header_ms\": 10000, \"body_ms\": 10000", LIMITS_SMALL, &port);
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		struct it_conn *c = it_conn_new(port);
		char what[64];

		snprintf(what, sizeof(what), "chunk size \"%s\"", sizes[k]);
		snprintf(req, sizeof(req), "POST /nope HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked"
			 "\r\n\r\n%s\r\nab\r\n0\r\n\r\n" PROBE, sizes[k]);
		h1_send_str(c, req, what);
		IT_ASSERT(h1_read_to_close(c, T_IO), "%s: connection still open after %d ms; got \"%.300s\"",
			  what, T_IO, c->buf);
		IT_ASSERT(h1_count_str(c->buf, "HTTP/1.1 ") <= 1 && !strstr(c->buf, "HTTP/1.1 200"),
			  "%s: the request behind a broken body was answered:\n%s", what, c->buf);
		it_conn_free(c);
	}
}
END_TEST

/* A chunked body over max_body_bytes: closed without the server reading it all. */
START_TEST(chunked_over_max)
{
	const char *backend = it_backend(_i);
	char chunk[512];
	struct it_conn *c;
	int port;

	if (!backend)
		return;
	h1_start(backend, "", "\"header_ms\": 10000, \"body_ms\": 10000", LIMITS_SMALL, &port);
	memset(chunk, 'y', 500);

	/* One chunk of 1 MiB: closed on its size line; its data is never sent. */
	c = it_conn_new(port);
	h1_send_str(c, "POST /nope HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n100000\r\n",
		 "1 MiB chunk");
	IT_ASSERT(h1_read_to_close(c, T_IO), "1 MiB chunk (max 1 KiB): still open after %d ms", T_IO);
	IT_ASSERT(!strstr(c->buf, "HTTP/1.1 2"), "1 MiB chunk: %s", c->buf);
	it_conn_free(c);

	/* 500 + 500 are fine, the third 500 is over 1024: closed before its data. */
	c = it_conn_new(port);
	h1_send_str(c, "POST /nope HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1f4\r\n",
		 "3 x 500");
	h1_send_bytes(c, chunk, 500, "3 x 500");
	h1_send_str(c, "\r\n1f4\r\n", "3 x 500");
	h1_send_bytes(c, chunk, 500, "3 x 500");
	h1_send_str(c, "\r\n1f4\r\n", "3 x 500");
	IT_ASSERT(h1_read_to_close(c, T_IO), "3 x 500 (max 1024): still open after %d ms", T_IO);
	IT_ASSERT(!strstr(c->buf, "HTTP/1.1 2"), "3 x 500: %s", c->buf);
	it_conn_free(c);

	/* Many small chunks add up too. */
	c = it_conn_new(port);
	h1_send_str(c, "POST /nope HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", "small");
	for (int k = 0; k < 200; k++)
		if (send(c->fd, "8\r\n12345678\r\n", 13, MSG_NOSIGNAL) != 13)
			break;   /* already closed: fine */
	IT_ASSERT(h1_read_to_close(c, T_IO), "200 x 8 bytes (max 1024): still open after %d ms", T_IO);
	IT_ASSERT(!strstr(c->buf, "HTTP/1.1 2"), "200 x 8: %s", c->buf);
	it_conn_free(c);
}
END_TEST

/* Expect: 100-continue and a handler that does not read: a final answer, then close. */
START_TEST(expect_continue)
{
	static const char *const reqs[] = {
		"POST /.healthz HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 100\r\n\r\n",
		"POST /nope HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n",
		"POST /nope HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n",
	};
	static const int want[] = { 405, 404, 404 };
	const char *backend = it_backend(_i);
	int port;

	if (!backend)
		return;
	h1_start(backend, "", "\"header_ms\": 10000, \"body_ms\": 10000", "", &port);
	for (size_t k = 0; k < sizeof(reqs) / sizeof(reqs[0]); k++) {
		struct it_conn *c = it_conn_new(port);
		struct it_response r;
		char what[64];

		snprintf(what, sizeof(what), "Expect: 100-continue request %zu", k);
		h1_send_str(c, reqs[k], what);
		h1_read_final(c, &r, what);
		IT_ASSERT(r.status == want[k], "%s: status %d, want %d\n%s", what, r.status, want[k],
			  r.head);
		IT_ASSERT(r.conn_close, "%s: no Connection: close\n%s", what, r.head);
		h1_expect_close(c, T_IO, what);
		it_conn_free(c);
	}
}
END_TEST

static Suite *http1_bodies_suite(void)
{
	Suite *s = suite_create("http1_bodies");
	TCase *tc = it_tcase("bodies");

	tcase_add_loop_test(tc, bodies_then_pipelined, 0, 2);
	tcase_add_loop_test(tc, bad_chunk_sizes, 0, 2);
	tcase_add_loop_test(tc, chunked_over_max, 0, 2);
	tcase_add_loop_test(tc, expect_continue, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

IT_SUITE(http1_bodies_suite);
