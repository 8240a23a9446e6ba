/* SPDX-License-Identifier: MIT */
/* test_notify.c - sd_notify datagrams on a test NOTIFY_SOCKET: READY, RELOADING, READY, STOPPING. */
#include <config.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include "harness.h"

/* What one datagram said (only the assignments the test cares about). */
struct note {
	bool ready, reloading, stopping, has_mono;
	long long mono;
	int64_t at_us;                /* when we received it */
	char raw[1024];
};

static int notify_socket(char path[IT_PATH_MAX])
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	it_path(path, "notify.sock");
	ck_assert_uint_lt(strlen(path), sizeof(sa.sun_path));
	strcpy(sa.sun_path, path);
	ck_assert_msg(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0, "bind %s: %s",
		      path, strerror(errno));
	return fd;
}

static void parse_note(struct note *n)
{
	char copy[sizeof(n->raw)], *save = NULL;

	snprintf(copy, sizeof(copy), "%s", n->raw);
	for (char *a = strtok_r(copy, "\n", &save); a; a = strtok_r(NULL, "\n", &save)) {
		if (strcmp(a, "READY=1") == 0)
			n->ready = true;
		else if (strcmp(a, "RELOADING=1") == 0)
			n->reloading = true;
		else if (strcmp(a, "STOPPING=1") == 0)
			n->stopping = true;
		else if (strncmp(a, "MONOTONIC_USEC=", 15) == 0)
			n->has_mono = sscanf(a + 15, "%lld", &n->mono) == 1;
	}
}

/*
 * The next datagram with READY, RELOADING or STOPPING; false after
 * timeout_ms, or once p has exited and nothing more is queued.
 */
static bool next_note(int fd, struct it_proc *p, struct note *n, int timeout_ms)
{
	int64_t end = it_now_ms() + timeout_ms;

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		bool gone = it_poll_exit(p) != IT_TIMEOUT;
		int left = (int)(end - it_now_ms());
		ssize_t len;

		if (left <= 0)
			return false;
		if (poll(&pfd, 1, left < 50 ? left : 50) <= 0) {
			if (gone)
				return false;
			continue;
		}
		memset(n, 0, sizeof(*n));
		len = recv(fd, n->raw, sizeof(n->raw) - 1, 0);
		if (len < 0)
			continue;
		n->raw[len] = '\0';
		n->at_us = it_now_us();
		parse_note(n);
		if (n->ready || n->reloading || n->stopping)
			return true;
	}
}

static void expect_note(int fd, struct it_proc *p, struct note *n, const char *what,
			int timeout_ms)
{
	IT_ASSERT(next_note(fd, p, n, timeout_ms), "no %s datagram within %d ms (swerver: %s)",
		  what, timeout_ms, it_code_str(it_poll_exit(p)));
}

/* READY means every worker accepts: fresh connections all get /.ready 200 at once. */
static void assert_all_ready(int port)
{
	for (int k = 0; k < 8; k++) {
		int st = it_http_get("127.0.0.1", port, "/.ready", 2000);

		IT_ASSERT(st == 200, "READY=1 sent, but /.ready request %d gave %d", k, st);
	}
}

static void expect_reload(int fd, struct it_proc *p)
{
	int64_t before = it_now_us();
	struct note n;

	ck_assert_int_eq(it_signal(p, SIGHUP), 0);
	expect_note(fd, p, &n, "RELOADING=1", 5000);
	IT_ASSERT(n.reloading && !n.ready && !n.stopping,
		  "after HUP the first state datagram must be RELOADING=1 alone, got \"%s\"", n.raw);
	IT_ASSERT(n.has_mono, "RELOADING=1 without MONOTONIC_USEC: \"%s\"", n.raw);
	IT_ASSERT(n.mono >= before && n.mono <= n.at_us,
		  "MONOTONIC_USEC=%lld is not CLOCK_MONOTONIC between HUP (%lld) and receipt (%lld)",
		  n.mono, (long long)before, (long long)n.at_us);
	expect_note(fd, p, &n, "READY=1 after reload", 5000);
	IT_ASSERT(n.ready && !n.reloading && !n.stopping,
		  "after RELOADING=1 want READY=1, got \"%s\"", n.raw);
}

START_TEST(notify_sequence)
{
	const char *backend = it_backend(_i);
	char sock[IT_PATH_MAX], env[IT_PATH_MAX + 16], cfg[IT_PATH_MAX];
	const char *envv[] = { env, NULL };
	struct note n;
	int fd, port, code;
	struct it_proc *p;

	if (!backend)
		return;
	fd = notify_socket(sock);
	snprintf(env, sizeof(env), "NOTIFY_SOCKET=%s", sock);
	it_config_simple(cfg, "swerver.json", "127.0.0.1", 0, 2, backend);
	p = it_start(cfg, envv);
	expect_note(fd, p, &n, "READY=1", IT_WAIT_MS);
	IT_ASSERT(n.ready && !n.reloading && !n.stopping, "first state datagram: \"%s\"", n.raw);
	port = it_wait_port(p, "127.0.0.1", 1000);
	IT_ASSERT(port > 0, "READY=1 sent before the \"listening on\" line");
	assert_all_ready(port);
	expect_reload(fd, p);
	assert_all_ready(port);
	ck_assert_int_eq(it_signal(p, SIGTERM), 0);
	expect_note(fd, p, &n, "STOPPING=1", 5000);
	IT_ASSERT(n.stopping && !n.ready, "after TERM want STOPPING=1, got \"%s\"", n.raw);
	code = it_wait_exit(p, 4500);
	IT_ASSERT(code == 0, "after STOPPING=1 want exit 0, got %s", it_code_str(code));
	close(fd);
}
END_TEST

/* Counts WATCHDOG=1 datagrams arriving within ms. */
static int count_watchdog(int fd, int ms)
{
	int64_t end = it_now_ms() + ms;
	int seen = 0;
	char buf[1024];

	for (int left; (left = (int)(end - it_now_ms())) > 0;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t len;

		if (poll(&pfd, 1, left) <= 0)
			break;
		len = recv(fd, buf, sizeof(buf) - 1, 0);
		if (len <= 0)
			continue;
		buf[len] = '\0';
		if (strstr(buf, "WATCHDOG=1"))
			seen++;
	}
	return seen;
}

/* With WATCHDOG_USEC set, the master pings at half the period. */
START_TEST(watchdog_pings)
{
	const char *backend = it_backend(_i);
	char sock[IT_PATH_MAX], env[IT_PATH_MAX + 16], cfg[IT_PATH_MAX];
	const char *envv[] = { env, "WATCHDOG_USEC=200000", NULL };
	struct note n;
	int fd, pings;
	struct it_proc *p;

	if (!backend)
		return;
	fd = notify_socket(sock);
	snprintf(env, sizeof(env), "NOTIFY_SOCKET=%s", sock);
	it_config_simple(cfg, "swerver.json", "127.0.0.1", 0, 2, backend);
	p = it_start(cfg, envv);
	expect_note(fd, p, &n, "READY=1", IT_WAIT_MS);
	/* 100 ms period: about 10 in a second; a generous floor, no ceiling. */
	pings = count_watchdog(fd, 1000);
	IT_ASSERT(pings >= 3, "WATCHDOG_USEC=200000 but only %d WATCHDOG=1 in 1 s", pings);
	ck_assert_int_eq(it_signal(p, SIGTERM), 0);
	IT_ASSERT(it_wait_exit(p, 4500) == 0, "exit after TERM");
	close(fd);
}
END_TEST

/* Without WATCHDOG_USEC, no pings. */
START_TEST(no_watchdog_without_env)
{
	const char *backend = it_backend(_i);
	char sock[IT_PATH_MAX], env[IT_PATH_MAX + 16], cfg[IT_PATH_MAX];
	const char *envv[] = { env, NULL };
	struct note n;
	int fd, pings;
	struct it_proc *p;

	if (!backend)
		return;
	fd = notify_socket(sock);
	snprintf(env, sizeof(env), "NOTIFY_SOCKET=%s", sock);
	it_config_simple(cfg, "swerver.json", "127.0.0.1", 0, 2, backend);
	p = it_start(cfg, envv);
	expect_note(fd, p, &n, "READY=1", IT_WAIT_MS);
	pings = count_watchdog(fd, 500);
	IT_ASSERT(pings == 0, "no WATCHDOG_USEC, yet %d WATCHDOG=1 datagrams", pings);
	ck_assert_int_eq(it_signal(p, SIGTERM), 0);
	IT_ASSERT(it_wait_exit(p, 4500) == 0, "exit after TERM");
	close(fd);
}
END_TEST

/* The next datagram and who sent it (SO_PASSCRED); false after timeout_ms. */
static bool recv_from(int fd, char *buf, size_t size, pid_t *sender, int timeout_ms)
{
	union { struct cmsghdr h; char b[CMSG_SPACE(sizeof(struct ucred))]; } ctl;
	struct iovec iov = { buf, size - 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
			     .msg_controllen = sizeof(ctl.b) };
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t len;

	if (poll(&pfd, 1, timeout_ms) <= 0 || (len = recvmsg(fd, &mh, 0)) < 0)
		return false;
	buf[len] = '\0';
	*sender = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS)
			*sender = ((struct ucred *)(void *)CMSG_DATA(c))->pid;
	return true;
}

/*
 * SIGUSR2: the new master, not the old, says MAINPID=<its pid> and then
 * READY=1; the old master says nothing more (no STOPPING=1: the service is
 * not stopping) and exits; the new one is the service from then on.
 */
START_TEST(upgrade_hands_over_mainpid)
{
	char sock[IT_PATH_MAX], env[IT_PATH_MAX + 16], cfg[IT_PATH_MAX], buf[1024];
	const char *envv[] = { env, NULL };
	struct note n;
	pid_t sender, newpid = 0, old;
	int fd, one = 1, code;
	bool ready = false;
	struct it_proc *p;

	fd = notify_socket(sock);
	ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)), 0);
	snprintf(env, sizeof(env), "NOTIFY_SOCKET=%s", sock);
	it_config_simple(cfg, "swerver.json", "127.0.0.1", 0, 2, "epoll");
	p = it_start(cfg, envv);
	old = p->pid;
	expect_note(fd, p, &n, "READY=1", IT_WAIT_MS);
	ck_assert_int_eq(it_signal(p, SIGUSR2), 0);
	while (!ready && recv_from(fd, buf, sizeof(buf), &sender, 5000)) {
		const char *mp = strstr(buf, "MAINPID=");

		if (mp) {
			newpid = (pid_t)atoi(mp + 8);
			IT_ASSERT(newpid != old && sender == newpid, "MAINPID=%d sent by %d (old master "
				  "%d)", (int)newpid, (int)sender, (int)old);
		}
		if (strstr(buf, "READY=1") && sender != old) {
			IT_ASSERT(newpid && sender == newpid, "READY=1 from %d before MAINPID=",
				  (int)sender);
			ready = true;
		}
		IT_ASSERT(!strstr(buf, "STOPPING=1"), "\"%s\" from %d during the upgrade", buf,
			  (int)sender);
	}
	IT_ASSERT(ready, "no MAINPID= and READY=1 from a new master");
	code = it_wait_exit(p, 10000);
	IT_ASSERT(code == 0, "the old master: %s", it_code_str(code));
	while (recv_from(fd, buf, sizeof(buf), &sender, 0))
		IT_ASSERT(sender != old, "the old master sent \"%s\" after the hand-over", buf);
	kill(newpid, SIGTERM);
	IT_ASSERT(recv_from(fd, buf, sizeof(buf), &sender, 5000) && strstr(buf, "STOPPING=1") &&
		  sender == newpid, "the new master did not say STOPPING=1: \"%s\"", buf);
	IT_ASSERT(it_wait_gone(&newpid, 1, 10000), "the new master did not stop");
	waitpid(newpid, NULL, 0);
	close(fd);
}
END_TEST

static Suite *notify_suite(void)
{
	Suite *s = suite_create("notify");
	TCase *tc = it_tcase("notify");

	tcase_add_loop_test(tc, notify_sequence, 0, 2);
	tcase_add_loop_test(tc, watchdog_pings, 0, 2);
	tcase_add_loop_test(tc, no_watchdog_without_env, 0, 2);
	tcase_add_test(tc, upgrade_hands_over_mainpid);
	suite_add_tcase(s, tc);
	return s;
}

IT_SUITE(notify_suite);
