/* SPDX-License-Identifier: MIT */
/* notify.h - talking to the service manager: sd_notify and the journal. */
#ifndef SW_DAEMON_NOTIFY_H
#define SW_DAEMON_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>
#include "core/common.h"

/*
 * Implemented by notify_systemd.c (libsystemd) or notify_plain.c (the
 * build without it), chosen at link time.  All calls are no-ops when
 * NOTIFY_SOCKET is unset.
 */

/* Sends a raw state string, e.g. "READY=1\nSTATUS=serving". */
int sw_notify(const char *state);
int sw_notify_printf(const char *fmt, ...) sw_printf(1, 2);
/* RELOADING=1 with MONOTONIC_USEC=now, as systemd 253+ Type=notify-reload wants. */
int sw_notify_reloading(void);
/* The watchdog period in microseconds, or 0 when WATCHDOG_USEC is unset. */
uint64_t sw_notify_watchdog_usec(void);
/* True when a service manager listens (NOTIFY_SOCKET set). */
bool sw_notify_enabled(void);

struct sw_journal_entry;

/*
 * Writes one log line (its fields, built by sw_log_journal_entry) to the
 * journal with the caller's location; SW_DECLINED when unavailable.
 */
int sw_journal_write(const struct sw_journal_entry *e);
/* True when stderr is connected to the journal (JOURNAL_STREAM matches). */
bool sw_journal_available(void);

#endif
