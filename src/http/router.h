/* router.h - which handler answers an exchange. */
#ifndef SW_HTTP_ROUTER_H
#define SW_HTTP_ROUTER_H

#include "http/exchange.h"

/*
 * A handler answers (calls sw_exchange_* and returns SW_OK) or returns
 * SW_DECLINED to let the next one try.
 */
typedef int (*sw_handler_fn)(struct sw_exchange *x);

/* Probes, then (as they land) admin, proxy routes, static files; else 404. */
void sw_router_dispatch(struct sw_exchange *x);

struct sw_worker;

/* The reverse proxy (src/proxy/), found as sw_module_find("proxy")->impl. */
struct sw_proxy_api {
	int (*init)(struct sw_worker *w);          /* routes and upstreams of w->cfg */
	void (*reconfigure)(struct sw_worker *w);  /* after an in-place reload */
	void (*fini)(struct sw_worker *w);
	/* Forwards x when a route matches; SW_DECLINED otherwise. */
	int (*handle)(struct sw_exchange *x);
};

/* /.healthz and /.ready. */
int sw_probes_handle(struct sw_exchange *x);

#endif
