/* SPDX-License-Identifier: MIT */
/*
 * h2client.h - a raw HTTP/2 client for the HTTP/2 suites: frames built by
 * hand (static-table HPACK only), sent in one go, and what comes back
 * tallied frame by frame, for what nghttp2-based clients will not send.
 */
#ifndef SW_IT_H2CLIENT_H
#define SW_IT_H2CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	F_DATA = 0, F_HEADERS = 1, F_PRIORITY = 2, F_RST_STREAM = 3, F_SETTINGS = 4,
	F_PUSH_PROMISE = 5, F_PING = 6, F_GOAWAY = 7, F_WINDOW_UPDATE = 8, F_CONTINUATION = 9,
};

#define FL_END_STREAM 0x1
#define FL_ACK 0x1
#define FL_END_HEADERS 0x4
#define FL_PADDED 0x8
#define FL_PRIORITY 0x20
#define E_NO_ERROR 0x0
#define E_PROTOCOL_ERROR 0x1
#define E_FLOW_CONTROL_ERROR 0x3
#define E_CANCEL 0x8
#define E_REFUSED_STREAM 0x7
#define E_ENHANCE_YOUR_CALM 0xb
#define PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define MAX_WINDOW 0x7fffffffu
#define STATUS_200 0x88               /* :status as an indexed static-table field */
#define STATUS_400 0x8c
#define NSTREAMS 1024                 /* streams 1..2047 are tallied */

struct h2 {
	int fd;
	size_t len, used;             /* bytes in buf; bytes of the frame last returned */
	uint8_t buf[1 << 17];
};

struct frame {
	uint8_t type, flags;
	uint32_t stream, len;
	const uint8_t *p;
};

/* What came back on a connection, frame by frame. */
struct tally {
	uint64_t data[NSTREAMS];      /* DATA payload bytes, by stream id / 2 */
	bool ended[NSTREAMS];         /* END_STREAM seen */
	int status[NSTREAMS];         /* first byte of the response header block, -1: none */
	int rst[NSTREAMS];            /* RST_STREAM error code, -1: none */
	uint64_t total_data;
	unsigned frames, headers, rsts, pings_acked, settings;
	int goaways;
	uint32_t goaway_first_last, goaway_first_error;
	uint32_t goaway_last, goaway_error; /* of the latest GOAWAY */
	bool eof;                     /* the server closed cleanly */
	int err;                      /* or the read failed: -errno */
};

/* An index into the tally, or -1 for a stream beyond it. */
int sidx(uint32_t id);

void tally_init(struct tally *t);

void put32(uint8_t *p, uint32_t v);

/* A growing buffer of frames, sent in one go. */
struct fbuf {
	uint8_t *p;
	size_t len, cap;
};

void fb_frame(struct fbuf *b, uint8_t type, uint8_t flags, uint32_t stream,
	      const void *payload, size_t len);

/*
 * A request header block from the static table only: :method GET (0x82),
 * :scheme http (0x86), :path as a literal without indexing of name 4,
 * :authority likewise of name 1.  Returns its length.
 */
size_t hpack_get(uint8_t *out, const char *path);

/* HEADERS for GET path on a stream, with END_STREAM and END_HEADERS. */
void fb_get(struct fbuf *b, uint32_t stream, const char *path);

/* The preface and our SETTINGS; `big_windows` opens stream and connection windows to 2^31-1. */
void fb_preface(struct fbuf *b, bool big_windows);

struct h2 *h2_connect(int port);

void h2_close(struct h2 *h);

/* Sends everything within timeout_ms; 0 or -errno (a flooded server may close on us). */
int h2_send(struct h2 *h, const void *data, size_t len, int timeout_ms);

void h2_send_fb(struct h2 *h, struct fbuf *b);

/* Counts one frame; acknowledges the server's SETTINGS. */
void h2_note(struct h2 *h, struct tally *t, const struct frame *f);

typedef bool (*until_fn)(const struct tally *t, const void *arg);

/*
 * Reads and tallies frames until `until` holds (NULL: until the server
 * closes), the connection ends, or timeout_ms passes.  True when `until`
 * held (or, without one, on EOF).
 */
bool h2_run(struct h2 *h, struct tally *t, until_fn until, const void *arg, int timeout_ms);

/* until: every stream 1, 3, ... up to the count in *arg has ended or was reset. */
bool all_done(const struct tally *t, const void *arg);

/* until: at least *arg body bytes in all. */
bool data_at_least(const struct tally *t, const void *arg);

/* until: a GOAWAY came. */
bool got_goaway(const struct tally *t, const void *arg);

/* until: stream *arg has ended or was reset. */
bool stream_done(const struct tally *t, const void *arg);

/* until: stream *arg has its response head, or was reset. */
bool stream_headed(const struct tally *t, const void *arg);

/* until: streams 1, 3, ... up to the count in *arg all have a response head or a reset. */
bool all_headed(const struct tally *t, const void *arg);

/* until: stream *arg was reset, or a GOAWAY came. */
bool reset_or_goaway(const struct tally *t, const void *arg);

void fb_settings_window(struct fbuf *b, uint32_t window);

/*
 * A connection past the preface and SETTINGS exchange (both acknowledged
 * by the time the next frames arrive); `window` >= 0 is sent as our
 * SETTINGS_INITIAL_WINDOW_SIZE, 0 holding every response body back.
 */
struct h2 *h2_open(int port, long window, struct tally *t);

/* HEADERS for GET with this :scheme and :path, END_STREAM and END_HEADERS. */
void fb_get_scheme(struct fbuf *b, uint32_t stream, const char *scheme, const char *path);

/* Expects GOAWAY with `error`, then the close. */
void expect_goaway(struct h2 *h, struct tally *t, uint32_t error, const char *what);

#endif
