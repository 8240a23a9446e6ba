/* SPDX-License-Identifier: MIT */
/* test_forward_auth.c - src/auth/forward_auth.c: what its config accepts and refuses (the exchange side is test_auth's). */
#include <config.h>

#include "core/module.h"
#include "fixture.h"
#include "check_main.h"

/* forward_auth's subrequest is the proxy's: without it the method is refused at load. */
START_TEST(test_needs_proxy)
{
	char err[512];

	ck_assert_ptr_null(fx_compile("{\"forward_auth\": {\"upstream\": \"auth\"}}", err, sizeof(err)));
	ck_assert_msg(strstr(err, "needs a build with the proxy (--enable-proxy)") != NULL, "%s", err);
}
END_TEST

static void refused(const char *json, const char *expect)
{
	char err[512];

	ck_assert_msg(fx_compile(json, err, sizeof(err)) == NULL, "accepted: %s", json);
	ck_assert_msg(strstr(err, expect) != NULL, "error \"%s\" lacks \"%s\"", err, expect);
}

START_TEST(test_accepted)
{
	char err[512];
	struct sw_auth_node *n = fx_compile(
		"{\"forward_auth\": {\"upstream\": \"auth\", \"path\": \"/verify?x=1\", \"timeout_ms\": 500,"
		" \"request_headers\": [\"Authorization\", \"X-Tenant\"], \"response_headers\": [\"X-User-Id\"],"
		" \"consumer_header\": null, \"max_body_bytes\": 0}}", err, sizeof(err));

	ck_assert_msg(n != NULL, "%s", err);
	ck_assert_str_eq(n->m->name, "forward_auth");
	ck_assert_ptr_nonnull(n->m->cancel);
	sw_auth_node_release(n);
	n = fx_compile("{\"forward_auth\": {\"upstream\": \"auth\"}}", err, sizeof(err));
	ck_assert_msg(n != NULL, "%s", err);
	sw_auth_node_release(n);
}
END_TEST

START_TEST(test_refused)
{
	refused("{\"forward_auth\": {}}", "routes[0].auth.forward_auth: upstream: required");
	refused("{\"forward_auth\": {\"upstream\": \"a\", \"path\": \"verify\"}}", "path: must start with '/'");
	refused("{\"forward_auth\": {\"upstream\": \"a\", \"path\": \"/a b\"}}", "path: must start with '/'");
	refused("{\"forward_auth\": {\"upstream\": \"a\", \"timeout_ms\": 0}}", "timeout_ms: must be an integer from 1 to 60000");
	refused("{\"forward_auth\": {\"upstream\": \"a\", \"max_body_bytes\": 70000}}", "max_body_bytes: must be an integer from 0 to 65536");
	refused("{\"forward_auth\": {\"upstream\": \"a\", \"request_headers\": [\"X A\"]}}",
		"request_headers[0]: must be a valid field name");
	refused("{\"forward_auth\": {\"upstream\": \"a\", \"response_headers\": \"X-User\"}}",
		"response_headers: must be an array");
	refused("{\"forward_auth\": {\"upstream\": \"a\", \"consumer_header\": 5}}", "consumer_header: must be a field name or null");
	/* its answer comes after a chain has moved on */
	refused("{\"chain\": [{\"forward_auth\": {\"upstream\": \"a\"}}, {\"anonymous\": {}}]}",
		"routes[0].auth.chain[0]: forward_auth decides alone: it cannot be part of a chain");
}
END_TEST

static Suite *forward_auth_suite(void)
{
	Suite *s = suite_create("forward_auth");
	TCase *tc = tcase_create("core");

	if (sw_module_find("proxy")) {
		tcase_add_test(tc, test_accepted);
		tcase_add_test(tc, test_refused);
	} else {
		tcase_add_test(tc, test_needs_proxy);
	}
	suite_add_tcase(s, tc);
	return s;
}

SW_TEST_SUITE(forward_auth_suite);
