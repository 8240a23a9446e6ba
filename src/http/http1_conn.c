/* SPDX-License-Identifier: MIT */
/* http1_conn.c - the HTTP/1.1 connection: life cycle, reading, parsing, request bodies. */
#include <config.h>

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "core/log.h"
#include "http/context.h"
#include "http/listen.h"
#include "http/http1_conn.h"
#include "http/client_addr.h"
#include "http/http1_conn_impl.h"
#include "http/http2_config.h"
#include "http/router.h"
#include "tls/tls.h"

#define LINGER_MS 1000
/*
 * HTTP/1.1 has no GOAWAY: a draining worker cannot tell a keep-alive
 * client to stop, only answer its next request with "Connection: close".
 * A connection between requests is closed only once its client has sent
 * nothing for this long (the read stays posted meanwhile, so a request
 * that comes is answered): a busy client always sends within it, and one
 * quiet that long is unlikely to send at the very moment we close.  The
 * same quiet HTTP/3's drain waits for.
 */
#define DRAIN_QUIET_MS 500

static void conn_process(struct sw_conn *c);

/*
 * Nagle would hold a file body's first segment until the head is acked,
 * and a keep-alive response behind an unacked one; a single close-bound
 * writev needs nothing, so the syscall is made only when it matters.
 */
void sw_conn_nodelay(struct sw_conn *c)
{
	int one = 1;

	if (c->nodelay)
		return;
	setsockopt(c->h.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->nodelay = true;
}

void sw_conn_reserve(struct sw_conn *c, size_t size)
{
	if (c->cap >= size)
		return;
	c->buf = sw_realloc(c->buf, size);
	c->cap = size;
}

void sw_conn_set_timer(struct sw_conn *c, uint32_t ms)
{
	sw_timer_add(c->ctx->loop, &c->timer, ms);
}

/* Has the client sent bytes we have not read yet? */
static bool input_waiting(const struct sw_conn *c)
{
	char b;

	return c->len > 0 || recv(c->h.fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
}

void sw_conn_slow_client(struct sw_conn *c, bool body, uint64_t rate)
{
	const struct sw_limits_cfg *l = &c->ctx->cfg->limits;
	char addr[64];

	sw_addr_format((const struct sockaddr *)&c->peer, addr, sizeof(addr));
	sw_info("slow client %s: %s at %llu bytes/s over %u ms, below limits.%s %u; closing", addr,
		body ? "request body" : "response taken", (unsigned long long)rate,
		l->min_rate_window_ms, body ? "min_body_rate" : "min_send_rate",
		body ? l->min_body_rate : l->min_send_rate);
	sw_stat_add(body ? &c->ctx->stats->slow_bodies : &c->ctx->stats->slow_sends, 1);
}

/* ---- life cycle ---- */

static void on_closed(struct sw_handle *h)
{
	struct sw_conn *c = h->data;
	struct sw_ctx *ctx = c->ctx;

	sw_conn_recycle(c);
	ctx->conns_closing--;
	sw_ctx_conn_closed(ctx);
}

static void unlink_conn(struct sw_conn *c)
{
	struct sw_ctx *ctx = c->ctx;

	if (c->prev)
		c->prev->next = c->next;
	else
		ctx->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	ctx->conn_count--;
	sw_stat_sub(&ctx->stats->connections_open, 1);
}

void sw_conn_close(struct sw_conn *c)
{
	if (c->state == C_CLOSED)
		return;
	c->closing = true;
	if (c->state == C_WRITE || c->state == C_HANDLER) {
		void (*abort_cb)(struct sw_exchange *) = c->x.on_abort;

		/* The handler still holding the exchange (the proxy) lets go first. */
		c->x.on_abort = NULL;
		if (abort_cb)
			abort_cb(&c->x);
		/* Abandoned mid-response: the log still sees it, once. */
		sw_exchange_finish(&c->x);
	}
	if (c->h2) {
		c->ctx->h2_api->close(c);
		c->h2 = NULL;
	}
	if (c->x.resp.file_fd >= 0) {
		close(c->x.resp.file_fd);
		c->x.resp.file_fd = -1;
	}
	sw_conn_tls_close(c);
	c->state = C_CLOSED;
	sw_timer_del(c->ctx->loop, &c->timer);
	unlink_conn(c);
	c->ctx->conns_closing++;
	sw_conn_limit_closed(c);
	sw_loop_close_handle(c->ctx->loop, &c->h, on_closed);
}

static void refuse(struct sw_conn *c, int status);

static void on_timer(struct sw_timer *t)
{
	struct sw_conn *c = t->data;

	switch (c->state) {
	case C_IDLE:
		if (c->ctx->draining && c->requests > 0 && input_waiting(c))
			sw_conn_set_timer(c, c->ctx->cfg->timeouts.header_ms);
		else
			sw_conn_close(c);
		break;
	case C_HEAD:
		/* A client trickling its head is cut at the deadline, with an answer. */
		refuse(c, 408);
		break;
	case C_PROXY:
		sw_conn_pp_timeout(c);
		break;
	case C_H2:
		c->ctx->h2_api->timeout(c);
		break;
	case C_WRITE:
		sw_conn_write_timeout(c);
		break;
	default:
		/* write_ms, body_ms, linger: the peer stopped taking part. */
		sw_conn_close(c);
	}
}

static struct sw_conn *conn_alloc(struct sw_ctx *ctx)
{
	struct sw_conn *c = sw_conn_reuse(ctx);
	unsigned hcap = ctx->cfg->limits.max_header_count;

	if (!c) {
		c = sw_calloc(1, sizeof(*c));
		c->cap = SW_CONN_BUF_INITIAL;
		c->buf = sw_malloc(c->cap);
	}
	if (c->req_headers_cap < hcap) {
		free(c->req_headers);
		c->req_headers = sw_calloc(hcap, sizeof(*c->req_headers));
		c->req_headers_cap = hcap;
	}
	return c;
}

static void link_conn(struct sw_ctx *ctx, struct sw_conn *c)
{
	c->prev = NULL;
	c->next = ctx->conns;
	if (ctx->conns)
		ctx->conns->prev = c;
	ctx->conns = c;
	ctx->conn_count++;
	sw_stat_add(&ctx->stats->connections_open, 1);
	sw_stat_add(&ctx->stats->connections_accepted, 1);
}

int sw_conn_open(struct sw_ctx *ctx, int fd, const struct sockaddr *peer,
		 socklen_t peer_len, const struct sw_listen *listen)
{
	struct sw_conn *c = conn_alloc(ctx);

	c->ctx = ctx;
	c->on_admin = listen->admin;
	c->h2c_only = listen->cfg.h2c_only;
	c->h3_port = listen->cfg.quic_enabled ? listen->udp_port : 0;
	c->state = C_IDLE;
	c->len = c->used = 0;
	c->file_left = 0;
	c->keep_alive = true;
	c->recv_pending = false;
	c->requests = 0;
	c->nodelay = false;
	c->refused = false;
	c->tls = NULL;
	c->tls_client[0] = '\0';
	c->h2 = NULL;
	c->read_done = sw_conn_on_recv;
	c->body_pending = false;
	c->send_waiting = false;
	c->sent_total = c->send_done_ms = 0;
	c->x.resp.file_fd = -1;
	c->peer_len = SW_MIN(peer_len, (socklen_t)sizeof(c->peer));
	memcpy(&c->peer, peer, c->peer_len);
	sw_http1_parser_reset(&c->parser);
	sw_timer_init(&c->timer, on_timer, c);
	if (sw_loop_add_flags(ctx->loop, &c->h, fd, c, SW_HANDLE_FRESH | SW_HANDLE_PRIVATE) != SW_OK) {
		close(fd);
		c->ctx = ctx;
		sw_conn_recycle(c);
		return SW_ERROR;
	}
	link_conn(ctx, c);
	sw_conn_limit_opened(c);
	/* The first request (and a TLS handshake) gets header_ms; later ones idle_ms. */
	sw_conn_set_timer(c, ctx->cfg->timeouts.header_ms);
	c->use_tls = listen->cfg.use_tls;
	if (listen->cfg.proxy_protocol)
		sw_conn_pp_start(c);
	else
		sw_conn_begin(c);
	return SW_OK;
}

void sw_conn_begin(struct sw_conn *c)
{
	c->state = C_IDLE;
	c->read_done = sw_conn_on_recv;
	if (c->use_tls) {
		struct sw_ctx *ctx = c->ctx;
		c->tls = ctx->tls_ctx ? ctx->tls_api->session_new(ctx->tls_ctx, c->h.fd) : NULL;
		if (!c->tls)
			sw_conn_close(c);
		else
			sw_conn_tls_handshake(c);
	} else if (c->len) {
		conn_process(c);
	} else {
		sw_conn_read(c);
	}
}

/*
 * A connection that has not sent its first request yet is not idle: its
 * client is about to send one, so it keeps header_ms (within drain_ms).
 * A request in progress is answered with "Connection: close" (the head
 * is written after ctx->draining is set); one whose head already went out
 * saying keep-alive goes back to idle after it (sw_conn_next), because
 * its client may already be sending the next request on it.  Only a
 * keep-alive connection quiet for DRAIN_QUIET_MS is closed unasked, as
 * RFC 9112 9.8 allows.
 */
void sw_conn_drain(struct sw_conn *c)
{
	if (c->state == C_H2) {
		c->ctx->h2_api->drain(c);
		return;
	}
	if (c->state == C_IDLE && c->requests > 0)
		sw_conn_set_timer(c, DRAIN_QUIET_MS);
}

void sw_conn_drain_all(struct sw_ctx *ctx)
{
	struct sw_conn *c = ctx->conns, *next;

	for (; c; c = next) {
		next = c->next;   /* draining may unlink c */
		sw_conn_drain(c);
	}
}

void sw_conn_abort_all(struct sw_ctx *ctx)
{
	while (ctx->conns)
		sw_conn_close(ctx->conns);
}

/* ---- reading ---- */

void sw_conn_on_recv(struct sw_io *io, ssize_t res)
{
	struct sw_conn *c = io->data;

	c->recv_pending = false;
	if (c->state == C_LINGER) {
		if (res <= 0)
			sw_conn_close(c);
		else
			sw_conn_read(c);   /* discard what the client still sends */
		return;
	}
	if (res <= 0) {
		if (res < 0 && res != -ECONNRESET)
			sw_debug("recv: %s", strerror((int)-res));
		sw_conn_close(c);
		return;
	}
	c->len += (size_t)res;
	conn_process(c);
}

/* Makes room for more of the head, up to the configured limit (plus slack). */
static int grow_buffer(struct sw_conn *c)
{
	size_t limit = (size_t)c->ctx->cfg->limits.max_header_bytes + 1024;

	if (c->len < c->cap)
		return SW_OK;
	if (c->cap >= limit)
		return SW_ERROR;
	c->cap = SW_MIN(c->cap * 2, limit);
	c->buf = sw_realloc(c->buf, c->cap);
	return SW_OK;
}

void sw_conn_recv(struct sw_conn *c, char *p, size_t n)
{
	if (c->recv_pending)
		return;
	c->rd_p = p;
	c->rd_n = n;
	c->recv_pending = true;
	if (c->tls && c->state != C_LINGER) {
		sw_conn_tls_read(c);   /* a lingering close drains raw bytes */
		return;
	}
	c->recv_pending = false;
	c->rio.data = c;
	c->rio.cb = c->state == C_LINGER ? sw_conn_on_recv : c->read_done;
	if (sw_loop_recv(c->ctx->loop, &c->h, &c->rio, p, n) != SW_OK) {
		sw_conn_close(c);
		return;
	}
	c->recv_pending = true;
}

void sw_conn_read(struct sw_conn *c)
{
	if (c->recv_pending)
		return;
	if (c->state == C_LINGER || c->state == C_DISCARD) {
		/* Whatever arrives now is thrown away: reuse the whole buffer. */
		c->len = c->used = 0;
	}
	sw_conn_recv(c, c->buf + c->len, c->cap - c->len);
}

/* ---- request processing ---- */

static void start_exchange(struct sw_conn *c)
{
	struct sw_exchange *x = &c->x;
	struct sw_request req = x->req;

	sw_exchange_clear(x);
	x->req = req;
	x->ops = &sw_http1_exchange_ops;
	x->codec = c;
	x->ctx = c->ctx;
	x->proto = SW_PROTO_HTTP1;
	x->peer = (const struct sockaddr *)&c->peer;
	x->peer_len = c->peer_len;
	x->resp.file_fd = -1;
	c->body_cb = NULL;
	c->body_reading = false;
	c->bbuf_off = c->bbuf_len = 0;
	c->streaming = c->stream_ready = c->stream_busy = c->tunnel = false;
	x->tls = c->tls != NULL;
	x->tls_client = c->tls_client[0] ? c->tls_client : NULL;
	x->admin = c->on_admin;
	x->over_limit = c->over_limit;
	x->h3_port = c->h3_port;
	x->bytes_in = c->used;
	sw_exchange_begin(x);
}

/* Answers a request that cannot be served; the connection closes after it. */
static void refuse(struct sw_conn *c, int status)
{
	c->keep_alive = false;
	c->refused = true;
	c->body_pending = false;
	memset(&c->x.req, 0, sizeof(c->x.req));
	c->x.req.version = 11;
	c->x.req.method = SW_METHOD_OTHER;
	c->used = c->len;
	start_exchange(c);
	c->state = C_HANDLER;
	sw_exchange_error(&c->x, status);
}

/*
 * Before a request line, RFC 9112 2.2 lets a server ignore stray CRLFs (a
 * client may send one after a body, in its own packet).  Returns false
 * while only a lone CR has arrived: its LF is still on the way.
 */
static bool skip_leading_crlf(struct sw_conn *c)
{
	size_t i = 0;

	while (i + 1 < c->len && c->buf[i] == '\r' && c->buf[i + 1] == '\n')
		i += 2;
	if (i) {
		memmove(c->buf, c->buf + i, c->len - i);
		c->len -= i;
	}
	return !(c->len == 1 && c->buf[0] == '\r');
}

/*
 * Notes the body that follows the head.  Handlers that do not read it
 * (probes, static files, metrics) are answered first; the body is then
 * read and dropped so keep-alive goes on.  Returns 0 or a refusal status.
 */
static int take_body(struct sw_conn *c)
{
	const struct sw_request *req = &c->x.req;
	uint64_t max = c->ctx->cfg->limits.max_body_bytes;

	if (req->content_length > 0 && (uint64_t)req->content_length > max)
		return 413;   /* refused before a byte of it is read */
	c->body_left = req->content_length > 0 ? (uint64_t)req->content_length : 0;
	c->body_pending = req->chunked || c->body_left > 0;
	if (req->chunked)
		sw_chunked_init(&c->chunked);
	/*
	 * A client that asked "100-continue" and gets a final answer may never
	 * send the body: waiting for it to discard would hang, so close.
	 */
	if (c->body_pending && req->expect_continue)
		c->keep_alive = false;
	return 0;
}

static void parse_head(struct sw_conn *c)
{
	size_t head_len;
	int rc;

	c->x.req.headers = c->req_headers;
	rc = sw_http1_parse(&c->parser, c->buf, c->len, &c->ctx->cfg->limits,
			    &c->x.req, &head_len);
	if (rc == SW_AGAIN) {
		if (grow_buffer(c) != SW_OK)
			refuse(c, 431);
		else
			sw_conn_read(c);
		return;
	}
	if (rc == 0) {
		c->used = head_len;
		rc = take_body(c);
	}
	if (rc != 0) {
		refuse(c, rc);
		return;
	}
	sw_timer_del(c->ctx->loop, &c->timer);
	if (!c->x.req.keep_alive || c->ctx->draining)
		c->keep_alive = false;
	start_exchange(c);
	c->state = C_HANDLER;
	sw_router_dispatch(&c->x);
}

/*
 * Drops body bytes from buf[used..len).  Returns SW_DONE when the body is
 * complete, SW_AGAIN when more must be read, SW_ERROR when framing is bad
 * or the body is too large (the connection then closes).
 */
static int discard_body(struct sw_conn *c)
{
	uint64_t max = c->ctx->cfg->limits.max_body_bytes;

	if (!c->x.req.chunked) {
		size_t n = (size_t)SW_MIN((uint64_t)(c->len - c->used), c->body_left);
		c->used += n;
		c->body_left -= n;
		return c->body_left == 0 ? SW_DONE : SW_AGAIN;
	}
	for (;;) {
		const char *data;
		size_t consumed, dlen;
		int rc = sw_chunked_decode(&c->chunked, c->buf + c->used, c->len - c->used,
					   max, &consumed, &data, &dlen);
		if (rc != SW_OK && rc != SW_DONE && rc != SW_AGAIN)
			return SW_ERROR;
		c->used += consumed;
		if (rc != SW_OK)
			return rc;
	}
}

/* Continues dropping the body; then the next request on the connection. */
static void continue_discard(struct sw_conn *c)
{
	int rc = discard_body(c);

	if (rc == SW_ERROR) {
		sw_conn_close(c);
	} else if (rc == SW_DONE) {
		c->body_pending = false;
		sw_conn_next(c);
	} else {
		c->state = C_DISCARD;
		sw_conn_read(c);
	}
}

void sw_conn_start_h2(struct sw_conn *c)
{
	c->state = C_H2;
	sw_timer_del(c->ctx->loop, &c->timer);
	c->ctx->h2_api->start(c);
}

/*
 * A cleartext connection's first bytes say whether it speaks HTTP/2 by
 * prior knowledge.  Returns true when conn_process should go on with
 * HTTP/1.1, false when the connection was handed over, refused, or must
 * read more of the preface first.
 */
static bool pick_protocol(struct sw_conn *c)
{
	size_t n = SW_MIN(c->len, (size_t)SW_H2_PREFACE_LEN);
	bool h2 = c->ctx->h2_api && memcmp(c->buf, SW_H2_PREFACE, n) == 0;

	if (h2 && n < SW_H2_PREFACE_LEN) {
		sw_conn_read(c);
		return false;
	}
	if (h2) {
		sw_conn_start_h2(c);
		return false;
	}
	const struct sw_http2_cfg *h2cfg = sw_http2_config(c->ctx->cfg);
	if (c->h2c_only || (h2cfg && h2cfg->h2c_only)) {
		/* An HTTP/1.1 client on an HTTP/2-only port: say so, then close. */
		refuse(c, 505);
		return false;
	}
	return true;
}

static void conn_process(struct sw_conn *c)
{
	if (c->state == C_DISCARD) {
		continue_discard(c);
		return;
	}
	if (c->state == C_IDLE) {
		if (!skip_leading_crlf(c) || c->len == 0) {
			sw_conn_read(c);
			return;
		}
		if (c->requests == 0 && !c->tls && !pick_protocol(c))
			return;
		c->state = C_HEAD;
		sw_conn_set_idle(c, false);
		sw_conn_set_timer(c, c->ctx->cfg->timeouts.header_ms);
	}
	parse_head(c);
}

void sw_conn_next(struct sw_conn *c)
{
	struct sw_ctx *ctx = c->ctx;

	sw_conn_body_leftover(c);
	/* Draining, a response that said keep-alive still waits for the next request. */
	if (!c->keep_alive) {
		/* The client asked to close and sent nothing more: just close. */
		if (!c->refused && !c->x.req.keep_alive && !c->body_pending && c->len == c->used) {
			sw_conn_close(c);
			return;
		}
		/* Shut our side and read until EOF, so unread input cannot turn
		 * our close into a reset that destroys the response in flight. */
		shutdown(c->h.fd, SHUT_WR);
		c->state = C_LINGER;
		sw_conn_set_timer(c, LINGER_MS);
		sw_conn_read(c);
		return;
	}
	if (c->body_pending) {
		sw_conn_set_timer(c, ctx->cfg->timeouts.body_ms);
		continue_discard(c);
		return;
	}
	/* Keep the pipelined bytes that followed this request. */
	memmove(c->buf, c->buf + c->used, c->len - c->used);
	c->len -= c->used;
	c->used = 0;
	/* A big head's buffer is not kept for the small ones that follow. */
	if (c->len == 0 && c->cap > SW_CONN_BUF_INITIAL && !c->recv_pending) {
		c->buf = sw_realloc(c->buf, SW_CONN_BUF_INITIAL);
		c->cap = SW_CONN_BUF_INITIAL;
	}
	sw_http1_parser_reset(&c->parser);
	c->state = C_IDLE;
	sw_conn_set_idle(c, true);
	sw_conn_set_timer(c, ctx->draining ? DRAIN_QUIET_MS : ctx->cfg->timeouts.idle_ms);
	if (c->len)
		conn_process(c);
	else
		sw_conn_read(c);
}
