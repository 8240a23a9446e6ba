/* SPDX-License-Identifier: MIT */
/* policy.c - routes[].auth as a policy: runs the configured method, then lets through or answers 401/403. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "auth/auth_impl.h"
#include "auth/lockout.h"
#include "auth/metrics.h"
#include "core/common.h"
#include "core/diag.h"
#include "http/policy.h"

#define MAX_CHALLENGES 8

struct auth_policy {
	struct sw_auth_node node;
	/* WWW-Authenticate values, made once: "Basic realm=\"api\"" per scheme the node uses */
	char *challenge[MAX_CHALLENGES];
	const char *scheme[MAX_CHALLENGES];
	size_t nchallenges;
	struct sw_auth_lockout lockout;
};

static void release(void *state)
{
	struct auth_policy *p = state;

	if (!p)
		return;
	sw_auth_node_release(&p->node);
	for (size_t i = 0; i < p->nchallenges; i++)
		free(p->challenge[i]);
	free(p);
}

/* A realm goes inside a quoted-string: no quotes, backslashes or control bytes. */
static bool realm_ok(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f || *s == '"' || *s == '\\')
			return false;
	return true;
}

static void add_challenges(struct auth_policy *p, const struct sw_auth_node *n, const char *realm)
{
	const char *schemes[MAX_CHALLENGES];
	size_t count = sw_auth_node_challenges(n, schemes, MAX_CHALLENGES);

	for (size_t i = 0; i < count; i++) {
		bool seen = false;
		for (size_t j = 0; j < p->nchallenges; j++)
			seen |= !strcmp(p->scheme[j], schemes[i]);
		if (seen)
			continue;
		size_t len = strlen(schemes[i]) + strlen(realm) + 10;
		p->challenge[p->nchallenges] = sw_malloc(len);
		snprintf(p->challenge[p->nchallenges], len, "%s realm=\"%s\"", schemes[i], realm);
		p->scheme[p->nchallenges++] = schemes[i];
	}
}

static void *compile(struct json_object *conf, const char *path, struct sw_diag *d)
{
	static const char *const extra[] = { "realm", "lockout", NULL };
	struct json_object *v;
	struct auth_policy *p;
	const char *realm = "swerver";
	char sub[512];

	if (json_object_object_get_ex(conf, "realm", &v)) {
		snprintf(sub, sizeof(sub), "%s.realm", path);
		if (!json_object_is_type(v, json_type_string) || !realm_ok(json_object_get_string(v))) {
			sw_diag_error(d, sub, "must be a string without quotes, backslashes or control characters");
			return NULL;
		}
		realm = json_object_get_string(v);
	}
	p = sw_calloc(1, sizeof(*p));
	if (!json_object_object_get_ex(conf, "lockout", &v))
		v = NULL;   /* on, with the defaults */
	snprintf(sub, sizeof(sub), "%s.lockout", path);
	if (sw_auth_lockout_parse(v, sub, &p->lockout, d) != SW_OK ||
	    sw_auth_node_compile(&p->node, conf, path, extra, 0, d) != SW_OK) {
		release(p);
		return NULL;
	}
	add_challenges(p, &p->node, realm);
	return p;
}

/* The challenge for scheme, or NULL. */
static const char *challenge_of(const struct auth_policy *p, const char *scheme)
{
	for (size_t i = 0; scheme && i < p->nchallenges; i++)
		if (!strcmp(p->scheme[i], scheme))
			return p->challenge[i];
	return NULL;
}

static void challenge_header(struct sw_exchange *x, const char *value)
{
	if (value)
		sw_response_add_header(&x->resp, SW_STR("WWW-Authenticate"),
				       (struct sw_str){ value, strlen(value) });
}

/*
 * The failed method's challenge: with its error attribute when it has one
 * (RFC 6750 3.1: a bad or expired token gets error="invalid_token", so a
 * client knows to fetch a new one rather than ask the user).
 */
static void fail_challenge(struct sw_exchange *x, const struct auth_policy *p,
			   const struct sw_auth_method *m)
{
	const char *c = challenge_of(p, m->challenge);
	char *v;
	size_t len;

	if (!c || !m->fail_error) {
		challenge_header(x, c);
		return;
	}
	len = strlen(c) + strlen(m->fail_error) + sizeof(", error=\"\"");
	v = sw_exchange_alloc(x, len);   /* the body takes the scratch buffer */
	snprintf(v, len, "%s, error=\"%s\"", c, m->fail_error);
	challenge_header(x, v);
}

/*
 * 401 says "authenticate" (with the challenges of the methods that could
 * have), 403 "you did, and may not", 503 "the auth service did not
 * answer" (never a pass).  The body names the reason label, never what
 * the client sent.  p is NULL for a method that answered late
 * (forward_auth), which has no challenge of its own.
 */
static void refuse(struct sw_exchange *x, const struct auth_policy *p, const char *method,
		   const struct sw_auth_result *r)
{
	int status = r->status == 403 || r->status == 503 ? r->status : 401;
	const char *reason = r->reason ? r->reason : "missing";
	char *body;
	int n;

	sw_auth_metrics_failure(x, method, reason);
	if (r->responded) {
		x->ops->respond(x);   /* the method's own answer (the auth service's refusal) */
		return;
	}
	x->resp.status = status;
	if (status == 401 && p) {
		const struct sw_auth_method *m = sw_auth_method_find(method);
		if (r->outcome == SW_AUTH_FAIL && m && m->challenge) {
			fail_challenge(x, p, m);
		} else {
			for (size_t i = 0; i < p->nchallenges; i++)
				challenge_header(x, p->challenge[i]);
		}
	}
	body = sw_exchange_buffer(x, 128);
	n = snprintf(body, 128, "{\"error\":\"%s\",\"reason\":\"%s\"}\n",
		     status == 401 ? "unauthorized" : status == 403 ? "forbidden" : "unavailable", reason);
	sw_response_add_header(&x->resp, SW_STR("Content-Type"), SW_STR("application/json"));
	sw_response_add_header(&x->resp, SW_STR("Cache-Control"), SW_STR("no-store"));
	if (status == 503)
		sw_response_add_header(&x->resp, SW_STR("Retry-After"), SW_STR("1"));
	x->resp.body_kind = SW_BODY_MEMORY;
	x->resp.body = (struct sw_str){ body, (size_t)n };
	x->resp.content_length = (uint64_t)n;
	x->ops->respond(x);
}

/* Lets x through as r's consumer (none: the method names nobody, e.g. forward_auth without one). */
static void accept_consumer(struct sw_exchange *x, const struct sw_auth_result *r)
{
	/* the method's name lives in compiled state a reload may free first */
	if (r->consumer)
		x->consumer = sw_exchange_str(x, r->consumer, strlen(r->consumer)).p;
}

/* A method that answered PENDING decided, from the loop. */
static void on_done(struct sw_exchange *x, const struct sw_auth_result *r)
{
	if (r->outcome == SW_AUTH_OK) {
		accept_consumer(x, r);
		sw_policy_resume(x, SW_POLICY_CONTINUE);
		return;
	}
	refuse(x, NULL, r->method ? r->method : "forward_auth", r);
	sw_policy_resume(x, SW_POLICY_DONE);
}

/*
 * 429 to an address locked out of this route: nothing it sent is checked
 * (a guess must cost no hash), a right credential included.
 */
static void locked_out(struct sw_exchange *x, const struct auth_policy *p, uint64_t left_ms)
{
	static const char body[] = "{\"error\":\"too_many_requests\",\"reason\":\"locked_out\"}\n";
	char *secs = sw_exchange_alloc(x, 24);

	sw_auth_metrics_failure(x, p->node.m->name, "locked_out");
	snprintf(secs, 24, "%llu", (unsigned long long)((left_ms + 999) / 1000));
	x->resp.status = 429;
	sw_response_add_header(&x->resp, SW_STR("Retry-After"), (struct sw_str){ secs, strlen(secs) });
	sw_response_add_header(&x->resp, SW_STR("Content-Type"), SW_STR("application/json"));
	sw_response_add_header(&x->resp, SW_STR("Cache-Control"), SW_STR("no-store"));
	x->resp.body_kind = SW_BODY_MEMORY;
	x->resp.body = (struct sw_str){ body, sizeof(body) - 1 };
	x->resp.content_length = sizeof(body) - 1;
	x->ops->respond(x);
}

static enum sw_policy_verdict request(struct sw_exchange *x, void *state)
{
	const struct auth_policy *p = state;
	struct sw_auth_result r = { .outcome = SW_AUTH_ABSENT };
	uint64_t key = 0, left;

	if (p->lockout.failures) {
		key = sw_auth_lockout_key(x);
		if ((left = sw_auth_lockout_check(x, key))) {
			locked_out(x, p, left);
			return SW_POLICY_DONE;
		}
	}
	p->node.m->check(x, p->node.state, &r, on_done);
	switch (r.outcome) {
	case SW_AUTH_OK:
		accept_consumer(x, &r);
		return SW_POLICY_CONTINUE;
	case SW_AUTH_PENDING:
		return SW_POLICY_PAUSE;
	default:
		/* A wrong credential counts; a missing one or an unreachable auth service does not. */
		if (key && r.outcome == SW_AUTH_FAIL && r.status != 503)
			sw_auth_lockout_failed(x, key, &p->lockout);
		refuse(x, p, r.method ? r.method : p->node.m->name, &r);
		return SW_POLICY_DONE;
	}
}

static void cancel(struct sw_exchange *x, void *state)
{
	const struct auth_policy *p = state;

	if (p->node.m->cancel)
		p->node.m->cancel(x, p->node.state);
}

/*
 * The keys of the methods' JSON that hold secrets, wherever a chain puts
 * them: jwt's inline HMAC "secret", api_key's plain "key" and its
 * "key_sha256" (a fast hash of a key invites offline guessing).  basic
 * and forward_auth take none inline (an htpasswd path, a service URL).
 */
static const char *const secrets[] = { "secret", "key", "key_sha256", NULL };

const struct sw_policy sw_auth_policy = {
	.key = "auth",
	.secrets = secrets,
	.scopes = SW_POLICY_ROUTE,
	.order = SW_POLICY_ORDER_AUTH,
	.compile = compile,
	.release = release,
	.request = request,
	.cancel = cancel,
};
