/* SPDX-License-Identifier: MIT */
/* main.c - swerver's entry point: CLI, -t, -V, then hand over to the master. */
#include <config.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include "core/config.h"
#include "core/diag.h"
#include "core/log.h"
#include "core/version.h"
#include "daemon/cli.h"
#include "daemon/master.h"
#include "daemon/notify.h"

/*
 * The level prefix systemd reads at the start of a line on a stream it
 * logs ("<3>" err, "<4>" warning, "<6>" info; sd-daemon(3)), so that
 * `ExecReload=swerver -t` errors reach the journal at error priority and
 * `journalctl -p warning` shows them.  Nothing on a terminal or a pipe.
 */
static const char *journal_prefix(const char *syslog_level)
{
	static int journal = -1;

	if (journal < 0)
		journal = sw_journal_available();
	return journal ? syslog_level : "";
}

/* -t: every message on stderr, then the verdict, like nginx -t. */
static int test_config(const struct sw_cli *cli)
{
	const char *name = cli->config_path ? cli->config_path : "(built-in defaults)";
	struct sw_config cfg;
	struct sw_diag d;
	int rc;

	sw_diag_init(&d, name);
	rc = sw_cli_load_config(cli, &cfg, &d);
	for (size_t i = 0; i < d.count; i++)
		fprintf(stderr, "%sswerver: %s\n",
			journal_prefix(d.entries[i].level == SW_DIAG_ERROR ? "<3>" : "<4>"),
			d.entries[i].text);
	if (rc == SW_OK) {
		fprintf(stderr, "%sswerver: configuration %s is valid\n", journal_prefix("<6>"),
			name);
		sw_config_deinit(&cfg);
	} else {
		fprintf(stderr, "%sswerver: configuration %s is invalid\n", journal_prefix("<3>"),
			name);
	}
	sw_diag_deinit(&d);
	return rc == SW_OK ? SW_EXIT_OK : SW_EXIT_CONFIG;
}

static int start(const struct sw_cli *cli)
{
	const char *name = cli->config_path ? cli->config_path : "(built-in defaults)";
	struct sw_config cfg;
	struct sw_diag d;

	/*
	 * Until the config names a log, "auto": under systemd the journal,
	 * so that a broken config's reasons are logged at error priority
	 * (stderr lines would all be info).
	 */
	sw_log_open(&(struct sw_log_cfg){ .target = NULL, .level = SW_LOG_INFO });
	sw_diag_init(&d, name);
	if (sw_cli_load_config(cli, &cfg, &d) != SW_OK) {
		sw_diag_log(&d);
		sw_error("cannot start: configuration %s is invalid", name);
		sw_diag_deinit(&d);
		return SW_EXIT_CONFIG;
	}
	if (sw_log_open(&cfg.log) != SW_OK) {
		sw_diag_deinit(&d);
		sw_config_deinit(&cfg);
		return SW_EXIT_FAILURE;
	}
	sw_diag_log(&d);   /* the warnings, now on the configured log */
	sw_diag_deinit(&d);
	return sw_master_run(cli, &cfg);
}

int main(int argc, char **argv)
{
	struct sw_cli cli;
	char err[256];

	sw_log_set_journal(sw_journal_write, sw_journal_available);
	if (sw_cli_parse(&cli, argc, argv, err, sizeof(err)) != SW_OK) {
		fprintf(stderr, "swerver: %s\n", err);
		sw_cli_usage(stderr);
		return SW_EXIT_USAGE;
	}
	if (cli.help) {
		sw_cli_usage(stdout);
		return SW_EXIT_OK;
	}
	if (cli.version) {
		sw_version_print(stdout);
		return SW_EXIT_OK;
	}
	/* A peer that closes early must cost an EPIPE, not the process. */
	signal(SIGPIPE, SIG_IGN);
	if (cli.test_config)
		return test_config(&cli);
	return start(&cli);
}
