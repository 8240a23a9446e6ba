/* SPDX-License-Identifier: MIT */
/* test_admin_persist.c - the admin API end to end: persist, and a restart from the persisted file. */
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

/* ---- persist, and a restart from the persisted file ---- */

START_TEST(persist_round_trip)
{
	const char *backend = it_backend(_i);
	char cfg[IT_PATH_MAX], extra[256], result[512], *before, *after, *text, *log;
	int ports[2], o1, code;
	struct it_proc *p;
	struct stat st;
	struct resp r;

	if (!backend || !adm_have_proxy())
		return;
	it_free_ports(ports, 2);
	o1 = it_origin_start("o1")->port;
	it_path(cfg, "swerver.json");
	snprintf(extra, sizeof(extra), ",\n \"upstreams\": [" UPSTREAM_FMT "]", "o1", o1);
	adm_write_config(cfg, backend, ports[0], ports[1], 2, extra);
	ck_assert_int_eq(chmod(cfg, 0640), 0);
	p = adm_start(cfg, ports[0], ports[1]);

	change_ok("POST", "/v1/routes", ROUTE("/app", "o1"), NULL, 0);
	change_ok("POST", "/v1/config/persist", NULL, result, sizeof(result));
	IT_ASSERT(strstr(result, cfg), "persist result \"%s\" does not name %s", result, cfg);
	text = it_read_file(cfg);
	IT_ASSERT(strstr(text, "\"/app\""), "the persisted file has no /app route:\n%s", text);
	IT_ASSERT(strstr(text, KEY), "the persisted file lost the api_key:\n%s", text);
	free(text);
	ck_assert_int_eq(stat(cfg, &st), 0);
	IT_ASSERT((st.st_mode & 07777) == 0640, "mode %04o after persist, want 0640",
		  (unsigned)(st.st_mode & 07777));
	/* No temporary file left beside it. */
	text = it_run(NULL, "ls -a '%s'", it_tmpdir());
	IT_ASSERT(!strstr(text, "swerver.json."), "left beside the config: %s", text);
	free(text);
	code = it_check_config(cfg, NULL, &log);
	IT_ASSERT(code == 0, "-t on the persisted file: %s\n%s", it_code_str(code), log);
	free(log);

	adm("GET", "/v1/config", NULL, &r);
	IT_ASSERT(r.status == 200, "/v1/config: %d", r.status);
	before = r.body;

	/* Stop, start from the persisted file: the same running config. */
	ck_assert_int_eq(it_signal(p, SIGTERM), 0);
	code = it_wait_exit(p, 5000);
	IT_ASSERT(code == 0, "swerver exited with %s", it_code_str(code));
	adm_start(cfg, ports[0], ports[1]);
	adm("GET", "/v1/config", NULL, &r);
	IT_ASSERT(r.status == 200, "/v1/config after the restart: %d", r.status);
	after = r.body;
	IT_ASSERT(strcmp(before, after) == 0, "/v1/config differs after a restart from the "
		  "persisted file:\n--- before\n%s\n--- after\n%s", before, after);
	free(before);
	free(after);
	all_workers_serve(ports[0], "/app/name", "o1");
	/* A second persist of the same config keeps the mode as well. */
	change_ok("POST", "/v1/config/persist", NULL, NULL, 0);
	ck_assert_int_eq(stat(cfg, &st), 0);
	IT_ASSERT((st.st_mode & 07777) == 0640, "mode %04o after a second persist",
		  (unsigned)(st.st_mode & 07777));
}
END_TEST

/* ---- secrets in policies: hidden from the admin API, kept in the file ---- */

#define JWT_SECRET "it-hmac-secret-0123456789abcdef0123456789"
#define API_KEY "it-consumer-key-0123456789abcdef"
#define SECRET_ROUTE "{\"path_prefix\": \"/app\", \"upstream\": \"o1\", " \
	"\"rewrite_pattern\": \"/app\", \"rewrite_replacement\": \"/\", " TMO ", " \
	"\"auth\": {\"chain\": [" \
	"{\"jwt\": {\"keys\": [{\"secret\": \"" JWT_SECRET "\", \"algorithms\": [\"HS256\"]}]}}, " \
	"{\"api_key\": {\"keys\": [{\"name\": \"alice\", \"key\": \"" API_KEY "\"}]}}]}}"

/*
 * GET /v1/config and /v1/routes show an inline jwt secret and an api_key
 * key as "<redacted>"; a route read back that way and sent again is
 * refused with the secret's key path (the stored secret stays in force);
 * persist writes the real values.
 */
START_TEST(secrets_redacted)
{
	const char *backend = it_backend(_i);
	char cfg[IT_PATH_MAX], extra[256], *text;
	int ports[2], o1;
	json_object *routes;
	struct resp r;
	char hdr[128];

	if (!backend || !adm_have_proxy() || !sw_module_find("auth"))
		return;
	it_free_ports(ports, 2);
	o1 = it_origin_start("o1")->port;
	it_path(cfg, "swerver.json");
	snprintf(extra, sizeof(extra), ",\n \"upstreams\": [" UPSTREAM_FMT "]", "o1", o1);
	adm_write_config(cfg, backend, ports[0], ports[1], 1, extra);
	adm_start(cfg, ports[0], ports[1]);
	change_ok("POST", "/v1/routes", SECRET_ROUTE, NULL, 0);

	static const char *const paths[] = { "/v1/config", "/v1/routes" };
	for (size_t i = 0; i < 2; i++) {
		adm("GET", paths[i], NULL, &r);
		IT_ASSERT(r.status == 200 && !strstr(r.body, JWT_SECRET) && !strstr(r.body, API_KEY) &&
			  !strstr(r.body, KEY) && strstr(r.body, "\"secret\":\"<redacted>\"") &&
			  strstr(r.body, "\"key\":\"<redacted>\""), "GET %s: %d %s", paths[i], r.status, r.body);
		resp_free(&r);
	}

	/* the route as read, sent back: refused, naming the key */
	routes = adm_json("GET", "/v1/routes", NULL, 200);
	IT_ASSERT(json_object_array_length(routes) == 1, "routes: %s", json_object_to_json_string(routes));
	text = strdup(json_object_to_json_string(json_object_array_get_idx(routes, 0)));
	json_object_put(routes);
	change_fails("POST", "/v1/routes", text, 400, "auth.chain[0].jwt.keys[0].secret: \"<redacted>\"");
	free(text);

	/* the stored key still lets alice in */
	snprintf(hdr, sizeof(hdr), "X-API-Key: " API_KEY "\r\n");
	adm_request(ports[0], "GET", "/app/name", hdr, NULL, &r);
	IT_ASSERT(r.status == 200 && strcmp(r.body, "o1") == 0, "with the key: %d %s", r.status, r.body);
	resp_free(&r);

	change_ok("POST", "/v1/config/persist", NULL, NULL, 0);
	text = it_read_file(cfg);
	IT_ASSERT(strstr(text, JWT_SECRET) && strstr(text, API_KEY) && !strstr(text, "<redacted>"),
		  "the persisted file lost a secret:\n%s", text);
	free(text);
}
END_TEST

static Suite *admin_persist_suite(void)
{
	Suite *s = suite_create("admin_persist");
	TCase *tc = it_tcase("persist");

	tcase_add_loop_test(tc, persist_round_trip, 0, 2);
	tcase_add_loop_test(tc, secrets_redacted, 0, 1);
	suite_add_tcase(s, tc);
	return s;
}

IT_SUITE(admin_persist_suite);
