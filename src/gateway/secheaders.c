/* SPDX-License-Identifier: MIT */
/* secheaders.c - the `headers` policy's config (set/add/remove and the security presets) and its response edits. */
#include <config.h>

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "gateway/secheaders.h"
#include "gateway/gateway.h"
#include "http/policy.h"

/*
 * Fields that frame the message or belong to one connection (editing them
 * would break it), and those the codec writes after every policy ran
 * (an edit would do nothing; server.server_header turns Server off).
 */
static const char *const response_owned[] = {
	"connection", "content-length", "date", "keep-alive", "proxy-connection", "server", "te",
	"trailer", "transfer-encoding", "upgrade", "x-request-id", NULL,
};

/* The proxy builds these for every upstream request (proxy/headers.c); auth owns X-Consumer. */
static const char *const request_owned[] = {
	"connection", "content-length", "expect", "host", "keep-alive", "proxy-connection", "te",
	"trailer", "transfer-encoding", "upgrade", "via", "x-client-cert-subject", "x-consumer",
	"x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "x-request-id", NULL,
};

static const char *const response_keys[] = {
	"set", "add", "remove", "hsts", "nosniff", "referrer_policy", "frame_options",
	"content_security_policy", "permissions_policy", NULL,
};
static const char *const request_keys[] = { "set", "add", "remove", NULL };
static const char *const top_keys[] = { "response", "request", NULL };

/* RFC 6797 6.1.1 sets no upper bound; a year is what preload lists ask for. */
#define HSTS_DEFAULT_AGE 31536000
#define HSTS_PRELOAD_MIN_AGE 31536000

static const char *const referrer_policies[] = {
	"no-referrer", "no-referrer-when-downgrade", "origin", "origin-when-cross-origin",
	"same-origin", "strict-origin", "strict-origin-when-cross-origin", "unsafe-url", NULL,
};

static bool in_list(const char *s, size_t len, const char *const *list)
{
	for (; *list; list++)
		if (strlen(*list) == len && strncasecmp(s, *list, len) == 0)
			return true;
	return false;
}

static bool only_keys(struct json_object *obj, const char *path, const char *const *known,
		      struct sw_diag *diag)
{
	char sub[256];
	bool ok = true;

	if (!json_object_is_type(obj, json_type_object)) {
		sw_diag_error(diag, path, "must be an object");
		return false;
	}
	json_object_object_foreach(obj, key, unused) {
		(void)unused;
		if (!in_list(key, strlen(key), known)) {
			sw_key_path(sub, sizeof(sub), path, ".%s", key);
			sw_diag_error(diag, sub, "unknown key");
			ok = false;
		}
	}
	return ok;
}

/* A string preset's value, checked like any field value; NULL after an error. */
static const char *preset_string(struct json_object *v, const char *path, struct sw_diag *diag)
{
	const char *s;

	if (!json_object_is_type(v, json_type_string)) {
		sw_diag_error(diag, path, "must be a string");
		return NULL;
	}
	s = json_object_get_string(v);
	if (strlen(s) != (size_t)json_object_get_string_len(v) ||
	    !sw_field_value_valid(s, strlen(s)) || !*s) {
		sw_diag_error(diag, path, "not a valid header value (empty, control characters "
			      "such as CR or LF, or leading or trailing whitespace)");
		return NULL;
	}
	return s;
}

/* Adds a preset's field to the set list unless set already names it (ambiguous). */
static bool preset(struct sw_header_edits *e, const char *name, const char *value,
		   const char *path, struct sw_diag *diag)
{
	if (sw_header_edits_sets(e, name)) {
		sw_diag_error(diag, path, "%s is also in set; keep one", name);
		return false;
	}
	sw_header_edits_set(e, name, value);
	return true;
}

static bool bool_key(struct json_object *obj, const char *key, bool *out, const char *path,
		     struct sw_diag *diag)
{
	struct json_object *v;
	char sub[256];

	if (!json_object_object_get_ex(obj, key, &v))
		return true;
	if (!json_object_is_type(v, json_type_boolean)) {
		sw_key_path(sub, sizeof(sub), path, ".%s", key);
		sw_diag_error(diag, sub, "must be true or false");
		return false;
	}
	*out = json_object_get_boolean(v);
	return true;
}

/* hsts: true, false or { max_age, include_subdomains, preload }. */
static bool hsts_compile(struct sw_secheaders *h, struct json_object *v, const char *path,
			 struct sw_diag *diag)
{
	static const char *const keys[] = { "max_age", "include_subdomains", "preload", NULL };
	int64_t age = HSTS_DEFAULT_AGE;
	bool subs = false, preload = false, ok = true;
	struct json_object *a;
	char sub[256], value[96];

	if (json_object_is_type(v, json_type_boolean)) {
		if (!json_object_get_boolean(v))
			return true;
	} else if (!only_keys(v, path, keys, diag)) {
		return false;
	} else {
		if (json_object_object_get_ex(v, "max_age", &a)) {
			sw_key_path(sub, sizeof(sub), path, ".max_age");
			if (!json_object_is_type(a, json_type_int) ||
			    (age = json_object_get_int64(a)) < 0 || age > INT32_MAX) {
				sw_diag_error(diag, sub, "must be seconds from 0 to %d", INT32_MAX);
				ok = false;
			}
		}
		ok &= bool_key(v, "include_subdomains", &subs, path, diag);
		ok &= bool_key(v, "preload", &preload, path, diag);
		/* What the preload lists (hstspreload.org) accept; anything less is never listed. */
		if (ok && preload && (!subs || age < HSTS_PRELOAD_MIN_AGE)) {
			sw_key_path(sub, sizeof(sub), path, ".preload");
			sw_diag_error(diag, sub, "needs include_subdomains and a max_age of at least "
				      "%d (a year)", HSTS_PRELOAD_MIN_AGE);
			ok = false;
		}
		if (!ok)
			return false;
	}
	snprintf(value, sizeof(value), "max-age=%lld%s%s", (long long)age,
		 subs ? "; includeSubDomains" : "", preload ? "; preload" : "");
	h->hsts = sw_strdup(value);
	return true;
}

/* referrer_policy: one or more policy tokens, comma-separated (the last known one applies). */
static bool referrer_compile(struct sw_header_edits *e, struct json_object *v, const char *path,
			     struct sw_diag *diag)
{
	const char *s = preset_string(v, path, diag), *p;

	if (!s)
		return false;
	for (p = s; *p;) {
		size_t n;
		while (*p == ' ' || *p == ',')
			p++;
		n = strcspn(p, " ,");
		if (n && !in_list(p, n, referrer_policies)) {
			sw_diag_error(diag, path, "\"%.*s\" is not a Referrer-Policy "
				      "(no-referrer, same-origin, strict-origin-when-cross-origin, ...)",
				      (int)n, p);
			return false;
		}
		p += n;
	}
	return preset(e, "Referrer-Policy", s, path, diag);
}

static bool frame_compile(struct sw_header_edits *e, struct json_object *v, const char *path,
			  struct sw_diag *diag)
{
	const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";

	/* ALLOW-FROM is obsolete and ignored by browsers: frame-ancestors in a CSP replaces it. */
	if (strcasecmp(s, "DENY") && strcasecmp(s, "SAMEORIGIN")) {
		sw_diag_error(diag, path, "must be \"DENY\" or \"SAMEORIGIN\"");
		return false;
	}
	return preset(e, "X-Frame-Options", strcasecmp(s, "DENY") ? "SAMEORIGIN" : "DENY", path,
		      diag);
}

static bool string_preset(struct sw_header_edits *e, struct json_object *obj, const char *key,
			  const char *name, const char *path, struct sw_diag *diag)
{
	struct json_object *v;
	const char *s;
	char sub[256];

	if (!json_object_object_get_ex(obj, key, &v))
		return true;
	sw_key_path(sub, sizeof(sub), path, ".%s", key);
	return (s = preset_string(v, sub, diag)) && preset(e, name, s, sub, diag);
}

static bool presets_compile(struct sw_secheaders *h, struct json_object *obj, const char *path,
			    struct sw_diag *diag)
{
	struct json_object *v;
	char sub[256];
	bool ok = true, on = false;

	if (json_object_object_get_ex(obj, "hsts", &v)) {
		sw_key_path(sub, sizeof(sub), path, ".hsts");
		ok &= hsts_compile(h, v, sub, diag);
	}
	if (!bool_key(obj, "nosniff", &on, path, diag))
		ok = false;
	else if (on)
		ok &= preset(&h->response, "X-Content-Type-Options", "nosniff", path, diag);
	if (json_object_object_get_ex(obj, "referrer_policy", &v)) {
		sw_key_path(sub, sizeof(sub), path, ".referrer_policy");
		ok &= referrer_compile(&h->response, v, sub, diag);
	}
	if (json_object_object_get_ex(obj, "frame_options", &v)) {
		sw_key_path(sub, sizeof(sub), path, ".frame_options");
		ok &= frame_compile(&h->response, v, sub, diag);
	}
	ok &= string_preset(&h->response, obj, "content_security_policy", "Content-Security-Policy",
			    path, diag);
	ok &= string_preset(&h->response, obj, "permissions_policy", "Permissions-Policy", path,
			    diag);
	return ok;
}

/* Strict-Transport-Security only through the preset, which knows to keep it off plain HTTP. */
static bool no_raw_hsts(const struct sw_header_edits *e, const char *path, struct sw_diag *diag)
{
	for (size_t i = 0; i < e->add_count; i++)
		if (e->add[i].name && strcasecmp(e->add[i].name, "strict-transport-security") == 0) {
			sw_diag_error(diag, path, "Strict-Transport-Security: use response.hsts, "
				      "which is sent over TLS only (RFC 6797)");
			return false;
		}
	if (sw_header_edits_sets(e, "strict-transport-security")) {
		sw_diag_error(diag, path, "Strict-Transport-Security: use response.hsts, "
			      "which is sent over TLS only (RFC 6797)");
		return false;
	}
	return true;
}

static bool response_compile(struct sw_secheaders *h, struct json_object *obj, const char *path,
			     struct sw_diag *diag)
{
	bool ok = only_keys(obj, path, response_keys, diag);

	if (!ok)
		return false;
	ok &= sw_header_edits_compile(&h->response, obj, path, response_owned, diag);
	ok &= no_raw_hsts(&h->response, path, diag);
	ok &= presets_compile(h, obj, path, diag);
	return ok;
}

struct sw_secheaders *sw_secheaders_compile(struct json_object *conf, const char *path,
					    struct sw_diag *diag)
{
	struct sw_secheaders *h;
	struct json_object *v;
	char sub[256];
	bool ok;

	if (!only_keys(conf, path, top_keys, diag))
		return NULL;
	h = sw_calloc(1, sizeof(*h));
	ok = true;
	if (json_object_object_get_ex(conf, "response", &v)) {
		sw_key_path(sub, sizeof(sub), path, ".response");
		ok &= response_compile(h, v, sub, diag);
	}
	if (json_object_object_get_ex(conf, "request", &v)) {
		sw_key_path(sub, sizeof(sub), path, ".request");
		ok &= only_keys(v, sub, request_keys, diag) &&
		      sw_header_edits_compile(&h->request, v, sub, request_owned, diag);
	}
	if (!ok) {
		sw_secheaders_release(h);
		return NULL;
	}
	return h;
}

void sw_secheaders_release(struct sw_secheaders *h)
{
	if (!h)
		return;
	sw_header_edits_release(&h->response);
	sw_header_edits_release(&h->request);
	free(h->hsts);
	free(h);
}

void sw_secheaders_response(const struct sw_secheaders *h, struct sw_response *r, bool tls)
{
	sw_header_edits_apply(&h->response, r);
	if (h->hsts && tls) {
		sw_response_remove_header(r, "strict-transport-security");
		sw_response_add_header(r, SW_STR("Strict-Transport-Security"),
				       (struct sw_str){ h->hsts, strlen(h->hsts) });
	}
}

/* ---- the policy ------------------------------------------------------------------------- */

static void *headers_compile(struct json_object *conf, const char *path, struct sw_diag *diag)
{
	return sw_secheaders_compile(conf, path, diag);
}

static void headers_release(void *state)
{
	sw_secheaders_release(state);
}

/* The edit a policy before made to name (the last one counts), or NULL. */
static const struct sw_upstream_edit *last_edit(const struct sw_exchange *x, const char *name)
{
	const struct sw_upstream_edit *e, *last = NULL;
	size_t n;

	e = sw_exchange_upstream_edits(x, &n);
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(e[i].name, name) == 0)
			last = &e[i];
	return last;
}

/*
 * An `add` edit.  An upstream edit replaces the field, so its value is
 * what would go so far (an earlier edit's, else the client's fields),
 * then ours, as one list (RFC 9110 5.3; "; " between cookies).
 */
static void upstream_add(struct sw_exchange *x, const struct sw_field_cfg *f)
{
	const struct sw_upstream_edit *last = last_edit(x, f->name);
	const char *sep = strcasecmp(f->name, "cookie") == 0 ? "; " : ", ";
	size_t size = strlen(f->value) + 1, len = 0;
	char *v;

	if (last && last->value)
		size += strlen(last->value) + 2;
	for (unsigned i = 0; !last && i < x->req.header_count; i++)
		if (sw_str_ieq(x->req.headers[i].name, f->name))
			size += x->req.headers[i].value.len + 2;
	v = sw_malloc(size);
	v[0] = '\0';
	if (last && last->value)
		len = (size_t)snprintf(v, size, "%s", last->value);
	for (unsigned i = 0; !last && i < x->req.header_count; i++) {
		const struct sw_header *h = &x->req.headers[i];
		if (sw_str_ieq(h->name, f->name))
			len += (size_t)snprintf(v + len, size - len, "%s%.*s", len ? sep : "",
						(int)h->value.len, h->value.p);
	}
	snprintf(v + len, size - len, "%s%s", len ? sep : "", f->value);
	sw_exchange_upstream_set(x, f->name, v);
	free(v);
}

static enum sw_policy_verdict headers_request(struct sw_exchange *x, void *state)
{
	const struct sw_header_edits *e = &((const struct sw_secheaders *)state)->request;

	for (size_t i = 0; i < e->remove_count; i++)
		sw_exchange_upstream_remove(x, e->remove[i]);
	for (size_t i = 0; i < e->set_count; i++)
		sw_exchange_upstream_set(x, e->set[i].name, e->set[i].value);
	for (size_t i = 0; i < e->add_count; i++)
		upstream_add(x, &e->add[i]);
	return SW_POLICY_CONTINUE;
}

static void headers_response(struct sw_exchange *x, void *state)
{
	sw_secheaders_response(state, &x->resp, x->tls);
}

const struct sw_policy sw_policy_headers = {
	.key = "headers",
	.scopes = SW_POLICY_ROUTE | SW_POLICY_GLOBAL,
	.order = SW_POLICY_ORDER_HEADERS,
	.compile = headers_compile,
	.release = headers_release,
	.request = headers_request,
	.response = headers_response,
};
