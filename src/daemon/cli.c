/* SPDX-License-Identifier: MIT */
/* cli.c - getopt_long parsing, CLI overrides, and the validated config load. */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/diag.h"
#include "core/module.h"
#include "core/shm.h"
#include "daemon/cli.h"
#include "http/static.h"
#include "tls/config.h"

enum { OPT_STATIC_ROOT = 256, OPT_CERT, OPT_KEY, OPT_RUN_FOR_MS };

static const struct option long_opts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "workers", required_argument, NULL, 'w' },
	{ "static-root", required_argument, NULL, OPT_STATIC_ROOT },
	{ "cert", required_argument, NULL, OPT_CERT },
	{ "key", required_argument, NULL, OPT_KEY },
	{ "run-for-ms", required_argument, NULL, OPT_RUN_FOR_MS },
	{ "test-config", no_argument, NULL, 't' },
	{ "version", no_argument, NULL, 'V' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

void sw_cli_usage(FILE *out)
{
	fputs("Usage: swerver [options]\n"
	      "\n"
	      "  -c, --config PATH      load the JSON config file PATH\n"
	      "  -w, --workers N        worker processes (0 = one per usable CPU,\n"
	      "                         1 = single process, no fork)\n"
	      "      --static-root DIR  serve static files from DIR\n"
	      "      --cert PATH        TLS certificate chain (PEM)\n"
	      "      --key PATH         TLS private key (PEM)\n"
	      "      --run-for-ms MS    exit cleanly after MS milliseconds\n"
	      "  -t, --test-config      validate the config and exit (0 ok, 78 invalid)\n"
	      "  -V, --version          print version, build switches and libraries\n"
	      "  -h, --help             print this help\n"
	      "\n"
	      "Signals: TERM/INT drain and exit, HUP reload, USR1 reopen logs, QUIT stop now.\n"
	      "See swerver(8) and swerver.json(5).\n", out);
}

/* A whole decimal number in [min, max]; anything else is a usage error. */
static int parse_number(const char *s, long long min, long long max, long long *out)
{
	char *end;
	long long v;

	/* strtoll would accept " 5", "+5" and "-0"; a flag value must not. */
	if (*s < '0' || *s > '9')
		return SW_ERROR;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end != '\0' || v < min || v > max)
		return SW_ERROR;
	*out = v;
	return SW_OK;
}

static int take_path(const char *opt, const char *arg, const char **dst,
		     char *err, size_t err_size)
{
	if (*arg == '\0') {
		snprintf(err, err_size, "%s: the path must not be empty", opt);
		return SW_ERROR;
	}
	*dst = arg;
	return SW_OK;
}

static int take_option(struct sw_cli *cli, int c, const char *arg, char *err, size_t err_size)
{
	long long v;

	switch (c) {
	case 'c':
		return take_path("--config", arg, &cli->config_path, err, err_size);
	case 'w':
		if (parse_number(arg, 0, SW_MAX_SLOTS, &v) != SW_OK) {
			snprintf(err, err_size, "--workers: \"%s\" is not a number 0-%d", arg,
				 SW_MAX_SLOTS);
			return SW_ERROR;
		}
		cli->workers = (long)v;
		return SW_OK;
	case OPT_STATIC_ROOT:
		return take_path("--static-root", arg, &cli->static_root, err, err_size);
	case OPT_CERT:
		return take_path("--cert", arg, &cli->cert_path, err, err_size);
	case OPT_KEY:
		return take_path("--key", arg, &cli->key_path, err, err_size);
	case OPT_RUN_FOR_MS:
		if (parse_number(arg, 1, INT64_MAX / 1000000, &v) != SW_OK) {
			snprintf(err, err_size, "--run-for-ms: \"%s\" is not a positive number", arg);
			return SW_ERROR;
		}
		cli->run_for_ms = v;
		return SW_OK;
	case 't':
		cli->test_config = true;
		return SW_OK;
	case 'V':
		cli->version = true;
		return SW_OK;
	case 'h':
		cli->help = true;
		return SW_OK;
	default:
		return SW_ERROR;
	}
}

int sw_cli_parse(struct sw_cli *cli, int argc, char **argv, char *err, size_t err_size)
{
	int c;

	memset(cli, 0, sizeof(*cli));
	cli->workers = -1;
	cli->run_for_ms = -1;
	cli->argv = argv;
	err[0] = '\0';
	optind = 0;     /* full reset, so tests may parse several times */
	opterr = 0;     /* we word the message ourselves */
	while ((c = getopt_long(argc, argv, ":c:w:tVh", long_opts, NULL)) != -1) {
		if (c == '?') {
			if (optopt)
				snprintf(err, err_size, "unknown option -%c", optopt);
			else
				snprintf(err, err_size, "unknown option %s", argv[optind - 1]);
			return SW_ERROR;
		}
		if (c == ':') {
			snprintf(err, err_size, "option %s needs a value", argv[optind - 1]);
			return SW_ERROR;
		}
		if (take_option(cli, c, optarg, err, err_size) != SW_OK) {
			if (!err[0])
				snprintf(err, err_size, "bad option");
			return SW_ERROR;
		}
	}
	if (optind < argc) {
		snprintf(err, err_size, "unexpected argument \"%s\"", argv[optind]);
		return SW_ERROR;
	}
	if ((cli->cert_path == NULL) != (cli->key_path == NULL)) {
		snprintf(err, err_size, "--cert and --key go together");
		return SW_ERROR;
	}
	return SW_OK;
}

static void replace(char **dst, const char *src)
{
	free(*dst);
	*dst = sw_strdup(src);
}

void sw_cli_apply(const struct sw_cli *cli, struct sw_config *cfg)
{
	if (cli->workers >= 0)
		cfg->server.workers = (unsigned)cli->workers;
	if (cli->static_root)
		replace(&cfg->server.static_root, cli->static_root);
	struct sw_tls_cfg *t = sw_tls_config(cfg);

	if (cli->cert_path && t) {
		replace(&t->cert_path, cli->cert_path);
		replace(&t->key_path, cli->key_path);
	}
}

static int check_modules(const struct sw_config *cfg, struct sw_diag *diag)
{
	int rc = SW_OK;

	for (const struct sw_module *const *m = sw_modules; *m; m++)
		if ((*m)->check_config && (*m)->check_config(cfg, diag) != SW_OK)
			rc = SW_ERROR;
	return rc;
}

/*
 * The static root must be usable now, opened and looked up exactly as a
 * worker will (same process sandbox): a worker cannot serve from nothing,
 * and "ready" with every file 404 is worse than a refusal.
 */
static int check_static_root(const struct sw_config *cfg, struct sw_diag *diag)
{
	const char *root = cfg->server.static_root;
	struct stat st;
	int fd;

	if (!root)
		return SW_OK;
	fd = sw_static_open_root(root, &st);
	if (fd == -ENOTDIR) {
		sw_diag_error(diag, "server.static_root", "%s: not a directory", root);
		return SW_ERROR;
	}
	if (fd < 0) {
		sw_diag_error(diag, "server.static_root", "%s: %s", root, strerror(-fd));
		return SW_ERROR;
	}
	close(fd);
	return SW_OK;
}

/* A named file that exists but is not a regular one: an error; false then. */
static bool regular(const char *path, const char *key, struct sw_diag *diag)
{
	struct stat st;

	if (!path || stat(path, &st) != 0 || S_ISREG(st.st_mode))
		return true;    /* a missing file is the module's to report */
	sw_diag_error(diag, key, "%s: not a regular file", path);
	return false;
}

/*
 * The certificate, key and CA files the modules will open.  OpenSSL and
 * GnuTLS open them blocking: a FIFO among them would hang the master (and
 * its supervision of the workers) on a reload, so the modules do not look
 * at any of them then.
 */
struct regular_walk {
	struct sw_diag *diag;
	bool ok;
};

static void regular_one(void *arg, const char *key, const char *path)
{
	struct regular_walk *r = arg;

	r->ok &= regular(path, key, r->diag);
}

static bool files_regular(const struct sw_config *cfg, struct sw_diag *diag)
{
	struct regular_walk r = { diag, true };

	sw_config_files(cfg, regular_one, &r);
	return r.ok;
}

/*
 * Every check runs even after another failed, so one `-t` lists every
 * error it can find: a bad value does not hide a missing certificate, nor
 * a certificate a missing static root.  Only text that is not JSON stops
 * it, as there is then nothing to check.
 */
int sw_cli_load_config(const struct sw_cli *cli, struct sw_config *cfg,
		       struct sw_diag *diag)
{
	bool usable;
	int rc;

	if (cli->config_path)
		rc = sw_config_load_partial(cfg, cli->config_path, diag, &usable);
	else
		rc = sw_config_parse_partial(cfg, "{}", 2, diag, &usable);
	if (!usable)
		return SW_ERROR;
	sw_cli_apply(cli, cfg);
	if (cli->cert_path && !sw_tls_config(cfg)) {
		sw_diag_error(diag, "tls.cert_path", "requires a build with --enable-tls");
		rc = SW_ERROR;
	}
	sw_config_derive(cfg);   /* e.g. --cert turns the default listener to TLS */
	/* The loader validated already; again only for what the overrides changed. */
	if (rc == SW_OK && sw_config_validate(cfg, diag) != SW_OK)
		rc = SW_ERROR;
	if (!files_regular(cfg, diag) || check_modules(cfg, diag) != SW_OK)
		rc = SW_ERROR;
	if (check_static_root(cfg, diag) != SW_OK)
		rc = SW_ERROR;
	if (rc != SW_OK) {
		sw_config_deinit(cfg);
		return SW_ERROR;
	}
	sw_config_stamp_files(cfg);
	return SW_OK;
}
