/* SPDX-License-Identifier: MIT */
/*
 * h1_fixture.h - what the HTTP/1.1 suites (test_http1_*.c) share: one
 * worker with chosen server, timeout and limit members, and raw-socket
 * client steps on the harness's it_conn that fail the test with `what`.
 */
#ifndef SW_IT_H1_FIXTURE_H
#define SW_IT_H1_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "harness.h"

#define T_IO IT_IO_MS          /* one response */
#define QUIET_MS 200           /* "nothing more arrives" window */

/* Limits of the refusal server: small, so that the tests stay small. */
#define LIM_HEADER_BYTES 1024
#define LIM_HEADER_COUNT 8
#define LIM_BODY 1024
#define LIMITS_SMALL "\"max_header_bytes\": 1024, \"max_header_count\": 8, \"max_body_bytes\": 1024"

/* A request for /.healthz that would be answered 200: the pipelining witness. */
#define PROBE "GET /.healthz HTTP/1.1\r\nHost: a\r\n\r\n"

/* Body bytes that look like a request: answered 404 if taken for one. */
#define FAKE_REQ "GET /body-as-request HTTP/1.1\r\nHost: a\r\n\r\n"

/*
 * One worker on 127.0.0.1 and backend, with extra JSON members for
 * "server", "timeouts" and "limits" (each "" or ", "-less member text).
 */
struct it_proc *h1_start(const char *backend, const char *server, const char *timeouts,
		      const char *limits, int *port);


/* Sends len bytes (NULs included). */
void h1_send_bytes(struct it_conn *c, const char *bytes, size_t len, const char *what);

void h1_send_str(struct it_conn *c, const char *s, const char *what);

/* Value of header `name` in a response head (headers.h); false when absent. */
bool h1_header(const struct it_response *r, const char *name, char *out, size_t size);

int h1_count_hdr(const struct it_response *r, const char *name);

/* A response, 1xx interim ones skipped; fails the test on any error. */
void h1_read_final(struct it_conn *c, struct it_response *r, const char *what);

/*
 * Only the head of the next response: the buffer must start with a
 * status line (so that nothing, e.g. a HEAD body, came before it).
 */
void h1_read_head_only(struct it_conn *c, struct it_response *r, const char *what);

/*
 * Reads until the peer closes (EOF or reset): true if it closed within
 * timeout_ms.  What arrived meanwhile (after anything already buffered)
 * is left in c->buf for the caller to look at.
 */
bool h1_read_to_close(struct it_conn *c, int timeout_ms);

/* The server closes within timeout_ms and sends nothing more. */
void h1_expect_close(struct it_conn *c, int timeout_ms, const char *what);

/* Nothing arrives for QUIET_MS and the connection is still open. */
void h1_expect_quiet(struct it_conn *c, const char *what);

/* A request on an open connection answered with `want`; returns the response. */
void h1_roundtrip(struct it_conn *c, const char *req, int want, struct it_response *r,
	       const char *what);

void h1_expect_status(struct it_conn *c, int want, const char *what);

/* How many status lines are in text ("HTTP/1.1 200 " with prefix "HTTP/1.1 200"). */
int h1_count_str(const char *text, const char *needle);

#endif
