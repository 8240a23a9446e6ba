/* SPDX-License-Identifier: MIT */
/* config_policy.c - the config engine's policy slot: policy keys kept as their JSON. */
#include <config.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "core/config_policy.h"
#include "core/config_secret.h"
#include "core/diag.h"
#include "core/module.h"
#include "core/policy_def.h"

/* Checks val with the policy's compile; the state is only built to see that it can be. */
static bool check(const struct sw_policy *p, struct json_object *val, const char *path,
		  struct sw_diag *d)
{
	size_t errors = d->errors;
	void *state = p->compile(val, path, d);

	if (!state) {
		if (d->errors == errors)     /* a compile that forgot to say why */
			sw_diag_error(d, path, "invalid");
		return false;
	}
	if (p->release)
		p->release(state);
	return true;
}

/*
 * Policy keys whose unit a build may leave out, and that unit.  Such a key
 * in a build without it is an error, like "quic.enabled" without HTTP/3:
 * ignored with a warning, "auth" would leave its route open to anyone.
 */
static const struct {
	const char *key, *unit;
} unit_keys[] = {
	{ "auth", "auth" },
};

static bool compiled_out(const char *key, const char *path, struct sw_diag *d)
{
	for (size_t i = 0; i < sizeof(unit_keys) / sizeof(unit_keys[0]); i++) {
		if (strcmp(key, unit_keys[i].key) == 0 && !sw_module_find(unit_keys[i].unit)) {
			sw_diag_error(d, path, "requires a build with --enable-%s", unit_keys[i].unit);
			return true;
		}
	}
	return false;
}

bool sw_policy_set_parse(struct sw_policy_set *set, unsigned scope, const char *key,
			 struct json_object *val, const char *path, struct sw_diag *d)
{
	bool other = false;
	const struct sw_policy *p = sw_policy_find(key, scope, &other);

	if (!p) {
		if (compiled_out(key, path, d))
			return true;
		if (other)
			sw_diag_error(d, path, scope == SW_POLICY_ROUTE ?
				      "allowed only at the top level, not in a route" :
				      "allowed only in routes[], not at the top level");
		return other;
	}
	if (!sw_secret_check(val, p->secrets, path, d) || !check(p, val, path, d))
		return true;
	for (size_t i = 0; i < set->count; i++) {
		if (set->v[i].policy == p) {         /* parsed again into the same object */
			json_object_put(set->v[i].value);
			set->v[i].value = json_object_get(val);
			return true;
		}
	}
	set->v = sw_realloc(set->v, (set->count + 1) * sizeof(*set->v));
	set->v[set->count++] = (struct sw_policy_cfg){ p, json_object_get(val) };
	return true;
}

void sw_policy_set_free(struct sw_policy_set *set)
{
	for (size_t i = 0; i < set->count; i++)
		json_object_put(set->v[i].value);
	free(set->v);
	set->v = NULL;
	set->count = 0;
}

void sw_policy_set_copy(struct sw_policy_set *dst, const struct sw_policy_set *src)
{
	dst->count = src->count;
	dst->v = NULL;
	if (!src->count)
		return;
	dst->v = sw_calloc(src->count, sizeof(*dst->v));
	for (size_t i = 0; i < src->count; i++)
		dst->v[i] = (struct sw_policy_cfg){ src->v[i].policy,
						    json_object_get(src->v[i].value) };
}

bool sw_policy_set_equal(const struct sw_policy_set *a, const struct sw_policy_set *b)
{
	if (a->count != b->count)
		return false;
	for (size_t i = 0; i < a->count; i++)
		if (a->v[i].policy != b->v[i].policy ||
		    !json_object_equal(a->v[i].value, b->v[i].value))
			return false;
	return true;
}

void sw_policy_set_emit(const struct sw_policy_set *set, struct json_object *obj, bool redact)
{
	for (size_t i = 0; i < set->count; i++)
		json_object_object_add(obj, set->v[i].policy->key,
				       redact ? sw_secret_redacted(set->v[i].value, set->v[i].policy->secrets) :
				       json_object_get(set->v[i].value));
}

/* ---- helpers for compile functions ---- */

static void conf_report(struct sw_diag *d, bool error, const char *path, const char *key,
			const char *fmt, va_list ap)
{
	char full[600], msg[1024];

	snprintf(full, sizeof(full), "%s%s%s", path, key && *path ? "." : "", key ? key : "");
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (error)
		sw_diag_error(d, full, "%s", msg);
	else
		sw_diag_warn(d, full, "%s", msg);
}

void sw_policy_conf_error(struct sw_diag *d, const char *path, const char *key,
			  const char *fmt, ...)
{
	va_list ap;

	if (!d)
		return;
	va_start(ap, fmt);
	conf_report(d, true, path, key, fmt, ap);
	va_end(ap);
}

void sw_policy_conf_warn(struct sw_diag *d, const char *path, const char *key,
			 const char *fmt, ...)
{
	va_list ap;

	if (!d)
		return;
	va_start(ap, fmt);
	conf_report(d, false, path, key, fmt, ap);
	va_end(ap);
}

bool sw_policy_conf_object(struct json_object *conf, const char *path,
			   const char *const *known, struct sw_diag *d)
{
	if (!json_object_is_type(conf, json_type_object)) {
		sw_policy_conf_error(d, path, NULL, "must be an object");
		return false;
	}
	json_object_object_foreach(conf, key, val) {
		size_t i = 0;
		(void)val;
		while (known[i] && strcmp(known[i], key) != 0)
			i++;
		if (!known[i])
			sw_policy_conf_warn(d, path, key, "unknown key");
	}
	return true;
}
