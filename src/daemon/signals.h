/* SPDX-License-Identifier: MIT */
/* signals.h - signals delivered through the event loop by a signalfd. */
#ifndef SW_DAEMON_SIGNALS_H
#define SW_DAEMON_SIGNALS_H

#include "event/loop.h"

typedef void (*sw_signal_cb)(void *data, int signo);

struct sw_signals {
	int fd;
	struct sw_loop *loop;
	struct sw_handle h;
	struct sw_io io;
	sw_signal_cb cb;
	void *data;
};

/*
 * Blocks the signals in signos (0-terminated) and has the loop call cb
 * for each one delivered, in order, from the loop: no async-signal-safety
 * to worry about.  SW_OK, or SW_ERROR (logged).
 */
int sw_signals_open(struct sw_signals *s, struct sw_loop *loop, const int *signos,
		    sw_signal_cb cb, void *data);

#endif
