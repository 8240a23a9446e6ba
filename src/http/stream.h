/* SPDX-License-Identifier: MIT */
/* stream.h - the request stream HTTP/2 and HTTP/3 share: head intake, limits, body holding, recycling. */
#ifndef SW_HTTP_STREAM_H
#define SW_HTTP_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/config.h"
#include "event/loop.h"
#include "http/body_buf.h"
#include "http/exchange.h"
#include "http/min_rate.h"

struct sw_stream;

/*
 * What differs between nghttp2 and nghttp3 under the shared code: buffer
 * reference counting, flow control, and the exchange operations that
 * frame (sw_exchange_ops; the stream layer does buffer and read_body).
 */
struct sw_stream_class {
	/* Reference counting of a library buffer the request head points into. */
	void (*hold)(void *buf);
	void (*release)(void *buf);
	/* n request body bytes were taken by the handler: let the client send more. */
	void (*consume)(struct sw_stream *st, size_t n);
	void (*respond)(struct sw_exchange *x);
	void (*write_body)(struct sw_exchange *x, const char *data, size_t n, bool last,
			   sw_sent_cb cb);
	void (*abort)(struct sw_exchange *x);
	void (*interim)(struct sw_exchange *x, int status, const struct sw_header *fields,
			unsigned count);
};

/* A connection's streams: open ones (newest first), and recycled ones. */
struct sw_stream_set {
	struct sw_stream *open;
	struct sw_stream *free;
	unsigned n;
};

/*
 * The first member of struct h2_stream and struct h3_stream: the codec
 * casts between them, and x.codec points at both.
 */
struct sw_stream {
	struct sw_exchange x;
	const struct sw_stream_class *cls;
	struct sw_loop *loop;
	struct sw_stream_set *set;
	struct sw_stream *prev, *next;
	/* the request head, as views into the library's reference-counted buffers */
	void **held;
	unsigned nheld, held_cap;
	struct sw_header *headers;
	unsigned header_cap;
	size_t field_bytes;             /* names + values + 32 each (RFC 9113 6.5.2, RFC 9114 4.2.2) */
	size_t max_field_bytes;         /* past this the head is answered 431 */
	uint64_t max_body;              /* limits.max_body_bytes when the stream opened */
	int refuse;                     /* status to answer instead of routing, or 0 */
	bool begun;                     /* sw_exchange_begin was called */
	bool responded;
	bool has_data;                  /* the response was submitted with a body */
	char *scratch;                  /* sw_exchange_buffer memory */
	size_t scratch_cap;
	/* the request body, held until the handler takes it (bounded by the stream window) */
	struct sw_body_buf body;
	bool body_reading;
	bool body_done;                 /* the client ended the stream */
	sw_body_cb body_cb;
	/*
	 * limits.min_body_rate (as when the stream opened): only time the
	 * handler waits with nothing held counts, so a body paused by our own
	 * flow control (a slow upstream) is never the client's fault.
	 */
	struct sw_min_rate body_rate;
	uint32_t min_body_rate, rate_window_ms;
	bool slow;                      /* cut: the handler gets -ETIMEDOUT, later bytes dropped */
	/* a streamed response (SW_BODY_STREAM): the piece write_body handed over */
	const char *sp;
	size_t sn, soff;
	bool slast;
	bool piece_done;                /* the piece is copied: its memory is the handler's again */
	sw_sent_cb sent_cb;
	uint64_t stream_total;
	struct sw_timer kick;           /* handler callbacks run from the loop, not inside calls */
};

/*
 * A stream of `size` bytes (the codec's struct) from the set's free list
 * or new, reset and linked in; max_field_bytes is the protocol's bound on
 * the head, limits.max_header_bytes applying as well.
 */
struct sw_stream *sw_stream_open(struct sw_stream_set *set, size_t size,
				 const struct sw_stream_class *cls, struct sw_loop *loop,
				 const struct sw_limits_cfg *lim, size_t max_field_bytes);
/* Finishes the exchange if it was begun (logged once) and recycles the stream. */
void sw_stream_close(struct sw_stream *st);
/* Frees the recycled streams of a connection that is going away. */
void sw_stream_free_all(struct sw_stream_set *set);

/*
 * The head is complete: begins the exchange (the codec has set proto, tls
 * and peer) and routes it, or answers the refusal.
 */
void sw_stream_dispatch(struct sw_stream *st, int version);

/* What became of request body bytes given to sw_stream_body_in. */
enum sw_stream_body {
	SW_STREAM_BODY_KEPT,            /* held for the handler */
	SW_STREAM_BODY_DROP,            /* nobody reads them: acknowledge at once */
	SW_STREAM_BODY_TOO_BIG,         /* over limits.max_body_bytes: acknowledge and reset */
	SW_STREAM_BODY_SLOW,            /* below limits.min_body_rate: acknowledge, stop reading */
};
/* For SW_STREAM_BODY_SLOW, *rate is the rate seen (bytes/s). */
enum sw_stream_body sw_stream_body_in(struct sw_stream *st, const uint8_t *data, size_t len,
				      uint64_t *rate);
/* The client ended the stream. */
void sw_stream_body_end(struct sw_stream *st);

/* Takes a response piece from write_body; false when there is nothing to frame (done). */
bool sw_stream_piece(struct sw_stream *st, const char *data, size_t n, bool last,
		     sw_sent_cb cb);
/* The whole piece is copied out: the handler is told from the loop. */
void sw_stream_piece_copied(struct sw_stream *st);
/* Whether a response has body bytes to frame (not HEAD, 1xx, 204, 304, empty). */
bool sw_stream_response_has_body(const struct sw_exchange *x);

#endif
