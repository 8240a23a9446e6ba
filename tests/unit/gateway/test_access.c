/* SPDX-License-Identifier: MIT */
/* test_access.c - the access policy's config check (src/gateway/access.c): errors and warnings with their paths. */
#include <config.h>

#include <check.h>
#include <string.h>
#include "check_main.h"
#include "gateway/gateway.h"
#include "gw_fixture.h"

static void *compile(const char *text)
{
	return GW_COMPILE(sw_policy_access.compile, text, "access");
}

/* The first message of any level, without "t.json: ". */
static const char *first(void)
{
	return gw_diag.count ? gw_diag.entries[0].text + strlen("t.json: ") : "";
}

static void refused(const char *text, const char *message)
{
	void *s = compile(text);

	ck_assert_msg(s == NULL, "%s compiled", text);
	ck_assert_str_eq(gw_error() + strlen("t.json: "), message);
}

START_TEST(test_valid)
{
	void *s = compile("{\"allow\": [\"10.0.0.0/8\", \"2001:db8::/32\", \"192.0.2.7\"],"
			  " \"deny\": [\"10.1.0.0/16\"], \"methods\": [\"GET\", \"POST\", \"GET\"]}");

	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(gw_diag.count, 0);
	sw_policy_access.release(s);
}
END_TEST

START_TEST(test_errors)
{
	refused("[]", "routes[0].access: must be an object (allow, deny, methods)");
	refused("{\"allow\": \"10.0.0.0/8\"}",
		"routes[0].access.allow: must be an array of CIDR blocks (\"10.0.0.0/8\", \"2001:db8::/32\")");
	refused("{\"deny\": [\"10.0.0.0/33\"]}",
		"routes[0].access.deny: [0]: \"10.0.0.0/33\" is not an IP address or CIDR block");
	refused("{\"deny\": [\"::1\", 7]}", "routes[0].access.deny: [1]: must be a string");
	refused("{\"methods\": []}", "routes[0].access.methods: must be a non-empty array of method names");
	refused("{\"methods\": [\"GET POST\"]}", "routes[0].access.methods: [0]: must be a method name (an HTTP token)");
	refused("{\"methods\": [\"\"]}", "routes[0].access.methods: [0]: must be a method name (an HTTP token)");
	/* a misspelt rule would leave the route open: an error, not a warning */
	refused("{\"alow\": [\"10.0.0.0/8\"]}",
		"routes[0].access.alow: unknown key (access takes allow, deny, methods)");
}
END_TEST

START_TEST(test_warnings)
{
	void *s;

	s = compile("{\"allow\": [\"10.1.2.3/8\"]}");
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(first(), "routes[0].access.allow: [0]: \"10.1.2.3/8\" has host bits set; the whole block counts");
	sw_policy_access.release(s);
	s = compile("{\"allow\": []}");
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(first(), "routes[0].access: allow is empty: every request gets 403");
	sw_policy_access.release(s);
	s = compile("{\"methods\": [\"get\"]}");
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(first(), "routes[0].access.methods: [0]: \"get\" has lower-case letters; methods are case-sensitive");
	sw_policy_access.release(s);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("access");
	TCase *tc = tcase_create("config");

	tcase_add_test(tc, test_valid);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_warnings);
	suite_add_tcase(s, tc);
	return s;
}

const struct sw_test_suite sw_test_suite = { suite, NULL, gw_fini };
