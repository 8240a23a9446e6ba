/* SPDX-License-Identifier: MIT */
/* upgrade.c - binary upgrade: run the new binary with our sockets and shared memory, step down once it serves. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "core/log.h"
#include "daemon/control.h"
#include "daemon/upgrade.h"

#define ENV_UPGRADE "SWERVER_UPGRADE"
#define ENV_LISTENERS "SWERVER_LISTENERS"
#define DELETED_SUFFIX " (deleted)"

/* ---- the old master ---- */

static void on_deadline(struct sw_timer *t);
static void on_kill_timer(struct sw_timer *t);

void sw_upgrade_init(struct sw_upgrade *u, struct sw_loop *loop, sw_upgrade_done_fn done,
		     void *data)
{
	memset(u, 0, sizeof(*u));
	u->loop = loop;
	u->done = done;
	u->data = data;
	u->fd = -1;
	sw_timer_init(&u->deadline, on_deadline, u);
	sw_timer_init(&u->kill_timer, on_kill_timer, u);
}

bool sw_upgrade_busy(const struct sw_upgrade *u)
{
	return u->pid != 0;
}

static void note(struct sw_upgrade *u, const char *why)
{
	if (!u->why[0])
		snprintf(u->why, sizeof(u->why), "%s", why);
}

static void close_pair(struct sw_upgrade *u)
{
	if (u->fd < 0)
		return;
	sw_loop_close_handle(u->loop, &u->h, NULL);
	u->fd = -1;
}

/* SIGTERM: a new master that serves drains its workers; SIGKILL after the grace. */
static void stop_new(struct sw_upgrade *u, const char *why)
{
	note(u, why);
	kill(u->pid, SIGTERM);
	sw_timer_add(u->loop, &u->kill_timer, u->grace_ms);
}

static void on_deadline(struct sw_timer *t)
{
	struct sw_upgrade *u = t->data;

	if (u->pid && !u->ready)
		stop_new(u, "the new master was not ready in time");
}

static void on_kill_timer(struct sw_timer *t)
{
	struct sw_upgrade *u = t->data;

	if (!u->pid || u->ready)
		return;
	sw_warn("binary upgrade: new master (pid %d) did not exit; killing it", (int)u->pid);
	kill(u->pid, SIGKILL);
}

static void watch(struct sw_upgrade *u);

/* What the new master said; SW_AGAIN while it may say more. */
static int read_pair(struct sw_upgrade *u)
{
	struct sw_ctl_msg msg;
	int rc;

	while ((rc = sw_ctl_recv(u->fd, &msg)) == SW_OK) {
		if (msg.type == SW_CTL_READY && !u->ready) {
			u->ready = true;
			sw_timer_del(u->loop, &u->deadline);
		} else if (msg.type == SW_CTL_FAILED) {
			note(u, msg.payload ? msg.payload : "the new master gave up");
		}
		sw_ctl_msg_free(&msg);
		if (u->ready)
			break;
	}
	return rc;
}

static void on_message(struct sw_io *io, ssize_t res)
{
	struct sw_upgrade *u = io->data;
	int rc = read_pair(u);

	(void)res;
	if (u->ready) {
		close_pair(u);
		u->done(u->data, true, NULL);
		return;
	}
	if (rc == SW_AGAIN)
		watch(u);
	else
		close_pair(u);  /* EOF: the exit status says the rest */
}

static void watch(struct sw_upgrade *u)
{
	u->io.data = u;
	u->io.cb = on_message;
	sw_loop_poll(u->loop, &u->h, &u->io, false);
}

/*
 * The path this binary was started from.  A package upgrade renames the
 * new file over it, and the kernel then shows ours as "PATH (deleted)":
 * PATH is the one to run.
 */
static int binary_path(char *out, size_t size)
{
	ssize_t n = readlink("/proc/self/exe", out, size - 1);
	size_t suffix = strlen(DELETED_SUFFIX);

	if (n <= 0)
		return SW_ERROR;
	out[n] = '\0';
	if ((size_t)n > suffix && strcmp(out + n - suffix, DELETED_SUFFIX) == 0)
		out[n - suffix] = '\0';
	return SW_OK;
}

static void refuse_from_child(int fd, const char *what, const char *arg, int err)
{
	char why[PATH_MAX + 128];
	int n = snprintf(why, sizeof(why), "%s%s: %s", what, arg, strerror(err));

	sw_ctl_send(fd, SW_CTL_FAILED, why, (size_t)SW_MIN(n, (int)sizeof(why) - 1));
	_exit(127);
}

/* In the child: everything the new master takes stays open across execve. */
static __attribute__((noreturn)) void exec_new(const struct sw_upgrade_handoff *h, int fd,
					       const char *exe)
{
	char env[96], pid[24];
	char *desc;
	sigset_t none;

	/* The master's signals are blocked for its signalfd; the new one sets up its own. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (sw_listen_set_inheritable(h->listens) != SW_OK || fcntl(h->shm_fd, F_SETFD, 0) != 0 ||
	    fcntl(fd, F_SETFD, 0) != 0)
		refuse_from_child(fd, "cannot pass the sockets", "", errno);
	snprintf(env, sizeof(env), "%d %d %u", fd, h->shm_fd, h->generation);
	desc = sw_listen_set_describe(h->listens);
	/* sd_watchdog_enabled() only answers the process WATCHDOG_PID names. */
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	if (setenv(ENV_UPGRADE, env, 1) != 0 || setenv(ENV_LISTENERS, desc, 1) != 0 ||
	    (getenv("WATCHDOG_PID") && setenv("WATCHDOG_PID", pid, 1) != 0))
		refuse_from_child(fd, "cannot set the environment", "", errno);
	execv(exe, h->argv);
	refuse_from_child(fd, "cannot run ", exe, errno);
	_exit(127);
}

int sw_upgrade_start(struct sw_upgrade *u, const struct sw_upgrade_handoff *h,
		     uint64_t timeout_ms, uint64_t grace_ms, char *err, size_t err_size)
{
	char exe[PATH_MAX];
	int fds[2];
	pid_t pid;

	if (binary_path(exe, sizeof(exe)) != SW_OK) {
		snprintf(err, err_size, "cannot find this binary's path: %s", strerror(errno));
		return SW_ERROR;
	}
	if (sw_ctl_pair(fds) != SW_OK) {
		snprintf(err, err_size, "socketpair: %s", strerror(errno));
		return SW_ERROR;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(err, err_size, "fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return SW_ERROR;
	}
	if (pid == 0) {
		close(fds[0]);
		exec_new(h, fds[1], exe);
	}
	close(fds[1]);
	u->pid = pid;
	u->fd = fds[0];
	u->ready = false;
	u->why[0] = '\0';
	u->grace_ms = grace_ms;
	sw_loop_add(u->loop, &u->h, u->fd, u);
	watch(u);
	sw_timer_add(u->loop, &u->deadline, timeout_ms);
	sw_info("binary upgrade: started %s as the new master (pid %d)", exe, (int)pid);
	return SW_OK;
}

void sw_upgrade_cancel(struct sw_upgrade *u, const char *why)
{
	if (u->pid && !u->ready)
		stop_new(u, why);
}

static void describe_status(int status, char *buf, size_t size)
{
	if (WIFEXITED(status) && WEXITSTATUS(status) == SW_EXIT_CONFIG)
		snprintf(buf, size, "the new master exited with status %d: its configuration is "
			 "invalid (see the log)", WEXITSTATUS(status));
	else if (WIFEXITED(status))
		snprintf(buf, size, "the new master exited with status %d (see the log)",
			 WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, size, "the new master was killed by signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	else
		snprintf(buf, size, "the new master stopped (status %#x)", status);
}

bool sw_upgrade_reaped(struct sw_upgrade *u, pid_t pid, int status)
{
	char why[256];

	if (!u->pid || pid != u->pid)
		return false;
	u->pid = 0;
	sw_timer_del(u->loop, &u->deadline);
	sw_timer_del(u->loop, &u->kill_timer);
	/* SIGCHLD may come before the pair's readiness: a FAILED may still wait there. */
	if (u->fd >= 0 && !u->ready) {
		read_pair(u);
		if (u->ready) {
			/* READY unread until now: it died before we stepped down, we serve on. */
			u->ready = false;
			note(u, "the new master exited right after it was ready");
		}
	}
	close_pair(u);
	if (u->ready)
		return true;   /* it served, then went: not our business any more */
	describe_status(status, why, sizeof(why));
	note(u, why);
	u->done(u->data, false, u->why);
	return true;
}

void sw_upgrade_deinit(struct sw_upgrade *u)
{
	if (u->fd >= 0)
		close(u->fd);
	u->fd = -1;
}

/* ---- the new master ---- */

static int parse_env(struct sw_inherited *in, const char *env, char *err, size_t err_size)
{
	int type = 0;
	socklen_t len = sizeof(type);

	if (sscanf(env, "%d %d %u", &in->fd, &in->shm_fd, &in->generation) != 3 || in->fd < 3 ||
	    in->shm_fd < 3 || in->generation == 0) {
		snprintf(err, err_size, ENV_UPGRADE "=\"%.64s\": not a hand-over", env);
		return SW_ERROR;
	}
	if (getsockopt(in->fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_SEQPACKET) {
		snprintf(err, err_size, ENV_UPGRADE ": descriptor %d is not the old master's pair",
			 in->fd);
		return SW_ERROR;
	}
	fcntl(in->fd, F_SETFD, FD_CLOEXEC);
	fcntl(in->shm_fd, F_SETFD, FD_CLOEXEC);
	return SW_OK;
}

int sw_upgrade_inherit(struct sw_inherited *in, char *err, size_t err_size)
{
	const char *env = getenv(ENV_UPGRADE);
	const char *desc = getenv(ENV_LISTENERS);
	int rc;

	memset(in, 0, sizeof(*in));
	in->fd = in->shm_fd = -1;
	if (!env)
		return SW_DECLINED;
	rc = parse_env(in, env, err, err_size);
	if (rc == SW_OK && !desc) {
		snprintf(err, err_size, ENV_UPGRADE " without " ENV_LISTENERS);
		rc = SW_ERROR;
	}
	if (rc == SW_OK)
		rc = sw_listen_set_import(&in->listens, desc, err, err_size);
	/* Workers, and the binary a later upgrade runs, must not take them for theirs. */
	unsetenv(ENV_UPGRADE);
	unsetenv(ENV_LISTENERS);
	in->active = rc == SW_OK;
	if (rc != SW_OK && in->fd >= 0)
		sw_upgrade_refuse(in, err);
	return rc;
}

void sw_upgrade_serving(struct sw_inherited *in)
{
	if (in->fd < 0)
		return;
	if (sw_ctl_send(in->fd, SW_CTL_READY, NULL, 0) != SW_OK)
		sw_warn("binary upgrade: the old master did not hear that we serve: %s",
			strerror(errno));
	close(in->fd);
	in->fd = -1;
}

void sw_upgrade_refuse(struct sw_inherited *in, const char *why)
{
	if (in->fd < 0)
		return;
	sw_ctl_send(in->fd, SW_CTL_FAILED, why, strlen(why));
	close(in->fd);
	in->fd = -1;
}
