/* SPDX-License-Identifier: MIT */
/* test_config_units.c - the units' sections: a feature compiled out is refused or ignored as its unit says, and owns its storage. */
#include <check.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include "core/config_secret.h"
#include "config_fixture.h"
#include "check_main.h"

static void compile_out(struct sw_module *m)
{
	m->name = "(compiled out)";
}

/* ---- features compiled out ---- */

#define QUIC_ON "{\"tls\": {\"cert_path\": \"/c.pem\", \"key_path\": \"/k.pem\"}, \"quic\": {\"enabled\": true}}"

START_TEST(feature_http3)
{
	ck_clean(QUIC_ON);
	compile_out(&mod_http3);
	ck_only_error(QUIC_ON, "t.json: quic.enabled: requires a build with --enable-http3");
	ck_only_error("{\"server\": {\"listeners\": [{\"port\": 1}, {\"port\": 2, \"quic_enabled\": true}]}}",
		      "t.json: server.listeners[1].quic_enabled: requires a build with --enable-http3");
}
END_TEST

START_TEST(feature_quic_needs_cert)
{
	ck_only_error("{\"quic\": {\"enabled\": true, \"key_path\": \"/k.pem\"}}",
		      "t.json: quic.cert_path: required when QUIC is enabled (or set tls.cert_path)");
}
END_TEST

START_TEST(feature_tls)
{
	const char *tls = "{\"tls\": {\"cert_path\": \"/c.pem\", \"key_path\": \"/k.pem\"}}";
	const char *lst = "{\"server\": {\"listeners\": [{\"port\": 443, \"use_tls\": true}]}}";

	ck_clean(tls);
	ck_only_error(lst, "t.json: server.listeners[0].use_tls: requires tls.cert_path or tls.certificates");
	compile_out(&mod_tls);
	ck_only_error(tls, "t.json: tls.cert_path: requires a build with --enable-tls");
	ck_only_error(lst, "t.json: server.listeners[0].use_tls: requires a build with --enable-tls");
}
END_TEST

START_TEST(feature_http2)
{
	ck_clean("{\"http2\": {\"h2c_only\": true}}");
	ck_clean("{\"server\": {\"listeners\": [{\"port\": 80, \"h2c_only\": true}]}}");
	compile_out(&mod_http2);
	ck_only_error("{\"http2\": {\"h2c_only\": true}}", "t.json: http2.h2c_only: requires a build with --enable-http2");
	ck_only_error("{\"server\": {\"listeners\": [{\"port\": 80, \"h2c_only\": true}]}}",
		      "t.json: server.listeners[0].h2c_only: requires a build with --enable-http2");
}
END_TEST

START_TEST(feature_proxy)
{
	const char *proxy = "{\"upstreams\": [" UPSTREAM_API "], \"routes\": [{\"path_prefix\": \"/\","
			    " \"upstream\": \"api\"}]}";

	ck_clean(proxy);
	compile_out(&mod_proxy);
	ck_assert_int_eq(parse(proxy), SW_ERROR);
	ck_error("t.json: upstreams: requires a build with --enable-proxy");
	ck_error("t.json: routes: requires a build with --enable-proxy");
	ck_assert_uint_eq(d.errors, 2);
}
END_TEST

/* TLS and QUIC own theirs: without them, cfg keeps nothing and the implicit listener is plain. */
START_TEST(feature_tls_quic_sections_owned)
{
	ck_clean(QUIC_ON);
	ck_assert(cfg.server.listeners[0].use_tls && cfg.server.listeners[0].quic_enabled);
	compile_out(&mod_tls);
	compile_out(&mod_http3);
	ck_clean("{\"tls\": {\"client_cert_required\": false}, \"quic\": {\"port\": 8443}}");
	ck_assert_ptr_null(sw_tls_config(&cfg));
	ck_assert_ptr_null(sw_quic_config(&cfg));
	ck_assert(!cfg.server.listeners[0].use_tls && !cfg.server.listeners[0].quic_enabled);
}
END_TEST

/* The proxy owns its section: a build without it keeps no storage, and writes its arrays empty. */
START_TEST(feature_proxy_section_owned)
{
	char *json;

	ck_clean("{}");
	ck_assert_ptr_nonnull(sw_proxy_config(&cfg));
	json = sw_config_to_json(&cfg, true);
	ck_assert_ptr_nonnull(strstr(json, "\"routes\": ["));
	free(json);
	compile_out(&mod_proxy);
	ck_clean("{\"upstreams\": [], \"routes\": null}");
	ck_assert_ptr_null(sw_proxy_config(&cfg));
	json = sw_config_to_json(&cfg, true);
	ck_assert_ptr_nonnull(strstr(json, "\"upstreams\": ["));
	ck_assert_ptr_nonnull(strstr(json, "\"routes\": ["));
	free(json);
}
END_TEST

START_TEST(feature_systemd_and_io_uring)
{
	const char *cfgs = "{\"log\": {\"target\": \"journal\"}, \"server\": {\"io_backend\": \"io_uring\"}}";

	ck_clean(cfgs);
	compile_out(&mod_systemd);
	compile_out(&mod_io_uring);
	ck_assert_int_eq(parse(cfgs), SW_ERROR);
	ck_error("t.json: log.target: requires a build with --with-systemd");
	ck_error("t.json: server.io_backend: requires a build with --enable-io-uring");
	ck_assert_uint_eq(d.errors, 2);
	ck_clean("{\"log\": {\"target\": \"/var/log/swerver/error.log\"}, \"server\": {\"io_backend\": \"auto\"}}");
}
END_TEST


static Suite *config_units_suite(void)
{
	const struct config_case cases[] = {
		{ "features", feature_http3 }, { "features", feature_quic_needs_cert },
		{ "features", feature_tls }, { "features", feature_http2 }, { "features", feature_proxy },
		{ "features", feature_proxy_section_owned },
		{ "features", feature_tls_quic_sections_owned },
		{ "features", feature_systemd_and_io_uring },
	};

	return config_cases_suite("config_units", cases, sizeof(cases) / sizeof(cases[0]));
}

SW_TEST_SUITE(config_units_suite);
