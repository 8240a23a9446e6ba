/* test_gateway_access.c - routes[].access and routes[].body_schema end to end: libcurl over HTTP/1.1, HTTP/2 and HTTP/3 to swerver in front of tests/backend/origin. */
#include <config.h>

#include <curl/curl.h>
#include <signal.h>
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

static size_t on_body(char *p, size_t size, size_t n, void *data)
{
	struct res *r = data;
	size_t len = size * n, room = sizeof(r->body) - 1 - r->len;

	memcpy(r->body + r->len, p, len < room ? len : room);
	r->len += len < room ? len : room;
	r->body[r->len] = '\0';
	return len;
}

static size_t on_header(char *p, size_t size, size_t n, void *data)
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

static void perform(const struct req *q, struct res *r)
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
static long origin_requests(void)
{
	struct req q = { .proto = H1, .port = origin_port, .path = "/requests" };
	struct res r;

	perform(&q, &r);
	ck_assert_int_eq(r.code, 200);
	return atol(r.body);
}

/* The response field name's value (first one), or "" */
static const char *field(const struct res *r, const char *name)
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

static bool have_gateway(void)
{
	if (!it_backend(0))
		return false;
	if (!sw_module_find("proxy")) {
		fprintf(stderr, "note: built without the proxy (routes); skipping\n");
		return false;
	}
	return true;
}

static bool have_h3(void)
{
	return sw_module_find("http3") != NULL;
}

/* The protocols this build serves: HTTP/2 and HTTP/3 are optional units. */
static enum proto protos[3];
static int nprotos, ntcp;

static void find_protos(void)
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
static void write_config(const char *path, const char *global, const char *local)
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

static struct it_proc *start(const char *global)
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
static void get4(enum proto p, const char *path, struct res *r)
{
	struct req q = { .proto = p, .port = port4, .path = path };

	perform(&q, r);
}

static void get6(enum proto p, const char *path, struct res *r)
{
	struct req q = { .proto = p, .host = "[::1]", .port = port6, .path = path };

	perform(&q, r);
}

static void assert_refused(const struct res *r, int status, const char *error, const char *what)
{
	char want[64];

	snprintf(want, sizeof(want), "\"error\":\"%s\"", error);
	IT_ASSERT(r->code == status && strstr(r->body, want) &&
		  strcmp(field(r, "Content-Type"), "application/json") == 0,
		  "%s: want %d with %s, got %ld: %s%s", what, status, want, r->code, r->head, r->body);
}

/* ---- access: addresses ---- */

START_TEST(test_allow_deny_addresses)
{
	struct res r;
	long before, passed = 0;

	if (!have_gateway())
		return;
	start(NULL);
	before = origin_requests();
	for (int i = 0; i < nprotos; i++) {
		enum proto p = protos[i];

		get4(p, "/local/name", &r);
		IT_ASSERT(r.code == 200 && strcmp(r.body, "O") == 0, "%s /local from 127.0.0.1: %ld %s",
			  proto_name[p], r.code, r.body);
		passed++;
		get4(p, "/six/name", &r);
		assert_refused(&r, 403, "forbidden", "/six from 127.0.0.1");
		/* deny first: 127.0.0.1 is in allow's 127.0.0.0/8 too */
		get4(p, "/denyfirst/name", &r);
		assert_refused(&r, 403, "forbidden", "/denyfirst from 127.0.0.1");
		get4(p, "/open/name", &r);
		IT_ASSERT(r.code == 200, "%s /open: %ld", proto_name[p], r.code);
		passed++;
	}
	for (int i = 0; i < ntcp; i++) {
		enum proto p = protos[i];

		get6(p, "/six/name", &r);
		IT_ASSERT(r.code == 200 && strcmp(r.body, "O") == 0, "%s /six from ::1: %ld %s",
			  proto_name[p], r.code, r.body);
		passed++;
		get6(p, "/local/name", &r);
		assert_refused(&r, 403, "forbidden", "/local from ::1");
		get6(p, "/denyfirst/name", &r);
		IT_ASSERT(r.code == 200, "%s /denyfirst from ::1: %ld", proto_name[p], r.code);
		passed++;
	}
	IT_ASSERT(origin_requests() - before == passed, "the origin saw %ld requests, want %ld",
		  origin_requests() - before, passed);
}
END_TEST

/* The real client behind server.trusted_proxies is judged, and only a trusted peer's X-Forwarded-For counts. */
START_TEST(test_forwarded_client)
{
	struct res r;

	if (!have_gateway())
		return;
	start(NULL);
	for (int i = 0; i < ntcp; i++) {
		enum proto p = protos[i];

		struct req q = { .proto = p, .port = port4, .path = "/local/name", .from = "127.0.0.2",
				 .header = "X-Forwarded-For: 203.0.113.9" };
		perform(&q, &r);
		assert_refused(&r, 403, "forbidden", "/local via the trusted proxy for 203.0.113.9");
		q.header = "X-Forwarded-For: 198.51.100.1, 127.0.0.77";
		perform(&q, &r);
		IT_ASSERT(r.code == 200, "%s /local via the proxy for 127.0.0.77: %ld", proto_name[p], r.code);
		q.path = "/six/name";
		q.header = "X-Forwarded-For: ::1";
		perform(&q, &r);
		IT_ASSERT(r.code == 200, "%s /six via the proxy for ::1: %ld", proto_name[p], r.code);
		/* 127.0.0.1 is no trusted proxy: its X-Forwarded-For is not believed */
		q.from = NULL;
		q.header = "X-Forwarded-For: ::1";
		perform(&q, &r);
		assert_refused(&r, 403, "forbidden", "/six from 127.0.0.1 claiming ::1");
	}
}
END_TEST

/* Top-level access runs for every path, before the routes; the probes stay open. */
START_TEST(test_global_access)
{
	struct res r;

	if (!have_gateway())
		return;
	start("{\"deny\": [\"::1\"]}");
	for (int i = 0; i < ntcp; i++) {
		enum proto p = protos[i];

		get6(p, "/open/name", &r);
		assert_refused(&r, 403, "forbidden", "/open from ::1, globally denied");
		get6(p, "/nothing-here", &r);
		assert_refused(&r, 403, "forbidden", "an unrouted path from ::1");
		get6(p, "/.ready", &r);
		IT_ASSERT(r.code == 200, "%s /.ready from ::1: %ld", proto_name[p], r.code);
		get4(p, "/open/name", &r);
		IT_ASSERT(r.code == 200, "%s /open from 127.0.0.1: %ld", proto_name[p], r.code);
	}
}
END_TEST

/* A reload swaps the rules in place: the next request is judged by the new ones. */
START_TEST(test_reload_in_place)
{
	char cfg[IT_PATH_MAX];
	struct it_proc *p;
	struct res r;
	size_t from;

	if (!have_gateway())
		return;
	p = start(NULL);
	get4(H1, "/local/name", &r);
	IT_ASSERT(r.code == 200, "/local before the reload: %ld", r.code);
	it_path(cfg, "swerver.json");
	write_config(cfg, NULL, "[\"::1\"]");
	from = it_log_size(p);
	ck_assert_int_eq(it_signal(p, SIGHUP), 0);
	IT_ASSERT(it_wait_log(p, from, "configuration applied in place", IT_WAIT_MS),
		  "the reload was not applied in place");
	for (int i = 0; i < nprotos; i++) {
		get4(protos[i], "/local/name", &r);
		assert_refused(&r, 403, "forbidden", "/local from 127.0.0.1 after the reload");
	}
	get6(H1, "/local/name", &r);
	IT_ASSERT(r.code == 200, "/local from ::1 after the reload: %ld", r.code);
}
END_TEST

/* ---- access: methods ---- */

START_TEST(test_methods)
{
	static const char *const refused[] = { "POST", "DELETE", "PUT", "get" };
	struct res r;
	long before, passed = 0;

	if (!have_gateway())
		return;
	start(NULL);
	before = origin_requests();
	for (int i = 0; i < nprotos; i++) {
		enum proto p = protos[i];

		struct req q = { .proto = p, .port = port4, .path = "/ro/name" };

		perform(&q, &r);
		IT_ASSERT(r.code == 200, "%s GET /ro: %ld", proto_name[p], r.code);
		q.method = "HEAD";   /* allowed with GET */
		perform(&q, &r);
		IT_ASSERT(r.code == 200, "%s HEAD /ro: %ld", proto_name[p], r.code);
		passed += 2;
		for (size_t k = 0; k < sizeof(refused) / sizeof(refused[0]); k++) {
			q.method = refused[k];
			q.body = strcmp(refused[k], "POST") == 0 ? "{}" : NULL;
			q.ctype = q.body ? "application/json" : NULL;
			perform(&q, &r);
			assert_refused(&r, 405, "method_not_allowed", refused[k]);
			IT_ASSERT(strcmp(field(&r, "Allow"), "GET, OPTIONS, HEAD") == 0,
				  "%s %s /ro: Allow \"%s\"", proto_name[p], refused[k], field(&r, "Allow"));
		}
	}
	IT_ASSERT(origin_requests() - before == passed, "the origin saw %ld requests, want %ld",
		  origin_requests() - before, passed);
}
END_TEST

/* OPTIONS on port4's path; a CORS preflight for acrm when it is not NULL. */
static void options(enum proto p, const char *path, const char *acrm, struct res *r)
{
	char field[128];
	struct req q = { .proto = p, .port = port4, .path = path, .method = "OPTIONS" };

	snprintf(field, sizeof(field), "Access-Control-Request-Method: %s", acrm ? acrm : "");
	q.header = acrm ? "Origin: " APP : NULL;
	q.header2 = acrm ? field : NULL;
	perform(&q, r);
}

/*
 * Where a cors answers preflights, access.methods judges the method a
 * preflight announces, not OPTIONS; a plain OPTIONS, or a preflight no
 * cors answers (/plain), is judged as OPTIONS.
 */
START_TEST(test_methods_preflight)
{
	struct res r;
	long before;

	if (!have_gateway())
		return;
	start(NULL);
	before = origin_requests();
	for (int i = 0; i < nprotos; i++) {
		enum proto p = protos[i];

		options(p, "/cors/name", "PUT", &r);
		IT_ASSERT(r.code == 204 && strcmp(field(&r, "Access-Control-Allow-Methods"),
						  "GET, PUT, DELETE") == 0,
			  "%s preflight PUT /cors: %ld, Allow-Methods \"%s\"", proto_name[p], r.code,
			  field(&r, "Access-Control-Allow-Methods"));
		options(p, "/cors/name", "DELETE", &r);
		assert_refused(&r, 405, "method_not_allowed", "preflight DELETE /cors");
		ck_assert_str_eq(field(&r, "Allow"), "GET, PUT, HEAD");
		options(p, "/cors/name", NULL, &r);
		assert_refused(&r, 405, "method_not_allowed", "plain OPTIONS /cors");
		options(p, "/plain/name", "PUT", &r);
		assert_refused(&r, 405, "method_not_allowed", "preflight PUT /plain (no cors)");
	}
	IT_ASSERT(origin_requests() == before, "the origin saw %ld requests",
		  origin_requests() - before);
}
END_TEST

/* A top-level access.methods sees the preflight first; the route's cors still counts. */
START_TEST(test_global_methods_preflight)
{
	struct res r;

	if (!have_gateway())
		return;
	start("{\"methods\": [\"GET\", \"PUT\"]}");
	for (int i = 0; i < nprotos; i++) {
		enum proto p = protos[i];

		options(p, "/cors/name", "PUT", &r);
		IT_ASSERT(r.code == 204, "%s preflight PUT /cors: %ld", proto_name[p], r.code);
		options(p, "/open/name", "PUT", &r);
		assert_refused(&r, 405, "method_not_allowed", "preflight PUT /open (no cors)");
	}
}
END_TEST

/* ---- body_schema ---- */

/* What the origin's /echo got as its body: after the echoed head's blank line. */
static const char *echoed_body(const struct res *r)
{
	const char *b = strstr(r->body, "\n\n");

	return b ? b + 2 : "";
}

static void post(enum proto p, const char *path, const char *ctype, const char *body, struct res *r)
{
	struct req q = { .proto = p, .port = port4, .method = "POST", .path = path, .ctype = ctype,
			 .body = body };

	perform(&q, r);
}

/* What passed the check is what the client sent, byte for byte; what did not never left. */
START_TEST(test_valid_body_forwarded_unchanged)
{
	/* odd spacing, escapes and non-ASCII: forwarded as sent, never re-serialized */
	static const char body[] =
		"{ \"customer\" :\"anna\",\r\n\t\"items\": [ {\"name\":\"caf\\u00e9\", \"qty\": 2.0},"
		" {\"name\": \"\xe2\x82\xac uro\"} ] }  \n";
	struct res r;
	long before;

	if (!have_gateway())
		return;
	start(NULL);
	before = origin_requests();
	for (int i = 0; i < nprotos; i++) {
		enum proto p = protos[i];

		post(p, "/orders/echo", "application/json; charset=utf-8", body, &r);
		IT_ASSERT(r.code == 200 && strcmp(echoed_body(&r), body) == 0,
			  "%s: a valid body: %ld, the origin got:\n%s", proto_name[p], r.code, r.body);
		post(p, "/orders/echo", "application/vnd.shop.order+json", body, &r);
		IT_ASSERT(r.code == 200 && strcmp(echoed_body(&r), body) == 0,
			  "%s: a +json body: %ld", proto_name[p], r.code);
		/* no body: nothing to judge */
		get4(p, "/orders/name", &r);
		IT_ASSERT(r.code == 200, "%s: GET without a body: %ld", proto_name[p], r.code);
		/* the same body one character off (qty 2.5) */
		post(p, "/orders/echo", "application/json", "{\"customer\":\"anna\",\"items\":[{\"name\":\"x\",\"qty\":2.5}]}", &r);
		assert_refused(&r, 400, "schema_violation", "qty 2.5");
	}
	IT_ASSERT(origin_requests() - before == 3 * nprotos, "the origin saw %ld requests",
		  origin_requests() - before);
}
END_TEST

START_TEST(test_invalid_body_refused)
{
	static const struct {
		const char *body, *path, *keyword;
	} cases[] = {
		{ "{\"customer\":\"anna\",\"items\":[{\"name\":\"a\"},{\"name\":\"b\"},{\"name\":\"\"}]}",
		  "/items/2/name", "minLength" },
		{ "{\"customer\":\"anna\",\"items\":[{\"name\":\"a\",\"qty\":1.5}]}", "/items/0/qty", "type" },
		{ "{\"customer\":\"anna\",\"items\":[{\"name\":\"a\",\"qty\":0}]}", "/items/0/qty", "minimum" },
		{ "{\"customer\":\"Anna!\",\"items\":[{\"name\":\"a\"}]}", "/customer", "pattern" },
		{ "{\"customer\":\"anna\"}", "", "required" },
		{ "{\"customer\":\"anna\",\"items\":[{\"name\":\"a\"}],\"admin\":true}", "/admin",
		  "additionalProperties" },
		{ "[]", "", "type" },
	};
	static const char *const not_json[] = { "{'customer':'anna'}", "{\"a\":1,}", "NaN", "{\"a\":1} x" };
	char want[128];
	struct res r;
	long before;

	if (!have_gateway())
		return;
	start(NULL);
	before = origin_requests();
	for (int i = 0; i < nprotos; i++) {
		enum proto p = protos[i];

		for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
			post(p, "/orders/echo", "application/json", cases[k].body, &r);
			assert_refused(&r, 400, "schema_violation", cases[k].body);
			snprintf(want, sizeof(want), "\"path\":\"%s\",\"keyword\":\"%s\"", cases[k].path,
				 cases[k].keyword);
			IT_ASSERT(strstr(r.body, want), "%s %s: want %s in %s", proto_name[p], cases[k].body,
				  want, r.body);
		}
		for (size_t k = 0; k < sizeof(not_json) / sizeof(not_json[0]); k++) {
			post(p, "/orders/echo", "application/json", not_json[k], &r);
			assert_refused(&r, 400, "invalid_json", not_json[k]);
		}
		/* require_json defaults to true: a body the route cannot check is refused */
		post(p, "/orders/echo", "text/plain", "customer=anna", &r);
		assert_refused(&r, 415, "unsupported_media_type", "a text/plain body");
		post(p, "/orders/echo", NULL, "{\"customer\":\"anna\"}", &r);   /* curl's form type */
		assert_refused(&r, 415, "unsupported_media_type", "a form body");
	}
	IT_ASSERT(origin_requests() == before, "%ld refused requests reached the origin",
		  origin_requests() - before);
}
END_TEST

/* The long form: options beside the schema; require_json false lets other types through. */
START_TEST(test_options_form)
{
	struct res r;
	long before;

	if (!have_gateway())
		return;
	start(NULL);
	before = origin_requests();
	for (int i = 0; i < nprotos; i++) {
		enum proto p = protos[i];

		post(p, "/hooks/echo", "text/plain", "not json at all", &r);
		IT_ASSERT(r.code == 200 && strcmp(echoed_body(&r), "not json at all") == 0,
			  "%s: text/plain with require_json false: %ld", proto_name[p], r.code);
		post(p, "/hooks/echo", "application/json", "{\"event\":\"push\"}", &r);
		IT_ASSERT(r.code == 200, "%s: a valid hook: %ld", proto_name[p], r.code);
		post(p, "/hooks/echo", "application/json", "{\"evnt\":\"push\"}", &r);
		assert_refused(&r, 400, "schema_violation", "a hook without event");
	}
	IT_ASSERT(origin_requests() - before == 2 * nprotos, "the origin saw %ld requests",
		  origin_requests() - before);
}
END_TEST

/* ---- config checks ---- */

START_TEST(test_config_errors)
{
	char cfg[IT_PATH_MAX];
	struct it_proc *p;
	char *log;
	int code;

	if (!have_gateway())
		return;
	it_path(cfg, "bad.json");
	it_write_file(cfg,
		"{ \"upstreams\": [ {\"name\": \"o\", \"servers\": [{\"address\": \"127.0.0.1\", \"port\": 9}]} ],\n"
		"  \"routes\": [\n"
		"    {\"path_prefix\": \"/a\", \"upstream\": \"o\",\n"
		"     \"access\": {\"allow\": [\"10.0.0.0/33\"], \"methds\": [\"GET\"]}},\n"
		"    {\"path_prefix\": \"/b\", \"upstream\": \"o\",\n"
		"     \"body_schema\": {\"properties\": {\"age\": {\"minimum\": \"0\"},\n"
		"                     \"id\": {\"pattern\": \"^\\\\d+$\"}, \"t\": {\"type\": \"text\"}},\n"
		"                     \"anyOf\": [{}]}} ] }\n");
	p = it_spawn((const char *const[]){ "-t", "-c", cfg, NULL }, NULL);
	code = it_wait_exit(p, IT_WAIT_MS);
	log = it_log(p);
	IT_ASSERT(code != 0, "-t accepted the config: %s", log);
	IT_ASSERT(strstr(log, "routes[0].access.allow: [0]: \"10.0.0.0/33\" is not an IP address or CIDR block") &&
		  strstr(log, "routes[0].access.methds: unknown key") &&
		  strstr(log, "routes[1].body_schema.properties.age.minimum: must be a number") &&
		  strstr(log, "routes[1].body_schema.properties.id.pattern: \"\\d\" is not POSIX ERE") &&
		  strstr(log, "routes[1].body_schema.properties.t.type: unknown type \"text\"") &&
		  strstr(log, "routes[1].body_schema.anyOf: not supported"),
		  "-t said:\n%s", log);
	free(log);
}
END_TEST

static Suite *gateway_access_suite(void)
{
	Suite *s = suite_create("gateway_access");
	TCase *a = it_tcase("access");
	TCase *b = it_tcase("body_schema");

	curl_global_init(CURL_GLOBAL_DEFAULT);
	tcase_add_test(a, test_allow_deny_addresses);
	tcase_add_test(a, test_forwarded_client);
	tcase_add_test(a, test_global_access);
	tcase_add_test(a, test_reload_in_place);
	tcase_add_test(a, test_methods);
	tcase_add_test(a, test_methods_preflight);
	tcase_add_test(a, test_global_methods_preflight);
	tcase_add_test(b, test_valid_body_forwarded_unchanged);
	tcase_add_test(b, test_invalid_body_refused);
	tcase_add_test(b, test_options_form);
	tcase_add_test(b, test_config_errors);
	suite_add_tcase(s, a);
	suite_add_tcase(s, b);
	return s;
}

IT_SUITE(gateway_access_suite);
