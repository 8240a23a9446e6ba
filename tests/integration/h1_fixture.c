/* SPDX-License-Identifier: MIT */
/* h1_fixture.c - what the HTTP/1.1 suites share (h1_fixture.h). */
#include <config.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include "h1_fixture.h"
#include "headers.h"

/*
 * One worker on 127.0.0.1 and backend, with extra JSON members for
 * "server", "timeouts" and "limits" (each "" or ", "-less member text).
 */
struct it_proc *h1_start(const char *backend, const char *server, const char *timeouts,
		      const char *limits, int *port)
{
	char cfg[IT_PATH_MAX];

	it_path(cfg, "swerver.json");
	it_write_filef(cfg,
		"{\n"
		"  \"server\": {\n"
		"    \"listeners\": [{\"address\": \"127.0.0.1\", \"port\": 0}],\n"
		"    \"workers\": 1,\n"
		"    \"io_backend\": \"%s\"%s%s\n"
		"  },\n"
		"  \"timeouts\": {\"drain_ms\": 1000%s%s},\n"
		"  \"limits\": {%s}\n"
		"}\n", backend, server[0] ? ",\n    " : "", server, timeouts[0] ? ", " : "",
		timeouts, limits);
	return it_start_ready(cfg, "127.0.0.1", port);
}


/* Sends len bytes (NULs included). */
void h1_send_bytes(struct it_conn *c, const char *bytes, size_t len, const char *what)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = send(c->fd, bytes + off, len - off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		IT_ASSERT(n > 0, "%s: send: %s", what, strerror(errno));
		off += (size_t)n;
	}
}

void h1_send_str(struct it_conn *c, const char *s, const char *what)
{
	h1_send_bytes(c, s, strlen(s), what);
}

/* Value of header `name` in a response head (headers.h); false when absent. */
bool h1_header(const struct it_response *r, const char *name, char *out, size_t size)
{
	return it_header(r->head, name, out, size);
}

int h1_count_hdr(const struct it_response *r, const char *name)
{
	size_t nlen = strlen(name);
	int n = 0;

	for (const char *l = strstr(r->head, "\r\n"); l; l = strstr(l + 2, "\r\n"))
		if (strncasecmp(l + 2, name, nlen) == 0 && l[2 + nlen] == ':')
			n++;
	return n;
}

/* A response, 1xx interim ones skipped; fails the test on any error. */
void h1_read_final(struct it_conn *c, struct it_response *r, const char *what)
{
	int rc;

	do
		rc = it_conn_read(c, r, T_IO);
	while (rc == 0 && r->status < 200);
	IT_ASSERT(rc == 0, "%s: no response: %s", what, strerror(-rc));
}

/*
 * Only the head of the next response: the buffer must start with a
 * status line (so that nothing, e.g. a HEAD body, came before it).
 */
void h1_read_head_only(struct it_conn *c, struct it_response *r, const char *what)
{
	int64_t deadline = it_now_ms() + T_IO;
	char *end = NULL, val[64];
	size_t hlen;

	memset(r, 0, sizeof(*r));
	while (!(c->len && (end = strstr(c->buf, "\r\n\r\n")))) {
		int n = it_conn_fill(c, deadline);

		IT_ASSERT(n > 0, "%s: no response head: %s", what, n == 0 ? "EOF" : strerror(-n));
	}
	IT_ASSERT(strncmp(c->buf, "HTTP/1.1 ", 9) == 0,
		  "%s: bytes before the status line: \"%.60s\"", what, c->buf);
	hlen = (size_t)(end - c->buf) + 4;
	IT_ASSERT(hlen < sizeof(r->head), "%s: response head too long", what);
	memcpy(r->head, c->buf, hlen);
	r->head[hlen] = '\0';
	memmove(c->buf, c->buf + hlen, c->len - hlen + 1);
	c->len -= hlen;
	r->status = atoi(r->head + 9);
	r->content_length = h1_header(r, "Content-Length", val, sizeof(val)) ? atol(val) : -1;
	r->conn_close = h1_header(r, "Connection", val, sizeof(val)) && strcasecmp(val, "close") == 0;
}

/*
 * Reads until the peer closes (EOF or reset): true if it closed within
 * timeout_ms.  What arrived meanwhile (after anything already buffered)
 * is left in c->buf for the caller to look at.
 */
bool h1_read_to_close(struct it_conn *c, int timeout_ms)
{
	int64_t deadline = it_now_ms() + timeout_ms;
	int n;

	while ((n = it_conn_fill(c, deadline)) > 0)
		;
	return n == 0 || n == -ECONNRESET || n == -EPIPE;
}

/* The server closes within timeout_ms and sends nothing more. */
void h1_expect_close(struct it_conn *c, int timeout_ms, const char *what)
{
	size_t before = c->len;
	bool closed = h1_read_to_close(c, timeout_ms);

	IT_ASSERT(before == 0 && c->len == 0, "%s: unexpected bytes before the close: \"%.200s\"",
		  what, c->buf);
	IT_ASSERT(closed, "%s: connection still open after %d ms", what, timeout_ms);
}

/* Nothing arrives for QUIET_MS and the connection is still open. */
void h1_expect_quiet(struct it_conn *c, const char *what)
{
	int64_t deadline = it_now_ms() + QUIET_MS;
	int n = c->len ? 1 : it_conn_fill(c, deadline);

	IT_ASSERT(n == -ETIMEDOUT, "%s: want silence, got %s: \"%.200s\"", what,
		  n == 0 ? "EOF" : n < 0 ? strerror(-n) : "bytes", c->buf);
}

/* A request on an open connection answered with `want`; returns the response. */
void h1_roundtrip(struct it_conn *c, const char *req, int want, struct it_response *r,
	       const char *what)
{
	h1_send_str(c, req, what);
	h1_read_final(c, r, what);
	IT_ASSERT(r->status == want, "%s: status %d, want %d\n%s", what, r->status, want,
		  r->head);
}

void h1_expect_status(struct it_conn *c, int want, const char *what)
{
	struct it_response r;

	h1_read_final(c, &r, what);
	IT_ASSERT(r.status == want, "%s: status %d, want %d\n%s", what, r.status, want, r.head);
}

/* How many status lines are in text ("HTTP/1.1 200 " with prefix "HTTP/1.1 200"). */
int h1_count_str(const char *text, const char *needle)
{
	int n = 0;

	for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}
