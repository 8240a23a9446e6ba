/* log.h - the error log: stderr, syslog, the journal or a file, by level. */
#ifndef SW_CORE_LOG_H
#define SW_CORE_LOG_H

#include <stdarg.h>
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
void sw_log_set_level(enum sw_log_level level);
bool sw_log_enabled(enum sw_log_level level);

void sw_log(enum sw_log_level level, const char *fmt, ...) sw_printf(2, 3);
/* Appends ": strerror(err)". */
void sw_log_errno(enum sw_log_level level, int err, const char *fmt, ...) sw_printf(3, 4);
void sw_logv(enum sw_log_level level, int err, const char *fmt, va_list ap);

#define sw_error(...) sw_log(SW_LOG_ERROR, __VA_ARGS__)
#define sw_warn(...) sw_log(SW_LOG_WARN, __VA_ARGS__)
#define sw_info(...) sw_log(SW_LOG_INFO, __VA_ARGS__)
#define sw_debug(...) do { if (sw_log_enabled(SW_LOG_DEBUG)) sw_log(SW_LOG_DEBUG, __VA_ARGS__); } while (0)

#endif
