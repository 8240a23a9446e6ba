/* SPDX-License-Identifier: MIT */
/* forward.c - one exchange through an upstream: connect, request out, response back, streamed. */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "core/iov.h"
#include "core/log.h"
#include "http/context.h"
#include "proxy/proxy.h"

#define HEAD_SLACK 4096   /* our own fields on top of the client's head */
#define RESP_FIELDS 96    /* an upstream may send more fields than a handler adds */
/*
 * 1xx answers one request may get before its final status: a few 103s
 * and a 100 are plenty; an upstream sending them without end (each one
 * used to restart read_timeout_ms) is cut with a 502.
 */
#define MAX_INTERIM 16
#define MAX_HINT_FIELDS 16   /* Link fields passed on per 103 */

struct px_fwd {
	struct sw_exchange *x;
	struct px_state *st;
	const struct px_route *r;
	struct px_server *srv, *failed_srv;
	struct px_upconn *uc;
	struct sw_timer send_timer, read_timer, total_timer, wait_timer;
	struct px_fwd *wait_next;     /* in srv->waiters while waiting for a connection */
	bool waiting;
	unsigned attempts;
	uint64_t sent_ms;         /* when the request head went to this server */
	bool stale_retried;
	bool chunked_up;          /* the request body goes upstream chunked */
	bool body_started;        /* a byte of the request body was taken from the client */
	bool body_sent;           /* all of it went upstream (or there was none) */
	bool head_written;
	bool responded;           /* the client has our response head */
	bool got_bytes;           /* the upstream answered something */
	bool reading;
	bool to_client;           /* a piece is with the client's codec */
	bool last_sent;
	bool counted;             /* srv->active was raised */
	bool tunnel;              /* after 101: raw bytes both ways until either side closes */
	bool retry_same;          /* the next attempt: a fresh connection to the same server */
	unsigned interims;        /* 1xx heads from this attempt's upstream */
	unsigned base_headers;    /* response fields the router added before us (Alt-Svc) */
	/* the request head, then body pieces with their chunk framing */
	char *head;
	size_t head_len, head_cap;
	struct iovec iov[3];
	int iovcnt;
	bool piece_last;
	char chunk_line[24];
	/* the response */
	struct sw_http1_parser parser;
	struct sw_http1_response resp;
	struct sw_header fields[RESP_FIELDS];
	uint64_t body_left;
	struct sw_chunked chunked;
	uint64_t resp_bytes;
	struct px_fwd *next_free;
};

/* Forwards are recycled per worker: the hot path does not allocate. */
static struct px_fwd *free_fwds;

static void start_attempt(struct px_fwd *f);
static void start_tunnel(struct px_fwd *f, size_t head_len);
static void start_read(struct px_fwd *f);
static void pump(struct px_fwd *f);

/* ---- life cycle ---- */

static struct px_fwd *fwd_alloc(size_t head_cap)
{
	struct px_fwd *f = free_fwds;

	if (f) {
		free_fwds = f->next_free;
	} else {
		f = sw_calloc(1, sizeof(*f));
	}
	char *head = f->head;
	size_t cap = f->head_cap;
	memset(f, 0, sizeof(*f));
	if (cap < head_cap) {
		free(head);
		head = sw_malloc(head_cap);
		cap = head_cap;
	}
	f->head = head;
	f->head_cap = cap;
	return f;
}

static void stop_timers(struct px_fwd *f)
{
	struct sw_loop *loop = f->st->ctx->loop;

	sw_timer_del(loop, &f->send_timer);
	sw_timer_del(loop, &f->read_timer);
	sw_timer_del(loop, &f->total_timer);
	sw_timer_del(loop, &f->wait_timer);
}

/* Lets go of the upstream connection: back to the pool only if it is clean. */
static void drop_upstream(struct px_fwd *f, bool reusable)
{
	if (f->counted) {
		f->srv->active--;
		f->counted = false;
	}
	if (!f->uc)
		return;
	if (f->reading && reusable)
		reusable = false;   /* a recv is pending: the connection is not idle */
	f->uc->fwd = NULL;
	px_upconn_release(f->uc, reusable);
	f->uc = NULL;
	f->reading = false;
}

static void unwait(struct px_fwd *f);

static void fwd_free(struct px_fwd *f)
{
	unwait(f);
	stop_timers(f);
	if (f->x) {
		f->x->on_abort = NULL;
		f->x->handler_data = NULL;
	}
	px_state_put(f->st);
	f->next_free = free_fwds;
	free_fwds = f;
}

/* The client left: the exchange is the codec's again. */
static void on_client_abort(struct sw_exchange *x)
{
	struct px_fwd *f = x->handler_data;

	if (!f)
		return;
	f->x = NULL;
	drop_upstream(f, false);
	fwd_free(f);
}

/*
 * Something went wrong.  Before the client has a response it gets one
 * (502, 504, 413, ...); after, its connection or stream is reset, since a
 * truncated body must not look complete.
 */
static void fail(struct px_fwd *f, int status, const char *why)
{
	struct sw_exchange *x = f->x;
	bool responded = f->responded;
	unsigned base = f->base_headers;

	sw_info("proxy: %.*s %.*s via %s: %s", (int)x->req.method_name.len, x->req.method_name.p,
		(int)x->req.path.len, x->req.path.p, f->srv ? f->srv->name : "-", why);
	drop_upstream(f, false);
	f->x = NULL;
	x->on_abort = NULL;
	x->handler_data = NULL;
	fwd_free(f);
	if (responded) {
		x->ops->abort(x);
		return;
	}
	x->resp.header_count = base;
	if (status == 413 || status == 400 || status == 408)
		x->resp.close = true;   /* the request body's framing is in doubt */
	sw_exchange_error(x, status);
}

/* The response is complete; the client's codec has the last piece. */
static void finish(struct px_fwd *f)
{
	const struct sw_http1_response *r = &f->resp;
	bool reusable = r->keep_alive && !r->until_close && f->body_sent && f->uc &&
			f->uc->used == f->uc->len;

	drop_upstream(f, reusable);
	fwd_free(f);
}

/* ---- timers ---- */

static void on_send_timeout(struct sw_timer *t)
{
	struct px_fwd *f = t->data;

	px_stat_error(f->srv, SW_UPERR_TIMEOUT);
	fail(f, 504, "send timeout");
}

static void on_read_timeout(struct sw_timer *t)
{
	struct px_fwd *f = t->data;

	px_stat_error(f->srv, SW_UPERR_TIMEOUT);
	if (!f->responded)
		px_server_failed(f->srv, px_now(f->st), "read timeout");
	fail(f, 504, "read timeout");
}

static void on_total_timeout(struct sw_timer *t)
{
	fail(t->data, 504, "total timeout");
}

/* ---- retries ---- */

static bool idempotent(enum sw_method m)
{
	return m == SW_METHOD_GET || m == SW_METHOD_HEAD || m == SW_METHOD_OPTIONS ||
	       m == SW_METHOD_TRACE || m == SW_METHOD_PUT || m == SW_METHOD_DELETE;
}

/* A connection failure: another server if the request may be repeated, else 502/504. */
static void connect_failed(struct px_fwd *f, int err)
{
	const char *why = strerror(-err);

	px_stat_error(f->srv, err == -ETIMEDOUT ? SW_UPERR_TIMEOUT : SW_UPERR_CONNECT);
	px_server_failed(f->srv, px_now(f->st), why);
	drop_upstream(f, false);
	if (!f->body_started && idempotent(f->x->req.method) &&
	    f->attempts <= f->r->cfg->max_retries) {
		px_stat_retry(f->srv);
		f->failed_srv = f->srv;
		start_attempt(f);
		return;
	}
	fail(f, err == -ETIMEDOUT ? 504 : 502, why);
}

/*
 * A pooled connection the upstream had closed shows it on first use:
 * nothing came back.  Once, on a fresh connection to the same server.
 */
static bool retry_stale(struct px_fwd *f)
{
	if (!f->uc || !f->uc->reused || f->got_bytes || f->body_started || f->stale_retried)
		return false;
	f->stale_retried = true;
	px_stat_error(f->srv, SW_UPERR_RESET);
	px_stat_retry(f->srv);
	drop_upstream(f, false);
	f->attempts--;   /* not the server's fault */
	f->retry_same = true;
	start_attempt(f);
	return true;
}

/* ---- the request ---- */

/* The whole request went upstream: from now on read_timeout_ms runs. */
static void body_done(struct px_fwd *f)
{
	f->body_sent = true;
	if (f->reading && !f->responded)
		sw_timer_add(f->st->ctx->loop, &f->read_timer, f->r->cfg->read_timeout_ms);
}

static void write_iov(struct px_fwd *f, sw_io_cb cb)
{
	struct px_upconn *uc = f->uc;

	uc->wio.data = f;
	uc->wio.cb = cb;
	sw_timer_add(f->st->ctx->loop, &f->send_timer, f->r->cfg->send_timeout_ms);
	if (sw_loop_writev(f->st->ctx->loop, &uc->h, &uc->wio, f->iov, f->iovcnt) != SW_OK)
		fail(f, 502, "cannot write upstream");
}

/* Advances the iovecs by n written bytes; true when all are out. */
static bool advance(struct px_fwd *f, size_t n)
{
	return sw_iov_advance(f->iov, &f->iovcnt, n);
}

static void on_body_piece(struct sw_exchange *x, const char *data, ssize_t n, bool last);

static void on_body_written(struct sw_io *io, ssize_t res)
{
	struct px_fwd *f = io->data;

	sw_timer_del(f->st->ctx->loop, &f->send_timer);
	if (res < 0) {
		/*
		 * After the answer began, the upstream may simply have stopped
		 * reading (it answered early): the read side finishes.  Before,
		 * nothing else would move this request: it fails.
		 */
		f->body_sent = false;
		if (!f->responded)
			fail(f, 502, "upstream write failed while sending the request body");
		return;
	}
	if (!advance(f, (size_t)res)) {
		write_iov(f, on_body_written);
		return;
	}
	if (f->piece_last)
		body_done(f);
	else
		sw_exchange_read_body(f->x, on_body_piece);
}

static void on_body_piece(struct sw_exchange *x, const char *data, ssize_t n, bool last)
{
	struct px_fwd *f = x->handler_data;
	static const char end_chunks[] = "\r\n0\r\n\r\n";

	if (!f || !f->uc)
		return;
	if (n < 0) {
		/* -ETIMEDOUT: the client sent it below limits.min_body_rate. */
		fail(f, n == -EFBIG ? 413 : n == -ETIMEDOUT ? 408 : 400,
		     n == -EFBIG ? "request body too large" : n == -ETIMEDOUT ?
		     "request body too slow" : "request body unreadable");
		return;
	}
	f->body_started = true;
	f->iovcnt = 0;
	f->piece_last = last;
	if (f->chunked_up && n > 0) {
		int k = snprintf(f->chunk_line, sizeof(f->chunk_line), "%zx\r\n", (size_t)n);
		f->iov[f->iovcnt++] = (struct iovec){ f->chunk_line, (size_t)k };
	}
	if (n > 0)
		f->iov[f->iovcnt++] = (struct iovec){ (void *)data, (size_t)n };
	if (f->chunked_up && (n > 0 || last))
		f->iov[f->iovcnt++] = n > 0 ? (struct iovec){ (void *)end_chunks, last ? 7 : 2 } :
					      (struct iovec){ (void *)(end_chunks + 2), 5 };
	if (f->iovcnt == 0) {
		if (last)
			body_done(f);
		else
			sw_exchange_read_body(x, on_body_piece);
		return;
	}
	write_iov(f, on_body_written);
}

static void on_head_written(struct sw_io *io, ssize_t res)
{
	struct px_fwd *f = io->data;

	sw_timer_del(f->st->ctx->loop, &f->send_timer);
	if (res < 0) {
		if (!retry_stale(f))
			connect_failed(f, (int)res);
		return;
	}
	if (!advance(f, (size_t)res)) {
		write_iov(f, on_head_written);
		return;
	}
	f->head_written = true;
	if (f->x->req.has_body)
		sw_exchange_read_body(f->x, on_body_piece);
	else
		body_done(f);
}

/* routes[].connect_timeout_ms or the pool's, whichever is shorter. */
static uint32_t connect_timeout(const struct px_fwd *f)
{
	return SW_MIN(f->r->cfg->connect_timeout_ms,
		      f->r->up->cfg->connection_pool.connect_timeout_ms);
}

/* ---- waiting for a connection when the pool is full ---- */

static void use_connection(struct px_fwd *f);

static void unwait(struct px_fwd *f)
{
	struct px_server *s = f->srv;
	struct px_fwd **pp;

	if (!f->waiting)
		return;
	f->waiting = false;
	sw_timer_del(f->st->ctx->loop, &f->wait_timer);
	for (pp = &s->waiters; *pp != f; pp = &(*pp)->wait_next)
		;
	*pp = f->wait_next;
	if (s->waiters_tail == &f->wait_next)
		s->waiters_tail = pp;
	f->wait_next = NULL;
	if (!s->waiters)
		sw_timer_del(f->st->ctx->loop, &s->wake);
}

static void on_wait_timeout(struct sw_timer *t)
{
	struct px_fwd *f = t->data;

	unwait(f);
	fail(f, 503, "no upstream connection free within the connect timeout "
		     "(connection_pool.max_connections reached)");
}

/* The first waiters take what was freed, from the loop rather than inside the closer's stack. */
static void on_wake(struct sw_timer *t)
{
	struct px_server *s = t->data;
	const struct sw_pool_cfg *pool = &s->up->cfg->connection_pool;

	while (s->waiters && (s->idle || s->nopen < pool->max_connections)) {
		struct px_fwd *f = s->waiters;

		unwait(f);
		use_connection(f);
	}
}

static void wait_for_connection(struct px_fwd *f)
{
	struct px_server *s = f->srv;

	if (!s->waiters) {
		s->waiters_tail = &s->waiters;
		if (!s->wake.cb)
			sw_timer_init(&s->wake, on_wake, s);
	}
	f->waiting = true;
	f->wait_next = NULL;
	*s->waiters_tail = f;
	s->waiters_tail = &f->wait_next;
	sw_timer_add(f->st->ctx->loop, &f->wait_timer, connect_timeout(f));
}

void px_fwd_capacity(struct px_server *s)
{
	if (s->waiters && !sw_timer_armed(&s->wake))
		sw_timer_add(s->up->st->ctx->loop, &s->wake, 0);
}

void px_fwd_forget(struct px_server *s)
{
	if (s->wake.cb && sw_timer_armed(&s->wake))
		sw_timer_del(s->up->st->ctx->loop, &s->wake);
}

static void send_head(struct px_fwd *f)
{
	f->uc->fwd = f;
	f->sent_ms = px_now(f->st);
	f->iov[0] = (struct iovec){ f->head, f->head_len };
	f->iovcnt = 1;
	write_iov(f, on_head_written);
	start_read(f);
}

static void on_connected(struct sw_io *io, ssize_t res)
{
	struct px_fwd *f = io->data;

	if (res < 0) {
		connect_failed(f, (int)res);
		return;
	}
	send_head(f);
}

/*
 * A connection for f->srv: a pooled one, else a new one while the pool has
 * room, else f waits in line until one is pooled or closed (or the connect
 * timeout passes: 503), as nginx's upstream queue does, rather than
 * refusing a burst above max_connections at once.
 */
static void use_connection(struct px_fwd *f)
{
	const struct sw_pool_cfg *pool = &f->r->up->cfg->connection_pool;
	int err = 0;

	/* After a dead pooled connection, a new one: the next pooled may be as stale. */
	f->uc = f->retry_same ? NULL : px_upconn_take(f->srv);
	f->retry_same = false;
	if (f->uc) {
		send_head(f);
		return;
	}
	if (f->srv->nopen >= pool->max_connections) {
		wait_for_connection(f);
		return;
	}
	f->uc = px_upconn_open(f->srv, f->st, on_connected, f, &err);
	if (!f->uc) {
		connect_failed(f, -err);
		return;
	}
	f->uc->fwd = f;
	px_upconn_connect_timeout(f->uc, connect_timeout(f));
}

static void start_attempt(struct px_fwd *f)
{
	f->attempts++;
	if (!f->retry_same)
		f->srv = px_balance_pick(f->r->up, f->x, f->failed_srv);
	if (!f->srv) {
		fail(f, 502, "no upstream server available");
		return;
	}
	f->srv->active++;
	f->counted = true;
	f->got_bytes = f->head_written = false;
	/* This attempt's wait for the answer starts when its request is out. */
	f->body_sent = false;
	f->interims = 0;
	sw_timer_del(f->st->ctx->loop, &f->read_timer);
	f->parser = (struct sw_http1_parser){ 0 };
	use_connection(f);
}

/* ---- the response ---- */

static void on_client_took(struct sw_exchange *x, int res)
{
	struct px_fwd *f = x->handler_data;

	if (!f)
		return;
	f->to_client = false;
	if (res < 0)
		return;   /* the codec calls on_abort */
	if (f->last_sent)
		finish(f);
	else
		pump(f);
}

static void to_client(struct px_fwd *f, const char *p, size_t n, bool last)
{
	uint64_t max = f->r->cfg->max_response_bytes;

	f->resp_bytes += n;
	if (max && !f->tunnel && f->resp_bytes > max) {
		fail(f, 502, "max_response_bytes exceeded");
		return;
	}
	f->to_client = true;
	f->last_sent = last;
	sw_exchange_write_body(f->x, p, n, last, on_client_took);
}

/* The next piece of the response body out of the upstream buffer, or a read for more. */
static void pump(struct px_fwd *f)
{
	struct px_upconn *uc = f->uc;
	const char *data;
	size_t n, consumed;
	int rc;

	if (f->to_client || f->last_sent)
		return;
	if (f->resp.chunked) {
		rc = sw_chunked_decode(&f->chunked, uc->buf + uc->used, uc->len - uc->used,
				       UINT64_MAX, &consumed, &data, &n);
		uc->used += consumed;
		if (rc == SW_DONE) {
			to_client(f, NULL, 0, true);
		} else if (rc == SW_OK) {
			if (n)
				to_client(f, data, n, false);
			else
				pump(f);
		} else if (rc == SW_AGAIN) {
			start_read(f);
		} else {
			px_stat_error(f->srv, SW_UPERR_BAD_RESPONSE);
			fail(f, 502, "malformed chunked body from upstream");
		}
		return;
	}
	n = uc->len - uc->used;
	if (!f->resp.until_close)
		n = (size_t)SW_MIN((uint64_t)n, f->body_left);
	if (n == 0 && (f->resp.until_close || f->body_left)) {
		start_read(f);
		return;
	}
	data = uc->buf + uc->used;
	uc->used += n;
	if (!f->resp.until_close)
		f->body_left -= n;
	to_client(f, data, n, !f->resp.until_close && f->body_left == 0);
}

static bool has_body(const struct px_fwd *f)
{
	int st = f->resp.status;

	return f->x->req.method != SW_METHOD_HEAD && st >= 200 && st != 204 && st != 304;
}

static void respond(struct px_fwd *f, size_t head_len)
{
	struct sw_exchange *x = f->x;
	struct sw_response *resp = &x->resp;
	struct px_upconn *uc = f->uc;

	px_server_ok(f->srv);
	px_stat_response(f->srv, px_now(f->st) - f->sent_ms);
	resp->status = f->resp.status;
	resp->header_count = f->base_headers;
	px_response_fields(x, &f->resp);
	resp->body_kind = SW_BODY_STREAM;
	if (!has_body(f)) {
		/* HEAD tells the length a GET would get; 1xx/204/304 have none. */
		resp->content_length = x->req.method == SW_METHOD_HEAD && f->resp.status >= 200 ?
			(f->resp.content_length >= 0 ? (uint64_t)f->resp.content_length :
			 SW_LENGTH_UNKNOWN) : 0;
		f->body_left = 0;
		f->resp.chunked = f->resp.until_close = false;
	} else if (f->resp.content_length >= 0) {
		resp->content_length = (uint64_t)f->resp.content_length;
		f->body_left = resp->content_length;
		if (f->r->cfg->max_response_bytes && f->body_left > f->r->cfg->max_response_bytes) {
			fail(f, 502, "response larger than max_response_bytes");
			return;
		}
	} else {
		resp->content_length = SW_LENGTH_UNKNOWN;
		sw_chunked_init(&f->chunked);
	}
	f->responded = true;
	/* The codec copies the head now; the fields point into uc->buf until then. */
	x->ops->respond(x);
	uc->used = head_len;
	pump(f);
}

/* ---- the tunnel (WebSocket): read_timeout_ms is its idle timeout ---- */

static void tunnel_activity(struct px_fwd *f)
{
	sw_timer_add(f->st->ctx->loop, &f->read_timer, f->r->cfg->read_timeout_ms);
}

static void on_tunnel_in(struct sw_exchange *x, const char *data, ssize_t n, bool last);

static void on_tunnel_written(struct sw_io *io, ssize_t res)
{
	struct px_fwd *f = io->data;

	sw_timer_del(f->st->ctx->loop, &f->send_timer);
	if (res < 0) {
		fail(f, 502, "upstream write failed in the tunnel");
		return;
	}
	if (!advance(f, (size_t)res)) {
		write_iov(f, on_tunnel_written);
		return;
	}
	sw_exchange_read_body(f->x, on_tunnel_in);
}

/* Client to upstream. */
static void on_tunnel_in(struct sw_exchange *x, const char *data, ssize_t n, bool last)
{
	struct px_fwd *f = x->handler_data;

	if (!f || !f->uc)
		return;
	if (n < 0 || (last && n == 0)) {
		/* The client is done: the upstream hears it, and its close ends the tunnel. */
		shutdown(f->uc->h.fd, SHUT_WR);
		return;
	}
	tunnel_activity(f);
	f->iov[0] = (struct iovec){ (void *)data, (size_t)n };
	f->iovcnt = 1;
	write_iov(f, on_tunnel_written);
}

static void start_tunnel(struct px_fwd *f, size_t head_len)
{
	struct sw_exchange *x = f->x;

	f->tunnel = true;
	sw_timer_del(f->st->ctx->loop, &f->total_timer);   /* a tunnel lives as long as it is used */
	f->resp.until_close = true;   /* upstream to client: raw, until it closes */
	f->resp.chunked = false;
	f->resp.keep_alive = false;
	sw_timer_del(f->st->ctx->loop, &f->read_timer);
	px_server_ok(f->srv);
	px_stat_response(f->srv, px_now(f->st) - f->sent_ms);
	x->resp.status = 101;
	x->resp.header_count = f->base_headers;
	px_response_fields(x, &f->resp);
	x->resp.body_kind = SW_BODY_STREAM;
	x->resp.content_length = SW_LENGTH_UNKNOWN;
	f->responded = true;
	x->ops->respond(x);
	f->uc->used = head_len;
	sw_exchange_read_body(x, on_tunnel_in);
	pump(f);
}

/*
 * An upstream response head we cannot pass on: 502.  A framing we refuse
 * (a transfer coding we do not decode) is named in the log; it says
 * nothing about the server's health, unlike a head that is garbage.
 */
static void bad_head(struct px_fwd *f)
{
	const struct sw_http1_response *r = &f->resp;
	char why[256];

	px_stat_error(f->srv, SW_UPERR_BAD_RESPONSE);
	if (!r->why) {
		px_server_failed(f->srv, px_now(f->st), "malformed response");
		fail(f, 502, "malformed response head from upstream");
		return;
	}
	if (r->bad_coding.len)
		snprintf(why, sizeof(why), "response refused: Transfer-Encoding \"%.*s\": %s",
			 (int)SW_MIN(r->bad_coding.len, 64), r->bad_coding.p, r->why);
	else
		snprintf(why, sizeof(why), "response refused: %s", r->why);
	fail(f, 502, why);
}

/*
 * 103 Early Hints go on to clients whose codec takes interim answers
 * (HTTP/2, HTTP/3), with their Link fields only: those are what a client
 * acts on, and nothing else in a 103 is meant for it.
 */
static void pass_hints(struct px_fwd *f)
{
	struct sw_header links[MAX_HINT_FIELDS];
	unsigned n = 0;

	if (!f->x->ops->interim)
		return;
	for (unsigned i = 0; i < f->resp.header_count && n < MAX_HINT_FIELDS; i++)
		if (sw_str_ieq(f->resp.headers[i].name, "link"))
			links[n++] = f->resp.headers[i];
	if (n)
		f->x->ops->interim(f->x, 103, links, n);
}

/*
 * Parses the response head.  1xx interim answers (100 Continue, 103) are
 * skipped or passed on; they do not restart read_timeout_ms, which bounds
 * the whole wait for the final status.
 */
static void take_head(struct px_fwd *f)
{
	struct px_upconn *uc = f->uc;
	size_t head_len, max = f->st->cfg.limits.max_header_bytes;
	int rc;

	for (;;) {
		f->resp.headers = f->fields;
		f->resp.header_cap = RESP_FIELDS;
		rc = sw_http1_parse_response(&f->parser, uc->buf, uc->len, max, &f->resp, &head_len);
		if (rc == SW_AGAIN) {
			if (uc->len == uc->cap) {
				px_stat_error(f->srv, SW_UPERR_BAD_RESPONSE);
				fail(f, 502, "response head too large");
				return;
			}
			start_read(f);
			return;
		}
		if (rc != SW_OK) {
			bad_head(f);
			return;
		}
		if (f->resp.status >= 200 || f->resp.status == 101)
			break;
		if (++f->interims > MAX_INTERIM) {
			px_stat_error(f->srv, SW_UPERR_BAD_RESPONSE);
			fail(f, 502, "more than 16 interim (1xx) responses without a final one");
			return;
		}
		if (f->resp.status == 103)
			pass_hints(f);
		memmove(uc->buf, uc->buf + head_len, uc->len - head_len);
		uc->len -= head_len;
		f->parser = (struct sw_http1_parser){ 0 };
	}
	if (f->resp.status == 101) {
		if (!px_is_upgrade(f->x)) {
			fail(f, 502, "101 without an Upgrade request");
			return;
		}
		start_tunnel(f, head_len);
		return;
	}
	sw_timer_del(f->st->ctx->loop, &f->read_timer);
	respond(f, head_len);
}

static void on_upstream_eof(struct px_fwd *f, ssize_t res)
{
	if (!f->responded) {
		if (retry_stale(f))
			return;
		px_stat_error(f->srv, SW_UPERR_RESET);
		px_server_failed(f->srv, px_now(f->st), res ? strerror((int)-res) : "closed early");
		fail(f, 502, res ? strerror((int)-res) : "upstream closed before answering");
		return;
	}
	if (f->resp.until_close && res == 0) {
		to_client(f, NULL, 0, true);   /* the close was the end of the body */
		return;
	}
	px_stat_error(f->srv, SW_UPERR_RESET);
	fail(f, 502, "upstream closed mid-body");
}

static void on_upstream_data(struct sw_io *io, ssize_t res)
{
	struct px_fwd *f = io->data;
	struct px_upconn *uc = f->uc;

	f->reading = false;
	if (res <= 0) {
		on_upstream_eof(f, res);
		return;
	}
	f->got_bytes = true;
	uc->len += (size_t)res;
	if (f->responded) {
		sw_timer_del(f->st->ctx->loop, &f->read_timer);
		if (f->tunnel)
			tunnel_activity(f);
		pump(f);
	} else {
		take_head(f);
	}
}

static void start_read(struct px_fwd *f)
{
	struct px_upconn *uc = f->uc;

	if (f->reading)
		return;
	if (uc->used == uc->len && f->responded)
		uc->len = uc->used = 0;   /* all forwarded: reuse the whole buffer */
	uc->rio.data = f;
	uc->rio.cb = on_upstream_data;
	/*
	 * Waiting for the answer starts once the request is out (a slow upload
	 * is not late) and is not restarted by parts of the head or 1xx
	 * answers; between body pieces it is an idle timeout.
	 */
	if (f->responded || (f->body_sent && !sw_timer_armed(&f->read_timer)))
		sw_timer_add(f->st->ctx->loop, &f->read_timer, f->r->cfg->read_timeout_ms);
	if (sw_loop_recv(f->st->ctx->loop, &uc->h, &uc->rio, uc->buf + uc->len,
			 uc->cap - uc->len) != SW_OK) {
		fail(f, 502, "cannot read upstream");
		return;
	}
	f->reading = true;
}

/* ---- entry ---- */

int px_forward(struct px_state *st, const struct px_route *r, struct sw_exchange *x)
{
	size_t cap = st->cfg.limits.max_header_bytes + HEAD_SLACK;
	struct px_fwd *f = fwd_alloc(cap);

	f->x = x;
	f->st = st;
	st->refs++;
	f->r = r;
	sw_timer_init(&f->send_timer, on_send_timeout, f);
	sw_timer_init(&f->read_timer, on_read_timeout, f);
	sw_timer_init(&f->total_timer, on_total_timeout, f);
	sw_timer_init(&f->wait_timer, on_wait_timeout, f);
	/* A body of unknown length (HTTP/1.1 chunked, HTTP/2 without content-length) goes chunked. */
	f->chunked_up = x->req.has_body && x->req.content_length < 0;
	f->head_len = px_request_head(r, x, f->chunked_up, f->head, f->head_cap);
	x->handler_data = f;
	x->on_abort = on_client_abort;
	f->base_headers = x->resp.header_count;
	if (f->head_len == 0) {
		fail(f, 431, "request head too large to forward");
		return SW_OK;
	}
	if (r->cfg->total_timeout_ms)
		sw_timer_add(st->ctx->loop, &f->total_timer, r->cfg->total_timeout_ms);
	start_attempt(f);
	return SW_OK;
}
