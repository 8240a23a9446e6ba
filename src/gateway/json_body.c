/* SPDX-License-Identifier: MIT */
/* json_body.c - strict RFC 8259 syntax check in front of json-c, which then builds the value. */
#include <config.h>

#include <limits.h>
#include <string.h>
#include "gateway/json_body.h"

/* Deeper than json-c's own limit (32), which therefore reports it first. */
#define MAX_DEPTH 64

struct scan {
	const char *p, *end, *start;
	const char *why;
};

static bool bad(struct scan *s, const char *why)
{
	if (!s->why)
		s->why = why;
	return false;
}

static void ws(struct scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

static bool digits(struct scan *s)
{
	const char *from = s->p;

	while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
		s->p++;
	return s->p > from;
}

static bool number(struct scan *s)
{
	if (s->p < s->end && *s->p == '-')
		s->p++;
	if (s->p < s->end && *s->p == '0')
		s->p++;
	else if (!digits(s))
		return bad(s, "malformed number");
	if (s->p < s->end && *s->p == '.') {
		s->p++;
		if (!digits(s))
			return bad(s, "malformed number");
	}
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
		s->p++;
		if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
			s->p++;
		if (!digits(s))
			return bad(s, "malformed number");
	}
	return true;
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool string(struct scan *s)
{
	for (s->p++; s->p < s->end; s->p++) {
		unsigned char c = (unsigned char)*s->p;
		if (c == '"') {
			s->p++;
			return true;
		}
		if (c < 0x20)
			return bad(s, "control character in a string");
		if (c != '\\')
			continue;
		if (++s->p >= s->end)
			break;
		if (*s->p == 'u') {
			if (s->end - s->p < 5 || !is_hex(s->p[1]) || !is_hex(s->p[2]) ||
			    !is_hex(s->p[3]) || !is_hex(s->p[4]))
				return bad(s, "malformed \\u escape");
			s->p += 4;
		} else if (*s->p == '\0' || !strchr("\"\\/bfnrt", *s->p)) {
			return bad(s, "unknown escape");
		}
	}
	return bad(s, "unterminated string");
}

static bool literal(struct scan *s, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
		return bad(s, "unexpected character");
	s->p += n;
	return true;
}

static bool value(struct scan *s, int depth);

/* Members or elements up to `close`; objects have "name": before each value. */
static bool members(struct scan *s, int depth, char close, bool named)
{
	s->p++;
	ws(s);
	if (s->p < s->end && *s->p == close) {
		s->p++;
		return true;
	}
	for (;;) {
		if (named) {
			if (s->p >= s->end || *s->p != '"')
				return bad(s, "expected a member name");
			if (!string(s))
				return false;
			ws(s);
			if (s->p >= s->end || *s->p != ':')
				return bad(s, "expected ':'");
			s->p++;
		}
		if (!value(s, depth + 1))
			return false;
		ws(s);
		if (s->p < s->end && *s->p == ',') {
			s->p++;
			ws(s);
			continue;
		}
		if (s->p < s->end && *s->p == close) {
			s->p++;
			return true;
		}
		return bad(s, s->p < s->end ? "expected ',' or a closing bracket" : "unexpected end of data");
	}
}

static bool value(struct scan *s, int depth)
{
	if (depth > MAX_DEPTH)
		return bad(s, "nested too deeply");
	ws(s);
	if (s->p >= s->end)
		return bad(s, "unexpected end of data");
	switch (*s->p) {
	case '{': return members(s, depth, '}', true);
	case '[': return members(s, depth, ']', false);
	case '"': return string(s);
	case 't': return literal(s, "true");
	case 'f': return literal(s, "false");
	case 'n': return literal(s, "null");
	default:
		if (*s->p == '-' || (*s->p >= '0' && *s->p <= '9'))
			return number(s);
		return bad(s, "unexpected character");
	}
}

bool sw_json_body_parse(const char *data, size_t len, struct json_object **out,
			const char **why, size_t *offset)
{
	struct scan s = { .p = data, .end = data + len, .start = data };
	struct json_tokener *tok;
	enum json_tokener_error err;

	*out = NULL;
	if (len >= INT_MAX) {
		*why = "too large";
		*offset = 0;
		return false;
	}
	if (value(&s, 0)) {
		ws(&s);
		if (s.p < s.end)
			bad(&s, "unexpected data after the value");
	}
	if (s.why) {
		*why = s.why;
		*offset = (size_t)(s.p - s.start);
		return false;
	}
	tok = json_tokener_new();
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	*out = json_tokener_parse_ex(tok, data, (int)len);
	err = json_tokener_get_error(tok);
	if (err == json_tokener_continue) {
		/* a bare top-level number ends only at a terminator */
		*out = json_tokener_parse_ex(tok, "", 1);
		err = json_tokener_get_error(tok);
	}
	*offset = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (err != json_tokener_success) {
		json_object_put(*out);
		*out = NULL;
		*why = json_tokener_error_desc(err);
		return false;
	}
	return true;
}
