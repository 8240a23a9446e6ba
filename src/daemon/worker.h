/* worker.h - one worker process: its event loop, listeners and connections. */
#ifndef SW_DAEMON_WORKER_H
#define SW_DAEMON_WORKER_H

#include <stdbool.h>
#include "core/module.h"
#include "core/config.h"
#include "core/lru.h"
#include "core/shm.h"
#include "daemon/listener.h"
#include "daemon/signals.h"
#include "event/loop.h"

struct sw_conn;
struct sw_tls_api;
struct sw_h2_api;
struct sw_proxy_api;
struct sw_quic_api;
struct sw_cli;
struct sw_policy_chain;

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
	unsigned free_count, free_low; /* its length, and the least since the last trim */
	unsigned conn_count;
	unsigned conns_closing;       /* closed, their handles' on_closed not yet called */
	/* server.max_connections (src/http/conn_limit.c) */
	struct sw_lru idle_conns;     /* keep-alive connections between requests, oldest at the tail */
	unsigned admin_count;         /* of conn_count: on the admin listener (own reserve) */
	unsigned reserve_count;       /* of conn_count: past the limit, for probes */
	unsigned reclaiming;          /* HTTP/2 connections told GOAWAY to make room */
	bool at_limit;                /* in an episode at the limit (logged once) */
	unsigned limit_reclaimed, limit_refused; /* this episode's, for its end's log line */
	bool ready;                   /* /.ready answers 200 */
	bool draining;
	bool paused;                  /* accept paused at max_connections */
	int ctl_fd;                   /* -1 in single-process mode */
	struct sw_handle ctl_h;
	struct sw_io ctl_io;
	struct sw_signals sigs;
	struct sw_timer drain_timer;
	struct sw_timer stop_timer;   /* bounds the wait for aborted connections' handles */
	bool stopping;                /* connections aborted: exit once their handles closed */
	struct sw_timer accept_timer; /* sw_worker_wake_accept */
	struct sw_timer trim_timer;   /* memory left by a burst goes back (sw_conn_trim) */
	struct sw_timer run_timer;    /* --run-for-ms in single-process mode */
	struct sw_timer ticket_timer; /* key rotation in single-process mode */
	struct sw_timer beat_timer;   /* heartbeat for the master (heartbeat.c) */
	void **retired_tls;           /* TLS contexts replaced by a single-process reload */
	size_t retired_tls_count;
	const struct sw_cli *cli;     /* single-process mode reloads itself */
	/* Per-worker state of the request-path features (owned by their units). */
	struct sw_static_state *statics;
	struct sw_access_log *access_log;
	struct sw_policy_chain *policies; /* the config's global chain (http/policy.h) */
	uint64_t request_seq;         /* for request ids */
	struct sw_admin_wait *admin_waits; /* admin changes the master has not answered yet */
	uint32_t admin_seq;
	const struct sw_tls_api *tls_api; /* NULL when TLS is compiled out */
	const struct sw_h2_api *h2_api;   /* NULL when HTTP/2 is compiled out */
	const struct sw_proxy_api *proxy_api; /* NULL when the proxy is compiled out */
	void *proxy;                  /* its routes, upstreams and pools */
	const struct sw_quic_api *quic_api; /* NULL when HTTP/3 is compiled out */
	void *quic;                   /* the QUIC endpoint, when a listener serves HTTP/3 */
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

/*
 * The HTTP/3 unit, found through sw_quic_api() so the core links
 * without ngtcp2 (src/quic/quic.c).
 */
struct sw_quic_api {
	/*
	 * The master opened a UDP group (fds in slot order), before forking any
	 * worker that uses it: make the process tree's shared QUIC secrets once
	 * and steer packets to the slot their connection ID names.
	 */
	int (*group_open)(const int *fds, unsigned n, char *err, size_t err_size);
	/* Serves this worker's UDP sockets of w->listens (taking them over). */
	int (*start)(struct sw_worker *w);
	/* Single process, listeners replaced: old sockets finish their connections. */
	int (*relisten)(struct sw_worker *w);
	/* Drain: GOAWAY, let open streams finish, then close the connections. */
	void (*drain)(struct sw_worker *w);
	/* Connections still open: a draining worker exits at 0. */
	unsigned (*count)(const struct sw_worker *w);
	/*
	 * The Alt-Svc value advertising HTTP/3 on UDP port (a TCP listener's
	 * quic port) while this worker serves it there, else NULL; valid for
	 * the worker's life, so a response head may hold it.
	 */
	const char *(*alt_svc)(struct sw_worker *w, uint16_t port);
	/* Closes every connection and socket now (the endpoint stays till release). */
	void (*stop)(struct sw_worker *w);
	/* After the loop has ended: frees the endpoint. */
	void (*release)(struct sw_worker *w);
};

/* The unit's table, or NULL when it was compiled out: the one place its sw_module's impl is converted. */
static inline const struct sw_quic_api *sw_quic_api(void)
{
	const struct sw_module *m = sw_module_find("http3");

	return m ? m->impl : NULL;
}

/* Runs a worker until it is told to stop; returns the process exit code. */
int sw_worker_run(const struct sw_worker_params *params);

/* Called by a connection when it is gone: resume accepting, finish a drain. */
void sw_worker_conn_closed(struct sw_worker *w);
/*
 * A connection became idle while accepting is paused at the limit: try
 * again from the loop (never inside the caller, whose connection the
 * attempt may close to make room).
 */
void sw_worker_wake_accept(struct sw_worker *w);

/*
 * Single-process reload: from the file (given NULL) or from an admin
 * change (given, validated; taken over).  SW_OK or SW_ERROR; err gets
 * the outcome either way.
 */
int sw_worker_reload_single(struct sw_worker *w, struct sw_config *given, char *err, size_t n);

/* ---- admin changes (worker_admin.c) ---- */

struct sw_exchange;
enum sw_admin_op { SW_ADMIN_OP_PUT_ROUTE, SW_ADMIN_OP_DEL_ROUTE, SW_ADMIN_OP_PUT_UPSTREAM,
		   SW_ADMIN_OP_DEL_UPSTREAM, SW_ADMIN_OP_RELOAD, SW_ADMIN_OP_PERSIST,
		   SW_ADMIN_OP_UPGRADE, SW_ADMIN_OPS };
/* "put_route", ...; and back (SW_ADMIN_OPS when unknown). */
const char *sw_admin_op_name(enum sw_admin_op op);
enum sw_admin_op sw_admin_op_parse(const char *name);
/*
 * admin_edit.c: base with one change made (a route or upstream put, by
 * path_prefix+host or name, or deleted), validated by the config loader,
 * as JSON text (malloc'ed); NULL with *status and *message (malloc'ed)
 * set: 400 with the first error and its key path, 404, 409.
 */
char *sw_admin_edit(const struct sw_config *base, enum sw_admin_op op, const char *arg,
		    int *status, char **message);
/* The outcome: 200 with a summary, or an error status with the reason. */
typedef void (*sw_admin_done_fn)(struct sw_exchange *x, int status, const char *text);
/*
 * Has the master (or, in single-process mode, this process) make a change
 * to the running config (arg: the JSON object, or the name), reload from
 * the file, or persist the running config; done answers x when that is
 * over, on every worker alike.  The master applies changes one at a time
 * to its own config, so concurrent ones never undo each other.
 */
void sw_worker_admin_request(struct sw_exchange *x, enum sw_admin_op op, const char *arg,
			     sw_admin_done_fn done);
/* The master's answer (SW_CTL_ADMIN_RESULT). */
void sw_worker_admin_result(struct sw_worker *w, const char *payload);
/* Writes cfg to path atomically, keeping the file's mode and owner.  SW_OK or SW_ERROR. */
int sw_config_persist(const struct sw_config *cfg, const char *path, char *err, size_t n);

#endif
