/* SPDX-License-Identifier: MIT */
/* test_admin_endpoints.c - the admin API end to end: the read-only /v1 endpoints and the refusals, names decoded once, single-process mode. */
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

/* ---- the read-only endpoints and the refusals ---- */

START_TEST(endpoints)
{
	const char *backend = it_backend(_i);
	char cfg[IT_PATH_MAX], extra[512], addr[64], val[128], *cmd, *out;
	json_object *doc, *ws, *ls;
	bool seen_admin = false, seen_main = false;
	pid_t kids[4];
	int ports[2], st, oport;
	struct it_proc *p;
	struct resp r;

	if (!backend)
		return;
	it_free_ports(ports, 2);
	it_path(cfg, "swerver.json");
	oport = adm_have_proxy() ? it_origin_start("o1")->port : 0;
	if (oport)
		snprintf(extra, sizeof(extra), ",\n \"upstreams\": [" UPSTREAM_FMT "],\n"
			 " \"routes\": [" ROUTE("/app", "o1") "]", "o1", oport);
	else
		extra[0] = '\0';
	adm_write_config(cfg, backend, ports[0], ports[1], 2, extra);
	p = adm_start(cfg, ports[0], ports[1]);
	IT_ASSERT(it_wait_children(p->pid, 2, kids, 4, 5000) == 2, "not 2 workers");

	/* status: version, generation, each worker with its real pid, the listeners. */
	doc = adm_json("GET", "/v1/status", NULL, 200);
	IT_ASSERT(adm_get_str(doc, "version") && strcmp(adm_get_str(doc, "version"), PACKAGE_VERSION) == 0,
		  "version: %s", json_object_to_json_string(doc));
	IT_ASSERT(adm_get(doc, "generation") && json_object_get_int64(adm_get(doc, "generation")) >= 1,
		  "generation: %s", json_object_to_json_string(doc));
	ws = adm_get(doc, "workers");
	IT_ASSERT(ws && json_object_array_length(ws) == 2, "want 2 workers: %s",
		  json_object_to_json_string(doc));
	for (size_t i = 0; i < 2; i++) {
		json_object *w = json_object_array_get_idx(ws, i);
		pid_t pid = (pid_t)json_object_get_int64(adm_get(w, "pid"));

		IT_ASSERT(json_object_get_int(adm_get(w, "slot")) == (int)i, "slot %zu: %s", i,
			  json_object_to_json_string(w));
		IT_ASSERT((pid == kids[0] || pid == kids[1]) && pid != p->pid,
			  "workers[%zu].pid %d is not a worker (%d, %d)", i, (int)pid, (int)kids[0],
			  (int)kids[1]);
	}
	IT_ASSERT(json_object_get_int64(adm_get(json_object_array_get_idx(ws, 0), "pid")) !=
		  json_object_get_int64(adm_get(json_object_array_get_idx(ws, 1), "pid")),
		  "both workers have the same pid");
	ls = adm_get(doc, "listeners");
	IT_ASSERT(ls && json_object_array_length(ls) == 2, "want 2 listeners: %s",
		  json_object_to_json_string(doc));
	for (size_t i = 0; i < json_object_array_length(ls); i++) {
		json_object *l = json_object_array_get_idx(ls, i);
		bool is_admin = json_object_get_boolean(adm_get(l, "admin"));

		snprintf(addr, sizeof(addr), "127.0.0.1:%d", is_admin ? ports[1] : ports[0]);
		IT_ASSERT(adm_get_str(l, "address") && strcmp(adm_get_str(l, "address"), addr) == 0,
			  "listener %zu: %s, want address %s", i, json_object_to_json_string(l), addr);
		seen_admin |= is_admin;
		seen_main |= !is_admin;
	}
	IT_ASSERT(seen_admin && seen_main, "listeners: %s", json_object_to_json_string(ls));
	IT_ASSERT(json_object_get_boolean(adm_get(json_object_array_get_idx(ls, 1), "admin")),
		  "the admin listener is not last: %s", json_object_to_json_string(ls));
	json_object_put(doc);

	/* config: the whole running config, the key redacted. */
	adm("GET", "/v1/config", NULL, &r);
	IT_ASSERT(r.status == 200, "/v1/config: %d", r.status);
	IT_ASSERT(resp_header(&r, "Content-Type", val, sizeof(val)) &&
		  strncmp(val, "application/json", 16) == 0, "/v1/config Content-Type %s", val);
	IT_ASSERT(!strstr(r.body, KEY), "/v1/config shows the api_key:\n%s", r.body);
	IT_ASSERT(strstr(r.body, "\"api_key\"") && strstr(r.body, "redacted"),
		  "/v1/config: no redacted api_key:\n%s", r.body);
	doc = json_tokener_parse(r.body);
	IT_ASSERT(doc && adm_get(doc, "server") && adm_get(doc, "admin") && adm_get(doc, "routes"),
		  "/v1/config is not the config: %s", r.body);
	IT_ASSERT(json_object_get_int(adm_get(adm_get(doc, "admin"), "port")) == ports[1], "admin.port: %s",
		  r.body);
	json_object_put(doc);
	resp_free(&r);

	/* metrics: Prometheus text. */
	adm("GET", "/v1/metrics", NULL, &r);
	IT_ASSERT(r.status == 200 && resp_header(&r, "Content-Type", val, sizeof(val)) &&
		  strncmp(val, "text/plain", 10) == 0, "/v1/metrics: %d %s", r.status, val);
	IT_ASSERT(strstr(r.body, "# TYPE swerver_") && strstr(r.body, "# HELP swerver_") &&
		  strstr(r.body, "\nswerver_connections_accepted_total "),
		  "/v1/metrics is not Prometheus text:\n%.600s", r.body);
	resp_free(&r);

	/* routes and upstreams: the config's arrays. */
	IT_ASSERT(array_len("/v1/routes") == (oport ? 1 : 0), "GET /v1/routes");
	IT_ASSERT(array_len("/v1/upstreams") == (oport ? 1 : 0), "GET /v1/upstreams");
	if (oport) {
		doc = adm_json("GET", "/v1/routes", NULL, 200);
		IT_ASSERT(strcmp(adm_get_str(json_object_array_get_idx(doc, 0), "path_prefix"), "/app") == 0,
			  "routes: %s", json_object_to_json_string(doc));
		json_object_put(doc);
		doc = adm_json("GET", "/v1/upstreams", NULL, 200);
		IT_ASSERT(strcmp(adm_get_str(json_object_array_get_idx(doc, 0), "name"), "o1") == 0,
			  "upstreams: %s", json_object_to_json_string(doc));
		json_object_put(doc);
	}

	/* HEAD: the headers of a GET, no body. */
	{
		int fd = req_open(ports[1]), rc;

		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(req_send(fd, "HEAD", "/v1/status", "X-API-Key: " KEY "\r\n", NULL,
					  &r), 0);
		rc = req_read(fd, &r, ADM_IO_MS);
		close(fd);
		IT_ASSERT(rc == 0 && r.status == 200 && r.len == 0, "HEAD /v1/status: %d, %zu bytes",
			  r.status, r.len);
		resp_free(&r);
	}

	/* Unknown endpoints, wrong methods. */
	change_fails("GET", "/v1/x", NULL, 404, "no such endpoint");
	change_fails("GET", "/v2/status", NULL, 404, "no such endpoint");
	{
		static const struct { const char *method, *path, *allow; } wrong[] = {
			{ "DELETE", "/v1/status", "GET, HEAD" },
			{ "POST", "/v1/config", "GET, HEAD" },
			{ "PUT", "/v1/metrics", "GET, HEAD" },
			{ "PUT", "/v1/routes", "GET, HEAD, POST" },
			{ "DELETE", "/v1/upstreams", "GET, HEAD, POST" },
			{ "GET", "/v1/routes/%2Fapp", "DELETE" },
			{ "POST", "/v1/upstreams/o1", "DELETE" },
			{ "GET", "/v1/reload", "POST" },
			{ "GET", "/v1/config/persist", "POST" },
		};
		for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
			adm(wrong[i].method, wrong[i].path, NULL, &r);
			IT_ASSERT(r.status == 405, "%s %s: %d, want 405", wrong[i].method, wrong[i].path,
				  r.status);
			IT_ASSERT(resp_header(&r, "Allow", val, sizeof(val)) &&
				  strcmp(val, wrong[i].allow) == 0, "%s %s: Allow \"%s\", want \"%s\"",
				  wrong[i].method, wrong[i].path, val, wrong[i].allow);
			resp_free(&r);
		}
	}

	/* Oversize bodies: announced by Content-Length, and streamed in chunks. */
	{
		int fd = req_open(ports[1]), rc;
		const char *big = "X-API-Key: " KEY "\r\nContent-Type: application/json\r\n"
				  "Content-Length: 2000000\r\n";

		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(req_send(fd, "POST", "/v1/routes", big, NULL, &r), 0);
		rc = req_read(fd, &r, ADM_IO_MS);
		close(fd);
		IT_ASSERT(rc == 0 && r.status == 413, "POST of 2000000 bytes (announced): %d (%s)",
			  r.status, strerror(-rc));
		IT_ASSERT(strstr(r.body, "1 MiB"), "413 body: %s", r.body);
		resp_free(&r);
	}
	cmd = NULL;
	if (asprintf(&cmd, "head -c 1200000 /dev/zero | tr '\\0' ' ' | timeout -k 1 20 curl -s "
		     "-o /dev/null -w '%%{http_code}' -H 'X-API-Key: " KEY "' "
		     "-H 'Transfer-Encoding: chunked' -H 'Expect:' --data-binary @- "
		     "http://127.0.0.1:%d/v1/upstreams", ports[1]) < 0)
		ck_abort_msg("asprintf");
	out = it_run(&st, "%s", cmd);
	free(cmd);
	IT_ASSERT(strcmp(out, "413") == 0, "POST of 1200000 bytes (chunked): \"%s\", want 413", out);
	free(out);
	/* A body just under the cap is read (and refused as a route, not as a size). */
	{
		size_t n = 1024 * 1024 - 16;
		char *body = malloc(n + 1);

		ck_assert_ptr_nonnull(body);
		memset(body, ' ', n);
		memcpy(body, "{\"x\": 1}", 8);
		body[n] = '\0';
		adm("POST", "/v1/routes", body, &r);
		free(body);
		IT_ASSERT(r.status == 400, "POST of a 1 MiB - 16 route: %d, want 400: %s", r.status,
			  r.body);
		resp_free(&r);
	}
	/* It still serves after all that. */
	IT_ASSERT(array_len("/v1/routes") == (oport ? 1 : 0), "routes changed");
}
END_TEST

/* ---- a decoded name never ends early at a %00 ---- */

START_TEST(delete_name_with_nul)
{
	const char *backend = it_backend(_i);
	int port;

	if (!backend || !adm_have_proxy())
		return;
	start_with_origin(backend, &port);
	change_ok("POST", "/v1/routes", ROUTE("/app", "o1"), NULL, 0);
	{
		struct resp r;

		/* "/app\0junk" is not "/app": 400 (or 404), and /app stays. */
		adm("DELETE", "/v1/routes/%2Fapp%00junk", NULL, &r);
		IT_ASSERT(r.status == 400 || r.status == 404, "DELETE /v1/routes/%%2Fapp%%00junk: %d "
			  "%s, want 400 or 404", r.status, r.body);
		resp_free(&r);
		IT_ASSERT(array_len("/v1/routes") == 1, "DELETE of \"/app%%00junk\" deleted /app");
	}
}
END_TEST

/* ---- single-process mode ---- */

START_TEST(single_process)
{
	const char *backend = it_backend(_i);
	char cfg[IT_PATH_MAX], extra[256], result[256];
	int ports[2], o1;
	struct it_proc *p;
	json_object *doc, *ws;
	pid_t kids[2];
	char *text;

	if (!backend || !adm_have_proxy())
		return;
	it_free_ports(ports, 2);
	o1 = it_origin_start("o1")->port;
	it_path(cfg, "swerver.json");
	snprintf(extra, sizeof(extra), ",\n \"upstreams\": [" UPSTREAM_FMT "]", "o1", o1);
	adm_write_config(cfg, backend, ports[0], ports[1], 1, extra);
	p = adm_start(cfg, ports[0], ports[1]);
	IT_ASSERT(it_log_has(p, "(single process)"), "not single-process");
	IT_ASSERT(it_children(p->pid, kids, 2) == 0, "a single process has children");

	doc = adm_json("GET", "/v1/status", NULL, 200);
	ws = adm_get(doc, "workers");
	IT_ASSERT(ws && json_object_array_length(ws) == 1, "workers: %s",
		  json_object_to_json_string(doc));
	IT_ASSERT(json_object_get_int64(adm_get(json_object_array_get_idx(ws, 0), "pid")) == p->pid,
		  "workers[0].pid is not the process (%d): %s", (int)p->pid,
		  json_object_to_json_string(ws));
	json_object_put(doc);

	all_status(ports[0], "/app/name", 404, 2);
	change_ok("POST", "/v1/routes", ROUTE("/app", "o1"), result, sizeof(result));
	IT_ASSERT(strstr(result, "generation"), "result: %s", result);
	all_status(ports[0], "/app/name", 200, 5);
	change_fails("POST", "/v1/routes", "{\"path_prefix\": \"/b\", \"upstream\": \"nope\"}", 400,
		     "routes[1].upstream: no upstream named");
	change_fails("DELETE", "/v1/upstreams/o1", NULL, 409, "routes[0]");
	IT_ASSERT(array_len("/v1/routes") == 1, "routes");

	/* reload from the file (which has no route) and persist, answered by the process itself. */
	change_ok("POST", "/v1/config/persist", NULL, NULL, 0);
	text = it_read_file(cfg);
	IT_ASSERT(strstr(text, "\"/app\""), "persist did not write the route:\n%s", text);
	free(text);
	change_ok("DELETE", "/v1/routes/%2Fapp", NULL, NULL, 0);
	all_status(ports[0], "/app/name", 404, 3);
	change_ok("POST", "/v1/reload", NULL, NULL, 0);   /* the persisted file has /app */
	all_status(ports[0], "/app/name", 200, 3);
	it_write_file(cfg, "{");
	change_fails("POST", "/v1/reload", NULL, 400, "JSON syntax error");
	all_status(ports[0], "/app/name", 200, 3);
	IT_ASSERT(it_poll_exit(p) == IT_TIMEOUT, "the process exited");
}
END_TEST

static Suite *admin_endpoints_suite(void)
{
	Suite *s = suite_create("admin_endpoints");
	TCase *tc = it_tcase("endpoints");

	tcase_add_loop_test(tc, endpoints, 0, 2);
	tcase_add_loop_test(tc, delete_name_with_nul, 0, 2);
	tcase_add_loop_test(tc, single_process, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

IT_SUITE(admin_endpoints_suite);
