/* SPDX-License-Identifier: MIT */
/* log_journal.c - one log line as the journal's structured fields: message, priority, the caller's location, who and what it is about. */
#include <config.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "core/log_journal.h"

/* Appends one "KEY=value" field; a field that does not fit is cut, never dropped. */
static void add(struct sw_journal_entry *e, const char *fmt, ...) sw_printf(2, 3);

static void add(struct sw_journal_entry *e, const char *fmt, ...)
{
	size_t room = sizeof(e->buf) - e->used;
	va_list ap;
	int n;

	if (e->n >= SW_JOURNAL_FIELDS || room < 2)
		return;
	va_start(ap, fmt);
	n = vsnprintf(e->buf + e->used, room, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= room)
		n = (int)room - 1;
	e->iov[e->n].iov_base = e->buf + e->used;
	e->iov[e->n].iov_len = (size_t)n;
	e->n++;
	e->used += (size_t)n + 1;
}

/*
 * __FILE__ is the path the compiler was given: "src/core/log.c" in the
 * source tree, "../swerver/src/core/log.c" in a VPATH build.  The journal
 * gets the part from the last "src/" or "tests/" directory on.
 */
static const char *source_path(const char *file)
{
	static const char *const tops[] = { "src/", "tests/" };
	const char *best = NULL;

	for (size_t i = 0; i < sizeof(tops) / sizeof(tops[0]); i++) {
		for (const char *p = strstr(file, tops[i]); p; p = strstr(p + 1, tops[i]))
			if ((p == file || p[-1] == '/') && (!best || p > best))
				best = p;
	}
	return best ? best : file;
}

void sw_log_journal_entry(struct sw_journal_entry *e, const struct sw_log_record *r)
{
	e->n = 0;
	e->used = 0;
	snprintf(e->code_file, sizeof(e->code_file), "CODE_FILE=%s", source_path(r->at->file));
	snprintf(e->code_line, sizeof(e->code_line), "CODE_LINE=%d", r->at->line);
	e->func = r->at->func;
	add(e, "PRIORITY=%d", r->priority);
	add(e, "SYSLOG_IDENTIFIER=swerver");
	add(e, "SWERVER_ROLE=%s", r->role);
	if (r->worker >= 0)
		add(e, "SWERVER_WORKER=%d", r->worker);
	if (r->generation)
		add(e, "SWERVER_GENERATION=%llu", (unsigned long long)r->generation);
	if (r->err)
		add(e, "ERRNO=%d", r->err);
	if (r->at->key && r->at->value)
		add(e, "%s=%s", r->at->key, r->at->value);
	/* Last: the one field long enough to fill the buffer is cut, not the others. */
	add(e, "MESSAGE=%s: %s", r->role, r->msg);
}
