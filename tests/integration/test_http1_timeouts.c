/* SPDX-License-Identifier: MIT */
/* test_http1_timeouts.c - the HTTP/1.1 engine end to end, on both I/O backends: the four timeouts: header, idle, body, write. */
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
#include "h1_fixture.h"

/* ---- timeouts ----------------------------------------------------------- */

/* Waits for a close and returns after how many ms; fails on bytes or timeout. */
static int64_t time_to_close(struct it_conn *c, int timeout_ms, const char *what)
{
	int64_t t0 = it_now_ms();

	h1_expect_close(c, timeout_ms, what);
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
	h1_start(backend, "", "\"header_ms\": 300, \"idle_ms\": 20000", "", &port);

	/* Half a request line, then nothing: 408 and EOF. */
	c = it_conn_new(port);
	t0 = it_now_ms();
	h1_send_str(c, "GET /.hea", "half a request line");
	h1_read_final(c, &r, "half a request line");
	ms = it_now_ms() - t0;
	IT_ASSERT(r.status == 408, "half a request line: status %d, want 408\n%s", r.status, r.head);
	IT_ASSERT(r.conn_close, "408 without Connection: close\n%s", r.head);
	IT_ASSERT(ms >= 250, "408 after %lld ms, header_ms is 300", (long long)ms);
	h1_expect_close(c, T_IO, "after 408");
	it_conn_free(c);

	/* A head trickled a field every 100 ms is cut at header_ms all the same. */
	c = it_conn_new(port);
	t0 = it_now_ms();
	h1_send_str(c, "GET /.healthz HTTP/1.1\r\n", "trickle");
	for (int k = 0; k < 30 && c->len == 0; k++) {
		struct pollfd pfd = { .fd = c->fd, .events = POLLIN };

		if (send(c->fd, "X-A: 1\r\n", 8, MSG_NOSIGNAL) != 8 || poll(&pfd, 1, 100) != 0)
			break;
	}
	h1_read_final(c, &r, "trickled head");
	ms = it_now_ms() - t0;
	IT_ASSERT(r.status == 408, "trickled head: status %d, want 408\n%s", r.status, r.head);
	IT_ASSERT(ms < 2000, "trickled head answered after %lld ms; header_ms is 300",
		  (long long)ms);
	IT_ASSERT(h1_read_to_close(c, T_IO), "trickled head: not closed after 408");
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
	h1_start(backend, "", "\"idle_ms\": 300, \"header_ms\": 20000, \"body_ms\": 20000", "", &port);
	c = it_conn_new(port);
	h1_roundtrip(c, PROBE, 200, &r, "before idling");
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
	h1_start(backend, "", "\"body_ms\": 300, \"idle_ms\": 20000, \"header_ms\": 20000", "", &port);

	c = it_conn_new(port);
	h1_roundtrip(c, "GET /.healthz HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n", 200, &r,
		  "promised body, none sent");
	ms = time_to_close(c, T_IO, "promised body never sent");
	IT_ASSERT(ms >= 250, "closed after %lld ms; body_ms is 300", (long long)ms);
	it_conn_free(c);

	c = it_conn_new(port);
	h1_roundtrip(c, "POST /nope HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n012", 404, &r,
		  "3 of 10 body bytes");
	ms = time_to_close(c, T_IO, "3 of 10 body bytes, then nothing");
	IT_ASSERT(ms >= 250, "closed after %lld ms; body_ms is 300", (long long)ms);
	it_conn_free(c);

	c = it_conn_new(port);
	h1_roundtrip(c, "POST /nope HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
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
	h1_start(backend, "", "\"write_ms\": 300, \"header_ms\": 20000, \"idle_ms\": 20000", "", &port);
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
		int n = it_conn_fill(c, deadline);
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

static Suite *http1_timeouts_suite(void)
{
	Suite *s = suite_create("http1_timeouts");
	TCase *tc = it_tcase("timeouts");

	tcase_add_loop_test(tc, timeout_header, 0, 2);
	tcase_add_loop_test(tc, timeout_idle, 0, 2);
	tcase_add_loop_test(tc, timeout_body, 0, 2);
	tcase_add_loop_test(tc, timeout_write, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

IT_SUITE(http1_timeouts_suite);
