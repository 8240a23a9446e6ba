/* SPDX-License-Identifier: MIT */
/* http1_conn_limit.c - server.max_connections: idle connections reclaimed, reserves for the admin API and probes. */
#include <config.h>

#include <sys/socket.h>
#include "core/log.h"
#include "http/context.h"
#include "http/http1_conn.h"
#include "http/http1_conn_impl.h"

/*
 * The admin API has its own connections, outside max_connections: an
 * operator must be able to look at (and fix) a worker that is full.
 */
#define ADMIN_RESERVE 16
/*
 * Past max_connections, with no idle connection left to close, this many
 * more are taken so orchestrators' probes still get their answer; any
 * other request on them gets 503 with Retry-After and the connection
 * closes, which frees the place at once.
 */
#define PROBE_RESERVE 8
/*
 * An episode at the limit ends (and may be logged again) once a tenth of
 * the limit, and at least two places, are free: not at every close.
 */
static unsigned episode_end(unsigned max)
{
	unsigned gap = SW_MAX(max / 10, 2u);

	return max > gap ? max - gap : 0;
}

static unsigned regular(const struct sw_ctx *ctx)
{
	return ctx->conn_count - ctx->admin_count - ctx->reserve_count;
}

static struct sw_conn *conn_of(struct sw_lru_node *n)
{
	return SW_CONTAINER_OF(n, struct sw_conn, idle_node);
}

void sw_conn_set_idle(struct sw_conn *c, bool idle)
{
	struct sw_ctx *ctx = c->ctx;

	if (idle == c->idle_listed || c->reclaimed || c->closing)
		return;
	c->idle_listed = idle;
	if (!idle) {
		sw_lru_unlink(&ctx->idle_conns, &c->idle_node);
		return;
	}
	c->idle_since = sw_loop_now(ctx->loop);
	c->trimmed = false;
	sw_lru_push(&ctx->idle_conns, &c->idle_node);
	/* Clients may be waiting in the queue for a place this one can give. */
	if (ctx->paused)
		sw_ctx_wake_accept(ctx);
}

static bool input_waiting(const struct sw_conn *c)
{
	char b;

	return c->len > 0 || recv(c->h.fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
}

/*
 * The connection idle the longest goes, as RFC 9112 9.8 allows (its
 * client retries an idempotent request on a new connection); one whose
 * next request has already arrived is left to it.  HTTP/2 gets GOAWAY and
 * closes when its client has seen it; until then it counts in reclaiming.
 */
static bool reclaim_one(struct sw_ctx *ctx)
{
	struct sw_lru_node *n = ctx->idle_conns.tail;

	while (n) {
		struct sw_conn *c = conn_of(n);

		n = n->prev;
		sw_conn_set_idle(c, false);
		if (c->state == C_IDLE && input_waiting(c))
			continue;
		c->reclaimed = true;
		sw_stat_add(&ctx->stats->connections_reclaimed, 1);
		ctx->limit_reclaimed++;
		if (c->state == C_H2) {
			c->reclaiming = true;
			ctx->reclaiming++;
			ctx->h2_api->drain(c);
		} else {
			sw_conn_close(c);
		}
		return true;
	}
	return false;
}

static void episode_begin(struct sw_ctx *ctx)
{
	if (ctx->at_limit)
		return;
	ctx->at_limit = true;
	ctx->limit_reclaimed = ctx->limit_refused = 0;
	sw_warn("%u connections open: at server.max_connections; closing the longest idle "
		"keep-alive connections to admit new ones", ctx->conn_count);
}

static void episode_check_end(struct sw_ctx *ctx)
{
	unsigned max = ctx->cfg->server.max_connections;

	if (!ctx->at_limit || regular(ctx) > episode_end(max))
		return;
	ctx->at_limit = false;
	sw_info("connections back under server.max_connections: %u idle closed to admit new "
		"ones, %u answered 503 past the limit", ctx->limit_reclaimed, ctx->limit_refused);
}

bool sw_conn_limit_room(struct sw_ctx *ctx, bool admin)
{
	unsigned max = ctx->cfg->server.max_connections;

	if (admin)
		return ctx->admin_count < ADMIN_RESERVE;
	if (regular(ctx) < max)
		return true;
	episode_begin(ctx);
	/* One place is freed ahead of the accept that will take it. */
	if (!ctx->reclaiming && reclaim_one(ctx) && regular(ctx) < max)
		return true;
	/* An HTTP/2 connection is leaving to make room: wait for it. */
	if (ctx->reclaiming)
		return false;
	return ctx->reserve_count < PROBE_RESERVE;
}

void sw_conn_limit_opened(struct sw_conn *c)
{
	struct sw_ctx *ctx = c->ctx;

	c->idle_listed = c->reclaimed = c->reclaiming = c->closing = false;
	c->over_limit = false;
	if (c->on_admin) {
		ctx->admin_count++;
		return;
	}
	/* c is linked already: it counts in regular() until it is found over. */
	if (regular(ctx) <= ctx->cfg->server.max_connections)
		return;
	c->over_limit = true;
	c->keep_alive = false;
	ctx->reserve_count++;
	sw_stat_add(&ctx->stats->connections_over_limit, 1);
}

void sw_conn_limit_closed(struct sw_conn *c)
{
	struct sw_ctx *ctx = c->ctx;

	if (c->idle_listed) {
		sw_lru_unlink(&ctx->idle_conns, &c->idle_node);
		c->idle_listed = false;
	}
	if (c->on_admin)
		ctx->admin_count--;
	else if (c->over_limit)
		ctx->reserve_count--;
	if (c->reclaiming)
		ctx->reclaiming--;
	episode_check_end(ctx);
}
