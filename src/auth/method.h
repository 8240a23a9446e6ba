/* SPDX-License-Identifier: MIT */
/* method.h - what one authentication method ("api_key", "jwt", "basic", ...) implements for routes[].auth. */
#ifndef SW_AUTH_METHOD_H
#define SW_AUTH_METHOD_H

#include <stdbool.h>

struct sw_exchange;
struct sw_diag;
struct json_object;

enum sw_auth_outcome {
	SW_AUTH_OK,
	SW_AUTH_ABSENT,   /* no credential of this kind: a chain tries the next method */
	SW_AUTH_FAIL,     /* present but bad */
	SW_AUTH_PENDING,  /* forward_auth: the method calls done later, from the loop */
};

struct sw_auth_result {
	enum sw_auth_outcome outcome;
	const char *consumer;   /* on OK: the consumer's name, valid for the exchange's life */
	/* On FAIL (and ABSENT): a short label for the metric and log ("expired",
	 * "bad_signature", "unknown_key"); never a secret. */
	const char *reason;
	int status;             /* on FAIL: 401 (0 means 401) or 403 */
	/* The method that decided (a chain's member), for the metric; NULL: the one called. */
	const char *method;
	/* On FAIL: the method put the whole answer in x->resp (forward_auth relays the service's). */
	bool responded;
};

typedef void (*sw_auth_done_fn)(struct sw_exchange *x, const struct sw_auth_result *r);

struct sw_auth_method {
	const char *name;       /* its key inside "auth": "api_key", "jwt", "basic", "forward_auth", "anonymous" */
	const char *challenge;  /* WWW-Authenticate scheme on 401 ("Bearer", "Basic"), or NULL */
	/* The challenge's error attribute when a credential was presented and
	 * failed (RFC 6750 3.1: "invalid_token"); never sent for a missing one.  NULL: none. */
	const char *fail_error;
	/* Validates and compiles the method's JSON value; errors go to diag with
	 * their key path ("routes[2].auth.jwt.alg: ..."); NULL on error. */
	void *(*compile)(struct json_object *conf, const char *path, struct sw_diag *diag);
	void (*release)(void *state);
	/* Fills r; may set SW_AUTH_PENDING and call done from the loop later
	 * (forward_auth).  done is never called from inside check. */
	void (*check)(struct sw_exchange *x, void *state, struct sw_auth_result *r,
		      sw_auth_done_fn done);
	/* The client went away while check was PENDING: stop, never call done.  NULL: never pends. */
	void (*cancel)(struct sw_exchange *x, void *state);
};

#endif
