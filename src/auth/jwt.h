/* SPDX-License-Identifier: MIT */
/* jwt.h - JSON Web Token verification (RFC 7519/7515): the "jwt" auth method's checks, with no exchange in sight. */
#ifndef SW_AUTH_JWT_H
#define SW_AUTH_JWT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct sw_diag;
struct json_object;
struct sw_jwt;

/* Tokens longer than this are refused before any work (a header holds them). */
#define SW_JWT_MAX_TOKEN 8192

/*
 * What a verified token says about its bearer: the consumer name and the
 * values of the configured claims_to_headers, in their order (NULL where
 * the claim is absent).  Refcounted: the cache and the exchanges that use
 * an entry share it.
 */
struct sw_jwt_identity {
	unsigned refs;
	char *consumer;
	unsigned nvalues;
	char *values[];
};

void sw_jwt_identity_release(struct sw_jwt_identity *id);

/*
 * Compiles an "auth.jwt" object (keys, algorithms, claims checks; man
 * swerver.json(5)).  Key files are read here, so a reload re-reads them.
 * Errors name their key path under path.  NULL on error.
 */
struct sw_jwt *sw_jwt_compile(struct json_object *conf, const char *path, struct sw_diag *diag);
void sw_jwt_release(struct sw_jwt *j);

/*
 * Verifies a compact JWS token at time now (seconds since the epoch): the
 * signature with a configured key for its "alg" and "kid", then the claims.
 * On success *id is the bearer's identity (a reference the caller releases)
 * and SW_OK is returned; otherwise SW_ERROR and *reason, a short label for
 * logs and metrics that never holds the token ("expired", "bad_signature").
 * Repeated tokens come from a cache of verified ones until their "exp".
 */
int sw_jwt_verify(struct sw_jwt *j, const char *token, size_t len, int64_t now,
		  struct sw_jwt_identity **id, const char **reason);

/* The same without the cache (tests, and the cache's first sight of a token). */
int sw_jwt_verify_uncached(const struct sw_jwt *j, const char *token, size_t len, int64_t now,
			   struct sw_jwt_identity **id, int64_t *exp, const char **reason);

/* Where the token comes from: a cookie's name, or NULL for Authorization: Bearer only. */
const char *sw_jwt_cookie(const struct sw_jwt *j);
/* forward_token: the Authorization header goes upstream as it came (default: removed). */
bool sw_jwt_forward_token(const struct sw_jwt *j);
/* The header names claims_to_headers forwards, in the order of identity values. */
unsigned sw_jwt_header_count(const struct sw_jwt *j);
const char *sw_jwt_header_name(const struct sw_jwt *j, unsigned i);

#endif
