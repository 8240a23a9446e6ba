/* SPDX-License-Identifier: MIT */
/* test_proxy_errors.c - the reverse proxy end to end: upstream errors: refused, reset, timed out, malformed answers.  Upstreams are tests/backend/origin (origins.h). */
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

/* ---- upstream errors ---- */

/* GET target on a fresh connection: the status (or -errno), elapsed ms into *ms. */
static int timed_get(int port, const char *target, int *ms, struct hres *r)
{
	int64_t t0 = it_now_ms();
	int rc = hc_get1(port, target, NULL, NULL, r);

	*ms = (int)(it_now_ms() - t0);
	return rc ? rc : r->status;
}

START_TEST(upstream_errors)
{
	struct it_origin *a;
	int port, dead = it_free_port(), st, ms;
	struct hres r;
	char *m;

	if (!px_have_proxy(_i))
		return;
	a = it_origin_start("A");
	px_start(_i, 1, NULL, &port,
		"\"upstreams\": [\n"
		"    {\"name\": \"dead\", \"servers\": [{\"address\": \"127.0.0.1\", \"port\": %d, \"max_fails\": 0}]},\n"
		"    {\"name\": \"o\", \"servers\": [{\"address\": \"127.0.0.1\", \"port\": %d, \"max_fails\": 0}]}],\n"
		"  \"routes\": [\n"
		"    {\"path_prefix\": \"/dead\", \"upstream\": \"dead\", " TMO "},\n"
		"    {\"path_prefix\": \"/rt\", \"upstream\": \"o\", \"rewrite_pattern\": \"/rt\",\n"
		"     \"rewrite_replacement\": \"/\", \"read_timeout_ms\": 500},\n"
		"    {\"path_prefix\": \"/tt\", \"upstream\": \"o\", \"rewrite_pattern\": \"/tt\",\n"
		"     \"rewrite_replacement\": \"/\", \"read_timeout_ms\": 5000, \"total_timeout_ms\": 700},\n"
		"    {\"path_prefix\": \"/mx\", \"upstream\": \"o\", \"rewrite_pattern\": \"/mx\",\n"
		"     \"rewrite_replacement\": \"/\", \"max_response_bytes\": 1000, " TMO "},\n"
		"    {\"path_prefix\": \"/\", \"upstream\": \"o\", " TMO "}]",
		dead, a->port);

	/* nothing listens: refused at once, nobody to retry on */
	st = timed_get(port, "/dead/x", &ms, &r);
	IT_ASSERT(st == 502 && ms < 1000, "GET from a server that refuses connections: %d after "
		  "%d ms, want 502 at once", st, ms);
	hres_free(&r);

	/* read_timeout_ms */
	st = timed_get(port, "/rt/slow/3000", &ms, &r);
	IT_ASSERT(st == 504 && ms >= 400 && ms < 2000,
		  "/slow/3000 with read_timeout_ms 500: %d after %d ms, want 504 after ~500 ms", st, ms);
	hres_free(&r);
	st = timed_get(port, "/rt/slow/100", &ms, &r);
	IT_ASSERT(st == 200, "/slow/100 with read_timeout_ms 500: %d", st);
	hres_free(&r);

	/* total_timeout_ms: before the head 504; after it the response is cut */
	st = timed_get(port, "/tt/slow/3000", &ms, &r);
	IT_ASSERT(st == 504 && ms >= 600 && ms < 2000,
		  "/slow/3000 with total_timeout_ms 700: %d after %d ms, want 504 after ~700 ms",
		  st, ms);
	hres_free(&r);
	st = timed_get(port, "/tt/slowbody/3000", &ms, &r);
	IT_ASSERT(st < 0 || (st == 200 && r.truncated && ms < 2500),
		  "/slowbody/3000 with total_timeout_ms 700: status %d, truncated %d after %d ms; "
		  "the response must be cut, not completed", st, r.truncated, ms);
	hres_free(&r);

	/* broken upstream responses */
	st = timed_get(port, "/garbage", &ms, &r);
	IT_ASSERT(st == 502, "GET /garbage (an invalid response head): %d, want 502", st);
	hres_free(&r);
	st = timed_get(port, "/reset", &ms, &r);
	IT_ASSERT(st == 502, "GET /reset (the origin resets): %d, want 502", st);
	hres_free(&r);

	/* max_response_bytes */
	st = timed_get(port, "/mx/bytes/1000", &ms, &r);
	IT_ASSERT(st == 200 && r.body_len == 1000, "/bytes/1000 under max_response_bytes 1000: %d, "
		  "%zu bytes", st, r.body_len);
	hres_free(&r);
	st = timed_get(port, "/mx/bytes/5000", &ms, &r);
	IT_ASSERT(st == 502, "/bytes/5000 over max_response_bytes 1000: %d, want 502", st);
	hres_free(&r);
	st = timed_get(port, "/mx/bytes/5000?chunked=1", &ms, &r);
	IT_ASSERT(st < 0 || st == 502 || (st == 200 && r.truncated),
		  "chunked /bytes/5000 over max_response_bytes 1000: %d with %zu bytes, complete; "
		  "want 502 or a cut response", st, r.body_len);
	hres_free(&r);
	st = timed_get(port, "/mx/bytes/5000?close=1", &ms, &r);
	IT_ASSERT(st < 0 || st == 502 || (st == 200 && r.truncated && r.body_len <= 1000) ||
		  (st == 200 && r.body_len < 5000),
		  "close-delimited /bytes/5000 over max_response_bytes 1000: %d with %zu bytes", st,
		  r.body_len);
	hres_free(&r);

	/* still serving, and the errors are counted by kind */
	st = timed_get(port, "/name", &ms, &r);
	IT_ASSERT(st == 200 && strcmp(r.body, "A") == 0, "GET /name after the errors: %d", st);
	hres_free(&r);
	m = px_metrics(port);
	IT_ASSERT(it_series(m, "swerver_upstream_errors_total" LBL ",kind=\"connect\"}", "dead", dead) >= 1,
		  "no connect error counted for the dead server:\n%s", m);
	IT_ASSERT(it_series(m, "swerver_upstream_errors_total" LBL ",kind=\"timeout\"}", "o", a->port) >= 1,
		  "no timeout counted:\n%s", m);
	IT_ASSERT(it_series(m, "swerver_upstream_errors_total" LBL ",kind=\"bad_response\"}", "o",
			 a->port) >= 1, "no bad_response counted:\n%s", m);
	IT_ASSERT(it_series(m, "swerver_upstream_errors_total" LBL ",kind=\"reset\"}", "o", a->port) >= 1,
		  "no reset counted:\n%s", m);
	free(m);
}
END_TEST

static Suite *proxy_errors_suite(void)
{
	Suite *s = suite_create("proxy_errors");
	TCase *tc = it_tcase("errors");

	tcase_add_checked_fixture(tc, NULL, it_origins_kill);
	tcase_add_loop_test(tc, upstream_errors, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

IT_SUITE(proxy_errors_suite);
