/* SPDX-License-Identifier: MIT */
/* jwt_verify.c - a compact JWS token checked against a compiled "auth.jwt": structure, signature, claims. */
#include <config.h>

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include "auth/jwt.h"
#include "auth/jwt_impl.h"
#include "core/common.h"

/* Decoded parts of a token; 3/4 of the longest token, on the stack. */
#define MAX_PART (SW_JWT_MAX_TOKEN / 4 * 3 + 4)

/*
 * base64url then JSON, strictly: one object and nothing after it, valid
 * UTF-8, nesting bounded.  NULL for anything else.
 */
static struct json_object *decode_json(const char *b64, size_t len)
{
	unsigned char buf[MAX_PART];
	ssize_t n = sw_b64url_decode(b64, len, buf);
	struct json_tokener *tok;
	struct json_object *obj;

	if (n <= 0)
		return NULL;
	tok = json_tokener_new_ex(16);
	if (!tok)
		abort();
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, (const char *)buf, (int)n);
	if (obj && (json_tokener_get_error(tok) != json_tokener_success ||
		    json_tokener_get_parse_end(tok) != (size_t)n || !json_object_is_type(obj, json_type_object))) {
		json_object_put(obj);
		obj = NULL;
	}
	json_tokener_free(tok);
	return obj;
}

/* The header's "alg" and "kid"; SW_ERROR with *reason. */
static int read_header(struct json_object *h, int *alg, const char **kid, const char **reason)
{
	struct json_object *v;
	const char *s;

	if (!json_object_object_get_ex(h, "alg", &v) || !json_object_is_type(v, json_type_string)) {
		*reason = "bad_token";
		return SW_ERROR;
	}
	s = json_object_get_string(v);
	*alg = sw_jws_alg_parse(s, (size_t)json_object_get_string_len(v));
	if (*alg < 0) {
		*reason = strcasecmp(s, "none") == 0 ? "alg_none" : "alg_not_allowed";
		return SW_ERROR;
	}
	/* No extension is understood, so any critical one must fail (RFC 7515 4.1.11); "typ" is advisory. */
	if (json_object_object_get_ex(h, "crit", NULL)) {
		*reason = "crit";
		return SW_ERROR;
	}
	*kid = NULL;
	if (json_object_object_get_ex(h, "kid", &v)) {
		if (!json_object_is_type(v, json_type_string)) {
			*reason = "bad_token";
			return SW_ERROR;
		}
		*kid = json_object_get_string(v);
	}
	return SW_OK;
}

/* The signature against every key that allows alg and matches kid. */
static int check_signature(const struct sw_jwt *j, int alg, const char *kid, const char *input,
			   size_t input_len, const char *sig64, size_t sig64_len, const char **reason)
{
	unsigned char sig[MAX_PART];
	ssize_t n = sw_b64url_decode(sig64, sig64_len, sig);
	bool alg_ok = false, kid_ok = false;

	if (n <= 0) {
		*reason = "bad_token";
		return SW_ERROR;
	}
	for (size_t i = 0; i < j->nkeys; i++) {
		const struct sw_jwt_key *k = &j->keys[i];

		if (!(k->algs & (1u << alg)))
			continue;
		alg_ok = true;
		if (kid && k->kid && strcmp(kid, k->kid) != 0)
			continue;
		kid_ok = true;
		if (sw_jws_verify(k, alg, input, input_len, sig, (size_t)n))
			return SW_OK;
	}
	*reason = !alg_ok ? "alg_not_allowed" : !kid_ok ? "unknown_kid" : "bad_signature";
	return SW_ERROR;
}

#define DATE_LIMIT ((int64_t)1 << 53)

/* A NumericDate claim (RFC 7519 2); false when present and not a number. */
static bool numeric_date(struct json_object *payload, const char *name, bool *present, int64_t *out)
{
	struct json_object *v;
	double d;

	*present = json_object_object_get_ex(payload, name, &v);
	if (!*present)
		return true;
	if (json_object_is_type(v, json_type_int)) {
		/* Clamped to a range where adding the leeway cannot overflow. */
		*out = SW_MAX(SW_MIN(json_object_get_int64(v), DATE_LIMIT), -DATE_LIMIT);
		return true;
	}
	if (!json_object_is_type(v, json_type_double))
		return false;
	d = json_object_get_double(v);
	if (!isfinite(d))
		return false;
	if (d > DATE_LIMIT || d < -DATE_LIMIT) {
		*out = d > 0 ? DATE_LIMIT : -DATE_LIMIT;
		return true;
	}
	/* Rounded down by hand: floor() would need libm in the daemon's link. */
	*out = (int64_t)d;
	if ((double)*out > d)
		(*out)--;
	return true;
}

static int check_times(const struct sw_jwt *j, struct json_object *payload, int64_t now, int64_t *exp,
		       const char **reason)
{
	bool has_exp, has_nbf, has_iat;
	int64_t nbf = 0, iat = 0;

	*exp = INT64_MAX;
	if (!numeric_date(payload, "exp", &has_exp, exp) || !numeric_date(payload, "nbf", &has_nbf, &nbf) ||
	    !numeric_date(payload, "iat", &has_iat, &iat)) {
		*reason = "bad_claim";
		return SW_ERROR;
	}
	/* RFC 7519 4.1.4: the token is good only before exp. */
	if (has_exp && now >= *exp + j->leeway) {
		*reason = "expired";
		return SW_ERROR;
	}
	if ((has_nbf && now + j->leeway < nbf) || (has_iat && now + j->leeway < iat)) {
		*reason = "not_yet_valid";
		return SW_ERROR;
	}
	return SW_OK;
}

static bool listed(char *const *list, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], s) == 0)
			return true;
	return false;
}

/* aud is a string or an array of strings (RFC 7519 4.1.3): one of them must be ours. */
static bool audience_ok(const struct sw_jwt *j, struct json_object *payload)
{
	struct json_object *v;

	if (!json_object_object_get_ex(payload, "aud", &v))
		return false;
	if (json_object_is_type(v, json_type_string))
		return listed(j->audiences, j->naudiences, json_object_get_string(v));
	if (!json_object_is_type(v, json_type_array))
		return false;
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		struct json_object *e = json_object_array_get_idx(v, i);

		if (json_object_is_type(e, json_type_string) &&
		    listed(j->audiences, j->naudiences, json_object_get_string(e)))
			return true;
	}
	return false;
}

static int check_claims(const struct sw_jwt *j, struct json_object *payload, const char **reason)
{
	struct json_object *v;

	for (size_t i = 0; i < j->nrequired; i++)
		if (!json_object_object_get_ex(payload, j->required[i], NULL)) {
			*reason = "missing_claim";
			return SW_ERROR;
		}
	if (j->nissuers && (!json_object_object_get_ex(payload, "iss", &v) ||
			    !json_object_is_type(v, json_type_string) ||
			    !listed(j->issuers, j->nissuers, json_object_get_string(v)))) {
		*reason = "bad_issuer";
		return SW_ERROR;
	}
	if (j->naudiences && !audience_ok(j, payload)) {
		*reason = "bad_audience";
		return SW_ERROR;
	}
	return SW_OK;
}

/*
 * A claim as a header value: strings as they are, numbers and booleans in
 * their JSON form; NULL for other types.  Control characters (CR, LF, NUL)
 * would split or end a header: *bad is set then.
 */
static char *claim_text(struct json_object *v, bool *bad)
{
	const char *s;

	switch (json_object_get_type(v)) {
	case json_type_string:
	case json_type_int:
	case json_type_double:
	case json_type_boolean:
		break;
	default:
		return NULL;
	}
	s = json_object_get_string(v);
	for (const char *c = s; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f) {
			*bad = true;
			return NULL;
		}
	if (json_object_is_type(v, json_type_string) &&
	    strlen(s) != (size_t)json_object_get_string_len(v)) {
		*bad = true;
		return NULL;
	}
	return sw_strdup(s);
}

static struct sw_jwt_identity *identity(const struct sw_jwt *j, struct json_object *payload,
					const char **reason)
{
	struct sw_jwt_identity *id = sw_calloc(1, sizeof(*id) + j->nclaims * sizeof(char *));
	struct json_object *v;
	bool bad = false;

	id->refs = 1;
	id->nvalues = j->nclaims;
	if (json_object_object_get_ex(payload, j->consumer_claim, &v))
		id->consumer = claim_text(v, &bad);
	if (!id->consumer || !id->consumer[0]) {
		*reason = bad ? "bad_claim" : "no_consumer";
		sw_jwt_identity_release(id);
		return NULL;
	}
	for (unsigned i = 0; i < j->nclaims && !bad; i++)
		if (json_object_object_get_ex(payload, j->claims[i], &v))
			id->values[i] = claim_text(v, &bad);
	if (bad) {
		*reason = "bad_claim";
		sw_jwt_identity_release(id);
		return NULL;
	}
	return id;
}

void sw_jwt_identity_release(struct sw_jwt_identity *id)
{
	if (!id || --id->refs > 0)
		return;
	for (unsigned i = 0; i < id->nvalues; i++)
		free(id->values[i]);
	free(id->consumer);
	free(id);
}

int sw_jwt_verify_uncached(const struct sw_jwt *j, const char *token, size_t len, int64_t now,
			   struct sw_jwt_identity **id, int64_t *exp, const char **reason)
{
	const char *dot1, *dot2, *kid;
	struct json_object *header = NULL, *payload = NULL;
	int alg, rc = SW_ERROR;

	*id = NULL;
	*reason = "bad_token";
	if (len > SW_JWT_MAX_TOKEN) {
		*reason = "token_too_large";
		return SW_ERROR;
	}
	dot1 = memchr(token, '.', len);
	dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
	/* Compact JWS only: a fourth part would be JWE, which is not accepted. */
	if (!dot2 || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)))
		return SW_ERROR;
	header = decode_json(token, (size_t)(dot1 - token));
	if (!header || read_header(header, &alg, &kid, reason) != SW_OK)
		goto out;
	if (check_signature(j, alg, kid, token, (size_t)(dot2 - token), dot2 + 1,
			    len - (size_t)(dot2 + 1 - token), reason) != SW_OK)
		goto out;
	/* Only now, signed, is the payload parsed. */
	payload = decode_json(dot1 + 1, (size_t)(dot2 - dot1 - 1));
	if (!payload) {
		*reason = "bad_token";
		goto out;
	}
	if (check_times(j, payload, now, exp, reason) != SW_OK || check_claims(j, payload, reason) != SW_OK)
		goto out;
	*id = identity(j, payload, reason);
	if (*id) {
		*reason = NULL;
		rc = SW_OK;
	}
out:
	json_object_put(header);
	json_object_put(payload);
	return rc;
}

int sw_jwt_verify(struct sw_jwt *j, const char *token, size_t len, int64_t now,
		  struct sw_jwt_identity **id, const char **reason)
{
	unsigned char hash[32];
	unsigned int hlen = 0;
	struct sw_jwt_cached *hit;
	int64_t exp;

	if (len > SW_JWT_MAX_TOKEN) {
		*id = NULL;
		*reason = "token_too_large";
		return SW_ERROR;
	}
	if (j->cache.max == 0 || !EVP_Digest(token, len, hash, &hlen, EVP_sha256(), NULL))
		return sw_jwt_verify_uncached(j, token, len, now, id, &exp, reason);
	hit = sw_jwt_cache_get(&j->cache, hash, now);
	if (hit) {
		*id = hit->id;
		hit->id->refs++;
		*reason = NULL;
		return SW_OK;
	}
	if (sw_jwt_verify_uncached(j, token, len, now, id, &exp, reason) != SW_OK)
		return SW_ERROR;
	/* Tokens with no exp are not kept: nothing would say when to drop them. */
	if (exp != INT64_MAX)
		sw_jwt_cache_put(&j->cache, hash, exp + j->leeway, *id);
	return SW_OK;
}
