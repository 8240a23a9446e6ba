/* SPDX-License-Identifier: MIT */
/* admin.h - the admin API on its own listener: key auth, status, config, routes, upstreams. */
#ifndef SW_ADMIN_ADMIN_H
#define SW_ADMIN_ADMIN_H

#include <json-c/json.h>
#include "http/exchange.h"

/* Every request of the admin listener comes here (nothing else does). */
void sw_admin_handle(struct sw_exchange *x);

/* ---- changes, made by the daemon ---- */

enum sw_admin_op { SW_ADMIN_OP_PUT_ROUTE, SW_ADMIN_OP_DEL_ROUTE, SW_ADMIN_OP_PUT_UPSTREAM,
		   SW_ADMIN_OP_DEL_UPSTREAM, SW_ADMIN_OP_RELOAD, SW_ADMIN_OP_PERSIST,
		   SW_ADMIN_OP_UPGRADE, SW_ADMIN_OPS };
/* "put_route", ...; and back (SW_ADMIN_OPS when unknown). */
const char *sw_admin_op_name(enum sw_admin_op op);
enum sw_admin_op sw_admin_op_parse(const char *name);
/*
 * admin_edit.c: base with one change made (a route or upstream put, by
 * path_prefix+host or name, or deleted), validated by the config loader,
 * as JSON text (malloc'ed); NULL with *status and *message (malloc'ed)
 * set: 400 with the first error and its key path, 404, 409.
 */
char *sw_admin_edit(const struct sw_config *base, enum sw_admin_op op, const char *arg,
		    int *status, char **message);
/* The outcome: 200 with a summary, or an error status with the reason. */
typedef void (*sw_admin_done_fn)(struct sw_exchange *x, int status, const char *text);

/*
 * What the worker installs in its context (ctx->hooks.admin, with
 * ctx->hooks.owner as the first argument).
 */
struct sw_admin_hooks {
	/*
	 * Has the master (or, in single-process mode, this process) make a
	 * change to the running config (arg: the JSON object, or the name),
	 * reload from the file, or persist the running config; done answers x
	 * when that is over, on every worker alike.  The master applies
	 * changes one at a time to its own config, so concurrent ones never
	 * undo each other.
	 */
	void (*request)(void *owner, struct sw_exchange *x, enum sw_admin_op op, const char *arg,
			sw_admin_done_fn done);
};

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
