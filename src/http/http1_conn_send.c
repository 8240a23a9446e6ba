/* SPDX-License-Identifier: MIT */
/* http1_conn_send.c - HTTP/1.1 responses: the head, writev, sendfile, then what comes next. */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include "core/clock.h"
#include "core/iov.h"
#include "core/log.h"
#include "http/context.h"
#include "http/http1_conn_impl.h"

static void respond(struct sw_exchange *x);
static char *scratch(struct sw_exchange *x, size_t size);
static void write_body(struct sw_exchange *x, const char *data, size_t n, bool last,
		       sw_sent_cb cb);
static void abort_response(struct sw_exchange *x);

const struct sw_exchange_ops sw_http1_exchange_ops = {
	.respond = respond,
	.buffer = scratch,
	.read_body = sw_conn_read_body,
	.write_body = write_body,
	.abort = abort_response,
};

static char *scratch(struct sw_exchange *x, size_t size)
{
	struct sw_conn *c = x->codec;

	return sw_scratch_reserve(&c->scratch, &c->scratch_cap, size);
}

/* ---- the head ---- */

struct out {
	char *p;
	size_t n, cap;
	bool overflow;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->n + n > o->cap) {
		o->overflow = true;
		return;
	}
	memcpy(o->p + o->n, s, n);
	o->n += n;
}

#define PUT_LIT(o, lit) put(o, lit, sizeof(lit) - 1)

static void put_str(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

/* Digits by hand: snprintf was a third of the instructions of a small response. */
static void put_u64(struct out *o, uint64_t v)
{
	char num[20];
	size_t i = sizeof(num);

	do {
		num[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(o, num + i, sizeof(num) - i);
}

static size_t format_head(struct sw_conn *c, const struct sw_response *r)
{
	struct out o = { .p = c->head, .cap = sizeof(c->head) };

	PUT_LIT(&o, "HTTP/1.1 ");
	put_u64(&o, (uint64_t)r->status);
	PUT_LIT(&o, " ");
	put_str(&o, sw_status_reason(r->status));
	PUT_LIT(&o, "\r\nDate: ");
	put(&o, sw_clock_http_date(), SW_HTTP_DATE_LEN);
	if (c->ctx->cfg->server.server_header)
		PUT_LIT(&o, "\r\nServer: swerver");
	for (unsigned i = 0; i < r->header_count; i++) {
		PUT_LIT(&o, "\r\n");
		put(&o, r->headers[i].name.p, r->headers[i].name.len);
		PUT_LIT(&o, ": ");
		put(&o, r->headers[i].value.p, r->headers[i].value.len);
	}
	if (c->stream_chunked) {
		PUT_LIT(&o, "\r\nTransfer-Encoding: chunked");
	} else if (sw_status_has_length(r->status) && r->content_length != SW_LENGTH_UNKNOWN) {
		PUT_LIT(&o, "\r\nContent-Length: ");
		put_u64(&o, r->content_length);
	}
	PUT_LIT(&o, "\r\nX-Request-Id: ");
	put(&o, c->x.request_id, SW_REQUEST_ID_LEN);
	if (!c->keep_alive && !c->tunnel)
		PUT_LIT(&o, "\r\nConnection: close");
	else if (c->x.req.version == 10)
		PUT_LIT(&o, "\r\nConnection: keep-alive");
	PUT_LIT(&o, "\r\n\r\n");
	return o.overflow ? 0 : o.n;
}

/* ---- sending ---- */

static void start_write(struct sw_conn *c);
static void start_sendfile(struct sw_conn *c);
static void stream_head_sent(struct sw_conn *c);

static void response_done(struct sw_conn *c)
{
	/*
	 * A handler that answered before reading the whole body may still
	 * have a read outstanding: the connection cannot be reused after it.
	 */
	if (c->body_cb || (c->body_reading && c->recv_pending))
		c->keep_alive = false;
	c->x.on_abort = NULL;
	c->requests++;
	sw_timer_del(c->ctx->loop, &c->timer);
	sw_exchange_finish(&c->x);
	if (c->x.resp.file_fd >= 0) {
		close(c->x.resp.file_fd);
		c->x.resp.file_fd = -1;
	}
	sw_conn_next(c);
}

/*
 * write_ms, or sooner while limits.min_send_rate applies: a send into full
 * socket buffers may not complete for minutes while its client reads a
 * trickle, so the rate is also judged from the timer.
 */
static void write_timer(struct sw_conn *c)
{
	const struct sw_config *cfg = c->ctx->cfg;
	uint32_t ms = cfg->timeouts.write_ms;

	if (cfg->limits.min_send_rate && !c->tunnel)
		ms = SW_MIN(ms, cfg->limits.min_rate_window_ms);
	sw_conn_set_timer(c, ms);
}

/*
 * What the client has taken: bytes written into the socket less those
 * still queued in it.  Our writes complete when the kernel takes them, up
 * to megabytes ahead of the client, so they alone would say nothing.
 */
static uint64_t send_taken(const struct sw_conn *c)
{
	int queued = 0;

	if (ioctl(c->h.fd, TIOCOUTQ, &queued) != 0 || queued < 0)
		queued = 0;
	return c->sent_total > (uint64_t)queued ? c->sent_total - (uint64_t)queued : 0;
}

static void send_window_start(struct sw_conn *c)
{
	c->send_mark_ms = sw_loop_now(c->ctx->loop);
	c->send_mark_taken = send_taken(c);
	c->send_done_ms = 0;
}

/* A write begins; a pause before it (the handler had nothing) is not the client's time. */
static void send_wait(struct sw_conn *c)
{
	uint64_t now = sw_loop_now(c->ctx->loop);

	if (!c->send_waiting && c->send_done_ms && now > c->send_done_ms)
		c->send_mark_ms += now - c->send_done_ms;
	c->send_waiting = true;
	c->send_since = now;
}

static void send_done(struct sw_conn *c, size_t n)
{
	c->send_waiting = false;
	c->send_done_ms = sw_loop_now(c->ctx->loop);
	c->sent_total += n;
}

/* A window of limits.min_rate_window_ms has passed: did the client take enough? */
static bool send_rate_ok(struct sw_conn *c, uint64_t now)
{
	const struct sw_limits_cfg *l = &c->ctx->cfg->limits;
	uint64_t elapsed = now - c->send_mark_ms, taken, rate;

	if (!l->min_send_rate || c->tunnel || elapsed < l->min_rate_window_ms)
		return true;
	taken = send_taken(c);
	rate = (taken - SW_MIN(taken, c->send_mark_taken)) * 1000 / elapsed;
	if (rate < l->min_send_rate) {
		/*
		 * Reset, not FIN: what is queued in the socket would otherwise
		 * keep trickling to the client (and holding kernel memory) after
		 * the close.
		 */
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };

		sw_conn_slow_client(c, false, rate);
		setsockopt(c->h.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		return false;
	}
	c->send_mark_ms = now;
	c->send_mark_taken = taken;
	return true;
}

void sw_conn_write_timeout(struct sw_conn *c)
{
	const struct sw_config *cfg = c->ctx->cfg;
	uint64_t now = sw_loop_now(c->ctx->loop), waited;

	if (!c->send_waiting) {
		sw_conn_close(c);   /* idle_ms: a streamed body's handler went quiet */
		return;
	}
	waited = now - c->send_since;
	if (waited >= cfg->timeouts.write_ms || !send_rate_ok(c, now)) {
		sw_conn_close(c);   /* the client stopped reading, or reads a trickle */
		return;
	}
	sw_conn_set_timer(c, SW_MIN(cfg->timeouts.write_ms - waited,
				    (uint64_t)cfg->limits.min_rate_window_ms));
}

/*
 * Progress resets write_ms: the timeout is for a client that stops
 * reading.  One that reads a trickle is measured against
 * limits.min_send_rate instead; false: it was cut (connection closed).
 */
static bool progress(struct sw_conn *c, size_t n)
{
	c->x.bytes_out += n;
	send_done(c, n);
	if (!send_rate_ok(c, sw_loop_now(c->ctx->loop))) {
		sw_conn_close(c);
		return false;
	}
	write_timer(c);
	return true;
}

static void on_sendfile(struct sw_io *io, ssize_t res)
{
	struct sw_conn *c = io->data;

	if (res <= 0) {
		/* 0: the file shrank under us; the promised length cannot be kept. */
		if (res == 0)
			sw_warn("static file shrank while being sent; closing the connection");
		sw_conn_close(c);
		return;
	}
	if (!progress(c, (size_t)res))
		return;
	c->x.resp.file_offset += res;
	c->file_left -= (uint64_t)res;
	if (c->file_left)
		start_sendfile(c);
	else
		response_done(c);
}

static void start_sendfile(struct sw_conn *c)
{
	send_wait(c);
	if (c->tls) {
		c->write_done = on_sendfile;
		sw_conn_tls_write(c, true);
		return;
	}
	/* sendfile(2) moves at most ~2 GiB a call; larger files take several. */
	size_t chunk = (size_t)SW_MIN(c->file_left, (uint64_t)1 << 30);

	c->wio.data = c;
	c->wio.cb = on_sendfile;
	if (sw_loop_sendfile(c->ctx->loop, &c->h, &c->wio, c->x.resp.file_fd,
			     c->x.resp.file_offset, chunk) != SW_OK)
		sw_conn_close(c);
}

static void on_write(struct sw_io *io, ssize_t res)
{
	struct sw_conn *c = io->data;

	if (res < 0) {
		sw_conn_close(c);
		return;
	}
	if (!progress(c, (size_t)res))
		return;
	if (!sw_iov_advance(c->iov, &c->iovcnt, (size_t)res)) {
		start_write(c);
	} else if (c->file_left) {
		start_sendfile(c);
	} else if (c->streaming) {
		stream_head_sent(c);
	} else {
		response_done(c);
	}
}

void sw_conn_send_iov(struct sw_conn *c, sw_io_cb cb)
{
	send_wait(c);
	if (c->tls) {
		c->write_done = cb;
		sw_conn_tls_write(c, false);
		return;
	}
	c->wio.data = c;
	c->wio.cb = cb;
	if (sw_loop_writev(c->ctx->loop, &c->h, &c->wio, c->iov, c->iovcnt) != SW_OK)
		sw_conn_close(c);
}

static void start_write(struct sw_conn *c)
{
	sw_conn_send_iov(c, on_write);
}

/* ---- streamed bodies (SW_BODY_STREAM): one piece in flight at a time ---- */

static void send_piece(struct sw_conn *c, bool with_head);

/* The piece is out: tell the handler, then end the response after the last. */
static void piece_sent(struct sw_conn *c, int res)
{
	sw_sent_cb cb = c->sent_cb;
	bool last = c->slast;

	c->stream_busy = false;
	c->sent_cb = NULL;
	if (res < 0) {
		sw_conn_close(c);   /* the handler hears of it through on_abort */
		return;
	}
	if (last) {
		c->x.on_abort = NULL;
		if (c->x.resp.content_length == SW_LENGTH_UNKNOWN)
			c->x.resp.content_length = c->stream_total;
	}
	if (cb)
		cb(&c->x, 0);
	if (last && c->tunnel)
		sw_conn_close(c);   /* one side of the tunnel ended: so does the connection */
	else if (last)
		response_done(c);
	else
		sw_conn_set_timer(c, c->ctx->cfg->timeouts.idle_ms);
}

static void on_piece_write(struct sw_io *io, ssize_t res)
{
	struct sw_conn *c = io->data;

	if (res < 0) {
		piece_sent(c, (int)res);
		return;
	}
	if (!progress(c, (size_t)res))
		return;
	if (!sw_iov_advance(c->iov, &c->iovcnt, (size_t)res)) {
		sw_conn_send_iov(c, on_piece_write);
		return;
	}
	piece_sent(c, 0);
}

static void add_iov(struct sw_conn *c, const void *p, size_t n)
{
	if (n == 0)
		return;
	c->iov[c->iovcnt].iov_base = (void *)p;
	c->iov[c->iovcnt].iov_len = n;
	c->iovcnt++;
}

static bool body_allowed(const struct sw_conn *c)
{
	return c->tunnel || (c->x.req.method != SW_METHOD_HEAD && sw_status_has_length(c->x.resp.status));
}

/* One piece, behind the response head (iov[0]) when that has not gone out yet. */
static void send_piece(struct sw_conn *c, bool with_head)
{
	size_t n = body_allowed(c) ? c->sn : 0;

	c->stream_busy = true;
	c->iovcnt = with_head ? 1 : 0;
	c->stream_total += n;
	if (c->stream_chunked && n) {
		int k = snprintf(c->chunk_line, sizeof(c->chunk_line), "%zx\r\n", n);
		add_iov(c, c->chunk_line, (size_t)k);
	}
	add_iov(c, c->sp, n);
	if (c->stream_chunked && body_allowed(c)) {
		if (n)
			add_iov(c, c->slast ? "\r\n0\r\n\r\n" : "\r\n", c->slast ? 7 : 2);
		else if (c->slast)
			add_iov(c, "0\r\n\r\n", 5);
	}
	if (c->iovcnt == 0) {
		/* Nothing to put on the wire (HEAD, an empty piece): complete from the loop. */
		c->wio.data = c;
		c->wio.cb = on_piece_write;
		if (sw_loop_post(c->ctx->loop, &c->h, &c->wio, true, 0) != SW_OK)
			sw_conn_close(c);
		return;
	}
	write_timer(c);
	sw_conn_send_iov(c, on_piece_write);
}

static void stream_head_sent(struct sw_conn *c)
{
	c->stream_ready = true;
	if (c->sent_cb && !c->stream_busy)
		send_piece(c, false);
	else
		sw_conn_set_timer(c, c->ctx->cfg->timeouts.idle_ms);
}

static void write_body(struct sw_exchange *x, const char *data, size_t n, bool last,
		       sw_sent_cb cb)
{
	struct sw_conn *c = x->codec;

	c->sp = data;
	c->sn = n;
	c->slast = last;
	c->sent_cb = cb;
	if (c->stream_ready && !c->stream_busy)
		send_piece(c, false);
}

/*
 * A streamed head waits for the loop: a handler that has its first piece
 * at hand (the proxy, with the upstream's head and body in one read) hands
 * it over before this runs, and both go out in one writev instead of two.
 */
static void on_stream_head(struct sw_io *io, ssize_t res)
{
	struct sw_conn *c = io->data;

	(void)res;
	if (c->sent_cb) {
		c->stream_ready = true;
		send_piece(c, true);
	} else {
		start_write(c);
	}
}

static void respond(struct sw_exchange *x)
{
	struct sw_conn *c = x->codec;
	struct sw_response *r = &x->resp;
	bool body;
	size_t n;

	sw_exchange_before_head(x);
	body = x->req.method != SW_METHOD_HEAD && sw_status_has_length(r->status);

	/* A drain that began after the request was parsed: say close now. */
	if (r->close || c->ctx->draining)
		c->keep_alive = false;
	/*
	 * 101 to an Upgrade (the proxy's WebSocket): the connection becomes a
	 * raw tunnel; "body" pieces both ways are the bytes as they come.
	 */
	if (r->status == 101 && r->body_kind == SW_BODY_STREAM) {
		c->tunnel = true;
		c->keep_alive = false;
		c->body_pending = true;
		c->body_left = UINT64_MAX;
	}
	c->streaming = r->body_kind == SW_BODY_STREAM;
	c->stream_chunked = false;
	c->stream_total = 0;
	if (c->streaming && r->content_length == SW_LENGTH_UNKNOWN && body) {
		/* HTTP/1.0 has no chunked coding: the close marks the end. */
		if (x->req.version == 10)
			c->keep_alive = false;
		else
			c->stream_chunked = true;
	}
	n = format_head(c, r);
	if (n == 0) {
		sw_error("the response head for status %d does not fit in %zu bytes",
			 r->status, sizeof(c->head));
		sw_conn_close(c);
		return;
	}
	c->iov[0].iov_base = c->head;
	c->iov[0].iov_len = n;
	c->iovcnt = 1;
	c->file_left = 0;
	if (body && r->body_kind == SW_BODY_MEMORY && r->body.len) {
		c->iov[1].iov_base = (void *)r->body.p;
		c->iov[1].iov_len = r->body.len;
		c->iovcnt = 2;
	} else if (body && r->body_kind == SW_BODY_FILE) {
		c->file_left = r->content_length;
	}
	if (c->file_left || c->keep_alive)
		sw_conn_nodelay(c);
	c->state = C_WRITE;
	send_window_start(c);
	write_timer(c);
	/* A tunnel's 101 goes at once: the client waits for it before it sends. */
	if (c->streaming && !c->tunnel) {
		c->wio.data = c;
		c->wio.cb = on_stream_head;
		if (sw_loop_post(c->ctx->loop, &c->h, &c->wio, true, 0) != SW_OK)
			sw_conn_close(c);
		return;
	}
	start_write(c);
}

static void abort_response(struct sw_exchange *x)
{
	struct sw_conn *c = x->codec;

	c->x.on_abort = NULL;
	sw_conn_close(c);
}
