/* SPDX-License-Identifier: MIT */
/* test_cli.c - command-line parsing: both flag spellings, bad values, overrides. */
#include <config.h>

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "core/config.h"
#include "core/diag.h"
#include "daemon/cli.h"
#include "check_main.h"

#define ARGV(...) ((char *[]){ "swerver", __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ "swerver", __VA_ARGS__ }) / sizeof(char *)))

static int parse(struct sw_cli *cli, int argc, char **argv, char *err)
{
	return sw_cli_parse(cli, argc, argv, err, 256);
}

START_TEST(test_defaults)
{
	struct sw_cli cli;
	char err[256];
	char *argv[] = { "swerver", NULL };

	ck_assert_int_eq(parse(&cli, 1, argv, err), SW_OK);
	ck_assert_ptr_null(cli.config_path);
	ck_assert_int_eq(cli.workers, -1);
	ck_assert_int_eq(cli.run_for_ms, -1);
	ck_assert(!cli.test_config && !cli.version && !cli.help);
}
END_TEST

START_TEST(test_both_spellings)
{
	struct sw_cli cli;
	char err[256];

	ck_assert_int_eq(parse(&cli, ARGC("--config", "/a.json", "--workers=3", "--static-root", "/srv",
					  "--run-for-ms=250", "-t"),
			       ARGV("--config", "/a.json", "--workers=3", "--static-root", "/srv",
				    "--run-for-ms=250", "-t"), err), SW_OK);
	ck_assert_str_eq(cli.config_path, "/a.json");
	ck_assert_int_eq(cli.workers, 3);
	ck_assert_str_eq(cli.static_root, "/srv");
	ck_assert_int_eq(cli.run_for_ms, 250);
	ck_assert(cli.test_config);

	ck_assert_int_eq(parse(&cli, ARGC("-c", "/b.json", "-w", "0", "--config=/c.json"),
			       ARGV("-c", "/b.json", "-w", "0", "--config=/c.json"), err), SW_OK);
	ck_assert_str_eq(cli.config_path, "/c.json");   /* the last one wins */
	ck_assert_int_eq(cli.workers, 0);
}
END_TEST

START_TEST(test_errors)
{
	struct sw_cli cli;
	char err[256];

	ck_assert_int_eq(parse(&cli, ARGC("--bogus"), ARGV("--bogus"), err), SW_ERROR);
	ck_assert_str_eq(err, "unknown option --bogus");
	ck_assert_int_eq(parse(&cli, ARGC("-x"), ARGV("-x"), err), SW_ERROR);
	ck_assert_str_eq(err, "unknown option -x");
	ck_assert_int_eq(parse(&cli, ARGC("--workers=abc"), ARGV("--workers=abc"), err), SW_ERROR);
	ck_assert_str_eq(err, "--workers: \"abc\" is not a number 0-256");
	ck_assert_int_eq(parse(&cli, ARGC("-w", "-1"), ARGV("-w", "-1"), err), SW_ERROR);
	ck_assert_int_eq(parse(&cli, ARGC("-w", "2x"), ARGV("-w", "2x"), err), SW_ERROR);
	ck_assert_int_eq(parse(&cli, ARGC("--run-for-ms", "0"), ARGV("--run-for-ms", "0"), err), SW_ERROR);
	ck_assert_int_eq(parse(&cli, ARGC("--config"), ARGV("--config"), err), SW_ERROR);
	ck_assert_str_eq(err, "option --config needs a value");
	ck_assert_int_eq(parse(&cli, ARGC("--config="), ARGV("--config="), err), SW_ERROR);
	ck_assert_int_eq(parse(&cli, ARGC("--cert", "/c.pem"), ARGV("--cert", "/c.pem"), err), SW_ERROR);
	ck_assert_str_eq(err, "--cert and --key go together");
	ck_assert_int_eq(parse(&cli, ARGC("extra"), ARGV("extra"), err), SW_ERROR);
	ck_assert_str_eq(err, "unexpected argument \"extra\"");
}
END_TEST

START_TEST(test_cli_wins_over_file)
{
	const char *json = "{\"server\": {\"workers\": 4, \"static_root\": \"/from-file\"}}";
	struct sw_config cfg;
	struct sw_diag d;
	struct sw_cli cli;
	char err[256];

	ck_assert_int_eq(parse(&cli, ARGC("-w", "2", "--static-root=/from-cli"),
			       ARGV("-w", "2", "--static-root=/from-cli"), err), SW_OK);
	sw_diag_init(&d, "test.json");
	ck_assert_int_eq(sw_config_parse(&cfg, json, strlen(json), &d), SW_OK);
	sw_cli_apply(&cli, &cfg);
	ck_assert_uint_eq(cfg.server.workers, 2);
	ck_assert_str_eq(cfg.server.static_root, "/from-cli");
	sw_config_deinit(&cfg);
	sw_diag_deinit(&d);
}
END_TEST

START_TEST(test_load_defaults_without_file)
{
	struct sw_config cfg;
	struct sw_diag d;
	struct sw_cli cli;
	char err[256];
	char *argv[] = { "swerver", NULL };

	ck_assert_int_eq(parse(&cli, 1, argv, err), SW_OK);
	sw_diag_init(&d, "(defaults)");
	ck_assert_int_eq(sw_cli_load_config(&cli, &cfg, &d), SW_OK);
	ck_assert_uint_eq(cfg.server.listeners_count, 1);
	ck_assert_str_eq(cfg.server.listeners[0].address, "0.0.0.0");
	ck_assert_uint_eq(cfg.server.listeners[0].port, 8080);
	sw_config_deinit(&cfg);
	sw_diag_deinit(&d);
}
END_TEST

START_TEST(test_static_root_must_exist)
{
	struct sw_config cfg;
	struct sw_diag d;
	struct sw_cli cli;
	char err[256];

	ck_assert_int_eq(parse(&cli, ARGC("--static-root=/nonexistent/www"),
			       ARGV("--static-root=/nonexistent/www"), err), SW_OK);
	sw_diag_init(&d, "(defaults)");
	ck_assert_int_eq(sw_cli_load_config(&cli, &cfg, &d), SW_ERROR);
	ck_assert_str_eq(sw_diag_first_error(&d),
			 "(defaults): server.static_root: /nonexistent/www: No such file or directory");
	sw_diag_deinit(&d);

	ck_assert_int_eq(parse(&cli, ARGC("--static-root=/etc/passwd"),
			       ARGV("--static-root=/etc/passwd"), err), SW_OK);
	sw_diag_init(&d, "(defaults)");
	ck_assert_int_eq(sw_cli_load_config(&cli, &cfg, &d), SW_ERROR);
	ck_assert_str_eq(sw_diag_first_error(&d),
			 "(defaults): server.static_root: /etc/passwd: not a directory");
	sw_diag_deinit(&d);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("cli");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_both_spellings);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_cli_wins_over_file);
	tcase_add_test(tc, test_load_defaults_without_file);
	tcase_add_test(tc, test_static_root_must_exist);
	suite_add_tcase(s, tc);
	return s;
}

SW_TEST_SUITE(suite);
