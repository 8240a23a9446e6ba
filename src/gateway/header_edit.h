/* SPDX-License-Identifier: MIT */
/* header_edit.h - set/add/remove lists of header fields, compiled from the config and applied to a response. */
#ifndef SW_GATEWAY_HEADER_EDIT_H
#define SW_GATEWAY_HEADER_EDIT_H

#include <stdbool.h>
#include <stddef.h>
#include "core/diag.h"
#include "http/exchange.h"

struct json_object;

struct sw_field_cfg {
	char *name;
	char *value;
};

/*
 * What an edit does, in this order: every field named in `remove` goes,
 * every `set` field replaces all of its name, every `add` field is
 * appended (after whatever is already there).
 */
struct sw_header_edits {
	char **remove;
	size_t remove_count;
	struct sw_field_cfg *set;
	size_t set_count;
	struct sw_field_cfg *add;
	size_t add_count;
};

/*
 * out = base followed by the formatted suffix (".name", "[3]"): the key
 * path a config error names.  Truncated to size.
 */
void sw_key_path(char *out, size_t size, const char *base, const char *fmt, ...) sw_printf(4, 5);

/* A field name is an RFC 9110 token. */
bool sw_field_name_valid(const char *s);
/*
 * A field value: no CR, LF, NUL or other control byte but HTAB, no
 * leading or trailing whitespace (RFC 9110 5.5); may be empty.
 */
bool sw_field_value_valid(const char *s, size_t len);

/*
 * Compiles the "set", "add" and "remove" keys of obj (other keys are the
 * caller's) into e; names in `forbidden` (lower case, NULL-terminated)
 * are refused: fields the codec or the proxy owns.  Errors go to diag
 * with their key path (path.set[0].name); false if there was one.
 */
bool sw_header_edits_compile(struct sw_header_edits *e, struct json_object *obj,
			     const char *path, const char *const *forbidden,
			     struct sw_diag *diag);
/* Appends a field to the set list (presets); the strings are copied. */
void sw_header_edits_set(struct sw_header_edits *e, const char *name, const char *value);
/* Whether the set list already names name (case-insensitive). */
bool sw_header_edits_sets(const struct sw_header_edits *e, const char *name);
void sw_header_edits_release(struct sw_header_edits *e);

/* Removes every field named name from r. */
void sw_response_remove_header(struct sw_response *r, const char *name);
/*
 * Applies e to r.  The compiled strings stay in r: e must outlive the
 * send.  A full field array drops what does not fit (logged once).
 */
void sw_header_edits_apply(const struct sw_header_edits *e, struct sw_response *r);

#endif
