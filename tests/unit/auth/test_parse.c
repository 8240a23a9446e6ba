/* SPDX-License-Identifier: MIT */
/* test_parse.c - src/auth/parse.c: base64, query parameter removal, percent decoding. */
#include <config.h>

#include "fixture.h"
#include "check_main.h"

static const char *b64(const char *in)
{
	static char out[128];
	long n = sw_auth_base64_decode(in, strlen(in), (unsigned char *)out, sizeof(out) - 1);

	if (n < 0)
		return NULL;
	out[n] = '\0';
	return out;
}

START_TEST(test_base64)
{
	ck_assert_str_eq(b64("YWxpY2U6d29uZGVybGFuZA=="), "alice:wonderland");
	ck_assert_str_eq(b64("Ym9iOmJ1aWxkZXI="), "bob:builder");
	ck_assert_str_eq(b64("YWJj"), "abc");
	ck_assert_str_eq(b64(""), "");
	ck_assert_ptr_null(b64("YWJ"));        /* not a multiple of 4 */
	ck_assert_ptr_null(b64("YW=j"));       /* '=' inside */
	ck_assert_ptr_null(b64("Y==="));
	ck_assert_ptr_null(b64("YW Jj"));
	ck_assert_ptr_null(b64("YWJj=AAA"));   /* '=' before the last quad */
}
END_TEST

static void removes(const char *q, const char *param, const char *rest, const char *value)
{
	char out[256];
	struct sw_str s = { q, strlen(q) }, v;
	size_t n = sw_auth_query_remove(s, param, out, &v);

	out[n] = '\0';
	ck_assert_str_eq(out, rest);
	if (!value) {
		ck_assert_ptr_null(v.p);
	} else {
		ck_assert_ptr_nonnull(v.p);
		ck_assert_int_eq(v.len, strlen(value));
		ck_assert(!memcmp(v.p, value, v.len));
	}
}

START_TEST(test_query_remove)
{
	removes("api_key=k", "api_key", "", "k");
	removes("a=1&api_key=k&b=2", "api_key", "a=1&b=2", "k");
	removes("api_key=k&api_key=l&c", "api_key", "c", "k");
	removes("a=1&api_key", "api_key", "a=1", "");
	removes("api_keyx=1&xapi_key=2", "api_key", "api_keyx=1&xapi_key=2", NULL);
	removes("a=1&&b=2", "api_key", "a=1&b=2", NULL);
	removes("", "api_key", "", NULL);
}
END_TEST

START_TEST(test_percent)
{
	char out[32];
	struct sw_str s = { "a%2Db%2fc", 9 };
	long n = sw_auth_percent_decode(s, out);

	ck_assert_int_eq(n, 5);
	ck_assert(!memcmp(out, "a-b/c", 5));
	s.p = "a%2";
	s.len = 3;
	ck_assert_int_eq(sw_auth_percent_decode(s, out), -1);
	s.p = "%zz";
	ck_assert_int_eq(sw_auth_percent_decode(s, out), -1);
}
END_TEST

START_TEST(test_names)
{
	ck_assert(sw_auth_is_token("X-API-Key"));
	ck_assert(!sw_auth_is_token("X API"));
	ck_assert(!sw_auth_is_token(""));
	ck_assert(sw_auth_is_label("alice@example.com"));
	ck_assert(!sw_auth_is_label("a\"b"));
	ck_assert(!sw_auth_is_label("a\nb"));
}
END_TEST

static Suite *parse_suite(void)
{
	Suite *s = suite_create("parse");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_base64);
	tcase_add_test(tc, test_query_remove);
	tcase_add_test(tc, test_percent);
	tcase_add_test(tc, test_names);
	suite_add_tcase(s, tc);
	return s;
}

SW_TEST_SUITE(parse_suite);
