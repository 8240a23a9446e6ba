/* SPDX-License-Identifier: MIT */
/*
 * fuzz_body.c - libFuzzer target for what body_schema does with a request
 * body: strict JSON parsing (src/gateway/json_body.c) and validation
 * against a compiled schema (src/gateway/schema.c).  The input is
 * "SCHEMA\0BODY": the text before the first NUL is compiled as a schema
 * (when json-c reads it), the rest is the body; without a NUL the whole
 * input is a body checked against a fixed schema that uses every keyword.
 *
 * Checked: a body the strict scan accepts is accepted by json-c alone as
 * well (the scan only ever narrows json-c); a compiled schema validates
 * without crashing, a failure names a keyword, and its JSON Pointer is ""
 * or starts with '/', fits its buffer and is valid UTF-8 (it goes into a
 * JSON answer).  A schema that does not compile has an error naming its
 * path.  ASan and UBSan watch the rest.
 */
#include <config.h>

#define FUZZ_NAME "fuzz_body"
#include "fuzz_common.h"
#include <string.h>
#include "core/diag.h"
#include "gateway/json_body.h"
#include "gateway/schema.h"

static const char fixed[] =
	"{\"type\": [\"object\", \"array\"], \"required\": [\"a\"], \"additionalProperties\": "
	"{\"type\": \"string\", \"pattern\": \"^[a-z]+$\", \"minLength\": 1, \"maxLength\": 4}, "
	"\"properties\": {\"a\": {\"enum\": [1, \"x\", null, {\"k\": [true]}]}, "
	"\"b\": {\"type\": \"array\", \"minItems\": 1, \"maxItems\": 3, \"items\": {\"type\": \"integer\", "
	"\"minimum\": -5, \"exclusiveMaximum\": 1e3}}, \"c\": {\"const\": {\"x\": [1.5, \"y\"]}}, "
	"\"d\": false, \"e\": {\"type\": \"number\", \"maximum\": 2, \"exclusiveMinimum\": -2.5}}, "
	"\"items\": {\"additionalProperties\": false}}";

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

static struct sw_schema *compile(const char *text, size_t len)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *j;
	struct sw_schema *s = NULL;
	struct sw_diag d;

	/* as the config reader does: its strings are UTF-8 */
	json_tokener_set_flags(tok, JSON_TOKENER_VALIDATE_UTF8);
	j = json_tokener_parse_ex(tok, text, (int)len);
	if (json_tokener_get_error(tok) == json_tokener_continue)
		j = json_tokener_parse_ex(tok, "", 1);
	if (json_tokener_get_error(tok) == json_tokener_success) {
		sw_diag_init(&d, "fuzz");
		s = sw_schema_compile(j, "body_schema", &d);
		CHECK(s || d.errors > 0, "a refused schema has no error");
		for (size_t i = 0; i < d.count; i++)
			CHECK(strncmp(d.entries[i].text, "fuzz: body_schema", 17) == 0,
			      "a message without its path: %s", d.entries[i].text);
		sw_diag_deinit(&d);
	}
	json_object_put(j);
	json_tokener_free(tok);
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data, *nul = memchr(text, '\0', size);
	const char *body = nul ? nul + 1 : text;
	size_t blen = nul ? size - (size_t)(body - text) : size, at;
	struct sw_schema *s = nul ? compile(text, (size_t)(nul - text)) : compile(fixed, strlen(fixed));
	struct sw_schema_error err;
	struct json_object *j;
	const char *why;

	if (sw_json_body_parse(body, blen, &j, &why, &at)) {
		struct json_tokener *tok = json_tokener_new();
		json_object_put(json_tokener_parse_ex(tok, body, (int)blen));
		if (json_tokener_get_error(tok) == json_tokener_continue)
			json_object_put(json_tokener_parse_ex(tok, "", 1));
		CHECK(json_tokener_get_error(tok) == json_tokener_success,
		      "accepted by the strict scan, refused by json-c: %s",
		      json_tokener_error_desc(json_tokener_get_error(tok)));
		json_tokener_free(tok);
		if (s && !sw_schema_validate(s, j, &err)) {
			CHECK(err.keyword && err.message[0], "a failure without a keyword or message");
			CHECK(err.pointer[0] == '\0' || err.pointer[0] == '/', "pointer \"%s\"", err.pointer);
			CHECK(strlen(err.pointer) < sizeof(err.pointer), "pointer overflow");
			CHECK(utf8_valid(err.pointer) && utf8_valid(err.message),
			      "not UTF-8: \"%s\" \"%s\"", err.pointer, err.message);
		}
		json_object_put(j);
	} else {
		CHECK(why && at <= blen && !j, "a refusal without its reason (%zu of %zu)", at, blen);
	}
	sw_schema_release(s);
	return 0;
}
