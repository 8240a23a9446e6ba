/* SPDX-License-Identifier: MIT */
/* forward_auth.c - routes[].auth.forward_auth: an auth service (an upstreams[] entry) decides each request. */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "auth/auth_impl.h"
#include "core/common.h"
#include "core/diag.h"
#include "http/client_addr.h"
#include "http/exchange.h"
#include "http/router.h"
#include "http/subreq.h"

#define MAX_NAMES 16
#define MAX_RELAYED 8      /* fields of a refusal passed back: Content-Type, WWW-Authenticate, Location, ... */

struct fa;

/* One request waiting for the service's answer. */
struct pending {
	struct fa *fa;
	struct sw_exchange *x;
	struct sw_subreq *sub;
	sw_auth_done_fn done;
	struct pending *next;
};

struct fa {
	char *upstream;
	char *path;
	uint32_t timeout_ms;
	size_t max_body;
	char *request_headers[MAX_NAMES];
	size_t nrequest;
	char *response_headers[MAX_NAMES];
	size_t nresponse;
	char *consumer_header;        /* NULL: no consumer name from the answer */
	struct pending *pending;      /* so that a client going away can cancel its own */
};

static void release(void *state)
{
	struct fa *f = state;

	if (!f)
		return;
	/* A state is released only once no exchange runs its chain any more. */
	free(f->upstream);
	free(f->path);
	for (size_t i = 0; i < f->nrequest; i++)
		free(f->request_headers[i]);
	for (size_t i = 0; i < f->nresponse; i++)
		free(f->response_headers[i]);
	free(f->consumer_header);
	free(f);
}

/* A list of field names; false after an error. */
static bool names(struct json_object *conf, const char *key, char **out, size_t *n,
		  const char *path, struct sw_diag *d)
{
	struct json_object *v;

	if (!json_object_object_get_ex(conf, key, &v))
		return true;
	if (!json_object_is_type(v, json_type_array) || json_object_array_length(v) > MAX_NAMES) {
		sw_diag_error(d, path, "%s: must be an array of at most %d field names", key, MAX_NAMES);
		return false;
	}
	for (size_t i = 0; i < *n; i++)
		free(out[i]);
	*n = 0;
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		struct json_object *e = json_object_array_get_idx(v, i);
		if (!json_object_is_type(e, json_type_string) || !sw_auth_is_token(json_object_get_string(e))) {
			sw_diag_error(d, path, "%s[%zu]: must be a valid field name", key, i);
			return false;
		}
		out[(*n)++] = sw_strdup(json_object_get_string(e));
	}
	return true;
}

static bool uint_key(struct json_object *conf, const char *key, uint64_t min, uint64_t max,
		     uint64_t *out, const char *path, struct sw_diag *d)
{
	struct json_object *v;

	if (!json_object_object_get_ex(conf, key, &v))
		return true;
	if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < (int64_t)min ||
	    (uint64_t)json_object_get_int64(v) > max) {
		sw_diag_error(d, path, "%s: must be an integer from %llu to %llu", key,
			      (unsigned long long)min, (unsigned long long)max);
		return false;
	}
	*out = (uint64_t)json_object_get_int64(v);
	return true;
}

static void *compile(struct json_object *conf, const char *path, struct sw_diag *d)
{
	static const char *const known[] = { "upstream", "path", "timeout_ms", "request_headers",
					     "response_headers", "consumer_header", "max_body_bytes" };
	const struct sw_proxy_api *api = sw_proxy_api();
	struct json_object *v;
	uint64_t timeout = 2000, max_body = 4096;
	struct fa *f;
	bool ok = true;

	if (!api || !api->subrequest) {
		sw_diag_error(d, path, "needs a build with the proxy (--enable-proxy)");
		return NULL;
	}
	if (!json_object_is_type(conf, json_type_object)) {
		sw_diag_error(d, path, "must be an object {\"upstream\": \"NAME\", \"path\": \"/verify\", ...}");
		return NULL;
	}
	f = sw_calloc(1, sizeof(*f));
	if (!json_object_object_get_ex(conf, "upstream", &v) || !json_object_is_type(v, json_type_string) ||
	    !json_object_get_string_len(v)) {
		sw_diag_error(d, path, "upstream: required, the name of an upstreams[] entry (the auth service)");
		ok = false;
	} else {
		f->upstream = sw_strdup(json_object_get_string(v));
	}
	f->path = sw_strdup("/");
	if (json_object_object_get_ex(conf, "path", &v)) {
		const char *p = json_object_get_string(v);
		if (!json_object_is_type(v, json_type_string) || p[0] != '/' || strpbrk(p, " \r\n\t") ||
		    !sw_auth_is_label(p)) {
			sw_diag_error(d, path, "path: must start with '/', printable ASCII without spaces or quotes");
			ok = false;
		} else {
			free(f->path);
			f->path = sw_strdup(p);
		}
	}
	ok = uint_key(conf, "timeout_ms", 1, 60000, &timeout, path, d) && ok;
	ok = uint_key(conf, "max_body_bytes", 0, 65536, &max_body, path, d) && ok;
	f->timeout_ms = (uint32_t)timeout;
	f->max_body = (size_t)max_body;
	f->request_headers[f->nrequest++] = sw_strdup("Authorization");
	f->request_headers[f->nrequest++] = sw_strdup("Cookie");
	ok = names(conf, "request_headers", f->request_headers, &f->nrequest, path, d) && ok;
	ok = names(conf, "response_headers", f->response_headers, &f->nresponse, path, d) && ok;
	f->consumer_header = sw_strdup("X-Auth-User");
	if (json_object_object_get_ex(conf, "consumer_header", &v)) {
		free(f->consumer_header);
		f->consumer_header = NULL;
		if (json_object_is_type(v, json_type_string) && sw_auth_is_token(json_object_get_string(v))) {
			f->consumer_header = sw_strdup(json_object_get_string(v));
		} else if (!json_object_is_type(v, json_type_null)) {
			sw_diag_error(d, path, "consumer_header: must be a field name or null");
			ok = false;
		}
	}
	json_object_object_foreach(conf, k, val) {
		bool found = false;
		(void)val;
		for (size_t i = 0; i < SW_ARRAY_SIZE(known); i++)
			found |= !strcmp(k, known[i]);
		if (!found)
			sw_diag_warn(d, path, "%s: unknown key", k);
	}
	if (!ok) {
		release(f);
		return NULL;
	}
	return f;
}

static const struct sw_header *answer_field(const struct sw_subreq_answer *a, const char *name)
{
	for (unsigned i = 0; i < a->header_count; i++)
		if (sw_str_ieq(a->headers[i].name, name))
			return &a->headers[i];
	return NULL;
}

static const char *keep_str(struct sw_exchange *x, struct sw_str s)
{
	char tmp[1024];

	snprintf(tmp, sizeof(tmp), "%.*s", (int)SW_MIN(s.len, sizeof(tmp) - 1), s.p);
	return sw_auth_keep(x, tmp);
}

/* 2xx: the chosen fields go upstream (a client's own of those names never does). */
static void allowed(struct pending *p, const struct sw_subreq_answer *a, struct sw_auth_result *r)
{
	const struct fa *f = p->fa;
	const struct sw_header *h;

	for (size_t i = 0; i < f->nresponse; i++) {
		if ((h = answer_field(a, f->response_headers[i])))
			sw_auth_upstream_set(p->x, f->response_headers[i], keep_str(p->x, h->value));
		else
			sw_auth_strip_header(p->x, f->response_headers[i]);
	}
	r->outcome = SW_AUTH_OK;
	if (f->consumer_header && (h = answer_field(a, f->consumer_header)) && h->value.len)
		r->consumer = keep_str(p->x, h->value);
}

/* Another status: the service's answer goes back to the client, its body bounded. */
static void refused(struct pending *p, const struct sw_subreq_answer *a, struct sw_auth_result *r)
{
	static const char *const relay[] = { "Content-Type", "WWW-Authenticate", "Location",
					     "Retry-After", "Set-Cookie" };
	struct sw_exchange *x = p->x;
	unsigned n = 0;

	x->resp.status = a->status;
	for (unsigned i = 0; i < a->header_count && n < MAX_RELAYED; i++) {
		for (size_t k = 0; k < SW_ARRAY_SIZE(relay); k++) {
			if (!sw_str_ieq(a->headers[i].name, relay[k]))
				continue;
			const char *v = keep_str(x, a->headers[i].value);
			sw_response_add_header(&x->resp, (struct sw_str){ relay[k], strlen(relay[k]) },
					       (struct sw_str){ v, strlen(v) });
			n++;
		}
	}
	x->resp.body_kind = SW_BODY_MEMORY;
	x->resp.content_length = a->body_len;
	x->resp.body.len = a->body_len;
	x->resp.body.p = a->body_len ? memcpy(sw_exchange_buffer(x, a->body_len), a->body, a->body_len) : "";
	r->outcome = SW_AUTH_FAIL;
	r->reason = "denied";
	r->status = a->status;
	r->responded = true;
}

static void unlink_pending(struct pending *p)
{
	struct pending **pp = &p->fa->pending;

	while (*pp != p)
		pp = &(*pp)->next;
	*pp = p->next;
}

static void on_answer(void *data, const struct sw_subreq_answer *a)
{
	struct pending *p = data;
	struct sw_auth_result r = { .outcome = SW_AUTH_FAIL, .status = 503 };

	unlink_pending(p);
	if (a->status >= 200 && a->status < 300) {
		allowed(p, a, &r);
	} else if (a->status) {
		refused(p, a, &r);
	} else {
		/* Never let a request through on a silent or missing service. */
		r.reason = a->err == -ETIMEDOUT ? "timeout" : "unavailable";
	}
	p->done(p->x, &r);
	free(p);
}

/* The request head for the service: GET path, the original's coordinates, the chosen fields. */
static char *request_head(const struct fa *f, const struct sw_exchange *x, size_t *len)
{
	const struct sw_request *req = &x->req;
	char client[SW_CLIENT_ADDR_LEN];
	size_t cap = 512 + strlen(f->path) + req->method_name.len + 2 * req->target.len +
		     2 * req->authority.len;
	char *buf;
	int n;

	for (unsigned i = 0; i < req->header_count; i++)
		cap += req->headers[i].name.len + req->headers[i].value.len + 4;
	buf = sw_malloc(cap);
	sw_client_addr(x, client, sizeof(client));
	n = snprintf(buf, cap,
		     "GET %s HTTP/1.1\r\nHost: %.*s\r\nX-Forwarded-Method: %.*s\r\nX-Forwarded-Uri: %.*s\r\n"
		     "X-Forwarded-Host: %.*s\r\nX-Forwarded-Proto: %s\r\nX-Forwarded-For: %s\r\n",
		     f->path, (int)req->authority.len, req->authority.p, (int)req->method_name.len,
		     req->method_name.p, (int)req->target.len, req->target.p, (int)req->authority.len,
		     req->authority.p, x->tls ? "https" : "http", client);
	*len = (size_t)n;
	for (size_t k = 0; k < f->nrequest; k++) {
		for (unsigned i = 0; i < req->header_count; i++) {
			const struct sw_header *h = &req->headers[i];
			if (!sw_str_ieq(h->name, f->request_headers[k]))
				continue;
			n = snprintf(buf + *len, cap - *len, "%s: %.*s\r\n", f->request_headers[k],
				     (int)h->value.len, h->value.p);
			*len += (size_t)n;
		}
	}
	memcpy(buf + *len, "\r\n", 2);
	*len += 2;
	return buf;
}

static void check(struct sw_exchange *x, void *state, struct sw_auth_result *r, sw_auth_done_fn done)
{
	struct fa *f = state;
	struct pending *p = sw_calloc(1, sizeof(*p));
	struct sw_subreq_args a = { 0 };
	char *head;

	p->fa = f;
	p->x = x;
	p->done = done;
	head = request_head(f, x, &a.head_len);
	a.x = x;
	a.upstream = f->upstream;
	a.head = head;
	a.timeout_ms = f->timeout_ms;
	a.max_body = f->max_body;
	a.cb = on_answer;
	a.data = p;
	p->next = f->pending;
	f->pending = p;
	p->sub = sw_proxy_api()->subrequest(&a);
	free(head);
	r->outcome = SW_AUTH_PENDING;
}

static void cancel(struct sw_exchange *x, void *state)
{
	struct fa *f = state;

	for (struct pending *p = f->pending; p; p = p->next) {
		if (p->x != x)
			continue;
		unlink_pending(p);
		sw_proxy_api()->subrequest_cancel(p->sub);
		free(p);
		return;
	}
}

const struct sw_auth_method sw_auth_forward_auth = {
	.name = "forward_auth",
	.challenge = NULL,   /* the service's own WWW-Authenticate is relayed */
	.compile = compile,
	.release = release,
	.check = check,
	.cancel = cancel,
};
