/* SPDX-License-Identifier: MIT */
/* jwt.c - the "auth.jwt" block: its config compiled to keys and claim checks, and a token verified against them. */
#include <config.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include "auth/jwt.h"
#include "auth/jwt_impl.h"
#include "core/common.h"
#include "core/config.h"
#include "core/diag.h"

#define DEFAULT_LEEWAY_S 30
#define MAX_LEEWAY_S 300
#define DEFAULT_CACHE 1024
#define MAX_CACHE 1000000
#define MAX_NAMES 64
#define PATH_CAP 512

/* Growing a key path: "PATH.KEY" or "PATH[I]", in a buffer of the caller's. */
static const char *sub(char *buf, size_t cap, const char *path, const char *key)
{
	int n = snprintf(buf, cap, "%s.%s", path, key);

	/* A path too long for the buffer is cut: the message stays readable. */
	if (n < 0 || (size_t)n >= cap)
		buf[cap - 1] = '\0';
	return buf;
}

static const char *idx(char *buf, size_t cap, const char *path, size_t i)
{
	int n = snprintf(buf, cap, "%s[%zu]", path, i);

	if (n < 0 || (size_t)n >= cap)
		buf[cap - 1] = '\0';
	return buf;
}

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* A string or an array of non-empty strings (iss, aud, required_claims); SW_ERROR names the path. */
static int names(struct json_object *v, const char *path, bool single_ok, char ***out, size_t *n,
		 struct sw_diag *diag)
{
	char p[PATH_CAP];
	size_t count;

	if (single_ok && json_object_is_type(v, json_type_string) && json_object_get_string_len(v) > 0) {
		*out = sw_calloc(1, sizeof(char *));
		(*out)[0] = sw_strdup(json_object_get_string(v));
		*n = 1;
		return SW_OK;
	}
	if (!json_object_is_type(v, json_type_array) || json_object_array_length(v) == 0 ||
	    json_object_array_length(v) > MAX_NAMES) {
		sw_diag_error(diag, path, single_ok ? "must be a non-empty string or an array of 1 to 64 strings"
			      : "must be an array of 1 to 64 strings");
		return SW_ERROR;
	}
	count = json_object_array_length(v);
	*out = sw_calloc(count, sizeof(char *));
	*n = 0;
	for (size_t i = 0; i < count; i++) {
		struct json_object *e = json_object_array_get_idx(v, i);

		if (!json_object_is_type(e, json_type_string) || json_object_get_string_len(e) == 0) {
			sw_diag_error(diag, idx(p, sizeof(p), path, i), "must be a non-empty string");
			return SW_ERROR;
		}
		(*out)[(*n)++] = sw_strdup(json_object_get_string(e));
	}
	return SW_OK;
}

/* "algorithms": a bit per allowed algorithm. */
static int parse_algs(struct json_object *v, const char *path, uint32_t *out, struct sw_diag *diag)
{
	char p[PATH_CAP];

	*out = 0;
	if (!json_object_is_type(v, json_type_array) || json_object_array_length(v) == 0) {
		sw_diag_error(diag, path, "must be a non-empty array of algorithm names");
		return SW_ERROR;
	}
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		struct json_object *e = json_object_array_get_idx(v, i);
		const char *s = json_object_get_string(e);
		int alg = json_object_is_type(e, json_type_string) ? sw_jws_alg_parse(s, strlen(s)) : -1;

		if (alg < 0) {
			sw_diag_error(diag, idx(p, sizeof(p), path, i), "\"%s\" is not one of HS256, HS384, HS512, "
				      "RS256, RS384, RS512, PS256, ES256, ES384, EdDSA%s", s,
				      s && strcasecmp(s, "none") == 0 ? " (unsigned tokens are never accepted)" : "");
			return SW_ERROR;
		}
		*out |= 1u << alg;
	}
	return SW_OK;
}

static const char *kty_name(enum sw_jws_kty kty)
{
	static const char *const n[] = { "an HMAC secret", "an RSA key", "a P-256 key", "a P-384 key",
					 "an Ed25519 key" };
	return n[kty];
}

/* Every configured algorithm must fit the key: an HS256 token against an RSA key is refused here already. */
static int check_fit(const struct sw_jwt_key *k, const char *path, struct sw_diag *diag)
{
	for (int a = 0; a < SW_JWS_ALG_COUNT; a++) {
		if (!(k->algs & (1u << a)))
			continue;
		if (sw_jws_alg_kty(a) != k->kty) {
			sw_diag_error(diag, path, "%s does not fit %s", sw_jws_alg_name(a), kty_name(k->kty));
			return SW_ERROR;
		}
		if (k->kty == SW_KTY_OCT && k->secret_len < sw_jws_min_secret(a)) {
			sw_diag_error(diag, path, "%s needs a secret of at least %zu bytes (RFC 7518 3.2), "
				      "this one has %zu", sw_jws_alg_name(a), sw_jws_min_secret(a), k->secret_len);
			return SW_ERROR;
		}
	}
	return SW_OK;
}

static void add_key(struct sw_jwt *j, struct sw_jwt_key *k)
{
	j->keys = sw_realloc(j->keys, (j->nkeys + 1) * sizeof(*j->keys));
	j->keys[j->nkeys++] = *k;
	memset(k, 0, sizeof(*k));
}

#define MAX_SECRET_FILE 4096

/* A secret file: the whole file less its trailing newline. */
static int secret_from_file(const char *file, const char *path, struct sw_jwt_key *k, struct sw_diag *diag)
{
	char *text = NULL;
	size_t len = 0;
	int err = sw_config_read_file(file, MAX_SECRET_FILE, &text, &len, NULL);

	if (err) {
		sw_diag_error(diag, path, "%s: cannot read: %s", file, err == EFBIG ? "larger than 4 KiB" :
			      err == EINVAL ? "not a regular file" : strerror(err));
		return SW_ERROR;
	}
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		len--;
	k->secret = (unsigned char *)text;
	k->secret_len = len;
	return SW_OK;
}

#define MAX_JWKS_FILE (1u << 20)

/* Every signing key of a JWKS file, each given the configured algorithms its kind and "alg" allow. */
static int jwks_file(struct sw_jwt *j, const char *file, uint32_t algs, const char *path, struct sw_diag *diag)
{
	char *text = NULL, p[PATH_CAP];
	size_t len = 0, before = j->nkeys;
	int err = sw_config_read_file(file, MAX_JWKS_FILE, &text, &len, NULL);
	struct json_object *root = NULL, *arr;
	int rc = SW_ERROR;

	if (err) {
		sw_diag_error(diag, path, "%s: cannot read: %s", file, err == EFBIG ? "larger than 1 MiB" :
			      err == EINVAL ? "not a regular file" : strerror(err));
		return SW_ERROR;
	}
	root = json_tokener_parse(text);
	free(text);
	if (!root || !json_object_object_get_ex(root, "keys", &arr) || !json_object_is_type(arr, json_type_array)) {
		sw_diag_error(diag, path, "%s: not a JWK set (a JSON object with a \"keys\" array)", file);
		goto out;
	}
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *jwk = json_object_array_get_idx(arr, i), *a;
		struct sw_jwt_key k;
		int r;

		if (snprintf(p, sizeof(p), "%s: %s: keys[%zu]", path, file, i) >= (int)sizeof(p))
			p[sizeof(p) - 1] = '\0';
		r = sw_jwk_parse(jwk, p, &k, diag);
		if (r == SW_DECLINED)
			continue;
		if (r != SW_OK)
			goto out;
		k.algs = 0;
		for (int x = 0; x < SW_JWS_ALG_COUNT; x++)
			if ((algs & (1u << x)) && sw_jws_alg_kty(x) == k.kty &&
			    (k.kty != SW_KTY_OCT || k.secret_len >= sw_jws_min_secret(x)))
				k.algs |= 1u << x;
		/* A JWK's own "alg" narrows it to that one algorithm (RFC 7517 4.4). */
		if (json_object_object_get_ex(jwk, "alg", &a)) {
			int one = sw_jws_alg_parse(json_object_get_string(a), strlen(json_object_get_string(a)));
			k.algs &= one < 0 ? 0 : 1u << one;
		}
		if (k.algs == 0) {
			sw_diag_warn(diag, p, "%s%s%s fits none of the configured algorithms: not used",
				     kty_name(k.kty), k.kid ? " kid " : "", k.kid ? k.kid : "");
			sw_jwt_key_clear(&k);
			continue;
		}
		add_key(j, &k);
	}
	if (j->nkeys == before) {
		sw_diag_error(diag, path, "%s: no signing key for the configured algorithms", file);
		goto out;
	}
	rc = SW_OK;
out:
	json_object_put(root);
	return rc;
}

/* One element of "keys": exactly one source, and its algorithms. */
static int parse_key(struct sw_jwt *j, struct json_object *v, const char *path, struct sw_diag *diag)
{
	static const char *const sources[] = { "secret", "secret_file", "public_key_file", "jwks_file" };
	struct json_object *src = NULL, *e;
	const char *which = NULL, *file;
	struct sw_jwt_key k = { 0 };
	char p[PATH_CAP];
	int n = 0;

	if (!json_object_is_type(v, json_type_object)) {
		sw_diag_error(diag, path, "must be an object");
		return SW_ERROR;
	}
	json_object_object_foreach(v, key, val) {
		bool known = strcmp(key, "algorithms") == 0 || strcmp(key, "kid") == 0;

		for (size_t i = 0; i < SW_ARRAY_SIZE(sources); i++)
			if (strcmp(key, sources[i]) == 0) {
				known = true;
				which = sources[i];
				src = val;
				n++;
			}
		if (!known)
			sw_diag_warn(diag, sub(p, sizeof(p), path, key), "unknown key");
	}
	if (n != 1) {
		sw_diag_error(diag, path, "needs exactly one of \"secret\", \"secret_file\", \"public_key_file\", "
			      "\"jwks_file\"");
		return SW_ERROR;
	}
	sub(p, sizeof(p), path, "algorithms");
	if (!json_object_object_get_ex(v, "algorithms", &e)) {
		/* Never taken from the token: its "alg" is the attacker's choice. */
		sw_diag_error(diag, p, "is required: the algorithms this key verifies");
		return SW_ERROR;
	}
	if (parse_algs(e, p, &k.algs, diag) != SW_OK)
		return SW_ERROR;
	sub(p, sizeof(p), path, which);
	if (!json_object_is_type(src, json_type_string) || json_object_get_string_len(src) == 0) {
		sw_diag_error(diag, p, "must be a non-empty string");
		return SW_ERROR;
	}
	file = json_object_get_string(src);
	if (strcmp(which, "jwks_file") == 0) {
		if (json_object_object_get_ex(v, "kid", &e))
			sw_diag_warn(diag, sub(p, sizeof(p), path, "kid"), "ignored: a JWKS names its own keys");
		return jwks_file(j, file, k.algs, p, diag);
	}
	if (json_object_object_get_ex(v, "kid", &e)) {
		if (!json_object_is_type(e, json_type_string)) {
			sw_diag_error(diag, sub(p, sizeof(p), path, "kid"), "must be a string");
			return SW_ERROR;
		}
		k.kid = sw_strdup(json_object_get_string(e));
	}
	if (strcmp(which, "secret") == 0) {
		k.kty = SW_KTY_OCT;
		k.secret_len = (size_t)json_object_get_string_len(src);
		k.secret = (unsigned char *)sw_strndup(file, k.secret_len);
	} else if (strcmp(which, "secret_file") == 0) {
		k.kty = SW_KTY_OCT;
		if (secret_from_file(file, p, &k, diag) != SW_OK)
			goto fail;
	} else {
		const char *why = NULL;

		k.pkey = sw_pem_read_public(file, p, diag);
		if (!k.pkey)
			goto fail;
		k.kty = (enum sw_jws_kty)sw_jws_pkey_kty(k.pkey, &why);
	}
	if (check_fit(&k, path, diag) != SW_OK)
		goto fail;
	add_key(j, &k);
	return SW_OK;
fail:
	sw_jwt_key_clear(&k);
	return SW_ERROR;
}

static int parse_keys(struct sw_jwt *j, struct json_object *v, const char *path, struct sw_diag *diag)
{
	char p[PATH_CAP];

	if (!json_object_is_type(v, json_type_array) || json_object_array_length(v) == 0) {
		sw_diag_error(diag, path, "must be a non-empty array of key sources");
		return SW_ERROR;
	}
	for (size_t i = 0; i < json_object_array_length(v); i++)
		if (parse_key(j, json_object_array_get_idx(v, i), idx(p, sizeof(p), path, i), diag) != SW_OK)
			return SW_ERROR;
	return SW_OK;
}

/* A header name: an RFC 9110 token. */
static bool is_token(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!strchr("!#$%&'*+-.^_`|~", *s) && !(*s >= '0' && *s <= '9') &&
		    !((*s | 0x20) >= 'a' && (*s | 0x20) <= 'z'))
			return false;
	return true;
}

static int parse_claims_to_headers(struct sw_jwt *j, struct json_object *v, const char *path,
				   struct sw_diag *diag)
{
	char p[PATH_CAP];
	size_t n;

	if (!json_object_is_type(v, json_type_object) || (n = (size_t)json_object_object_length(v)) > MAX_NAMES) {
		sw_diag_error(diag, path, "must be an object of at most 64 \"claim\": \"Header-Name\" pairs");
		return SW_ERROR;
	}
	j->claims = sw_calloc(n + 1, sizeof(char *));
	j->headers = sw_calloc(n + 1, sizeof(char *));
	json_object_object_foreach(v, claim, hv) {
		const char *h = json_object_get_string(hv);

		if (!json_object_is_type(hv, json_type_string) || !is_token(h)) {
			sw_diag_error(diag, sub(p, sizeof(p), path, claim), "must be a header name");
			return SW_ERROR;
		}
		j->claims[j->nclaims] = sw_strdup(claim);
		j->headers[j->nclaims++] = sw_strdup(h);
	}
	return SW_OK;
}

static int parse_int(struct json_object *v, const char *path, int64_t max, int64_t *out, struct sw_diag *diag)
{
	if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0 ||
	    json_object_get_int64(v) > max) {
		sw_diag_error(diag, path, "must be an integer from 0 to %lld", (long long)max);
		return SW_ERROR;
	}
	*out = json_object_get_int64(v);
	return SW_OK;
}

static int parse_string(struct json_object *v, const char *path, char **out, struct sw_diag *diag)
{
	if (!json_object_is_type(v, json_type_string) || json_object_get_string_len(v) == 0) {
		sw_diag_error(diag, path, "must be a non-empty string");
		return SW_ERROR;
	}
	*out = sw_strdup(json_object_get_string(v));
	return SW_OK;
}

static int parse_member(struct sw_jwt *j, const char *key, struct json_object *val, const char *p,
			struct sw_diag *diag)
{
	int64_t n;

	if (strcmp(key, "keys") == 0)
		return parse_keys(j, val, p, diag);
	if (strcmp(key, "issuer") == 0)
		return names(val, p, true, &j->issuers, &j->nissuers, diag);
	if (strcmp(key, "audience") == 0)
		return names(val, p, true, &j->audiences, &j->naudiences, diag);
	if (strcmp(key, "required_claims") == 0) {
		free_names(j->required, j->nrequired);
		j->required = NULL;
		j->nrequired = 0;
		if (json_object_is_type(val, json_type_array) && json_object_array_length(val) == 0)
			return SW_OK;
		return names(val, p, false, &j->required, &j->nrequired, diag);
	}
	if (strcmp(key, "leeway_s") == 0)
		return parse_int(val, p, MAX_LEEWAY_S, &j->leeway, diag);
	if (strcmp(key, "cache_size") == 0) {
		if (parse_int(val, p, MAX_CACHE, &n, diag) != SW_OK)
			return SW_ERROR;
		j->cache_size = (size_t)n;
		return SW_OK;
	}
	if (strcmp(key, "consumer_claim") == 0) {
		free(j->consumer_claim);
		j->consumer_claim = NULL;
		return parse_string(val, p, &j->consumer_claim, diag);
	}
	if (strcmp(key, "cookie") == 0) {
		if (parse_string(val, p, &j->cookie, diag) != SW_OK)
			return SW_ERROR;
		if (!is_token(j->cookie)) {
			sw_diag_error(diag, p, "\"%s\" is not a cookie name", j->cookie);
			return SW_ERROR;
		}
		return SW_OK;
	}
	if (strcmp(key, "claims_to_headers") == 0)
		return parse_claims_to_headers(j, val, p, diag);
	if (strcmp(key, "forward_token") == 0) {
		if (!json_object_is_type(val, json_type_boolean)) {
			sw_diag_error(diag, p, "must be true or false");
			return SW_ERROR;
		}
		j->forward_token = json_object_get_boolean(val);
		return SW_OK;
	}
	sw_diag_warn(diag, p, "unknown key");
	return SW_OK;
}

struct sw_jwt *sw_jwt_compile(struct json_object *conf, const char *path, struct sw_diag *diag)
{
	struct sw_jwt *j;
	char p[PATH_CAP];
	bool ok = true;

	if (!json_object_is_type(conf, json_type_object)) {
		sw_diag_error(diag, path, "must be an object");
		return NULL;
	}
	j = sw_calloc(1, sizeof(*j));
	j->leeway = DEFAULT_LEEWAY_S;
	j->cache_size = DEFAULT_CACHE;
	j->consumer_claim = sw_strdup("sub");
	/* A token without exp would be good forever: required unless the operator says otherwise. */
	j->required = sw_calloc(1, sizeof(char *));
	j->required[0] = sw_strdup("exp");
	j->nrequired = 1;
	json_object_object_foreach(conf, key, val)
		if (parse_member(j, key, val, sub(p, sizeof(p), path, key), diag) != SW_OK)
			ok = false;
	if (ok && j->nkeys == 0) {
		sw_diag_error(diag, sub(p, sizeof(p), path, "keys"), "is required: at least one key source");
		ok = false;
	}
	if (!ok) {
		sw_jwt_release(j);
		return NULL;
	}
	sw_jwt_cache_init(&j->cache, j->cache_size);
	return j;
}

void sw_jwt_release(struct sw_jwt *j)
{
	if (!j)
		return;
	for (size_t i = 0; i < j->nkeys; i++)
		sw_jwt_key_clear(&j->keys[i]);
	free(j->keys);
	free_names(j->issuers, j->nissuers);
	free_names(j->audiences, j->naudiences);
	free_names(j->required, j->nrequired);
	free_names(j->claims, j->nclaims);
	free_names(j->headers, j->nclaims);
	free(j->consumer_claim);
	free(j->cookie);
	sw_jwt_cache_deinit(&j->cache);
	free(j);
}

const char *sw_jwt_cookie(const struct sw_jwt *j)
{
	return j->cookie;
}

bool sw_jwt_forward_token(const struct sw_jwt *j)
{
	return j->forward_token;
}

unsigned sw_jwt_header_count(const struct sw_jwt *j)
{
	return j->nclaims;
}

const char *sw_jwt_header_name(const struct sw_jwt *j, unsigned i)
{
	return j->headers[i];
}
