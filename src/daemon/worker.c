/* SPDX-License-Identifier: MIT */
/* worker.c - a worker process: accept, serve, obey the master, drain. */
#include <config.h>

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include "core/diag.h"
#include "core/log.h"
#include "daemon/cli.h"
#include "daemon/control.h"
#include "daemon/cpu.h"
#include "daemon/heartbeat.h"
#include "daemon/notify.h"
#include "daemon/signals.h"
#include "core/module.h"
#include "daemon/worker.h"
#include "http/access_log.h"
#include "http/http1_conn.h"
#include "http/http2.h"
#include "http/policy.h"
#include "http/router.h"
#include "http/static.h"
#include "quic/quic.h"
#include "tls/tls.h"

static void start_accept(struct sw_acceptor *a);

/* ---- accepting ---- */

static void on_accept(struct sw_io *io, ssize_t res)
{
	struct sw_acceptor *a = io->data;
	struct sw_worker *w = a->w;

	a->active = false;
	if (res >= 0) {
		sw_conn_open(&w->ctx, (int)res, (struct sockaddr *)&io->u.accept.addr,
			     io->u.accept.addrlen, a->listen);
	} else if (res == -EMFILE || res == -ENFILE) {
		/* Out of descriptors: pause like at max_connections, not spin. */
		sw_log_listener(SW_LOG_WARN, (int)-res, a->listen->name, "accept on %s", a->listen->name);
		w->ctx.paused = true;
		return;
	} else if (res != -ECONNABORTED && res != -EINTR) {
		sw_log_listener(SW_LOG_WARN, (int)-res, a->listen->name, "accept on %s", a->listen->name);
	}
	start_accept(a);
}

static void start_accept(struct sw_acceptor *a)
{
	struct sw_worker *w = a->w;

	if (a->active || !a->open || w->ctx.draining)
		return;
	if (!sw_conn_limit_room(&w->ctx, a->listen->admin)) {
		/* Leave new connections in the kernel's queue until one closes. */
		w->ctx.paused = true;
		return;
	}
	a->io.data = a;
	a->io.cb = on_accept;
	if (sw_loop_accept(w->ctx.loop, &a->h, &a->io) == SW_OK)
		a->active = true;
}

static void resume_accepting(struct sw_worker *w)
{
	w->ctx.paused = false;
	for (size_t i = 0; i < w->acceptor_count; i++)
		start_accept(&w->acceptors[i]);
}

static int open_acceptors(struct sw_worker *w)
{
	size_t n = w->ctx.listens->n;

	w->acceptors = sw_calloc(n ? n : 1, sizeof(*w->acceptors));
	for (size_t i = 0; i < n; i++) {
		struct sw_acceptor *a = &w->acceptors[i];
		const struct sw_listen *l = &w->ctx.listens->v[i];

		a->w = w;
		a->listen = l;
		if (sw_loop_add(w->ctx.loop, &a->h, l->fds[w->ctx.slot], a) != SW_OK) {
			sw_log_listener(SW_LOG_ERROR, 0, l->name, "cannot watch listener %s", l->name);
			return SW_ERROR;
		}
		/* The loop closes the fd with the handle; the set must not again. */
		w->ctx.listens->v[i].fds[w->ctx.slot] = -1;
		a->open = true;
		w->acceptor_count = i + 1;
		start_accept(a);
	}
	return SW_OK;
}

/*
 * Closing this worker's copy of the listening sockets: the kernel socket
 * lives on in the master (and in the new generation), so nothing queued on
 * it is lost; a removed listener's queue was accepted below before this.
 */
static void maybe_exit(struct sw_worker *w);

static void on_acceptor_closed(struct sw_handle *h)
{
	struct sw_acceptor *a = h->data;

	a->w->acceptors_closing--;
	maybe_exit(a->w);
}

static void close_acceptors(struct sw_worker *w)
{
	for (size_t i = 0; i < w->acceptor_count; i++) {
		struct sw_acceptor *a = &w->acceptors[i];
		if (a->open) {
			a->open = false;
			w->acceptors_closing++;
			sw_loop_close_handle(w->ctx.loop, &a->h, on_acceptor_closed);
		}
	}
}

/* Takes what is already queued, so a drained listener drops nothing. */
static void accept_backlog(struct sw_worker *w)
{
	for (size_t i = 0; i < w->acceptor_count; i++) {
		struct sw_acceptor *a = &w->acceptors[i];
		struct sockaddr_storage ss;
		socklen_t len;
		int fd;

		if (!a->open)
			continue;
		for (;;) {
			len = sizeof(ss);
			fd = accept4(a->h.fd, (struct sockaddr *)&ss, &len,
				     SOCK_NONBLOCK | SOCK_CLOEXEC);
			if (fd < 0)
				break;
			sw_conn_open(&w->ctx, fd, (struct sockaddr *)&ss, len, a->listen);
		}
	}
}

/* ---- drain and stop ---- */

/*
 * Done when no connection is left and every listener handle is fully
 * closed: until then an accept the kernel already completed may still
 * hand us a client, who must be served, not reset.
 */
static void maybe_exit(struct sw_worker *w)
{
	if (w->ctx.draining && w->ctx.conn_count == 0 && w->ctx.conns_closing == 0 &&
	    w->acceptors_closing == 0 && (!w->ctx.quic || w->ctx.quic_api->count(&w->ctx) == 0)) {
		sw_timer_del(w->ctx.loop, &w->stop_timer);
		sw_loop_stop(w->ctx.loop);
	}
}

/* The context's conn_closed hook: a connection is gone. */
static void on_conn_closed(void *owner)
{
	struct sw_worker *w = owner;

	if (w->ctx.draining) {
		maybe_exit(w);
		return;
	}
	if (w->ctx.paused)
		resume_accepting(w);
}

/*
 * Every connection is aborted, but its socket handle closes from the loop
 * (pending operations are cancelled first), and only then is its memory
 * ours again: the loop runs until the last one is closed, so nothing is
 * left behind (a leak checker's report, an exit status that lies), for at
 * most STOP_GRACE_MS in case a backend never completes a cancel.
 */
#define STOP_GRACE_MS 2000

static void on_stop_grace(struct sw_timer *t)
{
	struct sw_worker *w = t->data;

	sw_warn("%u aborted connection(s) not closed within %d ms; exiting anyway",
		w->ctx.conns_closing, STOP_GRACE_MS);
	sw_loop_stop(w->ctx.loop);
}

static void abort_and_exit(struct sw_worker *w)
{
	w->ctx.draining = true;
	if (w->stopping)
		return;
	w->stopping = true;
	sw_timer_del(w->ctx.loop, &w->drain_timer);
	sw_conn_abort_all(&w->ctx);
	if (w->ctx.quic)
		w->ctx.quic_api->stop(&w->ctx);
	sw_timer_add(w->ctx.loop, &w->stop_timer, STOP_GRACE_MS);
	maybe_exit(w);
}

/* How often a worker gives back what a burst of connections left behind. */
#define TRIM_MS 5000

static void on_trim_timer(struct sw_timer *t)
{
	struct sw_worker *w = t->data;

	sw_conn_trim(&w->ctx, TRIM_MS);
	sw_timer_add(w->ctx.loop, &w->trim_timer, TRIM_MS);
}

static void on_accept_timer(struct sw_timer *t)
{
	struct sw_worker *w = t->data;

	if (w->ctx.paused && !w->ctx.draining)
		resume_accepting(w);
}

/*
 * The context's wake_accept hook: a connection became idle while accepting
 * is paused at the limit; try again from the loop, never inside the caller.
 */
static void on_wake_accept(void *owner)
{
	struct sw_worker *w = owner;

	sw_timer_add(w->ctx.loop, &w->accept_timer, 0);
}

/* A drain that reached timeouts.drain_ms still ends as a drain: exit status 0. */
static void on_drain_timeout(struct sw_timer *t)
{
	struct sw_worker *w = t->data;

	sw_warn("drain timeout: closing %u connection(s) still open", w->ctx.conn_count);
	abort_and_exit(w);
}

static void worker_drain(struct sw_worker *w)
{
	if (w->ctx.draining)
		return;
	sw_info("draining %u connection(s)", w->ctx.conn_count);
	if (w->ctl_fd < 0)
		sw_notify("STOPPING=1");
	accept_backlog(w);
	w->ctx.draining = true;
	close_acceptors(w);
	sw_conn_drain_all(&w->ctx);
	if (w->ctx.quic)
		w->ctx.quic_api->drain(&w->ctx);
	sw_timer_add(w->ctx.loop, &w->drain_timer, w->ctx.cfg->timeouts.drain_ms);
	maybe_exit(w);
}

static void worker_stop(struct sw_worker *w)
{
	w->ctx.draining = true;
	close_acceptors(w);
	abort_and_exit(w);
}

/* ---- reload (value fields in place) ---- */

/* The global policy chain of w->ctx.cfg; exchanges using the old one hold it until they finish. */
static void build_policies(struct sw_worker *w)
{
	sw_policy_chain_put(w->ctx.policies);
	w->ctx.policies = sw_policy_chain_build(&w->ctx.cfg->policies, SW_POLICY_GLOBAL, "");
}

static void apply_config(struct sw_worker *w, struct sw_config *next)
{
	/*
	 * Connections read limits and timeouts through w->ctx.cfg at each step and
	 * keep no pointer into it across events, so the swap is safe here.
	 */
	sw_log_reconfigure(&next->log);
	sw_config_deinit(w->ctx.cfg);
	*w->ctx.cfg = *next;
	sw_static_reconfigure(&w->ctx);
	sw_access_log_reconfigure(&w->ctx);
	build_policies(w);
	if (w->ctx.proxy_api)
		w->ctx.proxy_api->reconfigure(&w->ctx);
	sw_info("configuration applied in place");
}

static void apply_config_text(struct sw_worker *w, const char *json, size_t len)
{
	struct sw_config next;
	struct sw_diag d;

	sw_diag_init(&d, "reload");
	if (sw_config_parse(&next, json, len, &d) != SW_OK) {
		sw_diag_log(&d);
		sw_error("reload: the master sent a config that does not parse");
	} else {
		apply_config(w, &next);
	}
	sw_diag_deinit(&d);
}

/* ---- the master's messages ---- */

static void watch_ctl(struct sw_worker *w);

/*
 * A connection the master took from a stalled worker's queue (heartbeat.c):
 * served as if accepted here.  Without room it is closed, which the client
 * sees at once rather than after the stalled worker's replacement.
 */
static void adopt_conn(struct sw_worker *w, struct sw_ctl_msg *m)
{
	unsigned long i = m->payload ? strtoul(m->payload, NULL, 10) : ULONG_MAX;
	struct sockaddr_storage peer;
	socklen_t len = sizeof(peer);
	int fd = m->fd;

	if (fd < 0 || i >= w->ctx.listens->n || w->ctx.draining ||
	    !sw_conn_limit_room(&w->ctx, w->ctx.listens->v[i].admin) ||
	    getpeername(fd, (struct sockaddr *)&peer, &len) != 0)
		return;  /* sw_ctl_msg_free closes it */
	m->fd = -1;
	sw_conn_open(&w->ctx, fd, (struct sockaddr *)&peer, len, &w->ctx.listens->v[i]);
}

static void handle_ctl(struct sw_worker *w, struct sw_ctl_msg *m)
{
	switch (m->type) {
	case SW_CTL_DRAIN:
		worker_drain(w);
		break;
	case SW_CTL_STOP:
		worker_stop(w);
		break;
	case SW_CTL_REOPEN_LOGS:
		sw_log_reopen();
		sw_access_log_reopen(&w->ctx);
		break;
	case SW_CTL_CONFIG:
		apply_config_text(w, m->payload ? m->payload : "{}", m->len);
		break;
	case SW_CTL_ADMIN_RESULT:
		sw_worker_admin_result(w, m->payload ? m->payload : "");
		break;
	case SW_CTL_CONN:
		adopt_conn(w, m);
		break;
	default:
		sw_warn("unknown control message %u", m->type);
	}
}

static void on_ctl(struct sw_io *io, ssize_t res)
{
	struct sw_worker *w = io->data;
	struct sw_ctl_msg m;
	int rc;

	(void)res;
	while ((rc = sw_ctl_recv(w->ctl_fd, &m)) == SW_OK) {
		handle_ctl(w, &m);
		sw_ctl_msg_free(&m);
	}
	if (rc == SW_DONE || rc == SW_ERROR) {
		/* The master is gone: nobody will restart or stop us; drain out. */
		sw_warn("master went away; draining");
		worker_drain(w);
		return;
	}
	watch_ctl(w);
}

static void watch_ctl(struct sw_worker *w)
{
	w->ctl_io.data = w;
	w->ctl_io.cb = on_ctl;
	sw_loop_poll(w->ctx.loop, &w->ctl_h, &w->ctl_io, false);
}

/* ---- signals ---- */

static void reload_single(struct sw_worker *w);

static void on_signal(void *data, int signo)
{
	struct sw_worker *w = data;

	switch (signo) {
	case SIGTERM:
	case SIGINT:
		worker_drain(w);
		break;
	case SIGQUIT:
		worker_stop(w);
		break;
	case SIGHUP:
		/* Only a single process reloads itself; a master tells its workers. */
		if (w->ctl_fd < 0)
			reload_single(w);
		break;
	case SIGUSR1:
		sw_log_reopen();
		sw_access_log_reopen(&w->ctx);
		break;
	case SIGUSR2:
		/* Caught so that it does not kill: the master upgrades, a worker cannot. */
		if (w->ctl_fd < 0)
			sw_warn("SIGUSR2: a binary upgrade needs a master process "
				"(server.workers more than 1); ignored");
		break;
	}
}

static int open_signals(struct sw_worker *w)
{
	static const int signos[] = { SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2, 0 };

	return sw_signals_open(&w->sigs, w->ctx.loop, signos, on_signal, w);
}

static int open_tls(struct sw_worker *w);

/*
 * New certificates for the connections accepted from now on.  The old
 * contexts stay until exit: a connection accepted before the reload may
 * not have sent its ClientHello yet, and SNI will look them up then.
 */
static void reload_tls(struct sw_worker *w)
{
	void *old = w->ctx.tls_ctx;

	w->ctx.tls_ctx = NULL;
	if (open_tls(w) != SW_OK) {
		sw_error("reload: keeping the previous TLS certificates");
		w->ctx.tls_ctx = old;
		return;
	}
	if (!old)
		return;
	w->retired_tls = sw_realloc(w->retired_tls, (w->retired_tls_count + 1) * sizeof(void *));
	w->retired_tls[w->retired_tls_count++] = old;
}

/*
 * Single-process mode (workers = 1) has no master to replace it, so a
 * reload applies values in place and rebuilds changed listeners and TLS
 * contexts here.
 */
static int reload_failed_single(struct sw_worker *w, const char *why, char *err, size_t n)
{
	snprintf(err, n, "%s", why);
	sw_error("reload failed (%s); keeping the running configuration", why);
	sw_stat_add(&w->ctx.shm->reload_failures, 1);
	sw_shm_set_outcome(w->ctx.shm, "failed: %s", why);
	sw_notify_printf("READY=1\nSTATUS=reload failed (%s); running generation %llu", why,
			 (unsigned long long)sw_stat_get(&w->ctx.shm->generation));
	return SW_ERROR;
}

static void reload_single(struct sw_worker *w)
{
	char err[256];

	sw_worker_reload_single(w, NULL, err, sizeof(err));
}

int sw_worker_reload_single(struct sw_worker *w, struct sw_config *given, char *err, size_t n)
{
	struct sw_config next;
	struct sw_diag d;
	struct sw_listen_set set;
	char why[256];
	unsigned what;

	sw_notify_reloading();
	if (given) {
		next = *given;   /* validated by the caller (an admin change) */
	} else {
		sw_diag_init(&d, w->cli->config_path ? w->cli->config_path : "(defaults)");
		if (sw_cli_load_config(w->cli, &next, &d) != SW_OK) {
			sw_diag_log(&d);
			snprintf(why, sizeof(why), "%s", sw_diag_first_error(&d) ?
				 sw_diag_first_error(&d) : "invalid configuration");
			sw_diag_deinit(&d);
			return reload_failed_single(w, why, err, n);
		}
		sw_diag_log(&d);
		sw_diag_deinit(&d);
	}
	what = sw_config_compare(w->ctx.cfg, &next);
	if (next.server.workers != 1)
		sw_warn("reload: changing the worker count from 1 needs a restart");
	if (what & SW_CFG_STRUCTURAL) {
		if (sw_listen_set_open(&set, &next, 1, NULL, why, sizeof(why)) != SW_OK) {
			sw_config_deinit(&next);
			return reload_failed_single(w, why, err, n);
		}
		close_acceptors(w);
		/* Their handles close asynchronously: keep the memory till exit. */
		w->retired = sw_realloc(w->retired, (w->retired_count + 1) * sizeof(*w->retired));
		w->retired[w->retired_count++] = w->acceptors;
		w->acceptors = NULL;
		w->acceptor_count = 0;
		sw_listen_set_close(w->ctx.listens);
		*w->ctx.listens = set;
		for (size_t i = 0; i < set.n; i++)
			sw_log_listener(SW_LOG_INFO, 0, set.v[i].name, "%slistening on %s",
					set.v[i].admin ? "admin API " : "", set.v[i].name);
		open_acceptors(w);
	}
	apply_config(w, &next);
	if (what & SW_CFG_STRUCTURAL)
		reload_tls(w);
	/* After the swap: QUIC loads the new certificates from w->ctx.cfg. */
	if ((what & SW_CFG_STRUCTURAL) && w->ctx.quic_api && w->ctx.quic_api->relisten(&w->ctx) != SW_OK)
		sw_error("reload: HTTP/3 keeps its previous sockets and certificates");
	sw_stat_add(&w->ctx.shm->reloads, 1);
	sw_stat_add(&w->ctx.shm->generation, 1);
	sw_shm_set_outcome(w->ctx.shm, "%s: generation %llu", what == SW_CFG_SAME ? "unchanged" :
			   "reloaded", (unsigned long long)sw_stat_get(&w->ctx.shm->generation));
	sw_notify_printf("READY=1\nSTATUS=serving; generation %llu; last reload: %s",
			 (unsigned long long)sw_stat_get(&w->ctx.shm->generation), w->ctx.shm->last_reload);
	snprintf(err, n, "%s", w->ctx.shm->last_reload);
	return SW_OK;
}

/* ---- set-up ---- */

static int open_loop(struct sw_worker *w)
{
	char why[256] = "";
	enum sw_io_backend want = w->ctx.cfg->server.io_backend;

	if (sw_loop_open(&w->ctx.loop, want, 0, why, sizeof(why)) != SW_OK) {
		sw_error("cannot start the %s I/O backend: %s", sw_io_backend_name(want), why);
		return SW_ERROR;
	}
	if (want == SW_IO_AUTO && why[0])
		sw_info("io_uring unavailable (%s); using epoll", why);
	return SW_OK;
}

/* TLS contexts for the listeners that use TLS (certificates were checked at load). */
static int open_tls(struct sw_worker *w)
{
	const struct sw_tls_api *api = sw_tls_api();
	char err[256] = "";
	bool wanted = false;

	for (size_t i = 0; i < w->ctx.listens->n; i++)
		wanted = wanted || w->ctx.listens->v[i].cfg.use_tls;
	if (!wanted)
		return SW_OK;
	if (!api) {
		sw_error("a listener uses TLS, but this build has no --enable-tls");
		return SW_ERROR;
	}
	w->ctx.tls_api = api;
	w->ctx.tls_ctx = w->ctx.tls_api->ctx_open(w->ctx.cfg, &w->ctx.shm->head.tickets, err, sizeof(err));
	if (!w->ctx.tls_ctx) {
		sw_error("TLS: %s", err);
		return SW_ERROR;
	}
	return SW_OK;
}

/* Single-process mode: no master rotates the session-ticket keys for us. */
static void on_ticket_rotation(struct sw_timer *t)
{
	struct sw_worker *w = t->data;

	sw_ticket_keys_rotate(&w->ctx.shm->head.tickets);
	sw_timer_add(w->ctx.loop, &w->ticket_timer, SW_TICKET_ROTATION_MS);
}

static void on_run_timeout(struct sw_timer *t)
{
	worker_drain(t->data);
}

static int worker_init(struct sw_worker *w, const struct sw_worker_params *p)
{
	char role[32];

	memset(w, 0, sizeof(*w));
	w->ctx.slot = p->slot;
	w->ctx.generation = p->generation;
	w->ctx.cfg = p->cfg;
	w->ctx.shm = p->shm;
	w->ctx.stats = &p->shm->slots[p->slot];
	w->ctx.listens = p->listens;
	w->ctx.hooks.owner = w;
	w->ctx.hooks.conn_closed = on_conn_closed;
	w->ctx.hooks.wake_accept = on_wake_accept;
	sw_worker_admin_init(w);
	w->ctx.single_process = p->ctl_fd < 0;
	w->ctl_fd = p->ctl_fd;
	w->cli = p->cli;
	w->sigs.fd = -1;
	snprintf(role, sizeof(role), "worker %u", p->slot);
	if (p->ctl_fd >= 0) {
		sw_log_set_role(role);
		sw_log_set_worker((int)p->slot, p->generation);
	} else {
		sw_log_set_generation(p->generation);
	}
	if (p->cpu >= 0 && sw_cpu_pin(p->cpu) == SW_OK)
		__atomic_store_n(&w->ctx.stats->cpu, (uint64_t)p->cpu, __ATOMIC_RELAXED);
	__atomic_store_n(&w->ctx.stats->pid, (uint64_t)getpid(), __ATOMIC_RELAXED);
	sw_timer_init(&w->drain_timer, on_drain_timeout, w);
	sw_timer_init(&w->stop_timer, on_stop_grace, w);
	sw_timer_init(&w->accept_timer, on_accept_timer, w);
	sw_timer_init(&w->trim_timer, on_trim_timer, w);
	sw_timer_init(&w->run_timer, on_run_timeout, w);
	sw_timer_init(&w->ticket_timer, on_ticket_rotation, w);
	if (open_loop(w) != SW_OK || open_signals(w) != SW_OK)
		return SW_ERROR;
	w->ctx.h2_api = sw_h2_api();
	if (open_tls(w) != SW_OK)
		return SW_ERROR;
	/* A root that vanished since start-up costs 404s (logged), not a crash loop. */
	if (sw_static_init(&w->ctx) != SW_OK)
		sw_error("static files are off until the root can be opened (reload to retry)");
	if (sw_access_log_open(&w->ctx) != SW_OK)
		return SW_ERROR;
	build_policies(w);
	w->ctx.proxy_api = sw_proxy_api();
	if (w->ctx.proxy_api && w->ctx.proxy_api->init(&w->ctx) != SW_OK)
		return SW_ERROR;
	w->ctx.quic_api = sw_quic_api();
	if (w->ctx.quic_api && w->ctx.quic_api->start(&w->ctx) != SW_OK)
		return SW_ERROR;
	if (w->ctl_fd >= 0) {
		if (sw_loop_add(w->ctx.loop, &w->ctl_h, w->ctl_fd, w) != SW_OK)
			return SW_ERROR;
		watch_ctl(w);
	}
	return open_acceptors(w);
}

/*
 * Everything worker_init set up, also when it stopped half way (each part
 * knows whether it was opened): a worker that fails at start-up exits as
 * cleanly as one that served, leak checkers included.
 */
static void worker_fini(struct sw_worker *w)
{
	sw_policy_chain_put(w->ctx.policies);
	w->ctx.policies = NULL;
	sw_access_log_close(&w->ctx);
	sw_static_deinit(&w->ctx);
	if (w->ctx.tls_ctx)
		w->ctx.tls_api->ctx_close(w->ctx.tls_ctx);
	for (size_t i = 0; i < w->retired_tls_count; i++)
		w->ctx.tls_api->ctx_close(w->retired_tls[i]);
	free(w->retired_tls);
	if (w->ctx.proxy_api)
		w->ctx.proxy_api->fini(&w->ctx);
	/*
	 * Upstream connections (the pools fini just emptied, those of aborted
	 * forwards) free their memory in their handle's on_closed: the loop
	 * has stopped, so wait for those closes here.
	 */
	if (w->ctx.loop) {
		size_t left = sw_loop_finish_closes(w->ctx.loop, STOP_GRACE_MS);
		if (left)
			sw_warn("%zu handle(s) not closed within %d ms; exiting anyway", left, STOP_GRACE_MS);
	}
	sw_conn_free_list(&w->ctx);
	if (w->ctx.quic)
		w->ctx.quic_api->release(&w->ctx);
	free(w->acceptors);
	for (size_t i = 0; i < w->retired_count; i++)
		free(w->retired[i]);
	free(w->retired);
	sw_loop_close(w->ctx.loop);
}

int sw_worker_run(const struct sw_worker_params *p)
{
	struct sw_worker w;

	if (worker_init(&w, p) != SW_OK) {
		worker_fini(&w);
		return SW_EXIT_FAILURE;
	}
	w.ctx.ready = true;
	sw_timer_add(w.ctx.loop, &w.trim_timer, TRIM_MS);
	sw_info("serving on the %s backend%s", sw_loop_backend_name(w.ctx.loop),
		p->cpu >= 0 ? "" : " (not pinned)");
	if (w.ctl_fd >= 0) {
		sw_heartbeat_start(&w);
		sw_ctl_send(w.ctl_fd, SW_CTL_READY, NULL, 0);
	} else {
		sw_notify("READY=1\nSTATUS=serving; single process");
		sw_timer_add(w.ctx.loop, &w.ticket_timer, SW_TICKET_ROTATION_MS);
		if (p->cli && p->cli->run_for_ms > 0)
			sw_timer_add(w.ctx.loop, &w.run_timer, (uint64_t)p->cli->run_for_ms);
	}
	if (sw_loop_run(w.ctx.loop) != SW_OK)
		w.exit_code = SW_EXIT_FAILURE;
	worker_fini(&w);
	return w.exit_code;
}
