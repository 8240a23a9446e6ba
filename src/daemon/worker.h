/* SPDX-License-Identifier: MIT */
/* worker.h - one worker process: its event loop, listeners and connections. */
#ifndef SW_DAEMON_WORKER_H
#define SW_DAEMON_WORKER_H

#include <stdbool.h>
#include "core/config.h"
#include "core/shm.h"
#include "daemon/listener.h"
#include "daemon/signals.h"
#include "event/loop.h"
#include "http/context.h"

struct sw_cli;

/* A listening socket as one worker accepts on it. */
struct sw_acceptor {
	struct sw_worker *w;
	const struct sw_listen *listen;
	struct sw_handle h;
	struct sw_io io;
	bool active;      /* an accept is pending */
	bool open;
};

/*
 * A worker process.  ctx is what the request path sees (http/context.h);
 * the rest (acceptors, the control socket, signals, timers) is the
 * daemon's own.
 */
struct sw_worker {
	struct sw_ctx ctx;
	struct sw_acceptor *acceptors;
	size_t acceptor_count;
	unsigned acceptors_closing;   /* closed, on_closed not yet called */
	struct sw_acceptor **retired; /* replaced by a single-process reload */
	size_t retired_count;
	int ctl_fd;                   /* -1 in single-process mode */
	struct sw_handle ctl_h;
	struct sw_io ctl_io;
	struct sw_signals sigs;
	struct sw_timer drain_timer;
	struct sw_timer stop_timer;   /* bounds the wait for aborted connections' handles */
	bool stopping;                /* connections aborted: exit once their handles closed */
	struct sw_timer accept_timer; /* the context's wake_accept hook */
	struct sw_timer trim_timer;   /* memory left by a burst goes back (sw_conn_trim) */
	struct sw_timer run_timer;    /* --run-for-ms in single-process mode */
	struct sw_timer ticket_timer; /* key rotation in single-process mode */
	struct sw_timer beat_timer;   /* heartbeat for the master (heartbeat.c) */
	void **retired_tls;           /* TLS contexts replaced by a single-process reload */
	size_t retired_tls_count;
	const struct sw_cli *cli;     /* single-process mode reloads itself */
	struct sw_admin_wait *admin_waits; /* admin changes the master has not answered yet */
	uint32_t admin_seq;
	int exit_code;
};

/* Everything a worker starts from; the master fills it before fork. */
struct sw_worker_params {
	unsigned slot;
	unsigned generation;
	struct sw_config *cfg;
	struct sw_shm *shm;
	struct sw_listen_set *listens;
	int ctl_fd;                   /* -1: single process, handle signals here */
	const struct sw_cli *cli;
	int cpu;                      /* -1: do not pin */
};

/* Runs a worker until it is told to stop; returns the process exit code. */
int sw_worker_run(const struct sw_worker_params *params);

/*
 * Single-process reload: from the file (given NULL) or from an admin
 * change (given, validated; taken over).  SW_OK or SW_ERROR; err gets
 * the outcome either way.
 */
int sw_worker_reload_single(struct sw_worker *w, struct sw_config *given, char *err, size_t n);

/* The master's answer to an admin change (SW_CTL_ADMIN_RESULT; worker_admin.c). */
void sw_worker_admin_result(struct sw_worker *w, const char *payload);
/* Installs the admin unit's hooks in w->ctx (worker_admin.c). */
void sw_worker_admin_init(struct sw_worker *w);

#endif
