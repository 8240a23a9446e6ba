/* SPDX-License-Identifier: MIT */
/*
 * policy.h - the policy chain on the exchange: what runs before the handler
 * (auth, rate limits, CORS preflight, ...) and before every response head.
 * DESIGN-NOTES.md "How to write a policy" is the recipe.
 */
#ifndef SW_HTTP_POLICY_H
#define SW_HTTP_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include "core/config.h"
#include "core/policy_def.h"   /* struct sw_policy, enum sw_policy_verdict, SW_POLICY_ROUTE/GLOBAL */
#include "http/exchange.h"

/*
 * Place in the chain (struct sw_policy.order), lower first.  Request side:
 * the cheapest refusals first, then who the client is, then what it may
 * spend.  Response hooks run in the same order (global chain, then the
 * route's), so a later one sees the headers an earlier one added.
 */
enum {
	SW_POLICY_ORDER_PROBES = 0,        /* /.healthz, /.ready: before anything can refuse them */
	SW_POLICY_ORDER_ACCESS = 10,       /* access: CIDRs, methods */
	SW_POLICY_ORDER_CORS = 20,         /* cors: preflight answered, response headers */
	SW_POLICY_ORDER_AUTH = 30,         /* auth: sets x->consumer */
	SW_POLICY_ORDER_RATE_LIMIT = 40,   /* rate_limit: may key on x->consumer */
	SW_POLICY_ORDER_BODY_SCHEMA = 50,  /* body_schema: holds the body (sw_exchange_hold_body) */
	SW_POLICY_ORDER_HEADERS = 60,      /* headers: response (and upstream) fields */
};

/* One compiled chain: a route's, or the config's global one.  Refcounted. */
struct sw_policy_item {
	const struct sw_policy *policy;
	void *state;                       /* compile's result; NULL: failed here, answers 503 */
};

struct sw_policy_chain {
	unsigned refs;
	unsigned count;
	bool has_response;                 /* some item has a response hook */
	struct sw_policy_item items[];     /* by order, then as written */
};

/*
 * Compiles set (a route's, scope SW_POLICY_ROUTE, or the root's, scope
 * SW_POLICY_GLOBAL, which adds the SW_POLICY_ALWAYS policies) into a chain
 * with one reference; path names the object in messages ("routes[3]", "").
 * NULL when it has no policy: such a route costs one NULL check.  A policy
 * that no longer compiles (a key file gone since the config was checked)
 * is logged and kept as an item that answers 503: a failed auth policy
 * must not let requests through.
 */
struct sw_policy_chain *sw_policy_chain_build(const struct sw_policy_set *set, unsigned scope,
					      const char *path);
void sw_policy_chain_put(struct sw_policy_chain *c);

/* What runs once a chain let the exchange through, and what frees data when it will not. */
typedef void (*sw_policy_then_fn)(struct sw_exchange *x, void *data);
typedef void (*sw_policy_drop_fn)(void *data);

/*
 * Runs c's request hooks on x in order (c may be NULL: CONTINUE).  CONTINUE:
 * the caller goes on to its handler itself (then is not called).  DONE: x
 * was answered.  PAUSE: x belongs to the chain now; when the pausing policy
 * resumes it with CONTINUE and the rest of the chain passes, then(x, data)
 * runs; otherwise drop(data) does (an answer, or the client went away).
 * Response hooks of c run before x's response head, whoever answers.
 */
enum sw_policy_verdict sw_policy_run(struct sw_exchange *x, struct sw_policy_chain *c,
				     sw_policy_then_fn then, sw_policy_drop_fn drop, void *data);
/*
 * A paused policy's decision, from the loop: CONTINUE (the chain goes on)
 * or DONE (it answered x first).
 */
void sw_policy_resume(struct sw_exchange *x, enum sw_policy_verdict v);
/*
 * The state (compile's result) of the policy that paused x, for the
 * callback it waits on (sw_hold_cb has no data pointer); NULL when x is
 * not paused.
 */
void *sw_policy_paused_state(const struct sw_exchange *x);

/*
 * p's item in the chain of the route x will match (a proxy route; matched
 * here, so ask only for the few requests that need it), or in the global
 * chain; NULL when that chain has none.  Its state is NULL when it failed
 * to compile (its requests get 503).  For a global policy that lets a
 * route's own decide (cors) and one that judges a request another answers
 * (access, a CORS preflight).
 */
const struct sw_policy_item *sw_policy_route_item(const struct sw_exchange *x,
						  const struct sw_policy *p);
const struct sw_policy_item *sw_policy_global_item(const struct sw_exchange *x,
						   const struct sw_policy *p);

/* sw_policy_respond (exchange.h): codecs, before a response head (x->policy set). */
/* sw_exchange_finish: frees x's policy state (x->policy is not NULL). */
void sw_policy_finish(struct sw_exchange *x);

/* ---- exchange helpers for policies ---- */

/*
 * Memory that lives until the exchange finishes (header values a policy
 * adds to x->resp, a consumer name); zeroed.
 */
void *sw_exchange_alloc(struct sw_exchange *x, size_t size);
/* s copied into sw_exchange_alloc memory, as an sw_str. */
struct sw_str sw_exchange_str(struct sw_exchange *x, const char *s, size_t len);

/*
 * Header edits for the upstream request, applied by the proxy when it
 * builds the upstream head (src/proxy/headers.c): set replaces every
 * client field of that name, remove drops them.  Copied; the last edit of
 * a name wins.  SW_ERROR past 32 edits.
 */
int sw_exchange_upstream_set(struct sw_exchange *x, const char *name, const char *value);
int sw_exchange_upstream_remove(struct sw_exchange *x, const char *name);

/* One upstream edit; value NULL: removed. */
struct sw_upstream_edit {
	char *name;
	char *value;
};
/* x's edits (proxy); *n gets their count. */
const struct sw_upstream_edit *sw_exchange_upstream_edits(const struct sw_exchange *x,
							  size_t *n);

/*
 * Reads the whole request body into memory, then calls cb(x, body, len)
 * from the loop; the policy calling it returns SW_POLICY_PAUSE and decides
 * in cb (sw_policy_resume).  A body over max bytes (or
 * limits.max_body_bytes) is answered 413, a bad one 400, a slow one 408,
 * and the pause ends there (cb is not called).  Later read_body calls (the
 * proxy's) get the held body replayed, so the handler forwards it
 * unchanged.  A request without a body calls cb with len 0.
 */
typedef void (*sw_hold_cb)(struct sw_exchange *x, const char *body, size_t len);
void sw_exchange_hold_body(struct sw_exchange *x, size_t max, sw_hold_cb cb);

#endif
