/* SPDX-License-Identifier: MIT */
/* test_admin_config.c - the admin API end to end: the admin section's config checks, and a log target that is a FIFO without a reader. */
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

/* ---- config errors ---- */

START_TEST(config_errors)
{
	const char *backend = it_backend(_i);
	char cfg[IT_PATH_MAX], line[96], *log;
	struct it_proc *p;
	int ports[2], code, count;

	if (!backend)
		return;
	it_free_ports(ports, 2);
	it_path(cfg, "swerver.json");

	/* Enabled without a key. */
	it_write_filef(cfg, "{\"server\": {\"listeners\": [{\"address\": \"127.0.0.1\", "
		       "\"port\": %d}], \"io_backend\": \"%s\"},\n \"admin\": {\"enabled\": true, "
		       "\"port\": %d}}\n", ports[0], backend, ports[1]);
	code = it_check_config(cfg, NULL, &log);
	IT_ASSERT(code == 78, "-t with admin.enabled and no api_key: %s, want exit 78\n%s",
		  it_code_str(code), log);
	IT_ASSERT(strstr(log, "admin.api_key") && strstr(log, "required"),
		  "-t does not name admin.api_key: %s", log);
	free(log);
	/* ...and refuses to start. */
	p = it_start(cfg, NULL);
	code = it_wait_exit(p, IT_WAIT_MS);
	IT_ASSERT(code == 78 && it_log_has(p, "admin.api_key"), "start without api_key: %s",
		  it_code_str(code));

	/* A key that is too short. */
	it_write_filef(cfg, "{\"server\": {\"listeners\": [{\"address\": \"127.0.0.1\", "
		       "\"port\": %d}], \"io_backend\": \"%s\"},\n \"admin\": {\"enabled\": true, "
		       "\"port\": %d, \"api_key\": \"short-key-15chr\"}}\n", ports[0], backend,
		       ports[1]);
	code = it_check_config(cfg, NULL, &log);
	IT_ASSERT(code == 78 && strstr(log, "admin.api_key") && strstr(log, "16"),
		  "-t with a 15-character key: %s\n%s", it_code_str(code), log);
	free(log);

	/* The admin port on the main listener's. */
	it_write_filef(cfg, "{\"server\": {\"listeners\": [{\"address\": \"127.0.0.1\", "
		       "\"port\": %d}], \"io_backend\": \"%s\"},\n \"admin\": {\"enabled\": true, "
		       "\"port\": %d, \"api_key\": \"" KEY "\"}}\n", ports[0], backend, ports[0]);
	code = it_check_config(cfg, NULL, &log);
	IT_ASSERT(code == 78 && strstr(log, "admin.port"), "-t with admin.port == listener port: "
		  "%s\n%s", it_code_str(code), log);
	free(log);

	/* Not on loopback: valid, with a warning, at -t and at start. */
	it_write_filef(cfg, "{\"server\": {\"listeners\": [{\"address\": \"127.0.0.1\", "
		       "\"port\": %d}], \"workers\": 2, \"io_backend\": \"%s\"},\n "
		       "\"admin\": {\"enabled\": true, \"address\": \"0.0.0.0\", \"port\": %d, "
		       "\"api_key\": \"" KEY "\"}}\n", ports[0], backend, ports[1]);
	code = it_check_config(cfg, NULL, &log);
	IT_ASSERT(code == 0, "-t with admin.address 0.0.0.0: %s, want 0\n%s", it_code_str(code), log);
	IT_ASSERT(strstr(log, "admin.address") && strstr(log, "not a loopback address"),
		  "-t gave no warning for admin.address 0.0.0.0: %s", log);
	free(log);
	p = it_start(cfg, NULL);
	snprintf(line, sizeof(line), "admin API listening on 0.0.0.0:%d", ports[1]);
	IT_ASSERT(it_wait_log(p, 0, line, IT_WAIT_MS), "no \"%s\" line", line);
	log = it_log(p);
	count = 0;
	for (const char *at = log; (at = strstr(at, "not a loopback address")); at++)
		count++;
	IT_ASSERT(count >= 1 && strstr(log, "warn"), "no warning logged for a non-loopback "
		  "admin.address:\n%s", log);
	free(log);
	admin_port = ports[1];
	{
		struct resp r;

		adm("GET", "/v1/status", NULL, &r);
		IT_ASSERT(r.status == 200, "/v1/status on 0.0.0.0: %d", r.status);
		resp_free(&r);
	}
}
END_TEST


/*
 * log.target is opened by the master and, in place, by every worker: a
 * FIFO without a reader there must not block them (it is refused).
 */
START_TEST(log_target_fifo_does_not_hang)
{
	const char *backend = it_backend(_i);
	char cfg[IT_PATH_MAX], fifo[IT_PATH_MAX], result[256], extra[IT_PATH_MAX + 64];
	int ports[2];
	struct it_proc *p;
	size_t from;

	if (!backend)
		return;
	it_free_ports(ports, 2);
	it_path(cfg, "swerver.json");
	it_path(fifo, "error.fifo");
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	adm_write_config(cfg, backend, ports[0], ports[1], 2, NULL);
	p = adm_start(cfg, ports[0], ports[1]);
	snprintf(extra, sizeof(extra), ",\n \"log\": {\"target\": \"%s\"}", fifo);
	adm_write_config(cfg, backend, ports[0], ports[1], 2, extra);
	from = it_log_size(p);
	change_ok("POST", "/v1/reload", NULL, result, sizeof(result));
	IT_ASSERT(strstr(result, "reloaded in place"), "reload result: %s", result);
	IT_ASSERT(it_wait_log_n(p, from, "cannot open log file", 3, 3000),
		  "the master and both workers should refuse %s", fifo);
	all_status(ports[0], "/.healthz", 200, SPREAD);
}
END_TEST

static Suite *admin_config_suite(void)
{
	Suite *s = suite_create("admin_config");
	TCase *tc = it_tcase("config");

	tcase_add_loop_test(tc, config_errors, 0, 2);
	tcase_add_loop_test(tc, log_target_fifo_does_not_hang, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

IT_SUITE(admin_config_suite);
