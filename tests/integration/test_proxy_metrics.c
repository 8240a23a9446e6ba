/* SPDX-License-Identifier: MIT */
/* test_proxy_metrics.c - the reverse proxy end to end: per-server upstream metrics.  Upstreams are tests/backend/origin (origins.h). */
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

/* ---- per-server metrics ---- */

START_TEST(metrics_upstream)
{
	struct it_origin *o[3];
	const char *names[3] = { "A", "B", "C" };
	int port, bad, counts[26] = { 0 };
	char s3[256], *m;

	if (!px_have_proxy(_i))
		return;
	for (int k = 0; k < 3; k++)
		o[k] = it_origin_start(names[k]);
	snprintf(s3, sizeof(s3), SRV ", " SRV ", " SRV, o[0]->port, o[1]->port, o[2]->port);
	px_start(_i, 1, NULL, &port,
		"\"upstreams\": [{\"name\": \"u\", \"servers\": [%s]}],\n"
		"  \"routes\": [{\"path_prefix\": \"/\", \"upstream\": \"u\", " TMO "}]", s3);
	bad = px_tally(port, "/name", 30, true, NULL, counts);
	ck_assert_int_eq(bad, 0);
	/* one slow answer (300 ms) each: past the 0.25 s bucket */
	bad = px_tally(port, "/slow/300", 3, true, NULL, counts);
	ck_assert_int_eq(bad, 0);

	m = px_metrics(port);
	for (int k = 0; k < 3; k++) {
		int sp = o[k]->port;
		double req = it_series(m, "swerver_upstream_requests_total" LBL "}", "u", sp);
		double inf = it_series(m, "swerver_upstream_response_seconds_bucket" LBL ",le=\"+Inf\"}", "u", sp);
		double cnt = it_series(m, "swerver_upstream_response_seconds_count" LBL "}", "u", sp);
		double q25 = it_series(m, "swerver_upstream_response_seconds_bucket" LBL ",le=\"0.25\"}", "u", sp);
		double h5 = it_series(m, "swerver_upstream_response_seconds_bucket" LBL ",le=\"0.5\"}", "u", sp);
		double sum = it_series(m, "swerver_upstream_response_seconds_sum" LBL "}", "u", sp);

		IT_ASSERT(req == 11, "swerver_upstream_requests_total for %s: %g, want 11\n%s",
			  names[k], req, m);
		IT_ASSERT(inf == cnt && cnt == 11, "%s: histogram +Inf %g, _count %g, want 11 both",
			  names[k], inf, cnt);
		/*
		 * The 300 ms answer can never fall in le=0.25; where the others
		 * fall depends on the machine's load, so only the order is fixed.
		 */
		IT_ASSERT(q25 <= 10 && q25 <= h5 && h5 <= inf, "%s: le=0.25 holds %g (at most 10), "
			  "le=0.5 %g, +Inf %g: not cumulative", names[k], q25, h5, inf);
		IT_ASSERT(sum >= 0.3, "%s: _sum %g, want at least the slow answer's 0.3", names[k], sum);
		IT_ASSERT(it_series(m, "swerver_upstream_up" LBL "}", "u", sp) == 1, "%s not up", names[k]);
	}
	free(m);
}
END_TEST

static Suite *proxy_metrics_suite(void)
{
	Suite *s = suite_create("proxy_metrics");
	TCase *tc = it_tcase("metrics");

	tcase_add_checked_fixture(tc, NULL, it_origins_kill);
	tcase_add_loop_test(tc, metrics_upstream, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

IT_SUITE(proxy_metrics_suite);
