/* SPDX-License-Identifier: MIT */
/* hclient.c - a raw HTTP/1.1 client that keeps whole bodies (hclient.h). */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include "harness.h"
#include "hclient.h"
#include "headers.h"

void hres_free(struct hres *r)
{
	free(r->body);
	r->body = NULL;
	r->body_len = r->body_cap = 0;
}

static void body_add(struct hres *r, const char *p, size_t n)
{
	if (r->body_len + n + 1 > r->body_cap) {
		r->body_cap = (r->body_len + n + 1) * 2;
		r->body = realloc(r->body, r->body_cap);
		ck_assert_ptr_nonnull(r->body);
	}
	memcpy(r->body + r->body_len, p, n);
	r->body_len += n;
	r->body[r->body_len] = '\0';
}

struct hconn *hc_new(int port)
{
	struct hconn *c = calloc(1, sizeof(*c));
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };

	ck_assert_ptr_nonnull(c);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	IT_ASSERT(c->fd >= 0 && connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0,
		  "connect 127.0.0.1:%d: %s", port, strerror(errno));
	return c;
}

void hc_free(struct hconn *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}

int hc_send(struct hconn *c, const void *p, size_t n)
{
	size_t off = 0;

	while (off < n) {
		ssize_t k = send(c->fd, (const char *)p + off, n - off, MSG_NOSIGNAL);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		off += (size_t)k;
	}
	return 0;
}

/* More bytes before the deadline: >0 read, 0 EOF, -errno (-ECONNRESET, -ETIMEDOUT). */
int hc_fill(struct hconn *c, int64_t deadline)
{
	for (;;) {
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		int left = (int)(deadline - it_now_ms()), r;
		ssize_t n;

		if (c->len == sizeof(c->buf))
			return -EMSGSIZE;
		if (left <= 0)
			return -ETIMEDOUT;
		r = poll(&p, 1, left);
		if (r == 0)
			return -ETIMEDOUT;
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		c->len += (size_t)n;
		return (int)n;
	}
}

void hc_consume(struct hconn *c, size_t n)
{
	memmove(c->buf, c->buf + n, c->len - n);
	c->len -= n;
}

/* Until n bytes are buffered: 0, or what hc_fill said when it could not (EOF: -ECONNRESET). */
int hc_need(struct hconn *c, size_t n, int64_t deadline)
{
	while (c->len < n) {
		int rc = hc_fill(c, deadline);
		if (rc <= 0)
			return rc == 0 ? -ECONNRESET : rc;
	}
	return 0;
}

/* A line (CRLF-terminated) at the start of the buffer: its length without CRLF. */
static int hc_line(struct hconn *c, size_t *len, int64_t deadline)
{
	char *eol;

	while (!(eol = c->len ? memmem(c->buf, c->len, "\r\n", 2) : NULL)) {
		int rc = hc_fill(c, deadline);
		if (rc <= 0)
			return rc == 0 ? -ECONNRESET : rc;
	}
	*len = (size_t)(eol - c->buf);
	return 0;
}

/* Body of `left` bytes; a connection that ends early marks the response truncated. */
static int read_sized(struct hconn *c, struct hres *r, uint64_t left, int64_t deadline)
{
	while (left) {
		size_t n;

		if (!c->len) {
			int rc = hc_fill(c, deadline);
			if (rc == 0 || rc == -ECONNRESET) {
				r->truncated = true;
				return 0;
			}
			if (rc < 0)
				return rc;
		}
		n = left < c->len ? (size_t)left : c->len;
		body_add(r, c->buf, n);
		hc_consume(c, n);
		left -= n;
	}
	return 0;
}

static int read_chunked(struct hconn *c, struct hres *r, int64_t deadline)
{
	for (;;) {
		uint64_t size;
		size_t ll;
		int rc;

		if ((rc = hc_line(c, &ll, deadline)) != 0)
			goto end;
		size = strtoull(c->buf, NULL, 16);
		hc_consume(c, ll + 2);
		if (size == 0) {
			do {   /* trailers, up to the empty line */
				if ((rc = hc_line(c, &ll, deadline)) != 0)
					goto end;
				hc_consume(c, ll + 2);
			} while (ll);
			return 0;
		}
		if ((rc = read_sized(c, r, size, deadline)) != 0 || r->truncated)
			return rc;
		if ((rc = hc_need(c, 2, deadline)) != 0)
			goto end;
		hc_consume(c, 2);
		continue;
end:
		if (rc != -ECONNRESET)
			return rc;
		r->truncated = true;
		return 0;
	}
}

/* Reads one response; 0 (with r filled), or -errno when no complete head came. */
int hc_read(struct hconn *c, struct hres *r, bool head_req, int timeout_ms)
{
	int64_t deadline = it_now_ms() + timeout_ms;
	char *end, val[128];
	size_t hlen;
	int rc;

	memset(r, 0, sizeof(*r));
	body_add(r, "", 0);
	while (!(end = c->len ? memmem(c->buf, c->len, "\r\n\r\n", 4) : NULL))
		if ((rc = hc_fill(c, deadline)) <= 0)
			return rc == 0 ? -ECONNRESET : rc;
	hlen = (size_t)(end + 4 - c->buf);
	if (sscanf(c->buf, "HTTP/1.%*d %d", &r->status) != 1)
		return -EPROTO;
	snprintf(r->head, sizeof(r->head), "%.*s", (int)hlen, c->buf);
	hc_consume(c, hlen);
	if (head_req || r->status < 200 || r->status == 204 || r->status == 304)
		return 0;
	if (it_header(r->head, "Content-Length", val, sizeof(val)))
		return read_sized(c, r, strtoull(val, NULL, 10), deadline);
	if (it_header(r->head, "Transfer-Encoding", val, sizeof(val)) && strcasecmp(val, "chunked") == 0)
		return read_chunked(c, r, deadline);
	for (;;) {   /* until close */
		if (c->len) {
			body_add(r, c->buf, c->len);
			c->len = 0;
		}
		rc = hc_fill(c, deadline);
		if (rc == 0 || rc == -ECONNRESET)
			return 0;
		if (rc < 0)
			return rc;
	}
}

/*
 * One request on c: Host (NULL: "localhost"), extra header lines (each
 * ending in CRLF), a body (NULL: none).
 */
int hc_req(struct hconn *c, const char *method, const char *target, const char *host,
		  const char *hdrs, const char *body, struct hres *r)
{
	char req[8192];
	int n, rc;

	n = snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: %s\r\n%s", method, target,
		     host ? host : "localhost", hdrs ? hdrs : "");
	if (body)
		n += snprintf(req + n, sizeof(req) - (size_t)n, "Content-Length: %zu\r\n\r\n%s",
			      strlen(body), body);
	else
		n += snprintf(req + n, sizeof(req) - (size_t)n, "\r\n");
	if ((rc = hc_send(c, req, (size_t)n)) != 0) {
		memset(r, 0, sizeof(*r));
		return rc;
	}
	return hc_read(c, r, strcmp(method, "HEAD") == 0, IT_HC_IO_MS);
}

/* The same on a fresh connection. */
int hc_req1(int port, const char *method, const char *target, const char *host,
		const char *hdrs, const char *body, struct hres *r)
{
	struct hconn *c = hc_new(port);
	int rc = hc_req(c, method, target, host, hdrs, body, r);

	hc_free(c);
	return rc;
}

int hc_get1(int port, const char *target, const char *host, const char *hdrs, struct hres *r)
{
	return hc_req1(port, "GET", target, host, hdrs, NULL, r);
}

