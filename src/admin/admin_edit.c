/* SPDX-License-Identifier: MIT */
/* admin_edit.c - routes and upstreams changed on a copy of the running config, then validated. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/diag.h"
#include "http/context.h"
#include "admin/admin.h"

/* A config as a json-c tree; secrets redacted for reading, kept for changing. */
static json_object *running(const struct sw_config *cfg, bool redact)
{
	char *text = sw_config_to_json(cfg, redact);
	json_object *doc = json_tokener_parse(text);

	free(text);
	return doc;
}

json_object *sw_admin_section(const struct sw_exchange *x, const char *key)
{
	json_object *doc = running(x->ctx->cfg, true), *v;

	if (!key)
		return doc;
	if (!json_object_object_get_ex(doc, key, &v))
		v = json_object_new_array();
	else
		json_object_get(v);
	json_object_put(doc);
	return v;
}

static const char *str_of(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string) ?
	       json_object_get_string(v) : NULL;
}

static bool same_opt(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* The array at key, created when the config has none. */
static json_object *array_at(json_object *doc, const char *key)
{
	json_object *arr;

	if (!json_object_object_get_ex(doc, key, &arr) || !json_object_is_type(arr, json_type_array)) {
		arr = json_object_new_array();
		json_object_object_add(doc, key, arr);
	}
	return arr;
}

/* Index of the entry that item replaces (same path_prefix and host, or same name), or -1. */
static int find_entry(json_object *arr, json_object *item, bool route)
{
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *e = json_object_array_get_idx(arr, i);
		bool same = route ? same_opt(str_of(e, "path_prefix"), str_of(item, "path_prefix")) &&
				    same_opt(str_of(e, "host"), str_of(item, "host")) :
				    same_opt(str_of(e, "name"), str_of(item, "name"));
		if (same)
			return (int)i;
	}
	return -1;
}

static int put_entry(json_object *doc, const char *body, bool route, char **message)
{
	json_object *arr = array_at(doc, route ? "routes" : "upstreams");
	struct sw_diag d;
	json_object *item;
	int at;

	/* The file's rules: UTF-8, one object, nothing after it. */
	sw_diag_init(&d, route ? "route" : "upstream");
	item = sw_config_tokenize(body, strlen(body), &d);
	if (!item) {
		if (asprintf(message, "the body must be one %s as a JSON object: %s",
			     route ? "route" : "upstream",
			     sw_diag_first_error(&d) ? sw_diag_first_error(&d) : "invalid") < 0)
			*message = NULL;
		sw_diag_deinit(&d);
		return 400;
	}
	sw_diag_deinit(&d);
	at = find_entry(arr, item, route);
	if (at >= 0)
		json_object_array_put_idx(arr, (size_t)at, item);
	else
		json_object_array_add(arr, item);
	return 0;
}

static int delete_entries(json_object *doc, const char *key, const char *field, const char *value,
			  char **message)
{
	json_object *arr = array_at(doc, key);
	size_t removed = 0;

	for (size_t i = json_object_array_length(arr); i-- > 0;) {
		const char *v = str_of(json_object_array_get_idx(arr, i), field);
		if (v && strcmp(v, value) == 0) {
			json_object_array_del_idx(arr, i, 1);
			removed++;
		}
	}
	if (removed)
		return 0;
	if (asprintf(message, "no %s with %s \"%s\"", strcmp(key, "routes") ? "upstream" : "route",
		     field, value) < 0)
		*message = NULL;
	return 404;
}

/* An upstream a route still uses cannot go: 409 names the route. */
static int still_used(json_object *doc, const char *name, char **message)
{
	json_object *routes;

	if (!json_object_object_get_ex(doc, "routes", &routes))
		return 0;
	for (size_t i = 0; i < json_object_array_length(routes); i++) {
		json_object *r = json_object_array_get_idx(routes, i);
		if (same_opt(str_of(r, "upstream"), name)) {
			if (asprintf(message, "upstream \"%s\" is used by routes[%zu] (path_prefix %s)",
				     name, i, str_of(r, "path_prefix") ? str_of(r, "path_prefix") : "?") < 0)
				*message = NULL;
			return 409;
		}
	}
	return 0;
}

/* The changed text goes through the same loader as the file, with its messages. */
static char *validated(json_object *doc, int *status, char **message)
{
	const char *text = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN);
	struct sw_config cfg;
	struct sw_diag d;
	char *out = NULL;

	sw_diag_init(&d, "admin request");
	if (sw_config_parse(&cfg, text, strlen(text), &d) == SW_OK) {
		sw_config_deinit(&cfg);
		out = sw_strdup(text);
	} else {
		*status = 400;
		*message = sw_strdup(sw_diag_first_error(&d) ? sw_diag_first_error(&d) : "invalid");
	}
	sw_diag_deinit(&d);
	return out;
}

static const char *const op_names[SW_ADMIN_OPS] = {
	"put_route", "del_route", "put_upstream", "del_upstream", "reload", "persist",
	"upgrade",
};

const char *sw_admin_op_name(enum sw_admin_op op)
{
	return op < SW_ADMIN_OPS ? op_names[op] : "?";
}

enum sw_admin_op sw_admin_op_parse(const char *name)
{
	for (unsigned i = 0; i < SW_ADMIN_OPS; i++)
		if (strcmp(name, op_names[i]) == 0)
			return (enum sw_admin_op)i;
	return SW_ADMIN_OPS;
}

char *sw_admin_edit(const struct sw_config *base, enum sw_admin_op op, const char *arg,
		    int *status, char **message)
{
	json_object *doc = running(base, false);
	char *out = NULL;

	*message = NULL;
	switch (op) {
	case SW_ADMIN_OP_PUT_ROUTE:
		*status = put_entry(doc, arg, true, message);
		break;
	case SW_ADMIN_OP_PUT_UPSTREAM:
		*status = put_entry(doc, arg, false, message);
		break;
	case SW_ADMIN_OP_DEL_ROUTE:
		*status = delete_entries(doc, "routes", "path_prefix", arg, message);
		break;
	case SW_ADMIN_OP_DEL_UPSTREAM:
		*status = still_used(doc, arg, message);
		if (*status == 0)
			*status = delete_entries(doc, "upstreams", "name", arg, message);
		break;
	default:
		*status = 400;
		*message = sw_strdup("not a change");
	}
	if (*status == 0)
		out = validated(doc, status, message);
	json_object_put(doc);
	return out;
}
