/* SPDX-License-Identifier: MIT */
/* basic.c - routes[].auth.basic: HTTP Basic (RFC 7617) against an htpasswd file, via libcrypt. */
#include <config.h>

#include <crypt.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include "auth/auth_impl.h"
#include "core/common.h"
#include "core/config.h"
#include "core/diag.h"
#include "http/exchange.h"

#define HTPASSWD_MAX (4u << 20)
#define CACHE_SLOTS 256
#define MAC_LEN 32

struct user {
	char *name;
	char *hash;
};

/*
 * Credentials that passed, so a client's next requests skip the hash: bcrypt
 * at cost 10 takes 150 ms of the worker's only thread.  Keyed by an HMAC of
 * "user:password" under a random key of this state, so the cache holds
 * nothing a fast offline guess could be checked against.
 */
struct cached {
	unsigned char mac[MAC_LEN];
	const struct user *user;      /* NULL: empty */
};

struct basic {
	struct user *users;
	size_t count;
	unsigned char key[32];
	struct cached cache[CACHE_SLOTS];
};

static void release(void *state)
{
	struct basic *b = state;

	if (!b)
		return;
	for (size_t i = 0; i < b->count; i++) {
		free(b->users[i].name);
		OPENSSL_cleanse(b->users[i].hash, strlen(b->users[i].hash));
		free(b->users[i].hash);
	}
	free(b->users);
	OPENSSL_cleanse(b, sizeof(*b));
	free(b);
}

/*
 * NULL when the hash is one we verify: bcrypt ($2b$, $2y$) and SHA-512-crypt
 * ($6$).  Weak or unsalted schemes are refused at load, so a file carried
 * over from an old server cannot quietly keep them.
 */
static bool well_formed(const char *h)
{
	const char *last = strrchr(h, '$') + 1;
	size_t n = strlen(last);

	if (crypt_checksalt(h) != CRYPT_SALT_OK ||
	    strspn(last, "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") != n)
		return false;
	/* bcrypt: "$2b$NN$" then 22 salt and 31 hash characters; SHA-512-crypt: a 86-character hash. */
	return h[1] == '2' ? strlen(h) == 60 && n == 53 : n == 86;
}

static const char *hash_problem(const char *h)
{
	if (!strncmp(h, "$2b$", 4) || !strncmp(h, "$2y$", 4) || !strncmp(h, "$6$", 3))
		return well_formed(h) ? NULL : "a malformed hash";
	if (!strncmp(h, "$apr1$", 6) || !strncmp(h, "$1$", 3))
		return "an MD5 hash, which is refused (use bcrypt or SHA-512-crypt)";
	if (!strncmp(h, "{SHA}", 5))
		return "an unsalted SHA-1 hash, which is refused (use bcrypt or SHA-512-crypt)";
	if (!strncmp(h, "$2a$", 4) || !strncmp(h, "$2x$", 4))
		return "an old bcrypt variant, which is refused (use $2b$ or $2y$)";
	if (h[0] != '$')
		return "plain text or DES crypt, which is refused (use bcrypt or SHA-512-crypt)";
	return "an unsupported hash (use bcrypt $2y$/$2b$ or SHA-512-crypt $6$)";
}

/* One "user:hash" line; false after an error naming the file and line. */
static bool parse_line(struct basic *b, char *line, const char *file, unsigned lineno,
		       const char *path, struct sw_diag *d)
{
	char *colon = strchr(line, ':');
	char *hash;

	if (!colon || colon == line) {
		sw_diag_error(d, path, "%s:%u: not \"user:hash\"", file, lineno);
		return false;
	}
	*colon = '\0';
	hash = colon + 1;
	/* Apache writes "user:hash:comment" in some tools; the hash ends at ':'. */
	hash[strcspn(hash, ":")] = '\0';
	if (!sw_auth_is_label(line)) {
		sw_diag_error(d, path, "%s:%u: the user name must be printable ASCII", file, lineno);
		return false;
	}
	const char *why = hash_problem(hash);
	if (why) {
		sw_diag_error(d, path, "%s:%u: user \"%s\" has %s", file, lineno, line, why);
		return false;
	}
	for (size_t i = 0; i < b->count; i++) {
		if (!strcmp(b->users[i].name, line)) {
			sw_diag_error(d, path, "%s:%u: user \"%s\" appears twice", file, lineno, line);
			return false;
		}
	}
	b->users = sw_realloc(b->users, (b->count + 1) * sizeof(*b->users));
	b->users[b->count].name = sw_strdup(line);
	b->users[b->count].hash = sw_strdup(hash);
	b->count++;
	return true;
}

static bool load(struct basic *b, const char *file, const char *path, struct sw_diag *d)
{
	char *text, *line, *save = NULL;
	size_t len;
	unsigned lineno = 0;
	bool ok = true;
	int err = sw_config_read_file(file, HTPASSWD_MAX, &text, &len, NULL);

	if (err) {
		sw_diag_error(d, path, "%s: %s", file,
			      err == EINVAL ? "not a regular file" : err == EFBIG ? "too large" : strerror(err));
		return false;
	}
	if (strlen(text) != len) {
		sw_diag_error(d, path, "%s: contains a NUL byte", file);
		free(text);
		return false;
	}
	/* strtok_r would skip empty lines and lose the numbering: split by hand. */
	for (line = text; line; line = save) {
		char *nl = strchr(line, '\n');
		save = nl ? nl + 1 : NULL;
		if (nl)
			*nl = '\0';
		lineno++;
		size_t n = strlen(line);
		if (n && line[n - 1] == '\r')
			line[--n] = '\0';
		if (n == 0 || line[0] == '#')
			continue;
		ok = parse_line(b, line, file, lineno, path, d) && ok;
	}
	OPENSSL_cleanse(text, len);
	free(text);
	if (ok && b->count == 0) {
		sw_diag_error(d, path, "%s: no users", file);
		ok = false;
	}
	return ok;
}

static void *compile(struct json_object *conf, const char *path, struct sw_diag *d)
{
	struct json_object *file;
	struct basic *b;
	char sub[512];

	if (!json_object_is_type(conf, json_type_object)) {
		sw_diag_error(d, path, "must be an object {\"htpasswd\": \"/path/to/file\"}");
		return NULL;
	}
	snprintf(sub, sizeof(sub), "%s.htpasswd", path);
	if (!json_object_object_get_ex(conf, "htpasswd", &file) ||
	    !json_object_is_type(file, json_type_string) || json_object_get_string(file)[0] != '/') {
		sw_diag_error(d, sub, "required, an absolute path");
		return NULL;
	}
	json_object_object_foreach(conf, k, v) {
		(void)v;
		if (strcmp(k, "htpasswd"))
			sw_diag_warn(d, path, "%s: unknown key", k);
	}
	b = sw_calloc(1, sizeof(*b));
	if (RAND_bytes(b->key, sizeof(b->key)) != 1) {
		sw_diag_error(d, path, "no random bytes for the credential cache");
		release(b);
		return NULL;
	}
	if (!load(b, json_object_get_string(file), sub, d)) {
		release(b);
		return NULL;
	}
	return b;
}

/* Takes "Basic <base64(user:password)>"; ABSENT for another scheme. */
static enum sw_auth_outcome credentials(const struct sw_exchange *x, char *buf, size_t cap,
					char **user, char **pass)
{
	const struct sw_header *h = sw_request_header(&x->req, "authorization");
	struct sw_str v;
	long n;
	char *colon;

	if (!h || h->value.len < 6 || strncasecmp(h->value.p, "basic ", 6))
		return SW_AUTH_ABSENT;
	v.p = h->value.p + 6;
	v.len = h->value.len - 6;
	while (v.len && *v.p == ' ') {
		v.p++;
		v.len--;
	}
	n = sw_auth_base64_decode(v.p, v.len, (unsigned char *)buf, cap - 1);
	if (n < 0)
		return SW_AUTH_FAIL;
	buf[n] = '\0';
	colon = memchr(buf, ':', (size_t)n);
	if (!colon || strlen(buf) != (size_t)n)
		return SW_AUTH_FAIL;
	*colon = '\0';
	*user = buf;
	*pass = colon + 1;
	return SW_AUTH_OK;
}

/* crypt_rn's scratch is 32 KiB: one per worker (a worker is one thread). */
static struct crypt_data scratch;

static bool verify(const char *pass, const char *hash)
{
	const char *out = crypt_rn(pass, hash, &scratch, sizeof(scratch));
	size_t n = strlen(hash);

	return out && strlen(out) == n && CRYPTO_memcmp(out, hash, n) == 0;
}

static struct cached *cache_slot(struct basic *b, const char *user, const char *pass,
				 unsigned char mac[MAC_LEN])
{
	unsigned int n = MAC_LEN;
	size_t ul = strlen(user), pl = strlen(pass);
	unsigned char msg[1024];

	memcpy(msg, user, ul);
	msg[ul] = ':';
	memcpy(msg + ul + 1, pass, pl);
	if (!HMAC(EVP_sha256(), b->key, sizeof(b->key), msg, ul + 1 + pl, mac, &n))
		abort();   /* only fails without memory */
	OPENSSL_cleanse(msg, ul + 1 + pl);
	return &b->cache[(mac[0] | (unsigned)mac[1] << 8) % CACHE_SLOTS];
}

static void check(struct sw_exchange *x, void *state, struct sw_auth_result *r, sw_auth_done_fn done)
{
	struct basic *b = state;
	unsigned char mac[MAC_LEN];
	struct cached *slot;
	char buf[1024];
	char *user = NULL, *pass = NULL;
	const struct user *u = NULL;
	bool ok;

	(void)done;
	r->outcome = credentials(x, buf, sizeof(buf), &user, &pass);
	if (r->outcome == SW_AUTH_ABSENT) {
		r->reason = "missing";
		return;
	}
	if (r->outcome == SW_AUTH_FAIL) {
		r->reason = "malformed";
		r->status = 401;
		return;
	}
	slot = cache_slot(b, user, pass, mac);
	if (slot->user && CRYPTO_memcmp(slot->mac, mac, MAC_LEN) == 0) {
		u = slot->user;
		ok = true;
	} else {
		for (size_t i = 0; i < b->count && !u; i++)
			if (!strcmp(b->users[i].name, user))
				u = &b->users[i];
		/* An unknown user costs a hash too, so timing does not tell which users exist. */
		ok = verify(pass, u ? u->hash : b->users[0].hash) && u;
		if (ok) {
			memcpy(slot->mac, mac, MAC_LEN);
			slot->user = u;
		}
	}
	OPENSSL_cleanse(buf, sizeof(buf));
	if (!ok) {
		r->outcome = SW_AUTH_FAIL;
		r->reason = "bad_credentials";
		r->status = 401;
		return;
	}
	/* The password stays at the gateway. */
	sw_auth_strip_header(x, "Authorization");
	r->outcome = SW_AUTH_OK;
	r->consumer = u->name;
}

const struct sw_auth_method sw_auth_basic = {
	.name = "basic",
	.challenge = "Basic",
	.compile = compile,
	.release = release,
	.check = check,
};
