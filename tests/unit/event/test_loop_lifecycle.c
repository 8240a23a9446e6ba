/* SPDX-License-Identifier: MIT */
/* test_loop_lifecycle.c - the event loop's contract, run once on epoll and once on io_uring: operations and handles over their life: callbacks never inside the starting call, cancel, close_handle (from a callback too), EOF after a short read. */
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

/* ---- callbacks never run inside the call that started the op ---- */

struct flag {
	struct sw_loop *loop;
	int calls;
	ssize_t res;
};

static void on_flag(struct sw_io *io, ssize_t res)
{
	struct flag *f = io->data;

	f->calls++;
	f->res = res;
	sw_loop_stop(f->loop);
}

START_TEST(test_not_synchronous)
{
	OPEN_LOOP(loop);
	struct flag f = { .loop = loop };
	struct sw_handle a, b;
	struct sw_io rd = { .cb = on_flag, .data = &f };
	struct sw_io wr = { .cb = on_flag, .data = &f };
	struct iovec iov = { "hello", 5 };
	int sv[2];
	char buf[16];

	lt_stream_pair(sv);
	ck_assert_int_eq(write(sv[0], "ready", 5), 5);
	ck_assert_int_eq(sw_loop_add(loop, &a, sv[0], NULL), SW_OK);
	ck_assert_int_eq(sw_loop_add(loop, &b, sv[1], NULL), SW_OK);
	/* Both can complete at once; neither callback may run yet. */
	ck_assert_int_eq(sw_loop_recv(loop, &b, &rd, buf, sizeof(buf)), SW_OK);
	ck_assert_int_eq(f.calls, 0);
	ck_assert_int_eq(sw_loop_writev(loop, &a, &wr, &iov, 1), SW_OK);
	ck_assert_int_eq(f.calls, 0);
	/* Busy: one read-side and one write-side op per handle. */
	ck_assert_int_eq(sw_loop_poll(loop, &b, &(struct sw_io){ .cb = on_flag }, false),
			 SW_ERROR);
	lt_run_guarded(loop, 5000);
	ck_assert_int_eq(f.calls, 2);
	ck_assert_mem_eq(buf, "ready", 5);
	lt_close_and_drain(loop, &a);
	lt_close_and_drain(loop, &b);
	sw_loop_close(loop);
}
END_TEST

/* ---- cancel ---- */

static void on_never(struct sw_io *io, ssize_t res)
{
	ck_abort_msg("callback of a cancelled or closed op ran (res %zd)", res);
}

START_TEST(test_cancel)
{
	OPEN_LOOP(loop);
	struct flag f = { .loop = loop };
	struct sw_handle a, b;
	struct sw_io rd = { .cb = on_never };
	int sv[2];
	char buf[16];

	lt_stream_pair(sv);
	ck_assert_int_eq(sw_loop_add(loop, &a, sv[0], NULL), SW_OK);
	ck_assert_int_eq(sw_loop_add(loop, &b, sv[1], NULL), SW_OK);

	/* A waiting op: cancelled before any data. */
	ck_assert_int_eq(sw_loop_recv(loop, &b, &rd, buf, sizeof(buf)), SW_OK);
	lt_run_for(loop, 10);
	sw_loop_cancel(loop, &rd);
	ck_assert_int_ne(rd.state, SW_IO_PENDING);
	lt_run_for(loop, 20);

	/*
	 * Cancel and start the same io again before the loop runs (io_uring
	 * then still has the old SQE, whose late CQE must not count for the
	 * new op), then data: only the new op completes.
	 */
	ck_assert_int_eq(sw_loop_recv(loop, &b, &rd, buf, sizeof(buf)), SW_OK);
	lt_run_for(loop, 10);
	sw_loop_cancel(loop, &rd);
	rd.cb = on_flag;
	rd.data = &f;
	ck_assert_int_eq(sw_loop_recv(loop, &b, &rd, buf, sizeof(buf)), SW_OK);
	lt_run_for(loop, 10);
	ck_assert_int_eq(f.calls, 0);
	ck_assert_int_eq(write(sv[0], "abc", 3), 3);
	lt_run_guarded(loop, 5000);
	ck_assert_int_eq(f.calls, 1);
	ck_assert_int_eq(f.res, 3);
	ck_assert_mem_eq(buf, "abc", 3);

	/* An op that completed at once and waits for its callback. */
	ck_assert_int_eq(write(sv[0], "def", 3), 3);
	lt_run_for(loop, 10);
	rd.cb = on_never;
	ck_assert_int_eq(sw_loop_recv(loop, &b, &rd, buf, sizeof(buf)), SW_OK);
	sw_loop_cancel(loop, &rd);
	/* A poll, cancelled. */
	struct sw_io po = { .cb = on_never };
	ck_assert_int_eq(sw_loop_poll(loop, &b, &po, false), SW_OK);
	sw_loop_cancel(loop, &po);
	lt_run_for(loop, 20);
	ck_assert_int_eq(f.calls, 1);
	lt_close_and_drain(loop, &a);
	lt_close_and_drain(loop, &b);
	sw_loop_close(loop);
}
END_TEST

/* ---- close_handle ---- */

struct closing {
	struct sw_loop *loop;
	struct sw_handle h;
	struct sw_io rd, wr;
	struct iovec iov;
	char buf[16];
	int closed;
};

static void on_closing_closed(struct sw_handle *h)
{
	struct closing *c = h->data;

	c->closed++;
}

START_TEST(test_close_handle)
{
	OPEN_LOOP(loop);
	struct closing c = { .loop = loop };
	int sv[2];

	lt_stream_pair(sv);
	ck_assert_int_eq(sw_loop_add(loop, &c.h, sv[1], &c), SW_OK);
	c.rd = (struct sw_io){ .cb = on_never };
	c.wr = (struct sw_io){ .cb = on_never };
	c.iov = (struct iovec){ "bye", 3 };
	ck_assert_int_eq(sw_loop_recv(loop, &c.h, &c.rd, c.buf, sizeof(c.buf)), SW_OK);
	ck_assert_int_eq(sw_loop_writev(loop, &c.h, &c.wr, &c.iov, 1), SW_OK);
	sw_loop_close_handle(loop, &c.h, on_closing_closed);
	/* Not from inside the call either; a second close is a no-op. */
	ck_assert_int_eq(c.closed, 0);
	sw_loop_close_handle(loop, &c.h, on_closing_closed);
	ck_assert_int_eq(sw_loop_recv(loop, &c.h, &c.rd, c.buf, sizeof(c.buf)),
			 SW_ERROR);
	lt_run_for(loop, 30);
	ck_assert_int_eq(c.closed, 1);
	/* By on_closed the fd is closed: the peer sees it gone. */
	ck_assert_int_eq(write(sv[0], "data", 4), -1);
	ck_assert_int_eq(errno, EPIPE);
	close(sv[0]);
	sw_loop_close(loop);
}
END_TEST

/* Closing a handle from one callback while its other op waits in the queue. */
struct twice {
	struct sw_loop *loop;
	struct sw_handle h;
	struct sw_io rd, wr;
	struct iovec iov;
	char buf[16];
	int calls, closed;
};

static void on_twice_closed(struct sw_handle *h)
{
	struct twice *t = h->data;

	t->closed++;
	sw_loop_stop(t->loop);
}

static void on_twice_first(struct sw_io *io, ssize_t res)
{
	struct twice *t = io->data;

	t->calls++;
	sw_loop_close_handle(t->loop, &t->h, on_twice_closed);
}

START_TEST(test_close_from_callback)
{
	OPEN_LOOP(loop);
	struct twice t = { .loop = loop };
	int sv[2];

	lt_stream_pair(sv);
	ck_assert_int_eq(write(sv[0], "hi", 2), 2);
	ck_assert_int_eq(sw_loop_add(loop, &t.h, sv[1], &t), SW_OK);
	t.rd = (struct sw_io){ .cb = on_twice_first, .data = &t };
	t.wr = (struct sw_io){ .cb = on_twice_first, .data = &t };
	t.iov = (struct iovec){ "yo", 2 };
	ck_assert_int_eq(sw_loop_recv(loop, &t.h, &t.rd, t.buf, sizeof(t.buf)), SW_OK);
	ck_assert_int_eq(sw_loop_writev(loop, &t.h, &t.wr, &t.iov, 1), SW_OK);
	lt_run_guarded(loop, 5000);
	/* Whichever callback ran first closed the handle: the other never runs. */
	ck_assert_int_eq(t.calls, 1);
	ck_assert_int_eq(t.closed, 1);
	lt_run_for(loop, 20);
	ck_assert_int_eq(t.calls, 1);
	ck_assert_int_eq(t.closed, 1);
	close(sv[0]);
	sw_loop_close(loop);
}
END_TEST

/* Data and FIN arrive together; after the short read, EOF must not hang. */
START_TEST(test_eof_after_short_recv)
{
	OPEN_LOOP(loop);
	struct flag f = { .loop = loop };
	struct sw_handle b;
	struct sw_io rd = { .cb = on_flag, .data = &f };
	int sv[2];
	char buf[64];

	lt_stream_pair(sv);
	ck_assert_int_eq(sw_loop_add(loop, &b, sv[1], NULL), SW_OK);
	ck_assert_int_eq(sw_loop_recv(loop, &b, &rd, buf, sizeof(buf)), SW_OK);
	lt_run_for(loop, 10);
	ck_assert_int_eq(write(sv[0], "last", 4), 4);
	shutdown(sv[0], SHUT_WR);
	lt_run_guarded(loop, 5000);
	ck_assert_int_eq(f.res, 4);
	ck_assert_int_eq(sw_loop_recv(loop, &b, &rd, buf, sizeof(buf)), SW_OK);
	lt_run_guarded(loop, 5000);
	ck_assert_int_eq(f.calls, 2);
	ck_assert_int_eq(f.res, 0);
	close(sv[0]);
	lt_close_and_drain(loop, &b);
	sw_loop_close(loop);
}
END_TEST

static Suite *loop_lifecycle_suite(void)
{
	const struct lt_test tests[] = {
		{ "not_synchronous", test_not_synchronous },
		{ "cancel", test_cancel },
		{ "close_handle", test_close_handle },
		{ "close_from_callback", test_close_from_callback },
		{ "eof_after_short_recv", test_eof_after_short_recv },
	};
	Suite *s = lt_suite("loop_lifecycle", tests, SW_ARRAY_SIZE(tests));
	return s;
}

SW_TEST_SUITE(loop_lifecycle_suite);
