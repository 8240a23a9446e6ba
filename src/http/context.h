/* SPDX-License-Identifier: MIT */
/* context.h - what the request path of one worker shares: its loop, config, connections, units. */
#ifndef SW_HTTP_CONTEXT_H
#define SW_HTTP_CONTEXT_H

#include <stdbool.h>
#include <stdint.h>
#include "core/config.h"
#include "core/lru.h"
#include "core/shm.h"
#include "event/loop.h"

struct sw_conn;
struct sw_exchange;
struct sw_listen_set;
struct sw_static_state;
struct sw_access_log;
struct sw_policy_chain;
struct sw_tls_api;
struct sw_h2_api;
struct sw_proxy_api;
struct sw_quic_api;
struct sw_admin_hooks;

/*
 * Calls from the request path up to whoever runs it (the worker in
 * src/daemon/, a test, a fuzz target), with `owner` as their argument, so
 * request code never names the daemon.  NULL: nothing to tell.
 */
struct sw_ctx_hooks {
	void *owner;
	/* A connection is gone: resume accepting, finish a drain. */
	void (*conn_closed)(void *owner);
	/*
	 * A connection became idle while accepting is paused at the limit:
	 * try again from the loop (never inside the caller, whose connection
	 * the attempt may close to make room).
	 */
	void (*wake_accept)(void *owner);
	/* Answers an exchange from the admin listener (src/admin/ registers it). */
	void (*admin_handle)(struct sw_exchange *x);
	/* How the admin unit has changes made (typed in admin/admin.h). */
	const struct sw_admin_hooks *admin;
};

/*
 * One worker's request context.  The worker (src/daemon/worker.c) owns and
 * fills it; everything below the daemon reaches the worker's state through
 * it (x->ctx, c->ctx).
 */
struct sw_ctx {
	unsigned slot;
	unsigned generation;
	bool single_process;          /* workers: 1, no master (hence no sibling workers) */
	struct sw_loop *loop;
	struct sw_config *cfg;        /* live; value fields replaced on reload */
	struct sw_shm *shm;
	struct sw_slot_stats *stats;  /* this slot's block in shm */
	struct sw_listen_set *listens; /* http/listen.h */
	/* Connections (src/http/conn*.c) */
	struct sw_conn *conns;        /* live connections (for drain) */
	struct sw_conn *free_conns;   /* recycled, so accept does not malloc */
	unsigned free_count, free_low; /* its length, and the least since the last trim */
	unsigned conn_count;
	unsigned conns_closing;       /* closed, their handles' on_closed not yet called */
	/* server.max_connections (src/http/http1_conn_limit.c) */
	struct sw_lru idle_conns;     /* keep-alive connections between requests, oldest at the tail */
	unsigned admin_count;         /* of conn_count: on the admin listener (own reserve) */
	unsigned reserve_count;       /* of conn_count: past the limit, for probes */
	unsigned reclaiming;          /* HTTP/2 connections told GOAWAY to make room */
	bool at_limit;                /* in an episode at the limit (logged once) */
	unsigned limit_reclaimed, limit_refused; /* this episode's, for its end's log line */
	/* listeners[].proxy_protocol refusals (http1_conn_pp.c): the last, for one log line an episode */
	uint64_t pp_untrusted_ms, pp_bad_ms;
	bool ready;                   /* /.ready answers 200 */
	bool draining;
	bool paused;                  /* accept paused at max_connections */
	/* Per-worker state of the request-path features (owned by their units). */
	struct sw_static_state *statics;
	struct sw_access_log *access_log;
	struct sw_policy_chain *policies; /* the config's global chain (http/policy.h) */
	uint64_t request_seq;         /* for request ids */
	const struct sw_tls_api *tls_api; /* NULL when TLS is compiled out */
	const struct sw_h2_api *h2_api;   /* NULL when HTTP/2 is compiled out */
	const struct sw_proxy_api *proxy_api; /* NULL when the proxy is compiled out */
	void *proxy;                  /* its routes, upstreams and pools */
	const struct sw_quic_api *quic_api; /* NULL when HTTP/3 is compiled out */
	void *quic;                   /* the QUIC endpoint, when a listener serves HTTP/3 */
	void *tls_ctx;                /* when a listener uses TLS */
	struct sw_ctx_hooks hooks;
};

static inline void sw_ctx_conn_closed(struct sw_ctx *ctx)
{
	if (ctx->hooks.conn_closed)
		ctx->hooks.conn_closed(ctx->hooks.owner);
}

static inline void sw_ctx_wake_accept(struct sw_ctx *ctx)
{
	if (ctx->hooks.wake_accept)
		ctx->hooks.wake_accept(ctx->hooks.owner);
}

#endif
