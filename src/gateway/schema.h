/* SPDX-License-Identifier: MIT */
/* schema.h - a JSON Schema (draft 2020-12) subset, compiled once, checked against json-c values. */
#ifndef SW_GATEWAY_SCHEMA_H
#define SW_GATEWAY_SCHEMA_H

#include <stdbool.h>
#include <json-c/json.h>

struct sw_diag;
struct sw_schema;

/*
 * Compiles a schema (an object, or true/false).  Keywords: type (a name or
 * an array of names; "integer" includes 1.0), properties, required,
 * additionalProperties (bool or schema), items, minItems, maxItems,
 * minLength, maxLength (code points), pattern (POSIX ERE, unanchored,
 * bytes of UTF-8), minimum, maximum, exclusiveMinimum, exclusiveMaximum,
 * enum, const.  Annotations (title, description, $schema, format, ...) are
 * ignored; an assertion of 2020-12 outside the subset ($ref, anyOf,
 * multipleOf, ...) is an error, since accepting it would let through what
 * the author meant to refuse; any other unknown key is a warning.  Errors
 * name their key path below `path` ("routes[1].body_schema.properties.age.
 * minimum: must be a number").  NULL when an error was found.
 */
struct sw_schema *sw_schema_compile(struct json_object *schema, const char *path,
				    struct sw_diag *diag);
void sw_schema_release(struct sw_schema *s);

/* Where and why an instance failed. */
struct sw_schema_error {
	char pointer[256];     /* JSON Pointer to the failing value ("" = the root), cut with "..." */
	const char *keyword;   /* "minLength", "type", ... */
	char message[160];
};

/* True when the instance is valid; otherwise the first failure found goes to *err. */
bool sw_schema_validate(const struct sw_schema *s, struct json_object *instance,
			struct sw_schema_error *err);

#endif
