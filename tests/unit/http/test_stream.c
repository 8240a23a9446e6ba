/* SPDX-License-Identifier: MIT */
/* test_stream.c - src/http/stream.c: limits.min_body_rate per HTTP/2 and HTTP/3 stream, on a clock the test moves. */
#include <config.h>

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "event/backend.h"
#include "http/stream.h"
#include "check_main.h"

/* What the handler was given last, and what the codec was told to acknowledge. */
static ssize_t got_n;
static int got_calls;
static size_t consumed;

static void hold(void *buf)
{
	(void)buf;
}

static void consume(struct sw_stream *st, size_t n)
{
	(void)st;
	consumed += n;
}

static const struct sw_stream_class cls = { .hold = hold, .release = hold, .consume = consume };

static void on_body(struct sw_exchange *x, const char *data, ssize_t n, bool last)
{
	(void)x;
	(void)data;
	(void)last;
	got_n = n;
	got_calls++;
}

/* The handler asks for the body; the loop runs its callback (or the wait begins). */
static void ask(struct sw_stream *st)
{
	sw_exchange_read_body(&st->x, on_body);
	st->kick.cb(&st->kick);
}

static enum sw_stream_body in(struct sw_stream *st, size_t n, uint64_t *rate)
{
	static const uint8_t bytes[4096];

	return sw_stream_body_in(st, bytes, n, rate);
}

/*
 * A stream whose handler stops reading for 10 s (a slow upstream; the
 * client is held by our flow control) is not blamed for that time; once
 * the handler waits again, a trickle is cut when a window of waiting
 * (1 s) has seen less than min_body_rate, and the handler hears -ETIMEDOUT.
 */
START_TEST(test_trickle_cut_pause_not_counted)
{
	struct sw_loop loop;
	struct sw_stream_set set;
	struct sw_limits_cfg lim = { .max_header_bytes = 8192, .max_header_count = 16,
				     .max_body_bytes = 1 << 20, .min_body_rate = 200,
				     .min_rate_window_ms = 1000 };
	struct sw_stream *st;
	uint64_t rate = 0;

	memset(&loop, 0, sizeof(loop));
	memset(&set, 0, sizeof(set));
	loop.now = 1000;
	st = sw_stream_open(&set, sizeof(*st), &cls, &loop, &lim, 8192);
	got_calls = 0;
	consumed = 0;

	ask(st);                                   /* nothing held: waiting on the client */
	ck_assert_int_eq(got_calls, 0);
	loop.now += 100;
	ck_assert_int_eq(in(st, 1000, &rate), SW_STREAM_BODY_KEPT);
	st->kick.cb(&st->kick);
	ck_assert_int_eq(got_calls, 1);
	ck_assert_int_eq(got_n, 1000);
	/* The handler holds the piece for 10 s: bytes come, its time does not count. */
	loop.now += 10000;
	ck_assert_int_eq(in(st, 10, &rate), SW_STREAM_BODY_KEPT);
	ask(st);                                   /* the 10 held bytes, at once */
	ck_assert_int_eq(got_calls, 2);
	ck_assert_int_eq(got_n, 10);
	ck_assert_uint_eq(consumed, 1000);
	/* Now it waits on a client sending 10 bytes every 400 ms. */
	ask(st);
	ck_assert_int_eq(got_calls, 2);
	loop.now += 400;
	ck_assert_int_eq(in(st, 10, &rate), SW_STREAM_BODY_KEPT);   /* 500 ms waited */
	st->kick.cb(&st->kick);
	ask(st);
	loop.now += 400;
	ck_assert_int_eq(in(st, 10, &rate), SW_STREAM_BODY_KEPT);   /* 900 ms */
	st->kick.cb(&st->kick);
	ask(st);
	loop.now += 400;
	/* 1,300 ms waited, 1,040 bytes: 800 bytes/s passes and starts a fresh window. */
	ck_assert_int_eq(in(st, 10, &rate), SW_STREAM_BODY_KEPT);
	for (int k = 0; k < 2; k++) {
		st->kick.cb(&st->kick);
		ask(st);
		loop.now += 400;
		ck_assert_int_eq(in(st, 10, &rate), SW_STREAM_BODY_KEPT);
	}
	st->kick.cb(&st->kick);
	ask(st);
	loop.now += 400;
	/* 1,200 ms waited in this window for 30 bytes: 25 bytes/s, cut. */
	ck_assert_int_eq(in(st, 10, &rate), SW_STREAM_BODY_SLOW);
	ck_assert_uint_eq(rate, 25);
	st->kick.cb(&st->kick);
	ck_assert_int_eq(got_n, -ETIMEDOUT);
	/* The rest is dropped (the codec acknowledges it). */
	ck_assert_int_eq(in(st, 10, &rate), SW_STREAM_BODY_DROP);
	sw_stream_close(st);
	sw_stream_free_all(&set);
	free(loop.heap);
}
END_TEST

/* min_body_rate 0: never cut, however slow. */
START_TEST(test_rate_off)
{
	struct sw_loop loop;
	struct sw_stream_set set;
	struct sw_limits_cfg lim = { .max_header_bytes = 8192, .max_header_count = 16,
				     .max_body_bytes = 1 << 20, .min_body_rate = 0,
				     .min_rate_window_ms = 1000 };
	struct sw_stream *st;
	uint64_t rate = 0;

	memset(&loop, 0, sizeof(loop));
	memset(&set, 0, sizeof(set));
	st = sw_stream_open(&set, sizeof(*st), &cls, &loop, &lim, 8192);
	for (int k = 0; k < 10; k++) {
		ask(st);
		loop.now += 5000;
		ck_assert_int_eq(in(st, 1, &rate), SW_STREAM_BODY_KEPT);
		st->kick.cb(&st->kick);
	}
	sw_stream_close(st);
	sw_stream_free_all(&set);
	free(loop.heap);
}
END_TEST

static Suite *stream_suite(void)
{
	Suite *s = suite_create("stream");
	TCase *tc = tcase_create("min_body_rate");

	tcase_add_test(tc, test_trickle_cut_pause_not_counted);
	tcase_add_test(tc, test_rate_off);
	suite_add_tcase(s, tc);
	return s;
}

SW_TEST_SUITE(stream_suite);
