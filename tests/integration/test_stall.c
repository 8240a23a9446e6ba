/* SPDX-License-Identifier: MIT */
/* test_stall.c - a stopped worker: new connections go to the others, /.ready answers, and after timeouts.stall_ms it is replaced. */
#include <config.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "harness.h"

#define PROBES 20
#define EARLY 20  /* all miss the stopped worker's socket: (2/3)^20 = 0.03% */
/*
 * Three workers, one stopped: on a loaded machine a healthy worker may
 * itself go a second without running and be skipped for a moment; the
 * third still takes the probes then.
 */
#define WORKERS 3

static struct it_proc *start_tree(const char *backend, unsigned stall_ms, int *port)
{
	char cfg[IT_PATH_MAX];

	it_path(cfg, "swerver.json");
	it_write_filef(cfg,
		"{ \"server\": { \"listeners\": [{\"address\": \"127.0.0.1\", \"port\": 0}],\n"
		"  \"workers\": %d, \"io_backend\": \"%s\" },\n"
		"  \"timeouts\": {\"drain_ms\": 1000, \"stall_ms\": %u} }\n", WORKERS, backend,
		stall_ms);
	return it_start_ready(cfg, "127.0.0.1", port);
}

/* Polls until the metric satisfies lo <= value <= hi; the last value seen. */
static long wait_metric(int port, const char *name, long lo, long hi)
{
	int64_t end = it_now_ms() + IT_WAIT_MS;
	long v;

	while ((v = (long)it_metric(port, name)) < lo || v > hi) {
		if (it_now_ms() >= end)
			break;
		it_sleep_ms(50);
	}
	return v;
}

static pid_t successor(pid_t master, pid_t gone)
{
	pid_t kids[8];
	int64_t end = it_now_ms() + IT_WAIT_MS;

	do {
		int n = it_children(master, kids, 8);
		bool old = false;
		for (int i = 0; i < n; i++)
			old = old || kids[i] == gone;
		if (n == WORKERS && !old)
			return kids[0];
		it_sleep_ms(20);
	} while (it_now_ms() < end);
	return 0;
}

static void probes_answer(int port, const char *when)
{
	for (int i = 0; i < PROBES; i++) {
		int st = it_http_get("127.0.0.1", port, "/.ready", IT_WAIT_MS);
		IT_ASSERT(st == 200, "%s: /.ready probe %d of %d got %d", when, i + 1, PROBES, st);
	}
}

/*
 * Issue #19 item 8.  A connection the kernel queued on the stopped worker's
 * socket could only be answered by its successor, which starts after the
 * "replacing it" line: so twenty probes answered while that line is still
 * absent all went to the healthy worker.
 */
START_TEST(stopped_worker_steered_around_then_replaced)
{
	const char *backend = it_backend(_i);
	struct it_conn *early[EARLY];
	char needle[96];
	pid_t kids[8], stopped;
	struct it_proc *p;
	int port, n;
	size_t from;

	if (!backend)
		return;
	p = start_tree(backend, 8000, &port);
	n = it_wait_children(p->pid, WORKERS, kids, 8, IT_WAIT_MS);
	IT_ASSERT(n == WORKERS, "the master has %d live children", n);
	stopped = kids[0];
	from = it_log_size(p);
	IT_ASSERT(kill(stopped, SIGSTOP) == 0, "SIGSTOP");
	/* Before the stall is seen, some of these queue on the stopped worker's socket. */
	for (int i = 0; i < EARLY; i++) {
		early[i] = it_conn_new(port);
		IT_ASSERT(it_conn_send(early[i], "GET /.ready HTTP/1.1\r\nHost: t\r\n\r\n") == 0,
			  "send on early connection %d", i);
	}
	snprintf(needle, sizeof(needle), "(pid %d) missed its heartbeat", (int)stopped);
	IT_ASSERT(it_wait_log(p, from, needle, IT_WAIT_MS), "no \"%s\" line", needle);
	probes_answer(port, "while a worker is stopped");
	IT_ASSERT(!it_log_has(p, "replacing it"),
		  "a probe waited for the stopped worker's replacement");
	IT_ASSERT(!it_pid_gone(stopped), "the stopped worker is gone already");
	IT_ASSERT(wait_metric(port, "swerver_workers_stalled", 1, WORKERS) >= 1,
		  "swerver_workers_stalled is 0");
	IT_ASSERT((long)it_metric(port, "swerver_worker_stalls_total") >= 1, "no stall counted");
	/* Those queued on the stopped worker's socket: passed to the others by the master. */
	for (int i = 0; i < EARLY; i++) {
		struct it_response r;
		int rc = it_conn_read(early[i], &r, IT_WAIT_MS);
		IT_ASSERT(rc == 0 && r.status == 200, "early connection %d: rc %d status %d", i, rc,
			  r.status);
		it_conn_free(early[i]);
	}
	IT_ASSERT(!it_log_has(p, "replacing it"),
		  "a connection queued on the stopped worker waited for its replacement");
	/* After stall_ms: killed, and a successor serves its slot. */
	snprintf(needle, sizeof(needle), "(pid %d) stalled for", (int)stopped);
	IT_ASSERT(it_wait_log(p, from, needle, 2 * IT_WAIT_MS), "no \"%s\" line", needle);
	IT_ASSERT(it_wait_gone(&stopped, 1, IT_WAIT_MS), "the stalled worker was not killed");
	IT_ASSERT(successor(p->pid, stopped) != 0, "no successor");
	IT_ASSERT((long)it_metric(port, "swerver_worker_stall_replacements_total") == 1,
		  "swerver_worker_stall_replacements_total is not 1");
	/* The successor beats, and its slot gets new connections again. */
	IT_ASSERT(wait_metric(port, "swerver_workers_stalled", 0, 0) == 0,
		  "swerver_workers_stalled did not go back to 0");
	probes_answer(port, "after the replacement");
}
END_TEST

/* stall_ms 0: steered around for as long as it is stopped, never killed; back when it resumes. */
START_TEST(stall_ms_zero_never_replaces)
{
	pid_t kids[8], stopped;
	struct it_proc *p;
	char needle[96];
	size_t from;
	int port;

	p = start_tree("epoll", 0, &port);
	IT_ASSERT(it_wait_children(p->pid, WORKERS, kids, 8, IT_WAIT_MS) == WORKERS,
		  "not %d workers", WORKERS);
	stopped = kids[0];
	from = it_log_size(p);
	IT_ASSERT(kill(stopped, SIGSTOP) == 0, "SIGSTOP");
	snprintf(needle, sizeof(needle), "(pid %d) missed its heartbeat", (int)stopped);
	IT_ASSERT(it_wait_log(p, from, needle, IT_WAIT_MS), "no \"%s\" line", needle);
	probes_answer(port, "while a worker is stopped");
	IT_ASSERT(kill(stopped, SIGCONT) == 0, "SIGCONT");
	snprintf(needle, sizeof(needle), "(pid %d) beats again", (int)stopped);
	IT_ASSERT(it_wait_log(p, from, needle, IT_WAIT_MS), "no \"%s\" line", needle);
	IT_ASSERT(!it_log_has(p, "replacing it") && !it_pid_gone(stopped),
		  "stall_ms 0 replaced the worker");
	IT_ASSERT(wait_metric(port, "swerver_workers_stalled", 0, 0) == 0,
		  "swerver_workers_stalled did not go back to 0");
}
END_TEST

static Suite *stall_suite(void)
{
	Suite *s = suite_create("stall");
	TCase *tc = it_tcase("stall");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, stopped_worker_steered_around_then_replaced, 0, 2);
	tcase_add_test(tc, stall_ms_zero_never_replaces);
	suite_add_tcase(s, tc);
	return s;
}

IT_SUITE(stall_suite);
