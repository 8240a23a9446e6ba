/* SPDX-License-Identifier: MIT */
/* test_config.c - the config engine and the core's sections: defaults, every error class, listeners, admin, logs, reloads, persistence. */
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

/* ---- defaults ---- */

START_TEST(defaults_from_empty_object)
{
	ck_clean("{}");
	ck_assert_ptr_null(cfg.path);
	ck_assert_uint_eq(cfg.server.listeners_count, 1);
	ck_assert_str_eq(cfg.server.listeners[0].address, "0.0.0.0");
	ck_assert_uint_eq(cfg.server.listeners[0].port, 8080);
	ck_assert(!cfg.server.listeners[0].use_tls && !cfg.server.listeners[0].quic_enabled);
	ck_assert_str_eq(cfg.server.address, "0.0.0.0");
	ck_assert_uint_eq(cfg.server.port, 8080);
	ck_assert_uint_eq(cfg.server.workers, 0);
	ck_assert_uint_eq(cfg.server.max_connections, 2048);
	ck_assert(cfg.server.server_header && !cfg.server.cache_static_files);
	ck_assert_ptr_null(cfg.server.static_root);
	ck_assert_int_eq(cfg.server.io_backend, SW_IO_AUTO);
	ck_assert_uint_eq(cfg.timeouts.idle_ms, 60000);
	ck_assert_uint_eq(cfg.timeouts.header_ms, 10000);
	ck_assert_uint_eq(cfg.timeouts.body_ms, 30000);
	ck_assert_uint_eq(cfg.timeouts.write_ms, 30000);
	ck_assert_uint_eq(cfg.timeouts.drain_ms, 30000);
	ck_assert_uint_eq(cfg.timeouts.reload_ms, 30000);
	ck_assert_uint_eq(cfg.limits.max_header_bytes, 32768);
	ck_assert_uint_eq(cfg.limits.max_header_count, 128);
	ck_assert_uint_eq(cfg.limits.max_body_bytes, 32u << 20);
	ck_assert(sw_tls_config(&cfg)->client_cert_required);
	ck_assert_ptr_null(sw_tls_config(&cfg)->cert_path);
	ck_assert_uint_eq(sw_http2_config(&cfg)->max_streams, 128);
	ck_assert_uint_eq(sw_http2_config(&cfg)->initial_window_size, 1u << 20);
	ck_assert_uint_eq(sw_http2_config(&cfg)->max_frame_size, 16384);
	ck_assert_uint_eq(sw_http2_config(&cfg)->max_header_list_size, 8192);
	ck_assert(!sw_quic_config(&cfg)->enabled);
	ck_assert_uint_eq(sw_quic_config(&cfg)->port, 443);
	ck_assert_uint_eq(sw_quic_config(&cfg)->max_streams_uni, 100);
	ck_assert_uint_eq(sw_quic_config(&cfg)->max_connections, 4096);
	ck_assert_int_eq(sw_quic_config(&cfg)->retry, SW_QUIC_RETRY_OFF);
	ck_assert_int_eq(sw_quic_config(&cfg)->congestion_control, SW_QUIC_CC_CUBIC);
	ck_assert(!cfg.admin.enabled);
	ck_assert_str_eq(cfg.admin.address, "127.0.0.1");
	ck_assert_uint_eq(cfg.admin.port, 9180);
	ck_assert_str_eq(cfg.log.target, "auto");
	ck_assert_int_eq(cfg.log.level, SW_LOG_INFO);
	ck_assert_int_eq(cfg.access_log.format, SW_ACCESS_OFF);
	ck_assert_str_eq(cfg.access_log.target, "stderr");
	ck_assert_uint_eq(sw_proxy_config(&cfg)->upstreams_count + sw_proxy_config(&cfg)->routes_count, 0);
	ck_assert_str_eq(sw_io_backend_name(cfg.server.io_backend), "auto");
	ck_assert_str_eq(sw_log_level_name(cfg.log.level), "info");
}
END_TEST

START_TEST(init_matches_empty_object)
{
	struct sw_config def;

	sw_config_init(&def);
	ck_clean("{}");
	ck_assert_uint_eq(sw_config_compare(&def, &cfg), SW_CFG_SAME);
	sw_config_deinit(&def);
}
END_TEST

START_TEST(section_defaults)
{
	ck_clean("{\"upstreams\": [{\"name\": \"api\", \"servers\": [{\"unix\": \"/run/app.sock\"}],"
		 " \"health_check\": {}}],"
		 " \"routes\": [{\"path_prefix\": \"/\", \"upstream\": \"api\"}]}");
	const struct sw_upstream_cfg *u = &sw_proxy_config(&cfg)->upstreams[0];
	ck_assert_str_eq(u->servers[0].unix_path, "/run/app.sock");
	ck_assert_ptr_null(u->servers[0].address);
	ck_assert_uint_eq(u->servers[0].weight, 1);
	ck_assert_uint_eq(u->servers[0].max_fails, 1);
	ck_assert_uint_eq(u->servers[0].fail_timeout_ms, 10000);
	ck_assert_int_eq(u->load_balancer, SW_LB_ROUND_ROBIN);
	ck_assert(u->health_check.enabled);
	ck_assert_uint_eq(u->health_check.interval_ms, 5000);
	ck_assert_str_eq(u->health_check.path, "/");
	ck_assert_uint_eq(u->health_check.expected_status, 200);
	ck_assert_uint_eq(u->health_check.unhealthy_threshold, 3);
	ck_assert_uint_eq(u->connection_pool.max_connections, 64);
	ck_assert_uint_eq(u->connection_pool.max_idle, 16);
	const struct sw_route_cfg *r = &sw_proxy_config(&cfg)->routes[0];
	ck_assert_uint_eq(r->connect_timeout_ms, 5000);
	ck_assert_uint_eq(r->read_timeout_ms, 30000);
	ck_assert_uint_eq(r->max_retries, 1);
	ck_assert_uint_eq(r->policies.count, 0);

	ck_clean("{\"upstreams\": [" UPSTREAM_API "]}");
	ck_assert(!sw_proxy_config(&cfg)->upstreams[0].health_check.enabled);
}
END_TEST

START_TEST(comments_allowed)
{
	ck_clean("// swerver config\n{\n  /* the port */ \"server\": {\"port\": 81} // inline\n}\n// end\n");
	ck_assert_uint_eq(cfg.server.listeners[0].port, 81);
}
END_TEST

/* ---- syntax ---- */

START_TEST(syntax_error_line_col)
{
	/* The second comma of line 3 is column 16. */
	ck_only_error("{\n  \"server\": {\n    \"port\": 80,,\n  }\n}\n",
		      "t.json:3:16: JSON syntax error: quoted object property name expected");
	/* Columns count characters, not bytes: "é" is one. */
	ck_only_error("{\"é\": tru}", "t.json:1:10: JSON syntax error: boolean expected");
	ck_only_error("{\"server\": {", "t.json:1:13: JSON syntax error: unexpected end of data");
	ck_only_error("", "t.json:1:1: JSON syntax error: unexpected end of data");
}
END_TEST

START_TEST(trailing_garbage)
{
	ck_only_error("{}\n  x", "t.json:2:3: JSON syntax error: unexpected data after the top-level value");
	ck_only_error("{} /* open", "t.json:1:4: JSON syntax error: unterminated comment");
	ck_only_error("{\"a/*\": 1} /* x */ /*/", "t.json:1:20: JSON syntax error: unterminated comment");
	ck_clean("{} /* closed */ \n");
	ck_clean("{\"log\": {\"target\": \"/var/log/*.log\"}} // no newline at the end");
}
END_TEST

START_TEST(top_level_not_object)
{
	ck_only_error("[1, 2]", "t.json: top level: must be an object");
	ck_only_error("42", "t.json: top level: must be an object");
	ck_only_error("null", "t.json: top level: must be an object");
}
END_TEST

/* ---- types and ranges ---- */

START_TEST(wrong_type)
{
	ck_only_error("{\"server\": {\"port\": \"80\"}}", "t.json: server.port: must be an integer 0-65535");
	ck_only_error("{\"server\": {\"port\": 80.5}}", "t.json: server.port: must be an integer 0-65535");
	ck_only_error("{\"server\": {\"cache_static_files\": 1}}",
		      "t.json: server.cache_static_files: must be true or false");
	ck_only_error("{\"server\": []}", "t.json: server: must be an object");
	ck_only_error("{\"routes\": {}}", "t.json: routes: must be an array");
	ck_only_error("{\"tls\": {\"cert_path\": 5}}", "t.json: tls.cert_path: must be a string");
	ck_only_error("{\"server\": {\"allowed_hosts\": [\"a.example\", 3]}}",
		      "t.json: server.allowed_hosts[1]: must be a string");
	ck_only_error("{\"server\": {\"address\": null}}", "t.json: server.address: must be a string");
	ck_only_error("{\"admin\": {\"api_key\": \"0123456789abcdef\\u0000x\"}}",
		      "t.json: admin.api_key: must not contain a NUL character");
}
END_TEST

START_TEST(out_of_range)
{
	ck_only_error("{\"server\": {\"port\": 70000}}", "t.json: server.port: must be 0-65535");
	ck_only_error("{\"server\": {\"port\": -1}}", "t.json: server.port: must be 0-65535");
	ck_only_error("{\"http2\": {\"max_frame_size\": 1000}}",
		      "t.json: http2.max_frame_size: must be 16384-16777215");
	ck_only_error("{\"quic\": {\"max_streams_uni\": 2}}",
		      "t.json: quic.max_streams_uni: must be 3-4294967295");
	ck_only_error("{\"timeouts\": {\"reload_ms\": 99}}",
		      "t.json: timeouts.reload_ms: must be 100-4294967295");
	ck_only_error("{\"limits\": {\"max_body_bytes\": 18446744073709551615}}",
		      "t.json: limits.max_body_bytes: must be 0-9223372036854775807");
	ck_only_error("{\"upstreams\": [{\"name\": \"a\", \"servers\": [{\"address\": \"h\", \"port\": 80,"
		      " \"weight\": 0}]}]}", "t.json: upstreams[0].servers[0].weight: must be 1-1000");
	/* Port 0 is for listeners (kernel-chosen), never for an upstream. */
	ck_clean("{\"server\": {\"port\": 0}}");
	ck_assert_uint_eq(cfg.server.listeners[0].port, 0);
	ck_only_error("{\"upstreams\": [{\"name\": \"a\", \"servers\": [{\"address\": \"h\"}]},"
		      " {\"name\": \"b\", \"servers\": [{\"address\": \"h\", \"port\": 1}]},"
		      " {\"name\": \"c\", \"servers\": [{\"address\": \"h\", \"port\": 0}]}]}",
		      "t.json: upstreams[2].servers[0].port: must be 1-65535");
	ck_only_error("{\"upstreams\": [{\"name\": \"a\", \"servers\": [{\"address\": \"h\"}]}]}",
		      "t.json: upstreams[0].servers[0].port: must be 1-65535");
}
END_TEST

START_TEST(bad_enum)
{
	ck_only_error("{\"server\": {\"io_backend\": \"kqueue\"}}",
		      "t.json: server.io_backend: must be one of \"auto\", \"epoll\", \"io_uring\"");
	ck_only_error("{\"quic\": {\"retry\": true}}",
		      "t.json: quic.retry: must be one of \"off\", \"always\", \"auto\"");
	ck_only_error("{\"quic\": {\"congestion_control\": \"vegas\"}}",
		      "t.json: quic.congestion_control: must be one of \"cubic\", \"bbr\", \"reno\"");
	ck_only_error("{\"log\": {\"level\": \"trace\"}}",
		      "t.json: log.level: must be one of \"error\", \"warn\", \"info\", \"debug\"");
	ck_only_error("{\"log\": {\"target\": \"console\"}}",
		      "t.json: log.target: must be one of \"auto\", \"stderr\", \"syslog\", \"journal\" "
		      "or an absolute path");
	ck_only_error("{\"log\": {\"target\": \"logs/error.log\"}}", "t.json: log.target: must be an absolute path");
	ck_only_error("{\"access_log\": {\"target\": \"access.d/x.log\"}}",
		      "t.json: access_log.target: must be an absolute path");
}
END_TEST

START_TEST(unknown_key_warns)
{
	ck_assert_int_eq(parse("{\"server\": {\"listners\": []}, \"upstreams\": [{\"name\": \"a\","
			       " \"servers\": [{\"unix\": \"/s\", \"wieght\": 2}]}], \"colour\": 1}"), SW_OK);
	ck_warning("t.json: server.listners: unknown key");
	ck_warning("t.json: upstreams[0].servers[0].wieght: unknown key");
	ck_warning("t.json: colour: unknown key");
	ck_assert_uint_eq(d.warnings, 3);
	ck_assert_uint_eq(d.errors, 0);
}
END_TEST

START_TEST(missing_required)
{
	ck_only_error("{\"upstreams\": [" UPSTREAM_API "], \"routes\": [{\"upstream\": \"api\"}]}",
		      "t.json: routes[0].path_prefix: required");
	ck_only_error("{\"upstreams\": [" UPSTREAM_API "], \"routes\": [{\"path_prefix\": \"/\"}]}",
		      "t.json: routes[0].upstream: required");
	ck_only_error("{\"upstreams\": [" UPSTREAM_API "], \"routes\": [{\"path_prefix\": \"api\","
		      " \"upstream\": \"api\"}]}", "t.json: routes[0].path_prefix: must start with '/'");
	ck_only_error("{\"upstreams\": [{\"servers\": [{\"unix\": \"/s\"}]}]}", "t.json: upstreams[0].name: required");
	ck_only_error("{\"upstreams\": [{\"name\": \"a\", \"servers\": []}]}",
		      "t.json: upstreams[0].servers: must not be empty");
	ck_only_error("{\"upstreams\": [{\"name\": \"a\", \"servers\": [{\"weight\": 2}]}]}",
		      "t.json: upstreams[0].servers[0]: needs address and port, or unix");
	ck_only_error("{\"upstreams\": [{\"name\": \"a\", \"servers\": [{\"address\": \"h\", \"port\": 1,"
		      " \"unix\": \"/s\"}]}]}",
		      "t.json: upstreams[0].servers[0]: set either address and port, or unix, not both");
	ck_only_error("{\"upstreams\": [{\"name\": \"a\", \"servers\": [{\"unix\": \"run/s\"}]}]}",
		      "t.json: upstreams[0].servers[0].unix: must be an absolute path");
	ck_only_error("{\"upstreams\": [" UPSTREAM_API ", " UPSTREAM_API "]}",
		      "t.json: upstreams[1].name: \"api\" is already used by upstreams[0]");
	ck_only_error("{\"tls\": {\"cert_path\": \"/c.pem\", \"key_path\": \"/k.pem\", \"certificates\":"
		      " [{\"hostnames\": [\"a.example\"], \"cert_path\": \"/a.pem\"}]}}",
		      "t.json: tls.certificates[0].key_path: required");
	ck_only_error("{\"tls\": {\"certificates\": [{\"hostnames\": [], \"cert_path\": \"/a\","
		      " \"key_path\": \"/b\"}]}}", "t.json: tls.certificates[0].hostnames: must not be empty");
	ck_only_error("{\"tls\": {\"cert_path\": \"/c.pem\"}}", "t.json: tls.key_path: required when tls.cert_path is set");
}
END_TEST

START_TEST(unknown_upstream_reference)
{
	ck_only_error("{\"upstreams\": [" UPSTREAM_API "], \"routes\": ["
		      "{\"path_prefix\": \"/a\", \"upstream\": \"api\"},"
		      "{\"path_prefix\": \"/b\", \"upstream\": \"api\"},"
		      "{\"path_prefix\": \"/c\", \"upstream\": \"api\"},"
		      "{\"path_prefix\": \"/d\", \"upstream\": \"apl\"}]}",
		      "t.json: routes[3].upstream: no upstream named \"apl\"");
	ck_only_error("{\"routes\": [{\"path_prefix\": \"/\", \"upstream\": \"api\"}]}",
		      "t.json: routes[0].upstream: no upstream named \"api\"");
}
END_TEST

START_TEST(route_headers)
{
	ck_clean("{\"upstreams\": [" UPSTREAM_API "], \"routes\": [{\"path_prefix\": \"/\", \"upstream\": \"api\","
		 " \"upstream_headers\": [{\"name\": \"X-Env\", \"value\": \"prod\"}], \"retry\": {\"max_retries\": 3}}]}");
	const struct sw_route_cfg *r = &sw_proxy_config(&cfg)->routes[0];
	ck_assert_str_eq(r->upstream_headers[0].name, "X-Env");
	ck_assert_str_eq(r->upstream_headers[0].value, "prod");
	ck_assert_uint_eq(r->max_retries, 3);

	ck_only_error("{\"upstreams\": [" UPSTREAM_API "], \"routes\": [{\"path_prefix\": \"/\", \"upstream\": \"api\","
		      " \"upstream_headers\": [{\"name\": \"X-A\", \"value\": \"1\"}, {\"name\": \"Bad Name\", \"value\": \"2\"}]}]}",
		      "t.json: routes[0].upstream_headers[1].name: \"Bad Name\" is not a valid header name");
	ck_only_error("{\"upstreams\": [" UPSTREAM_API "], \"routes\": [{\"path_prefix\": \"/\", \"upstream\": \"api\","
		      " \"upstream_headers\": [{\"name\": \"X-A\", \"value\": \"1\\r\\nX-B: 2\"}]}]}",
		      "t.json: routes[0].upstream_headers[0].value: must not contain CR or LF");
	ck_only_error("{\"upstreams\": [" UPSTREAM_API "], \"routes\": [{\"path_prefix\": \"/\", \"upstream\": \"api\"},"
		      " {\"path_prefix\": \"/\", \"upstream\": \"api\"}]}",
		      "t.json: routes[1]: same path_prefix and host as routes[0]");
}
END_TEST

/* ---- listeners ---- */

START_TEST(listener_from_address_port)
{
	ck_clean("{\"server\": {\"address\": \"127.0.0.1\", \"port\": 9000}}");
	ck_assert_uint_eq(cfg.server.listeners_count, 1);
	ck_assert_str_eq(cfg.server.listeners[0].address, "127.0.0.1");
	ck_assert_uint_eq(cfg.server.listeners[0].port, 9000);
	ck_assert(!cfg.server.listeners[0].use_tls);

	/* A certificate puts TLS on the implicit listener, QUIC follows quic.enabled. */
	ck_clean("{\"server\": {\"port\": 8443}, \"tls\": {\"cert_path\": \"/c.pem\", \"key_path\": \"/k.pem\"},"
		 " \"quic\": {\"enabled\": true, \"port\": 8443}}");
	ck_assert(cfg.server.listeners[0].use_tls);
	ck_assert(cfg.server.listeners[0].quic_enabled);
	ck_assert_uint_eq(cfg.server.listeners[0].quic_port, 8443);
	/* QUIC's certificate is the TCP one unless given (NULL = tls.cert_path). */
	ck_assert_ptr_null(sw_quic_config(&cfg)->cert_path);
	ck_assert_ptr_null(sw_quic_config(&cfg)->key_path);

	ck_clean("{\"server\": {\"address\": \"::1\"}}");
	ck_assert_str_eq(cfg.server.listeners[0].address, "::1");
	ck_only_error("{\"server\": {\"address\": \"localhost\"}}",
		      "t.json: server.address: must be an IPv4 or IPv6 address");
}
END_TEST

START_TEST(listeners_override_address_port)
{
	ck_assert_int_eq(parse("{\"server\": {\"port\": 9000, \"listeners\": ["
			       "{\"address\": \"127.0.0.1\", \"port\": 8081}, {\"address\": \"::\", \"port\": 8082,"
			       " \"h2c_only\": true}]}}"), SW_OK);
	ck_warning("t.json: server.port: ignored because server.listeners is given");
	ck_assert_uint_eq(d.warnings, 1);
	ck_assert_uint_eq(cfg.server.listeners_count, 2);
	ck_assert_uint_eq(cfg.server.listeners[1].port, 8082);
	ck_assert(cfg.server.listeners[1].h2c_only);
	ck_assert_uint_eq(cfg.server.port, 8081);   /* mirrors listeners[0] */
	ck_assert_str_eq(cfg.server.address, "127.0.0.1");
	ck_only_error("{\"server\": {\"listeners\": []}}", "t.json: server.listeners: must not be empty");
	ck_only_error("{\"server\": {\"listeners\": [{\"port\": 80}, {\"address\": \"::\"}]}}",
		      "t.json: server.listeners[1].port: required");
}
END_TEST

/* CLI overrides (--cert/--key) change tls after the load; derive() follows them. */
START_TEST(derive_after_override)
{
	ck_clean("{\"server\": {\"port\": 8443}}");
	ck_assert(cfg.server.listeners_implicit);
	sw_tls_config(&cfg)->cert_path = strdup("/c.pem");
	sw_tls_config(&cfg)->key_path = strdup("/k.pem");
	sw_config_derive(&cfg);
	ck_assert_uint_eq(cfg.server.listeners_count, 1);
	ck_assert(cfg.server.listeners[0].use_tls);
	ck_assert_uint_eq(cfg.server.listeners[0].port, 8443);
	ck_assert_int_eq(sw_config_validate(&cfg, &d), SW_OK);

	/* Given listeners are the user's: derive() leaves them alone. */
	ck_clean("{\"server\": {\"listeners\": [{\"port\": 81}]}}");
	ck_assert(!cfg.server.listeners_implicit);
	sw_tls_config(&cfg)->cert_path = strdup("/c.pem");
	sw_tls_config(&cfg)->key_path = strdup("/k.pem");
	sw_config_derive(&cfg);
	ck_assert(!cfg.server.listeners[0].use_tls);
}
END_TEST

START_TEST(duplicate_listener)
{
	ck_only_error("{\"server\": {\"listeners\": [{\"address\": \"127.0.0.1\", \"port\": 8080},"
		      " {\"address\": \"127.0.0.1\", \"port\": 8081}, {\"address\": \"127.0.0.1\", \"port\": 8080}]}}",
		      "t.json: server.listeners[2]: 127.0.0.1:8080 duplicates server.listeners[0]");
	/* The same address spelled differently is still the same socket. */
	ck_only_error("{\"server\": {\"listeners\": [{\"address\": \"::1\", \"port\": 80},"
		      " {\"address\": \"0:0::1\", \"port\": 80}]}}",
		      "t.json: server.listeners[1]: [0:0::1]:80 duplicates server.listeners[0]");
	/* Port 0 twice: two kernel-chosen ports, not a conflict. */
	ck_clean("{\"server\": {\"listeners\": [{\"port\": 0}, {\"port\": 0}]}}");
}
END_TEST

START_TEST(trusted_proxies_cidrs)
{
	ck_assert_int_eq(parse("{\"server\": {\"trusted_proxies\": [\"10.0.0.0/8\", \"::1\", \"192.168.1.7/24\","
			       " \"fd00::/8\"]}}"), SW_OK);
	ck_warning("t.json: server.trusted_proxies[2]: \"192.168.1.7/24\" has host bits set; using 192.168.1.0/24");
	ck_assert_uint_eq(cfg.server.trusted_proxies_count, 4);
	const struct sw_cidr *c = cfg.server.trusted_proxies;
	ck_assert_int_eq(c[0].family, AF_INET);
	ck_assert_uint_eq(c[0].prefix, 8);
	ck_assert_uint_eq(c[0].addr[0], 10);
	ck_assert_int_eq(c[1].family, AF_INET6);
	ck_assert_uint_eq(c[1].prefix, 128);
	ck_assert_uint_eq(c[1].addr[15], 1);
	ck_assert_uint_eq(c[2].prefix, 24);
	ck_assert_uint_eq(c[2].addr[3], 0);
	ck_assert_uint_eq(c[3].prefix, 8);

	ck_only_error("{\"server\": {\"trusted_proxies\": [\"10.0.0.0/8\", \"10.0.0.300\"]}}",
		      "t.json: server.trusted_proxies[1]: \"10.0.0.300\" is not an IP address or CIDR block");
	ck_only_error("{\"server\": {\"trusted_proxies\": [\"10.0.0.0/33\"]}}",
		      "t.json: server.trusted_proxies[0]: \"10.0.0.0/33\" is not an IP address or CIDR block");
	ck_only_error("{\"server\": {\"trusted_proxies\": [\"::/\"]}}",
		      "t.json: server.trusted_proxies[0]: \"::/\" is not an IP address or CIDR block");
}
END_TEST

/* proxy_protocol is believed from trusted_proxies only: without any, nobody could use it. */
START_TEST(proxy_protocol_needs_trusted)
{
	ck_only_error("{\"server\": {\"listeners\": [{\"port\": 80},"
		      " {\"port\": 81, \"proxy_protocol\": true}]}}",
		      "t.json: server.listeners[1].proxy_protocol: requires server.trusted_proxies "
		      "(the load balancers' addresses)");
	ck_assert_int_eq(parse("{\"server\": {\"trusted_proxies\": [\"10.0.0.0/8\"], \"listeners\":"
			       " [{\"port\": 80, \"proxy_protocol\": true}]}}"), SW_OK);
	ck_assert(cfg.server.listeners[0].proxy_protocol);
}
END_TEST

/* ---- admin ---- */

START_TEST(admin_rules)
{
	ck_only_error("{\"admin\": {\"enabled\": true}}", "t.json: admin.api_key: required when admin.enabled is true");
	ck_only_error("{\"admin\": {\"enabled\": true, \"api_key\": \"short\"}}",
		      "t.json: admin.api_key: must be at least 16 characters");
	ck_clean("{\"admin\": {\"enabled\": true, \"api_key\": \"0123456789abcdef\"}}");
	ck_assert_int_eq(parse("{\"admin\": {\"enabled\": true, \"address\": \"0.0.0.0\","
			       " \"api_key\": \"0123456789abcdef\"}}"), SW_OK);
	ck_warning("t.json: admin.address: 0.0.0.0 is not a loopback address; "
		   "the admin API is reachable from the network");
	ck_only_error("{\"server\": {\"port\": 9180}, \"admin\": {\"enabled\": true,"
		      " \"api_key\": \"0123456789abcdef\"}}",
		      "t.json: admin.port: 9180 is also used by server.listeners[0]");
	/* A disabled admin API collides with nothing. */
	ck_clean("{\"server\": {\"port\": 9180}}");
}
END_TEST

/* Issue #19 item 6: the key from the environment, never serialized; one source only. */
START_TEST(admin_key_sources)
{
	char *json;

	setenv("SW_TEST_ADMIN_KEY", "0123456789abcdef-env", 1);
	ck_clean("{\"admin\": {\"enabled\": true, \"api_key_env\": \"SW_TEST_ADMIN_KEY\"}}");
	ck_assert_str_eq(cfg.admin.api_key, "0123456789abcdef-env");
	json = sw_config_to_json(&cfg, false);
	ck_assert_msg(!strstr(json, "\"api_key\"") && strstr(json, "\"api_key_env\""), "%s", json);
	free(json);
	ck_only_error("{\"admin\": {\"api_key\": \"0123456789abcdef\", \"api_key_env\": \"SW_TEST_ADMIN_KEY\"}}",
		      "t.json: admin: set only one of api_key, api_key_file and api_key_env");
	unsetenv("SW_TEST_ADMIN_KEY");
	ck_only_error("{\"admin\": {\"api_key_env\": \"SW_TEST_ADMIN_KEY\"}}",
		      "t.json: admin.api_key_env: the environment variable SW_TEST_ADMIN_KEY is not set");
	ck_only_error("{\"admin\": {\"api_key_file\": \"/nonexistent/swerver.key\"}}",
		      "t.json: admin.api_key_file: /nonexistent/swerver.key: cannot read: No such file or directory");
}
END_TEST

/* Issue #19 item 4: the admin API's rules are the file's (UTF-8, names DELETE can carry). */
START_TEST(utf8_and_name_limits)
{
	char json[1024];

	ck_only_error("{\"server\": {\"static_root\": \"/a\xff\"}}",
		      "t.json:1:31: JSON syntax error: invalid utf-8 string");
	snprintf(json, sizeof(json), "{\"upstreams\": [{\"name\": \"%0257d\", \"servers\": "
		 "[{\"address\": \"10.0.0.1\", \"port\": 80}]}]}", 0);
	ck_only_error(json, "t.json: upstreams[0].name: must be at most 256 bytes");
	snprintf(json, sizeof(json), "{\"upstreams\": [{\"name\": \"%0256d\", \"servers\": "
		 "[{\"address\": \"10.0.0.1\", \"port\": 80}]}]}", 0);
	ck_clean(json);
}
END_TEST

/* ---- logs ---- */

START_TEST(access_log_forms)
{
	ck_clean("{\"access_log\": \"json\"}");
	ck_assert_int_eq(cfg.access_log.format, SW_ACCESS_JSON);
	ck_assert_str_eq(cfg.access_log.target, "stderr");
	ck_clean("{\"access_log\": {\"format\": \"combined\", \"target\": \"/var/log/swerver/access.log\"}}");
	ck_assert_int_eq(cfg.access_log.format, SW_ACCESS_COMBINED);
	ck_assert_str_eq(cfg.access_log.target, "/var/log/swerver/access.log");
	ck_only_error("{\"access_log\": \"verbose\"}",
		      "t.json: access_log: must be one of \"off\", \"combined\", \"json\"");
	ck_only_error("{\"access_log\": true}", "t.json: access_log: must be an object or a string");
	ck_clean("{\"log\": {\"target\": \"syslog\", \"level\": \"debug\"}}");
	ck_assert_int_eq(cfg.log.level, SW_LOG_DEBUG);
}
END_TEST

/* ---- compare ---- */

START_TEST(compare_classifies)
{
	struct sw_config a, b;

	ck_assert_int_eq(sw_config_parse(&a, "{\"server\": {\"port\": 8080}}",
					 strlen("{\"server\": {\"port\": 8080}}"), &d), SW_OK);
	ck_assert_int_eq(parse("{\"server\": {\"port\": 8081}}"), SW_OK);
	ck_assert_uint_eq(sw_config_compare(&a, &cfg), SW_CFG_STRUCTURAL);
	ck_assert_int_eq(parse("{\"timeouts\": {\"idle_ms\": 5000}}"), SW_OK);
	ck_assert_uint_eq(sw_config_compare(&a, &cfg), SW_CFG_VALUES);
	ck_assert_int_eq(parse("{\"timeouts\": {\"idle_ms\": 5000}, \"server\": {\"workers\": 2}}"), SW_OK);
	ck_assert_uint_eq(sw_config_compare(&a, &cfg), SW_CFG_VALUES | SW_CFG_STRUCTURAL);
	ck_assert_int_eq(parse("{\"tls\": {\"client_cert_required\": false}}"), SW_OK);
	ck_assert_uint_eq(sw_config_compare(&a, &cfg), SW_CFG_STRUCTURAL);
	ck_assert_int_eq(parse("{\"quic\": {\"max_streams_bidi\": 7}}"), SW_OK);
	ck_assert_uint_eq(sw_config_compare(&a, &cfg), SW_CFG_STRUCTURAL);
	ck_assert_int_eq(parse("{\"log\": {\"level\": \"warn\"}, \"access_log\": \"json\"}"), SW_OK);
	ck_assert_uint_eq(sw_config_compare(&a, &cfg), SW_CFG_VALUES);
	ck_assert_int_eq(parse("{\"server\": {\"trusted_proxies\": [\"10.0.0.0/8\"]}}"), SW_OK);
	ck_assert_uint_eq(sw_config_compare(&a, &cfg), SW_CFG_VALUES);
	ck_assert_int_eq(parse("{\"upstreams\": [" UPSTREAM_API "]}"), SW_OK);
	ck_assert_uint_eq(sw_config_compare(&a, &cfg), SW_CFG_VALUES);
	sw_config_copy(&b, &cfg);
	ck_assert_uint_eq(sw_config_compare(&b, &cfg), SW_CFG_SAME);
	sw_proxy_config(&b)->upstreams[0].servers[0].weight = 5;
	ck_assert_uint_eq(sw_config_compare(&b, &cfg), SW_CFG_VALUES);
	sw_proxy_config(&b)->upstreams[0].servers[0].weight = 1;
	sw_proxy_config(&b)->upstreams[0].health_check.enabled = true;     /* same values, now probing */
	ck_assert_uint_eq(sw_config_compare(&b, &cfg), SW_CFG_VALUES);
	ck_assert_int_eq(parse("{\"access_log\": {\"target\": \"syslog\"}}"), SW_OK);
	ck_assert_uint_eq(sw_config_compare(&a, &cfg), SW_CFG_STRUCTURAL);
	ck_assert_int_eq(parse("// same as a\n{\"server\": {\"port\": 8080}}"), SW_OK);
	ck_assert_uint_eq(sw_config_compare(&a, &cfg), SW_CFG_SAME);
	sw_config_deinit(&a);
	sw_config_deinit(&b);
}
END_TEST

/* ---- serialization ---- */

static const char rich[] =
	"{\"server\": {\"workers\": 3, \"max_connections\": 100, \"static_root\": \"/srv/www\","
	" \"cache_static_files\": true, \"server_header\": false, \"allowed_hosts\": [\"a.example\", \"b.example\"],"
	" \"trusted_proxies\": [\"10.0.0.0/8\", \"2001:db8::/32\"], \"io_backend\": \"epoll\","
	" \"listeners\": [{\"address\": \"::\", \"port\": 8443, \"use_tls\": true, \"quic_enabled\": true,"
	" \"quic_port\": 8444}, {\"address\": \"127.0.0.1\", \"port\": 8080, \"h2c_only\": true}]},"
	" \"timeouts\": {\"idle_ms\": 1, \"header_ms\": 2, \"body_ms\": 3, \"write_ms\": 4, \"drain_ms\": 0},"
	" \"limits\": {\"max_header_bytes\": 4096, \"max_header_count\": 10, \"max_body_bytes\": 9007199254740993},"
	" \"tls\": {\"cert_path\": \"/c.pem\", \"key_path\": \"/k.pem\", \"client_ca_path\": \"/ca.pem\","
	" \"client_cert_required\": false, \"certificates\": [{\"hostnames\": [\"*.example\", \"example\"],"
	" \"cert_path\": \"/e.pem\", \"key_path\": \"/e.key\"}]},"
	" \"http2\": {\"max_streams\": 9, \"initial_window_size\": 65535, \"max_frame_size\": 32768,"
	" \"max_header_list_size\": 100},"
	" \"quic\": {\"enabled\": true, \"port\": 8444, \"cert_path\": \"/q.pem\", \"key_path\": \"/q.key\","
	" \"max_idle_timeout_ms\": 5, \"max_streams_bidi\": 6, \"max_streams_uni\": 7, \"retry\": \"auto\","
	" \"congestion_control\": \"bbr\", \"max_connections\": 8},"
	" \"upstreams\": [{\"name\": \"api\", \"load_balancer\": \"least_conn\", \"servers\": ["
	" {\"address\": \"10.0.0.1\", \"port\": 81, \"weight\": 5, \"max_fails\": 0, \"fail_timeout_ms\": 9,"
	" \"backup\": true}, {\"unix\": \"/run/app.sock\"}],"
	" \"health_check\": {\"interval_ms\": 11, \"timeout_ms\": 12, \"path\": \"/hc\", \"expected_status\": 204,"
	" \"healthy_threshold\": 4, \"unhealthy_threshold\": 5},"
	" \"connection_pool\": {\"max_connections\": 3, \"max_idle\": 2, \"idle_timeout_ms\": 1,"
	" \"connect_timeout_ms\": 2}}, {\"name\": \"b\", \"servers\": [{\"address\": \"b.internal\", \"port\": 1}]}],"
	" \"routes\": [{\"path_prefix\": \"/api\", \"host\": \"a.example\", \"upstream\": \"api\","
	" \"rewrite_pattern\": \"/api\", \"rewrite_replacement\": \"\", \"connect_timeout_ms\": 1,"
	" \"send_timeout_ms\": 2, \"read_timeout_ms\": 3, \"total_timeout_ms\": 4, \"max_response_bytes\": 5,"
	" \"upstream_headers\": [{\"name\": \"X-A\", \"value\": \"a/b\"}], \"retry\": {\"max_retries\": 0},"
	" \"fake\": {\"n\": 1, \"extra\": [0.1, {\"a\": null}]}}, {\"path_prefix\": \"/\", \"upstream\": \"b\"}],"
	" \"fake\": {\"n\": 2},"
	" \"admin\": {\"enabled\": true, \"address\": \"::1\", \"port\": 9999, \"api_key\": \"s3cret-s3cret-s3cret\"},"
	" \"log\": {\"target\": \"/var/log/e.log\", \"level\": \"error\"},"
	" \"access_log\": {\"format\": \"json\", \"target\": \"syslog\"}}";

START_TEST(to_json_round_trip)
{
	struct sw_config back;
	struct sw_diag d2;

	ck_clean(rich);
	char *json = sw_config_to_json(&cfg, false);
	sw_diag_init(&d2, "persisted");
	ck_assert_msg(sw_config_parse(&back, json, strlen(json), &d2) == SW_OK && d2.count == 0,
		      "%s\n%s", json, d2.count ? d2.entries[0].text : "");
	ck_assert_uint_eq(sw_config_compare(&cfg, &back), SW_CFG_SAME);
	ck_assert_uint_eq(back.limits.max_body_bytes, 9007199254740993ull);
	ck_assert_uint_eq(sw_proxy_config(&back)->routes[0].policies.count, 1);
	ck_assert(json_object_equal(sw_proxy_config(&back)->routes[0].policies.v[0].value,
				    sw_proxy_config(&cfg)->routes[0].policies.v[0].value));
	ck_assert_uint_eq(back.policies.count, 1);
	/* Serializing again gives the same text: nothing drifts across persists. */
	char *again = sw_config_to_json(&back, false);
	ck_assert_str_eq(json, again);
	ck_assert(strstr(json, "s3cret-s3cret-s3cret"));
	free(again);
	free(json);
	sw_config_deinit(&back);
	sw_diag_deinit(&d2);
}
END_TEST

START_TEST(to_json_defaults_round_trip)
{
	struct sw_config back;

	ck_clean("{\"server\": {\"port\": 0}, \"tls\": {\"cert_path\": \"/c\", \"key_path\": \"/k\"}}");
	char *json = sw_config_to_json(&cfg, true);
	ck_assert_int_eq(sw_config_parse(&back, json, strlen(json), &d), SW_OK);
	ck_assert_uint_eq(d.count, 0);
	ck_assert_uint_eq(sw_config_compare(&cfg, &back), SW_CFG_SAME);
	free(json);
	sw_config_deinit(&back);

	/* A plain implicit listener is persisted as it was written: address/port. */
	ck_clean("{}");
	json = sw_config_to_json(&cfg, true);
	ck_assert_ptr_null(strstr(json, "\"listeners\""));
	ck_assert_ptr_nonnull(strstr(json, "\"port\": 8080"));
	free(json);
}
END_TEST

START_TEST(to_json_redacts)
{
	ck_clean(rich);
	char *json = sw_config_to_json(&cfg, true);
	ck_assert_ptr_null(strstr(json, "s3cret"));
	ck_assert_ptr_nonnull(strstr(json, "\"api_key\": \"<redacted>\""));
	free(json);
}
END_TEST

START_TEST(copy_is_deep)
{
	struct sw_config c;

	ck_clean(rich);
	cfg.path = strdup("/etc/swerver/swerver.json");
	sw_config_copy(&c, &cfg);
	ck_assert_uint_eq(sw_config_compare(&cfg, &c), SW_CFG_SAME);
	ck_assert_str_eq(c.path, "/etc/swerver/swerver.json");
	ck_assert_ptr_ne(c.path, cfg.path);
	ck_assert_ptr_ne(sw_proxy_config(&c)->routes, sw_proxy_config(&cfg)->routes);
	ck_assert_ptr_ne(sw_proxy_config(&c)->routes[0].upstream_headers[0].name, sw_proxy_config(&cfg)->routes[0].upstream_headers[0].name);
	ck_assert_ptr_ne(c.server.allowed_hosts[0], cfg.server.allowed_hosts[0]);
	sw_config_deinit(&cfg);   /* the copy must survive its source */
	ck_assert_str_eq(sw_proxy_config(&c)->upstreams[0].servers[1].unix_path, "/run/app.sock");
	ck_assert_str_eq(sw_tls_config(&c)->certificates[0].hostnames[1], "example");
	sw_config_deinit(&c);
}
END_TEST

/* ---- files ---- */

START_TEST(load_missing_file)
{
	struct sw_diag nd;

	sw_diag_deinit(&d);
	sw_diag_init(&d, "/nonexistent/swerver.json");
	ck_assert_int_eq(sw_config_load(&cfg, "/nonexistent/swerver.json", &d), SW_ERROR);
	ck_error("/nonexistent/swerver.json: cannot read: No such file or directory");
	/* A caller that gave no source still gets the file named. */
	sw_diag_init(&nd, NULL);
	ck_assert_int_eq(sw_config_load(&cfg, "/nonexistent/x.json", &nd), SW_ERROR);
	ck_assert_str_eq(sw_diag_first_error(&nd), "/nonexistent/x.json: cannot read: No such file or directory");
	ck_assert_ptr_null(nd.source);
	sw_diag_deinit(&nd);
}
END_TEST

START_TEST(load_file)
{
	char path[] = "/tmp/test_config_XXXXXX";
	int fd = mkstemp(path);
	const char *text = "{\n\t\"server\": {\"port\": 8123}\n}\n";

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (int)strlen(text));
	close(fd);
	sw_diag_deinit(&d);
	sw_diag_init(&d, path);
	ck_assert_int_eq(sw_config_load(&cfg, path, &d), SW_OK);
	ck_assert_str_eq(cfg.path, path);
	ck_assert_uint_eq(cfg.server.listeners[0].port, 8123);
	sw_config_deinit(&cfg);

	fd = open(path, O_WRONLY | O_TRUNC);
	text = "{\n  \"server\": 1\n}\n";
	ck_assert_int_eq(write(fd, text, strlen(text)), (int)strlen(text));
	close(fd);
	ck_assert_int_eq(sw_config_load(&cfg, path, &d), SW_ERROR);
	char want[128];
	snprintf(want, sizeof(want), "%s: server: must be an object", path);
	ck_assert_str_eq(sw_diag_first_error(&d), want);
	unlink(path);
}
END_TEST

START_TEST(diag_formats)
{
	struct sw_diag x;

	sw_diag_init(&x, "admin request");
	sw_diag_error(&x, "routes[0].upstream", "no upstream named \"%s\"", "api");
	sw_diag_warn(&x, NULL, "plain");
	sw_diag_error_at(&x, 2, 7, "JSON syntax error: %s", "x");
	ck_assert_uint_eq(x.errors, 2);
	ck_assert_uint_eq(x.warnings, 1);
	ck_assert_str_eq(x.entries[0].text, "admin request: routes[0].upstream: no upstream named \"api\"");
	ck_assert_str_eq(x.entries[1].text, "admin request: plain");
	ck_assert_str_eq(x.entries[2].text, "admin request:2:7: JSON syntax error: x");
	ck_assert_str_eq(sw_diag_first_error(&x), x.entries[0].text);
	sw_diag_deinit(&x);
	ck_assert_ptr_null(sw_diag_first_error(&x));
}
END_TEST


static Suite *config_suite(void)
{
	const struct config_case cases[] = {
		{ "defaults", defaults_from_empty_object }, { "defaults", init_matches_empty_object },
		{ "defaults", section_defaults }, { "syntax", comments_allowed },
		{ "syntax", syntax_error_line_col }, { "syntax", trailing_garbage },
		{ "syntax", top_level_not_object }, { "values", wrong_type }, { "values", out_of_range },
		{ "values", bad_enum }, { "values", unknown_key_warns }, { "values", missing_required },
		{ "semantics", unknown_upstream_reference }, { "semantics", route_headers },
		{ "listeners", listener_from_address_port }, { "listeners", listeners_override_address_port },
		{ "listeners", duplicate_listener }, { "listeners", derive_after_override }, { "listeners", trusted_proxies_cidrs },
		{ "listeners", proxy_protocol_needs_trusted },
		{ "admin", admin_rules }, { "admin", admin_key_sources },
		{ "syntax", utf8_and_name_limits }, { "logs", access_log_forms },
		{ "reload", compare_classifies }, { "persist", to_json_round_trip },
		{ "persist", to_json_defaults_round_trip }, { "persist", to_json_redacts },
		{ "persist", copy_is_deep }, { "files", load_missing_file }, { "files", load_file },
		{ "diag", diag_formats },
	};

	return config_cases_suite("config", cases, sizeof(cases) / sizeof(cases[0]));
}

SW_TEST_SUITE(config_suite);
