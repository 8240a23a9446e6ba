/* SPDX-License-Identifier: MIT */
/* test_proxy_route.c - the reverse proxy end to end: routing: longest prefix, host, segment boundaries, rewrites, no route.  Upstreams are tests/backend/origin (origins.h). */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "core/module.h"
#include "proxy_fixture.h"

/* ---- routing: longest prefix, host, segment boundaries, rewrites, no route ---- */

/* GET target with Host host: the origin letter, 0 for none; status out. */
static char routed_to(int port, const char *target, const char *host, int *status)
{
	struct hres r;
	int rc = hc_get1(port, target, host, NULL, &r);
	char o = px_origin_of(&r);

	IT_ASSERT(rc == 0, "GET %s (Host %s): %s", target, host ? host : "-", strerror(-rc));
	*status = r.status;
	hres_free(&r);
	return o;
}

#define EXPECT_ROUTE(target, host, want) do { \
	int st_; \
	char got_ = routed_to(port, target, host, &st_); \
	IT_ASSERT(got_ == (want), "GET %s (Host %s) went to %c, want %c (status %d)", target, \
		  (host) ? (const char *)(host) : "localhost", got_ ? got_ : '-', \
		  (want) ? (want) : '-', st_); \
} while (0)

/* The request line the capture server saw for target. */
#define EXPECT_TARGET(target, want_line) do { \
	struct hres r_; \
	int rc_ = hc_get1(port, target, NULL, NULL, &r_); \
	IT_ASSERT(rc_ == 0 && r_.status == 200 && strcmp(r_.body, want_line) == 0, \
		  "GET %s went upstream as \"%s\" (status %d), want \"%s\"", target, \
		  r_.body ? r_.body : "", r_.status, want_line); \
	hres_free(&r_); \
} while (0)

START_TEST(routing)
{
	struct it_origin *a, *b, *c;
	char www[IT_PATH_MAX], file[IT_PATH_MAX + 16], server[IT_PATH_MAX + 64], url[128];
	struct hres r;
	struct it_cres cr;
	int port, cap, rc;

	if (!px_have_proxy(_i))
		return;
	a = it_origin_start("A");
	b = it_origin_start("B");
	c = it_origin_start("C");
	cap = it_capture_start();
	it_path(www, "www");
	ck_assert_int_eq(mkdir(www, 0755), 0);
	snprintf(file, sizeof(file), "%s/apix", www);
	it_write_file(file, "static apix\n");
	snprintf(server, sizeof(server), "\"static_root\": \"%s\", ", www);
	px_start(_i, 1, server, &port,
		"\"upstreams\": [{\"name\": \"ua\", \"servers\": [" SRV "]},\n"
		"    {\"name\": \"ub\", \"servers\": [" SRV "]},\n"
		"    {\"name\": \"uc\", \"servers\": [" SRV "]},\n"
		"    {\"name\": \"cap\", \"servers\": [" SRV "]}],\n"
		"  \"routes\": [\n"
		"    {\"path_prefix\": \"/api\", \"upstream\": \"ua\", " TMO "},\n"
		"    {\"path_prefix\": \"/api/admin\", \"upstream\": \"ub\", " TMO "},\n"
		"    {\"path_prefix\": \"/api\", \"host\": \"example.test\", \"upstream\": \"uc\", " TMO "},\n"
		"    {\"path_prefix\": \"/api\", \"host\": \"*.wild.test\", \"upstream\": \"ub\", " TMO "},\n"
		"    {\"path_prefix\": \"/api/v1\", \"upstream\": \"cap\", \"rewrite_pattern\": \"/api/v1\",\n"
		"     \"rewrite_replacement\": \"/v2\", " TMO "},\n"
		"    {\"path_prefix\": \"/strip/\", \"upstream\": \"cap\", \"rewrite_pattern\": \"/strip/\",\n"
		"     \"rewrite_replacement\": \"/\", " TMO "}]",
		a->port, b->port, c->port, cap);

	EXPECT_ROUTE("/api", NULL, 'A');
	EXPECT_ROUTE("/api/", NULL, 'A');
	EXPECT_ROUTE("/api/x", NULL, 'A');
	EXPECT_ROUTE("/api?q=1", NULL, 'A');
	EXPECT_ROUTE("/api/admin/x", NULL, 'B');        /* the longer prefix */
	EXPECT_ROUTE("/api/admin", NULL, 'B');
	EXPECT_ROUTE("/api/adminx", NULL, 'A');         /* a prefix ends at a segment */
	EXPECT_ROUTE("/api/v1x", NULL, 'A');
	EXPECT_ROUTE("/api/x", "example.test", 'C');    /* the host's route before the catch-all */
	EXPECT_ROUTE("/api/x", "EXAMPLE.test:8080", 'C');
	EXPECT_ROUTE("/api/x", "other.test", 'A');
	EXPECT_ROUTE("/api/admin/x", "example.test", 'B');   /* longest prefix first */
	EXPECT_ROUTE("/api/x", "a.wild.test", 'B');
	EXPECT_ROUTE("/api/x", "wild.test", 'A');       /* "*.wild.test" is subdomains only */

	/* rewrites: the prefix replaced, the query kept */
	EXPECT_TARGET("/api/v1/x?q=1", "GET /v2/x?q=1 HTTP/1.1");
	EXPECT_TARGET("/api/v1", "GET /v2 HTTP/1.1");
	EXPECT_TARGET("/api/v1?q=2", "GET /v2?q=2 HTTP/1.1");
	EXPECT_TARGET("/api/v1/a/b/", "GET /v2/a/b/ HTTP/1.1");
	EXPECT_TARGET("/strip/foo/bar?z", "GET /foo/bar?z HTTP/1.1");

	/* "/api" does not take "/apix": the static file does; no route and no file is 404 */
	rc = hc_get1(port, "/apix", NULL, NULL, &r);
	IT_ASSERT(rc == 0 && r.status == 200 && strcmp(r.body, "static apix\n") == 0 &&
		  px_origin_of(&r) == 0, "GET /apix: status %d, X-Origin %c, body \"%s\"", r.status,
		  px_origin_of(&r) ? px_origin_of(&r) : '-', r.body);
	hres_free(&r);
	rc = hc_get1(port, "/nothing/here", NULL, NULL, &r);
	IT_ASSERT(rc == 0 && r.status == 404 && px_origin_of(&r) == 0,
		  "GET /nothing/here: status %d (want 404 from swerver itself)\n%s", r.status, r.head);
	hres_free(&r);

	/* HTTP/2's :authority routes like Host */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/api/x", port);
	it_curl(&cr, "--http2-prior-knowledge -H 'Host: example.test'", url);
	IT_ASSERT(cr.code == 404 && it_cres_header(&cr, "x-origin") && strcmp(it_cres_header(&cr, "x-origin"), "C") == 0,
		  "h2 /api/x for example.test: %d, x-origin %s", cr.code,
		  it_cres_header(&cr, "x-origin") ? it_cres_header(&cr, "x-origin") : "(none)");
	it_cres_free(&cr);
}
END_TEST

static Suite *proxy_route_suite(void)
{
	Suite *s = suite_create("proxy_route");
	TCase *tc = it_tcase("route");

	tcase_add_checked_fixture(tc, NULL, it_origins_kill);
	tcase_add_loop_test(tc, routing, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

IT_SUITE(proxy_route_suite);
