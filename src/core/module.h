/* SPDX-License-Identifier: MIT */
/* module.h - the registry of optional compile units (tls, http2, http3, ...). */
#ifndef SW_CORE_MODULE_H
#define SW_CORE_MODULE_H

#include <stddef.h>
#include "core/config.h"

struct sw_config;
struct sw_diag;
struct sw_shm;
struct sw_cfg_table;
struct sw_policy;

/*
 * A unit's part of the config file, declared in src/<unit>/config.c with the
 * schema engine (core/config_schema.h).  The core's root table names the
 * unit's top-level keys (SW_UNIT there); the engine parses, copies, compares
 * and serializes them into the unit's struct at cfg->unit[slot].
 */
struct sw_config_section {
	enum sw_unit_slot slot;
	/* The unit's top-level keys, over its struct (the table's size). */
	const struct sw_cfg_table *table;
	/*
	 * Checks that need no library: required keys, cross-references, names
	 * used twice.  Run after a clean parse and by every sw_config_validate
	 * (admin edits, CLI overrides).  Errors go to diag with their key path.
	 */
	void (*validate)(const struct sw_config *cfg, struct sw_diag *diag);
	/* What the unit adds to the listener made from server.address/port (use_tls, quic_*). May be NULL. */
	void (*listener)(const struct sw_config *cfg, struct sw_listener_cfg *l);
	/* Calls fn for each file the section names (sw_config_files). May be NULL. */
	void (*files)(const struct sw_config *cfg, sw_config_file_fn *fn, void *arg);
};

/*
 * Every optional unit exports one `const struct sw_module sw_module_<name>`.
 * build-aux/gen-modules.sh lists the enabled ones in sw_modules[], so core
 * code asks sw_module_find("http3") instead of using #if.
 */
struct sw_module {
	const char *name;      /* as in --enable-<name>: "tls", "io_uring", ... */
	const char *summary;   /* one line for -V */
	/* Writes the linked library versions, e.g. "OpenSSL 3.0.22". */
	void (*versions)(char *buf, size_t size);
	/*
	 * Checks the parts of a parsed config this unit owns that need the
	 * library (certificates load, key matches, ...).  Called by -t, at
	 * start-up and on reload.  Returns SW_OK or SW_ERROR with the reason
	 * in diag.  May be NULL.
	 */
	int (*check_config)(const struct sw_config *cfg, struct sw_diag *diag);
	/* The unit's config section, or NULL when it has none. */
	const struct sw_config_section *config;
	/*
	 * The unit's implementation table.  Read it only through the typed
	 * accessor next to its struct (sw_tls_api(), sw_h2_api(), sw_quic_api(),
	 * sw_proxy_api(), sw_uring_ops()), the one place it is converted.
	 */
	const void *impl;
	/*
	 * The unit's policies (src/core/policy_def.h), NULL-terminated, or
	 * NULL: a unit compiled out has none, so its config keys are unknown.
	 */
	const struct sw_policy *const *policies;
	/*
	 * Writes the unit's families (Prometheus text, HELP and TYPE first) to
	 * /metrics, at most size bytes at buf (NULL: only measure); returns the
	 * length the whole text needs.  May be NULL.
	 */
	size_t (*metrics)(const struct sw_shm *shm, char *buf, size_t size);
};

extern const struct sw_module *const sw_modules[];

/* The enabled module called `name`, or NULL when it was compiled out. */
const struct sw_module *sw_module_find(const char *name);

#endif
