/* SPDX-License-Identifier: MIT */
/* lockout.h - routes[].auth.lockout: too many failed credentials from one client address, then 429 for a while. */
#ifndef SW_AUTH_LOCKOUT_H
#define SW_AUTH_LOCKOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/shm.h"

struct sw_exchange;
struct sw_diag;
struct json_object;

/* failures == 0: off ("lockout": false). */
struct sw_auth_lockout {
	uint32_t failures;      /* failed credentials within window_ms that begin a lockout */
	uint32_t window_ms;
	uint32_t lockout_ms;
};

#define SW_AUTH_LOCKOUT_FAILURES 10
#define SW_AUTH_LOCKOUT_WINDOW_MS 60000
#define SW_AUTH_LOCKOUT_MS 60000

/* Fills lo from conf (NULL: the defaults); errors go to diag under path. */
int sw_auth_lockout_parse(struct json_object *conf, const char *path, struct sw_auth_lockout *lo,
			  struct sw_diag *diag);

/* The table (n slots): ms left of key's lockout at now, 0 when key is not locked out. */
uint64_t sw_auth_lockout_left(struct sw_lockout_slot *table, size_t n, uint64_t key, uint64_t now);
/* Counts one failure of key at now; true when it begins a lockout. */
bool sw_auth_lockout_fail(struct sw_lockout_slot *table, size_t n, uint64_t key,
			  const struct sw_auth_lockout *lo, uint64_t now);

/* The exchange side: x's key (its route and real client address), its ms left, one failure. */
uint64_t sw_auth_lockout_key(const struct sw_exchange *x);
uint64_t sw_auth_lockout_check(struct sw_exchange *x, uint64_t key);
void sw_auth_lockout_failed(struct sw_exchange *x, uint64_t key, const struct sw_auth_lockout *lo);

#endif
