/* SPDX-License-Identifier: MIT */
/* client.c - the harness's raw HTTP/1.1 client, struct it_conn (declared in harness.h). */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "harness.h"
#include "headers.h"

/* "[::1]" or "::1" -> AF_INET6 address; "127.0.0.1" -> AF_INET. */
static socklen_t make_addr(struct sockaddr_storage *ss, const char *host, int port)
{
	char bare[64];
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

	snprintf(bare, sizeof(bare), "%s", host[0] == '[' ? host + 1 : host);
	bare[strcspn(bare, "]")] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET6, bare, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		return sizeof(*s6);
	}
	ck_assert_msg(inet_pton(AF_INET, bare, &s4->sin_addr) == 1, "bad address %s", host);
	s4->sin_family = AF_INET;
	s4->sin_port = htons((uint16_t)port);
	return sizeof(*s4);
}

int it_conn_open(struct it_conn *c, const char *host, int port)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(&ss, host, port);

	c->len = 0;
	c->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	if (connect(c->fd, (struct sockaddr *)&ss, len) != 0) {
		int err = errno;

		close(c->fd);
		c->fd = -1;
		return -err;
	}
	return 0;
}

void it_conn_close(struct it_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->len = 0;
}

int it_conn_send(struct it_conn *c, const char *bytes)
{
	size_t len = strlen(bytes), off = 0;

	while (off < len) {
		ssize_t n = send(c->fd, bytes + off, len - off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		off += (size_t)n;
	}
	return 0;
}

int it_conn_fill(struct it_conn *c, int64_t deadline)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	int left = (int)(deadline - it_now_ms()), r;
	ssize_t n;

	if (c->len >= sizeof(c->buf) - 1)
		return -EMSGSIZE;
	if (left <= 0)
		return -ETIMEDOUT;
	r = poll(&pfd, 1, left);
	if (r == 0)
		return -ETIMEDOUT;
	if (r < 0)
		return errno == EINTR ? it_conn_fill(c, deadline) : -errno;
	n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len, 0);
	if (n < 0)
		return errno == EINTR ? it_conn_fill(c, deadline) : -errno;
	c->len += (size_t)n;
	c->buf[c->len] = '\0';
	return (int)n;
}

static void consume(struct it_conn *c, size_t n)
{
	memmove(c->buf, c->buf + n, c->len - n);
	c->len -= n;
}

static int read_head(struct it_conn *c, struct it_response *r, int64_t deadline)
{
	char *end = NULL, val[64];
	size_t hlen;
	int n;

	while (!(c->len && (end = strstr(c->buf, "\r\n\r\n")))) {
		n = it_conn_fill(c, deadline);
		if (n <= 0)
			return n == 0 ? -ECONNRESET : n;
	}
	hlen = (size_t)(end - c->buf) + 4;
	if (hlen >= sizeof(r->head) || sscanf(c->buf, "HTTP/1.%*d %d", &r->status) != 1)
		return -EPROTO;
	memcpy(r->head, c->buf, hlen);
	r->head[hlen] = '\0';
	consume(c, hlen);
	r->content_length = it_header(r->head, "Content-Length", val, sizeof(val))
		? atol(val) : -1;
	r->conn_close = it_header(r->head, "Connection", val, sizeof(val)) &&
		strcasecmp(val, "close") == 0;
	return 0;
}

static int read_exact(struct it_conn *c, size_t want, int64_t deadline)
{
	while (c->len < want) {
		int n = it_conn_fill(c, deadline);

		if (n <= 0)
			return n == 0 ? -ECONNRESET : n;
	}
	return 0;
}

/* A chunked body: sizes in hex, each chunk then CRLF, ending with "0\r\n\r\n". */
static int read_chunked(struct it_conn *c, struct it_response *r, int64_t deadline)
{
	for (;;) {
		char *eol = NULL;
		size_t size;
		int rc;

		while (!(c->len && (eol = strstr(c->buf, "\r\n"))))
			if ((rc = it_conn_fill(c, deadline)) <= 0)
				return rc == 0 ? -ECONNRESET : rc;
		size = strtoul(c->buf, NULL, 16);
		consume(c, (size_t)(eol - c->buf) + 2);
		if ((rc = read_exact(c, size + 2, deadline)) != 0)
			return rc;
		consume(c, size + 2);
		r->body_len += size;
		if (size == 0)
			return 0;   /* no trailers expected from swerver */
	}
}

static int read_until_close(struct it_conn *c, struct it_response *r, int64_t deadline)
{
	int n;

	while ((n = it_conn_fill(c, deadline)) > 0)
		;
	r->body_len = c->len;
	c->len = 0;
	return n == 0 ? 0 : n;
}

int it_conn_read(struct it_conn *c, struct it_response *r, int timeout_ms)
{
	int64_t deadline = it_now_ms() + timeout_ms;
	char te[64];
	int rc;

	memset(r, 0, sizeof(*r));
	if ((rc = read_head(c, r, deadline)) != 0)
		return rc;
	if (r->status == 204 || r->status == 304 || r->status < 200)
		return 0;
	if (r->content_length >= 0) {
		rc = read_exact(c, (size_t)r->content_length, deadline);
		if (rc == 0) {
			consume(c, (size_t)r->content_length);
			r->body_len = (size_t)r->content_length;
		}
		return rc;
	}
	if (it_header(r->head, "Transfer-Encoding", te, sizeof(te)) &&
	    strcasecmp(te, "chunked") == 0)
		return read_chunked(c, r, deadline);
	return read_until_close(c, r, deadline);
}

int it_conn_get(struct it_conn *c, const char *path, struct it_response *r)
{
	char req[512];
	int rc;

	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n", path);
	if ((rc = it_conn_send(c, req)) != 0)
		return rc;
	return it_conn_read(c, r, IT_IO_MS);
}

bool it_conn_wait_eof(struct it_conn *c, int timeout_ms)
{
	int64_t deadline = it_now_ms() + timeout_ms;
	int n;

	c->len = 0;
	while ((n = it_conn_fill(c, deadline)) > 0)
		c->len = 0;
	return n == 0 || n == -ECONNRESET;
}

int it_http_get(const char *host, int port, const char *path, int timeout_ms)
{
	struct it_conn *c = malloc(sizeof(*c));
	struct it_response r;
	char req[512];
	int rc;

	ck_assert_msg(c != NULL, "out of memory");
	rc = it_conn_open(c, host, port);
	if (rc == 0) {
		snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n", path);
		rc = it_conn_send(c, req);
		if (rc == 0)
			rc = it_conn_read(c, &r, timeout_ms);
		it_conn_close(c);
	}
	free(c);
	return rc == 0 ? r.status : rc;
}

struct it_conn *it_conn_new(int port)
{
	struct it_conn *c = malloc(sizeof(*c));
	int rc;

	ck_assert_ptr_nonnull(c);
	rc = it_conn_open(c, "127.0.0.1", port);
	IT_ASSERT(rc == 0, "connect 127.0.0.1:%d: %s", port, strerror(-rc));
	return c;
}

void it_conn_free(struct it_conn *c)
{
	it_conn_close(c);
	free(c);
}
