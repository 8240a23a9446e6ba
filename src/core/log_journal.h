/* SPDX-License-Identifier: MIT */
/* log_journal.h - one log line as the journal's structured fields: message, priority, the caller's location, who and what it is about. */
#ifndef SW_CORE_LOG_JOURNAL_H
#define SW_CORE_LOG_JOURNAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include "core/log.h"

/* What a line says and who says it. */
struct sw_log_record {
	const struct sw_log_site *at;
	int priority;               /* syslog's LOG_ERR ... LOG_DEBUG */
	int err;                    /* errno the line reports; 0: none */
	const char *role;           /* "master", "worker 1" */
	int worker;                 /* slot; -1: not a worker */
	uint64_t generation;        /* 0: none yet */
	const char *msg;
};

#define SW_JOURNAL_FIELDS 10

/*
 * The fields for sd_journal_sendv_with_location: code_file and code_line
 * as "CODE_FILE=..."/"CODE_LINE=...", func bare, the rest in iov (each
 * "KEY=value", pointing into buf).
 */
struct sw_journal_entry {
	char code_file[256];
	char code_line[32];
	const char *func;
	struct iovec iov[SW_JOURNAL_FIELDS];
	int n;
	size_t used;
	char buf[4096];
};

/*
 * Fills e from r: MESSAGE ("role: msg"), PRIORITY, SYSLOG_IDENTIFIER,
 * SWERVER_ROLE, SWERVER_WORKER and SWERVER_GENERATION when known, ERRNO
 * when set, the site's extra field, and the location with the file named
 * from its "src/" (or "tests/") on, whatever the build directory.
 */
void sw_log_journal_entry(struct sw_journal_entry *e, const struct sw_log_record *r);

/*
 * Where the journal target's entries go: what sw_log_set_journal gave
 * (the daemon's sw_journal_write), or a test's catcher.  SW_OK, or anything else to write the line to
 * stderr instead.
 */
extern int (*sw_log_journal_sink)(const struct sw_journal_entry *e);

#endif
