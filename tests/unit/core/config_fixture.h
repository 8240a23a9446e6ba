/* SPDX-License-Identifier: MIT */
/*
 * config_fixture.h - what the config loader's suites share (test_config.c,
 * test_config_policy.c, test_config_units.c): the module registry they
 * link instead of the generated one, a parse into a fresh cfg, and checks
 * on the messages.  Header-only and static: each suite is one program.
 */
#ifndef SW_TEST_CONFIG_FIXTURE_H
#define SW_TEST_CONFIG_FIXTURE_H

#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <json-c/json.h>
#include "core/config.h"
#include "core/diag.h"
#include "core/module.h"
#include "core/policy_def.h"
#include "http/http2_config.h"
#include "quic/config.h"
#include "tls/config.h"
#include "proxy/config.h"

/*
 * The module registry the loader sees.  Defining sw_modules here keeps the
 * generated one (src/core/modules.c) out of the link, so each test decides
 * which features are "compiled in", whatever ./configure chose.  The units'
 * config sections are compiled into this test (tests/Makefile.inc): they need
 * no library.
 */
static struct sw_module mod_tls = { .name = "tls", .config = &sw_tls_config_section };
static struct sw_module mod_http2 = { .name = "http2", .config = &sw_http2_config_section };
static struct sw_module mod_http3 = { .name = "http3", .config = &sw_quic_config_section };
/*
 * A policy of the test's own ("n": an integer >= 0), to check the policy
 * slot of routes[] and the top level; the proxy "unit" registers it.
 */
static int fake_compiled;
static void *fake_compile(struct json_object *conf, const char *path, struct sw_diag *diag)
{
	static const char *const known[] = { "n", "extra", NULL };
	struct json_object *n;

	if (!sw_policy_conf_object(conf, path, known, diag))
		return NULL;
	if (!json_object_object_get_ex(conf, "n", &n) || !json_object_is_type(n, json_type_int) ||
	    json_object_get_int64(n) < 0) {
		sw_policy_conf_error(diag, path, "n", "must be an integer >= 0");
		return NULL;
	}
	fake_compiled++;
	return &fake_compiled;
}
static const char *const fake_secrets[] = { "pw", NULL };
static const struct sw_policy fake_policy = {
	.key = "fake", .scopes = SW_POLICY_ROUTE | SW_POLICY_GLOBAL, .compile = fake_compile,
	.secrets = fake_secrets,
};
static const struct sw_policy fake_route_only = {
	.key = "route_only", .scopes = SW_POLICY_ROUTE, .compile = fake_compile,
};
static const struct sw_policy *const fake_policies[] = { &fake_policy, &fake_route_only, NULL };
static struct sw_module mod_proxy = { .name = "proxy", .config = &sw_proxy_config_section,
				       .policies = fake_policies };
static struct sw_module mod_io_uring = { .name = "io_uring" };
static struct sw_module mod_systemd = { .name = "systemd" };
const struct sw_module *const sw_modules[] = {
	&mod_tls, &mod_http2, &mod_http3, &mod_proxy, &mod_io_uring, &mod_systemd, NULL
};

static struct sw_diag d;
static struct sw_config cfg;

static inline void setup(void)
{
	mod_tls.name = "tls";
	mod_http2.name = "http2";
	mod_http3.name = "http3";
	mod_proxy.name = "proxy";
	mod_io_uring.name = "io_uring";
	mod_systemd.name = "systemd";
	sw_diag_init(&d, "t.json");
	memset(&cfg, 0, sizeof(cfg));
}

static inline void teardown(void)
{
	sw_config_deinit(&cfg);
	sw_diag_deinit(&d);
}

static inline int parse(const char *json)
{
	sw_config_deinit(&cfg);
	sw_diag_deinit(&d);
	sw_diag_init(&d, "t.json");
	return sw_config_parse(&cfg, json, strlen(json), &d);
}

static inline const char *dump(void)
{
	static char buf[4096];
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < d.count && len < sizeof(buf); i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "  [%s] %s\n",
					d.entries[i].level == SW_DIAG_ERROR ? "error" : "warn",
					d.entries[i].text);
	return buf;
}

static inline bool has(enum sw_diag_level level, const char *text)
{
	for (size_t i = 0; i < d.count; i++)
		if (d.entries[i].level == level && strcmp(d.entries[i].text, text) == 0)
			return true;
	return false;
}

#define ck_error(text) \
	ck_assert_msg(has(SW_DIAG_ERROR, text), "no error \"%s\"; got:\n%s", text, dump())
#define ck_no_error(text) \
	ck_assert_msg(!has(SW_DIAG_ERROR, text), "unexpected error \"%s\"", text)
#define ck_warning(text) \
	ck_assert_msg(has(SW_DIAG_WARNING, text), "no warning \"%s\"; got:\n%s", text, dump())
#define ck_only_error(json, text) do { \
	ck_assert_int_eq(parse(json), SW_ERROR); \
	ck_error(text); \
	ck_assert_msg(d.errors == 1, "expected one error, got:\n%s", dump()); \
} while (0)
#define ck_clean(json) do { \
	ck_assert_msg(parse(json) == SW_OK && d.count == 0, "%s:\n%s", json, dump()); \
} while (0)

/* An upstream and a route to it, so proxy tests start valid. */
#define UPSTREAM_API "{\"name\": \"api\", \"servers\": [{\"address\": \"10.0.0.1\", \"port\": 80}]}"

/* One Check case per run of equal names, each with the fixture. */
struct config_case {
	const char *name;
	const TTest *test;
};

static inline Suite *config_cases_suite(const char *suite, const struct config_case *cases, size_t n)
{
	Suite *s = suite_create(suite);
	TCase *tc = NULL;
	const char *cur = NULL;

	for (size_t i = 0; i < n; i++) {
		if (!cur || strcmp(cur, cases[i].name) != 0) {
			cur = cases[i].name;
			tc = tcase_create(cur);
			tcase_add_checked_fixture(tc, setup, teardown);
			suite_add_tcase(s, tc);
		}
		tcase_add_test(tc, cases[i].test);
	}
	return s;
}

#endif
