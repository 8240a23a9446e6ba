/* SPDX-License-Identifier: MIT */
/* listener.h - the listening sockets the master owns, one per worker slot. */
#ifndef SW_DAEMON_LISTENER_H
#define SW_DAEMON_LISTENER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include "core/config.h"
#include "http/listen.h"

/*
 * Opens the listeners of cfg with nslots sockets each.  A listener that is
 * also in `reuse` (same address, port and kind) shares its sockets (dup),
 * so their accept queues carry over; slots are added to match nslots.  A
 * UDP group carries over the same way when `reuse` has one at the same UDP
 * address, whatever changed on the TCP side, so QUIC connections and the
 * group's slot order survive.  On
 * failure (the reason, naming address:port and errno text, is in err)
 * nothing new stays open.  `reuse` is never changed.
 */
int sw_listen_set_open(struct sw_listen_set *set, const struct sw_config *cfg,
		       unsigned nslots, const struct sw_listen_set *reuse,
		       char *err, size_t err_size);
void sw_listen_set_close(struct sw_listen_set *set);
/* In a worker after fork: close every socket that is not its slot's. */
void sw_listen_set_keep_slot(struct sw_listen_set *set, unsigned slot);

/*
 * Binary upgrade (listen_pass.c).  The old master describes its set in one
 * line of text naming the descriptors (malloc'ed) and, in the child about
 * to exec the new binary, clears their close-on-exec flag; the new master
 * rebuilds the set from the text, checking each descriptor is a socket of
 * the right kind, and passes it as `reuse` to sw_listen_set_open, so the
 * same kernel sockets, accept queues and UDP groups serve on.
 */
char *sw_listen_set_describe(const struct sw_listen_set *set);
int sw_listen_set_inheritable(const struct sw_listen_set *set);
int sw_listen_set_import(struct sw_listen_set *set, const char *text, char *err,
			 size_t err_size);

#endif
