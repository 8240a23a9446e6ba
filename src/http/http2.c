/* SPDX-License-Identifier: MIT */
/* http2.c - HTTP/2 with nghttp2: the session over a connection, its I/O, drain and flood limits. */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/log.h"
#include "core/module.h"
#include "http/context.h"
#include "http/client_addr.h"
#include "http/http1_conn_impl.h"
#include "http/http2_impl.h"

#define RECV_BUF (16 * 1024)
/*
 * Between the GOAWAY that announces a drain (last id 2^31-1) and the one
 * that names the last stream: requests already on the wire get served.
 */
#define GOAWAY_GRACE_MS 200
/* CVE-2023-44487: client resets, as nghttp2's own limiter counts them. */
#define RESET_BURST 1000
#define RESET_RATE 33
/* SETTINGS, PING, PRIORITY and empty DATA frames cost work and answer nothing. */
#define CONTROL_BURST 500
#define CONTROL_RATE 100
/* A header block in more pieces than this is an attack (CVE-2024-27316). */
#define MAX_CONTINUATIONS 8

static void on_recv(struct sw_io *io, ssize_t res);
static void on_sent(struct sw_io *io, ssize_t res);

static struct h2_conn *conn_h2(struct sw_conn *c)
{
	return c->h2;
}

/* ---- protections ---- */

static bool bucket_take(struct h2_bucket *b, uint64_t now_ms, uint64_t burst, uint64_t rate)
{
	uint64_t cap = burst * 1000;

	if (b->last_ms == 0)
		b->tokens_milli = cap;
	else
		b->tokens_milli = SW_MIN(cap, b->tokens_milli + (now_ms - b->last_ms) * rate);
	b->last_ms = now_ms;
	if (b->tokens_milli < 1000)
		return false;
	b->tokens_milli -= 1000;
	return true;
}

/* Ends the session with ENHANCE_YOUR_CALM; the GOAWAY goes out, then the connection closes. */
static int flooded(struct h2_conn *h, const char *what)
{
	char addr[64];

	if (!h->flooded) {
		sw_addr_format((const struct sockaddr *)&h->c->peer, addr, sizeof(addr));
		sw_warn("HTTP/2 %s from %s; closing the connection", what, addr);
		sw_stat_add(&h->c->ctx->stats->h2_floods, 1);
		nghttp2_session_terminate_session(h->s, NGHTTP2_ENHANCE_YOUR_CALM);
		h->flooded = true;
	}
	return 0;
}

static int on_begin_frame(nghttp2_session *s, const nghttp2_frame_hd *hd, void *user_data)
{
	struct h2_conn *h = user_data;
	uint64_t now = sw_loop_now(h->c->ctx->loop);
	bool control;

	(void)s;
	if (h->flooded)
		return 0;
	if (hd->type == NGHTTP2_CONTINUATION && ++h->continuations > MAX_CONTINUATIONS)
		return flooded(h, "CONTINUATION flood");
	if (hd->type == NGHTTP2_HEADERS)
		h->continuations = 0;
	if (hd->type == NGHTTP2_RST_STREAM && !bucket_take(&h->resets, now, RESET_BURST, RESET_RATE))
		return flooded(h, "rapid reset (RST_STREAM flood)");
	control = hd->type == NGHTTP2_SETTINGS || hd->type == NGHTTP2_PING ||
		  hd->type == NGHTTP2_PRIORITY ||
		  (hd->type == NGHTTP2_DATA && hd->length == 0 && !(hd->flags & NGHTTP2_FLAG_END_STREAM));
	if (control && !bucket_take(&h->control, now, CONTROL_BURST, CONTROL_RATE))
		return flooded(h, "control frame flood (SETTINGS/PING/PRIORITY/empty DATA)");
	return sw_h2_check_begin_frame(h, hd);
}

/* ---- nghttp2 callbacks ---- */

static int on_begin_headers(nghttp2_session *s, const nghttp2_frame *frame, void *user_data)
{
	struct h2_conn *h = user_data;
	struct h2_stream *st;

	if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	/* Safe to retry (RFC 9113 8.7); nghttp2 keeps decoding the block for HPACK. */
	if (sw_h2_over_max_streams(h))
		return nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, frame->hd.stream_id,
						 NGHTTP2_REFUSED_STREAM);
	st = sw_h2_stream_new(h, frame->hd.stream_id);
	nghttp2_session_set_stream_user_data(s, frame->hd.stream_id, st);
	return 0;
}

static int on_frame_recv(nghttp2_session *s, const nghttp2_frame *frame, void *user_data)
{
	struct h2_stream *st = nghttp2_session_get_stream_user_data(s, frame->hd.stream_id);

	if (frame->hd.type == NGHTTP2_SETTINGS)
		return sw_h2_check_settings(user_data, &frame->settings);
	if (!st)
		return 0;
	if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST &&
	    !st->s.begun) {
		st->s.x.req.has_body = !(frame->hd.flags & NGHTTP2_FLAG_END_STREAM);
		sw_h2_stream_dispatch(st);
	}
	/* END_STREAM on the request HEADERS, the last DATA or trailers. */
	if ((frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) &&
	    (frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
		sw_h2_stream_end(st);
	return 0;
}

static int on_frame_send(nghttp2_session *s, const nghttp2_frame *frame, void *user_data)
{
	struct h2_stream *st = nghttp2_session_get_stream_user_data(s, frame->hd.stream_id);

	(void)user_data;
	if (!st)
		return 0;
	if (frame->hd.type == NGHTTP2_HEADERS)
		st->s.x.bytes_out += frame->hd.length + 9;
	/*
	 * The response is complete but the client is still sending a body
	 * nobody reads: tell it to stop (RFC 9113 8.1) instead of taking it.
	 */
	if ((frame->hd.flags & NGHTTP2_FLAG_END_STREAM) &&
	    !nghttp2_session_get_stream_remote_close(s, frame->hd.stream_id))
		nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, frame->hd.stream_id, NGHTTP2_NO_ERROR);
	return 0;
}

static int on_data_chunk(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data,
			 size_t len, void *user_data)
{
	struct h2_stream *st = nghttp2_session_get_stream_user_data(s, id);

	(void)flags;
	(void)user_data;
	if (st)
		sw_h2_stream_data(st, data, len);
	else
		nghttp2_session_consume(s, id, len);   /* a stream we already let go */
	return 0;
}

static int on_stream_close(nghttp2_session *s, int32_t id, uint32_t error_code, void *user_data)
{
	struct h2_stream *st = nghttp2_session_get_stream_user_data(s, id);

	(void)error_code;
	(void)user_data;
	if (st) {
		nghttp2_session_set_stream_user_data(s, id, NULL);
		sw_h2_stream_close(st);
	}
	return 0;
}

static nghttp2_session_callbacks *callbacks(void)
{
	static nghttp2_session_callbacks *cbs;

	if (cbs)
		return cbs;
	if (nghttp2_session_callbacks_new(&cbs) != 0)
		return NULL;
	nghttp2_session_callbacks_set_on_begin_frame_callback(cbs, on_begin_frame);
	nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, on_begin_headers);
	nghttp2_session_callbacks_set_on_header_callback2(cbs, sw_h2_on_header);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame_recv);
	nghttp2_session_callbacks_set_on_frame_send_callback(cbs, on_frame_send);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data_chunk);
	nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_stream_close);
	nghttp2_session_callbacks_set_send_data_callback(cbs, sw_h2_send_data);
	return cbs;
}

/* ---- output ---- */

char *sw_h2_out_reserve(struct h2_conn *h, size_t n)
{
	if (h->out_len + n > h->out_cap) {
		h->out_cap = SW_MAX(h->out_cap * 2, h->out_len + n);
		h->out = sw_realloc(h->out, h->out_cap);
	}
	return h->out + h->out_len;
}

/* Takes frames from nghttp2 until OUT_HIGH is queued.  SW_OK or SW_ERROR. */
static int collect(struct h2_conn *h)
{
	while (h->out_len < H2_OUT_HIGH) {
		const uint8_t *p;
		ssize_t n = nghttp2_session_mem_send(h->s, &p);

		if (n < 0) {
			sw_debug("HTTP/2 send: %s", nghttp2_strerror((int)n));
			return SW_ERROR;
		}
		if (n == 0)
			break;
		memcpy(sw_h2_out_reserve(h, (size_t)n), p, (size_t)n);
		if (!h->settings_patched)
			sw_h2_patch_settings(h, (uint8_t *)h->out + h->out_len, (size_t)n);
		h->out_len += (size_t)n;
	}
	return SW_OK;
}

static void write_out(struct h2_conn *h)
{
	struct sw_conn *c = h->c;

	c->iov[0].iov_base = h->out + h->out_off;
	c->iov[0].iov_len = h->out_len - h->out_off;
	c->iovcnt = 1;
	h->writing = true;
	sw_conn_send_iov(c, on_sent);
}

/* What the connection waits for decides which timeout applies. */
static void rearm(struct h2_conn *h)
{
	const struct sw_timeouts_cfg *t = &h->c->ctx->cfg->timeouts;

	if (h->writing || nghttp2_session_want_write(h->s))
		sw_conn_set_timer(h->c, t->write_ms);
	else if (h->streams.n)
		sw_conn_set_timer(h->c, t->body_ms);
	else
		sw_conn_set_timer(h->c, t->idle_ms);
}

void sw_h2_flush(struct h2_conn *h)
{
	if (h->writing || h->in_recv)
		return;
	if (collect(h) != SW_OK) {
		sw_conn_close(h->c);
		return;
	}
	if (h->out_len) {
		write_out(h);
		rearm(h);
		return;
	}
	/* Nothing to send: after GOAWAY with every stream done, the session is over. */
	if (!nghttp2_session_want_read(h->s) && !nghttp2_session_want_write(h->s)) {
		sw_conn_close(h->c);
		return;
	}
	rearm(h);
}

static void on_flush_timer(struct sw_timer *t)
{
	sw_h2_flush(t->data);
}

void sw_h2_schedule_flush(struct h2_conn *h)
{
	/* Inside a receive, feed() flushes once nghttp2 has returned. */
	if (!h->in_recv)
		sw_timer_add(h->c->ctx->loop, &h->flush_timer, 0);
}

static void on_sent(struct sw_io *io, ssize_t res)
{
	struct sw_conn *c = io->data;
	struct h2_conn *h = conn_h2(c);

	if (res < 0) {
		sw_conn_close(c);
		return;
	}
	h->out_off += (size_t)res;
	if (h->out_off < h->out_len) {
		write_out(h);
		return;
	}
	h->out_off = h->out_len = 0;
	h->writing = false;
	sw_h2_flush(h);
}

/* ---- input ---- */

static void read_more(struct h2_conn *h)
{
	struct sw_conn *c = h->c;

	c->len = 0;
	sw_conn_read(c);
}

static void feed(struct h2_conn *h)
{
	struct sw_conn *c = h->c;
	const uint8_t *p = (const uint8_t *)c->buf;
	size_t off = 0;
	ssize_t n = 0;

	h->in_recv = true;
	/* In pieces that end after each PRIORITY frame, checked once nghttp2 has skipped it. */
	while (off < c->len && n >= 0) {
		bool priority;
		size_t chunk = sw_h2_scan(h, p + off, c->len - off, &priority);

		n = nghttp2_session_mem_recv(h->s, p + off, chunk);
		off += chunk;
		if (n >= 0 && priority)
			n = sw_h2_check_priority(h);
	}
	h->in_recv = false;
	c->len = 0;
	if (n < 0) {
		/* Bad preface, or a flood nghttp2 caught itself: nothing to answer. */
		sw_debug("HTTP/2 receive: %s", nghttp2_strerror((int)n));
		sw_conn_close(c);
		return;
	}
	if (nghttp2_session_want_read(h->s))
		read_more(h);
	sw_h2_flush(h);
}

static void on_recv(struct sw_io *io, ssize_t res)
{
	struct sw_conn *c = io->data;

	c->recv_pending = false;
	if (res <= 0) {
		if (res < 0 && res != -ECONNRESET)
			sw_debug("recv: %s", strerror((int)-res));
		sw_conn_close(c);
		return;
	}
	c->len += (size_t)res;
	feed(conn_h2(c));
}

/* ---- drain ---- */

static void on_goaway_grace(struct sw_timer *t)
{
	struct h2_conn *h = t->data;

	if (h->goaway_final)
		return;
	h->goaway_final = true;
	nghttp2_submit_goaway(h->s, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(h->s),
			      NGHTTP2_NO_ERROR, NULL, 0);
	sw_h2_flush(h);
}

/*
 * RFC 9113 6.8: first a GOAWAY that stops new streams without refusing
 * the ones in flight, then, a moment later, the real last stream id.  The
 * streams below it finish; the connection closes when the last one does.
 */
static void h2_drain(struct sw_conn *c)
{
	struct h2_conn *h = conn_h2(c);

	if (h->draining)
		return;
	h->draining = true;
	nghttp2_submit_shutdown_notice(h->s);
	sw_timer_add(c->ctx->loop, &h->goaway_timer, GOAWAY_GRACE_MS);
	sw_h2_flush(h);
}

/* ---- the module's interface ---- */

static int submit_settings(struct h2_conn *h)
{
	const struct sw_http2_cfg *cfg = sw_http2_config(h->c->ctx->cfg);
	nghttp2_settings_entry iv[] = {
		/* The client sees max_streams instead (sw_h2_patch_settings). */
		{ NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, NGHTTP2_INITIAL_MAX_CONCURRENT_STREAMS },
		{ NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, cfg->initial_window_size },
		{ NGHTTP2_SETTINGS_MAX_FRAME_SIZE, cfg->max_frame_size },
		{ NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, cfg->max_header_list_size },
		/*
		 * RFC 9218 scheduling instead of RFC 7540's dependency tree, which
		 * clients stopped sending (RFC 9113 deprecates it) and for which
		 * nghttp2 keeps every closed stream around.
		 */
		{ NGHTTP2_SETTINGS_NO_RFC7540_PRIORITIES, 1 },
	};

	h->max_streams = cfg->max_streams;
	if (nghttp2_submit_settings(h->s, NGHTTP2_FLAG_NONE, iv, SW_ARRAY_SIZE(iv)) != 0)
		return SW_ERROR;
	/* The connection window starts at 64 KiB whatever SETTINGS say: widen it too. */
	return nghttp2_session_set_local_window_size(h->s, NGHTTP2_FLAG_NONE, 0,
						     (int32_t)cfg->initial_window_size) == 0 ?
	       SW_OK : SW_ERROR;
}

static int session_new(struct h2_conn *h)
{
	nghttp2_session_callbacks *cbs = callbacks();
	nghttp2_option *opt;
	int rc;

	if (!cbs || nghttp2_option_new(&opt) != 0)
		return SW_ERROR;
	/* Never more than this many SETTINGS/PING acks queued for a client that does not read. */
	nghttp2_option_set_max_outbound_ack(opt, 1000);
	nghttp2_option_set_max_settings(opt, 32);
	/* Request bodies are acknowledged as the handler takes them: back-pressure. */
	nghttp2_option_set_no_auto_window_update(opt, 1);
	/*
	 * Where nghttp2 has its own CONTINUATION and reset limits, set them
	 * above ours, so ours answer first: with GOAWAY, a log line and the
	 * floods counter rather than a silent close.
	 */
#if HAVE_DECL_NGHTTP2_OPTION_SET_MAX_CONTINUATIONS
	nghttp2_option_set_max_continuations(opt, 4 * MAX_CONTINUATIONS);
#endif
#if HAVE_DECL_NGHTTP2_OPTION_SET_STREAM_RESET_RATE_LIMIT
	nghttp2_option_set_stream_reset_rate_limit(opt, 2 * RESET_BURST, 2 * RESET_RATE);
#endif
	rc = nghttp2_session_server_new2(&h->s, cbs, h, opt);
	nghttp2_option_del(opt);
	return rc == 0 ? SW_OK : SW_ERROR;
}

static void h2_start(struct sw_conn *c)
{
	struct h2_conn *h = sw_calloc(1, sizeof(*h));

	h->c = c;
	c->h2 = h;
	sw_timer_init(&h->goaway_timer, on_goaway_grace, h);
	sw_timer_init(&h->flush_timer, on_flush_timer, h);
	if (session_new(h) != SW_OK || submit_settings(h) != SW_OK) {
		sw_error("cannot start an HTTP/2 session");
		sw_conn_close(c);
		return;
	}
	c->read_done = on_recv;
	sw_conn_reserve(c, RECV_BUF);
	/* The worker may have begun draining during the TLS handshake. */
	if (c->ctx->draining)
		h2_drain(c);
	sw_conn_set_idle(c, true);
	if (c->len)
		feed(h);   /* the preface, and maybe more, was read as HTTP/1.1 */
	else {
		read_more(h);
		sw_h2_flush(h);
	}
}

/*
 * write_ms with output stuck, body_ms with streams waiting on the client,
 * idle_ms with nothing open: each means the client stopped taking part.
 * An idle connection is told why it closes; a stuck one just closes.
 */
static void h2_timeout(struct sw_conn *c)
{
	struct h2_conn *h = conn_h2(c);

	if (h->writing || h->streams.n || h->goaway_final) {
		sw_conn_close(c);
		return;
	}
	h->goaway_final = true;
	nghttp2_session_terminate_session(h->s, NGHTTP2_NO_ERROR);
	sw_h2_flush(h);
}

static void h2_close(struct sw_conn *c)
{
	struct h2_conn *h = conn_h2(c);

	sw_timer_del(c->ctx->loop, &h->goaway_timer);
	sw_timer_del(c->ctx->loop, &h->flush_timer);
	while (h->streams.open)
		sw_h2_stream_close((struct h2_stream *)h->streams.open);
	sw_h2_stream_free_list(h);
	nghttp2_session_del(h->s);
	free(h->out);
	free(h);
	c->read_done = NULL;
}

static bool h2_trim(struct sw_conn *c)
{
	struct h2_conn *h = conn_h2(c);
	bool any = h->streams.free != NULL;

	sw_h2_stream_free_list(h);
	if (h->writing || h->out_len || !h->out)
		return any;
	free(h->out);
	h->out = NULL;
	h->out_cap = 0;
	return true;
}

static const struct sw_h2_api h2_api = {
	.start = h2_start,
	.drain = h2_drain,
	.timeout = h2_timeout,
	.close = h2_close,
	.trim = h2_trim,
};

static void versions(char *buf, size_t size)
{
	snprintf(buf, size, "nghttp2 %s", nghttp2_version(0)->version_str);
}

const struct sw_module sw_module_http2 = {
	.name = "http2",
	.summary = "HTTP/2 over TLS (ALPN h2) and cleartext h2c",
	.versions = versions,
	.config = &sw_http2_config_section,
	.impl = &h2_api,
};
