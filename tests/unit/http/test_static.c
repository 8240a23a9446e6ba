/* SPDX-License-Identifier: MIT */
/* test_static.c - the static-file handler without a network: parsing helpers, then whole exchanges against a temp root. */
#include <config.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "core/clock.h"
#include "core/config.h"
#include "http/context.h"
#include "http/static.h"
#include "check_main.h"

static struct sw_str S(const char *s)
{
	return (struct sw_str){ s, strlen(s) };
}

/* ---- helpers ---- */

START_TEST(decode_path)
{
	static const struct { const char *in; int rc; const char *out; } cases[] = {
		{ "/", SW_OK, "" },
		{ "/a.txt", SW_OK, "a.txt" },
		{ "/dir/", SW_OK, "dir/" },
		{ "//a///b", SW_OK, "a/b" },
		{ "/./a/./b/.", SW_OK, "a/b/" },
		{ "/%61%62c", SW_OK, "abc" },
		{ "/sp%20ace", SW_OK, "sp ace" },
		{ "/a..b/...", SW_OK, "a..b/..." },
		{ "/..", 404, NULL },
		{ "/../etc/passwd", 404, NULL },
		{ "/a/../b", 404, NULL },
		{ "/%2e%2e/%2e%2e/etc/passwd", 404, NULL },
		{ "/%2E./x", 404, NULL },
		{ "/a%2f..%2f..", 404, NULL },
		{ "/a%2Fb", 404, NULL },
		{ "/%00", 404, NULL },
		{ "/a%00.html", 404, NULL },
		{ "/%zz", 400, NULL },
		{ "/%4", 400, NULL },
		{ "/%", 400, NULL },
		{ "relative", 404, NULL },
		{ "", 404, NULL },
	};
	char out[64];
	size_t len;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = sw_static_decode_path(S(cases[i].in), out, sizeof(out), &len);

		ck_assert_msg(rc == cases[i].rc, "%s: rc %d, want %d", cases[i].in, rc, cases[i].rc);
		if (rc == SW_OK)
			ck_assert_msg(strcmp(out, cases[i].out) == 0 && len == strlen(out),
				      "%s: got '%s'", cases[i].in, out);
	}
	ck_assert_int_eq(sw_static_decode_path(S("/aaaaaaaaaaaaaaaaaaaa"), out, 8, &len), 414);
}
END_TEST

START_TEST(parse_range)
{
	static const struct {
		const char *v; uint64_t size; enum sw_range_result r; uint64_t first, len;
	} cases[] = {
		{ "bytes=0-9", 100, SW_RANGE_PARTIAL, 0, 10 },
		{ "bytes=10-", 100, SW_RANGE_PARTIAL, 10, 90 },
		{ "bytes=-10", 100, SW_RANGE_PARTIAL, 90, 10 },
		{ "bytes=-1000", 100, SW_RANGE_PARTIAL, 0, 100 },
		{ "bytes=50-1000", 100, SW_RANGE_PARTIAL, 50, 50 },
		{ "bytes=99-99", 100, SW_RANGE_PARTIAL, 99, 1 },
		{ "BYTES=1-2", 100, SW_RANGE_PARTIAL, 1, 2 },
		{ " bytes=1-2 ", 100, SW_RANGE_PARTIAL, 1, 2 },
		{ "bytes=0-99999999999999999999999", 100, SW_RANGE_PARTIAL, 0, 100 },
		{ "bytes=100-", 100, SW_RANGE_UNSATISFIABLE, 0, 0 },
		{ "bytes=100-200", 100, SW_RANGE_UNSATISFIABLE, 0, 0 },
		{ "bytes=-0", 100, SW_RANGE_UNSATISFIABLE, 0, 0 },
		{ "bytes=0-", 0, SW_RANGE_UNSATISFIABLE, 0, 0 },
		{ "bytes=-5", 0, SW_RANGE_UNSATISFIABLE, 0, 0 },
		{ "bytes=0-1,5-6", 100, SW_RANGE_NONE, 0, 0 },
		{ "bytes=5-1", 100, SW_RANGE_NONE, 0, 0 },
		{ "bytes=a-b", 100, SW_RANGE_NONE, 0, 0 },
		{ "bytes=1-2x", 100, SW_RANGE_NONE, 0, 0 },
		{ "bytes=-", 100, SW_RANGE_NONE, 0, 0 },
		{ "items=0-1", 100, SW_RANGE_NONE, 0, 0 },
		{ "bytes 0-1", 100, SW_RANGE_NONE, 0, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t first = 0, len = 0;
		enum sw_range_result r = sw_static_parse_range(S(cases[i].v), cases[i].size,
							       &first, &len);

		ck_assert_msg(r == cases[i].r, "%s: result %d, want %d", cases[i].v, r, cases[i].r);
		if (r == SW_RANGE_PARTIAL)
			ck_assert_msg(first == cases[i].first && len == cases[i].len,
				      "%s: %llu+%llu", cases[i].v, (unsigned long long)first,
				      (unsigned long long)len);
	}
}
END_TEST

START_TEST(accept_encoding)
{
	static const struct { const char *v; unsigned br, gzip; } cases[] = {
		{ "gzip, deflate, br", 1000, 1000 },
		{ "gzip", 0, 1000 },
		{ "br;q=0, gzip", 0, 1000 },
		{ "br; q=0.0, gzip;q=0.000", 0, 0 },
		{ "br;q=0.5, gzip;q=0.8", 500, 800 },
		{ "*", 1000, 1000 },
		{ "*;q=0.1, br;q=0", 0, 100 },
		{ "identity", 0, 0 },
		{ "", 0, 0 },
		{ "x-gzip", 0, 1000 },
		{ "BR, GZip", 1000, 1000 },
		{ "br;q=2", 0, 0 },
		{ "br;q=1.000", 1000, 0 },
		{ "br;q=1.5", 0, 0 },
		{ "br;q=0.1234", 0, 0 },
		{ "brotli, gzipx", 0, 0 },
		{ " ,, br ,", 1000, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sw_static_accept a;

		sw_static_accept_encoding(S(cases[i].v), &a);
		ck_assert_msg(a.br == cases[i].br && a.gzip == cases[i].gzip,
			      "'%s': br %u gzip %u, want %u %u", cases[i].v, a.br, a.gzip,
			      cases[i].br, cases[i].gzip);
	}
}
END_TEST

START_TEST(etag_match)
{
	struct sw_str tag = S("\"1a-2b\"");

	ck_assert(sw_static_etag_match(S("\"1a-2b\""), tag, true));
	ck_assert(sw_static_etag_match(S("*"), tag, true));
	ck_assert(sw_static_etag_match(S(" \"x\", W/\"1a-2b\""), tag, true));
	ck_assert(!sw_static_etag_match(S("W/\"1a-2b\""), tag, false));
	ck_assert(sw_static_etag_match(S("\"1a-2b\""), tag, false));
	ck_assert(!sw_static_etag_match(S("\"1a-2c\", \"1a\""), tag, true));
	ck_assert(!sw_static_etag_match(S("1a-2b"), tag, true));
	ck_assert(!sw_static_etag_match(S("\"1a-2b"), tag, true));
	ck_assert(!sw_static_etag_match(S(""), tag, true));
}
END_TEST

START_TEST(http_date)
{
	time_t t;

	ck_assert(sw_static_parse_http_date(S("Sun, 06 Nov 1994 08:49:37 GMT"), &t));
	ck_assert_int_eq(t, 784111777);
	ck_assert(sw_static_parse_http_date(S("Sunday, 06-Nov-94 08:49:37 GMT"), &t));
	ck_assert_int_eq(t, 784111777);
	ck_assert(sw_static_parse_http_date(S("Sun Nov  6 08:49:37 1994"), &t));
	ck_assert_int_eq(t, 784111777);
	ck_assert(!sw_static_parse_http_date(S("Sun, 06 Foo 1994 08:49:37 GMT"), &t));
	ck_assert(!sw_static_parse_http_date(S("Sun, 06 Nov 1994 08:49:37 GMT junk"), &t));
	ck_assert(!sw_static_parse_http_date(S("yesterday"), &t));
	/* All fields, then no " GMT": %n never ran (regression: read before the buffer). */
	ck_assert(!sw_static_parse_http_date(S("Sun, 06 Nov 1994 08:49:37"), &t));
	ck_assert(!sw_static_parse_http_date(S("Sun, 06 Nov 1994 08:49:37 UTC"), &t));
	ck_assert(!sw_static_parse_http_date(S(""), &t));
}
END_TEST

/* ---- whole exchanges against a temp root ---- */

static char root[64];
static struct sw_config cfg;
static struct sw_ctx worker;
static struct sw_exchange X;
static struct sw_header req_headers[8];
static int responded;
static char *scratch;

static void fake_respond(struct sw_exchange *x)
{
	(void)x;
	responded++;
}

/* Like the codec's: one buffer, reused by the next exchange. */
static char *fake_buffer(struct sw_exchange *x, size_t size)
{
	(void)x;
	free(scratch);
	scratch = malloc(size);
	return scratch;
}

static const struct sw_exchange_ops fake_ops = { .respond = fake_respond, .buffer = fake_buffer };

static void put_file(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, name);
	f = fopen(path, "w");
	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	fputs(text, f);
	fclose(f);
}

static void put_dir(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", root, name);
	ck_assert_int_eq(mkdir(path, 0755), 0);
}

/*
 * Which caches a test runs with.  With MODE_OPEN alone the open-file cache
 * checks every hit (valid_ms 0), so tests that change files between
 * requests expect what an uncached server answers; MODE_LONG trusts its
 * entries for a minute.
 */
enum {
	MODE_CONTENT = 1,   /* server.cache_static_files */
	MODE_OPEN = 2,      /* static.open_file_cache */
	MODE_LONG = 4,      /* static.open_file_cache_valid_ms 60000 */
};

static void start(int mode)
{
	char tmpl[] = "/tmp/swerver-static.XXXXXX";

	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	snprintf(root, sizeof(root), "%s", tmpl);
	memset(&cfg, 0, sizeof(cfg));
	memset(&worker, 0, sizeof(worker));
	cfg.server.static_root = root;
	cfg.server.cache_static_files = mode & MODE_CONTENT;
	cfg.static_files.open_file_cache = mode & MODE_OPEN ? 16 : 0;
	cfg.static_files.open_file_cache_valid_ms = mode & MODE_LONG ? 60000 : 0;
	worker.cfg = &cfg;
	ck_assert_int_eq(sw_static_init(&worker), SW_OK);
	put_file("hello.txt", "hello world\n");
	put_file("app.js", "console.log('identity');\n");
	put_file("app.js.br", "BROTLI");
	put_file("app.js.gz", "GZIPPED!");
	put_file("style.css", "body{}\n");
	put_file("style.css.gz", "CSSGZ");
	put_dir("docs");
	put_file("docs/index.html", "<h1>docs</h1>\n");
	put_dir("empty");
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	remove(path);
	return 0;
}

/*
 * Emulates a codec finishing the exchange: sw_exchange_finish's release
 * first, then closing an fd the response still owns (not a shared one).
 */
static void finish_x(struct sw_exchange *x)
{
	if (x->resp.release)
		x->resp.release(x->resp.owner);
	x->resp.release = NULL;
	if (x->resp.body_kind == SW_BODY_FILE && x->resp.file_fd >= 0)
		close(x->resp.file_fd);
	x->resp.file_fd = -1;
}

static void finish(void)
{
	finish_x(&X);
}

static void stop(void)
{
	finish();
	sw_static_deinit(&worker);
	nftw(root, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	free(scratch);
	scratch = NULL;
}

/* Runs one request on x ("Name: value" headers, NULL-terminated) and returns the status. */
static int request_x(struct sw_exchange *x, enum sw_method m, const char *target,
		     const char *const *hdrs)
{
	const char *q = strchr(target, '?');
	int n = 0;

	finish_x(x);
	memset(x, 0, sizeof(*x));
	x->ops = &fake_ops;
	x->ctx = &worker;
	x->resp.file_fd = -1;
	x->req.method = m;
	x->req.path = (struct sw_str){ target, q ? (size_t)(q - target) : strlen(target) };
	x->req.query = q ? S(q + 1) : S("");
	for (; hdrs && hdrs[n]; n++) {
		const char *colon = strchr(hdrs[n], ':');

		req_headers[n].name = (struct sw_str){ hdrs[n], (size_t)(colon - hdrs[n]) };
		req_headers[n].value = S(colon + 2);
	}
	x->req.headers = req_headers;
	x->req.header_count = (unsigned)n;
	responded = 0;
	ck_assert_int_eq(sw_static_handle(x), SW_OK);
	ck_assert_int_eq(responded, 1);
	return x->resp.status;
}

static int request(enum sw_method m, const char *target, const char *const *hdrs)
{
	return request_x(&X, m, target, hdrs);
}

static int get(const char *target)
{
	return request(SW_METHOD_GET, target, NULL);
}

/* A response header's value, or NULL. */
static const char *header_x(const struct sw_exchange *x, const char *name)
{
	static char buf[512];

	for (unsigned i = 0; i < x->resp.header_count; i++)
		if (sw_str_ieq(x->resp.headers[i].name, name)) {
			snprintf(buf, sizeof(buf), "%.*s", (int)x->resp.headers[i].value.len,
				 x->resp.headers[i].value.p);
			return buf;
		}
	return NULL;
}

static const char *header(const char *name)
{
	return header_x(&X, name);
}

/* The body the codec would send. */
static const char *body(void)
{
	static char buf[4096];
	size_t len = (size_t)X.resp.content_length;
	ssize_t n;

	ck_assert_uint_lt(len, sizeof(buf));
	if (X.resp.body_kind == SW_BODY_MEMORY) {
		ck_assert_uint_eq(X.resp.body.len, len);
		memcpy(buf, X.resp.body.p, len);
	} else {
		ck_assert_int_eq(X.resp.body_kind, SW_BODY_FILE);
		n = pread(X.resp.file_fd, buf, len, X.resp.file_offset);
		ck_assert_int_eq(n, (ssize_t)len);
	}
	buf[len] = '\0';
	return buf;
}

static void check_basic(int mode)
{
	bool cache = mode & MODE_CONTENT;

	start(mode);
	ck_assert_int_eq(get("/hello.txt"), 200);
	ck_assert_str_eq(body(), "hello world\n");
	ck_assert_str_eq(header("Content-Type"), "text/plain; charset=utf-8");
	ck_assert_str_eq(header("Accept-Ranges"), "bytes");
	ck_assert_ptr_nonnull(header("ETag"));
	ck_assert_ptr_nonnull(header("Last-Modified"));
	ck_assert_str_eq(header("Vary"), "Accept-Encoding");
	ck_assert_int_eq(X.resp.body_kind, cache ? SW_BODY_MEMORY : SW_BODY_FILE);
	ck_assert_int_eq(get("/docs/"), 200);
	ck_assert_str_eq(body(), "<h1>docs</h1>\n");
	ck_assert_str_eq(header("Content-Type"), "text/html; charset=utf-8");
	ck_assert_int_eq(get("/docs?a=1&b=2"), 301);
	ck_assert_str_eq(header("Location"), "/docs/?a=1&b=2");
	ck_assert_int_eq(get("//docs"), 301);
	ck_assert_str_eq(header("Location"), "/docs/");
	ck_assert_int_eq(get("/empty/"), 404);
	put_dir("odd");
	put_dir("odd/index.html");
	ck_assert_int_eq(get("/odd/"), 403);
	/* "/\\host" in a Location is another host to browsers. */
	put_dir("\\evil");
	ck_assert_int_eq(get("/\\evil"), 301);
	ck_assert_str_eq(header("Location"), "/%5Cevil/");
	ck_assert_int_eq(get("///\\evil"), 301);
	ck_assert_str_eq(header("Location"), "/%5Cevil/");
	ck_assert_int_eq(get("/nope.txt"), 404);
	ck_assert_int_eq(get("/hello.txt/"), 404);
	ck_assert_int_eq(get("/"), 404);
	put_file("index.html", "root");
	ck_assert_int_eq(get("/"), 200);
	ck_assert_str_eq(body(), "root");
	ck_assert_int_eq(request(SW_METHOD_HEAD, "/hello.txt", NULL), 200);
	ck_assert_uint_eq(X.resp.content_length, 12);
	ck_assert_int_eq(request(SW_METHOD_POST, "/hello.txt", NULL), 405);
	ck_assert_str_eq(header("Allow"), "GET, HEAD");
	ck_assert_int_eq(request(SW_METHOD_DELETE, "/nope", NULL), 404);
	stop();
}

START_TEST(basic)
{
	check_basic(_i);
}
END_TEST

START_TEST(declines_without_root)
{
	memset(&cfg, 0, sizeof(cfg));
	memset(&worker, 0, sizeof(worker));
	worker.cfg = &cfg;
	ck_assert_int_eq(sw_static_init(&worker), SW_OK);
	memset(&X, 0, sizeof(X));
	X.ctx = &worker;
	X.req.path = S("/x");
	ck_assert_int_eq(sw_static_handle(&X), SW_DECLINED);
	sw_static_deinit(&worker);
	ck_assert_ptr_null(worker.statics);
}
END_TEST

START_TEST(escapes)
{
	char path[256];

	start(_i);
	snprintf(path, sizeof(path), "%s/passwd", root);
	ck_assert_int_eq(symlink("/etc/passwd", path), 0);
	snprintf(path, sizeof(path), "%s/up", root);
	ck_assert_int_eq(symlink("..", path), 0);
	snprintf(path, sizeof(path), "%s/inside.txt", root);
	ck_assert_int_eq(symlink("hello.txt", path), 0);
	snprintf(path, sizeof(path), "%s/fifo", root);
	ck_assert_int_eq(mkfifo(path, 0644), 0);
	ck_assert_int_eq(get("/passwd"), 404);
	ck_assert_int_eq(get("/up/"), 404);
	ck_assert_int_eq(get("/up/etc/passwd"), 404);
	ck_assert_int_eq(get("/../etc/passwd"), 404);
	ck_assert_int_eq(get("/%2e%2e/%2e%2e/etc/passwd"), 404);
	ck_assert_int_eq(get("/docs%2f..%2fhello.txt"), 404);
	ck_assert_int_eq(get("/%00"), 404);
	ck_assert_int_eq(get("/%zz"), 400);
	ck_assert_int_eq(get("/inside.txt"), 200);
	ck_assert_str_eq(body(), "hello world\n");
	ck_assert_int_eq(get("/fifo"), 403);   /* and did not block */
	stop();
}
END_TEST

START_TEST(conditional)
{
	char etag[128], lm[64], hdr[192], later[64];
	const char *h[3] = { hdr, NULL, NULL };

	start(_i);
	ck_assert_int_eq(get("/hello.txt"), 200);
	snprintf(etag, sizeof(etag), "%s", header("ETag"));
	snprintf(lm, sizeof(lm), "%s", header("Last-Modified"));
	ck_assert_int_eq(etag[0], '"');
	snprintf(hdr, sizeof(hdr), "If-None-Match: %s", etag);
	ck_assert_int_eq(request(SW_METHOD_GET, "/hello.txt", h), 304);
	ck_assert_str_eq(header("ETag"), etag);
	ck_assert_str_eq(header("Last-Modified"), lm);
	ck_assert_ptr_null(header("Content-Type"));
	ck_assert_int_eq(X.resp.body_kind, SW_BODY_NONE);
	snprintf(hdr, sizeof(hdr), "If-None-Match: \"zzz\", W/%s", etag);
	ck_assert_int_eq(request(SW_METHOD_HEAD, "/hello.txt", h), 304);
	ck_assert_int_eq(request(SW_METHOD_GET, "/hello.txt",
				 (const char *const[]){ "If-None-Match: *", NULL }), 304);
	ck_assert_int_eq(request(SW_METHOD_GET, "/hello.txt",
				 (const char *const[]){ "If-None-Match: \"other\"", NULL }), 200);
	snprintf(hdr, sizeof(hdr), "If-Modified-Since: %s", lm);
	ck_assert_int_eq(request(SW_METHOD_GET, "/hello.txt", h), 304);
	ck_assert_int_eq(request(SW_METHOD_GET, "/hello.txt",
		(const char *const[]){ "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT", NULL }),
		200);
	/* If-None-Match present: If-Modified-Since is not looked at. */
	h[1] = "If-None-Match: \"other\"";
	ck_assert_int_eq(request(SW_METHOD_GET, "/hello.txt", h), 200);
	/* Garbage dates are ignored. */
	ck_assert_int_eq(request(SW_METHOD_GET, "/hello.txt",
		(const char *const[]){ "If-Modified-Since: soon", NULL }), 200);
	sw_clock_format_http(time(NULL) + 3600, later);
	snprintf(hdr, sizeof(hdr), "If-Modified-Since: %s", later);
	h[1] = NULL;
	ck_assert_int_eq(request(SW_METHOD_GET, "/hello.txt", h), 304);
	stop();
}
END_TEST

/* Rewrites name with new contents and a distinct mtime. */
static void rewrite(const char *name, const char *text, long sec)
{
	char path[256];
	struct timespec ts[2] = { { sec, 0 }, { sec, 0 } };

	put_file(name, text);
	snprintf(path, sizeof(path), "%s/%s", root, name);
	ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
}

START_TEST(ranges)
{
	char etag[128], lm[64], ir[192];

	start(_i);
	ck_assert_int_eq(request(SW_METHOD_GET, "/hello.txt",
				 (const char *const[]){ "Range: bytes=0-4", NULL }), 206);
	ck_assert_str_eq(body(), "hello");
	ck_assert_str_eq(header("Content-Range"), "bytes 0-4/12");
	snprintf(etag, sizeof(etag), "%s", header("ETag"));
	snprintf(lm, sizeof(lm), "%s", header("Last-Modified"));
	ck_assert_int_eq(request(SW_METHOD_GET, "/hello.txt",
				 (const char *const[]){ "Range: bytes=6-", NULL }), 206);
	ck_assert_str_eq(body(), "world\n");
	ck_assert_int_eq(request(SW_METHOD_GET, "/hello.txt",
				 (const char *const[]){ "Range: bytes=-3", NULL }), 206);
	ck_assert_str_eq(body(), "ld\n");
	ck_assert_str_eq(header("Content-Range"), "bytes 9-11/12");
	ck_assert_int_eq(request(SW_METHOD_GET, "/hello.txt",
				 (const char *const[]){ "Range: bytes=12-", NULL }), 416);
	ck_assert_str_eq(header("Content-Range"), "bytes */12");
	ck_assert_int_eq(request(SW_METHOD_GET, "/hello.txt",
				 (const char *const[]){ "Range: bytes=0-1,3-4", NULL }), 200);
	ck_assert_str_eq(body(), "hello world\n");
	ck_assert_int_eq(request(SW_METHOD_HEAD, "/hello.txt",
				 (const char *const[]){ "Range: bytes=0-1", NULL }), 200);
	snprintf(ir, sizeof(ir), "If-Range: %s", etag);
	ck_assert_int_eq(request(SW_METHOD_GET, "/hello.txt",
				 (const char *const[]){ "Range: bytes=0-1", ir, NULL }), 206);
	snprintf(ir, sizeof(ir), "If-Range: %s", lm);
	ck_assert_int_eq(request(SW_METHOD_GET, "/hello.txt",
				 (const char *const[]){ "Range: bytes=0-1", ir, NULL }), 206);
	ck_assert_int_eq(request(SW_METHOD_GET, "/hello.txt",
		(const char *const[]){ "Range: bytes=0-1", "If-Range: \"old\"", NULL }), 200);
	/* A date on a Wednesday is a date, not a weak entity-tag (regression). */
	rewrite("hello.txt", "hello world\n", 1445385600);
	ck_assert_int_eq(request(SW_METHOD_GET, "/hello.txt", (const char *const[]){
		"Range: bytes=0-1", "If-Range: Wed, 21 Oct 2015 00:00:00 GMT", NULL }), 206);
	ck_assert_int_eq(request(SW_METHOD_GET, "/hello.txt", (const char *const[]){
		"Range: bytes=0-1", "If-Range: Wed, 21 Oct 2015 00:00:01 GMT", NULL }), 200);
	ck_assert_int_eq(get("/hello.txt"), 200);
	snprintf(etag, sizeof(etag), "%s", header("ETag"));
	snprintf(ir, sizeof(ir), "If-Range: W/%s", etag);
	ck_assert_int_eq(request(SW_METHOD_GET, "/hello.txt",
				 (const char *const[]){ "Range: bytes=0-1", ir, NULL }), 200);
	ck_assert_str_eq(body(), "hello world\n");
	stop();
}
END_TEST

START_TEST(precompressed)
{
	char id_etag[128];

	start(_i);
	ck_assert_int_eq(get("/app.js"), 200);
	ck_assert_str_eq(body(), "console.log('identity');\n");
	ck_assert_ptr_null(header("Content-Encoding"));
	ck_assert_str_eq(header("Vary"), "Accept-Encoding");
	snprintf(id_etag, sizeof(id_etag), "%s", header("ETag"));
	ck_assert_int_eq(request(SW_METHOD_GET, "/app.js",
				 (const char *const[]){ "Accept-Encoding: gzip, br", NULL }), 200);
	ck_assert_str_eq(body(), "BROTLI");
	ck_assert_str_eq(header("Content-Encoding"), "br");
	ck_assert_str_eq(header("Content-Type"), "text/javascript; charset=utf-8");
	ck_assert_str_eq(header("Vary"), "Accept-Encoding");
	ck_assert_str_ne(header("ETag"), id_etag);
	ck_assert_ptr_nonnull(strstr(header("ETag"), "-br\""));
	ck_assert_int_eq(request(SW_METHOD_GET, "/app.js",
				 (const char *const[]){ "Accept-Encoding: gzip, br;q=0", NULL }), 200);
	ck_assert_str_eq(body(), "GZIPPED!");
	ck_assert_str_eq(header("Content-Encoding"), "gzip");
	ck_assert_int_eq(request(SW_METHOD_GET, "/app.js",
		(const char *const[]){ "Accept-Encoding: br;q=0.5, gzip;q=0.9", NULL }), 200);
	ck_assert_str_eq(header("Content-Encoding"), "gzip");
	ck_assert_int_eq(request(SW_METHOD_GET, "/app.js",
		(const char *const[]){ "Accept-Encoding: *;q=0", NULL }), 200);
	ck_assert_ptr_null(header("Content-Encoding"));
	ck_assert_int_eq(request(SW_METHOD_GET, "/app.js",
		(const char *const[]){ "Accept-Encoding: *", NULL }), 200);
	ck_assert_str_eq(header("Content-Encoding"), "br");
	/* Only a .gz sibling: br-only clients get identity. */
	ck_assert_int_eq(request(SW_METHOD_GET, "/style.css",
		(const char *const[]){ "Accept-Encoding: br", NULL }), 200);
	ck_assert_str_eq(body(), "body{}\n");
	ck_assert_int_eq(request(SW_METHOD_GET, "/style.css",
		(const char *const[]){ "Accept-Encoding: br, gzip", NULL }), 200);
	ck_assert_str_eq(body(), "CSSGZ");
	/* The range is over the encoded bytes. */
	ck_assert_int_eq(request(SW_METHOD_GET, "/app.js",
		(const char *const[]){ "Accept-Encoding: br", "Range: bytes=1-2", NULL }), 206);
	ck_assert_str_eq(body(), "RO");
	ck_assert_str_eq(header("Content-Range"), "bytes 1-2/6");
	ck_assert_str_eq(header("Content-Encoding"), "br");
	/* Non-compressible types are never negotiated and carry no Vary. */
	put_file("img.png", "PNG");
	put_file("img.png.gz", "nope");
	ck_assert_int_eq(request(SW_METHOD_GET, "/img.png",
		(const char *const[]){ "Accept-Encoding: gzip", NULL }), 200);
	ck_assert_str_eq(body(), "PNG");
	ck_assert_ptr_null(header("Vary"));
	ck_assert_str_eq(header("Content-Type"), "image/png");
	stop();
}
END_TEST

START_TEST(cache_revalidates)
{
	/* The content cache alone, and over open files trusted for a minute. */
	start(_i ? MODE_CONTENT | MODE_OPEN | MODE_LONG : MODE_CONTENT);
	ck_assert_int_eq(get("/hello.txt"), 200);
	ck_assert_int_eq(X.resp.body_kind, SW_BODY_MEMORY);
	ck_assert_int_eq(get("/hello.txt"), 200);
	ck_assert_str_eq(body(), "hello world\n");
	rewrite("hello.txt", "changed and longer\n", 1000000000);
	ck_assert_int_eq(get("/hello.txt"), 200);
	ck_assert_str_eq(body(), "changed and longer\n");
	/* Same size, different mtime. */
	rewrite("hello.txt", "CHANGED AND LONGER\n", 1000000001);
	ck_assert_int_eq(get("/hello.txt"), 200);
	ck_assert_str_eq(body(), "CHANGED AND LONGER\n");
	/* Deleted: gone from the cache too. */
	ck_assert_int_eq(get("/app.js"), 200);
	{
		char path[256];

		snprintf(path, sizeof(path), "%s/app.js", root);
		unlink(path);
	}
	ck_assert_int_eq(get("/app.js"), 404);
	/* Large files are sent from the fd. */
	{
		char *big = malloc(70000);

		memset(big, 'x', 69999);
		big[69999] = '\0';
		put_file("big.txt", big);
		free(big);
	}
	ck_assert_int_eq(get("/big.txt"), 200);
	ck_assert_int_eq(X.resp.body_kind, SW_BODY_FILE);
	ck_assert_uint_eq(X.resp.content_length, 69999);
	stop();
}
END_TEST

/* An entry evicted while its response is still in flight survives until released. */
START_TEST(cache_eviction_in_flight)
{
	struct sw_response held;
	char name[64];

	start(MODE_CONTENT);
	ck_assert_int_eq(get("/hello.txt"), 200);
	held = X.resp;
	X.resp.release = NULL;   /* we finish this one ourselves, later */
	for (int i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "f%03d.txt", i);
		put_file(name, name);
		snprintf(name, sizeof(name), "/f%03d.txt", i);
		ck_assert_int_eq(get(name), 200);
		ck_assert_str_eq(body(), name + 1);
	}
	ck_assert_int_eq(memcmp(held.body.p, "hello world\n", 12), 0);
	ck_assert_ptr_nonnull(held.release);
	held.release(held.owner);
	/* Evicted, then reloaded on demand. */
	ck_assert_int_eq(get("/hello.txt"), 200);
	ck_assert_str_eq(body(), "hello world\n");
	/* Flushing the whole cache with a response in flight is safe too. */
	held = X.resp;
	X.resp.release = NULL;
	cfg.server.cache_static_files = false;
	sw_static_reconfigure(&worker);
	ck_assert_int_eq(memcmp(held.body.p, "hello world\n", 12), 0);
	held.release(held.owner);
	ck_assert_int_eq(get("/hello.txt"), 200);
	ck_assert_int_eq(X.resp.body_kind, SW_BODY_FILE);
	stop();
}
END_TEST

START_TEST(reconfigure_root)
{
	char other[] = "/tmp/swerver-static2.XXXXXX";
	char path[128];
	FILE *f;

	start(_i);
	ck_assert_int_eq(get("/hello.txt"), 200);
	ck_assert_ptr_nonnull(mkdtemp(other));
	snprintf(path, sizeof(path), "%s/hello.txt", other);
	f = fopen(path, "w");
	fputs("other root", f);
	fclose(f);
	cfg.server.static_root = other;
	sw_static_reconfigure(&worker);
	ck_assert_int_eq(get("/hello.txt"), 200);
	ck_assert_str_eq(body(), "other root");
	/* A root that cannot be opened keeps the previous one. */
	cfg.server.static_root = "/nonexistent/swerver";
	sw_static_reconfigure(&worker);
	ck_assert_int_eq(get("/hello.txt"), 200);
	ck_assert_str_eq(body(), "other root");
	cfg.server.static_root = NULL;
	sw_static_reconfigure(&worker);
	finish();
	memset(&X, 0, sizeof(X));
	X.ctx = &worker;
	X.req.path = S("/hello.txt");
	ck_assert_int_eq(sw_static_handle(&X), SW_DECLINED);
	unlink(path);
	rmdir(other);
	cfg.server.static_root = root;
	stop();
}
END_TEST

/* ---- the open-file cache through the handler ---- */

static struct sw_exchange Y;   /* a response kept in flight while X moves on */

static bool fd_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1;
}

/* Replaces name by rename(2), as deploy tools do. */
static void replace_file(const char *name, const char *text)
{
	char from[256], to[256];

	put_file("replace.tmp", text);
	snprintf(from, sizeof(from), "%s/replace.tmp", root);
	snprintf(to, sizeof(to), "%s/%s", root, name);
	ck_assert_int_eq(rename(from, to), 0);
}

static void remove_file(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", root, name);
	ck_assert_int_eq(unlink(path), 0);
}

/* Past open_file_cache_valid_ms (50 ms here); nothing is asserted about before it. */
static void wait_validity(void)
{
	usleep(150 * 1000);
}

static void start_valid_ms(int mode, uint32_t valid_ms)
{
	start(mode);
	cfg.static_files.open_file_cache_valid_ms = valid_ms;
	sw_static_reconfigure(&worker);
}

/* Responses for one path share one fd, which the codecs do not close. */
START_TEST(open_cache_shares_fd)
{
	char etag[128];
	int fd;

	start(MODE_OPEN | MODE_LONG);
	ck_assert_int_eq(request_x(&Y, SW_METHOD_GET, "/hello.txt", NULL), 200);
	ck_assert_int_eq(Y.resp.body_kind, SW_BODY_FILE);
	fd = Y.resp.file_fd;
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(get("/hello.txt"), 200);
	ck_assert_int_eq(X.resp.file_fd, fd);
	ck_assert_str_eq(body(), "hello world\n");
	snprintf(etag, sizeof(etag), "%s", header("ETag"));
	ck_assert_int_eq(request(SW_METHOD_GET, "/hello.txt",
				 (const char *const[]){ "Range: bytes=6-10", NULL }), 206);
	ck_assert_int_eq(X.resp.file_fd, fd);
	ck_assert_str_eq(body(), "world");
	ck_assert_str_eq(header("ETag"), etag);
	ck_assert_int_eq(request(SW_METHOD_HEAD, "/hello.txt", NULL), 200);
	ck_assert_int_eq(X.resp.file_fd, fd);
	finish_x(&Y);
	finish();
	ck_assert(fd_open(fd));   /* the cache's: finishing did not close it */
	ck_assert_int_eq(get("/hello.txt"), 200);
	ck_assert_int_eq(X.resp.file_fd, fd);
	/* Another path has its own. */
	ck_assert_int_eq(request_x(&Y, SW_METHOD_GET, "/style.css", NULL), 200);
	ck_assert_int_ne(Y.resp.file_fd, fd);
	finish_x(&Y);
	stop();
	ck_assert(!fd_open(fd));
}
END_TEST

/* A reload empties the cache; responses in flight keep their file and headers. */
START_TEST(open_cache_flush_in_flight)
{
	char etag[128], inm[160], buf[16];
	int fd;

	start(MODE_OPEN | MODE_LONG);
	ck_assert_int_eq(request_x(&Y, SW_METHOD_GET, "/hello.txt", NULL), 200);
	fd = Y.resp.file_fd;
	snprintf(etag, sizeof(etag), "%s", header_x(&Y, "ETag"));
	snprintf(inm, sizeof(inm), "If-None-Match: %s", etag);
	ck_assert_int_eq(request(SW_METHOD_GET, "/hello.txt", (const char *const[]){ inm, NULL }),
			 304);
	sw_static_reconfigure(&worker);
	/* Both still point into the dropped entry: its fd and its ETag. */
	ck_assert(fd_open(fd));
	ck_assert_int_eq(pread(Y.resp.file_fd, buf, 5, 0), 5);
	ck_assert_int_eq(memcmp(buf, "hello", 5), 0);
	ck_assert_str_eq(header_x(&Y, "ETag"), etag);
	ck_assert_str_eq(header("ETag"), etag);
	finish();
	ck_assert(fd_open(fd));
	finish_x(&Y);
	ck_assert(!fd_open(fd));   /* the last response closed it */
	/* Reopened on demand. */
	ck_assert_int_eq(get("/hello.txt"), 200);
	ck_assert_str_eq(body(), "hello world\n");
	stop();
}
END_TEST

/*
 * Replaced by rename, rewritten in place, deleted: served as they are on
 * disk once the validity period has passed.
 */
START_TEST(open_cache_sees_changes)
{
	start_valid_ms(MODE_OPEN, 50);
	ck_assert_int_eq(get("/hello.txt"), 200);
	ck_assert_str_eq(body(), "hello world\n");
	ck_assert_int_eq(get("/style.css"), 200);
	ck_assert_str_eq(body(), "body{}\n");
	ck_assert_int_eq(get("/docs/"), 200);
	replace_file("hello.txt", "replaced by rename\n");
	put_file("style.css", "body{color:red}\n");
	remove_file("docs/index.html");
	wait_validity();
	ck_assert_int_eq(get("/hello.txt"), 200);
	ck_assert_str_eq(body(), "replaced by rename\n");
	ck_assert_int_eq(get("/style.css"), 200);
	ck_assert_str_eq(body(), "body{color:red}\n");
	ck_assert_int_eq(get("/docs/"), 404);
	/* A valid period of 0 checks every request. */
	cfg.static_files.open_file_cache_valid_ms = 0;
	sw_static_reconfigure(&worker);
	ck_assert_int_eq(get("/hello.txt"), 200);
	replace_file("hello.txt", "again\n");
	ck_assert_int_eq(get("/hello.txt"), 200);
	ck_assert_str_eq(body(), "again\n");
	stop();
}
END_TEST

/* A warm cache refuses what a miss refuses: names never cached, and entries past their period. */
START_TEST(open_cache_escapes_warm)
{
	char path[256];

	start_valid_ms(MODE_OPEN, 50);
	ck_assert_int_eq(get("/hello.txt"), 200);
	ck_assert_int_eq(get("/docs/"), 200);
	snprintf(path, sizeof(path), "%s/up", root);
	ck_assert_int_eq(symlink("..", path), 0);
	ck_assert_int_eq(get("/up/etc/passwd"), 404);
	ck_assert_int_eq(get("/../hello.txt"), 404);
	ck_assert_int_eq(get("/docs/../hello.txt"), 404);
	/* The cached name now leads out of the root. */
	remove_file("hello.txt");
	snprintf(path, sizeof(path), "%s/hello.txt", root);
	ck_assert_int_eq(symlink("/etc/passwd", path), 0);
	remove_file("docs/index.html");
	snprintf(path, sizeof(path), "%s/docs/index.html", root);
	ck_assert_int_eq(symlink("../up/etc/passwd", path), 0);
	wait_validity();
	ck_assert_int_eq(get("/hello.txt"), 404);
	ck_assert_int_eq(get("/docs/"), 404);
	/* A FIFO in place of a cached file is refused without blocking. */
	ck_assert_int_eq(get("/style.css"), 200);
	remove_file("style.css");
	snprintf(path, sizeof(path), "%s/style.css", root);
	ck_assert_int_eq(mkfifo(path, 0644), 0);
	wait_validity();
	ck_assert_int_eq(get("/style.css"), 403);
	stop();
}
END_TEST

/* A missing sibling is remembered for the period; a missing file asked for by name is not. */
START_TEST(open_cache_negative_siblings)
{
	const char *const br[] = { "Accept-Encoding: br", NULL };

	start(MODE_OPEN | MODE_LONG);
	ck_assert_int_eq(request(SW_METHOD_GET, "/style.css", br), 200);
	ck_assert_str_eq(body(), "body{}\n");
	put_file("style.css.br", "CSSBR");
	ck_assert_int_eq(request(SW_METHOD_GET, "/style.css", br), 200);
	ck_assert_ptr_null(header("Content-Encoding"));
	sw_static_reconfigure(&worker);   /* a reload forgets it */
	ck_assert_int_eq(request(SW_METHOD_GET, "/style.css", br), 200);
	ck_assert_str_eq(body(), "CSSBR");
	ck_assert_str_eq(header("Content-Encoding"), "br");
	ck_assert_int_eq(get("/new.txt"), 404);
	put_file("new.txt", "new");
	ck_assert_int_eq(get("/new.txt"), 200);
	ck_assert_str_eq(body(), "new");
	stop();
}
END_TEST

static Suite *static_suite(void)
{
	Suite *s = suite_create("static");
	TCase *helpers = tcase_create("helpers");
	TCase *handler = tcase_create("handler");

	tcase_add_test(helpers, decode_path);
	tcase_add_test(helpers, parse_range);
	tcase_add_test(helpers, accept_encoding);
	tcase_add_test(helpers, etag_match);
	tcase_add_test(helpers, http_date);
	/* Loop index = MODE_CONTENT | MODE_OPEN: every combination of the caches. */
	tcase_add_loop_test(handler, basic, 0, 4);
	tcase_add_test(handler, declines_without_root);
	tcase_add_loop_test(handler, escapes, 0, 4);
	tcase_add_loop_test(handler, conditional, 0, 4);
	tcase_add_loop_test(handler, ranges, 0, 4);
	tcase_add_loop_test(handler, precompressed, 0, 4);
	tcase_add_loop_test(handler, cache_revalidates, 0, 2);
	tcase_add_test(handler, cache_eviction_in_flight);
	tcase_add_loop_test(handler, reconfigure_root, 0, 4);
	tcase_add_test(handler, open_cache_shares_fd);
	tcase_add_test(handler, open_cache_flush_in_flight);
	tcase_add_test(handler, open_cache_sees_changes);
	tcase_add_test(handler, open_cache_escapes_warm);
	tcase_add_test(handler, open_cache_negative_siblings);
	suite_add_tcase(s, helpers);
	suite_add_tcase(s, handler);
	return s;
}

SW_TEST_SUITE(static_suite);
