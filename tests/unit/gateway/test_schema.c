/* SPDX-License-Identifier: MIT */
/* test_schema.c - the JSON Schema subset: each keyword passing and failing, instance paths, compile errors. */
#include <config.h>

#include <check.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/diag.h"
#include "gateway/json_body.h"
#include "gateway/schema.h"
#include "check_main.h"

static struct json_object *json(const char *text)
{
	struct json_object *j;
	const char *why = NULL;
	size_t at;

	ck_assert_msg(sw_json_body_parse(text, strlen(text), &j, &why, &at),
		      "bad JSON in test: %s: %s at %zu", text, why, at);
	return j;
}

static struct sw_schema *compile(const char *text)
{
	struct json_object *j = json(text);
	struct sw_diag d;
	struct sw_schema *s;

	sw_diag_init(&d, "t.json");
	s = sw_schema_compile(j, "routes[0].body_schema", &d);
	ck_assert_msg(s, "schema refused: %s: %s", text, sw_diag_first_error(&d) ? sw_diag_first_error(&d) : "");
	ck_assert_uint_eq(d.warnings, 0);
	sw_diag_deinit(&d);
	json_object_put(j);
	return s;
}

static struct sw_schema_error last;

/* Validates instance against schema; the failure, if any, stays in `last`. */
static bool valid(const char *schema, const char *instance)
{
	struct sw_schema *s = compile(schema);
	struct json_object *j = json(instance);
	bool ok = sw_schema_validate(s, j, &last);

	json_object_put(j);
	sw_schema_release(s);
	return ok;
}

static void fails(const char *schema, const char *instance, const char *pointer, const char *keyword)
{
	ck_assert_msg(!valid(schema, instance), "%s accepted %s", schema, instance);
	ck_assert_str_eq(last.pointer, pointer);
	ck_assert_str_eq(last.keyword, keyword);
	ck_assert(last.message[0]);
}

/* The first error (or warning, when none) a schema gets, without "t.json: ". */
static char diag_text[512];
static const char *compile_error(const char *text, bool *compiled)
{
	struct json_object *j = json(text);
	struct sw_diag d;
	struct sw_schema *s;

	sw_diag_init(&d, "t.json");
	s = sw_schema_compile(j, "routes[1].body_schema", &d);
	*compiled = s != NULL;
	diag_text[0] = '\0';
	if (d.count)
		snprintf(diag_text, sizeof(diag_text), "%s", d.entries[0].text + strlen("t.json: "));
	sw_schema_release(s);
	sw_diag_deinit(&d);
	json_object_put(j);
	return diag_text;
}

static void refused(const char *schema, const char *message)
{
	bool compiled;
	const char *text = compile_error(schema, &compiled);

	ck_assert_msg(!compiled, "%s compiled", schema);
	ck_assert_str_eq(text, message);
}

START_TEST(test_type)
{
	ck_assert(valid("{\"type\":\"string\"}", "\"x\""));
	fails("{\"type\":\"string\"}", "1", "", "type");
	ck_assert(valid("{\"type\":\"integer\"}", "3"));
	ck_assert(valid("{\"type\":\"integer\"}", "3.0"));   /* 2020-12: a zero fraction is an integer */
	fails("{\"type\":\"integer\"}", "3.5", "", "type");
	ck_assert(valid("{\"type\":\"number\"}", "3.5"));
	ck_assert(valid("{\"type\":\"number\"}", "3"));
	fails("{\"type\":\"number\"}", "\"3\"", "", "type");
	ck_assert(valid("{\"type\":\"null\"}", "null"));
	fails("{\"type\":\"null\"}", "false", "", "type");
	ck_assert(valid("{\"type\":\"boolean\"}", "false"));
	fails("{\"type\":\"boolean\"}", "0", "", "type");
	ck_assert(valid("{\"type\":\"object\"}", "{}"));
	fails("{\"type\":\"object\"}", "[]", "", "type");
	ck_assert(valid("{\"type\":\"array\"}", "[]"));
	fails("{\"type\":\"array\"}", "{}", "", "type");
	ck_assert(valid("{\"type\":[\"string\",\"null\"]}", "null"));
	ck_assert(valid("{\"type\":[\"string\",\"null\"]}", "\"a\""));
	fails("{\"type\":[\"string\",\"null\"]}", "1", "", "type");
	ck_assert(valid("{}", "[1,{\"a\":null}]"));
}
END_TEST

START_TEST(test_properties_required)
{
	const char *s = "{\"type\":\"object\",\"required\":[\"name\",\"age\"],"
			"\"properties\":{\"name\":{\"type\":\"string\"},\"age\":{\"type\":\"integer\",\"minimum\":0},"
			"\"tags\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}}}}";

	ck_assert(valid(s, "{\"name\":\"a\",\"age\":1}"));
	ck_assert(valid(s, "{\"name\":\"a\",\"age\":1,\"other\":[true]}"));   /* additional allowed by default */
	fails(s, "{\"name\":\"a\"}", "", "required");
	ck_assert(strstr(last.message, "\"age\""));
	fails(s, "{\"name\":1,\"age\":1}", "/name", "type");
	fails(s, "{\"name\":\"a\",\"age\":-1}", "/age", "minimum");
	fails(s, "{\"name\":\"a\",\"age\":1,\"tags\":[\"x\",2]}", "/tags/1", "type");
	/* properties and required only judge objects */
	ck_assert(valid("{\"required\":[\"a\"],\"properties\":{\"a\":{\"type\":\"string\"}}}", "[]"));
}
END_TEST

START_TEST(test_additional)
{
	const char *closed = "{\"properties\":{\"a\":{}},\"additionalProperties\":false}";
	const char *typed = "{\"properties\":{\"a\":{}},\"additionalProperties\":{\"type\":\"integer\"}}";

	ck_assert(valid(closed, "{\"a\":1}"));
	fails(closed, "{\"a\":1,\"b\":2}", "/b", "additionalProperties");
	ck_assert(valid(typed, "{\"a\":\"x\",\"b\":2,\"c\":3}"));
	fails(typed, "{\"a\":\"x\",\"b\":2,\"c\":\"3\"}", "/c", "type");
	ck_assert(valid("{\"additionalProperties\":true}", "{\"x\":1}"));
}
END_TEST

START_TEST(test_items)
{
	const char *s = "{\"type\":\"object\",\"properties\":{\"items\":{\"type\":\"array\",\"minItems\":1,"
			"\"maxItems\":3,\"items\":{\"type\":\"object\",\"required\":[\"name\"],"
			"\"properties\":{\"name\":{\"type\":\"string\",\"minLength\":1}}}}}}";

	ck_assert(valid(s, "{\"items\":[{\"name\":\"a\"}]}"));
	fails(s, "{\"items\":[{\"name\":\"a\"},{\"name\":\"b\"},{\"name\":\"\"}]}", "/items/2/name", "minLength");
	fails(s, "{\"items\":[]}", "/items", "minItems");
	fails(s, "{\"items\":[{\"name\":\"a\"},{\"name\":\"a\"},{\"name\":\"a\"},{\"name\":\"a\"}]}",
	      "/items", "maxItems");
	fails(s, "{\"items\":[{\"name\":\"a\"},{}]}", "/items/1", "required");
	ck_assert(valid("{\"items\":false}", "[]"));
	fails("{\"items\":false}", "[0]", "/0", "false");
}
END_TEST

START_TEST(test_lengths_code_points)
{
	/* "héllo" is 5 characters in 6 bytes; "😀" 1 character in 4 */
	ck_assert(valid("{\"maxLength\":5}", "\"h\\u00e9llo\""));
	fails("{\"maxLength\":4}", "\"h\\u00e9llo\"", "", "maxLength");
	ck_assert(valid("{\"minLength\":5}", "\"h\\u00e9llo\""));
	fails("{\"minLength\":6}", "\"h\\u00e9llo\"", "", "minLength");
	ck_assert(valid("{\"maxLength\":1}", "\"\\ud83d\\ude00\""));
	fails("{\"minLength\":2}", "\"\\ud83d\\ude00\"", "", "minLength");
	ck_assert(valid("{\"minLength\":2.0}", "\"ab\""));
	ck_assert(valid("{\"minLength\":5}", "7"));   /* only strings */
}
END_TEST

START_TEST(test_pattern)
{
	ck_assert(valid("{\"pattern\":\"b+\"}", "\"abbc\""));   /* unanchored */
	fails("{\"pattern\":\"^b+$\"}", "\"abbc\"", "", "pattern");
	ck_assert(valid("{\"pattern\":\"^[0-9]{3}-[[:alpha:]]+$\"}", "\"123-abc\""));
	fails("{\"pattern\":\"^[0-9]{3}-[[:alpha:]]+$\"}", "\"12-abc\"", "", "pattern");
	/* a NUL inside the string does not end it: "$" is only at the real end */
	fails("{\"pattern\":\"^a$\"}", "\"a\\u0000b\"", "", "pattern");
	ck_assert(valid("{\"pattern\":\"b$\"}", "\"a\\u0000b\""));
	ck_assert(valid("{\"pattern\":\"^x\"}", "1"));
}
END_TEST

START_TEST(test_bounds)
{
	ck_assert(valid("{\"minimum\":1,\"maximum\":2}", "1"));
	ck_assert(valid("{\"minimum\":1,\"maximum\":2}", "2.0"));
	fails("{\"minimum\":1}", "0.999", "", "minimum");
	fails("{\"maximum\":2}", "2.001", "", "maximum");
	ck_assert(valid("{\"exclusiveMinimum\":1}", "1.5"));
	fails("{\"exclusiveMinimum\":1}", "1", "", "exclusiveMinimum");
	fails("{\"exclusiveMaximum\":1.5}", "1.5", "", "exclusiveMaximum");
	ck_assert(valid("{\"exclusiveMaximum\":1.5}", "1"));
	/* integers past 2^53 compare exactly, not rounded through a double */
	fails("{\"maximum\":9007199254740992}", "9007199254740993", "", "maximum");
	ck_assert(valid("{\"minimum\":-5}", "\"text\""));
}
END_TEST

START_TEST(test_enum_const)
{
	const char *e = "{\"enum\":[\"red\",1,null,{\"a\":[1,2]}]}";

	ck_assert(valid(e, "\"red\""));
	ck_assert(valid(e, "1.0"));   /* numbers by value */
	ck_assert(valid(e, "null"));
	ck_assert(valid(e, "{\"a\":[1,2]}"));
	fails(e, "{\"a\":[2,1]}", "", "enum");
	fails(e, "\"Red\"", "", "enum");
	fails(e, "true", "", "enum");
	ck_assert(valid("{\"const\":{\"x\":1,\"y\":\"z\"}}", "{\"y\":\"z\",\"x\":1}"));   /* key order */
	fails("{\"const\":{\"x\":1}}", "{\"x\":1,\"y\":2}", "", "const");
	ck_assert(valid("{\"const\":null}", "null"));
	fails("{\"const\":null}", "0", "", "const");
	fails("{\"const\":\"a\"}", "\"a\\u0000\"", "", "const");
}
END_TEST

START_TEST(test_boolean_schemas)
{
	ck_assert(valid("true", "{\"anything\":[1]}"));
	fails("false", "{}", "", "false");
	fails("{\"properties\":{\"gone\":false}}", "{\"gone\":1}", "/gone", "false");
}
END_TEST

/* RFC 6901: '~' is written "~0" and '/' "~1" in a pointer. */
START_TEST(test_pointer_escapes)
{
	fails("{\"additionalProperties\":{\"type\":\"string\"}}", "{\"a/b~c\":1}", "/a~1b~0c", "type");
}
END_TEST

START_TEST(test_pointer_cut)
{
	char schema[8192] = "", inst[8192] = "", key[64];
	size_t depth = 30;

	memset(key, 'k', 40);
	key[40] = '\0';
	for (size_t i = 0; i < depth; i++) {
		strcat(schema, "{\"additionalProperties\":");
		strcat(inst, "{\"");
		strcat(inst, key);
		strcat(inst, "\":");
	}
	strcat(schema, "{\"type\":\"string\"}");
	strcat(inst, "1");
	for (size_t i = 0; i < depth; i++) {
		strcat(schema, "}");
		strcat(inst, "}");
	}
	ck_assert(!valid(schema, inst));
	ck_assert_uint_eq(strlen(last.pointer), sizeof(last.pointer) - 1);
	ck_assert_str_eq(last.pointer + strlen(last.pointer) - 3, "...");
	ck_assert_str_eq(last.keyword, "type");
}
END_TEST

static bool utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		size_t n = *p < 0x80 ? 1 : *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : *p >= 0xc0 ? 2 : 0;
		if (!n)
			return false;
		for (size_t i = 1; i < n; i++)
			if ((p[i] & 0xc0) != 0x80)
				return false;
		p += n;
	}
	return true;
}

/* A pointer cut inside a three-byte character drops the whole character: the answer stays UTF-8. */
START_TEST(test_pointer_cut_utf8)
{
	char schema[8192] = "", inst[16384] = "", key[256] = "";

	for (int i = 0; i < 40; i++)
		strcat(key, "\xe2\x82\xac");   /* U+20AC, 3 bytes */
	for (int i = 0; i < 4; i++) {
		strcat(schema, "{\"additionalProperties\":");
		strcat(inst, "{\"");
		strcat(inst, key);
		strcat(inst, "\":");
	}
	strcat(schema, "false");
	strcat(inst, "1");
	for (int i = 0; i < 4; i++) {
		strcat(schema, "}");
		strcat(inst, "}");
	}
	for (int shift = 0; shift < 3; shift++) {
		ck_assert(!valid(schema, inst));
		ck_assert_str_eq(last.pointer + strlen(last.pointer) - 3, "...");
		ck_assert_msg(utf8_valid(last.pointer), "cut inside a character: %s", last.pointer);
		memmove(inst + 3, inst + 2, strlen(inst + 2) + 1);   /* one more byte before the keys */
		inst[2] = 'a';
	}
}
END_TEST

START_TEST(test_compile_errors)
{
	refused("{\"properties\":{\"age\":{\"minimum\":\"0\"}}}",
		"routes[1].body_schema.properties.age.minimum: must be a number");
	refused("{\"type\":\"text\"}",
		"routes[1].body_schema.type: unknown type \"text\" (expected null, boolean, object, array, number, string or integer)");
	refused("{\"type\":[\"string\",3]}",
		"routes[1].body_schema.type: [1]: not a type name (expected null, boolean, object, array, number, string or integer)");
	refused("{\"type\":[]}", "routes[1].body_schema.type: must be a type name or a non-empty array of them");
	refused("{\"items\":{\"pattern\":\"(\"}}",
		"routes[1].body_schema.items.pattern: \"(\" is not a POSIX extended regular expression: Unmatched ( or \\(");
	refused("{\"pattern\":\"^\\\\d+$\"}",
		"routes[1].body_schema.pattern: \"\\d\" is not POSIX ERE (glibc would read it as a plain 'd'); use a bracket expression such as [0-9] or [[:digit:]]");
	refused("{\"minLength\":-1}", "routes[1].body_schema.minLength: must be a non-negative integer");
	refused("{\"maxItems\":1.5}", "routes[1].body_schema.maxItems: must be a non-negative integer");
	refused("{\"required\":\"name\"}", "routes[1].body_schema.required: must be an array of property names");
	refused("{\"required\":[\"a\",1]}", "routes[1].body_schema.required: [1]: must be a string");
	refused("{\"properties\":[]}", "routes[1].body_schema.properties: must be an object of schemas");
	refused("{\"properties\":{\"a\":3}}",
		"routes[1].body_schema.properties.a: must be a schema (an object or true/false)");
	refused("{\"additionalProperties\":\"no\"}",
		"routes[1].body_schema.additionalProperties: must be a schema (an object or true/false)");
	refused("{\"items\":[{}]}", "routes[1].body_schema.items: must be a schema (an object or true/false)");
	refused("{\"enum\":[]}", "routes[1].body_schema.enum: must be a non-empty array");
	refused("[]", "routes[1].body_schema: must be a schema (an object or true/false)");
	refused("{\"anyOf\":[{}]}",
		"routes[1].body_schema.anyOf: not supported by swerver's JSON Schema subset (it would not be enforced)");
	refused("{\"properties\":{\"a\":{\"$ref\":\"#/$defs/x\"}}}",
		"routes[1].body_schema.properties.a.$ref: not supported by swerver's JSON Schema subset (it would not be enforced)");
}
END_TEST

/* Every error is reported, not only the first. */
START_TEST(test_compile_all_errors)
{
	struct json_object *j = json("{\"minimum\":\"a\",\"properties\":{\"x\":{\"type\":\"y\"}},\"pattern\":1}");
	struct sw_diag d;

	sw_diag_init(&d, "t.json");
	ck_assert_ptr_null(sw_schema_compile(j, "b", &d));
	ck_assert_uint_eq(d.errors, 3);
	sw_diag_deinit(&d);
	json_object_put(j);
}
END_TEST

START_TEST(test_compile_warnings)
{
	bool compiled;

	ck_assert_str_eq(compile_error("{\"minimun\":1}", &compiled),
			 "routes[1].body_schema.minimun: unknown JSON Schema keyword, ignored");
	ck_assert(compiled);
	/* annotations are silent */
	ck_assert_str_eq(compile_error("{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\","
				       "\"title\":\"t\",\"description\":\"d\",\"format\":\"email\",\"examples\":[1]}",
				       &compiled), "");
	ck_assert(compiled);
}
END_TEST

START_TEST(test_no_error_out)
{
	struct sw_schema *s = compile("{\"type\":\"string\"}");
	struct json_object *j = json("1");

	ck_assert(!sw_schema_validate(s, j, NULL));
	json_object_put(j);
	sw_schema_release(s);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("schema");
	TCase *kw = tcase_create("keywords");
	TCase *cc = tcase_create("compile");

	tcase_add_test(kw, test_type);
	tcase_add_test(kw, test_properties_required);
	tcase_add_test(kw, test_additional);
	tcase_add_test(kw, test_items);
	tcase_add_test(kw, test_lengths_code_points);
	tcase_add_test(kw, test_pattern);
	tcase_add_test(kw, test_bounds);
	tcase_add_test(kw, test_enum_const);
	tcase_add_test(kw, test_boolean_schemas);
	tcase_add_test(kw, test_pointer_escapes);
	tcase_add_test(kw, test_pointer_cut);
	tcase_add_test(kw, test_pointer_cut_utf8);
	tcase_add_test(kw, test_no_error_out);
	tcase_add_test(cc, test_compile_errors);
	tcase_add_test(cc, test_compile_all_errors);
	tcase_add_test(cc, test_compile_warnings);
	suite_add_tcase(s, kw);
	suite_add_tcase(s, cc);
	return s;
}

SW_TEST_SUITE(suite);
