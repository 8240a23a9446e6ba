/* SPDX-License-Identifier: MIT */
/*
 * gateway_fixture.h - what the gateway's end-to-end suites share
 * (test_gateway_access.c, test_gateway_body_schema.c): libcurl requests
 * over HTTP/1.1, HTTP/2 and HTTP/3, and one swerver in front of
 * tests/backend/origin with a route per access and body_schema case.
 * Header-only and static: each suite is one program.
 */
#ifndef SW_IT_GATEWAY_FIXTURE_H
#define SW_IT_GATEWAY_FIXTURE_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "core/module.h"
#include "harness.h"
#include "origins.h"

enum proto { H1, H2, H3 };
static const char *const proto_name[] = { "HTTP/1.1", "HTTP/2", "HTTP/3" };
static const long proto_version[] = { CURL_HTTP_VERSION_1_1, CURL_HTTP_VERSION_2_0, CURL_HTTP_VERSION_3 };

static int origin_port;

/* ---- libcurl ---- */

struct res {
	CURLcode rc;
	long code, version;
	char head[4096];
	size_t head_len;
	char body[65536];
	size_t len;
};

static inline size_t on_body(char *p, size_t size, size_t n, void *data)
{
	struct res *r = data;
	size_t len = size * n, room = sizeof(r->body) - 1 - r->len;

	memcpy(r->body + r->len, p, len < room ? len : room);
	r->len += len < room ? len : room;
	r->body[r->len] = '\0';
	return len;
}

static inline size_t on_header(char *p, size_t size, size_t n, void *data)
{
	struct res *r = data;
	size_t len = size * n, room = sizeof(r->head) - 1 - r->head_len;

	memcpy(r->head + r->head_len, p, len < room ? len : room);
	r->head_len += len < room ? len : room;
	r->head[r->head_len] = '\0';
	return len;
}

struct req {
	enum proto proto;
	const char *host;       /* "127.0.0.1" (default) or "[::1]" */
	int port;
	const char *from;       /* local address to connect from, or NULL */
	const char *method;     /* default GET */
	const char *path;
	const char *ctype;      /* Content-Type of body */
	const char *body;       /* NULL: none */
	size_t body_len;        /* 0: strlen(body) */
	const char *header;     /* one more request field, or NULL */
	const char *header2;    /* and another */
};

static inline void perform(const struct req *q, struct res *r)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char url[256], field[256];

	memset(r, 0, sizeof(*r));
	snprintf(url, sizeof(url), "%s://%s:%d%s", q->proto == H3 ? "https" : "http",
		 q->host ? q->host : "127.0.0.1", q->port, q->path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTP_VERSION,
			 q->proto == H1 ? (long)CURL_HTTP_VERSION_1_1
			 : q->proto == H2 ? (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE
					  : (long)CURL_HTTP_VERSION_3ONLY);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 20000L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	if (q->from)
		curl_easy_setopt(c, CURLOPT_INTERFACE, q->from);
	h = curl_slist_append(h, "Expect:");   /* no 100-continue round trip */
	if (q->ctype) {
		snprintf(field, sizeof(field), "Content-Type: %s", q->ctype);
		h = curl_slist_append(h, field);
	}
	if (q->header)
		h = curl_slist_append(h, q->header);
	if (q->header2)
		h = curl_slist_append(h, q->header2);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	if (q->body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, q->body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)(q->body_len ? q->body_len : strlen(q->body)));
	}
	if (q->method && strcmp(q->method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	else if (q->method)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, q->method);
	r->rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->code);
	curl_easy_getinfo(c, CURLINFO_HTTP_VERSION, &r->version);
	curl_easy_cleanup(c);
	curl_slist_free_all(h);
	IT_ASSERT(r->rc == CURLE_OK, "%s %s %s: curl: %s", proto_name[q->proto],
		  q->method ? q->method : "GET", url, curl_easy_strerror(r->rc));
	IT_ASSERT(r->version == proto_version[q->proto], "%s went as version %ld", url, r->version);
}

/* How many requests reached the origin so far. */
static inline long origin_requests(void)
{
	struct req q = { .proto = H1, .port = origin_port, .path = "/requests" };
	struct res r;

	perform(&q, &r);
	ck_assert_int_eq(r.code, 200);
	return atol(r.body);
}

/* The response field name's value (first one), or "" */
static inline const char *field(const struct res *r, const char *name)
{
	static char value[512];
	size_t n = strlen(name);

	value[0] = '\0';
	for (const char *l = r->head; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (strncasecmp(l, name, n) == 0 && l[n] == ':') {
			const char *v = l + n + 1;
			size_t len;
			while (*v == ' ')
				v++;
			len = strcspn(v, "\r\n");
			snprintf(value, sizeof(value), "%.*s", (int)len, v);
			break;
		}
	}
	return value;
}

/* ---- the server ---- */

#define ROUTE(prefix, extra) "{\"path_prefix\": \"" prefix "\", \"upstream\": \"o\", " \
	"\"rewrite_pattern\": \"" prefix "\", \"rewrite_replacement\": \"/\"" extra "}"

#define ORDERS_SCHEMA \
	"{\"type\": \"object\", \"required\": [\"customer\", \"items\"], \"additionalProperties\": false," \
	" \"properties\": {\"customer\": {\"type\": \"string\", \"pattern\": \"^[a-z]{3,8}$\"}," \
	" \"items\": {\"type\": \"array\", \"minItems\": 1, \"items\": {\"type\": \"object\"," \
	"  \"required\": [\"name\"], \"properties\": {\"name\": {\"type\": \"string\", \"minLength\": 1}," \
	"  \"qty\": {\"type\": \"integer\", \"minimum\": 1}}}}}}"

#define APP "https://app.example.com"

static int port4, port6;

static inline bool have_gateway(void)
{
	if (!it_backend(0))
		return false;
	if (!sw_module_find("proxy")) {
		fprintf(stderr, "note: built without the proxy (routes); skipping\n");
		return false;
	}
	return true;
}

static inline bool have_h3(void)
{
	return sw_module_find("http3") != NULL;
}

/* The protocols this build serves: HTTP/2 and HTTP/3 are optional units. */
static enum proto protos[3];
static int nprotos, ntcp;

static inline void find_protos(void)
{
	nprotos = 0;
	protos[nprotos++] = H1;
	if (sw_module_find("http2"))
		protos[nprotos++] = H2;
	ntcp = nprotos;
	if (have_h3())
		protos[nprotos++] = H3;
}

/*
 * The config: one worker; 127.0.0.1 (TCP: HTTP/1.1 and h2c, UDP: HTTP/3)
 * and [::1] (TCP); 127.0.0.2 is a trusted proxy.  `global` is the
 * top-level access object, or NULL; `local` the allow list of /local.
 */
static inline void write_config(const char *path, const char *global, const char *local)
{
	const char *d = it_tmpdir();

	it_write_filef(path,
		"{ \"server\": { \"workers\": 1, \"io_backend\": \"%s\",\n"
		"    \"listeners\": [ {\"address\": \"127.0.0.1\", \"port\": %d, \"quic_enabled\": %s},\n"
		"                     {\"address\": \"::1\", \"port\": 0} ],\n"
		"    \"trusted_proxies\": [\"127.0.0.2\"] },\n"
		"  \"tls\": { \"cert_path\": \"%s/cert.pem\", \"key_path\": \"%s/key.pem\" },\n"
		"  %s%s%s"
		"  \"upstreams\": [ {\"name\": \"o\", \"servers\": [{\"address\": \"127.0.0.1\", \"port\": %d}]} ],\n"
		"  \"routes\": [\n"
		"    " ROUTE("/local", ", \"access\": {\"allow\": %s}") ",\n"
		"    " ROUTE("/six", ", \"access\": {\"allow\": [\"::1/128\"]}") ",\n"
		"    " ROUTE("/denyfirst", ", \"access\": {\"allow\": [\"127.0.0.0/8\", \"::1\"], \"deny\": [\"127.0.0.1\"]}") ",\n"
		"    " ROUTE("/ro", ", \"access\": {\"methods\": [\"GET\", \"OPTIONS\"]}") ",\n"
		"    " ROUTE("/orders", ", \"body_schema\": " ORDERS_SCHEMA) ",\n"
		"    " ROUTE("/hooks", ", \"body_schema\": {\"schema\": {\"required\": [\"event\"]}, \"require_json\": false}") ",\n"
		"    " ROUTE("/cors", ", \"access\": {\"methods\": [\"GET\", \"PUT\"]}, \"cors\": "
			    "{\"origins\": [\"" APP "\"], \"methods\": [\"GET\", \"PUT\", \"DELETE\"]}") ",\n"
		"    " ROUTE("/plain", ", \"access\": {\"methods\": [\"GET\", \"PUT\"]}") ",\n"
		"    " ROUTE("/open", "") " ] }\n",
		it_backend(0), port4, have_h3() ? "true" : "false", d, d,
		global ? "\"access\": " : "", global ? global : "", global ? ",\n" : "", origin_port, local);
}

static inline struct it_proc *start(const char *global)
{
	char cfg[IT_PATH_MAX];
	struct it_proc *p;

	find_protos();
	origin_port = it_origin_start("O")->port;
	it_make_cert(it_tmpdir());
	port4 = it_free_dual_port();
	it_path(cfg, "swerver.json");
	write_config(cfg, global, "[\"127.0.0.0/8\"]");
	p = it_start_ready(cfg, "127.0.0.1", &port4);
	port6 = it_wait_port(p, "[::1]", IT_WAIT_MS);
	IT_ASSERT(port6 > 0, "no [::1] listener");
	return p;
}

/* A request on the 127.0.0.1 listener. */
static inline void get4(enum proto p, const char *path, struct res *r)
{
	struct req q = { .proto = p, .port = port4, .path = path };

	perform(&q, r);
}

static inline void get6(enum proto p, const char *path, struct res *r)
{
	struct req q = { .proto = p, .host = "[::1]", .port = port6, .path = path };

	perform(&q, r);
}

static inline void assert_refused(const struct res *r, int status, const char *error, const char *what)
{
	char want[64];

	snprintf(want, sizeof(want), "\"error\":\"%s\"", error);
	IT_ASSERT(r->code == status && strstr(r->body, want) &&
		  strcmp(field(r, "Content-Type"), "application/json") == 0,
		  "%s: want %d with %s, got %ld: %s%s", what, status, want, r->code, r->head, r->body);
}

#endif
