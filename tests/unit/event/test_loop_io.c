/* SPDX-License-Identifier: MIT */
/* test_loop_io.c - the event loop's contract, run once on epoll and once on io_uring: I/O operations: accept, echo over a socketpair and TCP, a large writev against a slow reader, sendfile, poll, a throughput sanity check; and opening the auto backend. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include "check_main.h"
#include "loop_fixture.h"

/* ---- accept ---- */

struct acceptor {
	struct sw_loop *loop;
	struct sw_handle h;
	struct sw_io io;
	ssize_t res;
	int calls;
};

static void on_accept(struct sw_io *io, ssize_t res)
{
	struct acceptor *a = io->data;

	a->res = res;
	a->calls++;
	sw_loop_stop(a->loop);
}

START_TEST(test_accept)
{
	OPEN_LOOP(loop);
	struct acceptor a = { .loop = loop };
	uint16_t port;
	int lfd = lt_tcp_listener(&port), cfd, flags;
	struct sockaddr_in *peer = (struct sockaddr_in *)&a.io.u.accept.addr;

	ck_assert_int_eq(sw_loop_add(loop, &a.h, lfd, &a), SW_OK);
	a.io.cb = on_accept;
	a.io.data = &a;
	/* Nothing waits yet: the accept must wait for the connection. */
	ck_assert_int_eq(sw_loop_accept(loop, &a.h, &a.io), SW_OK);
	ck_assert_int_eq(sw_loop_accept(loop, &a.h, &a.io), SW_ERROR);
	cfd = lt_tcp_connect(port);
	lt_run_guarded(loop, 5000);
	ck_assert_int_eq(a.calls, 1);
	ck_assert_int_ge(a.res, 0);
	ck_assert_int_eq(peer->sin_family, AF_INET);
	ck_assert_uint_eq(a.io.u.accept.addrlen, sizeof(struct sockaddr_in));
	ck_assert_uint_eq(ntohl(peer->sin_addr.s_addr), INADDR_LOOPBACK);
	flags = fcntl((int)a.res, F_GETFL);
	ck_assert(flags & O_NONBLOCK);
	ck_assert(fcntl((int)a.res, F_GETFD) & FD_CLOEXEC);
	close((int)a.res);
	close(cfd);
	lt_close_and_drain(loop, &a.h);
	sw_loop_close(loop);
}
END_TEST

/* ---- echo: a client sends numbered messages, a server echoes them ---- */

#define ECHO_ROUNDS 200

struct echo {
	struct sw_loop *loop;
	struct sw_handle ch, sh;     /* client, server */
	struct sw_io c_rd, c_wr, s_rd, s_wr;
	char c_out[64], c_in[64], s_buf[64];
	size_t c_out_len, c_in_len;
	struct iovec c_iov, s_iov;
	int rounds;
};

static void client_send(struct echo *e);

static void on_client_recv(struct sw_io *io, ssize_t res)
{
	struct echo *e = io->data;

	ck_assert_int_gt(res, 0);
	e->c_in_len += (size_t)res;
	if (e->c_in_len < e->c_out_len) {
		ck_assert_int_eq(sw_loop_recv(e->loop, &e->ch, io, e->c_in + e->c_in_len,
					      e->c_out_len - e->c_in_len), SW_OK);
		return;
	}
	ck_assert_mem_eq(e->c_in, e->c_out, e->c_out_len);
	if (++e->rounds == ECHO_ROUNDS)
		sw_loop_stop(e->loop);
	else
		client_send(e);
}

static void on_client_sent(struct sw_io *io, ssize_t res)
{
	struct echo *e = io->data;

	ck_assert_int_eq(res, (ssize_t)e->c_out_len);
}

static void client_send(struct echo *e)
{
	e->c_out_len = (size_t)snprintf(e->c_out, sizeof(e->c_out),
					"message %d of the echo test", e->rounds);
	e->c_in_len = 0;
	e->c_iov = (struct iovec){ e->c_out, e->c_out_len };
	ck_assert_int_eq(sw_loop_writev(e->loop, &e->ch, &e->c_wr, &e->c_iov, 1), SW_OK);
	ck_assert_int_eq(sw_loop_recv(e->loop, &e->ch, &e->c_rd, e->c_in,
				      sizeof(e->c_in)), SW_OK);
}

static void on_server_sent(struct sw_io *io, ssize_t res)
{
	struct echo *e = io->data;

	ck_assert_int_eq(res, (ssize_t)e->s_iov.iov_len);
	ck_assert_int_eq(sw_loop_recv(e->loop, &e->sh, &e->s_rd, e->s_buf,
				      sizeof(e->s_buf)), SW_OK);
}

static void on_server_recv(struct sw_io *io, ssize_t res)
{
	struct echo *e = io->data;

	if (res == 0)
		return;
	ck_assert_int_gt(res, 0);
	e->s_iov = (struct iovec){ e->s_buf, (size_t)res };
	ck_assert_int_eq(sw_loop_writev(e->loop, &e->sh, &e->s_wr, &e->s_iov, 1), SW_OK);
}

static void run_echo(struct sw_loop *loop, int cfd, int sfd)
{
	struct echo *e = calloc(1, sizeof(*e));

	e->loop = loop;
	ck_assert_int_eq(sw_loop_add(loop, &e->ch, cfd, e), SW_OK);
	ck_assert_int_eq(sw_loop_add(loop, &e->sh, sfd, e), SW_OK);
	e->c_rd = (struct sw_io){ .cb = on_client_recv, .data = e };
	e->c_wr = (struct sw_io){ .cb = on_client_sent, .data = e };
	e->s_rd = (struct sw_io){ .cb = on_server_recv, .data = e };
	e->s_wr = (struct sw_io){ .cb = on_server_sent, .data = e };
	ck_assert_int_eq(sw_loop_recv(loop, &e->sh, &e->s_rd, e->s_buf,
				      sizeof(e->s_buf)), SW_OK);
	client_send(e);
	lt_run_guarded(loop, 10000);
	ck_assert_int_eq(e->rounds, ECHO_ROUNDS);
	lt_close_and_drain(loop, &e->ch);
	lt_close_and_drain(loop, &e->sh);
	free(e);
}

START_TEST(test_echo_socketpair)
{
	OPEN_LOOP(loop);
	int sv[2];

	lt_stream_pair(sv);
	run_echo(loop, sv[0], sv[1]);
	sw_loop_close(loop);
}
END_TEST

static void on_accept_echo(struct sw_io *io, ssize_t res)
{
	int *fd = io->data;

	ck_assert_int_ge(res, 0);
	*fd = (int)res;
	sw_loop_stop(io->handle->data);
}

START_TEST(test_echo_tcp)
{
	OPEN_LOOP(loop);
	struct sw_handle lh;
	struct sw_io acc = { .cb = on_accept_echo };
	uint16_t port;
	int lfd = lt_tcp_listener(&port), cfd, sfd = -1;

	acc.data = &sfd;
	ck_assert_int_eq(sw_loop_add(loop, &lh, lfd, loop), SW_OK);
	ck_assert_int_eq(sw_loop_accept(loop, &lh, &acc), SW_OK);
	cfd = lt_tcp_connect(port);
	lt_run_guarded(loop, 5000);
	ck_assert_int_ge(sfd, 0);
	run_echo(loop, cfd, sfd);
	lt_close_and_drain(loop, &lh);
	sw_loop_close(loop);
}
END_TEST

/* ---- a large writev against a slow reader ---- */

#define BIG_CHUNK (1u << 20)
#define BIG_CHUNKS 4
#define BIG_TOTAL (BIG_CHUNK * BIG_CHUNKS)

static unsigned char pattern(size_t i)
{
	return (unsigned char)((i * 7 + i / 251) % 251);
}

static void check_pattern(const unsigned char *p, size_t off, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != pattern(off + i))
			ck_abort_msg("byte %zu is %u, want %u", off + i, p[i],
				     pattern(off + i));
}

struct slow {
	struct sw_loop *loop;
	struct sw_handle wh, rh;
	struct sw_io wr, rd;
	struct sw_timer tick;
	struct iovec iov[BIG_CHUNKS];
	int iovcnt;
	struct iovec *cur;
	unsigned char *data;
	unsigned char rbuf[32768];
	size_t written, got;
	int writes;
};

static void on_slow_written(struct sw_io *io, ssize_t res)
{
	struct slow *s = io->data;
	size_t n;

	ck_assert_int_gt(res, 0);
	s->writes++;
	s->written += (size_t)res;
	n = (size_t)res;
	/* Advance the iovec cursor past what went out. */
	while (n && n >= s->cur->iov_len) {
		n -= s->cur->iov_len;
		s->cur++;
		s->iovcnt--;
	}
	if (s->iovcnt == 0)
		return;
	s->cur->iov_base = (char *)s->cur->iov_base + n;
	s->cur->iov_len -= n;
	ck_assert_int_eq(sw_loop_writev(s->loop, &s->wh, io, s->cur, s->iovcnt), SW_OK);
}

static void on_slow_read(struct sw_io *io, ssize_t res)
{
	struct slow *s = io->data;

	ck_assert_int_gt(res, 0);
	check_pattern(s->rbuf, s->got, (size_t)res);
	s->got += (size_t)res;
	if (s->got == BIG_TOTAL)
		sw_loop_stop(s->loop);
}

/* The reader takes at most one buffer per millisecond. */
static void on_slow_tick(struct sw_timer *t)
{
	struct slow *s = t->data;

	if (s->got == BIG_TOTAL)
		return;
	if (s->rd.state != SW_IO_PENDING)
		ck_assert_int_eq(sw_loop_recv(s->loop, &s->rh, &s->rd, s->rbuf,
					      sizeof(s->rbuf)), SW_OK);
	sw_timer_add(s->loop, t, 1);
}

START_TEST(test_large_writev)
{
	OPEN_LOOP(loop);
	struct slow *s = calloc(1, sizeof(*s));
	int sv[2], small = 4096;

	lt_stream_pair(sv);
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	s->loop = loop;
	s->data = malloc(BIG_TOTAL);
	for (size_t i = 0; i < BIG_TOTAL; i++)
		s->data[i] = pattern(i);
	for (int i = 0; i < BIG_CHUNKS; i++)
		s->iov[i] = (struct iovec){ s->data + (size_t)i * BIG_CHUNK, BIG_CHUNK };
	s->cur = s->iov;
	s->iovcnt = BIG_CHUNKS;
	ck_assert_int_eq(sw_loop_add(loop, &s->wh, sv[0], s), SW_OK);
	ck_assert_int_eq(sw_loop_add(loop, &s->rh, sv[1], s), SW_OK);
	s->wr = (struct sw_io){ .cb = on_slow_written, .data = s };
	s->rd = (struct sw_io){ .cb = on_slow_read, .data = s };
	sw_timer_init(&s->tick, on_slow_tick, s);
	sw_timer_add(loop, &s->tick, 1);
	ck_assert_int_eq(sw_loop_writev(loop, &s->wh, &s->wr, s->cur, s->iovcnt), SW_OK);
	lt_run_guarded(loop, 30000);
	ck_assert_uint_eq(s->got, BIG_TOTAL);
	ck_assert_uint_eq(s->written, BIG_TOTAL);
	/* The socket cannot hold 4 MiB: the first writev must have been short. */
	ck_assert_int_gt(s->writes, 1);
	sw_timer_del(loop, &s->tick);
	lt_close_and_drain(loop, &s->wh);
	lt_close_and_drain(loop, &s->rh);
	free(s->data);
	free(s);
	sw_loop_close(loop);
}
END_TEST

/* ---- sendfile ---- */

#define FILE_SIZE (3u * 1024 * 1024 + 123)

struct sf {
	struct sw_loop *loop;
	struct sw_handle wh, rh;
	struct sw_io wr, rd;
	int file;
	size_t sent, got;
	unsigned char rbuf[65536];
};

static void on_sf_sent(struct sw_io *io, ssize_t res)
{
	struct sf *s = io->data;

	ck_assert_int_gt(res, 0);
	s->sent += (size_t)res;
	if (s->sent < FILE_SIZE)
		ck_assert_int_eq(sw_loop_sendfile(s->loop, &s->wh, io, s->file,
						  (off_t)s->sent,
						  FILE_SIZE - s->sent), SW_OK);
}

static void on_sf_read(struct sw_io *io, ssize_t res)
{
	struct sf *s = io->data;

	ck_assert_int_gt(res, 0);
	check_pattern(s->rbuf, s->got, (size_t)res);
	s->got += (size_t)res;
	if (s->got == FILE_SIZE)
		sw_loop_stop(s->loop);
	else
		ck_assert_int_eq(sw_loop_recv(s->loop, &s->rh, io, s->rbuf,
					      sizeof(s->rbuf)), SW_OK);
}

START_TEST(test_sendfile)
{
	OPEN_LOOP(loop);
	struct sf *s = calloc(1, sizeof(*s));
	char path[] = "/tmp/test_loop_sendfile.XXXXXX";
	unsigned char *data = malloc(FILE_SIZE);
	int sv[2], small = 8192;

	for (size_t i = 0; i < FILE_SIZE; i++)
		data[i] = pattern(i);
	s->file = mkstemp(path);
	ck_assert_int_ge(s->file, 0);
	unlink(path);
	ck_assert_int_eq(write(s->file, data, FILE_SIZE), (ssize_t)FILE_SIZE);
	free(data);
	lt_stream_pair(sv);
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	s->loop = loop;
	ck_assert_int_eq(sw_loop_add(loop, &s->wh, sv[0], s), SW_OK);
	ck_assert_int_eq(sw_loop_add(loop, &s->rh, sv[1], s), SW_OK);
	s->wr = (struct sw_io){ .cb = on_sf_sent, .data = s };
	s->rd = (struct sw_io){ .cb = on_sf_read, .data = s };
	ck_assert_int_eq(sw_loop_sendfile(loop, &s->wh, &s->wr, s->file, 0,
					  FILE_SIZE), SW_OK);
	ck_assert_int_eq(sw_loop_recv(loop, &s->rh, &s->rd, s->rbuf,
				      sizeof(s->rbuf)), SW_OK);
	lt_run_guarded(loop, 30000);
	ck_assert_uint_eq(s->sent, FILE_SIZE);
	ck_assert_uint_eq(s->got, FILE_SIZE);
	close(s->file);
	lt_close_and_drain(loop, &s->wh);
	lt_close_and_drain(loop, &s->rh);
	free(s);
	sw_loop_close(loop);
}
END_TEST

/* ---- poll ---- */

struct pollt {
	struct sw_loop *loop;
	struct sw_handle a, b;
	struct sw_io in, out;
	struct sw_timer later;
	int out_calls, in_calls;
	bool written;
	ssize_t in_res, out_res;
};

static void on_poll_out(struct sw_io *io, ssize_t res)
{
	struct pollt *p = io->data;

	p->out_calls++;
	p->out_res = res;
}

static void on_poll_in(struct sw_io *io, ssize_t res)
{
	struct pollt *p = io->data;

	/* Readable only once the timer wrote: a fresh handle is not enough. */
	ck_assert(p->written);
	p->in_calls++;
	p->in_res = res;
	sw_loop_stop(p->loop);
}

static void on_poll_write(struct sw_timer *t)
{
	struct pollt *p = t->data;

	ck_assert_int_eq(p->in_calls, 0);
	ck_assert_int_eq(write(p->a.fd, "x", 1), 1);
	p->written = true;
}

START_TEST(test_poll)
{
	OPEN_LOOP(loop);
	struct pollt p = { .loop = loop };
	int sv[2];
	char c;

	lt_stream_pair(sv);
	ck_assert_int_eq(sw_loop_add(loop, &p.a, sv[0], &p), SW_OK);
	ck_assert_int_eq(sw_loop_add(loop, &p.b, sv[1], &p), SW_OK);
	p.in = (struct sw_io){ .cb = on_poll_in, .data = &p };
	p.out = (struct sw_io){ .cb = on_poll_out, .data = &p };
	ck_assert_int_eq(sw_loop_poll(loop, &p.b, &p.in, false), SW_OK);
	ck_assert_int_eq(sw_loop_poll(loop, &p.a, &p.out, true), SW_OK);
	ck_assert_int_eq(p.out_calls, 0);
	sw_timer_init(&p.later, on_poll_write, &p);
	sw_timer_add(loop, &p.later, 30);
	lt_run_guarded(loop, 5000);
	ck_assert_int_eq(p.out_calls, 1);
	ck_assert_int_eq(p.out_res, 0);
	ck_assert_int_eq(p.in_calls, 1);
	ck_assert_int_eq(p.in_res, 0);
	/* Poll consumes nothing: the byte is still there. */
	ck_assert_int_eq(read(sv[1], &c, 1), 1);
	lt_close_and_drain(loop, &p.a);
	lt_close_and_drain(loop, &p.b);
	sw_loop_close(loop);
}
END_TEST

/* ---- throughput sanity: correctness only, the rate is printed ---- */

#define TP_TOTAL (32u << 20)

struct tp {
	struct sw_loop *loop;
	struct sw_handle wh, rh;
	struct sw_io wr, rd;
	unsigned char out[65536], in[65536];
	struct iovec iov;
	size_t sent, got;
};

static void on_tp_sent(struct sw_io *io, ssize_t res)
{
	struct tp *t = io->data;

	ck_assert_int_gt(res, 0);
	t->sent += (size_t)res;
	if (t->sent == TP_TOTAL)
		return;
	t->iov.iov_base = t->out + t->sent % sizeof(t->out);
	t->iov.iov_len = SW_MIN(sizeof(t->out) - t->sent % sizeof(t->out),
				TP_TOTAL - t->sent);
	ck_assert_int_eq(sw_loop_writev(t->loop, &t->wh, io, &t->iov, 1), SW_OK);
}

static void on_tp_read(struct sw_io *io, ssize_t res)
{
	struct tp *t = io->data;

	ck_assert_int_gt(res, 0);
	for (size_t i = 0; i < (size_t)res; i += 4096)
		ck_assert_uint_eq(t->in[i], (unsigned char)((t->got + i) % sizeof(t->out) % 253));
	t->got += (size_t)res;
	if (t->got == TP_TOTAL)
		sw_loop_stop(t->loop);
	else
		ck_assert_int_eq(sw_loop_recv(t->loop, &t->rh, io, t->in,
					      sizeof(t->in)), SW_OK);
}

START_TEST(test_throughput_sanity)
{
	OPEN_LOOP(loop);
	struct tp *t = calloc(1, sizeof(*t));
	struct timespec a, b;
	double secs;
	int sv[2];

	for (size_t i = 0; i < sizeof(t->out); i++)
		t->out[i] = (unsigned char)(i % 253);
	lt_stream_pair(sv);
	t->loop = loop;
	ck_assert_int_eq(sw_loop_add(loop, &t->wh, sv[0], t), SW_OK);
	ck_assert_int_eq(sw_loop_add(loop, &t->rh, sv[1], t), SW_OK);
	t->wr = (struct sw_io){ .cb = on_tp_sent, .data = t };
	t->rd = (struct sw_io){ .cb = on_tp_read, .data = t };
	t->iov = (struct iovec){ t->out, sizeof(t->out) };
	clock_gettime(CLOCK_MONOTONIC, &a);
	ck_assert_int_eq(sw_loop_writev(loop, &t->wh, &t->wr, &t->iov, 1), SW_OK);
	ck_assert_int_eq(sw_loop_recv(loop, &t->rh, &t->rd, t->in, sizeof(t->in)), SW_OK);
	lt_run_guarded(loop, 60000);
	clock_gettime(CLOCK_MONOTONIC, &b);
	ck_assert_uint_eq(t->got, TP_TOTAL);
	secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	printf("note: %s moved %u MiB in %.3f s (%.0f MiB/s), not asserted\n",
	       sw_loop_backend_name(loop), TP_TOTAL >> 20, secs,
	       secs > 0 ? (TP_TOTAL >> 20) / secs : 0.0);
	lt_close_and_drain(loop, &t->wh);
	lt_close_and_drain(loop, &t->rh);
	free(t);
	sw_loop_close(loop);
}
END_TEST

START_TEST(test_open_auto)
{
	struct sw_loop *loop;
	char why[160];
	bool uring = sw_loop_uring_available(NULL, 0);

	ck_assert_int_eq(sw_loop_open(&loop, SW_IO_AUTO, 0, why, sizeof(why)), SW_OK);
	ck_assert_str_eq(sw_loop_backend_name(loop), uring ? "io_uring" : "epoll");
	/* A fallback says why; no fallback leaves why empty. */
	ck_assert(uring ? why[0] == '\0' : why[0] != '\0');
	sw_loop_close(loop);
	if (!uring)
		ck_assert_int_eq(sw_loop_open(&loop, SW_IO_URING, 0, why, sizeof(why)),
				 SW_ERROR);
}
END_TEST

static Suite *loop_io_suite(void)
{
	const struct lt_test tests[] = {
		{ "accept", test_accept },
		{ "echo_socketpair", test_echo_socketpair },
		{ "echo_tcp", test_echo_tcp },
		{ "large_writev", test_large_writev },
		{ "sendfile", test_sendfile },
		{ "poll", test_poll },
		{ "throughput_sanity", test_throughput_sanity },
	};
	Suite *s = lt_suite("loop_io", tests, SW_ARRAY_SIZE(tests));
	TCase *tc = tcase_create("open");

	tcase_add_test(tc, test_open_auto);
	suite_add_tcase(s, tc);
	return s;
}

SW_TEST_SUITE(loop_io_suite);
