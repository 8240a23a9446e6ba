/* SPDX-License-Identifier: MIT */
/* test_config_policy.c - the policy slot of routes[] and the top level: keys checked with their paths, copied and compared, secrets redacted and refused. */
#include <check.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include "core/config_secret.h"
#include "config_fixture.h"
#include "check_main.h"

/* ---- the policy slot (routes[] and the top level) ---- */

#define ROUTE_WITH(extra) "{\"upstreams\": [" UPSTREAM_API "], \"routes\": [{\"path_prefix\": \"/\"," \
	" \"upstream\": \"api\"" extra "}]}"

START_TEST(policy_keys_checked_with_paths)
{
	fake_compiled = 0;
	ck_clean(ROUTE_WITH(", \"fake\": {\"n\": 1}"));
	ck_assert_int_eq(fake_compiled, 1);                /* checked at load */
	ck_assert_uint_eq(sw_proxy_config(&cfg)->routes[0].policies.count, 1);
	ck_assert_str_eq(sw_proxy_config(&cfg)->routes[0].policies.v[0].policy->key, "fake");
	ck_only_error(ROUTE_WITH(", \"fake\": {\"n\": -1}"), "t.json: routes[0].fake.n: must be an integer >= 0");
	ck_only_error(ROUTE_WITH(", \"fake\": 3"), "t.json: routes[0].fake: must be an object");
	ck_only_error("{\"route_only\": {\"n\": 1}}",
		      "t.json: route_only: allowed only in routes[], not at the top level");
	ck_only_error("{\"fake\": {\"n\": \"x\"}}", "t.json: fake.n: must be an integer >= 0");
	/* Unknown keys stay warnings, inside a policy's object too. */
	ck_assert_int_eq(parse(ROUTE_WITH(", \"nope\": 1, \"fake\": {\"n\": 0, \"m\": 1}")), SW_OK);
	ck_warning("t.json: routes[0].nope: unknown key");
	ck_warning("t.json: routes[0].fake.m: unknown key");
}
END_TEST

START_TEST(policy_keys_copied_and_compared)
{
	struct sw_config copy, next;
	struct sw_diag d2;
	const char *changed = ROUTE_WITH(", \"fake\": {\"n\": 2}");

	ck_clean(ROUTE_WITH(", \"fake\": {\"n\": 1}"));
	sw_config_copy(&copy, &cfg);
	ck_assert_uint_eq(sw_config_compare(&cfg, &copy), SW_CFG_SAME);
	ck_assert_ptr_eq(sw_proxy_config(&copy)->routes[0].policies.v[0].value, sw_proxy_config(&cfg)->routes[0].policies.v[0].value);
	sw_diag_init(&d2, "t2.json");
	ck_assert_int_eq(sw_config_parse(&next, changed, strlen(changed), &d2), SW_OK);
	/* A policy's value changes in place: workers rebuild their state. */
	ck_assert_uint_eq(sw_config_compare(&copy, &next), SW_CFG_VALUES);
	sw_config_deinit(&copy);        /* the values are shared: one reference each */
	ck_assert_uint_eq(sw_config_compare(&cfg, &cfg), SW_CFG_SAME);
	sw_config_deinit(&next);
	sw_diag_deinit(&d2);
}
END_TEST

/* sw_secret_redacted: every value at a secret key name, at any depth, on a copy. */
START_TEST(secret_redacted_at_any_depth)
{
	static const char *const names[] = { "pw", "key", NULL };
	json_object *v = json_tokener_parse("{\"pw\": \"a\", \"x\": [{\"key\": \"b\", \"k\": \"c\"}, 3],"
					    " \"o\": {\"pw\": {\"deep\": 1}, \"pwx\": \"d\"}}");
	json_object *r = sw_secret_redacted(v, names);

	ck_assert_str_eq(json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN),
			 "{\"pw\":\"<redacted>\",\"x\":[{\"key\":\"<redacted>\",\"k\":\"c\"},3],"
			 "\"o\":{\"pw\":\"<redacted>\",\"pwx\":\"d\"}}");
	/* the original (what persist writes) keeps its values */
	ck_assert_str_eq(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN),
			 "{\"pw\":\"a\",\"x\":[{\"key\":\"b\",\"k\":\"c\"},3],\"o\":{\"pw\":{\"deep\":1},\"pwx\":\"d\"}}");
	json_object_put(r);
	r = sw_secret_redacted(v, NULL);
	ck_assert_ptr_eq(r, v);
	json_object_put(r);
	json_object_put(v);
}
END_TEST

/* A policy's secrets: redacted in redacted JSON only; the placeholder is refused with its path. */
START_TEST(policy_secrets_redacted_and_refused)
{
	char *json;

	ck_clean(ROUTE_WITH(", \"fake\": {\"n\": 1, \"extra\": [{\"pw\": \"hunter2\"}]}"));
	json = sw_config_to_json(&cfg, true);
	ck_assert_ptr_null(strstr(json, "hunter2"));
	ck_assert_ptr_nonnull(strstr(json, "\"pw\": \"<redacted>\""));
	free(json);
	json = sw_config_to_json(&cfg, false);
	ck_assert_ptr_nonnull(strstr(json, "\"pw\": \"hunter2\""));
	free(json);
	ck_only_error(ROUTE_WITH(", \"fake\": {\"n\": 1, \"extra\": [{\"pw\": \"<redacted>\"}]}"),
		      "t.json: routes[0].fake.extra[0].pw: \"<redacted>\" is how the admin API shows a "
		      "secret, not one: send the real value");
}
END_TEST


static Suite *config_policy_suite(void)
{
	const struct config_case cases[] = {
		{ "policy", policy_keys_checked_with_paths }, { "policy", policy_keys_copied_and_compared },
		{ "policy", secret_redacted_at_any_depth }, { "policy", policy_secrets_redacted_and_refused },
	};

	return config_cases_suite("config_policy", cases, sizeof(cases) / sizeof(cases[0]));
}

SW_TEST_SUITE(config_policy_suite);
