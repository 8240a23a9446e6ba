/* SPDX-License-Identifier: MIT */
/* http1_conn_body.c - HTTP/1.1 request bodies for handlers that read them (the proxy). */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "http/context.h"
#include "http/http1_conn_impl.h"

/*
 * The head stays where it was parsed (the exchange's views point into
 * c->buf), so body bytes that did not arrive with it are read into a
 * buffer of their own, one piece at a time: the handler asks for the next
 * piece only when it has forwarded the last, which is the back-pressure.
 */
#define BODY_BUF (16 * 1024)
#define CONTINUE "HTTP/1.1 100 Continue\r\n\r\n"

static void next_piece(struct sw_conn *c);
static bool body_rate_ok(struct sw_conn *c, size_t n);

static void on_piece(struct sw_io *io, ssize_t res)
{
	struct sw_conn *c = io->data;
	sw_body_cb cb = c->body_cb;

	(void)res;
	if (c->state == C_LINGER) {
		sw_conn_read(c);   /* the exchange ended meanwhile: keep draining */
		return;
	}
	if (!cb)
		return;
	c->body_cb = NULL;
	if (c->piece_last) {
		c->body_pending = false;
		/* The body was read after all: the close take_body planned is not needed. */
		if (c->x.req.expect_continue && c->x.req.keep_alive && !c->refused &&
		    !c->ctx->draining && !c->over_limit)
			c->keep_alive = true;
	}
	cb(&c->x, c->piece, c->piece_n, c->piece_last);
}

/* Hands the handler a piece from the event loop, never from inside its call. */
static void post_piece(struct sw_conn *c, const char *p, ssize_t n, bool last)
{
	c->piece = p;
	c->piece_n = n;
	c->piece_last = last;
	c->rio.data = c;
	c->rio.cb = on_piece;
	if (sw_loop_post(c->ctx->loop, &c->h, &c->rio, false, 0) != SW_OK)
		sw_conn_close(c);
}

/*
 * Decodes the next piece out of p[0..n).  Returns the bytes used (the
 * piece may be empty when only framing was there), or -errno.
 */
static ssize_t take_piece(struct sw_conn *c, const char *p, size_t n, const char **data,
			  size_t *dlen, bool *last)
{
	uint64_t max = c->ctx->cfg->limits.max_body_bytes;
	size_t used = 0;

	*dlen = 0;
	*last = false;
	if (c->tunnel) {
		*data = p;
		*dlen = n;
		return (ssize_t)n;
	}
	if (!c->x.req.chunked) {
		size_t k = (size_t)SW_MIN((uint64_t)n, c->body_left);
		*data = p;
		*dlen = k;
		c->body_left -= k;
		*last = c->body_left == 0;
		return (ssize_t)k;
	}
	for (;;) {
		size_t consumed;
		int rc = sw_chunked_decode(&c->chunked, p + used, n - used, max, &consumed, data, dlen);

		used += consumed;
		if (rc == SW_DONE)
			*last = true;
		if (rc == SW_DONE || rc == SW_AGAIN || (rc == SW_OK && *dlen))
			return (ssize_t)used;
		if (rc != SW_OK)
			return rc == 413 ? -EFBIG : -EPROTO;
	}
}

/* A piece from buf[*off..len), if there is one.  True when one was posted. */
static bool piece_from(struct sw_conn *c, const char *buf, size_t *off, size_t len)
{
	while (*off < len) {
		const char *d = NULL;
		size_t dl;
		bool last;
		ssize_t k = take_piece(c, buf + *off, len - *off, &d, &dl, &last);

		if (k < 0) {
			c->keep_alive = false;   /* framing in doubt */
			c->refused = true;
			post_piece(c, NULL, k, false);
			return true;
		}
		*off += (size_t)k;
		c->x.bytes_in += (uint64_t)k;
		if (dl || last) {
			post_piece(c, d, (ssize_t)dl, last);
			return true;
		}
	}
	return false;
}

static void on_body_recv(struct sw_io *io, ssize_t res)
{
	struct sw_conn *c = io->data;

	c->recv_pending = false;
	c->read_done = sw_conn_on_recv;
	if (c->state == C_LINGER) {
		sw_conn_on_recv(io, res);   /* the exchange ended while we read */
		return;
	}
	if (res == 0 && c->tunnel) {
		post_piece(c, NULL, 0, true);   /* the client closed its side of the tunnel */
		return;
	}
	if (res <= 0) {
		c->keep_alive = false;
		post_piece(c, NULL, res == 0 ? -ECONNRESET : res, false);
		return;
	}
	if (!c->tunnel && !body_rate_ok(c, (size_t)res))
		return;
	c->bbuf_off = 0;
	c->bbuf_len = (size_t)res;
	next_piece(c);
}

/*
 * limits.min_body_rate: a body trickled in (1 byte a second restarts
 * body_ms each time) ends the request with -ETIMEDOUT for the handler
 * (the proxy answers 408) and the connection after it.
 */
static bool body_rate_ok(struct sw_conn *c, size_t n)
{
	const struct sw_limits_cfg *l = &c->ctx->cfg->limits;
	uint64_t rate;

	if (sw_min_rate_ok(&c->body_rate, sw_loop_now(c->ctx->loop), n, l->min_body_rate,
			   l->min_rate_window_ms, &rate))
		return true;
	sw_conn_slow_client(c, true, rate);
	c->keep_alive = false;
	c->refused = true;
	c->body_pending = false;
	post_piece(c, NULL, -ETIMEDOUT, false);
	return false;
}

static void next_piece(struct sw_conn *c)
{
	size_t want = BODY_BUF;

	if (!c->body_pending) {
		post_piece(c, NULL, 0, true);
		return;
	}
	if (piece_from(c, c->buf, &c->used, c->len) ||
	    piece_from(c, c->bbuf, &c->bbuf_off, c->bbuf_len))
		return;
	/* A sized body is read no further than its end: what follows is the next request. */
	if (!c->x.req.chunked && !c->tunnel)
		want = (size_t)SW_MIN((uint64_t)want, c->body_left);
	if (!c->bbuf)
		c->bbuf = sw_malloc(BODY_BUF);
	c->bbuf_off = c->bbuf_len = 0;
	c->read_done = on_body_recv;
	sw_conn_set_timer(c, c->tunnel ? c->ctx->cfg->timeouts.idle_ms : c->ctx->cfg->timeouts.body_ms);
	sw_min_rate_wait(&c->body_rate, sw_loop_now(c->ctx->loop));
	sw_conn_recv(c, c->bbuf, want);
}

static void on_continue_sent(struct sw_io *io, ssize_t res)
{
	struct sw_conn *c = io->data;

	if (res < 0 || (size_t)res < sizeof(CONTINUE) - 1) {
		sw_conn_close(c);   /* 25 bytes into an empty socket buffer: short means gone */
		return;
	}
	next_piece(c);
}

void sw_conn_read_body(struct sw_exchange *x, sw_body_cb cb)
{
	struct sw_conn *c = x->codec;
	bool first = !c->body_reading;

	c->body_cb = cb;
	if (first)
		sw_min_rate_reset(&c->body_rate);
	c->body_reading = true;
	/*
	 * A client that asked "Expect: 100-continue" waits for this before it
	 * sends the body; only a handler that wants the body asks for it.
	 */
	if (first && x->req.expect_continue && x->req.version == 11 && c->used == c->len) {
		c->iov[0] = (struct iovec){ (void *)CONTINUE, sizeof(CONTINUE) - 1 };
		c->iovcnt = 1;
		sw_conn_send_iov(c, on_continue_sent);
		return;
	}
	next_piece(c);
}

void sw_conn_body_leftover(struct sw_conn *c)
{
	size_t n = c->bbuf_len - c->bbuf_off, keep = c->len - c->used;

	if (n == 0)
		return;
	memmove(c->buf, c->buf + c->used, keep);
	c->used = 0;
	c->len = keep;
	sw_conn_reserve(c, keep + n);
	memcpy(c->buf + keep, c->bbuf + c->bbuf_off, n);
	c->len += n;
	c->bbuf_off = c->bbuf_len = 0;
}
