/* SPDX-License-Identifier: MIT */
/* origin.h - the test origin's connection state, shared by its event loop and its HTTP side. */
#ifndef ORIGIN_H
#define ORIGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IN_CAP (64 * 1024)            /* request head limit and read size */
#define GEN_SLICE (64 * 1024)         /* bytes produced per refill of a long body */
#define GEN_CHUNK (16 * 1024)         /* chunk size of ?chunked=1 bodies */
#define ECHO_MAX (64u * 1024 * 1024)  /* /echo keeps the body: 413 past this */
#define WS_MAX (16u * 1024 * 1024)    /* largest WebSocket frame payload */
#define WS_OUT_MAX (1024 * 1024)      /* stop reading frames while this much is unsent */
#define LINGER_MS 2000                /* read-and-discard after our FIN before close */
#define MAX_WAIT_MS 3600000
#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

enum kind { K_LISTEN, K_SIGNAL, K_CONN };
enum state { ST_HEAD, ST_BODY, ST_WAIT, ST_SEND, ST_WS, ST_DRAIN };
enum body_mode { BM_DISCARD, BM_ECHO, BM_SINK };
enum chunk_state { CS_SIZE, CS_DATA, CS_DATA_CRLF, CS_TRAILER };
enum gen { GEN_NONE, GEN_BYTES, GEN_CHUNKED, GEN_ECHO };
enum wait { W_NONE, W_SLOW, W_SLOWBODY, W_LINGER };

struct buf {
	char *p;
	size_t off, len, cap;   /* consumed offset, filled length, capacity */
};

/* Listeners and the signalfd: anything in epoll starts with kind and fd. */
struct src {
	enum kind kind;
	int fd;
};

struct server;

struct conn {
	enum kind kind;
	int fd;
	struct server *srv;
	struct conn *prev, *next;     /* all connections */
	struct conn *tprev, *tnext;   /* connections with a pending timer */
	unsigned long serial;
	enum state st;
	uint32_t events;
	int64_t last_active, deadline;
	enum wait wait;
	struct buf in, out;
	/* the request */
	char method[32], target[4096], path[4096];
	const char *query;
	int minor;
	bool keepalive, head_only, chunked, expect100, upgrade_ws, too_big;
	char wskey[64];
	/* what /auth (a forward_auth service) decides by and reports */
	char authz[256], fwd_method[32], fwd_uri[512];
	uint64_t clen, chunk_left, body_bytes, fnv;
	enum chunk_state cs;
	enum body_mode bm;
	struct buf echo;
	/* the response */
	bool close_after, ws_closing;
	enum gen gen;
	uint64_t gen_off, gen_left;
};

struct server {
	int ep;
	const char *name;
	bool health_down;
	unsigned long serial;
	unsigned long requests;       /* dispatched, /requests itself not counted */
	int64_t now, idle_ms;
	struct conn *conns, *timed;
};

/* ---- origin.c: buffers, timers, connection I/O ---- */

void buf_reserve(struct buf *b, size_t n);
void buf_append(struct buf *b, const void *p, size_t n);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_free(struct buf *b);

/* Run wait w on c after ms milliseconds, replacing its pending timer. */
void timer_set(struct conn *c, int64_t ms, enum wait w);

/* Write c->out: 1 everything written, 0 would block, -1 the peer is gone. */
int conn_flush(struct conn *c);

/* Send our FIN, then read and drop what the client still sends, then close. */
int conn_linger(struct conn *c);

/*
 * ---- origin_http.c: requests, responses, endpoints, WebSocket ----
 * The *_step functions return 1 when the state changed (run again), 0 to
 * wait for an event, -1 to close the connection.
 */

/* Forget the previous request on c. */
void http_req_reset(struct conn *c);

/* Parse a buffered request head (ST_HEAD); refusals become responses. */
int http_head_step(struct conn *c);

/* Read the request body (ST_BODY), then answer it through its endpoint. */
int http_body_step(struct conn *c);

/* Echo buffered WebSocket frames (ST_WS). */
int http_ws_step(struct conn *c);

/* Refill c->out from the response body generator; false when it is done. */
bool http_gen_fill(struct conn *c);

/* A whole text/plain response (no body for 204, 304 or HEAD); state ST_SEND. */
void http_respond(struct conn *c, int code, const char *body);

#endif
