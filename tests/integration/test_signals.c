/* SPDX-License-Identifier: MIT */
/* test_signals.c - TERM/INT drain, HUP reload (bad file, a FIFO, port change), USR1 reopen, QUIT stop. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <regex.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/module.h"
#include "harness.h"

#define HEAD_PART "GET /.healthz HTTP/1.1\r\nHost: x\r\n"

static void assert_exit(struct it_proc *p, int timeout_ms, const char *what)
{
	int code = it_wait_exit(p, timeout_ms);

	IT_ASSERT(code == 0, "%s: want exit 0 within %d ms, got %s", what, timeout_ms,
		  it_code_str(code));
}

static void assert_workers_gone(const pid_t *kids, int n)
{
	IT_ASSERT(it_wait_gone(kids, n, 1000), "workers outlived the master");
}

static struct it_proc *start2(const char *backend, int *port, pid_t *kids)
{
	char cfg[IT_PATH_MAX];
	struct it_proc *p;
	int n;

	it_config_simple(cfg, "swerver.json", "127.0.0.1", 0, 2, backend);
	p = it_start_ready(cfg, "127.0.0.1", port);
	n = it_wait_children(p->pid, 2, kids, 2, 5000);
	IT_ASSERT(n == 2, "workers=2 but the master has %d live children", n);
	return p;
}

/* ---- TERM / INT -------------------------------------------------------------- */

START_TEST(term_drains_inflight)
{
	const char *backend = it_backend(_i);
	struct it_response r;
	struct it_conn *c;
	pid_t kids[2];
	int port, rc;
	struct it_proc *p;

	if (!backend)
		return;
	p = start2(backend, &port, kids);
	c = it_conn_new(port);
	IT_ASSERT(it_conn_send(c, HEAD_PART) == 0, "send first half");
	it_sleep_ms(100);                  /* let a worker read the first half */
	ck_assert_int_eq(it_signal(p, SIGTERM), 0);
	it_sleep_ms(200);
	IT_ASSERT(it_poll_exit(p) == IT_TIMEOUT,
		  "master exited (%s) with a request in flight", it_code_str(it_poll_exit(p)));
	rc = it_conn_send(c, "\r\n");
	IT_ASSERT(rc == 0, "send rest of the request after TERM: %s", strerror(-rc));
	rc = it_conn_read(c, &r, IT_IO_MS);
	IT_ASSERT(rc == 0, "in-flight request lost on TERM: error %d (%s)", rc, strerror(-rc));
	IT_ASSERT(r.status == 200, "in-flight request got %d after TERM", r.status);
	it_conn_free(c);
	assert_exit(p, 4500, "SIGTERM drain");
	assert_workers_gone(kids, 2);
}
END_TEST

/*
 * A request already sent in full when TERM arrives (queued, not yet
 * accepted: the single process is stopped meanwhile) is in flight too and
 * must be answered, not reset.
 */
START_TEST(term_serves_queued_request)
{
	const char *backend = it_backend(_i);
	char cfg[IT_PATH_MAX];
	struct it_response r;
	struct it_conn *c;
	int port, rc;
	struct it_proc *p;

	if (!backend)
		return;
	it_config_simple(cfg, "swerver.json", "127.0.0.1", 0, 1, backend);
	p = it_start_ready(cfg, "127.0.0.1", &port);
	ck_assert_int_eq(it_signal(p, SIGSTOP), 0);
	c = it_conn_new(port);
	IT_ASSERT(it_conn_send(c, HEAD_PART "\r\n") == 0, "send the request");
	it_sleep_ms(50);
	ck_assert_int_eq(it_signal(p, SIGTERM), 0);
	ck_assert_int_eq(it_signal(p, SIGCONT), 0);
	rc = it_conn_read(c, &r, IT_IO_MS);
	it_conn_free(c);
	IT_ASSERT(rc == 0, "request queued before TERM lost: error %d (%s)", rc, strerror(-rc));
	IT_ASSERT(r.status == 200, "request queued before TERM got %d", r.status);
	assert_exit(p, 4500, "SIGTERM drain");
}
END_TEST

/*
 * Issue #20 item 3: a drain that reaches timeouts.drain_ms aborts the
 * connections still open; the worker used to stop its loop before their
 * handles had closed, so each one's memory never came back (LeakSanitizer
 * reported it and the exit status was 1).  A client that stops reading a
 * large file holds its connection past the deadline; the exit must be 0
 * with nothing leaked (checked in an --enable-sanitizers build).
 */
START_TEST(term_drain_deadline_frees_connections)
{
	const char *backend = it_backend(_i);
	char cfg[IT_PATH_MAX], big[IT_PATH_MAX + 16];
	struct it_conn *c;
	struct it_proc *p;
	int port, code, fd;

	if (!backend)
		return;
	snprintf(big, sizeof(big), "%s/big.bin", it_tmpdir());
	fd = open(big, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, 256 << 20), 0);   /* more than any socket buffers hold */
	close(fd);
	it_path(cfg, "swerver.json");
	it_write_filef(cfg,
		"{ \"server\": { \"listeners\": [{\"address\": \"127.0.0.1\", \"port\": 0}],\n"
		"    \"workers\": 1, \"io_backend\": \"%s\", \"static_root\": \"%s\" },\n"
		"  \"timeouts\": { \"drain_ms\": 1000 } }\n", backend, it_tmpdir());
	p = it_start_ready(cfg, "127.0.0.1", &port);
	c = it_conn_new(port);
	IT_ASSERT(it_conn_send(c, "GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n") == 0, "send");
	/* The response has begun (never read): the connection is busy writing, not idle. */
	{
		struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
		IT_ASSERT(poll(&pfd, 1, IT_IO_MS) == 1, "no response for /big.bin");
	}
	ck_assert_int_eq(it_signal(p, SIGTERM), 0);
	code = it_wait_exit(p, 10000);
	it_conn_free(c);
	IT_ASSERT(it_log_has(p, "drain timeout"), "the drain did not reach its deadline");
	IT_ASSERT(!it_log_has(p, "LeakSanitizer"), "memory leaked when the drain deadline "
		  "closed the connection");
	IT_ASSERT(code == 0, "a drain that reached drain_ms exited with %s, want exit 0",
		  it_code_str(code));
}
END_TEST

START_TEST(int_exits_zero)
{
	const char *backend = it_backend(_i);
	pid_t kids[2];
	int port;
	struct it_proc *p;

	if (!backend)
		return;
	p = start2(backend, &port, kids);
	ck_assert_int_eq(it_signal(p, SIGINT), 0);
	assert_exit(p, 3000, "SIGINT with nothing in flight");
	assert_workers_gone(kids, 2);
}
END_TEST

/* ---- HUP: a bad file --------------------------------------------------------- */

/* The ",," at line 3 is the syntax error; json-c stops there. */
static const char bad_json[] =
	"{\n"
	"  \"server\": {\n"
	"    \"workers\": 2,,\n"
	"    \"io_backend\": \"epoll\"\n"
	"  }\n"
	"}\n";

/* True when some line of text after `from` names path and has "3:<col>". */
static bool names_line_col(const char *text, size_t from, const char *path)
{
	regex_t re;
	bool ok = false;
	char line[2048];

	ck_assert_int_eq(regcomp(&re, "(^|[^0-9])3:[0-9]+", REG_EXTENDED | REG_NOSUB), 0);
	for (const char *l = text + from; *l && !ok; l += strcspn(l, "\n"), l += *l == '\n') {
		snprintf(line, sizeof(line), "%.*s", (int)strcspn(l, "\n"), l);
		ok = strstr(line, path) && regexec(&re, line, 0, NULL, 0) == 0;
	}
	regfree(&re);
	return ok;
}

START_TEST(hup_bad_file_keeps_serving)
{
	const char *backend = it_backend(_i);
	char cfg[IT_PATH_MAX], *log;
	pid_t kids[2], after[2];
	size_t from;
	int port, n;
	struct it_proc *p;

	if (!backend)
		return;
	p = start2(backend, &port, kids);
	it_path(cfg, "swerver.json");
	it_write_file(cfg, bad_json);
	from = it_log_size(p);
	ck_assert_int_eq(it_signal(p, SIGHUP), 0);
	IT_ASSERT(it_wait_log(p, from, cfg, 3000), "no log line naming %s after the bad reload", cfg);
	it_sleep_ms(100);
	log = it_log(p);
	IT_ASSERT(names_line_col(log, from, cfg), "the reload error names %s but not line 3:col", cfg);
	free(log);
	for (int k = 0; k < 10; k++) {
		int st = it_http_get("127.0.0.1", port, "/.healthz", IT_IO_MS);

		IT_ASSERT(st == 200, "old port %d stopped serving after a bad reload: request %d "
			  "got %d", port, k, st);
	}
	IT_ASSERT(it_poll_exit(p) == IT_TIMEOUT, "master exited on a bad reload: %s",
		  it_code_str(it_poll_exit(p)));
	n = it_children(p->pid, after, 2);
	IT_ASSERT(n == 2 && ((after[0] == kids[0] && after[1] == kids[1]) ||
			     (after[0] == kids[1] && after[1] == kids[0])),
		  "a rejected reload replaced the workers");
}
END_TEST

/* A live child of the master that is not `old`; 0 when none came within timeout_ms. */
static pid_t wait_new_child(pid_t master, pid_t old, pid_t keep, int timeout_ms)
{
	int64_t until = it_now_ms() + timeout_ms;
	pid_t now[4];

	do {
		int n = it_children(master, now, 4);
		for (int i = 0; i < n; i++)
			if (now[i] != old && now[i] != keep)
				return now[i];
		it_sleep_ms(20);
	} while (it_now_ms() < until);
	return 0;
}

/*
 * Issue #19 item 9: HUP while the config path is a FIFO.  The master used
 * to block opening it and stopped supervising: a worker killed meanwhile
 * was never replaced.  Now the file is refused and the master goes on.
 */
START_TEST(hup_fifo_config_keeps_supervising)
{
	const char *backend = it_backend(_i);
	char cfg[IT_PATH_MAX];
	pid_t kids[2], fresh;
	size_t from;
	int port;
	struct it_proc *p;

	if (!backend)
		return;
	p = start2(backend, &port, kids);
	it_path(cfg, "swerver.json");
	ck_assert_int_eq(unlink(cfg), 0);
	ck_assert_int_eq(mkfifo(cfg, 0600), 0);
	from = it_log_size(p);
	ck_assert_int_eq(it_signal(p, SIGHUP), 0);
	IT_ASSERT(it_wait_log(p, from, "not a regular file", 5000),
		  "no \"not a regular file\" after HUP with %s a FIFO", cfg);
	ck_assert_int_eq(kill(kids[0], SIGKILL), 0);
	fresh = wait_new_child(p->pid, kids[0], kids[1], 5000);
	IT_ASSERT(fresh > 0, "the killed worker %d was not replaced", (int)kids[0]);
	IT_ASSERT(it_wait_status("127.0.0.1", port, "/.healthz", 200, 3000) == 200,
		  "not serving after the restart");
	IT_ASSERT(it_poll_exit(p) == IT_TIMEOUT, "master exited: %s", it_code_str(it_poll_exit(p)));
}
END_TEST

/* The same with a certificate path that is a FIFO: OpenSSL would open it blocking. */
START_TEST(hup_fifo_cert_keeps_supervising)
{
	const char *backend = it_backend(_i);
	char cfg[IT_PATH_MAX], fifo[IT_PATH_MAX];
	pid_t kids[2], fresh;
	size_t from;
	int port;
	struct it_proc *p;

	if (!backend)
		return;
	if (!sw_module_find("tls")) {
		fprintf(stderr, "note: built without tls; skipping\n");
		return;
	}
	p = start2(backend, &port, kids);
	it_path(cfg, "swerver.json");
	it_path(fifo, "cert.pem");
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	it_write_filef(cfg, "{\"server\": {\"listeners\": [{\"address\": \"127.0.0.1\", "
		       "\"port\": %d}], \"workers\": 2, \"io_backend\": \"%s\"},\n"
		       " \"tls\": {\"cert_path\": \"%s\", \"key_path\": \"%s\"}}\n",
		       port, backend, fifo, fifo);
	from = it_log_size(p);
	ck_assert_int_eq(it_signal(p, SIGHUP), 0);
	IT_ASSERT(it_wait_log(p, from, "not a regular file", 5000),
		  "no \"not a regular file\" after HUP with tls.cert_path a FIFO");
	ck_assert_int_eq(kill(kids[0], SIGKILL), 0);
	fresh = wait_new_child(p->pid, kids[0], kids[1], 5000);
	IT_ASSERT(fresh > 0, "the killed worker %d was not replaced", (int)kids[0]);
	IT_ASSERT(it_poll_exit(p) == IT_TIMEOUT, "master exited: %s", it_code_str(it_poll_exit(p)));
}
END_TEST

/* Status of GET /.healthz carrying one header of `size` bytes, on a fresh connection. */
static int get_with_big_header(int port, size_t size)
{
	struct it_response r;
	struct it_conn c;
	char *req = malloc(size + 128);
	int rc;

	snprintf(req, size + 128, "GET /.healthz HTTP/1.1\r\nHost: a\r\nX-Big: ");
	memset(req + strlen(req), 'b', size);
	strcpy(req + strlen("GET /.healthz HTTP/1.1\r\nHost: a\r\nX-Big: ") + size,
	       "\r\nConnection: close\r\n\r\n");
	rc = it_conn_open(&c, "127.0.0.1", port);
	if (rc == 0)
		rc = it_conn_send(&c, req);
	if (rc == 0)
		rc = it_conn_read(&c, &r, IT_IO_MS);
	it_conn_close(&c);
	free(req);
	return rc == 0 ? r.status : rc;
}

/* HUP with a changed limit: applied by the same workers, no new processes. */
START_TEST(hup_values_in_place)
{
	const char *backend = it_backend(_i);
	char cfg[IT_PATH_MAX];
	pid_t kids[2], after[2];
	size_t from;
	int port, n;
	struct it_proc *p;

	if (!backend)
		return;
	p = start2(backend, &port, kids);
	IT_ASSERT(get_with_big_header(port, 2000) == 200, "a 2000-byte header under the default limit");
	it_path(cfg, "swerver.json");
	it_write_filef(cfg,
		"{\"server\": {\"listeners\": [{\"address\": \"127.0.0.1\", \"port\": 0}],\n"
		" \"workers\": 2, \"io_backend\": \"%s\"},\n"
		" \"timeouts\": {\"drain_ms\": 5000},\n"
		" \"limits\": {\"max_header_bytes\": 1024}}\n", backend);
	from = it_log_size(p);
	ck_assert_int_eq(it_signal(p, SIGHUP), 0);
	/* Each worker logs once; wait for both before asking either. */
	IT_ASSERT(it_wait_log_n(p, from, "configuration applied in place", 2, 3000),
		  "not every worker applied the new values");
	/* Both workers must have it: ask enough times to reach each. */
	for (int k = 0; k < 8; k++) {
		int st = get_with_big_header(port, 2000);
		IT_ASSERT(st == 431, "request %d after lowering max_header_bytes: got %d, want 431", k, st);
	}
	n = it_children(p->pid, after, 2);
	IT_ASSERT(n == 2 && ((after[0] == kids[0] && after[1] == kids[1]) ||
			     (after[0] == kids[1] && after[1] == kids[0])),
		  "a value-only reload replaced the workers");
}
END_TEST

/* ---- HUP: a listener's port changes, the other stays ---------------------------- */

struct hammer {
	int port;
	atomic_bool stop;
	_Atomic int64_t hup_ms;       /* when SIGHUP was sent, 0 before */
	long ok, refused, failed;
	int first_error;
	int64_t first_error_ms;       /* relative to hup_ms */
};

/*
 * Fresh connection, GET /.healthz, then an abortive close (RST, no
 * TIME_WAIT on our side), so the loop can run flat out without using up
 * ephemeral ports.  Returns the status or -errno.
 */
static int hammer_once(struct it_conn *c, int port)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	struct it_response r;
	int rc = it_conn_open(c, "127.0.0.1", port);

	if (rc != 0)
		return rc;
	setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	rc = it_conn_get(c, "/.healthz", &r);
	it_conn_close(c);
	return rc == 0 ? r.status : rc;
}

static void *hammer_run(void *arg)
{
	struct hammer *h = arg;
	struct it_conn *c = malloc(sizeof(*c));

	while (c && !atomic_load(&h->stop)) {
		int st = hammer_once(c, h->port);

		if (st == 200)
			h->ok++;
		else if (st == -ECONNREFUSED)
			h->refused++;
		else
			h->failed++;
		if (st != 200 && !h->first_error) {
			h->first_error = st;
			h->first_error_ms = it_now_ms() - atomic_load(&h->hup_ms);
		}
	}
	free(c);
	return NULL;
}

static void write_two_listeners(const char *path, const char *backend, int a, int b)
{
	it_write_filef(path,
		"{\n"
		"  \"server\": {\n"
		"    \"listeners\": [{\"address\": \"127.0.0.1\", \"port\": %d},\n"
		"                  {\"address\": \"127.0.0.1\", \"port\": %d}],\n"
		"    \"workers\": 2,\n"
		"    \"io_backend\": \"%s\"\n"
		"  },\n"
		"  \"timeouts\": {\"drain_ms\": 2000}\n"
		"}\n", a, b, backend);
}

static int wait_refused(int port, int timeout_ms)
{
	int64_t end = it_now_ms() + timeout_ms;
	int st;

	while ((st = it_http_get("127.0.0.1", port, "/.healthz", 1000)) != -ECONNREFUSED &&
	       it_now_ms() < end)
		it_sleep_ms(20);
	return st;
}

static void check_hammer(const struct hammer *h)
{
	if (getenv("IT_VERBOSE"))
		fprintf(stderr, "hammer: %ld ok, %ld refused, %ld failed\n", h->ok, h->refused, h->failed);
	IT_ASSERT(h->ok > 0, "the hammer got no answer at all");
	IT_ASSERT(h->refused == 0, "unchanged listener refused %ld of %ld connections during reload",
		  h->refused, h->ok + h->refused + h->failed);
	IT_ASSERT(h->failed == 0, "unchanged listener lost %ld of %ld requests during reload "
		  "(first error %d: %s, %lld ms after HUP)", h->failed, h->ok + h->refused + h->failed,
		  h->first_error, h->first_error < 0 ? strerror(-h->first_error) : "HTTP status",
		  (long long)h->first_error_ms);
}

START_TEST(hup_port_change)
{
	const char *backend = it_backend(_i);
	int ports[3], p1, p2, p3, st;
	struct hammer h = { .port = 0 };
	char cfg[IT_PATH_MAX];
	pthread_t th;
	struct it_proc *p;

	if (!backend)
		return;
	it_free_ports(ports, 3);
	p1 = ports[0];
	p2 = h.port = ports[1];
	p3 = ports[2];
	it_path(cfg, "swerver.json");
	write_two_listeners(cfg, backend, p1, p2);
	p = it_start(cfg, NULL);
	IT_ASSERT(it_wait_ready(p, "127.0.0.1", p1, IT_WAIT_MS) == 200, "port %d not ready", p1);
	IT_ASSERT(it_wait_ready(p, "127.0.0.1", p2, IT_WAIT_MS) == 200, "port %d not ready", p2);
	atomic_init(&h.stop, false);
	atomic_init(&h.hup_ms, 0);
	ck_assert_int_eq(pthread_create(&th, NULL, hammer_run, &h), 0);
	it_sleep_ms(150);
	write_two_listeners(cfg, backend, p3, p2);
	atomic_store(&h.hup_ms, it_now_ms());
	ck_assert_int_eq(it_signal(p, SIGHUP), 0);
	st = it_wait_status("127.0.0.1", p3, "/.healthz", 200, 5000);
	if (st == 200)
		st = wait_refused(p1, 5000);
	it_sleep_ms(150);
	atomic_store(&h.stop, true);
	pthread_join(th, NULL);
	IT_ASSERT(it_http_get("127.0.0.1", p3, "/.healthz", IT_IO_MS) == 200,
		  "new port %d does not serve after the reload", p3);
	IT_ASSERT(st == -ECONNREFUSED, "old port %d still answers (%d) 5 s after the reload", p1, st);
	check_hammer(&h);
	IT_ASSERT(it_poll_exit(p) == IT_TIMEOUT, "master died: %s", it_code_str(it_poll_exit(p)));
}
END_TEST

/* ---- USR1 ------------------------------------------------------------------------ */

START_TEST(usr1_survives)
{
	const char *backend = it_backend(_i);
	pid_t kids[2], after[2];
	int port, n;
	struct it_proc *p;

	if (!backend)
		return;
	p = start2(backend, &port, kids);
	ck_assert_int_eq(it_signal(p, SIGUSR1), 0);
	it_sleep_ms(200);
	IT_ASSERT(it_poll_exit(p) == IT_TIMEOUT, "master died on USR1: %s", it_code_str(it_poll_exit(p)));
	n = it_children(p->pid, after, 2);
	IT_ASSERT(n == 2 && (after[0] == kids[0] || after[0] == kids[1]) &&
		  (after[1] == kids[0] || after[1] == kids[1]),
		  "workers died or were replaced on USR1 (%d live children)", n);
	IT_ASSERT(it_http_get("127.0.0.1", port, "/.healthz", IT_IO_MS) == 200, "no 200 after USR1");
	ck_assert_int_eq(it_signal(p, SIGTERM), 0);
	assert_exit(p, 4500, "SIGTERM after USR1");
}
END_TEST

static bool wait_file(const char *path, int timeout_ms)
{
	int64_t end = it_now_ms() + timeout_ms;
	struct stat st;

	while (stat(path, &st) != 0 && it_now_ms() < end)
		it_sleep_ms(10);
	return stat(path, &st) == 0;
}

/* A rotated log file is recreated at its path after USR1. */
START_TEST(usr1_reopens_log_file)
{
	const char *backend = it_backend(_i);
	char cfg[IT_PATH_MAX], logf[IT_PATH_MAX], rotated[IT_PATH_MAX];
	int port = it_free_port();
	struct it_proc *p;

	if (!backend)
		return;
	it_path(cfg, "swerver.json");
	it_path(logf, "error.log");
	it_path(rotated, "error.log.1");
	it_write_filef(cfg,
		"{\"server\": {\"listeners\": [{\"address\": \"127.0.0.1\", \"port\": %d}],\n"
		"  \"workers\": 2, \"io_backend\": \"%s\"},\n"
		" \"log\": {\"target\": \"%s\"}}\n", port, backend, logf);
	p = it_start(cfg, NULL);
	IT_ASSERT(it_wait_ready(p, "127.0.0.1", port, IT_WAIT_MS) == 200, "port %d not ready", port);
	IT_ASSERT(wait_file(logf, 2000), "log.target %s was never created", logf);
	ck_assert_int_eq(rename(logf, rotated), 0);
	ck_assert_int_eq(it_signal(p, SIGUSR1), 0);
	IT_ASSERT(wait_file(logf, 3000), "USR1 did not reopen (recreate) %s", logf);
	IT_ASSERT(it_http_get("127.0.0.1", port, "/.healthz", IT_IO_MS) == 200, "no 200 after USR1");
}
END_TEST

/* ---- QUIT ------------------------------------------------------------------------ */

/* QUIT does not wait for a request in flight (drain_ms is 5000). */
START_TEST(quit_stops_now)
{
	const char *backend = it_backend(_i);
	struct it_conn *c;
	pid_t kids[2];
	int port;
	int64_t t0;
	struct it_proc *p;

	if (!backend)
		return;
	p = start2(backend, &port, kids);
	c = it_conn_new(port);
	IT_ASSERT(it_conn_send(c, HEAD_PART) == 0, "send half a request");
	it_sleep_ms(100);
	t0 = it_now_ms();
	ck_assert_int_eq(it_signal(p, SIGQUIT), 0);
	assert_exit(p, 2000, "SIGQUIT with a request in flight");
	IT_ASSERT(it_now_ms() - t0 < 2000, "QUIT took %lld ms", (long long)(it_now_ms() - t0));
	assert_workers_gone(kids, 2);
	IT_ASSERT(it_conn_wait_eof(c, 1000), "the in-flight connection was left open after QUIT");
	it_conn_free(c);
}
END_TEST

static Suite *signals_suite(void)
{
	Suite *s = suite_create("signals");
	TCase *tc = it_tcase("signals");

	tcase_add_loop_test(tc, term_drains_inflight, 0, 2);
	tcase_add_loop_test(tc, term_serves_queued_request, 0, 2);
	tcase_add_loop_test(tc, term_drain_deadline_frees_connections, 0, 2);
	tcase_add_loop_test(tc, int_exits_zero, 0, 2);
	tcase_add_loop_test(tc, hup_bad_file_keeps_serving, 0, 2);
	tcase_add_loop_test(tc, hup_fifo_config_keeps_supervising, 0, 2);
	tcase_add_loop_test(tc, hup_fifo_cert_keeps_supervising, 0, 2);
	tcase_add_loop_test(tc, hup_values_in_place, 0, 2);
	tcase_add_loop_test(tc, hup_port_change, 0, 2);
	tcase_add_loop_test(tc, usr1_survives, 0, 2);
	tcase_add_loop_test(tc, usr1_reopens_log_file, 0, 2);
	tcase_add_loop_test(tc, quit_stops_now, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

IT_SUITE(signals_suite);
