/* SPDX-License-Identifier: MIT */
/*
 * fake_loop.c - the loop's clock and timers, the HTTP date and peer
 * addresses for the HTTP/2 and HTTP/3 fuzz targets (see fake_loop.h).
 * The timer list is a plain array: a run arms few, and a linear search
 * keeps the order timers fire in obvious.
 */
#include <config.h>

#define FUZZ_NAME "fake_loop"
#include "fuzz_common.h"
#include "fake_loop.h"
#include "core/clock.h"
#include "event/loop.h"
#include "http/client_addr.h"

#define MAX_TIMERS 4096

uint64_t fuzz_now;
static struct sw_timer *timers[MAX_TIMERS];
static size_t ntimers;

void fuzz_loop_reset(uint64_t now)
{
	fuzz_now = now;
	ntimers = 0;
}

size_t fuzz_timers_armed(void)
{
	return ntimers;
}

uint64_t sw_loop_now(const struct sw_loop *loop)
{
	(void)loop;
	return fuzz_now;
}

void sw_timer_init(struct sw_timer *t, sw_timer_cb cb, void *data)
{
	t->cb = cb;
	t->data = data;
	t->heap_index = 0;
	t->deadline = 0;
}

void sw_timer_add(struct sw_loop *loop, struct sw_timer *t, uint64_t ms)
{
	(void)loop;
	t->deadline = fuzz_now + ms;
	if (t->heap_index)
		return;
	CHECK(ntimers < MAX_TIMERS, "too many timers");
	timers[ntimers++] = t;
	t->heap_index = ntimers;
}

void sw_timer_del(struct sw_loop *loop, struct sw_timer *t)
{
	(void)loop;
	if (!t->heap_index)
		return;
	for (size_t i = 0; i < ntimers; i++)
		if (timers[i] == t) {
			timers[i] = timers[--ntimers];
			break;
		}
	t->heap_index = 0;
}

bool fuzz_fire_timer(uint64_t until)
{
	struct sw_timer *t = NULL;

	for (size_t i = 0; i < ntimers; i++)
		if (!t || timers[i]->deadline < t->deadline)
			t = timers[i];
	if (!t || t->deadline > until)
		return false;
	sw_timer_del(NULL, t);
	if (t->deadline > fuzz_now)
		fuzz_now = t->deadline;
	t->cb(t);
	return true;
}

const char *sw_clock_http_date(void)
{
	return "Sun, 06 Nov 1994 08:49:37 GMT";
}

void sw_addr_format(const struct sockaddr *sa, char *buf, size_t size)
{
	(void)sa;
	snprintf(buf, size, "fuzz");
}
