/* SPDX-License-Identifier: MIT */
/* header_edit.c - set/add/remove lists of header fields: their config checks and their application to a response. */
#include <config.h>

#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "core/log.h"
#include "core/str.h"
#include "gateway/header_edit.h"

void sw_key_path(char *out, size_t size, const char *base, const char *fmt, ...)
{
	size_t n = (size_t)snprintf(out, size, "%s", base);
	va_list ap;

	if (n >= size)
		return;
	va_start(ap, fmt);
	vsnprintf(out + n, size - n, fmt, ap);
	va_end(ap);
}

bool sw_field_name_valid(const char *s)
{
	return sw_str_is_token(s);
}

bool sw_field_value_valid(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return false;
	}
	return len == 0 || (s[0] != ' ' && s[0] != '\t' && s[len - 1] != ' ' && s[len - 1] != '\t');
}

static bool forbidden_name(const char *name, const char *const *forbidden)
{
	for (; forbidden && *forbidden; forbidden++)
		if (strcasecmp(name, *forbidden) == 0)
			return true;
	return false;
}

/* A JSON string without NUL bytes, or NULL after an error naming path. */
static const char *json_str(struct json_object *v, const char *path, struct sw_diag *diag)
{
	if (!json_object_is_type(v, json_type_string)) {
		sw_diag_error(diag, path, "must be a string");
		return NULL;
	}
	if (strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v)) {
		sw_diag_error(diag, path, "must not contain a NUL byte");
		return NULL;
	}
	return json_object_get_string(v);
}

static bool check_name(const char *name, const char *path, const char *const *forbidden,
		       struct sw_diag *diag)
{
	if (!sw_field_name_valid(name)) {
		sw_diag_error(diag, path, "\"%s\" is not a valid header name", name);
		return false;
	}
	if (forbidden_name(name, forbidden)) {
		sw_diag_error(diag, path, "%s cannot be edited here (the server sets it)", name);
		return false;
	}
	return true;
}

/* One { "name": ..., "value": ... } of a set or add list into f. */
static bool field_compile(struct sw_field_cfg *f, struct json_object *v, const char *path,
			  const char *const *forbidden, struct sw_diag *diag)
{
	struct json_object *name, *value;
	const char *n, *s;
	char sub[256];
	bool ok = true;

	if (!json_object_is_type(v, json_type_object)) {
		sw_diag_error(diag, path, "must be an object { \"name\": ..., \"value\": ... }");
		return false;
	}
	json_object_object_foreach(v, key, unused) {
		(void)unused;
		if (strcmp(key, "name") && strcmp(key, "value")) {
			sw_key_path(sub, sizeof(sub), path, ".%s", key);
			sw_diag_error(diag, sub, "unknown key");
			ok = false;
		}
	}
	sw_key_path(sub, sizeof(sub), path, ".name");
	if (!json_object_object_get_ex(v, "name", &name)) {
		sw_diag_error(diag, sub, "required");
		ok = false;
	} else if (!(n = json_str(name, sub, diag)) || !check_name(n, sub, forbidden, diag)) {
		ok = false;
	} else {
		f->name = sw_strdup(n);
	}
	sw_key_path(sub, sizeof(sub), path, ".value");
	if (!json_object_object_get_ex(v, "value", &value)) {
		sw_diag_error(diag, sub, "required");
		ok = false;
	} else if (!(s = json_str(value, sub, diag))) {
		ok = false;
	} else if (!sw_field_value_valid(s, strlen(s))) {
		sw_diag_error(diag, sub, "not a valid header value (control characters such as CR "
			      "or LF, or leading or trailing whitespace)");
		ok = false;
	} else {
		f->value = sw_strdup(s);
	}
	return ok;
}

static bool fields_compile(struct sw_field_cfg **out, size_t *count, struct json_object *arr,
			   const char *path, const char *const *forbidden, struct sw_diag *diag)
{
	char sub[256];
	bool ok = true;
	size_t n;

	if (!json_object_is_type(arr, json_type_array)) {
		sw_diag_error(diag, path, "must be an array of { \"name\": ..., \"value\": ... }");
		return false;
	}
	n = json_object_array_length(arr);
	*out = n ? sw_calloc(n, sizeof(**out)) : NULL;
	*count = n;
	for (size_t i = 0; i < n; i++) {
		sw_key_path(sub, sizeof(sub), path, "[%zu]", i);
		ok &= field_compile(&(*out)[i], json_object_array_get_idx(arr, i), sub, forbidden,
				    diag);
	}
	return ok;
}

static bool names_compile(struct sw_header_edits *e, struct json_object *arr, const char *path,
			  const char *const *forbidden, struct sw_diag *diag)
{
	char sub[256];
	bool ok = true;
	size_t n;

	if (!json_object_is_type(arr, json_type_array)) {
		sw_diag_error(diag, path, "must be an array of header names");
		return false;
	}
	n = json_object_array_length(arr);
	e->remove = n ? sw_calloc(n, sizeof(*e->remove)) : NULL;
	e->remove_count = n;
	for (size_t i = 0; i < n; i++) {
		const char *s;
		sw_key_path(sub, sizeof(sub), path, "[%zu]", i);
		if (!(s = json_str(json_object_array_get_idx(arr, i), sub, diag)) ||
		    !check_name(s, sub, forbidden, diag))
			ok = false;
		else
			e->remove[i] = sw_strdup(s);
	}
	return ok;
}

/* Two set entries of one name would both be sent: say which to keep. */
static bool set_once(const struct sw_header_edits *e, const char *path, struct sw_diag *diag)
{
	for (size_t i = 1; i < e->set_count; i++)
		for (size_t j = 0; j < i; j++)
			if (strcasecmp(e->set[i].name, e->set[j].name) == 0) {
				sw_diag_error(diag, path, "%s is set twice ([%zu] and [%zu]); use add "
					      "for a second field", e->set[i].name, j, i);
				return false;
			}
	return true;
}

bool sw_header_edits_compile(struct sw_header_edits *e, struct json_object *obj,
			     const char *path, const char *const *forbidden,
			     struct sw_diag *diag)
{
	struct json_object *v;
	char sub[256];
	bool ok = true;

	memset(e, 0, sizeof(*e));
	if (json_object_object_get_ex(obj, "remove", &v)) {
		sw_key_path(sub, sizeof(sub), path, ".remove");
		ok &= names_compile(e, v, sub, forbidden, diag);
	}
	if (json_object_object_get_ex(obj, "set", &v)) {
		sw_key_path(sub, sizeof(sub), path, ".set");
		ok &= fields_compile(&e->set, &e->set_count, v, sub, forbidden, diag) &&
		      set_once(e, sub, diag);
	}
	if (json_object_object_get_ex(obj, "add", &v)) {
		sw_key_path(sub, sizeof(sub), path, ".add");
		ok &= fields_compile(&e->add, &e->add_count, v, sub, forbidden, diag);
	}
	return ok;
}

void sw_header_edits_set(struct sw_header_edits *e, const char *name, const char *value)
{
	e->set = sw_realloc(e->set, (e->set_count + 1) * sizeof(*e->set));
	e->set[e->set_count].name = sw_strdup(name);
	e->set[e->set_count].value = sw_strdup(value);
	e->set_count++;
}

bool sw_header_edits_sets(const struct sw_header_edits *e, const char *name)
{
	for (size_t i = 0; i < e->set_count; i++)
		if (e->set[i].name && strcasecmp(e->set[i].name, name) == 0)
			return true;
	return false;
}

static void fields_free(struct sw_field_cfg *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(f[i].name);
		free(f[i].value);
	}
	free(f);
}

void sw_header_edits_release(struct sw_header_edits *e)
{
	for (size_t i = 0; i < e->remove_count; i++)
		free(e->remove[i]);
	free(e->remove);
	fields_free(e->set, e->set_count);
	fields_free(e->add, e->add_count);
	memset(e, 0, sizeof(*e));
}

void sw_response_remove_header(struct sw_response *r, const char *name)
{
	unsigned kept = 0;

	for (unsigned i = 0; i < r->header_count; i++)
		if (!sw_str_ieq(r->headers[i].name, name))
			r->headers[kept++] = r->headers[i];
	r->header_count = kept;
}

static struct sw_str view(const char *s)
{
	return (struct sw_str){ s, strlen(s) };
}

static void add(struct sw_response *r, const struct sw_field_cfg *f)
{
	static bool told;

	if (sw_response_add_header(r, view(f->name), view(f->value)) != SW_OK && !told) {
		told = true;
		sw_warn("headers: a response already had %d fields; %s and "
			"later ones were left out (logged once)", SW_RESPONSE_MAX_HEADERS, f->name);
	}
}

void sw_header_edits_apply(const struct sw_header_edits *e, struct sw_response *r)
{
	for (size_t i = 0; i < e->remove_count; i++)
		sw_response_remove_header(r, e->remove[i]);
	for (size_t i = 0; i < e->set_count; i++)
		sw_response_remove_header(r, e->set[i].name);
	for (size_t i = 0; i < e->set_count; i++)
		add(r, &e->set[i]);
	for (size_t i = 0; i < e->add_count; i++)
		add(r, &e->add[i]);
}
