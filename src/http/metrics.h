/* SPDX-License-Identifier: MIT */
/* metrics.h - Prometheus exposition of the shared counters, and per-exchange accounting. */
#ifndef SW_HTTP_METRICS_H
#define SW_HTTP_METRICS_H

#include <stdint.h>
#include "core/common.h"
#include "http/exchange.h"


/*
 * GET or HEAD /metrics: 200 with the whole server's counters (every
 * worker slot summed) in the Prometheus text format 0.0.4.  Other methods
 * get 405 with Allow: GET, HEAD; other paths SW_DECLINED.
 */
int sw_metrics_handle(struct sw_exchange *x);

/*
 * Accounts one finished exchange in this worker's slot: requests by
 * protocol and status class, bytes in and out, the duration histogram.
 * Called exactly once per exchange (sw_exchange_finish), on every protocol.
 */
void sw_metrics_observe(const struct sw_exchange *x);

/* Answers x with the exposition (the admin API's GET /v1/metrics too). */
void sw_metrics_respond(struct sw_exchange *x);

/* The duration histogram bucket of ms (SW_DURATION_BOUNDS_MS, then +Inf). */
unsigned sw_metrics_bucket(uint64_t ms);

/* A text being written, or only measured (buf NULL): its length grows either way. */
struct sw_metrics_out {
	char *buf;
	size_t cap, len;
};

/* The writer (a unit's metrics hook may use it): text, "# HELP/# TYPE" lines, an escaped label value. */
sw_printf(2, 3) void sw_metrics_put(struct sw_metrics_out *o, const char *fmt, ...);
void sw_metrics_family(struct sw_metrics_out *o, const char *name, const char *type,
		       const char *help);
void sw_metrics_label_value(struct sw_metrics_out *o, const char *v);
/* The le="..." label of duration bucket b. */
const char *sw_metrics_bound_text(unsigned bucket);

#endif
