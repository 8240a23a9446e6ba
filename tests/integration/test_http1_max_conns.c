/* SPDX-License-Identifier: MIT */
/* test_http1_max_conns.c - the HTTP/1.1 engine end to end, on both I/O backends: server.max_connections. */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "h1_fixture.h"

/* ---- max_connections ---------------------------------------------------- */

/* utime + stime of pid in clock ticks, -1 if unreadable. */
static long cpu_ticks(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut, st;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	/* After ")": state(3) ... utime(14) stime(15). */
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return -1;
	return (long)(ut + st);
}

/*
 * max_connections 4 held by connections that are not idle (a head begun),
 * the 8 reserve places past it too: further connections wait in the
 * kernel, and the worker waits with them, not spinning.  Once the held
 * ones are answered, the 4 regular ones are idle and each is closed in
 * turn to let a waiting one in.
 */
START_TEST(max_connections)
{
	const char *backend = it_backend(_i);
	struct it_conn *c[18];
	struct it_proc *p;
	pid_t worker, kids[4];
	long t0, t1;
	int port;

	if (!backend)
		return;
	p = h1_start(backend, "\"max_connections\": 4", "\"header_ms\": 20000, \"idle_ms\": 20000", "",
		  &port);
	worker = it_children(p->pid, kids, 4) > 0 ? kids[0] : p->pid;
	/* The ready probes' connections must be gone before counting. */
	it_sleep_ms(50);
	for (int k = 0; k < 18; k++)
		c[k] = it_conn_new(port);
	for (int k = 0; k < 12; k++)
		h1_send_str(c[k], "GET /.healthz HTTP/1.1\r\n", "a begun head");
	for (int k = 12; k < 18; k++)
		h1_send_str(c[k], PROBE, "queued connection");

	/* 6 connections wait in the kernel; the worker must wait too, not spin. */
	t0 = cpu_ticks(worker);
	it_sleep_ms(1000);
	t1 = cpu_ticks(worker);
	IT_ASSERT(t0 >= 0 && t1 >= 0, "cannot read /proc/%d/stat", (int)worker);
	IT_ASSERT(t1 - t0 < 30, "worker used %ld clock ticks in 1 s with 6 connections queued "
		  "(spinning?)", t1 - t0);
	for (int k = 12; k < 18; k++) {
		struct pollfd pfd = { .fd = c[k]->fd, .events = POLLIN };

		IT_ASSERT(poll(&pfd, 1, 0) == 0, "connection %d answered beyond max_connections 4 "
			  "and the 8 reserve places", k);
	}
	for (int k = 0; k < 12; k++) {
		h1_send_str(c[k], "Host: a\r\n\r\n", "the rest of the head");
		h1_expect_status(c[k], 200, "a held connection");
	}
	for (int k = 12; k < 18; k++)
		h1_expect_status(c[k], 200, "queued connection let in");
	for (int k = 0; k < 18; k++)
		it_conn_free(c[k]);
	IT_ASSERT(it_http_get("127.0.0.1", port, "/.healthz", T_IO) == 200, "fresh connection");
}
END_TEST

static Suite *http1_max_conns_suite(void)
{
	Suite *s = suite_create("http1_max_conns");
	TCase *tc = it_tcase("max_conns");

	tcase_add_loop_test(tc, max_connections, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

IT_SUITE(http1_max_conns_suite);
