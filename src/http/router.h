/* SPDX-License-Identifier: MIT */
/* router.h - which handler answers an exchange. */
#ifndef SW_HTTP_ROUTER_H
#define SW_HTTP_ROUTER_H

#include "core/module.h"
#include "http/exchange.h"

/*
 * A handler answers (calls sw_exchange_* and returns SW_OK) or returns
 * SW_DECLINED to let the next one try.
 */
typedef int (*sw_handler_fn)(struct sw_exchange *x);

/* The global policies (probes first), /metrics, proxy routes, static files; else 404. */
void sw_router_dispatch(struct sw_exchange *x);

struct sw_ctx;
struct sw_policy_chain;
struct sw_subreq;
struct sw_subreq_args;

/* The reverse proxy (src/proxy/), found through sw_proxy_api(). */
struct sw_proxy_api {
	int (*init)(struct sw_ctx *ctx);          /* routes and upstreams of ctx->cfg */
	void (*reconfigure)(struct sw_ctx *ctx);  /* after an in-place reload */
	void (*fini)(struct sw_ctx *ctx);
	/* Forwards x when a route matches; SW_DECLINED otherwise. */
	int (*handle)(struct sw_exchange *x);
	/*
	 * The policy chain of the route x will match (NULL: no route, or one
	 * without policies), for the global stage: sw_policy_route_item.
	 */
	const struct sw_policy_chain *(*route_policies)(const struct sw_exchange *x);
	/*
	 * A request of the gateway's own through an upstream's pool
	 * (http/subreq.h), non-blocking; cancel stops one whose callback has
	 * not run (the client went away).
	 */
	struct sw_subreq *(*subrequest)(const struct sw_subreq_args *a);
	void (*subrequest_cancel)(struct sw_subreq *s);
};

/* The unit's table, or NULL when it was compiled out: the one place its sw_module's impl is converted. */
static inline const struct sw_proxy_api *sw_proxy_api(void)
{
	const struct sw_module *m = sw_module_find("proxy");

	return m ? m->impl : NULL;
}

#endif
