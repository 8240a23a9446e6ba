/* SPDX-License-Identifier: MIT */
/* subrequest.c - the gateway's own requests to an upstream (forward_auth): the pool's connections, one answer read whole. */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "core/iov.h"
#include "core/log.h"
#include "http/context.h"
#include "http/subreq.h"
#include "proxy/proxy.h"

#define SUB_FIELDS 64

struct sw_subreq {
	struct px_state *st;
	struct px_server *srv;
	struct px_upconn *uc;
	struct sw_timer deadline;     /* the whole exchange with the upstream */
	struct sw_timer later;        /* an early failure is reported from the loop */
	int early_err;
	sw_subreq_cb cb;
	void *data;
	size_t max_body;
	char *head;
	struct iovec iov[1];
	int iovcnt;
	bool reading;
	struct sw_http1_parser parser;
	struct sw_http1_response resp;
	struct sw_header fields[SUB_FIELDS];
	size_t head_len;              /* of the answer, once parsed */
	struct sw_chunked chunked;
	char *answer_head;            /* the answer's head, which the fields point into */
	char *body;                   /* decoded, up to max_body */
	size_t body_len;
	bool body_done;
};

static void sub_free(struct sw_subreq *s)
{
	sw_timer_del(s->st->ctx->loop, &s->deadline);
	sw_timer_del(s->st->ctx->loop, &s->later);
	px_state_put(s->st);
	free(s->head);
	free(s->answer_head);
	free(s->body);
	free(s);
}

/* Lets go of the connection: pooled when the answer was read exactly, closed otherwise. */
static void drop(struct sw_subreq *s, bool reusable)
{
	if (!s->uc)
		return;
	if (s->reading)
		reusable = false;
	px_upconn_release(s->uc, reusable);
	s->uc = NULL;
}

static void report(struct sw_subreq *s, int status, int err)
{
	struct sw_subreq_answer a = { status, err, NULL, 0, s->body, s->body_len };

	if (status) {
		a.headers = s->resp.headers;
		a.header_count = s->resp.header_count;
	}
	s->cb(s->data, &a);
}

static void failed(struct sw_subreq *s, int err, const char *why)
{
	sw_info("forward_auth: %s: %s", s->srv ? s->srv->name : "-", why);
	if (s->srv)
		px_stat_error(s->srv, err == -ETIMEDOUT ? SW_UPERR_TIMEOUT : SW_UPERR_CONNECT);
	drop(s, false);
	report(s, 0, err);
	sub_free(s);
}

static void on_deadline(struct sw_timer *t)
{
	failed(t->data, -ETIMEDOUT, "no whole answer within timeout_ms");
}

static void on_later(struct sw_timer *t)
{
	struct sw_subreq *s = t->data;

	report(s, 0, s->early_err);
	sub_free(s);
}

static void start_read(struct sw_subreq *s);

/* Keeps what fits of a body piece; the rest is read and dropped. */
static void keep(struct sw_subreq *s, const char *p, size_t n)
{
	size_t room = s->max_body - s->body_len;

	if (n > room)
		n = room;
	memcpy(s->body + s->body_len, p, n);
	s->body_len += n;
}

/* Consumes the body bytes in the buffer; true when the answer is complete. */
static bool take_body(struct sw_subreq *s, bool eof)
{
	struct px_upconn *uc = s->uc;
	const char *p = uc->buf + uc->used;
	size_t n = uc->len - uc->used;

	if (s->resp.chunked) {
		while (n) {
			size_t used, dlen;
			const char *data;
			int rc = sw_chunked_decode(&s->chunked, p, n, UINT64_MAX, &used, &data, &dlen);
			if (rc == 400 || rc == 413)
				return false;
			keep(s, data, dlen);
			p += used;
			n -= used;
			uc->used += used;
			if (rc == SW_DONE)
				return s->body_done = true;
			if (rc == SW_AGAIN)
				break;
		}
		uc->len = uc->used = 0;
		return false;
	}
	if (s->resp.content_length >= 0) {
		uint64_t left = (uint64_t)s->resp.content_length - s->chunked.total;
		size_t take = n < left ? n : (size_t)left;
		keep(s, p, take);
		s->chunked.total += take;
		uc->used += take;
		if (uc->used == uc->len)
			uc->len = uc->used = 0;
		return s->body_done = s->chunked.total == (uint64_t)s->resp.content_length;
	}
	/* until the upstream closes */
	keep(s, p, n);
	uc->len = uc->used = 0;
	return s->body_done = eof;
}

static void complete(struct sw_subreq *s)
{
	bool reusable = s->resp.keep_alive && !s->resp.until_close && s->uc->used == s->uc->len;

	s->reading = false;
	report(s, s->resp.status, 0);
	drop(s, reusable);
	sub_free(s);
}

/* The fields are views into uc->buf, which the body reuses: they move to a copy of the head. */
static void keep_head(struct sw_subreq *s)
{
	const char *base = s->uc->buf;

	s->answer_head = sw_malloc(s->head_len);
	memcpy(s->answer_head, base, s->head_len);
	for (unsigned i = 0; i < s->resp.header_count; i++) {
		struct sw_header *h = &s->resp.headers[i];
		h->name.p = s->answer_head + (h->name.p - base);
		h->value.p = s->answer_head + (h->value.p - base);
	}
}

static void on_data(struct sw_io *io, ssize_t res)
{
	struct sw_subreq *s = io->data;
	struct px_upconn *uc = s->uc;
	bool eof = res <= 0;

	s->reading = false;
	if (res < 0 || (res == 0 && !(s->head_len && s->resp.until_close))) {
		failed(s, -ECONNRESET, "the connection ended before the answer did");
		return;
	}
	uc->len += (size_t)res;
	if (!s->head_len) {
		size_t hl;
		int rc = sw_http1_parse_response(&s->parser, uc->buf, uc->len, uc->cap, &s->resp, &hl);
		if (rc == SW_AGAIN) {
			start_read(s);
			return;
		}
		if (rc != SW_OK || s->resp.status < 200) {
			failed(s, -EPROTO, "a malformed or interim answer");
			return;
		}
		s->head_len = hl;
		uc->used = hl;
		if (s->resp.status == 204 || s->resp.status == 304) {
			s->resp.content_length = 0;
			s->resp.chunked = s->resp.until_close = false;
		}
		keep_head(s);
		s->body = sw_malloc(s->max_body ? s->max_body : 1);
	}
	if (take_body(s, eof)) {
		complete(s);
		return;
	}
	if (eof) {
		failed(s, -ECONNRESET, "the connection ended before the answer did");
		return;
	}
	start_read(s);
}

static void start_read(struct sw_subreq *s)
{
	struct px_upconn *uc = s->uc;
	size_t from = uc->len;

	if (from == uc->cap) {
		failed(s, -EPROTO, "the answer's head does not fit the buffer");
		return;
	}
	uc->rio.data = s;
	uc->rio.cb = on_data;
	if (sw_loop_recv(s->st->ctx->loop, &uc->h, &uc->rio, uc->buf + from, uc->cap - from) != SW_OK) {
		failed(s, -EIO, "cannot read");
		return;
	}
	s->reading = true;
}

static void on_written(struct sw_io *io, ssize_t res)
{
	struct sw_subreq *s = io->data;

	if (res < 0) {
		failed(s, (int)res, "cannot write the request");
		return;
	}
	if (!sw_iov_advance(s->iov, &s->iovcnt, (size_t)res) &&
	    sw_loop_writev(s->st->ctx->loop, &s->uc->h, &s->uc->wio, s->iov, s->iovcnt) != SW_OK)
		failed(s, -EIO, "cannot write the request");
}

static void send_request(struct sw_subreq *s)
{
	struct px_upconn *uc = s->uc;

	uc->len = uc->used = 0;
	uc->wio.data = s;
	uc->wio.cb = on_written;
	if (sw_loop_writev(s->st->ctx->loop, &uc->h, &uc->wio, s->iov, s->iovcnt) != SW_OK) {
		failed(s, -EIO, "cannot write the request");
		return;
	}
	start_read(s);
}

static void on_connected(struct sw_io *io, ssize_t res)
{
	struct sw_subreq *s = io->data;

	if (res < 0) {
		failed(s, (int)res, "cannot connect");
		return;
	}
	send_request(s);
}

/* Fails from the loop: the caller's callback never runs inside px_subrequest. */
static struct sw_subreq *fail_later(struct sw_subreq *s, int err)
{
	s->early_err = err;
	sw_timer_add(s->st->ctx->loop, &s->later, 0);
	return s;
}

struct sw_subreq *px_subrequest(const struct sw_subreq_args *a)
{
	struct sw_subreq *s = sw_calloc(1, sizeof(*s));
	struct px_upstream *up = NULL;
	int err = 0;

	s->st = px_state_get(a->x->ctx);
	s->cb = a->cb;
	s->data = a->data;
	s->max_body = a->max_body;
	s->head = sw_malloc(a->head_len);
	memcpy(s->head, a->head, a->head_len);
	s->iov[0] = (struct iovec){ s->head, a->head_len };
	s->iovcnt = 1;
	s->resp.headers = s->fields;
	s->resp.header_cap = SUB_FIELDS;
	sw_chunked_init(&s->chunked);
	sw_timer_init(&s->deadline, on_deadline, s);
	sw_timer_init(&s->later, on_later, s);
	for (size_t i = 0; i < s->st->nups && !up; i++)
		if (!strcmp(s->st->ups[i].cfg->name, a->upstream))
			up = &s->st->ups[i];
	if (!up)
		return fail_later(s, -ENOENT);
	if (!(s->srv = px_balance_pick(up, a->x, NULL)))
		return fail_later(s, -EHOSTUNREACH);
	sw_timer_add(s->st->ctx->loop, &s->deadline, a->timeout_ms);
	if ((s->uc = px_upconn_take(s->srv))) {
		send_request(s);
		return s;
	}
	if (s->srv->nopen >= up->cfg->connection_pool.max_connections)
		return fail_later(s, -EBUSY);
	if (!(s->uc = px_upconn_open(s->srv, s->st, on_connected, s, &err)))
		return fail_later(s, -err);
	return s;
}

void px_subrequest_cancel(struct sw_subreq *s)
{
	drop(s, false);
	sub_free(s);
}
