/* SPDX-License-Identifier: MIT */
/* test_request.c - src/http/request.c: methods, request-target forms, :scheme, Content-Length, Host. */
#include <config.h>

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "http/request.h"
#include "check_main.h"

static struct sw_str S(const char *s)
{
	return (struct sw_str){ s, strlen(s) };
}

/* A request with target t and method m, split. */
static int split(struct sw_request *req, enum sw_method m, const char *t)
{
	memset(req, 0, sizeof(*req));
	req->method = m;
	req->target = S(t);
	return sw_request_split_target(req);
}

static void assert_str(struct sw_str got, const char *want)
{
	ck_assert_msg(got.len == strlen(want) && memcmp(got.p, want, got.len) == 0,
		      "got \"%.*s\", want \"%s\"", (int)got.len, got.p ? got.p : "", want);
}

START_TEST(test_method_classify)
{
	static const struct { const char *s; enum sw_method m; } cases[] = {
		{ "GET", SW_METHOD_GET }, { "HEAD", SW_METHOD_HEAD }, { "POST", SW_METHOD_POST },
		{ "PUT", SW_METHOD_PUT }, { "DELETE", SW_METHOD_DELETE },
		{ "OPTIONS", SW_METHOD_OPTIONS }, { "PATCH", SW_METHOD_PATCH },
		{ "CONNECT", SW_METHOD_CONNECT }, { "TRACE", SW_METHOD_TRACE },
		/* Methods are case-sensitive (RFC 9110 9.1): "get" is an extension method. */
		{ "get", SW_METHOD_OTHER }, { "GETS", SW_METHOD_OTHER }, { "GE", SW_METHOD_OTHER },
		{ "PROPFIND", SW_METHOD_OTHER }, { "", SW_METHOD_OTHER },
	};

	for (size_t i = 0; i < SW_ARRAY_SIZE(cases); i++)
		ck_assert_msg(sw_method_classify(cases[i].s, strlen(cases[i].s)) == cases[i].m,
			      "%s", cases[i].s);
	/* Only len bytes count: "GETX" cut at 3 is GET. */
	ck_assert_int_eq(sw_method_classify("GETX", 3), SW_METHOD_GET);
}
END_TEST

START_TEST(test_origin_form)
{
	struct sw_request r;

	ck_assert_int_eq(split(&r, SW_METHOD_GET, "/a/b?x=1&y"), 0);
	assert_str(r.path, "/a/b");
	assert_str(r.query, "x=1&y");
	ck_assert_uint_eq(r.authority.len, 0);

	ck_assert_int_eq(split(&r, SW_METHOD_GET, "/"), 0);
	assert_str(r.path, "/");
	ck_assert_ptr_null(r.query.p);   /* no '?': no query, not an empty one */

	ck_assert_int_eq(split(&r, SW_METHOD_GET, "/p?"), 0);
	assert_str(r.path, "/p");
	ck_assert_ptr_nonnull(r.query.p);
	ck_assert_uint_eq(r.query.len, 0);

	/* The first '?' splits; later ones belong to the query. */
	ck_assert_int_eq(split(&r, SW_METHOD_GET, "/p?a?b"), 0);
	assert_str(r.query, "a?b");
}
END_TEST

START_TEST(test_fragment_refused)
{
	struct sw_request r;

	ck_assert_int_eq(split(&r, SW_METHOD_GET, "/a#frag"), 400);
	ck_assert_int_eq(split(&r, SW_METHOD_GET, "/a?q#f"), 400);
	ck_assert_int_eq(split(&r, SW_METHOD_GET, "http://h/a#f"), 400);
	ck_assert_int_eq(split(&r, SW_METHOD_OPTIONS, "#"), 400);
}
END_TEST

START_TEST(test_absolute_form)
{
	struct sw_request r;

	ck_assert_int_eq(split(&r, SW_METHOD_GET, "http://example.com:8080/x/y?q"), 0);
	assert_str(r.authority, "example.com:8080");
	assert_str(r.path, "/x/y");
	assert_str(r.query, "q");

	/* No path: it is "/" (RFC 9112 3.2.2), with or without a query. */
	ck_assert_int_eq(split(&r, SW_METHOD_GET, "https://a"), 0);
	assert_str(r.authority, "a");
	assert_str(r.path, "/");
	ck_assert_ptr_null(r.query.p);
	ck_assert_int_eq(split(&r, SW_METHOD_GET, "http://a?k=v/w"), 0);
	assert_str(r.authority, "a");
	assert_str(r.path, "/");
	assert_str(r.query, "k=v/w");

	/* An IPv6 literal authority, and a scheme with the characters RFC 3986 allows. */
	ck_assert_int_eq(split(&r, SW_METHOD_GET, "http://[::1]:80/"), 0);
	assert_str(r.authority, "[::1]:80");
	ck_assert_int_eq(split(&r, SW_METHOD_GET, "coap+tcp-x.1://h/"), 0);
	assert_str(r.authority, "h");
}
END_TEST

START_TEST(test_absolute_form_bad)
{
	static const char *const bad[] = {
		"http://",          /* no authority */
		"http:///x",        /* empty authority */
		"http://?q",
		"://h/",            /* no scheme */
		"1http://h/",       /* a scheme starts with a letter */
		"ht tp://h/",
		"h_t://h/",
		"example.com/x",    /* neither origin nor absolute form */
		"x",
		"*x",
	};
	struct sw_request r;

	for (size_t i = 0; i < SW_ARRAY_SIZE(bad); i++)
		ck_assert_msg(split(&r, SW_METHOD_GET, bad[i]) == 400, "%s", bad[i]);
}
END_TEST

START_TEST(test_asterisk_and_connect)
{
	struct sw_request r;

	ck_assert_int_eq(split(&r, SW_METHOD_OPTIONS, "*"), 0);
	assert_str(r.path, "*");
	/* "*" is only for OPTIONS (RFC 9112 3.2.4). */
	ck_assert_int_eq(split(&r, SW_METHOD_GET, "*"), 400);
	ck_assert_int_eq(split(&r, SW_METHOD_OTHER, "*"), 400);

	/* CONNECT's target is the authority itself, never a path. */
	ck_assert_int_eq(split(&r, SW_METHOD_CONNECT, "example.com:443"), 0);
	assert_str(r.authority, "example.com:443");
	ck_assert_uint_eq(r.path.len, 0);
}
END_TEST

START_TEST(test_scheme)
{
	ck_assert(sw_request_scheme_ok(S("http")));
	ck_assert(sw_request_scheme_ok(S("https")));
	ck_assert(sw_request_scheme_ok(S("HTTPS")));
	ck_assert(sw_request_scheme_ok(S("hTtP")));
	ck_assert(!sw_request_scheme_ok(S("")));
	ck_assert(!sw_request_scheme_ok(S("ftp")));
	ck_assert(!sw_request_scheme_ok(S("javascript")));
	ck_assert(!sw_request_scheme_ok(S("http ")));
	ck_assert(!sw_request_scheme_ok(S("httpss")));
	ck_assert(sw_request_scheme_ok((struct sw_str){ "https", 4 }));   /* only len bytes: "http" */
	ck_assert(!sw_request_scheme_ok((struct sw_str){ "https", 3 }));
}
END_TEST

START_TEST(test_content_length)
{
	int64_t n = -7;

	ck_assert_int_eq(sw_content_length_parse(S("0"), &n), 0);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(sw_content_length_parse(S("1234"), &n), 0);
	ck_assert_int_eq(n, 1234);
	ck_assert_int_eq(sw_content_length_parse(S("007"), &n), 0);
	ck_assert_int_eq(n, 7);
	/* The limit: 18 digits fit an int64_t whatever they are; 19 could overflow. */
	ck_assert_int_eq(sw_content_length_parse(S("999999999999999999"), &n), 0);
	ck_assert_int_eq(n, 999999999999999999LL);
	n = -7;
	ck_assert_int_eq(sw_content_length_parse(S("1000000000000000000"), &n), 400);
	ck_assert_int_eq(sw_content_length_parse(S("99999999999999999999"), &n), 400);
	ck_assert_int_eq(n, -7);   /* untouched on refusal */

	static const char *const bad[] = { "", "-1", "+1", " 1", "1 ", "1,1", "1, 1", "0x10",
					   "1e3", "１" };
	for (size_t i = 0; i < SW_ARRAY_SIZE(bad); i++)
		ck_assert_msg(sw_content_length_parse(S(bad[i]), &n) == 400, "\"%s\"", bad[i]);
	ck_assert_int_eq(n, -7);
}
END_TEST

START_TEST(test_host_valid)
{
	static const char *const good[] = {
		"example.com", "example.com:8080", "EXAMPLE.com", "a", "a-b_c~d.e",
		"127.0.0.1", "127.0.0.1:80", "[::1]", "[::1]:443", "[2001:DB8::a]:1",
		"[::ffff:10.0.0.1]", "h:",   /* RFC 3986 allows an empty port */
	};
	static const char *const bad[] = {
		"", ":80", "[]", "[", "[::1", "[::1]x", "[::1]:8x", "[g::1]", "a b", "a/b",
		"a@b", "a:8o", "a:80:90", "a\r\nX: y", "a%20b", "a,b", "[::1]]",
	};

	for (size_t i = 0; i < SW_ARRAY_SIZE(good); i++)
		ck_assert_msg(sw_host_valid(S(good[i])), "should pass: %s", good[i]);
	for (size_t i = 0; i < SW_ARRAY_SIZE(bad); i++)
		ck_assert_msg(!sw_host_valid(S(bad[i])), "should fail: %s", bad[i]);
	/* A NUL inside the length is a byte like any other: refused. */
	ck_assert(!sw_host_valid((struct sw_str){ "a\0b", 3 }));
}
END_TEST

static Suite *request_suite(void)
{
	Suite *s = suite_create("request");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_method_classify);
	tcase_add_test(tc, test_origin_form);
	tcase_add_test(tc, test_fragment_refused);
	tcase_add_test(tc, test_absolute_form);
	tcase_add_test(tc, test_absolute_form_bad);
	tcase_add_test(tc, test_asterisk_and_connect);
	tcase_add_test(tc, test_scheme);
	tcase_add_test(tc, test_content_length);
	tcase_add_test(tc, test_host_valid);
	suite_add_tcase(s, tc);
	return s;
}

SW_TEST_SUITE(request_suite);
