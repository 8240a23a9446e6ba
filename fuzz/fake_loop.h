/* SPDX-License-Identifier: MIT */
/*
 * fake_loop.h - the event loop as the HTTP/2 and HTTP/3 fuzz targets fake
 * it: a clock that moves only when a timer fires, and timers the target
 * fires itself, earliest first.
 */
#ifndef SW_FUZZ_FAKE_LOOP_H
#define SW_FUZZ_FAKE_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

extern uint64_t fuzz_now;

/* No timer armed; the clock at `now` ms. */
void fuzz_loop_reset(uint64_t now);
size_t fuzz_timers_armed(void);
/* Fires the earliest timer if it is due by `until`; false when none is. */
bool fuzz_fire_timer(uint64_t until);

#endif
