/* SPDX-License-Identifier: MIT */
/*
 * access.c - the `access` policy (routes[].access and global): client
 * address allow/deny lists and the methods a route takes.
 */
#include <config.h>

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/diag.h"
#include "gateway/cidr.h"
#include "gateway/cors.h"
#include "gateway/gateway.h"
#include "gateway/reply.h"
#include "http/client_addr.h"
#include "http/policy.h"

#define MAX_METHODS 32

struct access {
	struct sw_cidr_set allow, deny;
	bool has_allow, has_deny;   /* the list was given (an empty allow refuses everyone) */
	char *methods[MAX_METHODS];
	size_t nmethods;
	bool get;                   /* GET is listed: HEAD is allowed too */
	char *allow_field;          /* the 405's Allow value */
};

static void access_release(void *state)
{
	struct access *a = state;

	if (!a)
		return;
	sw_cidr_set_release(&a->allow);
	sw_cidr_set_release(&a->deny);
	for (size_t i = 0; i < a->nmethods; i++)
		free(a->methods[i]);
	free(a->allow_field);
	free(a);
}

static bool cidrs(struct json_object *v, const char *path, struct sw_cidr_set *set, struct sw_diag *d)
{
	bool ok = true;

	if (!json_object_is_type(v, json_type_array)) {
		sw_diag_error(d, path, "must be an array of CIDR blocks (\"10.0.0.0/8\", \"2001:db8::/32\")");
		return false;
	}
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		struct json_object *e = json_object_array_get_idx(v, i);
		const char *s = json_object_get_string(e);
		enum sw_cidr_parse rc;

		if (!json_object_is_type(e, json_type_string)) {
			sw_diag_error(d, path, "[%zu]: must be a string", i);
			ok = false;
			continue;
		}
		rc = sw_cidr_set_add(set, s);
		if (rc == SW_CIDR_BAD) {
			sw_diag_error(d, path, "[%zu]: \"%s\" is not an IP address or CIDR block", i, s);
			ok = false;
		} else if (rc == SW_CIDR_HOST_BITS) {
			sw_diag_warn(d, path, "[%zu]: \"%s\" has host bits set; the whole block counts", i, s);
		}
	}
	sw_cidr_set_finish(set);
	return ok;
}

/* RFC 9110 5.6.2 tchar */
static bool is_token(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      strchr("!#$%&'*+-.^_`|~", *s)))
			return false;
	return true;
}

static bool has_method(const struct access *a, const char *m, size_t len)
{
	for (size_t i = 0; i < a->nmethods; i++)
		if (strlen(a->methods[i]) == len && memcmp(a->methods[i], m, len) == 0)
			return true;
	return false;
}

static bool methods(struct access *a, struct json_object *v, const char *path, struct sw_diag *d)
{
	size_t len = 0;

	if (!json_object_is_type(v, json_type_array) || json_object_array_length(v) == 0) {
		sw_diag_error(d, path, "must be a non-empty array of method names");
		return false;
	}
	if (json_object_array_length(v) > MAX_METHODS) {
		sw_diag_error(d, path, "at most %d methods", MAX_METHODS);
		return false;
	}
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		struct json_object *e = json_object_array_get_idx(v, i);
		const char *m = json_object_get_string(e);

		if (!json_object_is_type(e, json_type_string) || !is_token(m)) {
			sw_diag_error(d, path, "[%zu]: must be a method name (an HTTP token)", i);
			return false;
		}
		for (const char *c = m; *c; c++)
			if (*c >= 'a' && *c <= 'z') {
				/* methods are case-sensitive (RFC 9110 9.1): "get" never matches GET */
				sw_diag_warn(d, path, "[%zu]: \"%s\" has lower-case letters; methods are case-sensitive", i, m);
				break;
			}
		if (has_method(a, m, strlen(m)))
			continue;
		a->methods[a->nmethods++] = sw_strdup(m);
		a->get |= strcmp(m, "GET") == 0;
		len += strlen(m) + 2;
	}
	if (a->get && !has_method(a, "HEAD", 4))
		len += 6;
	a->allow_field = sw_calloc(1, len + 1);
	for (size_t i = 0; i < a->nmethods; i++) {
		strcat(a->allow_field, i ? ", " : "");
		strcat(a->allow_field, a->methods[i]);
	}
	if (a->get && !has_method(a, "HEAD", 4))
		strcat(a->allow_field, ", HEAD");
	return true;
}

static void *access_compile(struct json_object *conf, const char *path, struct sw_diag *d)
{
	struct access *a;
	bool ok = true;
	char sub[256];

	if (!json_object_is_type(conf, json_type_object)) {
		sw_diag_error(d, path, "must be an object (allow, deny, methods)");
		return NULL;
	}
	a = sw_calloc(1, sizeof(*a));
	json_object_object_foreach(conf, key, val) {
		snprintf(sub, sizeof(sub), "%s.%s", path, key);
		if (strcmp(key, "allow") == 0) {
			ok &= cidrs(val, sub, &a->allow, d);
			a->has_allow = true;
		} else if (strcmp(key, "deny") == 0) {
			ok &= cidrs(val, sub, &a->deny, d);
			a->has_deny = true;
		} else if (strcmp(key, "methods") == 0) {
			ok &= methods(a, val, sub, d);
		} else {
			/* a misspelt rule would leave the route open: refuse, do not warn */
			sw_diag_error(d, sub, "unknown key (access takes allow, deny, methods)");
			ok = false;
		}
	}
	if (ok && a->has_allow && a->allow.n == 0)
		sw_diag_warn(d, path, "allow is empty: every request gets 403");
	if (!ok) {
		access_release(a);
		return NULL;
	}
	return a;
}

static bool address_allowed(const struct access *a, struct sw_exchange *x)
{
	char text[SW_CLIENT_ADDR_LEN];
	struct sw_ip128 ip;

	if (!a->has_allow && !a->has_deny)
		return true;
	sw_client_addr(x, text, sizeof(text));
	if (!sw_ip128_parse(text, &ip))
		return false;   /* no address to judge: refused, not waved through */
	if (sw_cidr_set_has(&a->deny, ip))
		return false;
	return !a->has_allow || sw_cidr_set_has(&a->allow, ip);
}

/*
 * The method judged: a CORS preflight that a cors policy will answer (the
 * global chain's or the route's) asks whether the method it announces may
 * be used, so that one is judged, not OPTIONS (which the route may well not
 * forward).  Without cors the OPTIONS goes to the handler: judged as such.
 */
static struct sw_str judged_method(const struct sw_exchange *x)
{
	const struct sw_header *acrm;

	if (!sw_cors_is_preflight(&x->req))
		return x->req.method_name;
	if (!sw_policy_global_item(x, &sw_policy_cors) && !sw_policy_route_item(x, &sw_policy_cors))
		return x->req.method_name;
	acrm = sw_request_header(&x->req, "access-control-request-method");
	return acrm->value;
}

static enum sw_policy_verdict access_request(struct sw_exchange *x, void *state)
{
	const struct access *a = state;
	struct sw_str m;

	if (!address_allowed(a, x)) {
		sw_gateway_reply_error(x, 403, "forbidden", "the client address may not use this route");
		return SW_POLICY_DONE;
	}
	if (a->nmethods == 0)
		return SW_POLICY_CONTINUE;
	m = judged_method(x);
	if (!has_method(a, m.p, m.len) && !(a->get && sw_str_eq(m, "HEAD"))) {
		sw_response_add_header(&x->resp, SW_STR("Allow"),
				       (struct sw_str){ a->allow_field, strlen(a->allow_field) });
		sw_gateway_reply_error(x, 405, "method_not_allowed", "this route does not take that method");
		return SW_POLICY_DONE;
	}
	return SW_POLICY_CONTINUE;
}

const struct sw_policy sw_policy_access = {
	.key = "access",
	.scopes = SW_POLICY_ROUTE | SW_POLICY_GLOBAL,
	.order = SW_POLICY_ORDER_ACCESS,
	.compile = access_compile,
	.release = access_release,
	.request = access_request,
};
