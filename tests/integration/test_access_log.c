/* SPDX-License-Identifier: MIT */
/* test_access_log.c - access log lines: JSON and combined, X-Forwarded-For, flushing, reopen on USR1. */
#include <config.h>

#include <dirent.h>
#include <limits.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "harness.h"

#define FLUSH_WAIT_MS 3000   /* the log promises a flush within ~1 s */

/* Every JSON line must parse and carry these fields with these types. */
static const char validator[] =
	"import json, re, sys\n"
	"ISO = re.compile(r'^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z$')\n"
	"TYPES = {'time': str, 'client': str, 'peer': str, 'method': str, 'target': str,\n"
	"         'protocol': str, 'host': str, 'status': int, 'bytes': int, 'bytes_in': int,\n"
	"         'bytes_out': int, 'duration_ms': (int, float), 'user_agent': str,\n"
	"         'referer': str, 'request_id': str, 'tls': bool, 'worker': int}\n"
	"def esc(s): return s.encode('unicode_escape').decode('ascii')\n"
	"data = open(sys.argv[1], 'rb').read()\n"
	"# A flush may be in progress while we read: only whole lines count.\n"
	"for n, raw in enumerate(data.split(b'\\n')[:-1], 1):\n"
	"    try:\n"
	"        d = json.loads(raw.decode('utf-8'))\n"
	"    except ValueError as e:\n"
	"        sys.exit('ERROR line %d does not parse (%s): %r' % (n, e, raw))\n"
	"    if type(d) is not dict: sys.exit('ERROR line %d is not an object' % n)\n"
	"    for k, t in TYPES.items():\n"
	"        if k not in d or not isinstance(d[k], t) or (t is int and type(d[k]) is bool):\n"
	"            sys.exit('ERROR line %d: field %s missing or not %s: %r' % (n, k, t, raw))\n"
	"    if not ISO.match(d['time']): sys.exit('ERROR line %d: time %r' % (n, d['time']))\n"
	"    if d['protocol'] not in ('HTTP/1.0', 'HTTP/1.1', 'HTTP/2', 'HTTP/3'):\n"
	"        sys.exit('ERROR line %d: protocol %r' % (n, d['protocol']))\n"
	"    if d['duration_ms'] < 0 or d['status'] < 100 or d['status'] > 599:\n"
	"        sys.exit('ERROR line %d: duration or status out of range' % n)\n"
	"    print('\\t'.join([d['request_id'], esc(d['target']), str(d['status']), d['client'],\n"
	"                     d['peer'], d['protocol'], str(d['worker']), str(d['tls']).lower(),\n"
	"                     esc(d['user_agent']), esc(d['referer']), d['method']]))\n";

struct row {
	char id[64], target[256], client[64], peer[64], proto[16], tls[8], ua[512], referer[512];
	char method[32];
	int status, worker;
};

struct rows {
	struct row *v;
	int n;
	char err[1024];
};

static void copy_field(char *dst, size_t size, char **rest)
{
	char *f = strsep(rest, "\t");

	snprintf(dst, size, "%s", f ? f : "");
}

static void parse_row(struct row *r, char *line)
{
	char num[16], *rest = line;

	line[strcspn(line, "\n")] = '\0';
	copy_field(r->id, sizeof(r->id), &rest);
	copy_field(r->target, sizeof(r->target), &rest);
	copy_field(num, sizeof(num), &rest);
	r->status = atoi(num);
	copy_field(r->client, sizeof(r->client), &rest);
	copy_field(r->peer, sizeof(r->peer), &rest);
	copy_field(r->proto, sizeof(r->proto), &rest);
	copy_field(num, sizeof(num), &rest);
	r->worker = atoi(num);
	copy_field(r->tls, sizeof(r->tls), &rest);
	copy_field(r->ua, sizeof(r->ua), &rest);
	copy_field(r->referer, sizeof(r->referer), &rest);
	copy_field(r->method, sizeof(r->method), &rest);
}

/* Runs the validator on the log; false (reason in rows->err) if any line is bad. */
static bool read_json_log(const char *log, struct rows *rows)
{
	char script[IT_PATH_MAX], cmd[2 * IT_PATH_MAX + 64], line[4096];
	FILE *f;
	int cap = 64;

	it_path(script, "validate.py");
	it_write_file(script, validator);
	snprintf(cmd, sizeof(cmd), "python3 '%s' '%s' 2>&1", script, log);
	rows->v = calloc((size_t)cap, sizeof(*rows->v));
	rows->n = 0;
	rows->err[0] = '\0';
	ck_assert_ptr_nonnull(f = popen(cmd, "r"));
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "ERROR", 5) == 0 || strncmp(line, "Traceback", 9) == 0 ||
		    !strchr(line, '\t')) {
			snprintf(rows->err + strlen(rows->err), sizeof(rows->err) - strlen(rows->err),
				 "%s", line);
			continue;
		}
		if (rows->n == cap)
			rows->v = realloc(rows->v, (size_t)(cap *= 2) * sizeof(*rows->v));
		parse_row(&rows->v[rows->n++], line);
	}
	return pclose(f) == 0 && !rows->err[0];
}

static const struct row *find_target(const struct rows *rows, const char *target)
{
	for (int i = 0; i < rows->n; i++)
		if (strcmp(rows->v[i].target, target) == 0)
			return &rows->v[i];
	return NULL;
}

/* Polls the log until every target in `targets` has a line (or FLUSH_WAIT_MS passed). */
static void wait_json_rows(const char *log, const char *const *targets, int n, struct rows *rows)
{
	int64_t end = it_now_ms() + FLUSH_WAIT_MS;
	bool ok;

	for (;;) {
		int found = 0;
		ok = read_json_log(log, rows);
		IT_ASSERT(ok, "access log %s is not valid JSON lines: %s\n---\n%s", log, rows->err,
			  it_read_file(log));
		for (int i = 0; i < n; i++)
			found += find_target(rows, targets[i]) != NULL;
		if (found == n || it_now_ms() > end)
			break;
		free(rows->v);
		it_sleep_ms(100);
	}
}

static void assert_ends_in_newline(const char *log)
{
	char *text = it_read_file(log);
	size_t n = strlen(text);

	IT_ASSERT(n > 0 && text[n - 1] == '\n', "%s ends in a partial line", log);
	free(text);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* ---- set-up and requests ---- */

static void write_config(char cfg[IT_PATH_MAX], const char *backend, unsigned workers,
			 const char *format, const char *target, const char *trusted)
{
	it_path(cfg, "swerver.json");
	it_write_filef(cfg,
		"{\n"
		"  \"server\": {\n"
		"    \"listeners\": [{\"address\": \"127.0.0.1\", \"port\": 0}],\n"
		"    \"workers\": %u,\n"
		"    \"io_backend\": \"%s\",\n"
		"    \"trusted_proxies\": %s\n"
		"  },\n"
		"  \"timeouts\": {\"drain_ms\": 5000},\n"
		"  \"access_log\": {\"format\": \"%s\", \"target\": \"%s\"}\n"
		"}\n", workers, backend, trusted ? trusted : "[]", format, target);
}

static struct it_proc *start_logging(int i, unsigned workers, const char *format,
				     const char *trusted, char log[IT_PATH_MAX], int *port)
{
	const char *backend = it_backend(i);
	char cfg[IT_PATH_MAX];

	if (!backend)
		return NULL;
	it_path(log, "access.log");
	write_config(cfg, backend, workers, format, log, trusted);
	return it_start_ready(cfg, "127.0.0.1", port);
}

/* Sends a request with extra header lines; returns its X-Request-Id in id. */
static void request(struct it_conn *c, const char *target, const char *headers, char *id,
		    size_t size, int want)
{
	char req[2048];
	struct it_response r;
	const char *h;
	int rc;

	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: localhost\r\n%s\r\n", target,
		 headers ? headers : "");
	IT_ASSERT(it_conn_send(c, req) == 0, "send %s", target);
	rc = it_conn_read(c, &r, IT_IO_MS);
	IT_ASSERT(rc == 0 && r.status == want, "GET %s: rc %d status %d, want %d", target, rc,
		  r.status, want);
	h = strcasestr(r.head, "\r\nX-Request-Id: ");
	IT_ASSERT(h, "GET %s: no X-Request-Id in\n%s", target, r.head);
	h += 16;
	snprintf(id, size, "%.*s", (int)strcspn(h, "\r\n"), h);
	IT_ASSERT(id[0], "empty X-Request-Id");
}

/* One request on a fresh connection. */
static void request1(int port, const char *target, const char *headers, char *id, size_t size)
{
	struct it_conn *c = malloc(sizeof(*c));

	IT_ASSERT(it_conn_open(c, "127.0.0.1", port) == 0, "connect");
	request(c, target, headers, id, size, 200);
	it_conn_close(c);
	free(c);
}

/* ---- JSON ---- */

#define CONNS 16
#define PER_CONN 2

START_TEST(json_lines_match_responses)
{
	static char ids[CONNS * PER_CONN][64], targets[CONNS * PER_CONN][64];
	const char *tp[CONNS * PER_CONN];
	struct it_conn *c = malloc(sizeof(*c) * CONNS);
	char log[IT_PATH_MAX], hdr[256];
	bool seen[2] = { false, false };
	struct rows rows;
	int port, n = 0;

	if (!start_logging(_i, 2, "json", NULL, log, &port))
		return;
	for (int k = 0; k < CONNS; k++)
		IT_ASSERT(it_conn_open(&c[k], "127.0.0.1", port) == 0, "connect %d", k);
	for (int k = 0; k < CONNS; k++)
		for (int j = 0; j < PER_CONN; j++, n++) {
			snprintf(targets[n], sizeof(targets[n]), "/.healthz?conn=%d&req=%d", k, j);
			snprintf(hdr, sizeof(hdr), "User-Agent: it-agent/%d\r\nReferer: http://ref.example/%d\r\n", n, n);
			request(&c[k], targets[n], hdr, ids[n], sizeof(ids[n]), 200);
			tp[n] = targets[n];
		}
	for (int k = 0; k < CONNS; k++)
		it_conn_close(&c[k]);
	free(c);
	wait_json_rows(log, tp, n, &rows);
	assert_ends_in_newline(log);
	for (int k = 0; k < n; k++) {
		const struct row *r = find_target(&rows, targets[k]);
		char ua[64], ref[64];
		IT_ASSERT(r, "no access log line for %s\n---\n%s", targets[k], it_read_file(log));
		snprintf(ua, sizeof(ua), "it-agent/%d", k);
		snprintf(ref, sizeof(ref), "http://ref.example/%d", k);
		IT_ASSERT(strcmp(r->id, ids[k]) == 0, "%s: logged id %s, X-Request-Id %s",
			  targets[k], r->id, ids[k]);
		IT_ASSERT(r->status == 200 && strcmp(r->method, "GET") == 0 &&
			  strcmp(r->proto, "HTTP/1.1") == 0 && strcmp(r->tls, "false") == 0,
			  "%s: status %d method %s protocol %s tls %s", targets[k], r->status,
			  r->method, r->proto, r->tls);
		IT_ASSERT(strcmp(r->client, "127.0.0.1") == 0 && strcmp(r->peer, "127.0.0.1") == 0,
			  "%s: client %s peer %s", targets[k], r->client, r->peer);
		IT_ASSERT(strcmp(r->ua, ua) == 0 && strcmp(r->referer, ref) == 0,
			  "%s: user_agent %s referer %s", targets[k], r->ua, r->referer);
		IT_ASSERT(r->worker == 0 || r->worker == 1, "worker %d", r->worker);
		seen[r->worker] = true;
	}
	IT_ASSERT(seen[0] && seen[1], "%d connections but lines from one worker only", CONNS);
	free(rows.v);
}
END_TEST

START_TEST(json_escaping)
{
	static const char *const targets[] = { "/.healthz?esc=1", "/.healthz?esc=2" };
	char log[IT_PATH_MAX], id[64], *text;
	struct rows rows;
	const struct row *r;
	int port;

	if (!start_logging(_i, 1, "json", NULL, log, &port))
		return;
	/* Quote, backslash, tab, a byte that is not UTF-8, and a valid e-acute. */
	request1(port, targets[0], "User-Agent: q\"u\\o\tt\xff\xc3\xa9\r\n", id, sizeof(id));
	/* A truncated two-byte sequence, then an overlong encoding of '/'. */
	request1(port, targets[1], "Referer: a\xc3(b\xc0\xaf\r\n", id, sizeof(id));
	wait_json_rows(log, targets, 2, &rows);
	r = find_target(&rows, targets[0]);
	IT_ASSERT(r && strcmp(r->ua, "q\"u\\\\o\\tt\\xff\\xe9") == 0, "user_agent decoded as %s",
		  r ? r->ua : "(no line)");
	r = find_target(&rows, targets[1]);
	IT_ASSERT(r && strcmp(r->referer, "a\\xc3(b\\xc0\\xaf") == 0, "referer decoded as %s",
		  r ? r->referer : "(no line)");
	text = it_read_file(log);
	IT_ASSERT(strcasestr(text, "\\u00ff") && strcasestr(text, "\\u00c3"),
		  "invalid UTF-8 is not written \\u00XX:\n%s", text);
	free(text);
	free(rows.v);
}
END_TEST

/* ---- combined ---- */

#define CLF_QUOTED "\"([^\"\\\\[:cntrl:]]|\\\\x[0-9A-F]{2})*\""
static const char clf_pattern[] =
	"^([0-9.]+|[0-9a-f:]+) - - "
	"\\[[0-9]{2}/(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)/[0-9]{4}:"
	"[0-9]{2}:[0-9]{2}:[0-9]{2} \\+0000\\] "
	CLF_QUOTED " [1-5][0-9]{2} [0-9]+ " CLF_QUOTED " " CLF_QUOTED
	" [0-9]+\\.[0-9]{3} ([0-9A-Za-z]+|-)$";

/* The line of the log that contains needle, in a static buffer ("" if none). */
static const char *log_line(const char *log, const char *needle)
{
	static char line[8192];
	FILE *f = fopen(log, "r");

	line[0] = '\0';
	if (!f)
		return line;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, needle))
			break;
		else
			line[0] = '\0';
	fclose(f);
	return line;
}

static const char *wait_line(const char *log, const char *needle)
{
	int64_t end = it_now_ms() + FLUSH_WAIT_MS;
	const char *l;

	while (!*(l = log_line(log, needle)) && it_now_ms() < end)
		it_sleep_ms(100);
	return l;
}

static void assert_all_combined(const char *log)
{
	char *text = it_read_file(log), *line, *save = NULL;
	regex_t re;
	int n = 0;

	ck_assert_int_eq(regcomp(&re, clf_pattern, REG_EXTENDED | REG_NOSUB), 0);
	IT_ASSERT(text[0] && text[strlen(text) - 1] == '\n', "log does not end in a newline");
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save), n++)
		IT_ASSERT(regexec(&re, line, 0, NULL, 0) == 0, "not a combined line: %s", line);
	IT_ASSERT(n > 0, "empty log");
	regfree(&re);
	free(text);
}

START_TEST(combined_format)
{
	char log[IT_PATH_MAX], id1[64], id2[64], id3[64], want[256];
	const char *l;
	int port;

	if (!start_logging(_i, 2, "combined", NULL, log, &port))
		return;
	request1(port, "/.healthz?clf=1", "User-Agent: curl/7.88.1\r\nReferer: http://r.example/\r\n",
		 id1, sizeof(id1));
	request1(port, "/.healthz?clf=2", NULL, id2, sizeof(id2));
	request1(port, "/.healthz?clf=3", "User-Agent: q\"u\\o\tt\xff\xc3\xa9\r\n", id3, sizeof(id3));
	l = wait_line(log, "clf=1");
	snprintf(want, sizeof(want), "\"GET /.healthz?clf=1 HTTP/1.1\" 200 0 \"http://r.example/\" "
		 "\"curl/7.88.1\" ");
	IT_ASSERT(strncmp(l, "127.0.0.1 - - [", 15) == 0 && strstr(l, want),
		  "combined line: %s\nwant: %s", l, want);
	snprintf(want, sizeof(want), " %s\n", id1);
	IT_ASSERT(ends_with(l, want), "line does not end in the request id %s: %s", id1, l);
	l = wait_line(log, "clf=2");
	IT_ASSERT(strstr(l, "\" 200 0 \"-\" \"-\" "), "missing headers not \"-\": %s", l);
	snprintf(want, sizeof(want), " %s\n", id2);
	IT_ASSERT(ends_with(l, want), "line does not end in the request id %s: %s", id2, l);
	l = wait_line(log, "clf=3");
	IT_ASSERT(strstr(l, "\"q\\x22u\\x5Co\\x09t\\xFF\\xC3\\xA9\""), "escaping: %s", l);
	IT_ASSERT(strstr(l, id3), "no request id %s in %s", id3, l);
	assert_all_combined(log);
}
END_TEST

/* ---- X-Forwarded-For ---- */

static const struct row *xff_row(int i, const char *trusted, const char *xff)
{
	static struct rows rows;
	static const char *const targets[] = { "/.healthz?xff=1" };
	char log[IT_PATH_MAX], hdr[256], id[64];
	int port;

	if (!start_logging(i, 1, "json", trusted, log, &port))
		return NULL;
	snprintf(hdr, sizeof(hdr), "X-Forwarded-For: %s\r\n", xff);
	request1(port, targets[0], hdr, id, sizeof(id));
	wait_json_rows(log, targets, 1, &rows);
	IT_ASSERT(find_target(&rows, targets[0]), "no line for the XFF request");
	return find_target(&rows, targets[0]);
}

START_TEST(xff_from_trusted_proxy)
{
	const struct row *r = xff_row(_i, "[\"127.0.0.0/8\"]", "203.0.113.9, 198.51.100.7");

	if (!r)
		return;
	/* The right-most address the trusted proxy saw; what the client wrote is not believed. */
	IT_ASSERT(strcmp(r->client, "198.51.100.7") == 0 && strcmp(r->peer, "127.0.0.1") == 0,
		  "client %s peer %s", r->client, r->peer);
}
END_TEST

START_TEST(xff_chain_of_trusted_proxies)
{
	const struct row *r = xff_row(_i, "[\"127.0.0.0/8\", \"198.51.100.0/24\"]",
				      "203.0.113.9, 198.51.100.7");

	if (!r)
		return;
	IT_ASSERT(strcmp(r->client, "203.0.113.9") == 0, "client %s", r->client);
}
END_TEST

START_TEST(xff_from_untrusted_peer)
{
	const struct row *r = xff_row(_i, "[\"10.0.0.0/8\"]", "203.0.113.9");

	if (!r)
		return;
	IT_ASSERT(strcmp(r->client, "127.0.0.1") == 0, "untrusted XFF believed: client %s",
		  r->client);
}
END_TEST

/* ---- flushing and reopening ---- */

START_TEST(flushed_without_more_traffic)
{
	static const char *const targets[] = { "/.healthz?lonely=1" };
	char log[IT_PATH_MAX], id[64];
	struct rows rows;
	int64_t t0;
	int port;

	if (!start_logging(_i, 2, "json", NULL, log, &port))
		return;
	t0 = it_now_ms();
	request1(port, targets[0], NULL, id, sizeof(id));
	wait_json_rows(log, targets, 1, &rows);
	IT_ASSERT(find_target(&rows, targets[0]), "line not flushed %lld ms after the request",
		  (long long)(it_now_ms() - t0));
	IT_ASSERT(strcmp(find_target(&rows, targets[0])->id, id) == 0, "wrong id");
	free(rows.v);
}
END_TEST

/* True when one of pid's descriptors is the file at path (by name, as /proc shows it). */
static bool has_open(pid_t pid, const char *path)
{
	char dir[64], link[PATH_MAX + 64], target[PATH_MAX];
	struct dirent *de;
	bool found = false;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	if (!(d = opendir(dir)))
		return false;
	while (!found && (de = readdir(d))) {
		ssize_t n;
		snprintf(link, sizeof(link), "%s/%s", dir, de->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		if (n > 0) {
			target[n] = '\0';
			found = strcmp(target, path) == 0;
		}
	}
	closedir(d);
	return found;
}

static bool all_have_open(const pid_t *pids, int n, const char *path)
{
	for (int k = 0; k < n; k++)
		if (!has_open(pids[k], path))
			return false;
	return true;
}

START_TEST(reopen_on_usr1)
{
	char log[IT_PATH_MAX], old[IT_PATH_MAX], id[64];
	static const char *const first[] = { "/.healthz?before=1" };
	const char *after[CONNS];
	static char after_t[CONNS][64];
	struct it_proc *p;
	struct rows rows;
	pid_t kids[8];
	int64_t end;
	int port, n;

	if (!(p = start_logging(_i, 2, "json", NULL, log, &port)))
		return;
	n = it_wait_children(p->pid, 2, kids, 8, 5000);
	IT_ASSERT(n == 2, "want 2 workers, have %d", n);
	request1(port, first[0], NULL, id, sizeof(id));
	wait_json_rows(log, first, 1, &rows);
	free(rows.v);
	/* What logrotate does: move the file away, then signal. */
	it_path(old, "access.log.1");
	IT_ASSERT(rename(log, old) == 0, "rename");
	request1(port, "/.healthz?moved=1", NULL, id, sizeof(id));
	IT_ASSERT(it_signal(p, SIGUSR1) == 0, "kill -USR1");
	end = it_now_ms() + 5000;
	while (!all_have_open(kids, n, log) && it_now_ms() < end)
		it_sleep_ms(50);
	IT_ASSERT(all_have_open(kids, n, log), "workers did not reopen %s after SIGUSR1", log);
	for (int k = 0; k < CONNS; k++) {
		snprintf(after_t[k], sizeof(after_t[k]), "/.healthz?after=%d", k);
		after[k] = after_t[k];
		request1(port, after_t[k], NULL, id, sizeof(id));
	}
	wait_json_rows(log, after, CONNS, &rows);
	for (int k = 0; k < CONNS; k++)
		IT_ASSERT(find_target(&rows, after[k]), "%s is not in the new file", after[k]);
	IT_ASSERT(!find_target(&rows, first[0]), "the old line is in the new file");
	free(rows.v);
	/* The line logged between mv and USR1 went to the old file, flushed by the reopen. */
	IT_ASSERT(*wait_line(old, "moved=1"), "the line written before the reopen is lost");
	IT_ASSERT(read_json_log(old, &rows), "old file: %s", rows.err);
	free(rows.v);
}
END_TEST

START_TEST(stderr_target)
{
	const char *backend = it_backend(_i);
	char cfg[IT_PATH_MAX], id[64];
	struct it_proc *p;
	int port;

	if (!backend)
		return;
	write_config(cfg, backend, 2, "json", "stderr", NULL);
	p = it_start_ready(cfg, "127.0.0.1", &port);
	request1(port, "/.healthz?stderr=1", NULL, id, sizeof(id));
	IT_ASSERT(it_wait_log(p, 0, id, FLUSH_WAIT_MS), "request id %s not on stderr", id);
	IT_ASSERT(it_log_has(p, "\"target\":\"/.healthz?stderr=1\""), "no JSON line on stderr");
}
END_TEST

START_TEST(reload_switches_format)
{
	const char *backend = it_backend(_i);
	char cfg[IT_PATH_MAX], log[IT_PATH_MAX], id[64], target[64];
	struct it_proc *p;
	const char *l = "";
	int port;

	if (!backend)
		return;
	it_path(log, "access.log");
	write_config(cfg, backend, 2, "combined", log, NULL);
	p = it_start_ready(cfg, "127.0.0.1", &port);
	request1(port, "/.healthz?fmt=combined", NULL, id, sizeof(id));
	IT_ASSERT(strncmp(wait_line(log, "fmt=combined"), "127.0.0.1 - - [", 15) == 0,
		  "not a combined line");
	write_config(cfg, backend, 2, "json", log, NULL);
	IT_ASSERT(it_signal(p, SIGHUP) == 0, "kill -HUP");
	/* Until every worker has applied it, a line may still come out combined. */
	for (int k = 0; k < 50 && strncmp(l, "{\"time\":", 8) != 0; k++) {
		snprintf(target, sizeof(target), "/.healthz?fmt=json%d", k);
		request1(port, target, NULL, id, sizeof(id));
		l = wait_line(log, target);
	}
	IT_ASSERT(strncmp(l, "{\"time\":", 8) == 0, "after the reload lines are still: %s", l);
}
END_TEST

static Suite *access_log_suite(void)
{
	Suite *s;
	TCase *tc;

	it_require_tool("python3", "python3");   /* the JSON lines validator */
	s = suite_create("access_log");
	tc = it_tcase("access_log");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, json_lines_match_responses, 0, 2);
	tcase_add_loop_test(tc, json_escaping, 0, 2);
	tcase_add_loop_test(tc, combined_format, 0, 2);
	tcase_add_loop_test(tc, xff_from_trusted_proxy, 0, 2);
	tcase_add_loop_test(tc, xff_chain_of_trusted_proxies, 0, 2);
	tcase_add_loop_test(tc, xff_from_untrusted_peer, 0, 2);
	tcase_add_loop_test(tc, flushed_without_more_traffic, 0, 2);
	tcase_add_loop_test(tc, reopen_on_usr1, 0, 2);
	tcase_add_loop_test(tc, stderr_target, 0, 2);
	tcase_add_loop_test(tc, reload_switches_format, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

IT_SUITE(access_log_suite);
