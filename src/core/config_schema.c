/* SPDX-License-Identifier: MIT */
/* config_schema.c - the schema-table engine: defaults, freeing, copying, parsing, comparing and serializing a section from its table. */
#include <config.h>     /* autoconf's, from the build dir (not core/config.h) */

#include <arpa/inet.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/config_schema.h"
#include "core/config_secret.h"
#include "core/diag.h"
#include "core/module.h"
#include "core/config_policy.h"

/* ---- field access ---- */

static void *at(void *st, size_t off)
{
	return (char *)st + off;
}

bool sw_cfg_same_str(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static const void *cat(const void *st, size_t off)
{
	return (const char *)st + off;
}

#define REF(T, st, f) ((T *)at(st, (f)->off))
#define CREF(T, st, f) ((const T *)cat(st, (f)->off))
#define COUNT(st, f) (*(size_t *)at(st, (f)->count_off))
#define CCOUNT(st, f) (*(const size_t *)cat(st, (f)->count_off))

static int name_index(const char *const *names, const char *s)
{
	for (int i = 0; names[i]; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	return -1;
}

/* "\"a\", \"b\", \"c\"" for messages. */
static const char *names_list(const char *const *names, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (int i = 0; names[i] && len < size; i++) {
		int n = snprintf(buf + len, size - len, "%s\"%s\"", i ? ", " : "", names[i]);
		if (n < 0)
			break;
		len += (size_t)n;
	}
	return buf;
}

/* ---- defaults, freeing, copying ---- */

static void unit_defaults(const struct sw_cfg_field *f, void *st);
static void unit_free(const struct sw_cfg_field *f, void *st);
static void unit_copy(const struct sw_cfg_field *f, void *dst, const void *src);
static void unit_parse(struct sw_cfg_parser *p, const struct sw_cfg_field *f, void *st, json_object *v);
static const struct sw_cfg_field *unit_field(const struct sw_cfg_field *f, const void *st, void **data);

void sw_cfg_defaults(const struct sw_cfg_table *t, void *st)
{
	for (size_t i = 0; i < t->count; i++) {
		const struct sw_cfg_field *f = &t->fields[i];
		if (f->flags & SW_F_ALIAS)
			continue;
		switch (f->type) {
		case SW_T_BOOL: *REF(bool, st, f) = f->def; break;
		case SW_T_U16: *REF(uint16_t, st, f) = (uint16_t)f->def; break;
		case SW_T_U32: *REF(uint32_t, st, f) = (uint32_t)f->def; break;
		case SW_T_U64: *REF(uint64_t, st, f) = f->def; break;
		case SW_T_DOUBLE: *REF(double, st, f) = 0; break;
		case SW_T_ENUM: *REF(unsigned, st, f) = (unsigned)f->def; break;
		case SW_T_STR: case SW_T_PATH: case SW_T_IP: case SW_T_TARGET:
			*REF(char *, st, f) = sw_strdup(f->defs);
			break;
		case SW_T_STRV: case SW_T_CIDRS: case SW_T_ARR:
			*REF(void *, st, f) = NULL;
			COUNT(st, f) = 0;
			break;
		case SW_T_OBJ: sw_cfg_defaults(f->sub, at(st, f->off)); break;
		case SW_T_UNIT: unit_defaults(f, st); break;
		}
	}
	if (t->present_off != SW_CFG_NONE)
		*(bool *)at(st, t->present_off) = false;
	if (t->policy_scope)
		memset(at(st, t->policies_off), 0, sizeof(struct sw_policy_set));
}

void sw_cfg_free_array(const struct sw_cfg_field *f, void *st)
{
	char *arr = *REF(char *, st, f);
	size_t n = COUNT(st, f);

	for (size_t i = 0; i < n; i++) {
		if (f->type == SW_T_STRV)
			free(((char **)(void *)arr)[i]);
		else if (f->type == SW_T_ARR)
			sw_cfg_free(f->sub, arr + i * f->sub->size);
	}
	free(arr);
	*REF(void *, st, f) = NULL;
	COUNT(st, f) = 0;
}

void sw_cfg_free(const struct sw_cfg_table *t, void *st)
{
	for (size_t i = 0; i < t->count; i++) {
		const struct sw_cfg_field *f = &t->fields[i];
		if (f->flags & SW_F_ALIAS)
			continue;
		switch (f->type) {
		case SW_T_STR: case SW_T_PATH: case SW_T_IP: case SW_T_TARGET:
			free(*REF(char *, st, f));
			*REF(char *, st, f) = NULL;
			break;
		case SW_T_STRV: case SW_T_CIDRS: case SW_T_ARR: sw_cfg_free_array(f, st); break;
		case SW_T_OBJ: sw_cfg_free(f->sub, at(st, f->off)); break;
		case SW_T_UNIT: unit_free(f, st); break;
		default: break;
		}
	}
	if (t->policy_scope)
		sw_policy_set_free(at(st, t->policies_off));
}

static void *memdup(const void *src, size_t n)
{
	if (!src || n == 0)
		return NULL;
	return memcpy(sw_malloc(n), src, n);
}

/* Replaces the pointers a memcpy shared with src by copies of their own. */
void sw_cfg_copy(const struct sw_cfg_table *t, void *dst, const void *src)
{
	for (size_t i = 0; i < t->count; i++) {
		const struct sw_cfg_field *f = &t->fields[i];
		bool array = f->type == SW_T_STRV || f->type == SW_T_CIDRS || f->type == SW_T_ARR;
		size_t n = array ? CCOUNT(src, f) : 0;
		if (f->flags & SW_F_ALIAS)
			continue;
		switch (f->type) {
		case SW_T_STR: case SW_T_PATH: case SW_T_IP: case SW_T_TARGET:
			*REF(char *, dst, f) = sw_strdup(*CREF(char *, src, f));
			break;
		case SW_T_STRV: {
			char **v = n ? sw_calloc(n, sizeof(char *)) : NULL;
			for (size_t j = 0; j < n; j++)
				v[j] = sw_strdup((*CREF(char **, src, f))[j]);
			*REF(char **, dst, f) = v;
			break;
		}
		case SW_T_CIDRS:
			*REF(void *, dst, f) = memdup(*CREF(void *, src, f), n * sizeof(struct sw_cidr));
			break;
		case SW_T_ARR: {
			const char *s = *CREF(char *, src, f);
			char *d = memdup(s, n * f->sub->size);
			for (size_t j = 0; j < n; j++)
				sw_cfg_copy(f->sub, d + j * f->sub->size, s + j * f->sub->size);
			*REF(char *, dst, f) = d;
			break;
		}
		case SW_T_OBJ: sw_cfg_copy(f->sub, at(dst, f->off), cat(src, f->off)); break;
		case SW_T_UNIT: unit_copy(f, dst, src); break;
		default: break;
		}
	}
	if (t->policy_scope)
		sw_policy_set_copy(at(dst, t->policies_off), cat(src, t->policies_off));
}

/* ---- parsing ---- */

/* Appends to the path (truncating, never overflowing); returns the old length. */
static size_t grow(struct sw_cfg_parser *p, int n)
{
	size_t old = p->len;

	if (n > 0)
		p->len = SW_MIN(old + (size_t)n, sizeof(p->path) - 1);
	return old;
}

size_t sw_cfg_push_key(struct sw_cfg_parser *p, const char *key)
{
	size_t room = sizeof(p->path) - p->len;

	return grow(p, snprintf(p->path + p->len, room, "%s%s", p->len ? "." : "", key));
}

static size_t push_index(struct sw_cfg_parser *p, size_t i)
{
	return grow(p, snprintf(p->path + p->len, sizeof(p->path) - p->len, "[%zu]", i));
}

void sw_cfg_pop(struct sw_cfg_parser *p, size_t old)
{
	p->len = old;
	p->path[old] = '\0';
}

sw_printf(3, 0)
static void report(struct sw_cfg_parser *p, bool error, const char *fmt, va_list ap)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (error)
		sw_diag_error(p->d, p->path, "%s", msg);
	else
		sw_diag_warn(p->d, p->path, "%s", msg);
}

void sw_cfg_error(struct sw_cfg_parser *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(p, true, fmt, ap);
	va_end(ap);
}

void sw_cfg_warn(struct sw_cfg_parser *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(p, false, fmt, ap);
	va_end(ap);
}

/* A wrong type says what is wanted; a value out of range only the range. */
static bool get_int(struct sw_cfg_parser *p, const struct sw_cfg_field *f, json_object *v, int64_t *out)
{
	if (!json_object_is_type(v, json_type_int)) {
		sw_cfg_error(p, "must be an integer %" PRId64 "-%" PRId64, f->min, f->max);
		return false;
	}
	int64_t n = json_object_get_int64(v);
	/* json-c saturates at INT64_MAX; a larger unsigned value is out of range too. */
	bool huge = n == INT64_MAX && json_object_get_uint64(v) > (uint64_t)INT64_MAX;
	if (huge || n < f->min || n > f->max) {
		sw_cfg_error(p, "must be %" PRId64 "-%" PRId64, f->min, f->max);
		return false;
	}
	*out = n;
	return true;
}

bool sw_cfg_get_enum(struct sw_cfg_parser *p, const char *const *names, json_object *v, unsigned *out)
{
	char list[256];
	int i = json_object_is_type(v, json_type_string)
		? name_index(names, json_object_get_string(v)) : -1;

	if (i < 0) {
		sw_cfg_error(p, "must be one of %s", names_list(names, list, sizeof(list)));
		return false;
	}
	*out = (unsigned)i;
	return true;
}

/* A string without embedded NULs (C consumers would silently truncate it). */
static const char *get_string(struct sw_cfg_parser *p, json_object *v)
{
	if (!json_object_is_type(v, json_type_string)) {
		sw_cfg_error(p, "must be a string");
		return NULL;
	}
	const char *s = json_object_get_string(v);
	if (strlen(s) != (size_t)json_object_get_string_len(v)) {
		sw_cfg_error(p, "must not contain a NUL character");
		return NULL;
	}
	return s;
}

static bool parse_ip_literal(const char *s)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* The checks a string kind adds to "is a string". */
static bool check_string(struct sw_cfg_parser *p, const struct sw_cfg_field *f, const char *s)
{
	char list[256];

	switch (f->type) {
	case SW_T_PATH:
		if (s[0] != '/') {
			sw_cfg_error(p, "must be an absolute path");
			return false;
		}
		return true;
	case SW_T_IP:
		if (!parse_ip_literal(s)) {
			sw_cfg_error(p, "must be an IPv4 or IPv6 address");
			return false;
		}
		return true;
	case SW_T_TARGET:
		if (name_index(f->names, s) >= 0 || s[0] == '/')
			return true;
		if (strchr(s, '/'))
			sw_cfg_error(p, "must be an absolute path");
		else
			sw_cfg_error(p, "must be one of %s or an absolute path",
			     names_list(f->names, list, sizeof(list)));
		return false;
	default:
		return true;
	}
}

static void parse_string(struct sw_cfg_parser *p, const struct sw_cfg_field *f, void *st, json_object *v)
{
	char **dst = REF(char *, st, f);

	if (v == NULL && f->defs == NULL) {     /* JSON null: unset an optional string */
		free(*dst);
		*dst = NULL;
		return;
	}
	const char *s = get_string(p, v);
	if (s && f->max && strlen(s) > (size_t)f->max) {
		sw_cfg_error(p, "must be at most %" PRId64 " bytes", f->max);
		return;
	}
	if (s && check_string(p, f, s)) {
		free(*dst);
		*dst = sw_strdup(s);
	}
}

static bool parse_cidr(const char *s, struct sw_cidr *c, bool *host_bits)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);

	if (alen >= sizeof(buf))
		return false;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	memset(c, 0, sizeof(*c));
	c->family = strchr(buf, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(c->family, buf, c->addr) != 1)
		return false;
	unsigned max = c->family == AF_INET ? 32 : 128, prefix = max;
	if (slash) {
		char *end;
		if (slash[1] < '0' || slash[1] > '9' || strlen(slash + 1) > 3)
			return false;
		prefix = (unsigned)strtoul(slash + 1, &end, 10);
		if (*end || prefix > max)
			return false;
	}
	c->prefix = (uint8_t)prefix;
	*host_bits = false;
	for (unsigned bit = prefix; bit < max; bit++) {
		uint8_t mask = (uint8_t)(0x80 >> (bit % 8));
		if (c->addr[bit / 8] & mask) {
			*host_bits = true;
			c->addr[bit / 8] &= (uint8_t)~mask;
		}
	}
	return true;
}

static void format_cidr(const struct sw_cidr *c, char *buf, size_t size)
{
	char ip[INET6_ADDRSTRLEN];

	if (!inet_ntop(c->family, c->addr, ip, sizeof(ip)))
		snprintf(ip, sizeof(ip), "?");
	snprintf(buf, size, "%s/%u", ip, c->prefix);
}

/* Parses one array element into elem (SW_T_STRV: char *, SW_T_CIDRS: struct sw_cidr). */
static bool parse_element(struct sw_cfg_parser *p, const struct sw_cfg_field *f, json_object *v, void *elem)
{
	const char *s = get_string(p, v);
	bool host_bits;
	char norm[64];

	if (!s)
		return false;
	if (f->type == SW_T_STRV) {
		if (!*s) {
			sw_cfg_error(p, "must not be empty");
			return false;
		}
		*(char **)elem = sw_strdup(s);
		return true;
	}
	if (!parse_cidr(s, elem, &host_bits)) {
		sw_cfg_error(p, "\"%s\" is not an IP address or CIDR block", s);
		return false;
	}
	if (host_bits) {
		format_cidr(elem, norm, sizeof(norm));
		sw_cfg_warn(p, "\"%s\" has host bits set; using %s", s, norm);
	}
	return true;
}

static void parse_array(struct sw_cfg_parser *p, const struct sw_cfg_field *f, void *st, json_object *v)
{
	size_t esize = f->type == SW_T_STRV ? sizeof(char *)
		     : f->type == SW_T_CIDRS ? sizeof(struct sw_cidr) : f->sub->size;

	sw_cfg_free_array(f, st);
	if (!json_object_is_type(v, json_type_array)) {
		sw_cfg_error(p, "must be an array");
		return;
	}
	size_t n = json_object_array_length(v), kept = 0;
	char *arr = n ? sw_calloc(n, esize) : NULL;
	for (size_t i = 0; i < n; i++) {
		json_object *item = json_object_array_get_idx(v, i);
		size_t old = push_index(p, i);
		if (f->type == SW_T_ARR) {
			sw_cfg_defaults(f->sub, arr + i * esize);
			sw_cfg_parse(p, f->sub, arr + i * esize, item);
			kept++;
		} else if (parse_element(p, f, item, arr + kept * esize)) {
			kept++;
		}
		sw_cfg_pop(p, old);
	}
	*REF(char *, st, f) = arr;
	COUNT(st, f) = kept;
}

static void parse_value(struct sw_cfg_parser *p, const struct sw_cfg_field *f, void *st, json_object *v)
{
	int64_t n;

	switch (f->type) {
	case SW_T_BOOL:
		if (json_object_is_type(v, json_type_boolean))
			*REF(bool, st, f) = json_object_get_boolean(v);
		else
			sw_cfg_error(p, "must be true or false");
		break;
	case SW_T_U16: if (get_int(p, f, v, &n)) *REF(uint16_t, st, f) = (uint16_t)n; break;
	case SW_T_U32: if (get_int(p, f, v, &n)) *REF(uint32_t, st, f) = (uint32_t)n; break;
	case SW_T_U64: if (get_int(p, f, v, &n)) *REF(uint64_t, st, f) = (uint64_t)n; break;
	case SW_T_DOUBLE: {
		bool num = json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double);
		double d = num ? json_object_get_double(v) : 0;
		if (num && isfinite(d) && d > 0 && d <= (double)f->max)
			*REF(double, st, f) = d;
		else
			sw_cfg_error(p, "must be a number > 0 and <= %" PRId64, f->max);
		break;
	}
	case SW_T_ENUM: sw_cfg_get_enum(p, f->names, v, REF(unsigned, st, f)); break;
	case SW_T_STR: case SW_T_PATH: case SW_T_IP: case SW_T_TARGET: parse_string(p, f, st, v); break;
	case SW_T_STRV: case SW_T_CIDRS: case SW_T_ARR: parse_array(p, f, st, v); break;
	case SW_T_OBJ: sw_cfg_parse(p, f->sub, at(st, f->off), v); break;
	case SW_T_UNIT: unit_parse(p, f, st, v); break;
	}
}

const struct sw_cfg_field *sw_cfg_find(const struct sw_cfg_table *t, const char *key)
{
	for (size_t i = 0; i < t->count; i++)
		if (strcmp(t->fields[i].key, key) == 0)
			return &t->fields[i];
	return NULL;
}

void sw_cfg_parse(struct sw_cfg_parser *p, const struct sw_cfg_table *t, void *st, json_object *v)
{
	if (!json_object_is_type(v, json_type_object)) {
		if (t->shorthand && json_object_is_type(v, json_type_string))
			t->shorthand(p, st, v);
		else
			sw_cfg_error(p, t->shorthand ? "must be an object or a string" : "must be an object");
		return;
	}
	if (t->present_off != SW_CFG_NONE)
		*(bool *)at(st, t->present_off) = true;
	json_object_object_foreach(v, key, val) {
		const struct sw_cfg_field *f = sw_cfg_find(t, key);
		size_t old = sw_cfg_push_key(p, key);
		if (f)
			parse_value(p, f, st, val);
		else if (!t->policy_scope ||
			 !sw_policy_set_parse(at(st, t->policies_off), t->policy_scope, key, val,
					      p->path, p->d))
			sw_cfg_warn(p, "unknown key");
		sw_cfg_pop(p, old);
	}
	if (t->finish)
		t->finish(p, st, v);
}

void sw_cfg_require(struct sw_cfg_parser *p, json_object *obj, const char *key)
{
	if (json_object_object_get_ex(obj, key, NULL))
		return;
	size_t old = sw_cfg_push_key(p, key);
	sw_cfg_error(p, "required");
	sw_cfg_pop(p, old);
}

/* ---- comparison ---- */

static bool cidr_equal(const struct sw_cidr *a, const struct sw_cidr *b)
{
	return a->family == b->family && a->prefix == b->prefix && memcmp(a->addr, b->addr, 16) == 0;
}

static bool array_equal(const struct sw_cfg_field *f, const void *a, const void *b)
{
	size_t n = CCOUNT(a, f);

	for (size_t i = 0; i < n; i++) {
		if (f->type == SW_T_STRV && !sw_cfg_same_str((*CREF(char **, a, f))[i], (*CREF(char **, b, f))[i]))
			return false;
		if (f->type == SW_T_CIDRS &&
		    !cidr_equal(&(*CREF(struct sw_cidr *, a, f))[i], &(*CREF(struct sw_cidr *, b, f))[i]))
			return false;
	}
	return true;
}

/* Whether field f differs between a and b (SW_T_OBJ/SW_T_ARR: the bits that differ). */
static unsigned compare_field(const struct sw_cfg_field *f, const void *a, const void *b, unsigned bit)
{
	bool s = bit == SW_CFG_STRUCTURAL;

	switch (f->type) {
	case SW_T_BOOL: return *CREF(bool, a, f) != *CREF(bool, b, f) ? bit : 0;
	case SW_T_U16: return *CREF(uint16_t, a, f) != *CREF(uint16_t, b, f) ? bit : 0;
	case SW_T_U32: return *CREF(uint32_t, a, f) != *CREF(uint32_t, b, f) ? bit : 0;
	case SW_T_U64: return *CREF(uint64_t, a, f) != *CREF(uint64_t, b, f) ? bit : 0;
	case SW_T_DOUBLE: return *CREF(double, a, f) != *CREF(double, b, f) ? bit : 0;
	case SW_T_ENUM: return *CREF(unsigned, a, f) != *CREF(unsigned, b, f) ? bit : 0;
	case SW_T_STR: case SW_T_PATH: case SW_T_IP: case SW_T_TARGET:
		return sw_cfg_same_str(*CREF(char *, a, f), *CREF(char *, b, f)) ? 0 : bit;
	case SW_T_STRV: case SW_T_CIDRS:
		return CCOUNT(a, f) != CCOUNT(b, f) || !array_equal(f, a, b) ? bit : 0;
	case SW_T_OBJ: {
		const struct sw_cfg_table *t = f->sub;
		bool on_a = t->present_off != SW_CFG_NONE && *(const bool *)cat(cat(a, f->off), t->present_off);
		bool on_b = t->present_off != SW_CFG_NONE && *(const bool *)cat(cat(b, f->off), t->present_off);
		return (on_a != on_b ? bit : 0) | sw_cfg_compare(t, cat(a, f->off), cat(b, f->off), s);
	}
	case SW_T_ARR: {
		size_t n = CCOUNT(a, f), size = f->sub->size;
		unsigned r = 0;
		if (n != CCOUNT(b, f))
			return bit;
		for (size_t i = 0; i < n; i++)
			r |= sw_cfg_compare(f->sub, *CREF(char *, a, f) + i * size,
					    *CREF(char *, b, f) + i * size, s);
		return r;
	}
	case SW_T_UNIT: {
		void *da, *db;
		const struct sw_cfg_field *ga = unit_field(f, a, &da), *gb = unit_field(f, b, &db);
		if (!ga || !gb)
			return ga != gb ? bit : 0;
		return compare_field(ga, da, db, bit);
	}
	}
	return 0;
}

unsigned sw_cfg_compare(const struct sw_cfg_table *t, const void *a, const void *b, bool structural)
{
	unsigned r = 0;

	for (size_t i = 0; i < t->count; i++) {
		const struct sw_cfg_field *f = &t->fields[i];
		bool s = structural || (f->flags & SW_F_STRUCT);
		if (!(f->flags & SW_F_ALIAS))
			r |= compare_field(f, a, b, s ? SW_CFG_STRUCTURAL : SW_CFG_VALUES);
	}
	/* Policies live in the workers' per-config state: rebuilt in place. */
	if (t->policy_scope &&
	    !sw_policy_set_equal(cat(a, t->policies_off), cat(b, t->policies_off)))
		r |= structural ? SW_CFG_STRUCTURAL : SW_CFG_VALUES;
	return r;
}

/* ---- serialization ---- */

static json_object *emit_string(const struct sw_cfg_field *f, const char *s, bool redact)
{
	if (!s)
		return NULL;    /* json-c's null */
	return json_object_new_string(redact && (f->flags & SW_F_SECRET) ? SW_REDACTED : s);
}

static json_object *emit_array(const struct sw_cfg_field *f, const void *st, bool redact)
{
	json_object *arr = json_object_new_array();
	size_t n = CCOUNT(st, f);
	char buf[64];

	for (size_t i = 0; i < n; i++) {
		json_object *v;
		if (f->type == SW_T_STRV) {
			v = json_object_new_string((*CREF(char **, st, f))[i]);
		} else if (f->type == SW_T_CIDRS) {
			format_cidr(&(*CREF(struct sw_cidr *, st, f))[i], buf, sizeof(buf));
			v = json_object_new_string(buf);
		} else {
			v = sw_cfg_emit(f->sub, *CREF(char *, st, f) + i * f->sub->size, redact);
		}
		json_object_array_add(arr, v);
	}
	return arr;
}

static json_object *emit_enum(const struct sw_cfg_field *f, unsigned v)
{
	for (unsigned i = 0; f->names[i]; i++)
		if (i == v)
			return json_object_new_string(f->names[i]);
	return NULL;
}

/* Returns false when the field stays out of the JSON. */
static bool emit_field(const struct sw_cfg_field *f, const void *st, bool redact, json_object **out)
{
	switch (f->type) {
	case SW_T_BOOL: *out = json_object_new_boolean(*CREF(bool, st, f)); return true;
	case SW_T_U16:
		*out = json_object_new_int64(*CREF(uint16_t, st, f));
		return *CREF(uint16_t, st, f) || !(f->flags & SW_F_OMIT_EMPTY);
	case SW_T_U32: *out = json_object_new_int64(*CREF(uint32_t, st, f)); return true;
	case SW_T_U64: *out = json_object_new_uint64(*CREF(uint64_t, st, f)); return true;
	case SW_T_DOUBLE: *out = json_object_new_double(*CREF(double, st, f)); return true;
	case SW_T_ENUM: *out = emit_enum(f, *CREF(unsigned, st, f)); return true;
	case SW_T_STR: case SW_T_PATH: case SW_T_IP: case SW_T_TARGET:
		*out = emit_string(f, *CREF(char *, st, f), redact);
		return *out || !(f->flags & SW_F_OMIT_EMPTY);
	case SW_T_STRV: case SW_T_CIDRS: case SW_T_ARR: *out = emit_array(f, st, redact); return true;
	case SW_T_OBJ:
		/* An optional block (health_check) appears only when on. */
		if (f->sub->present_off != SW_CFG_NONE && !*(const bool *)cat(cat(st, f->off), f->sub->present_off))
			return false;
		*out = sw_cfg_emit(f->sub, cat(st, f->off), redact);
		return true;
	case SW_T_UNIT: {
		/* Without the unit, an object section stays out of the file. */
		void *data;
		const struct sw_cfg_field *g = unit_field(f, st, &data);
		if (g)
			return emit_field(g, data, redact, out);
		*out = f->unit->array ? json_object_new_array() : NULL;
		return f->unit->array;
	}
	}
	return false;
}

json_object *sw_cfg_emit(const struct sw_cfg_table *t, const void *st, bool redact)
{
	json_object *obj = json_object_new_object();

	for (size_t i = 0; i < t->count; i++) {
		json_object *v = NULL;
		if (t->fields[i].flags & SW_F_ALIAS)
			continue;
		if (emit_field(&t->fields[i], st, redact, &v))
			json_object_object_add(obj, t->fields[i].key, v);
		else
			json_object_put(v);
	}
	if (t->policy_scope)
		sw_policy_set_emit(cat(st, t->policies_off), obj, redact);
	return obj;
}

/* ---- sections of optional units (SW_T_UNIT) ---- */

/* The unit's own field for f's key, with its struct in *data; NULL when compiled out. */
static const struct sw_cfg_field *unit_field(const struct sw_cfg_field *f, const void *st, void **data)
{
	const struct sw_config_unit *u = CREF(struct sw_config_unit, st, f);

	if (!u->data)
		return NULL;
	*data = u->data;
	return sw_cfg_find(u->sec->table, f->key);
}

/* Once per unit (two keys may share it): its struct, at its defaults. */
static void unit_defaults(const struct sw_cfg_field *f, void *st)
{
	struct sw_config_unit *u = REF(struct sw_config_unit, st, f);
	const struct sw_module *m = sw_module_find(f->unit->module);

	if (u->data || !m || !m->config)
		return;
	u->sec = m->config;
	u->data = sw_calloc(1, u->sec->table->size);
	sw_cfg_defaults(u->sec->table, u->data);
}

static void unit_free(const struct sw_cfg_field *f, void *st)
{
	struct sw_config_unit *u = REF(struct sw_config_unit, st, f);

	if (!u->data)
		return;
	sw_cfg_free(u->sec->table, u->data);
	free(u->data);
	u->data = NULL;
	u->sec = NULL;
}

/* dst was memcpy'd from src: it still shares src's struct, unless another key copied it. */
static void unit_copy(const struct sw_cfg_field *f, void *dst, const void *src)
{
	const struct sw_config_unit *s = CREF(struct sw_config_unit, src, f);
	struct sw_config_unit *d = REF(struct sw_config_unit, dst, f);

	if (!s->data || d->data != s->data)
		return;
	d->data = memdup(s->data, s->sec->table->size);
	sw_cfg_copy(s->sec->table, d->data, s->data);
}

/* Whether a value would turn a unit on: anything but null, false and []. */
static bool in_use(json_object *v)
{
	if (!v)
		return false;
	if (json_object_is_type(v, json_type_boolean))
		return json_object_get_boolean(v);
	return !json_object_is_type(v, json_type_array) || json_object_array_length(v) > 0;
}

/* A build without the unit: a value that uses it names the option it needs. */
static void unit_missing(struct sw_cfg_parser *p, const struct sw_cfg_unit *u, json_object *v)
{
	json_object *member;

	if (!u->uses || !json_object_is_type(v, json_type_object)) {
		if (in_use(v))
			sw_cfg_error(p, "requires a build with %s", u->option);
		return;
	}
	for (const char *const *k = u->uses; *k; k++) {
		if (!json_object_object_get_ex(v, *k, &member) || !in_use(member))
			continue;
		size_t old = sw_cfg_push_key(p, *k);
		sw_cfg_error(p, "requires a build with %s", u->option);
		sw_cfg_pop(p, old);
		return;
	}
}

static void unit_parse(struct sw_cfg_parser *p, const struct sw_cfg_field *f, void *st, json_object *v)
{
	void *data;
	const struct sw_cfg_field *g = unit_field(f, st, &data);

	if (g)
		parse_value(p, g, data, v);
	else
		unit_missing(p, f->unit, v);
}
