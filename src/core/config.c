/* SPDX-License-Identifier: MIT */
/* config.c - the core's config sections (server, timeouts, limits, ...) and the config's life cycle: defaults, parse, copy, reload comparison, JSON. */
#include <config.h>     /* autoconf's, from the build dir (not core/config.h) */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <json-c/json.h>
#include "core/config.h"
#include "core/config_schema.h"
#include "core/policy_def.h"
#include "core/diag.h"
#include "core/module.h"
#include "core/shm.h"

static const char *const io_backend_names[] = { "auto", "epoll", "io_uring", NULL };
static const char *const level_names[] = { "error", "warn", "info", "debug", NULL };
static const char *const access_format_names[] = { "off", "combined", "json", NULL };
static const char *const log_target_names[] = { "auto", "stderr", "syslog", "journal", NULL };
static const char *const access_target_names[] = { "stderr", "syslog", NULL };

static void finish_listener(struct sw_cfg_parser *p, void *st, json_object *obj);
static void finish_root(struct sw_cfg_parser *p, void *st, json_object *obj);
static void finish_admin(struct sw_cfg_parser *p, void *st, json_object *obj);
static void access_log_shorthand(struct sw_cfg_parser *p, void *st, json_object *val);

#define S struct sw_listener_cfg
static const struct sw_cfg_field listener_fields[] = {
	SW_STRF(SW_T_IP, "address", address, "0.0.0.0", 0),
	SW_U16("port", port, 0, 65535, 0, 0),      /* required (finish_listener) */
	SW_BOOL("use_tls", use_tls, false, 0),
	SW_BOOL("h2c_only", h2c_only, false, 0),
	SW_BOOL("quic_enabled", quic_enabled, false, 0),
	SW_U16("quic_port", quic_port, 0, 65535, 0, 0),
	SW_BOOL("proxy_protocol", proxy_protocol, false, 0),
};
static const struct sw_cfg_table listener_table = SW_TABLE(listener_fields, S, SW_CFG_NONE, finish_listener, NULL);
#undef S

#define S struct sw_server_cfg
static const struct sw_cfg_field server_fields[] = {
	/* address/port mirror listeners[0] once parsed, hence structural. */
	SW_STRF(SW_T_IP, "address", address, "0.0.0.0", SW_F_STRUCT),
	SW_U16("port", port, 0, 65535, 8080, SW_F_STRUCT),
	SW_U32("workers", workers, 0, SW_MAX_SLOTS, 0, SW_F_STRUCT),
	SW_U32("max_connections", max_connections, 1, 1048576, 2048, SW_F_STRUCT),
	SW_STRING("static_root", static_root, NULL, 0),
	SW_BOOL("cache_static_files", cache_static_files, false, 0),
	SW_BOOL("server_header", server_header, true, 0),
	SW_STRV("allowed_hosts", allowed_hosts, allowed_hosts_count, 0),
	SW_CIDRS("trusted_proxies", trusted_proxies, trusted_proxies_count, 0),
	SW_ENUM("io_backend", io_backend, io_backend_names, SW_IO_AUTO, SW_F_STRUCT),
	SW_ARR("listeners", listeners, listeners_count, listener_table, SW_F_STRUCT),
};
static const struct sw_cfg_table server_table = SW_TABLE(server_fields, S, SW_CFG_NONE, NULL, NULL);
#undef S

#define S struct sw_timeouts_cfg
static const struct sw_cfg_field timeouts_fields[] = {
	SW_U32("idle_ms", idle_ms, 1, SW_CFG_MAX_U32, 60000, 0),
	SW_U32("header_ms", header_ms, 1, SW_CFG_MAX_U32, 10000, 0),
	SW_U32("body_ms", body_ms, 1, SW_CFG_MAX_U32, 30000, 0),
	SW_U32("write_ms", write_ms, 1, SW_CFG_MAX_U32, 30000, 0),
	SW_U32("drain_ms", drain_ms, 0, SW_CFG_MAX_U32, 30000, 0),
	/* Below 100 ms a structural reload would fail for forking alone. */
	SW_U32("reload_ms", reload_ms, 100, SW_CFG_MAX_U32, 30000, 0),
	/* 0: a stalled worker is only steered around, never replaced. */
	SW_U32("stall_ms", stall_ms, 0, SW_CFG_MAX_U32, 30000, 0),
};
static const struct sw_cfg_table timeouts_table = SW_TABLE(timeouts_fields, S, SW_CFG_NONE, NULL, NULL);
#undef S

#define S struct sw_limits_cfg
static const struct sw_cfg_field limits_fields[] = {
	SW_U32("max_header_bytes", max_header_bytes, 1024, 16777216, 32768, 0),
	SW_U32("max_header_count", max_header_count, 1, 65535, 128, 0),
	SW_U64("max_body_bytes", max_body_bytes, 0, INT64_MAX, 32 << 20, 0),
	SW_U32("min_body_rate", min_body_rate, 0, SW_CFG_MAX_U32, 500, 0),
	SW_U32("min_send_rate", min_send_rate, 0, SW_CFG_MAX_U32, 0, 0),
	SW_U32("min_rate_window_ms", min_rate_window_ms, 100, SW_CFG_MAX_U32, 10000, 0),
};
static const struct sw_cfg_table limits_table = SW_TABLE(limits_fields, S, SW_CFG_NONE, NULL, NULL);
#undef S

#define S struct sw_static_cfg
static const struct sw_cfg_field static_fields[] = {
	SW_U32("open_file_cache", open_file_cache, 0, 1048576, 1024, 0),
	SW_U32("open_file_cache_valid_ms", open_file_cache_valid_ms, 0, 86400000, 1000, 0),
};
static const struct sw_cfg_table static_table = SW_TABLE(static_fields, S, SW_CFG_NONE, NULL, NULL);
#undef S

#define S struct sw_admin_cfg
static const struct sw_cfg_field admin_fields[] = {
	SW_BOOL("enabled", enabled, false, 0),
	SW_STRF(SW_T_IP, "address", address, "127.0.0.1", 0),
	SW_U16("port", port, 1, 65535, 9180, 0),
	SW_STRING("api_key", api_key, NULL, SW_F_SECRET),
	/* Resolved into api_key (finish_admin), which then stays out of the JSON. */
	SW_STRF(SW_T_PATH, "api_key_file", api_key_file, NULL, SW_F_OMIT_EMPTY),
	SW_STRING("api_key_env", api_key_env, NULL, SW_F_OMIT_EMPTY),
	SW_U32("auth_failures", auth_failures, 1, 1000000, 10, 0),
	SW_U32("auth_failures_total", auth_failures_total, 1, 1000000, 100, 0),
	SW_U32("lockout_ms", lockout_ms, 1, SW_CFG_MAX_U32, 60000, 0),
};
static const struct sw_cfg_table admin_table = SW_TABLE(admin_fields, S, SW_CFG_NONE, finish_admin, NULL);
#undef S

#define S struct sw_log_cfg
static const struct sw_cfg_field log_fields[] = {
	SW_TARGET("target", target, log_target_names, "auto", 0),
	SW_ENUM("level", level, level_names, SW_LOG_INFO, 0),
};
static const struct sw_cfg_table log_table = SW_TABLE(log_fields, S, SW_CFG_NONE, NULL, NULL);
#undef S

#define S struct sw_access_log_cfg
static const struct sw_cfg_field access_fields[] = {
	SW_ENUM("format", format, access_format_names, SW_ACCESS_OFF, 0),
	/* Workers hold the access log open: a new target needs new workers. */
	SW_TARGET("target", target, access_target_names, "stderr", SW_F_STRUCT),
};
static const struct sw_cfg_table access_table =
	SW_TABLE(access_fields, S, SW_CFG_NONE, NULL, access_log_shorthand);
#undef S

/*
 * The optional units' top-level keys (their tables are in src/<unit>/config.c):
 * listed here so a build without the unit names the option it lacks.
 */
/* The key named is the first of these set, as the user wrote it. */
static const struct sw_cfg_unit tls_unit = {
	.module = "tls", .option = "--enable-tls",
	.uses = (const char *const[]){ "cert_path", "key_path", "certificates", "client_ca_path", NULL },
};
static const struct sw_cfg_unit quic_unit = {
	.module = "http3", .option = "--enable-http3", .uses = (const char *const[]){ "enabled", NULL },
};
static const struct sw_cfg_unit http2_unit = {
	.module = "http2", .option = "--enable-http2", .uses = (const char *const[]){ "h2c_only", NULL },
};
static const struct sw_cfg_unit proxy_unit = {
	.module = "proxy", .option = "--enable-proxy", .array = true,
};

#define S struct sw_config
static const struct sw_cfg_field root_fields[] = {
	SW_OBJ("server", server, server_table, 0),
	SW_OBJ("timeouts", timeouts, timeouts_table, 0),
	SW_OBJ("limits", limits, limits_table, 0),
	SW_OBJ("static", static_files, static_table, 0),
	SW_UNIT("tls", SW_UNIT_TLS, tls_unit, SW_F_STRUCT),
	SW_UNIT("http2", SW_UNIT_HTTP2, http2_unit, 0),
	SW_UNIT("quic", SW_UNIT_QUIC, quic_unit, SW_F_STRUCT),
	SW_UNIT("upstreams", SW_UNIT_PROXY, proxy_unit, 0),
	SW_UNIT("routes", SW_UNIT_PROXY, proxy_unit, 0),
	/* Its listener is opened by the master: a change needs new workers. */
	SW_OBJ("admin", admin, admin_table, SW_F_STRUCT),
	SW_OBJ("log", log, log_table, 0),
	SW_OBJ("access_log", access_log, access_table, 0),
};
static const struct sw_cfg_table root_table =
	SW_TABLE_POLICIES(root_fields, S, SW_CFG_NONE, finish_root, NULL, SW_POLICY_GLOBAL, policies);
#undef S
static void access_log_shorthand(struct sw_cfg_parser *p, void *st, json_object *val)
{
	struct sw_access_log_cfg *al = st;
	unsigned format;

	if (sw_cfg_get_enum(p, access_format_names, val, &format))
		al->format = (enum sw_access_format)format;
}
/* A listener without a port is almost certainly a mistake, not "8080". */
static void finish_listener(struct sw_cfg_parser *p, void *st, json_object *obj)
{
	(void)st;
	sw_cfg_require(p, obj, "port");
}

static void finish_admin(struct sw_cfg_parser *p, void *st, json_object *obj)
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
	for (size_t i = 0; i < SW_UNIT_SLOTS; i++)
		if (cfg->unit[i].data && cfg->unit[i].sec->listener)
			cfg->unit[i].sec->listener(cfg, l);
}

static void derive_listener(struct sw_config *cfg)
{
	struct sw_server_cfg *s = &cfg->server;

	sw_cfg_free_array(sw_cfg_find(&server_table, "listeners"), s);
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
static void finish_listeners(struct sw_cfg_parser *p, struct sw_config *cfg, json_object *srv,
			     json_object *lst)
{
	struct sw_server_cfg *s = &cfg->server;
	static const char *const ignored[] = { "address", "port" };
	size_t old = sw_cfg_push_key(p, "server");

	for (size_t i = 0; i < SW_ARRAY_SIZE(ignored); i++) {
		if (!json_object_object_get_ex(srv, ignored[i], NULL))
			continue;
		size_t o = sw_cfg_push_key(p, ignored[i]);
		sw_cfg_warn(p, "ignored because server.listeners is given");
		sw_cfg_pop(p, o);
	}
	if (json_object_is_type(lst, json_type_array) && s->listeners_count == 0) {
		size_t o = sw_cfg_push_key(p, "listeners");
		sw_cfg_error(p, "must not be empty");
		sw_cfg_pop(p, o);
	}
	if (s->listeners_count > 0) {
		free(s->address);
		s->address = sw_strdup(s->listeners[0].address);
		s->port = s->listeners[0].port;
	}
	sw_cfg_pop(p, old);
}

static void finish_root(struct sw_cfg_parser *p, void *st, json_object *root)
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

/* ---- the public life cycle ---- */

void sw_config_init(struct sw_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	sw_cfg_defaults(&root_table, cfg);
	derive_listener(cfg);
}

void sw_config_deinit(struct sw_config *cfg)
{
	sw_cfg_free(&root_table, cfg);
	free(cfg->path);
	memset(cfg, 0, sizeof(*cfg));
}

int sw_config_parse_partial(struct sw_config *cfg, const char *text, size_t len,
			    struct sw_diag *d, bool *usable)
{
	size_t errors = d->errors;
	struct sw_cfg_parser p = { .d = d };
	json_object *root = NULL;

	sw_config_init(cfg);
	root = sw_config_tokenize(text, len, d);
	*usable = root != NULL;
	if (!root) {
		sw_config_deinit(cfg);
		return SW_ERROR;
	}
	sw_cfg_parse(&p, &root_table, cfg, root);
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
	sw_cfg_copy(&root_table, dst, src);
	dst->path = sw_strdup(src->path);
}

unsigned sw_config_compare(const struct sw_config *old_cfg, const struct sw_config *new_cfg)
{
	unsigned r = sw_cfg_compare(&root_table, old_cfg, new_cfg, false);

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

static void stamp_one(void *arg, const char *key, const char *path)
{
	uint64_t *h = arg;

	(void)key;
	*h = stamp_file(*h, path);
}

void sw_config_stamp_files(struct sw_config *cfg)
{
	uint64_t h = 1469598103934665603ull;

	sw_config_files(cfg, stamp_one, &h);
	cfg->files_stamp = h;
}

void sw_config_files(const struct sw_config *cfg, sw_config_file_fn *fn, void *arg)
{
	for (size_t i = 0; i < SW_UNIT_SLOTS; i++)
		if (cfg->unit[i].data && cfg->unit[i].sec->files)
			cfg->unit[i].sec->files(cfg, fn, arg);
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
	bool implicit = s->listeners_count == 1 && sw_cfg_same_str(l->address, want.address) &&
			l->port == want.port && l->use_tls == want.use_tls &&
			l->h2c_only == want.h2c_only && l->quic_enabled == want.quic_enabled &&
			l->quic_port == want.quic_port && l->proxy_protocol == want.proxy_protocol;
	if (implicit) {
		json_object_object_del(server, "listeners");
	} else {
		json_object_object_del(server, "address");
		json_object_object_del(server, "port");
	}
}

char *sw_config_to_json(const struct sw_config *cfg, bool redact)
{
	json_object *root = sw_cfg_emit(&root_table, cfg, redact);
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
