/* SPDX-License-Identifier: MIT */
/* test_body_schema.c - the body_schema policy's config check (src/gateway/body_schema.c): both forms, options, paths. */
#include <config.h>

#include <check.h>
#include <string.h>
#include "check_main.h"
#include "gateway/gateway.h"
#include "gw_fixture.h"

static void *compile(const char *text)
{
	return GW_COMPILE(sw_policy_body_schema.compile, text, "body_schema");
}

static void refused(const char *text, const char *message)
{
	void *s = compile(text);

	ck_assert_msg(s == NULL, "%s compiled", text);
	ck_assert_str_eq(gw_error() + strlen("t.json: "), message);
}

static void accepted(const char *text)
{
	void *s = compile(text);

	ck_assert_msg(s != NULL, "%s: %s", text, gw_error());
	ck_assert_uint_eq(gw_diag.count, 0);
	sw_policy_body_schema.release(s);
}

START_TEST(test_forms)
{
	accepted("{\"type\": \"object\", \"required\": [\"a\"]}");   /* the schema itself */
	accepted("true");
	accepted("{\"schema\": {\"type\": \"array\"}}");
	accepted("{\"schema\": false, \"content_types\": [\"application/json\", \"+json\", \"Text/X-JSON\"],"
		 " \"require_json\": false}");
}
END_TEST

START_TEST(test_errors)
{
	/* the schema's own errors carry its path in either form */
	refused("{\"properties\": {\"age\": {\"minimum\": \"0\"}}}",
		"routes[0].body_schema.properties.age.minimum: must be a number");
	refused("{\"schema\": {\"properties\": {\"age\": {\"minimum\": \"0\"}}}}",
		"routes[0].body_schema.schema.properties.age.minimum: must be a number");
	refused("[]", "routes[0].body_schema: must be a schema (an object or true/false)");
	/* with "schema", the other keys are options, and only those */
	refused("{\"schema\": {}, \"type\": \"object\"}",
		"routes[0].body_schema.type: unknown key (with \"schema\", body_schema takes schema, content_types, require_json)");
	refused("{\"schema\": {}, \"require_json\": \"yes\"}", "routes[0].body_schema.require_json: must be true or false");
	refused("{\"schema\": {}, \"content_types\": []}",
		"routes[0].body_schema.content_types: must be a non-empty array of media types (\"application/json\", \"+json\")");
	static const char *const bad_types[] = { "\"json\"", "\"application/*\"", "\"*/*\"",
						 "\"application/json; charset=utf-8\"", "\"+\"", "\"a/b/c\"", "1" };
	for (size_t i = 0; i < sizeof(bad_types) / sizeof(bad_types[0]); i++) {
		char text[256];
		snprintf(text, sizeof(text), "{\"schema\": {}, \"content_types\": [%s]}", bad_types[i]);
		refused(text, "routes[0].body_schema.content_types: [0]: must be \"type/subtype\" or a \"+suffix\" "
			"(no parameters, no wildcards)");
	}
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("body_schema");
	TCase *tc = tcase_create("config");

	tcase_add_test(tc, test_forms);
	tcase_add_test(tc, test_errors);
	suite_add_tcase(s, tc);
	return s;
}

const struct sw_test_suite sw_test_suite = { suite, NULL, gw_fini };
