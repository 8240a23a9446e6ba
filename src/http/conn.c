/* conn.c - the HTTP/1.1 connection engine: one state machine per client socket. */
#include <config.h>

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "core/clock.h"
#include "core/log.h"
#include "daemon/worker.h"
#include "http/conn.h"
#include "http/http1.h"
#include "http/router.h"

#define CONN_BUF_INITIAL 4096
#define CONN_HEAD_MAX 2048    /* status line + our headers */
#define LINGER_MS 1000

enum conn_state {
	C_IDLE,      /* waiting for the first byte of a request */
	C_HEAD,      /* a request head has started arriving */
	C_HANDLER,   /* a handler owns the exchange */
	C_WRITE,     /* sending a response */
	C_LINGER,    /* write side shut; reading until EOF so our answer is not reset */
	C_CLOSED,
};

struct sw_conn {
	struct sw_worker *w;
	struct sw_conn *prev, *next;
	struct sw_handle h;
	struct sw_io rio, wio;
	struct sw_timer timer;
	struct sockaddr_storage peer;
	const struct sw_listen *listen;
	enum conn_state state;
	bool keep_alive;
	bool recv_pending;
	char *buf;
	size_t cap, len;        /* receive buffer and bytes in it */
	size_t head_len;        /* current request head (plus skipped body) */
	struct sw_http1_parser parser;
	struct sw_exchange x;
	struct sw_header *req_headers;
	unsigned req_headers_cap;
	char head[CONN_HEAD_MAX];
	struct iovec iov[2];
	int iovcnt;
	uint64_t out_total;
};

static void conn_read(struct sw_conn *c);
static void conn_process(struct sw_conn *c);
static void conn_close(struct sw_conn *c);
static void respond(struct sw_exchange *x);

static const struct sw_exchange_ops http1_ops = { .respond = respond };

/* Has the client sent bytes we have not read yet? */
static bool input_waiting(const struct sw_conn *c)
{
	char b;

	return c->len > 0 || recv(c->h.fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
}

static void set_timer(struct sw_conn *c, uint32_t ms)
{
	sw_timer_add(c->w->loop, &c->timer, ms);
}

/* ---- life cycle ---- */

static void on_closed(struct sw_handle *h)
{
	struct sw_conn *c = h->data;
	struct sw_worker *w = c->w;

	c->next = w->free_conns;
	w->free_conns = c;
	sw_worker_conn_closed(w);
}

static void unlink_conn(struct sw_conn *c)
{
	struct sw_worker *w = c->w;

	if (c->prev)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	w->conn_count--;
	sw_stat_sub(&w->stats->connections_open, 1);
}

static void conn_close(struct sw_conn *c)
{
	if (c->state == C_CLOSED)
		return;
	c->state = C_CLOSED;
	sw_timer_del(c->w->loop, &c->timer);
	unlink_conn(c);
	sw_loop_close_handle(c->w->loop, &c->h, on_closed);
}

static void on_timer(struct sw_timer *t)
{
	struct sw_conn *c = t->data;

	switch (c->state) {
	case C_IDLE:
		if (c->w->draining && input_waiting(c))
			set_timer(c, c->w->cfg->timeouts.header_ms);
		else
			conn_close(c);
		break;
	case C_HEAD:
		/* A client trickling its head is cut at the deadline, with an answer. */
		c->keep_alive = false;
		c->x.resp = (struct sw_response){ 0 };
		c->state = C_HANDLER;
		sw_exchange_error(&c->x, 408);
		break;
	default:
		conn_close(c);
	}
}

static struct sw_conn *conn_alloc(struct sw_worker *w)
{
	struct sw_conn *c = w->free_conns;
	unsigned hcap = w->cfg->limits.max_header_count;

	if (c) {
		w->free_conns = c->next;
	} else {
		c = sw_calloc(1, sizeof(*c));
		c->cap = CONN_BUF_INITIAL;
		c->buf = sw_malloc(c->cap);
	}
	if (c->req_headers_cap < hcap) {
		free(c->req_headers);
		c->req_headers = sw_calloc(hcap, sizeof(*c->req_headers));
		c->req_headers_cap = hcap;
	}
	return c;
}

int sw_conn_open(struct sw_worker *w, int fd, const struct sockaddr *peer,
		 socklen_t peer_len, const struct sw_listen *listen)
{
	struct sw_conn *c = conn_alloc(w);
	int one = 1;

	/* Responses are batched into one writev: Nagle would only add delay. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->w = w;
	c->listen = listen;
	c->state = C_IDLE;
	c->len = 0;
	c->keep_alive = true;
	c->recv_pending = false;
	memset(&c->peer, 0, sizeof(c->peer));
	memcpy(&c->peer, peer, SW_MIN((size_t)peer_len, sizeof(c->peer)));
	sw_http1_parser_reset(&c->parser);
	sw_timer_init(&c->timer, on_timer, c);
	if (sw_loop_add(w->loop, &c->h, fd, c) != SW_OK) {
		close(fd);
		c->next = w->free_conns;
		w->free_conns = c;
		return SW_ERROR;
	}
	c->prev = NULL;
	c->next = w->conns;
	if (w->conns)
		w->conns->prev = c;
	w->conns = c;
	w->conn_count++;
	sw_stat_add(&w->stats->connections_open, 1);
	sw_stat_add(&w->stats->connections_accepted, 1);
	/* The first request gets the header timeout; later ones idle_ms first. */
	set_timer(c, w->cfg->timeouts.header_ms);
	conn_read(c);
	return SW_OK;
}

/*
 * An idle connection is closed on drain only once the loop has looked for
 * input again: a request that already arrived (in the socket, or in a
 * completed io_uring recv not yet reaped) is in flight and gets answered.
 * The 1 ms timer fires after the next wait for I/O, never in this pass.
 */
#define DRAIN_RECHECK_MS 1

void sw_conn_drain(struct sw_conn *c)
{
	c->keep_alive = false;
	if (c->state == C_IDLE && !input_waiting(c))
		set_timer(c, DRAIN_RECHECK_MS);
}

void sw_conn_drain_all(struct sw_worker *w)
{
	struct sw_conn *c = w->conns, *next;

	for (; c; c = next) {
		next = c->next;   /* draining may unlink c */
		sw_conn_drain(c);
	}
}

void sw_conn_abort_all(struct sw_worker *w)
{
	while (w->conns)
		conn_close(w->conns);
}

void sw_conn_abort(struct sw_conn *c)
{
	conn_close(c);
}

void sw_conn_free_list(struct sw_worker *w)
{
	while (w->free_conns) {
		struct sw_conn *c = w->free_conns;
		w->free_conns = c->next;
		free(c->buf);
		free(c->req_headers);
		free(c);
	}
}

/* ---- reading ---- */

static void on_recv(struct sw_io *io, ssize_t res)
{
	struct sw_conn *c = io->data;

	c->recv_pending = false;
	if (c->state == C_LINGER) {
		if (res <= 0)
			conn_close(c);
		else
			conn_read(c);   /* discard what the client still sends */
		return;
	}
	if (res <= 0) {
		if (res < 0 && res != -ECONNRESET)
			sw_debug("recv: %s", strerror((int)-res));
		conn_close(c);
		return;
	}
	c->len += (size_t)res;
	sw_stat_add(&c->w->stats->bytes_in, (uint64_t)res);
	conn_process(c);
}

/* Makes room for more of the head, up to the configured limit (plus slack). */
static int grow_buffer(struct sw_conn *c)
{
	size_t limit = (size_t)c->w->cfg->limits.max_header_bytes + 1024;

	if (c->len < c->cap)
		return SW_OK;
	if (c->cap >= limit)
		return SW_ERROR;
	c->cap = SW_MIN(c->cap * 2, limit);
	c->buf = sw_realloc(c->buf, c->cap);
	return SW_OK;
}

static void conn_read(struct sw_conn *c)
{
	size_t room;

	if (c->recv_pending)
		return;
	if (c->state == C_LINGER) {
		/* Whatever arrives now is thrown away: reuse the whole buffer. */
		c->len = 0;
	}
	room = c->cap - c->len;
	c->rio.data = c;
	c->rio.cb = on_recv;
	if (sw_loop_recv(c->w->loop, &c->h, &c->rio, c->buf + c->len, room) != SW_OK) {
		conn_close(c);
		return;
	}
	c->recv_pending = true;
}

/* ---- request processing ---- */

static void start_exchange(struct sw_conn *c)
{
	struct sw_exchange *x = &c->x;
	struct sw_request req = x->req;

	memset(x, 0, sizeof(*x));
	x->req = req;
	x->ops = &http1_ops;
	x->codec = c;
	x->worker = c->w;
	x->proto = SW_PROTO_HTTP1;
	x->started_ms = sw_loop_now(c->w->loop);
	x->resp.file_fd = -1;
}

/*
 * Request bodies are the next layer's job (streaming with limits); until a
 * handler consumes them, a body that is already fully buffered is skipped
 * and any other body ends keep-alive, so framing can never be confused.
 */
static void skip_body(struct sw_conn *c)
{
	const struct sw_request *req = &c->x.req;

	if (req->chunked) {
		c->keep_alive = false;
		return;
	}
	if (req->content_length > 0) {
		if ((uint64_t)req->content_length <= c->len - c->head_len)
			c->head_len += (size_t)req->content_length;
		else
			c->keep_alive = false;
	}
}

static void refuse(struct sw_conn *c, int status)
{
	c->keep_alive = false;
	memset(&c->x.req, 0, sizeof(c->x.req));
	c->x.req.version = 11;
	c->x.req.method = SW_METHOD_OTHER;
	start_exchange(c);
	c->state = C_HANDLER;
	c->head_len = c->len;
	sw_exchange_error(&c->x, status);
}

/* Before a request line, RFC 9112 2.2 lets a server ignore stray CRLFs. */
static void skip_leading_crlf(struct sw_conn *c)
{
	size_t i = 0;

	while (i + 1 < c->len && c->buf[i] == '\r' && c->buf[i + 1] == '\n')
		i += 2;
	if (i) {
		memmove(c->buf, c->buf + i, c->len - i);
		c->len -= i;
	}
}

static void conn_process(struct sw_conn *c)
{
	int rc;

	if (c->state == C_IDLE) {
		skip_leading_crlf(c);
		if (c->len == 0) {
			conn_read(c);
			return;
		}
		c->state = C_HEAD;
		set_timer(c, c->w->cfg->timeouts.header_ms);
	}
	c->x.req.headers = c->req_headers;
	rc = sw_http1_parse(&c->parser, c->buf, c->len, &c->w->cfg->limits,
			    &c->x.req, &c->head_len);
	if (rc == SW_AGAIN) {
		if (grow_buffer(c) != SW_OK)
			refuse(c, 431);
		else
			conn_read(c);
		return;
	}
	if (rc != 0) {
		refuse(c, rc);
		return;
	}
	sw_timer_del(c->w->loop, &c->timer);
	if (!c->x.req.keep_alive || c->w->draining)
		c->keep_alive = false;
	start_exchange(c);
	skip_body(c);
	c->state = C_HANDLER;
	sw_router_dispatch(&c->x);
}

/* ---- responding ---- */

static size_t append(char *dst, size_t at, size_t cap, const char *s, size_t n)
{
	if (at + n > cap)
		return cap + 1;   /* poisons the length: caller checks */
	memcpy(dst + at, s, n);
	return at + n;
}

#define APPEND_LIT(buf, at, lit) append(buf, at, sizeof(buf), lit, sizeof(lit) - 1)

static size_t format_head(struct sw_conn *c, const struct sw_response *r)
{
	char num[64];
	size_t n = 0;
	int k;

	k = snprintf(num, sizeof(num), "HTTP/1.1 %d ", r->status);
	n = append(c->head, n, sizeof(c->head), num, (size_t)k);
	n = append(c->head, n, sizeof(c->head), sw_status_reason(r->status),
		   strlen(sw_status_reason(r->status)));
	n = APPEND_LIT(c->head, n, "\r\nDate: ");
	n = append(c->head, n, sizeof(c->head), sw_clock_http_date(), SW_HTTP_DATE_LEN);
	if (c->w->cfg->server.server_header)
		n = APPEND_LIT(c->head, n, "\r\nServer: swerver");
	for (unsigned i = 0; i < r->header_count; i++) {
		n = APPEND_LIT(c->head, n, "\r\n");
		n = append(c->head, n, sizeof(c->head), r->headers[i].name.p, r->headers[i].name.len);
		n = APPEND_LIT(c->head, n, ": ");
		n = append(c->head, n, sizeof(c->head), r->headers[i].value.p, r->headers[i].value.len);
	}
	/* 1xx, 204 and 304 carry no Content-Length (RFC 9110 8.6). */
	if (r->status >= 200 && r->status != 204 && r->status != 304) {
		k = snprintf(num, sizeof(num), "\r\nContent-Length: %llu",
			     (unsigned long long)r->content_length);
		n = append(c->head, n, sizeof(c->head), num, (size_t)k);
	}
	if (!c->keep_alive)
		n = APPEND_LIT(c->head, n, "\r\nConnection: close");
	else if (c->x.req.version == 10)
		n = APPEND_LIT(c->head, n, "\r\nConnection: keep-alive");
	n = APPEND_LIT(c->head, n, "\r\n\r\n");
	return n;
}

static void count_response(struct sw_conn *c)
{
	int cls = c->x.resp.status / 100;

	if (cls >= 1 && cls <= 5)
		sw_stat_add(&c->w->stats->requests[SW_PROTO_HTTP1][cls], 1);
}

static void start_write(struct sw_conn *c);

static void finish_request(struct sw_conn *c)
{
	struct sw_worker *w = c->w;

	if (c->x.resp.file_fd >= 0) {
		close(c->x.resp.file_fd);
		c->x.resp.file_fd = -1;
	}
	if (!c->keep_alive || w->draining) {
		/* Shut our side and read until EOF, so unread input cannot turn
		 * our close into a reset that destroys the response in flight. */
		shutdown(c->h.fd, SHUT_WR);
		c->state = C_LINGER;
		set_timer(c, LINGER_MS);
		conn_read(c);
		return;
	}
	/* Keep the pipelined bytes that followed this request. */
	memmove(c->buf, c->buf + c->head_len, c->len - c->head_len);
	c->len -= c->head_len;
	c->head_len = 0;
	sw_http1_parser_reset(&c->parser);
	c->state = C_IDLE;
	set_timer(c, w->cfg->timeouts.idle_ms);
	if (c->len)
		conn_process(c);
	else
		conn_read(c);
}

static void on_write(struct sw_io *io, ssize_t res)
{
	struct sw_conn *c = io->data;
	size_t done;

	if (res < 0) {
		conn_close(c);
		return;
	}
	sw_stat_add(&c->w->stats->bytes_out, (uint64_t)res);
	done = (size_t)res;
	while (c->iovcnt && done >= c->iov[0].iov_len) {
		done -= c->iov[0].iov_len;
		c->iov[0] = c->iov[1];
		c->iovcnt--;
	}
	if (c->iovcnt) {
		c->iov[0].iov_base = (char *)c->iov[0].iov_base + done;
		c->iov[0].iov_len -= done;
		start_write(c);
		return;
	}
	sw_timer_del(c->w->loop, &c->timer);
	finish_request(c);
}

static void start_write(struct sw_conn *c)
{
	c->wio.data = c;
	c->wio.cb = on_write;
	if (sw_loop_writev(c->w->loop, &c->h, &c->wio, c->iov, c->iovcnt) != SW_OK)
		conn_close(c);
}

static void respond(struct sw_exchange *x)
{
	struct sw_conn *c = x->codec;
	struct sw_response *r = &x->resp;
	size_t n;

	if (r->close)
		c->keep_alive = false;
	n = format_head(c, r);
	if (n > sizeof(c->head)) {
		sw_error("response head for status %d does not fit in %zu bytes",
			 r->status, sizeof(c->head));
		conn_close(c);
		return;
	}
	count_response(c);
	c->iov[0].iov_base = c->head;
	c->iov[0].iov_len = n;
	c->iovcnt = 1;
	if (r->body_kind == SW_BODY_MEMORY && x->req.method != SW_METHOD_HEAD && r->body.len) {
		c->iov[1].iov_base = (void *)r->body.p;
		c->iov[1].iov_len = r->body.len;
		c->iovcnt = 2;
	}
	c->state = C_WRITE;
	set_timer(c, c->w->cfg->timeouts.write_ms);
	start_write(c);
}
