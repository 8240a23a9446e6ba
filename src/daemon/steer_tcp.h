/* SPDX-License-Identifier: MIT */
/* steer_tcp.h - keeping new TCP connections away from the sockets of stalled workers. */
#ifndef SW_DAEMON_STEER_TCP_H
#define SW_DAEMON_STEER_TCP_H

#include <stdbool.h>
#include "daemon/listener.h"

/*
 * Sets the reuseport steering of every TCP group in set (slots below
 * nslots): when some slots are stalled and others are not, a classic BPF
 * program picks one of the healthy slots at random for each new
 * connection; otherwise the program is taken off and the kernel's 4-tuple
 * hash spreads them again.  A group marked unordered (index != slot) is
 * left alone.  Failures are logged: the kernel's default spreading is the
 * fallback, never a refusal to serve.
 */
void sw_steer_tcp_apply(const struct sw_listen_set *set, unsigned nslots, const bool *stalled);

#endif
