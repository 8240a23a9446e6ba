/* SPDX-License-Identifier: MIT */
/* schema.c - compiles the JSON Schema subset of schema.h into a tree and validates json-c values against it. */
#include <config.h>

#include <limits.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/common.h"
#include "core/diag.h"
#include "gateway/schema.h"
#include "gateway/utf8.h"

enum {
	T_NULL = 1, T_BOOLEAN = 2, T_OBJECT = 4, T_ARRAY = 8,
	T_NUMBER = 16, T_STRING = 32, T_INTEGER = 64,
};

static const struct {
	const char *name;
	unsigned bit;
} type_names[] = {
	{ "null", T_NULL }, { "boolean", T_BOOLEAN }, { "object", T_OBJECT },
	{ "array", T_ARRAY }, { "number", T_NUMBER }, { "string", T_STRING },
	{ "integer", T_INTEGER },
};

struct prop {
	char *name;
	struct sw_schema *schema;
};

struct bound {
	bool set;
	long double v;
};

struct sw_schema {
	bool reject;                      /* the schema `false` */
	unsigned types;                   /* T_* bits; 0 = any */
	struct prop *props;               /* sorted by name, for bsearch */
	size_t nprops;
	char **required;
	size_t nrequired;
	bool no_additional;               /* additionalProperties: false */
	struct sw_schema *additional;     /* additionalProperties: {schema} */
	struct sw_schema *items;
	long long min_items, max_items, min_length, max_length;   /* -1 = unset */
	bool has_pattern;
	regex_t re;
	char *pattern;
	struct bound min, max, xmin, xmax;
	struct json_object *enum_vals;    /* a reference to the config's array */
	struct json_object *const_val;
	bool has_const;
};

/* ---- compiling ---- */

struct cc {
	struct sw_diag *diag;
	bool failed;
};

static void cc_error(struct cc *c, const char *path, const char *fmt, ...) sw_printf(3, 4);
static void cc_error(struct cc *c, const char *path, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sw_diag_error(c->diag, path, "%s", msg);
	c->failed = true;
}

static char *subpath(const char *path, const char *key)
{
	size_t n = strlen(path) + strlen(key) + 2;
	char *p = sw_malloc(n);

	snprintf(p, n, "%s%s%s", path, *path ? "." : "", key);
	return p;
}

static struct sw_schema *compile_node(struct cc *c, struct json_object *v, const char *path);

/* A whole number, without libm: doubles from 2^63 up have no fraction bits left. */
static bool whole(long double n)
{
	if (!isfinite(n))
		return false;
	if (n >= 9223372036854775808.0L || n <= -9223372036854775808.0L)
		return true;
	return n == (long double)(long long)n;
}

static bool as_number(struct json_object *v, long double *out)
{
	if (json_object_is_type(v, json_type_int)) {
		int64_t i = json_object_get_int64(v);
		/* json-c keeps values above INT64_MAX as uint64 */
		*out = i == INT64_MAX ? (long double)json_object_get_uint64(v) : (long double)i;
		return true;
	}
	if (json_object_is_type(v, json_type_double)) {
		*out = json_object_get_double(v);
		return true;
	}
	return false;
}

/* A count keyword (minLength, maxItems, ...): a non-negative integer; 2.0 counts as 2. */
static bool kw_count(struct cc *c, struct json_object *v, const char *path, long long *out)
{
	long double n;

	if (!as_number(v, &n) || n < 0 || !whole(n) || n > (long double)LLONG_MAX) {
		cc_error(c, path, "must be a non-negative integer");
		return false;
	}
	*out = (long long)n;
	return true;
}

static bool kw_bound(struct cc *c, struct json_object *v, const char *path, struct bound *b)
{
	if (!as_number(v, &b->v) || !isfinite(b->v)) {
		cc_error(c, path, "must be a number");
		return false;
	}
	b->set = true;
	return true;
}

static unsigned type_bit(const char *name)
{
	for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
		if (strcmp(type_names[i].name, name) == 0)
			return type_names[i].bit;
	return 0;
}

static const char type_list[] = "null, boolean, object, array, number, string or integer";

static void kw_type(struct cc *c, struct sw_schema *s, struct json_object *v, const char *path)
{
	if (json_object_is_type(v, json_type_string)) {
		s->types = type_bit(json_object_get_string(v));
		if (!s->types)
			cc_error(c, path, "unknown type \"%s\" (expected %s)", json_object_get_string(v), type_list);
		return;
	}
	if (!json_object_is_type(v, json_type_array) || json_object_array_length(v) == 0) {
		cc_error(c, path, "must be a type name or a non-empty array of them");
		return;
	}
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		struct json_object *e = json_object_array_get_idx(v, i);
		unsigned bit = json_object_is_type(e, json_type_string) ? type_bit(json_object_get_string(e)) : 0;
		if (!bit) {
			cc_error(c, path, "[%zu]: not a type name (expected %s)", i, type_list);
		} else if (s->types & bit) {
			cc_error(c, path, "[%zu]: \"%s\" appears twice", i, json_object_get_string(e));
		}
		s->types |= bit;
	}
}

static int prop_cmp(const void *a, const void *b)
{
	return strcmp(((const struct prop *)a)->name, ((const struct prop *)b)->name);
}

static void kw_properties(struct cc *c, struct sw_schema *s, struct json_object *v, const char *path)
{
	if (!json_object_is_type(v, json_type_object)) {
		cc_error(c, path, "must be an object of schemas");
		return;
	}
	s->props = sw_calloc((size_t)json_object_object_length(v) + 1, sizeof(*s->props));
	json_object_object_foreach(v, key, val) {
		char *p = subpath(path, key);
		struct sw_schema *sub = compile_node(c, val, p);
		free(p);
		if (!sub)
			continue;
		s->props[s->nprops].name = sw_strdup(key);
		s->props[s->nprops++].schema = sub;
	}
	qsort(s->props, s->nprops, sizeof(*s->props), prop_cmp);
}

static void kw_required(struct cc *c, struct sw_schema *s, struct json_object *v, const char *path)
{
	size_t n;

	if (!json_object_is_type(v, json_type_array)) {
		cc_error(c, path, "must be an array of property names");
		return;
	}
	n = json_object_array_length(v);
	s->required = sw_calloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(v, i);
		if (!json_object_is_type(e, json_type_string)) {
			cc_error(c, path, "[%zu]: must be a string", i);
			continue;
		}
		s->required[s->nrequired++] = sw_strdup(json_object_get_string(e));
	}
}

/* A subschema keyword whose value is a schema (object or boolean). */
static struct sw_schema *kw_schema(struct cc *c, struct json_object *v, const char *path)
{
	if (!json_object_is_type(v, json_type_object) && !json_object_is_type(v, json_type_boolean)) {
		cc_error(c, path, "must be a schema (an object or true/false)");
		return NULL;
	}
	return compile_node(c, v, path);
}

/*
 * `\d` and friends are Perl/ECMA classes, not POSIX: glibc's ERE takes
 * "\d" as a plain "d", which would silently accept the wrong strings.
 */
static const char *foreign_escape(const char *re)
{
	for (const char *p = re; *p; p++) {
		if (*p != '\\')
			continue;
		if (!p[1])
			return NULL;
		if (strchr("dDhHvVRNKXp", p[1]))
			return p;
		p++;
	}
	return NULL;
}

static void kw_pattern(struct cc *c, struct sw_schema *s, struct json_object *v, const char *path)
{
	const char *re, *bad;
	int rc;

	if (!json_object_is_type(v, json_type_string)) {
		cc_error(c, path, "must be a string (a POSIX extended regular expression)");
		return;
	}
	re = json_object_get_string(v);
	if ((bad = foreign_escape(re))) {
		cc_error(c, path, "\"\\%c\" is not POSIX ERE (glibc would read it as a plain '%c'); "
			 "use a bracket expression such as [0-9] or [[:digit:]]", bad[1], bad[1]);
		return;
	}
	rc = regcomp(&s->re, re, REG_EXTENDED | REG_NOSUB);
	if (rc != 0) {
		char why[128];
		regerror(rc, &s->re, why, sizeof(why));
		cc_error(c, path, "\"%s\" is not a POSIX extended regular expression: %s", re, why);
		return;
	}
	s->has_pattern = true;
	s->pattern = sw_strdup(re);
}

/* Keywords of 2020-12 this subset does not enforce: refused, not ignored. */
static const char *const unsupported[] = {
	"$ref", "$dynamicRef", "allOf", "anyOf", "oneOf", "not", "if", "then", "else",
	"dependentSchemas", "dependentRequired", "prefixItems", "contains", "minContains",
	"maxContains", "uniqueItems", "multipleOf", "minProperties", "maxProperties",
	"patternProperties", "propertyNames", "unevaluatedItems", "unevaluatedProperties",
};

/* Annotations and identifiers: they assert nothing, so ignoring them is exact. */
static const char *const annotations[] = {
	"$schema", "$id", "$anchor", "$dynamicAnchor", "$comment", "$vocabulary", "$defs",
	"title", "description", "default", "examples", "deprecated", "readOnly", "writeOnly",
	"format", "contentEncoding", "contentMediaType", "contentSchema",
};

static bool listed(const char *const *list, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], key) == 0)
			return true;
	return false;
}

#define LISTED(list, key) listed(list, sizeof(list) / sizeof(list[0]), key)

static void keyword(struct cc *c, struct sw_schema *s, const char *key, struct json_object *v,
		    const char *path)
{
	if (strcmp(key, "type") == 0)
		kw_type(c, s, v, path);
	else if (strcmp(key, "properties") == 0)
		kw_properties(c, s, v, path);
	else if (strcmp(key, "required") == 0)
		kw_required(c, s, v, path);
	else if (strcmp(key, "additionalProperties") == 0) {
		s->additional = kw_schema(c, v, path);
		if (s->additional && s->additional->reject) {
			sw_schema_release(s->additional);
			s->additional = NULL;
			s->no_additional = true;
		}
	} else if (strcmp(key, "items") == 0)
		s->items = kw_schema(c, v, path);
	else if (strcmp(key, "minItems") == 0)
		kw_count(c, v, path, &s->min_items);
	else if (strcmp(key, "maxItems") == 0)
		kw_count(c, v, path, &s->max_items);
	else if (strcmp(key, "minLength") == 0)
		kw_count(c, v, path, &s->min_length);
	else if (strcmp(key, "maxLength") == 0)
		kw_count(c, v, path, &s->max_length);
	else if (strcmp(key, "pattern") == 0)
		kw_pattern(c, s, v, path);
	else if (strcmp(key, "minimum") == 0)
		kw_bound(c, v, path, &s->min);
	else if (strcmp(key, "maximum") == 0)
		kw_bound(c, v, path, &s->max);
	else if (strcmp(key, "exclusiveMinimum") == 0)
		kw_bound(c, v, path, &s->xmin);
	else if (strcmp(key, "exclusiveMaximum") == 0)
		kw_bound(c, v, path, &s->xmax);
	else if (strcmp(key, "enum") == 0) {
		if (!json_object_is_type(v, json_type_array) || json_object_array_length(v) == 0)
			cc_error(c, path, "must be a non-empty array");
		else
			s->enum_vals = json_object_get(v);
	} else if (strcmp(key, "const") == 0) {
		s->const_val = json_object_get(v);
		s->has_const = true;
	} else if (LISTED(unsupported, key))
		cc_error(c, path, "not supported by swerver's JSON Schema subset (it would not be enforced)");
	else if (!LISTED(annotations, key))
		sw_diag_warn(c->diag, path, "unknown JSON Schema keyword, ignored");
}

static struct sw_schema *compile_node(struct cc *c, struct json_object *v, const char *path)
{
	struct sw_schema *s;
	bool before = c->failed;

	if (json_object_is_type(v, json_type_boolean)) {
		s = sw_calloc(1, sizeof(*s));
		s->reject = !json_object_get_boolean(v);
		s->min_items = s->max_items = s->min_length = s->max_length = -1;
		return s;
	}
	if (!json_object_is_type(v, json_type_object)) {
		cc_error(c, path, "must be a schema (an object or true/false)");
		return NULL;
	}
	s = sw_calloc(1, sizeof(*s));
	s->min_items = s->max_items = s->min_length = s->max_length = -1;
	c->failed = false;
	json_object_object_foreach(v, key, val) {
		char *p = subpath(path, key);
		keyword(c, s, key, val, p);
		free(p);
	}
	if (c->failed) {
		sw_schema_release(s);
		return NULL;
	}
	c->failed = before;
	return s;
}

struct sw_schema *sw_schema_compile(struct json_object *schema, const char *path,
				    struct sw_diag *diag)
{
	struct cc c = { .diag = diag, .failed = false };
	struct sw_schema *s = compile_node(&c, schema, path ? path : "");

	if (c.failed) {
		sw_schema_release(s);
		return NULL;
	}
	return s;
}

void sw_schema_release(struct sw_schema *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nprops; i++) {
		free(s->props[i].name);
		sw_schema_release(s->props[i].schema);
	}
	free(s->props);
	for (size_t i = 0; i < s->nrequired; i++)
		free(s->required[i]);
	free(s->required);
	sw_schema_release(s->additional);
	sw_schema_release(s->items);
	if (s->has_pattern)
		regfree(&s->re);
	free(s->pattern);
	json_object_put(s->enum_vals);
	json_object_put(s->const_val);
	free(s);
}

/* ---- validating ---- */

/* One step of the instance path, on the C stack: nothing is built unless something fails. */
struct frame {
	const struct frame *up;
	const char *key;     /* NULL: an array index */
	size_t idx;
};

struct vc {
	struct sw_schema_error *err;
};

/* The pointer being written; past its room it is cut, and "..." marks that. */
struct pbuf {
	char *p;
	size_t room, len;
	bool cut;
};

static void put(struct pbuf *b, const char *s, size_t n)
{
	if (b->cut)
		return;
	if (n > b->room - b->len) {
		n = b->room - b->len;
		b->cut = true;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

/* Appends the pointer of f (RFC 6901: '~' as "~0", '/' as "~1"). */
static void pointer_of(const struct frame *f, struct pbuf *b)
{
	char num[24];

	if (!f)
		return;
	pointer_of(f->up, b);
	put(b, "/", 1);
	if (!f->key) {
		snprintf(num, sizeof(num), "%zu", f->idx);
		put(b, num, strlen(num));
		return;
	}
	for (const char *k = f->key; *k && !b->cut; k++) {
		if (*k == '~')
			put(b, "~0", 2);
		else if (*k == '/')
			put(b, "~1", 2);
		else
			put(b, k, 1);
	}
}

static bool fail(struct vc *v, const struct frame *f, const char *keyword, const char *fmt, ...)
	sw_printf(4, 5);
static bool fail(struct vc *v, const struct frame *f, const char *keyword, const char *fmt, ...)
{
	struct sw_schema_error *e = v->err;
	struct pbuf b = { .p = e ? e->pointer : NULL, .room = sizeof(e->pointer) - 4 };
	va_list ap;

	if (!e)
		return false;
	pointer_of(f, &b);
	if (b.cut)
		b.len = sw_utf8_boundary(b.p, b.len);
	memcpy(b.p + b.len, b.cut ? "..." : "", b.cut ? 4 : 1);
	e->keyword = keyword;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	return false;
}

#define CLIP 100
/* A name or pattern quoted in a message: cut on a character boundary. */
static const char *clip(const char *s, char out[CLIP + 1])
{
	sw_utf8_clip(out, s, CLIP);
	return out;
}

static bool is_integer(struct json_object *j)
{
	long double n;

	if (json_object_is_type(j, json_type_int))
		return true;
	return as_number(j, &n) && whole(n);
}

static unsigned type_of(struct json_object *j)
{
	switch (json_object_get_type(j)) {
	case json_type_null: return T_NULL;
	case json_type_boolean: return T_BOOLEAN;
	case json_type_object: return T_OBJECT;
	case json_type_array: return T_ARRAY;
	case json_type_string: return T_STRING;
	case json_type_int: return T_NUMBER | T_INTEGER;
	case json_type_double: return is_integer(j) ? T_NUMBER | T_INTEGER : T_NUMBER;
	}
	return 0;
}

static const char *type_name(struct json_object *j)
{
	unsigned t = type_of(j);

	if (t & T_INTEGER)
		return "integer";
	for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
		if (type_names[i].bit == t)
			return type_names[i].name;
	return "?";
}

/* JSON equality: numbers by value (1 == 1.0), objects whatever their key order. */
static bool json_equal(struct json_object *a, struct json_object *b)
{
	long double x, y;

	if (as_number(a, &x) && as_number(b, &y))
		return x == y;
	if (json_object_get_type(a) != json_object_get_type(b))
		return false;
	switch (json_object_get_type(a)) {
	case json_type_null:
		return true;
	case json_type_boolean:
		return json_object_get_boolean(a) == json_object_get_boolean(b);
	case json_type_string:
		return json_object_get_string_len(a) == json_object_get_string_len(b) &&
		       memcmp(json_object_get_string(a), json_object_get_string(b),
			      (size_t)json_object_get_string_len(a)) == 0;
	case json_type_array:
		if (json_object_array_length(a) != json_object_array_length(b))
			return false;
		for (size_t i = 0; i < json_object_array_length(a); i++)
			if (!json_equal(json_object_array_get_idx(a, i), json_object_array_get_idx(b, i)))
				return false;
		return true;
	case json_type_object: {
		if (json_object_object_length(a) != json_object_object_length(b))
			return false;
		json_object_object_foreach(a, key, val) {
			struct json_object *other;
			if (!json_object_object_get_ex(b, key, &other) || !json_equal(val, other))
				return false;
		}
		return true;
	}
	default:
		return false;
	}
}

static size_t code_points(const char *s, size_t n)
{
	size_t count = 0;

	for (size_t i = 0; i < n; i++)
		count += ((unsigned char)s[i] & 0xc0) != 0x80;
	return count;
}

static bool check(struct vc *v, const struct sw_schema *s, struct json_object *j, const struct frame *f);

static bool check_string(struct vc *v, const struct sw_schema *s, struct json_object *j,
			 const struct frame *f)
{
	const char *str = json_object_get_string(j);
	size_t bytes = (size_t)json_object_get_string_len(j);
	size_t n = code_points(str, bytes);
	regmatch_t whole = { .rm_so = 0, .rm_eo = (regoff_t)bytes };
	char name[CLIP + 1];

	if (s->min_length >= 0 && n < (size_t)s->min_length)
		return fail(v, f, "minLength", "%zu characters, fewer than %lld", n, s->min_length);
	if (s->max_length >= 0 && n > (size_t)s->max_length)
		return fail(v, f, "maxLength", "%zu characters, more than %lld", n, s->max_length);
	/* REG_STARTEND: a "\u0000" inside the string must not end it early */
	if (s->has_pattern && regexec(&s->re, str, 1, &whole, REG_STARTEND) != 0)
		return fail(v, f, "pattern", "does not match \"%s\"", clip(s->pattern, name));
	return true;
}

static bool check_number(struct vc *v, const struct sw_schema *s, struct json_object *j,
			 const struct frame *f)
{
	long double n;

	as_number(j, &n);
	if (s->min.set && n < s->min.v)
		return fail(v, f, "minimum", "less than %Lg", s->min.v);
	if (s->max.set && n > s->max.v)
		return fail(v, f, "maximum", "greater than %Lg", s->max.v);
	if (s->xmin.set && n <= s->xmin.v)
		return fail(v, f, "exclusiveMinimum", "not greater than %Lg", s->xmin.v);
	if (s->xmax.set && n >= s->xmax.v)
		return fail(v, f, "exclusiveMaximum", "not less than %Lg", s->xmax.v);
	return true;
}

static bool check_array(struct vc *v, const struct sw_schema *s, struct json_object *j,
			const struct frame *f)
{
	size_t n = json_object_array_length(j);

	if (s->min_items >= 0 && n < (size_t)s->min_items)
		return fail(v, f, "minItems", "%zu items, fewer than %lld", n, s->min_items);
	if (s->max_items >= 0 && n > (size_t)s->max_items)
		return fail(v, f, "maxItems", "%zu items, more than %lld", n, s->max_items);
	if (!s->items)
		return true;
	for (size_t i = 0; i < n; i++) {
		struct frame sub = { .up = f, .key = NULL, .idx = i };
		if (!check(v, s->items, json_object_array_get_idx(j, i), &sub))
			return false;
	}
	return true;
}

static const struct sw_schema *property(const struct sw_schema *s, const char *name)
{
	struct prop key = { .name = (char *)name }, *p;

	if (!s->nprops)
		return NULL;
	p = bsearch(&key, s->props, s->nprops, sizeof(*s->props), prop_cmp);
	return p ? p->schema : NULL;
}

static bool check_object(struct vc *v, const struct sw_schema *s, struct json_object *j,
			 const struct frame *f)
{
	char name[CLIP + 1];

	for (size_t i = 0; i < s->nrequired; i++)
		if (!json_object_object_get_ex(j, s->required[i], NULL))
			return fail(v, f, "required", "\"%s\" is missing", clip(s->required[i], name));
	json_object_object_foreach(j, key, val) {
		struct frame sub = { .up = f, .key = key };
		const struct sw_schema *p = property(s, key);
		if (p) {
			if (!check(v, p, val, &sub))
				return false;
		} else if (s->no_additional) {
			return fail(v, &sub, "additionalProperties", "\"%s\" is not allowed", clip(key, name));
		} else if (s->additional && !check(v, s->additional, val, &sub)) {
			return false;
		}
	}
	return true;
}

static bool check(struct vc *v, const struct sw_schema *s, struct json_object *j, const struct frame *f)
{
	unsigned t = type_of(j);

	if (s->reject)
		return fail(v, f, "false", "no value is allowed here");
	if (s->types && !(s->types & t))
		return fail(v, f, "type", "%s is not allowed here", type_name(j));
	if (s->has_const && !json_equal(j, s->const_val))
		return fail(v, f, "const", "not the constant value");
	if (s->enum_vals) {
		size_t i, n = json_object_array_length(s->enum_vals);
		for (i = 0; i < n; i++)
			if (json_equal(j, json_object_array_get_idx(s->enum_vals, i)))
				break;
		if (i == n)
			return fail(v, f, "enum", "not one of the allowed values");
	}
	if (t & T_STRING)
		return check_string(v, s, j, f);
	if (t & T_NUMBER)
		return check_number(v, s, j, f);
	if (t & T_ARRAY)
		return check_array(v, s, j, f);
	if (t & T_OBJECT)
		return check_object(v, s, j, f);
	return true;
}

bool sw_schema_validate(const struct sw_schema *s, struct json_object *instance,
			struct sw_schema_error *err)
{
	struct vc v = { .err = err };

	if (err)
		memset(err, 0, sizeof(*err));
	return check(&v, s, instance, NULL);
}
