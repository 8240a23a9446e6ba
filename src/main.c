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
		fprintf(stderr, "swerver: %s\n", d.entries[i].text);
	if (rc == SW_OK) {
		fprintf(stderr, "swerver: configuration %s is valid\n", name);
		sw_config_deinit(&cfg);
	} else {
		fprintf(stderr, "swerver: configuration %s is invalid\n", name);
	}
	sw_diag_deinit(&d);
	return rc == SW_OK ? SW_EXIT_OK : SW_EXIT_CONFIG;
}

static int start(const struct sw_cli *cli)
{
	const char *name = cli->config_path ? cli->config_path : "(built-in defaults)";
	struct sw_config cfg;
	struct sw_diag d;

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
