/* SPDX-License-Identifier: MIT */
/* test_gateway_access.c - routes[].access and top-level access end to end: addresses, trusted proxies, methods and CORS preflights, reloads; libcurl over HTTP/1.1, HTTP/2 and HTTP/3 to swerver in front of tests/backend/origin. */
#include <config.h>

#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "gateway_fixture.h"

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


static Suite *gateway_access_suite(void)
{
	Suite *s = suite_create("gateway_access");
	TCase *t = it_tcase("access");

	curl_global_init(CURL_GLOBAL_DEFAULT);
	tcase_add_test(t, test_allow_deny_addresses);
	tcase_add_test(t, test_forwarded_client);
	tcase_add_test(t, test_global_access);
	tcase_add_test(t, test_reload_in_place);
	tcase_add_test(t, test_methods);
	tcase_add_test(t, test_methods_preflight);
	tcase_add_test(t, test_global_methods_preflight);
	suite_add_tcase(s, t);
	return s;
}

IT_SUITE(gateway_access_suite);
