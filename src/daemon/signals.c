/* SPDX-License-Identifier: MIT */
/* signals.c - a signalfd watched by the loop, dispatching to one callback. */
#include <config.h>

#include <errno.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include "core/log.h"
#include "daemon/signals.h"

static void watch(struct sw_signals *s);

static void on_ready(struct sw_io *io, ssize_t res)
{
	struct sw_signals *s = io->data;
	struct signalfd_siginfo si;

	(void)res;
	while (read(s->fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		s->cb(s->data, (int)si.ssi_signo);
	watch(s);
}

static void watch(struct sw_signals *s)
{
	s->io.data = s;
	s->io.cb = on_ready;
	sw_loop_poll(s->loop, &s->h, &s->io, false);
}

int sw_signals_open(struct sw_signals *s, struct sw_loop *loop, const int *signos,
		    sw_signal_cb cb, void *data)
{
	sigset_t set;

	sigemptyset(&set);
	for (const int *n = signos; *n; n++)
		sigaddset(&set, *n);
	/* Blocked, they queue for the signalfd instead of interrupting anything. */
	sigprocmask(SIG_BLOCK, &set, NULL);
	s->loop = loop;
	s->cb = cb;
	s->data = data;
	s->fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (s->fd < 0 || sw_loop_add(loop, &s->h, s->fd, s) != SW_OK) {
		sw_log_errno(SW_LOG_ERROR, errno, "signalfd");
		return SW_ERROR;
	}
	watch(s);
	return SW_OK;
}
