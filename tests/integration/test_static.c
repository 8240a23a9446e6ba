/* SPDX-License-Identifier: MIT */
/*
 * test_static.c - static files end to end over raw sockets and curl, on both
 * backends: types, bytes, paths, validators, ranges, encodings, caches.
 * Built twice: test_static_walk (SW_TEST_WALK) runs every case with openat2
 * refused (ENOSYS) by a seccomp filter, as systemd's RestrictSUIDSGID= does,
 * so the lookup walk meets the same traversal attacks.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "harness.h"

#define BIG_SIZE (1u << 20)

/* A whole response read until the server closed (requests say Connection: close). */
struct raw {
	int status;
	char head[8192];
	char *body;
	size_t body_len;
	size_t total;                 /* every byte received, head included */
	char *all;
};

static char www[IT_PATH_MAX];

/* ---- openat2 refused ---- */

/* The errno a seccomp filter gives openat2 in the server; 0: no filter. */
#ifdef SW_TEST_WALK
static int openat2_refusal = ENOSYS;
#else
static int openat2_refusal;
#endif

/* In the child, before exec.  Unprivileged, thanks to PR_SET_NO_NEW_PRIVS. */
static void refuse_openat2(void)
{
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_openat2, 0, 1),
		BPF_STMT(BPF_RET | BPF_K,
			 SECCOMP_RET_ERRNO | ((unsigned)openat2_refusal & SECCOMP_RET_DATA)),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = (unsigned short)(sizeof(filter) / sizeof(filter[0])), .filter = filter };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
		perror("seccomp");
		_exit(126);
	}
}

/* Every swerver the test starts from now on gets the filter (when openat2_refusal is set). */
static void arm_filter(void)
{
	it_pre_exec = openat2_refusal ? refuse_openat2 : NULL;
}

/* ---- files ---- */

static void write_bytes(const char *name, const void *data, size_t len)
{
	char path[IT_PATH_MAX + 64];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", www, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
	ck_assert_msg(write(fd, data, len) == (ssize_t)len, "write %s: %s", path, strerror(errno));
	close(fd);
}

static void write_text(const char *name, const char *text)
{
	write_bytes(name, text, strlen(text));
}

static void make_dir(const char *name)
{
	char path[IT_PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/%s", www, name);
	ck_assert_msg(mkdir(path, 0755) == 0, "mkdir %s: %s", path, strerror(errno));
}

static void make_link(const char *target, const char *name)
{
	char path[IT_PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/%s", www, name);
	ck_assert_msg(symlink(target, path) == 0, "symlink %s: %s", path, strerror(errno));
}

/* 1 MiB of random bytes; the caller frees. */
static unsigned char *random_bytes(size_t n)
{
	unsigned char *b = malloc(n);
	size_t done = 0;

	ck_assert_ptr_nonnull(b);
	while (done < n) {
		ssize_t k = getrandom(b + done, n - done, 0);

		ck_assert_msg(k > 0, "getrandom: %s", strerror(errno));
		done += (size_t)k;
	}
	return b;
}

static unsigned char *populate(void)
{
	static const unsigned char png[] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 0 };
	unsigned char *big = random_bytes(BIG_SIZE);

	it_path(www, "www");
	ck_assert_int_eq(mkdir(www, 0755), 0);
	write_text("index.html", "<h1>home</h1>\n");
	write_text("hello.txt", "hello world\n");
	write_text("style.css", "body { color: red }\n");
	write_text("app.js", "console.log('identity');\n");
	write_text("app.js.br", "BROTLI-BYTES");
	write_text("app.js.gz", "GZIP-BYTES!");
	write_text("data.json", "{\"a\": 1}\n");
	write_text("logo.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\"/>\n");
	write_text("font.woff2", "wOF2");
	write_bytes("img.png", png, sizeof(png));
	write_bytes("big.bin", big, BIG_SIZE);
	make_dir("docs");
	write_text("docs/index.html", "<h1>docs</h1>\n");
	make_dir("empty");
	make_link("/etc/passwd", "passwd");
	make_link("..", "up");
	make_link("hello.txt", "inside.txt");
	return big;
}

/* The open-file cache as the test configures it: entries (0 = off) and validity. */
struct open_cache {
	unsigned entries;
	unsigned valid_ms;
};

/* The defaults: a cache of 1024 files trusted for a second. */
static const struct open_cache default_cache = { 1024, 1000 };

static void write_config(const char *cfg, const char *backend, const char *root, bool cache,
			 struct open_cache oc)
{
	it_write_filef(cfg,
		"{\n"
		"  \"server\": {\n"
		"    \"listeners\": [{\"address\": \"127.0.0.1\", \"port\": 0}],\n"
		"    \"workers\": 1,\n"
		"    \"io_backend\": \"%s\",\n"
		"    \"static_root\": \"%s\",\n"
		"    \"cache_static_files\": %s\n"
		"  },\n"
		"  \"static\": {\"open_file_cache\": %u, \"open_file_cache_valid_ms\": %u},\n"
		"  \"timeouts\": {\"drain_ms\": 5000}\n"
		"}\n", backend, root, cache ? "true" : "false", oc.entries, oc.valid_ms);
}

/* Starts swerver on one worker with static_root = www and open-file cache oc; returns the port. */
static int start_with(const char *backend, bool cache, struct open_cache oc, struct it_proc **proc)
{
	char cfg[IT_PATH_MAX];
	struct it_proc *p;
	int port;

	it_path(cfg, "swerver.json");
	write_config(cfg, backend, www, cache, oc);
	arm_filter();
	p = it_start_ready(cfg, "127.0.0.1", &port);
	if (proc)
		*proc = p;
	return port;
}

static int start(const char *backend, bool cache)
{
	return start_with(backend, cache, default_cache, NULL);
}

/* ---- a raw client ---- */

static void raw_free(struct raw *r)
{
	free(r->all);
	r->all = NULL;
	r->body = NULL;
}

/* Reads until EOF into r->all; -errno on failure. */
static int read_all(int fd, struct raw *r)
{
	size_t cap = 65536;
	int64_t deadline = it_now_ms() + IT_IO_MS * 3;

	r->all = malloc(cap + 1);
	r->total = 0;
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int left = (int)(deadline - it_now_ms());
		ssize_t n;

		if (left <= 0 || poll(&pfd, 1, left) <= 0)
			return -ETIMEDOUT;
		if (r->total == cap) {
			cap *= 2;
			r->all = realloc(r->all, cap + 1);
		}
		n = recv(fd, r->all + r->total, cap - r->total, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		r->total += (size_t)n;
	}
	r->all[r->total] = '\0';
	return 0;
}

/* Sends `request` verbatim on a fresh connection and reads the answer until close. */
static void raw_send(int port, const char *request, struct raw *r)
{
	struct it_conn *c = malloc(sizeof(*c));
	char *end;
	int rc;

	memset(r, 0, sizeof(*r));
	ck_assert_ptr_nonnull(c);
	rc = it_conn_open(c, "127.0.0.1", port);
	IT_ASSERT(rc == 0, "connect: %s", strerror(-rc));
	rc = it_conn_send(c, request);
	IT_ASSERT(rc == 0, "send: %s", strerror(-rc));
	rc = read_all(c->fd, r);
	IT_ASSERT(rc == 0, "reading the answer to %.60s: %s", request, strerror(-rc));
	it_conn_close(c);
	free(c);
	end = strstr(r->all, "\r\n\r\n");
	IT_ASSERT(end != NULL, "no end of head in %zu bytes: %.200s", r->total, r->all);
	IT_ASSERT((size_t)(end - r->all) + 4 < sizeof(r->head), "head too long");
	memcpy(r->head, r->all, (size_t)(end - r->all) + 4);
	r->head[end - r->all + 4] = '\0';
	r->body = end + 4;
	r->body_len = r->total - (size_t)(r->body - r->all);
	IT_ASSERT(sscanf(r->head, "HTTP/1.1 %d", &r->status) == 1, "bad status line: %.80s", r->head);
}

/* METHOD path with extra header lines ("Name: v\r\n"...), Connection: close. */
static void raw_request(int port, const char *method, const char *path, const char *extra,
			struct raw *r)
{
	char req[2048];

	snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: localhost\r\n%sConnection: close\r\n\r\n",
		 method, path, extra ? extra : "");
	raw_send(port, req, r);
}

/* A header's value from r->head (static buffer), NULL when absent. */
static const char *hdr(const struct raw *r, const char *name)
{
	static char val[1024];
	size_t nlen = strlen(name);

	for (const char *l = strstr(r->head, "\r\n"); l; l = strstr(l + 2, "\r\n")) {
		const char *v = l + 2;

		if (strncasecmp(v, name, nlen) != 0 || v[nlen] != ':')
			continue;
		v += nlen + 1;
		v += strspn(v, " \t");
		snprintf(val, sizeof(val), "%.*s", (int)strcspn(v, "\r\n"), v);
		return val;
	}
	return NULL;
}

static void expect_hdr(const struct raw *r, const char *name, const char *want, const char *what)
{
	const char *v = hdr(r, name);

	IT_ASSERT(v && strcmp(v, want) == 0, "%s: %s is \"%s\", want \"%s\"\n%s", what, name,
		  v ? v : "(absent)", want, r->head);
}

static void expect_body(const struct raw *r, const void *want, size_t len, const char *what)
{
	IT_ASSERT(r->body_len == len && memcmp(r->body, want, len) == 0,
		  "%s: body of %zu bytes differs from the %zu expected (%.60s)", what, r->body_len,
		  len, r->body);
}

/* GET path: status, Content-Type and exact body. */
static void expect_file(int port, const char *path, const char *type, const void *body,
			size_t len)
{
	struct raw r;
	char cl[32];

	raw_request(port, "GET", path, NULL, &r);
	IT_ASSERT(r.status == 200, "GET %s: status %d\n%s", path, r.status, r.head);
	expect_hdr(&r, "Content-Type", type, path);
	snprintf(cl, sizeof(cl), "%zu", len);
	expect_hdr(&r, "Content-Length", cl, path);
	expect_hdr(&r, "Accept-Ranges", "bytes", path);
	IT_ASSERT(hdr(&r, "ETag") && hdr(&r, "Last-Modified"), "GET %s: no validators\n%s",
		  path, r.head);
	expect_body(&r, body, len, path);
	raw_free(&r);
}

static int status_of(int port, const char *method, const char *path, const char *extra)
{
	struct raw r;
	int st;

	raw_request(port, method, path, extra, &r);
	st = r.status;
	raw_free(&r);
	return st;
}

/* ---- tests ---- */

START_TEST(content_types)
{
	const char *backend = it_backend(_i);
	unsigned char *big;
	int port;

	if (!backend)
		return;
	big = populate();
	port = start(backend, false);
	expect_file(port, "/hello.txt", "text/plain; charset=utf-8", "hello world\n", 12);
	expect_file(port, "/style.css", "text/css; charset=utf-8", "body { color: red }\n", 20);
	expect_file(port, "/data.json", "application/json", "{\"a\": 1}\n", 9);
	expect_file(port, "/logo.svg", "image/svg+xml",
		    "<svg xmlns=\"http://www.w3.org/2000/svg\"/>\n", 42);
	expect_file(port, "/font.woff2", "font/woff2", "wOF2", 4);
	expect_file(port, "/img.png", "image/png", "\x89PNG\r\n\x1a\n\0\0\0\0", 12);
	expect_file(port, "/big.bin", "application/octet-stream", big, BIG_SIZE);
	expect_file(port, "/inside.txt", "text/plain; charset=utf-8", "hello world\n", 12);
	free(big);
}
END_TEST

/* A real client writing the body to a file: byte-exact, 1 MiB. */
START_TEST(big_file_curl)
{
	const char *backend = it_backend(_i);
	char out[IT_PATH_MAX], cmd[IT_PATH_MAX * 2], code[16] = "";
	unsigned char *big;
	char *got;
	FILE *p;
	int port, fd;
	ssize_t n;

	if (!backend)
		return;
	big = populate();
	port = start(backend, false);
	it_path(out, "curl.out");
	snprintf(cmd, sizeof(cmd), "curl -s -S -o '%s' -w '%%{http_code}' http://127.0.0.1:%d/big.bin",
		 out, port);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(fgets(code, sizeof(code), p));
	IT_ASSERT(pclose(p) == 0 && strcmp(code, "200") == 0, "curl: status %s", code);
	got = malloc(BIG_SIZE + 1);
	fd = open(out, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	n = read(fd, got, BIG_SIZE + 1);
	close(fd);
	IT_ASSERT(n == (ssize_t)BIG_SIZE && memcmp(got, big, BIG_SIZE) == 0,
		  "curl got %zd bytes, not the 1 MiB file", n);
	free(got);
	free(big);
}
END_TEST

START_TEST(index_redirect_missing)
{
	const char *backend = it_backend(_i);
	struct raw r;
	int port;

	if (!backend)
		return;
	free(populate());
	port = start(backend, false);
	expect_file(port, "/", "text/html; charset=utf-8", "<h1>home</h1>\n", 14);
	expect_file(port, "/docs/", "text/html; charset=utf-8", "<h1>docs</h1>\n", 14);
	raw_request(port, "GET", "/docs?x=1&y=2", NULL, &r);
	IT_ASSERT(r.status == 301, "GET /docs: %d", r.status);
	expect_hdr(&r, "Location", "/docs/?x=1&y=2", "/docs");
	raw_free(&r);
	raw_request(port, "GET", "/docs", NULL, &r);
	expect_hdr(&r, "Location", "/docs/", "/docs without query");
	raw_free(&r);
	IT_ASSERT(status_of(port, "GET", "/empty/", NULL) == 404, "directory without index");
	IT_ASSERT(status_of(port, "GET", "/missing.html", NULL) == 404, "missing file");
	IT_ASSERT(status_of(port, "GET", "/hello.txt/", NULL) == 404, "file with a slash");
	raw_request(port, "POST", "/hello.txt", "Content-Length: 0\r\n", &r);
	IT_ASSERT(r.status == 405, "POST: %d", r.status);
	expect_hdr(&r, "Allow", "GET, HEAD", "POST");
	raw_free(&r);
}
END_TEST

/* Nothing outside the root comes back, however the path is spelled. */
START_TEST(traversal)
{
	static const char *const paths[] = {
		"/../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/a%2f..%2f..",
		"/docs%2f..%2f..%2fetc%2fpasswd", "/%00", "/hello.txt%00.html", "/passwd",
		"/up/etc/passwd", "/up/", "/docs/../../etc/passwd", "/.%2e/.%2e/etc/passwd",
	};
	const char *backend = it_backend(_i);
	int port;

	if (!backend)
		return;
	free(populate());
	/* Cache off on epoll, on for io_uring: both code paths see the attacks. */
	port = start(backend, _i == 1);
	for (size_t k = 0; k < sizeof(paths) / sizeof(paths[0]); k++) {
		struct raw r;

		raw_request(port, "GET", paths[k], NULL, &r);
		IT_ASSERT(r.status == 400 || r.status == 403 || r.status == 404,
			  "GET %s: status %d\n%s", paths[k], r.status, r.head);
		IT_ASSERT(!strstr(r.body, "root:"), "GET %s leaked /etc/passwd", paths[k]);
		raw_free(&r);
	}
	/* The server is still fine. */
	expect_file(port, "/hello.txt", "text/plain; charset=utf-8", "hello world\n", 12);
}
END_TEST

START_TEST(conditional)
{
	const char *backend = it_backend(_i);
	char etag[128], lm[64], extra[256];
	struct raw r;
	int port;

	if (!backend)
		return;
	free(populate());
	port = start(backend, false);
	raw_request(port, "GET", "/hello.txt", NULL, &r);
	IT_ASSERT(hdr(&r, "ETag") && hdr(&r, "Last-Modified"), "no validators\n%s", r.head);
	snprintf(etag, sizeof(etag), "%s", hdr(&r, "ETag"));
	snprintf(lm, sizeof(lm), "%s", hdr(&r, "Last-Modified"));
	raw_free(&r);

	snprintf(extra, sizeof(extra), "If-None-Match: \"nope\", %s\r\n", etag);
	raw_request(port, "GET", "/hello.txt", extra, &r);
	IT_ASSERT(r.status == 304, "If-None-Match: %d\n%s", r.status, r.head);
	expect_hdr(&r, "ETag", etag, "304");
	expect_hdr(&r, "Last-Modified", lm, "304");
	IT_ASSERT(r.body_len == 0 && !hdr(&r, "Content-Length"), "304 with a body or length\n%s",
		  r.head);
	raw_free(&r);

	snprintf(extra, sizeof(extra), "If-Modified-Since: %s\r\n", lm);
	raw_request(port, "GET", "/hello.txt", extra, &r);
	IT_ASSERT(r.status == 304 && r.body_len == 0, "If-Modified-Since: %d", r.status);
	raw_free(&r);

	IT_ASSERT(status_of(port, "GET", "/hello.txt",
			    "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n") == 200,
		  "old If-Modified-Since");
	IT_ASSERT(status_of(port, "GET", "/hello.txt", "If-None-Match: \"other\"\r\n") == 200,
		  "other ETag");
}
END_TEST

START_TEST(ranges)
{
	const char *backend = it_backend(_i);
	unsigned char *big;
	char etag[128], extra[256];
	struct raw r;
	int port;

	if (!backend)
		return;
	big = populate();
	port = start(backend, _i == 1);
	raw_request(port, "GET", "/hello.txt", "Range: bytes=6-10\r\n", &r);
	IT_ASSERT(r.status == 206, "range: %d", r.status);
	expect_hdr(&r, "Content-Range", "bytes 6-10/12", "206");
	expect_hdr(&r, "Content-Length", "5", "206");
	expect_body(&r, "world", 5, "206");
	snprintf(etag, sizeof(etag), "%s", hdr(&r, "ETag"));
	raw_free(&r);

	raw_request(port, "GET", "/big.bin", "Range: bytes=1000-\r\n", &r);
	IT_ASSERT(r.status == 206, "open range: %d", r.status);
	expect_body(&r, big + 1000, BIG_SIZE - 1000, "bytes=1000- of big.bin");
	raw_free(&r);
	raw_request(port, "GET", "/big.bin", "Range: bytes=-100\r\n", &r);
	expect_hdr(&r, "Content-Range", "bytes 1048476-1048575/1048576", "suffix range");
	expect_body(&r, big + BIG_SIZE - 100, 100, "bytes=-100 of big.bin");
	raw_free(&r);

	raw_request(port, "GET", "/hello.txt", "Range: bytes=50-60\r\n", &r);
	IT_ASSERT(r.status == 416, "unsatisfiable: %d", r.status);
	expect_hdr(&r, "Content-Range", "bytes */12", "416");
	raw_free(&r);

	raw_request(port, "GET", "/hello.txt", "Range: bytes=0-1, 4-5\r\n", &r);
	IT_ASSERT(r.status == 200, "multi-range: %d", r.status);
	expect_body(&r, "hello world\n", 12, "multi-range");
	raw_free(&r);

	snprintf(extra, sizeof(extra), "Range: bytes=0-4\r\nIf-Range: %s\r\n", etag);
	IT_ASSERT(status_of(port, "GET", "/hello.txt", extra) == 206, "If-Range current");
	IT_ASSERT(status_of(port, "GET", "/hello.txt", "Range: bytes=0-4\r\nIf-Range: \"old\"\r\n")
		  == 200, "If-Range stale");
	free(big);
}
END_TEST

START_TEST(precompressed)
{
	static const struct {
		const char *accept;
		const char *encoding;    /* NULL: identity */
		const char *body;
	} cases[] = {
		{ "gzip, deflate, br", "br", "BROTLI-BYTES" },
		{ "br;q=0, gzip", "gzip", "GZIP-BYTES!" },
		{ "br;q=0.2, gzip;q=0.9", "gzip", "GZIP-BYTES!" },
		{ "gzip;q=0, br;q=0", NULL, "console.log('identity');\n" },
		{ "identity", NULL, "console.log('identity');\n" },
		{ "*", "br", "BROTLI-BYTES" },
		{ "*;q=0", NULL, "console.log('identity');\n" },
		{ NULL, NULL, "console.log('identity');\n" },
	};
	const char *backend = it_backend(_i);
	char extra[256], first_etag[128] = "";
	int port;

	if (!backend)
		return;
	free(populate());
	port = start(backend, _i == 1);
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		const char *want = cases[k].body;
		struct raw r;

		if (cases[k].accept)
			snprintf(extra, sizeof(extra), "Accept-Encoding: %s\r\n", cases[k].accept);
		raw_request(port, "GET", "/app.js", cases[k].accept ? extra : NULL, &r);
		IT_ASSERT(r.status == 200, "Accept-Encoding %s: %d", cases[k].accept, r.status);
		expect_body(&r, want, strlen(want), cases[k].accept ? cases[k].accept : "(none)");
		if (cases[k].encoding)
			expect_hdr(&r, "Content-Encoding", cases[k].encoding, cases[k].accept);
		else
			IT_ASSERT(!hdr(&r, "Content-Encoding"), "identity with Content-Encoding");
		expect_hdr(&r, "Content-Type", "text/javascript; charset=utf-8", "app.js");
		expect_hdr(&r, "Vary", "Accept-Encoding", "app.js");
		if (k == 0)
			snprintf(first_etag, sizeof(first_etag), "%s", hdr(&r, "ETag"));
		else if (!cases[k].encoding)
			IT_ASSERT(strcmp(hdr(&r, "ETag"), first_etag) != 0,
				  "identity and br share the ETag %s", first_etag);
		raw_free(&r);
	}
}
END_TEST

/* HEAD: the GET head with Content-Length, and not one body byte after it. */
START_TEST(head)
{
	const char *backend = it_backend(_i);
	struct raw r;
	int port;

	if (!backend)
		return;
	free(populate());
	port = start(backend, _i == 1);
	raw_request(port, "HEAD", "/big.bin", NULL, &r);
	IT_ASSERT(r.status == 200, "HEAD: %d", r.status);
	expect_hdr(&r, "Content-Length", "1048576", "HEAD big.bin");
	IT_ASSERT(r.body_len == 0, "HEAD sent %zu body bytes", r.body_len);
	raw_free(&r);
	/* Keep-alive: a HEAD then a GET on one connection, answers back to back. */
	raw_send(port, "HEAD /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n"
		       "GET /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", &r);
	IT_ASSERT(r.status == 200, "HEAD: %d", r.status);
	expect_hdr(&r, "Content-Length", "12", "HEAD hello.txt");
	IT_ASSERT(strncmp(r.body, "HTTP/1.1 200 ", 13) == 0,
		  "after the HEAD came \"%.40s\", not the GET's status line", r.body);
	IT_ASSERT(r.total > 12 && memcmp(r.all + r.total - 12, "hello world\n", 12) == 0,
		  "the GET after HEAD did not end with the file");
	raw_free(&r);
}
END_TEST

/* Rewrites a file and moves its mtime, as a deploy would. */
static void rewrite(const char *name, const char *text, time_t mtime)
{
	char path[IT_PATH_MAX + 64];
	struct timespec ts[2] = { { mtime, 0 }, { mtime, 0 } };

	write_text(name, text);
	snprintf(path, sizeof(path), "%s/%s", www, name);
	ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
}

START_TEST(cache_sees_changes)
{
	const char *backend = it_backend(_i);
	int port;

	if (!backend)
		return;
	free(populate());
	port = start(backend, true);
	expect_file(port, "/hello.txt", "text/plain; charset=utf-8", "hello world\n", 12);
	expect_file(port, "/hello.txt", "text/plain; charset=utf-8", "hello world\n", 12);
	rewrite("hello.txt", "a new and longer text\n", time(NULL) - 100);
	expect_file(port, "/hello.txt", "text/plain; charset=utf-8", "a new and longer text\n", 22);
	rewrite("hello.txt", "A NEW AND LONGER TEXT\n", time(NULL) - 50);
	expect_file(port, "/hello.txt", "text/plain; charset=utf-8", "A NEW AND LONGER TEXT\n", 22);
	/* A precompressed sibling is cached and revalidated the same way. */
	for (int k = 0; k < 2; k++) {
		struct raw r;

		raw_request(port, "GET", "/app.js", "Accept-Encoding: br\r\n", &r);
		expect_body(&r, k ? "BR2" : "BROTLI-BYTES", k ? 3 : 12, "cached app.js.br");
		raw_free(&r);
		rewrite("app.js.br", "BR2", time(NULL) - 10);
	}
}
END_TEST

/* ---- the open-file cache ---- */

#define VALID_MS 100   /* static.open_file_cache_valid_ms in these tests */

static const struct open_cache short_cache = { 1024, VALID_MS };

/* Replaces name by rename(2), as deploy tools do: a new inode under the old name. */
static void replace_file(const char *name, const char *text)
{
	char from[IT_PATH_MAX + 64], to[IT_PATH_MAX + 64];

	write_text("deploy.tmp", text);
	snprintf(from, sizeof(from), "%s/deploy.tmp", www);
	snprintf(to, sizeof(to), "%s/%s", www, name);
	ck_assert_msg(rename(from, to) == 0, "rename %s: %s", to, strerror(errno));
}

static void remove_file(const char *name)
{
	char path[IT_PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/%s", www, name);
	ck_assert_msg(unlink(path) == 0, "unlink %s: %s", path, strerror(errno));
}

/* Well past the validity period; what is served before it is not asserted. */
static void wait_validity(void)
{
	it_sleep_ms(3 * VALID_MS);
}

/* Replaced by rename, rewritten in place, deleted: all seen once the period has passed. */
START_TEST(open_cache_sees_changes)
{
	const char *backend = it_backend(_i);
	unsigned char *big;
	int port;

	if (!backend)
		return;
	big = populate();
	port = start_with(backend, false, short_cache, NULL);
	/* Twice each: the second is served from the cache. */
	for (int k = 0; k < 2; k++) {
		expect_file(port, "/hello.txt", "text/plain; charset=utf-8", "hello world\n", 12);
		expect_file(port, "/style.css", "text/css; charset=utf-8", "body { color: red }\n", 20);
		expect_file(port, "/docs/", "text/html; charset=utf-8", "<h1>docs</h1>\n", 14);
		expect_file(port, "/big.bin", "application/octet-stream", big, BIG_SIZE);
	}
	replace_file("hello.txt", "deployed by rename\n");
	rewrite("style.css", "body { color: blue; margin: 0 }\n", time(NULL) - 100);
	remove_file("docs/index.html");
	memset(big, 'z', 4096);
	write_bytes("big.bin", big, BIG_SIZE);   /* in place, same size */
	wait_validity();
	expect_file(port, "/hello.txt", "text/plain; charset=utf-8", "deployed by rename\n", 19);
	expect_file(port, "/style.css", "text/css; charset=utf-8",
		    "body { color: blue; margin: 0 }\n", 32);
	IT_ASSERT(status_of(port, "GET", "/docs/", NULL) == 404, "deleted index still served");
	expect_file(port, "/big.bin", "application/octet-stream", big, BIG_SIZE);
	/* And back: a file that appears is served (absent files are not cached). */
	write_text("docs/index.html", "<h1>back</h1>\n");
	expect_file(port, "/docs/", "text/html; charset=utf-8", "<h1>back</h1>\n", 14);
	free(big);
}
END_TEST

/* Precompressed siblings that come and go are seen after the period too. */
START_TEST(open_cache_siblings)
{
	const char *backend = it_backend(_i);
	struct raw r;
	int port;

	if (!backend)
		return;
	free(populate());
	port = start_with(backend, false, short_cache, NULL);
	raw_request(port, "GET", "/style.css", "Accept-Encoding: br\r\n", &r);
	expect_body(&r, "body { color: red }\n", 20, "style.css without a sibling");
	raw_free(&r);
	write_text("style.css.br", "CSS-BR");
	remove_file("app.js.br");
	wait_validity();
	raw_request(port, "GET", "/style.css", "Accept-Encoding: br\r\n", &r);
	expect_body(&r, "CSS-BR", 6, "style.css.br once it exists");
	expect_hdr(&r, "Content-Encoding", "br", "style.css.br");
	raw_free(&r);
	raw_request(port, "GET", "/app.js", "Accept-Encoding: br, gzip\r\n", &r);
	expect_body(&r, "GZIP-BYTES!", 11, "app.js once its .br is gone");
	raw_free(&r);
}
END_TEST

/*
 * With the cache warm a miss's refusals still hold, and a cached name
 * turned into an escape is refused once its period has passed.
 */
START_TEST(open_cache_traversal_warm)
{
	static const char *const paths[] = {
		"/../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/passwd", "/up/etc/passwd",
		"/up/", "/docs/../../etc/passwd", "/.%2e/.%2e/etc/passwd", "/up/hello.txt",
		"/docs/../hello.txt", "/hello.txt", "/docs/",
	};
	const char *backend = it_backend(_i);
	int port;

	if (!backend)
		return;
	free(populate());
	port = start_with(backend, false, short_cache, NULL);
	for (int k = 0; k < 2; k++) {
		expect_file(port, "/hello.txt", "text/plain; charset=utf-8", "hello world\n", 12);
		expect_file(port, "/docs/", "text/html; charset=utf-8", "<h1>docs</h1>\n", 14);
	}
	remove_file("hello.txt");
	make_link("/etc/passwd", "hello.txt");
	remove_file("docs/index.html");
	make_link("../up/etc/passwd", "docs/index.html");
	wait_validity();
	for (size_t k = 0; k < sizeof(paths) / sizeof(paths[0]); k++) {
		struct raw r;

		raw_request(port, "GET", paths[k], NULL, &r);
		IT_ASSERT(r.status == 400 || r.status == 403 || r.status == 404,
			  "GET %s: status %d\n%s", paths[k], r.status, r.head);
		IT_ASSERT(!strstr(r.body, "root:"), "GET %s leaked /etc/passwd", paths[k]);
		raw_free(&r);
	}
	expect_file(port, "/style.css", "text/css; charset=utf-8", "body { color: red }\n", 20);
}
END_TEST

/* open_file_cache 0: every request opens the file, so a change is seen at once. */
START_TEST(open_cache_off)
{
	const char *backend = it_backend(_i);
	int port;

	if (!backend)
		return;
	free(populate());
	port = start_with(backend, false, (struct open_cache){ 0, 60000 }, NULL);
	expect_file(port, "/hello.txt", "text/plain; charset=utf-8", "hello world\n", 12);
	replace_file("hello.txt", "no cache, no wait\n");
	expect_file(port, "/hello.txt", "text/plain; charset=utf-8", "no cache, no wait\n", 18);
	remove_file("hello.txt");
	IT_ASSERT(status_of(port, "GET", "/hello.txt", NULL) == 404, "deleted file served");
	remove_file("passwd");
	make_link("/etc/passwd", "passwd");
	IT_ASSERT(status_of(port, "GET", "/passwd", NULL) == 404, "escape served");
}
END_TEST

/* A reload to another root empties the cache: no entry of the old root answers, however valid. */
START_TEST(open_cache_reload_root)
{
	const char *backend = it_backend(_i);
	char cfg[IT_PATH_MAX], other[IT_PATH_MAX], path[IT_PATH_MAX + 64];
	struct it_proc *p;
	size_t from;
	int port;

	if (!backend)
		return;
	free(populate());
	it_path(other, "www2");
	ck_assert_int_eq(mkdir(other, 0755), 0);
	snprintf(path, sizeof(path), "%s/hello.txt", other);
	it_write_file(path, "the other root\n");
	port = start_with(backend, false, (struct open_cache){ 1024, 3600000 }, &p);
	expect_file(port, "/hello.txt", "text/plain; charset=utf-8", "hello world\n", 12);
	expect_file(port, "/style.css", "text/css; charset=utf-8", "body { color: red }\n", 20);
	it_path(cfg, "swerver.json");
	write_config(cfg, backend, other, false, (struct open_cache){ 1024, 3600000 });
	from = it_log_size(p);
	ck_assert_int_eq(it_signal(p, SIGHUP), 0);
	IT_ASSERT(it_wait_log(p, from, "configuration applied in place", 5000),
		  "the reload was not applied");
	expect_file(port, "/hello.txt", "text/plain; charset=utf-8", "the other root\n", 15);
	IT_ASSERT(status_of(port, "GET", "/style.css", NULL) == 404,
		  "a file of the old root served after the reload");
}
END_TEST

/* Links that stay inside the root are followed in both lookup modes, ".." in them too. */
START_TEST(links_inside_root)
{
	const char *backend = it_backend(_i);
	int port;

	if (!backend)
		return;
	free(populate());
	make_link("docs", "docs-link");
	make_link("../hello.txt", "docs/hello-up.txt");
	make_link("docs-link/../docs/hello-up.txt", "twice.txt");
	port = start(backend, _i == 1);
	expect_file(port, "/docs-link/index.html", "text/html; charset=utf-8", "<h1>docs</h1>\n", 14);
	expect_file(port, "/docs-link/", "text/html; charset=utf-8", "<h1>docs</h1>\n", 14);
	expect_file(port, "/docs/hello-up.txt", "text/plain; charset=utf-8", "hello world\n", 12);
	expect_file(port, "/twice.txt", "text/plain; charset=utf-8", "hello world\n", 12);
	IT_ASSERT(status_of(port, "GET", "/hello.txt/", NULL) == 404, "a file served as a directory");
	IT_ASSERT(status_of(port, "GET", "/inside.txt/", NULL) == 404,
		  "a link to a file served as a directory");
}
END_TEST

/* The master says once which lookup the workers use, and why when it is the walk. */
START_TEST(lookup_mode_logged)
{
	struct it_proc *p;
	int port;

	free(populate());
	port = start_with("epoll", false, default_cache, &p);
	if (openat2_refusal)
		IT_ASSERT(it_log_has(p, "static files: openat2 refused here (Function not implemented); "
				     "files are looked up by an openat walk"),
			  "no log line naming the walk\n%s", it_log(p));
	else
		IT_ASSERT(it_log_has(p, "static files: looked up with openat2 (RESOLVE_BENEATH)"),
			  "no log line naming openat2\n%s", it_log(p));
	expect_file(port, "/hello.txt", "text/plain; charset=utf-8", "hello world\n", 12);
}
END_TEST

#ifndef SW_TEST_WALK
/*
 * A root requests could not use fails -t, the start and a reload, naming
 * the key: never "ready" with every file 404.  A filter answering openat2
 * with EACCES (not a refusal the walk stands in for) makes such a root.
 */
START_TEST(unusable_root_refused)
{
	char cfg[IT_PATH_MAX], want[IT_PATH_MAX + 64];
	const char *test_args[] = { "-t", "-c", cfg, NULL };
	struct it_proc *p;
	size_t from;
	int code, port;

	free(populate());
	it_path(cfg, "swerver.json");
	write_config(cfg, "epoll", www, false, default_cache);
	snprintf(want, sizeof(want), "server.static_root: %s: Permission denied", www);
	openat2_refusal = EACCES;
	arm_filter();
	p = it_spawn(test_args, NULL);
	code = it_wait_exit(p, 5000);
	IT_ASSERT(code == 78, "-t: want exit 78, got %s", it_code_str(code));
	IT_ASSERT(it_log_has(p, want), "-t does not say why\n%s", it_log(p));

	p = it_start(cfg, NULL);
	code = it_wait_exit(p, 5000);
	IT_ASSERT(code == 78, "start: want exit 78, got %s", it_code_str(code));
	IT_ASSERT(it_log_has(p, want), "the start does not say why\n%s", it_log(p));

	it_config_simple(cfg, "swerver.json", "127.0.0.1", 0, 1, "epoll");
	p = it_start_ready(cfg, "127.0.0.1", &port);
	write_config(cfg, "epoll", www, false, default_cache);
	from = it_log_size(p);
	ck_assert_int_eq(it_signal(p, SIGHUP), 0);
	IT_ASSERT(it_wait_log(p, from, "reload failed", 5000), "the reload was not refused\n%s",
		  it_log(p));
	IT_ASSERT(it_log_has(p, want), "the reload does not say why\n%s", it_log(p));
	IT_ASSERT(!it_wait_log(p, from, "configuration applied in place", 0),
		  "the reload was applied");
	it_pre_exec = NULL;
}
END_TEST
#endif

static Suite *static_suite(void)
{
	Suite *s = suite_create("static");
	TCase *tc = it_tcase("static");

	tcase_add_loop_test(tc, content_types, 0, 2);
	tcase_add_loop_test(tc, big_file_curl, 0, 2);
	tcase_add_loop_test(tc, index_redirect_missing, 0, 2);
	tcase_add_loop_test(tc, traversal, 0, 2);
	tcase_add_loop_test(tc, conditional, 0, 2);
	tcase_add_loop_test(tc, ranges, 0, 2);
	tcase_add_loop_test(tc, precompressed, 0, 2);
	tcase_add_loop_test(tc, head, 0, 2);
	tcase_add_loop_test(tc, cache_sees_changes, 0, 2);
	tcase_add_loop_test(tc, open_cache_sees_changes, 0, 2);
	tcase_add_loop_test(tc, open_cache_siblings, 0, 2);
	tcase_add_loop_test(tc, open_cache_traversal_warm, 0, 2);
	tcase_add_loop_test(tc, open_cache_off, 0, 2);
	tcase_add_loop_test(tc, open_cache_reload_root, 0, 2);
	tcase_add_loop_test(tc, links_inside_root, 0, 2);
	tcase_add_test(tc, lookup_mode_logged);
#ifndef SW_TEST_WALK
	tcase_add_test(tc, unusable_root_refused);
#endif
	suite_add_tcase(s, tc);
	return s;
}

IT_SUITE(static_suite);
