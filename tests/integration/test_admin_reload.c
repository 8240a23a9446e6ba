/* SPDX-License-Identifier: MIT */
/* test_admin_reload.c - the admin API end to end: POST /v1/reload, and reloads whose new workers never become ready or crash. */
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

/* ---- POST /v1/reload ---- */

START_TEST(reload)
{
	const char *backend = it_backend(_i);
	char cfg[IT_PATH_MAX], extra[512], result[256];
	pid_t kids[4], after[4];
	int ports[2], o1;
	struct it_proc *p;
	json_object *doc;

	if (!backend || !adm_have_proxy())
		return;
	it_free_ports(ports, 2);
	o1 = it_origin_start("o1")->port;
	it_path(cfg, "swerver.json");
	snprintf(extra, sizeof(extra), ",\n \"upstreams\": [" UPSTREAM_FMT "]", "o1", o1);
	adm_write_config(cfg, backend, ports[0], ports[1], 2, extra);
	p = adm_start(cfg, ports[0], ports[1]);
	all_status(ports[0], "/app/name", 404, 4);

	/* A route added in the file: in place, on both workers. */
	snprintf(extra, sizeof(extra), ",\n \"upstreams\": [" UPSTREAM_FMT "],\n \"routes\": ["
		 ROUTE("/app", "o1") "]", "o1", o1);
	adm_write_config(cfg, backend, ports[0], ports[1], 2, extra);
	change_ok("POST", "/v1/reload", NULL, result, sizeof(result));
	IT_ASSERT(strstr(result, "reloaded in place"), "reload result: %s", result);
	all_workers_serve(ports[0], "/app/name", "o1");

	/* A broken file: 400 with the loader's error; the running config keeps serving. */
	snprintf(extra, sizeof(extra), ",\n \"upstreams\": [" UPSTREAM_FMT "],\n \"routes\": ["
		 ROUTE("/app", "o1") ", " ROUTE("/b", "missing") "]", "o1", o1);
	adm_write_config(cfg, backend, ports[0], ports[1], 2, extra);
	change_fails("POST", "/v1/reload", NULL, 400, "routes[1].upstream: no upstream named");
	it_write_file(cfg, "{\"server\": {");
	change_fails("POST", "/v1/reload", NULL, 400, "JSON syntax error");
	all_workers_serve(ports[0], "/app/name", "o1");
	doc = adm_json("GET", "/v1/status", NULL, 200);
	IT_ASSERT(json_object_get_int(adm_get(doc, "reload_failures")) == 2, "reload_failures: %s",
		  json_object_to_json_string(doc));
	IT_ASSERT(adm_get_str(doc, "last_reload") && strstr(adm_get_str(doc, "last_reload"), "failed"),
		  "last_reload: %s", json_object_to_json_string(doc));
	json_object_put(doc);

	/* A structural change (new workers): the answer waits for them, then it is live. */
	IT_ASSERT(it_wait_children(p->pid, 2, kids, 4, 5000) == 2, "not 2 workers");
	it_write_filef(cfg,
		"{\"server\": {\"listeners\": [{\"address\": \"127.0.0.1\", \"port\": %d}],\n"
		"  \"workers\": 2, \"io_backend\": \"%s\", \"max_connections\": 1000},\n"
		" \"timeouts\": {\"drain_ms\": 1000},\n"
		" \"admin\": {\"enabled\": true, \"port\": %d, \"api_key\": \"" KEY "\"},\n"
		" \"upstreams\": [" UPSTREAM_FMT "],\n"
		" \"routes\": [" ROUTE("/app", "o1") ", " ROUTE("/new", "o1") "]}\n",
		ports[0], backend, ports[1], "o1", o1);
	change_ok("POST", "/v1/reload", NULL, result, sizeof(result));
	IT_ASSERT(strstr(result, "reloaded: generation"), "structural reload result: %s", result);
	IT_ASSERT(it_wait_gone(kids, 2, 5000), "the old workers did not exit");
	IT_ASSERT(it_wait_children(p->pid, 2, after, 4, 5000) == 2, "not 2 new workers");
	all_workers_serve(ports[0], "/new/name", "o1");
	all_workers_serve(ports[0], "/app/name", "o1");
	doc = adm_json("GET", "/v1/config", NULL, 200);
	IT_ASSERT(json_object_get_int(adm_get(adm_get(doc, "server"), "max_connections")) == 1000,
		  "max_connections not live: %s", json_object_to_json_string(adm_get(doc, "server")));
	json_object_put(doc);
}
END_TEST

/* ---- a reload whose new workers never become ready ---- */

#define RELOAD_MS 1000
#define KILL_GRACE_MS 2000   /* the master's SIGTERM-to-SIGKILL grace */

/*
 * Two workers, the admin API, timeouts.reload_ms (RELOAD_MS unless given),
 * and `access_log` (a JSON object) when not NULL.
 */
static void write_reload_config(const char *path, const char *backend, int port, int aport,
				int reload_ms, const char *access_log)
{
	it_write_filef(path,
		"{\"server\": {\"listeners\": [{\"address\": \"127.0.0.1\", \"port\": %d}],\n"
		"  \"workers\": 2, \"io_backend\": \"%s\"},\n"
		" \"timeouts\": {\"drain_ms\": 1000, \"reload_ms\": %d},\n"
		" \"admin\": {\"enabled\": true, \"port\": %d, \"api_key\": \"" KEY "\"}%s%s}\n",
		port, backend, reload_ms ? reload_ms : RELOAD_MS, aport,
		access_log ? ",\n \"access_log\": " : "", access_log ? access_log : "");
}

/* The live children of the master that are not in old[2] (at most max). */
static int new_children(pid_t master, const pid_t *old, pid_t *out, int max)
{
	pid_t all[8];
	int n = it_children(master, all, 8), k = 0;

	for (int i = 0; i < n && k < max; i++)
		if (all[i] != old[0] && all[i] != old[1])
			out[k++] = all[i];
	return k;
}

/* POST /v1/reload sent on its own connection; the answer is read later. */
static int reload_begin(struct resp *r)
{
	int fd = req_open(admin_port);

	IT_ASSERT(fd >= 0, "connect to the admin API: %s", strerror(-fd));
	ck_assert_int_eq(req_send(fd, "POST", "/v1/reload", "X-API-Key: " KEY "\r\n", NULL, r), 0);
	return fd;
}

/*
 * GET /.healthz on new connections, each of which must be 200, until fd has
 * something to read (at most timeout_ms); returns how many were made.
 */
static int serve_until_readable(int fd, int port, int timeout_ms)
{
	int64_t end = it_now_ms() + timeout_ms;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int n = 0;

	while (poll(&pfd, 1, 0) == 0 && it_now_ms() < end) {
		struct resp r;

		adm_request(port, "GET", "/.healthz", NULL, NULL, &r);
		IT_ASSERT(r.status == 200, "GET /.healthz %d during the reload: %d", n + 1, r.status);
		resp_free(&r);
		n++;
	}
	return n;
}

/* The old workers, and only they, are the master's children, in their slots. */
static void assert_old_workers(struct it_proc *p, const pid_t *old)
{
	pid_t now[8];
	int n = it_children(p->pid, now, 8);

	IT_ASSERT(n == 2 && ((now[0] == old[0] && now[1] == old[1]) ||
			     (now[0] == old[1] && now[1] == old[0])),
		  "the old workers %d and %d are not the only children (%d live)", (int)old[0],
		  (int)old[1], n);
	for (int slot = 0; slot < 2; slot++) {
		pid_t pid = slot_pid(slot);

		IT_ASSERT(pid == old[0] || pid == old[1], "/v1/status gives slot %d pid %d, not an "
			  "old worker's (%d, %d)", slot, (int)pid, (int)old[0], (int)old[1]);
	}
}

/* /v1/status after one failed reload: its reason, the count, the generation unchanged. */
static void assert_failed_status(int64_t gen, const char *needle)
{
	json_object *doc = adm_json("GET", "/v1/status", NULL, 200);
	const char *last = adm_get_str(doc, "last_reload");

	IT_ASSERT(last && strncmp(last, "failed: ", 8) == 0 && strstr(last, needle),
		  "last_reload should say \"failed: ...%s...\": %s", needle,
		  json_object_to_json_string(doc));
	IT_ASSERT(json_object_get_int(adm_get(doc, "reload_failures")) == 1 &&
		  json_object_get_int64(adm_get(doc, "generation")) == gen,
		  "want reload_failures 1 and generation %lld: %s", (long long)gen,
		  json_object_to_json_string(doc));
	json_object_put(doc);
}

/*
 * How a new generation is made to hang without a back door: its workers
 * open the access log themselves, at start-up, before they say READY, and
 * open(2) for writing of a FIFO blocks until a reader opens it, which
 * nobody does.  The access log target is structural, so the reload forks
 * new workers, and the old ones, never told anything, do not touch the
 * FIFO.  The stuck workers have SIGTERM blocked (it is read from a
 * signalfd once their loop runs), so this also covers the SIGKILL after
 * the grace.  Deterministic: no timing race decides whether they hang.
 */
START_TEST(reload_never_ready)
{
	const char *backend = it_backend(_i);
	char cfg[IT_PATH_MAX], fifo[IT_PATH_MAX], alog[IT_PATH_MAX], obj[IT_PATH_MAX + 64];
	char result[256], *text;
	pid_t old[4], stuck[4], fresh[4];
	int ports[2], fd, rc, n, served;
	int64_t gen, took;
	struct it_proc *p;
	json_object *doc;
	struct resp r;
	size_t from;

	if (!backend)
		return;
	it_free_ports(ports, 2);
	it_path(cfg, "swerver.json");
	it_path(fifo, "access.fifo");
	it_path(alog, "access.log");
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	write_reload_config(cfg, backend, ports[0], ports[1], 0, NULL);
	p = adm_start(cfg, ports[0], ports[1]);
	IT_ASSERT(it_wait_children(p->pid, 2, old, 4, 5000) == 2, "not 2 workers");
	gen = adm_generation();

	snprintf(obj, sizeof(obj), "{\"format\": \"combined\", \"target\": \"%s\"}", fifo);
	write_reload_config(cfg, backend, ports[0], ports[1], 0, obj);
	from = it_log_size(p);
	fd = reload_begin(&r);
	IT_ASSERT(it_wait_children(p->pid, 4, stuck, 4, 5000) == 4, "the new workers did not start");
	n = new_children(p->pid, old, stuck, 4);
	IT_ASSERT(n == 2, "%d new workers, want 2", n);

	/* Pending: another change is turned away; the old workers serve until the answer. */
	change_fails("POST", "/v1/reload", NULL, 503, "in progress");
	IT_ASSERT(adm_generation() == gen, "the generation went up before the new workers were ready");
	served = serve_until_readable(fd, ports[0], RELOAD_MS + KILL_GRACE_MS + 5000);
	IT_ASSERT(served > 0, "no request made while the reload was pending");

	/* 500 once the deadline passed and the stuck workers are gone. */
	rc = req_read(fd, &r, 1000);
	close(fd);
	took = r.ms;
	IT_ASSERT(rc == 0, "POST /v1/reload: no answer (%s)", strerror(-rc));
	IT_ASSERT(r.status == 500 && strstr(r.body, "\"error\"") &&
		  strstr(r.body, "new workers not ready within 1000 ms: 0 of 2 ready"),
		  "POST /v1/reload of a generation that hangs: %d %s", r.status, r.body);
	resp_free(&r);
	if (getenv("IT_VERBOSE"))
		fprintf(stderr, "%s: %d requests served during the reload, failure after %lld ms\n",
			backend, served, (long long)took);
	IT_ASSERT(took >= RELOAD_MS - 50 && took < RELOAD_MS + KILL_GRACE_MS + 4000,
		  "the failure came after %lld ms (reload_ms %d)", (long long)took, RELOAD_MS);
	for (int i = 0; i < 2; i++)
		IT_ASSERT(it_pid_gone(stuck[i]), "new worker %d outlived the failed reload",
			  (int)stuck[i]);
	assert_old_workers(p, old);
	IT_ASSERT(it_log_has(p, "reload failed (new workers not ready within 1000 ms") &&
		  it_wait_log(p, from, "did not exit; killing it", 1000),
		  "the log does not say why the reload failed and what was killed");
	assert_failed_status(gen, "new workers not ready within 1000 ms");
	all_status(ports[0], "/.healthz", 200, SPREAD);

	/*
	 * The master's own config is the old one again: persisted, it has no
	 * FIFO (workers started from it, or sent its values, would block).
	 */
	change_ok("POST", "/v1/config/persist", NULL, NULL, 0);
	text = it_read_file(cfg);
	IT_ASSERT(!strstr(text, fifo) && strstr(text, "\"reload_ms\": 1000"),
		  "the master kept the abandoned config:\n%s", text);
	free(text);
	doc = adm_json("GET", "/v1/config", NULL, 200);
	IT_ASSERT(!strstr(json_object_to_json_string(doc), "access.fifo"), "GET /v1/config: %s",
		  json_object_to_json_string(doc));
	json_object_put(doc);

	/* The next reload goes ahead, and its new workers replace the old ones. */
	snprintf(obj, sizeof(obj), "{\"format\": \"combined\", \"target\": \"%s\"}", alog);
	write_reload_config(cfg, backend, ports[0], ports[1], 0, obj);
	change_ok("POST", "/v1/reload", NULL, result, sizeof(result));
	IT_ASSERT(strstr(result, "reloaded: generation"), "the next reload: %s", result);
	IT_ASSERT(it_wait_gone(old, 2, 5000), "the old workers were not drained");
	IT_ASSERT(it_wait_children(p->pid, 2, fresh, 4, 5000) == 2, "not 2 new workers");
	all_status(ports[0], "/.healthz", 200, SPREAD);
	IT_ASSERT(adm_generation() == gen + 1, "generation %lld after one good reload from %lld",
		  (long long)adm_generation(), (long long)gen);
}
END_TEST

/*
 * New workers that exit at once (their access log's directory does not
 * exist) give the reload up at the crash-loop count, long before
 * reload_ms; the master goes on with the old config.
 */
START_TEST(reload_new_workers_crash)
{
	const char *backend = it_backend(_i);
	char cfg[IT_PATH_MAX], obj[IT_PATH_MAX + 64], result[256];
	pid_t old[4];
	int ports[2], fd, rc;
	struct it_proc *p;
	struct resp r;
	int64_t gen;

	if (!backend)
		return;
	it_free_ports(ports, 2);
	it_path(cfg, "swerver.json");
	write_reload_config(cfg, backend, ports[0], ports[1], 0, NULL);
	p = adm_start(cfg, ports[0], ports[1]);
	IT_ASSERT(it_wait_children(p->pid, 2, old, 4, 5000) == 2, "not 2 workers");
	gen = adm_generation();

	snprintf(obj, sizeof(obj), "{\"format\": \"json\", \"target\": \"%s/no/such/dir/access.log\"}",
		 it_tmpdir());
	write_reload_config(cfg, backend, ports[0], ports[1], 60000, obj);
	fd = reload_begin(&r);
	rc = req_read(fd, &r, 15000);
	close(fd);
	IT_ASSERT(rc == 0, "POST /v1/reload: no answer (%s)", strerror(-rc));
	IT_ASSERT(r.status == 500 && strstr(r.body, "failed 5 times in a row: exited with status 1"),
		  "POST /v1/reload of crashing workers: %d %s", r.status, r.body);
	IT_ASSERT(r.ms < 10000, "the crash loop was given up only after %lld ms", (long long)r.ms);
	resp_free(&r);
	assert_old_workers(p, old);
	assert_failed_status(gen, "failed 5 times in a row");
	all_status(ports[0], "/.healthz", 200, SPREAD);

	/* The running config is the old one: the file back as it was is no change. */
	write_reload_config(cfg, backend, ports[0], ports[1], 0, NULL);
	change_ok("POST", "/v1/reload", NULL, result, sizeof(result));
	IT_ASSERT(strstr(result, "unchanged"), "reload of the old file: %s", result);
	assert_old_workers(p, old);
}
END_TEST

static Suite *admin_reload_suite(void)
{
	Suite *s = suite_create("admin_reload");
	TCase *tc = it_tcase("reload");

	tcase_add_loop_test(tc, reload, 0, 2);
	tcase_add_loop_test(tc, reload_never_ready, 0, 2);
	tcase_add_loop_test(tc, reload_new_workers_crash, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

IT_SUITE(admin_reload_suite);
