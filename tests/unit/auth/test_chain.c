/* SPDX-License-Identifier: MIT */
/* test_chain.c - src/auth/chain.c: order, first success, no anonymous after a bad credential, depth. */
#include <config.h>

#include "fixture.h"
#include "check_main.h"

#define KEYS(name, key) "{\"api_key\": {\"keys\": [{\"name\": \"" name "\", \"key\": \"" key "\"}]}}"

static struct sw_auth_node *chain(const char *members)
{
	char json[1024], err[512];
	struct sw_auth_node *n;

	snprintf(json, sizeof(json), "{\"chain\": [%s]}", members);
	n = fx_compile(json, err, sizeof(err));
	ck_assert_msg(n != NULL, "%s", err);
	return n;
}

START_TEST(test_order_first_success)
{
	/* the same key in both: the first member names the consumer */
	struct sw_auth_node *n = chain(KEYS("first", "k") ", " KEYS("second", "k"));
	struct fx f;
	struct sw_auth_result r;

	fx_init(&f, "/p");
	fx_header(&f, "X-API-Key", "k");
	r = fx_check(n, &f);
	ck_assert_int_eq(r.outcome, SW_AUTH_OK);
	ck_assert_str_eq(r.consumer, "first");
	sw_auth_node_release(n);
}
END_TEST

START_TEST(test_later_member)
{
	struct sw_auth_node *n = chain(KEYS("a", "ka") ", " KEYS("b", "kb") ", {\"anonymous\": {\"consumer\": \"guest\"}}");
	struct fx f;
	struct sw_auth_result r;

	fx_init(&f, "/p");
	fx_header(&f, "X-API-Key", "kb");
	r = fx_check(n, &f);
	ck_assert_int_eq(r.outcome, SW_AUTH_OK);
	ck_assert_str_eq(r.consumer, "b");
	/* nothing presented: anonymous */
	fx_init(&f, "/p");
	r = fx_check(n, &f);
	ck_assert_int_eq(r.outcome, SW_AUTH_OK);
	ck_assert_str_eq(r.consumer, "guest");
	/* a wrong key is refused, never anonymous */
	fx_init(&f, "/p");
	fx_header(&f, "X-API-Key", "nope");
	r = fx_check(n, &f);
	ck_assert_int_eq(r.outcome, SW_AUTH_FAIL);
	ck_assert_str_eq(r.reason, "unknown_key");
	ck_assert_str_eq(r.method, "api_key");
	sw_auth_node_release(n);
}
END_TEST

START_TEST(test_all_absent)
{
	struct sw_auth_node *n = chain(KEYS("a", "ka") ", " KEYS("b", "kb"));
	struct fx f;
	struct sw_auth_result r;

	fx_init(&f, "/p");
	r = fx_check(n, &f);
	ck_assert_int_eq(r.outcome, SW_AUTH_ABSENT);
	ck_assert_str_eq(r.reason, "missing");
	sw_auth_node_release(n);
}
END_TEST

static void refused(const char *json, const char *expect)
{
	char err[512];

	ck_assert_msg(fx_compile(json, err, sizeof(err)) == NULL, "accepted: %s", json);
	ck_assert_msg(strstr(err, expect) != NULL, "error \"%s\" lacks \"%s\"", err, expect);
}

START_TEST(test_depth_and_errors)
{
	char err[512];
	struct sw_auth_node *n;

	/* depth 3 is fine, 4 is not */
	n = fx_compile("{\"chain\": [{\"chain\": [{\"chain\": [" KEYS("a", "k") "]}]}]}", err, sizeof(err));
	ck_assert_msg(n != NULL, "%s", err);
	sw_auth_node_release(n);
	refused("{\"chain\": [{\"chain\": [{\"chain\": [{\"chain\": [" KEYS("a", "k") "]}]}]}]}",
		"routes[0].auth.chain[0].chain[0].chain[0].chain: chains nest at most 3 deep");
	refused("{\"chain\": []}", "routes[0].auth.chain: must be a non-empty array");
	refused("{\"chain\": [{\"anonymous\": {}}, " KEYS("a", "k") "]}",
		"routes[0].auth.chain[0]: anonymous lets every request through: it must come last");
	refused("{\"chain\": [" KEYS("a", "k") ", {\"api_key\": {}}]}", "routes[0].auth.chain[1].api_key: keys");
	refused("{\"anonymous\": {\"consumer\": \"a\\\"b\"}}", "routes[0].auth.anonymous: consumer");
}
END_TEST

START_TEST(test_anonymous_alone)
{
	char err[512];
	struct sw_auth_node *n = fx_compile("{\"anonymous\": \"visitor\"}", err, sizeof(err));
	struct fx f;

	ck_assert_msg(n != NULL, "%s", err);
	fx_init(&f, "/p");
	ck_assert_str_eq(fx_check(n, &f).consumer, "visitor");
	sw_auth_node_release(n);
}
END_TEST

static Suite *chain_suite(void)
{
	Suite *s = suite_create("chain");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_order_first_success);
	tcase_add_test(tc, test_later_member);
	tcase_add_test(tc, test_all_absent);
	tcase_add_test(tc, test_depth_and_errors);
	tcase_add_test(tc, test_anonymous_alone);
	suite_add_tcase(s, tc);
	return s;
}

SW_TEST_SUITE(chain_suite);
