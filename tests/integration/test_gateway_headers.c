/* SPDX-License-Identifier: MIT */
/* test_gateway_headers.c - the headers and cors policies end to end over HTTP/1.1, HTTP/2 and HTTP/3 with libcurl: the exact CORS header exchanges, preflights kept from the origin, HSTS over TLS only, security headers on 404s and proxied answers, request edits the origin sees.  The upstream is tests/backend/origin. */
#include <config.h>

#include <curl/curl.h>
#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "core/module.h"
#include "harness.h"
#include "origins.h"

#define APP "https://app.example.com"

enum proto { H1, H2, H3, NPROTO };
static const char *const proto_name[NPROTO] = { "HTTP/1.1", "HTTP/2", "HTTP/3" };

/* ---- libcurl: one request, the response's status, fields and body ---- */

struct answer {
	CURLcode rc;
	long status;
	long version;
	char head[8192];
	size_t head_len;
	char body[8192];
	size_t body_len;
};

static size_t on_head(char *p, size_t size, size_t n, void *data)
{
	struct answer *a = data;
	size_t len = size * n, room = sizeof(a->head) - 1 - a->head_len;

	memcpy(a->head + a->head_len, p, len < room ? len : room);
	a->head_len += len < room ? len : room;
	a->head[a->head_len] = '\0';
	return len;
}

static size_t on_body(char *p, size_t size, size_t n, void *data)
{
	struct answer *a = data;
	size_t len = size * n, room = sizeof(a->body) - 1 - a->body_len;

	memcpy(a->body + a->body_len, p, len < room ? len : room);
	a->body_len += len < room ? len : room;
	a->body[a->body_len] = '\0';
	return len;
}

/*
 * method path on 127.0.0.1:port over pr (TLS unless plain, which is
 * HTTP/1.1 only), with the request fields in hdrs (NULL-terminated).
 */
static void fetch(enum proto pr, bool plain, int port, const char *method, const char *path,
		  const char *const *hdrs, struct answer *a)
{
	static const long versions[NPROTO] = { CURL_HTTP_VERSION_1_1, CURL_HTTP_VERSION_2TLS,
					       CURL_HTTP_VERSION_3ONLY };
	static const long got[NPROTO] = { CURL_HTTP_VERSION_1_1, CURL_HTTP_VERSION_2_0,
					  CURL_HTTP_VERSION_3 };
	struct curl_slist *list = NULL;
	CURL *c = curl_easy_init();
	char url[512];

	memset(a, 0, sizeof(*a));
	snprintf(url, sizeof(url), "%s://127.0.0.1:%d%s", plain ? "http" : "https", port, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTP_VERSION, versions[pr]);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 20000L);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_head);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, a);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, a);
	if (strcmp(method, "GET"))
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	for (; hdrs && *hdrs; hdrs++)
		list = curl_slist_append(list, *hdrs);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
	a->rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a->status);
	curl_easy_getinfo(c, CURLINFO_HTTP_VERSION, &a->version);
	curl_easy_cleanup(c);
	curl_slist_free_all(list);
	IT_ASSERT(a->rc == CURLE_OK, "%s %s %s: %s", proto_name[pr], method, path,
		  curl_easy_strerror(a->rc));
	IT_ASSERT(plain || a->version == got[pr], "%s %s: answered over version %ld",
		  proto_name[pr], path, a->version);
}

/*
 * The response's fields named with one of the prefixes (lower case), as
 * "name: value|name: value" in the order received, names lower-cased:
 * HTTP/2 and HTTP/3 carry them so, HTTP/1.1 as written.
 */
static const char *pick(const struct answer *a, const char *const *prefixes)
{
	static char out[4096];
	const char *line = strchr(a->head, '\n');
	size_t n = 0;

	out[0] = '\0';
	while (line && *++line) {
		const char *eol = strchr(line, '\n'), *colon = strchr(line, ':');
		size_t len = (size_t)((eol ? eol : line + strlen(line)) - line);

		if (len && line[len - 1] == '\r')
			len--;
		for (const char *const *p = prefixes; colon && colon < line + len && *p; p++) {
			if (strncasecmp(line, *p, strlen(*p)))
				continue;
			if (n)
				out[n++] = '|';
			for (size_t i = 0; i < len && n < sizeof(out) - 1; i++)
				out[n++] = line + i < colon ? (char)tolower((unsigned char)line[i]) : line[i];
			out[n] = '\0';
			break;
		}
		line = eol;
	}
	return out;
}

static const char *const cors_fields[] = { "access-control-", "vary:", NULL };

/* The value of one response field ("" when absent). */
static const char *field(const struct answer *a, const char *name)
{
	const char *const one[] = { name, NULL };
	const char *f = pick(a, one), *colon = strchr(f, ':');

	return colon ? colon + 2 : "";
}

/* ---- the server ---- */

struct gw {
	int tls_port;     /* TLS over TCP and QUIC over UDP */
	int plain_port;   /* cleartext HTTP/1.1 */
	struct it_origin *origin;
	struct it_proc *p;
	bool h2, h3;      /* built with them */
};

/*
 * /pub/: CORS for any origin, no credentials; /api/: listed origins with
 * credentials, request and response edits.  Top level: HSTS, nosniff,
 * frame options for everything, the static files and 404s included.
 */
static void gw_start_with(struct gw *g, int backend, const char *top)
{
	char cfg[IT_PATH_MAX], www[IT_PATH_MAX];
	const char *d = it_tmpdir();
	int st;

	g->h2 = sw_module_find("http2") != NULL;
	g->h3 = sw_module_find("http3") != NULL;
	it_make_cert(d);
	it_path(www, "www");
	free(it_run(&st, "mkdir -p %s && echo hello > %s/index.html", www, www));
	g->origin = it_origin_start("o");
	g->tls_port = it_free_dual_port();
	it_path(cfg, "swerver.json");
	it_write_filef(cfg,
		"{ \"server\": { \"workers\": 1, \"io_backend\": \"%s\", \"static_root\": \"%s\","
		"    \"listeners\": [ { \"address\": \"127.0.0.1\", \"port\": 0 },"
		"      { \"address\": \"127.0.0.1\", \"port\": %d, \"use_tls\": true %s } ] },"
		"  \"tls\": { \"cert_path\": \"%s/cert.pem\", \"key_path\": \"%s/key.pem\" }, %s"
		"  \"headers\": { \"response\": { \"hsts\": { \"max_age\": 600 }, \"nosniff\": true,"
		"    \"frame_options\": \"DENY\" } },"
		"  \"upstreams\": [ { \"name\": \"o\", \"servers\": [ { \"address\": \"127.0.0.1\","
		"    \"port\": %d } ] } ],"
		"  \"routes\": ["
		"    { \"path_prefix\": \"/pub/\", \"upstream\": \"o\", \"rewrite_pattern\": \"/pub/\","
		"      \"rewrite_replacement\": \"/\","
		"      \"cors\": { \"origins\": [\"*\"], \"expose_headers\": [\"X-Origin\"] } },"
		"    { \"path_prefix\": \"/api/\", \"upstream\": \"o\", \"rewrite_pattern\": \"/api/\","
		"      \"rewrite_replacement\": \"/\","
		"      \"upstream_headers\": [ { \"name\": \"X-Both\", \"value\": \"upstream_headers\" } ],"
		"      \"cors\": { \"origins\": [\"" APP "\", \"https://*.example.org\"],"
		"        \"methods\": [\"GET\", \"PUT\"], \"headers\": [\"X-Token\", \"Content-Type\"],"
		"        \"expose_headers\": [\"X-Origin\", \"X-Origin-Conn\"], \"credentials\": true,"
		"        \"max_age_s\": 600 },"
		"      \"headers\": {"
		"        \"response\": { \"set\": [ { \"name\": \"Cache-Control\", \"value\": \"no-store\" } ],"
		"          \"remove\": [\"X-Origin-Conn\"] },"
		"        \"request\": { \"set\": [ { \"name\": \"X-Tenant\", \"value\": \"blue\" },"
		"            { \"name\": \"X-Both\", \"value\": \"headers\" } ],"
		"          \"add\": [ { \"name\": \"X-Add\", \"value\": \"gw\" } ],"
		"          \"remove\": [\"X-Drop\", \"Cookie\"] } } } ] }",
		it_backend(backend), www, g->tls_port, g->h3 ? ", \"quic_enabled\": true" : "", d, d,
		top, g->origin->port);
	g->p = it_start_ready(cfg, "127.0.0.1", &g->plain_port);
}

static void gw_start(struct gw *g, int backend)
{
	gw_start_with(g, backend, "");
}

/* Requests the origin has served so far (its /requests does not count itself). */
static long origin_count(const struct gw *g)
{
	char url[128];
	int st;
	char *out;
	long n;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/requests", g->origin->port);
	out = it_run(&st, "timeout -k 1 10 curl -s %s", url);
	IT_ASSERT(st == 0, "curl %s: %s", url, out);
	n = strtol(out, NULL, 10);
	free(out);
	return n;
}

static bool skip(const struct gw *g, enum proto pr)
{
	return (pr == H2 && !g->h2) || (pr == H3 && !g->h3);
}

static bool have_gateway(int backend)
{
	if (!it_backend(backend))
		return false;
	if (!sw_module_find("proxy") || !sw_module_find("tls")) {
		fprintf(stderr, "note: built without the proxy or TLS; skipping\n");
		return false;
	}
	return true;
}

#define VARY_PF "vary: Origin, Access-Control-Request-Method, Access-Control-Request-Headers"

/* A preflight is answered 204 here, with the allow fields, and never reaches the origin. */
START_TEST(test_preflight_exchange)
{
	const char *const req[] = { "Origin: " APP, "Access-Control-Request-Method: PUT",
				    "Access-Control-Request-Headers: content-type,x-token", NULL };
	struct answer a;
	struct gw g;
	long before;

	if (!have_gateway(_i))
		return;
	gw_start(&g, _i);
	before = origin_count(&g);
	for (enum proto pr = H1; pr < NPROTO; pr++) {
		if (skip(&g, pr))
			continue;
		fetch(pr, false, g.tls_port, "OPTIONS", "/api/echo", req, &a);
		IT_ASSERT(a.status == 204, "%s: preflight status %ld", proto_name[pr], a.status);
		ck_assert_str_eq(pick(&a, cors_fields),
				 VARY_PF "|access-control-allow-origin: " APP
				 "|access-control-allow-credentials: true"
				 "|access-control-allow-methods: GET, PUT"
				 "|access-control-allow-headers: X-Token, Content-Type"
				 "|access-control-max-age: 600");
		ck_assert_uint_eq(a.body_len, 0);
	}
	IT_ASSERT(origin_count(&g) == before, "a preflight reached the origin (%ld requests, "
		  "%ld before)", origin_count(&g), before);
	}
END_TEST

/* A method or header not allowed, or another origin: 204 without the allow fields, no error page. */
START_TEST(test_preflight_refused)
{
	const char *const method[] = { "Origin: " APP, "Access-Control-Request-Method: DELETE", NULL };
	const char *const header[] = { "Origin: " APP, "Access-Control-Request-Method: PUT",
				       "Access-Control-Request-Headers: x-secret", NULL };
	const char *const evil[] = { "Origin: https://evil.example.net",
				     "Access-Control-Request-Method: GET", NULL };
	struct answer a;
	struct gw g;
	long before;

	if (!have_gateway(_i))
		return;
	gw_start(&g, _i);
	before = origin_count(&g);
	for (enum proto pr = H1; pr < NPROTO; pr++) {
		if (skip(&g, pr))
			continue;
		fetch(pr, false, g.tls_port, "OPTIONS", "/api/echo", method, &a);
		ck_assert_int_eq(a.status, 204);
		ck_assert_str_eq(pick(&a, cors_fields), VARY_PF "|access-control-allow-origin: " APP
				 "|access-control-allow-credentials: true");
		fetch(pr, false, g.tls_port, "OPTIONS", "/api/echo", header, &a);
		ck_assert_int_eq(a.status, 204);
		ck_assert_str_eq(pick(&a, cors_fields), VARY_PF "|access-control-allow-origin: " APP
				 "|access-control-allow-credentials: true");
		fetch(pr, false, g.tls_port, "OPTIONS", "/api/echo", evil, &a);
		ck_assert_int_eq(a.status, 204);
		ck_assert_str_eq(pick(&a, cors_fields), VARY_PF);
	}
	IT_ASSERT(origin_count(&g) == before, "a preflight reached the origin");
	}
END_TEST

#define OTHER "https://other.example.com"

/*
 * With a top-level cors too, the most specific one decides a preflight:
 * /api/'s own, the top-level one where no route has a cors (a static file).
 */
START_TEST(test_preflight_route_cors_wins)
{
	const char *const app[] = { "Origin: " APP, "Access-Control-Request-Method: PUT", NULL };
	const char *const other[] = { "Origin: " OTHER, "Access-Control-Request-Method: GET", NULL };
	struct answer a;
	struct gw g;
	long before;

	if (!have_gateway(_i))
		return;
	gw_start_with(&g, _i, "\"cors\": { \"origins\": [\"" OTHER "\"], \"methods\": [\"GET\"] },");
	before = origin_count(&g);
	for (enum proto pr = H1; pr < NPROTO; pr++) {
		if (skip(&g, pr))
			continue;
		fetch(pr, false, g.tls_port, "OPTIONS", "/api/echo", app, &a);
		ck_assert_int_eq(a.status, 204);
		ck_assert_str_eq(pick(&a, cors_fields),
				 VARY_PF "|access-control-allow-origin: " APP
				 "|access-control-allow-credentials: true"
				 "|access-control-allow-methods: GET, PUT"
				 "|access-control-allow-headers: X-Token, Content-Type"
				 "|access-control-max-age: 600");
		fetch(pr, false, g.tls_port, "OPTIONS", "/api/echo", other, &a);
		ck_assert_int_eq(a.status, 204);
		ck_assert_str_eq(pick(&a, cors_fields), VARY_PF);
		fetch(pr, false, g.tls_port, "OPTIONS", "/index.html", other, &a);
		ck_assert_int_eq(a.status, 204);
		ck_assert_str_eq(pick(&a, cors_fields), VARY_PF "|access-control-allow-origin: " OTHER
				 "|access-control-allow-methods: GET");
	}
	IT_ASSERT(origin_count(&g) == before, "a preflight reached the origin");
}
END_TEST

/* A simple request to the any-origin route: "*", nothing varies on the origin. */
START_TEST(test_simple_request)
{
	const char *const req[] = { "Origin: https://anyone.example", NULL };
	struct answer a;
	struct gw g;

	if (!have_gateway(_i))
		return;
	gw_start(&g, _i);
	for (enum proto pr = H1; pr < NPROTO; pr++) {
		if (skip(&g, pr))
			continue;
		fetch(pr, false, g.tls_port, "GET", "/pub/name", req, &a);
		ck_assert_int_eq(a.status, 200);
		ck_assert_str_eq(a.body, "o");
		ck_assert_str_eq(pick(&a, cors_fields), "access-control-allow-origin: *"
				 "|access-control-expose-headers: X-Origin");
	}
	}
END_TEST

/* With credentials: the origin echoed (a wildcard one too), -Credentials, -Expose, Vary. */
START_TEST(test_credentialed_request)
{
	const char *const req[] = { "Origin: https://a.b.example.org", "Cookie: s=1", NULL };
	struct answer a;
	struct gw g;

	if (!have_gateway(_i))
		return;
	gw_start(&g, _i);
	for (enum proto pr = H1; pr < NPROTO; pr++) {
		if (skip(&g, pr))
			continue;
		fetch(pr, false, g.tls_port, "GET", "/api/name", req, &a);
		ck_assert_int_eq(a.status, 200);
		ck_assert_str_eq(pick(&a, cors_fields), "vary: Origin"
				 "|access-control-allow-origin: https://a.b.example.org"
				 "|access-control-allow-credentials: true"
				 "|access-control-expose-headers: X-Origin, X-Origin-Conn");
	}
	}
END_TEST

/* Another origin gets the answer with no CORS field (the browser withholds it), and Vary. */
START_TEST(test_disallowed_origin)
{
	const char *const evil[] = { "Origin: https://example.org", NULL };
	struct answer a;
	struct gw g;

	if (!have_gateway(_i))
		return;
	gw_start(&g, _i);
	for (enum proto pr = H1; pr < NPROTO; pr++) {
		if (skip(&g, pr))
			continue;
		fetch(pr, false, g.tls_port, "GET", "/api/name", evil, &a);
		ck_assert_int_eq(a.status, 200);
		ck_assert_str_eq(pick(&a, cors_fields), "vary: Origin");
		fetch(pr, false, g.tls_port, "GET", "/api/name", NULL, &a);
		ck_assert_str_eq(pick(&a, cors_fields), "vary: Origin");
	}
	}
END_TEST

/* HSTS on every TLS protocol, never on cleartext HTTP; the other presets on both. */
START_TEST(test_hsts_tls_only)
{
	const char *const sec[] = { "strict-transport-security:", "x-content-type-options:",
				    "x-frame-options:", NULL };
	struct answer a;
	struct gw g;

	if (!have_gateway(_i))
		return;
	gw_start(&g, _i);
	for (enum proto pr = H1; pr < NPROTO; pr++) {
		if (skip(&g, pr))
			continue;
		fetch(pr, false, g.tls_port, "GET", "/index.html", NULL, &a);
		ck_assert_int_eq(a.status, 200);
		ck_assert_str_eq(pick(&a, sec), "x-content-type-options: nosniff"
				 "|x-frame-options: DENY|strict-transport-security: max-age=600");
	}
	fetch(H1, true, g.plain_port, "GET", "/index.html", NULL, &a);
	ck_assert_int_eq(a.status, 200);
	ck_assert_str_eq(pick(&a, sec), "x-content-type-options: nosniff|x-frame-options: DENY");
	}
END_TEST

/* A 404 and an upstream's answer get the top-level presets; the route's edits apply on top. */
START_TEST(test_headers_on_errors_and_proxied)
{
	struct answer a;
	struct gw g;

	if (!have_gateway(_i))
		return;
	gw_start(&g, _i);
	for (enum proto pr = H1; pr < NPROTO; pr++) {
		if (skip(&g, pr))
			continue;
		fetch(pr, false, g.tls_port, "GET", "/missing", NULL, &a);
		ck_assert_int_eq(a.status, 404);
		ck_assert_str_eq(field(&a, "x-content-type-options:"), "nosniff");
		ck_assert_str_eq(field(&a, "strict-transport-security:"), "max-age=600");
		fetch(pr, false, g.tls_port, "GET", "/api/status/404", NULL, &a);
		ck_assert_int_eq(a.status, 404);
		ck_assert_str_eq(field(&a, "x-origin:"), "o");
		ck_assert_str_eq(field(&a, "x-origin-conn:"), "");
		ck_assert_str_eq(field(&a, "cache-control:"), "no-store");
		ck_assert_str_eq(field(&a, "x-frame-options:"), "DENY");
		fetch(pr, false, g.tls_port, "GET", "/api/name", NULL, &a);
		ck_assert_int_eq(a.status, 200);
		ck_assert_str_eq(field(&a, "cache-control:"), "no-store");
		ck_assert_str_eq(field(&a, "x-content-type-options:"), "nosniff");
		/* An upstream that cannot be reached: the gateway's own 502 gets them too. */
	}
	it_origin_kill(g.origin);
	for (enum proto pr = H1; pr < NPROTO; pr++) {
		if (skip(&g, pr))
			continue;
		fetch(pr, false, g.tls_port, "GET", "/api/name", NULL, &a);
		ck_assert_int_eq(a.status, 502);
		ck_assert_str_eq(field(&a, "cache-control:"), "no-store");
		ck_assert_str_eq(field(&a, "x-frame-options:"), "DENY");
	}
}
END_TEST

/* The origin sees the route's request edits: set, add to the client's, remove (Cookie too); over upstream_headers. */
START_TEST(test_request_edits_seen_by_origin)
{
	const char *const req[] = { "X-Drop: secret", "X-Add: client", "X-Tenant: forged",
				    "X-Both: client", "Cookie: session=s3cret", NULL };
	struct answer a;
	struct gw g;

	if (!have_gateway(_i))
		return;
	gw_start(&g, _i);
	for (enum proto pr = H1; pr < NPROTO; pr++) {
		if (skip(&g, pr))
			continue;
		fetch(pr, false, g.tls_port, "GET", "/api/echo", req, &a);
		ck_assert_int_eq(a.status, 200);
		IT_ASSERT(strcasestr(a.body, "\nX-Tenant: blue\n") && !strstr(a.body, "forged"),
			  "%s: X-Tenant: %s", proto_name[pr], a.body);
		IT_ASSERT(strcasestr(a.body, "\nX-Add: client, gw\n"), "%s: X-Add: %s",
			  proto_name[pr], a.body);
		IT_ASSERT(!strcasestr(a.body, "x-drop"), "%s: X-Drop: %s", proto_name[pr], a.body);
		/* HTTP/2 and HTTP/3 carry cookies as several fields the proxy joins: removed too. */
		IT_ASSERT(!strstr(a.body, "s3cret"), "%s: Cookie: %s", proto_name[pr], a.body);
		IT_ASSERT(strcasestr(a.body, "\nX-Both: headers\n") &&
			  !strstr(a.body, "upstream_headers") && !strstr(a.body, "X-Both: client"),
			  "%s: X-Both: %s", proto_name[pr], a.body);
	}
	}
END_TEST

/* A reload swaps both policies in place: a new origin list and HSTS age, no new workers. */
START_TEST(test_reload_in_place)
{
	const char *const old_app[] = { "Origin: " APP, NULL };
	const char *const new_app[] = { "Origin: https://new.example.com", NULL };
	char cfg[IT_PATH_MAX], *text, *at;
	struct answer a;
	size_t from;
	struct gw g;

	if (!have_gateway(_i))
		return;
	gw_start(&g, _i);
	fetch(H1, false, g.tls_port, "GET", "/api/name", old_app, &a);
	ck_assert_str_eq(field(&a, "access-control-allow-origin:"), APP);
	it_path(cfg, "swerver.json");
	text = it_read_file(cfg);
	ck_assert_ptr_nonnull(at = strstr(text, "\"" APP "\""));
	memcpy(at + 1, "https://new.example.com", strlen(APP));   /* the same length */
	ck_assert_ptr_nonnull(at = strstr(text, "\"max_age\": 600 }"));
	memcpy(at, "\"max_age\": 900 }", strlen("\"max_age\": 600 }"));
	it_write_file(cfg, text);
	free(text);
	from = it_log_size(g.p);
	it_signal(g.p, SIGHUP);
	IT_ASSERT(it_wait_log(g.p, from, "configuration applied in place", IT_WAIT_MS),
		  "the reload was not applied in place");
	for (enum proto pr = H1; pr < NPROTO; pr++) {
		if (skip(&g, pr))
			continue;
		fetch(pr, false, g.tls_port, "GET", "/api/name", new_app, &a);
		ck_assert_str_eq(field(&a, "access-control-allow-origin:"), "https://new.example.com");
		ck_assert_str_eq(field(&a, "strict-transport-security:"), "max-age=900");
		fetch(pr, false, g.tls_port, "GET", "/api/name", old_app, &a);
		ck_assert_str_eq(pick(&a, cors_fields), "vary: Origin");
	}
}
END_TEST

static Suite *gateway_headers_suite(void)
{
	Suite *s = suite_create("gateway headers");
	TCase *tc = it_tcase("gateway headers");

	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, NULL, it_origins_kill);
	tcase_add_loop_test(tc, test_preflight_exchange, 0, 2);
	tcase_add_loop_test(tc, test_preflight_refused, 0, 2);
	tcase_add_loop_test(tc, test_preflight_route_cors_wins, 0, 2);
	tcase_add_loop_test(tc, test_simple_request, 0, 2);
	tcase_add_loop_test(tc, test_credentialed_request, 0, 2);
	tcase_add_loop_test(tc, test_disallowed_origin, 0, 2);
	tcase_add_loop_test(tc, test_hsts_tls_only, 0, 2);
	tcase_add_loop_test(tc, test_headers_on_errors_and_proxied, 0, 2);
	tcase_add_loop_test(tc, test_request_edits_seen_by_origin, 0, 2);
	tcase_add_loop_test(tc, test_reload_in_place, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

static void gateway_headers_init(void)
{
	it_suite_init();
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void gateway_headers_fini(void)
{
	curl_global_cleanup();
	it_suite_fini();
}

const struct sw_test_suite sw_test_suite = { gateway_headers_suite, gateway_headers_init,
					     gateway_headers_fini };
