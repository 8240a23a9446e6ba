/* SPDX-License-Identifier: MIT */
/* auth_impl.h - what the files of src/auth/ share: the method table and small parsers. */
#ifndef SW_AUTH_AUTH_IMPL_H
#define SW_AUTH_AUTH_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include "auth/method.h"
#include "core/str.h"

struct sw_policy;
/* routes[].auth on the policy chain (policy.c). */
extern const struct sw_policy sw_auth_policy;

/* One compiled method: the object {"api_key": {...}} of an auth block or a chain. */
struct sw_auth_node {
	const struct sw_auth_method *m;
	void *state;
};

extern const struct sw_auth_method sw_auth_api_key;
extern const struct sw_auth_method sw_auth_basic;
extern const struct sw_auth_method sw_auth_anonymous;
extern const struct sw_auth_method sw_auth_chain;
extern const struct sw_auth_method sw_auth_jwt;
extern const struct sw_auth_method sw_auth_forward_auth;

/* The built-in method called name, or NULL. */
const struct sw_auth_method *sw_auth_method_find(const char *name);
/* Every method name, for error messages ("api_key, basic, ..."). */
const char *sw_auth_method_names(void);

/*
 * Compiles an object holding exactly one method key ({"basic": {...}});
 * `extra` lists other keys the caller allows there (NULL-terminated, may be
 * NULL).  depth counts nested chains (at most SW_AUTH_CHAIN_DEPTH).
 */
#define SW_AUTH_CHAIN_DEPTH 3
int sw_auth_node_compile(struct sw_auth_node *n, struct json_object *obj, const char *path,
			 const char *const *extra, unsigned depth, struct sw_diag *diag);
void sw_auth_node_release(struct sw_auth_node *n);
/* The WWW-Authenticate schemes n's methods use, up to max; their count. */
size_t sw_auth_node_challenges(const struct sw_auth_node *n, const char **out, size_t max);
size_t sw_auth_chain_challenges(const void *chain, const char **out, size_t max);
/* The chain's compile depth while it compiles its members. */
extern unsigned sw_auth_compile_depth;

/* A valid field name (RFC 9110 token). */
bool sw_auth_is_token(const char *s);
/* Printable ASCII without quotes or backslash: safe in a header value and a log line. */
bool sw_auth_is_label(const char *s);

/*
 * Strict base64 (RFC 4648 4, padding required): decoded length, or -1 when
 * in is not base64 or does not fit cap.
 */
long sw_auth_base64_decode(const char *in, size_t len, unsigned char *out, size_t cap);
/* One base64 digit's value, of the standard alphabet or (url) RFC 4648 5's; -1 for others. */
int sw_auth_b64_value(unsigned char c, bool url);

/*
 * The query without every parameter named param (the rest in their order,
 * joined by '&') into out, which has room for q.len bytes; *value gets the
 * first one's raw value (NULL p when absent).  Returns the new length.
 */
size_t sw_auth_query_remove(struct sw_str q, const char *param, char *out, struct sw_str *value);

/* %XX decoded into out (room for in.len bytes): the length, or -1 for a bad escape. */
long sw_auth_percent_decode(struct sw_str in, char *out);

/*
 * Credential edits for the upstream request, made by the method that took
 * the credential (so an upstream never sees a key); the policy glue (auth.c)
 * applies them to the exchange.
 */
void sw_auth_strip_header(struct sw_exchange *x, const char *name);
void sw_auth_strip_query_param(struct sw_exchange *x, const char *param);
/* A header for the upstream request (jwt's claims_to_headers): replaces the client's; value copied. */
void sw_auth_upstream_set(struct sw_exchange *x, const char *name, const char *value);
/* s copied into memory that lives until the exchange finishes (a consumer name the method does not own). */
const char *sw_auth_keep(struct sw_exchange *x, const char *s);

#endif
