/* SPDX-License-Identifier: MIT */
/* test_admin_auth.c - the admin API end to end: key auth: missing, wrong and guessed keys, the failure counter. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
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
#include "admin_fixture.h"
#include "core/module.h"

/* ---- auth ---- */

/*
 * Each refused key waits ~500 ms for its 401 (with WWW-Authenticate), and
 * is counted; the right key works as X-API-Key and as a Bearer token.
 * The refusals run side by side, and a valid request meanwhile is answered.
 */
START_TEST(auth)
{
	static const char *const bad[] = {
		"",                                              /* no key at all */
		"X-API-Key: it-admin-key-0123456780\r\n",        /* last character wrong */
		"X-API-Key: it-admin-key-012345678\r\n",         /* a prefix of the key */
		"X-API-Key: it-admin-key-01234567890\r\n",       /* the key and one more */
		"Authorization: Bearer wrong-key-0123456789\r\n",
		"Authorization: Basic aXQtYWRtaW4ta2V5LTAxMjM0NTY3ODk=\r\n",
		"Authorization: " KEY "\r\n",                    /* no Bearer scheme */
		/* X-API-Key is looked at first: a wrong one is not rescued by a good Bearer */
		"X-API-Key: nope-nope-nope-nope\r\nAuthorization: Bearer " KEY "\r\n",
	};
	enum { NBAD = sizeof(bad) / sizeof(bad[0]) };
	static const char *const good[] = {
		"X-API-Key: " KEY "\r\n",
		"x-api-key: " KEY "\r\n",
		"Authorization: Bearer " KEY "\r\n",
		"authorization: bearer " KEY "\r\n",
	};
	const char *backend = it_backend(_i);
	char cfg[IT_PATH_MAX], val[128];
	int ports[2], fds[NBAD];
	struct resp r, rs[NBAD];
	long long n;

	if (!backend)
		return;
	it_free_ports(ports, 2);
	it_path(cfg, "swerver.json");
	adm_write_config(cfg, backend, ports[0], ports[1], 2, NULL);
	adm_start(cfg, ports[0], ports[1]);

	for (int i = 0; i < NBAD; i++) {
		fds[i] = req_open(ports[1]);
		IT_ASSERT(fds[i] >= 0, "connect: %s", strerror(-fds[i]));
		ck_assert_int_eq(req_send(fds[i], "GET", "/v1/status", bad[i], NULL, &rs[i]), 0);
	}
	/* While they wait, good keys are answered. */
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		adm_request(ports[1], "GET", "/v1/status", good[i], NULL, &r);
		IT_ASSERT(r.status == 200, "key as \"%.40s\": %d, want 200: %s", good[i], r.status,
			  r.body);
		IT_ASSERT(strstr(r.body, "\"version\""), "no version in %s", r.body);
		resp_free(&r);
	}
	for (int i = 0; i < NBAD; i++) {
		int rc = req_read(fds[i], &rs[i], ADM_IO_MS);

		close(fds[i]);
		IT_ASSERT(rc == 0, "refusal %d: no answer (%s)", i, strerror(-rc));
		IT_ASSERT(rs[i].status == 401, "headers \"%s\": %d, want 401: %s", bad[i],
			  rs[i].status, rs[i].body);
		IT_ASSERT(resp_header(&rs[i], "WWW-Authenticate", val, sizeof(val)) &&
			  strncasecmp(val, "Bearer", 6) == 0, "401 without WWW-Authenticate: Bearer:\n%s",
			  rs[i].head);
		IT_ASSERT(rs[i].ms >= 400, "headers \"%s\": the 401 came after %lld ms, want >= 400",
			  bad[i], (long long)rs[i].ms);
		IT_ASSERT(strstr(rs[i].body, "\"error\""), "401 without a JSON error: %s", rs[i].body);
		IT_ASSERT(!strstr(rs[i].body, "\"workers\""), "the 401 leaked the status: %s",
			  rs[i].body);
		resp_free(&rs[i]);
	}

	/* Counted, summed over the workers, on the main listener's /metrics and on /v1/metrics. */
	adm_request(ports[0], "GET", "/metrics", NULL, NULL, &r);
	IT_ASSERT(r.status == 200, "/metrics: %d", r.status);
	n = auth_failures(r.body);
	IT_ASSERT(n == NBAD, "swerver_admin_auth_failures_total is %lld, want %d", n, (int)NBAD);
	IT_ASSERT(strstr(r.body, "# TYPE swerver_admin_auth_failures_total counter"),
		  "no TYPE line for swerver_admin_auth_failures_total");
	resp_free(&r);
	adm("GET", "/v1/metrics", NULL, &r);
	n = auth_failures(r.body);
	IT_ASSERT(r.status == 200 && n == NBAD, "/v1/metrics: %d, failures %lld, want %d", r.status,
		  n, (int)NBAD);
	resp_free(&r);

	/* The admin listener is only the admin API; the main one has none of it. */
	adm_request(ports[1], "GET", "/.ready", NULL, NULL, &r);
	IT_ASSERT(r.status == 401, "GET /.ready on the admin port without a key: %d", r.status);
	resp_free(&r);
	adm("GET", "/metrics", NULL, &r);
	IT_ASSERT(r.status == 404, "GET /metrics on the admin port: %d, want 404", r.status);
	resp_free(&r);
	adm_request(ports[0], "GET", "/v1/status", "X-API-Key: " KEY "\r\n", NULL, &r);
	IT_ASSERT(r.status == 404 && !strstr(r.body, "\"workers\""),
		  "GET /v1/status on the main listener: %d %s", r.status, r.body);
	resp_free(&r);
}
END_TEST

static Suite *admin_auth_suite(void)
{
	Suite *s = suite_create("admin_auth");
	TCase *tc = it_tcase("auth");

	tcase_add_loop_test(tc, auth, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

IT_SUITE(admin_auth_suite);
