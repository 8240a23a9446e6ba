/* config.c - the JSON config: defaults, parsing, reload comparison, serialization. */
#include <config.h>     /* autoconf's, from the build dir (not core/config.h) */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <json-c/json.h>
#include "core/config.h"
#include "core/diag.h"
#include "core/module.h"
#include "core/shm.h"

/*
 * One table per section drives everything a section needs: defaults, parsing,
 * freeing, copying, comparing and serializing.  A key added to config.h and
 * to its table is thereby parsed, persisted and classified for reloads.
 */
enum ftype {
	T_BOOL, T_U16, T_U32, T_U64,
	T_DOUBLE,  /* > 0 and <= max */
	T_ENUM,    /* unsigned-sized enum, names[] */
	T_STR,     /* char *; JSON null allowed when the default is NULL */
	T_PATH,    /* T_STR that must be absolute */
	T_IP,      /* T_STR holding an IPv4/IPv6 literal */
	T_TARGET,  /* one of names[] or an absolute path */
	T_STRV,    /* char ** + count of non-empty strings */
	T_CIDRS,   /* struct sw_cidr * + count */
	T_OBJ,     /* embedded struct described by sub */
	T_ARR,     /* array of sub structs + count */
};

enum {
	F_STRUCT = 1 << 0,      /* a change needs new workers (compare) */
	F_SECRET = 1 << 1,      /* replaced by "<redacted>" in redacted JSON */
	F_OMIT_EMPTY = 1 << 2,  /* left out of JSON when NULL or 0 */
	F_ALIAS = 1 << 3,       /* another spelling of the key before it: parsed only */
};

#define NONE SIZE_MAX

struct parser;
struct table;

struct field {
	const char *key;
	enum ftype type;
	unsigned flags;
	size_t off;                 /* in the section's struct */
	size_t count_off;           /* T_STRV, T_CIDRS, T_ARR */
	int64_t min, max;           /* integers (max also for T_DOUBLE) */
	uint64_t def;               /* integers, bools, enums */
	const char *defs;           /* strings */
	const char *const *names;   /* T_ENUM, T_TARGET; NULL-terminated */
	const struct table *sub;    /* T_OBJ, T_ARR */
};

struct table {
	const struct field *fields;
	size_t count;
	size_t size;                /* of the struct, for arrays of it */
	size_t present_off;         /* bool set when the object is given, or NONE */
	/* Section work that needs the JSON (key presence) after its keys parsed. */
	void (*finish)(struct parser *p, void *st, json_object *obj);
	/* Accepts a string in place of the object (access_log: "combined"). */
	void (*shorthand)(struct parser *p, void *st, json_object *val);
};

/* A wrong member type in a table is a compile error, not a corrupted config. */
#define IS(m, T) (0 * sizeof(char[__builtin_types_compatible_p(__typeof__(((S *)0)->m), T) ? 1 : -1]))
#define AT(m, T) (offsetof(S, m) + IS(m, T))
#define AT_ENUM(m) (offsetof(S, m) + 0 * sizeof(char[sizeof(((S *)0)->m) == sizeof(unsigned) ? 1 : -1]))

#define BOOL(k, m, d, fl) { .key = k, .type = T_BOOL, .flags = fl, .off = AT(m, bool), .def = d }
#define U16(k, m, lo, hi, d, fl) { .key = k, .type = T_U16, .flags = fl, .off = AT(m, uint16_t), \
				   .min = lo, .max = hi, .def = d }
#define U32(k, m, lo, hi, d, fl) { .key = k, .type = T_U32, .flags = fl, .off = AT(m, uint32_t), \
				   .min = lo, .max = hi, .def = d }
#define U64(k, m, lo, hi, d, fl) { .key = k, .type = T_U64, .flags = fl, .off = AT(m, uint64_t), \
				   .min = lo, .max = hi, .def = d }
#define DBL(k, m, hi, fl) { .key = k, .type = T_DOUBLE, .flags = fl, .off = AT(m, double), .max = hi }
#define ENUM(k, m, nm, d, fl) { .key = k, .type = T_ENUM, .flags = fl, .off = AT_ENUM(m), \
				.names = nm, .def = d }
#define STRF(t, k, m, d, fl) { .key = k, .type = t, .flags = fl, .off = AT(m, char *), .defs = d }
#define STR(k, m, d, fl) STRF(T_STR, k, m, d, fl)
/* A name the admin API addresses in a URL: short enough for any limits.max_header_bytes. */
#define NAME(k, m) { .key = k, .type = T_STR, .off = AT(m, char *), .max = SW_CONFIG_NAME_MAX }
#define TARGET(k, m, nm, d, fl) { .key = k, .type = T_TARGET, .flags = fl, .off = AT(m, char *), \
				  .names = nm, .defs = d }
#define STRV(k, m, n, fl) { .key = k, .type = T_STRV, .flags = fl, .off = AT(m, char **), \
			    .count_off = AT(n, size_t) }
#define CIDRS(k, m, n, fl) { .key = k, .type = T_CIDRS, .flags = fl, \
			     .off = AT(m, struct sw_cidr *), .count_off = AT(n, size_t) }
#define OBJ(k, m, tab, fl) { .key = k, .type = T_OBJ, .flags = fl, .off = offsetof(S, m), .sub = &tab }
#define ARR(k, m, n, tab, fl) { .key = k, .type = T_ARR, .flags = fl, .off = offsetof(S, m), \
				.count_off = AT(n, size_t), .sub = &tab }
#define TABLE(f, s, present, fin, sh) { f, SW_ARRAY_SIZE(f), sizeof(s), present, fin, sh }

#define MAX_U32 ((int64_t)UINT32_MAX)
#define MAX_I32 ((int64_t)INT32_MAX)

static const char *const io_backend_names[] = { "auto", "epoll", "io_uring", NULL };
static const char *const retry_names[] = { "off", "always", "auto", NULL };
static const char *const cc_names[] = { "cubic", "bbr", "reno", NULL };
static const char *const lb_names[] = { "round_robin", "least_conn", "ip_hash", "random",
					"weighted_round_robin", NULL };
static const char *const rate_key_names[] = { "ip", "consumer", NULL };
static const char *const level_names[] = { "error", "warn", "info", "debug", NULL };
static const char *const access_format_names[] = { "off", "combined", "json", NULL };
static const char *const log_target_names[] = { "auto", "stderr", "syslog", "journal", NULL };
static const char *const access_target_names[] = { "stderr", "syslog", NULL };

static void finish_listener(struct parser *p, void *st, json_object *obj);
static void finish_rate_limit(struct parser *p, void *st, json_object *obj);
static void finish_root(struct parser *p, void *st, json_object *obj);
static void finish_admin(struct parser *p, void *st, json_object *obj);
static void access_log_shorthand(struct parser *p, void *st, json_object *val);

#define S struct sw_listener_cfg
static const struct field listener_fields[] = {
	STRF(T_IP, "address", address, "0.0.0.0", 0),
	U16("port", port, 0, 65535, 0, 0),      /* required (finish_listener) */
	BOOL("use_tls", use_tls, false, 0),
	BOOL("h2c_only", h2c_only, false, 0),
	BOOL("quic_enabled", quic_enabled, false, 0),
	U16("quic_port", quic_port, 0, 65535, 0, 0),
};
static const struct table listener_table = TABLE(listener_fields, S, NONE, finish_listener, NULL);
#undef S

#define S struct sw_server_cfg
static const struct field server_fields[] = {
	/* address/port mirror listeners[0] once parsed, hence structural. */
	STRF(T_IP, "address", address, "0.0.0.0", F_STRUCT),
	U16("port", port, 0, 65535, 8080, F_STRUCT),
	U32("workers", workers, 0, SW_MAX_SLOTS, 0, F_STRUCT),
	U32("max_connections", max_connections, 1, 1048576, 2048, F_STRUCT),
	STR("static_root", static_root, NULL, 0),
	BOOL("cache_static_files", cache_static_files, false, 0),
	BOOL("server_header", server_header, true, 0),
	STRV("allowed_hosts", allowed_hosts, allowed_hosts_count, 0),
	CIDRS("trusted_proxies", trusted_proxies, trusted_proxies_count, 0),
	ENUM("io_backend", io_backend, io_backend_names, SW_IO_AUTO, F_STRUCT),
	ARR("listeners", listeners, listeners_count, listener_table, F_STRUCT),
};
static const struct table server_table = TABLE(server_fields, S, NONE, NULL, NULL);
#undef S

#define S struct sw_timeouts_cfg
static const struct field timeouts_fields[] = {
	U32("idle_ms", idle_ms, 1, MAX_U32, 60000, 0),
	U32("header_ms", header_ms, 1, MAX_U32, 10000, 0),
	U32("body_ms", body_ms, 1, MAX_U32, 30000, 0),
	U32("write_ms", write_ms, 1, MAX_U32, 30000, 0),
	U32("drain_ms", drain_ms, 0, MAX_U32, 30000, 0),
	/* Below 100 ms a structural reload would fail for forking alone. */
	U32("reload_ms", reload_ms, 100, MAX_U32, 30000, 0),
	/* 0: a stalled worker is only steered around, never replaced. */
	U32("stall_ms", stall_ms, 0, MAX_U32, 30000, 0),
};
static const struct table timeouts_table = TABLE(timeouts_fields, S, NONE, NULL, NULL);
#undef S

#define S struct sw_limits_cfg
static const struct field limits_fields[] = {
	U32("max_header_bytes", max_header_bytes, 1024, 16777216, 32768, 0),
	U32("max_header_count", max_header_count, 1, 65535, 128, 0),
	U64("max_body_bytes", max_body_bytes, 0, INT64_MAX, 32 << 20, 0),
	U32("min_body_rate", min_body_rate, 0, MAX_U32, 500, 0),
	U32("min_send_rate", min_send_rate, 0, MAX_U32, 0, 0),
	U32("min_rate_window_ms", min_rate_window_ms, 100, MAX_U32, 10000, 0),
};
static const struct table limits_table = TABLE(limits_fields, S, NONE, NULL, NULL);
#undef S

#define S struct sw_static_cfg
static const struct field static_fields[] = {
	U32("open_file_cache", open_file_cache, 0, 1048576, 1024, 0),
	U32("open_file_cache_valid_ms", open_file_cache_valid_ms, 0, 86400000, 1000, 0),
};
static const struct table static_table = TABLE(static_fields, S, NONE, NULL, NULL);
#undef S

#define S struct sw_tls_cert_cfg
static const struct field cert_fields[] = {
	STRV("hostnames", hostnames, hostnames_count, 0),
	STR("cert_path", cert_path, NULL, 0),
	STR("key_path", key_path, NULL, 0),
};
static const struct table cert_table = TABLE(cert_fields, S, NONE, NULL, NULL);
#undef S

#define S struct sw_tls_cfg
static const struct field tls_fields[] = {
	STR("cert_path", cert_path, NULL, 0),
	STR("key_path", key_path, NULL, 0),
	ARR("certificates", certificates, certificates_count, cert_table, 0),
	STR("client_ca_path", client_ca_path, NULL, 0),
	BOOL("client_cert_required", client_cert_required, true, 0),
};
static const struct table tls_table = TABLE(tls_fields, S, NONE, NULL, NULL);
#undef S

#define S struct sw_http2_cfg
static const struct field http2_fields[] = {
	U32("max_streams", max_streams, 1, MAX_I32, 128, 0),
	U32("initial_window_size", initial_window_size, 0, MAX_I32, 1 << 20, 0),
	U32("max_frame_size", max_frame_size, 16384, 16777215, 16384, 0),
	U32("max_header_list_size", max_header_list_size, 1, MAX_U32, 8192, 0),
	BOOL("h2c_only", h2c_only, false, 0),
};
static const struct table http2_table = TABLE(http2_fields, S, NONE, NULL, NULL);
#undef S

#define S struct sw_quic_cfg
static const struct field quic_fields[] = {
	BOOL("enabled", enabled, false, 0),
	U16("port", port, 1, 65535, 443, 0),
	STR("cert_path", cert_path, NULL, 0),   /* NULL: tls.cert_path */
	STR("key_path", key_path, NULL, 0),
	U32("max_idle_timeout_ms", max_idle_timeout_ms, 1, MAX_U32, 30000, 0),
	U32("max_streams_bidi", max_streams_bidi, 1, MAX_U32, 100, 0),
	U32("max_streams_uni", max_streams_uni, 3, MAX_U32, 100, 0),
	ENUM("retry", retry, retry_names, SW_QUIC_RETRY_OFF, 0),
	ENUM("congestion_control", congestion_control, cc_names, SW_QUIC_CC_CUBIC, 0),
	U32("max_connections", max_connections, 1, 1048576, 4096, 0),
};
static const struct table quic_table = TABLE(quic_fields, S, NONE, NULL, NULL);
#undef S

#define S struct sw_upstream_server_cfg
static const struct field upstream_server_fields[] = {
	/* Either address+port or unix: the other side stays out of the JSON. */
	STR("address", address, NULL, F_OMIT_EMPTY),
	U16("port", port, 1, 65535, 0, F_OMIT_EMPTY),
	STRF(T_PATH, "unix", unix_path, NULL, F_OMIT_EMPTY),
	U32("weight", weight, 1, 1000, 1, 0),
	U32("max_fails", max_fails, 0, 1000000, 1, 0),
	U32("fail_timeout_ms", fail_timeout_ms, 1, MAX_U32, 10000, 0),
	BOOL("backup", backup, false, 0),
};
static const struct table upstream_server_table = TABLE(upstream_server_fields, S, NONE, NULL, NULL);
#undef S

#define S struct sw_health_check_cfg
static const struct field health_fields[] = {
	U32("interval_ms", interval_ms, 1, MAX_U32, 5000, 0),
	U32("timeout_ms", timeout_ms, 1, MAX_U32, 2000, 0),
	STR("path", path, "/", 0),
	U16("expected_status", expected_status, 100, 599, 200, 0),
	U32("healthy_threshold", healthy_threshold, 1, 1000, 2, 0),
	U32("unhealthy_threshold", unhealthy_threshold, 1, 1000, 3, 0),
};
static const struct table health_table =
	TABLE(health_fields, S, offsetof(S, enabled), NULL, NULL);
#undef S

#define S struct sw_pool_cfg
static const struct field pool_fields[] = {
	U32("max_connections", max_connections, 1, 1048576, 64, 0),
	U32("max_idle", max_idle, 0, 1048576, 16, 0),
	U32("idle_timeout_ms", idle_timeout_ms, 1, MAX_U32, 60000, 0),
	U32("connect_timeout_ms", connect_timeout_ms, 1, MAX_U32, 5000, 0),
};
static const struct table pool_table = TABLE(pool_fields, S, NONE, NULL, NULL);
#undef S

#define S struct sw_upstream_cfg
static const struct field upstream_fields[] = {
	NAME("name", name),
	ARR("servers", servers, servers_count, upstream_server_table, 0),
	ENUM("load_balancer", load_balancer, lb_names, SW_LB_ROUND_ROBIN, 0),
	OBJ("health_check", health_check, health_table, 0),
	OBJ("connection_pool", connection_pool, pool_table, 0),
};
static const struct table upstream_table = TABLE(upstream_fields, S, NONE, NULL, NULL);
#undef S

#define S struct sw_header_cfg
static const struct field header_fields[] = {
	STR("name", name, NULL, 0),
	STR("value", value, NULL, 0),
};
static const struct table header_table = TABLE(header_fields, S, NONE, NULL, NULL);
#undef S

#define S struct sw_rate_limit_cfg
static const struct field rate_fields[] = {
	DBL("requests_per_second", requests_per_second, 1000000000, 0),
	U32("burst_size", burst_size, 1, MAX_U32, 1, 0),
	ENUM("key", key, rate_key_names, SW_RATE_KEY_IP, 0),
	STR("consumer_header", consumer_header, "X-API-Key", 0),
	STR("header", consumer_header, "X-API-Key", F_ALIAS),
};
static const struct table rate_table =
	TABLE(rate_fields, S, offsetof(S, enabled), finish_rate_limit, NULL);
#undef S

/* "retry": {"max_retries"} is flat in the route struct: a sub-table at offset 0. */
#define S struct sw_route_cfg
static const struct field retry_fields[] = {
	U32("max_retries", max_retries, 0, 100, 1, 0),
};
static const struct table retry_table = TABLE(retry_fields, S, NONE, NULL, NULL);

static const struct field route_fields[] = {
	NAME("path_prefix", path_prefix),
	STR("host", host, NULL, 0),
	STR("upstream", upstream, NULL, 0),
	STR("rewrite_pattern", rewrite_pattern, NULL, 0),
	STR("rewrite_replacement", rewrite_replacement, NULL, 0),
	U32("connect_timeout_ms", connect_timeout_ms, 1, MAX_U32, 5000, 0),
	U32("send_timeout_ms", send_timeout_ms, 1, MAX_U32, 30000, 0),
	U32("read_timeout_ms", read_timeout_ms, 1, MAX_U32, 30000, 0),
	U32("total_timeout_ms", total_timeout_ms, 0, MAX_U32, 0, 0),
	U64("max_response_bytes", max_response_bytes, 0, INT64_MAX, 0, 0),
	ARR("upstream_headers", upstream_headers, upstream_headers_count, header_table, 0),
	{ .key = "retry", .type = T_OBJ, .off = 0, .sub = &retry_table },
	OBJ("rate_limit", rate_limit, rate_table, 0),
};
static const struct table route_table = TABLE(route_fields, S, NONE, NULL, NULL);
#undef S

#define S struct sw_admin_cfg
static const struct field admin_fields[] = {
	BOOL("enabled", enabled, false, 0),
	STRF(T_IP, "address", address, "127.0.0.1", 0),
	U16("port", port, 1, 65535, 9180, 0),
	STR("api_key", api_key, NULL, F_SECRET),
	/* Resolved into api_key (finish_admin), which then stays out of the JSON. */
	STRF(T_PATH, "api_key_file", api_key_file, NULL, F_OMIT_EMPTY),
	STR("api_key_env", api_key_env, NULL, F_OMIT_EMPTY),
	U32("auth_failures", auth_failures, 1, 1000000, 10, 0),
	U32("auth_failures_total", auth_failures_total, 1, 1000000, 100, 0),
	U32("lockout_ms", lockout_ms, 1, MAX_U32, 60000, 0),
};
static const struct table admin_table = TABLE(admin_fields, S, NONE, finish_admin, NULL);
#undef S

#define S struct sw_log_cfg
static const struct field log_fields[] = {
	TARGET("target", target, log_target_names, "auto", 0),
	ENUM("level", level, level_names, SW_LOG_INFO, 0),
};
static const struct table log_table = TABLE(log_fields, S, NONE, NULL, NULL);
#undef S

#define S struct sw_access_log_cfg
static const struct field access_fields[] = {
	ENUM("format", format, access_format_names, SW_ACCESS_OFF, 0),
	/* Workers hold the access log open: a new target needs new workers. */
	TARGET("target", target, access_target_names, "stderr", F_STRUCT),
};
static const struct table access_table =
	TABLE(access_fields, S, NONE, NULL, access_log_shorthand);
#undef S

#define S struct sw_config
static const struct field root_fields[] = {
	OBJ("server", server, server_table, 0),
	OBJ("timeouts", timeouts, timeouts_table, 0),
	OBJ("limits", limits, limits_table, 0),
	OBJ("static", static_files, static_table, 0),
	OBJ("tls", tls, tls_table, F_STRUCT),
	OBJ("http2", http2, http2_table, 0),
	OBJ("quic", quic, quic_table, F_STRUCT),
	ARR("upstreams", upstreams, upstreams_count, upstream_table, 0),
	ARR("routes", routes, routes_count, route_table, 0),
	/* Its listener is opened by the master: a change needs new workers. */
	OBJ("admin", admin, admin_table, F_STRUCT),
	OBJ("log", log, log_table, 0),
	OBJ("access_log", access_log, access_table, 0),
};
static const struct table root_table = TABLE(root_fields, S, NONE, finish_root, NULL);
#undef S

/* ---- field access ---- */

static void *at(void *st, size_t off)
{
	return (char *)st + off;
}

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static const void *cat(const void *st, size_t off)
{
	return (const char *)st + off;
}

#define REF(T, st, f) ((T *)at(st, (f)->off))
#define CREF(T, st, f) ((const T *)cat(st, (f)->off))
#define COUNT(st, f) (*(size_t *)at(st, (f)->count_off))
#define CCOUNT(st, f) (*(const size_t *)cat(st, (f)->count_off))

static int name_index(const char *const *names, const char *s)
{
	for (int i = 0; names[i]; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	return -1;
}

/* "\"a\", \"b\", \"c\"" for messages. */
static const char *names_list(const char *const *names, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (int i = 0; names[i] && len < size; i++) {
		int n = snprintf(buf + len, size - len, "%s\"%s\"", i ? ", " : "", names[i]);
		if (n < 0)
			break;
		len += (size_t)n;
	}
	return buf;
}

/* ---- defaults, freeing, copying ---- */

static void apply_defaults(const struct table *t, void *st)
{
	for (size_t i = 0; i < t->count; i++) {
		const struct field *f = &t->fields[i];
		if (f->flags & F_ALIAS)
			continue;
		switch (f->type) {
		case T_BOOL: *REF(bool, st, f) = f->def; break;
		case T_U16: *REF(uint16_t, st, f) = (uint16_t)f->def; break;
		case T_U32: *REF(uint32_t, st, f) = (uint32_t)f->def; break;
		case T_U64: *REF(uint64_t, st, f) = f->def; break;
		case T_DOUBLE: *REF(double, st, f) = 0; break;
		case T_ENUM: *REF(unsigned, st, f) = (unsigned)f->def; break;
		case T_STR: case T_PATH: case T_IP: case T_TARGET:
			*REF(char *, st, f) = sw_strdup(f->defs);
			break;
		case T_STRV: case T_CIDRS: case T_ARR:
			*REF(void *, st, f) = NULL;
			COUNT(st, f) = 0;
			break;
		case T_OBJ: apply_defaults(f->sub, at(st, f->off)); break;
		}
	}
	if (t->present_off != NONE)
		*(bool *)at(st, t->present_off) = false;
}

static void free_fields(const struct table *t, void *st);

static void free_array(const struct field *f, void *st)
{
	char *arr = *REF(char *, st, f);
	size_t n = COUNT(st, f);

	for (size_t i = 0; i < n; i++) {
		if (f->type == T_STRV)
			free(((char **)(void *)arr)[i]);
		else if (f->type == T_ARR)
			free_fields(f->sub, arr + i * f->sub->size);
	}
	free(arr);
	*REF(void *, st, f) = NULL;
	COUNT(st, f) = 0;
}

static void free_fields(const struct table *t, void *st)
{
	for (size_t i = 0; i < t->count; i++) {
		const struct field *f = &t->fields[i];
		if (f->flags & F_ALIAS)
			continue;
		switch (f->type) {
		case T_STR: case T_PATH: case T_IP: case T_TARGET:
			free(*REF(char *, st, f));
			*REF(char *, st, f) = NULL;
			break;
		case T_STRV: case T_CIDRS: case T_ARR: free_array(f, st); break;
		case T_OBJ: free_fields(f->sub, at(st, f->off)); break;
		default: break;
		}
	}
}

static void *memdup(const void *src, size_t n)
{
	if (!src || n == 0)
		return NULL;
	return memcpy(sw_malloc(n), src, n);
}

/* Replaces the pointers a memcpy shared with src by copies of their own. */
static void copy_fields(const struct table *t, void *dst, const void *src)
{
	for (size_t i = 0; i < t->count; i++) {
		const struct field *f = &t->fields[i];
		bool array = f->type == T_STRV || f->type == T_CIDRS || f->type == T_ARR;
		size_t n = array ? CCOUNT(src, f) : 0;
		if (f->flags & F_ALIAS)
			continue;
		switch (f->type) {
		case T_STR: case T_PATH: case T_IP: case T_TARGET:
			*REF(char *, dst, f) = sw_strdup(*CREF(char *, src, f));
			break;
		case T_STRV: {
			char **v = n ? sw_calloc(n, sizeof(char *)) : NULL;
			for (size_t j = 0; j < n; j++)
				v[j] = sw_strdup((*CREF(char **, src, f))[j]);
			*REF(char **, dst, f) = v;
			break;
		}
		case T_CIDRS:
			*REF(void *, dst, f) = memdup(*CREF(void *, src, f), n * sizeof(struct sw_cidr));
			break;
		case T_ARR: {
			const char *s = *CREF(char *, src, f);
			char *d = memdup(s, n * f->sub->size);
			for (size_t j = 0; j < n; j++)
				copy_fields(f->sub, d + j * f->sub->size, s + j * f->sub->size);
			*REF(char *, dst, f) = d;
			break;
		}
		case T_OBJ: copy_fields(f->sub, at(dst, f->off), cat(src, f->off)); break;
		default: break;
		}
	}
}

/* ---- parsing ---- */

struct parser {
	struct sw_diag *d;
	char path[512];         /* "upstreams[2].servers[0].port" */
	size_t len;
};

/* Appends to the path (truncating, never overflowing); returns the old length. */
static size_t grow(struct parser *p, int n)
{
	size_t old = p->len;

	if (n > 0)
		p->len = SW_MIN(old + (size_t)n, sizeof(p->path) - 1);
	return old;
}

static size_t push_key(struct parser *p, const char *key)
{
	size_t room = sizeof(p->path) - p->len;

	return grow(p, snprintf(p->path + p->len, room, "%s%s", p->len ? "." : "", key));
}

static size_t push_index(struct parser *p, size_t i)
{
	return grow(p, snprintf(p->path + p->len, sizeof(p->path) - p->len, "[%zu]", i));
}

static void pop(struct parser *p, size_t old)
{
	p->len = old;
	p->path[old] = '\0';
}

sw_printf(3, 0)
static void report(struct parser *p, bool error, const char *fmt, va_list ap)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (error)
		sw_diag_error(p->d, p->path, "%s", msg);
	else
		sw_diag_warn(p->d, p->path, "%s", msg);
}

sw_printf(2, 3)
static void perr(struct parser *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(p, true, fmt, ap);
	va_end(ap);
}

sw_printf(2, 3)
static void pwarn(struct parser *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(p, false, fmt, ap);
	va_end(ap);
}

static void parse_object(struct parser *p, const struct table *t, void *st, json_object *v);

/* A wrong type says what is wanted; a value out of range only the range. */
static bool get_int(struct parser *p, const struct field *f, json_object *v, int64_t *out)
{
	if (!json_object_is_type(v, json_type_int)) {
		perr(p, "must be an integer %" PRId64 "-%" PRId64, f->min, f->max);
		return false;
	}
	int64_t n = json_object_get_int64(v);
	/* json-c saturates at INT64_MAX; a larger unsigned value is out of range too. */
	bool huge = n == INT64_MAX && json_object_get_uint64(v) > (uint64_t)INT64_MAX;
	if (huge || n < f->min || n > f->max) {
		perr(p, "must be %" PRId64 "-%" PRId64, f->min, f->max);
		return false;
	}
	*out = n;
	return true;
}

static bool get_enum(struct parser *p, const char *const *names, json_object *v, unsigned *out)
{
	char list[256];
	int i = json_object_is_type(v, json_type_string)
		? name_index(names, json_object_get_string(v)) : -1;

	if (i < 0) {
		perr(p, "must be one of %s", names_list(names, list, sizeof(list)));
		return false;
	}
	*out = (unsigned)i;
	return true;
}

/* A string without embedded NULs (C consumers would silently truncate it). */
static const char *get_string(struct parser *p, json_object *v)
{
	if (!json_object_is_type(v, json_type_string)) {
		perr(p, "must be a string");
		return NULL;
	}
	const char *s = json_object_get_string(v);
	if (strlen(s) != (size_t)json_object_get_string_len(v)) {
		perr(p, "must not contain a NUL character");
		return NULL;
	}
	return s;
}

static bool parse_ip_literal(const char *s)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* The checks a string kind adds to "is a string". */
static bool check_string(struct parser *p, const struct field *f, const char *s)
{
	char list[256];

	switch (f->type) {
	case T_PATH:
		if (s[0] != '/') {
			perr(p, "must be an absolute path");
			return false;
		}
		return true;
	case T_IP:
		if (!parse_ip_literal(s)) {
			perr(p, "must be an IPv4 or IPv6 address");
			return false;
		}
		return true;
	case T_TARGET:
		if (name_index(f->names, s) >= 0 || s[0] == '/')
			return true;
		if (strchr(s, '/'))
			perr(p, "must be an absolute path");
		else
			perr(p, "must be one of %s or an absolute path",
			     names_list(f->names, list, sizeof(list)));
		return false;
	default:
		return true;
	}
}

static void parse_string(struct parser *p, const struct field *f, void *st, json_object *v)
{
	char **dst = REF(char *, st, f);

	if (v == NULL && f->defs == NULL) {     /* JSON null: unset an optional string */
		free(*dst);
		*dst = NULL;
		return;
	}
	const char *s = get_string(p, v);
	if (s && f->max && strlen(s) > (size_t)f->max) {
		perr(p, "must be at most %" PRId64 " bytes", f->max);
		return;
	}
	if (s && check_string(p, f, s)) {
		free(*dst);
		*dst = sw_strdup(s);
	}
}

static bool parse_cidr(const char *s, struct sw_cidr *c, bool *host_bits)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);

	if (alen >= sizeof(buf))
		return false;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	memset(c, 0, sizeof(*c));
	c->family = strchr(buf, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(c->family, buf, c->addr) != 1)
		return false;
	unsigned max = c->family == AF_INET ? 32 : 128, prefix = max;
	if (slash) {
		char *end;
		if (slash[1] < '0' || slash[1] > '9' || strlen(slash + 1) > 3)
			return false;
		prefix = (unsigned)strtoul(slash + 1, &end, 10);
		if (*end || prefix > max)
			return false;
	}
	c->prefix = (uint8_t)prefix;
	*host_bits = false;
	for (unsigned bit = prefix; bit < max; bit++) {
		uint8_t mask = (uint8_t)(0x80 >> (bit % 8));
		if (c->addr[bit / 8] & mask) {
			*host_bits = true;
			c->addr[bit / 8] &= (uint8_t)~mask;
		}
	}
	return true;
}

static void format_cidr(const struct sw_cidr *c, char *buf, size_t size)
{
	char ip[INET6_ADDRSTRLEN];

	if (!inet_ntop(c->family, c->addr, ip, sizeof(ip)))
		snprintf(ip, sizeof(ip), "?");
	snprintf(buf, size, "%s/%u", ip, c->prefix);
}

/* Parses one array element into elem (T_STRV: char *, T_CIDRS: struct sw_cidr). */
static bool parse_element(struct parser *p, const struct field *f, json_object *v, void *elem)
{
	const char *s = get_string(p, v);
	bool host_bits;
	char norm[64];

	if (!s)
		return false;
	if (f->type == T_STRV) {
		if (!*s) {
			perr(p, "must not be empty");
			return false;
		}
		*(char **)elem = sw_strdup(s);
		return true;
	}
	if (!parse_cidr(s, elem, &host_bits)) {
		perr(p, "\"%s\" is not an IP address or CIDR block", s);
		return false;
	}
	if (host_bits) {
		format_cidr(elem, norm, sizeof(norm));
		pwarn(p, "\"%s\" has host bits set; using %s", s, norm);
	}
	return true;
}

static void parse_array(struct parser *p, const struct field *f, void *st, json_object *v)
{
	size_t esize = f->type == T_STRV ? sizeof(char *)
		     : f->type == T_CIDRS ? sizeof(struct sw_cidr) : f->sub->size;

	free_array(f, st);
	if (!json_object_is_type(v, json_type_array)) {
		perr(p, "must be an array");
		return;
	}
	size_t n = json_object_array_length(v), kept = 0;
	char *arr = n ? sw_calloc(n, esize) : NULL;
	for (size_t i = 0; i < n; i++) {
		json_object *item = json_object_array_get_idx(v, i);
		size_t old = push_index(p, i);
		if (f->type == T_ARR) {
			apply_defaults(f->sub, arr + i * esize);
			parse_object(p, f->sub, arr + i * esize, item);
			kept++;
		} else if (parse_element(p, f, item, arr + kept * esize)) {
			kept++;
		}
		pop(p, old);
	}
	*REF(char *, st, f) = arr;
	COUNT(st, f) = kept;
}

static void parse_value(struct parser *p, const struct field *f, void *st, json_object *v)
{
	int64_t n;

	switch (f->type) {
	case T_BOOL:
		if (json_object_is_type(v, json_type_boolean))
			*REF(bool, st, f) = json_object_get_boolean(v);
		else
			perr(p, "must be true or false");
		break;
	case T_U16: if (get_int(p, f, v, &n)) *REF(uint16_t, st, f) = (uint16_t)n; break;
	case T_U32: if (get_int(p, f, v, &n)) *REF(uint32_t, st, f) = (uint32_t)n; break;
	case T_U64: if (get_int(p, f, v, &n)) *REF(uint64_t, st, f) = (uint64_t)n; break;
	case T_DOUBLE: {
		bool num = json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double);
		double d = num ? json_object_get_double(v) : 0;
		if (num && isfinite(d) && d > 0 && d <= (double)f->max)
			*REF(double, st, f) = d;
		else
			perr(p, "must be a number > 0 and <= %" PRId64, f->max);
		break;
	}
	case T_ENUM: get_enum(p, f->names, v, REF(unsigned, st, f)); break;
	case T_STR: case T_PATH: case T_IP: case T_TARGET: parse_string(p, f, st, v); break;
	case T_STRV: case T_CIDRS: case T_ARR: parse_array(p, f, st, v); break;
	case T_OBJ: parse_object(p, f->sub, at(st, f->off), v); break;
	}
}

static const struct field *find_field(const struct table *t, const char *key)
{
	for (size_t i = 0; i < t->count; i++)
		if (strcmp(t->fields[i].key, key) == 0)
			return &t->fields[i];
	return NULL;
}

static void parse_object(struct parser *p, const struct table *t, void *st, json_object *v)
{
	if (!json_object_is_type(v, json_type_object)) {
		if (t->shorthand && json_object_is_type(v, json_type_string))
			t->shorthand(p, st, v);
		else
			perr(p, t->shorthand ? "must be an object or a string" : "must be an object");
		return;
	}
	if (t->present_off != NONE)
		*(bool *)at(st, t->present_off) = true;
	json_object_object_foreach(v, key, val) {
		const struct field *f = find_field(t, key);
		size_t old = push_key(p, key);
		if (f)
			parse_value(p, f, st, val);
		else
			pwarn(p, "unknown key");
		pop(p, old);
	}
	if (t->finish)
		t->finish(p, st, v);
}

static void access_log_shorthand(struct parser *p, void *st, json_object *val)
{
	struct sw_access_log_cfg *al = st;
	unsigned format;

	if (get_enum(p, access_format_names, val, &format))
		al->format = (enum sw_access_format)format;
}

static void require_key(struct parser *p, json_object *obj, const char *key)
{
	if (json_object_object_get_ex(obj, key, NULL))
		return;
	size_t old = push_key(p, key);
	perr(p, "required");
	pop(p, old);
}

/* A listener without a port is almost certainly a mistake, not "8080". */
static void finish_listener(struct parser *p, void *st, json_object *obj)
{
	(void)st;
	require_key(p, obj, "port");
}

/* burst_size defaults to the rate itself: one second's worth of requests. */
static void finish_rate_limit(struct parser *p, void *st, json_object *obj)
{
	struct sw_rate_limit_cfg *rl = st;

	require_key(p, obj, "requests_per_second");
	if (!json_object_object_get_ex(obj, "burst_size", NULL))
		rl->burst_size = rl->requests_per_second >= 1 ? (uint32_t)rl->requests_per_second : 1;
}

static void finish_admin(struct parser *p, void *st, json_object *obj)
{
	(void)obj;
	sw_config_resolve_admin_key(st, p->d);
}

/* The listener a config without listeners[] gets; its address is borrowed. */
static void implicit_listener(const struct sw_config *cfg, struct sw_listener_cfg *l)
{
	memset(l, 0, sizeof(*l));
	l->address = cfg->server.address;
	l->port = cfg->server.port;
	l->use_tls = cfg->tls.cert_path || cfg->tls.certificates_count;
	l->quic_enabled = cfg->quic.enabled;
	l->quic_port = cfg->quic.enabled ? cfg->quic.port : 0;
}

static void derive_listener(struct sw_config *cfg)
{
	struct sw_server_cfg *s = &cfg->server;

	free_array(find_field(&server_table, "listeners"), s);
	s->listeners = sw_calloc(1, sizeof(*s->listeners));
	s->listeners_count = 1;
	s->listeners_implicit = true;
	implicit_listener(cfg, &s->listeners[0]);
	s->listeners[0].address = sw_strdup(s->address);
}

void sw_config_derive(struct sw_config *cfg)
{
	if (cfg->server.listeners_implicit)
		derive_listener(cfg);
}

/* listeners[] given: address/port are ignored, then mirror listeners[0]. */
static void finish_listeners(struct parser *p, struct sw_config *cfg, json_object *srv,
			     json_object *lst)
{
	struct sw_server_cfg *s = &cfg->server;
	static const char *const ignored[] = { "address", "port" };
	size_t old = push_key(p, "server");

	for (size_t i = 0; i < SW_ARRAY_SIZE(ignored); i++) {
		if (!json_object_object_get_ex(srv, ignored[i], NULL))
			continue;
		size_t o = push_key(p, ignored[i]);
		pwarn(p, "ignored because server.listeners is given");
		pop(p, o);
	}
	if (json_object_is_type(lst, json_type_array) && s->listeners_count == 0) {
		size_t o = push_key(p, "listeners");
		perr(p, "must not be empty");
		pop(p, o);
	}
	if (s->listeners_count > 0) {
		free(s->address);
		s->address = sw_strdup(s->listeners[0].address);
		s->port = s->listeners[0].port;
	}
	pop(p, old);
}

static void finish_root(struct parser *p, void *st, json_object *root)
{
	struct sw_config *cfg = st;
	json_object *srv, *lst;

	if (json_object_object_get_ex(root, "server", &srv) &&
	    json_object_is_type(srv, json_type_object) &&
	    json_object_object_get_ex(srv, "listeners", &lst)) {
		cfg->server.listeners_implicit = false;
		finish_listeners(p, cfg, srv, lst);
	} else {
		derive_listener(cfg);
	}
}

/* ---- JSON text ---- */

/* 1-based line and column (in characters, as editors count) of byte off. */
static void position(const char *text, size_t off, int *line, int *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)text[i] & 0xC0) != 0x80) {
			(*col)++;
		}
	}
}

static void syntax_error(struct sw_diag *d, const char *text, size_t off, const char *what)
{
	int line, col;

	position(text, off, &line, &col);
	sw_diag_error_at(d, line, col, "JSON syntax error: %s", what);
}

/* Skips whitespace and comments after the value; returns where data resumes. */
static size_t skip_trailing(const char *text, size_t i, size_t len)
{
	while (i < len) {
		if (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n') {
			i++;
		} else if (text[i] == '/' && i + 1 < len && text[i + 1] == '/') {
			while (i < len && text[i] != '\n')
				i++;
		} else if (text[i] == '/' && i + 1 < len && text[i + 1] == '*') {
			const char *end = NULL;
			for (size_t j = i + 2; j + 1 < len && !end; j++)
				if (text[j] == '*' && text[j + 1] == '/')
					end = text + j;
			if (!end)
				return i;
			i = (size_t)(end - text) + 2;
		} else {
			return i;
		}
	}
	return len;
}

/*
 * Where a block comment left open at the end of text starts, or len.  json-c
 * waits for more input there even after a complete document.
 */
static size_t open_comment(const char *text, size_t len)
{
	size_t start = len;
	char quote = 0;

	for (size_t i = 0; i < len; i++) {
		char c = text[i];
		if (start < len) {
			if (c == '*' && i + 1 < len && text[i + 1] == '/') {
				start = len;
				i++;
			}
		} else if (quote) {
			if (c == '\\')
				i++;
			else if (c == quote)
				quote = 0;
		} else if (c == '"' || c == '\'') {
			quote = c;      /* json-c also takes single-quoted strings */
		} else if (c == '/' && i + 1 < len && text[i + 1] == '/') {
			while (i + 1 < len && text[i + 1] != '\n')
				i++;
		} else if (c == '/' && i + 1 < len && text[i + 1] == '*') {
			start = i++;
		}
	}
	return start;
}

json_object *sw_config_tokenize(const char *text, size_t len, struct sw_diag *d)
{
	struct json_tokener *tok = json_tokener_new();

	if (!tok)
		abort();        /* json-c's allocation failed: as fatal as sw_malloc's */
	if (len >= INT_MAX) {
		json_tokener_free(tok);
		sw_diag_error(d, NULL, "too large");
		return NULL;
	}
	/* Strings reach JSON answers and files: bytes that are not UTF-8 would make them invalid. */
	json_tokener_set_flags(tok, JSON_TOKENER_VALIDATE_UTF8);
	json_object *root = json_tokener_parse_ex(tok, text, (int)len);
	enum json_tokener_error err = json_tokener_get_error(tok);
	size_t end = json_tokener_get_parse_end(tok);
	if (err == json_tokener_continue) {
		/* A NUL ends a bare top-level number or reports the truncated document. */
		root = json_tokener_parse_ex(tok, "", 1);
		err = json_tokener_get_error(tok);
		end = len;
	}
	json_tokener_free(tok);
	if (err != json_tokener_success) {
		syntax_error(d, text, end, json_tokener_error_desc(err));
		return NULL;
	}
	if (end == len && (end = open_comment(text, len)) < len) {
		syntax_error(d, text, end, "unterminated comment");
		json_object_put(root);
		return NULL;
	}
	size_t junk = skip_trailing(text, end, len);
	if (junk < len) {
		syntax_error(d, text, junk, "unexpected data after the top-level value");
		json_object_put(root);
		return NULL;
	}
	if (!json_object_is_type(root, json_type_object)) {
		sw_diag_error(d, NULL, "top level: must be an object");
		json_object_put(root);
		return NULL;
	}
	return root;
}

/* ---- the public life cycle ---- */

void sw_config_init(struct sw_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	apply_defaults(&root_table, cfg);
	derive_listener(cfg);
}

void sw_config_deinit(struct sw_config *cfg)
{
	free_fields(&root_table, cfg);
	free(cfg->path);
	memset(cfg, 0, sizeof(*cfg));
}

int sw_config_parse_partial(struct sw_config *cfg, const char *text, size_t len,
			    struct sw_diag *d, bool *usable)
{
	size_t errors = d->errors;
	struct parser p = { .d = d };
	json_object *root = NULL;

	sw_config_init(cfg);
	root = sw_config_tokenize(text, len, d);
	*usable = root != NULL;
	if (!root) {
		sw_config_deinit(cfg);
		return SW_ERROR;
	}
	parse_object(&p, &root_table, cfg, root);
	json_object_put(root);
	/* After a type error the field holds its default; validating that would mislead. */
	if (d->errors == errors)
		sw_config_validate(cfg, d);
	return d->errors == errors ? SW_OK : SW_ERROR;
}

int sw_config_parse(struct sw_config *cfg, const char *text, size_t len, struct sw_diag *d)
{
	bool usable;
	int rc = sw_config_parse_partial(cfg, text, len, d, &usable);

	if (rc != SW_OK && usable)
		sw_config_deinit(cfg);
	return rc;
}

void sw_config_copy(struct sw_config *dst, const struct sw_config *src)
{
	memcpy(dst, src, sizeof(*dst));
	copy_fields(&root_table, dst, src);
	dst->path = sw_strdup(src->path);
}

/* ---- comparison ---- */

static bool cidr_equal(const struct sw_cidr *a, const struct sw_cidr *b)
{
	return a->family == b->family && a->prefix == b->prefix && memcmp(a->addr, b->addr, 16) == 0;
}

static bool array_equal(const struct field *f, const void *a, const void *b)
{
	size_t n = CCOUNT(a, f);

	for (size_t i = 0; i < n; i++) {
		if (f->type == T_STRV && !same_str((*CREF(char **, a, f))[i], (*CREF(char **, b, f))[i]))
			return false;
		if (f->type == T_CIDRS &&
		    !cidr_equal(&(*CREF(struct sw_cidr *, a, f))[i], &(*CREF(struct sw_cidr *, b, f))[i]))
			return false;
	}
	return true;
}

static unsigned compare_fields(const struct table *t, const void *a, const void *b, bool structural);

/* Whether field f differs between a and b (T_OBJ/T_ARR: the bits that differ). */
static unsigned compare_field(const struct field *f, const void *a, const void *b, unsigned bit)
{
	bool s = bit == SW_CFG_STRUCTURAL;

	switch (f->type) {
	case T_BOOL: return *CREF(bool, a, f) != *CREF(bool, b, f) ? bit : 0;
	case T_U16: return *CREF(uint16_t, a, f) != *CREF(uint16_t, b, f) ? bit : 0;
	case T_U32: return *CREF(uint32_t, a, f) != *CREF(uint32_t, b, f) ? bit : 0;
	case T_U64: return *CREF(uint64_t, a, f) != *CREF(uint64_t, b, f) ? bit : 0;
	case T_DOUBLE: return *CREF(double, a, f) != *CREF(double, b, f) ? bit : 0;
	case T_ENUM: return *CREF(unsigned, a, f) != *CREF(unsigned, b, f) ? bit : 0;
	case T_STR: case T_PATH: case T_IP: case T_TARGET:
		return same_str(*CREF(char *, a, f), *CREF(char *, b, f)) ? 0 : bit;
	case T_STRV: case T_CIDRS:
		return CCOUNT(a, f) != CCOUNT(b, f) || !array_equal(f, a, b) ? bit : 0;
	case T_OBJ: {
		const struct table *t = f->sub;
		bool on_a = t->present_off != NONE && *(const bool *)cat(cat(a, f->off), t->present_off);
		bool on_b = t->present_off != NONE && *(const bool *)cat(cat(b, f->off), t->present_off);
		return (on_a != on_b ? bit : 0) | compare_fields(t, cat(a, f->off), cat(b, f->off), s);
	}
	case T_ARR: {
		size_t n = CCOUNT(a, f), size = f->sub->size;
		unsigned r = 0;
		if (n != CCOUNT(b, f))
			return bit;
		for (size_t i = 0; i < n; i++)
			r |= compare_fields(f->sub, *CREF(char *, a, f) + i * size,
					    *CREF(char *, b, f) + i * size, s);
		return r;
	}
	}
	return 0;
}

static unsigned compare_fields(const struct table *t, const void *a, const void *b, bool structural)
{
	unsigned r = 0;

	for (size_t i = 0; i < t->count; i++) {
		const struct field *f = &t->fields[i];
		bool s = structural || (f->flags & F_STRUCT);
		if (!(f->flags & F_ALIAS))
			r |= compare_field(f, a, b, s ? SW_CFG_STRUCTURAL : SW_CFG_VALUES);
	}
	return r;
}

unsigned sw_config_compare(const struct sw_config *old_cfg, const struct sw_config *new_cfg)
{
	unsigned r = compare_fields(&root_table, old_cfg, new_cfg, false);

	/* Same paths, new contents (a renewed certificate): new workers load them. */
	if (old_cfg->files_stamp != new_cfg->files_stamp)
		r |= SW_CFG_STRUCTURAL;
	return r;
}

static uint64_t stamp_file(uint64_t h, const char *path)
{
	struct stat st;
	uint64_t v[5] = { 0 };

	if (!path)
		return h;
	if (stat(path, &st) == 0) {
		v[0] = (uint64_t)st.st_dev;
		v[1] = (uint64_t)st.st_ino;
		v[2] = (uint64_t)st.st_size;
		v[3] = (uint64_t)st.st_mtim.tv_sec;
		v[4] = (uint64_t)st.st_mtim.tv_nsec;
	}
	for (size_t i = 0; i < 5; i++)
		h = (h ^ v[i]) * 1099511628211ull;
	return h;
}

void sw_config_stamp_files(struct sw_config *cfg)
{
	const struct sw_tls_cfg *t = &cfg->tls;
	uint64_t h = 1469598103934665603ull;

	h = stamp_file(h, t->cert_path);
	h = stamp_file(h, t->key_path);
	h = stamp_file(h, t->client_ca_path);
	for (size_t i = 0; i < t->certificates_count; i++) {
		h = stamp_file(h, t->certificates[i].cert_path);
		h = stamp_file(h, t->certificates[i].key_path);
	}
	h = stamp_file(h, cfg->quic.cert_path);
	h = stamp_file(h, cfg->quic.key_path);
	cfg->files_stamp = h;
}

/* ---- serialization ---- */

static json_object *emit_fields(const struct table *t, const void *st, bool redact);

static json_object *emit_string(const struct field *f, const char *s, bool redact)
{
	if (!s)
		return NULL;    /* json-c's null */
	return json_object_new_string(redact && (f->flags & F_SECRET) ? "<redacted>" : s);
}

static json_object *emit_array(const struct field *f, const void *st, bool redact)
{
	json_object *arr = json_object_new_array();
	size_t n = CCOUNT(st, f);
	char buf[64];

	for (size_t i = 0; i < n; i++) {
		json_object *v;
		if (f->type == T_STRV) {
			v = json_object_new_string((*CREF(char **, st, f))[i]);
		} else if (f->type == T_CIDRS) {
			format_cidr(&(*CREF(struct sw_cidr *, st, f))[i], buf, sizeof(buf));
			v = json_object_new_string(buf);
		} else {
			v = emit_fields(f->sub, *CREF(char *, st, f) + i * f->sub->size, redact);
		}
		json_object_array_add(arr, v);
	}
	return arr;
}

static json_object *emit_enum(const struct field *f, unsigned v)
{
	for (unsigned i = 0; f->names[i]; i++)
		if (i == v)
			return json_object_new_string(f->names[i]);
	return NULL;
}

/* Returns false when the field stays out of the JSON. */
static bool emit_field(const struct field *f, const void *st, bool redact, json_object **out)
{
	switch (f->type) {
	case T_BOOL: *out = json_object_new_boolean(*CREF(bool, st, f)); return true;
	case T_U16:
		*out = json_object_new_int64(*CREF(uint16_t, st, f));
		return *CREF(uint16_t, st, f) || !(f->flags & F_OMIT_EMPTY);
	case T_U32: *out = json_object_new_int64(*CREF(uint32_t, st, f)); return true;
	case T_U64: *out = json_object_new_uint64(*CREF(uint64_t, st, f)); return true;
	case T_DOUBLE: *out = json_object_new_double(*CREF(double, st, f)); return true;
	case T_ENUM: *out = emit_enum(f, *CREF(unsigned, st, f)); return true;
	case T_STR: case T_PATH: case T_IP: case T_TARGET:
		*out = emit_string(f, *CREF(char *, st, f), redact);
		return *out || !(f->flags & F_OMIT_EMPTY);
	case T_STRV: case T_CIDRS: case T_ARR: *out = emit_array(f, st, redact); return true;
	case T_OBJ:
		/* An optional block (health_check, rate_limit) appears only when on. */
		if (f->sub->present_off != NONE && !*(const bool *)cat(cat(st, f->off), f->sub->present_off))
			return false;
		*out = emit_fields(f->sub, cat(st, f->off), redact);
		return true;
	}
	return false;
}

static json_object *emit_fields(const struct table *t, const void *st, bool redact)
{
	json_object *obj = json_object_new_object();

	for (size_t i = 0; i < t->count; i++) {
		json_object *v = NULL;
		if (t->fields[i].flags & F_ALIAS)
			continue;
		if (emit_field(&t->fields[i], st, redact, &v))
			json_object_object_add(obj, t->fields[i].key, v);
		else
			json_object_put(v);
	}
	return obj;
}

/*
 * A listener the loader would derive is written as address/port, so a
 * persisted file stays as simple as the one written by hand; any other set
 * is written as listeners[] alone (address/port then mirror listeners[0]).
 */
static void emit_listeners(const struct sw_config *cfg, json_object *root)
{
	const struct sw_server_cfg *s = &cfg->server;
	json_object *server = json_object_object_get(root, "server");
	struct sw_listener_cfg want;

	implicit_listener(cfg, &want);
	const struct sw_listener_cfg *l = s->listeners;
	bool implicit = s->listeners_count == 1 && same_str(l->address, want.address) &&
			l->port == want.port && l->use_tls == want.use_tls &&
			l->h2c_only == want.h2c_only && l->quic_enabled == want.quic_enabled &&
			l->quic_port == want.quic_port;
	if (implicit) {
		json_object_object_del(server, "listeners");
	} else {
		json_object_object_del(server, "address");
		json_object_object_del(server, "port");
	}
}

char *sw_config_to_json(const struct sw_config *cfg, bool redact)
{
	json_object *root = emit_fields(&root_table, cfg, redact);
	size_t len;

	emit_listeners(cfg, root);
	/* A key read from a file or the environment is never written out. */
	if (cfg->admin.api_key_file || cfg->admin.api_key_env)
		json_object_object_del(json_object_object_get(root, "admin"), "api_key");
	const char *s = json_object_to_json_string_length(root,
		JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
		JSON_C_TO_STRING_NOSLASHESCAPE,
		&len);
	char *out = sw_malloc(len + 2);
	memcpy(out, s, len);
	memcpy(out + len, "\n", 2);     /* a text file ends with a newline */
	json_object_put(root);
	return out;
}

const char *sw_io_backend_name(enum sw_io_backend b)
{
	return (unsigned)b < SW_ARRAY_SIZE(io_backend_names) - 1 ? io_backend_names[b] : "?";
}

const char *sw_log_level_name(enum sw_log_level l)
{
	return (unsigned)l < SW_ARRAY_SIZE(level_names) - 1 ? level_names[l] : "?";
}
