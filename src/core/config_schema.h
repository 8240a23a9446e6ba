/* SPDX-License-Identifier: MIT */
/*
 * config_schema.h - the schema-table engine of the config: a section is a
 * struct plus a table of its keys, and the engine does the rest.  For the
 * files that declare tables (the core's sections in config.c, a unit's in its
 * own directory); the rest of the code sees only core/config.h.
 */
#ifndef SW_CORE_CONFIG_SCHEMA_H
#define SW_CORE_CONFIG_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>
#include "core/common.h"
#include "core/config.h"

/*
 * One table per section drives everything a section needs: defaults, parsing,
 * freeing, copying, comparing and serializing.  A key added to config.h and
 * to its table is thereby parsed, persisted and classified for reloads.
 */
enum sw_cfg_type {
	SW_T_BOOL, SW_T_U16, SW_T_U32, SW_T_U64,
	SW_T_DOUBLE,  /* > 0 and <= max */
	SW_T_ENUM,    /* unsigned-sized enum, names[] */
	SW_T_STR,     /* char *; JSON null allowed when the default is NULL */
	SW_T_PATH,    /* SW_T_STR that must be absolute */
	SW_T_IP,      /* SW_T_STR holding an IPv4/IPv6 literal */
	SW_T_TARGET,  /* one of names[] or an absolute path */
	SW_T_STRV,    /* char ** + count of non-empty strings */
	SW_T_CIDRS,   /* struct sw_cidr * + count */
	SW_T_OBJ,     /* embedded struct described by sub */
	SW_T_ARR,     /* array of sub structs + count */
	SW_T_UNIT,    /* a top-level key an optional unit owns: struct sw_config_unit */
};

enum {
	SW_F_STRUCT = 1 << 0,      /* a change needs new workers (compare) */
	SW_F_SECRET = 1 << 1,      /* replaced by "<redacted>" in redacted JSON */
	SW_F_OMIT_EMPTY = 1 << 2,  /* left out of JSON when NULL or 0 */
	SW_F_ALIAS = 1 << 3,       /* another spelling of the key before it: parsed only */
};

#define SW_CFG_NONE SIZE_MAX

struct sw_cfg_table;

/*
 * A top-level key of an optional unit (SW_T_UNIT).  Built with the unit, the
 * key is the unit's table's field of the same name, on cfg->unit[slot].data;
 * without it, a value that uses the unit is "requires a build with OPTION".
 */
struct sw_cfg_unit {
	const char *module;         /* its sw_module name: "proxy" */
	const char *option;         /* "--enable-proxy" */
	/*
	 * Member keys that use the unit when set (the first one set is named:
	 * "tls.cert_path"); NULL: any value but null, false or [] does.
	 */
	const char *const *uses;
	/* An array section (upstreams[]): written as [] without the unit, as an unused one is. */
	bool array;
};

/* Where a parse is: the diagnostics and the key path of the value at hand. */
struct sw_cfg_parser {
	struct sw_diag *d;
	char path[512];         /* "upstreams[2].servers[0].port" */
	size_t len;
};

struct sw_cfg_field {
	const char *key;
	enum sw_cfg_type type;
	unsigned flags;
	size_t off;                 /* in the section's struct */
	size_t count_off;           /* SW_T_STRV, SW_T_CIDRS, SW_T_ARR */
	int64_t min, max;           /* integers (max also for SW_T_DOUBLE) */
	uint64_t def;               /* integers, bools, enums */
	const char *defs;           /* strings */
	const char *const *names;   /* SW_T_ENUM, SW_T_TARGET; NULL-terminated */
	const struct sw_cfg_table *sub;    /* SW_T_OBJ, SW_T_ARR */
	const struct sw_cfg_unit *unit;    /* SW_T_UNIT */
};

struct sw_cfg_table {
	const struct sw_cfg_field *fields;
	size_t count;
	size_t size;                /* of the struct, for arrays of it */
	size_t present_off;         /* bool set when the object is given, or SW_CFG_NONE */
	/* Section work that needs the JSON (key presence) after its keys parsed. */
	void (*finish)(struct sw_cfg_parser *p, void *st, json_object *obj);
	/* Accepts a string in place of the object (access_log: "combined"). */
	void (*shorthand)(struct sw_cfg_parser *p, void *st, json_object *val);
	/*
	 * A policy slot: keys of registered policies of this scope (SW_POLICY_*,
	 * 0 = none) are kept, as their JSON, in the struct sw_policy_set at
	 * policies_off (src/core/config_policy.c).
	 */
	unsigned policy_scope;
	size_t policies_off;
};

/* A wrong member type in a table is a compile error, not a corrupted config. */
#define SW_CFG_IS(m, T) (0 * sizeof(char[__builtin_types_compatible_p(__typeof__(((S *)0)->m), T) ? 1 : -1]))
#define SW_CFG_AT(m, T) (offsetof(S, m) + SW_CFG_IS(m, T))
#define SW_CFG_AT_ENUM(m) (offsetof(S, m) + 0 * sizeof(char[sizeof(((S *)0)->m) == sizeof(unsigned) ? 1 : -1]))

#define SW_BOOL(k, m, d, fl) { .key = k, .type = SW_T_BOOL, .flags = fl, .off = SW_CFG_AT(m, bool), .def = d }
#define SW_U16(k, m, lo, hi, d, fl) { .key = k, .type = SW_T_U16, .flags = fl, .off = SW_CFG_AT(m, uint16_t), \
				   .min = lo, .max = hi, .def = d }
#define SW_U32(k, m, lo, hi, d, fl) { .key = k, .type = SW_T_U32, .flags = fl, .off = SW_CFG_AT(m, uint32_t), \
				   .min = lo, .max = hi, .def = d }
#define SW_U64(k, m, lo, hi, d, fl) { .key = k, .type = SW_T_U64, .flags = fl, .off = SW_CFG_AT(m, uint64_t), \
				   .min = lo, .max = hi, .def = d }
#define SW_DBL(k, m, hi, fl) { .key = k, .type = SW_T_DOUBLE, .flags = fl, .off = SW_CFG_AT(m, double), .max = hi }
#define SW_ENUM(k, m, nm, d, fl) { .key = k, .type = SW_T_ENUM, .flags = fl, .off = SW_CFG_AT_ENUM(m), \
				.names = nm, .def = d }
#define SW_STRF(t, k, m, d, fl) { .key = k, .type = t, .flags = fl, .off = SW_CFG_AT(m, char *), .defs = d }
#define SW_STRING(k, m, d, fl) SW_STRF(SW_T_STR, k, m, d, fl)
/* A name the admin API addresses in a URL: short enough for any limits.max_header_bytes. */
#define SW_NAME(k, m) { .key = k, .type = SW_T_STR, .off = SW_CFG_AT(m, char *), .max = SW_CONFIG_NAME_MAX }
#define SW_TARGET(k, m, nm, d, fl) { .key = k, .type = SW_T_TARGET, .flags = fl, .off = SW_CFG_AT(m, char *), \
				  .names = nm, .defs = d }
#define SW_STRV(k, m, n, fl) { .key = k, .type = SW_T_STRV, .flags = fl, .off = SW_CFG_AT(m, char **), \
			    .count_off = SW_CFG_AT(n, size_t) }
#define SW_CIDRS(k, m, n, fl) { .key = k, .type = SW_T_CIDRS, .flags = fl, \
			     .off = SW_CFG_AT(m, struct sw_cidr *), .count_off = SW_CFG_AT(n, size_t) }
#define SW_OBJ(k, m, tab, fl) { .key = k, .type = SW_T_OBJ, .flags = fl, .off = offsetof(S, m), .sub = &tab }
#define SW_ARR(k, m, n, tab, fl) { .key = k, .type = SW_T_ARR, .flags = fl, .off = offsetof(S, m), \
				.count_off = SW_CFG_AT(n, size_t), .sub = &tab }
#define SW_UNIT(k, slot, u, fl) { .key = k, .type = SW_T_UNIT, .flags = fl, \
				 .off = offsetof(S, unit[slot]), .unit = &u }
#define SW_TABLE(f, s, present, fin, sh) { f, SW_ARRAY_SIZE(f), sizeof(s), present, fin, sh, 0, 0 }
/* A table whose objects also take the keys of the policies of scope (member: their set). */
#define SW_TABLE_POLICIES(f, s, present, fin, sh, scope, member) \
	{ f, SW_ARRAY_SIZE(f), sizeof(s), present, fin, sh, scope, \
	  offsetof(s, member) + SW_CFG_IS(member, struct sw_policy_set) }

/*
 * A unit section that is one top-level object ("tls": {...}): a table whose
 * one field is that object, at offset 0 of the same struct (type T).
 */
#define SW_SECTION_OBJECT(name, k, T, tab) \
	static const struct sw_cfg_field name##_fields[] = { \
		{ .key = k, .type = SW_T_OBJ, .off = 0, .sub = &(tab) }, \
	}; \
	static const struct sw_cfg_table name = { .fields = name##_fields, .count = 1, \
		.size = sizeof(T), .present_off = SW_CFG_NONE }

#define SW_CFG_MAX_U32 ((int64_t)UINT32_MAX)
#define SW_CFG_MAX_I32 ((int64_t)INT32_MAX)

/* Every field at its default (strings duplicated, arrays empty). */
void sw_cfg_defaults(const struct sw_cfg_table *t, void *st);
/* Frees what the fields own; the struct itself stays the caller's. */
void sw_cfg_free(const struct sw_cfg_table *t, void *st);
void sw_cfg_free_array(const struct sw_cfg_field *f, void *st);
/* After a memcpy of src to dst: gives dst copies of its own of what src points to. */
void sw_cfg_copy(const struct sw_cfg_table *t, void *dst, const void *src);
/* Parses the JSON object v into st (defaults already applied); errors go to p->d with their path. */
void sw_cfg_parse(struct sw_cfg_parser *p, const struct sw_cfg_table *t, void *st, json_object *v);
/* SW_CFG_SAME, or the SW_CFG_VALUES / SW_CFG_STRUCTURAL bits of what differs. */
unsigned sw_cfg_compare(const struct sw_cfg_table *t, const void *a, const void *b, bool structural);
/* A new json-c object holding st's keys (secrets "<redacted>" with redact). */
json_object *sw_cfg_emit(const struct sw_cfg_table *t, const void *st, bool redact);
const struct sw_cfg_field *sw_cfg_find(const struct sw_cfg_table *t, const char *key);

/* For finish hooks: extend the key path (returns the length to pop back to), report. */
size_t sw_cfg_push_key(struct sw_cfg_parser *p, const char *key);
void sw_cfg_pop(struct sw_cfg_parser *p, size_t old);
sw_printf(2, 3) void sw_cfg_error(struct sw_cfg_parser *p, const char *fmt, ...);
sw_printf(2, 3) void sw_cfg_warn(struct sw_cfg_parser *p, const char *fmt, ...);
/* "KEY: required" unless obj has key. */
void sw_cfg_require(struct sw_cfg_parser *p, json_object *obj, const char *key);
/* One of names[] (its index in *out), else an error listing them. */
bool sw_cfg_get_enum(struct sw_cfg_parser *p, const char *const *names, json_object *v, unsigned *out);
/* Both NULL or equal. */
bool sw_cfg_same_str(const char *a, const char *b);

#endif
