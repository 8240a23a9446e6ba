/* SPDX-License-Identifier: MIT */
/* test_loop_timer.c - the event loop's contract, run once on epoll and once on io_uring: timers (order, re-arm and delete from a callback, zero delays) and stop. */
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

/* ---- timers ---- */

struct timers {
	struct sw_loop *loop;
	struct sw_timer t[4], rearm, victim, killer;
	int order[8], n;
	int rearms;
};

static void on_ordered(struct sw_timer *t)
{
	struct timers *s = t->data;

	s->order[s->n++] = (int)(t - s->t);
	if (s->n == 3)
		sw_loop_stop(s->loop);
}

START_TEST(test_timer_order)
{
	OPEN_LOOP(loop);
	struct timers s = { .loop = loop };
	static const uint64_t ms[4] = { 30, 10, 20, 5 };
	uint64_t start = sw_loop_now(loop);

	for (int i = 0; i < 4; i++) {
		sw_timer_init(&s.t[i], on_ordered, &s);
		ck_assert(!sw_timer_armed(&s.t[i]));
		sw_timer_add(loop, &s.t[i], ms[i]);
		ck_assert(sw_timer_armed(&s.t[i]));
	}
	sw_timer_del(loop, &s.t[3]);
	ck_assert(!sw_timer_armed(&s.t[3]));
	sw_timer_del(loop, &s.t[3]);
	/* Re-arming an armed timer moves it: t[2] now goes last. */
	sw_timer_add(loop, &s.t[2], 40);
	lt_run_guarded(loop, 5000);
	ck_assert_int_eq(s.n, 3);
	ck_assert_int_eq(s.order[0], 1);
	ck_assert_int_eq(s.order[1], 0);
	ck_assert_int_eq(s.order[2], 2);
	ck_assert_uint_ge(sw_loop_now(loop) - start, 40);
	sw_loop_close(loop);
}
END_TEST

static void on_rearm(struct sw_timer *t)
{
	struct timers *s = t->data;

	if (++s->rearms < 5)
		sw_timer_add(s->loop, t, 2);
	else
		sw_loop_stop(s->loop);
}

static void on_killer(struct sw_timer *t)
{
	struct timers *s = t->data;

	/* Deleting another, due timer from a callback: it must not run. */
	sw_timer_del(s->loop, &s->victim);
}

static void on_victim(struct sw_timer *t)
{
	ck_abort_msg("a deleted timer fired");
}

START_TEST(test_timer_rearm_delete)
{
	OPEN_LOOP(loop);
	struct timers s = { .loop = loop };

	sw_timer_init(&s.rearm, on_rearm, &s);
	sw_timer_init(&s.killer, on_killer, &s);
	sw_timer_init(&s.victim, on_victim, &s);
	/* Deadline order runs the killer first even when both are due. */
	sw_timer_add(loop, &s.victim, 4);
	sw_timer_add(loop, &s.killer, 3);
	sw_timer_add(loop, &s.rearm, 1);
	lt_run_guarded(loop, 5000);
	ck_assert_int_eq(s.rearms, 5);
	ck_assert(!sw_timer_armed(&s.victim));
	sw_loop_close(loop);
}
END_TEST

/* A 0 ms re-arm from its own callback must not spin one iteration forever. */
static void on_zero(struct sw_timer *t)
{
	struct timers *s = t->data;

	if (++s->rearms < 1000)
		sw_timer_add(s->loop, t, 0);
	else
		sw_loop_stop(s->loop);
}

START_TEST(test_timer_zero_rearm)
{
	OPEN_LOOP(loop);
	struct timers s = { .loop = loop };

	sw_timer_init(&s.rearm, on_zero, &s);
	sw_timer_add(loop, &s.rearm, 0);
	lt_run_guarded(loop, 5000);
	ck_assert_int_eq(s.rearms, 1000);
	sw_loop_close(loop);
}
END_TEST

/* ---- stop ---- */

START_TEST(test_stop)
{
	OPEN_LOOP(loop);
	struct sw_timer never;

	/* Stop before run: one iteration that does not block, then return. */
	sw_timer_init(&never, on_victim, NULL);
	sw_timer_add(loop, &never, 60000);
	sw_loop_stop(loop);
	ck_assert_int_eq(sw_loop_run(loop), SW_OK);
	/* The loop runs again after a stop, until the next one. */
	lt_run_for(loop, 5);
	lt_run_for(loop, 5);
	sw_timer_del(loop, &never);
	sw_loop_close(loop);
}
END_TEST

static Suite *loop_timer_suite(void)
{
	const struct lt_test tests[] = {
		{ "timer_order", test_timer_order },
		{ "timer_rearm_delete", test_timer_rearm_delete },
		{ "timer_zero_rearm", test_timer_zero_rearm },
		{ "stop", test_stop },
	};
	Suite *s = lt_suite("loop_timer", tests, SW_ARRAY_SIZE(tests));
	return s;
}

SW_TEST_SUITE(loop_timer_suite);
