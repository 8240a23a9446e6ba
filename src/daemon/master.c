/* SPDX-License-Identifier: MIT */
/* master.c - supervise workers: fork, pin, restart, reload, drain, notify. */
#include <config.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "core/diag.h"
#include "core/log.h"
#include "core/shm.h"
#include "core/version.h"
#include "daemon/control.h"
#include "daemon/cpu.h"
#include "daemon/heartbeat.h"
#include "daemon/listener.h"
#include "daemon/master.h"
#include "daemon/master_impl.h"
#include "daemon/notify.h"
#include "daemon/signals.h"
#include "daemon/stall_pass.h"
#include "daemon/steer_tcp.h"
#include "daemon/upgrade.h"
#include "daemon/worker.h"
#include "event/loop.h"
#include "http/static.h"

#define HEALTHY_AFTER_MS 10000   /* a worker that lived this long was not crash-looping */
#define BACKOFF_MAX_MS 30000
#define CRASH_LOOP_DEATHS 5      /* logged as such; a pending reload is given up */
#define STOP_GRACE_MS 2000       /* after drain_ms, before SIGKILL */


unsigned sw_master_worker_count(const struct sw_config *cfg)
{
	unsigned n = cfg->server.workers ? cfg->server.workers : sw_cpu_count();
	return SW_MIN(n, SW_MAX_SLOTS);
}

/* ---- status ---- */

static void listeners_summary(const struct master *m, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < m->ls.n && used < size; i++) {
		int n = snprintf(buf + used, size - used, "%s%s", i ? " " : "", m->ls.v[i].name);
		if (n < 0)
			break;
		used += (size_t)n;
	}
}

static void announce_ready(struct master *m, const char *what)
{
	char where[512];

	listeners_summary(m, where, sizeof(where));
	sw_notify_printf("READY=1\nSTATUS=%s; serving on %s with %u workers; generation %llu",
			 what, where, m->nslots,
			 (unsigned long long)sw_stat_get(&m->shm->generation));
}

/* ---- workers ---- */

static void watch_worker(struct wproc *p);

static unsigned live_workers(const struct master *m)
{
	unsigned n = 0;
	for (const struct wproc *p = m->procs; p; p = p->next)
		n++;
	return n;
}

/* In the child: drop what belongs to the master or to other workers. */
static void child_cleanup(struct master *m, unsigned slot)
{
	for (struct wproc *p = m->procs; p; p = p->next)
		close(p->ctl_fd);
	close(m->sigs.fd);
	close(m->shm_fd);
	if (m->in.fd >= 0)
		close(m->in.fd);
	sw_upgrade_deinit(&m->up);
	sw_loop_close(m->loop);
	sw_listen_set_close(&m->old_ls);
	sw_listen_set_keep_slot(&m->ls, slot);
}

static __attribute__((noreturn)) void run_child(struct master *m, unsigned slot, int ctl_fd)
{
	struct sw_worker_params params = {
		.slot = slot,
		.generation = m->gen,
		.cfg = &m->cfg,
		.shm = m->shm,
		.listens = &m->ls,
		.ctl_fd = ctl_fd,
		.cli = m->cli,
		.cpu = sw_cpu_for_slot(slot),
	};

	child_cleanup(m, slot);
	exit(sw_worker_run(&params));
}

static int spawn(struct master *m, unsigned slot)
{
	struct wproc *p;
	int fds[2];
	pid_t pid;

	if (sw_ctl_pair(fds) != SW_OK) {
		sw_log_errno(SW_LOG_ERROR, errno, "socketpair for worker %u", slot);
		snprintf(m->slots[slot].last_exit, sizeof(m->slots[slot].last_exit),
			 "no socketpair: %s", strerror(errno));
		return SW_ERROR;
	}
	pid = fork();
	if (pid < 0) {
		sw_log_errno(SW_LOG_ERROR, errno, "fork for worker %u", slot);
		snprintf(m->slots[slot].last_exit, sizeof(m->slots[slot].last_exit),
			 "fork failed: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return SW_ERROR;
	}
	if (pid == 0) {
		close(fds[0]);
		run_child(m, slot, fds[1]);
	}
	close(fds[1]);
	p = sw_calloc(1, sizeof(*p));
	p->m = m;
	p->pid = pid;
	p->slot = slot;
	p->gen = m->gen;
	p->ctl_fd = fds[0];
	p->started_ms = sw_loop_now(m->loop);
	p->next = m->procs;
	m->procs = p;
	sw_loop_add(m->loop, &p->h, p->ctl_fd, p);
	watch_worker(p);
	sw_info("worker %u (pid %d) started, pinned to CPU %d", slot, (int)pid,
		sw_cpu_for_slot(slot));
	return SW_OK;
}

static void send_all(struct master *m, enum sw_ctl_type type, const char *payload,
		     size_t len, int only_gen)
{
	for (struct wproc *p = m->procs; p; p = p->next) {
		if (only_gen >= 0 && p->gen != (unsigned)only_gen)
			continue;
		if (sw_ctl_send(p->ctl_fd, type, payload, len) != SW_OK)
			sw_warn("cannot reach worker %u (pid %d)", p->slot, (int)p->pid);
		if (type == SW_CTL_DRAIN || type == SW_CTL_STOP)
			p->draining = true;
	}
}

/* Every slot of the current generation has a worker that accepts. */
static bool generation_ready(const struct master *m)
{
	unsigned ready = 0;

	for (const struct wproc *p = m->procs; p; p = p->next)
		if (p->gen == m->gen && p->ready && !p->draining)
			ready++;
	return ready >= m->nslots;
}

static void finish_reload(struct master *m);
static void check_pending(struct master *m);
static void check_abandoned(struct master *m);

static void count_applied(struct master *m);

/*
 * We are the new binary of an upgrade and serve: systemd's main process
 * from now on, then the old master hears it and drains its generation.
 */
static void upgrade_serving(struct master *m)
{
	count_applied(m);
	sw_shm_set_outcome(m->shm, "upgraded: new master pid %d, generation %llu", (int)getpid(),
			   (unsigned long long)sw_stat_get(&m->shm->generation));
	sw_info("binary upgrade: serving generation %u; the old master drains", m->gen);
	sw_notify_printf("MAINPID=%d", (int)getpid());
	announce_ready(m, "upgraded");
	sw_upgrade_serving(&m->in);
}

static void check_ready(struct master *m)
{
	if (m->stopping || !generation_ready(m))
		return;
	if (m->reloading) {
		finish_reload(m);
	} else if (!m->announced_ready) {
		m->announced_ready = true;
		sw_info("ready: %u workers accepting", m->nslots);
		if (m->in.active)
			upgrade_serving(m);
		else
			announce_ready(m, "ready");
	}
}

static void on_worker_msg(struct sw_io *io, ssize_t res)
{
	struct wproc *p = io->data;
	struct sw_ctl_msg msg;
	int rc;

	(void)res;
	while ((rc = sw_ctl_recv(p->ctl_fd, &msg)) == SW_OK) {
		if (msg.type == SW_CTL_READY)
			p->ready = true;
		else if (msg.type == SW_CTL_ADMIN && msg.payload)
			sw_master_admin_request(p->m, p, msg.payload);
		sw_ctl_msg_free(&msg);
	}
	if (rc == SW_AGAIN)
		watch_worker(p);
	/* EOF: the worker is exiting; SIGCHLD does the bookkeeping. */
	check_ready(p->m);
}

static void watch_worker(struct wproc *p)
{
	p->io.data = p;
	p->io.cb = on_worker_msg;
	sw_loop_poll(p->m->loop, &p->h, &p->io, false);
}

static void on_restart(struct sw_timer *t)
{
	struct slot *s = t->data;
	struct master *m = s->m;

	if (m->stopping || s->index >= m->nslots)
		return;
	if (spawn(m, s->index) != SW_OK) {
		s->failures++;
		sw_timer_add(m->loop, &s->restart, BACKOFF_MAX_MS);
		check_pending(m);
	}
}

/*
 * The first death restarts at once; quick deaths after it back off
 * exponentially so a crash loop is logged, not spun.
 */
static void schedule_restart(struct master *m, const struct wproc *p)
{
	struct slot *s = &m->slots[p->slot];
	uint64_t lived = sw_loop_now(m->loop) - p->started_ms;
	uint64_t delay;

	if (lived >= HEALTHY_AFTER_MS)
		s->failures = 0;
	delay = s->failures ? SW_MIN((uint64_t)100 << SW_MIN(s->failures - 1, 16), BACKOFF_MAX_MS) : 0;
	s->failures++;
	if (s->failures >= CRASH_LOOP_DEATHS)
		sw_error("worker %u is crash-looping (%u quick deaths); next restart in %llu ms",
			 p->slot, s->failures, (unsigned long long)delay);
	else
		sw_warn("restarting worker %u in %llu ms", p->slot, (unsigned long long)delay);
	sw_stat_add(&m->shm->worker_restarts, 1);
	sw_timer_add(m->loop, &s->restart, delay);
}

static void describe_exit(int status, char *buf, size_t size)
{
	if (WIFEXITED(status))
		snprintf(buf, size, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, size, "killed by signal %d (%s)%s", WTERMSIG(status),
			 strsignal(WTERMSIG(status)), WCOREDUMP(status) ? ", core dumped" : "");
	else
		snprintf(buf, size, "stopped (status %#x)", status);
}

static struct wproc *unlink_proc(struct master *m, pid_t pid)
{
	for (struct wproc **pp = &m->procs; *pp; pp = &(*pp)->next) {
		if ((*pp)->pid == pid) {
			struct wproc *p = *pp;
			*pp = p->next;
			return p;
		}
	}
	return NULL;
}

static void on_proc_closed(struct sw_handle *h)
{
	free(h->data);
}

/*
 * A crashed worker never closed its connections: its slot's open-connection
 * gauge would stay high forever.  Zero it, unless another worker (an old
 * generation draining) still shares the slot.
 */
static void forget_connections(struct master *m, unsigned slot)
{
	for (const struct wproc *p = m->procs; p; p = p->next)
		if (p->slot == slot)
			return;
	__atomic_store_n(&m->shm->slots[slot].connections_open, 0, __ATOMIC_RELAXED);
}

static void reap(struct master *m)
{
	char why[128];
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		struct wproc *p = unlink_proc(m, pid);
		bool expected;

		if (!p) {
			sw_upgrade_reaped(&m->up, pid, status);
			continue;
		}
		sw_master_admin_forget(m, p);
		describe_exit(status, why, sizeof(why));
		expected = p->draining || m->stopping;
		if (expected)
			sw_info("worker %u (pid %d) %s", p->slot, (int)pid, why);
		else
			sw_error("worker %u (pid %d) %s", p->slot, (int)pid, why);
		if (!expected && p->gen == m->gen) {
			snprintf(m->slots[p->slot].last_exit, sizeof(m->slots[p->slot].last_exit),
				 "%s", why);
			forget_connections(m, p->slot);
			schedule_restart(m, p);
		}
		sw_loop_close_handle(m->loop, &p->h, on_proc_closed);
	}
	if (m->stopping && m->procs == NULL) {
		sw_loop_stop(m->loop);
		return;
	}
	check_pending(m);
	check_abandoned(m);
	check_ready(m);
}

/* ---- drain, stop, reload ---- */

static void on_stop_timeout(struct sw_timer *t)
{
	struct master *m = t->data;

	for (struct wproc *p = m->procs; p; p = p->next) {
		sw_warn("worker %u (pid %d) did not finish in time; killing it", p->slot, (int)p->pid);
		kill(p->pid, SIGKILL);
	}
}

static void begin_stop(struct master *m, bool drain)
{
	if (m->stopping && drain)
		return;
	m->stopping = true;
	sw_upgrade_cancel(&m->up, "the old master is stopping");
	sw_notify("STOPPING=1");
	sw_info("%s: %u worker(s)", drain ? "draining" : "stopping now", live_workers(m));
	for (unsigned i = 0; i < SW_MAX_SLOTS; i++)
		sw_timer_del(m->loop, &m->slots[i].restart);
	sw_timer_del(m->loop, &m->reload_timer);
	send_all(m, drain ? SW_CTL_DRAIN : SW_CTL_STOP, NULL, 0, -1);
	sw_timer_add(m->loop, &m->stop_timer,
		     (drain ? m->cfg.timeouts.drain_ms : 0) + STOP_GRACE_MS);
	if (m->procs == NULL)
		sw_loop_stop(m->loop);
}

/* A reload or change applied: one more configuration generation. */
static void count_applied(struct master *m)
{
	sw_stat_add(&m->shm->reloads, 1);
	sw_stat_add(&m->shm->generation, 1);
}

static void finish_reload(struct master *m)
{
	m->reloading = false;
	sw_timer_del(m->loop, &m->reload_timer);
	sw_config_deinit(&m->prev_cfg);
	count_applied(m);
	send_all(m, SW_CTL_DRAIN, NULL, 0, (int)m->gen - 1);
	/* The old workers hold their own copies; queued connections are theirs. */
	sw_listen_set_close(&m->old_ls);
	sw_log_set_generation(m->gen);
	sw_info("reload complete: generation %u serving", m->gen);
	sw_shm_set_outcome(m->shm, "reloaded: generation %llu",
			   (unsigned long long)sw_stat_get(&m->shm->generation));
	announce_ready(m, "reloaded");
	sw_master_admin_settle(m, 200);
	if (m->reload_pending) {
		m->reload_pending = false;
		sw_master_reload(m);
	}
}

static void log_listeners(const struct master *m)
{
	for (size_t i = 0; i < m->ls.n; i++)
		sw_log_listener(SW_LOG_INFO, 0, m->ls.v[i].name, "%slistening on %s",
				m->ls.v[i].admin ? "admin API " : "", m->ls.v[i].name);
}

/* Listeners, worker count, certificates...: new workers first, then drain. */
static int replace_workers(struct master *m, struct sw_config *next)
{
	unsigned nslots = sw_master_worker_count(next);
	struct sw_listen_set set;
	char err[256];

	if (sw_listen_set_open(&set, next, nslots, &m->ls, err, sizeof(err)) != SW_OK) {
		sw_error("reload failed: %s; keeping the running configuration", err);
		return SW_ERROR;
	}
	m->old_ls = m->ls;
	m->ls = set;
	m->prev_nslots = m->nslots;
	m->nslots = nslots;
	m->gen++;
	m->reloading = true;
	__atomic_store_n(&m->shm->workers, (uint64_t)nslots, __ATOMIC_RELAXED);
	log_listeners(m);
	for (unsigned s = 0; s < nslots; s++) {
		m->slots[s].failures = 0;
		sw_timer_del(m->loop, &m->slots[s].restart);
		if (spawn(m, s) != SW_OK)
			schedule_restart(m, &(struct wproc){ .slot = s, .started_ms = sw_loop_now(m->loop) });
	}
	sw_timer_add(m->loop, &m->reload_timer, next->timeouts.reload_ms);
	return SW_OK;
}

/*
 * An explicit io_backend "io_uring" that this kernel or sandbox refuses is
 * an error here, in the master, not a crash loop of workers ("auto" falls
 * back to epoll instead, and says why).
 */
static int check_backend(const struct sw_config *cfg)
{
	char why[160];

	if (cfg->server.io_backend != SW_IO_URING || sw_loop_uring_available(why, sizeof(why)))
		return SW_OK;
	sw_error("server.io_backend is \"io_uring\", but io_uring cannot start here: %s", why);
	return SW_ERROR;
}

static void reload_failed(struct master *m, const char *why)
{
	sw_shm_set_outcome(m->shm, "failed: %s", why);
	sw_stat_add(&m->shm->reload_failures, 1);
	sw_error("reload failed (%s); keeping the running configuration", why);
	sw_notify_printf("READY=1\nSTATUS=reload failed (%s); running generation %llu",
			 why, (unsigned long long)sw_stat_get(&m->shm->generation));
}

static void send_values(struct master *m, const struct sw_config *next)
{
	char *json = sw_config_to_json(next, false);

	send_all(m, SW_CTL_CONFIG, json, strlen(json), -1);
	free(json);
}

/*
 * Makes a validated config the running one: new workers for a structural
 * change (PENDING until they are ready), values in place otherwise
 * (APPLIED); FAILED keeps the running config.
 */
int sw_master_apply_next(struct master *m, struct sw_config *next)
{
	struct sw_config old;
	unsigned what = sw_config_compare(&m->cfg, next);

	if (check_backend(next) != SW_OK) {
		sw_config_deinit(next);
		reload_failed(m, "io_uring cannot start");
		return FAILED;
	}
	/* The new workers are forked with m->cfg: it must be the new one by then. */
	old = m->cfg;
	m->cfg = *next;
	if ((what & SW_CFG_STRUCTURAL) && replace_workers(m, &m->cfg) != SW_OK) {
		m->cfg = old;
		sw_config_deinit(next);
		reload_failed(m, "cannot open the new listeners");
		return FAILED;
	}
	if (!(what & SW_CFG_STRUCTURAL) && what != SW_CFG_SAME)
		send_values(m, &m->cfg);
	sw_log_reconfigure(&m->cfg.log);
	if (m->reloading) {
		/* Counted once the new workers serve; in force again if they never do. */
		m->prev_cfg = old;
		return PENDING;
	}
	sw_config_deinit(&old);
	count_applied(m);
	if (what == SW_CFG_SAME)
		sw_info("reload: configuration unchanged");
	sw_shm_set_outcome(m->shm, "%s: generation %llu", what == SW_CFG_SAME ? "unchanged" :
			   "reloaded in place", (unsigned long long)sw_stat_get(&m->shm->generation));
	announce_ready(m, what == SW_CFG_SAME ? "unchanged" : "reloaded in place");
	return APPLIED;
}

int sw_master_reload(struct master *m)
{
	struct sw_config next;
	struct sw_diag d;

	if (m->stopping)
		return FAILED;
	if (m->reloading || m->abandoning || sw_upgrade_busy(&m->up)) {
		m->reload_pending = true;
		return PENDING;
	}
	sw_info("reloading %s", m->cli->config_path ? m->cli->config_path : "(built-in defaults)");
	sw_notify_reloading();
	sw_diag_init(&d, m->cli->config_path ? m->cli->config_path : "(defaults)");
	if (sw_cli_load_config(m->cli, &next, &d) != SW_OK) {
		sw_diag_log(&d);
		reload_failed(m, sw_diag_first_error(&d) ? sw_diag_first_error(&d) : "invalid");
		sw_diag_deinit(&d);
		return FAILED;
	}
	sw_diag_log(&d);
	sw_diag_deinit(&d);
	return sw_master_apply_next(m, &next);
}

/* ---- a new generation that never comes up ---- */

/*
 * SIGTERM: a worker that serves drains (within drain_ms); one stuck in its
 * start-up has the signal blocked until its loop runs, so it gets SIGKILL
 * once the grace is over.
 */
static void abandon_worker(struct master *m, struct wproc *p)
{
	uint64_t grace = STOP_GRACE_MS + (p->ready ? m->cfg.timeouts.drain_ms : 0);

	p->abandoned = true;
	p->draining = true;
	p->kill_at = sw_loop_now(m->loop) + grace;
	kill(p->pid, SIGTERM);
}

static void on_abandon_timer(struct sw_timer *t)
{
	struct master *m = t->data;
	uint64_t now = sw_loop_now(m->loop), next = UINT64_MAX;

	for (struct wproc *p = m->procs; p; p = p->next) {
		if (!p->abandoned || !p->kill_at)
			continue;
		if (p->kill_at <= now) {
			sw_warn("abandoned worker %u (pid %d) did not exit; killing it", p->slot,
				(int)p->pid);
			kill(p->pid, SIGKILL);
			p->kill_at = 0;
		} else {
			next = SW_MIN(next, p->kill_at);
		}
	}
	if (next != UINT64_MAX)
		sw_timer_add(m->loop, &m->abandon_timer, next - now);
}

static bool slot_served(const struct master *m, unsigned slot)
{
	for (const struct wproc *p = m->procs; p; p = p->next)
		if (p->slot == slot && p->gen == m->gen && !p->draining)
			return true;
	return false;
}

/*
 * The old generation goes on as if nothing had happened: a slot whose
 * worker died meanwhile (not restarted then, as it was about to be
 * drained) gets a new one.
 */
static void resume_old_generation(struct master *m)
{
	for (unsigned s = 0; s < SW_MAX_SLOTS; s++) {
		m->slots[s].failures = 0;
		sw_timer_del(m->loop, &m->slots[s].restart);
	}
	for (unsigned s = 0; s < m->nslots; s++)
		if (!slot_served(m, s) && spawn(m, s) != SW_OK)
			schedule_restart(m, &(struct wproc){ .slot = s,
							     .started_ms = sw_loop_now(m->loop) });
}

/*
 * Gives up the pending generation: its workers go, the old one (never told
 * anything) keeps serving, and the master's config, sockets and slot count
 * are the old ones again, for admin changes and restarted workers alike.
 * m->gen steps back, so the next attempt reuses the number (QUIC hands new
 * connections to generation + 1); it waits until these workers are gone.
 */
static void abandon_generation(struct master *m, const char *why)
{
	sw_timer_del(m->loop, &m->reload_timer);
	reload_failed(m, why);
	for (struct wproc *p = m->procs; p; p = p->next)
		if (p->gen == m->gen)
			abandon_worker(m, p);
	m->reloading = false;
	m->abandoning = true;
	m->gen--;
	sw_listen_set_close(&m->ls);
	m->ls = m->old_ls;
	m->old_ls = (struct sw_listen_set){ 0 };
	sw_config_deinit(&m->cfg);
	m->cfg = m->prev_cfg;
	sw_log_reconfigure(&m->cfg.log);
	m->nslots = m->prev_nslots;
	__atomic_store_n(&m->shm->workers, (uint64_t)m->nslots, __ATOMIC_RELAXED);
	resume_old_generation(m);
	on_abandon_timer(&m->abandon_timer);
	check_abandoned(m);
}

static void on_reload_deadline(struct sw_timer *t)
{
	struct master *m = t->data;
	unsigned ready = 0;
	char why[128];

	if (!m->reloading || m->stopping)
		return;
	for (const struct wproc *p = m->procs; p; p = p->next)
		ready += p->gen == m->gen && p->ready && !p->draining;
	snprintf(why, sizeof(why), "new workers not ready within %u ms: %u of %u ready",
		 m->cfg.timeouts.reload_ms, ready, m->nslots);
	abandon_generation(m, why);
}

/*
 * A new worker that keeps dying will not be ready by the deadline either:
 * at the count where a crash loop is logged, the reload is given up.
 */
static void check_pending(struct master *m)
{
	char why[192];

	if (!m->reloading || m->stopping)
		return;
	for (unsigned s = 0; s < m->nslots; s++) {
		if (m->slots[s].failures < CRASH_LOOP_DEATHS)
			continue;
		snprintf(why, sizeof(why), "new worker %u failed %u times in a row: %s", s,
			 m->slots[s].failures, m->slots[s].last_exit);
		abandon_generation(m, why);
		return;
	}
}

/* The abandoned workers are all gone: the reload is over, the next may start. */
static void check_abandoned(struct master *m)
{
	for (const struct wproc *p = m->procs; p; p = p->next)
		if (p->abandoned)
			return;
	if (!m->abandoning)
		return;
	m->abandoning = false;
	sw_timer_del(m->loop, &m->abandon_timer);
	/* Each worker wrote its pid at start: only now can none write after us. */
	for (const struct wproc *p = m->procs; p; p = p->next)
		if (p->gen == m->gen && !p->draining)
			__atomic_store_n(&m->shm->slots[p->slot].pid, (uint64_t)p->pid,
					 __ATOMIC_RELAXED);
	sw_info("the abandoned workers are gone; generation %u serves", m->gen);
	sw_master_admin_settle(m, 500);
	if (m->reload_pending) {
		m->reload_pending = false;
		sw_master_reload(m);
	}
}

/* ---- binary upgrade (upgrade.c does the hand-over) ---- */

static void upgrade_failed(struct master *m, const char *why)
{
	sw_shm_set_outcome(m->shm, "failed: binary upgrade: %s", why);
	sw_stat_add(&m->shm->reload_failures, 1);
	sw_error("binary upgrade failed (%s); this master serves on", why);
	sw_notify_printf("READY=1\nSTATUS=binary upgrade failed (%s); running generation %llu",
			 why, (unsigned long long)sw_stat_get(&m->shm->generation));
}

/* What the new master's workers wrote in the shared block is ours again. */
static void take_back_shm(struct master *m)
{
	__atomic_store_n(&m->shm->workers, (uint64_t)m->nslots, __ATOMIC_RELAXED);
	for (const struct wproc *p = m->procs; p; p = p->next)
		if (p->gen == m->gen && !p->draining)
			__atomic_store_n(&m->shm->slots[p->slot].pid, (uint64_t)p->pid,
					 __ATOMIC_RELAXED);
}

/*
 * The new master serves (it is systemd's main process now and wrote the
 * outcome): we go quiet towards systemd and drain our generation, which
 * keeps its connections, QUIC ones included, until they are done.
 */
static void on_upgrade_done(void *data, bool ok, const char *why)
{
	struct master *m = data;

	if (!ok) {
		upgrade_failed(m, why);
		take_back_shm(m);
		sw_master_admin_settle(m, 500);
		if (m->reload_pending) {
			m->reload_pending = false;
			sw_master_reload(m);
		}
		return;
	}
	sw_info("binary upgrade complete: the new master serves; draining generation %u", m->gen);
	/* It wrote the outcome, unless it had to take a block of its own layout. */
	if (strncmp(m->shm->last_reload, "upgraded:", 9) != 0)
		sw_shm_set_outcome(m->shm, "upgraded: new master pid %d", (int)m->up.pid);
	sw_master_admin_settle(m, 200);
	unsetenv("NOTIFY_SOCKET");
	sw_timer_del(m->loop, &m->watchdog);
	/* The sockets' TCP steering is the new master's to set now. */
	sw_timer_del(m->loop, &m->stall_timer);
	m->reload_pending = false;
	begin_stop(m, true);
}

/* SIGUSR2 or POST /v1/upgrade: the binary now at our path takes over. */
int sw_master_start_upgrade(struct master *m)
{
	struct sw_upgrade_handoff h = {
		.listens = &m->ls, .shm_fd = m->shm_fd, .generation = m->gen,
		.argv = m->cli->argv,
	};
	char err[256];

	if (m->stopping || m->reloading || m->abandoning || sw_upgrade_busy(&m->up)) {
		sw_shm_set_outcome(m->shm, "refused: %s", m->stopping ? "the server is stopping" :
				   "a reload or upgrade is in progress");
		sw_warn("binary upgrade not started: %s",
			sw_master_outcome_reason(m->shm->last_reload));
		return FAILED;
	}
	/* The grace outlasts the new master's own stop, so it never leaves its workers behind. */
	if (sw_upgrade_start(&m->up, &h, m->cfg.timeouts.reload_ms,
			     m->cfg.timeouts.drain_ms + 2 * STOP_GRACE_MS, err, sizeof(err)) != SW_OK) {
		upgrade_failed(m, err);
		return FAILED;
	}
	sw_notify_reloading();
	return PENDING;
}

/* ---- signals and timers ---- */

static void on_signal(void *data, int signo)
{
	struct master *m = data;

	switch (signo) {
	case SIGCHLD:
		reap(m);
		break;
	case SIGTERM:
	case SIGINT:
		begin_stop(m, true);
		break;
	case SIGQUIT:
		begin_stop(m, false);
		break;
	case SIGHUP:
		sw_master_reload(m);
		break;
	case SIGUSR2:
		sw_master_start_upgrade(m);
		break;
	case SIGUSR1:
		sw_info("reopening log files");
		sw_log_reopen();
		send_all(m, SW_CTL_REOPEN_LOGS, NULL, 0, -1);
		break;
	}
}

static int open_signals(struct master *m)
{
	static const int signos[] = { SIGCHLD, SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2, 0 };

	return sw_signals_open(&m->sigs, m->loop, signos, on_signal, m);
}

static void on_run_timeout(struct sw_timer *t)
{
	struct master *m = t->data;

	sw_info("--run-for-ms elapsed");
	begin_stop(m, true);
}

static void on_watchdog(struct sw_timer *t)
{
	struct master *m = t->data;

	sw_notify("WATCHDOG=1");
	sw_timer_add(m->loop, &m->watchdog, m->watchdog_ms);
}

/*
 * New session-ticket key every 12 hours; the previous one stays valid for
 * another period, so a ticket lives at most a day (forward secrecy for
 * resumed sessions is bounded by that).
 */
static void on_ticket_rotation(struct sw_timer *t)
{
	struct master *m = t->data;

	sw_ticket_keys_rotate(&m->shm->head.tickets);
	sw_timer_add(m->loop, &m->ticket_timer, SW_TICKET_ROTATION_MS);
}

static bool serves_new(const struct master *m, const struct wproc *p)
{
	return p->gen == m->gen && p->ready && !p->draining && !p->replaced &&
	       !m->stall.stalled[p->slot];
}

/* sw_stall_pass's callback: the next healthy worker of this generation gets the connection. */
static int pass_conn(void *ctx, size_t listener, int fd)
{
	struct master *m = ctx;
	unsigned n = 0, pick;
	char idx[24];

	for (const struct wproc *p = m->procs; p; p = p->next)
		n += serves_new(m, p);
	if (n == 0)
		return SW_ERROR;
	pick = m->pass_next++ % n;
	snprintf(idx, sizeof(idx), "%zu", listener);
	for (struct wproc *p = m->procs; p; p = p->next)
		if (serves_new(m, p) && pick-- == 0)
			return sw_ctl_send_fd(p->ctl_fd, SW_CTL_CONN, idx, strlen(idx), fd);
	return SW_ERROR;
}

/* Connections queued on stalled slots' sockets go to healthy workers now. */
static void pass_stalled_queues(struct master *m)
{
	bool healthy = false;

	for (const struct wproc *p = m->procs; p && !healthy; p = p->next)
		healthy = serves_new(m, p);
	if (!healthy)
		return;  /* leave them queued for whoever comes back first */
	for (unsigned s = 0; s < m->nslots; s++) {
		unsigned n = m->stall.stalled[s] ? sw_stall_pass(&m->ls, s, pass_conn, m) : 0;
		if (n == 0)
			continue;
		sw_stat_add(&m->shm->stall_passed, n);
		sw_info("passed %u connection(s) queued for stalled worker %u to the others", n, s);
	}
}

/*
 * A worker whose loop stopped turning (SIGSTOP, a livelock) would keep the
 * connections the kernel hashes to its socket waiting: the TCP steering
 * sends new ones to the others, and after timeouts.stall_ms it is killed;
 * the master's copy of its sockets keeps their queues for the successor.
 */
static void on_stall_tick(struct sw_timer *t)
{
	struct master *m = t->data;
	uint64_t now = sw_loop_now(m->loop);
	bool changed = m->stall.steered_gen != m->gen;
	bool awake = sw_stall_watch_awake(&m->stall, now);

	for (struct wproc *p = m->procs; p && awake && !m->stopping; p = p->next) {
		enum sw_stall_verdict v;

		if (p->gen != m->gen || !p->ready || p->draining || p->replaced)
			continue;
		v = sw_stall_judge(&m->stall, m->shm, p->slot, p->gen, p->pid, now,
				   m->cfg.timeouts.stall_ms);
		changed = changed || v == SW_STALL_BEGUN || v == SW_STALL_OVER;
		if (v == SW_STALL_REPLACE) {
			p->replaced = true;
			kill(p->pid, SIGKILL);
		}
	}
	if (changed) {
		sw_stall_forget_from(&m->stall, m->shm, m->nslots);
		sw_steer_tcp_apply(&m->ls, m->nslots, m->stall.stalled);
		m->stall.steered_gen = m->gen;
	}
	if (!m->stopping)
		pass_stalled_queues(m);
	sw_timer_add(m->loop, &m->stall_timer, SW_HEARTBEAT_MS);
}

static void init_timers(struct master *m)
{
	uint64_t wd = sw_notify_watchdog_usec();

	for (unsigned i = 0; i < SW_MAX_SLOTS; i++) {
		m->slots[i].m = m;
		m->slots[i].index = i;
		sw_timer_init(&m->slots[i].restart, on_restart, &m->slots[i]);
	}
	sw_timer_init(&m->stop_timer, on_stop_timeout, m);
	sw_timer_init(&m->reload_timer, on_reload_deadline, m);
	sw_timer_init(&m->abandon_timer, on_abandon_timer, m);
	sw_timer_init(&m->run_timer, on_run_timeout, m);
	sw_timer_init(&m->watchdog, on_watchdog, m);
	sw_timer_init(&m->ticket_timer, on_ticket_rotation, m);
	sw_timer_add(m->loop, &m->ticket_timer, SW_TICKET_ROTATION_MS);
	sw_timer_init(&m->stall_timer, on_stall_tick, m);
	sw_timer_add(m->loop, &m->stall_timer, SW_HEARTBEAT_MS);
	if (m->cli->run_for_ms > 0)
		sw_timer_add(m->loop, &m->run_timer, (uint64_t)m->cli->run_for_ms);
	if (wd) {
		/* Ping at half the period, as sd_watchdog_enabled(3) advises. */
		m->watchdog_ms = SW_MAX(wd / 2000, 1);
		sw_timer_add(m->loop, &m->watchdog, m->watchdog_ms);
	}
}

/* ---- start ---- */

static void log_start(const struct master *m)
{
	char features[256];

	sw_version_features(features, sizeof(features));
	sw_info("%s starting: features %s; config %s; io backend %s; %u worker%s",
		sw_version_string(), features,
		m->cli->config_path ? m->cli->config_path : "(built-in defaults)",
		sw_io_backend_name(m->cfg.server.io_backend), m->nslots,
		m->nslots == 1 ? " (single process)" : "s");
}

static int run_single(struct master *m)
{
	struct sw_worker_params params = {
		.slot = 0, .generation = 1, .cfg = &m->cfg, .shm = m->shm,
		.listens = &m->ls, .ctl_fd = -1, .cli = m->cli, .cpu = -1,
	};

	return sw_worker_run(&params);
}

static int run_master(struct master *m)
{
	char why[256] = "";

	if (sw_loop_open(&m->loop, SW_IO_EPOLL, 64, why, sizeof(why)) != SW_OK) {
		sw_error("cannot create the master's event loop: %s", why);
		return SW_EXIT_FAILURE;
	}
	init_timers(m);
	sw_upgrade_init(&m->up, m->loop, on_upgrade_done, m);
	if (open_signals(m) != SW_OK)
		return SW_EXIT_FAILURE;
	for (unsigned s = 0; s < m->nslots; s++)
		if (spawn(m, s) != SW_OK)
			return SW_EXIT_FAILURE;
	if (sw_loop_run(m->loop) != SW_OK)
		return SW_EXIT_FAILURE;
	sw_info("exiting");
	return SW_EXIT_OK;
}

/* Whatever is left when the loop ends (or never started). */
static void release_master(struct master *m)
{
	while (m->procs) {
		struct wproc *p = m->procs;
		m->procs = p->next;
		close(p->ctl_fd);
		free(p);
	}
	if (m->sigs.fd >= 0)
		close(m->sigs.fd);
	sw_upgrade_deinit(&m->up);
	sw_upgrade_refuse(&m->in, "the new master stopped before its workers were ready");
	sw_listen_set_close(&m->in.listens);
	sw_listen_set_close(&m->ls);
	sw_listen_set_close(&m->old_ls);
	if (m->reloading)
		sw_config_deinit(&m->prev_cfg);
	sw_config_deinit(&m->cfg);
	if (m->loop)
		sw_loop_close(m->loop);
}

/*
 * The shared block and the listening sockets: new ones, or (the new binary
 * of an upgrade) the old master's, with the generation continuing its own
 * so QUIC packets keep reaching the old workers' connections.
 */
static int open_resources(struct master *m, char *err, size_t err_size)
{
	int rc = sw_upgrade_inherit(&m->in, err, err_size);

	if (rc == SW_ERROR)
		return SW_ERROR;
	if (m->in.active) {
		m->shm_fd = m->in.shm_fd;
		m->shm = sw_shm_attach(&m->shm_fd, err, err_size);
		m->gen = m->in.generation + 1;
		sw_log_set_generation(m->gen);
		sw_info("binary upgrade: taking over from the old master (generation %u)",
			m->in.generation);
	} else {
		m->shm = sw_shm_create(&m->shm_fd);
		if (!m->shm)
			snprintf(err, err_size, "cannot map shared memory: %s", strerror(errno));
	}
	if (!m->shm)
		return SW_ERROR;
	if (check_backend(&m->cfg) != SW_OK) {
		snprintf(err, err_size, "server.io_backend \"io_uring\" cannot start here");
		return SW_ERROR;
	}
	rc = sw_listen_set_open(&m->ls, &m->cfg, m->nslots, m->in.active ? &m->in.listens : NULL,
				err, err_size);
	/* What the new config does not listen on any more is the old master's to close. */
	sw_listen_set_close(&m->in.listens);
	return rc;
}

int sw_master_run(const struct sw_cli *cli, struct sw_config *cfg)
{
	struct master *m = sw_calloc(1, sizeof(*m));
	char err[256];
	int rc;

	m->cli = cli;
	m->cfg = *cfg;
	m->gen = 1;
	m->sigs.fd = -1;
	m->shm_fd = -1;
	m->up.fd = -1;
	m->in.fd = -1;
	m->nslots = sw_master_worker_count(&m->cfg);
	sw_log_set_generation(m->gen);
	log_start(m);
	if (m->cfg.server.static_root)
		sw_static_select_lookup();
	if (open_resources(m, err, sizeof(err)) != SW_OK) {
		sw_error("%s", err);
		sw_upgrade_refuse(&m->in, err);
		rc = SW_EXIT_FAILURE;
	} else {
		m->shm->workers = m->nslots;
		log_listeners(m);
		/* A new binary reports to the old master: that takes a master, even for one worker. */
		rc = m->nslots == 1 && !m->in.active ? run_single(m) : run_master(m);
	}
	release_master(m);
	sw_shm_destroy(m->shm);
	if (m->shm_fd >= 0)
		close(m->shm_fd);
	free(m);
	return rc;
}
