/* SPDX-License-Identifier: MIT */
/* jwt_method.c - the "jwt" auth method: the token from the request, its verification, the consumer and claim headers. */
#include <config.h>

#include <string.h>
#include <strings.h>
#include <time.h>
#include "auth/auth_impl.h"
#include "auth/jwt.h"
#include "core/common.h"
#include "http/exchange.h"

/* A header's value less leading and trailing spaces and tabs. */
static struct sw_str trim(struct sw_str v)
{
	while (v.len && (v.p[0] == ' ' || v.p[0] == '\t')) {
		v.p++;
		v.len--;
	}
	while (v.len && (v.p[v.len - 1] == ' ' || v.p[v.len - 1] == '\t'))
		v.len--;
	return v;
}

/* "Authorization: Bearer TOKEN" (RFC 6750 2.1; the scheme is case-insensitive). */
static bool bearer(const struct sw_exchange *x, struct sw_str *tok)
{
	const struct sw_header *h = sw_request_header(&x->req, "authorization");

	if (!h || h->value.len < 7 || strncasecmp(h->value.p, "bearer ", 7) != 0)
		return false;
	tok->p = h->value.p + 7;
	tok->len = h->value.len - 7;
	*tok = trim(*tok);
	return true;
}

/* The named cookie from every Cookie field (HTTP/2 and 3 may split them, RFC 9113 8.2.3). */
static bool cookie(const struct sw_exchange *x, const char *name, struct sw_str *tok)
{
	size_t nlen = strlen(name);

	for (unsigned i = 0; i < x->req.header_count; i++) {
		const struct sw_header *h = &x->req.headers[i];
		const char *p = h->value.p, *end = p + h->value.len;

		if (!sw_str_ieq(h->name, "cookie"))
			continue;
		while (p < end) {
			const char *semi = memchr(p, ';', (size_t)(end - p));
			struct sw_str pair = { p, (size_t)((semi ? semi : end) - p) };

			pair = trim(pair);
			if (pair.len > nlen && pair.p[nlen] == '=' && memcmp(pair.p, name, nlen) == 0) {
				tok->p = pair.p + nlen + 1;
				tok->len = pair.len - nlen - 1;
				/* RFC 6265 4.1.1 allows the value in double quotes. */
				if (tok->len >= 2 && tok->p[0] == '"' && tok->p[tok->len - 1] == '"') {
					tok->p++;
					tok->len -= 2;
				}
				return true;
			}
			p = semi ? semi + 1 : end;
		}
	}
	return false;
}

static void *compile(struct json_object *conf, const char *path, struct sw_diag *diag)
{
	return sw_jwt_compile(conf, path, diag);
}

static void release(void *state)
{
	sw_jwt_release(state);
}

/*
 * The claims_to_headers fields: the client's own never reach the upstream,
 * whatever the outcome (a chain may still let the request through
 * anonymously), and a verified token's claims replace them.
 */
static void forward_claims(struct sw_exchange *x, const struct sw_jwt *j, const struct sw_jwt_identity *id)
{
	for (unsigned i = 0; i < sw_jwt_header_count(j); i++) {
		if (id && id->values[i])
			sw_auth_upstream_set(x, sw_jwt_header_name(j, i), id->values[i]);
		else
			sw_auth_strip_header(x, sw_jwt_header_name(j, i));
	}
}

static void check(struct sw_exchange *x, void *state, struct sw_auth_result *r, sw_auth_done_fn done)
{
	struct sw_jwt *j = state;
	struct sw_jwt_identity *id = NULL;
	struct sw_str tok = { NULL, 0 };
	bool from_header = bearer(x, &tok);
	const char *reason = NULL;

	(void)done;
	if (!from_header && !(sw_jwt_cookie(j) && cookie(x, sw_jwt_cookie(j), &tok))) {
		forward_claims(x, j, NULL);
		r->outcome = SW_AUTH_ABSENT;
		r->reason = "missing";
		return;
	}
	if (sw_jwt_verify(j, tok.p, tok.len, (int64_t)time(NULL), &id, &reason) != SW_OK) {
		forward_claims(x, j, NULL);
		r->outcome = SW_AUTH_FAIL;
		r->reason = reason;
		r->status = 401;
		return;
	}
	forward_claims(x, j, id);
	if (from_header && !sw_jwt_forward_token(j))
		sw_auth_strip_header(x, "Authorization");
	r->outcome = SW_AUTH_OK;
	/* The identity may leave the cache before the exchange ends: the exchange keeps a copy. */
	r->consumer = sw_auth_keep(x, id->consumer);
	sw_jwt_identity_release(id);
}

const struct sw_auth_method sw_auth_jwt = {
	.name = "jwt",
	.challenge = "Bearer",
	.fail_error = "invalid_token",
	.compile = compile,
	.release = release,
	.check = check,
};
