/* SPDX-License-Identifier: MIT */
/* loop_fixture.h - what the event loop suites (test_loop_*.c) share: a loop per backend, sockets, a guarded run, the suite itself. */
#ifndef SW_TEST_LOOP_FIXTURE_H
#define SW_TEST_LOOP_FIXTURE_H

#include <check.h>
#include <stdint.h>
#include "event/loop.h"

/*
 * Every test is a loop test: _i == 0 runs it on epoll, _i == 1 on
 * io_uring (skipped, with a note, where io_uring cannot start).
 */
struct sw_loop *lt_open_loop(int backend);

#define OPEN_LOOP(loop) \
	struct sw_loop *loop = lt_open_loop(_i); \
	if (!loop) \
		return

/* Runs the loop; a test that hangs fails after ms instead of at Check's timeout. */
void lt_run_guarded(struct sw_loop *loop, uint64_t ms);

/* A non-blocking AF_UNIX stream socketpair. */
void lt_stream_pair(int sv[2]);

/* A non-blocking listener on 127.0.0.1, its port in *port. */
int lt_tcp_listener(uint16_t *port);

/* A blocking connect: the listener's backlog completes it at once. */
int lt_tcp_connect(uint16_t port);

/* Closes h and runs the loop until its on_closed has run. */
void lt_close_and_drain(struct sw_loop *loop, struct sw_handle *h);

/* Runs the loop for ms (a timer stops it), whatever else happens. */
void lt_run_for(struct sw_loop *loop, uint64_t ms);

/* One loop test: its tcase name and function, run on both backends. */
struct lt_test {
	const char *name;
	const TTest *fn;
};

/*
 * A suite of n loop tests, a tcase each with a 60 s cap; SIGPIPE ignored
 * as the daemon does (a reset peer is an EPIPE result, not a signal).
 */
Suite *lt_suite(const char *name, const struct lt_test *tests, size_t n);

#endif
