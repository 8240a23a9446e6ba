/* SPDX-License-Identifier: MIT */
/* http1_conn_impl.h - the HTTP/1.1 connection's state, shared by http1_conn.c and http1_conn_send.c only. */
#ifndef SW_HTTP_HTTP1_CONN_IMPL_H
#define SW_HTTP_HTTP1_CONN_IMPL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include "core/lru.h"
#include "event/loop.h"
#include "http/chunked.h"
#include "http/exchange.h"
#include "http/http1.h"
#include "http/http2.h"
#include "http/min_rate.h"

#define CONN_HEAD_MAX 8192    /* status line + response headers (proxied ones too) */
#define SW_CONN_BUF_INITIAL 4096 /* receive buffer; grown for a big head or HTTP/2 */

enum conn_state {
	C_PROXY,     /* reading the PROXY protocol header (http1_conn_pp.c) */
	C_IDLE,      /* waiting for the first byte of a request */
	C_HEAD,      /* a request head has started arriving */
	C_HANDLER,   /* a handler owns the exchange */
	C_WRITE,     /* sending a response */
	C_DISCARD,   /* answered; reading and dropping the rest of the request body */
	C_LINGER,    /* write side shut; reading until EOF so our answer is not reset */
	C_H2,        /* the HTTP/2 codec owns the connection (c->h2) */
	C_CLOSED,
};

struct sw_conn {
	struct sw_ctx *ctx;
	struct sw_conn *prev, *next;
	struct sw_handle h;
	struct sw_io rio, wio;
	struct sw_timer timer;
	struct sockaddr_storage peer;
	socklen_t peer_len;
	/*
	 * What the connection needs of its listener, copied at accept: a
	 * single-process reload frees the listener set under open connections.
	 */
	bool on_admin;            /* the admin API's listener */
	bool h2c_only;            /* listeners[].h2c_only */
	uint16_t h3_port;         /* the listener's HTTP/3 port, 0 without QUIC */
	bool use_tls;             /* TLS begins after the PROXY header, when there is one */
	enum conn_state state;
	bool keep_alive;
	bool recv_pending;
	char *rd_p;               /* where the pending read goes */
	size_t rd_n;
	unsigned requests;        /* answered on this connection so far */
	bool nodelay;             /* TCP_NODELAY is set */
	bool refused;             /* framing in doubt: linger before closing */
	/* server.max_connections (http1_conn_limit.c) */
	struct sw_lru_node idle_node; /* in ctx->idle_conns, most recently idle first */
	bool idle_listed;         /* between requests (HTTP/2: no open stream) */
	bool over_limit;          /* accepted past the limit: probes only, then close */
	bool reclaimed;           /* closed (HTTP/2: told GOAWAY) to make room */
	bool reclaiming;          /* reclaimed HTTP/2, counted in ctx->reclaiming until closed */
	bool closing;             /* in sw_conn_close: its streams' ends are no idleness */
	uint64_t idle_since;      /* loop time it went idle (http1_conn_trim.c) */
	bool trimmed;             /* its spare buffers were released since */
	/* receive side */
	char *buf;
	size_t cap, len;          /* receive buffer and bytes in it */
	size_t used;              /* bytes of buf the current request has consumed */
	struct sw_http1_parser parser;
	struct sw_header *req_headers;
	unsigned req_headers_cap;
	/* request body not consumed by the handler */
	bool body_pending;
	uint64_t body_left;       /* Content-Length bytes still to come */
	struct sw_chunked chunked;
	/* the exchange and its response */
	struct sw_exchange x;
	char head[CONN_HEAD_MAX];
	struct iovec iov[4];
	int iovcnt;
	uint64_t file_left;       /* SW_BODY_FILE bytes still to sendfile */
	char *scratch;            /* sw_exchange_buffer memory */
	size_t scratch_cap;
	/* a request body the handler reads (http1_conn_body.c) */
	char *bbuf;               /* body bytes read after the head's buffer */
	size_t bbuf_len, bbuf_off;
	sw_body_cb body_cb;       /* the handler's pending read_body */
	bool body_reading;        /* the handler has begun reading the body */
	struct sw_min_rate body_rate;  /* limits.min_body_rate */
	/* limits.min_send_rate (http1_conn_send.c) */
	bool send_waiting;        /* a write of ours is pending */
	uint64_t send_since;      /* when it began */
	uint64_t send_done_ms;    /* when the last one completed */
	uint64_t sent_total;      /* bytes written into the socket, all responses */
	uint64_t send_mark_ms;    /* the rate window's start */
	uint64_t send_mark_taken; /* bytes the client had taken by then */
	const char *piece;        /* the piece being posted to body_cb */
	ssize_t piece_n;
	bool piece_last;
	/* a streamed response (http1_conn_send.c) */
	bool streaming;           /* resp.body_kind is SW_BODY_STREAM */
	bool tunnel;              /* after 101 Switching Protocols: raw bytes both ways */
	bool stream_chunked;      /* framed with chunked coding */
	bool stream_ready;        /* the head is out: pieces may follow */
	bool stream_busy;         /* a piece is being written */
	const char *sp;           /* the piece handed over by write_body */
	size_t sn;
	bool slast;
	sw_sent_cb sent_cb;
	uint64_t stream_total;    /* body bytes streamed so far */
	char chunk_line[32];
	/* TLS (http1_conn_tls.c): the session does its own socket I/O */
	void *tls;
	char *tls_buf;            /* plaintext copied for one SSL_write */
	const char *tls_wptr;     /* what the next SSL_write takes: tls_buf or the iovec */
	size_t tls_staged;        /* bytes at tls_wptr awaiting the write */
	size_t tls_written;       /* what the write reports once its flush is done */
	size_t tls_file_staged;   /* of which file body after the head (stage_iov) */
	uint64_t tls_last_write_ms; /* loop time of the last record staged */
	char tls_client[256];     /* verified client certificate subject, or "" */
	sw_io_cb read_done;       /* where a read or TLS write result goes */
	sw_io_cb write_done;
	/* HTTP/2 (http2.c): the session and its streams once C_H2 */
	void *h2;
};

/* The client preface of cleartext HTTP/2 with prior knowledge (RFC 9113 3.4). */
#define SW_H2_PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define SW_H2_PREFACE_LEN 24

/* http1_conn.c */
/* The read completion of HTTP/1.1 heads, discards and lingering closes. */
void sw_conn_on_recv(struct sw_io *io, ssize_t res);
void sw_conn_nodelay(struct sw_conn *c);
/* Grows the receive buffer to at least size bytes. */
void sw_conn_reserve(struct sw_conn *c, size_t size);
void sw_conn_set_timer(struct sw_conn *c, uint32_t ms);
void sw_conn_close(struct sw_conn *c);
/* Reads into c->buf after c->len; the result goes to c->read_done. */
void sw_conn_read(struct sw_conn *c);
/* Reads into p[0..n) over the transport; the result goes to c->read_done. */
void sw_conn_recv(struct sw_conn *c, char *p, size_t n);
/* After a response: next request, body discard, or linger and close. */
void sw_conn_next(struct sw_conn *c);
/* Hands the connection to the HTTP/2 codec (ctx->h2_api must be set). */
void sw_conn_start_h2(struct sw_conn *c);
/*
 * The connection's own protocol begins: the TLS handshake, or the first
 * request (c->buf may already hold bytes read after a PROXY header).
 */
void sw_conn_begin(struct sw_conn *c);

/* http1_conn_pp.c */
/* listeners[].proxy_protocol: the peer must be trusted and send the header before sw_conn_begin. */
void sw_conn_pp_start(struct sw_conn *c);
/* timeouts.header_ms passed before the header was whole. */
void sw_conn_pp_timeout(struct sw_conn *c);

/* http1_conn_tls.c */
void sw_conn_tls_handshake(struct sw_conn *c);
void sw_conn_tls_read(struct sw_conn *c);
/* Writes c->iov (or, with file, the next piece of the file body) through TLS. */
void sw_conn_tls_write(struct sw_conn *c, bool file);
void sw_conn_tls_close(struct sw_conn *c);

/* http1_conn_limit.c */
/*
 * Idle (between requests; HTTP/2: no open stream) or busy again: idle
 * connections are the ones closed to make room at the limit.
 */
void sw_conn_set_idle(struct sw_conn *c, bool idle);
/* Accounting of a connection just linked (its class) and just unlinked. */
void sw_conn_limit_opened(struct sw_conn *c);
void sw_conn_limit_closed(struct sw_conn *c);

/* http1_conn_trim.c */
/* Onto the worker's free list, without the buffers only a request needs. */
void sw_conn_recycle(struct sw_conn *c);
/* Off the free list, or NULL. */
struct sw_conn *sw_conn_reuse(struct sw_ctx *ctx);

/* http1_conn_body.c */
void sw_conn_read_body(struct sw_exchange *x, sw_body_cb cb);
/* The request is over: body bytes read past its end belong to the next one. */
void sw_conn_body_leftover(struct sw_conn *c);

/* http1_conn_send.c */
extern const struct sw_exchange_ops sw_http1_exchange_ops;
/*
 * Writes c->iov[0..iovcnt) over the connection's transport (plain writev
 * or TLS); cb gets the bytes written (maybe fewer) or -errno.
 */
void sw_conn_send_iov(struct sw_conn *c, sw_io_cb cb);

/*
 * A client below limits.min_body_rate (body) or min_send_rate: logged with
 * its address and rate, counted for /metrics.
 */
void sw_conn_slow_client(struct sw_conn *c, bool body, uint64_t rate);
/* The connection's timer in C_WRITE: write_ms, idle_ms between streamed pieces, or a rate check. */
void sw_conn_write_timeout(struct sw_conn *c);

#endif
