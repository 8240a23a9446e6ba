/* SPDX-License-Identifier: MIT */
/* stall_pass.h - the master hands the connections queued on a stalled worker's sockets to the others. */
#ifndef SW_DAEMON_STALL_PASS_H
#define SW_DAEMON_STALL_PASS_H

#include <stddef.h>
#include "daemon/listener.h"

/* Gives the accepted fd (listener index `listener` in the set) to a healthy worker; SW_OK or not. */
typedef int (*sw_stall_pass_cb)(void *ctx, size_t listener, int fd);

/*
 * Accepts what is queued on slot's socket of every TCP listener in set
 * (at most a bounded batch per call) and passes each connection on with
 * `pass`; the master's copy is closed either way.  Returns how many were
 * passed.
 */
unsigned sw_stall_pass(const struct sw_listen_set *set, unsigned slot, sw_stall_pass_cb pass,
		       void *ctx);

#endif
