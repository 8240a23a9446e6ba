/* SPDX-License-Identifier: MIT */
/*
 * fuzz_fields.h - what the HTTP/1.1 request and response head fuzzers
 * both check of a parsed field: its views lie in the head, the name is
 * tchars followed by ':', the value has no control bytes and no OWS kept
 * at either end.  Header-only, like fuzz_common.h (include that first).
 */
#ifndef SW_FUZZ_FIELDS_H
#define SW_FUZZ_FIELDS_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include "core/str.h"

/* The same table as http1.c: RFC 9110 tchar. */
static inline bool is_tchar(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* s is a view into buf[0..len). */
static inline bool in_buf(struct sw_str s, const char *buf, size_t len)
{
	uintptr_t b = (uintptr_t)buf, p = (uintptr_t)s.p;

	return s.p != NULL && p >= b && s.len <= len && p - b <= len - s.len;
}

/* Field i (what: "header", "field") of the head buf[0..head_len). */
static inline void check_field(struct sw_str n, struct sw_str v, const char *buf,
			       size_t head_len, const char *what, unsigned i)
{
	CHECK(n.len > 0 && in_buf(n, buf, head_len), "%s %u name view", what, i);
	CHECK(v.len == 0 || in_buf(v, buf, head_len), "%s %u value view", what, i);
	for (size_t j = 0; j < n.len; j++)
		CHECK(is_tchar((uint8_t)n.p[j]), "%s %u name byte %zu", what, i, j);
	CHECK(n.p[n.len] == ':', "%s %u name not followed by ':'", what, i);
	for (size_t j = 0; j < v.len; j++) {
		uint8_t c = (uint8_t)v.p[j];
		CHECK(c == '\t' || (c >= 0x20 && c != 0x7f), "%s %u value byte %zu", what, i, j);
	}
	if (v.len)
		CHECK(v.p[0] != ' ' && v.p[0] != '\t' && v.p[v.len - 1] != ' ' &&
		      v.p[v.len - 1] != '\t', "%s %u value keeps its OWS", what, i);
}

#endif
