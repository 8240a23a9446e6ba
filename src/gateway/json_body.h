/* SPDX-License-Identifier: MIT */
/* json_body.h - a request body parsed as strict RFC 8259 JSON, for policies that inspect it. */
#ifndef SW_GATEWAY_JSON_BODY_H
#define SW_GATEWAY_JSON_BODY_H

#include <stdbool.h>
#include <stddef.h>
#include <json-c/json.h>

/*
 * Parses exactly one JSON value (surrounding whitespace allowed) into *out
 * (NULL for `null`).  Strict where json-c is lenient even in its strict
 * mode: single-quoted strings, NaN/Infinity, "1.", comments, leading zeros
 * and raw control characters are refused, so a body this accepts means
 * the same to any RFC 8259 parser upstream.  Strings must be UTF-8.  On
 * false, *why says what is wrong and *offset where (bytes).
 */
bool sw_json_body_parse(const char *data, size_t len, struct json_object **out,
			const char **why, size_t *offset);

#endif
