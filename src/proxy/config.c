/* SPDX-License-Identifier: MIT */
/* config.c - the reverse proxy's section of the config: the tables of upstreams[] and routes[]. */
#include <config.h>     /* autoconf's, from the build dir (not core/config.h) */

#include <json-c/json.h>
#include "core/config_schema.h"
#include "core/policy_def.h"
#include "proxy/config.h"

static const char *const lb_names[] = { "round_robin", "least_conn", "ip_hash", "random",
					"weighted_round_robin", NULL };

#define S struct sw_upstream_server_cfg
static const struct sw_cfg_field upstream_server_fields[] = {
	/* Either address+port or unix: the other side stays out of the JSON. */
	SW_STRING("address", address, NULL, SW_F_OMIT_EMPTY),
	SW_U16("port", port, 1, 65535, 0, SW_F_OMIT_EMPTY),
	SW_STRF(SW_T_PATH, "unix", unix_path, NULL, SW_F_OMIT_EMPTY),
	SW_U32("weight", weight, 1, 1000, 1, 0),
	SW_U32("max_fails", max_fails, 0, 1000000, 1, 0),
	SW_U32("fail_timeout_ms", fail_timeout_ms, 1, SW_CFG_MAX_U32, 10000, 0),
	SW_BOOL("backup", backup, false, 0),
};
static const struct sw_cfg_table upstream_server_table = SW_TABLE(upstream_server_fields, S, SW_CFG_NONE, NULL, NULL);
#undef S

#define S struct sw_health_check_cfg
static const struct sw_cfg_field health_fields[] = {
	SW_U32("interval_ms", interval_ms, 1, SW_CFG_MAX_U32, 5000, 0),
	SW_U32("timeout_ms", timeout_ms, 1, SW_CFG_MAX_U32, 2000, 0),
	SW_STRING("path", path, "/", 0),
	SW_U16("expected_status", expected_status, 100, 599, 200, 0),
	SW_U32("healthy_threshold", healthy_threshold, 1, 1000, 2, 0),
	SW_U32("unhealthy_threshold", unhealthy_threshold, 1, 1000, 3, 0),
};
static const struct sw_cfg_table health_table =
	SW_TABLE(health_fields, S, offsetof(S, enabled), NULL, NULL);
#undef S

#define S struct sw_pool_cfg
static const struct sw_cfg_field pool_fields[] = {
	SW_U32("max_connections", max_connections, 1, 1048576, 64, 0),
	SW_U32("max_idle", max_idle, 0, 1048576, 16, 0),
	SW_U32("idle_timeout_ms", idle_timeout_ms, 1, SW_CFG_MAX_U32, 60000, 0),
	SW_U32("connect_timeout_ms", connect_timeout_ms, 1, SW_CFG_MAX_U32, 5000, 0),
};
static const struct sw_cfg_table pool_table = SW_TABLE(pool_fields, S, SW_CFG_NONE, NULL, NULL);
#undef S

#define S struct sw_upstream_cfg
static const struct sw_cfg_field upstream_fields[] = {
	SW_NAME("name", name),
	SW_ARR("servers", servers, servers_count, upstream_server_table, 0),
	SW_ENUM("load_balancer", load_balancer, lb_names, SW_LB_ROUND_ROBIN, 0),
	SW_OBJ("health_check", health_check, health_table, 0),
	SW_OBJ("connection_pool", connection_pool, pool_table, 0),
};
static const struct sw_cfg_table upstream_table = SW_TABLE(upstream_fields, S, SW_CFG_NONE, NULL, NULL);
#undef S

#define S struct sw_header_cfg
static const struct sw_cfg_field header_fields[] = {
	SW_STRING("name", name, NULL, 0),
	SW_STRING("value", value, NULL, 0),
};
static const struct sw_cfg_table header_table = SW_TABLE(header_fields, S, SW_CFG_NONE, NULL, NULL);
#undef S

/* "retry": {"max_retries"} is flat in the route struct: a sub-table at offset 0. */
#define S struct sw_route_cfg
static const struct sw_cfg_field retry_fields[] = {
	SW_U32("max_retries", max_retries, 0, 100, 1, 0),
};
static const struct sw_cfg_table retry_table = SW_TABLE(retry_fields, S, SW_CFG_NONE, NULL, NULL);

static const struct sw_cfg_field route_fields[] = {
	SW_NAME("path_prefix", path_prefix),
	SW_STRING("host", host, NULL, 0),
	SW_STRING("upstream", upstream, NULL, 0),
	SW_STRING("rewrite_pattern", rewrite_pattern, NULL, 0),
	SW_STRING("rewrite_replacement", rewrite_replacement, NULL, 0),
	SW_U32("connect_timeout_ms", connect_timeout_ms, 1, SW_CFG_MAX_U32, 5000, 0),
	SW_U32("send_timeout_ms", send_timeout_ms, 1, SW_CFG_MAX_U32, 30000, 0),
	SW_U32("read_timeout_ms", read_timeout_ms, 1, SW_CFG_MAX_U32, 30000, 0),
	SW_U32("total_timeout_ms", total_timeout_ms, 0, SW_CFG_MAX_U32, 0, 0),
	SW_U64("max_response_bytes", max_response_bytes, 0, INT64_MAX, 0, 0),
	SW_ARR("upstream_headers", upstream_headers, upstream_headers_count, header_table, 0),
	{ .key = "retry", .type = SW_T_OBJ, .off = 0, .sub = &retry_table },
};
/* rate_limit, auth, cors, ...: the keys of the policies registered for routes. */
static const struct sw_cfg_table route_table =
	SW_TABLE_POLICIES(route_fields, S, SW_CFG_NONE, NULL, NULL, SW_POLICY_ROUTE, policies);
#undef S

#define S struct sw_proxy_cfg
static const struct sw_cfg_field proxy_fields[] = {
	SW_ARR("upstreams", upstreams, upstreams_count, upstream_table, 0),
	SW_ARR("routes", routes, routes_count, route_table, 0),
};
static const struct sw_cfg_table proxy_table = SW_TABLE(proxy_fields, S, SW_CFG_NONE, NULL, NULL);
#undef S

const struct sw_config_section sw_proxy_config_section = {
	.slot = SW_UNIT_PROXY,
	.table = &proxy_table,
	.validate = sw_proxy_config_validate,
};
