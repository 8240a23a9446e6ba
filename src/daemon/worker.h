/* worker.h - one worker process: its event loop, listeners and connections. */
#ifndef SW_DAEMON_WORKER_H
#define SW_DAEMON_WORKER_H

#include <stdbool.h>
#include "core/config.h"
#include "core/shm.h"
#include "daemon/listener.h"
#include "daemon/signals.h"
#include "event/loop.h"

struct sw_conn;
struct sw_tls_api;
struct sw_h2_api;
struct sw_proxy_api;
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

struct sw_worker {
	unsigned slot;
	unsigned generation;
	struct sw_loop *loop;
	struct sw_config *cfg;        /* live; value fields replaced on reload */
	struct sw_shm *shm;
	struct sw_slot_stats *stats;  /* this slot's block in shm */
	struct sw_listen_set *listens;
	struct sw_acceptor *acceptors;
	size_t acceptor_count;
	unsigned acceptors_closing;   /* closed, on_closed not yet called */
	struct sw_acceptor **retired; /* replaced by a single-process reload */
	size_t retired_count;
	struct sw_conn *conns;        /* live connections (for drain) */
	struct sw_conn *free_conns;   /* recycled, so accept does not malloc */
	unsigned conn_count;
	bool ready;                   /* /.ready answers 200 */
	bool draining;
	bool paused;                  /* accept paused at max_connections */
	int ctl_fd;                   /* -1 in single-process mode */
	struct sw_handle ctl_h;
	struct sw_io ctl_io;
	struct sw_signals sigs;
	struct sw_timer drain_timer;
	struct sw_timer run_timer;    /* --run-for-ms in single-process mode */
	struct sw_timer ticket_timer; /* key rotation in single-process mode */
	void **retired_tls;           /* TLS contexts replaced by a single-process reload */
	size_t retired_tls_count;
	const struct sw_cli *cli;     /* single-process mode reloads itself */
	/* Per-worker state of the request-path features (owned by their units). */
	struct sw_static_state *statics;
	struct sw_access_log *access_log;
	uint64_t request_seq;         /* for request ids */
	const struct sw_tls_api *tls_api; /* NULL when TLS is compiled out */
	const struct sw_h2_api *h2_api;   /* NULL when HTTP/2 is compiled out */
	const struct sw_proxy_api *proxy_api; /* NULL when the proxy is compiled out */
	void *proxy;                  /* its routes, upstreams and pools */
	void *tls_ctx;                /* when a listener uses TLS */
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

/* Called by a connection when it is gone: resume accepting, finish a drain. */
void sw_worker_conn_closed(struct sw_worker *w);

#endif
