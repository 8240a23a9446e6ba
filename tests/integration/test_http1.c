/*
 * test_http1.c - the HTTP/1.1 engine end to end, on both I/O backends:
 * refusals and smuggling, request bodies, keep-alive and pipelining, HEAD,
 * response headers, the four timeouts, max_connections, and curl as an
 * independent client.
 */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
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

/* ---- server ------------------------------------------------------------- */

/*
 * One worker on 127.0.0.1 and backend, with extra JSON members for
 * "server", "timeouts" and "limits" (each "" or ", "-less member text).
 */
static struct it_proc *start(const char *backend, const char *server, const char *timeouts,
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

/* ---- client ------------------------------------------------------------- */

/* Sends len bytes (NULs included). */
static void send_bytes(struct it_conn *c, const char *bytes, size_t len, const char *what)
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

static void send_str(struct it_conn *c, const char *s, const char *what)
{
	send_bytes(c, s, strlen(s), what);
}

/* Reads more into c->buf before the deadline: >0 bytes, 0 EOF, -errno. */
static int fill(struct it_conn *c, int64_t deadline)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	int left = (int)(deadline - it_now_ms()), r;
	ssize_t n;

	if (c->len >= sizeof(c->buf) - 1)
		return -EMSGSIZE;
	if (left <= 0)
		return -ETIMEDOUT;
	do
		r = poll(&pfd, 1, left);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return -ETIMEDOUT;
	do
		n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	c->len += (size_t)n;
	c->buf[c->len] = '\0';
	return (int)n;
}

/* Value of header `name` in a response head; false when absent. */
static bool hdr(const struct it_response *r, const char *name, char *out, size_t size)
{
	size_t nlen = strlen(name);

	for (const char *l = strstr(r->head, "\r\n"); l; l = strstr(l + 2, "\r\n")) {
		const char *v = l + 2;

		if (strncasecmp(v, name, nlen) != 0 || v[nlen] != ':')
			continue;
		v += nlen + 1;
		v += strspn(v, " \t");
		snprintf(out, size, "%.*s", (int)strcspn(v, "\r\n"), v);
		return true;
	}
	return false;
}

static int count_hdr(const struct it_response *r, const char *name)
{
	size_t nlen = strlen(name);
	int n = 0;

	for (const char *l = strstr(r->head, "\r\n"); l; l = strstr(l + 2, "\r\n"))
		if (strncasecmp(l + 2, name, nlen) == 0 && l[2 + nlen] == ':')
			n++;
	return n;
}

/* A response, 1xx interim ones skipped; fails the test on any error. */
static void read_final(struct it_conn *c, struct it_response *r, const char *what)
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
static void read_head_only(struct it_conn *c, struct it_response *r, const char *what)
{
	int64_t deadline = it_now_ms() + T_IO;
	char *end = NULL, val[64];
	size_t hlen;

	memset(r, 0, sizeof(*r));
	while (!(c->len && (end = strstr(c->buf, "\r\n\r\n")))) {
		int n = fill(c, deadline);

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
	r->content_length = hdr(r, "Content-Length", val, sizeof(val)) ? atol(val) : -1;
	r->conn_close = hdr(r, "Connection", val, sizeof(val)) && strcasecmp(val, "close") == 0;
}

/*
 * Reads until the peer closes (EOF or reset): true if it closed within
 * timeout_ms.  What arrived meanwhile (after anything already buffered)
 * is left in c->buf for the caller to look at.
 */
static bool read_to_close(struct it_conn *c, int timeout_ms)
{
	int64_t deadline = it_now_ms() + timeout_ms;
	int n;

	while ((n = fill(c, deadline)) > 0)
		;
	return n == 0 || n == -ECONNRESET || n == -EPIPE;
}

/* The server closes within timeout_ms and sends nothing more. */
static void expect_close(struct it_conn *c, int timeout_ms, const char *what)
{
	size_t before = c->len;
	bool closed = read_to_close(c, timeout_ms);

	IT_ASSERT(before == 0 && c->len == 0, "%s: unexpected bytes before the close: \"%.200s\"",
		  what, c->buf);
	IT_ASSERT(closed, "%s: connection still open after %d ms", what, timeout_ms);
}

/* Nothing arrives for QUIET_MS and the connection is still open. */
static void expect_quiet(struct it_conn *c, const char *what)
{
	int64_t deadline = it_now_ms() + QUIET_MS;
	int n = c->len ? 1 : fill(c, deadline);

	IT_ASSERT(n == -ETIMEDOUT, "%s: want silence, got %s: \"%.200s\"", what,
		  n == 0 ? "EOF" : n < 0 ? strerror(-n) : "bytes", c->buf);
}

/* A request on an open connection answered with `want`; returns the response. */
static void roundtrip(struct it_conn *c, const char *req, int want, struct it_response *r,
		      const char *what)
{
	send_str(c, req, what);
	read_final(c, r, what);
	IT_ASSERT(r->status == want, "%s: status %d, want %d\n%s", what, r->status, want,
		  r->head);
}

static void expect_status(struct it_conn *c, int want, const char *what)
{
	struct it_response r;

	read_final(c, &r, what);
	IT_ASSERT(r.status == want, "%s: status %d, want %d\n%s", what, r.status, want, r.head);
}

/* How many status lines are in text ("HTTP/1.1 200 " with prefix "HTTP/1.1 200"). */
static int count_str(const char *text, const char *needle)
{
	int n = 0;

	for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* ---- refusals ----------------------------------------------------------- */

struct refusal {
	const char *name;
	const char *req;
	size_t len;          /* 0 = strlen */
	int status;
};

#define NUL_REQ(s) (s), sizeof(s) - 1

static const struct refusal refusals[] = {
	{ "request line: two spaces", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 0, 400 },
	{ "request line: no version", "GET /\r\nHost: a\r\n\r\n", 0, 400 },
	{ "request line: garbage", "HELLO\r\n\r\n", 0, 400 },
	{ "request line: extra word", "GET / HTTP/1.1 x\r\nHost: a\r\n\r\n", 0, 400 },
	{ "request line: lowercase version", "GET / http/1.1\r\nHost: a\r\n\r\n", 0, 400 },
	{ "request line: control char in target", "GET /a\x01 HTTP/1.1\r\nHost: a\r\n\r\n", 0, 400 },
	{ "too many fields", "GET /.healthz HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 1\r\nC: 1\r\n"
	  "D: 1\r\nE: 1\r\nF: 1\r\nG: 1\r\nH: 1\r\n\r\n", 0, 431 },
	{ "Content-Length over max_body_bytes", "POST /up HTTP/1.1\r\nHost: a\r\n"
	  "Content-Length: 1025\r\n\r\n", 0, 413 },
	{ "huge Content-Length", "PUT /up HTTP/1.1\r\nHost: a\r\n"
	  "Content-Length: 99999999999\r\n\r\n", 0, 413 },
	{ "CL then TE", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
	  "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 0, 400 },
	{ "TE then CL", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
	  "Content-Length: 5\r\n\r\n0\r\n\r\n", 0, 400 },
	{ "differing Content-Lengths", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
	  "Content-Length: 6\r\n\r\nhello!", 0, 400 },
	{ "TE gzip", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 0, 400 },
	{ "TE chunked, gzip", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
	  0, 400 },
	{ "TE chunked then TE identity", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
	  "Transfer-Encoding: identity\r\n\r\n", 0, 400 },
	{ "bare CR in a value", "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\rc\r\n\r\n", 0, 400 },
	{ "bare CR in the request line", "GET /\r HTTP/1.1\r\nHost: a\r\n\r\n", 0, 400 },
	{ "bare LF after the request line", "GET / HTTP/1.1\nHost: a\r\n\r\n", 0, 400 },
	{ "bare LF after a field", "GET / HTTP/1.1\r\nHost: a\nX-A: b\r\n\r\n", 0, 400 },
	{ "bare LF ends the head", "GET / HTTP/1.1\r\nHost: a\r\n\n", 0, 400 },
	{ "space before colon", "GET / HTTP/1.1\r\nHost: a\r\nX-A : b\r\n\r\n", 0, 400 },
	{ "space before colon in Host", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", 0, 400 },
	{ "obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n", 0, 400 },
	{ "obs-fold with tab", "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n\tc\r\n\r\n", 0, 400 },
	{ "NUL in a value", NUL_REQ("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\0c\r\n\r\n"), 400 },
	{ "NUL in a name", NUL_REQ("GET / HTTP/1.1\r\nHost: a\r\nX\0A: b\r\n\r\n"), 400 },
	{ "NUL in the request line", NUL_REQ("GET /\0 HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ "HTTP/1.1 without Host", "GET /.healthz HTTP/1.1\r\n\r\n", 0, 400 },
	{ "two Host fields", "GET /.healthz HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 0, 400 },
	{ "two different Host fields", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 0, 400 },
	{ "HTTP/2.0 request line", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 0, 505 },
	{ "HTTP/3.0 request line", "GET / HTTP/3.0\r\nHost: a\r\n\r\n", 0, 505 },
};

#define NREFUSALS ((int)(sizeof(refusals) / sizeof(refusals[0])))

/* One refused request on a fresh connection: status, Connection: close, EOF. */
static void expect_refusal(int port, const char *name, const char *req, size_t len, int status)
{
	struct it_conn *c = it_conn_new(port);
	struct it_response r;

	send_bytes(c, req, len, name);
	read_final(c, &r, name);
	IT_ASSERT(r.status == status, "%s: status %d, want %d\n%s", name, r.status, status, r.head);
	IT_ASSERT(r.conn_close, "%s: refusal without \"Connection: close\"\n%s", name, r.head);
	expect_close(c, T_IO, name);
	it_conn_free(c);
}

/* Small limits, allowed_hosts "a" (and "localhost" for the harness). */
static void refusal_server(const char *backend, int *port)
{
	start(backend, "\"allowed_hosts\": [\"a\", \"localhost\"]", "\"header_ms\": 10000",
	      LIMITS_SMALL, port);
}

START_TEST(refusals_table)
{
	const char *backend = it_backend(_i);
	int port;

	if (!backend)
		return;
	refusal_server(backend, &port);
	for (int k = 0; k < NREFUSALS; k++) {
		const struct refusal *rf = &refusals[k];

		expect_refusal(port, rf->name, rf->req, rf->len ? rf->len : strlen(rf->req),
			       rf->status);
	}
}
END_TEST

/* The limits are limits: exactly at them is served. */
START_TEST(refusals_limits)
{
	const char *backend = it_backend(_i);
	char req[4096], *p;
	struct it_conn *c;
	struct it_response r;
	size_t n;
	int port;

	if (!backend)
		return;
	refusal_server(backend, &port);

	/* A complete head of ~1.5 KB against max_header_bytes 1024. */
	n = (size_t)snprintf(req, sizeof(req), "GET /.healthz HTTP/1.1\r\nHost: a\r\nX-Big: ");
	memset(req + n, 'b', 1500);
	strcpy(req + n + 1500, "\r\n\r\n");
	expect_refusal(port, "head over max_header_bytes", req, strlen(req), 431);

	/* A head that never ends: refused once over the limit, not at header_ms. */
	req[n + 3000] = '\0';
	memset(req + n, 'b', 3000);
	expect_refusal(port, "endless head over max_header_bytes", req, strlen(req), 431);

	/* 100 small fields in under 1024 bytes: refused for their count. */
	p = req + sprintf(req, "GET /.healthz HTTP/1.1\r\nHost: a\r\n");
	for (int k = 0; k < 100; k++)
		p += sprintf(p, "X-%d: 1\r\n", k);
	strcpy(p, "\r\n");
	expect_refusal(port, "100 fields", req, strlen(req), 431);

	/* Positive controls: 8 fields (Host + 7), a head just under 1024 bytes, CL == max. */
	c = it_conn_new(port);
	roundtrip(c, "GET /.healthz HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 1\r\nC: 1\r\nD: 1\r\n"
		  "E: 1\r\nF: 1\r\nG: 1\r\n\r\n", 200, &r, "max_header_count fields");
	n = (size_t)snprintf(req, sizeof(req), "GET /.healthz HTTP/1.1\r\nHost: a\r\nX-Big: ");
	memset(req + n, 'b', 900);
	strcpy(req + n + 900, "\r\n\r\n");
	IT_ASSERT(strlen(req) < LIM_HEADER_BYTES, "control head too long");
	roundtrip(c, req, 200, &r, "head under max_header_bytes");
	n = (size_t)snprintf(req, sizeof(req), "POST /nope HTTP/1.1\r\nHost: a\r\n"
			     "Content-Length: %d\r\n\r\n", LIM_BODY);
	memset(req + n, 'x', LIM_BODY);
	req[n + LIM_BODY] = '\0';
	roundtrip(c, req, 404, &r, "Content-Length == max_body_bytes");
	roundtrip(c, "GET /.healthz HTTP/1.1\r\nHost: a\r\n\r\n", 200, &r, "after the controls");
	it_conn_free(c);
}
END_TEST

/* 413 for a Content-Length over the limit comes before any of the body. */
START_TEST(refusal_413_does_not_wait)
{
	const char *backend = it_backend(_i);
	struct it_conn *c;
	struct it_response r;
	int64_t t0;
	int port;

	if (!backend)
		return;
	/* body_ms and header_ms far beyond T_IO: only an early answer passes. */
	start(backend, "", "\"header_ms\": 20000, \"body_ms\": 20000", LIMITS_SMALL, &port);
	c = it_conn_new(port);
	t0 = it_now_ms();
	send_str(c, "POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 1048576\r\n\r\n", "413");
	read_final(c, &r, "CL 1 MiB over max 1 KiB");
	IT_ASSERT(r.status == 413, "status %d, want 413\n%s", r.status, r.head);
	IT_ASSERT(r.conn_close, "413 without Connection: close");
	expect_close(c, T_IO, "after 413");
	IT_ASSERT(it_now_ms() - t0 < T_IO, "413 took %lld ms", (long long)(it_now_ms() - t0));
	it_conn_free(c);
}
END_TEST

/* allowed_hosts: 421 for other names, probes for any name; 405 and OPTIONS *. */
START_TEST(hosts_and_methods)
{
	const char *backend = it_backend(_i);
	struct it_conn *c;
	struct it_response r;
	char allow[128];
	int port;

	if (!backend)
		return;
	refusal_server(backend, &port);
	expect_refusal(port, "Host not allowed", "GET /nope HTTP/1.1\r\nHost: evil.example\r\n\r\n",
		       strlen("GET /nope HTTP/1.1\r\nHost: evil.example\r\n\r\n"), 421);
	expect_refusal(port, "Host not allowed, with port",
		       "GET / HTTP/1.1\r\nHost: evil.example:80\r\n\r\n",
		       strlen("GET / HTTP/1.1\r\nHost: evil.example:80\r\n\r\n"), 421);
	expect_refusal(port, "absolute-form authority not allowed",
		       "GET http://evil.example/x HTTP/1.1\r\nHost: a\r\n\r\n",
		       strlen("GET http://evil.example/x HTTP/1.1\r\nHost: a\r\n\r\n"), 421);

	c = it_conn_new(port);
	roundtrip(c, "GET /.healthz HTTP/1.1\r\nHost: evil.example\r\n\r\n", 200, &r,
		  "probe with another Host");
	IT_ASSERT(!r.conn_close, "probe with another Host closes the connection");
	roundtrip(c, "GET /.ready HTTP/1.1\r\nHost: evil.example\r\n\r\n", 200, &r,
		  "ready probe with another Host");
	roundtrip(c, "GET /nope HTTP/1.1\r\nHost: A:8080\r\n\r\n", 404, &r,
		  "allowed host, other case, with port");

	/* 405 names what is allowed; nothing about it needs the connection closed. */
	roundtrip(c, "POST /.healthz HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", 405, &r,
		  "POST /.healthz");
	IT_ASSERT(hdr(&r, "Allow", allow, sizeof(allow)), "405 without Allow\n%s", r.head);
	IT_ASSERT(strstr(allow, "GET") && strstr(allow, "HEAD") && !strstr(allow, "POST"),
		  "405 Allow: %s", allow);
	roundtrip(c, "DELETE /.ready HTTP/1.1\r\nHost: a\r\n\r\n", 405, &r, "DELETE /.ready");
	IT_ASSERT(hdr(&r, "Allow", allow, sizeof(allow)), "405 without Allow\n%s", r.head);

	roundtrip(c, "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", 204, &r, "OPTIONS *");
	IT_ASSERT(hdr(&r, "Allow", allow, sizeof(allow)), "OPTIONS * without Allow\n%s", r.head);
	IT_ASSERT(strstr(allow, "GET") && strstr(allow, "OPTIONS"), "OPTIONS * Allow: %s", allow);
	IT_ASSERT(!hdr(&r, "Content-Length", allow, sizeof(allow)),
		  "204 with Content-Length (RFC 9110 8.6)\n%s", r.head);
	roundtrip(c, "GET /.healthz HTTP/1.1\r\nHost: a\r\n\r\n", 200, &r, "after 405 and 204");
	it_conn_free(c);
}
END_TEST

/* CL + TE with a smuggled request behind: one 400, then EOF, never the GET. */
START_TEST(smuggling)
{
	static const char *const attempts[] = {
		"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n"
		"\r\n0\r\n\r\nGET /.healthz HTTP/1.1\r\nHost: a\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n"
		"\r\n0\r\n\r\nGET /.healthz HTTP/1.1\r\nHost: a\r\n\r\n",
		/* A CL that would cover the smuggled request exactly. */
		"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 35\r\n"
		"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /.healthz HTTP/1.1\r\nHost: a\r\n\r\n",
	};
	const char *backend = it_backend(_i);
	int port;

	if (!backend)
		return;
	start(backend, "", "\"header_ms\": 10000", "", &port);
	for (size_t k = 0; k < sizeof(attempts) / sizeof(attempts[0]); k++) {
		struct it_conn *c = it_conn_new(port);
		struct it_response r;
		char what[64];

		snprintf(what, sizeof(what), "smuggling attempt %zu", k);
		send_str(c, attempts[k], what);
		read_final(c, &r, what);
		IT_ASSERT(r.status == 400, "%s: status %d, want 400\n%s", what, r.status, r.head);
		expect_close(c, T_IO, what);
		it_conn_free(c);
	}
}
END_TEST

/*
 * RFC 9112 6.1: an HTTP/1.0 message with Transfer-Encoding has faulty
 * framing; the server closes after processing it, whatever keep-alive says.
 */
START_TEST(http10_transfer_encoding)
{
	const char *backend = it_backend(_i);
	struct it_conn *c;
	int port;

	if (!backend)
		return;
	start(backend, "", "\"header_ms\": 10000, \"body_ms\": 10000", "", &port);
	c = it_conn_new(port);
	send_str(c, "POST /nope HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n"
		 "\r\n0\r\n\r\nGET /.healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
		 "HTTP/1.0 with Transfer-Encoding");
	IT_ASSERT(read_to_close(c, T_IO) && count_str(c->buf, "HTTP/1.1 ") <= 1,
		  "HTTP/1.0 + Transfer-Encoding (RFC 9112 6.1: close after processing it): "
		  "want at most one response and then EOF; got:\n%s", c->buf);
	it_conn_free(c);
}
END_TEST

/* RFC 9110 7.2 / RFC 9112 3.2: a Host field with an invalid value is a 400. */
START_TEST(invalid_host_value)
{
	static const char *const hosts[] = {
		"a b", "a/b", "a@b", "a,b", "[::1", "a:8x", "a\tb",
	};
	const char *backend = it_backend(_i);
	char bad[1024] = "";
	int port;

	if (!backend)
		return;
	start(backend, "", "\"header_ms\": 10000", "", &port);
	for (size_t k = 0; k < sizeof(hosts) / sizeof(hosts[0]); k++) {
		struct it_conn *c = it_conn_new(port);
		struct it_response r;
		char req[256];
		size_t n = strlen(bad);

		snprintf(req, sizeof(req), "GET /nope HTTP/1.1\r\nHost: %s\r\n\r\n", hosts[k]);
		send_str(c, req, "invalid Host");
		read_final(c, &r, "invalid Host");
		if (r.status != 400 || !r.conn_close || !read_to_close(c, T_IO) || c->len)
			snprintf(bad + n, sizeof(bad) - n, "\n  Host: \"%s\" -> %d%s", hosts[k], r.status,
				 r.conn_close ? ", closed" : ", kept open");
		it_conn_free(c);
	}
	IT_ASSERT(bad[0] == '\0', "invalid Host values not refused with 400 and a close:%s", bad);
}
END_TEST

/* A refusal in a pipeline: answered in its turn; what follows it never is. */
START_TEST(pipelined_refusal)
{
	const char *backend = it_backend(_i);
	struct it_conn *c;
	int port;

	if (!backend)
		return;
	start(backend, "", "\"header_ms\": 10000", "", &port);
	c = it_conn_new(port);
	send_str(c, PROBE "GET /nope HTTP/1.1\r\nHost: a\r\n\r\n"
		 "GET / HTTP/1.1\r\nHost: a\r\nX-A : b\r\n\r\n" PROBE, "pipelined refusal");
	expect_status(c, 200, "pipelined 1");
	expect_status(c, 404, "pipelined 2");
	expect_status(c, 400, "pipelined 3 (space before colon)");
	expect_close(c, T_IO, "after the pipelined refusal");
	it_conn_free(c);
}
END_TEST

/* ---- bodies ------------------------------------------------------------- */

START_TEST(bodies_then_pipelined)
{
	const char *backend = it_backend(_i);
	char req[4096], chunk[600];
	struct it_conn *c;
	struct it_response r;
	int port;

	if (!backend)
		return;
	start(backend, "", "\"header_ms\": 10000, \"body_ms\": 10000", LIMITS_SMALL, &port);
	c = it_conn_new(port);

	/* Content-Length body that looks like a request, then a probe, in one write. */
	snprintf(req, sizeof(req), "POST /nope HTTP/1.1\r\nHost: a\r\nContent-Length: %zu\r\n\r\n"
		 FAKE_REQ PROBE, strlen(FAKE_REQ));
	send_str(c, req, "CL body");
	expect_status(c, 404, "CL body: POST");
	expect_status(c, 200, "CL body: pipelined probe (body taken for a request?)");
	expect_quiet(c, "CL body");

	/* Chunked with extensions and trailers, chunk data like a request, then a probe. */
	snprintf(req, sizeof(req), "POST /nope HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
		 "\r\n5;ext=1\r\nhello\r\n%zx;a=\"b c\";d\r\n" FAKE_REQ "\r\n"
		 "0;last\r\nX-Trailer: 1\r\nX-Other: two words\r\n\r\n" PROBE, strlen(FAKE_REQ));
	send_str(c, req, "chunked body");
	expect_status(c, 404, "chunked body: POST");
	expect_status(c, 200, "chunked body: pipelined probe");
	expect_quiet(c, "chunked body");

	/* The same, arriving in pieces after the answer: the body is still skipped. */
	send_str(c, "POST /nope HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
		 "slow chunked head");
	expect_status(c, 404, "slow chunked body: POST answered before its body");
	send_str(c, "1f4\r\n", "slow chunked");
	memset(chunk, 'z', 500);
	send_bytes(c, chunk, 500, "slow chunked");
	it_sleep_ms(20);
	send_str(c, "\r\n1f4;x=y\r\n", "slow chunked");
	send_bytes(c, chunk, 500, "slow chunked");
	it_sleep_ms(20);
	send_str(c, "\r\n0\r\nT: 1\r\n", "slow chunked");
	it_sleep_ms(20);
	send_str(c, "\r\n" PROBE, "slow chunked");
	expect_status(c, 200, "slow chunked body (1000 of max 1024): pipelined probe");

	send_str(c, "PUT /nope HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n", "slow CL");
	expect_status(c, 404, "slow CL body: PUT");
	send_str(c, "01234", "slow CL");
	it_sleep_ms(20);
	send_str(c, "56789" PROBE, "slow CL");
	expect_status(c, 200, "slow CL body: pipelined probe");

	roundtrip(c, PROBE, 200, &r, "connection still usable");
	IT_ASSERT(!r.conn_close, "connection: close after bodies");
	it_conn_free(c);
}
END_TEST

/* Malformed chunk sizes: the connection is closed and the probe behind never answered. */
START_TEST(bad_chunk_sizes)
{
	static const char *const sizes[] = { "1 2", "x", "fffffffffffffffffffff", "-1", "" };
	const char *backend = it_backend(_i);
	char req[1024];
	int port;

	if (!backend)
		return;
	start(backend, "", "\"header_ms\": 10000, \"body_ms\": 10000", LIMITS_SMALL, &port);
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		struct it_conn *c = it_conn_new(port);
		char what[64];

		snprintf(what, sizeof(what), "chunk size \"%s\"", sizes[k]);
		snprintf(req, sizeof(req), "POST /nope HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked"
			 "\r\n\r\n%s\r\nab\r\n0\r\n\r\n" PROBE, sizes[k]);
		send_str(c, req, what);
		IT_ASSERT(read_to_close(c, T_IO), "%s: connection still open after %d ms; got \"%.300s\"",
			  what, T_IO, c->buf);
		IT_ASSERT(count_str(c->buf, "HTTP/1.1 ") <= 1 && !strstr(c->buf, "HTTP/1.1 200"),
			  "%s: the request behind a broken body was answered:\n%s", what, c->buf);
		it_conn_free(c);
	}
}
END_TEST

/* A chunked body over max_body_bytes: closed without the server reading it all. */
START_TEST(chunked_over_max)
{
	const char *backend = it_backend(_i);
	char chunk[512];
	struct it_conn *c;
	int port;

	if (!backend)
		return;
	start(backend, "", "\"header_ms\": 10000, \"body_ms\": 10000", LIMITS_SMALL, &port);
	memset(chunk, 'y', 500);

	/* One chunk of 1 MiB: closed on its size line; its data is never sent. */
	c = it_conn_new(port);
	send_str(c, "POST /nope HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n100000\r\n",
		 "1 MiB chunk");
	IT_ASSERT(read_to_close(c, T_IO), "1 MiB chunk (max 1 KiB): still open after %d ms", T_IO);
	IT_ASSERT(!strstr(c->buf, "HTTP/1.1 2"), "1 MiB chunk: %s", c->buf);
	it_conn_free(c);

	/* 500 + 500 are fine, the third 500 is over 1024: closed before its data. */
	c = it_conn_new(port);
	send_str(c, "POST /nope HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1f4\r\n",
		 "3 x 500");
	send_bytes(c, chunk, 500, "3 x 500");
	send_str(c, "\r\n1f4\r\n", "3 x 500");
	send_bytes(c, chunk, 500, "3 x 500");
	send_str(c, "\r\n1f4\r\n", "3 x 500");
	IT_ASSERT(read_to_close(c, T_IO), "3 x 500 (max 1024): still open after %d ms", T_IO);
	IT_ASSERT(!strstr(c->buf, "HTTP/1.1 2"), "3 x 500: %s", c->buf);
	it_conn_free(c);

	/* Many small chunks add up too. */
	c = it_conn_new(port);
	send_str(c, "POST /nope HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", "small");
	for (int k = 0; k < 200; k++)
		if (send(c->fd, "8\r\n12345678\r\n", 13, MSG_NOSIGNAL) != 13)
			break;   /* already closed: fine */
	IT_ASSERT(read_to_close(c, T_IO), "200 x 8 bytes (max 1024): still open after %d ms", T_IO);
	IT_ASSERT(!strstr(c->buf, "HTTP/1.1 2"), "200 x 8: %s", c->buf);
	it_conn_free(c);
}
END_TEST

/* Expect: 100-continue and a handler that does not read: a final answer, then close. */
START_TEST(expect_continue)
{
	static const char *const reqs[] = {
		"POST /.healthz HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 100\r\n\r\n",
		"POST /nope HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n",
		"POST /nope HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n",
	};
	static const int want[] = { 405, 404, 404 };
	const char *backend = it_backend(_i);
	int port;

	if (!backend)
		return;
	start(backend, "", "\"header_ms\": 10000, \"body_ms\": 10000", "", &port);
	for (size_t k = 0; k < sizeof(reqs) / sizeof(reqs[0]); k++) {
		struct it_conn *c = it_conn_new(port);
		struct it_response r;
		char what[64];

		snprintf(what, sizeof(what), "Expect: 100-continue request %zu", k);
		send_str(c, reqs[k], what);
		read_final(c, &r, what);
		IT_ASSERT(r.status == want[k], "%s: status %d, want %d\n%s", what, r.status, want[k],
			  r.head);
		IT_ASSERT(r.conn_close, "%s: no Connection: close\n%s", what, r.head);
		expect_close(c, T_IO, what);
		it_conn_free(c);
	}
}
END_TEST

/* ---- keep-alive, pipelining, HEAD --------------------------------------- */

START_TEST(keep_alive_rules)
{
	const char *backend = it_backend(_i);
	struct it_conn *c;
	struct it_response r;
	char val[64];
	int port;

	if (!backend)
		return;
	start(backend, "", "\"header_ms\": 10000", "", &port);

	c = it_conn_new(port);
	roundtrip(c, "GET /.healthz HTTP/1.0\r\n\r\n", 200, &r, "HTTP/1.0");
	IT_ASSERT(!(hdr(&r, "Connection", val, sizeof(val)) && strcasecmp(val, "keep-alive") == 0),
		  "HTTP/1.0 without keep-alive answered keep-alive\n%s", r.head);
	expect_close(c, T_IO, "HTTP/1.0 without keep-alive");
	it_conn_free(c);

	c = it_conn_new(port);
	roundtrip(c, "GET /.healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 200, &r,
		  "HTTP/1.0 keep-alive");
	IT_ASSERT(hdr(&r, "Connection", val, sizeof(val)) && strcasecmp(val, "keep-alive") == 0,
		  "HTTP/1.0 keep-alive: no \"Connection: keep-alive\"\n%s", r.head);
	expect_quiet(c, "HTTP/1.0 keep-alive");
	roundtrip(c, "GET /nope HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", 404, &r,
		  "second HTTP/1.0 keep-alive");
	IT_ASSERT(hdr(&r, "Connection", val, sizeof(val)) && strcasecmp(val, "keep-alive") == 0,
		  "second HTTP/1.0 keep-alive: no \"Connection: keep-alive\"\n%s", r.head);
	roundtrip(c, "GET /.healthz HTTP/1.0\r\n\r\n", 200, &r, "HTTP/1.0 ending keep-alive");
	expect_close(c, T_IO, "HTTP/1.0 after a keep-alive one");
	it_conn_free(c);

	c = it_conn_new(port);
	roundtrip(c, "GET /.healthz HTTP/1.1\r\nHost: a\r\n\r\n", 200, &r, "HTTP/1.1");
	IT_ASSERT(!r.conn_close, "HTTP/1.1 default: Connection: close");
	roundtrip(c, "GET /.healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", 200, &r,
		  "HTTP/1.1 Connection: close");
	IT_ASSERT(r.conn_close, "HTTP/1.1 Connection: close not echoed\n%s", r.head);
	expect_close(c, T_IO, "HTTP/1.1 Connection: close");
	it_conn_free(c);

	/* Pipelined behind a Connection: close: never answered. */
	c = it_conn_new(port);
	send_str(c, "GET /.healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n" PROBE,
		 "pipelined after close");
	expect_status(c, 200, "pipelined after close");
	expect_close(c, T_IO, "request behind Connection: close");
	it_conn_free(c);
}
END_TEST

START_TEST(leading_crlf)
{
	const char *backend = it_backend(_i);
	struct it_conn *c;
	struct it_response r;
	int port;

	if (!backend)
		return;
	start(backend, "", "\"header_ms\": 10000", "", &port);
	c = it_conn_new(port);
	roundtrip(c, "\r\n\r\nGET /.healthz HTTP/1.1\r\nHost: a\r\n\r\n", 200, &r,
		  "two CRLFs before the first request");
	roundtrip(c, "\r\nGET /nope HTTP/1.1\r\nHost: a\r\n\r\n", 404, &r,
		  "a CRLF before a keep-alive request");
	/* The extra CRLF some clients put after a POST body. */
	send_str(c, "POST /nope HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nab\r\n" PROBE,
		 "CRLF after a body");
	expect_status(c, 404, "POST before CRLF");
	expect_status(c, 200, "probe after a body and a CRLF");
	expect_quiet(c, "after leading CRLFs");
	/* The CRLF split over two segments, the CR seen alone first. */
	send_str(c, "\r", "CR alone");
	it_sleep_ms(50);
	roundtrip(c, "\nGET /.healthz HTTP/1.1\r\nHost: a\r\n\r\n", 200, &r,
		  "a CRLF split as CR, then LF + request");
	it_conn_free(c);
	/* The same at the very start of a connection. */
	c = it_conn_new(port);
	send_str(c, "\r", "CR alone at the start");
	it_sleep_ms(50);
	roundtrip(c, "\nGET /.healthz HTTP/1.1\r\nHost: a\r\n\r\n", 200, &r,
		  "first CRLF split as CR, then LF + request");
	it_conn_free(c);
}
END_TEST

START_TEST(pipelining_ten)
{
	const char *backend = it_backend(_i);
	char req[2048], *p = req, ids[10][64];
	struct it_conn *c;
	struct it_response r;
	int port;

	if (!backend)
		return;
	start(backend, "", "\"header_ms\": 10000", "", &port);
	for (int k = 0; k < 10; k++)
		p += k % 3 == 0 ? sprintf(p, "GET /.healthz HTTP/1.1\r\nHost: a\r\n\r\n")
				: sprintf(p, "GET /nope/%d HTTP/1.1\r\nHost: a\r\n\r\n", k);
	c = it_conn_new(port);
	send_str(c, req, "10 pipelined");
	for (int k = 0; k < 10; k++) {
		char what[64];
		int want = k % 3 == 0 ? 200 : 404;

		snprintf(what, sizeof(what), "pipelined response %d", k);
		read_final(c, &r, what);
		IT_ASSERT(r.status == want, "%s: status %d, want %d (out of order?)\n%s", what,
			  r.status, want, r.head);
		IT_ASSERT(hdr(&r, "X-Request-Id", ids[k], sizeof(ids[k])),
			  "%s: no X-Request-Id\n%s", what, r.head);
		for (int j = 0; j < k; j++)
			IT_ASSERT(strcmp(ids[j], ids[k]) != 0, "responses %d and %d share X-Request-Id %s",
				  j, k, ids[k]);
	}
	expect_quiet(c, "after 10 pipelined");
	roundtrip(c, PROBE, 200, &r, "11th request");
	it_conn_free(c);
}
END_TEST

START_TEST(head_has_no_body)
{
	const char *backend = it_backend(_i);
	struct it_conn *c;
	struct it_response r;
	long get_len;
	int port;

	if (!backend)
		return;
	start(backend, "", "\"header_ms\": 10000", "", &port);
	c = it_conn_new(port);
	roundtrip(c, "GET /nope HTTP/1.1\r\nHost: a\r\n\r\n", 404, &r, "GET of a 404");
	get_len = r.content_length;
	IT_ASSERT(get_len > 0 && (long)r.body_len == get_len, "GET 404: CL %ld, body %zu", get_len,
		  r.body_len);

	send_str(c, "HEAD /.healthz HTTP/1.1\r\nHost: a\r\n\r\n"
		 "HEAD /nope HTTP/1.1\r\nHost: a\r\n\r\n" PROBE, "HEAD");
	read_head_only(c, &r, "HEAD /.healthz");
	IT_ASSERT(r.status == 200 && r.content_length == 0,
		  "HEAD /.healthz: status %d, Content-Length %ld\n%s", r.status, r.content_length,
		  r.head);
	read_head_only(c, &r, "HEAD of a 404 (after HEAD /.healthz)");
	IT_ASSERT(r.status == 404, "HEAD /nope: status %d\n%s", r.status, r.head);
	IT_ASSERT(r.content_length == get_len, "HEAD /nope: Content-Length %ld, GET said %ld\n%s",
		  r.content_length, get_len, r.head);
	read_head_only(c, &r, "probe after HEAD of a 404 (a body was sent?)");
	IT_ASSERT(r.status == 200, "probe after HEAD: status %d", r.status);
	expect_quiet(c, "after HEADs");
	it_conn_free(c);
}
END_TEST

/* ---- response headers ------------------------------------------------- */

/* IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT", and within 5 s of now. */
static void check_date(const char *v, const char *what)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
					      "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm = { 0 };
	char again[64];
	time_t t, now = time(NULL);
	int mon = -1;

	IT_ASSERT(strlen(v) == 29, "%s: Date \"%s\" is not 29 characters", what, v);
	for (int k = 0; k < 12; k++)
		if (strncmp(v + 8, months[k], 3) == 0)
			mon = k;
	IT_ASSERT(mon >= 0 && sscanf(v + 5, "%2d", &tm.tm_mday) == 1 &&
		  sscanf(v + 12, "%4d", &tm.tm_year) == 1 &&
		  sscanf(v + 17, "%2d:%2d:%2d", &tm.tm_hour, &tm.tm_min, &tm.tm_sec) == 3,
		  "%s: Date \"%s\" is not IMF-fixdate", what, v);
	tm.tm_mon = mon;
	tm.tm_year -= 1900;
	t = timegm(&tm);
	gmtime_r(&t, &tm);
	snprintf(again, sizeof(again), "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday],
		 tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
		 tm.tm_sec);
	IT_ASSERT(strcmp(again, v) == 0, "%s: Date \"%s\" is not IMF-fixdate (want \"%s\")", what,
		  v, again);
	IT_ASSERT(t >= now - 5 && t <= now + 5, "%s: Date \"%s\" is %lld s off", what, v,
		  (long long)(t - now));
}

static void check_common_headers(const struct it_response *r, bool want_server, const char *what)
{
	char val[128];

	IT_ASSERT(count_hdr(r, "Date") == 1 && hdr(r, "Date", val, sizeof(val)),
		  "%s: want one Date header\n%s", what, r->head);
	check_date(val, what);
	if (want_server) {
		IT_ASSERT(count_hdr(r, "Server") == 1 && hdr(r, "Server", val, sizeof(val)) &&
			  strcmp(val, "swerver") == 0, "%s: want \"Server: swerver\"\n%s", what,
			  r->head);
	} else {
		IT_ASSERT(count_hdr(r, "Server") == 0, "%s: Server header with server_header false\n%s",
			  what, r->head);
	}
	IT_ASSERT(count_hdr(r, "X-Request-Id") == 1 && hdr(r, "X-Request-Id", val, sizeof(val)),
		  "%s: want one X-Request-Id\n%s", what, r->head);
	IT_ASSERT(strlen(val) == 16 && strspn(val, "0123456789abcdefABCDEF") == 16,
		  "%s: X-Request-Id \"%s\" is not 16 hex digits", what, val);
}

static void check_headers_on(int port, bool want_server)
{
	struct it_conn *c = it_conn_new(port);
	struct it_response r;

	roundtrip(c, PROBE, 200, &r, "probe");
	check_common_headers(&r, want_server, "200");
	roundtrip(c, "GET /nope HTTP/1.1\r\nHost: a\r\n\r\n", 404, &r, "404");
	check_common_headers(&r, want_server, "404");
	roundtrip(c, "GET / HTTP/1.1\r\n\r\n", 400, &r, "400");
	check_common_headers(&r, want_server, "400");
	it_conn_free(c);
}

START_TEST(response_headers)
{
	const char *backend = it_backend(_i);
	int port;

	if (!backend)
		return;
	start(backend, "", "", "", &port);
	check_headers_on(port, true);
}
END_TEST

START_TEST(response_headers_no_server)
{
	const char *backend = it_backend(_i);
	int port;

	if (!backend)
		return;
	start(backend, "\"server_header\": false", "", "", &port);
	check_headers_on(port, false);
}
END_TEST

/* ---- timeouts ----------------------------------------------------------- */

/* Waits for a close and returns after how many ms; fails on bytes or timeout. */
static int64_t time_to_close(struct it_conn *c, int timeout_ms, const char *what)
{
	int64_t t0 = it_now_ms();

	expect_close(c, timeout_ms, what);
	return it_now_ms() - t0;
}

START_TEST(timeout_header)
{
	const char *backend = it_backend(_i);
	struct it_conn *c;
	struct it_response r;
	int64_t t0, ms;
	int port;

	if (!backend)
		return;
	start(backend, "", "\"header_ms\": 300, \"idle_ms\": 20000", "", &port);

	/* Half a request line, then nothing: 408 and EOF. */
	c = it_conn_new(port);
	t0 = it_now_ms();
	send_str(c, "GET /.hea", "half a request line");
	read_final(c, &r, "half a request line");
	ms = it_now_ms() - t0;
	IT_ASSERT(r.status == 408, "half a request line: status %d, want 408\n%s", r.status, r.head);
	IT_ASSERT(r.conn_close, "408 without Connection: close\n%s", r.head);
	IT_ASSERT(ms >= 250, "408 after %lld ms, header_ms is 300", (long long)ms);
	expect_close(c, T_IO, "after 408");
	it_conn_free(c);

	/* A head trickled a field every 100 ms is cut at header_ms all the same. */
	c = it_conn_new(port);
	t0 = it_now_ms();
	send_str(c, "GET /.healthz HTTP/1.1\r\n", "trickle");
	for (int k = 0; k < 30 && c->len == 0; k++) {
		struct pollfd pfd = { .fd = c->fd, .events = POLLIN };

		if (send(c->fd, "X-A: 1\r\n", 8, MSG_NOSIGNAL) != 8 || poll(&pfd, 1, 100) != 0)
			break;
	}
	read_final(c, &r, "trickled head");
	ms = it_now_ms() - t0;
	IT_ASSERT(r.status == 408, "trickled head: status %d, want 408\n%s", r.status, r.head);
	IT_ASSERT(ms < 2000, "trickled head answered after %lld ms; header_ms is 300",
		  (long long)ms);
	IT_ASSERT(read_to_close(c, T_IO), "trickled head: not closed after 408");
	it_conn_free(c);
}
END_TEST

START_TEST(timeout_idle)
{
	const char *backend = it_backend(_i);
	struct it_conn *c;
	struct it_response r;
	int64_t ms;
	int port;

	if (!backend)
		return;
	start(backend, "", "\"idle_ms\": 300, \"header_ms\": 20000, \"body_ms\": 20000", "", &port);
	c = it_conn_new(port);
	roundtrip(c, PROBE, 200, &r, "before idling");
	ms = time_to_close(c, T_IO, "idle keep-alive connection");
	IT_ASSERT(ms >= 250, "idle connection closed after %lld ms; idle_ms is 300", (long long)ms);
	it_conn_free(c);
}
END_TEST

START_TEST(timeout_body)
{
	const char *backend = it_backend(_i);
	struct it_conn *c;
	struct it_response r;
	int64_t ms;
	int port;

	if (!backend)
		return;
	start(backend, "", "\"body_ms\": 300, \"idle_ms\": 20000, \"header_ms\": 20000", "", &port);

	c = it_conn_new(port);
	roundtrip(c, "GET /.healthz HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n", 200, &r,
		  "promised body, none sent");
	ms = time_to_close(c, T_IO, "promised body never sent");
	IT_ASSERT(ms >= 250, "closed after %lld ms; body_ms is 300", (long long)ms);
	it_conn_free(c);

	c = it_conn_new(port);
	roundtrip(c, "POST /nope HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n012", 404, &r,
		  "3 of 10 body bytes");
	ms = time_to_close(c, T_IO, "3 of 10 body bytes, then nothing");
	IT_ASSERT(ms >= 250, "closed after %lld ms; body_ms is 300", (long long)ms);
	it_conn_free(c);

	c = it_conn_new(port);
	roundtrip(c, "POST /nope HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
		  404, &r, "unfinished chunked body");
	ms = time_to_close(c, T_IO, "unfinished chunked body, then nothing");
	IT_ASSERT(ms >= 250, "closed after %lld ms; body_ms is 300", (long long)ms);
	it_conn_free(c);
}
END_TEST

/* Connects with a small receive buffer (set before connect, so the window stays small). */
static int connect_small_rcvbuf(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), small = 4096;

	IT_ASSERT(fd >= 0, "socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	IT_ASSERT(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0, "connect: %s",
		  strerror(errno));
	return fd;
}

START_TEST(timeout_write)
{
	static const char one[] = "GET /nope/write-timeout-test HTTP/1.1\r\nHost: a\r\n\r\n";
	const size_t one_len = sizeof(one) - 1, count = 20000;
	const char *backend = it_backend(_i);
	struct it_conn *c = malloc(sizeof(*c));
	size_t total = one_len * count, sent = 0, answered;
	char *reqs = malloc(total);
	int64_t last_progress, deadline;
	struct pollfd pfd;
	bool closed;
	int port;

	if (!backend)
		return;
	ck_assert_ptr_nonnull(c);
	ck_assert_ptr_nonnull(reqs);
	/* header_ms and idle_ms long: only write_ms can end this connection. */
	start(backend, "", "\"write_ms\": 300, \"header_ms\": 20000, \"idle_ms\": 20000", "", &port);
	for (size_t k = 0; k < count; k++)
		memcpy(reqs + k * one_len, one, one_len);
	c->fd = connect_small_rcvbuf(port);
	c->len = 0;
	fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);

	/* Send until the server stops taking requests (it is stuck writing) for 300 ms. */
	last_progress = it_now_ms();
	while (sent < total && it_now_ms() - last_progress < 300) {
		ssize_t n = send(c->fd, reqs + sent, total - sent, MSG_NOSIGNAL);

		if (n > 0) {
			sent += (size_t)n;
			last_progress = it_now_ms();
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			break;   /* already cut */
		pfd = (struct pollfd){ .fd = c->fd, .events = POLLOUT };
		poll(&pfd, 1, 50);
	}
	/* (All of them may fit in the two kernels' buffers; what matters is the reading below.) */

	/* The cut shows as a reset (unread requests) or a FIN behind the data. */
	pfd = (struct pollfd){ .fd = c->fd, .events = POLLRDHUP };
	deadline = it_now_ms() + 2000;
	while (it_now_ms() < deadline && poll(&pfd, 1, 50) == 0)
		;
	fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) & ~O_NONBLOCK);

	/* Now read: a server that was not cut answers everything, then idles (20 s). */
	answered = 0;
	deadline = it_now_ms() + 4000;
	closed = false;
	for (;;) {
		int n = fill(c, deadline);
		char *at;

		while ((at = strstr(c->buf, "\r\n\r\n")) != NULL) {
			size_t used = (size_t)(at - c->buf) + 4;
			char *cl = strstr(c->buf, "Content-Length: ");
			size_t body = cl && cl < at ? (size_t)atol(cl + 16) : 0;

			if (c->len < used + body)
				break;
			answered++;
			memmove(c->buf, c->buf + used + body, c->len - used - body + 1);
			c->len -= used + body;
		}
		if (n <= 0) {
			closed = n == 0 || n == -ECONNRESET;
			break;
		}
	}
	IT_ASSERT(closed, "a client that does not read was not cut after write_ms (300 ms): "
		  "%zu of %zu sent requests answered, then %s", answered, sent / one_len,
		  "the read timed out");
	IT_ASSERT(answered < sent / one_len, "all %zu requests answered, none cut", answered);
	close(c->fd);
	free(c);
	free(reqs);
}
END_TEST

/* ---- max_connections ---------------------------------------------------- */

/* utime + stime of pid in clock ticks, -1 if unreadable. */
static long cpu_ticks(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut, st;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	/* After ")": state(3) ... utime(14) stime(15). */
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return -1;
	return (long)(ut + st);
}

/*
 * max_connections 4 held by connections that are not idle (a head begun),
 * the 8 reserve places past it too: further connections wait in the
 * kernel, and the worker waits with them, not spinning.  Once the held
 * ones are answered, the 4 regular ones are idle and each is closed in
 * turn to let a waiting one in.
 */
START_TEST(max_connections)
{
	const char *backend = it_backend(_i);
	struct it_conn *c[18];
	struct it_proc *p;
	pid_t worker, kids[4];
	long t0, t1;
	int port;

	if (!backend)
		return;
	p = start(backend, "\"max_connections\": 4", "\"header_ms\": 20000, \"idle_ms\": 20000", "",
		  &port);
	worker = it_children(p->pid, kids, 4) > 0 ? kids[0] : p->pid;
	/* The ready probes' connections must be gone before counting. */
	it_sleep_ms(50);
	for (int k = 0; k < 18; k++)
		c[k] = it_conn_new(port);
	for (int k = 0; k < 12; k++)
		send_str(c[k], "GET /.healthz HTTP/1.1\r\n", "a begun head");
	for (int k = 12; k < 18; k++)
		send_str(c[k], PROBE, "queued connection");

	/* 6 connections wait in the kernel; the worker must wait too, not spin. */
	t0 = cpu_ticks(worker);
	it_sleep_ms(1000);
	t1 = cpu_ticks(worker);
	IT_ASSERT(t0 >= 0 && t1 >= 0, "cannot read /proc/%d/stat", (int)worker);
	IT_ASSERT(t1 - t0 < 30, "worker used %ld clock ticks in 1 s with 6 connections queued "
		  "(spinning?)", t1 - t0);
	for (int k = 12; k < 18; k++) {
		struct pollfd pfd = { .fd = c[k]->fd, .events = POLLIN };

		IT_ASSERT(poll(&pfd, 1, 0) == 0, "connection %d answered beyond max_connections 4 "
			  "and the 8 reserve places", k);
	}
	for (int k = 0; k < 12; k++) {
		send_str(c[k], "Host: a\r\n\r\n", "the rest of the head");
		expect_status(c[k], 200, "a held connection");
	}
	for (int k = 12; k < 18; k++)
		expect_status(c[k], 200, "queued connection let in");
	for (int k = 0; k < 18; k++)
		it_conn_free(c[k]);
	IT_ASSERT(it_http_get("127.0.0.1", port, "/.healthz", T_IO) == 200, "fresh connection");
}
END_TEST

/* ---- curl as an independent client ------------------------------------- */

/* Runs curl with args on two URLs; stdout ("CODE CONNECTS" per URL) and stderr. */
static void run_curl(int port, const char *args, char **out, char **err)
{
	char cmd[4096], o[IT_PATH_MAX], e[IT_PATH_MAX];
	int rc;

	it_path(o, "curl.out");
	it_path(e, "curl.err");
	snprintf(cmd, sizeof(cmd),
		 "curl -sv --max-time 5 %s -o /dev/null -o /dev/null "
		 "-w '%%{http_code} %%{num_connects}\\n' "
		 "http://127.0.0.1:%d/.healthz http://127.0.0.1:%d/.ready >%s 2>%s",
		 args, port, port, o, e);
	rc = system(cmd);
	*out = it_read_file(o);
	*err = it_read_file(e);
	IT_ASSERT(rc == 0, "%s: exit %d\n%s", cmd, rc, *err);
}

START_TEST(curl_keep_alive)
{
	const char *backend = it_backend(_i);
	char *out, *err;
	int port;

	if (!backend)
		return;
	IT_ASSERT(system("command -v curl >/dev/null 2>&1") == 0, "curl is not installed");
	start(backend, "", "", "", &port);

	run_curl(port, "", &out, &err);
	IT_ASSERT(strcmp(out, "200 1\n200 0\n") == 0 && strstr(err, "Re-using existing"),
		  "curl HTTP/1.1: want one connection reused; stdout:\n%s\nstderr:\n%s", out, err);
	free(out), free(err);

	run_curl(port, "--http1.0 -H 'Connection: keep-alive'", &out, &err);
	IT_ASSERT(strcmp(out, "200 1\n200 0\n") == 0 && strstr(err, "Re-using existing"),
		  "curl HTTP/1.0 keep-alive: want one connection reused; stdout:\n%s\nstderr:\n%s",
		  out, err);
	IT_ASSERT(strcasestr(err, "< Connection: keep-alive"), "curl HTTP/1.0: no keep-alive:\n%s",
		  err);
	free(out), free(err);

	run_curl(port, "--http1.0", &out, &err);
	IT_ASSERT(strcmp(out, "200 1\n200 1\n") == 0 && !strstr(err, "Re-using existing"),
		  "curl HTTP/1.0: want two connections; stdout:\n%s\nstderr:\n%s", out, err);
	free(out), free(err);

	run_curl(port, "-H 'Connection: close'", &out, &err);
	IT_ASSERT(strcmp(out, "200 1\n200 1\n") == 0 && !strstr(err, "Re-using existing"),
		  "curl Connection: close: want two connections; stdout:\n%s\nstderr:\n%s", out, err);
	IT_ASSERT(strcasestr(err, "< Connection: close"), "curl: no Connection: close:\n%s", err);
	free(out), free(err);
}
END_TEST

static Suite *http1_suite(void)
{
	Suite *s = suite_create("http1");
	TCase *tc = it_tcase("http1");

	tcase_add_loop_test(tc, refusals_table, 0, 2);
	tcase_add_loop_test(tc, refusals_limits, 0, 2);
	tcase_add_loop_test(tc, refusal_413_does_not_wait, 0, 2);
	tcase_add_loop_test(tc, hosts_and_methods, 0, 2);
	tcase_add_loop_test(tc, smuggling, 0, 2);
	tcase_add_loop_test(tc, http10_transfer_encoding, 0, 2);
	tcase_add_loop_test(tc, invalid_host_value, 0, 2);
	tcase_add_loop_test(tc, pipelined_refusal, 0, 2);
	tcase_add_loop_test(tc, bodies_then_pipelined, 0, 2);
	tcase_add_loop_test(tc, bad_chunk_sizes, 0, 2);
	tcase_add_loop_test(tc, chunked_over_max, 0, 2);
	tcase_add_loop_test(tc, expect_continue, 0, 2);
	tcase_add_loop_test(tc, keep_alive_rules, 0, 2);
	tcase_add_loop_test(tc, leading_crlf, 0, 2);
	tcase_add_loop_test(tc, pipelining_ten, 0, 2);
	tcase_add_loop_test(tc, head_has_no_body, 0, 2);
	tcase_add_loop_test(tc, response_headers, 0, 2);
	tcase_add_loop_test(tc, response_headers_no_server, 0, 2);
	tcase_add_loop_test(tc, timeout_header, 0, 2);
	tcase_add_loop_test(tc, timeout_idle, 0, 2);
	tcase_add_loop_test(tc, timeout_body, 0, 2);
	tcase_add_loop_test(tc, timeout_write, 0, 2);
	tcase_add_loop_test(tc, max_connections, 0, 2);
	tcase_add_loop_test(tc, curl_keep_alive, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

IT_SUITE(http1_suite);
