/* SPDX-License-Identifier: MIT */
/* port_claim.h - refusing an address another process already listens on. */
#ifndef SW_DAEMON_PORT_CLAIM_H
#define SW_DAEMON_PORT_CLAIM_H

#include <stdbool.h>
#include <sys/socket.h>

/*
 * Before the first SO_REUSEPORT socket of a group is bound at addr
 * (SOCK_STREAM or SOCK_DGRAM): SW_ERROR, with err naming `name` and, where
 * /proc shows it, the other process, when a socket of another process
 * listens (TCP) or is bound (UDP) at an overlapping address.  Sockets of
 * this process, or of its children (workers still draining), are ours:
 * SW_OK with *own set, as across a reload that rebinds a port it holds.
 */
int sw_port_claim_check(const struct sockaddr *addr, socklen_t len, int socktype,
			const char *name, bool *own, char *err, size_t err_size);

#endif
