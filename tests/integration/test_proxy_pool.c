/* SPDX-License-Identifier: MIT */
/* test_proxy_pool.c - the reverse proxy end to end: keep-alive pools to upstreams: reuse over HTTP/1.1 and HTTP/2, upstream closes, bodiless answers, HEAD lengths, a full pool queues.  Upstreams are tests/backend/origin (origins.h). */
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

/* ---- keep-alive pools ---- */

/* How many distinct X-Origin-Conn values a head text holds ("x-origin-conn: N" lines). */
static int distinct_conns(const char *heads, int *total)
{
	long seen[256];
	int n = 0;

	*total = 0;
	for (const char *l = heads; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		long v;
		bool dup = false;

		if (strncasecmp(l, "X-Origin-Conn:", 14) != 0)
			continue;
		v = atol(l + 14);
		(*total)++;
		for (int k = 0; k < n; k++)
			dup |= seen[k] == v;
		if (!dup && n < 256)
			seen[n++] = v;
	}
	return n;
}

START_TEST(keepalive_h1)
{
	struct it_origin *a;
	struct hconn *c;
	struct hres r;
	char heads[8192] = "", v[32], *m;
	int port, total, n;

	if (!px_have_proxy(_i))
		return;
	a = it_origin_start("A");
	px_start(_i, 1, NULL, &port, ONE_ROUTE, a->port);

	/* 20 on one client connection, then 20 on fresh client connections */
	c = hc_new(port);
	for (int k = 0; k < 40; k++) {
		int rc = k < 20 ? hc_req(c, "GET", "/name", NULL, NULL, NULL, &r) :
				  hc_get1(port, "/name", NULL, NULL, &r);

		IT_ASSERT(rc == 0 && r.status == 200 && it_header(r.head, "X-Origin-Conn", v, sizeof(v)),
			  "request %d: rc %d status %d", k, rc, r.status);
		snprintf(heads + strlen(heads), sizeof(heads) - strlen(heads), "X-Origin-Conn: %s\n", v);
		hres_free(&r);
		if (k == 19) {
			n = distinct_conns(heads, &total);
			IT_ASSERT(n <= 2, "20 requests on one client connection used %d upstream "
				  "connections:\n%s", n, heads);
		}
	}
	hc_free(c);
	n = distinct_conns(heads, &total);
	IT_ASSERT(total == 40 && n <= 2, "40 sequential requests used %d upstream connections "
		  "(want them pooled):\n%s", n, heads);
	m = px_metrics(port);
	IT_ASSERT(it_series(m, "swerver_upstream_pool_connections" LBL ",state=\"idle\"}", "u",
			 a->port) >= 1 &&
		  it_series(m, "swerver_upstream_pool_connections" LBL ",state=\"active\"}", "u",
			 a->port) == 0,
		  "after the requests the pool should hold an idle connection and no busy one:\n%s", m);
	free(m);
}
END_TEST

START_TEST(keepalive_h2)
{
	struct it_origin *a;
	char urls[4096] = "", hf[IT_PATH_MAX], *heads, *o, *m;
	int port, total, n, st;

	if (!px_have_proxy(_i))
		return;
	if (!sw_module_find("http2")) {
		fprintf(stderr, "note: built without http2; skipping\n");
		return;
	}
	a = it_origin_start("A");
	px_start(_i, 1, NULL, &port, ONE_ROUTE, a->port);
	for (int k = 0; k < 20; k++)
		snprintf(urls + strlen(urls), sizeof(urls) - strlen(urls),
			 " http://127.0.0.1:%d/name", port);
	it_path(hf, "h2.heads");
	/* 20 requests, one after another, on one HTTP/2 connection */
	o = it_run(&st, T "curl -s --http2-prior-knowledge --max-time 20 -D %s %s", hf, urls);
	heads = it_read_file(hf);
	n = distinct_conns(heads, &total);
	IT_ASSERT(st == 0 && total == 20, "curl: exit %d, %d responses with X-Origin-Conn", st,
		  total);
	IT_ASSERT(n <= 2, "20 sequential HTTP/2 requests used %d upstream connections; the "
		  "upstream connection should go back to the pool after each response", n);
	m = px_metrics(port);
	IT_ASSERT(it_series(m, "swerver_upstream_pool_connections" LBL ",state=\"idle\"}", "u",
			 a->port) >= 1, "no idle pooled connection after HTTP/2 requests:\n%s", m);
	free(m);
	free(heads);
	free(o);
}
END_TEST

/* An upstream that closes its idle keep-alive connections: the pool notices, nothing fails. */
START_TEST(keepalive_upstream_closes)
{
	struct it_origin *a;
	struct hres r;
	char v1[32], v2[32], *m;
	int port, rc;

	if (!px_have_proxy(_i))
		return;
	a = it_origin_start_idle("A", 300);   /* the origin closes connections idle for 0.3-1.3 s */
	px_start(_i, 1, NULL, &port, ONE_ROUTE, a->port);
	rc = hc_get1(port, "/name", NULL, NULL, &r);
	IT_ASSERT(rc == 0 && r.status == 200 && it_header(r.head, "X-Origin-Conn", v1, sizeof(v1)),
		  "first GET: rc %d status %d", rc, r.status);
	hres_free(&r);
	it_sleep_ms(1600);
	for (int k = 0; k < 3; k++) {
		rc = hc_get1(port, "/name", NULL, NULL, &r);
		IT_ASSERT(rc == 0 && r.status == 200 && it_header(r.head, "X-Origin-Conn", v2, sizeof(v2)),
			  "GET %d after the origin closed the pooled connection: rc %d status %d", k,
			  rc, r.status);
		hres_free(&r);
	}
	IT_ASSERT(strcmp(v1, v2) != 0, "the origin's connection %s was closed, yet reused", v1);
	m = px_metrics(port);
	IT_ASSERT(it_series(m, "swerver_upstream_errors_total" LBL ",kind=\"reset\"}", "u", a->port) == 0 &&
		  it_series(m, "swerver_upstream_pool_connections" LBL ",state=\"idle\"}", "u", a->port) == 1,
		  "the closed idle connection should leave the pool quietly (no reset error, one idle "
		  "connection after):\n%s", m);
	free(m);
}
END_TEST

/* 204 and 304 have no body: the upstream connection is reusable after them. */
START_TEST(keepalive_bodiless)
{
	struct it_origin *a;
	struct hconn *c;
	struct hres r;
	const char *targets[] = { "/name", "/status/204", "/name", "/status/304", "/name" };
	const int want[] = { 200, 204, 200, 304, 200 };
	char heads[1024] = "", v[32];
	int port, total, n;

	if (!px_have_proxy(_i))
		return;
	a = it_origin_start("A");
	px_start(_i, 1, NULL, &port, ONE_ROUTE, a->port);
	c = hc_new(port);
	for (int k = 0; k < 5; k++) {
		int rc = hc_req(c, "GET", targets[k], NULL, NULL, NULL, &r);

		IT_ASSERT(rc == 0 && r.status == want[k] && it_header(r.head, "X-Origin-Conn", v, sizeof(v)),
			  "GET %s: rc %d status %d, want %d", targets[k], rc, r.status, want[k]);
		snprintf(heads + strlen(heads), sizeof(heads) - strlen(heads),
			 "X-Origin-Conn: %s (after GET %s)\n", v, targets[k]);
		hres_free(&r);
	}
	hc_free(c);
	n = distinct_conns(heads, &total);
	IT_ASSERT(n == 1, "204 and 304 responses (no body, no Content-Length) cost the upstream "
		  "connection; %d connections for 5 sequential requests:\n%s", n, heads);
}
END_TEST

/* HEAD: the upstream's Content-Length is the length GET would have; it must not become 0. */
START_TEST(head_length)
{
	struct it_origin *a;
	struct hconn *c;
	struct hres r;
	char v[32];
	int port, rc;

	if (!px_have_proxy(_i))
		return;
	a = it_origin_start("A");
	px_start(_i, 1, NULL, &port, ONE_ROUTE, a->port);
	c = hc_new(port);
	rc = hc_req(c, "HEAD", "/bytes/100", NULL, NULL, NULL, &r);
	IT_ASSERT(rc == 0 && r.status == 200 && px_origin_of(&r) == 'A', "HEAD /bytes/100: rc %d status %d",
		  rc, r.status);
	IT_ASSERT(it_header(r.head, "Content-Length", v, sizeof(v)) && strcmp(v, "100") == 0,
		  "HEAD /bytes/100 through the proxy: Content-Length \"%s\", the origin said 100:\n%s",
		  it_header(r.head, "Content-Length", v, sizeof(v)) ? v : "(none)", r.head);
	hres_free(&r);
	/* no body followed: the next response on the connection parses */
	rc = hc_req(c, "GET", "/name", NULL, NULL, NULL, &r);
	IT_ASSERT(rc == 0 && r.status == 200 && strcmp(r.body, "A") == 0,
		  "GET after HEAD on the same connection: rc %d status %d", rc, r.status);
	hres_free(&r);
	hc_free(c);
}
END_TEST

/*
 * A full pool (connection_pool.max_connections) queues requests until a
 * connection is free, instead of refusing them; only one that waits past
 * the connect timeout gets 503.
 */
START_TEST(pool_full_waits)
{
	struct it_origin *a;
	int port, st, total, n;
	char *out, url[128];

	if (!px_have_proxy(_i))
		return;
	a = it_origin_start("A");
	px_start(_i, 1, NULL, &port,
		"\"upstreams\": [{\"name\": \"o\", \"connection_pool\": {\"max_connections\": 1},\n"
		"    \"servers\": [{\"address\": \"127.0.0.1\", \"port\": %d, \"max_fails\": 0}]}],\n"
		"  \"routes\": [\n"
		"    {\"path_prefix\": \"/short\", \"upstream\": \"o\", \"rewrite_pattern\": \"/short\",\n"
		"     \"rewrite_replacement\": \"/\", \"connect_timeout_ms\": 300},\n"
		"    {\"path_prefix\": \"/\", \"upstream\": \"o\", \"connect_timeout_ms\": 5000}]",
		a->port);

	/* four at once through one upstream connection: all answered, one after another */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/slow/200", port);
	out = it_run(&st, "curl -sZ --parallel-immediate --parallel-max 4 -D - "
		  "-o /dev/null %s -o /dev/null %s -o /dev/null %s -o /dev/null %s", url, url, url, url);
	IT_ASSERT(st == 0 && it_lines_with(out, "HTTP/1.1 200") == 4, "4 requests over a pool of "
		  "one: want 4 x 200, got:\n%s", out);
	n = distinct_conns(out, &total);
	IT_ASSERT(total == 4 && n == 1, "4 requests used %d upstream connections (max 1)", n);
	free(out);

	/* a wait longer than the route's connect timeout: 503 for those who waited */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/short/slow/1500", port);
	out = it_run(&st, "curl -sZ --parallel-immediate --parallel-max 3 -D - "
		  "-o /dev/null %s -o /dev/null %s -o /dev/null %s", url, url, url);
	IT_ASSERT(it_lines_with(out, "HTTP/1.1 200") == 1 && it_lines_with(out, "HTTP/1.1 503") == 2,
		  "3 slow requests over a pool of one with a 300 ms connect timeout: want one 200 "
		  "and two 503, got:\n%s", out);
	free(out);
}
END_TEST

static Suite *proxy_pool_suite(void)
{
	Suite *s = suite_create("proxy_pool");
	TCase *tc = it_tcase("pool");

	tcase_add_checked_fixture(tc, NULL, it_origins_kill);
	tcase_add_loop_test(tc, keepalive_h1, 0, 2);
	tcase_add_loop_test(tc, keepalive_h2, 0, 2);
	tcase_add_loop_test(tc, keepalive_upstream_closes, 0, 2);
	tcase_add_loop_test(tc, keepalive_bodiless, 0, 2);
	tcase_add_loop_test(tc, head_length, 0, 2);
	tcase_add_loop_test(tc, pool_full_waits, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

IT_SUITE(proxy_pool_suite);
