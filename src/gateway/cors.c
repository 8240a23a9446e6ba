/* SPDX-License-Identifier: MIT */
/* cors.c - the `cors` policy's config and its answers, after the Fetch standard's CORS protocol. */
#include <config.h>

#include <ctype.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "gateway/cors.h"
#include "gateway/header_edit.h"
#include "gateway/gateway.h"
#include "http/policy.h"

/* One entry of `origins`: scheme://host[:port], host possibly "*.suffix". */
struct origin_pat {
	char *scheme;     /* lower case */
	char *host;       /* lower case; a wildcard keeps the suffix with its dot: ".example.com" */
	char *port;       /* NULL: the Origin has none (its scheme's default port) */
	bool wildcard;
};

struct name_list {
	char **v;
	size_t n;
	bool any;         /* "*" */
	char *joined;     /* "A, B, C" for a field value; NULL when empty */
};

struct sw_cors {
	bool any_origin;
	struct origin_pat *origins;
	size_t origin_count;
	struct name_list methods, headers, expose;
	bool credentials;
	char *max_age;    /* decimal seconds, or NULL: no Access-Control-Max-Age */
};

/* Chromium caps a preflight's cache at 2 hours, Firefox at 24: beyond that is not kept anyway. */
#define MAX_AGE_LIMIT 86400

static const char *const keys[] = {
	"origins", "methods", "headers", "expose_headers", "credentials", "max_age_s", NULL,
};

/* What the upstream may have said itself; on a CORS route the gateway answers alone. */
static const char *const cors_fields[] = {
	"access-control-allow-origin", "access-control-allow-credentials",
	"access-control-allow-methods", "access-control-allow-headers",
	"access-control-expose-headers", "access-control-max-age",
};

/* ---- origins --------------------------------------------------------------------------- */

static bool label_char(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '_';
}

/* One or more dot-separated non-empty labels. */
static bool labels_valid(const char *s, size_t n)
{
	bool empty = true;

	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (empty)
				return false;
			empty = true;
		} else if (label_char(s[i])) {
			empty = false;
		} else {
			return false;
		}
	}
	return !empty;
}

static bool host_valid(const char *s, size_t n)
{
	if (n > 2 && s[0] == '[' && s[n - 1] == ']') {
		for (size_t i = 1; i < n - 1; i++)
			if (!isxdigit((unsigned char)s[i]) && s[i] != ':' && s[i] != '.')
				return false;
		return true;
	}
	return labels_valid(s, n);
}

static bool port_valid(const char *s, size_t n)
{
	unsigned long v = 0;

	if (n == 0 || n > 5 || s[0] == '0')
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	return v <= 65535;
}

static bool scheme_valid(const char *s, size_t n)
{
	if (n == 0 || !isalpha((unsigned char)s[0]))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("+-.", s[i]))
			return false;
	return true;
}

/* The parts of a serialized origin (RFC 6454 6.2), as views; false if it is not one. */
struct origin_view {
	struct sw_str scheme, host, port;
};

static bool origin_split(const char *s, size_t n, bool scheme_optional, struct origin_view *o)
{
	const char *sep = memmem(s, n, "://", 3), *colon, *end = s + n;

	memset(o, 0, sizeof(*o));
	if (sep) {
		o->scheme = (struct sw_str){ s, (size_t)(sep - s) };
		s = sep + 3;
	} else if (!scheme_optional) {
		return false;
	}
	/* The port follows the last ':' that is not inside an IPv6 literal. */
	colon = memrchr(s, ':', (size_t)(end - s));
	if (colon && memchr(colon, ']', (size_t)(end - colon)))
		colon = NULL;
	o->host = (struct sw_str){ s, (size_t)((colon ? colon : end) - s) };
	if (colon)
		o->port = (struct sw_str){ colon + 1, (size_t)(end - colon - 1) };
	return (!sep || scheme_valid(o->scheme.p, o->scheme.len)) &&
	       (!colon || port_valid(o->port.p, o->port.len));
}

static char *lower_dup(struct sw_str s)
{
	char *d = sw_strndup(s.p, s.len);

	for (char *c = d; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	return d;
}

static bool pattern_compile(struct origin_pat *pat, const char *s, const char *path,
			    struct sw_diag *diag)
{
	struct origin_view o;
	struct sw_str host;
	bool wild;

	if (strcasecmp(s, "null") == 0) {
		sw_diag_error(diag, path, "\"null\" is the origin of sandboxed pages and file: URLs, "
			      "which any site can produce; it cannot be allowed");
		return false;
	}
	if (!origin_split(s, strlen(s), true, &o)) {
		sw_diag_error(diag, path, "\"%s\" is not an origin (scheme://host[:port], "
			      "e.g. https://app.example.com, with no path)", s);
		return false;
	}
	host = o.host;
	wild = host.len >= 2 && host.p[0] == '*' && host.p[1] == '.';
	if (wild) {
		host.p++;
		host.len--;
	}
	if (!host_valid(wild ? host.p + 1 : host.p, wild ? host.len - 1 : host.len)) {
		sw_diag_error(diag, path, "\"%s\" is not an origin: bad host (a wildcard is only "
			      "\"*.\" before the rest, as in https://*.example.com)", s);
		return false;
	}
	/* "*.com" would be every site under a top-level domain. */
	if (wild && !memchr(host.p + 1, '.', host.len - 1)) {
		sw_diag_error(diag, path, "\"%s\": a wildcard needs at least two labels after "
			      "\"*.\"", s);
		return false;
	}
	pat->scheme = o.scheme.len ? lower_dup(o.scheme) : sw_strdup("https");
	pat->host = lower_dup(host);
	pat->port = o.port.len ? sw_strndup(o.port.p, o.port.len) : NULL;
	pat->wildcard = wild;
	return true;
}

static bool str_ieq_view(struct sw_str v, const char *s)
{
	return strlen(s) == v.len && strncasecmp(v.p, s, v.len) == 0;
}

static bool pattern_match(const struct origin_pat *pat, const struct origin_view *o)
{
	size_t suffix;

	if (!str_ieq_view(o->scheme, pat->scheme))
		return false;
	if (pat->port ? !sw_str_eq(o->port, pat->port) : o->port.len != 0)
		return false;
	if (!pat->wildcard)
		return str_ieq_view(o->host, pat->host);
	/* "*." matches one or more labels: a.example.com, a.b.example.com, not example.com. */
	suffix = strlen(pat->host);
	return o->host.len > suffix &&
	       strncasecmp(o->host.p + o->host.len - suffix, pat->host, suffix) == 0 &&
	       labels_valid(o->host.p, o->host.len - suffix);
}

bool sw_cors_origin_allowed(const struct sw_cors *c, struct sw_str origin)
{
	struct origin_view o;

	if (!origin_split(origin.p, origin.len, false, &o) || !host_valid(o.host.p, o.host.len))
		return false;
	if (c->any_origin)
		return true;
	for (size_t i = 0; i < c->origin_count; i++)
		if (pattern_match(&c->origins[i], &o))
			return true;
	return false;
}

/* ---- config ---------------------------------------------------------------------------- */

static const char *json_str(struct json_object *v)
{
	if (!json_object_is_type(v, json_type_string) ||
	    strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v))
		return NULL;
	return json_object_get_string(v);
}

static bool origins_compile(struct sw_cors *c, struct json_object *arr, const char *path,
			    struct sw_diag *diag)
{
	char sub[256];
	bool ok = true;
	size_t n;

	if (!json_object_is_type(arr, json_type_array) || !(n = json_object_array_length(arr))) {
		sw_diag_error(diag, path, "must be a non-empty array of origins "
			      "(\"https://app.example.com\", \"https://*.example.com\", or \"*\")");
		return false;
	}
	c->origins = sw_calloc(n, sizeof(*c->origins));
	for (size_t i = 0; i < n; i++) {
		const char *s = json_str(json_object_array_get_idx(arr, i));
		sw_key_path(sub, sizeof(sub), path, "[%zu]", i);
		if (!s) {
			sw_diag_error(diag, sub, "must be a string");
			ok = false;
		} else if (strcmp(s, "*") == 0) {
			if (n > 1) {
				sw_diag_error(diag, sub, "\"*\" allows every origin: list it alone");
				ok = false;
			}
			c->any_origin = true;
		} else if (pattern_compile(&c->origins[c->origin_count], s, sub, diag)) {
			c->origin_count++;
		} else {
			ok = false;
		}
	}
	return ok;
}

static char *join(char **v, size_t n)
{
	size_t len = 1;
	char *s;

	if (n == 0)
		return NULL;
	for (size_t i = 0; i < n; i++)
		len += strlen(v[i]) + 2;
	s = sw_malloc(len);
	s[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (i)
			strcat(s, ", ");
		strcat(s, v[i]);
	}
	return s;
}

/* An array of tokens (methods or field names), or ["*"]. */
static bool names_compile(struct name_list *l, struct json_object *arr, const char *path,
			  struct sw_diag *diag)
{
	char sub[256];
	bool ok = true;
	size_t n;

	if (!json_object_is_type(arr, json_type_array)) {
		sw_diag_error(diag, path, "must be an array of names");
		return false;
	}
	n = json_object_array_length(arr);
	l->v = n ? sw_calloc(n, sizeof(*l->v)) : NULL;
	for (size_t i = 0; i < n; i++) {
		const char *s = json_str(json_object_array_get_idx(arr, i));
		sw_key_path(sub, sizeof(sub), path, "[%zu]", i);
		if (s && strcmp(s, "*") == 0 && n == 1) {
			l->any = true;
		} else if (!s || !sw_field_name_valid(s) || strcmp(s, "*") == 0) {
			sw_diag_error(diag, sub, "must be a name (an HTTP token)%s",
				      s && strcmp(s, "*") == 0 ? "; \"*\" goes alone" : "");
			ok = false;
		} else {
			l->v[l->n++] = sw_strdup(s);
		}
	}
	l->joined = join(l->v, l->n);
	return ok;
}

static bool optional_names(struct name_list *l, struct json_object *conf, const char *key,
			   const char *path, struct sw_diag *diag)
{
	struct json_object *v;
	char sub[256];

	if (!json_object_object_get_ex(conf, key, &v))
		return true;
	sw_key_path(sub, sizeof(sub), path, ".%s", key);
	return names_compile(l, v, sub, diag);
}

static bool scalars_compile(struct sw_cors *c, struct json_object *conf, const char *path,
			    struct sw_diag *diag)
{
	struct json_object *v;
	char sub[256], num[24];
	bool ok = true;

	if (json_object_object_get_ex(conf, "credentials", &v)) {
		if (json_object_is_type(v, json_type_boolean)) {
			c->credentials = json_object_get_boolean(v);
		} else {
			sw_key_path(sub, sizeof(sub), path, ".credentials");
			sw_diag_error(diag, sub, "must be true or false");
			ok = false;
		}
	}
	if (json_object_object_get_ex(conf, "max_age_s", &v)) {
		int64_t age = json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : -1;
		sw_key_path(sub, sizeof(sub), path, ".max_age_s");
		if (age < 0 || age > MAX_AGE_LIMIT) {
			sw_diag_error(diag, sub, "must be seconds from 0 to %d", MAX_AGE_LIMIT);
			ok = false;
		} else {
			snprintf(num, sizeof(num), "%lld", (long long)age);
			c->max_age = sw_strdup(num);
		}
	}
	return ok;
}

/* The Fetch standard reads "*" as a wildcard only for requests without credentials. */
static bool credentials_check(const struct sw_cors *c, const char *path, struct sw_diag *diag)
{
	char sub[256];
	bool ok = true;

	if (!c->credentials)
		return true;
	if (c->any_origin) {
		sw_key_path(sub, sizeof(sub), path, ".origins");
		sw_diag_error(diag, sub, "\"*\" cannot be used with credentials: true (browsers "
			      "refuse it); list the origins");
		ok = false;
	}
	if (c->expose.any) {
		sw_key_path(sub, sizeof(sub), path, ".expose_headers");
		sw_diag_error(diag, sub, "\"*\" means no wildcard with credentials: true; list the "
			      "fields");
		ok = false;
	}
	return ok;
}

struct sw_cors *sw_cors_compile(struct json_object *conf, const char *path, struct sw_diag *diag)
{
	struct sw_cors *c;
	struct json_object *v;
	char sub[256];
	bool ok = true;

	if (!json_object_is_type(conf, json_type_object)) {
		sw_diag_error(diag, path, "must be an object");
		return NULL;
	}
	c = sw_calloc(1, sizeof(*c));
	json_object_object_foreach(conf, key, unused) {
		bool known = false;
		(void)unused;
		for (const char *const *k = keys; *k; k++)
			known |= strcmp(key, *k) == 0;
		if (!known) {
			sw_key_path(sub, sizeof(sub), path, ".%s", key);
			sw_diag_error(diag, sub, "unknown key");
			ok = false;
		}
	}
	sw_key_path(sub, sizeof(sub), path, ".origins");
	if (!json_object_object_get_ex(conf, "origins", &v)) {
		sw_diag_error(diag, sub, "required");
		ok = false;
	} else {
		ok &= origins_compile(c, v, sub, diag);
	}
	if (json_object_object_get_ex(conf, "methods", &v)) {
		sw_key_path(sub, sizeof(sub), path, ".methods");
		ok &= names_compile(&c->methods, v, sub, diag);
	} else {
		/* The CORS-safelisted methods: what a page may send without asking. */
		static const char *const simple[] = { "GET", "HEAD", "POST" };
		c->methods.v = sw_calloc(3, sizeof(char *));
		for (size_t i = 0; i < 3; i++)
			c->methods.v[c->methods.n++] = sw_strdup(simple[i]);
		c->methods.joined = join(c->methods.v, c->methods.n);
	}
	ok &= optional_names(&c->headers, conf, "headers", path, diag);
	ok &= optional_names(&c->expose, conf, "expose_headers", path, diag);
	ok &= scalars_compile(c, conf, path, diag);
	if (ok)
		ok = credentials_check(c, path, diag);
	if (!ok) {
		sw_cors_release(c);
		return NULL;
	}
	return c;
}

static void names_free(struct name_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	free(l->joined);
}

void sw_cors_release(struct sw_cors *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->origin_count; i++) {
		free(c->origins[i].scheme);
		free(c->origins[i].host);
		free(c->origins[i].port);
	}
	free(c->origins);
	names_free(&c->methods);
	names_free(&c->headers);
	names_free(&c->expose);
	free(c->max_age);
	free(c);
}

/* ---- answers --------------------------------------------------------------------------- */

/* The request's one Origin field; NULL when absent or repeated (then nothing is allowed). */
static const struct sw_header *origin_of(const struct sw_request *req)
{
	const struct sw_header *found = NULL;

	for (unsigned i = 0; i < req->header_count; i++)
		if (sw_str_ieq(req->headers[i].name, "origin")) {
			if (found)
				return NULL;
			found = &req->headers[i];
		}
	return found;
}

bool sw_cors_is_preflight(const struct sw_request *req)
{
	return req->method == SW_METHOD_OPTIONS && sw_request_header(req, "origin") &&
	       sw_request_header(req, "access-control-request-method");
}

static bool name_listed(const struct name_list *l, struct sw_str name, bool case_sensitive)
{
	for (size_t i = 0; i < l->n; i++)
		if (case_sensitive ? sw_str_eq(name, l->v[i]) : sw_str_ieq(name, l->v[i]))
			return true;
	return false;
}

/* Methods are case-sensitive (RFC 9110 9.1); browsers upper-case the standard ones. */
static bool method_allowed(const struct sw_cors *c, struct sw_str m)
{
	return m.len && (c->methods.any || name_listed(&c->methods, m, true));
}

/* Every name of an Access-Control-Request-Headers list (lower case, comma-separated) allowed? */
static bool headers_allowed(const struct sw_cors *c, const struct sw_header *acrh)
{
	struct sw_str v = acrh ? acrh->value : (struct sw_str){ "", 0 };
	size_t k = 0;

	if (c->headers.any)
		return true;
	while (k < v.len) {
		size_t start, end;
		while (k < v.len && (v.p[k] == ' ' || v.p[k] == '\t' || v.p[k] == ','))
			k++;
		start = k;
		while (k < v.len && v.p[k] != ',')
			k++;
		end = k;
		while (end > start && (v.p[end - 1] == ' ' || v.p[end - 1] == '\t'))
			end--;
		if (end > start && !name_listed(&c->headers, (struct sw_str){ v.p + start,
					end - start }, false))
			return false;
	}
	return true;
}

static void put(struct sw_response *r, const char *name, struct sw_str value)
{
	sw_response_add_header(r, (struct sw_str){ name, strlen(name) }, value);
}

static struct sw_str view(const char *s)
{
	return (struct sw_str){ s, strlen(s) };
}

/* Allow-Origin (the origin echoed, or "*" when any origin goes and no credentials) and -Credentials. */
static void allow_origin(const struct sw_cors *c, const struct sw_header *origin,
			 struct sw_response *r)
{
	put(r, "Access-Control-Allow-Origin", c->any_origin ? SW_STR("*") : origin->value);
	if (c->credentials)
		put(r, "Access-Control-Allow-Credentials", SW_STR("true"));
}

void sw_cors_preflight(const struct sw_cors *c, const struct sw_request *req,
		       struct sw_response *r)
{
	const struct sw_header *origin = origin_of(req);
	const struct sw_header *acrm = sw_request_header(req, "access-control-request-method");
	const struct sw_header *acrh = sw_request_header(req, "access-control-request-headers");

	/* The answer depends on what the preflight asks for, and on the origin unless any goes. */
	put(r, "Vary", c->any_origin ?
	    SW_STR("Access-Control-Request-Method, Access-Control-Request-Headers") :
	    SW_STR("Origin, Access-Control-Request-Method, Access-Control-Request-Headers"));
	if (!origin || !sw_cors_origin_allowed(c, origin->value))
		return;
	allow_origin(c, origin, r);
	if (!acrm || !method_allowed(c, acrm->value) || !headers_allowed(c, acrh))
		return;
	/* "*" lists echo the request: a literal "*" would not cover credentialed requests. */
	put(r, "Access-Control-Allow-Methods", c->methods.any ? acrm->value :
	    view(c->methods.joined));
	if (c->headers.any && acrh && acrh->value.len)
		put(r, "Access-Control-Allow-Headers", acrh->value);
	else if (!c->headers.any && c->headers.joined)
		put(r, "Access-Control-Allow-Headers", view(c->headers.joined));
	if (c->max_age)
		put(r, "Access-Control-Max-Age", view(c->max_age));
}

/* A Vary field already names Origin (or "*"): a global cors policy ran before a route's. */
static bool varies_on_origin(const struct sw_response *r)
{
	for (unsigned i = 0; i < r->header_count; i++) {
		struct sw_str v = r->headers[i].value;
		size_t k = 0;

		if (!sw_str_ieq(r->headers[i].name, "vary"))
			continue;
		while (k < v.len) {
			size_t start;
			while (k < v.len && (v.p[k] == ' ' || v.p[k] == '\t' || v.p[k] == ','))
				k++;
			start = k;
			while (k < v.len && v.p[k] != ',' && v.p[k] != ' ' && v.p[k] != '\t')
				k++;
			if (sw_str_ieq((struct sw_str){ v.p + start, k - start }, "origin") ||
			    sw_str_ieq((struct sw_str){ v.p + start, k - start }, "*"))
				return true;
		}
	}
	return false;
}

void sw_cors_response(const struct sw_cors *c, const struct sw_request *req,
		      struct sw_response *r)
{
	const struct sw_header *origin = origin_of(req);

	for (size_t i = 0; i < SW_ARRAY_SIZE(cors_fields); i++)
		sw_response_remove_header(r, cors_fields[i]);
	/* Also without an Origin: a cache must not hand this answer to a request with one. */
	if (!c->any_origin && !varies_on_origin(r))
		put(r, "Vary", SW_STR("Origin"));
	if (!origin || !sw_cors_origin_allowed(c, origin->value))
		return;
	allow_origin(c, origin, r);
	if (c->expose.any)
		put(r, "Access-Control-Expose-Headers", SW_STR("*"));
	else if (c->expose.joined)
		put(r, "Access-Control-Expose-Headers", view(c->expose.joined));
}

/* ---- the policy ------------------------------------------------------------------------- */

static void *cors_compile(struct json_object *conf, const char *path, struct sw_diag *diag)
{
	return sw_cors_compile(conf, path, diag);
}

static void cors_release(void *state)
{
	sw_cors_release(state);
}

/*
 * A preflight is answered here, 204, and never reaches the handler (the
 * upstream).  The most specific cors decides: the global one (before
 * routing, x->route not set yet) answers with the config of the route x
 * will match when that route has its own.  It still answers, rather than
 * leaving it to the route's chain, so global policies after it (auth)
 * treat preflights as before.  Other requests pay nothing for this.
 */
static enum sw_policy_verdict cors_request(struct sw_exchange *x, void *state)
{
	const struct sw_policy_item *route;

	if (!sw_cors_is_preflight(&x->req))
		return SW_POLICY_CONTINUE;
	if (!x->route && (route = sw_policy_route_item(x, &sw_policy_cors))) {
		if (!route->state) {    /* the route's cors failed to compile: as its chain would */
			sw_exchange_error(x, 503);
			return SW_POLICY_DONE;
		}
		state = route->state;
	}
	sw_cors_preflight(state, &x->req, &x->resp);
	sw_exchange_empty(x, 204);
	return SW_POLICY_DONE;
}

static void cors_response(struct sw_exchange *x, void *state)
{
	/* A preflight was answered by a cors request hook (this one or the global one): its fields stay. */
	if (!sw_cors_is_preflight(&x->req))
		sw_cors_response(state, &x->req, &x->resp);
}

const struct sw_policy sw_policy_cors = {
	.key = "cors",
	.scopes = SW_POLICY_ROUTE | SW_POLICY_GLOBAL,
	.order = SW_POLICY_ORDER_CORS,
	.compile = cors_compile,
	.release = cors_release,
	.request = cors_request,
	.response = cors_response,
};
