/* SPDX-License-Identifier: MIT */
/* diag.h - collected errors and warnings about a config, with their location. */
#ifndef SW_CORE_DIAG_H
#define SW_CORE_DIAG_H

#include <stddef.h>
#include "core/common.h"

enum sw_diag_level { SW_DIAG_WARNING, SW_DIAG_ERROR };

struct sw_diag_entry {
	enum sw_diag_level level;
	char *text;   /* complete message: "FILE: PATH: reason" or "FILE:LINE:COL: reason" */
};

/*
 * A list of messages.  Producers add entries; callers print them (sw_diag_print)
 * or send them as a JSON 400 (the admin API).  `source` names the file (or
 * "admin request") and prefixes every message.
 */
struct sw_diag {
	const char *source;
	struct sw_diag_entry *entries;
	size_t count, cap;
	size_t errors, warnings;
};

void sw_diag_init(struct sw_diag *d, const char *source);
void sw_diag_deinit(struct sw_diag *d);
/* "SOURCE: PATH: reason" (PATH may be NULL or empty: "SOURCE: reason"). */
void sw_diag_error(struct sw_diag *d, const char *path, const char *fmt, ...) sw_printf(3, 4);
void sw_diag_warn(struct sw_diag *d, const char *path, const char *fmt, ...) sw_printf(3, 4);
/* "SOURCE:LINE:COL: reason" for syntax errors. */
void sw_diag_error_at(struct sw_diag *d, int line, int col, const char *fmt, ...) sw_printf(4, 5);
/* Writes every message to the error log at its level; returns d->errors. */
size_t sw_diag_log(const struct sw_diag *d);
/* The first error's text, or NULL. */
const char *sw_diag_first_error(const struct sw_diag *d);

#endif
