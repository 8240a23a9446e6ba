/* SPDX-License-Identifier: MIT */
/* exchange.h - the protocol-neutral request/response every handler sees. */
#ifndef SW_HTTP_EXCHANGE_H
#define SW_HTTP_EXCHANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include <sys/socket.h>
#include "core/common.h"
#include "core/shm.h"
#include "core/str.h"


struct sw_header {
	struct sw_str name;
	struct sw_str value;
};

enum sw_method {
	SW_METHOD_OTHER = 0,
	SW_METHOD_GET,
	SW_METHOD_HEAD,
	SW_METHOD_POST,
	SW_METHOD_PUT,
	SW_METHOD_DELETE,
	SW_METHOD_OPTIONS,
	SW_METHOD_PATCH,
	SW_METHOD_CONNECT,
	SW_METHOD_TRACE,
};

struct sw_request {
	enum sw_method method;
	struct sw_str method_name;
	struct sw_str target;        /* as received */
	struct sw_str path;          /* origin-form path (from absolute-form too) */
	struct sw_str query;         /* after '?', without it */
	struct sw_str authority;     /* Host header or absolute-form authority */
	uint8_t version;             /* 10, 11, 20, 30 */
	struct sw_header *headers;
	unsigned header_count;
	int64_t content_length;      /* -1 when absent */
	bool has_body;               /* a body follows the head (sized, chunked or HTTP/2 DATA) */
	bool chunked;
	bool keep_alive;             /* what the client asked for */
	bool expect_continue;
};

/*
 * How the response body is produced.  SW_BODY_STREAM: respond() sends the
 * head, then the handler hands over pieces with sw_exchange_write_body.
 */
enum sw_body_kind { SW_BODY_NONE, SW_BODY_MEMORY, SW_BODY_FILE, SW_BODY_STREAM };

/* content_length of a streamed body whose size is not known in advance. */
#define SW_LENGTH_UNKNOWN UINT64_MAX

#define SW_RESPONSE_MAX_HEADERS 64

struct sw_response {
	int status;
	struct sw_header headers[SW_RESPONSE_MAX_HEADERS];
	unsigned header_count;
	enum sw_body_kind body_kind;
	struct sw_str body;          /* SW_BODY_MEMORY: must outlive the send */
	int file_fd;                 /* SW_BODY_FILE: closed by the codec */
	off_t file_offset;
	uint64_t content_length;     /* body bytes */
	bool close;                  /* handler wants the connection closed */
	/*
	 * Called by sw_exchange_finish when the body memory (e.g. a cache
	 * entry) is no longer needed by the codec; NULL for static memory.
	 */
	void (*release)(void *owner);
	void *owner;
};

struct sw_exchange;

/*
 * The next piece of the request body: n bytes at data, valid until the
 * next read_body call; last is set with the final piece (n may be 0).
 * n < 0 is an error: -EPROTO bad framing, -EFBIG over max_body_bytes,
 * -ETIMEDOUT body_ms passed, -ECONNRESET the client went away.
 */
typedef void (*sw_body_cb)(struct sw_exchange *x, const char *data, ssize_t n, bool last);
/* A response piece was taken and its memory may be reused; res < 0: it never will be. */
typedef void (*sw_sent_cb)(struct sw_exchange *x, int res);

/* What a codec (http1, http2, http3) implements for the exchange. */
struct sw_exchange_ops {
	/* Sends x->resp; the codec owns the exchange again afterwards. */
	void (*respond)(struct sw_exchange *x);
	/*
	 * Memory for a generated body (metrics, JSON): valid until the
	 * response has been sent; reused by the next exchange.
	 */
	char *(*buffer)(struct sw_exchange *x, size_t size);
	/*
	 * Asks for the next piece of the request body; cb runs from the event
	 * loop, never inside this call.  One request at a time.  Optional
	 * (NULL): the codec then has no request bodies to give.
	 */
	void (*read_body)(struct sw_exchange *x, sw_body_cb cb);
	/*
	 * One piece of a SW_BODY_STREAM response, after respond(); last ends
	 * the response.  cb runs from the event loop once the piece is taken;
	 * the next piece waits for it.  The data is not copied before that.
	 */
	void (*write_body)(struct sw_exchange *x, const char *data, size_t n, bool last,
			   sw_sent_cb cb);
	/*
	 * Ends a response that cannot be completed (the upstream failed
	 * mid-body): the connection (HTTP/1.1) or stream (HTTP/2) is reset so
	 * the client cannot take a truncated body for a whole one.
	 */
	void (*abort)(struct sw_exchange *x);
	/*
	 * A 1xx interim response (103 Early Hints) before respond(); the
	 * fields are copied before it returns.  Optional (NULL): HTTP/1.1
	 * leaves it out, since 1xx other than 100 confuse some of its clients
	 * and HTTP/1.0 ones must never see them.
	 */
	void (*interim)(struct sw_exchange *x, int status, const struct sw_header *fields,
			unsigned count);
};

struct sw_ctx;
struct sw_route_cfg;
struct sw_policy_run;

#define SW_REQUEST_ID_LEN 16   /* hex digits */

struct sw_exchange {
	const struct sw_exchange_ops *ops;
	void *codec;                 /* the connection or stream */
	struct sw_ctx *ctx;
	enum sw_proto proto;
	bool tls;
	bool admin;                  /* came in on the admin API's listener */
	bool over_limit;             /* on a connection past server.max_connections: probes only */
	uint16_t h3_port;            /* its listener's HTTP/3 port (Alt-Svc); 0 without QUIC */
	/* Verified mTLS client certificate subject (RFC 2253), or NULL. */
	const char *tls_client;
	struct sw_request req;
	struct sw_response resp;
	const struct sockaddr *peer; /* the connection's peer (TCP or UDP) */
	socklen_t peer_len;
	char request_id[SW_REQUEST_ID_LEN + 1];  /* also sent as X-Request-Id */
	uint64_t started_ms;         /* monotonic, when the head was complete */
	uint64_t bytes_in;           /* request head + body bytes */
	uint64_t bytes_out;          /* response head + body bytes sent */
	/*
	 * A handler that keeps the exchange after it returns (the proxy) sets
	 * this: the codec calls it if the client goes away first, and the
	 * handler must not touch the exchange afterwards.
	 */
	void (*on_abort)(struct sw_exchange *x);
	void *handler_data;
	/* The proxy route that matched (its path_prefix, host), or NULL. */
	const struct sw_route_cfg *route;
	/*
	 * The authenticated consumer's name, set by an auth policy, or NULL;
	 * it must live until the exchange finishes (sw_exchange_alloc).  The
	 * access log's consumer, X-Consumer upstream, rate_limit.key "consumer".
	 */
	const char *consumer;
	/* The policy chain's per-exchange state (src/http/policy.c); NULL until needed. */
	struct sw_policy_run *policy;
};

/* Codecs call this when a request head is complete: id, clock. */
void sw_exchange_begin(struct sw_exchange *x);
/*
 * Zeroes an exchange for its next request, all but the response's field
 * array (2 KiB, empty once header_count is 0): clearing that per request
 * was a measurable share of an HTTP/2 stream's cost.
 */
static inline void sw_exchange_clear(struct sw_exchange *x)
{
	size_t tail = offsetof(struct sw_exchange, resp.header_count);

	memset(x, 0, offsetof(struct sw_exchange, resp.headers));
	memset((char *)x + tail, 0, sizeof(*x) - tail);
}

/*
 * Codecs call this once the response is sent, or the exchange is
 * abandoned (then resp.status says what was meant): the access log and
 * the metrics see every exchange exactly once, on every protocol.
 */
void sw_exchange_finish(struct sw_exchange *x);

/* src/http/policy.h: a body a policy held is replayed; response hooks. */
bool sw_policy_read_body(struct sw_exchange *x, sw_body_cb cb);
void sw_policy_respond(struct sw_exchange *x);

static inline void sw_exchange_read_body(struct sw_exchange *x, sw_body_cb cb)
{
	if (x->policy && sw_policy_read_body(x, cb))
		return;
	x->ops->read_body(x, cb);
}

/*
 * Codecs call this first in their respond op: the one place every
 * response head passes, whoever made it, so policies' response hooks
 * (security headers, CORS) run on all of them.
 */
static inline void sw_exchange_before_head(struct sw_exchange *x)
{
	if (x->policy)
		sw_policy_respond(x);
}

static inline void sw_exchange_write_body(struct sw_exchange *x, const char *data, size_t n,
					  bool last, sw_sent_cb cb)
{
	x->ops->write_body(x, data, n, last, cb);
}

/* Memory for a generated body; see sw_exchange_ops.buffer. */
static inline char *sw_exchange_buffer(struct sw_exchange *x, size_t size)
{
	return x->ops->buffer(x, size);
}

/* Adds a response header; the strings must outlive the send.  SW_ERROR when full. */
int sw_response_add_header(struct sw_response *r, struct sw_str name, struct sw_str value);
/* Finishes with a short text body for an error status ("404 Not Found\n"). */
void sw_exchange_error(struct sw_exchange *x, int status);
/* Finishes with an empty-bodied status (probes, 304, ...). */
void sw_exchange_empty(struct sw_exchange *x, int status);
/* 1xx, 204 and 304 carry no Content-Length and no body (RFC 9110 8.6). */
static inline bool sw_status_has_length(int status)
{
	return status >= 200 && status != 204 && status != 304;
}
/*
 * Fields that belong to an HTTP/1.1 connection and are malformed in
 * HTTP/2 and HTTP/3 messages (RFC 9113 8.2.2, RFC 9114 4.2).
 */
bool sw_field_connection_specific(struct sw_str name);
/* Grows a codec's generated-body memory (sw_exchange_ops.buffer) to size. */
char *sw_scratch_reserve(char **buf, size_t *cap, size_t size);
/* The reason phrase for a status ("Not Found"); "Unknown" for others. */
const char *sw_status_reason(int status);
/* Case-insensitive header lookup; NULL when absent. */
const struct sw_header *sw_request_header(const struct sw_request *req, const char *name);

#endif
