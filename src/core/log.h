/* SPDX-License-Identifier: MIT */
/* log.h - the error log: stderr, syslog, the journal or a file, by level. */
#ifndef SW_CORE_LOG_H
#define SW_CORE_LOG_H

#include <stdarg.h>
#include <stdint.h>
#include "core/common.h"
#include "core/config.h"

/*
 * Opens the error log described by cfg ("auto": the journal when
 * JOURNAL_STREAM is set and the build has libsystemd, else stderr).
 * Until called, messages go to stderr at info level.
 */
int sw_log_open(const struct sw_log_cfg *cfg);
/* Applies a new level (and target) from a reloaded config. */
int sw_log_reconfigure(const struct sw_log_cfg *cfg);
/* Reopens a file target (SIGUSR1, after logrotate). */
int sw_log_reopen(void);
void sw_log_close(void);

/* Every later line says who logs: "master", "worker 1", ... */
void sw_log_set_role(const char *role);
/*
 * The journal's SWERVER_WORKER (slot; -1: not a worker) and
 * SWERVER_GENERATION (0: none yet) of every later line.
 */
void sw_log_set_worker(int slot, uint64_t generation);
void sw_log_set_generation(uint64_t generation);
void sw_log_set_level(enum sw_log_level level);

struct sw_journal_entry;
/*
 * The journal output, which the daemon gives at start-up (daemon/notify.h:
 * libsystemd, or nothing without it): write sends one line's entry (SW_OK,
 * else the line goes to stderr), available says whether stderr is the
 * journal (target "auto").  Until then there is no journal: "auto" is
 * stderr and "journal" lines go to stderr.
 */
void sw_log_set_journal(int (*write)(const struct sw_journal_entry *e), bool (*available)(void));
bool sw_log_enabled(enum sw_log_level level);

/*
 * Where a line is logged from, and what it is about: the journal gets
 * CODE_FILE/CODE_LINE/CODE_FUNC of the caller (not of this file) and the
 * extra field key=value when key is set (e.g. SWERVER_LISTENER).
 */
struct sw_log_site {
	const char *file;
	int line;
	const char *func;
	const char *key;
	const char *value;
};

#define SW_LOG_SITE(key, value) \
	(&(const struct sw_log_site){ __FILE__, __LINE__, __func__, (key), (value) })

/* err != 0 appends ": strerror(err)" (and ERRNO= in the journal). */
void sw_log_at(const struct sw_log_site *at, enum sw_log_level level, int err,
	       const char *fmt, ...) sw_printf(4, 5);
void sw_logv_at(const struct sw_log_site *at, enum sw_log_level level, int err,
		const char *fmt, va_list ap);

#define sw_log(level, ...) sw_log_at(SW_LOG_SITE(NULL, NULL), (level), 0, __VA_ARGS__)
/* Appends ": strerror(err)". */
#define sw_log_errno(level, err, ...) sw_log_at(SW_LOG_SITE(NULL, NULL), (level), (err), __VA_ARGS__)
/* A line about one listener (its name, "127.0.0.1:8080"): SWERVER_LISTENER in the journal. */
#define sw_log_listener(level, err, name, ...) \
	sw_log_at(SW_LOG_SITE("SWERVER_LISTENER", (name)), (level), (err), __VA_ARGS__)
/* A line about one upstream (its name): SWERVER_UPSTREAM in the journal. */
#define sw_log_upstream(level, err, name, ...) \
	sw_log_at(SW_LOG_SITE("SWERVER_UPSTREAM", (name)), (level), (err), __VA_ARGS__)

#define sw_error(...) sw_log(SW_LOG_ERROR, __VA_ARGS__)
#define sw_warn(...) sw_log(SW_LOG_WARN, __VA_ARGS__)
#define sw_info(...) sw_log(SW_LOG_INFO, __VA_ARGS__)
#define sw_debug(...) do { if (sw_log_enabled(SW_LOG_DEBUG)) sw_log(SW_LOG_DEBUG, __VA_ARGS__); } while (0)

#endif
