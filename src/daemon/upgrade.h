/* SPDX-License-Identifier: MIT */
/* upgrade.h - binary upgrade: the master runs the new binary and hands it the sockets and shared memory. */
#ifndef SW_DAEMON_UPGRADE_H
#define SW_DAEMON_UPGRADE_H

#include <stdbool.h>
#include <sys/types.h>
#include "daemon/listener.h"
#include "event/loop.h"

/*
 * The old master's side.  sw_upgrade_start forks; the child clears
 * close-on-exec on every listening socket (TCP, QUIC UDP groups, the admin
 * API's), the shared-memory memfd and one end of a SOCK_SEQPACKET pair,
 * names them in SWERVER_UPGRADE and SWERVER_LISTENERS, and execs the
 * binary at the path this one was started from (a package upgrade has
 * replaced it there).  The new master answers on the pair: READY once all
 * its workers accept (it has sent MAINPID= and READY=1 to systemd before),
 * or FAILED with the reason.  done(data, true, NULL) on READY; on a failure
 * (exec, config, start-up, no READY within the deadline: then SIGTERM, and
 * SIGKILL after the grace) done(data, false, why) once the new master has
 * been reaped, so nothing of it serves any more.
 */
typedef void (*sw_upgrade_done_fn)(void *data, bool ok, const char *why);

struct sw_upgrade {
	struct sw_loop *loop;
	sw_upgrade_done_fn done;
	void *data;
	pid_t pid;                 /* the new master until it is reaped or serves; 0 = none */
	int fd;                    /* our end of the pair; -1 = none */
	bool ready;                /* it serves: ours is the generation to drain */
	uint64_t grace_ms;         /* after SIGTERM, before SIGKILL */
	char why[256];             /* the first reason it will not serve */
	struct sw_handle h;
	struct sw_io io;
	struct sw_timer deadline;
	struct sw_timer kill_timer;
};

/* What the new master receives. */
struct sw_upgrade_handoff {
	const struct sw_listen_set *listens;
	int shm_fd;
	unsigned generation;       /* the old master's; the new one continues at + 1 */
	char **argv;
};

void sw_upgrade_init(struct sw_upgrade *u, struct sw_loop *loop, sw_upgrade_done_fn done,
		     void *data);
/* SW_OK: started, done() comes later; SW_ERROR with the reason in err. */
int sw_upgrade_start(struct sw_upgrade *u, const struct sw_upgrade_handoff *h,
		     uint64_t timeout_ms, uint64_t grace_ms, char *err, size_t err_size);
/* An upgrade is under way (or its new master not yet reaped). */
bool sw_upgrade_busy(const struct sw_upgrade *u);
/* The master is stopping: a new master that does not serve yet is stopped too. */
void sw_upgrade_cancel(struct sw_upgrade *u, const char *why);
/* From the master's SIGCHLD loop: true when pid was the new master. */
bool sw_upgrade_reaped(struct sw_upgrade *u, pid_t pid, int status);
void sw_upgrade_deinit(struct sw_upgrade *u);

/*
 * The new master's side.  sw_upgrade_inherit reads (and removes) the
 * environment: SW_DECLINED when this is no upgrade, SW_ERROR with the
 * reason when the hand-over is unusable.
 */
struct sw_inherited {
	bool active;
	int fd;                    /* the pair to the old master; -1 once answered */
	int shm_fd;
	unsigned generation;       /* the old master's */
	struct sw_listen_set listens;
};

int sw_upgrade_inherit(struct sw_inherited *in, char *err, size_t err_size);
/* Every worker accepts (and systemd has MAINPID): READY to the old master. */
void sw_upgrade_serving(struct sw_inherited *in);
/* The new master gives up before serving: the old one hears why. */
void sw_upgrade_refuse(struct sw_inherited *in, const char *why);

#endif
