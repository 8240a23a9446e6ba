/* SPDX-License-Identifier: MIT */
/* test_proxy_balance.c - the reverse proxy end to end: balancers and failover: passive health, backups, active health checks.  Upstreams are tests/backend/origin (origins.h). */
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

/* ---- balancers ---- */

START_TEST(balancers)
{
	struct it_origin *a, *b, *c;
	char s3[256], w3[320], xff[64];
	int port, bad, counts[26] = { 0 }, busy, used = 0;
	int hashed[48];
	struct hconn *slow;
	struct hres r;

	if (!px_have_proxy(_i))
		return;
	a = it_origin_start("A");
	b = it_origin_start("B");
	c = it_origin_start("C");
	snprintf(s3, sizeof(s3), SRV ", " SRV ", " SRV, a->port, b->port, c->port);
	snprintf(w3, sizeof(w3),
		 "{\"address\": \"127.0.0.1\", \"port\": %d, \"weight\": 3}, "
		 "{\"address\": \"127.0.0.1\", \"port\": %d, \"weight\": 1}, "
		 "{\"address\": \"127.0.0.1\", \"port\": %d, \"weight\": 1}",
		 a->port, b->port, c->port);
	px_start(_i, 1, "\"trusted_proxies\": [\"127.0.0.1/32\"], ", &port,
		"\"upstreams\": [\n"
		"    {\"name\": \"rr\", \"servers\": [%s]},\n"
		"    {\"name\": \"wrr\", \"load_balancer\": \"weighted_round_robin\", \"servers\": [%s]},\n"
		"    {\"name\": \"ih\", \"load_balancer\": \"ip_hash\", \"servers\": [%s]},\n"
		"    {\"name\": \"lc\", \"load_balancer\": \"least_conn\", \"servers\": [%s]},\n"
		"    {\"name\": \"rnd\", \"load_balancer\": \"random\", \"servers\": [%s]}],\n"
		"  \"routes\": [" ROUTE("/rr", "rr") ",\n    " ROUTE("/wrr", "wrr") ",\n    "
		ROUTE("/ih", "ih") ",\n    " ROUTE("/lc", "lc") ",\n    " ROUTE("/rnd", "rnd") "]",
		s3, w3, s3, s3, s3);

	/* round robin: exactly even, over fresh connections and over one */
	bad = px_tally(port, "/rr/name", 30, true, NULL, counts);
	IT_ASSERT(bad == 0 && counts[0] == 10 && counts[1] == 10 && counts[2] == 10,
		  "round_robin over 30 fresh connections: A %d B %d C %d (%d failed), want 10 each",
		  counts[0], counts[1], counts[2], bad);
	memset(counts, 0, sizeof(counts));
	bad = px_tally(port, "/rr/name", 30, false, NULL, counts);
	IT_ASSERT(bad == 0 && counts[0] == 10 && counts[1] == 10 && counts[2] == 10,
		  "round_robin over one connection: A %d B %d C %d (%d failed), want 10 each",
		  counts[0], counts[1], counts[2], bad);

	/* weighted 3:1:1 */
	memset(counts, 0, sizeof(counts));
	bad = px_tally(port, "/wrr/name", 25, false, NULL, counts);
	IT_ASSERT(bad == 0 && counts[0] == 15 && counts[1] == 5 && counts[2] == 5,
		  "weighted_round_robin 3/1/1 over 25: A %d B %d C %d (%d failed), want 15/5/5",
		  counts[0], counts[1], counts[2], bad);

	/* ip_hash: one client, one server */
	memset(counts, 0, sizeof(counts));
	bad = px_tally(port, "/ih/name", 20, true, NULL, counts);
	IT_ASSERT(bad == 0 && (counts[0] == 20 || counts[1] == 20 || counts[2] == 20),
		  "ip_hash from one client: A %d B %d C %d (%d failed), want all 20 on one",
		  counts[0], counts[1], counts[2], bad);
	/* many clients behind a trusted proxy: each keeps its server, together they spread */
	for (int k = 0; k < 24; k++) {
		for (int rep = 0; rep < 2; rep++) {
			int rc;
			char o;

			snprintf(xff, sizeof(xff), "X-Forwarded-For: 10.%d.%d.%d\r\n", k, k * 7 % 256,
				 k * 13 % 256 + 1);
			rc = hc_get1(port, "/ih/name", NULL, xff, &r);
			o = px_origin_of(&r);
			IT_ASSERT(rc == 0 && r.status == 200 && o, "ip_hash GET: rc %d status %d", rc,
				  r.status);
			if (rep == 0)
				hashed[k] = o;
			else
				IT_ASSERT(hashed[k] == o, "ip_hash: client %d went to %c, then to %c", k,
					  hashed[k], o);
			hres_free(&r);
		}
		used |= 1 << (hashed[k] - 'A');
	}
	IT_ASSERT(__builtin_popcount((unsigned)used) >= 2,
		  "ip_hash: 24 different clients all went to one server");

	/* least_conn: while one server holds a slow request, the idle ones take the rest */
	slow = hc_new(port);
	ck_assert_int_eq(hc_send(slow, "GET /lc/slow/800 HTTP/1.1\r\nHost: localhost\r\n\r\n",
				 strlen("GET /lc/slow/800 HTTP/1.1\r\nHost: localhost\r\n\r\n")), 0);
	it_sleep_ms(100);
	memset(counts, 0, sizeof(counts));
	bad = px_tally(port, "/lc/name", 12, true, NULL, counts);
	ck_assert_int_eq(hc_read(slow, &r, false, IT_HC_IO_MS), 0);
	IT_ASSERT(r.status == 200 && px_origin_of(&r), "least_conn: the slow request got %d", r.status);
	busy = px_origin_of(&r) - 'A';
	hres_free(&r);
	hc_free(slow);
	IT_ASSERT(bad == 0 && counts[busy] == 0,
		  "least_conn: %d of 12 requests went to %c while it was busy with /slow (%d failed)",
		  counts[busy], 'A' + busy, bad);
	IT_ASSERT(counts[(busy + 1) % 3] > 0 && counts[(busy + 2) % 3] > 0,
		  "least_conn: the two idle servers should share the load: A %d B %d C %d",
		  counts[0], counts[1], counts[2]);

	/* random (power of two choices): every server gets some */
	memset(counts, 0, sizeof(counts));
	bad = px_tally(port, "/rnd/name", 60, false, NULL, counts);
	IT_ASSERT(bad == 0 && counts[0] > 0 && counts[1] > 0 && counts[2] > 0 &&
		  counts[0] + counts[1] + counts[2] == 60,
		  "random over 60: A %d B %d C %d (%d failed)", counts[0], counts[1], counts[2], bad);
}
END_TEST

/* ---- failover: passive health, backups, active health checks ---- */

START_TEST(failover_passive)
{
	struct it_origin *a, *c;
	int port, dead = it_free_port(), bad, counts[26] = { 0 };
	char *m;

	if (!px_have_proxy(_i))
		return;
	a = it_origin_start("A");
	c = it_origin_start("C");
	px_start(_i, 1, NULL, &port,
		"\"upstreams\": [{\"name\": \"u\", \"servers\": [\n"
		"    {\"address\": \"127.0.0.1\", \"port\": %d, \"max_fails\": 1},\n"
		"    {\"address\": \"127.0.0.1\", \"port\": %d, \"max_fails\": 1},\n"
		"    {\"address\": \"127.0.0.1\", \"port\": %d, \"max_fails\": 1}]}],\n"
		"  \"routes\": [{\"path_prefix\": \"/\", \"upstream\": \"u\", " TMO "}]",
		a->port, dead, c->port);

	bad = px_tally(port, "/name", 30, true, NULL, counts);
	IT_ASSERT(bad == 0 && counts[0] + counts[2] == 30,
		  "GETs with one of three servers down: %d failed (A %d, C %d); a refused connect "
		  "must be retried on another server", bad, counts[0], counts[2]);
	m = px_metrics(port);
	IT_ASSERT(it_series(m, "swerver_upstream_errors_total" LBL ",kind=\"connect\"}", "u", dead) == 1,
		  "connect errors at the dead server: %g, want 1 (max_fails 1 takes it out)\n%s",
		  it_series(m, "swerver_upstream_errors_total" LBL ",kind=\"connect\"}", "u", dead), m);
	IT_ASSERT(it_series(m, "swerver_upstream_retries_total" LBL "}", "u", dead) == 1,
		  "retries after the dead server: %g, want 1",
		  it_series(m, "swerver_upstream_retries_total" LBL "}", "u", dead));
	IT_ASSERT(it_series(m, "swerver_upstream_up" LBL "}", "u", dead) == 0 &&
		  it_series(m, "swerver_upstream_up" LBL "}", "u", a->port) == 1,
		  "swerver_upstream_up: dead %g (want 0), A %g (want 1)",
		  it_series(m, "swerver_upstream_up" LBL "}", "u", dead),
		  it_series(m, "swerver_upstream_up" LBL "}", "u", a->port));
	IT_ASSERT(it_series(m, "swerver_upstream_requests_total" LBL "}", "u", a->port) +
		  it_series(m, "swerver_upstream_requests_total" LBL "}", "u", c->port) == 30,
		  "requests_total A + C should be 30:\n%s", m);
	free(m);
}
END_TEST

START_TEST(failover_backup)
{
	struct it_origin *p1, *p2, *bk;
	int port, bad, counts[26] = { 0 };
	char *m;

	if (!px_have_proxy(_i))
		return;
	p1 = it_origin_start("A");
	p2 = it_origin_start("B");
	bk = it_origin_start("Z");
	px_start(_i, 1, NULL, &port,
		"\"upstreams\": [{\"name\": \"u\", \"servers\": [" SRV ", " SRV ",\n"
		"    {\"address\": \"127.0.0.1\", \"port\": %d, \"backup\": true}]}],\n"
		"  \"routes\": [{\"path_prefix\": \"/\", \"upstream\": \"u\", " TMO "}]",
		p1->port, p2->port, bk->port);

	bad = px_tally(port, "/name", 12, true, NULL, counts);
	IT_ASSERT(bad == 0 && counts[0] == 6 && counts[1] == 6 && counts['Z' - 'A'] == 0,
		  "both primaries up: A %d B %d backup %d (%d failed), want 6/6/0", counts[0],
		  counts[1], counts['Z' - 'A'], bad);

	it_origin_kill(p1);
	memset(counts, 0, sizeof(counts));
	bad = px_tally(port, "/name", 12, true, NULL, counts);
	IT_ASSERT(bad == 0 && counts[1] == 12 && counts['Z' - 'A'] == 0,
		  "one primary down: B %d backup %d (%d failed), want 12/0", counts[1],
		  counts['Z' - 'A'], bad);

	it_origin_kill(p2);
	memset(counts, 0, sizeof(counts));
	bad = px_tally(port, "/name", 6, true, NULL, counts);
	IT_ASSERT(bad == 0 && counts['Z' - 'A'] == 6,
		  "every primary down: the backup served %d of 6 (%d failed)", counts['Z' - 'A'], bad);

	m = px_metrics(port);
	IT_ASSERT(it_series(m, "swerver_upstream_up" LBL "}", "u", p1->port) == 0 &&
		  it_series(m, "swerver_upstream_up" LBL "}", "u", p2->port) == 0 &&
		  it_series(m, "swerver_upstream_up" LBL "}", "u", bk->port) == 1,
		  "swerver_upstream_up: primaries %g %g (want 0), backup %g (want 1)",
		  it_series(m, "swerver_upstream_up" LBL "}", "u", p1->port),
		  it_series(m, "swerver_upstream_up" LBL "}", "u", p2->port),
		  it_series(m, "swerver_upstream_up" LBL "}", "u", bk->port));
	free(m);
}
END_TEST

START_TEST(failover_active)
{
	struct it_origin *a, *b, *c;
	char s3[512];
	int port, bad, counts[26] = { 0 }, ms;

	if (!px_have_proxy(_i))
		return;
	a = it_origin_start("A");
	b = it_origin_start("B");
	c = it_origin_start("C");
	snprintf(s3, sizeof(s3),
		 "{\"address\": \"127.0.0.1\", \"port\": %d, \"max_fails\": 0}, "
		 "{\"address\": \"127.0.0.1\", \"port\": %d, \"max_fails\": 0}, "
		 "{\"address\": \"127.0.0.1\", \"port\": %d, \"max_fails\": 0}",
		 a->port, b->port, c->port);
	px_start(_i, 2, NULL, &port,
		"\"upstreams\": [{\"name\": \"u\", \"servers\": [%s],\n"
		"    \"health_check\": {\"interval_ms\": 200, \"timeout_ms\": 500, \"path\": \"/health\",\n"
		"                       \"unhealthy_threshold\": 1, \"healthy_threshold\": 1}}],\n"
		"  \"routes\": [{\"path_prefix\": \"/\", \"upstream\": \"u\", " TMO "}]", s3);

	bad = px_tally(port, "/name", 30, true, NULL, counts);
	IT_ASSERT(bad == 0 && counts[0] && counts[1] && counts[2],
		  "all healthy: A %d B %d C %d (%d failed)", counts[0], counts[1], counts[2], bad);

	/* B's health endpoint starts failing: the checks take it out, for every worker */
	IT_ASSERT(it_http_get("127.0.0.1", b->port, "/health/down", 2000) == 200,
		  "GET /health/down on the origin itself failed");
	/* a few check intervals on an idle machine; the deadline only bounds the test */
	ms = px_wait_up(port, "u", b->port, 0, 10000);
	IT_ASSERT(ms >= 0, "swerver_upstream_up for B: still not 0 after 10 s");
	memset(counts, 0, sizeof(counts));
	bad = px_tally(port, "/name", 40, true, NULL, counts);
	IT_ASSERT(bad == 0 && counts[1] == 0 && counts[0] + counts[2] == 40,
		  "B failing its health checks still got %d of 40 requests (A %d C %d, %d failed)",
		  counts[1], counts[0], counts[2], bad);

	/* and it comes back */
	IT_ASSERT(it_http_get("127.0.0.1", b->port, "/health/up", 2000) == 200,
		  "GET /health/up on the origin itself failed");
	ms = px_wait_up(port, "u", b->port, 1, 10000);
	IT_ASSERT(ms >= 0, "swerver_upstream_up for B: not back to 1 after 10 s");
	memset(counts, 0, sizeof(counts));
	bad = px_tally(port, "/name", 30, true, NULL, counts);
	IT_ASSERT(bad == 0 && counts[1] > 0, "B healthy again but got none of 30 (A %d C %d)",
		  counts[0], counts[2]);
}
END_TEST

static Suite *proxy_balance_suite(void)
{
	Suite *s = suite_create("proxy_balance");
	TCase *tc = it_tcase("balance");

	tcase_add_checked_fixture(tc, NULL, it_origins_kill);
	tcase_add_loop_test(tc, balancers, 0, 2);
	tcase_add_loop_test(tc, failover_passive, 0, 2);
	tcase_add_loop_test(tc, failover_backup, 0, 2);
	tcase_add_loop_test(tc, failover_active, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

IT_SUITE(proxy_balance_suite);
