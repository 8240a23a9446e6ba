/* SPDX-License-Identifier: MIT */
/* test_cli.c - the binary's command line: exit codes, -t (every error in one run, FIFOs refused), -V, --run-for-ms, bind failure. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/module.h"
#include "harness.h"

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* Runs swerver with args and returns its exit code (5 s cap). */
static struct it_proc *run(const char *const *args, int *code)
{
	struct it_proc *p = it_spawn(args, NULL);

	*code = it_wait_exit(p, 5000);
	return p;
}

static void assert_code(int code, int want, const char *what)
{
	IT_ASSERT(code == want, "%s: want exit %d, got %s", what, want, it_code_str(code));
}

static void assert_err_has(struct it_proc *p, const char *needle, const char *what)
{
	IT_ASSERT(it_log_has(p, needle), "%s: stderr lacks \"%s\"", what, needle);
}

static void assert_usage_on_stderr(struct it_proc *p, const char *what)
{
	char *err = it_log(p);
	bool ok = strcasestr(err, "usage") != NULL;

	free(err);
	IT_ASSERT(ok, "%s: no usage text on stderr", what);
}

static void good_config(char out[IT_PATH_MAX])
{
	it_config_simple(out, "good.json", "127.0.0.1", 0, 2, "epoll");
}

/* ---- --run-for-ms ------------------------------------------------------------- */

START_TEST(run_for_ms)
{
	const char *backend = it_backend(_i);
	char cfg[IT_PATH_MAX];
	pid_t kids[8];
	int64_t t0 = it_now_ms(), took;
	int code, n;
	struct it_proc *p;

	if (!backend)
		return;
	it_config_simple(cfg, "swerver.json", "127.0.0.1", 0, 2, backend);
	p = it_spawn(ARGS("-c", cfg, "--run-for-ms", "500"), NULL);
	IT_ASSERT(it_wait_port(p, "127.0.0.1", 5000) > 0, "never listened");
	n = it_children(p->pid, kids, 8);
	code = it_wait_exit(p, 10000);
	took = it_now_ms() - t0;
	assert_code(code, 0, "--run-for-ms 500");
	IT_ASSERT(took >= 400 && took <= 5000, "--run-for-ms 500 exited after %lld ms",
		  (long long)took);
	IT_ASSERT(it_wait_gone(kids, n, 1000), "workers outlived the master");
}
END_TEST

/* ---- -t ---------------------------------------------------------------------- */

START_TEST(test_config_good)
{
	char cfg[IT_PATH_MAX];
	int code;
	struct it_proc *p;

	good_config(cfg);
	p = run(ARGS("-t", "-c", cfg), &code);
	assert_code(code, 0, "-t on a good file");
	IT_ASSERT(!it_log_has(p, "listening on"), "-t started listening");
}
END_TEST

START_TEST(test_config_long_forms)
{
	char cfg[IT_PATH_MAX], opt[IT_PATH_MAX + 16];
	int code;

	good_config(cfg);
	snprintf(opt, sizeof(opt), "--config=%s", cfg);
	run(ARGS(opt, "--test-config", "--workers=3"), &code);
	assert_code(code, 0, "--config=PATH --test-config --workers=3");
	run(ARGS("--config", cfg, "--workers", "3", "--test-config"), &code);
	assert_code(code, 0, "--config PATH --workers 3 --test-config");
}
END_TEST

START_TEST(test_config_unknown_key_warns)
{
	char cfg[IT_PATH_MAX];
	int code;
	struct it_proc *p;

	it_path(cfg, "warn.json");
	it_write_file(cfg, "{\"server\": {\"listeners\": [{\"address\": \"127.0.0.1\", \"port\": 0}]},\n"
			   " \"bogus_key\": 1}\n");
	p = run(ARGS("-t", "-c", cfg), &code);
	assert_code(code, 0, "-t with an unknown key");
	assert_err_has(p, "bogus_key", "-t with an unknown key");
}
END_TEST

START_TEST(test_config_syntax_error)
{
	char cfg[IT_PATH_MAX], want[IT_PATH_MAX + 8];
	int code;
	struct it_proc *p;

	it_path(cfg, "bad.json");
	it_write_file(cfg, "{\n  \"server\": {\n    \"workers\": 2,,\n  }\n}\n");
	p = run(ARGS("-t", "-c", cfg), &code);
	assert_code(code, 78, "-t on invalid JSON");
	assert_err_has(p, cfg, "-t on invalid JSON");
	snprintf(want, sizeof(want), "%s:3:", cfg);
	IT_ASSERT(it_log_has(p, want) || it_log_has(p, "line 3"),
		  "-t on invalid JSON: no line 3 (\"%s\" or \"line 3\") in the message", want);
}
END_TEST

START_TEST(test_config_bad_value)
{
	char cfg[IT_PATH_MAX];
	int code;
	struct it_proc *p;

	it_path(cfg, "range.json");
	it_write_file(cfg, "{\"server\": {\"port\": 70000}}\n");
	p = run(ARGS("-t", "-c", cfg), &code);
	assert_code(code, 78, "-t with server.port 70000");
	assert_err_has(p, "server.port", "-t with server.port 70000");
}
END_TEST

START_TEST(test_config_missing_file)
{
	char cfg[IT_PATH_MAX];
	int code;
	struct it_proc *p;

	it_path(cfg, "does-not-exist.json");
	p = run(ARGS("-t", "-c", cfg), &code);
	assert_code(code, 78, "-t on a missing file");
	assert_err_has(p, cfg, "-t on a missing file");
}
END_TEST

/*
 * Issue #19 item 12: one run reports a bad value, a certificate that does
 * not load and a missing static root together (it stopped at the first).
 */
START_TEST(test_config_reports_every_error)
{
	char cfg[IT_PATH_MAX], dir[IT_PATH_MAX];
	int code;
	struct it_proc *p;

	it_path(cfg, "many.json");
	it_path(dir, "no-such-root");
	it_write_filef(cfg, "{\"server\": {\"static_root\": \"%s\"},\n"
		       " \"tls\": {\"cert_path\": \"%s/cert.pem\", \"key_path\": \"%s/key.pem\"}}\n",
		       dir, dir, dir);
	p = run(ARGS("-t", "-c", cfg), &code);
	assert_code(code, 78, "-t with a bad certificate and static root");
	assert_err_has(p, "tls.cert_path", "-t with a bad certificate and static root");
	assert_err_has(p, "server.static_root", "-t with a bad certificate and static root");

	/* A value of the wrong type does not hide the files either. */
	it_write_filef(cfg, "{\"server\": {\"static_root\": \"%s\"},\n"
		       " \"timeouts\": {\"idle_ms\": \"soon\"},\n"
		       " \"tls\": {\"cert_path\": \"%s/cert.pem\", \"key_path\": \"%s/key.pem\"}}\n",
		       dir, dir, dir);
	p = run(ARGS("-t", "-c", cfg), &code);
	assert_code(code, 78, "-t with a bad value, certificate and static root");
	assert_err_has(p, "timeouts.idle_ms", "-t with a bad value, certificate and static root");
	/*
	 * Without the TLS unit there is no certificate to load: the section is
	 * refused by the validation a type error skips (defaults would mislead).
	 */
	if (sw_module_find("tls"))
		assert_err_has(p, "tls.cert_path", "-t with a bad value, certificate and static root");
	assert_err_has(p, "server.static_root", "-t with a bad value, certificate and static root");
}
END_TEST

/*
 * Issue #12: policy keys (routes[].rate_limit, ...) are checked by their
 * policy with the key's path; one of routes[] given at the top level is an
 * error, not an unknown key that would silently protect nothing.
 */
START_TEST(test_config_policy_errors)
{
	char cfg[IT_PATH_MAX];
	int code;
	struct it_proc *p;

	if (!sw_module_find("proxy"))
		return;
	it_path(cfg, "policy.json");
	it_write_file(cfg, "{\"server\": {\"listeners\": [{\"address\": \"127.0.0.1\", \"port\": 0}]},\n"
			   " \"upstreams\": [{\"name\": \"u\", \"servers\": [{\"address\": \"127.0.0.1\", \"port\": 9}]}],\n"
			   " \"routes\": [{\"path_prefix\": \"/\", \"upstream\": \"u\",\n"
			   "   \"rate_limit\": {\"requests_per_second\": 5, \"key\": \"consumer\", \"consumer_header\": \"X Key\"}}],\n"
			   " \"rate_limit\": {\"requests_per_second\": 5}}\n");
	p = run(ARGS("-t", "-c", cfg), &code);
	assert_code(code, 78, "-t with bad policy values");
	assert_err_has(p, "routes[0].rate_limit.consumer_header: must be a valid header name",
		       "-t with bad policy values");
	assert_err_has(p, "rate_limit: allowed only in routes[], not at the top level",
		       "-t with bad policy values");
}
END_TEST

/* Issue #19 item 9: a FIFO is refused at once, not waited on for a writer. */
START_TEST(test_config_fifo_refused)
{
	char cfg[IT_PATH_MAX];
	int code;
	struct it_proc *p;

	it_path(cfg, "fifo.json");
	ck_assert_int_eq(mkfifo(cfg, 0600), 0);
	p = run(ARGS("-t", "-c", cfg), &code);
	assert_code(code, 78, "-t on a FIFO");
	assert_err_has(p, "not a regular file", "-t on a FIFO");
	assert_err_has(p, cfg, "-t on a FIFO");
}
END_TEST

/*
 * -t under systemd (ExecReload=): stderr is the journal's stream, so every
 * line carries its level ("<3>" error, "<4>" warning) and
 * `journalctl -p warning` shows why a reload failed.  JOURNAL_STREAM names
 * stderr's device and inode, as systemd sets it; a plain stderr gets none.
 */
START_TEST(test_config_journal_levels)
{
	char cfg[IT_PATH_MAX], err[IT_PATH_MAX], *o, *text;
	int code;

	o = it_run(&code, "'%s' -V", getenv("SWERVER_BIN"));
	if (!strstr(o, "features:") || !strstr(strstr(o, "features:"), " systemd")) {
		free(o);
		return;   /* built without libsystemd: no journal to speak to */
	}
	free(o);
	it_path(cfg, "levels.json");
	it_path(err, "levels.err");
	it_write_file(cfg, "{\"server\": {\"port\": 70000}, \"bogus_key\": 1}\n");
	o = it_run(&code, "exec 2>'%s'; JOURNAL_STREAM=$(stat -c %%d:%%i '%s') '%s' -t -c '%s'",
		   err, err, getenv("SWERVER_BIN"), cfg);
	free(o);
	assert_code(code, 78, "-t with server.port 70000 under the journal");
	text = it_read_file(err);
	IT_ASSERT(strstr(text, "<3>swerver: ") && strstr(strstr(text, "<3>swerver: "), "server.port"),
		  "no \"<3>\" error line naming server.port: %s", text);
	IT_ASSERT(strstr(text, "<4>swerver: ") && strstr(strstr(text, "<4>swerver: "), "bogus_key"),
		  "no \"<4>\" warning line naming bogus_key: %s", text);
	IT_ASSERT(strstr(text, "<3>swerver: configuration ") != NULL, "verdict not at error level: %s",
		  text);
	free(text);

	/* Another stream than the one JOURNAL_STREAM names: plain lines. */
	o = it_run(&code, "JOURNAL_STREAM=1:1 '%s' -t -c '%s' 2>&1", getenv("SWERVER_BIN"), cfg);
	assert_code(code, 78, "-t with a stale JOURNAL_STREAM");
	IT_ASSERT(strncmp(o, "swerver: ", 9) == 0 && !strstr(o, "<3>"), "prefix on a plain stderr: %s", o);
	free(o);
}
END_TEST

/* A bad file without -t: nothing starts, exit 78. */
START_TEST(start_with_bad_config)
{
	char cfg[IT_PATH_MAX];
	int code;
	struct it_proc *p;

	it_path(cfg, "range.json");
	it_write_file(cfg, "{\"server\": {\"listeners\": [{\"address\": \"127.0.0.1\", \"port\": 70000}]}}\n");
	p = run(ARGS("-c", cfg), &code);
	assert_code(code, 78, "start with listeners[0].port 70000");
	assert_err_has(p, "server.listeners[0].port", "start with a bad port");
	IT_ASSERT(!it_log_has(p, "listening on"), "started listening on an invalid config");
}
END_TEST

/* ---- usage errors ---------------------------------------------------------------- */

START_TEST(unknown_flag)
{
	int code;
	struct it_proc *p = run(ARGS("--bogus-flag"), &code);

	assert_code(code, 64, "--bogus-flag");
	assert_usage_on_stderr(p, "--bogus-flag");
}
END_TEST

START_TEST(workers_not_a_number)
{
	char cfg[IT_PATH_MAX];
	int code;
	struct it_proc *p;

	good_config(cfg);
	p = run(ARGS("-c", cfg, "--workers=abc"), &code);
	assert_code(code, 64, "--workers=abc");
	assert_usage_on_stderr(p, "--workers=abc");
	IT_ASSERT(!it_log_has(p, "listening on"), "--workers=abc started listening");
	p = run(ARGS("-c", cfg, "-w", "abc"), &code);
	assert_code(code, 64, "-w abc");
}
END_TEST

START_TEST(version)
{
	char switches[] = SW_CONFIGURE_SWITCHES, *save = NULL;
	int code;
	struct it_proc *p = run(ARGS("-V"), &code);

	assert_code(code, 0, "-V");
	IT_ASSERT(it_out_has(p, "swerver"), "-V: stdout lacks \"swerver\"");
	for (char *s = strtok_r(switches, " ", &save); s; s = strtok_r(NULL, " ", &save))
		IT_ASSERT(it_out_has(p, s), "-V: stdout lacks the configure switch \"%s\"", s);
}
END_TEST

START_TEST(help)
{
	int code;
	struct it_proc *p = run(ARGS("--help"), &code);

	assert_code(code, 0, "--help");
	IT_ASSERT(it_out_has(p, "--run-for-ms") && it_out_has(p, "--config"),
		  "--help: stdout does not list the options");
}
END_TEST

/* ---- bind failure -------------------------------------------------------------- */

START_TEST(bind_failure)
{
	const char *backend = it_backend(_i);
	char cfg[IT_PATH_MAX], addr[64];
	int port, held, code;
	struct it_proc *p;

	if (!backend)
		return;
	held = it_hold_port(&port);
	it_config_simple(cfg, "swerver.json", "127.0.0.1", port, 2, backend);
	p = run(ARGS("-c", cfg), &code);
	close(held);
	assert_code(code, 1, "port already bound");
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	assert_err_has(p, addr, "bind failure");
	assert_err_has(p, "Address already in use", "bind failure");
}
END_TEST

static Suite *cli_suite(void)
{
	Suite *s = suite_create("cli");
	TCase *tc = it_tcase("cli");

	tcase_add_loop_test(tc, run_for_ms, 0, 2);
	tcase_add_test(tc, test_config_good);
	tcase_add_test(tc, test_config_long_forms);
	tcase_add_test(tc, test_config_unknown_key_warns);
	tcase_add_test(tc, test_config_syntax_error);
	tcase_add_test(tc, test_config_bad_value);
	tcase_add_test(tc, test_config_missing_file);
	tcase_add_test(tc, test_config_reports_every_error);
	tcase_add_test(tc, test_config_fifo_refused);
	tcase_add_test(tc, test_config_policy_errors);
	tcase_add_test(tc, test_config_journal_levels);
	tcase_add_test(tc, start_with_bad_config);
	tcase_add_test(tc, unknown_flag);
	tcase_add_test(tc, workers_not_a_number);
	tcase_add_test(tc, version);
	tcase_add_test(tc, help);
	tcase_add_loop_test(tc, bind_failure, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

IT_SUITE(cli_suite);
