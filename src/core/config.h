/* SPDX-License-Identifier: MIT */
/* config.h - the typed swerver configuration, its defaults and its loader. */
#ifndef SW_CORE_CONFIG_H
#define SW_CORE_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "core/common.h"

struct sw_diag;
struct sw_policy;
struct json_object;

/*
 * A policy key's value as written (routes[].auth, cors, ...): json-c's
 * object, refcounted, so copies and persist round-trip it.  The loader
 * checked it with the policy's compile; workers compile it again when they
 * build their state (src/http/policy.h).
 */
struct sw_policy_cfg {
	const struct sw_policy *policy;
	struct json_object *value;
};

/* The policy keys of one config object, in file order. */
struct sw_policy_set {
	struct sw_policy_cfg *v;
	size_t count;
};

/* A CIDR block from server.trusted_proxies, e.g. "10.0.0.0/8", "::1". */
struct sw_cidr {
	int family;               /* AF_INET or AF_INET6 */
	uint8_t addr[16];         /* network byte order; first 4 bytes for v4 */
	uint8_t prefix;           /* 0-32 or 0-128 */
};

struct sw_listener_cfg {
	char *address;            /* "0.0.0.0", "::", "127.0.0.1" */
	uint16_t port;            /* 0 = kernel-chosen (logged at start-up) */
	bool use_tls;
	bool h2c_only;            /* cleartext HTTP/2 only; refuses HTTP/1.1 */
	bool quic_enabled;
	uint16_t quic_port;       /* 0 = same as port */
	bool proxy_protocol;      /* connections begin with a PROXY header (TCP only) */
};

enum sw_io_backend { SW_IO_AUTO, SW_IO_EPOLL, SW_IO_URING };

struct sw_server_cfg {
	char *address;            /* "0.0.0.0" */
	uint16_t port;            /* 8080 */
	unsigned workers;         /* 0 = CPUs this process may run on */
	unsigned max_connections; /* 2048, per worker */
	char *static_root;        /* NULL = off */
	bool cache_static_files;  /* false */
	bool server_header;       /* true: send "Server: swerver" */
	char **allowed_hosts;     /* empty = all */
	size_t allowed_hosts_count;
	struct sw_cidr *trusted_proxies;
	size_t trusted_proxies_count;
	enum sw_io_backend io_backend; /* auto */
	/*
	 * The listeners actually used.  When the file has no listeners[], the
	 * loader makes one from address/port, so consumers only read this.
	 */
	struct sw_listener_cfg *listeners;
	size_t listeners_count;
	/*
	 * True when listeners[] was derived from address/port (and tls, quic)
	 * rather than given; sw_config_derive() redoes it after overrides.
	 */
	bool listeners_implicit;
};

struct sw_timeouts_cfg {
	uint32_t idle_ms;         /* 60000 */
	uint32_t header_ms;       /* 10000 */
	uint32_t body_ms;         /* 30000 */
	uint32_t write_ms;        /* 30000 */
	uint32_t drain_ms;        /* 30000 */
	uint32_t reload_ms;       /* 30000: new workers' deadline to be ready */
	uint32_t stall_ms;        /* 30000: a worker without a heartbeat this long is replaced */
};

/* The "static" section: how static files are kept open. */
struct sw_static_cfg {
	uint32_t open_file_cache;          /* 1024 entries per worker; 0 = off */
	uint32_t open_file_cache_valid_ms; /* 1000 */
};

struct sw_limits_cfg {
	uint32_t max_header_bytes;  /* 32768 */
	uint32_t max_header_count;  /* 128 */
	uint64_t max_body_bytes;    /* 32 MiB */
	uint32_t min_body_rate;     /* bytes/s a request body must keep up; 0 = off; 500 */
	uint32_t min_send_rate;     /* bytes/s a client must take a response at; 0 = off */
	uint32_t min_rate_window_ms; /* time waited on the client over which they count; 10000 */
};

struct sw_admin_cfg {
	bool enabled;                 /* false */
	char *address;                /* "127.0.0.1" */
	uint16_t port;                /* 9180 */
	char *api_key;                /* required when enabled; or read from: */
	char *api_key_file;           /* a file holding the key (trailing white space dropped) */
	char *api_key_env;            /* an environment variable holding it */
	uint32_t auth_failures;       /* 10 wrong keys from one address within lockout_ms, */
	uint32_t auth_failures_total; /* or 100 from all, lock out that address (all) ... */
	uint32_t lockout_ms;          /* ... for 60000 ms: 429 without looking at the key */
};

enum sw_log_level { SW_LOG_ERROR, SW_LOG_WARN, SW_LOG_INFO, SW_LOG_DEBUG };

struct sw_log_cfg {
	/* "auto" (journal when JOURNAL_STREAM is set, else stderr), "stderr",
	 * "syslog", "journal", or an absolute file path. */
	char *target;
	enum sw_log_level level;      /* "info" */
};

enum sw_access_format { SW_ACCESS_OFF, SW_ACCESS_COMBINED, SW_ACCESS_JSON };

struct sw_access_log_cfg {
	enum sw_access_format format; /* off */
	char *target;                 /* "stderr" | "syslog" | absolute path */
};

/*
 * The optional units that own a config section (src/<unit>/config.c), one
 * slot each in struct sw_config.  The core knows only their keys (config.c's
 * root table, so a build without the unit can name the option it lacks).
 */
enum sw_unit_slot { SW_UNIT_TLS, SW_UNIT_HTTP2, SW_UNIT_QUIC, SW_UNIT_PROXY, SW_UNIT_SLOTS };

struct sw_config_section;

/* A unit's section: its struct, or NULL when the unit is compiled out. */
struct sw_config_unit {
	void *data;
	const struct sw_config_section *sec;
};

struct sw_config {
	char *path;                   /* the file it came from, NULL for defaults */
	/*
	 * Identity of the certificate and key files (device, inode, size,
	 * mtime), set by sw_config_stamp_files: a renewal written under the same
	 * name must still reach the workers on reload.  Not part of the schema.
	 */
	uint64_t files_stamp;
	struct sw_server_cfg server;
	struct sw_timeouts_cfg timeouts;
	struct sw_limits_cfg limits;
	struct sw_static_cfg static_files;  /* "static" */
	struct sw_admin_cfg admin;
	struct sw_log_cfg log;
	struct sw_access_log_cfg access_log;
	struct sw_config_unit unit[SW_UNIT_SLOTS];  /* tls, http2, quic, upstreams + routes: sw_<unit>_config() */
	struct sw_policy_set policies;    /* top-level keys of SW_POLICY_GLOBAL policies */
};

/* Fills every field with its default (one listener 0.0.0.0:8080). */
void sw_config_init(struct sw_config *cfg);
void sw_config_deinit(struct sw_config *cfg);

/*
 * Parses JSON text into cfg (which the call initializes) and validates it.
 * Syntax errors name line and column; type and value errors the key path
 * ("upstreams[2].servers[0].port: must be 1-65535"); unknown keys are
 * warnings with their path; cross-references ("routes[3].upstream: no
 * upstream named \"api\"") and features compiled out ("quic.enabled
 * requires a build with --enable-http3") are errors.  Returns SW_OK when
 * diag has no errors; SW_ERROR otherwise (cfg is then deinitialized).
 */
int sw_config_parse(struct sw_config *cfg, const char *text, size_t len,
		    struct sw_diag *diag);
/*
 * The longest routes[].path_prefix and upstreams[].name, in bytes.  DELETE
 * /v1/routes/NAME carries one URL-encoded (up to 3 bytes a byte), which
 * must fit the smallest limits.max_header_bytes (1024) with its headers.
 */
#define SW_CONFIG_NAME_MAX 256

/*
 * The loader's JSON rules for any text (the admin API's bodies use them):
 * valid UTF-8, one value and nothing after it but whitespace and comments,
 * an object at the top.  Errors name line and column.  NULL on error, else
 * a json-c object the caller puts.
 */
struct json_object *sw_config_tokenize(const char *text, size_t len, struct sw_diag *diag);

/*
 * As sw_config_parse, but when the text is JSON (*usable set) cfg is kept
 * even with errors: what parsed, defaults elsewhere.  `-t` goes on to check
 * the files it names, so one run reports every error it can find.  The
 * caller deinitializes cfg whenever *usable is true.
 */
int sw_config_parse_partial(struct sw_config *cfg, const char *text, size_t len,
			    struct sw_diag *diag, bool *usable);

/*
 * Reads and parses a file; an unreadable file is an error naming it, and
 * so is anything but a regular file (a FIFO would block the master).
 */
int sw_config_load(struct sw_config *cfg, const char *path, struct sw_diag *diag);
/* sw_config_load with sw_config_parse_partial's contract. */
int sw_config_load_partial(struct sw_config *cfg, const char *path, struct sw_diag *diag,
			   bool *usable);

/*
 * Sets admin.api_key from admin.api_key_file or admin.api_key_env (only
 * one of the three may be given); errors and warnings (a key file every
 * user may read) go to diag.  The loader calls it for the admin object.
 */
void sw_config_resolve_admin_key(struct sw_admin_cfg *admin, struct sw_diag *diag);

/*
 * Reads a whole regular file of at most max bytes, opened non-blocking so
 * a FIFO or device never blocks the caller.  Returns 0 with a malloc'ed,
 * NUL-terminated *out, or an errno value (EINVAL: not a regular file,
 * EFBIG: too large); *mode gets the file's permission bits when not NULL.
 */
int sw_config_read_file(const char *path, size_t max, char **out, size_t *out_len,
			unsigned *mode);

/*
 * Re-runs the semantic checks (after CLI overrides or an admin change):
 * cross-references, features, listener conflicts.  SW_OK or SW_ERROR.
 */
int sw_config_validate(const struct sw_config *cfg, struct sw_diag *diag);

/*
 * Redoes what the loader derives from other keys after a caller changed
 * them (CLI --cert/--key, admin edits): without listeners[] in the file,
 * the one listener is address:port, with TLS when tls has a certificate
 * and QUIC as quic.enabled/quic.port say.  Call before sw_config_validate.
 */
void sw_config_derive(struct sw_config *cfg);

/* Sets cfg->files_stamp from the TLS and QUIC certificate, key and CA files. */
void sw_config_stamp_files(struct sw_config *cfg);

/* Called with each file a unit's section names (NULL paths skipped) and its key path. */
typedef void sw_config_file_fn(void *arg, const char *key, const char *path);
/* The certificate, key and CA files the units will open, unit by unit. */
void sw_config_files(const struct sw_config *cfg, sw_config_file_fn *fn, void *arg);

/* Deep copy; dst is initialized by the call. */
void sw_config_copy(struct sw_config *dst, const struct sw_config *src);

/* What a reload from `old` to `new` must do. */
enum {
	SW_CFG_SAME = 0,
	SW_CFG_VALUES = 1 << 0,      /* timeouts, limits, log level, ...: in place */
	SW_CFG_STRUCTURAL = 1 << 1,  /* listeners, workers, certificates, io_backend,
					quic socket, access log target: replace workers */
};
unsigned sw_config_compare(const struct sw_config *old_cfg,
			   const struct sw_config *new_cfg);

/*
 * Serializes to JSON (for the admin API's GET /v1/config and persist).
 * With redact, secrets (admin.api_key) are replaced by "<redacted>".
 * Returns a malloc'ed NUL-terminated string.
 */
char *sw_config_to_json(const struct sw_config *cfg, bool redact);

const char *sw_io_backend_name(enum sw_io_backend b);
const char *sw_log_level_name(enum sw_log_level l);

/*
 * Writes cfg to path atomically, keeping the file's mode and owner
 * (config_persist.c).  SW_OK or SW_ERROR; err gets the outcome either way.
 */
int sw_config_persist(const struct sw_config *cfg, const char *path, char *err, size_t n);

#endif
