/* SPDX-License-Identifier: MIT */
/* test_http2_limits.c - HTTP/2 end to end: header list and header bytes limits, request bodies too large. */
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

/* ---- header limits ---- */

START_TEST(header_list_limits)
{
	char args[8192], big[4001];
	struct it_cres r;
	int port, len = 0;

	if (!have_h2(_i))
		return;
	h2_populate();
	h2_start(_i, 1, NULL, "\"http2\": {\"max_header_list_size\": 1024},"
	      " \"limits\": {\"max_header_count\": 20},", &port);
	memset(big, 'a', 4000);
	big[4000] = '\0';
	snprintf(args, sizeof(args), "-H 'x-big: %s'", big);
	h2curl(&r, port, args, "/hello.txt");
	IT_ASSERT(r.code == 431 && strcmp(r.version, "2") == 0,
		  "a 4000-byte field with max_header_list_size 1024: %d (curl exit %d)", r.code, r.rc);
	it_cres_free(&r);
	/* 30 small fields: under the list size, over the count. */
	for (int k = 0; k < 30; k++)
		len += snprintf(args + len, sizeof(args) - (size_t)len, "-H 'x-h%d: v' ", k);
	h2curl(&r, port, args, "/hello.txt");
	IT_ASSERT(r.code == 431, "30 fields with max_header_count 20: %d", r.code);
	it_cres_free(&r);
	/* Under both: served, on a server that is none the worse. */
	h2curl(&r, port, "-H 'x-small: v'", "/hello.txt");
	IT_ASSERT(r.code == 200 && strcmp(r.body, "hello world\n") == 0, "a small request: %d", r.code);
	it_cres_free(&r);
	/* The connection lives on after a 431: the refused request, then a good one, on one connection. */
	{
		char *o = it_run(NULL, T "nghttp -n -s -H 'x-big: %s' http://127.0.0.1:%d/hello.txt "
			      "http://127.0.0.1:%d/index.html 2>&1 | grep -cE ' (431|200) '", big, port,
			      port);
		IT_ASSERT(atoi(o) == 2, "431 and then another request on one connection: \"%s\"", o);
		free(o);
	}
}
END_TEST

/* limits.max_header_bytes covers the decoded HTTP/2 header list too (swerver.json(5)). */
START_TEST(header_bytes_limit)
{
	char args[8192], big[4001], url[128];
	struct it_cres r;
	int port;

	if (!have_h2(_i))
		return;
	h2_populate();
	h2_start(_i, 1, NULL, "\"http2\": {\"max_header_list_size\": 65536},"
	      " \"limits\": {\"max_header_bytes\": 2048},", &port);
	memset(big, 'a', 4000);
	big[4000] = '\0';
	IT_ASSERT(it_http_get("127.0.0.1", port, "/hello.txt", IT_IO_MS) == 200, "small HTTP/1.1");
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/hello.txt", port);
	snprintf(args, sizeof(args), "--http1.1 -H 'x-big: %s'", big);
	it_curl(&r, args, url);
	IT_ASSERT(r.code == 431, "HTTP/1.1 head of 4 KB with max_header_bytes 2048: %d", r.code);
	it_cres_free(&r);
	/* HTTP/2 under the advertised list size, but over the configured head size. */
	snprintf(args, sizeof(args), "-H 'x-big: %s'", big);
	h2curl(&r, port, args, "/hello.txt");
	IT_ASSERT(r.code == 431, "HTTP/2 header list of 4 KB with limits.max_header_bytes 2048: %d, "
		  "want 431 as for HTTP/1.1", r.code);
	it_cres_free(&r);
}
END_TEST

/* ---- request bodies ---- */

START_TEST(body_too_large)
{
	char body[IT_PATH_MAX], args[IT_PATH_MAX + 64];
	struct it_cres r;
	char *o;
	int port;

	if (!have_h2(_i))
		return;
	h2_populate();
	h2_start(_i, 1, NULL, "\"limits\": {\"max_body_bytes\": 1000},", &port);
	it_path(body, "post.bin");
	o = it_run(NULL, "head -c 20000 /dev/zero > %s", body);
	free(o);
	snprintf(args, sizeof(args), "-X POST --data-binary @%s", body);
	h2curl(&r, port, args, "/hello.txt");
	IT_ASSERT(r.code == 413 && strcmp(r.version, "2") == 0,
		  "POST of 20000 bytes with max_body_bytes 1000: %d %s", r.code, r.version);
	it_cres_free(&r);
	/* A body within the limit reaches the handler, which refuses the method. */
	h2curl(&r, port, "-X POST --data-binary 'small'", "/hello.txt");
	IT_ASSERT(r.code == 405, "a small POST: %d", r.code);
	it_cres_free(&r);
	h2curl(&r, port, NULL, "/hello.txt");
	IT_ASSERT(r.code == 200, "GET after the 413: %d", r.code);
	it_cres_free(&r);
}
END_TEST

static Suite *http2_limits_suite(void)
{
	Suite *s = suite_create("http2_limits");
	TCase *tc = it_tcase("limits");

	tcase_add_loop_test(tc, header_list_limits, 0, 2);
	tcase_add_loop_test(tc, header_bytes_limit, 0, 2);
	tcase_add_loop_test(tc, body_too_large, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

IT_SUITE(http2_limits_suite);
