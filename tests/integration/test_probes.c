/* SPDX-License-Identifier: MIT */
/* test_probes.c - /.healthz, /.ready and 404 over HTTP/1.1 keep-alive, IPv4 and IPv6, both backends. */
#include <config.h>

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include "harness.h"

/* One request on an open connection; asserts status and, for probes, an empty body. */
static void expect(struct it_conn *c, const char *path, int want, int i)
{
	struct it_response r;
	int rc = it_conn_get(c, path, &r);

	IT_ASSERT(rc == 0, "GET %s request %d: error %d (%s)", path, i, rc, strerror(-rc));
	IT_ASSERT(r.status == want, "GET %s request %d: status %d, want %d", path, i,
		  r.status, want);
	IT_ASSERT(strncmp(r.head, "HTTP/1.1 ", 9) == 0, "GET %s: status line is not HTTP/1.1: %.40s",
		  path, r.head);
	IT_ASSERT(!r.conn_close, "GET %s request %d: server sent Connection: close", path, i);
	if (want == 200)
		IT_ASSERT(r.body_len == 0 && r.content_length == 0,
			  "GET %s: want an empty body with Content-Length: 0, got %zu bytes (CL %ld)",
			  path, r.body_len, r.content_length);
}

/* 5 x /.healthz, /.ready, a 404, and /.healthz again, all on one socket. */
static void probe_keepalive(const char *host, int port)
{
	struct it_conn *c = malloc(sizeof(*c));
	int rc;

	ck_assert_ptr_nonnull(c);
	rc = it_conn_open(c, host, port);
	IT_ASSERT(rc == 0, "connect %s:%d: %s", host, port, strerror(-rc));
	for (int i = 0; i < 5; i++)
		expect(c, "/.healthz", 200, i);
	expect(c, "/.ready", 200, 5);
	expect(c, "/no/such/thing", 404, 6);
	expect(c, "/.healthz", 200, 7);
	it_conn_close(c);
	free(c);
}

static void run_probes(int i, const char *addr, const char *host)
{
	const char *backend = it_backend(i);
	char cfg[IT_PATH_MAX];
	int port;

	if (!backend)
		return;
	it_config_simple(cfg, "swerver.json", addr, 0, 2, backend);
	it_start_ready(cfg, host, &port);
	probe_keepalive(host, port);
	IT_ASSERT(it_http_get(host, port, "/.ready", IT_IO_MS) == 200, "fresh /.ready not 200");
}

START_TEST(probes_ipv4)
{
	run_probes(_i, "127.0.0.1", "127.0.0.1");
}
END_TEST

START_TEST(probes_ipv6)
{
	run_probes(_i, "::1", "[::1]");
}
END_TEST

/* Three requests in one write; the answers must come back in order. */
START_TEST(probes_pipelined)
{
	const char *backend = it_backend(_i);
	struct it_conn *c = malloc(sizeof(*c));
	static const int want[3] = { 200, 200, 404 };
	char cfg[IT_PATH_MAX];
	int port, rc;

	if (!backend)
		return;
	ck_assert_ptr_nonnull(c);
	it_config_simple(cfg, "swerver.json", "127.0.0.1", 0, 1, backend);
	it_start_ready(cfg, "127.0.0.1", &port);
	IT_ASSERT(it_conn_open(c, "127.0.0.1", port) == 0, "connect failed");
	rc = it_conn_send(c, "GET /.healthz HTTP/1.1\r\nHost: x\r\n\r\n"
			  "GET /.ready HTTP/1.1\r\nHost: x\r\n\r\n"
			  "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n");
	IT_ASSERT(rc == 0, "send: %s", strerror(-rc));
	for (int k = 0; k < 3; k++) {
		struct it_response r;

		rc = it_conn_read(c, &r, IT_IO_MS);
		IT_ASSERT(rc == 0, "pipelined response %d: error %d (%s)", k, rc, strerror(-rc));
		IT_ASSERT(r.status == want[k], "pipelined response %d: status %d, want %d",
			  k, r.status, want[k]);
	}
	it_conn_close(c);
	free(c);
}
END_TEST

/* The configured backend is the one running: an io_uring or epoll fd in each worker. */
START_TEST(backend_in_use)
{
	const char *backend = it_backend(_i);
	bool uring = backend && strcmp(backend, "io_uring") == 0;
	char cfg[IT_PATH_MAX];
	pid_t kids[8];
	int port, n;
	struct it_proc *p;

	if (!backend)
		return;
	it_config_simple(cfg, "swerver.json", "127.0.0.1", 0, 2, backend);
	p = it_start_ready(cfg, "127.0.0.1", &port);
	n = it_wait_children(p->pid, 2, kids, 8, 5000);
	IT_ASSERT(n == 2, "workers=2 but the master has %d children", n);
	/* /.ready proved one worker up; give the other a moment to open its loop. */
	for (int64_t end = it_now_ms() + 3000; it_now_ms() < end; it_sleep_ms(20)) {
		bool all = true;
		for (int k = 0; k < n; k++)
			all = all && it_has_fd_kind(kids[k], uring ? "[io_uring]" : "[eventpoll]");
		if (all)
			break;
	}
	for (int k = 0; k < n; k++) {
		IT_ASSERT(it_has_fd_kind(kids[k], "[io_uring]") == uring,
			  "worker pid %d: io_uring fd %s, but io_backend is %s", (int)kids[k],
			  uring ? "missing" : "present", backend);
		IT_ASSERT(uring || it_has_fd_kind(kids[k], "[eventpoll]"),
			  "worker pid %d has no epoll fd with io_backend epoll", (int)kids[k]);
	}
}
END_TEST

static Suite *probes_suite(void)
{
	Suite *s = suite_create("probes");
	TCase *tc = it_tcase("probes");

	tcase_add_loop_test(tc, probes_ipv4, 0, 2);
	tcase_add_loop_test(tc, probes_ipv6, 0, 2);
	tcase_add_loop_test(tc, probes_pipelined, 0, 2);
	tcase_add_loop_test(tc, backend_in_use, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

IT_SUITE(probes_suite);
