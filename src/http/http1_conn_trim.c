/* SPDX-License-Identifier: MIT */
/* http1_conn_trim.c - the memory a burst of connections leaves behind: recycled connections, idle ones' spare buffers. */
#include <config.h>

#include <stdlib.h>
#if HAVE_MALLOC_TRIM
#include <malloc.h>
#endif
#include "http/context.h"
#include "http/http1_conn.h"
#include "http/http1_conn_impl.h"

/* Recycled connections kept whatever happened: accept never mallocs for a trickle. */
#define FREE_KEEP 16

/*
 * Buffers a connection needs only while it serves a request: the
 * exchange's scratch memory, the request-body buffer, the TLS staging
 * buffer (empty between writes).  The next request that needs one
 * allocates it again.
 */
static bool release_buffers(struct sw_conn *c)
{
	bool any = c->scratch || c->bbuf || (c->tls_buf && c->tls_staged == 0);

	free(c->scratch);
	c->scratch = NULL;
	c->scratch_cap = 0;
	free(c->bbuf);
	c->bbuf = NULL;
	c->bbuf_len = c->bbuf_off = 0;
	if (c->tls_staged == 0) {
		free(c->tls_buf);
		c->tls_buf = NULL;
	}
	return any;
}

void sw_conn_recycle(struct sw_conn *c)
{
	struct sw_ctx *ctx = c->ctx;

	release_buffers(c);
	/* A head that needed a big buffer, or HTTP/2's, does not make every later one big. */
	if (c->cap > SW_CONN_BUF_INITIAL) {
		c->buf = sw_realloc(c->buf, SW_CONN_BUF_INITIAL);
		c->cap = SW_CONN_BUF_INITIAL;
	}
	c->next = ctx->free_conns;
	ctx->free_conns = c;
	ctx->free_count++;
}

struct sw_conn *sw_conn_reuse(struct sw_ctx *ctx)
{
	struct sw_conn *c = ctx->free_conns;

	if (!c)
		return NULL;
	ctx->free_conns = c->next;
	ctx->free_count--;
	if (ctx->free_count < ctx->free_low)
		ctx->free_low = ctx->free_count;
	return c;
}

static void free_conn(struct sw_conn *c)
{
	free(c->buf);
	free(c->req_headers);
	free(c->scratch);
	free(c->tls_buf);
	free(c->bbuf);
	free(c);
}

void sw_conn_free_list(struct sw_ctx *ctx)
{
	struct sw_conn *c;

	while ((c = sw_conn_reuse(ctx)) != NULL)
		free_conn(c);
}

/*
 * Connections idle since before the last trim give up their spare
 * buffers (HTTP/2: its output buffer and recycled streams too).  The idle
 * list is in the order they went idle, the longest idle at the tail.
 */
static bool trim_idle(struct sw_ctx *ctx, uint64_t before)
{
	bool any = false;

	for (struct sw_lru_node *n = ctx->idle_conns.tail; n; n = n->prev) {
		struct sw_conn *c = SW_CONTAINER_OF(n, struct sw_conn, idle_node);

		if (c->idle_since > before)
			break;
		if (c->trimmed)
			continue;
		c->trimmed = true;
		any = release_buffers(c) || any;
		if (c->state == C_H2)
			any = ctx->h2_api->trim(c) || any;
	}
	return any;
}

void sw_conn_trim(struct sw_ctx *ctx, uint64_t interval_ms)
{
	uint64_t now = sw_loop_now(ctx->loop);
	/* Those that stayed on the free list through the whole interval were not needed. */
	unsigned drop = ctx->free_low > FREE_KEEP ? ctx->free_low - FREE_KEEP : 0;
	bool any = drop > 0;

	for (unsigned i = 0; i < drop; i++)
		free_conn(sw_conn_reuse(ctx));
	ctx->free_low = ctx->free_count;
	if (now > interval_ms)
		any = trim_idle(ctx, now - interval_ms) || any;
#if HAVE_MALLOC_TRIM
	/*
	 * Freed small blocks stay in the heap, between live ones, unless
	 * glibc is asked to hand their pages back: after a burst, that is
	 * almost all the memory it took.
	 */
	if (any)
		malloc_trim(0);
#endif
}
