/* SPDX-License-Identifier: MIT */
/* loop_fixture.c - what the event loop suites share (loop_fixture.h). */
#include <config.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>
#include "loop_fixture.h"

/*
 * Every test is a loop test: _i == 0 runs it on epoll, _i == 1 on
 * io_uring (skipped, with a note, where io_uring cannot start).
 */
struct sw_loop *lt_open_loop(int backend)
{
	struct sw_loop *loop = NULL;
	char why[160];

	if (backend == 1 && !sw_loop_uring_available(why, sizeof(why))) {
		printf("note: io_uring test skipped: %s\n", why);
		return NULL;
	}
	ck_assert_int_eq(sw_loop_open(&loop, backend ? SW_IO_URING : SW_IO_EPOLL,
				      0, why, sizeof(why)), SW_OK);
	ck_assert_str_eq(sw_loop_backend_name(loop), backend ? "io_uring" : "epoll");
	return loop;
}

/* A test that hangs fails here instead of at Check's timeout. */
static void on_watchdog(struct sw_timer *t)
{
	ck_abort_msg("watchdog: the loop did not finish in time");
}

void lt_run_guarded(struct sw_loop *loop, uint64_t ms)
{
	struct sw_timer dog;

	sw_timer_init(&dog, on_watchdog, NULL);
	sw_timer_add(loop, &dog, ms);
	ck_assert_int_eq(sw_loop_run(loop), SW_OK);
	sw_timer_del(loop, &dog);
}

void lt_stream_pair(int sv[2])
{
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
				    SOCK_CLOEXEC, 0, sv), 0);
}

int lt_tcp_listener(uint16_t *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(fd, 16), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

/* A blocking connect: the listener's backlog completes it at once. */
int lt_tcp_connect(uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	return fd;
}

static int closed_count;   /* handles lt_close_and_drain saw closed */

static void count_closed(struct sw_handle *h)
{
	closed_count++;
	sw_loop_stop(h->data);
}

void lt_close_and_drain(struct sw_loop *loop, struct sw_handle *h)
{
	int before = closed_count;

	h->data = loop;
	sw_loop_close_handle(loop, h, count_closed);
	lt_run_guarded(loop, 5000);
	ck_assert_int_eq(closed_count, before + 1);
}

static void on_stop_timer(struct sw_timer *t)
{
	sw_loop_stop(t->data);
}

void lt_run_for(struct sw_loop *loop, uint64_t ms)
{
	struct sw_timer t;

	sw_timer_init(&t, on_stop_timer, loop);
	sw_timer_add(loop, &t, ms);
	ck_assert_int_eq(sw_loop_run(loop), SW_OK);
	sw_timer_del(loop, &t);
}

Suite *lt_suite(const char *name, const struct lt_test *tests, size_t n)
{
	Suite *s = suite_create(name);

	for (size_t i = 0; i < n; i++) {
		TCase *tc = tcase_create(tests[i].name);

		tcase_set_timeout(tc, 60);
		/* _i: 0 = epoll, 1 = io_uring */
		tcase_add_loop_test(tc, tests[i].fn, 0, 2);
		suite_add_tcase(s, tc);
	}
	signal(SIGPIPE, SIG_IGN);
	return s;
}
