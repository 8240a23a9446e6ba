/* SPDX-License-Identifier: MIT */
/* stall_pass.c - the master hands the connections queued on a stalled worker's sockets to the others. */
#include <config.h>

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>
#include "core/common.h"
#include "core/log.h"
#include "daemon/stall_pass.h"

/* Per listener and call: the master's loop must not be held up by a flood. */
#define PASS_BATCH 256

unsigned sw_stall_pass(const struct sw_listen_set *set, unsigned slot, sw_stall_pass_cb pass,
		       void *ctx)
{
	unsigned passed = 0;

	for (size_t i = 0; i < set->n; i++) {
		const struct sw_listen *l = &set->v[i];

		if (slot >= l->nslots || l->fds[slot] < 0)
			continue;
		/*
		 * The master's copy of the socket is the one the stalled worker
		 * accepts from: what the kernel queued there before the steering
		 * changed (or a handshake finished since) is taken here instead of
		 * waiting for timeouts.stall_ms.
		 */
		for (unsigned k = 0; k < PASS_BATCH; k++) {
			int fd = accept4(l->fds[slot], NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

			if (fd < 0) {
				if (errno != EAGAIN && errno != ECONNABORTED && errno != EINTR)
					sw_log_errno(SW_LOG_WARN, errno,
						     "accept on %s for a stalled worker", l->name);
				if (errno != ECONNABORTED && errno != EINTR)
					break;
				continue;
			}
			if (pass(ctx, i, fd) == SW_OK)
				passed++;
			close(fd);
		}
	}
	return passed;
}
