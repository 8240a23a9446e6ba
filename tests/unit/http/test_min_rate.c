/* SPDX-License-Identifier: MIT */
/* test_min_rate.c - limits.min_body_rate's judgement: only time spent waiting on the peer counts, a window at a time. */
#include <config.h>

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include "http/min_rate.h"
#include "check_main.h"

#define WINDOW 1000
#define MIN 100   /* bytes a second */

/* One byte a second: refused once a window of waiting has passed. */
START_TEST(test_trickle_refused)
{
	struct sw_min_rate r;
	uint64_t now = 5000, rate = 0;
	bool ok = true;
	int k;

	sw_min_rate_reset(&r);
	for (k = 0; k < 5 && ok; k++) {
		sw_min_rate_wait(&r, now);
		now += 1000;
		ok = sw_min_rate_ok(&r, now, 1, MIN, WINDOW, &rate);
	}
	ck_assert(!ok);
	ck_assert_int_eq(k, 1);
	ck_assert_uint_eq(rate, 1);
}
END_TEST

/* Time nobody waited on the peer (the handler was busy) does not count. */
START_TEST(test_pauses_not_counted)
{
	struct sw_min_rate r;
	uint64_t now = 0, rate = 0;

	sw_min_rate_reset(&r);
	for (int k = 0; k < 100; k++) {
		sw_min_rate_wait(&r, now);
		now += 10;                      /* 50 bytes in 10 ms: 5000 bytes/s */
		ck_assert(sw_min_rate_ok(&r, now, 50, MIN, WINDOW, &rate));
		now += 60000;                   /* then a minute of our own */
	}
}
END_TEST

/* Each window is judged on its own: a fast start does not pay for a slow end. */
START_TEST(test_fresh_window)
{
	struct sw_min_rate r;
	uint64_t now = 0, rate = 0;

	sw_min_rate_reset(&r);
	sw_min_rate_wait(&r, now);
	now += 1000;
	ck_assert(sw_min_rate_ok(&r, now, 1 << 20, MIN, WINDOW, &rate));
	sw_min_rate_wait(&r, now);
	now += 1000;
	ck_assert(!sw_min_rate_ok(&r, now, 10, MIN, WINDOW, &rate));
	ck_assert_uint_eq(rate, 10);
}
END_TEST

/* 0 turns the check off. */
START_TEST(test_off)
{
	struct sw_min_rate r;
	uint64_t rate = 0;

	sw_min_rate_reset(&r);
	sw_min_rate_wait(&r, 0);
	ck_assert(sw_min_rate_ok(&r, 100000, 1, 0, WINDOW, &rate));
}
END_TEST

static Suite *min_rate_suite(void)
{
	Suite *s = suite_create("min_rate");
	TCase *tc = tcase_create("min_rate");

	tcase_add_test(tc, test_trickle_refused);
	tcase_add_test(tc, test_pauses_not_counted);
	tcase_add_test(tc, test_fresh_window);
	tcase_add_test(tc, test_off);
	suite_add_tcase(s, tc);
	return s;
}

SW_TEST_SUITE(min_rate_suite);
