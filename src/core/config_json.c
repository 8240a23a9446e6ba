/* SPDX-License-Identifier: MIT */
/* config_json.c - the config's JSON reader: json-c with the loader's rules, errors at line and column. */
#include <config.h>     /* autoconf's, from the build dir (not core/config.h) */

#include <limits.h>
#include <stdlib.h>
#include <json-c/json.h>
#include "core/config.h"
#include "core/diag.h"

/* 1-based line and column (in characters, as editors count) of byte off. */
static void position(const char *text, size_t off, int *line, int *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)text[i] & 0xC0) != 0x80) {
			(*col)++;
		}
	}
}

static void syntax_error(struct sw_diag *d, const char *text, size_t off, const char *what)
{
	int line, col;

	position(text, off, &line, &col);
	sw_diag_error_at(d, line, col, "JSON syntax error: %s", what);
}

/* Skips whitespace and comments after the value; returns where data resumes. */
static size_t skip_trailing(const char *text, size_t i, size_t len)
{
	while (i < len) {
		if (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n') {
			i++;
		} else if (text[i] == '/' && i + 1 < len && text[i + 1] == '/') {
			while (i < len && text[i] != '\n')
				i++;
		} else if (text[i] == '/' && i + 1 < len && text[i + 1] == '*') {
			const char *end = NULL;
			for (size_t j = i + 2; j + 1 < len && !end; j++)
				if (text[j] == '*' && text[j + 1] == '/')
					end = text + j;
			if (!end)
				return i;
			i = (size_t)(end - text) + 2;
		} else {
			return i;
		}
	}
	return len;
}

/*
 * Where a block comment left open at the end of text starts, or len.  json-c
 * waits for more input there even after a complete document.
 */
static size_t open_comment(const char *text, size_t len)
{
	size_t start = len;
	char quote = 0;

	for (size_t i = 0; i < len; i++) {
		char c = text[i];
		if (start < len) {
			if (c == '*' && i + 1 < len && text[i + 1] == '/') {
				start = len;
				i++;
			}
		} else if (quote) {
			if (c == '\\')
				i++;
			else if (c == quote)
				quote = 0;
		} else if (c == '"' || c == '\'') {
			quote = c;      /* json-c also takes single-quoted strings */
		} else if (c == '/' && i + 1 < len && text[i + 1] == '/') {
			while (i + 1 < len && text[i + 1] != '\n')
				i++;
		} else if (c == '/' && i + 1 < len && text[i + 1] == '*') {
			start = i++;
		}
	}
	return start;
}

json_object *sw_config_tokenize(const char *text, size_t len, struct sw_diag *d)
{
	struct json_tokener *tok = json_tokener_new();

	if (!tok)
		abort();        /* json-c's allocation failed: as fatal as sw_malloc's */
	if (len >= INT_MAX) {
		json_tokener_free(tok);
		sw_diag_error(d, NULL, "too large");
		return NULL;
	}
	/* Strings reach JSON answers and files: bytes that are not UTF-8 would make them invalid. */
	json_tokener_set_flags(tok, JSON_TOKENER_VALIDATE_UTF8);
	json_object *root = json_tokener_parse_ex(tok, text, (int)len);
	enum json_tokener_error err = json_tokener_get_error(tok);
	size_t end = json_tokener_get_parse_end(tok);
	if (err == json_tokener_continue) {
		/* A NUL ends a bare top-level number or reports the truncated document. */
		root = json_tokener_parse_ex(tok, "", 1);
		err = json_tokener_get_error(tok);
		end = len;
	}
	json_tokener_free(tok);
	if (err != json_tokener_success) {
		syntax_error(d, text, end, json_tokener_error_desc(err));
		return NULL;
	}
	if (end == len && (end = open_comment(text, len)) < len) {
		syntax_error(d, text, end, "unterminated comment");
		json_object_put(root);
		return NULL;
	}
	size_t junk = skip_trailing(text, end, len);
	if (junk < len) {
		syntax_error(d, text, junk, "unexpected data after the top-level value");
		json_object_put(root);
		return NULL;
	}
	if (!json_object_is_type(root, json_type_object)) {
		sw_diag_error(d, NULL, "top level: must be an object");
		json_object_put(root);
		return NULL;
	}
	return root;
}
