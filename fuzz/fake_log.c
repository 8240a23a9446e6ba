/* SPDX-License-Identifier: MIT */
/*
 * fake_log.c - the log for the fuzz targets that link code which logs
 * (admin, config, h2, h3): nothing is enabled and nothing is written, so a
 * run's output is libFuzzer's and the invariants' alone.
 */
#include <config.h>

#include "core/log.h"

bool sw_log_enabled(enum sw_log_level level)
{
	(void)level;
	return false;
}

void sw_log_at(const struct sw_log_site *at, enum sw_log_level level, int err,
	       const char *fmt, ...)
{
	(void)at;
	(void)level;
	(void)err;
	(void)fmt;
}
