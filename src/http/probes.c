/* SPDX-License-Identifier: MIT */
/* probes.c - liveness (/.healthz) and readiness (/.ready) for orchestrators: the chain's first policy. */
#include <config.h>

#include "http/context.h"
#include "http/policy.h"

/* Probes answer GET and HEAD only; anything else is told what is allowed. */
static bool method_ok(struct sw_exchange *x)
{
	if (x->req.method == SW_METHOD_GET || x->req.method == SW_METHOD_HEAD)
		return true;
	sw_response_add_header(&x->resp, SW_STR("Allow"), SW_STR("GET, HEAD"));
	sw_exchange_error(x, 405);
	return false;
}

static enum sw_policy_verdict probes_request(struct sw_exchange *x, void *state)
{
	struct sw_str p = x->req.path;

	(void)state;
	if (p.len < 2 || p.p[0] != '/' || p.p[1] != '.')
		return SW_POLICY_CONTINUE;
	if (sw_str_eq(p, "/.healthz")) {
		if (method_ok(x))
			sw_exchange_empty(x, 200);
		return SW_POLICY_DONE;
	}
	if (sw_str_eq(p, "/.ready")) {
		if (method_ok(x))
			sw_exchange_empty(x, x->ctx->ready && !x->ctx->draining ? 200 : 503);
		return SW_POLICY_DONE;
	}
	return SW_POLICY_CONTINUE;
}

/* Nothing to configure: any non-NULL state will do. */
static void *probes_compile(struct json_object *conf, const char *path, struct sw_diag *diag)
{
	static const char on = 1;

	(void)conf;
	(void)path;
	(void)diag;
	return (void *)&on;
}

/* In every global chain, first: orchestrators probe whatever the Host or other policies. */
const struct sw_policy sw_policy_probes = {
	.key = NULL,
	.scopes = SW_POLICY_ALWAYS,
	.order = SW_POLICY_ORDER_PROBES,
	.compile = probes_compile,
	.request = probes_request,
};
