/* admin.h - the admin API on its own listener: key auth, status, config, routes, upstreams. */
#ifndef SW_ADMIN_ADMIN_H
#define SW_ADMIN_ADMIN_H

#include <json-c/json.h>
#include "http/exchange.h"

/* Every request of the admin listener comes here (nothing else does). */
void sw_admin_handle(struct sw_exchange *x);

/* ---- shared by the files of src/admin/ ---- */

/* Answers with a JSON document (which the call releases). */
void sw_admin_json(struct sw_exchange *x, int status, json_object *doc);
/* A JSON string of s, any byte that is not UTF-8 replaced by U+FFFD. */
json_object *sw_admin_text(const char *s);
/* {"error": message} with the status. */
void sw_admin_error(struct sw_exchange *x, int status, const char *message);

/* admin_guard.c: milliseconds left of a lockout of x's address (or of all), else 0. */
uint64_t sw_admin_guard_locked(const struct sw_exchange *x);
/* admin_guard.c: counts a wrong key; begins (logs, counts) a lockout past a budget. */
void sw_admin_guard_fail(const struct sw_exchange *x);

/* admin_status.c: GET /v1/status. */
json_object *sw_admin_status(const struct sw_exchange *x);

/* The running config's routes or upstreams array (a new reference). */
json_object *sw_admin_section(const struct sw_exchange *x, const char *key);

#endif
