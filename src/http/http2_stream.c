/* SPDX-License-Identifier: MIT */
/* http2_stream.c - HTTP/2 streams as exchanges: what nghttp2 needs beyond the shared stream (stream.c). */
#include <config.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include "core/log.h"
#include "http/context.h"
#include "http/client_addr.h"
#include "http/http1_conn_impl.h"
#include "http/fields.h"
#include "http/http2_impl.h"

/* ---- life cycle ---- */

static const struct sw_stream_class h2_class;

struct h2_stream *sw_h2_stream_new(struct h2_conn *h, int32_t id)
{
	const struct sw_config *cfg = h->c->ctx->cfg;
	struct h2_stream *st = (struct h2_stream *)sw_stream_open(
		&h->streams, sizeof(*st), &h2_class, h->c->ctx->loop, &cfg->limits,
		sw_http2_config(cfg)->max_header_list_size);

	st->h = h;
	st->id = id;
	st->framed = st->sent = 0;
	sw_conn_set_idle(h->c, false);
	return st;
}

void sw_h2_stream_close(struct h2_stream *st)
{
	struct h2_conn *h = st->h;

	sw_stream_close(&st->s);
	if (h->streams.n == 0)
		sw_conn_set_idle(h->c, true);
}

void sw_h2_stream_free_list(struct h2_conn *h)
{
	sw_stream_free_all(&h->streams);
}

/* ---- the request head ---- */

static struct sw_str view(nghttp2_rcbuf *b)
{
	nghttp2_vec v = nghttp2_rcbuf_get_buf(b);

	return (struct sw_str){ (const char *)v.base, v.len };
}

/* nghttp2 has checked the field; the limits are the shared stream's (fields.c). */
int sw_h2_on_header(nghttp2_session *s, const nghttp2_frame *frame, nghttp2_rcbuf *name,
		    nghttp2_rcbuf *value, uint8_t flags, void *user_data)
{
	struct h2_stream *st = nghttp2_session_get_stream_user_data(s, frame->hd.stream_id);

	(void)flags;
	(void)user_data;
	if (!st || frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;   /* trailers: nothing reads them */
	sw_fields_take(&st->s, view(name), name, view(value), value);
	return 0;
}

void sw_h2_stream_dispatch(struct h2_stream *st)
{
	struct sw_conn *c = st->h->c;
	struct sw_exchange *x = &st->s.x;

	x->ctx = c->ctx;
	x->proto = SW_PROTO_HTTP2;
	x->tls = c->tls != NULL;
	x->tls_client = c->tls_client[0] ? c->tls_client : NULL;
	x->admin = c->on_admin;
	x->over_limit = c->over_limit;
	x->h3_port = c->h3_port;
	x->peer = (const struct sockaddr *)&c->peer;
	x->peer_len = c->peer_len;
	sw_stream_dispatch(&st->s, 20);
}

/* ---- the response ---- */

struct nv_list {
	struct sw_field_list f;
	nghttp2_nv v[SW_FIELDS_MAX];
};

/* nghttp2's view of the shared list; nghttp2 copies it on submit. */
static void to_nv(struct nv_list *l)
{
	for (size_t i = 0; i < l->f.n; i++)
		l->v[i] = (nghttp2_nv){ (uint8_t *)(uintptr_t)l->f.name[i].p,
					(uint8_t *)(uintptr_t)l->f.value[i].p, l->f.name[i].len,
					l->f.value[i].len, NGHTTP2_NV_FLAG_NONE };
}

static ssize_t frame_body(nghttp2_session *s, int32_t id, uint8_t *buf, size_t length,
			  uint32_t *flags, nghttp2_data_source *source, void *user_data)
{
	struct h2_stream *st = source->ptr;
	uint64_t left = st->s.x.resp.content_length - st->framed;
	size_t n = (size_t)SW_MIN(left, (uint64_t)length);

	(void)s;
	(void)id;
	(void)buf;
	(void)user_data;
	/* The bytes are copied (or read from the file) straight into the output. */
	*flags |= NGHTTP2_DATA_FLAG_NO_COPY;
	st->framed += n;
	if (st->framed == st->s.x.resp.content_length)
		*flags |= NGHTTP2_DATA_FLAG_EOF;
	return (ssize_t)n;
}

/* A streamed body: frames from the piece write_body handed over, or wait for one. */
static ssize_t frame_stream(nghttp2_session *s, int32_t id, uint8_t *buf, size_t length,
			    uint32_t *flags, nghttp2_data_source *source, void *user_data)
{
	struct h2_stream *st = source->ptr;
	size_t n;

	(void)s;
	(void)id;
	(void)buf;
	(void)user_data;
	if (!st->s.sent_cb || (st->framed == st->s.sn && !st->s.slast))
		return NGHTTP2_ERR_DEFERRED;
	n = SW_MIN(st->s.sn - st->framed, length);
	*flags |= NGHTTP2_DATA_FLAG_NO_COPY;
	st->framed += n;
	if (st->framed == st->s.sn && st->s.slast)
		*flags |= NGHTTP2_DATA_FLAG_EOF;
	return (ssize_t)n;
}

/* The body bytes of one DATA frame; false when a file failed under us. */
static bool copy_body(struct h2_stream *st, char *data, size_t length)
{
	const struct sw_response *r = &st->s.x.resp;

	if (r->body_kind == SW_BODY_STREAM) {
		if (length)   /* the last piece may be empty, with no memory at all */
			memcpy(data, st->s.sp + st->s.soff, length);
		st->s.soff += length;
		st->s.stream_total += length;
		/* The whole piece is in the output: its memory is the handler's again. */
		if (st->s.soff == st->s.sn)
			sw_stream_piece_copied(&st->s);
	} else if (r->body_kind == SW_BODY_FILE) {
		ssize_t n = pread(r->file_fd, data, length, r->file_offset + (off_t)st->sent);
		if (n != (ssize_t)length) {
			sw_warn("static file shrank or failed while being sent (%s); resetting stream %d",
				n < 0 ? strerror(errno) : "short read", st->id);
			return false;
		}
	} else {
		memcpy(data, r->body.p + st->sent, length);
	}
	return true;
}

/* Copies one DATA frame into the output: its header, then the body bytes. */
int sw_h2_send_data(nghttp2_session *s, nghttp2_frame *frame, const uint8_t *framehd,
		    size_t length, nghttp2_data_source *source, void *user_data)
{
	struct h2_stream *st = source->ptr;
	struct h2_conn *h = user_data;
	size_t pad = frame->data.padlen;   /* 0: we never ask for padding */
	char *out, *data;

	(void)s;
	/*
	 * One mem_send call keeps sending NO_COPY frames while the windows
	 * allow: stop at the mark, or a client with huge windows that never
	 * reads would have whole files copied into memory.  nghttp2 offers
	 * the same frame again on the next call.
	 */
	if (h->out_len >= H2_OUT_HIGH)
		return NGHTTP2_ERR_WOULDBLOCK;
	out = sw_h2_out_reserve(h, 9 + length + pad);
	data = out + 9 + (pad ? 1 : 0);
	if (!copy_body(st, data, length))
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	memcpy(out, framehd, 9);
	if (pad) {
		out[9] = (char)(pad - 1);
		memset(data + length, 0, pad - 1);
	}
	h->out_len += 9 + length + pad;
	st->sent += length;
	st->s.x.bytes_out += 9 + length + pad;
	return 0;
}

static void respond(struct sw_exchange *x)
{
	struct h2_stream *st = x->codec;
	struct h2_conn *h = st->h;
	bool body = sw_stream_response_has_body(x);
	bool stream = x->resp.body_kind == SW_BODY_STREAM;
	nghttp2_data_provider dp = { .source.ptr = st,
				     .read_callback = stream ? frame_stream : frame_body };
	struct nv_list l;

	sw_fields_response(&l.f, x, h->c->ctx->cfg->server.server_header);
	to_nv(&l);
	/*
	 * x-request-id, last: a value never seen twice.  Indexing it would only
	 * churn the HPACK dynamic table (and cost a table search and insert).
	 */
	l.v[l.f.n - 1].flags = NGHTTP2_NV_FLAG_NO_INDEX;
	st->s.responded = true;
	st->s.has_data = body;
	/* nghttp2 copies the fields; the body is read when frames are sent. */
	if (nghttp2_submit_response(h->s, st->id, l.v, l.f.n, body ? &dp : NULL) != 0)
		nghttp2_submit_rst_stream(h->s, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_INTERNAL_ERROR);
	sw_h2_schedule_flush(h);
}

/* A HEADERS frame without END_STREAM ahead of the response's (RFC 9113 8.1). */
static void interim(struct sw_exchange *x, int status, const struct sw_header *fields,
		    unsigned count)
{
	struct h2_stream *st = x->codec;
	struct nv_list l;

	if (!sw_fields_interim(&l.f, status, fields, count))
		return;
	to_nv(&l);
	/* nghttp2 copies the fields; a failure only loses the hint. */
	if (nghttp2_submit_headers(st->h->s, NGHTTP2_FLAG_NONE, st->id, NULL, l.v, l.f.n,
				   NULL) == 0)
		sw_h2_schedule_flush(st->h);
}

static void write_body(struct sw_exchange *x, const char *data, size_t n, bool last,
		       sw_sent_cb cb)
{
	struct h2_stream *st = x->codec;

	st->framed = 0;
	if (!sw_stream_piece(&st->s, data, n, last, cb))
		return;
	nghttp2_session_resume_data(st->h->s, st->id);
	sw_h2_schedule_flush(st->h);
}

/* ---- the request body ---- */

/* limits.min_body_rate: logged once per stream, counted with the HTTP/1.1 ones. */
static void slow_body(struct h2_stream *st, uint64_t rate)
{
	struct sw_conn *c = st->h->c;
	char addr[64];

	sw_addr_format((const struct sockaddr *)&c->peer, addr, sizeof(addr));
	sw_info("slow client %s: request body at %llu bytes/s over %u ms, below "
		"limits.min_body_rate %u; ending HTTP/2 stream %d", addr,
		(unsigned long long)rate, st->s.rate_window_ms, st->s.min_body_rate, st->id);
	sw_stat_add(&c->ctx->stats->slow_bodies, 1);
}

void sw_h2_stream_data(struct h2_stream *st, const uint8_t *data, size_t len)
{
	struct h2_conn *h = st->h;
	uint64_t rate = 0;

	/* Bounded by the stream window: nothing is acknowledged until taken. */
	switch (sw_stream_body_in(&st->s, data, len, &rate)) {
	case SW_STREAM_BODY_KEPT:
		break;
	case SW_STREAM_BODY_SLOW:
		/*
		 * The handler hears -ETIMEDOUT (the proxy answers 408, and
		 * on_frame_send resets the stream with NO_ERROR after it); the
		 * rest of the body is taken and dropped meanwhile.
		 */
		nghttp2_session_consume(h->s, st->id, len);
		slow_body(st, rate);
		break;
	case SW_STREAM_BODY_DROP:
		nghttp2_session_consume(h->s, st->id, len);
		break;
	case SW_STREAM_BODY_TOO_BIG:
		nghttp2_session_consume(h->s, st->id, len);
		nghttp2_submit_rst_stream(h->s, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_CANCEL);
		break;
	}
}

void sw_h2_stream_end(struct h2_stream *st)
{
	sw_stream_body_end(&st->s);
}

static void abort_stream(struct sw_exchange *x)
{
	struct h2_stream *st = x->codec;

	nghttp2_submit_rst_stream(st->h->s, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_INTERNAL_ERROR);
	sw_h2_schedule_flush(st->h);
}

/* ---- the class ---- */

static void hold(void *buf)
{
	nghttp2_rcbuf_incref(buf);
}

static void release(void *buf)
{
	nghttp2_rcbuf_decref(buf);
}

/* Body bytes the handler took: acknowledge them (WINDOW_UPDATE). */
static void consume(struct sw_stream *s, size_t n)
{
	struct h2_stream *st = (struct h2_stream *)s;

	nghttp2_session_consume(st->h->s, st->id, n);
	sw_h2_schedule_flush(st->h);
}

/* In the order of struct sw_stream_class. */
static const struct sw_stream_class h2_class = { hold, release, consume, respond, write_body,
					    abort_stream, interim };
