/* SPDX-License-Identifier: MIT */
/* min_rate.h - a minimum data rate over a window of time spent waiting on a peer (limits.min_body_rate). */
#ifndef SW_HTTP_MIN_RATE_H
#define SW_HTTP_MIN_RATE_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Only the time we wait on the peer counts (a recv or a send of ours
 * pending), so a slow handler or upstream is never blamed on the client;
 * a peer that sends or takes nothing at all is left to body_ms/write_ms.
 */
struct sw_min_rate {
	bool waiting;       /* a recv or send of ours is pending */
	uint64_t since;     /* when it began */
	uint64_t busy_ms;   /* waited in this window */
	uint64_t bytes;     /* moved in this window */
};

static inline void sw_min_rate_reset(struct sw_min_rate *r)
{
	r->waiting = false;
	r->since = r->busy_ms = r->bytes = 0;
}

/* A wait on the peer begins (a recv or send is started) at now (ms). */
static inline void sw_min_rate_wait(struct sw_min_rate *r, uint64_t now)
{
	r->waiting = true;
	r->since = now;
}

/*
 * The wait ended at now with n bytes.  False when a whole window of
 * waiting (window_ms) moved fewer than min bytes a second; *rate then
 * holds the rate seen.  min 0 never refuses.
 */
bool sw_min_rate_ok(struct sw_min_rate *r, uint64_t now, uint64_t n, uint32_t min,
		    uint32_t window_ms, uint64_t *rate);


#endif
