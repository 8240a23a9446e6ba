/* SPDX-License-Identifier: MIT */
/* test_proxy_rate_limit.c - the reverse proxy end to end: rate limits, per worker and shared between workers.  Upstreams are tests/backend/origin (origins.h). */
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

/* ---- rate limits ---- */

START_TEST(rate_limit)
{
	struct it_origin *a;
	struct hconn *c;
	struct hres r;
	char v[64], hdrs[64];
	int port, rc;

	if (!px_have_proxy(_i))
		return;
	a = it_origin_start("A");
	px_start(_i, 1, NULL, &port,
		"\"upstreams\": [{\"name\": \"u\", \"servers\": [" SRV "]}],\n"
		"  \"routes\": [\n"
		"    {\"path_prefix\": \"/rl\", \"upstream\": \"u\", \"rewrite_pattern\": \"/rl\",\n"
		"     \"rewrite_replacement\": \"/\", " TMO ",\n"
		"     \"rate_limit\": {\"requests_per_second\": 2, \"burst_size\": 3}},\n"
		"    {\"path_prefix\": \"/key\", \"upstream\": \"u\", \"rewrite_pattern\": \"/key\",\n"
		"     \"rewrite_replacement\": \"/\", " TMO ",\n"
		"     \"rate_limit\": {\"requests_per_second\": 1, \"burst_size\": 2, \"key\": \"consumer\",\n"
		"                    \"consumer_header\": \"X-API-Key\"}}]", a->port);

	c = hc_new(port);
	for (int k = 0; k < 3; k++) {
		rc = hc_req(c, "GET", "/rl/name", NULL, NULL, NULL, &r);
		IT_ASSERT(rc == 0 && r.status == 200 && px_origin_of(&r) == 'A',
			  "request %d of a burst of 3: rc %d status %d", k + 1, rc, r.status);
		IT_ASSERT(it_header(r.head, "X-RateLimit-Limit", v, sizeof(v)) && strcmp(v, "3") == 0,
			  "X-RateLimit-Limit: want 3\n%s", r.head);
		IT_ASSERT(it_header(r.head, "X-RateLimit-Remaining", v, sizeof(v)) && atoi(v) == 2 - k,
			  "request %d: X-RateLimit-Remaining want %d\n%s", k + 1, 2 - k, r.head);
		hres_free(&r);
	}
	rc = hc_req(c, "GET", "/rl/name", NULL, NULL, NULL, &r);
	IT_ASSERT(rc == 0 && r.status == 429, "the 4th request of a burst of 3: %d, want 429", r.status);
	IT_ASSERT(px_origin_of(&r) == 0, "a refused request reached the origin:\n%s", r.head);
	IT_ASSERT(it_header(r.head, "Retry-After", v, sizeof(v)) && atoi(v) >= 1,
		  "429 without Retry-After >= 1:\n%s", r.head);
	IT_ASSERT(it_header(r.head, "X-RateLimit-Limit", v, sizeof(v)) && strcmp(v, "3") == 0,
		  "429: X-RateLimit-Limit want 3\n%s", r.head);
	IT_ASSERT(it_header(r.head, "X-RateLimit-Remaining", v, sizeof(v)) && strcmp(v, "0") == 0,
		  "429: X-RateLimit-Remaining want 0\n%s", r.head);
	hres_free(&r);
	/* 2 a second: after 600 ms one more passes, then no more */
	it_sleep_ms(600);
	rc = hc_req(c, "GET", "/rl/name", NULL, NULL, NULL, &r);
	IT_ASSERT(rc == 0 && r.status == 200, "600 ms later at 2 requests/s: %d, want 200", r.status);
	hres_free(&r);
	rc = hc_req(c, "GET", "/rl/name", NULL, NULL, NULL, &r);
	IT_ASSERT(rc == 0 && r.status == 429, "right after that: %d, want 429", r.status);
	hres_free(&r);
	hc_free(c);

	/* consumer keys: a bucket each */
	for (int key = 1; key <= 2; key++) {
		snprintf(hdrs, sizeof(hdrs), "X-API-Key: key-%d\r\n", key);
		for (int k = 0; k < 3; k++) {
			rc = hc_get1(port, "/key/name", NULL, hdrs, &r);
			IT_ASSERT(rc == 0 && r.status == (k < 2 ? 200 : 429),
				  "consumer key-%d request %d: %d, want %d", key, k + 1, r.status,
				  k < 2 ? 200 : 429);
			hres_free(&r);
		}
	}
	rc = hc_get1(port, "/key/name", NULL, "X-API-Key: key-3\r\n", &r);
	IT_ASSERT(rc == 0 && r.status == 200, "a third consumer: %d, want 200", r.status);
	hres_free(&r);
}
END_TEST

START_TEST(rate_limit_shared)
{
	struct it_origin *a;
	struct hres r;
	int port, ok = 0, limited = 0;

	if (!px_have_proxy(_i))
		return;
	a = it_origin_start("A");
	px_start(_i, 2, NULL, &port,
		"\"upstreams\": [{\"name\": \"u\", \"servers\": [" SRV "]}],\n"
		"  \"routes\": [{\"path_prefix\": \"/\", \"upstream\": \"u\", " TMO ",\n"
		"     \"rate_limit\": {\"requests_per_second\": 1, \"burst_size\": 3}}]", a->port);
	/* new connections land on both workers; the bucket is the same */
	for (int k = 0; k < 12; k++) {
		int rc = hc_get1(port, "/name", NULL, NULL, &r);

		IT_ASSERT(rc == 0 && (r.status == 200 || r.status == 429), "request %d: rc %d status %d",
			  k, rc, r.status);
		ok += r.status == 200;
		limited += r.status == 429;
		hres_free(&r);
	}
	IT_ASSERT(ok == 3 && limited == 9, "burst 3 with 2 workers: %d of 12 passed (%d refused), "
		  "want exactly 3", ok, limited);
}
END_TEST

static Suite *proxy_rate_limit_suite(void)
{
	Suite *s = suite_create("proxy_rate_limit");
	TCase *tc = it_tcase("rate_limit");

	tcase_add_checked_fixture(tc, NULL, it_origins_kill);
	tcase_add_loop_test(tc, rate_limit, 0, 2);
	tcase_add_loop_test(tc, rate_limit_shared, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

IT_SUITE(proxy_rate_limit_suite);
