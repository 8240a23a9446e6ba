/* SPDX-License-Identifier: MIT */
/* admin_fixture.c - what the admin API suites share (admin_fixture.h). */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include "admin_fixture.h"
#include "core/module.h"
#include "headers.h"

bool adm_have_proxy(void)
{
	if (!sw_module_find("proxy")) {
		fprintf(stderr, "note: built without the proxy; skipping\n");
		return false;
	}
	return true;
}

int req_open(int port)
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
int req_send(int fd, const char *method, const char *path, const char *headers,
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

bool resp_header(const struct resp *r, const char *name, char *out, size_t size)
{
	return it_header(r->head, name, out, size);
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
int req_read(int fd, struct resp *r, int timeout_ms)
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

void resp_free(struct resp *r)
{
	free(r->body);
	r->body = NULL;
}

/* One request on a new connection; fails the test when there is no answer. */
void adm_request(int port, const char *method, const char *path, const char *headers,
	     const char *body, struct resp *r)
{
	int fd = req_open(port), rc;

	IT_ASSERT(fd >= 0, "connect 127.0.0.1:%d: %s", port, strerror(-fd));
	rc = req_send(fd, method, path, headers, body, r);
	if (rc == 0)
		rc = req_read(fd, r, ADM_IO_MS);
	close(fd);
	IT_ASSERT(rc == 0, "%s %s on port %d: no answer (%s)", method, path, port, strerror(-rc));
}

int admin_port;   /* of the swerver under test */

/* An authorised admin request. */
void adm(const char *method, const char *path, const char *body, struct resp *r)
{
	adm_request(admin_port, method, path, "X-API-Key: " KEY "\r\n", body, r);
}

/* An authorised admin request that must answer `want`; its JSON (the caller puts it). */
json_object *adm_json(const char *method, const char *path, const char *body, int want)
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

json_object *adm_get(json_object *o, const char *key)
{
	json_object *v = NULL;

	return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

const char *adm_get_str(json_object *o, const char *key)
{
	json_object *v = adm_get(o, key);

	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

/* A 200 change answer: {"ok": true, "result": ..., "generation": N}; its result in out. */
void change_ok(const char *method, const char *path, const char *body, char *out,
	       size_t size)
{
	json_object *doc = adm_json(method, path, body, 200);
	json_object *ok = adm_get(doc, "ok");

	IT_ASSERT(ok && json_object_get_boolean(ok), "%s %s: no \"ok\": true in %s", method, path,
		  json_object_to_json_string(doc));
	IT_ASSERT(adm_get_str(doc, "result") && adm_get(doc, "generation"), "%s %s: no result/generation: %s",
		  method, path, json_object_to_json_string(doc));
	if (out)
		snprintf(out, size, "%s", adm_get_str(doc, "result"));
	json_object_put(doc);
}

/* An error answer of status `want` whose "error" contains needle. */
void change_fails(const char *method, const char *path, const char *body, int want,
		  const char *needle)
{
	json_object *doc = adm_json(method, path, body, want);
	const char *err = adm_get_str(doc, "error");

	IT_ASSERT(err && strstr(err, needle), "%s %s (%d): want an error with \"%s\", got %s",
		  method, path, want, needle, json_object_to_json_string(doc));
	json_object_put(doc);
}

/* ---- swerver with the admin API ---- */

/* A config: one listener, the admin API on aport, and `extra` (",\"upstreams\": [...]" or ""). */
void adm_write_config(const char *path, const char *backend, int port, int aport,
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
struct it_proc *adm_start(const char *cfg, int port, int aport)
{
	return adm_start_env(cfg, port, aport, NULL);
}

struct it_proc *adm_start_env(const char *cfg, int port, int aport, const char *const *env)
{
	struct it_proc *p = it_start(cfg, env);
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
int accepted_by_slot(uint64_t *out, int max)
{
	json_object *doc = adm_json("GET", "/v1/status", NULL, 200);
	json_object *ws = adm_get(doc, "workers"), *by = adm_get(doc, "answered_by_worker");
	int n = ws ? (int)json_object_array_length(ws) : 0, slot;

	IT_ASSERT(n > 0 && n <= max && by, "bad /v1/status: %s", json_object_to_json_string(doc));
	for (int i = 0; i < n; i++)
		out[i] = (uint64_t)json_object_get_int64(
			adm_get(json_object_array_get_idx(ws, (size_t)i), "connections_accepted"));
	slot = json_object_get_int(by);
	json_object_put(doc);
	return slot;
}

/* The pid /v1/status gives for a worker slot, -1 if none. */
pid_t slot_pid(int slot)
{
	json_object *doc = adm_json("GET", "/v1/status", NULL, 200);
	json_object *ws = adm_get(doc, "workers");
	json_object *w = ws && (size_t)slot < json_object_array_length(ws) ?
			 json_object_array_get_idx(ws, (size_t)slot) : NULL;
	pid_t pid = w ? (pid_t)json_object_get_int64(adm_get(w, "pid")) : -1;

	json_object_put(doc);
	return pid;
}

/*
 * SPREAD GETs of path on new connections to the main listener must all be
 * 200 with body `want` (the origin's name for /PREFIX/name), and every
 * worker must have taken at least one of them: the change reached them all.
 */
void all_workers_serve(int port, const char *path, const char *want)
{
	uint64_t before[8] = { 0 }, after[8] = { 0 };
	int slot, n;

	accepted_by_slot(before, 8);
	for (int i = 0; i < SPREAD; i++) {
		struct resp r;

		adm_request(port, "GET", path, NULL, NULL, &r);
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
void all_status(int port, const char *path, int want, int count)
{
	for (int i = 0; i < count; i++) {
		struct resp r;

		adm_request(port, "GET", path, NULL, NULL, &r);
		IT_ASSERT(r.status == want, "GET %s (request %d): %d, want %d\n%s%s", path, i + 1,
			  r.status, want, r.head, r.body);
		resp_free(&r);
	}
}

int array_len(const char *path)
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
long long auth_failures(const char *text)
{
	const char *at = strstr(text, "\nswerver_admin_auth_failures_total ");

	return at ? atoll(at + strlen("\nswerver_admin_auth_failures_total ")) : -1;
}

int64_t adm_generation(void)
{
	json_object *doc = adm_json("GET", "/v1/status", NULL, 200);
	int64_t g = json_object_get_int64(adm_get(doc, "generation"));

	json_object_put(doc);
	return g;
}

/* POSTs body to the admin path in `pieces` chunks, 30 ms apart (several reads on the server). */
void post_chunked(const char *path, const char *body, int pieces, struct resp *r)
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
	rc = req_read(fd, r, ADM_IO_MS);
	close(fd);
	IT_ASSERT(rc == 0, "chunked POST %s: no answer (%s)", path, strerror(-rc));
}

/* Starts swerver (2 workers) with upstream o1 and no routes. */
void start_with_origin(const char *backend, int *port)
{
	char cfg[IT_PATH_MAX], extra[256];
	int ports[2], o1;

	it_free_ports(ports, 2);
	o1 = it_origin_start("o1")->port;
	it_path(cfg, "swerver.json");
	snprintf(extra, sizeof(extra), ",\n \"upstreams\": [" UPSTREAM_FMT "]", "o1", o1);
	adm_write_config(cfg, backend, ports[0], ports[1], 2, extra);
	adm_start(cfg, ports[0], ports[1]);
	*port = ports[0];
}
