/* SPDX-License-Identifier: MIT */
/* jwt_impl.h - what the JWT files (jwt.c, jws.c, jwks.c, jwt_cache.c) share: keys, algorithms, the cache. */
#ifndef SW_AUTH_JWT_IMPL_H
#define SW_AUTH_JWT_IMPL_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>
#include "auth/jwt.h"
#include "core/lru.h"

struct sw_diag;
struct json_object;

/* The JWA signature algorithms accepted; "none" is not one of them. */
enum sw_jws_alg {
	SW_JWS_HS256, SW_JWS_HS384, SW_JWS_HS512,
	SW_JWS_RS256, SW_JWS_RS384, SW_JWS_RS512,
	SW_JWS_PS256,
	SW_JWS_ES256, SW_JWS_ES384,
	SW_JWS_EDDSA,
	SW_JWS_ALG_COUNT
};

/* The kind of key an algorithm needs: a key verifies only its own kind's algorithms. */
enum sw_jws_kty { SW_KTY_OCT, SW_KTY_RSA, SW_KTY_EC256, SW_KTY_EC384, SW_KTY_ED25519 };

/* Its "alg" name, or -1. */
int sw_jws_alg_parse(const char *name, size_t len);
const char *sw_jws_alg_name(enum sw_jws_alg alg);
enum sw_jws_kty sw_jws_alg_kty(enum sw_jws_alg alg);
/* The smallest HMAC secret (RFC 7518 3.2: the hash's size) an HS algorithm takes. */
size_t sw_jws_min_secret(enum sw_jws_alg alg);

struct sw_jwt_key {
	char *kid;                /* NULL: matches a token with or without "kid" */
	uint32_t algs;            /* bit per enum sw_jws_alg the config allows for it */
	enum sw_jws_kty kty;
	EVP_PKEY *pkey;           /* NULL for oct */
	unsigned char *secret;    /* oct: the HMAC key */
	size_t secret_len;
};

void sw_jwt_key_clear(struct sw_jwt_key *k);
/* The kind of a public key (RSA >= 2048 bits, P-256, P-384, Ed25519); -1 and *why otherwise. */
int sw_jws_pkey_kty(EVP_PKEY *pkey, const char **why);

/*
 * Checks sig over input (the ASCII "header.payload") with k for alg; true
 * when it verifies.  ES signatures are JOSE's raw r||s, converted to DER here.
 */
bool sw_jws_verify(const struct sw_jwt_key *k, enum sw_jws_alg alg, const char *input, size_t input_len,
		   const unsigned char *sig, size_t sig_len);

/*
 * base64url without padding (RFC 7515 2), strictly: no '=', no other
 * alphabet, unused trailing bits zero.  out holds at least len * 3 / 4 + 1
 * bytes.  The decoded length, or -1.
 */
ssize_t sw_b64url_decode(const char *in, size_t len, unsigned char *out);

/*
 * A JWK (RFC 7517) object to a key: RSA (n, e), EC P-256/P-384 (crv, x, y),
 * OKP Ed25519 (crv, x), or oct (k).  Errors name path.  SW_OK, SW_DECLINED
 * for a key that is not for signatures ("use": "enc"), SW_ERROR.
 */
int sw_jwk_parse(struct json_object *jwk, const char *path, struct sw_jwt_key *out, struct sw_diag *diag);

/* A PEM public key file (SubjectPublicKeyInfo); NULL with an error in diag. */
EVP_PKEY *sw_pem_read_public(const char *file, const char *path, struct sw_diag *diag);

/* The verified-token cache: what a hit needs to skip the verification. */
struct sw_jwt_cached {
	struct sw_lru_node lru;
	struct sw_jwt_cached *hnext;   /* bucket chain */
	unsigned char hash[32];        /* SHA-256 of the token */
	int64_t exp;                   /* the token's exp (seconds) */
	struct sw_jwt_identity *id;    /* one reference */
};

struct sw_jwt_cache {
	struct sw_jwt_cached **buckets;
	size_t nbuckets, count, max;
	struct sw_lru lru;
};

void sw_jwt_cache_init(struct sw_jwt_cache *c, size_t max);
void sw_jwt_cache_deinit(struct sw_jwt_cache *c);
/* The live entry for hash, made most recent; an expired one is dropped (NULL). */
struct sw_jwt_cached *sw_jwt_cache_get(struct sw_jwt_cache *c, const unsigned char hash[32], int64_t now);
/* Adds an entry taking a new reference to id (the least recent one goes when full). */
void sw_jwt_cache_put(struct sw_jwt_cache *c, const unsigned char hash[32], int64_t exp,
		      struct sw_jwt_identity *id);

/* A compiled "auth.jwt" block (jwt.c); the cache is the worker's own. */
struct sw_jwt {
	struct sw_jwt_key *keys;
	size_t nkeys;
	char **issuers, **audiences, **required;
	size_t nissuers, naudiences, nrequired;
	int64_t leeway;
	char *consumer_claim;
	char *cookie;
	char **claims, **headers;      /* claims_to_headers, in its order */
	unsigned nclaims;
	size_t cache_size;
	bool forward_token;
	struct sw_jwt_cache cache;
};

#endif
