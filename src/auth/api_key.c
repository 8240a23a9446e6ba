/* SPDX-License-Identifier: MIT */
/* api_key.c - routes[].auth.api_key: named keys from a header or a query parameter. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include "auth/auth_impl.h"
#include "core/common.h"
#include "core/diag.h"
#include "http/exchange.h"

#define DIGEST_LEN 32

struct key {
	char *name;
	unsigned char digest[DIGEST_LEN];
};

struct api_key {
	char *header;        /* "X-API-Key" */
	char *query;         /* "api_key"; NULL: the query is not looked at */
	struct key *keys;
	size_t count;
};

static void sha256(const void *data, size_t len, unsigned char out[DIGEST_LEN])
{
	unsigned int n = DIGEST_LEN;

	if (EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) != 1)
		abort();   /* only fails without memory */
}

static int hex_digest(const char *s, unsigned char out[DIGEST_LEN])
{
	if (strlen(s) != 2 * DIGEST_LEN)
		return -1;
	for (size_t i = 0; i < DIGEST_LEN; i++) {
		unsigned v = 0;
		for (int j = 0; j < 2; j++) {
			char c = s[2 * i + (size_t)j];
			v <<= 4;
			if (c >= '0' && c <= '9')
				v |= (unsigned)(c - '0');
			else if (c >= 'a' && c <= 'f')
				v |= (unsigned)(c - 'a' + 10);
			else if (c >= 'A' && c <= 'F')
				v |= (unsigned)(c - 'A' + 10);
			else
				return -1;
		}
		out[i] = (unsigned char)v;
	}
	return 0;
}

static void release(void *state)
{
	struct api_key *a = state;

	if (!a)
		return;
	for (size_t i = 0; i < a->count; i++)
		free(a->keys[i].name);
	free(a->keys);
	free(a->header);
	free(a->query);
	free(a);
}

static const char *opt_string(struct json_object *conf, const char *key, const char *def,
			      const char *path, struct sw_diag *d, bool *bad)
{
	struct json_object *v;

	if (!json_object_object_get_ex(conf, key, &v))
		return def;
	if (json_object_is_type(v, json_type_null))
		return NULL;
	if (!json_object_is_type(v, json_type_string)) {
		sw_diag_error(d, path, "%s: must be a string or null", key);
		*bad = true;
		return def;
	}
	return json_object_get_string(v);
}

/* One keys[] entry; false after an error. */
static bool compile_key(struct key *k, struct json_object *e, const char *path, struct sw_diag *d)
{
	struct json_object *name, *key, *hash;

	if (!json_object_is_type(e, json_type_object)) {
		sw_diag_error(d, path, "must be an object {\"name\": ..., \"key\" or \"key_sha256\": ...}");
		return false;
	}
	if (!json_object_object_get_ex(e, "name", &name) || !json_object_is_type(name, json_type_string) ||
	    !sw_auth_is_label(json_object_get_string(name))) {
		sw_diag_error(d, path, "name: required, printable ASCII without quotes or backslashes");
		return false;
	}
	bool has_key = json_object_object_get_ex(e, "key", &key);
	bool has_hash = json_object_object_get_ex(e, "key_sha256", &hash);
	if (has_key == has_hash) {
		sw_diag_error(d, path, "exactly one of key and key_sha256 is required");
		return false;
	}
	if (has_key) {
		if (!json_object_is_type(key, json_type_string) || json_object_get_string_len(key) == 0) {
			sw_diag_error(d, path, "key: must be a non-empty string");
			return false;
		}
		sha256(json_object_get_string(key), (size_t)json_object_get_string_len(key), k->digest);
	} else if (!json_object_is_type(hash, json_type_string) ||
		   hex_digest(json_object_get_string(hash), k->digest) != 0) {
		sw_diag_error(d, path, "key_sha256: must be 64 hex digits (sha256sum of the key)");
		return false;
	}
	json_object_object_foreach(e, ek, ev) {
		(void)ev;
		if (strcmp(ek, "name") && strcmp(ek, "key") && strcmp(ek, "key_sha256"))
			sw_diag_warn(d, path, "%s: unknown key", ek);
	}
	k->name = sw_strdup(json_object_get_string(name));
	return true;
}

static void *compile(struct json_object *conf, const char *path, struct sw_diag *d)
{
	struct json_object *keys;
	struct api_key *a;
	bool bad = false;
	char sub[512];
	size_t n;

	if (!json_object_is_type(conf, json_type_object)) {
		sw_diag_error(d, path, "must be an object");
		return NULL;
	}
	a = sw_calloc(1, sizeof(*a));
	const char *header = opt_string(conf, "header", "X-API-Key", path, d, &bad);
	const char *query = opt_string(conf, "query", "api_key", path, d, &bad);
	if (header && !sw_auth_is_token(header)) {
		sw_diag_error(d, path, "header: must be a valid header name");
		bad = true;
	}
	if (query && (!*query || strpbrk(query, "&=#?% ") || !sw_auth_is_label(query))) {
		sw_diag_error(d, path, "query: must be a plain parameter name (no & = # ? %% or spaces)");
		bad = true;
	}
	if (!header && !query) {
		sw_diag_error(d, path, "header and query are both null: the key could come from nowhere");
		bad = true;
	}
	a->header = header ? sw_strdup(header) : NULL;
	a->query = query ? sw_strdup(query) : NULL;
	if (!json_object_object_get_ex(conf, "keys", &keys) || !json_object_is_type(keys, json_type_array) ||
	    (n = json_object_array_length(keys)) == 0) {
		sw_diag_error(d, path, "keys: required, a non-empty array");
		release(a);
		return NULL;
	}
	a->keys = sw_calloc(n, sizeof(*a->keys));
	for (size_t i = 0; i < n; i++) {
		snprintf(sub, sizeof(sub), "%s.keys[%zu]", path, i);
		if (!compile_key(&a->keys[a->count], json_object_array_get_idx(keys, i), sub, d)) {
			bad = true;
			continue;
		}
		for (size_t j = 0; j < a->count; j++) {
			if (!strcmp(a->keys[j].name, a->keys[a->count].name))
				sw_diag_error(d, sub, "name: \"%s\" is already used by keys[%zu]",
					      a->keys[j].name, j);
			else if (!memcmp(a->keys[j].digest, a->keys[a->count].digest, DIGEST_LEN))
				sw_diag_error(d, sub, "the same key as \"%s\": a key must name one consumer",
					      a->keys[j].name);
			else
				continue;
			bad = true;
		}
		a->count++;
	}
	json_object_object_foreach(conf, k, v) {
		(void)v;
		if (strcmp(k, "header") && strcmp(k, "query") && strcmp(k, "keys"))
			sw_diag_warn(d, path, "%s: unknown key", k);
	}
	if (bad) {
		release(a);
		return NULL;
	}
	return a;
}

/*
 * Every key is compared, and each comparison is constant-time: how long
 * the answer takes says nothing about how close a guess came.  Hashing
 * first also makes the compared lengths equal.
 */
static const struct key *lookup(const struct api_key *a, const char *p, size_t len)
{
	unsigned char digest[DIGEST_LEN];
	const struct key *found = NULL;

	sha256(p, len, digest);
	for (size_t i = 0; i < a->count; i++)
		if (CRYPTO_memcmp(digest, a->keys[i].digest, DIGEST_LEN) == 0)
			found = &a->keys[i];
	return found;
}

static void check(struct sw_exchange *x, void *state, struct sw_auth_result *r, sw_auth_done_fn done)
{
	const struct api_key *a = state;
	const struct sw_header *h = a->header ? sw_request_header(&x->req, a->header) : NULL;
	struct sw_str v = { NULL, 0 };
	const struct key *k;
	char *tmp = NULL;
	long dec;

	(void)done;
	if (h) {
		v = h->value;
	} else if (a->query && x->req.query.p) {
		tmp = sw_malloc(x->req.query.len + 1);
		sw_auth_query_remove(x->req.query, a->query, tmp, &v);
		/* A query value may be percent-encoded; the key is compared decoded. */
		if (v.p && (dec = sw_auth_percent_decode(v, tmp)) >= 0) {
			v.p = tmp;
			v.len = (size_t)dec;
		}
	}
	if (!v.p) {
		free(tmp);
		r->outcome = SW_AUTH_ABSENT;
		r->reason = "missing";
		return;
	}
	k = lookup(a, v.p, v.len);
	free(tmp);
	if (!k) {
		r->outcome = SW_AUTH_FAIL;
		r->reason = "unknown_key";
		r->status = 401;
		return;
	}
	/* The key is the consumer's secret: the upstream never sees it. */
	if (h)
		sw_auth_strip_header(x, a->header);
	if (a->query)
		sw_auth_strip_query_param(x, a->query);
	r->outcome = SW_AUTH_OK;
	r->consumer = k->name;
}

const struct sw_auth_method sw_auth_api_key = {
	.name = "api_key",
	.challenge = "ApiKey",
	.compile = compile,
	.release = release,
	.check = check,
};
