/* SPDX-License-Identifier: MIT */
/* test_api_key.c - src/auth/api_key.c: keys by header or query, sha256 keys, what is stripped. */
#include <config.h>

#include "fixture.h"
#include "check_main.h"

/* sha256("s3cret-bob") */
#define BOB_SHA "082581a032f2325b8e195d6eb60081399d7a684b10caae724d153acea9d61fd3"

static struct sw_auth_node *keys(void)
{
	char err[512];
	struct sw_auth_node *n = fx_compile(
		"{\"api_key\": {\"keys\": [{\"name\": \"alice\", \"key\": \"s3cret-alice\"},"
		" {\"name\": \"bob\", \"key_sha256\": \"" BOB_SHA "\"}]}}", err, sizeof(err));
	ck_assert_msg(n != NULL, "%s", err);
	return n;
}

START_TEST(test_header_key)
{
	struct sw_auth_node *n = keys();
	struct fx f;
	struct sw_auth_result r;

	fx_init(&f, "/p");
	fx_header(&f, "x-api-key", "s3cret-alice");
	r = fx_check(n, &f);
	ck_assert_int_eq(r.outcome, SW_AUTH_OK);
	ck_assert_str_eq(r.consumer, "alice");
	ck_assert_str_eq(f.stripped_header, "X-API-Key");
	sw_auth_node_release(n);
}
END_TEST

START_TEST(test_wrong_and_near_keys)
{
	static const char *const bad[] = { "s3cret-alicE", "s3cret-alic", "s3cret-alice ", "", "x" };
	struct sw_auth_node *n = keys();

	for (size_t i = 0; i < SW_ARRAY_SIZE(bad); i++) {
		struct fx f;
		struct sw_auth_result r;
		fx_init(&f, "/p");
		fx_header(&f, "X-API-Key", bad[i]);
		r = fx_check(n, &f);
		ck_assert_int_eq(r.outcome, SW_AUTH_FAIL);
		ck_assert_str_eq(r.reason, "unknown_key");
		ck_assert_int_eq(r.status, 401);
		ck_assert_str_eq(f.stripped_header, "");
	}
	sw_auth_node_release(n);
}
END_TEST

START_TEST(test_sha256_key)
{
	struct sw_auth_node *n = keys();
	struct fx f;
	struct sw_auth_result r;

	fx_init(&f, "/p");
	fx_header(&f, "X-API-Key", "s3cret-bob");
	r = fx_check(n, &f);
	ck_assert_int_eq(r.outcome, SW_AUTH_OK);
	ck_assert_str_eq(r.consumer, "bob");
	/* the digest itself is not a key */
	fx_init(&f, "/p");
	fx_header(&f, "X-API-Key", BOB_SHA);
	ck_assert_int_eq(fx_check(n, &f).outcome, SW_AUTH_FAIL);
	sw_auth_node_release(n);
}
END_TEST

START_TEST(test_query_key)
{
	struct sw_auth_node *n = keys();
	struct fx f;
	struct sw_auth_result r;

	fx_init(&f, "/p?a=1&api_key=s3cret%2Dbob&b=2");
	r = fx_check(n, &f);
	ck_assert_int_eq(r.outcome, SW_AUTH_OK);
	ck_assert_str_eq(r.consumer, "bob");
	ck_assert_str_eq(f.stripped_param, "api_key");
	fx_init(&f, "/p?xapi_key=s3cret-bob&api_keyx=s3cret-bob");
	r = fx_check(n, &f);
	ck_assert_int_eq(r.outcome, SW_AUTH_ABSENT);
	sw_auth_node_release(n);
}
END_TEST

START_TEST(test_absent)
{
	struct sw_auth_node *n = keys();
	struct fx f;

	fx_init(&f, "/p?x=1");
	fx_header(&f, "Authorization", "Bearer abc");
	ck_assert_int_eq(fx_check(n, &f).outcome, SW_AUTH_ABSENT);
	sw_auth_node_release(n);
}
END_TEST

START_TEST(test_custom_names)
{
	char err[512];
	struct sw_auth_node *n = fx_compile(
		"{\"api_key\": {\"header\": \"X-Token\", \"query\": null,"
		" \"keys\": [{\"name\": \"alice\", \"key\": \"k1\"}]}}", err, sizeof(err));
	struct fx f;

	ck_assert_msg(n != NULL, "%s", err);
	fx_init(&f, "/p?api_key=k1");
	ck_assert_int_eq(fx_check(n, &f).outcome, SW_AUTH_ABSENT);
	fx_init(&f, "/p");
	fx_header(&f, "X-API-Key", "k1");
	ck_assert_int_eq(fx_check(n, &f).outcome, SW_AUTH_ABSENT);
	fx_init(&f, "/p");
	fx_header(&f, "X-Token", "k1");
	ck_assert_int_eq(fx_check(n, &f).outcome, SW_AUTH_OK);
	ck_assert_str_eq(f.stripped_header, "X-Token");
	sw_auth_node_release(n);
}
END_TEST

static void refused(const char *json, const char *expect)
{
	char err[512];

	ck_assert_msg(fx_compile(json, err, sizeof(err)) == NULL, "accepted: %s", json);
	ck_assert_msg(strstr(err, expect) != NULL, "error \"%s\" lacks \"%s\"", err, expect);
}

START_TEST(test_config_errors)
{
	refused("{\"api_key\": {}}", "routes[0].auth.api_key: keys: required");
	refused("{\"api_key\": {\"keys\": [{\"name\": \"a\"}]}}",
		"routes[0].auth.api_key.keys[0]: exactly one of key and key_sha256");
	refused("{\"api_key\": {\"keys\": [{\"name\": \"a\", \"key\": \"k\", \"key_sha256\": \"" BOB_SHA "\"}]}}",
		"exactly one of key and key_sha256");
	refused("{\"api_key\": {\"keys\": [{\"name\": \"a\", \"key_sha256\": \"abcd\"}]}}",
		"keys[0]: key_sha256: must be 64 hex digits");
	refused("{\"api_key\": {\"keys\": [{\"name\": \"a\", \"key\": \"k\"}, {\"name\": \"a\", \"key\": \"l\"}]}}",
		"keys[1]: name: \"a\" is already used by keys[0]");
	refused("{\"api_key\": {\"keys\": [{\"name\": \"a\", \"key\": \"k\"}, {\"name\": \"b\", \"key\": \"k\"}]}}",
		"keys[1]: the same key as \"a\"");
	refused("{\"api_key\": {\"keys\": [{\"name\": \"a b\", \"key\": \"k\"}]}}", "name: required, printable");
	refused("{\"api_key\": {\"header\": \"X Key\", \"keys\": [{\"name\": \"a\", \"key\": \"k\"}]}}",
		"header: must be a valid header name");
	refused("{\"api_key\": {\"header\": null, \"query\": null, \"keys\": [{\"name\": \"a\", \"key\": \"k\"}]}}",
		"could come from nowhere");
	refused("{\"api_keys\": {}}", "routes[0].auth: api_keys: not an auth method");
	refused("{\"api_key\": {\"keys\": [{\"name\": \"a\", \"key\": \"k\"}]}, \"anonymous\": {}}",
		"one method per object");
}
END_TEST

static Suite *api_key_suite(void)
{
	Suite *s = suite_create("api_key");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_header_key);
	tcase_add_test(tc, test_wrong_and_near_keys);
	tcase_add_test(tc, test_sha256_key);
	tcase_add_test(tc, test_query_key);
	tcase_add_test(tc, test_absent);
	tcase_add_test(tc, test_custom_names);
	tcase_add_test(tc, test_config_errors);
	suite_add_tcase(s, tc);
	return s;
}

SW_TEST_SUITE(api_key_suite);
