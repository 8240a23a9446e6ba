/* SPDX-License-Identifier: MIT */
/* test_admin_hardening.c - issue #19: admin bodies held to the loader's rules, key guessing locked out, the key at rest.  Client: curl. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/module.h"
#include "admin_fixture.h"

/*
 * A config: one listener, the admin API on aport with `admin_extra`, an
 * upstream "be" where the proxy is built, and `extra`.
 */
static void write_config(const char *path, const char *backend, int port, int aport,
			 const char *admin_extra, const char *extra)
{
	it_write_filef(path,
		"{\"server\": {\"listeners\": [{\"address\": \"127.0.0.1\", \"port\": %d}],\n"
		"  \"workers\": 2, \"io_backend\": \"%s\"},\n"
		" \"timeouts\": {\"drain_ms\": 1000},\n"
		" \"admin\": {\"enabled\": true, \"port\": %d%s}%s%s}\n",
		port, backend, aport, admin_extra,
		/* the key tests run without the proxy too, where upstreams are refused */
		sw_module_find("proxy") ? ",\n \"upstreams\": [{\"name\": \"be\", \"servers\": "
		"[{\"address\": \"127.0.0.1\", \"port\": 9}]}]" : "", extra ? extra : "");
}

/*
 * One curl request to the admin API with `key` (NULL: none); the body
 * from the file body_file (NULL: none).  Returns the status; the answer's
 * body is left in <tmpdir>/answer.
 */
static const char *source_addr = "127.0.0.1";   /* curl --interface */

static int curl_admin(const char *method, const char *path, const char *key, const char *body_file)
{
	char answer[IT_PATH_MAX], hdr[128] = "", data[IT_PATH_MAX + 16] = "", *out;
	int st, code;

	it_path(answer, "answer");
	if (key)
		snprintf(hdr, sizeof(hdr), "-H 'X-API-Key: %s'", key);
	if (body_file)
		snprintf(data, sizeof(data), "--data-binary @%s", body_file);
	out = it_run(&st, "curl -sS --interface %s -o %s -w '%%{http_code}' -X %s %s %s "
		     "'http://127.0.0.1:%d%s'", source_addr, answer, method, hdr, data, admin_port,
		     path);
	IT_ASSERT(st == 0, "curl %s %s failed: %s", method, path, out);
	code = atoi(out);
	free(out);
	return code;
}

/* The last answer, malloc'ed. */
static char *answer(void)
{
	char path[IT_PATH_MAX];

	it_path(path, "answer");
	return it_read_file(path);
}

/* Whether the last answer is JSON to Python's json module (strict UTF-8, one value). */
static bool answer_is_strict_json(void)
{
	char path[IT_PATH_MAX], *out;
	int st;

	it_path(path, "answer");
	out = it_run(&st, "python3 -c 'import json, sys; "
		     "json.loads(sys.stdin.buffer.read().decode(\"utf-8\"))' < %s 2>&1", path);
	free(out);
	return st == 0;
}

/* Writes len bytes to <tmpdir>/body; returns its path in out. */
static void body_file(char out[IT_PATH_MAX], const char *bytes, size_t len)
{
	FILE *f;

	it_path(out, "body");
	f = fopen(out, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(bytes, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

/* POSTs bytes to /v1/routes; returns the status. */
static int post_route(const char *bytes, size_t len)
{
	char file[IT_PATH_MAX];

	body_file(file, bytes, len);
	return curl_admin("POST", "/v1/routes", KEY, file);
}

static void assert_refused(int st, const char *what, const char *needle)
{
	char *a = answer();

	IT_ASSERT(st == 400, "%s: %d, want 400: %s", what, st, a);
	IT_ASSERT(strstr(a, needle), "%s: the error does not say \"%s\": %s", what, needle, a);
	IT_ASSERT(answer_is_strict_json(), "%s: the answer is not strict JSON: %s", what, a);
	free(a);
}

/* GET /v1/routes answers 200 with strict JSON. */
static void assert_routes_strict(const char *after)
{
	int st = curl_admin("GET", "/v1/routes", KEY, NULL);
	char *a = answer();

	IT_ASSERT(st == 200 && answer_is_strict_json(), "GET /v1/routes after %s: %d, not strict "
		  "JSON: %s", after, st, a);
	free(a);
}

/* ---- item 4: admin bodies follow the loader's rules ---- */

START_TEST(admin_body_rules)
{
	static const char bad_utf8[] = "{\"path_prefix\": \"/\xff\xfe/\", \"upstream\": \"be\"}";
	static const char trailing[] = "{\"path_prefix\": \"/t/\", \"upstream\": \"be\"} xyz";
	static const char with_nul[] = "{\"path_prefix\": \"/n/\", \"upstream\": \"be\"}\0 xyz";
	const char *backend = it_backend(_i);
	char cfg[IT_PATH_MAX], *big, url[1024];
	size_t n;
	int ports[2], st;

	if (!backend || !adm_have_proxy())
		return;
	it_free_ports(ports, 2);
	it_path(cfg, "swerver.json");
	write_config(cfg, backend, ports[0], ports[1], ", \"api_key\": \"" KEY "\"", NULL);
	adm_start_env(cfg, ports[0], ports[1], NULL);

	assert_refused(post_route(bad_utf8, sizeof(bad_utf8) - 1), "a prefix that is not UTF-8",
		       "utf-8");
	assert_routes_strict("a prefix that is not UTF-8");
	assert_refused(post_route(trailing, sizeof(trailing) - 1), "data after the object",
		       "after the top-level value");
	assert_refused(post_route(with_nul, sizeof(with_nul) - 1), "a NUL after the object", "NUL");

	/* A prefix over 256 bytes is refused; one of 256 (two-byte characters) can be deleted. */
	big = malloc(100 * 1024 + 64);
	n = (size_t)sprintf(big, "{\"path_prefix\": \"/");
	memset(big + n, 'a', 100 * 1024);
	n += 100 * 1024;
	n += (size_t)sprintf(big + n, "\", \"upstream\": \"be\"}");
	assert_refused(post_route(big, n), "a 100 KB prefix", "path_prefix: must be at most 256 bytes");
	n = (size_t)sprintf(big, "{\"path_prefix\": \"/");
	for (int i = 0; i < 127; i++)
		n += (size_t)sprintf(big + n, "\xc3\xa9");   /* é */
	n += (size_t)sprintf(big + n, "b\", \"upstream\": \"be\"}");
	st = post_route(big, n);
	IT_ASSERT(st == 200, "a 256-byte prefix: %d, want 200", st);
	n = (size_t)sprintf(url, "/v1/routes/%%2F");
	for (int i = 0; i < 127; i++)
		n += (size_t)sprintf(url + n, "%%C3%%A9");
	sprintf(url + n, "b");
	st = curl_admin("DELETE", url, KEY, NULL);
	IT_ASSERT(st == 200, "DELETE of the 256-byte prefix (%zu-byte URL): %d, want 200",
		  strlen(url), st);
	free(big);

	/* A name that is not UTF-8 is refused, in an answer that stays JSON. */
	assert_refused(curl_admin("DELETE", "/v1/routes/%2F%FF%FE", KEY, NULL),
		       "DELETE of a name that is not UTF-8", "UTF-8");
	assert_routes_strict("every refusal");
}
END_TEST

/*
 * Text the daemon cuts to fit its shared memory (an upstream's name in its
 * health slot, the last change's outcome) may end inside a character:
 * GET /v1/status stays strict JSON.
 */
START_TEST(admin_status_strict_json)
{
	const char *backend = it_backend(_i);
	char cfg[IT_PATH_MAX], name[64], extra[512], url[1024];
	size_t n;
	int ports[2], st;

	if (!backend || !adm_have_proxy())
		return;
	it_free_ports(ports, 2);
	it_path(cfg, "swerver.json");
	memset(name, 'u', 46);
	strcpy(name + 46, "\xc3\xa9");      /* é across byte 47, where the slot's copy ends */
	snprintf(extra, sizeof(extra), ", \"upstreams\": [{\"name\": \"%s\", \"servers\": "
		 "[{\"address\": \"127.0.0.1\", \"port\": 9}]}], \"routes\": [{\"path_prefix\": "
		 "\"/u/\", \"upstream\": \"%s\"}]", name, name);
	/* write_config's own upstreams come first; these replace them. */
	it_write_filef(cfg,
		"{\"server\": {\"listeners\": [{\"address\": \"127.0.0.1\", \"port\": %d}],\n"
		"  \"workers\": 2, \"io_backend\": \"%s\"},\n"
		" \"admin\": {\"enabled\": true, \"port\": %d, \"api_key\": \"" KEY "\"}%s}\n",
		ports[0], backend, ports[1], extra);
	adm_start_env(cfg, ports[0], ports[1], NULL);
	st = curl_admin("GET", "/v1/status", KEY, NULL);
	IT_ASSERT(st == 200 && answer_is_strict_json(), "GET /v1/status with a 48-byte upstream "
		  "name: %d, not strict JSON", st);

	/* A refused change whose message the outcome's 160 bytes cut inside an é. */
	n = (size_t)sprintf(url, "/v1/routes/%%2Fx");
	for (int i = 0; i < 100; i++)
		n += (size_t)sprintf(url + n, "%%C3%%A9");
	st = curl_admin("DELETE", url, KEY, NULL);
	IT_ASSERT(st == 404 && answer_is_strict_json(), "DELETE of no route: %d", st);
	st = curl_admin("GET", "/v1/status", KEY, NULL);
	IT_ASSERT(st == 200 && answer_is_strict_json(), "GET /v1/status after a long refusal: %d, "
		  "not strict JSON", st);
}
END_TEST

/* The loader refuses the same text in the file, naming line and column. */
START_TEST(config_file_utf8)
{
	const char *args[4] = { "-t", "-c", NULL, NULL };
	char cfg[IT_PATH_MAX];
	struct it_proc *p;
	int code;

	it_path(cfg, "swerver.json");
	it_write_file(cfg, "{\"server\": {\"static_root\": \"/srv/\xff\"}}\n");
	args[2] = cfg;
	p = it_spawn(args, NULL);
	code = it_wait_exit(p, IT_WAIT_MS);
	IT_ASSERT(code == 78, "-t on a file that is not UTF-8: %s, want exit 78", it_code_str(code));
	IT_ASSERT(it_log_has(p, ":1:") && it_log_has(p, "utf-8"), "-t does not name the place of "
		  "the bad byte");
}
END_TEST

/* ---- item 5: key guessing is locked out ---- */

#define WRONG "it-wrong-key-0123456789"

static int count_in_log(struct it_proc *p, const char *needle)
{
	char *log = it_log(p);
	int n = 0;

	for (const char *at = log; (at = strstr(at, needle)); at++)
		n++;
	free(log);
	return n;
}

/*
 * After auth_failures wrong keys from one address, that address gets 429
 * (with Retry-After) even with the right key, which is not looked at;
 * another address is still served.  Logged once, counted in /metrics.
 */
START_TEST(admin_key_lockout)
{
	const char *backend = it_backend(_i);
	char cfg[IT_PATH_MAX], *a;
	int ports[2], st;
	struct it_proc *p;

	if (!backend)
		return;
	it_free_ports(ports, 2);
	it_path(cfg, "swerver.json");
	write_config(cfg, backend, ports[0], ports[1], ", \"api_key\": \"" KEY "\", "
		     "\"auth_failures\": 3, \"lockout_ms\": 600000", NULL);
	p = adm_start_env(cfg, ports[0], ports[1], NULL);

	source_addr = "127.0.0.1";
	for (int i = 0; i < 3; i++) {
		st = curl_admin("GET", "/v1/status", WRONG, NULL);
		IT_ASSERT(st == 401, "wrong key %d: %d, want 401", i + 1, st);
	}
	for (int i = 0; i < 3; i++) {
		st = curl_admin("GET", "/v1/status", KEY, NULL);
		a = answer();
		IT_ASSERT(st == 429, "the right key after 3 wrong ones: %d, want 429: %s", st, a);
		IT_ASSERT(answer_is_strict_json() && strstr(a, "locked out"), "429 body: %s", a);
		free(a);
	}
	a = it_run(NULL, "curl -sS -D - -o /dev/null -H 'X-API-Key: %s' "
		   "'http://127.0.0.1:%d/v1/status'", KEY, ports[1]);
	IT_ASSERT(strcasestr(a, "\nRetry-After: "), "429 without Retry-After:\n%s", a);
	free(a);
	st = curl_admin("GET", "/v1/status", WRONG, NULL);
	IT_ASSERT(st == 429, "a wrong key while locked out: %d, want 429", st);

	source_addr = "127.0.0.2";
	st = curl_admin("GET", "/v1/status", KEY, NULL);
	IT_ASSERT(st == 200, "another address with the right key: %d, want 200", st);
	source_addr = "127.0.0.1";

	IT_ASSERT(count_in_log(p, "wrong keys from 127.0.0.1") == 1, "the lockout is not logged "
		  "exactly once");
	IT_ASSERT((long long)it_metric(ports[0], "swerver_admin_auth_failures_total") == 3,
		  "swerver_admin_auth_failures_total is not 3: keys were checked during the lockout");
	IT_ASSERT((long long)it_metric(ports[0], "swerver_admin_auth_lockouts_total") == 1,
		  "swerver_admin_auth_lockouts_total is not 1");
	IT_ASSERT((long long)it_metric(ports[0], "swerver_admin_auth_locked_total") == 5,
		  "swerver_admin_auth_locked_total is %lld, want 5",
		  (long long)it_metric(ports[0], "swerver_admin_auth_locked_total"));
}
END_TEST

/* auth_failures_total wrong keys from several addresses lock every address out. */
START_TEST(admin_key_lockout_all)
{
	static const char *const addrs[] = { "127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4" };
	const char *backend = it_backend(_i);
	char cfg[IT_PATH_MAX], *out;
	int ports[2], st;
	struct it_proc *p;

	if (!backend)
		return;
	it_free_ports(ports, 2);
	it_path(cfg, "swerver.json");
	write_config(cfg, backend, ports[0], ports[1], ", \"api_key\": \"" KEY "\", "
		     "\"auth_failures\": 100, \"auth_failures_total\": 4, \"lockout_ms\": 600000",
		     NULL);
	p = adm_start_env(cfg, ports[0], ports[1], NULL);
	out = it_run(NULL, "for a in %s %s %s %s; do curl -sS --interface $a -o /dev/null "
		     "-w '%%{http_code} ' -H 'X-API-Key: " WRONG "' 'http://127.0.0.1:%d/v1/status' & "
		     "done; wait", addrs[0], addrs[1], addrs[2], addrs[3], ports[1]);
	IT_ASSERT(strcmp(out, "401 401 401 401 ") == 0, "four wrong keys from four addresses: %s, "
		  "want 401 each", out);
	free(out);
	source_addr = "127.0.0.5";
	st = curl_admin("GET", "/v1/status", KEY, NULL);
	source_addr = "127.0.0.1";
	IT_ASSERT(st == 429, "a fifth address after 4 wrong keys in all: %d, want 429", st);
	IT_ASSERT(count_in_log(p, "from all addresses") == 1, "the lockout of all is not logged once");
}
END_TEST

/* A lockout ends after lockout_ms: the right key is served again. */
START_TEST(admin_key_lockout_ends)
{
	const char *backend = it_backend(_i);
	char cfg[IT_PATH_MAX];
	int ports[2], st;
	int64_t until;

	if (!backend)
		return;
	it_free_ports(ports, 2);
	it_path(cfg, "swerver.json");
	write_config(cfg, backend, ports[0], ports[1], ", \"api_key\": \"" KEY "\", "
		     "\"auth_failures\": 1, \"lockout_ms\": 1500", NULL);
	adm_start_env(cfg, ports[0], ports[1], NULL);
	st = curl_admin("GET", "/v1/status", WRONG, NULL);
	IT_ASSERT(st == 401, "a wrong key: %d, want 401", st);
	IT_ASSERT((long long)it_metric(ports[0], "swerver_admin_auth_lockouts_total") == 1,
		  "one wrong key with auth_failures 1 began no lockout");
	until = it_now_ms() + 10000;
	do {
		st = curl_admin("GET", "/v1/status", KEY, NULL);
		if (st == 429)
			it_sleep_ms(100);
	} while (st == 429 && it_now_ms() < until);
	IT_ASSERT(st == 200, "after the lockout: %d, want 200", st);
}
END_TEST

/* ---- item 6: the key at rest ---- */

#define FILE_KEY "it-admin-key-from-a-file-42"
#define ENV_KEY "it-admin-key-from-the-env-42"

static unsigned mode_of(const char *path)
{
	struct stat st;

	ck_assert_int_eq(stat(path, &st), 0);
	return (unsigned)(st.st_mode & 07777);
}

/* A config file every user may read with api_key in it: warned at -t and start; persist makes it 0640. */
START_TEST(admin_key_readable_file)
{
	const char *backend = it_backend(_i);
	char cfg[IT_PATH_MAX], *log;
	int ports[2], code, st;
	struct it_proc *p;

	if (!backend)
		return;
	it_free_ports(ports, 2);
	it_path(cfg, "swerver.json");
	write_config(cfg, backend, ports[0], ports[1], ", \"api_key\": \"" KEY "\"", NULL);
	ck_assert_int_eq(chmod(cfg, 0644), 0);
	code = it_check_config(cfg, NULL, &log);
	IT_ASSERT(code == 0 && strstr(log, "admin.api_key") && strstr(log, "readable by every user"),
		  "-t on a 0644 file with api_key: %s, want 0 and a warning:\n%s", it_code_str(code), log);
	free(log);
	p = adm_start_env(cfg, ports[0], ports[1], NULL);
	IT_ASSERT(it_log_has(p, "readable by every user"), "no warning at start-up");
	st = curl_admin("POST", "/v1/config/persist", KEY, NULL);
	IT_ASSERT(st == 200, "persist: %d", st);
	IT_ASSERT(mode_of(cfg) == 0640, "persisted with mode %04o, want 0640", mode_of(cfg));
}
END_TEST

/* api_key_file: the key is read from it, never shown, never persisted. */
START_TEST(admin_key_from_file)
{
	const char *backend = it_backend(_i);
	char cfg[IT_PATH_MAX], keyf[IT_PATH_MAX], extra[IT_PATH_MAX + 64], *text, *log;
	int ports[2], st, code;

	if (!backend)
		return;
	it_free_ports(ports, 2);
	it_path(cfg, "swerver.json");
	it_path(keyf, "admin.key");
	it_write_file(keyf, FILE_KEY "\n");
	ck_assert_int_eq(chmod(keyf, 0600), 0);
	snprintf(extra, sizeof(extra), ", \"api_key_file\": \"%s\"", keyf);
	write_config(cfg, backend, ports[0], ports[1], extra, NULL);
	ck_assert_int_eq(chmod(cfg, 0644), 0);
	code = it_check_config(cfg, NULL, &log);
	IT_ASSERT(code == 0 && !strstr(log, "readable by every user"), "-t with api_key_file: %s\n%s",
		  it_code_str(code), log);
	free(log);
	adm_start_env(cfg, ports[0], ports[1], NULL);
	st = curl_admin("GET", "/v1/status", FILE_KEY, NULL);
	IT_ASSERT(st == 200, "the key from the file: %d, want 200", st);
	st = curl_admin("GET", "/v1/config", FILE_KEY, NULL);
	text = answer();
	IT_ASSERT(st == 200 && strstr(text, "\"api_key_file\"") && !strstr(text, "\"api_key\"") &&
		  !strstr(text, FILE_KEY), "GET /v1/config: %d %s", st, text);
	free(text);
	st = curl_admin("POST", "/v1/config/persist", FILE_KEY, NULL);
	IT_ASSERT(st == 200, "persist: %d", st);
	text = it_read_file(cfg);
	IT_ASSERT(strstr(text, "\"api_key_file\"") && !strstr(text, FILE_KEY),
		  "the persisted file holds the key or lost api_key_file:\n%s", text);
	free(text);
	IT_ASSERT(mode_of(cfg) == 0640, "persisted with mode %04o, want 0640", mode_of(cfg));

	/* With api_key as well: refused. */
	snprintf(extra, sizeof(extra), ", \"api_key_file\": \"%s\", \"api_key\": \"" KEY "\"", keyf);
	write_config(cfg, backend, ports[0], ports[1], extra, NULL);
	code = it_check_config(cfg, NULL, &log);
	IT_ASSERT(code == 78 && strstr(log, "only one of"), "api_key and api_key_file: %s\n%s",
		  it_code_str(code), log);
	free(log);
}
END_TEST

/* api_key_env: the key from the environment; unset, -t names it. */
START_TEST(admin_key_from_env)
{
	static const char *const env[] = { "SWERVER_IT_ADMIN_KEY=" ENV_KEY, NULL };
	const char *backend = it_backend(_i);
	char cfg[IT_PATH_MAX], *log;
	int ports[2], st, code;

	if (!backend)
		return;
	it_free_ports(ports, 2);
	it_path(cfg, "swerver.json");
	write_config(cfg, backend, ports[0], ports[1], ", \"api_key_env\": \"SWERVER_IT_ADMIN_KEY\"",
		     NULL);
	code = it_check_config(cfg, NULL, &log);
	IT_ASSERT(code == 78 && strstr(log, "admin.api_key_env") && strstr(log, "not set"),
		  "-t with api_key_env unset: %s\n%s", it_code_str(code), log);
	free(log);
	adm_start_env(cfg, ports[0], ports[1], env);
	st = curl_admin("GET", "/v1/status", ENV_KEY, NULL);
	IT_ASSERT(st == 200, "the key from the environment: %d, want 200", st);
	st = curl_admin("GET", "/v1/status", KEY, NULL);
	IT_ASSERT(st == 401, "another key: %d, want 401", st);
}
END_TEST

static Suite *admin_hardening_suite(void)
{
	Suite *s = suite_create("admin_hardening");
	TCase *tc = it_tcase("core");

	tcase_add_loop_test(tc, admin_body_rules, 0, 2);
	tcase_add_test(tc, config_file_utf8);
	tcase_add_loop_test(tc, admin_status_strict_json, 0, 2);
	tcase_add_loop_test(tc, admin_key_lockout, 0, 2);
	tcase_add_loop_test(tc, admin_key_lockout_all, 0, 2);
	tcase_add_loop_test(tc, admin_key_lockout_ends, 0, 2);
	tcase_add_loop_test(tc, admin_key_readable_file, 0, 2);
	tcase_add_loop_test(tc, admin_key_from_file, 0, 2);
	tcase_add_loop_test(tc, admin_key_from_env, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

IT_SUITE(admin_hardening_suite);
