/* test_admin.c - the admin API end to end: key auth, config checks, the /v1 endpoints, route and upstream changes through the master (every worker, a restarted one too), reload (one whose new workers never become ready too), persist, single-process mode.  Upstreams are tests/backend/origin. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <libgen.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "core/module.h"
#include "harness.h"

#define KEY "it-admin-key-0123456789"   /* >= 16 characters */
#define IO_MS 5000
#define SPREAD 20                        /* requests on new connections per check */

/* One upstream server / a route for prefix to upstream up, the prefix replaced by "/". */
#define UPSTREAM_FMT "{\"name\": \"%s\", \"servers\": [{\"address\": \"127.0.0.1\", \"port\": %d}]}"
#define TMO "\"connect_timeout_ms\": 500, \"read_timeout_ms\": 2000"
#define ROUTE(prefix, up) "{\"path_prefix\": \"" prefix "\", \"upstream\": \"" up "\", " \
	"\"rewrite_pattern\": \"" prefix "\", \"rewrite_replacement\": \"/\", " TMO "}"

static bool have_proxy(void)
{
	if (!sw_module_find("proxy")) {
		fprintf(stderr, "note: built without the proxy; skipping\n");
		return false;
	}
	return true;
}

/* ---- a raw HTTP/1.1 client that keeps the body (one request per connection) ---- */

struct resp {
	int status;
	char head[8192];
	char *body;          /* NUL-terminated, malloc'ed */
	size_t len;
	int64_t ms;          /* from the send to the end of the response */
	int64_t sent_at;
};

static int req_open(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int err = errno;
		close(fd);
		return -err;
	}
	return fd;
}

static int send_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Sends method path with extra header lines (each ending CRLF) and an optional body. */
static int req_send(int fd, const char *method, const char *path, const char *headers,
		    const char *body, struct resp *r)
{
	char head[2048];
	int n = snprintf(head, sizeof(head), "%s %s HTTP/1.1\r\nHost: localhost\r\n"
			 "Connection: close\r\n%s", method, path, headers ? headers : "");

	if (body)
		n += snprintf(head + n, sizeof(head) - (size_t)n, "Content-Type: application/json\r\n"
			      "Content-Length: %zu\r\n", strlen(body));
	n += snprintf(head + n, sizeof(head) - (size_t)n, "\r\n");
	memset(r, 0, sizeof(*r));
	r->sent_at = it_now_ms();
	if (send_all(fd, head, (size_t)n) != 0)
		return -EPIPE;
	return body ? send_all(fd, body, strlen(body)) : 0;
}

static bool resp_header(const struct resp *r, const char *name, char *out, size_t size)
{
	size_t nl = strlen(name);

	for (const char *l = strstr(r->head, "\r\n"); l; l = strstr(l + 2, "\r\n")) {
		const char *v = l + 2;

		if (strncasecmp(v, name, nl) != 0 || v[nl] != ':')
			continue;
		v += nl + 1;
		v += strspn(v, " \t");
		snprintf(out, size, "%.*s", (int)strcspn(v, "\r\n"), v);
		return true;
	}
	return false;
}

/* In place: "5\r\nhello\r\n0\r\n\r\n" -> "hello". */
static size_t dechunk(char *p, size_t len)
{
	size_t in = 0, out = 0;

	while (in < len) {
		char *eol = strstr(p + in, "\r\n");
		size_t size;

		if (!eol)
			break;
		size = strtoul(p + in, NULL, 16);
		in = (size_t)(eol - p) + 2;
		if (size == 0 || in + size > len)
			break;
		memmove(p + out, p + in, size);
		out += size;
		in += size + 2;
	}
	p[out] = '\0';
	return out;
}

/* Reads to EOF (we always send Connection: close); 0 or -errno. */
static int req_read(int fd, struct resp *r, int timeout_ms)
{
	int64_t deadline = it_now_ms() + timeout_ms;
	size_t len = 0, cap = 65536;
	char *buf = malloc(cap + 1), *end, val[64];
	int rc = 0;

	ck_assert_ptr_nonnull(buf);
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int left = (int)(deadline - it_now_ms());
		ssize_t n;

		if (left <= 0) {
			rc = -ETIMEDOUT;
			break;
		}
		if (poll(&pfd, 1, left) <= 0)
			continue;
		if (cap - len < 16384) {
			cap *= 2;
			buf = realloc(buf, cap + 1);
			ck_assert_ptr_nonnull(buf);
		}
		n = recv(fd, buf + len, cap - len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = len ? 0 : -errno;   /* a reset after the whole answer is still an answer */
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	r->ms = it_now_ms() - r->sent_at;
	end = strstr(buf, "\r\n\r\n");
	if (rc == 0 && (!end || sscanf(buf, "HTTP/1.%*d %d", &r->status) != 1))
		rc = -EPROTO;
	if (rc != 0) {
		free(buf);
		return rc;
	}
	snprintf(r->head, sizeof(r->head), "%.*s", (int)(end - buf + 4), buf);
	r->len = len - (size_t)(end + 4 - buf);
	r->body = malloc(r->len + 1);
	ck_assert_ptr_nonnull(r->body);
	memcpy(r->body, end + 4, r->len);
	r->body[r->len] = '\0';
	free(buf);
	if (resp_header(r, "Content-Length", val, sizeof(val)) && (size_t)atol(val) < r->len)
		r->body[r->len = (size_t)atol(val)] = '\0';
	else if (resp_header(r, "Transfer-Encoding", val, sizeof(val)) &&
		 strcasecmp(val, "chunked") == 0)
		r->len = dechunk(r->body, r->len);
	return 0;
}

static void resp_free(struct resp *r)
{
	free(r->body);
	r->body = NULL;
}

/* One request on a new connection; fails the test when there is no answer. */
static void request(int port, const char *method, const char *path, const char *headers,
		    const char *body, struct resp *r)
{
	int fd = req_open(port), rc;

	IT_ASSERT(fd >= 0, "connect 127.0.0.1:%d: %s", port, strerror(-fd));
	rc = req_send(fd, method, path, headers, body, r);
	if (rc == 0)
		rc = req_read(fd, r, IO_MS);
	close(fd);
	IT_ASSERT(rc == 0, "%s %s on port %d: no answer (%s)", method, path, port, strerror(-rc));
}

static int admin_port;   /* of the swerver under test */

/* An authorised admin request. */
static void adm(const char *method, const char *path, const char *body, struct resp *r)
{
	request(admin_port, method, path, "X-API-Key: " KEY "\r\n", body, r);
}

/* An authorised admin request that must answer `want`; its JSON (the caller puts it). */
static json_object *adm_json(const char *method, const char *path, const char *body, int want)
{
	struct resp r;
	json_object *doc;

	adm(method, path, body, &r);
	IT_ASSERT(r.status == want, "%s %s gave %d, want %d: %s", method, path, r.status, want,
		  r.body);
	doc = json_tokener_parse(r.body);
	IT_ASSERT(doc != NULL, "%s %s: the body is not JSON: %s", method, path, r.body);
	resp_free(&r);
	return doc;
}

static json_object *get(json_object *o, const char *key)
{
	json_object *v = NULL;

	return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static const char *get_str(json_object *o, const char *key)
{
	json_object *v = get(o, key);

	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

/* A 200 change answer: {"ok": true, "result": ..., "generation": N}; its result in out. */
static void change_ok(const char *method, const char *path, const char *body, char *out,
		      size_t size)
{
	json_object *doc = adm_json(method, path, body, 200);
	json_object *ok = get(doc, "ok");

	IT_ASSERT(ok && json_object_get_boolean(ok), "%s %s: no \"ok\": true in %s", method, path,
		  json_object_to_json_string(doc));
	IT_ASSERT(get_str(doc, "result") && get(doc, "generation"), "%s %s: no result/generation: %s",
		  method, path, json_object_to_json_string(doc));
	if (out)
		snprintf(out, size, "%s", get_str(doc, "result"));
	json_object_put(doc);
}

/* An error answer of status `want` whose "error" contains needle. */
static void change_fails(const char *method, const char *path, const char *body, int want,
			 const char *needle)
{
	json_object *doc = adm_json(method, path, body, want);
	const char *err = get_str(doc, "error");

	IT_ASSERT(err && strstr(err, needle), "%s %s (%d): want an error with \"%s\", got %s",
		  method, path, want, needle, json_object_to_json_string(doc));
	json_object_put(doc);
}

/* ---- the test origin: tests/backend/origin ---- */

#define MAX_ORIGINS 4
static pid_t origin_pids[MAX_ORIGINS];
static int norigins;

static void origins_kill_all(void)
{
	for (int i = 0; i < norigins; i++)
		if (origin_pids[i] > 0 && waitpid(origin_pids[i], NULL, WNOHANG) == 0) {
			kill(origin_pids[i], SIGKILL);
			waitpid(origin_pids[i], NULL, 0);
		}
	norigins = 0;
}

/* The origin next to the swerver binary the harness runs (the build dir). */
static const char *origin_bin(void)
{
	static char path[PATH_MAX];
	const char *env = getenv("SWERVER_BIN");
	char dir[PATH_MAX];

	if (path[0])
		return path;
	if (env && env[0]) {
		snprintf(dir, sizeof(dir), "%s", env);
		snprintf(path, sizeof(path), "%s/tests/backend/origin", dirname(dir));
	} else if (!realpath("./tests/backend/origin", path)) {
		snprintf(path, sizeof(path), "./tests/backend/origin");
	}
	return path;
}

/* Starts `origin --port 0 --name NAME`; its port (the "listening on" line comes through a pipe). */
static int origin_start(const char *name)
{
	const char *bin = origin_bin();
	char log[IT_PATH_MAX], logname[64], line[512] = "";
	size_t len = 0;
	int64_t end;
	int pfd[2];
	char *at;
	pid_t pid;

	IT_ASSERT(access(bin, X_OK) == 0, "the test origin %s is not built: %s", bin, strerror(errno));
	ck_assert_int_lt(norigins, MAX_ORIGINS);
	if (norigins == 0)
		atexit(origins_kill_all);
	snprintf(logname, sizeof(logname), "origin-%s.log", name);
	it_path(log, logname);
	ck_assert_int_eq(pipe2(pfd, O_CLOEXEC), 0);
	fflush(NULL);
	pid = fork();
	ck_assert_msg(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		char fdarg[16];
		int fd, w;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		w = fcntl(pfd[1], F_DUPFD, 10);   /* the copy is not close-on-exec */
		snprintf(fdarg, sizeof(fdarg), "%d", w);
		execl(bin, bin, "--port", "0", "--name", name, "--ready-fd", fdarg, "--idle-ms",
		      "60000", (char *)NULL);
		_exit(127);
	}
	origin_pids[norigins++] = pid;
	close(pfd[1]);
	end = it_now_ms() + 5000;
	while (!strchr(line, '\n') && it_now_ms() < end) {
		struct pollfd p = { .fd = pfd[0], .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 100) <= 0)
			continue;
		n = read(pfd[0], line + len, sizeof(line) - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		line[len] = '\0';
	}
	close(pfd[0]);
	at = strstr(line, "listening on 127.0.0.1:");
	IT_ASSERT(at != NULL, "origin %s did not start (%s): \"%s\"", name, bin, line);
	return atoi(at + strlen("listening on 127.0.0.1:"));
}

/* ---- swerver with the admin API ---- */

/* A config: one listener, the admin API on aport, and `extra` (",\"upstreams\": [...]" or ""). */
static void write_config(const char *path, const char *backend, int port, int aport,
			 unsigned workers, const char *extra)
{
	it_write_filef(path,
		"{\"server\": {\"listeners\": [{\"address\": \"127.0.0.1\", \"port\": %d}],\n"
		"  \"workers\": %u, \"io_backend\": \"%s\"},\n"
		" \"timeouts\": {\"drain_ms\": 1000},\n"
		" \"admin\": {\"enabled\": true, \"port\": %d, \"api_key\": \"" KEY "\"}%s}\n",
		port, workers, backend, aport, extra ? extra : "");
}

/* Starts it and waits for the admin line, /.ready and (several workers) the master's "ready:". */
static struct it_proc *start(const char *cfg, int port, int aport)
{
	struct it_proc *p = it_start(cfg, NULL);
	char line[96];
	int st;

	admin_port = aport;
	snprintf(line, sizeof(line), "admin API listening on 127.0.0.1:%d", aport);
	IT_ASSERT(it_wait_log(p, 0, line, IT_WAIT_MS), "no \"%s\" line (swerver: %s)", line,
		  it_code_str(it_poll_exit(p)));
	st = it_wait_ready(p, "127.0.0.1", port, IT_WAIT_MS);
	IT_ASSERT(st == 200, "GET /.ready gave %d (swerver: %s)", st, it_code_str(it_poll_exit(p)));
	if (!it_log_has(p, "(single process)"))
		IT_ASSERT(it_wait_log(p, 0, "ready: ", IT_WAIT_MS), "no \"ready:\" line");
	return p;
}

/* Per-slot connections_accepted from /v1/status; the slot that answered. */
static int accepted_by_slot(uint64_t *out, int max)
{
	json_object *doc = adm_json("GET", "/v1/status", NULL, 200);
	json_object *ws = get(doc, "workers"), *by = get(doc, "answered_by_worker");
	int n = ws ? (int)json_object_array_length(ws) : 0, slot;

	IT_ASSERT(n > 0 && n <= max && by, "bad /v1/status: %s", json_object_to_json_string(doc));
	for (int i = 0; i < n; i++)
		out[i] = (uint64_t)json_object_get_int64(
			get(json_object_array_get_idx(ws, (size_t)i), "connections_accepted"));
	slot = json_object_get_int(by);
	json_object_put(doc);
	return slot;
}

/* The pid /v1/status gives for a worker slot, -1 if none. */
static pid_t slot_pid(int slot)
{
	json_object *doc = adm_json("GET", "/v1/status", NULL, 200);
	json_object *ws = get(doc, "workers");
	json_object *w = ws && (size_t)slot < json_object_array_length(ws) ?
			 json_object_array_get_idx(ws, (size_t)slot) : NULL;
	pid_t pid = w ? (pid_t)json_object_get_int64(get(w, "pid")) : -1;

	json_object_put(doc);
	return pid;
}

/*
 * SPREAD GETs of path on new connections to the main listener must all be
 * 200 with body `want` (the origin's name for /PREFIX/name), and every
 * worker must have taken at least one of them: the change reached them all.
 */
static void all_workers_serve(int port, const char *path, const char *want)
{
	uint64_t before[8] = { 0 }, after[8] = { 0 };
	int slot, n;

	accepted_by_slot(before, 8);
	for (int i = 0; i < SPREAD; i++) {
		struct resp r;

		request(port, "GET", path, NULL, NULL, &r);
		IT_ASSERT(r.status == 200 && strcmp(r.body, want) == 0,
			  "GET %s (request %d on a new connection): %d \"%s\", want 200 \"%s\"\n%s",
			  path, i + 1, r.status, r.body, want, r.head);
		resp_free(&r);
	}
	slot = accepted_by_slot(after, 8);
	after[slot]--;   /* that status request's own connection */
	n = 0;
	while (n < 8 && (before[n] || after[n]))
		n++;
	for (int i = 0; i < n; i++)
		IT_ASSERT(after[i] > before[i], "worker %d took none of %d new connections (accepted "
			  "%llu -> %llu)", i, SPREAD, (unsigned long long)before[i],
			  (unsigned long long)after[i]);
}

/* Every one of `count` GETs of path on new connections answers want. */
static void all_status(int port, const char *path, int want, int count)
{
	for (int i = 0; i < count; i++) {
		struct resp r;

		request(port, "GET", path, NULL, NULL, &r);
		IT_ASSERT(r.status == want, "GET %s (request %d): %d, want %d\n%s%s", path, i + 1,
			  r.status, want, r.head, r.body);
		resp_free(&r);
	}
}

static int array_len(const char *path)
{
	json_object *doc = adm_json("GET", path, NULL, 200);
	int n;

	IT_ASSERT(json_object_is_type(doc, json_type_array), "GET %s: not an array: %s", path,
		  json_object_to_json_string(doc));
	n = (int)json_object_array_length(doc);
	json_object_put(doc);
	return n;
}

/* The swerver_admin_auth_failures_total sample in a Prometheus text body, -1 if absent. */
static long long auth_failures(const char *text)
{
	const char *at = strstr(text, "\nswerver_admin_auth_failures_total ");

	return at ? atoll(at + strlen("\nswerver_admin_auth_failures_total ")) : -1;
}

static int64_t generation(void)
{
	json_object *doc = adm_json("GET", "/v1/status", NULL, 200);
	int64_t g = json_object_get_int64(get(doc, "generation"));

	json_object_put(doc);
	return g;
}

/* POSTs body to the admin path in `pieces` chunks, 30 ms apart (several reads on the server). */
static void post_chunked(const char *path, const char *body, int pieces, struct resp *r)
{
	size_t len = strlen(body), off = 0;
	int fd = req_open(admin_port), rc;
	char buf[4096];

	IT_ASSERT(fd >= 0, "connect: %s", strerror(-fd));
	ck_assert_int_eq(req_send(fd, "POST", path, "X-API-Key: " KEY "\r\n"
				  "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n",
				  NULL, r), 0);
	for (int i = 0; i < pieces; i++) {
		size_t n = i == pieces - 1 ? len - off : len / (size_t)pieces;
		int k = snprintf(buf, sizeof(buf), "%zx\r\n%.*s\r\n", n, (int)n, body + off);

		ck_assert_int_eq(send_all(fd, buf, (size_t)k), 0);
		off += n;
		it_sleep_ms(30);
	}
	ck_assert_int_eq(send_all(fd, "0\r\n\r\n", 5), 0);
	rc = req_read(fd, r, IO_MS);
	close(fd);
	IT_ASSERT(rc == 0, "chunked POST %s: no answer (%s)", path, strerror(-rc));
}

/* ---- 1. auth ---- */

/*
 * Each refused key waits ~500 ms for its 401 (with WWW-Authenticate), and
 * is counted; the right key works as X-API-Key and as a Bearer token.
 * The refusals run side by side, and a valid request meanwhile is answered.
 */
START_TEST(auth)
{
	static const char *const bad[] = {
		"",                                              /* no key at all */
		"X-API-Key: it-admin-key-0123456780\r\n",        /* last character wrong */
		"X-API-Key: it-admin-key-012345678\r\n",         /* a prefix of the key */
		"X-API-Key: it-admin-key-01234567890\r\n",       /* the key and one more */
		"Authorization: Bearer wrong-key-0123456789\r\n",
		"Authorization: Basic aXQtYWRtaW4ta2V5LTAxMjM0NTY3ODk=\r\n",
		"Authorization: " KEY "\r\n",                    /* no Bearer scheme */
		/* X-API-Key is looked at first: a wrong one is not rescued by a good Bearer */
		"X-API-Key: nope-nope-nope-nope\r\nAuthorization: Bearer " KEY "\r\n",
	};
	enum { NBAD = sizeof(bad) / sizeof(bad[0]) };
	static const char *const good[] = {
		"X-API-Key: " KEY "\r\n",
		"x-api-key: " KEY "\r\n",
		"Authorization: Bearer " KEY "\r\n",
		"authorization: bearer " KEY "\r\n",
	};
	const char *backend = it_backend(_i);
	char cfg[IT_PATH_MAX], val[128];
	int ports[2], fds[NBAD];
	struct resp r, rs[NBAD];
	long long n;

	if (!backend)
		return;
	it_free_ports(ports, 2);
	it_path(cfg, "swerver.json");
	write_config(cfg, backend, ports[0], ports[1], 2, NULL);
	start(cfg, ports[0], ports[1]);

	for (int i = 0; i < NBAD; i++) {
		fds[i] = req_open(ports[1]);
		IT_ASSERT(fds[i] >= 0, "connect: %s", strerror(-fds[i]));
		ck_assert_int_eq(req_send(fds[i], "GET", "/v1/status", bad[i], NULL, &rs[i]), 0);
	}
	/* While they wait, good keys are answered. */
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		request(ports[1], "GET", "/v1/status", good[i], NULL, &r);
		IT_ASSERT(r.status == 200, "key as \"%.40s\": %d, want 200: %s", good[i], r.status,
			  r.body);
		IT_ASSERT(strstr(r.body, "\"version\""), "no version in %s", r.body);
		resp_free(&r);
	}
	for (int i = 0; i < NBAD; i++) {
		int rc = req_read(fds[i], &rs[i], IO_MS);

		close(fds[i]);
		IT_ASSERT(rc == 0, "refusal %d: no answer (%s)", i, strerror(-rc));
		IT_ASSERT(rs[i].status == 401, "headers \"%s\": %d, want 401: %s", bad[i],
			  rs[i].status, rs[i].body);
		IT_ASSERT(resp_header(&rs[i], "WWW-Authenticate", val, sizeof(val)) &&
			  strncasecmp(val, "Bearer", 6) == 0, "401 without WWW-Authenticate: Bearer:\n%s",
			  rs[i].head);
		IT_ASSERT(rs[i].ms >= 400, "headers \"%s\": the 401 came after %lld ms, want >= 400",
			  bad[i], (long long)rs[i].ms);
		IT_ASSERT(strstr(rs[i].body, "\"error\""), "401 without a JSON error: %s", rs[i].body);
		IT_ASSERT(!strstr(rs[i].body, "\"workers\""), "the 401 leaked the status: %s",
			  rs[i].body);
		resp_free(&rs[i]);
	}

	/* Counted, summed over the workers, on the main listener's /metrics and on /v1/metrics. */
	request(ports[0], "GET", "/metrics", NULL, NULL, &r);
	IT_ASSERT(r.status == 200, "/metrics: %d", r.status);
	n = auth_failures(r.body);
	IT_ASSERT(n == NBAD, "swerver_admin_auth_failures_total is %lld, want %d", n, (int)NBAD);
	IT_ASSERT(strstr(r.body, "# TYPE swerver_admin_auth_failures_total counter"),
		  "no TYPE line for swerver_admin_auth_failures_total");
	resp_free(&r);
	adm("GET", "/v1/metrics", NULL, &r);
	n = auth_failures(r.body);
	IT_ASSERT(r.status == 200 && n == NBAD, "/v1/metrics: %d, failures %lld, want %d", r.status,
		  n, (int)NBAD);
	resp_free(&r);

	/* The admin listener is only the admin API; the main one has none of it. */
	request(ports[1], "GET", "/.ready", NULL, NULL, &r);
	IT_ASSERT(r.status == 401, "GET /.ready on the admin port without a key: %d", r.status);
	resp_free(&r);
	adm("GET", "/metrics", NULL, &r);
	IT_ASSERT(r.status == 404, "GET /metrics on the admin port: %d, want 404", r.status);
	resp_free(&r);
	request(ports[0], "GET", "/v1/status", "X-API-Key: " KEY "\r\n", NULL, &r);
	IT_ASSERT(r.status == 404 && !strstr(r.body, "\"workers\""),
		  "GET /v1/status on the main listener: %d %s", r.status, r.body);
	resp_free(&r);
}
END_TEST

/* ---- 2. config errors ---- */

/* `swerver -t -c path`: its exit code; *log its stderr (the caller frees). */
static int check_config(const char *path, char **log)
{
	const char *args[] = { "-t", "-c", path, NULL };
	struct it_proc *p = it_spawn(args, NULL);
	int code = it_wait_exit(p, IT_WAIT_MS);

	*log = it_log(p);
	return code;
}

START_TEST(config_errors)
{
	const char *backend = it_backend(_i);
	char cfg[IT_PATH_MAX], line[96], *log;
	struct it_proc *p;
	int ports[2], code, count;

	if (!backend)
		return;
	it_free_ports(ports, 2);
	it_path(cfg, "swerver.json");

	/* Enabled without a key. */
	it_write_filef(cfg, "{\"server\": {\"listeners\": [{\"address\": \"127.0.0.1\", "
		       "\"port\": %d}], \"io_backend\": \"%s\"},\n \"admin\": {\"enabled\": true, "
		       "\"port\": %d}}\n", ports[0], backend, ports[1]);
	code = check_config(cfg, &log);
	IT_ASSERT(code == 78, "-t with admin.enabled and no api_key: %s, want exit 78\n%s",
		  it_code_str(code), log);
	IT_ASSERT(strstr(log, "admin.api_key") && strstr(log, "required"),
		  "-t does not name admin.api_key: %s", log);
	free(log);
	/* ...and refuses to start. */
	p = it_start(cfg, NULL);
	code = it_wait_exit(p, IT_WAIT_MS);
	IT_ASSERT(code == 78 && it_log_has(p, "admin.api_key"), "start without api_key: %s",
		  it_code_str(code));

	/* A key that is too short. */
	it_write_filef(cfg, "{\"server\": {\"listeners\": [{\"address\": \"127.0.0.1\", "
		       "\"port\": %d}], \"io_backend\": \"%s\"},\n \"admin\": {\"enabled\": true, "
		       "\"port\": %d, \"api_key\": \"short-key-15chr\"}}\n", ports[0], backend,
		       ports[1]);
	code = check_config(cfg, &log);
	IT_ASSERT(code == 78 && strstr(log, "admin.api_key") && strstr(log, "16"),
		  "-t with a 15-character key: %s\n%s", it_code_str(code), log);
	free(log);

	/* The admin port on the main listener's. */
	it_write_filef(cfg, "{\"server\": {\"listeners\": [{\"address\": \"127.0.0.1\", "
		       "\"port\": %d}], \"io_backend\": \"%s\"},\n \"admin\": {\"enabled\": true, "
		       "\"port\": %d, \"api_key\": \"" KEY "\"}}\n", ports[0], backend, ports[0]);
	code = check_config(cfg, &log);
	IT_ASSERT(code == 78 && strstr(log, "admin.port"), "-t with admin.port == listener port: "
		  "%s\n%s", it_code_str(code), log);
	free(log);

	/* Not on loopback: valid, with a warning, at -t and at start. */
	it_write_filef(cfg, "{\"server\": {\"listeners\": [{\"address\": \"127.0.0.1\", "
		       "\"port\": %d}], \"workers\": 2, \"io_backend\": \"%s\"},\n "
		       "\"admin\": {\"enabled\": true, \"address\": \"0.0.0.0\", \"port\": %d, "
		       "\"api_key\": \"" KEY "\"}}\n", ports[0], backend, ports[1]);
	code = check_config(cfg, &log);
	IT_ASSERT(code == 0, "-t with admin.address 0.0.0.0: %s, want 0\n%s", it_code_str(code), log);
	IT_ASSERT(strstr(log, "admin.address") && strstr(log, "not a loopback address"),
		  "-t gave no warning for admin.address 0.0.0.0: %s", log);
	free(log);
	p = it_start(cfg, NULL);
	snprintf(line, sizeof(line), "admin API listening on 0.0.0.0:%d", ports[1]);
	IT_ASSERT(it_wait_log(p, 0, line, IT_WAIT_MS), "no \"%s\" line", line);
	log = it_log(p);
	count = 0;
	for (const char *at = log; (at = strstr(at, "not a loopback address")); at++)
		count++;
	IT_ASSERT(count >= 1 && strstr(log, "warn"), "no warning logged for a non-loopback "
		  "admin.address:\n%s", log);
	free(log);
	admin_port = ports[1];
	{
		struct resp r;

		adm("GET", "/v1/status", NULL, &r);
		IT_ASSERT(r.status == 200, "/v1/status on 0.0.0.0: %d", r.status);
		resp_free(&r);
	}
}
END_TEST

/* ---- 3. the read-only endpoints and the refusals ---- */

START_TEST(endpoints)
{
	const char *backend = it_backend(_i);
	char cfg[IT_PATH_MAX], extra[512], addr[64], val[128], *cmd, *out;
	json_object *doc, *ws, *ls;
	bool seen_admin = false, seen_main = false;
	pid_t kids[4];
	int ports[2], st, oport;
	struct it_proc *p;
	struct resp r;

	if (!backend)
		return;
	it_free_ports(ports, 2);
	it_path(cfg, "swerver.json");
	oport = have_proxy() ? origin_start("o1") : 0;
	if (oport)
		snprintf(extra, sizeof(extra), ",\n \"upstreams\": [" UPSTREAM_FMT "],\n"
			 " \"routes\": [" ROUTE("/app", "o1") "]", "o1", oport);
	else
		extra[0] = '\0';
	write_config(cfg, backend, ports[0], ports[1], 2, extra);
	p = start(cfg, ports[0], ports[1]);
	IT_ASSERT(it_wait_children(p->pid, 2, kids, 4, 5000) == 2, "not 2 workers");

	/* status: version, generation, each worker with its real pid, the listeners. */
	doc = adm_json("GET", "/v1/status", NULL, 200);
	IT_ASSERT(get_str(doc, "version") && strcmp(get_str(doc, "version"), PACKAGE_VERSION) == 0,
		  "version: %s", json_object_to_json_string(doc));
	IT_ASSERT(get(doc, "generation") && json_object_get_int64(get(doc, "generation")) >= 1,
		  "generation: %s", json_object_to_json_string(doc));
	ws = get(doc, "workers");
	IT_ASSERT(ws && json_object_array_length(ws) == 2, "want 2 workers: %s",
		  json_object_to_json_string(doc));
	for (size_t i = 0; i < 2; i++) {
		json_object *w = json_object_array_get_idx(ws, i);
		pid_t pid = (pid_t)json_object_get_int64(get(w, "pid"));

		IT_ASSERT(json_object_get_int(get(w, "slot")) == (int)i, "slot %zu: %s", i,
			  json_object_to_json_string(w));
		IT_ASSERT((pid == kids[0] || pid == kids[1]) && pid != p->pid,
			  "workers[%zu].pid %d is not a worker (%d, %d)", i, (int)pid, (int)kids[0],
			  (int)kids[1]);
	}
	IT_ASSERT(json_object_get_int64(get(json_object_array_get_idx(ws, 0), "pid")) !=
		  json_object_get_int64(get(json_object_array_get_idx(ws, 1), "pid")),
		  "both workers have the same pid");
	ls = get(doc, "listeners");
	IT_ASSERT(ls && json_object_array_length(ls) == 2, "want 2 listeners: %s",
		  json_object_to_json_string(doc));
	for (size_t i = 0; i < json_object_array_length(ls); i++) {
		json_object *l = json_object_array_get_idx(ls, i);
		bool is_admin = json_object_get_boolean(get(l, "admin"));

		snprintf(addr, sizeof(addr), "127.0.0.1:%d", is_admin ? ports[1] : ports[0]);
		IT_ASSERT(get_str(l, "address") && strcmp(get_str(l, "address"), addr) == 0,
			  "listener %zu: %s, want address %s", i, json_object_to_json_string(l), addr);
		seen_admin |= is_admin;
		seen_main |= !is_admin;
	}
	IT_ASSERT(seen_admin && seen_main, "listeners: %s", json_object_to_json_string(ls));
	IT_ASSERT(json_object_get_boolean(get(json_object_array_get_idx(ls, 1), "admin")),
		  "the admin listener is not last: %s", json_object_to_json_string(ls));
	json_object_put(doc);

	/* config: the whole running config, the key redacted. */
	adm("GET", "/v1/config", NULL, &r);
	IT_ASSERT(r.status == 200, "/v1/config: %d", r.status);
	IT_ASSERT(resp_header(&r, "Content-Type", val, sizeof(val)) &&
		  strncmp(val, "application/json", 16) == 0, "/v1/config Content-Type %s", val);
	IT_ASSERT(!strstr(r.body, KEY), "/v1/config shows the api_key:\n%s", r.body);
	IT_ASSERT(strstr(r.body, "\"api_key\"") && strstr(r.body, "redacted"),
		  "/v1/config: no redacted api_key:\n%s", r.body);
	doc = json_tokener_parse(r.body);
	IT_ASSERT(doc && get(doc, "server") && get(doc, "admin") && get(doc, "routes"),
		  "/v1/config is not the config: %s", r.body);
	IT_ASSERT(json_object_get_int(get(get(doc, "admin"), "port")) == ports[1], "admin.port: %s",
		  r.body);
	json_object_put(doc);
	resp_free(&r);

	/* metrics: Prometheus text. */
	adm("GET", "/v1/metrics", NULL, &r);
	IT_ASSERT(r.status == 200 && resp_header(&r, "Content-Type", val, sizeof(val)) &&
		  strncmp(val, "text/plain", 10) == 0, "/v1/metrics: %d %s", r.status, val);
	IT_ASSERT(strstr(r.body, "# TYPE swerver_") && strstr(r.body, "# HELP swerver_") &&
		  strstr(r.body, "\nswerver_connections_accepted_total "),
		  "/v1/metrics is not Prometheus text:\n%.600s", r.body);
	resp_free(&r);

	/* routes and upstreams: the config's arrays. */
	IT_ASSERT(array_len("/v1/routes") == (oport ? 1 : 0), "GET /v1/routes");
	IT_ASSERT(array_len("/v1/upstreams") == (oport ? 1 : 0), "GET /v1/upstreams");
	if (oport) {
		doc = adm_json("GET", "/v1/routes", NULL, 200);
		IT_ASSERT(strcmp(get_str(json_object_array_get_idx(doc, 0), "path_prefix"), "/app") == 0,
			  "routes: %s", json_object_to_json_string(doc));
		json_object_put(doc);
		doc = adm_json("GET", "/v1/upstreams", NULL, 200);
		IT_ASSERT(strcmp(get_str(json_object_array_get_idx(doc, 0), "name"), "o1") == 0,
			  "upstreams: %s", json_object_to_json_string(doc));
		json_object_put(doc);
	}

	/* HEAD: the headers of a GET, no body. */
	{
		int fd = req_open(ports[1]), rc;

		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(req_send(fd, "HEAD", "/v1/status", "X-API-Key: " KEY "\r\n", NULL,
					  &r), 0);
		rc = req_read(fd, &r, IO_MS);
		close(fd);
		IT_ASSERT(rc == 0 && r.status == 200 && r.len == 0, "HEAD /v1/status: %d, %zu bytes",
			  r.status, r.len);
		resp_free(&r);
	}

	/* Unknown endpoints, wrong methods. */
	change_fails("GET", "/v1/x", NULL, 404, "no such endpoint");
	change_fails("GET", "/v2/status", NULL, 404, "no such endpoint");
	{
		static const struct { const char *method, *path, *allow; } wrong[] = {
			{ "DELETE", "/v1/status", "GET, HEAD" },
			{ "POST", "/v1/config", "GET, HEAD" },
			{ "PUT", "/v1/metrics", "GET, HEAD" },
			{ "PUT", "/v1/routes", "GET, HEAD, POST" },
			{ "DELETE", "/v1/upstreams", "GET, HEAD, POST" },
			{ "GET", "/v1/routes/%2Fapp", "DELETE" },
			{ "POST", "/v1/upstreams/o1", "DELETE" },
			{ "GET", "/v1/reload", "POST" },
			{ "GET", "/v1/config/persist", "POST" },
		};
		for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
			adm(wrong[i].method, wrong[i].path, NULL, &r);
			IT_ASSERT(r.status == 405, "%s %s: %d, want 405", wrong[i].method, wrong[i].path,
				  r.status);
			IT_ASSERT(resp_header(&r, "Allow", val, sizeof(val)) &&
				  strcmp(val, wrong[i].allow) == 0, "%s %s: Allow \"%s\", want \"%s\"",
				  wrong[i].method, wrong[i].path, val, wrong[i].allow);
			resp_free(&r);
		}
	}

	/* Oversize bodies: announced by Content-Length, and streamed in chunks. */
	{
		int fd = req_open(ports[1]), rc;
		const char *big = "X-API-Key: " KEY "\r\nContent-Type: application/json\r\n"
				  "Content-Length: 2000000\r\n";

		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(req_send(fd, "POST", "/v1/routes", big, NULL, &r), 0);
		rc = req_read(fd, &r, IO_MS);
		close(fd);
		IT_ASSERT(rc == 0 && r.status == 413, "POST of 2000000 bytes (announced): %d (%s)",
			  r.status, strerror(-rc));
		IT_ASSERT(strstr(r.body, "1 MiB"), "413 body: %s", r.body);
		resp_free(&r);
	}
	cmd = NULL;
	if (asprintf(&cmd, "head -c 1200000 /dev/zero | tr '\\0' ' ' | timeout -k 1 20 curl -s "
		     "-o /dev/null -w '%%{http_code}' -H 'X-API-Key: " KEY "' "
		     "-H 'Transfer-Encoding: chunked' -H 'Expect:' --data-binary @- "
		     "http://127.0.0.1:%d/v1/upstreams", ports[1]) < 0)
		ck_abort_msg("asprintf");
	out = it_run(&st, "%s", cmd);
	free(cmd);
	IT_ASSERT(strcmp(out, "413") == 0, "POST of 1200000 bytes (chunked): \"%s\", want 413", out);
	free(out);
	/* A body just under the cap is read (and refused as a route, not as a size). */
	{
		size_t n = 1024 * 1024 - 16;
		char *body = malloc(n + 1);

		ck_assert_ptr_nonnull(body);
		memset(body, ' ', n);
		memcpy(body, "{\"x\": 1}", 8);
		body[n] = '\0';
		adm("POST", "/v1/routes", body, &r);
		free(body);
		IT_ASSERT(r.status == 400, "POST of a 1 MiB - 16 route: %d, want 400: %s", r.status,
			  r.body);
		resp_free(&r);
	}
	/* It still serves after all that. */
	IT_ASSERT(array_len("/v1/routes") == (oport ? 1 : 0), "routes changed");
}
END_TEST

/* ---- 4. route and upstream changes on every worker ---- */

START_TEST(routes_and_upstreams)
{
	const char *backend = it_backend(_i);
	char cfg[IT_PATH_MAX], body[512], result[256];
	int ports[2], o1, o2, st;
	json_object *doc;
	struct resp r;
	int64_t gen;

	if (!backend || !have_proxy())
		return;
	it_free_ports(ports, 2);
	o1 = origin_start("o1");
	o2 = origin_start("o2");
	it_path(cfg, "swerver.json");
	write_config(cfg, backend, ports[0], ports[1], 2, NULL);
	start(cfg, ports[0], ports[1]);
	all_status(ports[0], "/app/name", 404, 4);

	snprintf(body, sizeof(body), UPSTREAM_FMT, "o1", o1);
	change_ok("POST", "/v1/upstreams", body, result, sizeof(result));
	IT_ASSERT(strstr(result, "generation"), "POST /v1/upstreams result: %s", result);
	gen = generation();
	change_ok("POST", "/v1/routes", ROUTE("/app", "o1"), NULL, 0);
	IT_ASSERT(generation() == gen + 1, "generation %lld -> %lld after one change",
		  (long long)gen, (long long)generation());
	/* At once, on new connections: both workers have it. */
	all_workers_serve(ports[0], "/app/name", "o1");
	IT_ASSERT(array_len("/v1/routes") == 1 && array_len("/v1/upstreams") == 1, "counts");

	/* A second upstream; the same path_prefix again replaces the route. */
	snprintf(body, sizeof(body), UPSTREAM_FMT, "o2", o2);
	change_ok("POST", "/v1/upstreams", body, NULL, 0);
	change_ok("POST", "/v1/routes", ROUTE("/app", "o2"), NULL, 0);
	IT_ASSERT(array_len("/v1/routes") == 1, "a POST of the same path_prefix added a route");
	all_workers_serve(ports[0], "/app/name", "o2");
	/* Same name replaces the upstream. */
	snprintf(body, sizeof(body), UPSTREAM_FMT, "o2", o1);
	change_ok("POST", "/v1/upstreams", body, NULL, 0);
	IT_ASSERT(array_len("/v1/upstreams") == 2, "a POST of the same name added an upstream");
	all_workers_serve(ports[0], "/app/name", "o1");
	snprintf(body, sizeof(body), UPSTREAM_FMT, "o2", o2);
	change_ok("POST", "/v1/upstreams", body, NULL, 0);

	/* Invalid changes: 400 with the loader's key path; nothing changes. */
	change_fails("POST", "/v1/routes", "{\"path_prefix\": \"/b\", \"upstream\": \"nope\"}", 400,
		     "routes[1].upstream: no upstream named");
	change_fails("POST", "/v1/routes", "{\"path_prefix\": \"b\", \"upstream\": \"o1\"}", 400,
		     "routes[1].path_prefix: must start with '/'");
	change_fails("POST", "/v1/routes", "{\"upstream\": \"o1\"}", 400,
		     "routes[1].path_prefix: required");
	change_fails("POST", "/v1/routes", "{\"path_prefix\": \"/b\", \"upstream\": \"o1\", "
		     "\"retry\": {\"max_retries\": \"x\"}}", 400, "routes[1].retry.max_retries");
	change_fails("POST", "/v1/routes", "not json", 400, "JSON object");
	change_fails("POST", "/v1/routes", "[1, 2]", 400, "JSON object");
	change_fails("POST", "/v1/routes", NULL, 400, "JSON object");
	change_fails("POST", "/v1/upstreams", "{\"name\": \"o3\", \"servers\": "
		     "[{\"address\": \"127.0.0.1\", \"port\": 70000}]}", 400, "upstreams[2].servers[0].port");
	IT_ASSERT(array_len("/v1/routes") == 1 && array_len("/v1/upstreams") == 2,
		  "a refused change changed the config");
	all_workers_serve(ports[0], "/app/name", "o2");

	/* An upstream in use cannot go; unknown names are 404. */
	change_fails("DELETE", "/v1/upstreams/o2", NULL, 409, "routes[0]");
	change_fails("DELETE", "/v1/upstreams/nope", NULL, 404, "nope");
	change_fails("DELETE", "/v1/routes/%2Fnope", NULL, 404, "/nope");
	change_fails("DELETE", "/v1/routes/%2Fap", NULL, 404, "/ap");   /* prefix of a prefix */
	change_fails("DELETE", "/v1/routes/%zz", NULL, 400, "URL-encoded");
	change_fails("DELETE", "/v1/routes/%2", NULL, 400, "URL-encoded");
	IT_ASSERT(array_len("/v1/upstreams") == 2 && array_len("/v1/routes") == 1, "counts after");

	/* A chunked body that arrives in pieces; and one over HTTP/2. */
	post_chunked("/v1/routes", ROUTE("/chunked", "o1"), 3, &r);
	IT_ASSERT(r.status == 200, "chunked POST /v1/routes: %d %s", r.status, r.body);
	resp_free(&r);
	all_workers_serve(ports[0], "/chunked/name", "o1");
	change_ok("DELETE", "/v1/routes/%2Fchunked", NULL, NULL, 0);
	if (sw_module_find("http2")) {
		char *out = it_run(&st, "printf '%%s' '" ROUTE("/h2", "o1") "' | timeout -k 1 10 "
				   "curl -s --http2-prior-knowledge -o /dev/null -w '%%{http_code} "
				   "%%{http_version}' -H 'X-API-Key: " KEY "' -H 'Content-Type: "
				   "application/json' --data-binary @- http://127.0.0.1:%d/v1/routes",
				   ports[1]);
		IT_ASSERT(strcmp(out, "200 2") == 0, "POST /v1/routes over h2c: \"%s\"", out);
		free(out);
		all_workers_serve(ports[0], "/h2/name", "o1");
		change_ok("DELETE", "/v1/routes/%2Fh2", NULL, NULL, 0);
	}

	/* URL-encoded prefixes: slashes, a space, a percent sign, hex of either case. */
	change_ok("POST", "/v1/routes", ROUTE("/v2/x y%", "o1"), NULL, 0);
	change_ok("POST", "/v1/routes", ROUTE("/v3", "o1"), NULL, 0);
	IT_ASSERT(array_len("/v1/routes") == 3, "3 routes");
	all_status(ports[0], "/v3/name", 200, 4);
	change_ok("DELETE", "/v1/routes/%2fv2%2Fx%20y%25", NULL, NULL, 0);
	change_ok("DELETE", "/v1/routes//v3", NULL, NULL, 0);   /* a bare slash works too */
	doc = adm_json("GET", "/v1/routes", NULL, 200);
	IT_ASSERT(json_object_array_length(doc) == 1 &&
		  strcmp(get_str(json_object_array_get_idx(doc, 0), "path_prefix"), "/app") == 0,
		  "after the deletes: %s", json_object_to_json_string(doc));
	json_object_put(doc);
	all_status(ports[0], "/v3/name", 404, 6);

	/* Delete the route: /app is gone on every worker; then its upstream may go. */
	change_ok("DELETE", "/v1/routes/%2Fapp", NULL, NULL, 0);
	all_status(ports[0], "/app/name", 404, 10);
	change_ok("DELETE", "/v1/upstreams/o2", NULL, NULL, 0);
	change_ok("DELETE", "/v1/upstreams/o1", NULL, NULL, 0);
	IT_ASSERT(array_len("/v1/routes") == 0 && array_len("/v1/upstreams") == 0, "not empty");
}
END_TEST

/* ---- 5. a restarted worker gets the live config ---- */

START_TEST(worker_crash_keeps_live_config)
{
	const char *backend = it_backend(_i);
	char cfg[IT_PATH_MAX], extra[256];
	pid_t kids[4], after[4];
	int ports[2], o1, n;
	struct it_proc *p;
	json_object *doc;
	size_t from;
	char *text;

	if (!backend || !have_proxy())
		return;
	it_free_ports(ports, 2);
	o1 = origin_start("o1");
	it_path(cfg, "swerver.json");
	snprintf(extra, sizeof(extra), ",\n \"upstreams\": [" UPSTREAM_FMT "]", "o1", o1);
	write_config(cfg, backend, ports[0], ports[1], 2, extra);
	p = start(cfg, ports[0], ports[1]);
	change_ok("POST", "/v1/routes", ROUTE("/app", "o1"), NULL, 0);
	all_workers_serve(ports[0], "/app/name", "o1");

	for (int k = 0; k < 2; k++) {   /* each worker in turn, by slot */
		pid_t victim = slot_pid(k), now;

		IT_ASSERT(victim > 0 && victim != p->pid && it_children(p->pid, kids, 4) == 2,
			  "slot %d has pid %d", k, (int)victim);
		from = it_log_size(p);
		kill(victim, SIGKILL);
		IT_ASSERT(it_wait_gone(&victim, 1, 2000), "worker %d survived SIGKILL", (int)victim);
		IT_ASSERT(it_wait_log(p, from, "serving on the", 5000), "worker %d was not restarted",
			  k);
		n = it_wait_children(p->pid, 2, after, 4, 5000);
		IT_ASSERT(n == 2, "%d workers after the kill", n);
		now = slot_pid(k);
		IT_ASSERT(now > 0 && now != victim && !it_pid_gone(now), "slot %d: pid %d after the "
			  "restart (killed %d)", k, (int)now, (int)victim);
		/* Its restart serves the route the file does not have. */
		all_workers_serve(ports[0], "/app/name", "o1");
		IT_ASSERT(array_len("/v1/routes") == 1, "the route is gone from /v1/routes");
	}
	doc = adm_json("GET", "/v1/status", NULL, 200);
	IT_ASSERT(json_object_get_int(get(doc, "worker_restarts")) == 2, "worker_restarts: %s",
		  json_object_to_json_string(doc));
	json_object_put(doc);
	text = it_read_file(cfg);
	IT_ASSERT(!strstr(text, "/app"), "the config file changed:\n%s", text);
	free(text);
}
END_TEST

/* ---- 6. POST /v1/reload ---- */

START_TEST(reload)
{
	const char *backend = it_backend(_i);
	char cfg[IT_PATH_MAX], extra[512], result[256];
	pid_t kids[4], after[4];
	int ports[2], o1;
	struct it_proc *p;
	json_object *doc;

	if (!backend || !have_proxy())
		return;
	it_free_ports(ports, 2);
	o1 = origin_start("o1");
	it_path(cfg, "swerver.json");
	snprintf(extra, sizeof(extra), ",\n \"upstreams\": [" UPSTREAM_FMT "]", "o1", o1);
	write_config(cfg, backend, ports[0], ports[1], 2, extra);
	p = start(cfg, ports[0], ports[1]);
	all_status(ports[0], "/app/name", 404, 4);

	/* A route added in the file: in place, on both workers. */
	snprintf(extra, sizeof(extra), ",\n \"upstreams\": [" UPSTREAM_FMT "],\n \"routes\": ["
		 ROUTE("/app", "o1") "]", "o1", o1);
	write_config(cfg, backend, ports[0], ports[1], 2, extra);
	change_ok("POST", "/v1/reload", NULL, result, sizeof(result));
	IT_ASSERT(strstr(result, "reloaded in place"), "reload result: %s", result);
	all_workers_serve(ports[0], "/app/name", "o1");

	/* A broken file: 400 with the loader's error; the running config keeps serving. */
	snprintf(extra, sizeof(extra), ",\n \"upstreams\": [" UPSTREAM_FMT "],\n \"routes\": ["
		 ROUTE("/app", "o1") ", " ROUTE("/b", "missing") "]", "o1", o1);
	write_config(cfg, backend, ports[0], ports[1], 2, extra);
	change_fails("POST", "/v1/reload", NULL, 400, "routes[1].upstream: no upstream named");
	it_write_file(cfg, "{\"server\": {");
	change_fails("POST", "/v1/reload", NULL, 400, "JSON syntax error");
	all_workers_serve(ports[0], "/app/name", "o1");
	doc = adm_json("GET", "/v1/status", NULL, 200);
	IT_ASSERT(json_object_get_int(get(doc, "reload_failures")) == 2, "reload_failures: %s",
		  json_object_to_json_string(doc));
	IT_ASSERT(get_str(doc, "last_reload") && strstr(get_str(doc, "last_reload"), "failed"),
		  "last_reload: %s", json_object_to_json_string(doc));
	json_object_put(doc);

	/* A structural change (new workers): the answer waits for them, then it is live. */
	IT_ASSERT(it_wait_children(p->pid, 2, kids, 4, 5000) == 2, "not 2 workers");
	it_write_filef(cfg,
		"{\"server\": {\"listeners\": [{\"address\": \"127.0.0.1\", \"port\": %d}],\n"
		"  \"workers\": 2, \"io_backend\": \"%s\", \"max_connections\": 1000},\n"
		" \"timeouts\": {\"drain_ms\": 1000},\n"
		" \"admin\": {\"enabled\": true, \"port\": %d, \"api_key\": \"" KEY "\"},\n"
		" \"upstreams\": [" UPSTREAM_FMT "],\n"
		" \"routes\": [" ROUTE("/app", "o1") ", " ROUTE("/new", "o1") "]}\n",
		ports[0], backend, ports[1], "o1", o1);
	change_ok("POST", "/v1/reload", NULL, result, sizeof(result));
	IT_ASSERT(strstr(result, "reloaded: generation"), "structural reload result: %s", result);
	IT_ASSERT(it_wait_gone(kids, 2, 5000), "the old workers did not exit");
	IT_ASSERT(it_wait_children(p->pid, 2, after, 4, 5000) == 2, "not 2 new workers");
	all_workers_serve(ports[0], "/new/name", "o1");
	all_workers_serve(ports[0], "/app/name", "o1");
	doc = adm_json("GET", "/v1/config", NULL, 200);
	IT_ASSERT(json_object_get_int(get(get(doc, "server"), "max_connections")) == 1000,
		  "max_connections not live: %s", json_object_to_json_string(get(doc, "server")));
	json_object_put(doc);
}
END_TEST

/* ---- 7. persist, and a restart from the persisted file ---- */

START_TEST(persist_round_trip)
{
	const char *backend = it_backend(_i);
	char cfg[IT_PATH_MAX], extra[256], result[512], *before, *after, *text, *log;
	int ports[2], o1, code;
	struct it_proc *p;
	struct stat st;
	struct resp r;

	if (!backend || !have_proxy())
		return;
	it_free_ports(ports, 2);
	o1 = origin_start("o1");
	it_path(cfg, "swerver.json");
	snprintf(extra, sizeof(extra), ",\n \"upstreams\": [" UPSTREAM_FMT "]", "o1", o1);
	write_config(cfg, backend, ports[0], ports[1], 2, extra);
	ck_assert_int_eq(chmod(cfg, 0640), 0);
	p = start(cfg, ports[0], ports[1]);

	change_ok("POST", "/v1/routes", ROUTE("/app", "o1"), NULL, 0);
	change_ok("POST", "/v1/config/persist", NULL, result, sizeof(result));
	IT_ASSERT(strstr(result, cfg), "persist result \"%s\" does not name %s", result, cfg);
	text = it_read_file(cfg);
	IT_ASSERT(strstr(text, "\"/app\""), "the persisted file has no /app route:\n%s", text);
	IT_ASSERT(strstr(text, KEY), "the persisted file lost the api_key:\n%s", text);
	free(text);
	ck_assert_int_eq(stat(cfg, &st), 0);
	IT_ASSERT((st.st_mode & 07777) == 0640, "mode %04o after persist, want 0640",
		  (unsigned)(st.st_mode & 07777));
	/* No temporary file left beside it. */
	text = it_run(NULL, "ls -a '%s'", it_tmpdir());
	IT_ASSERT(!strstr(text, "swerver.json."), "left beside the config: %s", text);
	free(text);
	code = check_config(cfg, &log);
	IT_ASSERT(code == 0, "-t on the persisted file: %s\n%s", it_code_str(code), log);
	free(log);

	adm("GET", "/v1/config", NULL, &r);
	IT_ASSERT(r.status == 200, "/v1/config: %d", r.status);
	before = r.body;

	/* Stop, start from the persisted file: the same running config. */
	ck_assert_int_eq(it_signal(p, SIGTERM), 0);
	code = it_wait_exit(p, 5000);
	IT_ASSERT(code == 0, "swerver exited with %s", it_code_str(code));
	start(cfg, ports[0], ports[1]);
	adm("GET", "/v1/config", NULL, &r);
	IT_ASSERT(r.status == 200, "/v1/config after the restart: %d", r.status);
	after = r.body;
	IT_ASSERT(strcmp(before, after) == 0, "/v1/config differs after a restart from the "
		  "persisted file:\n--- before\n%s\n--- after\n%s", before, after);
	free(before);
	free(after);
	all_workers_serve(ports[0], "/app/name", "o1");
	/* A second persist of the same config keeps the mode as well. */
	change_ok("POST", "/v1/config/persist", NULL, NULL, 0);
	ck_assert_int_eq(stat(cfg, &st), 0);
	IT_ASSERT((st.st_mode & 07777) == 0640, "mode %04o after a second persist",
		  (unsigned)(st.st_mode & 07777));
}
END_TEST

/* ---- 8. single-process mode ---- */

START_TEST(single_process)
{
	const char *backend = it_backend(_i);
	char cfg[IT_PATH_MAX], extra[256], result[256];
	int ports[2], o1;
	struct it_proc *p;
	json_object *doc, *ws;
	pid_t kids[2];
	char *text;

	if (!backend || !have_proxy())
		return;
	it_free_ports(ports, 2);
	o1 = origin_start("o1");
	it_path(cfg, "swerver.json");
	snprintf(extra, sizeof(extra), ",\n \"upstreams\": [" UPSTREAM_FMT "]", "o1", o1);
	write_config(cfg, backend, ports[0], ports[1], 1, extra);
	p = start(cfg, ports[0], ports[1]);
	IT_ASSERT(it_log_has(p, "(single process)"), "not single-process");
	IT_ASSERT(it_children(p->pid, kids, 2) == 0, "a single process has children");

	doc = adm_json("GET", "/v1/status", NULL, 200);
	ws = get(doc, "workers");
	IT_ASSERT(ws && json_object_array_length(ws) == 1, "workers: %s",
		  json_object_to_json_string(doc));
	IT_ASSERT(json_object_get_int64(get(json_object_array_get_idx(ws, 0), "pid")) == p->pid,
		  "workers[0].pid is not the process (%d): %s", (int)p->pid,
		  json_object_to_json_string(ws));
	json_object_put(doc);

	all_status(ports[0], "/app/name", 404, 2);
	change_ok("POST", "/v1/routes", ROUTE("/app", "o1"), result, sizeof(result));
	IT_ASSERT(strstr(result, "generation"), "result: %s", result);
	all_status(ports[0], "/app/name", 200, 5);
	change_fails("POST", "/v1/routes", "{\"path_prefix\": \"/b\", \"upstream\": \"nope\"}", 400,
		     "routes[1].upstream: no upstream named");
	change_fails("DELETE", "/v1/upstreams/o1", NULL, 409, "routes[0]");
	IT_ASSERT(array_len("/v1/routes") == 1, "routes");

	/* reload from the file (which has no route) and persist, answered by the process itself. */
	change_ok("POST", "/v1/config/persist", NULL, NULL, 0);
	text = it_read_file(cfg);
	IT_ASSERT(strstr(text, "\"/app\""), "persist did not write the route:\n%s", text);
	free(text);
	change_ok("DELETE", "/v1/routes/%2Fapp", NULL, NULL, 0);
	all_status(ports[0], "/app/name", 404, 3);
	change_ok("POST", "/v1/reload", NULL, NULL, 0);   /* the persisted file has /app */
	all_status(ports[0], "/app/name", 200, 3);
	it_write_file(cfg, "{");
	change_fails("POST", "/v1/reload", NULL, 400, "JSON syntax error");
	all_status(ports[0], "/app/name", 200, 3);
	IT_ASSERT(it_poll_exit(p) == IT_TIMEOUT, "the process exited");
}
END_TEST

/* ---- 9. changes one after another, and side by side, are all kept ---- */

#define NCHANGES 10

/* Starts swerver (2 workers) with upstream o1 and no routes. */
static void start_with_origin(const char *backend, int *port)
{
	char cfg[IT_PATH_MAX], extra[256];
	int ports[2], o1;

	it_free_ports(ports, 2);
	o1 = origin_start("o1");
	it_path(cfg, "swerver.json");
	snprintf(extra, sizeof(extra), ",\n \"upstreams\": [" UPSTREAM_FMT "]", "o1", o1);
	write_config(cfg, backend, ports[0], ports[1], 2, extra);
	start(cfg, ports[0], ports[1]);
	*port = ports[0];
}

/* True when GET /v1/routes lists path_prefix. */
static bool has_route(json_object *routes, const char *prefix)
{
	for (size_t i = 0; i < json_object_array_length(routes); i++) {
		const char *p = get_str(json_object_array_get_idx(routes, i), "path_prefix");
		if (p && strcmp(p, prefix) == 0)
			return true;
	}
	return false;
}

/*
 * Each POST waits for its 200 before the next (each on a new connection,
 * so they land on either worker): every one is kept.
 */
START_TEST(sequential_changes_all_kept)
{
	const char *backend = it_backend(_i);
	char body[256], prefix[32];
	json_object *routes;
	int port;

	if (!backend || !have_proxy())
		return;
	start_with_origin(backend, &port);
	for (int i = 0; i < NCHANGES; i++) {
		snprintf(body, sizeof(body), "{\"path_prefix\": \"/s%d\", \"upstream\": \"o1\"}", i);
		change_ok("POST", "/v1/routes", body, NULL, 0);
	}
	routes = adm_json("GET", "/v1/routes", NULL, 200);
	for (int i = 0; i < NCHANGES; i++) {
		snprintf(prefix, sizeof(prefix), "/s%d", i);
		IT_ASSERT(has_route(routes, prefix), "route %s (answered 200) is lost: %s", prefix,
			  json_object_to_json_string(routes));
	}
	json_object_put(routes);
}
END_TEST

/*
 * NCHANGES POSTs of different routes sent at once (on both workers): each
 * that is answered 200 must be in the running config afterwards.  (A 200
 * for a change that a concurrent one then silently undid is a lost update.)
 */
START_TEST(concurrent_changes_all_kept)
{
	const char *backend = it_backend(_i);
	char body[256], prefix[32], lost[512] = "";
	struct resp rs[NCHANGES];
	int fds[NCHANGES], port, ok = 0, nlost = 0;
	json_object *routes;

	if (!backend || !have_proxy())
		return;
	start_with_origin(backend, &port);
	for (int i = 0; i < NCHANGES; i++) {
		fds[i] = req_open(admin_port);
		IT_ASSERT(fds[i] >= 0, "connect: %s", strerror(-fds[i]));
	}
	for (int i = 0; i < NCHANGES; i++) {
		snprintf(body, sizeof(body), "{\"path_prefix\": \"/c%d\", \"upstream\": \"o1\"}", i);
		ck_assert_int_eq(req_send(fds[i], "POST", "/v1/routes", "X-API-Key: " KEY "\r\n", body,
					  &rs[i]), 0);
	}
	for (int i = 0; i < NCHANGES; i++) {
		int rc = req_read(fds[i], &rs[i], IO_MS);

		close(fds[i]);
		IT_ASSERT(rc == 0, "POST %d: no answer (%s)", i, strerror(-rc));
		IT_ASSERT(rs[i].status == 200 || rs[i].status == 409 || rs[i].status == 503,
			  "POST %d: %d %s", i, rs[i].status, rs[i].body);
		if (rs[i].status == 200)
			ok++;
	}
	routes = adm_json("GET", "/v1/routes", NULL, 200);
	for (int i = 0; i < NCHANGES; i++) {
		snprintf(prefix, sizeof(prefix), "/c%d", i);
		if (rs[i].status == 200 && !has_route(routes, prefix)) {
			nlost++;
			snprintf(lost + strlen(lost), sizeof(lost) - strlen(lost), " %s", prefix);
		}
		resp_free(&rs[i]);
	}
	IT_ASSERT(nlost == 0, "%d of %d concurrent POST /v1/routes answered 200, yet %d of them are "
		  "not in the running config (lost:%s): %s", ok, NCHANGES, nlost, lost,
		  json_object_to_json_string(routes));
	json_object_put(routes);
}
END_TEST

/* ---- 10. a decoded name never ends early at a %00 ---- */

START_TEST(delete_name_with_nul)
{
	const char *backend = it_backend(_i);
	int port;

	if (!backend || !have_proxy())
		return;
	start_with_origin(backend, &port);
	change_ok("POST", "/v1/routes", ROUTE("/app", "o1"), NULL, 0);
	{
		struct resp r;

		/* "/app\0junk" is not "/app": 400 (or 404), and /app stays. */
		adm("DELETE", "/v1/routes/%2Fapp%00junk", NULL, &r);
		IT_ASSERT(r.status == 400 || r.status == 404, "DELETE /v1/routes/%%2Fapp%%00junk: %d "
			  "%s, want 400 or 404", r.status, r.body);
		resp_free(&r);
		IT_ASSERT(array_len("/v1/routes") == 1, "DELETE of \"/app%%00junk\" deleted /app");
	}
}
END_TEST

/* ---- 11. a reload whose new workers never become ready ---- */

#define RELOAD_MS 1000
#define KILL_GRACE_MS 2000   /* the master's SIGTERM-to-SIGKILL grace */

/*
 * Two workers, the admin API, timeouts.reload_ms (RELOAD_MS unless given),
 * and `access_log` (a JSON object) when not NULL.
 */
static void write_reload_config(const char *path, const char *backend, int port, int aport,
				int reload_ms, const char *access_log)
{
	it_write_filef(path,
		"{\"server\": {\"listeners\": [{\"address\": \"127.0.0.1\", \"port\": %d}],\n"
		"  \"workers\": 2, \"io_backend\": \"%s\"},\n"
		" \"timeouts\": {\"drain_ms\": 1000, \"reload_ms\": %d},\n"
		" \"admin\": {\"enabled\": true, \"port\": %d, \"api_key\": \"" KEY "\"}%s%s}\n",
		port, backend, reload_ms ? reload_ms : RELOAD_MS, aport,
		access_log ? ",\n \"access_log\": " : "", access_log ? access_log : "");
}

/* The live children of the master that are not in old[2] (at most max). */
static int new_children(pid_t master, const pid_t *old, pid_t *out, int max)
{
	pid_t all[8];
	int n = it_children(master, all, 8), k = 0;

	for (int i = 0; i < n && k < max; i++)
		if (all[i] != old[0] && all[i] != old[1])
			out[k++] = all[i];
	return k;
}

/* POST /v1/reload sent on its own connection; the answer is read later. */
static int reload_begin(struct resp *r)
{
	int fd = req_open(admin_port);

	IT_ASSERT(fd >= 0, "connect to the admin API: %s", strerror(-fd));
	ck_assert_int_eq(req_send(fd, "POST", "/v1/reload", "X-API-Key: " KEY "\r\n", NULL, r), 0);
	return fd;
}

/*
 * GET /.healthz on new connections, each of which must be 200, until fd has
 * something to read (at most timeout_ms); returns how many were made.
 */
static int serve_until_readable(int fd, int port, int timeout_ms)
{
	int64_t end = it_now_ms() + timeout_ms;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int n = 0;

	while (poll(&pfd, 1, 0) == 0 && it_now_ms() < end) {
		struct resp r;

		request(port, "GET", "/.healthz", NULL, NULL, &r);
		IT_ASSERT(r.status == 200, "GET /.healthz %d during the reload: %d", n + 1, r.status);
		resp_free(&r);
		n++;
	}
	return n;
}

/* The old workers, and only they, are the master's children, in their slots. */
static void assert_old_workers(struct it_proc *p, const pid_t *old)
{
	pid_t now[8];
	int n = it_children(p->pid, now, 8);

	IT_ASSERT(n == 2 && ((now[0] == old[0] && now[1] == old[1]) ||
			     (now[0] == old[1] && now[1] == old[0])),
		  "the old workers %d and %d are not the only children (%d live)", (int)old[0],
		  (int)old[1], n);
	for (int slot = 0; slot < 2; slot++) {
		pid_t pid = slot_pid(slot);

		IT_ASSERT(pid == old[0] || pid == old[1], "/v1/status gives slot %d pid %d, not an "
			  "old worker's (%d, %d)", slot, (int)pid, (int)old[0], (int)old[1]);
	}
}

/* /v1/status after one failed reload: its reason, the count, the generation unchanged. */
static void assert_failed_status(int64_t gen, const char *needle)
{
	json_object *doc = adm_json("GET", "/v1/status", NULL, 200);
	const char *last = get_str(doc, "last_reload");

	IT_ASSERT(last && strncmp(last, "failed: ", 8) == 0 && strstr(last, needle),
		  "last_reload should say \"failed: ...%s...\": %s", needle,
		  json_object_to_json_string(doc));
	IT_ASSERT(json_object_get_int(get(doc, "reload_failures")) == 1 &&
		  json_object_get_int64(get(doc, "generation")) == gen,
		  "want reload_failures 1 and generation %lld: %s", (long long)gen,
		  json_object_to_json_string(doc));
	json_object_put(doc);
}

/*
 * How a new generation is made to hang without a back door: its workers
 * open the access log themselves, at start-up, before they say READY, and
 * open(2) for writing of a FIFO blocks until a reader opens it, which
 * nobody does.  The access log target is structural, so the reload forks
 * new workers, and the old ones, never told anything, do not touch the
 * FIFO.  The stuck workers have SIGTERM blocked (it is read from a
 * signalfd once their loop runs), so this also covers the SIGKILL after
 * the grace.  Deterministic: no timing race decides whether they hang.
 */
START_TEST(reload_never_ready)
{
	const char *backend = it_backend(_i);
	char cfg[IT_PATH_MAX], fifo[IT_PATH_MAX], alog[IT_PATH_MAX], obj[IT_PATH_MAX + 64];
	char result[256], *text;
	pid_t old[4], stuck[4], fresh[4];
	int ports[2], fd, rc, n, served;
	int64_t gen, took;
	struct it_proc *p;
	json_object *doc;
	struct resp r;
	size_t from;

	if (!backend)
		return;
	it_free_ports(ports, 2);
	it_path(cfg, "swerver.json");
	it_path(fifo, "access.fifo");
	it_path(alog, "access.log");
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	write_reload_config(cfg, backend, ports[0], ports[1], 0, NULL);
	p = start(cfg, ports[0], ports[1]);
	IT_ASSERT(it_wait_children(p->pid, 2, old, 4, 5000) == 2, "not 2 workers");
	gen = generation();

	snprintf(obj, sizeof(obj), "{\"format\": \"combined\", \"target\": \"%s\"}", fifo);
	write_reload_config(cfg, backend, ports[0], ports[1], 0, obj);
	from = it_log_size(p);
	fd = reload_begin(&r);
	IT_ASSERT(it_wait_children(p->pid, 4, stuck, 4, 5000) == 4, "the new workers did not start");
	n = new_children(p->pid, old, stuck, 4);
	IT_ASSERT(n == 2, "%d new workers, want 2", n);

	/* Pending: another change is turned away; the old workers serve until the answer. */
	change_fails("POST", "/v1/reload", NULL, 503, "in progress");
	IT_ASSERT(generation() == gen, "the generation went up before the new workers were ready");
	served = serve_until_readable(fd, ports[0], RELOAD_MS + KILL_GRACE_MS + 5000);
	IT_ASSERT(served > 0, "no request made while the reload was pending");

	/* 500 once the deadline passed and the stuck workers are gone. */
	rc = req_read(fd, &r, 1000);
	close(fd);
	took = r.ms;
	IT_ASSERT(rc == 0, "POST /v1/reload: no answer (%s)", strerror(-rc));
	IT_ASSERT(r.status == 500 && strstr(r.body, "\"error\"") &&
		  strstr(r.body, "new workers not ready within 1000 ms: 0 of 2 ready"),
		  "POST /v1/reload of a generation that hangs: %d %s", r.status, r.body);
	resp_free(&r);
	if (getenv("IT_VERBOSE"))
		fprintf(stderr, "%s: %d requests served during the reload, failure after %lld ms\n",
			backend, served, (long long)took);
	IT_ASSERT(took >= RELOAD_MS - 50 && took < RELOAD_MS + KILL_GRACE_MS + 4000,
		  "the failure came after %lld ms (reload_ms %d)", (long long)took, RELOAD_MS);
	for (int i = 0; i < 2; i++)
		IT_ASSERT(it_pid_gone(stuck[i]), "new worker %d outlived the failed reload",
			  (int)stuck[i]);
	assert_old_workers(p, old);
	IT_ASSERT(it_log_has(p, "reload failed (new workers not ready within 1000 ms") &&
		  it_wait_log(p, from, "did not exit; killing it", 1000),
		  "the log does not say why the reload failed and what was killed");
	assert_failed_status(gen, "new workers not ready within 1000 ms");
	all_status(ports[0], "/.healthz", 200, SPREAD);

	/*
	 * The master's own config is the old one again: persisted, it has no
	 * FIFO (workers started from it, or sent its values, would block).
	 */
	change_ok("POST", "/v1/config/persist", NULL, NULL, 0);
	text = it_read_file(cfg);
	IT_ASSERT(!strstr(text, fifo) && strstr(text, "\"reload_ms\": 1000"),
		  "the master kept the abandoned config:\n%s", text);
	free(text);
	doc = adm_json("GET", "/v1/config", NULL, 200);
	IT_ASSERT(!strstr(json_object_to_json_string(doc), "access.fifo"), "GET /v1/config: %s",
		  json_object_to_json_string(doc));
	json_object_put(doc);

	/* The next reload goes ahead, and its new workers replace the old ones. */
	snprintf(obj, sizeof(obj), "{\"format\": \"combined\", \"target\": \"%s\"}", alog);
	write_reload_config(cfg, backend, ports[0], ports[1], 0, obj);
	change_ok("POST", "/v1/reload", NULL, result, sizeof(result));
	IT_ASSERT(strstr(result, "reloaded: generation"), "the next reload: %s", result);
	IT_ASSERT(it_wait_gone(old, 2, 5000), "the old workers were not drained");
	IT_ASSERT(it_wait_children(p->pid, 2, fresh, 4, 5000) == 2, "not 2 new workers");
	all_status(ports[0], "/.healthz", 200, SPREAD);
	IT_ASSERT(generation() == gen + 1, "generation %lld after one good reload from %lld",
		  (long long)generation(), (long long)gen);
}
END_TEST

/*
 * New workers that exit at once (their access log's directory does not
 * exist) give the reload up at the crash-loop count, long before
 * reload_ms; the master goes on with the old config.
 */
START_TEST(reload_new_workers_crash)
{
	const char *backend = it_backend(_i);
	char cfg[IT_PATH_MAX], obj[IT_PATH_MAX + 64], result[256];
	pid_t old[4];
	int ports[2], fd, rc;
	struct it_proc *p;
	struct resp r;
	int64_t gen;

	if (!backend)
		return;
	it_free_ports(ports, 2);
	it_path(cfg, "swerver.json");
	write_reload_config(cfg, backend, ports[0], ports[1], 0, NULL);
	p = start(cfg, ports[0], ports[1]);
	IT_ASSERT(it_wait_children(p->pid, 2, old, 4, 5000) == 2, "not 2 workers");
	gen = generation();

	snprintf(obj, sizeof(obj), "{\"format\": \"json\", \"target\": \"%s/no/such/dir/access.log\"}",
		 it_tmpdir());
	write_reload_config(cfg, backend, ports[0], ports[1], 60000, obj);
	fd = reload_begin(&r);
	rc = req_read(fd, &r, 15000);
	close(fd);
	IT_ASSERT(rc == 0, "POST /v1/reload: no answer (%s)", strerror(-rc));
	IT_ASSERT(r.status == 500 && strstr(r.body, "failed 5 times in a row: exited with status 1"),
		  "POST /v1/reload of crashing workers: %d %s", r.status, r.body);
	IT_ASSERT(r.ms < 10000, "the crash loop was given up only after %lld ms", (long long)r.ms);
	resp_free(&r);
	assert_old_workers(p, old);
	assert_failed_status(gen, "failed 5 times in a row");
	all_status(ports[0], "/.healthz", 200, SPREAD);

	/* The running config is the old one: the file back as it was is no change. */
	write_reload_config(cfg, backend, ports[0], ports[1], 0, NULL);
	change_ok("POST", "/v1/reload", NULL, result, sizeof(result));
	IT_ASSERT(strstr(result, "unchanged"), "reload of the old file: %s", result);
	assert_old_workers(p, old);
}
END_TEST

/*
 * log.target is opened by the master and, in place, by every worker: a
 * FIFO without a reader there must not block them (it is refused).
 */
START_TEST(log_target_fifo_does_not_hang)
{
	const char *backend = it_backend(_i);
	char cfg[IT_PATH_MAX], fifo[IT_PATH_MAX], result[256], extra[IT_PATH_MAX + 64];
	int ports[2];
	struct it_proc *p;
	size_t from;

	if (!backend)
		return;
	it_free_ports(ports, 2);
	it_path(cfg, "swerver.json");
	it_path(fifo, "error.fifo");
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	write_config(cfg, backend, ports[0], ports[1], 2, NULL);
	p = start(cfg, ports[0], ports[1]);
	snprintf(extra, sizeof(extra), ",\n \"log\": {\"target\": \"%s\"}", fifo);
	write_config(cfg, backend, ports[0], ports[1], 2, extra);
	from = it_log_size(p);
	change_ok("POST", "/v1/reload", NULL, result, sizeof(result));
	IT_ASSERT(strstr(result, "reloaded in place"), "reload result: %s", result);
	IT_ASSERT(it_wait_log_n(p, from, "cannot open log file", 3, 3000),
		  "the master and both workers should refuse %s", fifo);
	all_status(ports[0], "/.healthz", 200, SPREAD);
}
END_TEST

static Suite *admin_suite(void)
{
	Suite *s = suite_create("admin");
	TCase *tc = it_tcase("admin");

	tcase_add_loop_test(tc, auth, 0, 2);
	tcase_add_loop_test(tc, config_errors, 0, 2);
	tcase_add_loop_test(tc, endpoints, 0, 2);
	tcase_add_loop_test(tc, routes_and_upstreams, 0, 2);
	tcase_add_loop_test(tc, worker_crash_keeps_live_config, 0, 2);
	tcase_add_loop_test(tc, reload, 0, 2);
	tcase_add_loop_test(tc, persist_round_trip, 0, 2);
	tcase_add_loop_test(tc, single_process, 0, 2);
	tcase_add_loop_test(tc, sequential_changes_all_kept, 0, 2);
	tcase_add_loop_test(tc, concurrent_changes_all_kept, 0, 2);
	tcase_add_loop_test(tc, delete_name_with_nul, 0, 2);
	tcase_add_loop_test(tc, reload_never_ready, 0, 2);
	tcase_add_loop_test(tc, reload_new_workers_crash, 0, 2);
	tcase_add_loop_test(tc, log_target_fifo_does_not_hang, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

IT_SUITE(admin_suite);
