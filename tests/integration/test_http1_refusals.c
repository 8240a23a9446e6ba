/* SPDX-License-Identifier: MIT */
/* test_http1_refusals.c - the HTTP/1.1 engine end to end, on both I/O backends: what is refused and how: the refusal table, limits, hosts and methods, smuggling, HTTP/1.0 with Transfer-Encoding, pipelined refusals. */
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

/* ---- refusals ----------------------------------------------------------- */

struct refusal {
	const char *name;
	const char *req;
	size_t len;          /* 0 = strlen */
	int status;
};

#define NUL_REQ(s) (s), sizeof(s) - 1

static const struct refusal refusals[] = {
	{ "request line: two spaces", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 0, 400 },
	{ "request line: no version", "GET /\r\nHost: a\r\n\r\n", 0, 400 },
	{ "request line: garbage", "HELLO\r\n\r\n", 0, 400 },
	{ "request line: extra word", "GET / HTTP/1.1 x\r\nHost: a\r\n\r\n", 0, 400 },
	{ "request line: lowercase version", "GET / http/1.1\r\nHost: a\r\n\r\n", 0, 400 },
	{ "request line: control char in target", "GET /a\x01 HTTP/1.1\r\nHost: a\r\n\r\n", 0, 400 },
	{ "too many fields", "GET /.healthz HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 1\r\nC: 1\r\n"
	  "D: 1\r\nE: 1\r\nF: 1\r\nG: 1\r\nH: 1\r\n\r\n", 0, 431 },
	{ "Content-Length over max_body_bytes", "POST /up HTTP/1.1\r\nHost: a\r\n"
	  "Content-Length: 1025\r\n\r\n", 0, 413 },
	{ "huge Content-Length", "PUT /up HTTP/1.1\r\nHost: a\r\n"
	  "Content-Length: 99999999999\r\n\r\n", 0, 413 },
	{ "CL then TE", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
	  "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 0, 400 },
	{ "TE then CL", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
	  "Content-Length: 5\r\n\r\n0\r\n\r\n", 0, 400 },
	{ "differing Content-Lengths", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
	  "Content-Length: 6\r\n\r\nhello!", 0, 400 },
	{ "TE gzip", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 0, 400 },
	{ "TE chunked, gzip", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
	  0, 400 },
	{ "TE chunked then TE identity", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
	  "Transfer-Encoding: identity\r\n\r\n", 0, 400 },
	{ "bare CR in a value", "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\rc\r\n\r\n", 0, 400 },
	{ "bare CR in the request line", "GET /\r HTTP/1.1\r\nHost: a\r\n\r\n", 0, 400 },
	{ "bare LF after the request line", "GET / HTTP/1.1\nHost: a\r\n\r\n", 0, 400 },
	{ "bare LF after a field", "GET / HTTP/1.1\r\nHost: a\nX-A: b\r\n\r\n", 0, 400 },
	{ "bare LF ends the head", "GET / HTTP/1.1\r\nHost: a\r\n\n", 0, 400 },
	{ "space before colon", "GET / HTTP/1.1\r\nHost: a\r\nX-A : b\r\n\r\n", 0, 400 },
	{ "space before colon in Host", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", 0, 400 },
	{ "obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n", 0, 400 },
	{ "obs-fold with tab", "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n\tc\r\n\r\n", 0, 400 },
	{ "NUL in a value", NUL_REQ("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\0c\r\n\r\n"), 400 },
	{ "NUL in a name", NUL_REQ("GET / HTTP/1.1\r\nHost: a\r\nX\0A: b\r\n\r\n"), 400 },
	{ "NUL in the request line", NUL_REQ("GET /\0 HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ "HTTP/1.1 without Host", "GET /.healthz HTTP/1.1\r\n\r\n", 0, 400 },
	{ "two Host fields", "GET /.healthz HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 0, 400 },
	{ "two different Host fields", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 0, 400 },
	{ "HTTP/2.0 request line", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 0, 505 },
	{ "HTTP/3.0 request line", "GET / HTTP/3.0\r\nHost: a\r\n\r\n", 0, 505 },
};

#define NREFUSALS ((int)(sizeof(refusals) / sizeof(refusals[0])))

/* One refused request on a fresh connection: status, Connection: close, EOF. */
static void expect_refusal(int port, const char *name, const char *req, size_t len, int status)
{
	struct it_conn *c = it_conn_new(port);
	struct it_response r;

	h1_send_bytes(c, req, len, name);
	h1_read_final(c, &r, name);
	IT_ASSERT(r.status == status, "%s: status %d, want %d\n%s", name, r.status, status, r.head);
	IT_ASSERT(r.conn_close, "%s: refusal without \"Connection: close\"\n%s", name, r.head);
	h1_expect_close(c, T_IO, name);
	it_conn_free(c);
}

/* Small limits, allowed_hosts "a" (and "localhost" for the harness). */
static void refusal_server(const char *backend, int *port)
{
	h1_start(backend, "\"allowed_hosts\": [\"a\", \"localhost\"]", "\"header_ms\": 10000",
	      LIMITS_SMALL, port);
}

START_TEST(refusals_table)
{
	const char *backend = it_backend(_i);
	int port;

	if (!backend)
		return;
	refusal_server(backend, &port);
	for (int k = 0; k < NREFUSALS; k++) {
		const struct refusal *rf = &refusals[k];

		expect_refusal(port, rf->name, rf->req, rf->len ? rf->len : strlen(rf->req),
			       rf->status);
	}
}
END_TEST

/* The limits are limits: exactly at them is served. */
START_TEST(refusals_limits)
{
	const char *backend = it_backend(_i);
	char req[4096], *p;
	struct it_conn *c;
	struct it_response r;
	size_t n;
	int port;

	if (!backend)
		return;
	refusal_server(backend, &port);

	/* A complete head of ~1.5 KB against max_header_bytes 1024. */
	n = (size_t)snprintf(req, sizeof(req), "GET /.healthz HTTP/1.1\r\nHost: a\r\nX-Big: ");
	memset(req + n, 'b', 1500);
	strcpy(req + n + 1500, "\r\n\r\n");
	expect_refusal(port, "head over max_header_bytes", req, strlen(req), 431);

	/* A head that never ends: refused once over the limit, not at header_ms. */
	req[n + 3000] = '\0';
	memset(req + n, 'b', 3000);
	expect_refusal(port, "endless head over max_header_bytes", req, strlen(req), 431);

	/* 100 small fields in under 1024 bytes: refused for their count. */
	p = req + sprintf(req, "GET /.healthz HTTP/1.1\r\nHost: a\r\n");
	for (int k = 0; k < 100; k++)
		p += sprintf(p, "X-%d: 1\r\n", k);
	strcpy(p, "\r\n");
	expect_refusal(port, "100 fields", req, strlen(req), 431);

	/* Positive controls: 8 fields (Host + 7), a head just under 1024 bytes, CL == max. */
	c = it_conn_new(port);
	h1_roundtrip(c, "GET /.healthz HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 1\r\nC: 1\r\nD: 1\r\n"
		  "E: 1\r\nF: 1\r\nG: 1\r\n\r\n", 200, &r, "max_header_count fields");
	n = (size_t)snprintf(req, sizeof(req), "GET /.healthz HTTP/1.1\r\nHost: a\r\nX-Big: ");
	memset(req + n, 'b', 900);
	strcpy(req + n + 900, "\r\n\r\n");
	IT_ASSERT(strlen(req) < LIM_HEADER_BYTES, "control head too long");
	h1_roundtrip(c, req, 200, &r, "head under max_header_bytes");
	n = (size_t)snprintf(req, sizeof(req), "POST /nope HTTP/1.1\r\nHost: a\r\n"
			     "Content-Length: %d\r\n\r\n", LIM_BODY);
	memset(req + n, 'x', LIM_BODY);
	req[n + LIM_BODY] = '\0';
	h1_roundtrip(c, req, 404, &r, "Content-Length == max_body_bytes");
	h1_roundtrip(c, "GET /.healthz HTTP/1.1\r\nHost: a\r\n\r\n", 200, &r, "after the controls");
	it_conn_free(c);
}
END_TEST

/* 413 for a Content-Length over the limit comes before any of the body. */
START_TEST(refusal_413_does_not_wait)
{
	const char *backend = it_backend(_i);
	struct it_conn *c;
	struct it_response r;
	int64_t t0;
	int port;

	if (!backend)
		return;
	/* body_ms and header_ms far beyond T_IO: only an early answer passes. */
	h1_start(backend, "", "\"header_ms\": 20000, \"body_ms\": 20000", LIMITS_SMALL, &port);
	c = it_conn_new(port);
	t0 = it_now_ms();
	h1_send_str(c, "POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 1048576\r\n\r\n", "413");
	h1_read_final(c, &r, "CL 1 MiB over max 1 KiB");
	IT_ASSERT(r.status == 413, "status %d, want 413\n%s", r.status, r.head);
	IT_ASSERT(r.conn_close, "413 without Connection: close");
	h1_expect_close(c, T_IO, "after 413");
	IT_ASSERT(it_now_ms() - t0 < T_IO, "413 took %lld ms", (long long)(it_now_ms() - t0));
	it_conn_free(c);
}
END_TEST

/* allowed_hosts: 421 for other names, probes for any name; 405 and OPTIONS *. */
START_TEST(hosts_and_methods)
{
	const char *backend = it_backend(_i);
	struct it_conn *c;
	struct it_response r;
	char allow[128];
	int port;

	if (!backend)
		return;
	refusal_server(backend, &port);
	expect_refusal(port, "Host not allowed", "GET /nope HTTP/1.1\r\nHost: evil.example\r\n\r\n",
		       strlen("GET /nope HTTP/1.1\r\nHost: evil.example\r\n\r\n"), 421);
	expect_refusal(port, "Host not allowed, with port",
		       "GET / HTTP/1.1\r\nHost: evil.example:80\r\n\r\n",
		       strlen("GET / HTTP/1.1\r\nHost: evil.example:80\r\n\r\n"), 421);
	expect_refusal(port, "absolute-form authority not allowed",
		       "GET http://evil.example/x HTTP/1.1\r\nHost: a\r\n\r\n",
		       strlen("GET http://evil.example/x HTTP/1.1\r\nHost: a\r\n\r\n"), 421);

	c = it_conn_new(port);
	h1_roundtrip(c, "GET /.healthz HTTP/1.1\r\nHost: evil.example\r\n\r\n", 200, &r,
		  "probe with another Host");
	IT_ASSERT(!r.conn_close, "probe with another Host closes the connection");
	h1_roundtrip(c, "GET /.ready HTTP/1.1\r\nHost: evil.example\r\n\r\n", 200, &r,
		  "ready probe with another Host");
	h1_roundtrip(c, "GET /nope HTTP/1.1\r\nHost: A:8080\r\n\r\n", 404, &r,
		  "allowed host, other case, with port");

	/* 405 names what is allowed; nothing about it needs the connection closed. */
	h1_roundtrip(c, "POST /.healthz HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", 405, &r,
		  "POST /.healthz");
	IT_ASSERT(h1_header(&r, "Allow", allow, sizeof(allow)), "405 without Allow\n%s", r.head);
	IT_ASSERT(strstr(allow, "GET") && strstr(allow, "HEAD") && !strstr(allow, "POST"),
		  "405 Allow: %s", allow);
	h1_roundtrip(c, "DELETE /.ready HTTP/1.1\r\nHost: a\r\n\r\n", 405, &r, "DELETE /.ready");
	IT_ASSERT(h1_header(&r, "Allow", allow, sizeof(allow)), "405 without Allow\n%s", r.head);

	h1_roundtrip(c, "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", 204, &r, "OPTIONS *");
	IT_ASSERT(h1_header(&r, "Allow", allow, sizeof(allow)), "OPTIONS * without Allow\n%s", r.head);
	IT_ASSERT(strstr(allow, "GET") && strstr(allow, "OPTIONS"), "OPTIONS * Allow: %s", allow);
	IT_ASSERT(!h1_header(&r, "Content-Length", allow, sizeof(allow)),
		  "204 with Content-Length (RFC 9110 8.6)\n%s", r.head);
	h1_roundtrip(c, "GET /.healthz HTTP/1.1\r\nHost: a\r\n\r\n", 200, &r, "after 405 and 204");
	it_conn_free(c);
}
END_TEST

/* CL + TE with a smuggled request behind: one 400, then EOF, never the GET. */
START_TEST(smuggling)
{
	static const char *const attempts[] = {
		"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n"
		"\r\n0\r\n\r\nGET /.healthz HTTP/1.1\r\nHost: a\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n"
		"\r\n0\r\n\r\nGET /.healthz HTTP/1.1\r\nHost: a\r\n\r\n",
		/* A CL that would cover the smuggled request exactly. */
		"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 35\r\n"
		"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /.healthz HTTP/1.1\r\nHost: a\r\n\r\n",
	};
	const char *backend = it_backend(_i);
	int port;

	if (!backend)
		return;
	h1_start(backend, "", "\"header_ms\": 10000", "", &port);
	for (size_t k = 0; k < sizeof(attempts) / sizeof(attempts[0]); k++) {
		struct it_conn *c = it_conn_new(port);
		struct it_response r;
		char what[64];

		snprintf(what, sizeof(what), "smuggling attempt %zu", k);
		h1_send_str(c, attempts[k], what);
		h1_read_final(c, &r, what);
		IT_ASSERT(r.status == 400, "%s: status %d, want 400\n%s", what, r.status, r.head);
		h1_expect_close(c, T_IO, what);
		it_conn_free(c);
	}
}
END_TEST

/*
 * RFC 9112 6.1: an HTTP/1.0 message with Transfer-Encoding has faulty
 * framing; the server closes after processing it, whatever keep-alive says.
 */
START_TEST(http10_transfer_encoding)
{
	const char *backend = it_backend(_i);
	struct it_conn *c;
	int port;

	if (!backend)
		return;
	h1_start(backend, "", "\"header_ms\": 10000, \"body_ms\": 10000", "", &port);
	c = it_conn_new(port);
	h1_send_str(c, "POST /nope HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n"
		 "\r\n0\r\n\r\nGET /.healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
		 "HTTP/1.0 with Transfer-Encoding");
	IT_ASSERT(h1_read_to_close(c, T_IO) && h1_count_str(c->buf, "HTTP/1.1 ") <= 1,
		  "HTTP/1.0 + Transfer-Encoding (RFC 9112 6.1: close after processing it): "
		  "want at most one response and then EOF; got:\n%s", c->buf);
	it_conn_free(c);
}
END_TEST

/* RFC 9110 7.2 / RFC 9112 3.2: a Host field with an invalid value is a 400. */
START_TEST(invalid_host_value)
{
	static const char *const hosts[] = {
		"a b", "a/b", "a@b", "a,b", "[::1", "a:8x", "a\tb",
	};
	const char *backend = it_backend(_i);
	char bad[1024] = "";
	int port;

	if (!backend)
		return;
	h1_start(backend, "", "\"header_ms\": 10000", "", &port);
	for (size_t k = 0; k < sizeof(hosts) / sizeof(hosts[0]); k++) {
		struct it_conn *c = it_conn_new(port);
		struct it_response r;
		char req[256];
		size_t n = strlen(bad);

		snprintf(req, sizeof(req), "GET /nope HTTP/1.1\r\nHost: %s\r\n\r\n", hosts[k]);
		h1_send_str(c, req, "invalid Host");
		h1_read_final(c, &r, "invalid Host");
		if (r.status != 400 || !r.conn_close || !h1_read_to_close(c, T_IO) || c->len)
			snprintf(bad + n, sizeof(bad) - n, "\n  Host: \"%s\" -> %d%s", hosts[k], r.status,
				 r.conn_close ? ", closed" : ", kept open");
		it_conn_free(c);
	}
	IT_ASSERT(bad[0] == '\0', "invalid Host values not refused with 400 and a close:%s", bad);
}
END_TEST

/* A refusal in a pipeline: answered in its turn; what follows it never is. */
START_TEST(pipelined_refusal)
{
	const char *backend = it_backend(_i);
	struct it_conn *c;
	int port;

	if (!backend)
		return;
	h1_start(backend, "", "\"header_ms\": 10000", "", &port);
	c = it_conn_new(port);
	h1_send_str(c, PROBE "GET /nope HTTP/1.1\r\nHost: a\r\n\r\n"
		 "GET / HTTP/1.1\r\nHost: a\r\nX-A : b\r\n\r\n" PROBE, "pipelined refusal");
	h1_expect_status(c, 200, "pipelined 1");
	h1_expect_status(c, 404, "pipelined 2");
	h1_expect_status(c, 400, "pipelined 3 (space before colon)");
	h1_expect_close(c, T_IO, "after the pipelined refusal");
	it_conn_free(c);
}
END_TEST

static Suite *http1_refusals_suite(void)
{
	Suite *s = suite_create("http1_refusals");
	TCase *tc = it_tcase("refusals");

	tcase_add_loop_test(tc, refusals_table, 0, 2);
	tcase_add_loop_test(tc, refusals_limits, 0, 2);
	tcase_add_loop_test(tc, refusal_413_does_not_wait, 0, 2);
	tcase_add_loop_test(tc, hosts_and_methods, 0, 2);
	tcase_add_loop_test(tc, smuggling, 0, 2);
	tcase_add_loop_test(tc, http10_transfer_encoding, 0, 2);
	tcase_add_loop_test(tc, invalid_host_value, 0, 2);
	tcase_add_loop_test(tc, pipelined_refusal, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

IT_SUITE(http1_refusals_suite);
