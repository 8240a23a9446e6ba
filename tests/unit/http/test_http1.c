/* SPDX-License-Identifier: MIT */
/* test_http1.c - the HTTP/1.1 head parser against a table of requests, whole and byte by byte. */
#include <config.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "http/http1.h"
#include "check_main.h"

static const struct sw_limits_cfg limits = {
	.max_header_bytes = 1024, .max_header_count = 8, .max_body_bytes = 1 << 20,
};

struct vector {
	const char *name;
	const char *text;
	int want;            /* 0 = parsed, else the status it is refused with */
	size_t len;          /* for texts with a NUL inside; 0 = strlen */
};

static const struct vector vectors[] = {
	{ "simple GET", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 0, 0 },
	{ "HTTP/1.0 without Host", "GET / HTTP/1.0\r\n\r\n", 0, 0 },
	{ "query", "GET /x?a=1 HTTP/1.1\r\nHost: a\r\n\r\n", 0, 0 },
	{ "absolute form", "GET http://a.example/p?q HTTP/1.1\r\nHost: a\r\n\r\n", 0, 0 },
	{ "asterisk form", "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", 0, 0 },
	{ "OWS around value", "GET / HTTP/1.1\r\nHost:   a \t\r\n\r\n", 0, 0 },
	{ "content-length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n", 0, 0 },
	{ "same CL twice", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", 0, 0 },
	{ "chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", 0, 0 },
	{ "no Host in 1.1", "GET / HTTP/1.1\r\n\r\n", 400, 0 },
	{ "two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, 0 },
	{ "CL and TE", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400, 0 },
	{ "TE and CL", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", 400, 0 },
	{ "differing CL", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 400, 0 },
	{ "CL list", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n", 400, 0 },
	{ "CL sign", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n", 400, 0 },
	{ "TE not chunked last", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400, 0 },
	{ "TE identity", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n", 400, 0 },
	{ "TE gzip, chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501, 0 },
	{ "bare LF in head", "GET / HTTP/1.1\nHost: a\r\n\r\n", 400, 0 },
	{ "bare LF ending", "GET / HTTP/1.1\r\nHost: a\n\n", 400, 0 },
	{ "bare CR in value", "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", 400, 0 },
	{ "space before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400, 0 },
	{ "obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n", 400, 0 },
	{ "NUL in value", "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\0c\r\n\r\n", 400,
	  sizeof("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\0c\r\n\r\n") - 1 },
	{ "DEL in target", "GET /\x7f HTTP/1.1\r\nHost: a\r\n\r\n", 400, 0 },
	{ "two spaces", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400, 0 },
	{ "lowercase version", "GET / http/1.1\r\nHost: a\r\n\r\n", 400, 0 },
	{ "HTTP/2.0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505, 0 },
	{ "HTTP/1.2 is 1.x", "GET / HTTP/1.2\r\nHost: a\r\n\r\n", 0, 0 },
	{ "missing version", "GET /\r\nHost: a\r\n\r\n", 400, 0 },
	{ "empty method", " / HTTP/1.1\r\nHost: a\r\n\r\n", 400, 0 },
	{ "bad header name", "GET / HTTP/1.1\r\nHo(st: a\r\n\r\n", 400, 0 },
	{ "empty header name", "GET / HTTP/1.1\r\n: a\r\nHost: a\r\n\r\n", 400, 0 },
	{ "asterisk with GET", "GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400, 0 },
	{ "relative target", "GET abc HTTP/1.1\r\nHost: a\r\n\r\n", 400, 0 },
	{ "Expect other", "GET / HTTP/1.1\r\nHost: a\r\nExpect: x\r\n\r\n", 417, 0 },
	{ "Host with space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400, 0 },
	{ "Host with slash", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400, 0 },
	{ "Host with userinfo", "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", 400, 0 },
	{ "Host list", "GET / HTTP/1.1\r\nHost: a,b\r\n\r\n", 400, 0 },
	{ "Host bad port", "GET / HTTP/1.1\r\nHost: a:8x\r\n\r\n", 400, 0 },
	{ "Host open bracket", "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", 400, 0 },
	{ "Host IPv6 and port", "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", 0, 0 },
	{ "Host name and port", "GET / HTTP/1.1\r\nHost: www.example.com:80\r\n\r\n", 0, 0 },
	{ "empty host with port", "GET / HTTP/1.1\r\nHost: :80\r\n\r\n", 400, 0 },
	{ "empty IP literal", "GET / HTTP/1.1\r\nHost: []\r\n\r\n", 400, 0 },
	{ "absolute form, empty host", "GET http://:80/x HTTP/1.1\r\nHost: a\r\n\r\n", 400, 0 },
	{ "too many fields", "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 1\r\nC: 1\r\nD: 1\r\nE: 1\r\nF: 1\r\nG: 1\r\nH: 1\r\n\r\n", 431, 0 },
};

/* Feeds the whole text at once. */
static int parse_whole(const char *text, size_t len, struct sw_request *req, size_t *head)
{
	struct sw_http1_parser p;

	sw_http1_parser_reset(&p);
	return sw_http1_parse(&p, text, len, &limits, req, head);
}

/* Feeds it one byte more at a time, as a trickling client would. */
static int parse_bytewise(const char *text, size_t len, struct sw_request *req, size_t *head)
{
	struct sw_http1_parser p;
	int rc = SW_AGAIN;

	sw_http1_parser_reset(&p);
	for (size_t n = 1; n <= len && rc == SW_AGAIN; n++)
		rc = sw_http1_parse(&p, text, n, &limits, req, head);
	return rc;
}

START_TEST(test_vector)
{
	const struct vector *v = &vectors[_i];
	size_t len = v->len ? v->len : strlen(v->text);
	struct sw_header headers[8];
	struct sw_request req = { .headers = headers };
	size_t head = 0;
	int rc;

	rc = parse_whole(v->text, len, &req, &head);
	ck_assert_msg(rc == v->want, "%s: whole: got %d, want %d", v->name, rc, v->want);
	if (rc == 0)
		ck_assert_uint_eq(head, len);
	rc = parse_bytewise(v->text, len, &req, &head);
	ck_assert_msg(rc == v->want, "%s: bytewise: got %d, want %d", v->name, rc, v->want);
}
END_TEST

START_TEST(test_fields)
{
	const char *t = "POST http://h.example:8/p/q?x=1&y HTTP/1.1\r\nHost: other\r\n"
			"Content-Length: 12\r\nConnection: close\r\n\r\nbody";
	struct sw_header headers[8];
	struct sw_request req = { .headers = headers };
	size_t head;

	ck_assert_int_eq(parse_whole(t, strlen(t), &req, &head), 0);
	ck_assert_uint_eq(head, strlen(t) - 4);
	ck_assert_int_eq(req.method, SW_METHOD_POST);
	ck_assert(sw_str_eq(req.path, "/p/q"));
	ck_assert(sw_str_eq(req.query, "x=1&y"));
	ck_assert(sw_str_eq(req.authority, "h.example:8"));
	ck_assert_int_eq(req.content_length, 12);
	ck_assert(!req.keep_alive);
	ck_assert_uint_eq(req.header_count, 3);
	ck_assert(sw_str_eq(sw_request_header(&req, "content-length")->value, "12"));
}
END_TEST

/* Found by fuzz_http1: a query with no path still has the path "/". */
START_TEST(test_absolute_form_query_without_path)
{
	const char *t = "GET http://a?x HTTP/1.1\r\nHost: a\r\n\r\n";
	struct sw_header headers[8];
	struct sw_request req = { .headers = headers };
	size_t head;

	ck_assert_int_eq(parse_whole(t, strlen(t), &req, &head), 0);
	ck_assert(sw_str_eq(req.path, "/"));
	ck_assert(sw_str_eq(req.query, "x"));
	ck_assert(sw_str_eq(req.authority, "a"));
}
END_TEST

START_TEST(test_keep_alive_rules)
{
	struct sw_header headers[8];
	struct sw_request req = { .headers = headers };
	size_t head;
	const char *a = "GET / HTTP/1.0\r\n\r\n";
	const char *b = "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n";
	const char *c = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";

	ck_assert_int_eq(parse_whole(a, strlen(a), &req, &head), 0);
	ck_assert(!req.keep_alive);
	ck_assert_int_eq(parse_whole(b, strlen(b), &req, &head), 0);
	ck_assert(req.keep_alive);
	ck_assert_int_eq(parse_whole(c, strlen(c), &req, &head), 0);
	ck_assert(req.keep_alive);
}
END_TEST

/* HTTP/1.0 has no chunked framing: such a request is served, then the connection closes. */
START_TEST(test_http10_chunked_closes)
{
	struct sw_header headers[8];
	struct sw_request req = { .headers = headers };
	size_t head;
	const char *t = "POST / HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n";

	ck_assert_int_eq(parse_whole(t, strlen(t), &req, &head), 0);
	ck_assert(req.chunked);
	ck_assert(!req.keep_alive);
}
END_TEST

START_TEST(test_head_too_large)
{
	char big[2048];
	struct sw_header headers[8];
	struct sw_request req = { .headers = headers };
	size_t head;

	memset(big, 'a', sizeof(big));
	memcpy(big, "GET /", 5);
	/* No end of head within the limit: refused before it is all read. */
	ck_assert_int_eq(parse_whole(big, sizeof(big), &req, &head), 431);
	ck_assert_int_eq(parse_whole(big, 1000, &req, &head), SW_AGAIN);
}
END_TEST

START_TEST(test_pipelined_head_stops_at_boundary)
{
	const char *t = "GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n";
	struct sw_header headers[8];
	struct sw_request req = { .headers = headers };
	size_t head;

	ck_assert_int_eq(parse_whole(t, strlen(t), &req, &head), 0);
	ck_assert_uint_eq(head, strlen(t) / 2);
	ck_assert(sw_str_eq(req.path, "/a"));
}
END_TEST

/* Upstream response framing: chunked decoded, other transfer codings refused with a reason. */
static const struct {
	const char *te;
	int rc;
	bool chunked, until_close;
	const char *bad;
} response_te[] = {
	{ "chunked", SW_OK, true, false, NULL },
	{ "identity", SW_OK, false, true, NULL },
	{ "identity, chunked", SW_OK, true, false, NULL },
	{ "Chunked", SW_OK, true, false, NULL },
	{ "gzip, chunked", SW_ERROR, false, false, "gzip" },
	{ "chunked, gzip", SW_ERROR, false, false, "gzip" },
	{ "chunked, chunked", SW_ERROR, false, false, "chunked" },
	{ "frob", SW_ERROR, false, false, "frob" },
	{ "chunked;x=1", SW_ERROR, false, false, "chunked" },
	{ ",", SW_ERROR, false, false, "," },
};

START_TEST(test_response_transfer_coding)
{
	char head[256];
	struct sw_header fields[8];
	struct sw_http1_response r = { .headers = fields, .header_cap = 8 };
	struct sw_http1_parser p = { 0 };
	size_t len;
	int rc;

	snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nTransfer-Encoding: %s\r\n\r\n",
		 response_te[_i].te);
	rc = sw_http1_parse_response(&p, head, strlen(head), sizeof(head), &r, &len);
	ck_assert_msg(rc == response_te[_i].rc, "%s: rc %d", response_te[_i].te, rc);
	if (rc == SW_OK) {
		ck_assert(r.chunked == response_te[_i].chunked);
		ck_assert(r.until_close == response_te[_i].until_close);
	} else {
		ck_assert_ptr_nonnull(r.why);
		ck_assert_msg(sw_str_eq(r.bad_coding, response_te[_i].bad), "%s: blamed \"%.*s\"",
			      response_te[_i].te, (int)r.bad_coding.len, r.bad_coding.p);
	}
}
END_TEST

/*
 * Found by fuzz_response: Transfer-Encoding split over two fields is one
 * list (RFC 9110 5.3).  An unknown coding in the first and chunked in the
 * second parsed as chunked and read-to-close at once.
 */
static const struct {
	const char *first, *second;
	int rc;
	const char *bad;
} response_te_fields[] = {
	{ "frob", "chunked", SW_ERROR, "frob" },
	{ "chunked", "gzip", SW_ERROR, "gzip" },
	{ "chunked", "chunked", SW_ERROR, "chunked" },
	{ "identity", "chunked", SW_OK, NULL },
};

START_TEST(test_response_te_split_fields)
{
	char head[256];
	struct sw_header fields[8];
	struct sw_http1_response r = { .headers = fields, .header_cap = 8 };
	struct sw_http1_parser p = { 0 };
	size_t len;
	int rc;

	snprintf(head, sizeof(head),
		 "HTTP/1.1 200 OK\r\nTransfer-Encoding: %s\r\nTransfer-Encoding: %s\r\n\r\n",
		 response_te_fields[_i].first, response_te_fields[_i].second);
	rc = sw_http1_parse_response(&p, head, strlen(head), sizeof(head), &r, &len);
	ck_assert_msg(rc == response_te_fields[_i].rc, "%s + %s: rc %d", response_te_fields[_i].first,
		      response_te_fields[_i].second, rc);
	if (rc == SW_OK)
		ck_assert(r.chunked && !r.until_close && r.content_length < 0);
	else
		ck_assert_msg(sw_str_eq(r.bad_coding, response_te_fields[_i].bad),
			      "blamed \"%.*s\"", (int)r.bad_coding.len, r.bad_coding.p);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("http1");
	TCase *tc = tcase_create("parser");

	tcase_add_loop_test(tc, test_vector, 0, (int)(sizeof(vectors) / sizeof(vectors[0])));
	tcase_add_test(tc, test_fields);
	tcase_add_test(tc, test_keep_alive_rules);
	tcase_add_test(tc, test_absolute_form_query_without_path);
	tcase_add_test(tc, test_http10_chunked_closes);
	tcase_add_test(tc, test_head_too_large);
	tcase_add_test(tc, test_pipelined_head_stops_at_boundary);
	tcase_add_loop_test(tc, test_response_transfer_coding, 0,
			    (int)(sizeof(response_te) / sizeof(response_te[0])));
	tcase_add_loop_test(tc, test_response_te_split_fields, 0,
			    (int)(sizeof(response_te_fields) / sizeof(response_te_fields[0])));
	suite_add_tcase(s, tc);
	return s;
}

SW_TEST_SUITE(suite);
