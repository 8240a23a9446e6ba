/* test_proxy.c - the reverse proxy end to end: forwarded headers, routing, balancers, failover, active health, keep-alive pools, streaming, upstream errors, rate limits, WebSocket, metrics.  Upstreams are tests/backend/origin. */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
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

/* Every client command runs under this cap, so a hung client cannot hang the suite. */
#define T "timeout -k 1 25 "
#define BIG (100ull * 1024 * 1024)       /* the streamed transfers */
#define RSS_SLACK_KB (32 * 1024)         /* how much a 100 MiB transfer may grow the worker */
#define IO_MS 5000

/* One upstream server in a config, and the small timeouts every route gets. */
#define SRV "{\"address\": \"127.0.0.1\", \"port\": %d}"
#define TMO "\"connect_timeout_ms\": 500, \"read_timeout_ms\": 2000"
/* A route for prefix to upstream up, the prefix replaced by "/" upstream. */
#define ROUTE(prefix, up) "{\"path_prefix\": \"" prefix "\", \"upstream\": \"" up "\", " \
	"\"rewrite_pattern\": \"" prefix "\", \"rewrite_replacement\": \"/\", " TMO "}"

static bool have_proxy(int i)
{
	if (!it_backend(i))
		return false;
	if (!sw_module_find("proxy")) {
		fprintf(stderr, "note: built without the proxy; skipping\n");
		return false;
	}
	return true;
}

/* ---- origins: tests/backend/origin, and a tiny request-line capture server ---- */

struct origin {
	pid_t pid;
	int port;
	char name[32];
};

#define MAX_ORIGINS 8
static struct origin origins[MAX_ORIGINS];
static int norigins;
static bool origins_atexit;

static void origin_kill(struct origin *o)
{
	/* Only a child of ours that is still there: never a recycled pid. */
	if (o->pid > 0 && waitpid(o->pid, NULL, WNOHANG) == 0) {
		kill(o->pid, SIGKILL);
		waitpid(o->pid, NULL, 0);
	}
	o->pid = 0;
}

static void origins_kill_all(void)
{
	for (int i = 0; i < norigins; i++)
		origin_kill(&origins[i]);
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

static struct origin *origin_new(const char *name)
{
	struct origin *o;

	ck_assert_msg(norigins < MAX_ORIGINS, "too many origins in one test");
	if (!origins_atexit) {
		atexit(origins_kill_all);
		origins_atexit = true;
	}
	o = &origins[norigins++];
	memset(o, 0, sizeof(*o));
	snprintf(o->name, sizeof(o->name), "%s", name);
	return o;
}

/*
 * Starts `origin --port 0 --name NAME` (with --idle-ms when idle_ms > 0);
 * its "listening on" line comes through a pipe.
 */
static struct origin *origin_start_idle(const char *name, int idle_ms)
{
	const char *bin = origin_bin();
	char log[IT_PATH_MAX], logname[64], line[512] = "";
	struct origin *o;
	size_t len = 0;
	int64_t end;
	int pfd[2];
	char *at;

	IT_ASSERT(access(bin, X_OK) == 0, "the test origin %s is not built: %s", bin, strerror(errno));
	o = origin_new(name);
	snprintf(logname, sizeof(logname), "origin-%s.log", name);
	it_path(log, logname);
	ck_assert_int_eq(pipe2(pfd, O_CLOEXEC), 0);
	fflush(NULL);
	o->pid = fork();
	ck_assert_msg(o->pid >= 0, "fork: %s", strerror(errno));
	if (o->pid == 0) {
		char fdarg[16], idle[16];
		int fd, w;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		w = fcntl(pfd[1], F_DUPFD, 10);   /* the copy is not close-on-exec */
		snprintf(fdarg, sizeof(fdarg), "%d", w);
		snprintf(idle, sizeof(idle), "%d", idle_ms > 0 ? idle_ms : 60000);
		execl(bin, bin, "--port", "0", "--name", name, "--ready-fd", fdarg, "--idle-ms", idle,
		      (char *)NULL);
		_exit(127);
	}
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
	o->port = atoi(at + strlen("listening on 127.0.0.1:"));
	return o;
}

static struct origin *origin_start(const char *name)
{
	return origin_start_idle(name, 0);
}

/*
 * A server that answers every request with its own request line as the
 * body ("GET /v2/x?q=1 HTTP/1.1"), then closes: shows the target exactly
 * as the proxy sent it.
 */
static int capture_start(void)
{
	struct origin *o = origin_new("capture");
	int port, fd = it_hold_port(&port);

	fflush(NULL);
	o->pid = fork();
	ck_assert_msg(o->pid >= 0, "fork: %s", strerror(errno));
	if (o->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;) {
			char buf[8192], resp[9000];
			size_t len = 0, ll;
			int c = accept(fd, NULL, NULL), n;

			if (c < 0)
				continue;
			buf[0] = '\0';
			while (len < sizeof(buf) - 1 && !strstr(buf, "\r\n\r\n")) {
				ssize_t k = recv(c, buf + len, sizeof(buf) - 1 - len, 0);
				if (k <= 0)
					break;
				len += (size_t)k;
				buf[len] = '\0';
			}
			ll = strcspn(buf, "\r\n");
			n = snprintf(resp, sizeof(resp), "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n"
				     "Connection: close\r\n\r\n%.*s", ll, (int)ll, buf);
			if (send(c, resp, (size_t)n, MSG_NOSIGNAL) < 0)
				_exit(1);
			close(c);
		}
	}
	close(fd);
	o->port = port;
	return port;
}

/*
 * A slow upstream sink: reads a request with a Content-Length body in
 * 8 KiB steps with a pause between them (a few MB/s, so the proxy's writes
 * to it wait), then answers "<bytes> <fnv1a-64 hex>" and closes.
 */
static int slow_sink_start(void)
{
	struct origin *o = origin_new("slowsink");
	int port, fd = it_hold_port(&port), small = 16384;

	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	fflush(NULL);
	o->pid = fork();
	ck_assert_msg(o->pid >= 0, "fork: %s", strerror(errno));
	if (o->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;) {
			static char buf[8192 + 16384];
			char resp[256], body[64], *end = NULL, *cl;
			uint64_t h = 0xcbf29ce484222325ull, got = 0, want = 0;
			size_t len = 0;
			int c = accept(fd, NULL, NULL), n;

			if (c < 0)
				continue;
			while (len < 16384 && !memmem(buf, len, "\r\n\r\n", 4)) {
				ssize_t k = recv(c, buf + len, 16384 - len, 0);
				if (k <= 0)
					break;
				len += (size_t)k;
			}
			end = memmem(buf, len, "\r\n\r\n", 4);
			if (!end) {
				close(c);
				continue;
			}
			*end = '\0';
			cl = strcasestr(buf, "\r\nContent-Length:");
			want = cl ? strtoull(cl + 17, NULL, 10) : 0;
			for (char *p = end + 4; p < buf + len; p++, got++)
				h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
			while (got < want) {
				ssize_t k = recv(c, buf, 8192, 0);
				if (k <= 0)
					break;
				for (ssize_t i = 0; i < k; i++)
					h = (h ^ (unsigned char)buf[i]) * 0x100000001b3ull;
				got += (uint64_t)k;
				usleep(1000);
			}
			snprintf(body, sizeof(body), "%llu %016llx", (unsigned long long)got,
				 (unsigned long long)h);
			n = snprintf(resp, sizeof(resp), "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n"
				     "Connection: close\r\n\r\n%s", strlen(body), body);
			if (send(c, resp, (size_t)n, MSG_NOSIGNAL) < 0)
				_exit(1);
			close(c);
		}
	}
	close(fd);
	o->port = port;
	return port;
}

static void origins_teardown(void)
{
	origins_kill_all();
}

/* ---- swerver with upstreams and routes ---- */

static int ncfg;

/*
 * Starts swerver on backend i: `server` adds keys to the server object
 * (each ending with a comma); the rest (upstreams, routes) is printf'd.
 */
static struct it_proc *start_proxy(int i, unsigned workers, const char *server, int *port,
				   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static struct it_proc *start_proxy(int i, unsigned workers, const char *server, int *port,
				   const char *fmt, ...)
{
	char cfg[IT_PATH_MAX], name[32], rest[7000];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rest, sizeof(rest), fmt, ap);
	va_end(ap);
	snprintf(name, sizeof(name), "proxy-%d.json", ncfg++);
	it_path(cfg, name);
	it_write_filef(cfg,
		"{\n"
		"  \"server\": {%s\"listeners\": [{\"address\": \"127.0.0.1\", \"port\": 0}],\n"
		"    \"workers\": %u, \"io_backend\": \"%s\"},\n"
		"  \"timeouts\": {\"drain_ms\": 1000},\n"
		"  %s\n"
		"}\n", server ? server : "", workers, it_backend(i), rest);
	return it_start_ready(cfg, "127.0.0.1", port);
}

/* ---- a raw HTTP/1.1 client that keeps the body ---- */

#define HC_BUF (256 * 1024)

struct hconn {
	int fd;
	size_t len;
	char buf[HC_BUF];
};

struct hres {
	int status;
	char head[16384];
	char *body;                   /* NUL-terminated; free with hres_free */
	size_t body_len, body_cap;
	bool truncated;               /* the connection ended before the body did */
};

static void hres_free(struct hres *r)
{
	free(r->body);
	r->body = NULL;
	r->body_len = r->body_cap = 0;
}

static void body_add(struct hres *r, const char *p, size_t n)
{
	if (r->body_len + n + 1 > r->body_cap) {
		r->body_cap = (r->body_len + n + 1) * 2;
		r->body = realloc(r->body, r->body_cap);
		ck_assert_ptr_nonnull(r->body);
	}
	memcpy(r->body + r->body_len, p, n);
	r->body_len += n;
	r->body[r->body_len] = '\0';
}

static struct hconn *hc_new(int port)
{
	struct hconn *c = calloc(1, sizeof(*c));
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };

	ck_assert_ptr_nonnull(c);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	IT_ASSERT(c->fd >= 0 && connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0,
		  "connect 127.0.0.1:%d: %s", port, strerror(errno));
	return c;
}

static void hc_free(struct hconn *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}

static int hc_send(struct hconn *c, const void *p, size_t n)
{
	size_t off = 0;

	while (off < n) {
		ssize_t k = send(c->fd, (const char *)p + off, n - off, MSG_NOSIGNAL);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		off += (size_t)k;
	}
	return 0;
}

/* More bytes before the deadline: >0 read, 0 EOF, -errno (-ECONNRESET, -ETIMEDOUT). */
static int hc_fill(struct hconn *c, int64_t deadline)
{
	for (;;) {
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		int left = (int)(deadline - it_now_ms()), r;
		ssize_t n;

		if (c->len == sizeof(c->buf))
			return -EMSGSIZE;
		if (left <= 0)
			return -ETIMEDOUT;
		r = poll(&p, 1, left);
		if (r == 0)
			return -ETIMEDOUT;
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		c->len += (size_t)n;
		return (int)n;
	}
}

static void hc_consume(struct hconn *c, size_t n)
{
	memmove(c->buf, c->buf + n, c->len - n);
	c->len -= n;
}

/* Until n bytes are buffered: 0, or what hc_fill said when it could not (EOF: -ECONNRESET). */
static int hc_need(struct hconn *c, size_t n, int64_t deadline)
{
	while (c->len < n) {
		int rc = hc_fill(c, deadline);
		if (rc <= 0)
			return rc == 0 ? -ECONNRESET : rc;
	}
	return 0;
}

/* A line (CRLF-terminated) at the start of the buffer: its length without CRLF. */
static int hc_line(struct hconn *c, size_t *len, int64_t deadline)
{
	char *eol;

	while (!(eol = c->len ? memmem(c->buf, c->len, "\r\n", 2) : NULL)) {
		int rc = hc_fill(c, deadline);
		if (rc <= 0)
			return rc == 0 ? -ECONNRESET : rc;
	}
	*len = (size_t)(eol - c->buf);
	return 0;
}

/* Value of a header in a head (after a CRLF), case-insensitive name; false if absent. */
static bool hdr(const char *head, const char *name, char *out, size_t size)
{
	size_t nlen = strlen(name);

	for (const char *l = strstr(head, "\r\n"); l; l = strstr(l + 2, "\r\n")) {
		const char *v = l + 2;

		if (strncasecmp(v, name, nlen) != 0 || v[nlen] != ':')
			continue;
		v += nlen + 1;
		v += strspn(v, " \t");
		snprintf(out, size, "%.*s", (int)strcspn(v, "\r\n"), v);
		return true;
	}
	return false;
}

/* Body of `left` bytes; a connection that ends early marks the response truncated. */
static int read_sized(struct hconn *c, struct hres *r, uint64_t left, int64_t deadline)
{
	while (left) {
		size_t n;

		if (!c->len) {
			int rc = hc_fill(c, deadline);
			if (rc == 0 || rc == -ECONNRESET) {
				r->truncated = true;
				return 0;
			}
			if (rc < 0)
				return rc;
		}
		n = left < c->len ? (size_t)left : c->len;
		body_add(r, c->buf, n);
		hc_consume(c, n);
		left -= n;
	}
	return 0;
}

static int read_chunked(struct hconn *c, struct hres *r, int64_t deadline)
{
	for (;;) {
		uint64_t size;
		size_t ll;
		int rc;

		if ((rc = hc_line(c, &ll, deadline)) != 0)
			goto end;
		size = strtoull(c->buf, NULL, 16);
		hc_consume(c, ll + 2);
		if (size == 0) {
			do {   /* trailers, up to the empty line */
				if ((rc = hc_line(c, &ll, deadline)) != 0)
					goto end;
				hc_consume(c, ll + 2);
			} while (ll);
			return 0;
		}
		if ((rc = read_sized(c, r, size, deadline)) != 0 || r->truncated)
			return rc;
		if ((rc = hc_need(c, 2, deadline)) != 0)
			goto end;
		hc_consume(c, 2);
		continue;
end:
		if (rc != -ECONNRESET)
			return rc;
		r->truncated = true;
		return 0;
	}
}

/* Reads one response; 0 (with r filled), or -errno when no complete head came. */
static int hc_read(struct hconn *c, struct hres *r, bool head_req, int timeout_ms)
{
	int64_t deadline = it_now_ms() + timeout_ms;
	char *end, val[128];
	size_t hlen;
	int rc;

	memset(r, 0, sizeof(*r));
	body_add(r, "", 0);
	while (!(end = c->len ? memmem(c->buf, c->len, "\r\n\r\n", 4) : NULL))
		if ((rc = hc_fill(c, deadline)) <= 0)
			return rc == 0 ? -ECONNRESET : rc;
	hlen = (size_t)(end + 4 - c->buf);
	if (sscanf(c->buf, "HTTP/1.%*d %d", &r->status) != 1)
		return -EPROTO;
	snprintf(r->head, sizeof(r->head), "%.*s", (int)hlen, c->buf);
	hc_consume(c, hlen);
	if (head_req || r->status < 200 || r->status == 204 || r->status == 304)
		return 0;
	if (hdr(r->head, "Content-Length", val, sizeof(val)))
		return read_sized(c, r, strtoull(val, NULL, 10), deadline);
	if (hdr(r->head, "Transfer-Encoding", val, sizeof(val)) && strcasecmp(val, "chunked") == 0)
		return read_chunked(c, r, deadline);
	for (;;) {   /* until close */
		if (c->len) {
			body_add(r, c->buf, c->len);
			c->len = 0;
		}
		rc = hc_fill(c, deadline);
		if (rc == 0 || rc == -ECONNRESET)
			return 0;
		if (rc < 0)
			return rc;
	}
}

/*
 * One request on c: Host (NULL: "localhost"), extra header lines (each
 * ending in CRLF), a body (NULL: none).
 */
static int hc_req(struct hconn *c, const char *method, const char *target, const char *host,
		  const char *hdrs, const char *body, struct hres *r)
{
	char req[8192];
	int n, rc;

	n = snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: %s\r\n%s", method, target,
		     host ? host : "localhost", hdrs ? hdrs : "");
	if (body)
		n += snprintf(req + n, sizeof(req) - (size_t)n, "Content-Length: %zu\r\n\r\n%s",
			      strlen(body), body);
	else
		n += snprintf(req + n, sizeof(req) - (size_t)n, "\r\n");
	if ((rc = hc_send(c, req, (size_t)n)) != 0) {
		memset(r, 0, sizeof(*r));
		return rc;
	}
	return hc_read(c, r, strcmp(method, "HEAD") == 0, IO_MS);
}

/* The same on a fresh connection. */
static int req1(int port, const char *method, const char *target, const char *host,
		const char *hdrs, const char *body, struct hres *r)
{
	struct hconn *c = hc_new(port);
	int rc = hc_req(c, method, target, host, hdrs, body, r);

	hc_free(c);
	return rc;
}

static int get1(int port, const char *target, const char *host, const char *hdrs, struct hres *r)
{
	return req1(port, "GET", target, host, hdrs, NULL, r);
}

/* The origin that answered ('A'...), 0 when no X-Origin came. */
static char origin_of(const struct hres *r)
{
	char v[64];

	return hdr(r->head, "X-Origin", v, sizeof(v)) ? v[0] : 0;
}

/*
 * n GETs of target (a fresh connection each, or one keep-alive connection);
 * counts['A'..] by X-Origin.  For ".../name" the body must name the same
 * origin.  Returns how many were not 200.
 */
static int tally(int port, const char *target, int n, bool fresh, const char *hdrs, int counts[26])
{
	struct hconn *c = fresh ? NULL : hc_new(port);
	bool named = strlen(target) >= 5 && strcmp(target + strlen(target) - 5, "/name") == 0;
	int bad = 0;

	for (int k = 0; k < n; k++) {
		struct hres r;
		int rc = fresh ? get1(port, target, NULL, hdrs, &r) :
				 hc_req(c, "GET", target, NULL, hdrs, NULL, &r);
		char o = origin_of(&r);

		if (rc != 0 || r.status != 200) {
			bad++;
		} else {
			IT_ASSERT(o >= 'A' && o <= 'Z', "GET %s: no X-Origin\n%s", target, r.head);
			IT_ASSERT(!named || (r.body_len == 1 && r.body[0] == o),
				  "GET %s: X-Origin %c but body \"%s\"", target, o, r.body);
			counts[o - 'A']++;
		}
		hres_free(&r);
		if (!fresh && rc != 0) {
			hc_free(c);
			c = hc_new(port);
		}
	}
	hc_free(c);
	return bad;
}

/* ---- text helpers ---- */

/* A whole line of text equal to line (case-insensitive). */
static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (strncasecmp(l, line, n) == 0 && (l[n] == '\n' || l[n] == '\r' || l[n] == '\0'))
			return true;
	return false;
}

/* Lines that start with prefix (case-insensitive), e.g. "X-Forwarded-For:". */
static int lines_with(const char *text, const char *prefix)
{
	size_t n = strlen(prefix);
	int count = 0;

	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (strncasecmp(l, prefix, n) == 0)
			count++;
	return count;
}

/* The header part of an /echo body (up to the blank line), malloc'ed. */
static char *echo_head(const char *body)
{
	const char *end = strstr(body, "\n\n");

	return strndup(body, end ? (size_t)(end - body + 1) : strlen(body));
}

#define EXPECT_LINE(text, line) \
	IT_ASSERT(has_line(text, line), "the upstream did not see \"%s\":\n%s", line, text)
#define EXPECT_NO_FIELD(text, name) \
	IT_ASSERT(lines_with(text, name ":") == 0, "the upstream saw hop-by-hop %s:\n%s", name, text)

/* ---- curl ---- */

/* Runs a shell command; returns its whole output (caller frees) and exit status. */
static char *run(int *status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *run(int *status, const char *fmt, ...)
{
	char cmd[16384], *out;
	size_t len = 0;
	va_list ap;
	FILE *f;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	fflush(NULL);
	f = popen(cmd, "r");
	ck_assert_ptr_nonnull(f);
	out = calloc(1, 1);
	for (char buf[4096]; fgets(buf, sizeof(buf), f);) {
		size_t n = strlen(buf);
		out = realloc(out, len + n + 1);
		memcpy(out + len, buf, n + 1);
		len += n;
	}
	rc = pclose(f);
	if (status)
		*status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
	return out;
}

struct cres {
	int code;                     /* %{http_code}, 0 when curl failed */
	char version[8];
	char *head;
	char *body;
	int rc;
};

static void cres_free(struct cres *r)
{
	free(r->head);
	free(r->body);
	r->head = r->body = NULL;
}

static void curl(struct cres *r, const char *args, const char *url)
{
	char hf[IT_PATH_MAX], bf[IT_PATH_MAX];
	char *o;

	memset(r, 0, sizeof(*r));
	it_path(hf, "curl.head");
	it_path(bf, "curl.body");
	unlink(hf);
	unlink(bf);
	o = run(&r->rc, T "curl -s --max-time 20 -D %s -o %s -w '%%{http_code} %%{http_version}' "
		"%s '%s'", hf, bf, args, url);
	if (sscanf(o, "%d %7s", &r->code, r->version) != 2)
		r->code = 0;
	free(o);
	r->head = it_read_file(hf);
	r->body = it_read_file(bf);
}

/* A header's value in a curl-dumped head (the last response's), static buffer. */
static const char *chdr(const struct cres *r, const char *name)
{
	static char val[1024];
	size_t nlen = strlen(name);
	bool found = false;

	for (const char *l = r->head; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		const char *v = l;

		if (strncasecmp(v, name, nlen) != 0 || v[nlen] != ':')
			continue;
		v += nlen + 1;
		v += strspn(v, " \t");
		snprintf(val, sizeof(val), "%.*s", (int)strcspn(v, "\r\n"), v);
		found = true;
	}
	return found ? val : NULL;
}

/* ---- /metrics ---- */

static char *metrics(int port)
{
	struct hres r;
	int rc = get1(port, "/metrics", NULL, NULL, &r);

	IT_ASSERT(rc == 0 && r.status == 200, "GET /metrics: rc %d status %d", rc, r.status);
	return r.body;
}

#define LBL "{upstream=\"%s\",server=\"127.0.0.1:%d\""

/* Polls until swerver_upstream_up of the server reads want; returns the ms it took, -1 never. */
static int wait_up(int port, const char *up, int sport, int want, int timeout_ms)
{
	int64_t start = it_now_ms();

	for (;;) {
		char *m = metrics(port);
		double v = it_series(m, "swerver_upstream_up" LBL "}", up, sport);

		free(m);
		if (v == want)
			return (int)(it_now_ms() - start);
		if (it_now_ms() - start > timeout_ms)
			return -1;
		it_sleep_ms(20);
	}
}

/* ---- memory ---- */

static long rss_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "VmRSS:", 6) == 0)
			kb = atol(line + 6);
	fclose(f);
	return kb;
}

static unsigned char pattern_at(uint64_t off)
{
	return (unsigned char)((off * 31 + 7) & 0xff);   /* the origin's /bytes/N */
}

struct watched {
	uint64_t bytes;               /* of the command's output */
	int64_t bad_at;               /* first byte off the /bytes pattern, -1 none */
	long peak_kb;                 /* the server's largest VmRSS meanwhile */
	char *out;                    /* the output, when not checked */
	int status;
};

/*
 * Runs cmd with its output checked against the /bytes pattern (check) or
 * kept, while the server's VmRSS is sampled every ~10 ms.
 */
static void run_watched(struct watched *w, pid_t pid, bool check, const char *cmd)
{
	static char buf[256 * 1024];
	int64_t last = 0;
	size_t len = 0;
	FILE *f;
	int fd, rc;

	memset(w, 0, sizeof(*w));
	w->bad_at = -1;
	w->out = calloc(1, 1);
	fflush(NULL);
	f = popen(cmd, "r");
	ck_assert_ptr_nonnull(f);
	fd = fileno(f);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n = 0;

		if (it_now_ms() - last >= 10) {
			long kb = rss_kb(pid);
			if (kb > w->peak_kb)
				w->peak_kb = kb;
			last = it_now_ms();
		}
		if (poll(&p, 1, 10) <= 0)
			continue;
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (check) {
			for (ssize_t k = 0; k < n && w->bad_at < 0; k++)
				if ((unsigned char)buf[k] != pattern_at(w->bytes + (uint64_t)k))
					w->bad_at = (int64_t)(w->bytes + (uint64_t)k);
		} else {
			w->out = realloc(w->out, len + (size_t)n + 1);
			memcpy(w->out + len, buf, (size_t)n);
			len += (size_t)n;
			w->out[len] = '\0';
		}
		w->bytes += (uint64_t)n;
	}
	rc = pclose(f);
	w->status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* ---- 1. forwarding over HTTP/1.1 and HTTP/2 ---- */

START_TEST(forward_basic)
{
	struct origin *a;
	struct hres r;
	struct cres cr;
	struct hconn *c;
	char rid[64], line[256], url[128], *eh;
	int port, rc;

	if (!have_proxy(_i))
		return;
	a = origin_start("A");
	start_proxy(_i, 1, NULL, &port,
		"\"upstreams\": [{\"name\": \"u\", \"servers\": [" SRV "]}],\n"
		"  \"routes\": [{\"path_prefix\": \"/\", \"upstream\": \"u\", " TMO ",\n"
		"    \"upstream_headers\": [{\"name\": \"X-Env\", \"value\": \"prod\"},\n"
		"                          {\"name\": \"X-Team\", \"value\": \"edge\"}]}]", a->port);

	/* HTTP/1.1: the upstream's view of a request full of hop-by-hop fields */
	rc = get1(port, "/echo?x=1&y=2", "example.test:8080",
		  "Connection: foo, keep-alive\r\nFoo: bar\r\nKeep-Alive: timeout=5\r\n"
		  "TE: trailers\r\nUpgrade: websocket\r\nProxy-Connection: keep-alive\r\n"
		  "X-Custom: kept\r\n", &r);
	IT_ASSERT(rc == 0 && r.status == 200, "GET /echo through the proxy: rc %d, status %d", rc,
		  r.status);
	IT_ASSERT(origin_of(&r) == 'A', "no X-Origin: A in the response:\n%s", r.head);
	IT_ASSERT(hdr(r.head, "X-Request-Id", rid, sizeof(rid)), "no X-Request-Id:\n%s", r.head);
	eh = echo_head(r.body);
	EXPECT_LINE(eh, "GET /echo?x=1&y=2");
	EXPECT_LINE(eh, "Host: example.test:8080");
	EXPECT_LINE(eh, "X-Forwarded-For: 127.0.0.1");
	IT_ASSERT(lines_with(eh, "X-Forwarded-For:") == 1, "X-Forwarded-For more than once:\n%s", eh);
	EXPECT_LINE(eh, "X-Forwarded-Proto: http");
	EXPECT_LINE(eh, "X-Forwarded-Host: example.test:8080");
	EXPECT_LINE(eh, "Via: 1.1 swerver");
	snprintf(line, sizeof(line), "X-Request-Id: %s", rid);
	EXPECT_LINE(eh, line);
	EXPECT_LINE(eh, "X-Env: prod");
	EXPECT_LINE(eh, "X-Team: edge");
	EXPECT_LINE(eh, "X-Custom: kept");
	EXPECT_NO_FIELD(eh, "Connection");
	EXPECT_NO_FIELD(eh, "Foo");
	EXPECT_NO_FIELD(eh, "Keep-Alive");
	EXPECT_NO_FIELD(eh, "TE");
	EXPECT_NO_FIELD(eh, "Upgrade");
	EXPECT_NO_FIELD(eh, "Proxy-Connection");
	free(eh);
	hres_free(&r);

	/* a body goes through with its length */
	rc = req1(port, "POST", "/echo", NULL, NULL, "hello=1", &r);
	IT_ASSERT(rc == 0 && r.status == 200, "POST /echo: rc %d, status %d", rc, r.status);
	eh = echo_head(r.body);
	EXPECT_LINE(eh, "POST /echo");
	EXPECT_LINE(eh, "Content-Length: 7");
	IT_ASSERT(r.body_len >= 9 && memcmp(r.body + r.body_len - 9, "\n\nhello=1", 9) == 0,
		  "POST /echo: the body did not arrive:\n%s", r.body);
	free(eh);
	hres_free(&r);

	/* the origin's Connection: close is its own hop: the client's connection stays */
	c = hc_new(port);
	rc = hc_req(c, "GET", "/close", NULL, NULL, NULL, &r);
	IT_ASSERT(rc == 0 && r.status == 200 && !r.truncated, "GET /close: rc %d status %d", rc,
		  r.status);
	IT_ASSERT(!hdr(r.head, "Connection", line, sizeof(line)) || strcasecmp(line, "close") != 0,
		  "the origin's Connection: close reached the client:\n%s", r.head);
	hres_free(&r);
	rc = hc_req(c, "GET", "/name", NULL, NULL, NULL, &r);
	IT_ASSERT(rc == 0 && r.status == 200 && strcmp(r.body, "A") == 0,
		  "a second request on the client connection after /close: rc %d status %d", rc,
		  r.status);
	hres_free(&r);
	hc_free(c);

	/* HTTP/2 */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/echo?h2=1", port);
	curl(&cr, "--http2-prior-knowledge -H 'X-Custom: h2' -H 'TE: trailers' "
	     "--data-binary from-h2", url);
	IT_ASSERT(cr.code == 200 && strcmp(cr.version, "2") == 0,
		  "POST /echo over h2 through the proxy: %d (version %s, curl exit %d)", cr.code,
		  cr.version, cr.rc);
	IT_ASSERT(chdr(&cr, "x-origin") && strcmp(chdr(&cr, "x-origin"), "A") == 0,
		  "h2: no x-origin: A\n%s", cr.head);
	IT_ASSERT(chdr(&cr, "x-request-id") != NULL, "h2: no x-request-id\n%s", cr.head);
	snprintf(rid, sizeof(rid), "%s", chdr(&cr, "x-request-id"));
	eh = echo_head(cr.body);
	EXPECT_LINE(eh, "POST /echo?h2=1");
	snprintf(line, sizeof(line), "Host: 127.0.0.1:%d", port);
	EXPECT_LINE(eh, line);
	EXPECT_LINE(eh, "X-Forwarded-For: 127.0.0.1");
	EXPECT_LINE(eh, "X-Forwarded-Proto: http");
	snprintf(line, sizeof(line), "X-Forwarded-Host: 127.0.0.1:%d", port);
	EXPECT_LINE(eh, line);
	EXPECT_LINE(eh, "Via: 2 swerver");
	snprintf(line, sizeof(line), "X-Request-Id: %s", rid);
	EXPECT_LINE(eh, line);
	EXPECT_LINE(eh, "X-Env: prod");
	EXPECT_LINE(eh, "x-custom: h2");
	EXPECT_NO_FIELD(eh, "TE");
	IT_ASSERT(strlen(cr.body) >= 7 && strcmp(cr.body + strlen(cr.body) - 7, "from-h2") == 0,
		  "h2: the request body did not arrive:\n%s", cr.body);
	free(eh);
	cres_free(&cr);
}
END_TEST

/* ---- 2. X-Forwarded-For and -Proto: replaced for strangers, appended for trusted proxies ---- */

START_TEST(forwarded_for_trust)
{
	struct origin *a;
	struct hres r;
	char *eh;
	int plain, trusted, rc;

	if (!have_proxy(_i))
		return;
	a = origin_start("A");
#define ONE_ROUTE "\"upstreams\": [{\"name\": \"u\", \"servers\": [" SRV "]}],\n" \
	"  \"routes\": [{\"path_prefix\": \"/\", \"upstream\": \"u\", " TMO "}]"
	start_proxy(_i, 1, NULL, &plain, ONE_ROUTE, a->port);
	start_proxy(_i, 1, "\"trusted_proxies\": [\"127.0.0.1/32\"], ", &trusted, ONE_ROUTE, a->port);

	rc = get1(plain, "/echo", NULL, "X-Forwarded-For: 203.0.113.9\r\n"
		  "X-Forwarded-Proto: https\r\nVia: 1.1 edge\r\n", &r);
	IT_ASSERT(rc == 0 && r.status == 200, "untrusted GET /echo: rc %d status %d", rc, r.status);
	eh = echo_head(r.body);
	EXPECT_LINE(eh, "X-Forwarded-For: 127.0.0.1");
	IT_ASSERT(lines_with(eh, "X-Forwarded-For:") == 1 && !strstr(eh, "203.0.113.9"),
		  "an untrusted client's X-Forwarded-For went upstream:\n%s", eh);
	EXPECT_LINE(eh, "X-Forwarded-Proto: http");
	EXPECT_LINE(eh, "Via: 1.1 edge, 1.1 swerver");
	free(eh);
	hres_free(&r);

	rc = get1(trusted, "/echo", NULL, "X-Forwarded-For: 203.0.113.9\r\n"
		  "X-Forwarded-Proto: https\r\n", &r);
	IT_ASSERT(rc == 0 && r.status == 200, "trusted GET /echo: rc %d status %d", rc, r.status);
	eh = echo_head(r.body);
	EXPECT_LINE(eh, "X-Forwarded-For: 203.0.113.9, 127.0.0.1");
	IT_ASSERT(lines_with(eh, "X-Forwarded-For:") == 1, "X-Forwarded-For twice:\n%s", eh);
	EXPECT_LINE(eh, "X-Forwarded-Proto: https");
	free(eh);
	hres_free(&r);

	/* two fields are one list */
	rc = get1(trusted, "/echo", NULL, "X-Forwarded-For: 198.51.100.1\r\n"
		  "X-Forwarded-For: 203.0.113.9\r\n", &r);
	IT_ASSERT(rc == 0 && r.status == 200, "trusted GET /echo: rc %d status %d", rc, r.status);
	eh = echo_head(r.body);
	EXPECT_LINE(eh, "X-Forwarded-For: 198.51.100.1, 203.0.113.9, 127.0.0.1");
	EXPECT_LINE(eh, "X-Forwarded-Proto: http");
	free(eh);
	hres_free(&r);
}
END_TEST

/* ---- 3. routing: longest prefix, host, segment boundaries, rewrites, no route ---- */

/* GET target with Host host: the origin letter, 0 for none; status out. */
static char routed_to(int port, const char *target, const char *host, int *status)
{
	struct hres r;
	int rc = get1(port, target, host, NULL, &r);
	char o = origin_of(&r);

	IT_ASSERT(rc == 0, "GET %s (Host %s): %s", target, host ? host : "-", strerror(-rc));
	*status = r.status;
	hres_free(&r);
	return o;
}

#define EXPECT_ROUTE(target, host, want) do { \
	int st_; \
	char got_ = routed_to(port, target, host, &st_); \
	IT_ASSERT(got_ == (want), "GET %s (Host %s) went to %c, want %c (status %d)", target, \
		  (host) ? (const char *)(host) : "localhost", got_ ? got_ : '-', \
		  (want) ? (want) : '-', st_); \
} while (0)

/* The request line the capture server saw for target. */
#define EXPECT_TARGET(target, want_line) do { \
	struct hres r_; \
	int rc_ = get1(port, target, NULL, NULL, &r_); \
	IT_ASSERT(rc_ == 0 && r_.status == 200 && strcmp(r_.body, want_line) == 0, \
		  "GET %s went upstream as \"%s\" (status %d), want \"%s\"", target, \
		  r_.body ? r_.body : "", r_.status, want_line); \
	hres_free(&r_); \
} while (0)

START_TEST(routing)
{
	struct origin *a, *b, *c;
	char www[IT_PATH_MAX], file[IT_PATH_MAX + 16], server[IT_PATH_MAX + 64], url[128];
	struct hres r;
	struct cres cr;
	int port, cap, rc;

	if (!have_proxy(_i))
		return;
	a = origin_start("A");
	b = origin_start("B");
	c = origin_start("C");
	cap = capture_start();
	it_path(www, "www");
	ck_assert_int_eq(mkdir(www, 0755), 0);
	snprintf(file, sizeof(file), "%s/apix", www);
	it_write_file(file, "static apix\n");
	snprintf(server, sizeof(server), "\"static_root\": \"%s\", ", www);
	start_proxy(_i, 1, server, &port,
		"\"upstreams\": [{\"name\": \"ua\", \"servers\": [" SRV "]},\n"
		"    {\"name\": \"ub\", \"servers\": [" SRV "]},\n"
		"    {\"name\": \"uc\", \"servers\": [" SRV "]},\n"
		"    {\"name\": \"cap\", \"servers\": [" SRV "]}],\n"
		"  \"routes\": [\n"
		"    {\"path_prefix\": \"/api\", \"upstream\": \"ua\", " TMO "},\n"
		"    {\"path_prefix\": \"/api/admin\", \"upstream\": \"ub\", " TMO "},\n"
		"    {\"path_prefix\": \"/api\", \"host\": \"example.test\", \"upstream\": \"uc\", " TMO "},\n"
		"    {\"path_prefix\": \"/api\", \"host\": \"*.wild.test\", \"upstream\": \"ub\", " TMO "},\n"
		"    {\"path_prefix\": \"/api/v1\", \"upstream\": \"cap\", \"rewrite_pattern\": \"/api/v1\",\n"
		"     \"rewrite_replacement\": \"/v2\", " TMO "},\n"
		"    {\"path_prefix\": \"/strip/\", \"upstream\": \"cap\", \"rewrite_pattern\": \"/strip/\",\n"
		"     \"rewrite_replacement\": \"/\", " TMO "}]",
		a->port, b->port, c->port, cap);

	EXPECT_ROUTE("/api", NULL, 'A');
	EXPECT_ROUTE("/api/", NULL, 'A');
	EXPECT_ROUTE("/api/x", NULL, 'A');
	EXPECT_ROUTE("/api?q=1", NULL, 'A');
	EXPECT_ROUTE("/api/admin/x", NULL, 'B');        /* the longer prefix */
	EXPECT_ROUTE("/api/admin", NULL, 'B');
	EXPECT_ROUTE("/api/adminx", NULL, 'A');         /* a prefix ends at a segment */
	EXPECT_ROUTE("/api/v1x", NULL, 'A');
	EXPECT_ROUTE("/api/x", "example.test", 'C');    /* the host's route before the catch-all */
	EXPECT_ROUTE("/api/x", "EXAMPLE.test:8080", 'C');
	EXPECT_ROUTE("/api/x", "other.test", 'A');
	EXPECT_ROUTE("/api/admin/x", "example.test", 'B');   /* longest prefix first */
	EXPECT_ROUTE("/api/x", "a.wild.test", 'B');
	EXPECT_ROUTE("/api/x", "wild.test", 'A');       /* "*.wild.test" is subdomains only */

	/* rewrites: the prefix replaced, the query kept */
	EXPECT_TARGET("/api/v1/x?q=1", "GET /v2/x?q=1 HTTP/1.1");
	EXPECT_TARGET("/api/v1", "GET /v2 HTTP/1.1");
	EXPECT_TARGET("/api/v1?q=2", "GET /v2?q=2 HTTP/1.1");
	EXPECT_TARGET("/api/v1/a/b/", "GET /v2/a/b/ HTTP/1.1");
	EXPECT_TARGET("/strip/foo/bar?z", "GET /foo/bar?z HTTP/1.1");

	/* "/api" does not take "/apix": the static file does; no route and no file is 404 */
	rc = get1(port, "/apix", NULL, NULL, &r);
	IT_ASSERT(rc == 0 && r.status == 200 && strcmp(r.body, "static apix\n") == 0 &&
		  origin_of(&r) == 0, "GET /apix: status %d, X-Origin %c, body \"%s\"", r.status,
		  origin_of(&r) ? origin_of(&r) : '-', r.body);
	hres_free(&r);
	rc = get1(port, "/nothing/here", NULL, NULL, &r);
	IT_ASSERT(rc == 0 && r.status == 404 && origin_of(&r) == 0,
		  "GET /nothing/here: status %d (want 404 from swerver itself)\n%s", r.status, r.head);
	hres_free(&r);

	/* HTTP/2's :authority routes like Host */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/api/x", port);
	curl(&cr, "--http2-prior-knowledge -H 'Host: example.test'", url);
	IT_ASSERT(cr.code == 404 && chdr(&cr, "x-origin") && strcmp(chdr(&cr, "x-origin"), "C") == 0,
		  "h2 /api/x for example.test: %d, x-origin %s", cr.code,
		  chdr(&cr, "x-origin") ? chdr(&cr, "x-origin") : "(none)");
	cres_free(&cr);
}
END_TEST

/* ---- 4. balancers ---- */

START_TEST(balancers)
{
	struct origin *a, *b, *c;
	char s3[256], w3[320], xff[64];
	int port, bad, counts[26] = { 0 }, busy, used = 0;
	int hashed[48];
	struct hconn *slow;
	struct hres r;

	if (!have_proxy(_i))
		return;
	a = origin_start("A");
	b = origin_start("B");
	c = origin_start("C");
	snprintf(s3, sizeof(s3), SRV ", " SRV ", " SRV, a->port, b->port, c->port);
	snprintf(w3, sizeof(w3),
		 "{\"address\": \"127.0.0.1\", \"port\": %d, \"weight\": 3}, "
		 "{\"address\": \"127.0.0.1\", \"port\": %d, \"weight\": 1}, "
		 "{\"address\": \"127.0.0.1\", \"port\": %d, \"weight\": 1}",
		 a->port, b->port, c->port);
	start_proxy(_i, 1, "\"trusted_proxies\": [\"127.0.0.1/32\"], ", &port,
		"\"upstreams\": [\n"
		"    {\"name\": \"rr\", \"servers\": [%s]},\n"
		"    {\"name\": \"wrr\", \"load_balancer\": \"weighted_round_robin\", \"servers\": [%s]},\n"
		"    {\"name\": \"ih\", \"load_balancer\": \"ip_hash\", \"servers\": [%s]},\n"
		"    {\"name\": \"lc\", \"load_balancer\": \"least_conn\", \"servers\": [%s]},\n"
		"    {\"name\": \"rnd\", \"load_balancer\": \"random\", \"servers\": [%s]}],\n"
		"  \"routes\": [" ROUTE("/rr", "rr") ",\n    " ROUTE("/wrr", "wrr") ",\n    "
		ROUTE("/ih", "ih") ",\n    " ROUTE("/lc", "lc") ",\n    " ROUTE("/rnd", "rnd") "]",
		s3, w3, s3, s3, s3);

	/* round robin: exactly even, over fresh connections and over one */
	bad = tally(port, "/rr/name", 30, true, NULL, counts);
	IT_ASSERT(bad == 0 && counts[0] == 10 && counts[1] == 10 && counts[2] == 10,
		  "round_robin over 30 fresh connections: A %d B %d C %d (%d failed), want 10 each",
		  counts[0], counts[1], counts[2], bad);
	memset(counts, 0, sizeof(counts));
	bad = tally(port, "/rr/name", 30, false, NULL, counts);
	IT_ASSERT(bad == 0 && counts[0] == 10 && counts[1] == 10 && counts[2] == 10,
		  "round_robin over one connection: A %d B %d C %d (%d failed), want 10 each",
		  counts[0], counts[1], counts[2], bad);

	/* weighted 3:1:1 */
	memset(counts, 0, sizeof(counts));
	bad = tally(port, "/wrr/name", 25, false, NULL, counts);
	IT_ASSERT(bad == 0 && counts[0] == 15 && counts[1] == 5 && counts[2] == 5,
		  "weighted_round_robin 3/1/1 over 25: A %d B %d C %d (%d failed), want 15/5/5",
		  counts[0], counts[1], counts[2], bad);

	/* ip_hash: one client, one server */
	memset(counts, 0, sizeof(counts));
	bad = tally(port, "/ih/name", 20, true, NULL, counts);
	IT_ASSERT(bad == 0 && (counts[0] == 20 || counts[1] == 20 || counts[2] == 20),
		  "ip_hash from one client: A %d B %d C %d (%d failed), want all 20 on one",
		  counts[0], counts[1], counts[2], bad);
	/* many clients behind a trusted proxy: each keeps its server, together they spread */
	for (int k = 0; k < 24; k++) {
		for (int rep = 0; rep < 2; rep++) {
			int rc;
			char o;

			snprintf(xff, sizeof(xff), "X-Forwarded-For: 10.%d.%d.%d\r\n", k, k * 7 % 256,
				 k * 13 % 256 + 1);
			rc = get1(port, "/ih/name", NULL, xff, &r);
			o = origin_of(&r);
			IT_ASSERT(rc == 0 && r.status == 200 && o, "ip_hash GET: rc %d status %d", rc,
				  r.status);
			if (rep == 0)
				hashed[k] = o;
			else
				IT_ASSERT(hashed[k] == o, "ip_hash: client %d went to %c, then to %c", k,
					  hashed[k], o);
			hres_free(&r);
		}
		used |= 1 << (hashed[k] - 'A');
	}
	IT_ASSERT(__builtin_popcount((unsigned)used) >= 2,
		  "ip_hash: 24 different clients all went to one server");

	/* least_conn: while one server holds a slow request, the idle ones take the rest */
	slow = hc_new(port);
	ck_assert_int_eq(hc_send(slow, "GET /lc/slow/800 HTTP/1.1\r\nHost: localhost\r\n\r\n",
				 strlen("GET /lc/slow/800 HTTP/1.1\r\nHost: localhost\r\n\r\n")), 0);
	it_sleep_ms(100);
	memset(counts, 0, sizeof(counts));
	bad = tally(port, "/lc/name", 12, true, NULL, counts);
	ck_assert_int_eq(hc_read(slow, &r, false, IO_MS), 0);
	IT_ASSERT(r.status == 200 && origin_of(&r), "least_conn: the slow request got %d", r.status);
	busy = origin_of(&r) - 'A';
	hres_free(&r);
	hc_free(slow);
	IT_ASSERT(bad == 0 && counts[busy] == 0,
		  "least_conn: %d of 12 requests went to %c while it was busy with /slow (%d failed)",
		  counts[busy], 'A' + busy, bad);
	IT_ASSERT(counts[(busy + 1) % 3] > 0 && counts[(busy + 2) % 3] > 0,
		  "least_conn: the two idle servers should share the load: A %d B %d C %d",
		  counts[0], counts[1], counts[2]);

	/* random (power of two choices): every server gets some */
	memset(counts, 0, sizeof(counts));
	bad = tally(port, "/rnd/name", 60, false, NULL, counts);
	IT_ASSERT(bad == 0 && counts[0] > 0 && counts[1] > 0 && counts[2] > 0 &&
		  counts[0] + counts[1] + counts[2] == 60,
		  "random over 60: A %d B %d C %d (%d failed)", counts[0], counts[1], counts[2], bad);
}
END_TEST

/* ---- 5. failover: passive health, backups, active health checks ---- */

START_TEST(failover_passive)
{
	struct origin *a, *c;
	int port, dead = it_free_port(), bad, counts[26] = { 0 };
	char *m;

	if (!have_proxy(_i))
		return;
	a = origin_start("A");
	c = origin_start("C");
	start_proxy(_i, 1, NULL, &port,
		"\"upstreams\": [{\"name\": \"u\", \"servers\": [\n"
		"    {\"address\": \"127.0.0.1\", \"port\": %d, \"max_fails\": 1},\n"
		"    {\"address\": \"127.0.0.1\", \"port\": %d, \"max_fails\": 1},\n"
		"    {\"address\": \"127.0.0.1\", \"port\": %d, \"max_fails\": 1}]}],\n"
		"  \"routes\": [{\"path_prefix\": \"/\", \"upstream\": \"u\", " TMO "}]",
		a->port, dead, c->port);

	bad = tally(port, "/name", 30, true, NULL, counts);
	IT_ASSERT(bad == 0 && counts[0] + counts[2] == 30,
		  "GETs with one of three servers down: %d failed (A %d, C %d); a refused connect "
		  "must be retried on another server", bad, counts[0], counts[2]);
	m = metrics(port);
	IT_ASSERT(it_series(m, "swerver_upstream_errors_total" LBL ",kind=\"connect\"}", "u", dead) == 1,
		  "connect errors at the dead server: %g, want 1 (max_fails 1 takes it out)\n%s",
		  it_series(m, "swerver_upstream_errors_total" LBL ",kind=\"connect\"}", "u", dead), m);
	IT_ASSERT(it_series(m, "swerver_upstream_retries_total" LBL "}", "u", dead) == 1,
		  "retries after the dead server: %g, want 1",
		  it_series(m, "swerver_upstream_retries_total" LBL "}", "u", dead));
	IT_ASSERT(it_series(m, "swerver_upstream_up" LBL "}", "u", dead) == 0 &&
		  it_series(m, "swerver_upstream_up" LBL "}", "u", a->port) == 1,
		  "swerver_upstream_up: dead %g (want 0), A %g (want 1)",
		  it_series(m, "swerver_upstream_up" LBL "}", "u", dead),
		  it_series(m, "swerver_upstream_up" LBL "}", "u", a->port));
	IT_ASSERT(it_series(m, "swerver_upstream_requests_total" LBL "}", "u", a->port) +
		  it_series(m, "swerver_upstream_requests_total" LBL "}", "u", c->port) == 30,
		  "requests_total A + C should be 30:\n%s", m);
	free(m);
}
END_TEST

START_TEST(failover_backup)
{
	struct origin *p1, *p2, *bk;
	int port, bad, counts[26] = { 0 };
	char *m;

	if (!have_proxy(_i))
		return;
	p1 = origin_start("A");
	p2 = origin_start("B");
	bk = origin_start("Z");
	start_proxy(_i, 1, NULL, &port,
		"\"upstreams\": [{\"name\": \"u\", \"servers\": [" SRV ", " SRV ",\n"
		"    {\"address\": \"127.0.0.1\", \"port\": %d, \"backup\": true}]}],\n"
		"  \"routes\": [{\"path_prefix\": \"/\", \"upstream\": \"u\", " TMO "}]",
		p1->port, p2->port, bk->port);

	bad = tally(port, "/name", 12, true, NULL, counts);
	IT_ASSERT(bad == 0 && counts[0] == 6 && counts[1] == 6 && counts['Z' - 'A'] == 0,
		  "both primaries up: A %d B %d backup %d (%d failed), want 6/6/0", counts[0],
		  counts[1], counts['Z' - 'A'], bad);

	origin_kill(p1);
	memset(counts, 0, sizeof(counts));
	bad = tally(port, "/name", 12, true, NULL, counts);
	IT_ASSERT(bad == 0 && counts[1] == 12 && counts['Z' - 'A'] == 0,
		  "one primary down: B %d backup %d (%d failed), want 12/0", counts[1],
		  counts['Z' - 'A'], bad);

	origin_kill(p2);
	memset(counts, 0, sizeof(counts));
	bad = tally(port, "/name", 6, true, NULL, counts);
	IT_ASSERT(bad == 0 && counts['Z' - 'A'] == 6,
		  "every primary down: the backup served %d of 6 (%d failed)", counts['Z' - 'A'], bad);

	m = metrics(port);
	IT_ASSERT(it_series(m, "swerver_upstream_up" LBL "}", "u", p1->port) == 0 &&
		  it_series(m, "swerver_upstream_up" LBL "}", "u", p2->port) == 0 &&
		  it_series(m, "swerver_upstream_up" LBL "}", "u", bk->port) == 1,
		  "swerver_upstream_up: primaries %g %g (want 0), backup %g (want 1)",
		  it_series(m, "swerver_upstream_up" LBL "}", "u", p1->port),
		  it_series(m, "swerver_upstream_up" LBL "}", "u", p2->port),
		  it_series(m, "swerver_upstream_up" LBL "}", "u", bk->port));
	free(m);
}
END_TEST

START_TEST(failover_active)
{
	struct origin *a, *b, *c;
	char s3[512];
	int port, bad, counts[26] = { 0 }, ms;

	if (!have_proxy(_i))
		return;
	a = origin_start("A");
	b = origin_start("B");
	c = origin_start("C");
	snprintf(s3, sizeof(s3),
		 "{\"address\": \"127.0.0.1\", \"port\": %d, \"max_fails\": 0}, "
		 "{\"address\": \"127.0.0.1\", \"port\": %d, \"max_fails\": 0}, "
		 "{\"address\": \"127.0.0.1\", \"port\": %d, \"max_fails\": 0}",
		 a->port, b->port, c->port);
	start_proxy(_i, 2, NULL, &port,
		"\"upstreams\": [{\"name\": \"u\", \"servers\": [%s],\n"
		"    \"health_check\": {\"interval_ms\": 200, \"timeout_ms\": 500, \"path\": \"/health\",\n"
		"                       \"unhealthy_threshold\": 1, \"healthy_threshold\": 1}}],\n"
		"  \"routes\": [{\"path_prefix\": \"/\", \"upstream\": \"u\", " TMO "}]", s3);

	bad = tally(port, "/name", 30, true, NULL, counts);
	IT_ASSERT(bad == 0 && counts[0] && counts[1] && counts[2],
		  "all healthy: A %d B %d C %d (%d failed)", counts[0], counts[1], counts[2], bad);

	/* B's health endpoint starts failing: the checks take it out, for every worker */
	IT_ASSERT(it_http_get("127.0.0.1", b->port, "/health/down", 2000) == 200,
		  "GET /health/down on the origin itself failed");
	/* a few check intervals on an idle machine; the deadline only bounds the test */
	ms = wait_up(port, "u", b->port, 0, 10000);
	IT_ASSERT(ms >= 0, "swerver_upstream_up for B: still not 0 after 10 s");
	memset(counts, 0, sizeof(counts));
	bad = tally(port, "/name", 40, true, NULL, counts);
	IT_ASSERT(bad == 0 && counts[1] == 0 && counts[0] + counts[2] == 40,
		  "B failing its health checks still got %d of 40 requests (A %d C %d, %d failed)",
		  counts[1], counts[0], counts[2], bad);

	/* and it comes back */
	IT_ASSERT(it_http_get("127.0.0.1", b->port, "/health/up", 2000) == 200,
		  "GET /health/up on the origin itself failed");
	ms = wait_up(port, "u", b->port, 1, 10000);
	IT_ASSERT(ms >= 0, "swerver_upstream_up for B: not back to 1 after 10 s");
	memset(counts, 0, sizeof(counts));
	bad = tally(port, "/name", 30, true, NULL, counts);
	IT_ASSERT(bad == 0 && counts[1] > 0, "B healthy again but got none of 30 (A %d C %d)",
		  counts[0], counts[2]);
}
END_TEST

/* ---- 6. keep-alive pools ---- */

/* How many distinct X-Origin-Conn values a head text holds ("x-origin-conn: N" lines). */
static int distinct_conns(const char *heads, int *total)
{
	long seen[256];
	int n = 0;

	*total = 0;
	for (const char *l = heads; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		long v;
		bool dup = false;

		if (strncasecmp(l, "X-Origin-Conn:", 14) != 0)
			continue;
		v = atol(l + 14);
		(*total)++;
		for (int k = 0; k < n; k++)
			dup |= seen[k] == v;
		if (!dup && n < 256)
			seen[n++] = v;
	}
	return n;
}

START_TEST(keepalive_h1)
{
	struct origin *a;
	struct hconn *c;
	struct hres r;
	char heads[8192] = "", v[32], *m;
	int port, total, n;

	if (!have_proxy(_i))
		return;
	a = origin_start("A");
	start_proxy(_i, 1, NULL, &port, ONE_ROUTE, a->port);

	/* 20 on one client connection, then 20 on fresh client connections */
	c = hc_new(port);
	for (int k = 0; k < 40; k++) {
		int rc = k < 20 ? hc_req(c, "GET", "/name", NULL, NULL, NULL, &r) :
				  get1(port, "/name", NULL, NULL, &r);

		IT_ASSERT(rc == 0 && r.status == 200 && hdr(r.head, "X-Origin-Conn", v, sizeof(v)),
			  "request %d: rc %d status %d", k, rc, r.status);
		snprintf(heads + strlen(heads), sizeof(heads) - strlen(heads), "X-Origin-Conn: %s\n", v);
		hres_free(&r);
		if (k == 19) {
			n = distinct_conns(heads, &total);
			IT_ASSERT(n <= 2, "20 requests on one client connection used %d upstream "
				  "connections:\n%s", n, heads);
		}
	}
	hc_free(c);
	n = distinct_conns(heads, &total);
	IT_ASSERT(total == 40 && n <= 2, "40 sequential requests used %d upstream connections "
		  "(want them pooled):\n%s", n, heads);
	m = metrics(port);
	IT_ASSERT(it_series(m, "swerver_upstream_pool_connections" LBL ",state=\"idle\"}", "u",
			 a->port) >= 1 &&
		  it_series(m, "swerver_upstream_pool_connections" LBL ",state=\"active\"}", "u",
			 a->port) == 0,
		  "after the requests the pool should hold an idle connection and no busy one:\n%s", m);
	free(m);
}
END_TEST

START_TEST(keepalive_h2)
{
	struct origin *a;
	char urls[4096] = "", hf[IT_PATH_MAX], *heads, *o, *m;
	int port, total, n, st;

	if (!have_proxy(_i))
		return;
	if (!sw_module_find("http2")) {
		fprintf(stderr, "note: built without http2; skipping\n");
		return;
	}
	a = origin_start("A");
	start_proxy(_i, 1, NULL, &port, ONE_ROUTE, a->port);
	for (int k = 0; k < 20; k++)
		snprintf(urls + strlen(urls), sizeof(urls) - strlen(urls),
			 " http://127.0.0.1:%d/name", port);
	it_path(hf, "h2.heads");
	/* 20 requests, one after another, on one HTTP/2 connection */
	o = run(&st, T "curl -s --http2-prior-knowledge --max-time 20 -D %s %s", hf, urls);
	heads = it_read_file(hf);
	n = distinct_conns(heads, &total);
	IT_ASSERT(st == 0 && total == 20, "curl: exit %d, %d responses with X-Origin-Conn", st,
		  total);
	IT_ASSERT(n <= 2, "20 sequential HTTP/2 requests used %d upstream connections; the "
		  "upstream connection should go back to the pool after each response", n);
	m = metrics(port);
	IT_ASSERT(it_series(m, "swerver_upstream_pool_connections" LBL ",state=\"idle\"}", "u",
			 a->port) >= 1, "no idle pooled connection after HTTP/2 requests:\n%s", m);
	free(m);
	free(heads);
	free(o);
}
END_TEST

/* An upstream that closes its idle keep-alive connections: the pool notices, nothing fails. */
START_TEST(keepalive_upstream_closes)
{
	struct origin *a;
	struct hres r;
	char v1[32], v2[32], *m;
	int port, rc;

	if (!have_proxy(_i))
		return;
	a = origin_start_idle("A", 300);   /* the origin closes connections idle for 0.3-1.3 s */
	start_proxy(_i, 1, NULL, &port, ONE_ROUTE, a->port);
	rc = get1(port, "/name", NULL, NULL, &r);
	IT_ASSERT(rc == 0 && r.status == 200 && hdr(r.head, "X-Origin-Conn", v1, sizeof(v1)),
		  "first GET: rc %d status %d", rc, r.status);
	hres_free(&r);
	it_sleep_ms(1600);
	for (int k = 0; k < 3; k++) {
		rc = get1(port, "/name", NULL, NULL, &r);
		IT_ASSERT(rc == 0 && r.status == 200 && hdr(r.head, "X-Origin-Conn", v2, sizeof(v2)),
			  "GET %d after the origin closed the pooled connection: rc %d status %d", k,
			  rc, r.status);
		hres_free(&r);
	}
	IT_ASSERT(strcmp(v1, v2) != 0, "the origin's connection %s was closed, yet reused", v1);
	m = metrics(port);
	IT_ASSERT(it_series(m, "swerver_upstream_errors_total" LBL ",kind=\"reset\"}", "u", a->port) == 0 &&
		  it_series(m, "swerver_upstream_pool_connections" LBL ",state=\"idle\"}", "u", a->port) == 1,
		  "the closed idle connection should leave the pool quietly (no reset error, one idle "
		  "connection after):\n%s", m);
	free(m);
}
END_TEST

/* 204 and 304 have no body: the upstream connection is reusable after them. */
START_TEST(keepalive_bodiless)
{
	struct origin *a;
	struct hconn *c;
	struct hres r;
	const char *targets[] = { "/name", "/status/204", "/name", "/status/304", "/name" };
	const int want[] = { 200, 204, 200, 304, 200 };
	char heads[1024] = "", v[32];
	int port, total, n;

	if (!have_proxy(_i))
		return;
	a = origin_start("A");
	start_proxy(_i, 1, NULL, &port, ONE_ROUTE, a->port);
	c = hc_new(port);
	for (int k = 0; k < 5; k++) {
		int rc = hc_req(c, "GET", targets[k], NULL, NULL, NULL, &r);

		IT_ASSERT(rc == 0 && r.status == want[k] && hdr(r.head, "X-Origin-Conn", v, sizeof(v)),
			  "GET %s: rc %d status %d, want %d", targets[k], rc, r.status, want[k]);
		snprintf(heads + strlen(heads), sizeof(heads) - strlen(heads),
			 "X-Origin-Conn: %s (after GET %s)\n", v, targets[k]);
		hres_free(&r);
	}
	hc_free(c);
	n = distinct_conns(heads, &total);
	IT_ASSERT(n == 1, "204 and 304 responses (no body, no Content-Length) cost the upstream "
		  "connection; %d connections for 5 sequential requests:\n%s", n, heads);
}
END_TEST

/* HEAD: the upstream's Content-Length is the length GET would have; it must not become 0. */
START_TEST(head_length)
{
	struct origin *a;
	struct hconn *c;
	struct hres r;
	char v[32];
	int port, rc;

	if (!have_proxy(_i))
		return;
	a = origin_start("A");
	start_proxy(_i, 1, NULL, &port, ONE_ROUTE, a->port);
	c = hc_new(port);
	rc = hc_req(c, "HEAD", "/bytes/100", NULL, NULL, NULL, &r);
	IT_ASSERT(rc == 0 && r.status == 200 && origin_of(&r) == 'A', "HEAD /bytes/100: rc %d status %d",
		  rc, r.status);
	IT_ASSERT(hdr(r.head, "Content-Length", v, sizeof(v)) && strcmp(v, "100") == 0,
		  "HEAD /bytes/100 through the proxy: Content-Length \"%s\", the origin said 100:\n%s",
		  hdr(r.head, "Content-Length", v, sizeof(v)) ? v : "(none)", r.head);
	hres_free(&r);
	/* no body followed: the next response on the connection parses */
	rc = hc_req(c, "GET", "/name", NULL, NULL, NULL, &r);
	IT_ASSERT(rc == 0 && r.status == 200 && strcmp(r.body, "A") == 0,
		  "GET after HEAD on the same connection: rc %d status %d", rc, r.status);
	hres_free(&r);
	hc_free(c);
}
END_TEST

/* ---- 7. streaming 100 MiB both ways with bounded memory ---- */

/* A 100 MiB file of a pattern (not the download one); its FNV-1a 64 as the origin prints it. */
static void big_file(char path[IT_PATH_MAX], char fnv_hex[20])
{
	static unsigned char blk[1 << 20];
	uint64_t h = 0xcbf29ce484222325ull;
	FILE *f;

	it_path(path, "upload.bin");
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	for (uint64_t off = 0; off < BIG; off += sizeof(blk)) {
		for (size_t k = 0; k < sizeof(blk); k++) {
			uint64_t i = off + k;
			blk[k] = (unsigned char)((i * 7 + (i >> 11)) & 0xff);
			h = (h ^ blk[k]) * 0x100000001b3ull;
		}
		ck_assert_int_eq(fwrite(blk, 1, sizeof(blk), f), sizeof(blk));
	}
	ck_assert_int_eq(fclose(f), 0);
	snprintf(fnv_hex, 20, "%016llx", (unsigned long long)h);
}

static void check_upload(pid_t pid, long base, const char *what, const char *fnv,
			 const char *args, int port)
{
	char hf[IT_PATH_MAX], cmd[2048], *heads;
	const char *want_body = "104857600\n";
	struct watched w;
	const char *v;

	it_path(hf, "upload.heads");
	unlink(hf);
	snprintf(cmd, sizeof(cmd), T "curl -s --max-time 10 -D %s %s http://127.0.0.1:%d/sink",
		 hf, args, port);
	run_watched(&w, pid, false, cmd);
	heads = it_read_file(hf);
	IT_ASSERT(w.status == 0 && strcmp(w.out, want_body) == 0,
		  "%s: curl exit %d%s, the origin counted \"%s\", want %s", what, w.status,
		  w.status == 28 ? " (no answer in 10 s: the upload stalled)" : "", w.out, want_body);
	v = strcasestr(heads, "x-body-fnv:");
	IT_ASSERT(v && strncmp(v + 11 + strspn(v + 11, " "), fnv, 16) == 0,
		  "%s: the origin's X-Body-Fnv differs from %s:\n%s", what, fnv, heads);
	IT_ASSERT(w.peak_kb > 0, "%s: no VmRSS sample of pid %d", what, (int)pid);
	IT_ASSERT(w.peak_kb - base <= RSS_SLACK_KB,
		  "%s: the worker's VmRSS grew from %ld to %ld kB (limit +%d kB)", what, base,
		  w.peak_kb, RSS_SLACK_KB);
	fprintf(stderr, "note: %s: VmRSS %ld kB at rest, %ld kB at most\n", what, base, w.peak_kb);
	free(heads);
	free(w.out);
}

START_TEST(stream_upload)
{
	struct origin *a;
	struct it_proc *p;
	char file[IT_PATH_MAX], fnv[20], args[IT_PATH_MAX + 128];
	struct hres r;
	long base;
	int port;

	if (!have_proxy(_i))
		return;
	a = origin_start("A");
	p = start_proxy(_i, 1, NULL, &port,
		"\"upstreams\": [{\"name\": \"u\", \"servers\": [" SRV "]}],\n"
		"  \"limits\": {\"max_body_bytes\": 209715200},\n"
		"  \"routes\": [{\"path_prefix\": \"/\", \"upstream\": \"u\", \"connect_timeout_ms\": 500,\n"
		"               \"read_timeout_ms\": 10000}]", a->port);
	big_file(file, fnv);
	ck_assert_int_eq(get1(port, "/name", NULL, NULL, &r), 0);
	hres_free(&r);
	base = rss_kb(p->pid);
	ck_assert_int_gt(base, 0);

	snprintf(args, sizeof(args), "--http1.1 --data-binary @%s", file);
	check_upload(p->pid, base, "HTTP/1.1 upload with Content-Length", fnv, args, port);
	snprintf(args, sizeof(args), "--http1.1 -X POST -T %s -H 'Transfer-Encoding: chunked'", file);
	check_upload(p->pid, base, "HTTP/1.1 chunked upload", fnv, args, port);
	if (sw_module_find("http2")) {
		/* twice: each is a new connection, whose stream buffers grow while pieces are out */
		snprintf(args, sizeof(args), "--http2-prior-knowledge --data-binary @%s", file);
		check_upload(p->pid, base, "HTTP/2 upload", fnv, args, port);
		check_upload(p->pid, base, "HTTP/2 upload (again)", fnv, args, port);
	}
}
END_TEST

static void check_download(pid_t pid, long base, const char *what, const char *args, int port,
			   const char *target)
{
	char cmd[1024];
	struct watched w;

	snprintf(cmd, sizeof(cmd), T "curl -s --max-time 20 %s 'http://127.0.0.1:%d%s'", args, port,
		 target);
	run_watched(&w, pid, true, cmd);
	IT_ASSERT(w.status == 0 && w.bytes == BIG && w.bad_at < 0,
		  "%s %s: curl exit %d, %llu bytes (want %llu), first wrong byte at %lld", what,
		  target, w.status, (unsigned long long)w.bytes, (unsigned long long)BIG,
		  (long long)w.bad_at);
	IT_ASSERT(w.peak_kb > 0, "%s %s: no VmRSS sample of pid %d", what, target, (int)pid);
	IT_ASSERT(w.peak_kb - base <= RSS_SLACK_KB,
		  "%s %s: the worker's VmRSS grew from %ld to %ld kB (limit +%d kB)", what, target,
		  base, w.peak_kb, RSS_SLACK_KB);
	fprintf(stderr, "note: %s %s: VmRSS %ld kB at rest, %ld kB at most\n", what, target, base,
		w.peak_kb);
	free(w.out);
}

/*
 * Uploads to an upstream slower than the client: the proxy's writes wait
 * while the client keeps sending (HTTP/2 within its window).  The bytes
 * must arrive intact, in time.
 */
START_TEST(upload_slow_upstream)
{
	char file[IT_PATH_MAX], want[64], cmd[2048];
	static unsigned char blk[1 << 16];
	uint64_t h = 0xcbf29ce484222325ull;
	const uint64_t size = 8u << 20;
	int port, sink;
	FILE *f;

	if (!have_proxy(_i))
		return;
	sink = slow_sink_start();
	start_proxy(_i, 1, NULL, &port,
		"\"upstreams\": [{\"name\": \"u\", \"servers\": [{\"address\": \"127.0.0.1\", \"port\": %d,\n"
		"                \"max_fails\": 0}]}],\n"
		"  \"routes\": [{\"path_prefix\": \"/\", \"upstream\": \"u\", \"connect_timeout_ms\": 500,\n"
		"               \"read_timeout_ms\": 8000}]", sink);
	it_path(file, "slow-upload.bin");
	f = fopen(file, "w");
	ck_assert_ptr_nonnull(f);
	for (uint64_t off = 0; off < size; off += sizeof(blk)) {
		for (size_t k = 0; k < sizeof(blk); k++) {
			blk[k] = (unsigned char)(((off + k) * 11 + ((off + k) >> 9)) & 0xff);
			h = (h ^ blk[k]) * 0x100000001b3ull;
		}
		ck_assert_int_eq(fwrite(blk, 1, sizeof(blk), f), sizeof(blk));
	}
	ck_assert_int_eq(fclose(f), 0);
	snprintf(want, sizeof(want), "%llu %016llx", (unsigned long long)size, (unsigned long long)h);

	for (int proto = 0; proto < 2; proto++) {
		const char *what = proto ? "HTTP/2" : "HTTP/1.1";
		int st;
		char *o;

		if (proto && !sw_module_find("http2"))
			break;
		snprintf(cmd, sizeof(cmd), T "curl -s --max-time 15 %s --data-binary @%s "
			 "-w ' %%{http_code}' http://127.0.0.1:%d/upload",
			 proto ? "--http2-prior-knowledge" : "--http1.1", file, port);
		o = run(&st, "%s", cmd);
		IT_ASSERT(st == 0 && strncmp(o, want, strlen(want)) == 0 && strstr(o, " 200"),
			  "%s upload of 8 MiB to a slow upstream: the upstream got \"%s\" (curl exit %d), "
			  "want \"%s\" and 200", what, o, st, want);
		free(o);
	}
}
END_TEST

/*
 * read_timeout_ms bounds the wait for the upstream's response, not the
 * client's upload: a body that takes longer than it to arrive (while
 * bytes keep flowing) must still go through.
 */
START_TEST(slow_client_upload)
{
	struct origin *a;
	char file[IT_PATH_MAX], *o;
	int port, st;
	int64_t t0;

	if (!have_proxy(_i))
		return;
	a = origin_start("A");
	start_proxy(_i, 1, NULL, &port,
		"\"upstreams\": [{\"name\": \"u\", \"servers\": [{\"address\": \"127.0.0.1\", \"port\": %d,\n"
		"                \"max_fails\": 0}]}],\n"
		"  \"routes\": [{\"path_prefix\": \"/\", \"upstream\": \"u\", \"connect_timeout_ms\": 500,\n"
		"               \"read_timeout_ms\": 700}]", a->port);
	it_path(file, "slow.bin");
	o = run(&st, "head -c 160000 /dev/zero > %s", file);
	free(o);
	t0 = it_now_ms();
	/* 160 kB at 80 kB/s: about 2 s of steady upload */
	o = run(&st, T "curl -s --max-time 10 --http1.1 --limit-rate 80k --data-binary @%s "
		"-w ' %%{http_code}' http://127.0.0.1:%d/sink", file, port);
	IT_ASSERT(st == 0 && strcmp(o, "160000\n 200") == 0,
		  "an upload of 2 s with read_timeout_ms 700: \"%s\" after %d ms; want the origin's "
		  "count and 200 (the read timeout must not run while the request body is still "
		  "being sent)", o, (int)(it_now_ms() - t0));
	free(o);
}
END_TEST

START_TEST(stream_download)
{
	struct origin *a;
	struct it_proc *p;
	struct hres r;
	long base;
	int port;

	if (!have_proxy(_i))
		return;
	a = origin_start("A");
	p = start_proxy(_i, 1, NULL, &port,
		"\"upstreams\": [{\"name\": \"u\", \"servers\": [" SRV "]}],\n"
		"  \"routes\": [{\"path_prefix\": \"/\", \"upstream\": \"u\", \"connect_timeout_ms\": 500,\n"
		"               \"read_timeout_ms\": 10000}]", a->port);
	ck_assert_int_eq(get1(port, "/name", NULL, NULL, &r), 0);
	hres_free(&r);
	base = rss_kb(p->pid);
	ck_assert_int_gt(base, 0);

	check_download(p->pid, base, "HTTP/1.1", "--http1.1", port, "/bytes/104857600");
	check_download(p->pid, base, "HTTP/1.1", "--http1.1", port, "/bytes/104857600?chunked=1");
	check_download(p->pid, base, "HTTP/1.1", "--http1.1", port, "/bytes/104857600?close=1");
	if (sw_module_find("http2")) {
		check_download(p->pid, base, "HTTP/2", "--http2-prior-knowledge", port,
			       "/bytes/104857600");
		check_download(p->pid, base, "HTTP/2", "--http2-prior-knowledge", port,
			       "/bytes/104857600?chunked=1");
	}
}
END_TEST

/* ---- 8. upstream errors ---- */

/* GET target on a fresh connection: the status (or -errno), elapsed ms into *ms. */
static int timed_get(int port, const char *target, int *ms, struct hres *r)
{
	int64_t t0 = it_now_ms();
	int rc = get1(port, target, NULL, NULL, r);

	*ms = (int)(it_now_ms() - t0);
	return rc ? rc : r->status;
}

START_TEST(upstream_errors)
{
	struct origin *a;
	int port, dead = it_free_port(), st, ms;
	struct hres r;
	char *m;

	if (!have_proxy(_i))
		return;
	a = origin_start("A");
	start_proxy(_i, 1, NULL, &port,
		"\"upstreams\": [\n"
		"    {\"name\": \"dead\", \"servers\": [{\"address\": \"127.0.0.1\", \"port\": %d, \"max_fails\": 0}]},\n"
		"    {\"name\": \"o\", \"servers\": [{\"address\": \"127.0.0.1\", \"port\": %d, \"max_fails\": 0}]}],\n"
		"  \"routes\": [\n"
		"    {\"path_prefix\": \"/dead\", \"upstream\": \"dead\", " TMO "},\n"
		"    {\"path_prefix\": \"/rt\", \"upstream\": \"o\", \"rewrite_pattern\": \"/rt\",\n"
		"     \"rewrite_replacement\": \"/\", \"read_timeout_ms\": 500},\n"
		"    {\"path_prefix\": \"/tt\", \"upstream\": \"o\", \"rewrite_pattern\": \"/tt\",\n"
		"     \"rewrite_replacement\": \"/\", \"read_timeout_ms\": 5000, \"total_timeout_ms\": 700},\n"
		"    {\"path_prefix\": \"/mx\", \"upstream\": \"o\", \"rewrite_pattern\": \"/mx\",\n"
		"     \"rewrite_replacement\": \"/\", \"max_response_bytes\": 1000, " TMO "},\n"
		"    {\"path_prefix\": \"/\", \"upstream\": \"o\", " TMO "}]",
		dead, a->port);

	/* nothing listens: refused at once, nobody to retry on */
	st = timed_get(port, "/dead/x", &ms, &r);
	IT_ASSERT(st == 502 && ms < 1000, "GET from a server that refuses connections: %d after "
		  "%d ms, want 502 at once", st, ms);
	hres_free(&r);

	/* read_timeout_ms */
	st = timed_get(port, "/rt/slow/3000", &ms, &r);
	IT_ASSERT(st == 504 && ms >= 400 && ms < 2000,
		  "/slow/3000 with read_timeout_ms 500: %d after %d ms, want 504 after ~500 ms", st, ms);
	hres_free(&r);
	st = timed_get(port, "/rt/slow/100", &ms, &r);
	IT_ASSERT(st == 200, "/slow/100 with read_timeout_ms 500: %d", st);
	hres_free(&r);

	/* total_timeout_ms: before the head 504; after it the response is cut */
	st = timed_get(port, "/tt/slow/3000", &ms, &r);
	IT_ASSERT(st == 504 && ms >= 600 && ms < 2000,
		  "/slow/3000 with total_timeout_ms 700: %d after %d ms, want 504 after ~700 ms",
		  st, ms);
	hres_free(&r);
	st = timed_get(port, "/tt/slowbody/3000", &ms, &r);
	IT_ASSERT(st < 0 || (st == 200 && r.truncated && ms < 2500),
		  "/slowbody/3000 with total_timeout_ms 700: status %d, truncated %d after %d ms; "
		  "the response must be cut, not completed", st, r.truncated, ms);
	hres_free(&r);

	/* broken upstream responses */
	st = timed_get(port, "/garbage", &ms, &r);
	IT_ASSERT(st == 502, "GET /garbage (an invalid response head): %d, want 502", st);
	hres_free(&r);
	st = timed_get(port, "/reset", &ms, &r);
	IT_ASSERT(st == 502, "GET /reset (the origin resets): %d, want 502", st);
	hres_free(&r);

	/* max_response_bytes */
	st = timed_get(port, "/mx/bytes/1000", &ms, &r);
	IT_ASSERT(st == 200 && r.body_len == 1000, "/bytes/1000 under max_response_bytes 1000: %d, "
		  "%zu bytes", st, r.body_len);
	hres_free(&r);
	st = timed_get(port, "/mx/bytes/5000", &ms, &r);
	IT_ASSERT(st == 502, "/bytes/5000 over max_response_bytes 1000: %d, want 502", st);
	hres_free(&r);
	st = timed_get(port, "/mx/bytes/5000?chunked=1", &ms, &r);
	IT_ASSERT(st < 0 || st == 502 || (st == 200 && r.truncated),
		  "chunked /bytes/5000 over max_response_bytes 1000: %d with %zu bytes, complete; "
		  "want 502 or a cut response", st, r.body_len);
	hres_free(&r);
	st = timed_get(port, "/mx/bytes/5000?close=1", &ms, &r);
	IT_ASSERT(st < 0 || st == 502 || (st == 200 && r.truncated && r.body_len <= 1000) ||
		  (st == 200 && r.body_len < 5000),
		  "close-delimited /bytes/5000 over max_response_bytes 1000: %d with %zu bytes", st,
		  r.body_len);
	hres_free(&r);

	/* still serving, and the errors are counted by kind */
	st = timed_get(port, "/name", &ms, &r);
	IT_ASSERT(st == 200 && strcmp(r.body, "A") == 0, "GET /name after the errors: %d", st);
	hres_free(&r);
	m = metrics(port);
	IT_ASSERT(it_series(m, "swerver_upstream_errors_total" LBL ",kind=\"connect\"}", "dead", dead) >= 1,
		  "no connect error counted for the dead server:\n%s", m);
	IT_ASSERT(it_series(m, "swerver_upstream_errors_total" LBL ",kind=\"timeout\"}", "o", a->port) >= 1,
		  "no timeout counted:\n%s", m);
	IT_ASSERT(it_series(m, "swerver_upstream_errors_total" LBL ",kind=\"bad_response\"}", "o",
			 a->port) >= 1, "no bad_response counted:\n%s", m);
	IT_ASSERT(it_series(m, "swerver_upstream_errors_total" LBL ",kind=\"reset\"}", "o", a->port) >= 1,
		  "no reset counted:\n%s", m);
	free(m);
}
END_TEST

/* ---- 9. rate limits ---- */

/*
 * A full pool (connection_pool.max_connections) queues requests until a
 * connection is free, instead of refusing them; only one that waits past
 * the connect timeout gets 503.
 */
START_TEST(pool_full_waits)
{
	struct origin *a;
	int port, st, total, n;
	char *out, url[128];

	if (!have_proxy(_i))
		return;
	a = origin_start("A");
	start_proxy(_i, 1, NULL, &port,
		"\"upstreams\": [{\"name\": \"o\", \"connection_pool\": {\"max_connections\": 1},\n"
		"    \"servers\": [{\"address\": \"127.0.0.1\", \"port\": %d, \"max_fails\": 0}]}],\n"
		"  \"routes\": [\n"
		"    {\"path_prefix\": \"/short\", \"upstream\": \"o\", \"rewrite_pattern\": \"/short\",\n"
		"     \"rewrite_replacement\": \"/\", \"connect_timeout_ms\": 300},\n"
		"    {\"path_prefix\": \"/\", \"upstream\": \"o\", \"connect_timeout_ms\": 5000}]",
		a->port);

	/* four at once through one upstream connection: all answered, one after another */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/slow/200", port);
	out = run(&st, "curl -sZ --parallel-immediate --parallel-max 4 -D - "
		  "-o /dev/null %s -o /dev/null %s -o /dev/null %s -o /dev/null %s", url, url, url, url);
	IT_ASSERT(st == 0 && lines_with(out, "HTTP/1.1 200") == 4, "4 requests over a pool of "
		  "one: want 4 x 200, got:\n%s", out);
	n = distinct_conns(out, &total);
	IT_ASSERT(total == 4 && n == 1, "4 requests used %d upstream connections (max 1)", n);
	free(out);

	/* a wait longer than the route's connect timeout: 503 for those who waited */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/short/slow/1500", port);
	out = run(&st, "curl -sZ --parallel-immediate --parallel-max 3 -D - "
		  "-o /dev/null %s -o /dev/null %s -o /dev/null %s", url, url, url);
	IT_ASSERT(lines_with(out, "HTTP/1.1 200") == 1 && lines_with(out, "HTTP/1.1 503") == 2,
		  "3 slow requests over a pool of one with a 300 ms connect timeout: want one 200 "
		  "and two 503, got:\n%s", out);
	free(out);
}
END_TEST

START_TEST(rate_limit)
{
	struct origin *a;
	struct hconn *c;
	struct hres r;
	char v[64], hdrs[64];
	int port, rc;

	if (!have_proxy(_i))
		return;
	a = origin_start("A");
	start_proxy(_i, 1, NULL, &port,
		"\"upstreams\": [{\"name\": \"u\", \"servers\": [" SRV "]}],\n"
		"  \"routes\": [\n"
		"    {\"path_prefix\": \"/rl\", \"upstream\": \"u\", \"rewrite_pattern\": \"/rl\",\n"
		"     \"rewrite_replacement\": \"/\", " TMO ",\n"
		"     \"rate_limit\": {\"requests_per_second\": 2, \"burst_size\": 3}},\n"
		"    {\"path_prefix\": \"/key\", \"upstream\": \"u\", \"rewrite_pattern\": \"/key\",\n"
		"     \"rewrite_replacement\": \"/\", " TMO ",\n"
		"     \"rate_limit\": {\"requests_per_second\": 1, \"burst_size\": 2, \"key\": \"consumer\",\n"
		"                    \"consumer_header\": \"X-API-Key\"}}]", a->port);

	c = hc_new(port);
	for (int k = 0; k < 3; k++) {
		rc = hc_req(c, "GET", "/rl/name", NULL, NULL, NULL, &r);
		IT_ASSERT(rc == 0 && r.status == 200 && origin_of(&r) == 'A',
			  "request %d of a burst of 3: rc %d status %d", k + 1, rc, r.status);
		IT_ASSERT(hdr(r.head, "X-RateLimit-Limit", v, sizeof(v)) && strcmp(v, "3") == 0,
			  "X-RateLimit-Limit: want 3\n%s", r.head);
		IT_ASSERT(hdr(r.head, "X-RateLimit-Remaining", v, sizeof(v)) && atoi(v) == 2 - k,
			  "request %d: X-RateLimit-Remaining want %d\n%s", k + 1, 2 - k, r.head);
		hres_free(&r);
	}
	rc = hc_req(c, "GET", "/rl/name", NULL, NULL, NULL, &r);
	IT_ASSERT(rc == 0 && r.status == 429, "the 4th request of a burst of 3: %d, want 429", r.status);
	IT_ASSERT(origin_of(&r) == 0, "a refused request reached the origin:\n%s", r.head);
	IT_ASSERT(hdr(r.head, "Retry-After", v, sizeof(v)) && atoi(v) >= 1,
		  "429 without Retry-After >= 1:\n%s", r.head);
	IT_ASSERT(hdr(r.head, "X-RateLimit-Limit", v, sizeof(v)) && strcmp(v, "3") == 0,
		  "429: X-RateLimit-Limit want 3\n%s", r.head);
	IT_ASSERT(hdr(r.head, "X-RateLimit-Remaining", v, sizeof(v)) && strcmp(v, "0") == 0,
		  "429: X-RateLimit-Remaining want 0\n%s", r.head);
	hres_free(&r);
	/* 2 a second: after 600 ms one more passes, then no more */
	it_sleep_ms(600);
	rc = hc_req(c, "GET", "/rl/name", NULL, NULL, NULL, &r);
	IT_ASSERT(rc == 0 && r.status == 200, "600 ms later at 2 requests/s: %d, want 200", r.status);
	hres_free(&r);
	rc = hc_req(c, "GET", "/rl/name", NULL, NULL, NULL, &r);
	IT_ASSERT(rc == 0 && r.status == 429, "right after that: %d, want 429", r.status);
	hres_free(&r);
	hc_free(c);

	/* consumer keys: a bucket each */
	for (int key = 1; key <= 2; key++) {
		snprintf(hdrs, sizeof(hdrs), "X-API-Key: key-%d\r\n", key);
		for (int k = 0; k < 3; k++) {
			rc = get1(port, "/key/name", NULL, hdrs, &r);
			IT_ASSERT(rc == 0 && r.status == (k < 2 ? 200 : 429),
				  "consumer key-%d request %d: %d, want %d", key, k + 1, r.status,
				  k < 2 ? 200 : 429);
			hres_free(&r);
		}
	}
	rc = get1(port, "/key/name", NULL, "X-API-Key: key-3\r\n", &r);
	IT_ASSERT(rc == 0 && r.status == 200, "a third consumer: %d, want 200", r.status);
	hres_free(&r);
}
END_TEST

START_TEST(rate_limit_shared)
{
	struct origin *a;
	struct hres r;
	int port, ok = 0, limited = 0;

	if (!have_proxy(_i))
		return;
	a = origin_start("A");
	start_proxy(_i, 2, NULL, &port,
		"\"upstreams\": [{\"name\": \"u\", \"servers\": [" SRV "]}],\n"
		"  \"routes\": [{\"path_prefix\": \"/\", \"upstream\": \"u\", " TMO ",\n"
		"     \"rate_limit\": {\"requests_per_second\": 1, \"burst_size\": 3}}]", a->port);
	/* new connections land on both workers; the bucket is the same */
	for (int k = 0; k < 12; k++) {
		int rc = get1(port, "/name", NULL, NULL, &r);

		IT_ASSERT(rc == 0 && (r.status == 200 || r.status == 429), "request %d: rc %d status %d",
			  k, rc, r.status);
		ok += r.status == 200;
		limited += r.status == 429;
		hres_free(&r);
	}
	IT_ASSERT(ok == 3 && limited == 9, "burst 3 with 2 workers: %d of 12 passed (%d refused), "
		  "want exactly 3", ok, limited);
}
END_TEST

/* ---- 10. WebSocket through the proxy ---- */

static void ws_send(struct hconn *c, int op, const void *data, size_t n)
{
	static const unsigned char mask[4] = { 0x3c, 0xa5, 0x0f, 0x71 };
	unsigned char *f = malloc(n + 14);
	size_t hl = 2;

	ck_assert_ptr_nonnull(f);
	f[0] = (unsigned char)(0x80 | op);
	if (n < 126) {
		f[1] = (unsigned char)(0x80 | n);
	} else if (n < 65536) {
		f[1] = 0x80 | 126;
		f[2] = (unsigned char)(n >> 8);
		f[3] = (unsigned char)n;
		hl = 4;
	} else {
		f[1] = 0x80 | 127;
		for (int k = 0; k < 8; k++)
			f[2 + k] = (unsigned char)((uint64_t)n >> (56 - 8 * k));
		hl = 10;
	}
	memcpy(f + hl, mask, 4);
	hl += 4;
	for (size_t k = 0; k < n; k++)
		f[hl + k] = ((const unsigned char *)data)[k] ^ mask[k & 3];
	ck_assert_int_eq(hc_send(c, f, hl + n), 0);
	free(f);
}

/* One frame from the server: 0 (op, payload malloc'ed into *data), or -errno. */
static int ws_recv(struct hconn *c, int *op, char **data, size_t *n, int timeout_ms)
{
	int64_t deadline = it_now_ms() + timeout_ms;
	const unsigned char *p;
	size_t hl = 2;
	uint64_t len;
	int rc;

	if ((rc = hc_need(c, 2, deadline)) != 0)
		return rc;
	p = (const unsigned char *)c->buf;
	IT_ASSERT(!(p[1] & 0x80), "a frame from the server is masked");
	len = p[1] & 0x7f;
	hl += len == 126 ? 2 : len == 127 ? 8 : 0;
	if ((rc = hc_need(c, hl, deadline)) != 0)
		return rc;
	p = (const unsigned char *)c->buf;
	if (len == 126) {
		len = (uint64_t)p[2] << 8 | p[3];
	} else if (len == 127) {
		len = 0;
		for (int k = 0; k < 8; k++)
			len = len << 8 | p[2 + k];
	}
	IT_ASSERT(hl + len <= sizeof(c->buf), "frame of %llu bytes", (unsigned long long)len);
	if ((rc = hc_need(c, hl + (size_t)len, deadline)) != 0)
		return rc;
	*op = c->buf[0] & 0x0f;
	*n = (size_t)len;
	*data = malloc(*n + 1);
	memcpy(*data, c->buf + hl, *n);
	(*data)[*n] = '\0';
	hc_consume(c, hl + (size_t)len);
	return 0;
}

START_TEST(websocket)
{
	static const char upgrade[] =
		"GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
	struct origin *a;
	struct hconn *c;
	struct hres r;
	char v[128], *data, *big;
	size_t n;
	int port, op, rc;

	if (!have_proxy(_i))
		return;
	a = origin_start("A");
	start_proxy(_i, 1, NULL, &port, ONE_ROUTE, a->port);

	c = hc_new(port);
	ck_assert_int_eq(hc_send(c, upgrade, strlen(upgrade)), 0);
	rc = hc_read(c, &r, false, IO_MS);
	IT_ASSERT(rc == 0 && r.status == 101, "WebSocket upgrade through the proxy: rc %d status %d\n%s",
		  rc, r.status, r.head);
	IT_ASSERT(hdr(r.head, "Sec-WebSocket-Accept", v, sizeof(v)) &&
		  strcmp(v, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") == 0, "Sec-WebSocket-Accept:\n%s", r.head);
	IT_ASSERT(hdr(r.head, "Upgrade", v, sizeof(v)) && strcasecmp(v, "websocket") == 0,
		  "101 without Upgrade: websocket:\n%s", r.head);
	IT_ASSERT(hdr(r.head, "Connection", v, sizeof(v)) && strcasestr(v, "upgrade"),
		  "101 without Connection: upgrade:\n%s", r.head);
	IT_ASSERT(origin_of(&r) == 'A', "101 without X-Origin: A:\n%s", r.head);
	hres_free(&r);

	ws_send(c, 1, "hello through the proxy", 23);
	rc = ws_recv(c, &op, &data, &n, IO_MS);
	IT_ASSERT(rc == 0 && op == 1 && n == 23 && memcmp(data, "hello through the proxy", 23) == 0,
		  "text frame echo: rc %d op %d \"%s\"", rc, op, rc == 0 ? data : "");
	free(data);

	big = malloc(70000);
	for (size_t k = 0; k < 70000; k++)
		big[k] = (char)(k * 13 + 1);
	ws_send(c, 2, big, 70000);
	rc = ws_recv(c, &op, &data, &n, IO_MS);
	IT_ASSERT(rc == 0 && op == 2 && n == 70000 && memcmp(data, big, 70000) == 0,
		  "70000-byte binary frame echo: rc %d op %d len %zu", rc, op, rc == 0 ? n : 0);
	free(data);
	free(big);

	ws_send(c, 9, "ping", 4);
	rc = ws_recv(c, &op, &data, &n, IO_MS);
	IT_ASSERT(rc == 0 && op == 10 && n == 4 && memcmp(data, "ping", 4) == 0,
		  "ping: rc %d op %d (want a pong)", rc, op);
	free(data);

	ws_send(c, 8, "\x03\xe8", 2);
	rc = ws_recv(c, &op, &data, &n, IO_MS);
	IT_ASSERT(rc == 0 && op == 8, "close: rc %d op %d (want the close echoed)", rc, op);
	free(data);
	c->len = 0;
	rc = hc_fill(c, it_now_ms() + 4000);
	IT_ASSERT(rc == 0 || rc == -ECONNRESET,
		  "the client connection did not end after the close handshake: %s",
		  rc > 0 ? "more bytes" : strerror(-rc));
	hc_free(c);

	/* the proxy serves on as before */
	rc = get1(port, "/name", NULL, NULL, &r);
	IT_ASSERT(rc == 0 && r.status == 200 && strcmp(r.body, "A") == 0,
		  "GET /name after the WebSocket: rc %d status %d", rc, r.status);
	hres_free(&r);
}
END_TEST

/* ---- 11. per-server metrics ---- */

START_TEST(metrics_upstream)
{
	struct origin *o[3];
	const char *names[3] = { "A", "B", "C" };
	int port, bad, counts[26] = { 0 };
	char s3[256], *m;

	if (!have_proxy(_i))
		return;
	for (int k = 0; k < 3; k++)
		o[k] = origin_start(names[k]);
	snprintf(s3, sizeof(s3), SRV ", " SRV ", " SRV, o[0]->port, o[1]->port, o[2]->port);
	start_proxy(_i, 1, NULL, &port,
		"\"upstreams\": [{\"name\": \"u\", \"servers\": [%s]}],\n"
		"  \"routes\": [{\"path_prefix\": \"/\", \"upstream\": \"u\", " TMO "}]", s3);
	bad = tally(port, "/name", 30, true, NULL, counts);
	ck_assert_int_eq(bad, 0);
	/* one slow answer (300 ms) each: past the 0.25 s bucket */
	bad = tally(port, "/slow/300", 3, true, NULL, counts);
	ck_assert_int_eq(bad, 0);

	m = metrics(port);
	for (int k = 0; k < 3; k++) {
		int sp = o[k]->port;
		double req = it_series(m, "swerver_upstream_requests_total" LBL "}", "u", sp);
		double inf = it_series(m, "swerver_upstream_response_seconds_bucket" LBL ",le=\"+Inf\"}", "u", sp);
		double cnt = it_series(m, "swerver_upstream_response_seconds_count" LBL "}", "u", sp);
		double q25 = it_series(m, "swerver_upstream_response_seconds_bucket" LBL ",le=\"0.25\"}", "u", sp);
		double h5 = it_series(m, "swerver_upstream_response_seconds_bucket" LBL ",le=\"0.5\"}", "u", sp);
		double sum = it_series(m, "swerver_upstream_response_seconds_sum" LBL "}", "u", sp);

		IT_ASSERT(req == 11, "swerver_upstream_requests_total for %s: %g, want 11\n%s",
			  names[k], req, m);
		IT_ASSERT(inf == cnt && cnt == 11, "%s: histogram +Inf %g, _count %g, want 11 both",
			  names[k], inf, cnt);
		/*
		 * The 300 ms answer can never fall in le=0.25; where the others
		 * fall depends on the machine's load, so only the order is fixed.
		 */
		IT_ASSERT(q25 <= 10 && q25 <= h5 && h5 <= inf, "%s: le=0.25 holds %g (at most 10), "
			  "le=0.5 %g, +Inf %g: not cumulative", names[k], q25, h5, inf);
		IT_ASSERT(sum >= 0.3, "%s: _sum %g, want at least the slow answer's 0.3", names[k], sum);
		IT_ASSERT(it_series(m, "swerver_upstream_up" LBL "}", "u", sp) == 1, "%s not up", names[k]);
	}
	free(m);
}
END_TEST

static Suite *proxy_suite(void)
{
	Suite *s = suite_create("proxy");
	TCase *tc = it_tcase("proxy");

	tcase_add_checked_fixture(tc, NULL, origins_teardown);
	tcase_add_loop_test(tc, forward_basic, 0, 2);
	tcase_add_loop_test(tc, forwarded_for_trust, 0, 2);
	tcase_add_loop_test(tc, routing, 0, 2);
	tcase_add_loop_test(tc, balancers, 0, 2);
	tcase_add_loop_test(tc, failover_passive, 0, 2);
	tcase_add_loop_test(tc, failover_backup, 0, 2);
	tcase_add_loop_test(tc, failover_active, 0, 2);
	tcase_add_loop_test(tc, keepalive_h1, 0, 2);
	tcase_add_loop_test(tc, keepalive_h2, 0, 2);
	tcase_add_loop_test(tc, keepalive_upstream_closes, 0, 2);
	tcase_add_loop_test(tc, keepalive_bodiless, 0, 2);
	tcase_add_loop_test(tc, head_length, 0, 2);
	tcase_add_loop_test(tc, stream_upload, 0, 2);
	tcase_add_loop_test(tc, upload_slow_upstream, 0, 2);
	tcase_add_loop_test(tc, slow_client_upload, 0, 2);
	tcase_add_loop_test(tc, stream_download, 0, 2);
	tcase_add_loop_test(tc, upstream_errors, 0, 2);
	tcase_add_loop_test(tc, pool_full_waits, 0, 2);
	tcase_add_loop_test(tc, rate_limit, 0, 2);
	tcase_add_loop_test(tc, rate_limit_shared, 0, 2);
	tcase_add_loop_test(tc, websocket, 0, 2);
	tcase_add_loop_test(tc, metrics_upstream, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

IT_SUITE(proxy_suite);
