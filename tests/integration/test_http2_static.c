/* SPDX-License-Identifier: MIT */
/* test_http2_static.c - HTTP/2 end to end: static file rules over HTTP/2. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "h2_fixture.h"

/* ---- static file rules over HTTP/2 ---- */

START_TEST(static_rules)
{
	char etag[128], args[IT_PATH_MAX];
	struct it_cres r;
	int port;

	if (!have_h2(_i))
		return;
	h2_populate();
	h2_start(_i, 1, NULL, NULL, &port);

	h2curl(&r, port, NULL, "/hello.txt");
	IT_ASSERT(r.code == 200 && it_cres_header(&r, "etag") && it_cres_header(&r, "last-modified"),
		  "GET: %d, no validators\n%s", r.code, r.head);
	snprintf(etag, sizeof(etag), "%s", it_cres_header(&r, "etag"));
	expect_chdr(&r, "content-length", "12", "GET hello.txt");
	expect_chdr(&r, "accept-ranges", "bytes", "GET hello.txt");
	IT_ASSERT(!it_cres_header(&r, "connection") && !it_cres_header(&r, "keep-alive") && !it_cres_header(&r, "transfer-encoding"),
		  "connection-specific fields in an HTTP/2 response\n%s", r.head);
	it_cres_free(&r);

	snprintf(args, sizeof(args), "-H 'If-None-Match: \"nope\", %s'", etag);
	h2curl(&r, port, args, "/hello.txt");
	IT_ASSERT(r.code == 304 && r.size == 0, "If-None-Match: %d, %ld bytes\n%s", r.code, r.size,
		  r.head);
	expect_chdr(&r, "etag", etag, "304");
	IT_ASSERT(!it_cres_header(&r, "content-length"), "304 with a content-length\n%s", r.head);
	it_cres_free(&r);

	h2curl(&r, port, "-H 'If-None-Match: \"other\"'", "/hello.txt");
	IT_ASSERT(r.code == 200 && r.size == 12, "other ETag: %d", r.code);
	it_cres_free(&r);

	h2curl(&r, port, "-H 'Range: bytes=0-99'", "/big.bin");
	IT_ASSERT(r.code == 206 && r.size == 100, "Range 0-99: %d with %ld bytes\n%s", r.code, r.size,
		  r.head);
	expect_chdr(&r, "content-range", "bytes 0-99/1048576", "206");
	expect_chdr(&r, "content-length", "100", "206");
	{
		char path[IT_PATH_MAX + 16];
		char *file;

		snprintf(path, sizeof(path), "%s/big.bin", h2_www);
		file = it_read_file(path);
		IT_ASSERT(memcmp(r.body, file, 100) == 0, "the 100 bytes of the range differ");
		free(file);
	}
	it_cres_free(&r);
	h2curl(&r, port, "-H 'Range: bytes=6-10'", "/hello.txt");
	IT_ASSERT(r.code == 206 && strcmp(r.body, "world") == 0, "Range 6-10: %d \"%s\"", r.code,
		  r.body);
	expect_chdr(&r, "content-range", "bytes 6-10/12", "206");
	it_cres_free(&r);
	h2curl(&r, port, "-H 'Range: bytes=50-60'", "/hello.txt");
	IT_ASSERT(r.code == 416, "unsatisfiable range: %d", r.code);
	expect_chdr(&r, "content-range", "bytes */12", "416");
	it_cres_free(&r);

	h2curl(&r, port, "-H 'Accept-Encoding: gzip'", "/app.js");
	IT_ASSERT(r.code == 200 && strcmp(r.body, "GZIP-BYTES!") == 0, "gzip: %d \"%s\"", r.code,
		  r.body);
	expect_chdr(&r, "content-encoding", "gzip", "app.js.gz");
	expect_chdr(&r, "vary", "Accept-Encoding", "app.js.gz");
	expect_chdr(&r, "content-type", "text/javascript; charset=utf-8", "app.js.gz");
	it_cres_free(&r);
	h2curl(&r, port, "-H 'Accept-Encoding: identity'", "/app.js");
	IT_ASSERT(r.code == 200 && strcmp(r.body, "console.log('identity');\n") == 0 &&
		  !it_cres_header(&r, "content-encoding"), "identity: %d \"%s\"", r.code, r.body);
	it_cres_free(&r);

	h2curl(&r, port, "-I", "/big.bin");
	IT_ASSERT(r.code == 200 && r.size == 0, "HEAD: %d with %ld body bytes", r.code, r.size);
	expect_chdr(&r, "content-length", "1048576", "HEAD big.bin");
	it_cres_free(&r);

	h2curl(&r, port, NULL, "/nope.txt");
	IT_ASSERT(r.code == 404 && strcmp(r.version, "2") == 0, "missing file: %d", r.code);
	it_cres_free(&r);
	h2curl(&r, port, "-X POST -d x", "/hello.txt");
	IT_ASSERT(r.code == 405, "POST to a file: %d", r.code);
	it_cres_free(&r);
	/* A directory without its slash is redirected. */
	it_path(args, "h2_www/docs");
	ck_assert_int_eq(mkdir(args, 0755), 0);
	h2curl(&r, port, NULL, "/docs");
	IT_ASSERT(r.code == 301 && it_cres_header(&r, "location"), "directory without slash: %d\n%s", r.code,
		  r.head);
	it_cres_free(&r);
}
END_TEST

static Suite *http2_static_suite(void)
{
	Suite *s = suite_create("http2_static");
	TCase *tc = it_tcase("static");

	tcase_add_loop_test(tc, static_rules, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

IT_SUITE(http2_static_suite);
