/* SPDX-License-Identifier: MIT */
/* test_json_body.c - request bodies as strict RFC 8259 JSON: what json-c alone would let through. */
#include <config.h>

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "gateway/json_body.h"
#include "check_main.h"

static bool parses(const char *text, size_t len)
{
	struct json_object *j = NULL;
	const char *why = NULL;
	size_t at = 0;
	bool ok = sw_json_body_parse(text, len, &j, &why, &at);

	if (ok)
		ck_assert_ptr_null(why);
	else
		ck_assert_ptr_nonnull(why);
	json_object_put(j);
	return ok;
}

#define OK(t) ck_assert_msg(parses(t, strlen(t)), "refused: %s", t)
#define BAD(t) ck_assert_msg(!parses(t, strlen(t)), "accepted: %s", t)

START_TEST(test_accepts)
{
	OK("{}");
	OK("[]");
	OK(" {\"a\" : [1, -2.5e+3, 0, 0.5, true, false, null, \"x\\u00e9\\n\\\"\"]}\r\n");
	OK("1");
	OK("-0");
	OK("1E9");
	OK("null");
	OK("\"\\ud83d\\ude00\"");
	OK("\"h\xc3\xa9\"");
}
END_TEST

START_TEST(test_refuses)
{
	BAD("");
	BAD("   ");
	BAD("{'a':1}");          /* json-c takes single quotes even when strict */
	BAD("NaN");
	BAD("Infinity");
	BAD("-Infinity");
	BAD("1.");
	BAD(".5");
	BAD("01");
	BAD("+1");
	BAD("1e");
	BAD("/*c*/{}");
	BAD("{} // c");
	BAD("{\"a\":1,}");
	BAD("[1,]");
	BAD("[1 2]");
	BAD("{\"a\" 1}");
	BAD("{a:1}");
	BAD("{\"a\":1}{}");
	BAD("[1] x");
	BAD("\"tab\there\"");
	BAD("\"\\x41\"");
	BAD("\"\\u12\"");
	BAD("\"open");
	BAD("tru");
	BAD("nul");
	BAD("[");
	BAD("\"\xc3\"");         /* cut UTF-8 */
	BAD("\"\xff\"");
}
END_TEST

/* A NUL byte inside the body is data, not its end. */
START_TEST(test_nul_byte)
{
	ck_assert(!parses("{}\0{}", 5));
	ck_assert(!parses("\"a\0b\"", 5));
	ck_assert(parses("\"a\\u0000b\"", 10));
}
END_TEST

START_TEST(test_depth)
{
	char deep[300];

	memset(deep, '[', 100);
	memset(deep + 100, ']', 100);
	ck_assert(!parses(deep, 200));
	ck_assert(parses(deep + 90, 20));
}
END_TEST

START_TEST(test_reason_and_offset)
{
	struct json_object *j;
	const char *why;
	size_t at;

	ck_assert(!sw_json_body_parse("{\"a\": tru}", 10, &j, &why, &at));
	ck_assert_str_eq(why, "unexpected character");
	ck_assert_uint_eq(at, 6);
	ck_assert_ptr_null(j);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("json_body");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_accepts);
	tcase_add_test(tc, test_refuses);
	tcase_add_test(tc, test_nul_byte);
	tcase_add_test(tc, test_depth);
	tcase_add_test(tc, test_reason_and_offset);
	suite_add_tcase(s, tc);
	return s;
}

SW_TEST_SUITE(suite);
