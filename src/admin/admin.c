/* SPDX-License-Identifier: MIT */
/* admin.c - the admin API: key auth, request bodies, the /v1 endpoints. */
#include <config.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "core/log.h"
#include "http/context.h"
#include "http/metrics.h"
#include "admin/admin.h"

#define BODY_MAX (1024 * 1024)   /* a config section, never more */
#define FAIL_DELAY_MS 500        /* a wrong key waits this long for its 401 */

/* ---- answers ---- */

void sw_admin_json(struct sw_exchange *x, int status, json_object *doc)
{
	size_t len;
	const char *text = json_object_to_json_string_length(
		doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	char *body = sw_exchange_buffer(x, len + 1);

	memcpy(body, text, len);
	body[len++] = '\n';
	json_object_put(doc);
	x->resp.status = status;
	x->resp.body_kind = SW_BODY_MEMORY;
	x->resp.body = (struct sw_str){ body, len };
	x->resp.content_length = len;
	sw_response_add_header(&x->resp, SW_STR("Content-Type"), SW_STR("application/json"));
	sw_response_add_header(&x->resp, SW_STR("Cache-Control"), SW_STR("no-store"));
	x->ops->respond(x);
}

json_object *sw_admin_text(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), k;
	char *out, *o;
	json_object *v;

	if (sw_utf8_valid(s, n))
		return json_object_new_string(s);
	/*
	 * A message may quote a URL's bytes, or be cut short inside a
	 * character: answers must stay JSON that strict parsers take.
	 */
	o = out = sw_malloc(n * 3 + 1);
	for (size_t i = 0; i < n; i += k) {
		if ((k = sw_utf8_len(p + i, n - i)) == 0) {
			memcpy(o, "\xef\xbf\xbd", 3);   /* U+FFFD */
			o += 3;
			k = 1;
		} else {
			memcpy(o, p + i, k);
			o += k;
		}
	}
	*o = '\0';
	v = json_object_new_string(out);
	free(out);
	return v;
}

void sw_admin_error(struct sw_exchange *x, int status, const char *message)
{
	json_object *doc = json_object_new_object();

	json_object_object_add(doc, "error", sw_admin_text(message));
	sw_admin_json(x, status, doc);
}

/* ---- authentication ---- */

/* Compares in time that depends only on the lengths, never on where they differ. */
static bool same_secret(struct sw_str given, const char *key)
{
	size_t kl = strlen(key), n = SW_MAX(given.len, kl);
	unsigned diff = given.len != kl;

	for (size_t i = 0; i < n; i++)
		diff |= (unsigned)((i < given.len ? (uint8_t)given.p[i] : 0) ^
				   (i < kl ? (uint8_t)key[i] : 0));
	return diff == 0;
}

static bool authorized(const struct sw_exchange *x)
{
	const char *key = x->ctx->cfg->admin.api_key;
	const struct sw_header *h = sw_request_header(&x->req, "x-api-key");

	if (!key)
		return false;
	if (h)
		return same_secret(h->value, key);
	h = sw_request_header(&x->req, "authorization");
	if (!h || h->value.len < 7 || strncasecmp(h->value.p, "Bearer ", 7) != 0)
		return false;
	return same_secret((struct sw_str){ h->value.p + 7, h->value.len - 7 }, key);
}

/* A refused key is answered late, so guessing costs time. */
struct refusal {
	struct sw_timer timer;
	struct sw_exchange *x;
};

static void refuse_now(struct sw_timer *t)
{
	struct refusal *r = t->data;
	struct sw_exchange *x = r->x;

	x->on_abort = NULL;
	x->handler_data = NULL;
	free(r);
	sw_response_add_header(&x->resp, SW_STR("WWW-Authenticate"), SW_STR("Bearer"));
	sw_admin_error(x, 401, "a valid X-API-Key or Authorization: Bearer key is required");
}

static void refusal_abort(struct sw_exchange *x)
{
	struct refusal *r = x->handler_data;

	sw_timer_del(x->ctx->loop, &r->timer);
	free(r);
}

static void refuse(struct sw_exchange *x)
{
	struct refusal *r = sw_calloc(1, sizeof(*r));

	sw_stat_add(&x->ctx->stats->admin_auth_failures, 1);
	r->x = x;
	x->handler_data = r;
	x->on_abort = refusal_abort;
	sw_timer_init(&r->timer, refuse_now, r);
	sw_timer_add(x->ctx->loop, &r->timer, FAIL_DELAY_MS);
}

/* ---- request bodies ---- */

struct body {
	char *p;
	size_t len;
	void (*then)(struct sw_exchange *x, const char *body, size_t len);
};

static void body_abort(struct sw_exchange *x)
{
	struct body *b = x->handler_data;

	free(b->p);
	free(b);
}

static void body_done(struct sw_exchange *x, int status, const char *why)
{
	struct body *b = x->handler_data;

	x->on_abort = NULL;
	x->handler_data = NULL;
	if (status == 0)
		b->then(x, b->p ? b->p : "", b->len);
	else
		sw_admin_error(x, status, why);
	free(b->p);
	free(b);
}

static void on_body(struct sw_exchange *x, const char *data, ssize_t n, bool last)
{
	struct body *b = x->handler_data;

	if (n < 0) {
		body_done(x, 400, "the request body could not be read");
		return;
	}
	if (b->len + (size_t)n > BODY_MAX) {
		x->resp.close = true;
		body_done(x, 413, "request body over 1 MiB");
		return;
	}
	b->p = sw_realloc(b->p, b->len + (size_t)n + 1);
	if (n)   /* the last piece may be empty, with no memory at all */
		memcpy(b->p + b->len, data, (size_t)n);
	b->len += (size_t)n;
	b->p[b->len] = '\0';
	if (last)
		body_done(x, 0, NULL);
	else
		sw_exchange_read_body(x, on_body);
}

/* Reads the whole (small) body, then calls then(x, body). */
static void with_body(struct sw_exchange *x,
		      void (*then)(struct sw_exchange *x, const char *body, size_t len))
{
	struct body *b = sw_calloc(1, sizeof(*b));

	if (x->req.content_length > BODY_MAX) {
		free(b);
		x->resp.close = true;
		sw_admin_error(x, 413, "request body over 1 MiB");
		return;
	}
	b->then = then;
	x->handler_data = b;
	x->on_abort = body_abort;
	if (!x->req.has_body || !x->ops->read_body) {
		body_done(x, 0, NULL);
		return;
	}
	sw_exchange_read_body(x, on_body);
}

/* ---- changes that go through the master ---- */

static void change_done(struct sw_exchange *x, int status, const char *text)
{
	json_object *doc;

	if (status != 200) {
		sw_admin_error(x, status, text);
		return;
	}
	doc = json_object_new_object();
	json_object_object_add(doc, "ok", json_object_new_boolean(1));
	json_object_object_add(doc, "result", sw_admin_text(text));
	json_object_object_add(doc, "generation",
			       json_object_new_int64((int64_t)sw_stat_get(&x->ctx->shm->generation)));
	sw_admin_json(x, 200, doc);
}

/* The process that runs this worker makes the change (the hook it installed). */
static void apply(struct sw_exchange *x, enum sw_admin_op op, const char *arg)
{
	const struct sw_ctx_hooks *h = &x->ctx->hooks;

	if (!h->admin) {
		sw_admin_error(x, 503, "no process here makes admin changes");
		return;
	}
	h->admin->request(h->owner, x, op, arg, change_done);
}

/* The master gets the body as text: a NUL would cut off what follows it unseen. */
static void put_body(struct sw_exchange *x, enum sw_admin_op op, const char *body, size_t len)
{
	if (memchr(body, '\0', len)) {
		sw_admin_error(x, 400, "the body must not contain a NUL byte");
		return;
	}
	apply(x, op, body);
}

static void put_route(struct sw_exchange *x, const char *body, size_t len)
{
	put_body(x, SW_ADMIN_OP_PUT_ROUTE, body, len);
}

static void put_upstream(struct sw_exchange *x, const char *body, size_t len)
{
	put_body(x, SW_ADMIN_OP_PUT_UPSTREAM, body, len);
}

/* "/v1/routes/%2Fapi" → "/api"; NULL for a bad escape. */
static char *url_decode(struct sw_str s)
{
	char *out = sw_malloc(s.len + 1), *o = out;

	for (size_t i = 0; i < s.len; i++) {
		if (s.p[i] != '%') {
			*o++ = s.p[i];
			continue;
		}
		if (i + 2 >= s.len || !isxdigit((unsigned char)s.p[i + 1]) ||
		    !isxdigit((unsigned char)s.p[i + 2])) {
			free(out);
			return NULL;
		}
		char hex[3] = { s.p[i + 1], s.p[i + 2], 0 };
		*o = (char)strtol(hex, NULL, 16);
		if (*o++ == '\0') {   /* a name with a NUL in it names nothing we have */
			free(out);
			return NULL;
		}
		i += 2;
	}
	*o = '\0';
	return out;
}

static void delete_named(struct sw_exchange *x, enum sw_admin_op op, struct sw_str rest)
{
	char *name = url_decode(rest);

	if (!name || !*name) {
		free(name);
		sw_admin_error(x, 400, "a name after the last / is required (URL-encoded)");
		return;
	}
	if (!sw_utf8_valid(name, strlen(name))) {   /* the loader admits no other names */
		free(name);
		sw_admin_error(x, 400, "the name must be valid UTF-8 (URL-encoded)");
		return;
	}
	apply(x, op, name);
	free(name);
}

/* ---- routing ---- */

/* True when x uses m (GET admits HEAD); otherwise answers 405 with Allow. */
static bool method_is(struct sw_exchange *x, enum sw_method m, const char *allow)
{
	if (x->req.method == m || (m == SW_METHOD_GET && x->req.method == SW_METHOD_HEAD))
		return true;
	sw_response_add_header(&x->resp, SW_STR("Allow"), (struct sw_str){ allow, strlen(allow) });
	sw_admin_error(x, 405, "method not allowed here");
	return false;
}

static bool prefixed(struct sw_str path, const char *prefix, struct sw_str *rest)
{
	size_t n = strlen(prefix);

	if (path.len <= n || memcmp(path.p, prefix, n) != 0)
		return false;
	*rest = (struct sw_str){ path.p + n, path.len - n };
	return true;
}

static void collection(struct sw_exchange *x, const char *key,
		       void (*then)(struct sw_exchange *, const char *, size_t))
{
	if (x->req.method == SW_METHOD_POST)
		with_body(x, then);
	else if (method_is(x, SW_METHOD_GET, "GET, HEAD, POST"))
		sw_admin_json(x, 200, sw_admin_section(x, key));
}

static void dispatch(struct sw_exchange *x)
{
	struct sw_str p = x->req.path, rest;

	if (sw_str_eq(p, "/v1/status")) {
		if (method_is(x, SW_METHOD_GET, "GET, HEAD"))
			sw_admin_json(x, 200, sw_admin_status(x));
	} else if (sw_str_eq(p, "/v1/metrics")) {
		if (method_is(x, SW_METHOD_GET, "GET, HEAD"))
			sw_metrics_respond(x);
	} else if (sw_str_eq(p, "/v1/config")) {
		if (method_is(x, SW_METHOD_GET, "GET, HEAD"))
			sw_admin_json(x, 200, sw_admin_section(x, NULL));
	} else if (sw_str_eq(p, "/v1/routes")) {
		collection(x, "routes", put_route);
	} else if (sw_str_eq(p, "/v1/upstreams")) {
		collection(x, "upstreams", put_upstream);
	} else if (prefixed(p, "/v1/routes/", &rest)) {
		if (method_is(x, SW_METHOD_DELETE, "DELETE"))
			delete_named(x, SW_ADMIN_OP_DEL_ROUTE, rest);
	} else if (prefixed(p, "/v1/upstreams/", &rest)) {
		if (method_is(x, SW_METHOD_DELETE, "DELETE"))
			delete_named(x, SW_ADMIN_OP_DEL_UPSTREAM, rest);
	} else if (sw_str_eq(p, "/v1/reload")) {
		if (method_is(x, SW_METHOD_POST, "POST"))
			apply(x, SW_ADMIN_OP_RELOAD, NULL);
	} else if (sw_str_eq(p, "/v1/upgrade")) {
		if (method_is(x, SW_METHOD_POST, "POST"))
			apply(x, SW_ADMIN_OP_UPGRADE, NULL);
	} else if (sw_str_eq(p, "/v1/config/persist")) {
		if (method_is(x, SW_METHOD_POST, "POST"))
			apply(x, SW_ADMIN_OP_PERSIST, NULL);
	} else {
		sw_admin_error(x, 404, "no such endpoint");
	}
}

/* A locked-out address learns nothing about its key: it is not even compared. */
static void locked_out(struct sw_exchange *x, uint64_t ms)
{
	char secs[24];
	int n = snprintf(secs, sizeof(secs), "%llu", (unsigned long long)((ms + 999) / 1000));

	sw_stat_add(&x->ctx->stats->admin_auth_locked, 1);
	sw_response_add_header(&x->resp, SW_STR("Retry-After"), (struct sw_str){ secs, (size_t)n });
	sw_admin_error(x, 429, "too many wrong keys: locked out, see Retry-After");
}

void sw_admin_handle(struct sw_exchange *x)
{
	uint64_t ms = sw_admin_guard_locked(x);

	if (ms) {
		locked_out(x, ms);
		return;
	}
	if (!authorized(x)) {
		sw_admin_guard_fail(x);
		refuse(x);
		return;
	}
	dispatch(x);
}
