/* SPDX-License-Identifier: MIT */
/* registry.c - the auth methods by name, and compiling one {"method": conf} object. */
#include <config.h>

#include <stdio.h>
#include <string.h>
#include <json-c/json.h>
#include "auth/auth_impl.h"
#include "core/common.h"
#include "core/diag.h"

static const struct sw_auth_method *const methods[] = {
	&sw_auth_api_key,
	&sw_auth_basic,
	&sw_auth_jwt,
	&sw_auth_forward_auth,
	&sw_auth_chain,
	&sw_auth_anonymous,
};

unsigned sw_auth_compile_depth;

const struct sw_auth_method *sw_auth_method_find(const char *name)
{
	for (size_t i = 0; i < SW_ARRAY_SIZE(methods); i++)
		if (!strcmp(methods[i]->name, name))
			return methods[i];
	return NULL;
}

const char *sw_auth_method_names(void)
{
	static char names[128];

	if (!names[0]) {
		for (size_t i = 0; i < SW_ARRAY_SIZE(methods); i++) {
			size_t n = strlen(names);
			snprintf(names + n, sizeof(names) - n, "%s%s", i ? ", " : "", methods[i]->name);
		}
	}
	return names;
}

static bool listed(const char *key, const char *const *extra)
{
	for (; extra && *extra; extra++)
		if (!strcmp(key, *extra))
			return true;
	return false;
}

int sw_auth_node_compile(struct sw_auth_node *n, struct json_object *obj, const char *path,
			 const char *const *extra, unsigned depth, struct sw_diag *d)
{
	struct json_object *conf = NULL;
	char sub[512];

	n->m = NULL;
	n->state = NULL;
	if (!json_object_is_type(obj, json_type_object)) {
		sw_diag_error(d, path, "must be an object with one method (%s)", sw_auth_method_names());
		return SW_ERROR;
	}
	json_object_object_foreach(obj, key, val) {
		const struct sw_auth_method *m;
		if (listed(key, extra))
			continue;
		if (!(m = sw_auth_method_find(key))) {
			sw_diag_error(d, path, "%s: not an auth method (%s)", key, sw_auth_method_names());
			return SW_ERROR;
		}
		if (n->m) {
			sw_diag_error(d, path, "%s and %s: one method per object (a \"chain\" tries several)",
				      n->m->name, key);
			return SW_ERROR;
		}
		n->m = m;
		conf = val;
	}
	if (!n->m) {
		sw_diag_error(d, path, "names no method (%s)", sw_auth_method_names());
		return SW_ERROR;
	}
	snprintf(sub, sizeof(sub), "%s.%s", path, n->m->name);
	sw_auth_compile_depth = depth;
	n->state = n->m->compile(conf, sub, d);
	if (!n->state) {
		/* compile adds its reason; make sure an error is on record all the same */
		if (d && !d->errors)
			sw_diag_error(d, sub, "invalid");
		n->m = NULL;
		return SW_ERROR;
	}
	return SW_OK;
}

void sw_auth_node_release(struct sw_auth_node *n)
{
	if (n->m && n->m->release)
		n->m->release(n->state);
	n->m = NULL;
	n->state = NULL;
}

size_t sw_auth_node_challenges(const struct sw_auth_node *n, const char **out, size_t max)
{
	if (n->m == &sw_auth_chain)
		return sw_auth_chain_challenges(n->state, out, max);
	if (!n->m->challenge || max == 0)
		return 0;
	out[0] = n->m->challenge;
	return 1;
}
