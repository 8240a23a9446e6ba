/* SPDX-License-Identifier: MIT */
/*
 * body_schema.c - the `body_schema` policy (routes[].body_schema): holds a
 * JSON request body, validates it against the route's schema, and lets it
 * through unchanged or answers 400/415.
 */
#include <config.h>

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "core/diag.h"
#include "gateway/gateway.h"
#include "gateway/json_body.h"
#include "gateway/reply.h"
#include "gateway/schema.h"
#include "http/policy.h"

#define MAX_TYPES 16

struct body_schema {
	struct sw_schema *schema;
	char *types[MAX_TYPES];     /* "application/json" or a suffix "+json", lower case */
	size_t ntypes;
	bool require_json;          /* a body of another type: 415 (the default) */
};

static void body_schema_release(void *state)
{
	struct body_schema *b = state;

	if (!b)
		return;
	sw_schema_release(b->schema);
	for (size_t i = 0; i < b->ntypes; i++)
		free(b->types[i]);
	free(b);
}

static void add_type(struct body_schema *b, const char *t)
{
	char *copy = sw_strdup(t);

	for (char *c = copy; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	b->types[b->ntypes++] = copy;
}

/* "type/subtype" or "+suffix": token characters around one '/', or '+' then some. */
static bool media_type_ok(const char *t)
{
	const char *slash = strchr(t, '/');

	if (t[0] == '+')
		return t[1] && !strpbrk(t, "/; \t");
	return slash && slash > t && slash[1] && !strchr(slash + 1, '/') && !strpbrk(t, "; \t*");
}

static bool types(struct body_schema *b, struct json_object *v, const char *path, struct sw_diag *d)
{
	size_t n;

	if (!json_object_is_type(v, json_type_array) || json_object_array_length(v) == 0) {
		sw_diag_error(d, path, "must be a non-empty array of media types (\"application/json\", \"+json\")");
		return false;
	}
	n = json_object_array_length(v);
	if (n > MAX_TYPES) {
		sw_diag_error(d, path, "at most %d media types", MAX_TYPES);
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(v, i);
		if (!json_object_is_type(e, json_type_string) || !media_type_ok(json_object_get_string(e))) {
			sw_diag_error(d, path, "[%zu]: must be \"type/subtype\" or a \"+suffix\" (no parameters, no wildcards)", i);
			return false;
		}
		add_type(b, json_object_get_string(e));
	}
	return true;
}

/*
 * Two forms: the schema itself, or {"schema": ..., "content_types": [...],
 * "require_json": bool}.  "schema" is no JSON Schema keyword, so its
 * presence tells them apart.
 */
static bool options(struct body_schema *b, struct json_object *conf, const char *path,
		    struct sw_diag *d, struct json_object **schema)
{
	bool ok = true;
	char sub[256];

	json_object_object_foreach(conf, key, val) {
		snprintf(sub, sizeof(sub), "%s.%s", path, key);
		if (strcmp(key, "schema") == 0) {
			*schema = val;
		} else if (strcmp(key, "content_types") == 0) {
			ok &= types(b, val, sub, d);
		} else if (strcmp(key, "require_json") == 0) {
			if (!json_object_is_type(val, json_type_boolean)) {
				sw_diag_error(d, sub, "must be true or false");
				ok = false;
			}
			b->require_json = json_object_get_boolean(val);
		} else {
			sw_diag_error(d, sub, "unknown key (with \"schema\", body_schema takes schema, "
				      "content_types, require_json)");
			ok = false;
		}
	}
	return ok;
}

static void *body_schema_compile(struct json_object *conf, const char *path, struct sw_diag *d)
{
	struct body_schema *b = sw_calloc(1, sizeof(*b));
	struct json_object *schema = conf;
	char sub[256];
	bool ok = true;

	b->require_json = true;
	if (json_object_is_type(conf, json_type_object) && json_object_object_get_ex(conf, "schema", NULL)) {
		ok = options(b, conf, path, d, &schema);
		snprintf(sub, sizeof(sub), "%s.schema", path);
		path = sub;
	}
	if (ok && !b->ntypes) {
		add_type(b, "application/json");
		add_type(b, "+json");
	}
	b->schema = sw_schema_compile(schema, path, d);
	if (!ok || !b->schema) {
		body_schema_release(b);
		return NULL;
	}
	return b;
}

/* The media type of Content-Type (before any ';'), matched exactly or by its +suffix. */
static bool is_json_type(const struct body_schema *b, const struct sw_exchange *x)
{
	const struct sw_header *h = sw_request_header(&x->req, "Content-Type");
	struct sw_str v;
	size_t len;

	if (!h)
		return false;
	v = h->value;
	len = v.len;
	for (size_t i = 0; i < v.len; i++)
		if (v.p[i] == ';' || v.p[i] == ' ' || v.p[i] == '\t') {
			len = i;
			break;
		}
	for (size_t i = 0; i < b->ntypes; i++) {
		const char *t = b->types[i];
		size_t tl = strlen(t);
		if (t[0] == '+' ? len > tl && memchr(v.p, '/', len) && strncasecmp(v.p + len - tl, t, tl) == 0
				: len == tl && strncasecmp(v.p, t, tl) == 0)
			return true;
	}
	return false;
}

/* Content-Encoding other than identity: bytes the validator cannot read. */
static bool encoded(const struct sw_exchange *x)
{
	const struct sw_header *h = sw_request_header(&x->req, "Content-Encoding");

	return h && !sw_str_ieq(h->value, "identity") && h->value.len;
}

static void reply_violation(struct sw_exchange *x, const struct sw_schema_error *e)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "error", json_object_new_string("schema_violation"));
	json_object_object_add(o, "path", json_object_new_string(e->pointer));
	json_object_object_add(o, "keyword", json_object_new_string(e->keyword));
	json_object_object_add(o, "message", json_object_new_string(e->message));
	sw_gateway_reply(x, 400, o);
	json_object_put(o);
}

static void on_held(struct sw_exchange *x, const char *body, size_t len)
{
	const struct body_schema *b = sw_policy_paused_state(x);
	struct sw_schema_error err;
	struct json_object *j;
	const char *why;
	size_t at;
	char msg[160];
	bool ok;

	if (len == 0) {   /* an empty body (HTTP/2 DATA with nothing in it) is no body */
		sw_policy_resume(x, SW_POLICY_CONTINUE);
		return;
	}
	if (!sw_json_body_parse(body, len, &j, &why, &at)) {
		snprintf(msg, sizeof(msg), "the body is not JSON: %s at byte %zu", why, at);
		sw_gateway_reply_error(x, 400, "invalid_json", msg);
		sw_policy_resume(x, SW_POLICY_DONE);
		return;
	}
	ok = sw_schema_validate(b->schema, j, &err);
	json_object_put(j);
	if (!ok) {
		reply_violation(x, &err);
		sw_policy_resume(x, SW_POLICY_DONE);
		return;
	}
	sw_policy_resume(x, SW_POLICY_CONTINUE);
}

static enum sw_policy_verdict body_schema_request(struct sw_exchange *x, void *state)
{
	const struct body_schema *b = state;

	if (!x->req.has_body)
		return SW_POLICY_CONTINUE;
	if (!is_json_type(b, x)) {
		if (!b->require_json)
			return SW_POLICY_CONTINUE;
		sw_gateway_reply_error(x, 415, "unsupported_media_type",
				       "this route takes JSON bodies (Content-Type application/json or +json)");
		return SW_POLICY_DONE;
	}
	if (encoded(x)) {
		sw_gateway_reply_error(x, 415, "unsupported_media_type",
				       "this route validates its bodies: no Content-Encoding");
		return SW_POLICY_DONE;
	}
	sw_exchange_hold_body(x, SIZE_MAX, on_held);
	return SW_POLICY_PAUSE;
}

const struct sw_policy sw_policy_body_schema = {
	.key = "body_schema",
	.scopes = SW_POLICY_ROUTE,
	.order = SW_POLICY_ORDER_BODY_SCHEMA,
	.compile = body_schema_compile,
	.release = body_schema_release,
	.request = body_schema_request,
};
