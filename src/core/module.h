/* module.h - the registry of optional compile units (tls, http2, http3, ...). */
#ifndef SW_CORE_MODULE_H
#define SW_CORE_MODULE_H

#include <stddef.h>

struct sw_config;
struct sw_diag;

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
	/*
	 * The unit's implementation table, whose type the consumer knows by
	 * the module's name: "io_uring" gives a const struct sw_backend_ops *.
	 */
	const void *impl;
};

extern const struct sw_module *const sw_modules[];

/* The enabled module called `name`, or NULL when it was compiled out. */
const struct sw_module *sw_module_find(const char *name);

#endif
