/* SPDX-License-Identifier: MIT */
/* master_impl.h - the master's state, shared by master.c and master_admin.c only. */
#ifndef SW_DAEMON_MASTER_IMPL_H
#define SW_DAEMON_MASTER_IMPL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "core/config.h"
#include "daemon/cli.h"
#include "daemon/heartbeat.h"
#include "daemon/listener.h"
#include "daemon/signals.h"
#include "daemon/stall_pass.h"
#include "daemon/upgrade.h"
#include "event/loop.h"

struct master;

struct wproc {
	struct master *m;
	struct wproc *next;
	pid_t pid;
	unsigned slot;
	unsigned gen;
	int ctl_fd;
	struct sw_handle h;
	struct sw_io io;
	bool ready;
	bool draining;
	bool abandoned;            /* of a generation given up before it was ready */
	bool replaced;             /* killed for stalling (heartbeat.c); its successor is due */
	uint64_t started_ms;
	uint64_t kill_at;          /* abandoned: SIGKILL then if still alive; 0 = none */
};

struct slot {
	struct master *m;
	unsigned index;
	unsigned failures;         /* quick deaths in a row */
	char last_exit[128];       /* how the last of them ended */
	struct sw_timer restart;
};

struct master {
	const struct sw_cli *cli;
	struct sw_config cfg;
	struct sw_loop *loop;
	struct sw_shm *shm;
	int shm_fd;                    /* its memfd, for a binary upgrade */
	struct sw_upgrade up;          /* a new binary taking over from us */
	struct sw_inherited in;        /* we are that new binary: what the old one handed us */
	struct sw_listen_set ls;       /* the current generation's sockets */
	struct sw_listen_set old_ls;   /* the previous one's, until it is drained */
	unsigned nslots;
	unsigned gen;
	struct wproc *procs;
	struct slot slots[SW_MAX_SLOTS];
	struct sw_signals sigs;
	bool stopping;
	bool reloading;            /* new workers starting, old ones still serving */
	bool abandoning;           /* the new ones given up, not all gone yet */
	bool reload_pending;
	/* While reloading: what the old workers run on, back in force if it fails. */
	struct sw_config prev_cfg;
	unsigned prev_nslots;
	/* admin requests waiting for the reload they started to finish */
	struct { struct wproc *p; unsigned seq; } admin_waits[16];
	unsigned nadmin_waits;
	bool announced_ready;
	struct sw_timer stop_timer;
	struct sw_timer reload_timer;  /* timeouts.reload_ms for the new workers */
	struct sw_timer abandon_timer; /* SIGKILL for abandoned workers that linger */
	struct sw_timer run_timer;
	struct sw_timer watchdog;
	struct sw_timer ticket_timer;
	struct sw_timer stall_timer;   /* looks at the workers' heartbeats */
	struct sw_stall_watch stall;
	unsigned pass_next;            /* round robin over healthy workers for passed connections */
	uint64_t watchdog_ms;
};

/* How a config change went: new workers starting (PENDING until they are ready), or done. */
enum { APPLIED, PENDING, FAILED };

/* master.c */
/*
 * Makes a validated config the running one: new workers for a structural
 * change (PENDING until they are ready), values in place otherwise
 * (APPLIED); FAILED keeps the running config.
 */
int sw_master_apply_next(struct master *m, struct sw_config *next);
/* Rereads the config file and applies it. */
int sw_master_reload(struct master *m);
/* SIGUSR2 or POST /v1/upgrade: the binary now at our path takes over. */
int sw_master_start_upgrade(struct master *m);

/* master_admin.c */
/* An ADMIN message from worker p: a change, reload, upgrade or persist; answered or kept waiting. */
void sw_master_admin_request(struct master *m, struct wproc *p, const char *payload);
/* The reload the waiting requests started is over: they hear how it went. */
void sw_master_admin_settle(struct master *m, int status);
/* Worker p is gone: nobody to answer. */
void sw_master_admin_forget(struct master *m, const struct wproc *p);
/* A refusal says why: "refused: ..." and "failed: ..." drop their prefix. */
const char *sw_master_outcome_reason(const char *outcome);

#endif
