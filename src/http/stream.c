/* SPDX-License-Identifier: MIT */
/* stream.c - the request stream HTTP/2 and HTTP/3 share: life cycle, recycling, body holding, handler callbacks. */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include "core/common.h"
#include "http/fields.h"
#include "http/router.h"
#include "http/stream.h"

static void on_kick(struct sw_timer *t);
static char *scratch(struct sw_exchange *x, size_t size);
static void read_body(struct sw_exchange *x, sw_body_cb cb);
static void respond(struct sw_exchange *x);
static void write_body(struct sw_exchange *x, const char *data, size_t n, bool last,
		       sw_sent_cb cb);
static void abort_stream(struct sw_exchange *x);
static void interim(struct sw_exchange *x, int status, const struct sw_header *fields,
		    unsigned count);

/* The codec's class does what frames; the rest is done here. */
static const struct sw_exchange_ops stream_ops = {
	.respond = respond,
	.buffer = scratch,
	.read_body = read_body,
	.write_body = write_body,
	.abort = abort_stream,
	.interim = interim,
};

/* ---- life cycle ---- */

static struct sw_stream *take(struct sw_stream_set *set, size_t size)
{
	struct sw_stream *st = set->free;

	if (!st)
		return sw_calloc(1, size);
	set->free = st->next;
	return st;
}

/* Room for the head: the field array, and each name and value held. */
static void size_head(struct sw_stream *st, unsigned max_count)
{
	unsigned held_cap = 2 * (max_count + 8);   /* pseudo-headers too */

	if (st->header_cap < max_count) {
		free(st->headers);
		st->headers = sw_calloc(max_count, sizeof(*st->headers));
		st->header_cap = max_count;
	}
	if (st->held_cap < held_cap) {
		free(st->held);
		st->held = sw_calloc(held_cap, sizeof(*st->held));
		st->held_cap = held_cap;
	}
}

static void reset(struct sw_stream *st)
{
	st->nheld = 0;
	st->field_bytes = 0;
	st->refuse = 0;
	st->begun = st->responded = st->has_data = false;
	sw_body_buf_reset(&st->body);
	st->body_reading = st->body_done = false;
	st->body_cb = NULL;
	sw_min_rate_reset(&st->body_rate);
	st->slow = false;
	st->sp = NULL;
	st->sn = st->soff = 0;
	st->slast = st->piece_done = false;
	st->sent_cb = NULL;
	st->stream_total = 0;
	sw_timer_init(&st->kick, on_kick, st);
	sw_exchange_clear(&st->x);
	st->x.codec = st;
	st->x.ops = &stream_ops;
	st->x.req.headers = st->headers;
	st->x.req.content_length = -1;
	st->x.resp.file_fd = -1;
}

struct sw_stream *sw_stream_open(struct sw_stream_set *set, size_t size,
				 const struct sw_stream_class *cls, struct sw_loop *loop,
				 const struct sw_limits_cfg *lim, size_t max_field_bytes)
{
	struct sw_stream *st = take(set, size);

	size_head(st, lim->max_header_count);
	reset(st);
	st->cls = cls;
	st->loop = loop;
	st->set = set;
	st->max_field_bytes = SW_MIN(max_field_bytes, (size_t)lim->max_header_bytes);
	st->max_body = lim->max_body_bytes;
	st->min_body_rate = lim->min_body_rate;
	st->rate_window_ms = lim->min_rate_window_ms;
	st->prev = NULL;
	st->next = set->open;
	if (set->open)
		set->open->prev = st;
	set->open = st;
	set->n++;
	return st;
}

/* The handler hears the end: a completion if the last piece went out, else an abort. */
static void finish(struct sw_stream *st)
{
	void (*abort_cb)(struct sw_exchange *);

	if (st->sent_cb && st->piece_done && st->slast) {
		sw_sent_cb cb = st->sent_cb;

		st->sent_cb = NULL;
		cb(&st->x, 0);
	}
	/* A handler still holding the exchange (the proxy) lets go first. */
	abort_cb = st->x.on_abort;
	st->x.on_abort = NULL;
	if (abort_cb)
		abort_cb(&st->x);
	if (st->x.resp.content_length == SW_LENGTH_UNKNOWN)
		st->x.resp.content_length = st->stream_total;
	sw_exchange_finish(&st->x);   /* sent, or abandoned: logged once either way */
}

void sw_stream_close(struct sw_stream *st)
{
	struct sw_stream_set *set = st->set;

	sw_timer_del(st->loop, &st->kick);
	if (st->begun)
		finish(st);
	if (st->x.resp.file_fd >= 0)
		close(st->x.resp.file_fd);
	st->x.resp.file_fd = -1;
	for (unsigned i = 0; i < st->nheld; i++)
		st->cls->release(st->held[i]);
	st->nheld = 0;
	if (st->prev)
		st->prev->next = st->next;
	else
		set->open = st->next;
	if (st->next)
		st->next->prev = st->prev;
	set->n--;
	st->next = set->free;
	set->free = st;
}

void sw_stream_free_all(struct sw_stream_set *set)
{
	while (set->free) {
		struct sw_stream *st = set->free;

		set->free = st->next;
		free(st->held);
		free(st->headers);
		free(st->scratch);
		sw_body_buf_free(&st->body);
		free(st);
	}
}

static char *scratch(struct sw_exchange *x, size_t size)
{
	struct sw_stream *st = x->codec;

	return sw_scratch_reserve(&st->scratch, &st->scratch_cap, size);
}

/* ---- the request head ---- */

void sw_stream_dispatch(struct sw_stream *st, int version)
{
	struct sw_exchange *x = &st->x;
	int refuse = st->refuse ? st->refuse : sw_fields_finish(&x->req, version, st->max_body);

	x->bytes_in = st->field_bytes;
	sw_exchange_begin(x);
	st->begun = true;
	if (refuse)
		sw_exchange_error(x, refuse);
	else
		sw_router_dispatch(x);
}

/* ---- the request body ---- */

enum sw_stream_body sw_stream_body_in(struct sw_stream *st, const uint8_t *data, size_t len,
				      uint64_t *rate)
{
	st->x.bytes_in += len;
	if (st->slow || (st->responded && !st->body_reading))
		return SW_STREAM_BODY_DROP;
	if (st->x.bytes_in - st->field_bytes > st->max_body)
		return SW_STREAM_BODY_TOO_BIG;
	/*
	 * A trickle keeps the connection's timers alive for ever (every frame
	 * is activity): judge the rate as bytes come, like HTTP/1.1 does.
	 */
	if (!sw_min_rate_ok(&st->body_rate, sw_loop_now(st->loop), len, st->min_body_rate,
			    st->rate_window_ms, rate)) {
		st->slow = true;
		if (st->body_cb)
			sw_timer_add(st->loop, &st->kick, 0);
		return SW_STREAM_BODY_SLOW;
	}
	sw_body_buf_append(&st->body, data, len);
	if (st->body_cb)
		sw_timer_add(st->loop, &st->kick, 0);
	return SW_STREAM_BODY_KEPT;
}

void sw_stream_body_end(struct sw_stream *st)
{
	st->body_done = true;
	if (st->body_cb)
		sw_timer_add(st->loop, &st->kick, 0);
}

static void read_body(struct sw_exchange *x, sw_body_cb cb)
{
	struct sw_stream *st = x->codec;

	/* The piece handed out last time is done with: the client may send that much more. */
	if (st->body.lent)
		st->cls->consume(st, sw_body_buf_give_back(&st->body));
	st->body_reading = true;
	st->body_cb = cb;
	sw_timer_add(st->loop, &st->kick, 0);
}

/* ---- the response ---- */

static void respond(struct sw_exchange *x)
{
	struct sw_stream *st = x->codec;

	sw_exchange_before_head(x);
	st->cls->respond(x);
}

static void write_body(struct sw_exchange *x, const char *data, size_t n, bool last,
		       sw_sent_cb cb)
{
	struct sw_stream *st = x->codec;

	st->cls->write_body(x, data, n, last, cb);
}

static void abort_stream(struct sw_exchange *x)
{
	struct sw_stream *st = x->codec;

	x->on_abort = NULL;
	st->cls->abort(x);
}

static void interim(struct sw_exchange *x, int status, const struct sw_header *fields,
		    unsigned count)
{
	struct sw_stream *st = x->codec;

	if (!st->responded)
		st->cls->interim(x, status, fields, count);
}

bool sw_stream_response_has_body(const struct sw_exchange *x)
{
	const struct sw_response *r = &x->resp;

	return x->req.method != SW_METHOD_HEAD && sw_status_has_length(r->status) &&
	       r->body_kind != SW_BODY_NONE && r->content_length > 0;
}

bool sw_stream_piece(struct sw_stream *st, const char *data, size_t n, bool last,
		     sw_sent_cb cb)
{
	st->sp = data;
	st->sn = n;
	st->soff = 0;
	st->slast = last;
	st->sent_cb = cb;
	st->piece_done = false;
	if (st->has_data)
		return true;
	/* HEAD, 204, 304: the headers ended the stream; nothing to frame. */
	sw_stream_piece_copied(st);
	return false;
}

void sw_stream_piece_copied(struct sw_stream *st)
{
	st->piece_done = true;
	sw_timer_add(st->loop, &st->kick, 0);
}

/* Callbacks to the handler, from the loop: a piece was sent, or body data is there. */
static void on_kick(struct sw_timer *t)
{
	struct sw_stream *st = t->data;

	if (st->sent_cb && st->piece_done) {
		sw_sent_cb cb = st->sent_cb;

		st->sent_cb = NULL;
		cb(&st->x, 0);
	}
	if (st->body_cb && st->slow) {
		sw_body_cb cb = st->body_cb;

		st->body_cb = NULL;
		cb(&st->x, NULL, -ETIMEDOUT, false);   /* the proxy answers 408 */
		return;
	}
	if (st->body_cb && st->body.lent == 0 && (st->body.len || st->body_done)) {
		sw_body_cb cb = st->body_cb;
		size_t n;
		const char *p = sw_body_buf_lend(&st->body, &n);

		st->body_cb = NULL;
		cb(&st->x, p, (ssize_t)n, st->body_done);
		return;
	}
	/* The handler waits for bytes only the client can send: that time counts. */
	if (st->body_cb && !st->body_rate.waiting)
		sw_min_rate_wait(&st->body_rate, sw_loop_now(st->loop));
}
