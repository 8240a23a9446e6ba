/* SPDX-License-Identifier: MIT */
/* diag.c - collected errors and warnings about a config, with their location. */
#include <config.h>     /* autoconf's, from the build dir (not core/config.h) */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/diag.h"
#include "core/log.h"

void sw_diag_init(struct sw_diag *d, const char *source)
{
	memset(d, 0, sizeof(*d));
	d->source = source;
}

void sw_diag_deinit(struct sw_diag *d)
{
	for (size_t i = 0; i < d->count; i++)
		free(d->entries[i].text);
	free(d->entries);
	d->entries = NULL;
	d->count = d->cap = d->errors = d->warnings = 0;
}

/* Formats "prefix" followed by the reason; the caller owns the result. */
sw_printf(2, 0)
static char *format(const char *prefix, const char *fmt, va_list ap)
{
	va_list ap2;
	size_t plen = strlen(prefix);

	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		n = 0;
	char *text = sw_malloc(plen + (size_t)n + 1);
	memcpy(text, prefix, plen);
	vsnprintf(text + plen, (size_t)n + 1, fmt, ap);
	return text;
}

static void add(struct sw_diag *d, enum sw_diag_level level, char *text)
{
	/* Checks that run twice (load, then after CLI overrides) say a thing once. */
	for (size_t i = 0; i < d->count; i++)
		if (d->entries[i].level == level && strcmp(d->entries[i].text, text) == 0) {
			free(text);
			return;
		}
	if (d->count == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 8;
		d->entries = sw_realloc(d->entries, d->cap * sizeof(*d->entries));
	}
	d->entries[d->count].level = level;
	d->entries[d->count].text = text;
	d->count++;
	if (level == SW_DIAG_ERROR)
		d->errors++;
	else
		d->warnings++;
}

/* "SOURCE: PATH: ", leaving out the parts that are absent. */
static void prefix_path(char *buf, size_t size, const char *source, const char *path)
{
	bool has_source = source && *source, has_path = path && *path;

	snprintf(buf, size, "%s%s%s%s", has_source ? source : "",
		 has_source ? ": " : "", has_path ? path : "", has_path ? ": " : "");
}

sw_printf(4, 0)
static void vadd_path(struct sw_diag *d, enum sw_diag_level level, const char *path,
		      const char *fmt, va_list ap)
{
	char prefix[1024];

	prefix_path(prefix, sizeof(prefix), d->source, path);
	add(d, level, format(prefix, fmt, ap));
}

void sw_diag_error(struct sw_diag *d, const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vadd_path(d, SW_DIAG_ERROR, path, fmt, ap);
	va_end(ap);
}

void sw_diag_warn(struct sw_diag *d, const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vadd_path(d, SW_DIAG_WARNING, path, fmt, ap);
	va_end(ap);
}

void sw_diag_error_at(struct sw_diag *d, int line, int col, const char *fmt, ...)
{
	char prefix[1024];
	va_list ap;

	if (d->source && *d->source)
		snprintf(prefix, sizeof(prefix), "%s:%d:%d: ", d->source, line, col);
	else
		snprintf(prefix, sizeof(prefix), "%d:%d: ", line, col);
	va_start(ap, fmt);
	add(d, SW_DIAG_ERROR, format(prefix, fmt, ap));
	va_end(ap);
}

size_t sw_diag_log(const struct sw_diag *d)
{
	for (size_t i = 0; i < d->count; i++)
		sw_log(d->entries[i].level == SW_DIAG_ERROR ? SW_LOG_ERROR : SW_LOG_WARN,
		       "%s", d->entries[i].text);
	return d->errors;
}

const char *sw_diag_first_error(const struct sw_diag *d)
{
	for (size_t i = 0; i < d->count; i++)
		if (d->entries[i].level == SW_DIAG_ERROR)
			return d->entries[i].text;
	return NULL;
}
