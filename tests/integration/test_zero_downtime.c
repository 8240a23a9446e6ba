/* SPDX-License-Identifier: MIT */
/* test_zero_downtime.c - reloads and binary upgrades under load lose nothing; a killed worker loses only its own. */
#include <config.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/module.h"
#include "harness.h"

#define RELOADS 20
#define KILLS 5
#define UPGRADES 5
#define ADMIN_KEY "zero-downtime-admin-key"
#define SINGLE_RELOADS 5
#define STORM_RELOADS 20
#define WRK_CONNS "20"

/* One kind of client, run in a thread until told to stop. */
struct load {
	int port;
	bool keep_alive;
	atomic_bool stop;
	atomic_long ok, failed;
	int first_error;
	int lport;                 /* client port of the connection in use */
	char opened[32];           /* when it was connected (UTC, as the server logs) */
	bool diagnosed;            /* the first timeout was looked into (10 s): not every one */
};

/* Now in the server log's format, so a failure can be found in its log. */
static void utc_stamp(char *buf, size_t size)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(buf, size, "%02d:%02d:%02d.%03ldZ", tm.tm_hour, tm.tm_min, tm.tm_sec,
		 ts.tv_nsec / 1000000);
}

/* Which connection failed, and when: a line to match against the server's log. */
static void report_failure(const struct load *l, int st)
{
	char now[32];

	utc_stamp(now, sizeof(now));
	fprintf(stderr, "%s load: request failed (%d) on client port %d (connected %s), "
		"failed at %s\n", l->keep_alive ? "keep-alive" : "new-connection", st,
		l->lport, l->opened, now);
}

/*
 * A request unanswered within IT_IO_MS: where it is, by the kernel's
 * account (the listeners' accept queues in Recv-Q; an accepted socket
 * names its process), and whether an answer still comes, late (a starved
 * server) or never (a connection nobody accepts or reads).  Only runs
 * on a failure, whose time it then adds to the test.
 */
static void diagnose_timeout(const struct load *l, struct it_conn *c)
{
	struct it_response r;
	int64_t t0 = it_now_ms();
	char *out;
	int st, rc;

	out = it_run(&st, "ss -tanpi '( sport = :%d or dport = :%d or sport = :%d )' 2>&1",
		     l->port, l->lport, l->lport);
	fprintf(stderr, "sockets when client port %d timed out:\n%s", l->lport, out);
	free(out);
	rc = it_conn_read(c, &r, 10000);
	if (rc == 0)
		fprintf(stderr, "client port %d: answered %d after %lld ms more\n", l->lport,
			r.status, (long long)(it_now_ms() - t0));
	else
		fprintf(stderr, "client port %d: no answer but %d after %lld ms more\n", l->lport, rc,
			(long long)(it_now_ms() - t0));
}

/*
 * A request on a kept-alive connection that the server closed while it
 * was idle (a drain does that, RFC 9112 9.8) is retried once on a new
 * connection, as every HTTP client does; anything else is a failure.
 */
static int one_request(struct load *l, struct it_conn *c, bool *open)
{
	struct it_response r;
	const char *req = l->keep_alive ? "GET /.healthz HTTP/1.1\r\nHost: x\r\n\r\n" :
			  "GET /.healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	bool reused = *open;
	int rc;

	for (int attempt = 0; attempt < 2; attempt++) {
		if (!*open) {
			struct sockaddr_in a;
			socklen_t alen = sizeof(a);

			l->lport = 0;
			utc_stamp(l->opened, sizeof(l->opened));
			if ((rc = it_conn_open(c, "127.0.0.1", l->port)) != 0)
				return rc;
			*open = true;
			if (getsockname(c->fd, (struct sockaddr *)&a, &alen) == 0)
				l->lport = ntohs(a.sin_port);
		}
		rc = it_conn_send(c, req);
		if (rc == 0)
			rc = it_conn_read(c, &r, IT_IO_MS);
		if (rc == -ETIMEDOUT && !l->diagnosed) {
			l->diagnosed = true;
			diagnose_timeout(l, c);
		}
		if (rc != 0 || !l->keep_alive || r.conn_close) {
			it_conn_close(c);
			*open = false;
		}
		if (rc == 0)
			return r.status;
		if (!reused || c->len != 0)
			return rc;
		reused = false;   /* the idle connection was closed under us: once more */
	}
	return rc;
}

static void *load_run(void *arg)
{
	struct load *l = arg;
	struct it_conn *c = malloc(sizeof(*c));
	bool open = false;

	while (c && !atomic_load(&l->stop)) {
		int st = one_request(l, c, &open);
		if (st == 200) {
			atomic_fetch_add(&l->ok, 1);
		} else {
			atomic_fetch_add(&l->failed, 1);
			report_failure(l, st);
			if (!l->first_error)
				l->first_error = st;
		}
	}
	if (open)
		it_conn_close(c);
	free(c);
	return NULL;
}

/*
 * bench/h3load run for secs in the background: libcurl's HTTP/3, or its
 * HTTP/2 with -2 (not h2load, which stops a client for good at the first
 * GOAWAY and so would measure only until the first reload). Read back,
 * from the summary that copies h2load's: counts of succeeded and failed
 * requests; each error goes to stderr with its time, for the server's log.
 */
static FILE *load_start(const char *tool, const char *opts, const char *url, int secs)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "%s -v -D %d %s %s 2>&1 | sed -n "
		 "-e 's/^requests: .* \\([0-9]*\\) succeeded, \\([0-9]*\\) failed, "
		 "\\([0-9]*\\) errored.*/\\1 \\2 \\3/p' -e '/^h3load/w /dev/stderr'",
		 tool, secs, opts, url);
	return popen(cmd, "r");
}

static void load_finish(FILE *f, const char *what, long *ok, long *bad)
{
	long s = 0, fl = -1, er = -1;

	IT_ASSERT(fscanf(f, "%ld %ld %ld", &s, &fl, &er) == 3, "no counts from %s", what);
	pclose(f);
	*ok = s;
	*bad = fl + er;
}

/* bench/h3load is built when libcurl is there. */
static const char *load_bin(void)
{
	const char *bin = getenv("H3LOAD_BIN");

	return bin && access(bin, X_OK) == 0 ? bin : NULL;
}

/* HTTP/3 load needs the QUIC unit too. */
static const char *h3load_bin(void)
{
	return sw_module_find("http3") ? load_bin() : NULL;
}

/* HTTP/3 load on the same port over UDP: 2 connections, 4 streams each. */
static FILE *h3_start(int port, int secs)
{
	char url[64];

	if (!h3load_bin())
		return NULL;
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/.healthz", port);
	return load_start(h3load_bin(), "-c 2 -m 4 -T 5000", url, secs);
}

/*
 * max_connections is structural (new workers), max_header_count a value
 * (in place): odd generations change the first, even ones only the second.
 * Debug logging: a failure's dump then shows the QUIC drain's decisions.
 */
static void write_config(const char *path, const char *backend, int port, int admin, int gen)
{
	const char *d = it_tmpdir();
	bool h3 = h3load_bin() != NULL;

	it_write_filef(path,
		"{\"server\": {\"listeners\": [{\"address\": \"127.0.0.1\", \"port\": %d,\n"
		"    \"quic_enabled\": %s}],\n"
		"  \"workers\": 2, \"io_backend\": \"%s\", \"max_connections\": %d},\n"
		"%s%s%s%s%s"
		" \"admin\": {\"enabled\": true, \"address\": \"127.0.0.1\", \"port\": %d,\n"
		"   \"api_key\": \"" ADMIN_KEY "\"},\n"
		" \"timeouts\": {\"drain_ms\": 3000}, \"log\": {\"level\": \"debug\"},\n"
		" \"limits\": {\"max_header_count\": %d}}\n",
		port, h3 ? "true" : "false", backend, 2048 - (gen + 1) / 2 % 2,
		h3 ? " \"tls\": {\"cert_path\": \"" : "", h3 ? d : "",
		h3 ? "/cert.pem\", \"key_path\": \"" : "", h3 ? d : "", h3 ? "/key.pem\"},\n" : "",
		admin, 100 + gen);
}

/* Ports for the server (TCP + UDP when HTTP/3 is on) and the admin API; the certificate. */
static void setup(int *port, int *admin)
{
	int ports[2];

	it_free_ports(ports, 2);
	*port = h3load_bin() ? it_free_dual_port() : ports[0];
	*admin = ports[1] != *port ? ports[1] : ports[0];
	if (h3load_bin())
		it_make_cert(it_tmpdir());
}

/* Half the reloads are SIGHUP, half POST /v1/reload: the same path, two doors. */
static void reload(struct it_proc *p, int admin, int k)
{
	char *out;
	int st;

	if (k % 4 < 2) {
		ck_assert_int_eq(it_signal(p, SIGHUP), 0);
		return;
	}
	out = it_run(&st, "curl -s -o /dev/null -w '%%{http_code}' -X POST -H 'X-API-Key: "
		     ADMIN_KEY "' http://127.0.0.1:%d/v1/reload", admin);
	IT_ASSERT(strcmp(out, "200") == 0, "POST /v1/reload %d answered %s", k, out);
	free(out);
}

static void start_load(struct load *l, pthread_t *th, int port, bool keep_alive)
{
	l->port = port;
	l->keep_alive = keep_alive;
	atomic_init(&l->stop, false);
	atomic_init(&l->ok, 0);
	atomic_init(&l->failed, 0);
	l->first_error = 0;
	l->diagnosed = false;
	ck_assert_int_eq(pthread_create(th, NULL, load_run, l), 0);
}

static void stop_load(struct load *l, pthread_t th)
{
	atomic_store(&l->stop, true);
	pthread_join(th, NULL);
}

/*
 * The load every zero-downtime test runs for secs: HTTP/1.1 keep-alive and
 * connection-per-request threads, HTTP/3 (bench/h3load) and, if asked,
 * HTTP/2 (h3load -2).
 */
struct mix {
	struct load ka, nc;
	pthread_t tka, tnc;
	FILE *h2, *h3;
	long h2_ok, h2_bad, h3_ok, h3_bad;
};

static void mix_start(struct mix *m, int port, bool h2, int secs)
{
	char url[64];

	*m = (struct mix){ 0 };
	start_load(&m->ka, &m->tka, port, true);
	start_load(&m->nc, &m->tnc, port, false);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/.healthz", port);
	if (h2 && sw_module_find("http2") && load_bin())
		m->h2 = load_start(load_bin(), "-2 -c 2 -m 4 -T 5000", url, secs);
	m->h3 = h3_start(port, secs);
}

static void mix_stop(struct mix *m)
{
	stop_load(&m->ka, m->tka);
	stop_load(&m->nc, m->tnc);
	if (m->h2)
		load_finish(m->h2, "h3load -2", &m->h2_ok, &m->h2_bad);
	if (m->h3)
		load_finish(m->h3, "h3load", &m->h3_ok, &m->h3_bad);
}

/* Not one request of the load lost across n events ("reloads", "upgrades"). */
static void mix_assert_none_lost(struct mix *m, const char *events, int n)
{
	if (getenv("IT_VERBOSE"))
		fprintf(stderr, "%s: keep-alive %ld/%ld, new conn %ld/%ld, h2 %ld/%ld, "
			"h3 %ld/%ld failed\n", events, atomic_load(&m->ka.failed),
			atomic_load(&m->ka.ok), atomic_load(&m->nc.failed), atomic_load(&m->nc.ok),
			m->h2_bad, m->h2_ok, m->h3_bad, m->h3_ok);
	IT_ASSERT(atomic_load(&m->ka.ok) > 0 && atomic_load(&m->nc.ok) > 0, "no load got through");
	IT_ASSERT(atomic_load(&m->ka.failed) == 0, "keep-alive: %ld requests failed across %d %s "
		  "(first: %d)", atomic_load(&m->ka.failed), n, events, m->ka.first_error);
	IT_ASSERT(atomic_load(&m->nc.failed) == 0, "new connections: %ld requests failed across "
		  "%d %s (first: %d)", atomic_load(&m->nc.failed), n, events, m->nc.first_error);
	IT_ASSERT(!m->h2 || (m->h2_ok > 0 && m->h2_bad == 0), "HTTP/2: %ld of %ld requests failed "
		  "across %d %s", m->h2_bad, m->h2_ok + m->h2_bad, n, events);
	IT_ASSERT(!m->h3 || (m->h3_ok > 0 && m->h3_bad == 0), "HTTP/3: %ld of %ld requests failed "
		  "across %d %s", m->h3_bad, m->h3_ok + m->h3_bad, n, events);
}

/*
 * 20 reloads under HTTP/1.1 keep-alive, HTTP/1.1 connection-per-request
 * and HTTP/2 load, alternating a structural change (new workers) with a
 * value change (applied in place), by SIGHUP and by POST /v1/reload: not
 * one request may fail.
 */
START_TEST(reloads_lose_nothing)
{
	const char *backend = it_backend(_i);
	char cfg[IT_PATH_MAX];
	struct it_proc *p;
	struct mix m;
	int port, admin;

	if (!backend)
		return;
	setup(&port, &admin);
	it_path(cfg, "swerver.json");
	write_config(cfg, backend, port, admin, 0);
	p = it_start(cfg, NULL);
	IT_ASSERT(it_wait_log(p, 0, "ready: ", IT_WAIT_MS), "not ready");
	mix_start(&m, port, true, 8);
	for (int k = 1; k <= RELOADS; k++) {
		size_t from = it_log_size(p);
		write_config(cfg, backend, port, admin, k);
		reload(p, admin, k);
		/* New workers: the master says so; in place: each of the two workers does. */
		IT_ASSERT(k % 2 ? it_wait_log(p, from, "reload complete", 5000) :
			  it_wait_log_n(p, from, "configuration applied in place", 2, 5000),
			  "reload %d did not complete", k);
		it_sleep_ms(150);
	}
	mix_stop(&m);
	mix_assert_none_lost(&m, "reloads", RELOADS);
}
END_TEST

/*
 * wrk: keep-alive clients that never retry (a connection the server
 * closes without "Connection: close" is a read error, a request lost).
 * It runs until SIGINT and dies with the test process if that fails first.
 */
struct wrk {
	pid_t pid;
	int out;
};

static void wrk_start(struct wrk *k, int port)
{
	char url[64];
	int fds[2];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/.healthz", port);
	ck_assert_int_eq(pipe(fds), 0);
	fflush(NULL);
	k->pid = fork();
	ck_assert_int_ge(k->pid, 0);
	if (k->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		close(fds[0]);
		close(fds[1]);
		execlp("wrk", "wrk", "-t1", "-c" WRK_CONNS, "-d60s", "--timeout", "30s", url,
		       (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	k->out = fds[0];
}

/* Stops wrk; *reqs gets its request count, the return value its errors and non-2xx answers. */
static long wrk_finish(struct wrk *k, long *reqs, char *text, size_t size)
{
	long c = 0, r = 0, w = 0, t = 0, non2xx = 0;
	size_t len = 0;
	const char *e;
	ssize_t n;
	int st;

	kill(k->pid, SIGINT);
	while (len + 1 < size && (n = read(k->out, text + len, size - 1 - len)) > 0)
		len += (size_t)n;
	text[len] = '\0';
	close(k->out);
	waitpid(k->pid, &st, 0);
	*reqs = -1;
	if ((e = strstr(text, " requests in ")) != NULL) {
		while (e > text && e[-1] >= '0' && e[-1] <= '9')
			e--;
		*reqs = strtol(e, NULL, 10);
	}
	if ((e = strstr(text, "Socket errors:")) != NULL)
		sscanf(e, "Socket errors: connect %ld, read %ld, write %ld, timeout %ld",
		       &c, &r, &w, &t);
	if ((e = strstr(text, "Non-2xx or 3xx responses:")) != NULL)
		sscanf(e, "Non-2xx or 3xx responses: %ld", &non2xx);
	return c + r + w + t + non2xx;
}

/* A config generation that changes max_connections, so each reload starts new workers. */
static void structural_reload(struct it_proc *p, const char *cfg, const char *backend,
			      int port, int admin, int k)
{
	write_config(cfg, backend, port, admin, 2 * k - 1);
	ck_assert_int_eq(it_signal(p, SIGHUP), 0);
}

/*
 * wrk's 20 keep-alive connections across single reloads that start new
 * workers, then a storm of 20 such SIGHUPs 50 ms apart (the master
 * coalesces those that arrive during a reload): a draining worker answers
 * a connection's next request with "Connection: close" and closes only
 * after it, so not one request fails.
 */
START_TEST(keep_alive_clients_survive_reload_storm)
{
	const char *backend = it_backend(_i);
	char cfg[IT_PATH_MAX], text[8192];
	struct it_proc *p;
	struct wrk k;
	int port, admin, reloads = 0;
	long reqs, errors;
	pid_t kids[2];
	size_t from;
	char *log;

	if (!backend)
		return;
	setup(&port, &admin);
	it_path(cfg, "swerver.json");
	write_config(cfg, backend, port, admin, 0);
	p = it_start(cfg, NULL);
	IT_ASSERT(it_wait_log(p, 0, "ready: ", IT_WAIT_MS), "not ready");
	wrk_start(&k, port);
	it_sleep_ms(300);
	for (int i = 1; i <= SINGLE_RELOADS; i++) {
		from = it_log_size(p);
		structural_reload(p, cfg, backend, port, admin, i);
		IT_ASSERT(it_wait_log(p, from, "reload complete", 5000), "reload %d did not complete", i);
		it_sleep_ms(200);
	}
	for (int i = 1; i <= STORM_RELOADS; i++) {
		from = it_log_size(p);
		structural_reload(p, cfg, backend, port, admin, SINGLE_RELOADS + i);
		it_sleep_ms(50);
	}
	/* The last SIGHUP's reload (or the one it was folded into) ends; old workers drain out. */
	IT_ASSERT(it_wait_log(p, from, "reload complete", 10000), "the storm's reloads did not end");
	IT_ASSERT(it_wait_children(p->pid, 2, kids, 2, 10000) == 2, "old workers did not exit");
	it_sleep_ms(200);
	errors = wrk_finish(&k, &reqs, text, sizeof(text));
	log = it_log(p);
	for (const char *s = log; (s = strstr(s, "reload complete")) != NULL; s++)
		reloads++;
	free(log);
	if (getenv("IT_VERBOSE"))
		fprintf(stderr, "wrk across %d+%d SIGHUPs (%d reloads ran): %ld requests, "
			"%ld errors\n%s", SINGLE_RELOADS, STORM_RELOADS, reloads, reqs, errors, text);
	IT_ASSERT(reqs > 0, "wrk got nothing through:\n%s", text);
	IT_ASSERT(errors == 0, "wrk: %ld of %ld requests failed across %d+%d reloads:\n%s", errors,
		  reqs, SINGLE_RELOADS, STORM_RELOADS, text);
}
END_TEST

/*
 * kill -9 of a worker: its restart keeps the port served; what is lost is
 * at most the requests in flight on it (one per client connection).
 */
START_TEST(killed_worker_loses_only_its_own)
{
	const char *backend = it_backend(_i);
	char cfg[IT_PATH_MAX];
	struct it_proc *p;
	pid_t kids[2];
	struct mix m;
	int port, admin, n;

	if (!backend)
		return;
	setup(&port, &admin);
	it_path(cfg, "swerver.json");
	write_config(cfg, backend, port, admin, 0);
	p = it_start(cfg, NULL);
	IT_ASSERT(it_wait_log(p, 0, "ready: ", IT_WAIT_MS), "not ready");
	mix_start(&m, port, false, 5);
	for (int k = 0; k < KILLS; k++) {
		n = it_wait_children(p->pid, 2, kids, 2, 5000);
		IT_ASSERT(n == 2, "only %d workers before kill %d", n, k);
		kill(kids[k % 2], SIGKILL);
		IT_ASSERT(it_wait_gone(&kids[k % 2], 1, 2000), "worker %d survived SIGKILL",
			  (int)kids[k % 2]);
		it_sleep_ms(300);
	}
	IT_ASSERT(it_wait_children(p->pid, 2, kids, 2, 5000) == 2, "workers were not restarted");
	it_sleep_ms(200);
	mix_stop(&m);
	if (getenv("IT_VERBOSE"))
		fprintf(stderr, "kills: keep-alive %ld/%ld, new conn %ld/%ld, h3 %ld/%ld failed\n",
			atomic_load(&m.ka.failed), atomic_load(&m.ka.ok), atomic_load(&m.nc.failed),
			atomic_load(&m.nc.ok), m.h3_bad, m.h3_ok);
	/* Two client connections, five kills: at most one request each per kill. */
	IT_ASSERT(atomic_load(&m.ka.failed) + atomic_load(&m.nc.failed) <= 2 * KILLS,
		  "%ld + %ld requests failed across %d kills", atomic_load(&m.ka.failed),
		  atomic_load(&m.nc.failed), KILLS);
	/* HTTP/3: a killed worker takes its connections' streams, 2 x 4, with it. */
	IT_ASSERT(!m.h3 || (m.h3_ok > 0 && m.h3_bad <= 2 * 4 * KILLS), "HTTP/3: %ld of %ld "
		  "requests failed across %d kills", m.h3_bad, m.h3_ok + m.h3_bad, KILLS);
	IT_ASSERT(atomic_load(&m.ka.ok) > 0 && atomic_load(&m.nc.ok) > 0, "no load got through");
	IT_ASSERT(it_http_get("127.0.0.1", port, "/.healthz", IT_IO_MS) == 200, "not serving after");
}
END_TEST

/* ---- binary upgrades ---- */

/*
 * The binary a test runs, copied where the test can replace it as a
 * package upgrade does (a new file renamed over the old), so the running
 * one shows as "(deleted)" in /proc/PID/exe.
 */
static void install_binary(char out[IT_PATH_MAX])
{
	const char *bin = getenv("SWERVER_BIN");
	char *o;
	int st;

	it_path(out, "sbin");
	mkdir(out, 0700);
	it_path(out, "sbin/swerver");
	o = it_run(&st, "cp '%s' '%s.new' && mv -f '%s.new' '%s' && echo ok",
		   bin && bin[0] ? bin : "./swerver", out, out, out);
	IT_ASSERT(strcmp(o, "ok\n") == 0, "cannot install the binary at %s: %s", out, o);
	free(o);
	setenv("SWERVER_BIN", out, 1);
}

static void replace_binary(const char *path)
{
	char *o;
	int st;

	o = it_run(&st, "cp '%s' '%s.new' && mv -f '%s.new' '%s' && echo ok", path, path, path,
		   path);
	IT_ASSERT(strcmp(o, "ok\n") == 0, "cannot replace %s: %s", path, o);
	free(o);
}

/* The pid in the old master's "... as the new master (pid N)" after from. */
static pid_t new_master_pid(struct it_proc *p, size_t from)
{
	char *log = it_log(p);
	const char *at = log && strlen(log) > from ? strstr(log + from, "as the new master (pid ") :
			 NULL;
	pid_t pid = at ? (pid_t)atoi(at + strlen("as the new master (pid ")) : 0;

	free(log);
	return pid;
}

static bool exe_deleted(pid_t pid)
{
	char link[64], target[IT_PATH_MAX];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return true;
	target[n] = '\0';
	return strstr(target, "(deleted)") != NULL;
}

/* POST /v1/upgrade: the status, and the body in out (malloc'ed). */
static int post_upgrade(int admin, char **out)
{
	int st, code = 0;
	char *o = it_run(&st, "curl -s -w ' %%{http_code}' -X POST -H 'X-API-Key: " ADMIN_KEY
			 "' http://127.0.0.1:%d/v1/upgrade", admin);
	const char *sp = strrchr(o, ' ');

	if (sp)
		code = atoi(sp + 1);
	*out = o;
	return code;
}

/* swerver_http3_packets_handed_over_total, from the admin API's metrics. */
static long handed_over(int admin)
{
	int st;
	char *o = it_run(&st, "curl -s -H 'X-API-Key: " ADMIN_KEY "' http://127.0.0.1:%d/v1/metrics "
			 "| sed -n 's/^swerver_http3_packets_handed_over_total //p'", admin);
	long n = o[0] ? atol(o) : -1;

	free(o);
	return n;
}

/* A master that is our child (an adopted orphan or not) stops gracefully and is reaped. */
static void stop_master(pid_t pid)
{
	pid_t kids[8];
	int n = it_children(pid, kids, 8);

	kill(pid, SIGTERM);
	IT_ASSERT(it_wait_gone(&pid, 1, 10000), "master %d did not stop", (int)pid);
	IT_ASSERT(it_wait_gone(kids, n, 10000), "workers of master %d did not stop", (int)pid);
	waitpid(pid, NULL, WNOHANG);
}

/*
 * 5 binary upgrades (a new file at the binary's path each time, then
 * SIGUSR2 or POST /v1/upgrade, alternately) under HTTP/1.1 keep-alive,
 * HTTP/1.1 connection-per-request, HTTP/2 and HTTP/3 load: not one request
 * may fail; each new master runs the new file and the old one exits.
 */
START_TEST(upgrades_lose_nothing)
{
	const char *backend = it_backend(_i);
	char cfg[IT_PATH_MAX], bin[IT_PATH_MAX];
	struct it_proc *p;
	struct mix m;
	pid_t master, old[UPGRADES];
	long handed;
	int port, admin;

	if (!backend)
		return;
	setup(&port, &admin);
	install_binary(bin);
	it_path(cfg, "swerver.json");
	write_config(cfg, backend, port, admin, 0);
	p = it_start(cfg, NULL);
	master = p->pid;
	IT_ASSERT(it_wait_log(p, 0, "ready: ", IT_WAIT_MS), "not ready");
	mix_start(&m, port, true, 8);
	for (int k = 1; k <= UPGRADES; k++) {
		size_t from = it_log_size(p);
		char *out = NULL;

		it_sleep_ms(400);
		replace_binary(bin);
		IT_ASSERT(exe_deleted(master), "upgrade %d: the binary was not replaced", k);
		if (k % 2) {
			ck_assert_int_eq(kill(master, SIGUSR2), 0);
		} else {
			int code = post_upgrade(admin, &out);
			IT_ASSERT(code == 200 && strstr(out, "upgraded: new master pid"),
				  "POST /v1/upgrade %d answered %s", k, out);
			free(out);
		}
		IT_ASSERT(it_wait_log(p, from, "binary upgrade complete", 5000),
			  "upgrade %d did not complete", k);
		old[k - 1] = master;
		master = new_master_pid(p, from);
		IT_ASSERT(master > 0 && !it_pid_gone(master), "upgrade %d: no new master", k);
		IT_ASSERT(!exe_deleted(master), "upgrade %d: the new master runs a deleted binary", k);
	}
	/* Each old master exits once its generation has drained (ours: adopted orphans). */
	IT_ASSERT(it_wait_exit(p, 10000) == 0, "the first master did not exit");
	IT_ASSERT(it_wait_gone(old, UPGRADES, 10000), "an old master did not exit");
	for (int k = 1; k < UPGRADES; k++)
		waitpid(old[k], NULL, WNOHANG);
	mix_stop(&m);
	IT_ASSERT(it_http_get("127.0.0.1", port, "/.healthz", IT_IO_MS) == 200, "not serving after");
	handed = m.h3 ? handed_over(admin) : 0;
	stop_master(master);
	if (getenv("IT_VERBOSE"))
		fprintf(stderr, "HTTP/3 packets handed over between generations: %ld\n", handed);
	/*
	 * Old and new workers of a slot read one UDP socket: packets of the old
	 * generation's connections reach new workers (and new Initials old
	 * ones), and must be passed across the two masters' process trees.
	 */
	IT_ASSERT(!m.h3 || handed > 0, "no HTTP/3 packet was handed between the generations of "
		  "two masters");
	mix_assert_none_lost(&m, "upgrades", UPGRADES);
}
END_TEST

/*
 * A new binary that cannot serve leaves the old master serving, and says
 * why: a config it refuses (to the admin API caller: 500 with the reason),
 * and no binary at the path at all (exec fails; SIGUSR2, so the log).
 */
START_TEST(failed_upgrade_keeps_serving)
{
	char cfg[IT_PATH_MAX], bin[IT_PATH_MAX];
	struct it_proc *p;
	size_t from;
	char *out;
	int port, admin;

	setup(&port, &admin);
	install_binary(bin);
	it_path(cfg, "swerver.json");
	write_config(cfg, "epoll", port, admin, 0);
	p = it_start(cfg, NULL);
	IT_ASSERT(it_wait_log(p, 0, "ready: ", IT_WAIT_MS), "not ready");
	it_write_file(cfg, "{\"server\": {\"workers\": \"two\"}}\n");
	IT_ASSERT(post_upgrade(admin, &out) == 500 && strstr(out, "configuration is invalid"),
		  "POST /v1/upgrade with a bad config answered %s", out);
	free(out);
	IT_ASSERT(it_log_has(p, "workers"), "the new binary did not say what is wrong");
	write_config(cfg, "epoll", port, admin, 0);
	from = it_log_size(p);
	IT_ASSERT(unlink(bin) == 0, "unlink %s", bin);
	ck_assert_int_eq(it_signal(p, SIGUSR2), 0);
	IT_ASSERT(it_wait_log(p, from, "binary upgrade failed (cannot run ", 5000),
		  "a missing binary was not reported");
	IT_ASSERT(it_poll_exit(p) == IT_TIMEOUT, "the old master did not survive");
	IT_ASSERT(it_http_get("127.0.0.1", port, "/.healthz", IT_IO_MS) == 200, "not serving after");
	IT_ASSERT(post_upgrade(admin, &out) == 500 && strstr(out, "cannot run "),
		  "POST /v1/upgrade without a binary answered %s", out);
	free(out);
}
END_TEST

/* Two workers (or one), drain and reload deadline short, an access log at target. */
static void write_small_config(const char *path, int port, int admin, int workers,
			       const char *access_log)
{
	it_write_filef(path,
		"{\"server\": {\"listeners\": [{\"address\": \"127.0.0.1\", \"port\": %d}],\n"
		"  \"workers\": %d, \"io_backend\": \"epoll\"},\n"
		" \"timeouts\": {\"drain_ms\": 500, \"reload_ms\": 1000},\n"
		" \"admin\": {\"enabled\": true, \"address\": \"127.0.0.1\", \"port\": %d,\n"
		"   \"api_key\": \"" ADMIN_KEY "\"}%s%s%s}\n", port, workers, admin,
		access_log ? ",\n \"access_log\": {\"format\": \"combined\", \"target\": \"" : "",
		access_log ? access_log : "", access_log ? "\"}" : "");
}

/*
 * New workers that never get ready (their access log is a FIFO nobody
 * reads): past timeouts.reload_ms the new master is stopped, and the old
 * one, which served all along, answers 500 with the reason.
 */
START_TEST(upgrade_never_ready_keeps_serving)
{
	char cfg[IT_PATH_MAX], fifo[IT_PATH_MAX], bin[IT_PATH_MAX];
	struct it_proc *p;
	pid_t kids[4];
	char *out;
	int port, admin, code;

	setup(&port, &admin);
	install_binary(bin);
	it_path(cfg, "swerver.json");
	it_path(fifo, "access.fifo");
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	write_small_config(cfg, port, admin, 2, NULL);
	p = it_start(cfg, NULL);
	IT_ASSERT(it_wait_log(p, 0, "ready: ", IT_WAIT_MS), "not ready");
	write_small_config(cfg, port, admin, 2, fifo);
	code = post_upgrade(admin, &out);
	IT_ASSERT(code == 500 && strstr(out, "not ready in time"),
		  "POST /v1/upgrade with workers that never start answered %s", out);
	free(out);
	IT_ASSERT(it_poll_exit(p) == IT_TIMEOUT, "the old master did not survive");
	IT_ASSERT(it_http_get("127.0.0.1", port, "/.healthz", IT_IO_MS) == 200, "not serving after");
	IT_ASSERT(it_wait_children(p->pid, 2, kids, 4, 5000) == 2,
		  "the old master does not have just its 2 workers");
}
END_TEST

/* One worker is one process, no master: SIGUSR2 is said to need one, and harms nothing. */
START_TEST(single_process_refuses_upgrade)
{
	char cfg[IT_PATH_MAX];
	struct it_proc *p;
	char *out;
	int port, admin;

	setup(&port, &admin);
	it_path(cfg, "swerver.json");
	write_small_config(cfg, port, admin, 1, NULL);
	p = it_start(cfg, NULL);
	IT_ASSERT(it_wait_status("127.0.0.1", port, "/.ready", 200, IT_WAIT_MS) == 200, "not ready");
	ck_assert_int_eq(it_signal(p, SIGUSR2), 0);
	IT_ASSERT(it_wait_log(p, 0, "a binary upgrade needs a master process", 5000),
		  "SIGUSR2 was not answered in the log");
	IT_ASSERT(it_poll_exit(p) == IT_TIMEOUT, "SIGUSR2 stopped the single process");
	IT_ASSERT(post_upgrade(admin, &out) == 409 && strstr(out, "needs a master process"),
		  "POST /v1/upgrade in single-process mode answered %s", out);
	free(out);
	IT_ASSERT(it_http_get("127.0.0.1", port, "/.healthz", IT_IO_MS) == 200, "not serving after");
}
END_TEST

static Suite *zero_downtime_suite(void)
{
	Suite *s = suite_create("zero_downtime");
	TCase *tc = it_tcase("zero_downtime");

	tcase_add_loop_test(tc, reloads_lose_nothing, 0, 2);
	tcase_add_loop_test(tc, keep_alive_clients_survive_reload_storm, 0, 2);
	tcase_add_loop_test(tc, killed_worker_loses_only_its_own, 0, 2);
	tcase_add_loop_test(tc, upgrades_lose_nothing, 0, 2);
	tcase_add_test(tc, failed_upgrade_keeps_serving);
	tcase_add_test(tc, upgrade_never_ready_keeps_serving);
	tcase_add_test(tc, single_process_refuses_upgrade);
	suite_add_tcase(s, tc);
	return s;
}

IT_SUITE(zero_downtime_suite);
