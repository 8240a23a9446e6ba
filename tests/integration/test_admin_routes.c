/* SPDX-License-Identifier: MIT */
/* test_admin_routes.c - the admin API end to end: route and upstream changes through the master on every worker (a restarted one too), one after another and side by side. */
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

/* ---- route and upstream changes on every worker ---- */

START_TEST(routes_and_upstreams)
{
	const char *backend = it_backend(_i);
	char cfg[IT_PATH_MAX], body[512], result[256];
	int ports[2], o1, o2, st;
	json_object *doc;
	struct resp r;
	int64_t gen;

	if (!backend || !adm_have_proxy())
		return;
	it_free_ports(ports, 2);
	o1 = it_origin_start("o1")->port;
	o2 = it_origin_start("o2")->port;
	it_path(cfg, "swerver.json");
	adm_write_config(cfg, backend, ports[0], ports[1], 2, NULL);
	adm_start(cfg, ports[0], ports[1]);
	all_status(ports[0], "/app/name", 404, 4);

	snprintf(body, sizeof(body), UPSTREAM_FMT, "o1", o1);
	change_ok("POST", "/v1/upstreams", body, result, sizeof(result));
	IT_ASSERT(strstr(result, "generation"), "POST /v1/upstreams result: %s", result);
	gen = adm_generation();
	change_ok("POST", "/v1/routes", ROUTE("/app", "o1"), NULL, 0);
	IT_ASSERT(adm_generation() == gen + 1, "generation %lld -> %lld after one change",
		  (long long)gen, (long long)adm_generation());
	/* At once, on new connections: both workers have it. */
	all_workers_serve(ports[0], "/app/name", "o1");
	IT_ASSERT(array_len("/v1/routes") == 1 && array_len("/v1/upstreams") == 1, "counts");

	/* A second upstream; the same path_prefix again replaces the route. */
	snprintf(body, sizeof(body), UPSTREAM_FMT, "o2", o2);
	change_ok("POST", "/v1/upstreams", body, NULL, 0);
	change_ok("POST", "/v1/routes", ROUTE("/app", "o2"), NULL, 0);
	IT_ASSERT(array_len("/v1/routes") == 1, "a POST of the same path_prefix added a route");
	all_workers_serve(ports[0], "/app/name", "o2");
	/* Same name replaces the upstream. */
	snprintf(body, sizeof(body), UPSTREAM_FMT, "o2", o1);
	change_ok("POST", "/v1/upstreams", body, NULL, 0);
	IT_ASSERT(array_len("/v1/upstreams") == 2, "a POST of the same name added an upstream");
	all_workers_serve(ports[0], "/app/name", "o1");
	snprintf(body, sizeof(body), UPSTREAM_FMT, "o2", o2);
	change_ok("POST", "/v1/upstreams", body, NULL, 0);

	/* Invalid changes: 400 with the loader's key path; nothing changes. */
	change_fails("POST", "/v1/routes", "{\"path_prefix\": \"/b\", \"upstream\": \"nope\"}", 400,
		     "routes[1].upstream: no upstream named");
	change_fails("POST", "/v1/routes", "{\"path_prefix\": \"b\", \"upstream\": \"o1\"}", 400,
		     "routes[1].path_prefix: must start with '/'");
	change_fails("POST", "/v1/routes", "{\"upstream\": \"o1\"}", 400,
		     "routes[1].path_prefix: required");
	change_fails("POST", "/v1/routes", "{\"path_prefix\": \"/b\", \"upstream\": \"o1\", "
		     "\"retry\": {\"max_retries\": \"x\"}}", 400, "routes[1].retry.max_retries");
	change_fails("POST", "/v1/routes", "not json", 400, "JSON object");
	change_fails("POST", "/v1/routes", "[1, 2]", 400, "JSON object");
	change_fails("POST", "/v1/routes", NULL, 400, "JSON object");
	change_fails("POST", "/v1/upstreams", "{\"name\": \"o3\", \"servers\": "
		     "[{\"address\": \"127.0.0.1\", \"port\": 70000}]}", 400, "upstreams[2].servers[0].port");
	IT_ASSERT(array_len("/v1/routes") == 1 && array_len("/v1/upstreams") == 2,
		  "a refused change changed the config");
	all_workers_serve(ports[0], "/app/name", "o2");

	/* An upstream in use cannot go; unknown names are 404. */
	change_fails("DELETE", "/v1/upstreams/o2", NULL, 409, "routes[0]");
	change_fails("DELETE", "/v1/upstreams/nope", NULL, 404, "nope");
	change_fails("DELETE", "/v1/routes/%2Fnope", NULL, 404, "/nope");
	change_fails("DELETE", "/v1/routes/%2Fap", NULL, 404, "/ap");   /* prefix of a prefix */
	change_fails("DELETE", "/v1/routes/%zz", NULL, 400, "URL-encoded");
	change_fails("DELETE", "/v1/routes/%2", NULL, 400, "URL-encoded");
	IT_ASSERT(array_len("/v1/upstreams") == 2 && array_len("/v1/routes") == 1, "counts after");

	/* A chunked body that arrives in pieces; and one over HTTP/2. */
	post_chunked("/v1/routes", ROUTE("/chunked", "o1"), 3, &r);
	IT_ASSERT(r.status == 200, "chunked POST /v1/routes: %d %s", r.status, r.body);
	resp_free(&r);
	all_workers_serve(ports[0], "/chunked/name", "o1");
	change_ok("DELETE", "/v1/routes/%2Fchunked", NULL, NULL, 0);
	if (sw_module_find("http2")) {
		char *out = it_run(&st, "printf '%%s' '" ROUTE("/h2", "o1") "' | timeout -k 1 10 "
				   "curl -s --http2-prior-knowledge -o /dev/null -w '%%{http_code} "
				   "%%{http_version}' -H 'X-API-Key: " KEY "' -H 'Content-Type: "
				   "application/json' --data-binary @- http://127.0.0.1:%d/v1/routes",
				   ports[1]);
		IT_ASSERT(strcmp(out, "200 2") == 0, "POST /v1/routes over h2c: \"%s\"", out);
		free(out);
		all_workers_serve(ports[0], "/h2/name", "o1");
		change_ok("DELETE", "/v1/routes/%2Fh2", NULL, NULL, 0);
	}

	/* URL-encoded prefixes: slashes, a space, a percent sign, hex of either case. */
	change_ok("POST", "/v1/routes", ROUTE("/v2/x y%", "o1"), NULL, 0);
	change_ok("POST", "/v1/routes", ROUTE("/v3", "o1"), NULL, 0);
	IT_ASSERT(array_len("/v1/routes") == 3, "3 routes");
	all_status(ports[0], "/v3/name", 200, 4);
	change_ok("DELETE", "/v1/routes/%2fv2%2Fx%20y%25", NULL, NULL, 0);
	change_ok("DELETE", "/v1/routes//v3", NULL, NULL, 0);   /* a bare slash works too */
	doc = adm_json("GET", "/v1/routes", NULL, 200);
	IT_ASSERT(json_object_array_length(doc) == 1 &&
		  strcmp(adm_get_str(json_object_array_get_idx(doc, 0), "path_prefix"), "/app") == 0,
		  "after the deletes: %s", json_object_to_json_string(doc));
	json_object_put(doc);
	all_status(ports[0], "/v3/name", 404, 6);

	/* Delete the route: /app is gone on every worker; then its upstream may go. */
	change_ok("DELETE", "/v1/routes/%2Fapp", NULL, NULL, 0);
	all_status(ports[0], "/app/name", 404, 10);
	change_ok("DELETE", "/v1/upstreams/o2", NULL, NULL, 0);
	change_ok("DELETE", "/v1/upstreams/o1", NULL, NULL, 0);
	IT_ASSERT(array_len("/v1/routes") == 0 && array_len("/v1/upstreams") == 0, "not empty");
}
END_TEST

/* ---- a restarted worker gets the live config ---- */

START_TEST(worker_crash_keeps_live_config)
{
	const char *backend = it_backend(_i);
	char cfg[IT_PATH_MAX], extra[256];
	pid_t kids[4], after[4];
	int ports[2], o1, n;
	struct it_proc *p;
	json_object *doc;
	size_t from;
	char *text;

	if (!backend || !adm_have_proxy())
		return;
	it_free_ports(ports, 2);
	o1 = it_origin_start("o1")->port;
	it_path(cfg, "swerver.json");
	snprintf(extra, sizeof(extra), ",\n \"upstreams\": [" UPSTREAM_FMT "]", "o1", o1);
	adm_write_config(cfg, backend, ports[0], ports[1], 2, extra);
	p = adm_start(cfg, ports[0], ports[1]);
	change_ok("POST", "/v1/routes", ROUTE("/app", "o1"), NULL, 0);
	all_workers_serve(ports[0], "/app/name", "o1");

	for (int k = 0; k < 2; k++) {   /* each worker in turn, by slot */
		pid_t victim = slot_pid(k), now;

		IT_ASSERT(victim > 0 && victim != p->pid && it_children(p->pid, kids, 4) == 2,
			  "slot %d has pid %d", k, (int)victim);
		from = it_log_size(p);
		kill(victim, SIGKILL);
		IT_ASSERT(it_wait_gone(&victim, 1, 2000), "worker %d survived SIGKILL", (int)victim);
		IT_ASSERT(it_wait_log(p, from, "serving on the", 5000), "worker %d was not restarted",
			  k);
		n = it_wait_children(p->pid, 2, after, 4, 5000);
		IT_ASSERT(n == 2, "%d workers after the kill", n);
		now = slot_pid(k);
		IT_ASSERT(now > 0 && now != victim && !it_pid_gone(now), "slot %d: pid %d after the "
			  "restart (killed %d)", k, (int)now, (int)victim);
		/* Its restart serves the route the file does not have. */
		all_workers_serve(ports[0], "/app/name", "o1");
		IT_ASSERT(array_len("/v1/routes") == 1, "the route is gone from /v1/routes");
	}
	doc = adm_json("GET", "/v1/status", NULL, 200);
	IT_ASSERT(json_object_get_int(adm_get(doc, "worker_restarts")) == 2, "worker_restarts: %s",
		  json_object_to_json_string(doc));
	json_object_put(doc);
	text = it_read_file(cfg);
	IT_ASSERT(!strstr(text, "/app"), "the config file changed:\n%s", text);
	free(text);
}
END_TEST

/* ---- changes one after another, and side by side, are all kept ---- */

#define NCHANGES 10

/* True when GET /v1/routes lists path_prefix. */
static bool has_route(json_object *routes, const char *prefix)
{
	for (size_t i = 0; i < json_object_array_length(routes); i++) {
		const char *p = adm_get_str(json_object_array_get_idx(routes, i), "path_prefix");
		if (p && strcmp(p, prefix) == 0)
			return true;
	}
	return false;
}

/*
 * Each POST waits for its 200 before the next (each on a new connection,
 * so they land on either worker): every one is kept.
 */
START_TEST(sequential_changes_all_kept)
{
	const char *backend = it_backend(_i);
	char body[256], prefix[32];
	json_object *routes;
	int port;

	if (!backend || !adm_have_proxy())
		return;
	start_with_origin(backend, &port);
	for (int i = 0; i < NCHANGES; i++) {
		snprintf(body, sizeof(body), "{\"path_prefix\": \"/s%d\", \"upstream\": \"o1\"}", i);
		change_ok("POST", "/v1/routes", body, NULL, 0);
	}
	routes = adm_json("GET", "/v1/routes", NULL, 200);
	for (int i = 0; i < NCHANGES; i++) {
		snprintf(prefix, sizeof(prefix), "/s%d", i);
		IT_ASSERT(has_route(routes, prefix), "route %s (answered 200) is lost: %s", prefix,
			  json_object_to_json_string(routes));
	}
	json_object_put(routes);
}
END_TEST

/*
 * NCHANGES POSTs of different routes sent at once (on both workers): each
 * that is answered 200 must be in the running config afterwards.  (A 200
 * for a change that a concurrent one then silently undid is a lost update.)
 */
START_TEST(concurrent_changes_all_kept)
{
	const char *backend = it_backend(_i);
	char body[256], prefix[32], lost[512] = "";
	struct resp rs[NCHANGES];
	int fds[NCHANGES], port, ok = 0, nlost = 0;
	json_object *routes;

	if (!backend || !adm_have_proxy())
		return;
	start_with_origin(backend, &port);
	for (int i = 0; i < NCHANGES; i++) {
		fds[i] = req_open(admin_port);
		IT_ASSERT(fds[i] >= 0, "connect: %s", strerror(-fds[i]));
	}
	for (int i = 0; i < NCHANGES; i++) {
		snprintf(body, sizeof(body), "{\"path_prefix\": \"/c%d\", \"upstream\": \"o1\"}", i);
		ck_assert_int_eq(req_send(fds[i], "POST", "/v1/routes", "X-API-Key: " KEY "\r\n", body,
					  &rs[i]), 0);
	}
	for (int i = 0; i < NCHANGES; i++) {
		int rc = req_read(fds[i], &rs[i], ADM_IO_MS);

		close(fds[i]);
		IT_ASSERT(rc == 0, "POST %d: no answer (%s)", i, strerror(-rc));
		IT_ASSERT(rs[i].status == 200 || rs[i].status == 409 || rs[i].status == 503,
			  "POST %d: %d %s", i, rs[i].status, rs[i].body);
		if (rs[i].status == 200)
			ok++;
	}
	routes = adm_json("GET", "/v1/routes", NULL, 200);
	for (int i = 0; i < NCHANGES; i++) {
		snprintf(prefix, sizeof(prefix), "/c%d", i);
		if (rs[i].status == 200 && !has_route(routes, prefix)) {
			nlost++;
			snprintf(lost + strlen(lost), sizeof(lost) - strlen(lost), " %s", prefix);
		}
		resp_free(&rs[i]);
	}
	IT_ASSERT(nlost == 0, "%d of %d concurrent POST /v1/routes answered 200, yet %d of them are "
		  "not in the running config (lost:%s): %s", ok, NCHANGES, nlost, lost,
		  json_object_to_json_string(routes));
	json_object_put(routes);
}
END_TEST

static Suite *admin_routes_suite(void)
{
	Suite *s = suite_create("admin_routes");
	TCase *tc = it_tcase("routes");

	tcase_add_loop_test(tc, routes_and_upstreams, 0, 2);
	tcase_add_loop_test(tc, worker_crash_keeps_live_config, 0, 2);
	tcase_add_loop_test(tc, sequential_changes_all_kept, 0, 2);
	tcase_add_loop_test(tc, concurrent_changes_all_kept, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

IT_SUITE(admin_routes_suite);
