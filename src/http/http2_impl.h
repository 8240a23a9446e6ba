/* SPDX-License-Identifier: MIT */
/* http2_impl.h - the HTTP/2 connection and stream state, shared by http2.c and http2_stream.c only. */
#ifndef SW_HTTP_HTTP2_IMPL_H
#define SW_HTTP_HTTP2_IMPL_H

#include <stdbool.h>
#include <stdint.h>
#include <nghttp2/nghttp2.h>
#include "event/loop.h"
#include "http/exchange.h"
#include "http/http2_config.h"
#include "http/stream.h"

struct sw_conn;

/*
 * Output is collected from nghttp2 until this much is queued, then written
 * in one go; nothing more is asked of nghttp2 until that write completes,
 * so a client that stops reading stops the server producing (back-pressure
 * reaches flow control and the file bodies, never unbounded memory).
 */
#define H2_OUT_HIGH (64 * 1024)

/* A token bucket: `burst` events at once, refilled at `rate` a second. */
struct h2_bucket {
	uint64_t tokens_milli;   /* thousandths of a token */
	uint64_t last_ms;
};

/* Frame boundaries in the client's bytes, to read the PRIORITY payloads nghttp2 skips. */
struct h2_scan {
	size_t skip;                    /* bytes to pass over: the preface, a payload */
	uint8_t hd[9 + 5];              /* a frame header; for PRIORITY its payload too */
	unsigned got;
	bool started;
};

#define H2_GAPS 8

/* An HTTP/2 stream: the shared stream (first), and how far its DATA frames got. */
struct h2_stream {
	struct sw_stream s;
	struct h2_conn *h;
	int32_t id;
	uint64_t framed;                /* body bytes handed to nghttp2 as DATA frames */
	uint64_t sent;                  /* body bytes copied into the output buffer */
};

struct h2_conn {
	struct sw_conn *c;
	nghttp2_session *s;
	struct sw_stream_set streams;   /* open ones and the recycled */
	/* output: frames collected from nghttp2, then written in one go */
	char *out;
	size_t out_len, out_off, out_cap;
	bool writing;                   /* a write of out is in flight */
	bool in_recv;                   /* inside nghttp2_session_mem_recv */
	bool draining;
	bool goaway_final;              /* the GOAWAY with the real last stream id is queued */
	struct sw_timer goaway_timer;
	struct sw_timer flush_timer;    /* output a handler produced outside a receive */
	/* protections */
	struct h2_bucket resets;        /* client RST_STREAM (rapid reset) */
	struct h2_bucket control;       /* SETTINGS, PING, PRIORITY, empty DATA */
	unsigned continuations;         /* CONTINUATION frames in this header block */
	bool flooded;
	/* what nghttp2 does not check (http2_check.c) */
	int32_t max_client_id;          /* the highest stream id a client HEADERS named */
	struct { int32_t lo, hi; } gaps[H2_GAPS];  /* ids the client skipped, latest runs */
	unsigned gap_next;
	struct h2_scan scan;
	uint32_t iws_before;            /* SETTINGS_INITIAL_WINDOW_SIZE before a SETTINGS */
	int32_t win_max_before;         /* the widest stream send window then */
	bool settings_patched;          /* max_streams is in our first SETTINGS */
	uint32_t max_streams;           /* as advertised: a reload applies to new connections */
};

/* http2_stream.c */
struct h2_stream *sw_h2_stream_new(struct h2_conn *h, int32_t id);
/* Finishes the exchange if it was begun and recycles the stream. */
void sw_h2_stream_close(struct h2_stream *st);
/* Frees the recycled streams of a connection that is going away. */
void sw_h2_stream_free_list(struct h2_conn *h);
int sw_h2_on_header(nghttp2_session *s, const nghttp2_frame *frame, nghttp2_rcbuf *name,
		    nghttp2_rcbuf *value, uint8_t flags, void *user_data);
/* The request head is complete: route it (or refuse it). */
void sw_h2_stream_dispatch(struct h2_stream *st);
/* DATA for the stream: kept for a handler that reads it, else consumed at once. */
void sw_h2_stream_data(struct h2_stream *st, const uint8_t *data, size_t len);
/* END_STREAM from the client. */
void sw_h2_stream_end(struct h2_stream *st);
int sw_h2_send_data(nghttp2_session *s, nghttp2_frame *frame, const uint8_t *framehd,
		    size_t length, nghttp2_data_source *source, void *user_data);

/* http2_check.c: RFC 9113 rules nghttp2 leaves to us */
/* From on_begin_frame: stream ids of HEADERS; notes windows before a SETTINGS. */
int sw_h2_check_begin_frame(struct h2_conn *h, const nghttp2_frame_hd *hd);
/* From on_frame_recv: a SETTINGS_INITIAL_WINDOW_SIZE that overflowed a stream window. */
int sw_h2_check_settings(struct h2_conn *h, const nghttp2_settings *f);
/*
 * How many of the len received bytes to give nghttp2 next: all, or up to
 * the end of a PRIORITY frame (*priority set), to be checked after that
 * with sw_h2_check_priority.
 */
size_t sw_h2_scan(struct h2_conn *h, const uint8_t *p, size_t len, bool *priority);
int sw_h2_check_priority(struct h2_conn *h);
/* Writes max_streams into the first SETTINGS among n bytes of frames. */
void sw_h2_patch_settings(struct h2_conn *h, uint8_t *out, size_t n);
/* The client has max_streams streams open: refuse the next. */
bool sw_h2_over_max_streams(const struct h2_conn *h);

/* http2.c */
/* Writes whatever nghttp2 has queued unless a write or a receive is in progress. */
void sw_h2_flush(struct h2_conn *h);
/* Flushes from the loop: handlers' calls never see the connection close under them. */
void sw_h2_schedule_flush(struct h2_conn *h);
/* Room for n more bytes in the output buffer. */
char *sw_h2_out_reserve(struct h2_conn *h, size_t n);

#endif
