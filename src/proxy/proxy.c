/* SPDX-License-Identifier: MIT */
/* proxy.c - the reverse proxy module: per-worker state built from the config, the handler. */
#include <config.h>

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include "core/log.h"
#include "core/module.h"
#include "http/context.h"
#include "http/policy.h"
#include "http/router.h"
#include "proxy/proxy.h"

uint64_t px_now(const struct px_state *st)
{
	return sw_loop_now(st->ctx->loop);
}

/*
 * Names are resolved once, when the state is built (start-up, reload),
 * like nginx does; a name that does not resolve leaves that server out
 * (logged) rather than failing the worker.
 */
static void resolve(struct px_server *s)
{
	const struct sw_upstream_server_cfg *c = s->cfg;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL;
	char port[8];
	int rc;

	if (c->unix_path) {
		struct sockaddr_un *un = (struct sockaddr_un *)&s->addr;
		un->sun_family = AF_UNIX;
		snprintf(un->sun_path, sizeof(un->sun_path), "%s", c->unix_path);
		s->addrlen = sizeof(*un);
		snprintf(s->name, sizeof(s->name), "unix:%s", c->unix_path);
		s->resolved = true;
		return;
	}
	snprintf(port, sizeof(port), "%u", c->port);
	snprintf(s->name, sizeof(s->name), strchr(c->address, ':') ? "[%s]:%u" : "%s:%u",
		 c->address, c->port);
	rc = getaddrinfo(c->address, port, &hints, &res);
	if (rc != 0 || !res) {
		sw_log_upstream(SW_LOG_ERROR, 0, s->up->cfg->name, "upstream \"%s\": cannot resolve %s: %s",
				s->up->cfg->name, s->name, gai_strerror(rc));
		return;
	}
	memcpy(&s->addr, res->ai_addr, res->ai_addrlen);
	s->addrlen = res->ai_addrlen;
	s->resolved = true;
	freeaddrinfo(res);
}

static void build_upstream(struct px_upstream *u, const struct sw_upstream_cfg *c)
{
	u->cfg = c;
	u->nservers = c->servers_count;
	u->servers = sw_calloc(c->servers_count ? c->servers_count : 1, sizeof(*u->servers));
	for (size_t i = 0; i < c->servers_count; i++) {
		u->servers[i].cfg = &c->servers[i];
		u->servers[i].up = u;
		resolve(&u->servers[i]);
	}
}

/* 2 for an exact host, 1 for a wildcard one, 0 for any host. */
static int host_rank(const struct px_route *r)
{
	return r->cfg->host ? (r->cfg->host[0] == '*' ? 1 : 2) : 0;
}

static int by_prefix_len(const void *a, const void *b)
{
	const struct px_route *ra = a, *rb = b;

	if (ra->prefix_len != rb->prefix_len)
		return ra->prefix_len < rb->prefix_len ? 1 : -1;
	/* Same prefix: an exact host, then a wildcard, then the catch-all; else file order. */
	if (host_rank(ra) != host_rank(rb))
		return host_rank(rb) - host_rank(ra);
	return ra->cfg < rb->cfg ? -1 : ra->cfg > rb->cfg;
}

static struct px_state *state_new(struct sw_ctx *ctx)
{
	struct px_state *st = sw_calloc(1, sizeof(*st));
	const struct sw_proxy_cfg *px;

	sw_config_copy(&st->cfg, ctx->cfg);
	px = sw_proxy_config(&st->cfg);
	st->ctx = ctx;
	st->refs = 1;
	st->nups = px->upstreams_count;
	st->ups = sw_calloc(st->nups ? st->nups : 1, sizeof(*st->ups));
	for (size_t i = 0; i < st->nups; i++)
		build_upstream(&st->ups[i], &px->upstreams[i]);
	st->nroutes = px->routes_count;
	st->routes = sw_calloc(st->nroutes ? st->nroutes : 1, sizeof(*st->routes));
	for (size_t i = 0; i < st->nroutes; i++) {
		struct px_route *r = &st->routes[i];
		char path[32];
		r->cfg = &px->routes[i];
		r->st = st;
		r->prefix_len = strlen(r->cfg->path_prefix);
		snprintf(path, sizeof(path), "routes[%zu]", i);
		r->policies = sw_policy_chain_build(&r->cfg->policies, SW_POLICY_ROUTE, path);
		for (size_t k = 0; k < st->nups; k++)
			if (strcmp(st->ups[k].cfg->name, r->cfg->upstream) == 0)
				r->up = &st->ups[k];
	}
	qsort(st->routes, st->nroutes, sizeof(*st->routes), by_prefix_len);
	px_health_start(st);
	return st;
}

struct px_state *px_state_get(struct sw_ctx *ctx)
{
	struct px_state *st = ctx->proxy;

	st->refs++;
	return st;
}

void px_state_put(struct px_state *st)
{
	if (--st->refs)
		return;
	for (size_t i = 0; i < st->nups; i++) {
		for (size_t k = 0; k < st->ups[i].nservers; k++)
			px_fwd_forget(&st->ups[i].servers[k]);
		free(st->ups[i].servers);
	}
	free(st->ups);
	for (size_t i = 0; i < st->nroutes; i++)
		sw_policy_chain_put(st->routes[i].policies);
	free(st->routes);
	sw_config_deinit(&st->cfg);
	free(st);
}

/* ---- the module's interface ---- */

static int proxy_init(struct sw_ctx *ctx)
{
	ctx->proxy = state_new(ctx);
	return SW_OK;
}

/* An in-place reload: new routes and pools; forwards in flight finish on the old ones. */
static void proxy_reconfigure(struct sw_ctx *ctx)
{
	struct px_state *old = ctx->proxy;

	ctx->proxy = state_new(ctx);
	if (old) {
		px_health_stop(old);
		px_pool_drain(old);
		px_state_put(old);
	}
}

static void proxy_fini(struct sw_ctx *ctx)
{
	struct px_state *st = ctx->proxy;

	if (!st)
		return;
	ctx->proxy = NULL;
	px_health_stop(st);
	px_pool_drain(st);
	px_state_put(st);
}

/* The route's policies let x through (now, or after a pause). */
static void route_then(struct sw_exchange *x, void *data)
{
	struct px_route *r = data;
	struct px_state *st = r->st;

	px_forward(st, r, x);
	px_state_put(st);
}

static void route_drop(void *data)
{
	struct px_route *r = data;

	px_state_put(r->st);
}

static int proxy_handle(struct sw_exchange *x)
{
	struct px_state *st = x->ctx->proxy;
	const struct px_route *r;

	if (!st || st->nroutes == 0 || !(r = px_route_match(st, x)))
		return SW_DECLINED;
	x->route = r->cfg;
	/* "/api/../admin" must not reach an upstream that resolves it past the route. */
	if (px_path_has_dot_segment(x->req.path)) {
		sw_exchange_error(x, 400);
		return SW_OK;
	}
	if (r->policies) {
		/* A paused policy may outlive a reload: the route's state stays until then. */
		struct px_route *rr = (struct px_route *)r;
		px_state_get(x->ctx);
		switch (sw_policy_run(x, rr->policies, route_then, route_drop, rr)) {
		case SW_POLICY_CONTINUE: route_then(x, rr); break;
		case SW_POLICY_DONE: px_state_put(st); break;
		case SW_POLICY_PAUSE: break;   /* route_then or route_drop will run */
		}
		return SW_OK;
	}
	return px_forward(st, r, x);
}

/* Matched again when the route's own chain runs: only preflights ask (the global cors, access). */
static const struct sw_policy_chain *proxy_route_policies(const struct sw_exchange *x)
{
	const struct px_state *st = x->ctx->proxy;
	const struct px_route *r;

	if (!st || st->nroutes == 0 || !(r = px_route_match(st, x)))
		return NULL;
	return r->policies;
}

static const struct sw_policy *const policies[] = {
	&px_policy_rate_limit,
	NULL,
};

static const struct sw_proxy_api api = {
	.init = proxy_init,
	.reconfigure = proxy_reconfigure,
	.fini = proxy_fini,
	.handle = proxy_handle,
	.route_policies = proxy_route_policies,
	.subrequest = px_subrequest,
	.subrequest_cancel = px_subrequest_cancel,
};

const struct sw_module sw_module_proxy = {
	.name = "proxy",
	.summary = "reverse proxy: routes, upstreams, balancing, health checks",
	.config = &sw_proxy_config_section,
	.metrics = sw_proxy_metrics,
	.impl = &api,
	.policies = policies,
};
