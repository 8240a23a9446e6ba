/* SPDX-License-Identifier: MIT */
/* router.c - the handler chain every protocol's exchanges go through. */
#include <config.h>

#include <string.h>
#include <strings.h>
#include "http/context.h"
#include "http/metrics.h"
#include "http/quic_api.h"
#include "http/policy.h"
#include "http/router.h"
#include "http/static.h"

/*
 * Answered before routing, whatever the Host: orchestrators scrape by IP.
 * (The probes are the global policy chain's first policy.)
 */
static const sw_handler_fn early[] = {
	sw_metrics_handle,
};

/* Then, as they land: admin, proxy routes; static files last. */
static const sw_handler_fn chain[] = {
	sw_static_handle,
};

/* The host part of an authority: "[::1]:8080" → "[::1]", "a.b:80" → "a.b". */
static struct sw_str host_of(struct sw_str a)
{
	const char *end = a.p + a.len;

	if (a.len == 0)
		return a;   /* HTTP/1.0 without Host */
	if (a.p[0] == '[') {
		const char *rb = memchr(a.p, ']', a.len);
		if (rb)
			end = rb + 1;
	} else {
		const char *colon = memchr(a.p, ':', a.len);
		if (colon)
			end = colon;
	}
	return (struct sw_str){ a.p, (size_t)(end - a.p) };
}

/* "*.example.com" matches one or more labels before ".example.com". */
static bool host_matches(struct sw_str host, const char *pattern)
{
	size_t pl = strlen(pattern);

	if (pl > 2 && pattern[0] == '*' && pattern[1] == '.') {
		size_t sl = pl - 1;   /* ".example.com" */
		return host.len > sl && strncasecmp(host.p + host.len - sl, pattern + 1, sl) == 0;
	}
	return host.len == pl && strncasecmp(host.p, pattern, pl) == 0;
}

static bool host_allowed(const struct sw_exchange *x)
{
	const struct sw_server_cfg *s = &x->ctx->cfg->server;
	struct sw_str host = host_of(x->req.authority);

	if (s->allowed_hosts_count == 0)
		return true;
	for (size_t i = 0; i < s->allowed_hosts_count; i++)
		if (host_matches(host, s->allowed_hosts[i]))
			return true;
	return false;
}

/* OPTIONS * asks about the server as a whole. */
static bool options_star(struct sw_exchange *x)
{
	if (x->req.method != SW_METHOD_OPTIONS || !sw_str_eq(x->req.target, "*"))
		return false;
	sw_response_add_header(&x->resp, SW_STR("Allow"), SW_STR("GET, HEAD, OPTIONS"));
	sw_exchange_empty(x, 204);
	return true;
}

static bool run(const sw_handler_fn *fns, size_t n, struct sw_exchange *x)
{
	for (size_t i = 0; i < n; i++)
		if (fns[i](x) != SW_DECLINED)
			return true;
	return false;
}

static void add_alt_svc(struct sw_exchange *x)
{
	const char *v = x->ctx->quic_api->alt_svc(x->ctx, x->h3_port);

	if (v)
		sw_response_add_header(&x->resp, SW_STR("Alt-Svc"), (struct sw_str){ v, strlen(v) });
}

/* What follows the global policies (now, or when a paused one resumes). */
static void after_global(struct sw_exchange *x, void *data)
{
	(void)data;
	if (run(early, SW_ARRAY_SIZE(early), x))
		return;
	/* Taken past server.max_connections for the probes: nothing else, say when to retry. */
	if (x->over_limit) {
		x->ctx->limit_refused++;
		x->resp.close = true;
		sw_response_add_header(&x->resp, SW_STR("Retry-After"), SW_STR("1"));
		sw_exchange_error(x, 503);
		return;
	}
	/* A name we do not serve: another server's request (RFC 9110 15.5.20). */
	if (!host_allowed(x)) {
		x->resp.close = true;
		sw_exchange_error(x, 421);
		return;
	}
	if (options_star(x))
		return;
	if (x->ctx->proxy_api && x->ctx->proxy_api->handle(x) != SW_DECLINED)
		return;
	if (run(chain, SW_ARRAY_SIZE(chain), x))
		return;
	sw_exchange_error(x, 404);
}

void sw_router_dispatch(struct sw_exchange *x)
{
	/*
	 * The admin listener serves the admin API and nothing else; no policy
	 * runs there: it has its own key check and lockout, and a site's
	 * policies (CORS, auth, headers) are not the admin API's.
	 */
	if (x->admin) {
		/* The admin unit's handler, which the worker registered (admin sits above http). */
		if (x->ctx->hooks.admin_handle)
			x->ctx->hooks.admin_handle(x);
		else
			sw_exchange_error(x, 404);
		return;
	}
	/* This listener serves HTTP/3 too: tell TCP clients where (RFC 7838). */
	if (x->proto != SW_PROTO_HTTP3 && x->h3_port && x->ctx->quic_api)
		add_alt_svc(x);
	if (sw_policy_run(x, x->ctx->policies, after_global, NULL, NULL) == SW_POLICY_CONTINUE)
		after_global(x, NULL);
}
