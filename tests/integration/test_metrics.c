/* SPDX-License-Identifier: MIT */
/* test_metrics.c - /metrics parses strictly as Prometheus text 0.0.4 and counts every worker's requests. */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>
#include "harness.h"

/* ---- a raw one-shot HTTP/1.1 client that keeps the body ---- */

struct reply {
	int status;
	char head[4096];
	char *body;                  /* malloc'ed, NUL-terminated */
	size_t body_len;
};

static int connect_local(int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Reads until EOF (the request says Connection: close); 0 or -1. */
static int read_all(int fd, char **out, size_t *len)
{
	size_t cap = 65536;
	int64_t deadline = it_now_ms() + IT_IO_MS;
	char *buf = malloc(cap + 1);

	*len = 0;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int left = (int)(deadline - it_now_ms());
		ssize_t n;

		if (left <= 0 || poll(&p, 1, left) <= 0)
			break;
		if (*len == cap)
			buf = realloc(buf, (cap *= 2) + 1);
		n = read(fd, buf + *len, cap - *len);
		if (n <= 0) {
			buf[*len] = '\0';
			*out = buf;
			return n == 0 ? 0 : -1;
		}
		*len += (size_t)n;
	}
	free(buf);
	return -1;
}

static void fetch(int port, const char *method, const char *path, struct reply *r)
{
	char req[512], *all;
	size_t len;
	int fd = connect_local(port);
	const char *sep;

	memset(r, 0, sizeof(*r));
	IT_ASSERT(fd >= 0, "connect to port %d: %s", port, strerror(errno));
	snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
		 method, path);
	IT_ASSERT(write(fd, req, strlen(req)) == (ssize_t)strlen(req), "send failed");
	IT_ASSERT(read_all(fd, &all, &len) == 0, "%s %s: no complete response", method, path);
	close(fd);
	sep = strstr(all, "\r\n\r\n");
	IT_ASSERT(sep && sscanf(all, "HTTP/1.1 %d", &r->status) == 1,
		  "%s %s: malformed response: %.200s", method, path, all);
	snprintf(r->head, sizeof(r->head), "%.*s", (int)(sep - all), all);
	r->body_len = len - (size_t)(sep + 4 - all);
	r->body = malloc(r->body_len + 1);
	memcpy(r->body, sep + 4, r->body_len);
	r->body[r->body_len] = '\0';
	free(all);
}

static bool head_has(const struct reply *r, const char *line)
{
	return strcasestr(r->head, line) != NULL;
}

/* ---- a strict parser for the text exposition format 0.0.4 ---- */

#define MAX_SAMPLES 1024
#define MAX_FAMILIES 64
#define NAME_MAX_LEN 128
#define LABELS_MAX_LEN 512

struct sample {
	char name[NAME_MAX_LEN];
	char labels[LABELS_MAX_LEN];   /* as written between the braces */
	double value;
	int family;
};

struct family {
	char name[NAME_MAX_LEN];
	char type[16];
	bool help;
	bool closed;                   /* another family's samples followed */
};

struct exposition {
	struct sample s[MAX_SAMPLES];
	int ns;
	struct family f[MAX_FAMILIES];
	int nf;
	char err[256];
};

static bool bad(struct exposition *e, int line, const char *what)
{
	snprintf(e->err, sizeof(e->err), "line %d: %s", line, what);
	return false;
}

/* [a-zA-Z_:][a-zA-Z0-9_:]* (labels: no colon); returns its length, 0 if none. */
static size_t name_len(const char *p, bool label)
{
	size_t n = 0;

	if (!(isalpha((unsigned char)p[0]) || p[0] == '_' || (!label && p[0] == ':')))
		return 0;
	while (isalnum((unsigned char)p[n]) || p[n] == '_' || (!label && p[n] == ':'))
		n++;
	return n;
}

static bool parse_value(const char *p, const char *end, double *v)
{
	char buf[64], *stop;
	size_t n = (size_t)(end - p);

	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, p, n);
	buf[n] = '\0';
	if (strcmp(buf, "+Inf") == 0 || strcmp(buf, "-Inf") == 0 || strcmp(buf, "NaN") == 0) {
		*v = strcmp(buf, "NaN") == 0 ? NAN : buf[0] == '+' ? INFINITY : -INFINITY;
		return true;
	}
	if (!(isdigit((unsigned char)buf[0]) || buf[0] == '-' || buf[0] == '+' || buf[0] == '.'))
		return false;   /* strtod would take "inf", "0x1p3"; the format does not */
	if (strpbrk(buf, "xXiInN"))
		return false;
	*v = strtod(buf, &stop);
	return *stop == '\0';
}

/* A quoted label value with only \\, \" and \n escapes; returns the char after the quote. */
static const char *label_value(const char *p)
{
	if (*p++ != '"')
		return NULL;
	for (; *p && *p != '"'; p++) {
		if (*p == '\n')
			return NULL;
		if (*p == '\\' && p[1] != '\\' && p[1] != '"' && p[1] != 'n')
			return NULL;
		if (*p == '\\')
			p++;
	}
	return *p == '"' ? p + 1 : NULL;
}

/* {name="v",...} (trailing comma allowed, no duplicate names); returns the char after '}'. */
static const char *parse_labels(const char *p, char *out, size_t size)
{
	const char *start = p + 1;
	char seen[16][NAME_MAX_LEN];
	int nseen = 0;

	p++;
	while (*p != '}') {
		size_t n = name_len(p, true);
		if (n == 0 || n >= NAME_MAX_LEN || p[n] != '=' || nseen == 16)
			return NULL;
		for (int i = 0; i < nseen; i++)
			if (strlen(seen[i]) == n && strncmp(seen[i], p, n) == 0)
				return NULL;
		snprintf(seen[nseen++], NAME_MAX_LEN, "%.*s", (int)n, p);
		if (!(p = label_value(p + n + 1)))
			return NULL;
		if (*p == ',')
			p++;
		else if (*p != '}')
			return NULL;
	}
	if ((size_t)(p - start) >= size)
		return NULL;
	snprintf(out, size, "%.*s", (int)(p - start), start);
	return p + 1;
}

static int find_family(struct exposition *e, const char *name, size_t n)
{
	for (int i = 0; i < e->nf; i++)
		if (strlen(e->f[i].name) == n && strncmp(e->f[i].name, name, n) == 0)
			return i;
	return -1;
}

static int family_of_sample(struct exposition *e, const char *name)
{
	static const char *const sfx[] = { "_bucket", "_sum", "_count" };
	size_t n = strlen(name);
	int f = find_family(e, name, n);

	if (f >= 0 && strcmp(e->f[f].type, "histogram") != 0)
		return f;
	for (int k = 0; k < 3; k++) {
		size_t sl = strlen(sfx[k]);
		if (n > sl && strcmp(name + n - sl, sfx[k]) == 0) {
			f = find_family(e, name, n - sl);
			if (f >= 0 && strcmp(e->f[f].type, "histogram") == 0)
				return f;
		}
	}
	return -1;
}

static bool parse_comment(struct exposition *e, int ln, const char *p)
{
	bool help = strncmp(p, "# HELP ", 7) == 0;
	size_t n;
	int f;

	if (!help && strncmp(p, "# TYPE ", 7) != 0)
		return bad(e, ln, "a comment that is neither HELP nor TYPE");
	p += 7;
	if (!(n = name_len(p, false)) || n >= NAME_MAX_LEN || p[n] != ' ')
		return bad(e, ln, "bad metric name after HELP/TYPE");
	f = find_family(e, p, n);
	if (f < 0) {
		if (e->nf == MAX_FAMILIES)
			return bad(e, ln, "too many families");
		f = e->nf++;
		snprintf(e->f[f].name, NAME_MAX_LEN, "%.*s", (int)n, p);
	}
	if (e->f[f].closed)
		return bad(e, ln, "HELP/TYPE after the family's samples");
	p += n + 1;
	if (help) {
		if (e->f[f].help)
			return bad(e, ln, "second HELP");
		for (const char *q = p; *q; q++)
			if (*q == '\\' && q[1] != '\\' && q[1] != 'n')
				return bad(e, ln, "bad escape in HELP");
		e->f[f].help = true;
		return true;
	}
	if (e->f[f].type[0])
		return bad(e, ln, "second TYPE");
	if (strcmp(p, "counter") && strcmp(p, "gauge") && strcmp(p, "histogram") &&
	    strcmp(p, "summary") && strcmp(p, "untyped"))
		return bad(e, ln, "unknown TYPE");
	snprintf(e->f[f].type, sizeof(e->f[f].type), "%s", p);
	return true;
}

static bool parse_sample(struct exposition *e, int ln, const char *p, int *last_family)
{
	struct sample *s = &e->s[e->ns];
	size_t n = name_len(p, false);
	const char *sp;

	if (e->ns == MAX_SAMPLES)
		return bad(e, ln, "too many samples");
	if (n == 0 || n >= NAME_MAX_LEN)
		return bad(e, ln, "bad metric name");
	snprintf(s->name, sizeof(s->name), "%.*s", (int)n, p);
	p += n;
	s->labels[0] = '\0';
	if (*p == '{' && !(p = parse_labels(p, s->labels, sizeof(s->labels))))
		return bad(e, ln, "bad label set");
	if (*p++ != ' ')
		return bad(e, ln, "no single space before the value");
	sp = strchr(p, ' ');   /* an optional timestamp follows */
	if (!parse_value(p, sp ? sp : p + strlen(p), &s->value))
		return bad(e, ln, "value is not a float");
	if ((s->family = family_of_sample(e, s->name)) < 0)
		return bad(e, ln, "sample without a TYPE line before it");
	if (e->f[s->family].closed)
		return bad(e, ln, "family's samples are not contiguous");
	if (*last_family >= 0 && *last_family != s->family)
		e->f[*last_family].closed = true;
	*last_family = s->family;
	for (int i = 0; i < e->ns; i++)
		if (strcmp(e->s[i].name, s->name) == 0 && strcmp(e->s[i].labels, s->labels) == 0)
			return bad(e, ln, "duplicate series");
	e->ns++;
	return true;
}

/* le="..." removed from a label set, and its value. */
static bool split_le(const char *labels, char *rest, size_t size, double *le)
{
	const char *p = strstr(labels, "le=\"");
	const char *q;
	char tmp[LABELS_MAX_LEN];

	if (!p || (p != labels && p[-1] != ','))
		return false;
	q = strchr(p + 4, '"');
	if (!q || !parse_value(p + 4, q, le))
		return false;
	snprintf(tmp, sizeof(tmp), "%.*s%s", (int)(p - labels), labels, q[1] == ',' ? q + 2 : q + 1);
	while (tmp[0] && tmp[strlen(tmp) - 1] == ',')
		tmp[strlen(tmp) - 1] = '\0';
	snprintf(rest, size, "%s", tmp);
	return true;
}

static const struct sample *find(const struct exposition *e, const char *name, const char *labels)
{
	for (int i = 0; i < e->ns; i++)
		if (strcmp(e->s[i].name, name) == 0 && strcmp(e->s[i].labels, labels) == 0)
			return &e->s[i];
	return NULL;
}

/* Buckets of one series: le increasing, counts non-decreasing, +Inf last and == _count. */
static bool check_series(struct exposition *e, const struct family *f, const char *base)
{
	char name[NAME_MAX_LEN + 8], rest[LABELS_MAX_LEN];
	double prev_le = -INFINITY, prev = 0, le;
	const struct sample *count, *sum;
	int buckets = 0;

	snprintf(name, sizeof(name), "%s_bucket", f->name);
	for (int i = 0; i < e->ns; i++) {
		const struct sample *s = &e->s[i];
		if (strcmp(s->name, name) != 0 || !split_le(s->labels, rest, sizeof(rest), &le) ||
		    strcmp(rest, base) != 0)
			continue;
		if (!(le > prev_le) || s->value < prev)
			return bad(e, 0, "histogram buckets not monotonic");
		prev_le = le;
		prev = s->value;
		buckets++;
	}
	snprintf(name, sizeof(name), "%s_count", f->name);
	count = find(e, name, base);
	snprintf(name, sizeof(name), "%s_sum", f->name);
	sum = find(e, name, base);
	if (buckets < 2 || !isinf(prev_le) || !count || !sum || count->value != prev)
		return bad(e, 0, "histogram without +Inf == _count, or without _sum");
	return true;
}

static bool check_histograms(struct exposition *e)
{
	char rest[LABELS_MAX_LEN], name[NAME_MAX_LEN + 8];
	double le;

	for (int i = 0; i < e->ns; i++) {
		const struct family *f = &e->f[e->s[i].family];
		if (strcmp(f->type, "histogram") != 0)
			continue;
		snprintf(name, sizeof(name), "%s_bucket", f->name);
		if (strcmp(e->s[i].name, name) == 0) {
			if (!split_le(e->s[i].labels, rest, sizeof(rest), &le))
				return bad(e, 0, "bucket without le");
			if (!check_series(e, f, rest))
				return false;
		}
	}
	return true;
}

static bool parse_exposition(struct exposition *e, char *text)
{
	int ln = 0, last = -1;
	char *line = text, *nl;

	memset(e, 0, sizeof(*e));
	if (!*text || text[strlen(text) - 1] != '\n')
		return bad(e, 0, "empty, or the last line has no newline");
	for (; (nl = strchr(line, '\n')); line = nl + 1) {
		*nl = '\0';
		ln++;
		if (!*line)
			return bad(e, ln, "empty line");
		if (line[0] == '#' ? !parse_comment(e, ln, line) : !parse_sample(e, ln, line, &last))
			return false;
	}
	for (int i = 0; i < e->nf; i++)
		if (!e->f[i].help || !e->f[i].type[0])
			return bad(e, 0, "a family without HELP or TYPE");
	return check_histograms(e);
}

/* ---- the server under test ---- */

static struct exposition *scrape(int port)
{
	struct exposition *e = malloc(sizeof(*e));
	struct reply r;

	fetch(port, "GET", "/metrics", &r);
	IT_ASSERT(r.status == 200, "GET /metrics: %d", r.status);
	IT_ASSERT(head_has(&r, "\r\nContent-Type: text/plain; version=0.0.4"),
		  "GET /metrics: wrong Content-Type:\n%s", r.head);
	IT_ASSERT(parse_exposition(e, r.body), "/metrics does not parse: %s\n%s", e->err, r.body);
	free(r.body);
	return e;
}

static double value(const struct exposition *e, const char *name, const char *labels)
{
	const struct sample *s = find(e, name, labels);

	IT_ASSERT(s, "/metrics has no %s{%s}", name, labels);
	return s->value;
}

static const char *type_of(const struct exposition *e, const char *name)
{
	for (int i = 0; i < e->nf; i++)
		if (strcmp(e->f[i].name, name) == 0)
			return e->f[i].type;
	return "(absent)";
}

static int start(int i, unsigned workers, struct it_proc **pp)
{
	const char *backend = it_backend(i);
	char cfg[IT_PATH_MAX];
	int port;

	if (!backend)
		return -1;
	it_config_simple(cfg, "swerver.json", "127.0.0.1", 0, workers, backend);
	*pp = it_start_ready(cfg, "127.0.0.1", &port);
	return port;
}

START_TEST(exposition_parses)
{
	static const char *const want[][2] = {
		{ "swerver_requests_total", "counter" },
		{ "swerver_bytes_received_total", "counter" },
		{ "swerver_bytes_sent_total", "counter" },
		{ "swerver_connections_open", "gauge" },
		{ "swerver_connections_accepted_total", "counter" },
		{ "swerver_request_duration_seconds", "histogram" },
		{ "swerver_worker_restarts_total", "counter" },
		{ "swerver_reloads_total", "counter" },
		{ "swerver_reload_failures_total", "counter" },
		{ "swerver_config_generation", "gauge" },
		{ "swerver_workers", "gauge" },
		{ "swerver_uptime_seconds", "gauge" },
		{ "swerver_start_time_seconds", "gauge" },
		{ "swerver_build_info", "gauge" },
		{ "swerver_worker_connections_open", "gauge" },
		{ "swerver_worker_requests_total", "counter" },
	};
	struct it_proc *p;
	struct exposition *e;
	int port = start(_i, 2, &p);

	if (port < 0)
		return;
	e = scrape(port);
	for (size_t k = 0; k < sizeof(want) / sizeof(want[0]); k++)
		IT_ASSERT(strcmp(type_of(e, want[k][0]), want[k][1]) == 0, "%s: TYPE %s, want %s",
			  want[k][0], type_of(e, want[k][0]), want[k][1]);
	for (int k = 0; k < e->nf; k++)
		IT_ASSERT(strncmp(e->f[k].name, "swerver_", 8) == 0, "%s lacks the swerver_ prefix",
			  e->f[k].name);
	IT_ASSERT(value(e, "swerver_workers", "") == 2, "swerver_workers != 2");
	IT_ASSERT(value(e, "swerver_config_generation", "") == 1, "generation != 1");
	IT_ASSERT(value(e, "swerver_connections_open", "") >= 1, "our own connection is not open");
	IT_ASSERT(fabs(value(e, "swerver_start_time_seconds", "") - (double)time(NULL)) < 120,
		  "start time is not now");
	for (int k = 0; k < e->ns; k++)
		if (strcmp(e->s[k].name, "swerver_build_info") == 0)
			IT_ASSERT(strstr(e->s[k].labels, "version=\"" PACKAGE_VERSION "\"") &&
				  e->s[k].value == 1, "build_info: {%s} %g", e->s[k].labels,
				  e->s[k].value);
	value(e, "swerver_request_duration_seconds_bucket", "protocol=\"h2\",le=\"+Inf\"");
	free(e);
}
END_TEST

START_TEST(methods)
{
	struct it_proc *p;
	struct reply r, g;
	int port = start(_i, 1, &p);

	if (port < 0)
		return;
	fetch(port, "POST", "/metrics", &r);
	IT_ASSERT(r.status == 405 && head_has(&r, "\r\nAllow: GET, HEAD"),
		  "POST /metrics: %d\n%s", r.status, r.head);
	free(r.body);
	fetch(port, "HEAD", "/metrics", &r);
	fetch(port, "GET", "/metrics?x=1", &g);
	IT_ASSERT(r.status == 200 && r.body_len == 0, "HEAD /metrics: %d with %zu body bytes",
		  r.status, r.body_len);
	IT_ASSERT(head_has(&r, "\r\nContent-Type: text/plain; version=0.0.4"), "HEAD: no type");
	IT_ASSERT(g.status == 200 && g.body_len > 500, "GET /metrics?x=1: %d, %zu bytes",
		  g.status, g.body_len);
	free(r.body);
	free(g.body);
	fetch(port, "GET", "/metricsx", &r);
	IT_ASSERT(r.status == 404, "GET /metricsx: %d", r.status);
	free(r.body);
}
END_TEST

#define CONNS 24
#define PER_CONN 5

/* CONNS connections (spread over both workers by SO_REUSEPORT), PER_CONN probes and a 404 each. */
static void traffic(int port)
{
	struct it_conn *c = malloc(sizeof(*c) * CONNS);

	for (int k = 0; k < CONNS; k++)
		IT_ASSERT(it_conn_open(&c[k], "127.0.0.1", port) == 0, "connect %d", k);
	for (int k = 0; k < CONNS; k++) {
		struct it_response r;
		for (int j = 0; j < PER_CONN; j++)
			IT_ASSERT(it_conn_get(&c[k], "/.healthz", &r) == 0 && r.status == 200,
				  "conn %d request %d", k, j);
		IT_ASSERT(it_conn_get(&c[k], "/nowhere", &r) == 0 && r.status == 404, "404");
	}
	for (int k = 0; k < CONNS; k++)
		it_conn_close(&c[k]);
	free(c);
}

struct totals {
	double ok, notfound, in, out, count, accepted, sum, w0, w1;
};

static void totals(const struct exposition *e, struct totals *t)
{
	t->ok = value(e, "swerver_requests_total", "protocol=\"http1\",code=\"2xx\"");
	t->notfound = value(e, "swerver_requests_total", "protocol=\"http1\",code=\"4xx\"");
	t->in = value(e, "swerver_bytes_received_total", "protocol=\"http1\"");
	t->out = value(e, "swerver_bytes_sent_total", "protocol=\"http1\"");
	t->count = value(e, "swerver_request_duration_seconds_count", "protocol=\"http1\"");
	t->sum = value(e, "swerver_request_duration_seconds_sum", "protocol=\"http1\"");
	t->accepted = value(e, "swerver_connections_accepted_total", "");
	t->w0 = value(e, "swerver_worker_requests_total", "worker=\"0\"");
	t->w1 = value(e, "swerver_worker_requests_total", "worker=\"1\"");
}

/* A finished exchange is counted after its last byte left; poll a little. */
static void scrape_until(int port, double want_ok, double want_notfound, struct totals *t)
{
	int64_t end = it_now_ms() + 3000;

	for (;;) {
		struct exposition *e = scrape(port);
		totals(e, t);
		free(e);
		if ((t->ok >= want_ok && t->notfound >= want_notfound) || it_now_ms() > end)
			return;
		it_sleep_ms(50);
	}
}

START_TEST(counters_cover_both_workers)
{
	struct it_proc *p;
	struct totals a, b;
	int port = start(_i, 2, &p);

	if (port < 0)
		return;
	scrape_until(port, 0, 0, &a);
	traffic(port);
	scrape_until(port, a.ok + CONNS * PER_CONN, a.notfound + CONNS, &b);
	IT_ASSERT(b.ok >= a.ok + CONNS * PER_CONN, "2xx grew %g -> %g, want +%d", a.ok, b.ok,
		  CONNS * PER_CONN);
	IT_ASSERT(b.notfound >= a.notfound + CONNS, "4xx grew %g -> %g", a.notfound, b.notfound);
	IT_ASSERT(b.in > a.in && b.out > a.out, "bytes did not grow: in %g -> %g, out %g -> %g",
		  a.in, b.in, a.out, b.out);
	IT_ASSERT(b.count >= a.count + CONNS * (PER_CONN + 1), "histogram count %g -> %g",
		  a.count, b.count);
	IT_ASSERT(b.sum >= a.sum, "duration sum went down");
	IT_ASSERT(b.accepted >= a.accepted + CONNS, "accepted %g -> %g", a.accepted, b.accepted);
	/* Both workers served some of it, and any one of them reports all of it. */
	IT_ASSERT(b.w0 > a.w0 && b.w1 > a.w1, "per-worker requests: w0 %g -> %g, w1 %g -> %g",
		  a.w0, b.w0, a.w1, b.w1);
	for (int k = 0; k < 8; k++) {
		struct totals c;
		scrape_until(port, b.ok, 0, &c);
		IT_ASSERT(c.ok >= b.ok && c.w0 + c.w1 >= b.w0 + b.w1,
			  "scrape %d saw fewer requests (%g) than before (%g)", k, c.ok, b.ok);
	}
}
END_TEST

static Suite *metrics_suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = it_tcase("metrics");

	tcase_add_loop_test(tc, exposition_parses, 0, 2);
	tcase_add_loop_test(tc, methods, 0, 2);
	tcase_add_loop_test(tc, counters_cover_both_workers, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

IT_SUITE(metrics_suite);
