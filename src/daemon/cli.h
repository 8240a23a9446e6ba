/* SPDX-License-Identifier: MIT */
/* cli.h - command-line options and turning them plus the file into a config. */
#ifndef SW_DAEMON_CLI_H
#define SW_DAEMON_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "core/config.h"

struct sw_diag;

struct sw_cli {
	const char *config_path;  /* NULL: built-in defaults */
	long workers;             /* -1: not given */
	const char *static_root;
	const char *cert_path;
	const char *key_path;
	int64_t run_for_ms;       /* -1: run until told to stop */
	bool test_config;
	bool version;
	bool help;
	char **argv;              /* as given: a binary upgrade runs the new binary with it */
};

/*
 * Parses argv.  SW_OK, or SW_ERROR with a one-line reason in err (the
 * caller prints it with the usage and exits 64).
 */
int sw_cli_parse(struct sw_cli *cli, int argc, char **argv, char *err, size_t err_size);
void sw_cli_usage(FILE *out);

/* CLI values win over the file. */
void sw_cli_apply(const struct sw_cli *cli, struct sw_config *cfg);

/*
 * The whole start-up and reload path for the config: read the file (or
 * take defaults), apply the CLI, validate, and let every compiled-in module
 * check what it owns (certificates load, keys match).  SW_OK or SW_ERROR;
 * diag holds the reasons and warnings either way.
 */
int sw_cli_load_config(const struct sw_cli *cli, struct sw_config *cfg,
		       struct sw_diag *diag);

#endif
