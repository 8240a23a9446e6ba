/* SPDX-License-Identifier: MIT */
/* config.h - the reverse proxy's config section: upstreams[] and routes[] (src/proxy/config.c). */
#ifndef SW_PROXY_CONFIG_H
#define SW_PROXY_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/config.h"
#include "core/module.h"

struct sw_upstream_server_cfg {
	char *address;            /* host name or IP; NULL when unix is set */
	uint16_t port;
	char *unix_path;          /* "unix": "/run/app.sock" */
	uint32_t weight;          /* 1 (1-1000) */
	uint32_t max_fails;       /* 1; 0 disables passive health */
	uint32_t fail_timeout_ms; /* 10000 */
	bool backup;              /* false */
};

enum sw_lb { SW_LB_ROUND_ROBIN, SW_LB_LEAST_CONN, SW_LB_IP_HASH, SW_LB_RANDOM,
	     SW_LB_WEIGHTED_ROUND_ROBIN };

struct sw_health_check_cfg {
	bool enabled;             /* true when the object is present */
	uint32_t interval_ms;     /* 5000 */
	uint32_t timeout_ms;      /* 2000 */
	char *path;               /* "/" */
	uint16_t expected_status; /* 200 */
	uint32_t healthy_threshold;   /* 2 */
	uint32_t unhealthy_threshold; /* 3 */
};

struct sw_pool_cfg {
	uint32_t max_connections;     /* 64 */
	uint32_t max_idle;            /* 16 */
	uint32_t idle_timeout_ms;     /* 60000 */
	uint32_t connect_timeout_ms;  /* 5000 */
};

struct sw_upstream_cfg {
	char *name;
	struct sw_upstream_server_cfg *servers;
	size_t servers_count;
	enum sw_lb load_balancer;     /* round_robin */
	struct sw_health_check_cfg health_check;
	struct sw_pool_cfg connection_pool;
};

struct sw_header_cfg {
	char *name;
	char *value;
};

struct sw_route_cfg {
	char *path_prefix;            /* required, starts with '/' */
	char *host;                   /* NULL = any */
	char *upstream;               /* required; names an upstreams[] entry */
	char *rewrite_pattern;        /* a prefix to replace; NULL = none */
	char *rewrite_replacement;
	uint32_t connect_timeout_ms;  /* 5000 */
	uint32_t send_timeout_ms;     /* 30000 */
	uint32_t read_timeout_ms;     /* 30000 */
	uint32_t total_timeout_ms;    /* 0 = none */
	uint64_t max_response_bytes;  /* 0 = unlimited */
	struct sw_header_cfg *upstream_headers;
	size_t upstream_headers_count;
	uint32_t max_retries;         /* retry.max_retries, 1 */
	/* Keys of SW_POLICY_ROUTE policies: rate_limit (ratelimit_policy.c), auth, cors, ... */
	struct sw_policy_set policies;
};

/* The proxy's part of struct sw_config (cfg->unit[SW_UNIT_PROXY]). */
struct sw_proxy_cfg {
	struct sw_upstream_cfg *upstreams;
	size_t upstreams_count;
	struct sw_route_cfg *routes;
	size_t routes_count;
};

extern const struct sw_config_section sw_proxy_config_section;

/* cfg's upstreams and routes; NULL when cfg was made without the proxy unit. */
static inline struct sw_proxy_cfg *sw_proxy_config(const struct sw_config *cfg)
{
	return cfg->unit[SW_UNIT_PROXY].data;
}

/* config_check.c: the section's checks (sw_proxy_config_section.validate). */
void sw_proxy_config_validate(const struct sw_config *cfg, struct sw_diag *diag);

#endif
