/* SPDX-License-Identifier: MIT */
/* min_rate.c - minimum data rates: a client that trickles is cut, not only one that stops (Apache's mod_reqtimeout MinRate). */
#include <config.h>

#include "http/min_rate.h"

bool sw_min_rate_ok(struct sw_min_rate *r, uint64_t now, uint64_t n, uint32_t min,
		    uint32_t window_ms, uint64_t *rate)
{
	if (r->waiting && now > r->since)
		r->busy_ms += now - r->since;
	r->waiting = false;
	r->since = now;
	r->bytes += n;
	if (min == 0 || r->busy_ms < window_ms)
		return true;
	*rate = r->bytes * 1000 / r->busy_ms;
	if (*rate < min)
		return false;
	r->busy_ms = r->bytes = 0;   /* a fresh window */
	return true;
}
