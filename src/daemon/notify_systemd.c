/* SPDX-License-Identifier: MIT */
/* notify_systemd.c - sd_notify readiness and journal logging via libsystemd. */
#include <config.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <systemd/sd-daemon.h>
/* Only the _with_location calls: no macro may record this file as the caller. */
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>
#include "core/log_journal.h"
#include "core/module.h"
#include "daemon/notify.h"

bool sw_notify_enabled(void)
{
	const char *s = getenv("NOTIFY_SOCKET");
	return s && *s;
}

int sw_notify(const char *state)
{
	if (!sw_notify_enabled())
		return SW_OK;
	/* unset_environment=0: workers are forked later and must not send. */
	return sd_notify(0, state) >= 0 ? SW_OK : SW_ERROR;
}

uint64_t sw_notify_watchdog_usec(void)
{
	uint64_t usec = 0;

	/* pid 0: accept WATCHDOG_PID for any process; we only call it in the master. */
	if (sd_watchdog_enabled(0, &usec) > 0)
		return usec;
	return 0;
}

bool sw_journal_available(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2)
		return false;
	/* Only if our stderr is still the stream systemd gave us. */
	if (fstat(2, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

/*
 * The _with_location call: sd_journal_send() is a macro that records its
 * own __FILE__/__LINE__, which named this helper on every line.
 */
int sw_journal_write(const struct sw_journal_entry *e)
{
	int r = sd_journal_sendv_with_location(e->code_file, e->code_line, e->func, e->iov, e->n);

	return r >= 0 ? SW_OK : SW_DECLINED;
}

static void versions(char *buf, size_t size)
{
	snprintf(buf, size, "libsystemd %s", SW_LIBSYSTEMD_VERSION);
}

const struct sw_module sw_module_systemd = {
	.name = "systemd",
	.summary = "sd_notify readiness, watchdog and journal logging",
	.versions = versions,
};
