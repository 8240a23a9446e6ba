/* SPDX-License-Identifier: MIT */
/* test_workers.c - the master/worker tree: worker count, CPU pinning, restart of a killed worker. */
#include <config.h>

#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "harness.h"

/* A master with `workers` workers on backend i, ready on 127.0.0.1. */
static struct it_proc *start_tree(const char *backend, unsigned workers, int *port)
{
	char cfg[IT_PATH_MAX];

	it_config_simple(cfg, "swerver.json", "127.0.0.1", 0, workers, backend);
	return it_start_ready(cfg, "127.0.0.1", port);
}

static bool single_cpu(const char *list)
{
	for (const char *c = list; *c; c++)
		if (!isdigit((unsigned char)*c))
			return false;
	return list[0] != '\0';
}

static void cpu_of(pid_t pid, char *buf, size_t size)
{
	IT_ASSERT(it_cpus_allowed(pid, buf, size), "no Cpus_allowed_list for pid %d", (int)pid);
}

/* Both workers pinned, each to one CPU, not the same one. */
static void assert_pinned_apart(const pid_t *kids)
{
	char a[64], b[64];

	if (it_cpu_count() < 2)
		return;
	cpu_of(kids[0], a, sizeof(a));
	cpu_of(kids[1], b, sizeof(b));
	IT_ASSERT(single_cpu(a) && single_cpu(b),
		  "workers not pinned to one CPU each: pid %d \"%s\", pid %d \"%s\"",
		  (int)kids[0], a, (int)kids[1], b);
	IT_ASSERT(strcmp(a, b) != 0, "both workers pinned to CPU %s", a);
}

START_TEST(two_workers_pinned)
{
	const char *backend = it_backend(_i);
	pid_t kids[8];
	int port, n;
	struct it_proc *p;

	if (!backend)
		return;
	p = start_tree(backend, 2, &port);
	n = it_wait_children(p->pid, 2, kids, 8, 5000);
	IT_ASSERT(n == 2, "workers=2 but the master has %d live children", n);
	assert_pinned_apart(kids);
}
END_TEST

START_TEST(workers_zero_means_cpus)
{
	const char *backend = it_backend(_i);
	int port, n, cpus = it_cpu_count();
	pid_t kids[IT_MAX_PIDS];
	struct it_proc *p;

	if (!backend)
		return;
	p = start_tree(backend, 0, &port);
	n = it_wait_children(p->pid, cpus, kids, IT_MAX_PIDS, 5000);
	IT_ASSERT(n == cpus, "workers=0 on %d usable CPUs gave %d workers", cpus, n);
}
END_TEST

START_TEST(single_process)
{
	const char *backend = it_backend(_i);
	pid_t kids[8];
	int port, n;
	struct it_proc *p;

	if (!backend)
		return;
	p = start_tree(backend, 1, &port);
	it_sleep_ms(200);
	n = it_children(p->pid, kids, 8);
	IT_ASSERT(n == 0, "workers=1 must not fork, but the master has %d children", n);
	IT_ASSERT(it_http_get("127.0.0.1", port, "/.healthz", IT_IO_MS) == 200,
		  "single process does not serve /.healthz");
}
END_TEST

/* The two live workers once `dead` is replaced; false after timeout_ms. */
static bool wait_replacement(pid_t master, pid_t dead, pid_t *kids, int timeout_ms)
{
	int64_t end = it_now_ms() + timeout_ms;

	do {
		int n = it_children(master, kids, 8);

		if (n == 2 && kids[0] != dead && kids[1] != dead)
			return true;
		it_sleep_ms(10);
	} while (it_now_ms() < end);
	return false;
}

/*
 * True once worker `pid` logged that it serves: it pins itself to its CPU
 * before that line, so its affinity read earlier may still be the
 * master's (found as "replacement pinned to 0-1").
 */
static bool wait_serving(struct it_proc *p, pid_t pid, int timeout_ms)
{
	int64_t end = it_now_ms() + timeout_ms;
	char tag[48];

	snprintf(tag, sizeof(tag), "swerver[%d] ", (int)pid);
	do {
		char *log = it_log(p), *at = log;
		bool found = false;

		while (!found && (at = strstr(at, tag)) != NULL) {
			char *eol = strchr(at, '\n');
			char *hit = strstr(at, ": serving on ");

			found = hit && (!eol || hit < eol);
			at += strlen(tag);
		}
		free(log);
		if (found)
			return true;
		it_sleep_ms(10);
	} while (it_now_ms() < end);
	return false;
}

/*
 * With the surviving old worker stopped, only the replacement can answer:
 * some fresh connection must get a 200 (the rest may queue on the stopped
 * worker's socket and time out).
 */
static bool replacement_serves(int port)
{
	for (int k = 0; k < 30; k++)
		if (it_http_get("127.0.0.1", port, "/.healthz", 300) == 200)
			return true;
	return false;
}

START_TEST(killed_worker_restarted)
{
	const char *backend = it_backend(_i);
	pid_t kids[8], now[8], fresh, survivor;
	char cpu_dead[64] = "", cpu_new[64];
	int port, n;
	int64_t t0, took;
	bool served;
	struct it_proc *p;

	if (!backend)
		return;
	p = start_tree(backend, 2, &port);
	n = it_wait_children(p->pid, 2, kids, 8, 5000);
	IT_ASSERT(n == 2, "workers=2 but the master has %d live children", n);
	cpu_of(kids[0], cpu_dead, sizeof(cpu_dead));
	t0 = it_now_ms();
	ck_assert_int_eq(kill(kids[0], SIGKILL), 0);
	IT_ASSERT(wait_replacement(p->pid, kids[0], now, 5000),
		  "no replacement for killed worker %d within 5 s", (int)kids[0]);
	took = it_now_ms() - t0;
	IT_ASSERT(took < 2000, "first death: back-off should be 0, replacement took %lld ms",
		  (long long)took);
	survivor = kids[1];
	fresh = now[0] == survivor ? now[1] : now[0];
	IT_ASSERT(now[0] == survivor || now[1] == survivor,
		  "the surviving worker %d was replaced too", (int)survivor);
	IT_ASSERT(wait_serving(p, fresh, 5000), "replacement worker %d not serving within 5 s",
		  (int)fresh);
	cpu_of(fresh, cpu_new, sizeof(cpu_new));
	if (it_cpu_count() >= 2)
		IT_ASSERT(strcmp(cpu_new, cpu_dead) == 0,
			  "replacement pinned to \"%s\", the dead worker was on \"%s\"",
			  cpu_new, cpu_dead);
	kill(survivor, SIGSTOP);
	served = replacement_serves(port);
	kill(survivor, SIGCONT);
	IT_ASSERT(served, "replacement worker %d answered no request", (int)fresh);
	IT_ASSERT(it_wait_status("127.0.0.1", port, "/.healthz", 200, 3000) == 200,
		  "not serving after the restart");
	IT_ASSERT(it_poll_exit(p) == IT_TIMEOUT, "master died: %s", it_code_str(it_poll_exit(p)));
}
END_TEST

/*
 * A worker killed again and again is restarted with growing delays and the
 * master says it is crash-looping, rather than forking in a tight loop.
 */
START_TEST(crash_loop_backs_off)
{
	const char *backend = it_backend(_i);
	pid_t kids[8], now[8], victim;
	int port, n;
	int64_t t0, gap = 0;
	struct it_proc *p;

	if (!backend)
		return;
	p = start_tree(backend, 2, &port);
	n = it_wait_children(p->pid, 2, kids, 8, 5000);
	IT_ASSERT(n == 2, "workers=2 but the master has %d live children", n);
	victim = kids[0];
	for (int round = 0; round < 5; round++) {
		t0 = it_now_ms();
		ck_assert_int_eq(kill(victim, SIGKILL), 0);
		IT_ASSERT(wait_replacement(p->pid, victim, now, 8000),
			  "round %d: no replacement for worker %d", round, (int)victim);
		gap = it_now_ms() - t0;
		victim = now[0] == kids[1] ? now[1] : now[0];
	}
	/* Deaths 2..5 wait 100, 200, 400, 800 ms: the last restart was not immediate. */
	IT_ASSERT(gap >= 400, "fifth restart after %lld ms: no back-off", (long long)gap);
	IT_ASSERT(it_log_has(p, "crash-looping"), "five quick deaths, no crash-loop line in the log");
	IT_ASSERT(it_wait_status("127.0.0.1", port, "/.healthz", 200, 3000) == 200,
		  "not serving after the crash loop");
}
END_TEST

static Suite *workers_suite(void)
{
	Suite *s = suite_create("workers");
	TCase *tc = it_tcase("workers");

	tcase_add_loop_test(tc, two_workers_pinned, 0, 2);
	tcase_add_loop_test(tc, workers_zero_means_cpus, 0, 2);
	tcase_add_loop_test(tc, single_process, 0, 2);
	tcase_add_loop_test(tc, killed_worker_restarted, 0, 2);
	tcase_add_loop_test(tc, crash_loop_backs_off, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

IT_SUITE(workers_suite);
