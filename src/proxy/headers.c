/* SPDX-License-Identifier: MIT */
/* headers.c - what crosses the proxy: request heads for upstreams, response fields for clients. */
#include <config.h>

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "http/context.h"
#include "http/client_addr.h"
#include "http/policy.h"
#include "proxy/proxy.h"

/*
 * Hop-by-hop fields (RFC 9110 7.6.1) belong to one connection and are
 * never forwarded; the X-Forwarded-* set and Via are rebuilt by us, and
 * X-Client-Cert-Subject only ever comes from our own TLS layer.
 */
static const char *const dropped_request[] = {
	"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding",
	"upgrade", "host", "content-length", "expect", "x-forwarded-for", "x-forwarded-proto",
	"x-forwarded-host", "via", "x-request-id", "x-client-cert-subject",
	/* the gateway's word on who authenticated (routes[].auth): never a client's, on any route */
	"x-consumer",
};

static const char *const dropped_response[] = {
	"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding",
	"upgrade", "content-length", "date", "server", "x-request-id",
};

static bool in_list(struct sw_str name, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (sw_str_ieq(name, list[i]))
			return true;
	return false;
}

/* Is name one of the tokens of a Connection field (which makes it hop-by-hop too)? */
static bool named_by_connection(const struct sw_header *h, unsigned n, struct sw_str name)
{
	for (unsigned i = 0; i < n; i++) {
		struct sw_str v = h[i].value;
		size_t k = 0;

		if (!sw_str_ieq(h[i].name, "connection"))
			continue;
		while (k < v.len) {
			size_t start;
			while (k < v.len && (v.p[k] == ' ' || v.p[k] == ',' || v.p[k] == '\t'))
				k++;
			start = k;
			while (k < v.len && v.p[k] != ',' && v.p[k] != ' ' && v.p[k] != '\t')
				k++;
			if (k > start && k - start == name.len &&
			    strncasecmp(v.p + start, name.p, name.len) == 0)
				return true;
		}
	}
	return false;
}

struct out {
	char *p;
	size_t n, cap;
	bool full;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->n + n > o->cap) {
		o->full = true;
		return;
	}
	if (n)
		memcpy(o->p + o->n, s, n);
	o->n += n;
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void field(struct out *o, const char *name, struct sw_str v)
{
	puts_(o, name);
	put(o, ": ", 2);
	put(o, v.p, v.len);
	put(o, "\r\n", 2);
}

/* Every incoming field of that name joined with sep. */
static void joined_sep(struct out *o, const struct sw_request *req, const char *name,
		       const char *sep)
{
	bool first = true;

	for (unsigned i = 0; i < req->header_count; i++)
		if (sw_str_ieq(req->headers[i].name, name)) {
			if (!first)
				puts_(o, sep);
			put(o, req->headers[i].value.p, req->headers[i].value.len);
			first = false;
		}
}

/* A list field's values joined with ", " (they form one list). */
static void joined(struct out *o, const struct sw_request *req, const char *name)
{
	joined_sep(o, req, name, ", ");
}

/* The route sets this field itself (upstream_headers): the client's is not sent. */
static bool replaced_by_route(const struct px_route *r, struct sw_str name)
{
	for (size_t i = 0; i < r->cfg->upstream_headers_count; i++)
		if (sw_str_ieq(name, r->cfg->upstream_headers[i].name))
			return true;
	return false;
}

/* A policy set or removed this field (sw_exchange_upstream_set/_remove): the client's is not sent. */
static bool edited(const struct sw_upstream_edit *e, size_t n, struct sw_str name)
{
	for (size_t i = 0; i < n; i++)
		if (sw_str_ieq(name, e[i].name))
			return true;
	return false;
}

/* A client field a policy replaces or removes (X-Consumer when a consumer is set). */
static bool policy_dropped(const struct sw_exchange *x, const struct sw_upstream_edit *e, size_t n,
			   struct sw_str name)
{
	return edited(e, n, name) || (x->consumer && sw_str_ieq(name, "x-consumer"));
}

/* The policies' fields, and X-Consumer for an authenticated consumer (the client's never). */
static void policy_fields(struct out *o, const struct sw_exchange *x,
			  const struct sw_upstream_edit *e, size_t n)
{
	if (x->consumer && !edited(e, n, SW_STR("x-consumer")))
		field(o, "X-Consumer", (struct sw_str){ x->consumer, strlen(x->consumer) });
	for (size_t i = 0; i < n; i++)
		if (e[i].value)
			field(o, e[i].name, (struct sw_str){ e[i].value, strlen(e[i].value) });
}

/*
 * X-Forwarded-For: the chain so far only when the peer is a trusted proxy
 * (otherwise the client could write anything there), then the peer.
 */
static void forwarded_for(struct out *o, const struct sw_exchange *x)
{
	const struct sw_server_cfg *s = &x->ctx->cfg->server;
	bool trusted = sw_cidr_match(s->trusted_proxies, s->trusted_proxies_count, x->peer);
	char peer[SW_CLIENT_ADDR_LEN];

	sw_addr_format(x->peer, peer, sizeof(peer));
	puts_(o, "X-Forwarded-For: ");
	if (trusted && sw_request_header(&x->req, "x-forwarded-for")) {
		joined(o, &x->req, "x-forwarded-for");
		put(o, ", ", 2);
	}
	puts_(o, peer);
	put(o, "\r\n", 2);
	puts_(o, "X-Forwarded-Proto: ");
	if (trusted && sw_request_header(&x->req, "x-forwarded-proto"))
		put(o, sw_request_header(&x->req, "x-forwarded-proto")->value.p,
		    sw_request_header(&x->req, "x-forwarded-proto")->value.len);
	else
		puts_(o, x->tls ? "https" : "http");
	put(o, "\r\n", 2);
}

bool px_is_upgrade(const struct sw_exchange *x)
{
	const struct sw_header *up = sw_request_header(&x->req, "upgrade");

	return x->req.version == 11 && up && up->value.len &&
	       named_by_connection(x->req.headers, x->req.header_count, SW_STR("upgrade"));
}

size_t px_request_head(const struct px_route *r, const struct sw_exchange *x, bool chunked_body,
		       char *buf, size_t size)
{
	const struct sw_request *req = &x->req;
	struct out o = { buf, 0, size, false };
	char num[24];
	size_t n, nedits = 0;
	/* A route without policies pays this test, nothing else. */
	bool policies = x->policy || x->consumer;
	const struct sw_upstream_edit *edits = policies ? sw_exchange_upstream_edits(x, &nedits) : NULL;

	put(&o, req->method_name.p, req->method_name.len);
	put(&o, " ", 1);
	n = px_route_target(r, x, o.p + o.n, o.cap - o.n);
	if (n == 0)
		return 0;
	o.n += n;
	puts_(&o, " HTTP/1.1\r\n");
	/* The client's Host, so virtual hosts upstream see the name that was asked for. */
	if (req->authority.len)
		field(&o, "Host", req->authority);
	else
		field(&o, "Host", (struct sw_str){ r->up->servers[0].name,
						   strlen(r->up->servers[0].name) });
	for (unsigned i = 0; i < req->header_count; i++) {
		const struct sw_header *h = &req->headers[i];
		if (in_list(h->name, dropped_request, SW_ARRAY_SIZE(dropped_request)) ||
		    named_by_connection(req->headers, req->header_count, h->name) ||
		    replaced_by_route(r, h->name) || (req->version >= 20 && sw_str_ieq(h->name, "cookie")) ||
		    (policies && policy_dropped(x, edits, nedits, h->name)))
			continue;
		put(&o, h->name.p, h->name.len);
		put(&o, ": ", 2);
		put(&o, h->value.p, h->value.len);
		put(&o, "\r\n", 2);
	}
	/*
	 * HTTP/2 and 3 split cookies into fields; HTTP/1.1 wants one (RFC 9113
	 * 8.2.3).  Not when a policy set or removed Cookie: its edit goes instead.
	 */
	if (req->version >= 20 && sw_request_header(req, "cookie") &&
	    !edited(edits, nedits, SW_STR("cookie")) && !replaced_by_route(r, SW_STR("cookie"))) {
		puts_(&o, "Cookie: ");
		joined_sep(&o, req, "cookie", "; ");
		put(&o, "\r\n", 2);
	}
	/* An Upgrade (WebSocket) is the one hop-by-hop request that goes on, as such. */
	if (px_is_upgrade(x)) {
		field(&o, "Upgrade", sw_request_header(req, "upgrade")->value);
		puts_(&o, "Connection: upgrade\r\n");
	}
	if (chunked_body) {
		puts_(&o, "Transfer-Encoding: chunked\r\n");
	} else if (req->content_length >= 0) {
		snprintf(num, sizeof(num), "%lld", (long long)req->content_length);
		field(&o, "Content-Length", (struct sw_str){ num, strlen(num) });
	}
	forwarded_for(&o, x);
	if (req->authority.len)
		field(&o, "X-Forwarded-Host", req->authority);
	puts_(&o, "Via: ");
	if (sw_request_header(req, "via")) {
		joined(&o, req, "via");
		put(&o, ", ", 2);
	}
	puts_(&o, req->version == 20 ? "2 swerver\r\n" : req->version == 30 ? "3 swerver\r\n" :
	      req->version == 10 ? "1.0 swerver\r\n" : "1.1 swerver\r\n");
	field(&o, "X-Request-Id", (struct sw_str){ x->request_id, SW_REQUEST_ID_LEN });
	if (x->tls_client)
		field(&o, "X-Client-Cert-Subject", (struct sw_str){ x->tls_client, strlen(x->tls_client) });
	for (size_t i = 0; i < r->cfg->upstream_headers_count; i++) {
		const struct sw_header_cfg *h = &r->cfg->upstream_headers[i];
		if (!edited(edits, nedits, (struct sw_str){ h->name, strlen(h->name) }))
			field(&o, h->name, (struct sw_str){ h->value, strlen(h->value) });
	}
	if (policies)
		policy_fields(&o, x, edits, nedits);
	put(&o, "\r\n", 2);
	return o.full ? 0 : o.n;
}

void px_response_fields(struct sw_exchange *x, const struct sw_http1_response *r)
{
	if (r->status == 101) {
		const struct sw_header *up = NULL;
		for (unsigned i = 0; i < r->header_count; i++)
			if (sw_str_ieq(r->headers[i].name, "upgrade"))
				up = &r->headers[i];
		if (up)
			sw_response_add_header(&x->resp, SW_STR("Upgrade"), up->value);
		sw_response_add_header(&x->resp, SW_STR("Connection"), SW_STR("upgrade"));
	}
	for (unsigned i = 0; i < r->header_count; i++) {
		const struct sw_header *h = &r->headers[i];
		if (in_list(h->name, dropped_response, SW_ARRAY_SIZE(dropped_response)) ||
		    named_by_connection(r->headers, r->header_count, h->name))
			continue;
		sw_response_add_header(&x->resp, h->name, h->value);
	}
}
