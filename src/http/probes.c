/* probes.c - liveness (/.healthz) and readiness (/.ready) for orchestrators. */
#include <config.h>

#include "daemon/worker.h"
#include "http/router.h"

/* Probes answer GET and HEAD only; anything else is told what is allowed. */
static bool method_ok(struct sw_exchange *x)
{
	if (x->req.method == SW_METHOD_GET || x->req.method == SW_METHOD_HEAD)
		return true;
	sw_response_add_header(&x->resp, SW_STR("Allow"), SW_STR("GET, HEAD"));
	sw_exchange_error(x, 405);
	return false;
}

int sw_probes_handle(struct sw_exchange *x)
{
	struct sw_str p = x->req.path;

	if (p.len < 2 || p.p[0] != '/' || p.p[1] != '.')
		return SW_DECLINED;
	if (sw_str_eq(p, "/.healthz")) {
		if (method_ok(x))
			sw_exchange_empty(x, 200);
		return SW_OK;
	}
	if (sw_str_eq(p, "/.ready")) {
		if (method_ok(x))
			sw_exchange_empty(x, x->worker->ready && !x->worker->draining ? 200 : 503);
		return SW_OK;
	}
	return SW_DECLINED;
}
