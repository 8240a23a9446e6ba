/* SPDX-License-Identifier: MIT */
/* metrics.h - swerver_auth_failures_total{route,method,reason}, owned by src/auth/. */
#ifndef SW_AUTH_METRICS_H
#define SW_AUTH_METRICS_H

#include <stddef.h>

struct sw_exchange;
struct sw_shm;

/* One refused request on x's route, by the method that refused and its reason label. */
void sw_auth_metrics_failure(struct sw_exchange *x, const char *method, const char *reason);
/* The family for /metrics (struct sw_module.metrics). */
size_t sw_auth_metrics_emit(const struct sw_shm *shm, char *buf, size_t size);

#endif
