/* SPDX-License-Identifier: MIT */
/* test_proxy_stream.c - the reverse proxy end to end: streaming 100 MiB both ways with bounded memory, slow upstreams and slow clients.  Upstreams are tests/backend/origin (origins.h). */
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
#include "core/module.h"
#include "proxy_fixture.h"

/* ---- streaming 100 MiB both ways with bounded memory ---- */

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
	struct px_watched w;
	const char *v;

	it_path(hf, "upload.heads");
	unlink(hf);
	snprintf(cmd, sizeof(cmd), T "curl -s --max-time 10 -D %s %s http://127.0.0.1:%d/sink",
		 hf, args, port);
	px_run_watched(&w, pid, false, cmd);
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
	struct it_origin *a;
	struct it_proc *p;
	char file[IT_PATH_MAX], fnv[20], args[IT_PATH_MAX + 128];
	struct hres r;
	long base;
	int port;

	if (!px_have_proxy(_i))
		return;
	a = it_origin_start("A");
	p = px_start(_i, 1, NULL, &port,
		"\"upstreams\": [{\"name\": \"u\", \"servers\": [" SRV "]}],\n"
		"  \"limits\": {\"max_body_bytes\": 209715200},\n"
		"  \"routes\": [{\"path_prefix\": \"/\", \"upstream\": \"u\", \"connect_timeout_ms\": 500,\n"
		"               \"read_timeout_ms\": 10000}]", a->port);
	big_file(file, fnv);
	ck_assert_int_eq(hc_get1(port, "/name", NULL, NULL, &r), 0);
	hres_free(&r);
	base = it_rss_kb(p->pid);
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
	struct px_watched w;

	snprintf(cmd, sizeof(cmd), T "curl -s --max-time 20 %s 'http://127.0.0.1:%d%s'", args, port,
		 target);
	px_run_watched(&w, pid, true, cmd);
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

	if (!px_have_proxy(_i))
		return;
	sink = it_slow_sink_start();
	px_start(_i, 1, NULL, &port,
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
		o = it_run(&st, "%s", cmd);
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
	struct it_origin *a;
	char file[IT_PATH_MAX], *o;
	int port, st;
	int64_t t0;

	if (!px_have_proxy(_i))
		return;
	a = it_origin_start("A");
	px_start(_i, 1, NULL, &port,
		"\"upstreams\": [{\"name\": \"u\", \"servers\": [{\"address\": \"127.0.0.1\", \"port\": %d,\n"
		"                \"max_fails\": 0}]}],\n"
		"  \"routes\": [{\"path_prefix\": \"/\", \"upstream\": \"u\", \"connect_timeout_ms\": 500,\n"
		"               \"read_timeout_ms\": 700}]", a->port);
	it_path(file, "slow.bin");
	o = it_run(&st, "head -c 160000 /dev/zero > %s", file);
	free(o);
	t0 = it_now_ms();
	/* 160 kB at 80 kB/s: about 2 s of steady upload */
	o = it_run(&st, T "curl -s --max-time 10 --http1.1 --limit-rate 80k --data-binary @%s "
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
	struct it_origin *a;
	struct it_proc *p;
	struct hres r;
	long base;
	int port;

	if (!px_have_proxy(_i))
		return;
	a = it_origin_start("A");
	p = px_start(_i, 1, NULL, &port,
		"\"upstreams\": [{\"name\": \"u\", \"servers\": [" SRV "]}],\n"
		"  \"routes\": [{\"path_prefix\": \"/\", \"upstream\": \"u\", \"connect_timeout_ms\": 500,\n"
		"               \"read_timeout_ms\": 10000}]", a->port);
	ck_assert_int_eq(hc_get1(port, "/name", NULL, NULL, &r), 0);
	hres_free(&r);
	base = it_rss_kb(p->pid);
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

static Suite *proxy_stream_suite(void)
{
	Suite *s = suite_create("proxy_stream");
	TCase *tc = it_tcase("stream");

	tcase_add_checked_fixture(tc, NULL, it_origins_kill);
	tcase_add_loop_test(tc, stream_upload, 0, 2);
	tcase_add_loop_test(tc, upload_slow_upstream, 0, 2);
	tcase_add_loop_test(tc, slow_client_upload, 0, 2);
	tcase_add_loop_test(tc, stream_download, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

IT_SUITE(proxy_stream_suite);
