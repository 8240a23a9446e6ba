/* SPDX-License-Identifier: MIT */
/* test_http2_streams.c - HTTP/2 end to end: many streams on one connection: concurrency, max_concurrent_streams and when a change to it applies. */
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

/* ---- many streams on one connection ---- */

/* h2load's "requests: ..." line numbers. */
static void h2load(int port, const char *args, long *succeeded, long *ok2xx, char **out)
{
	const char *l;

	*out = it_run(NULL, T "h2load %s http://127.0.0.1:%d/big.bin 2>&1", args, port);
	*succeeded = *ok2xx = -1;
	if ((l = strstr(*out, "requests: ")))
		sscanf(strstr(l, "done, ") ? strstr(l, "done, ") + 6 : l, "%ld succeeded", succeeded);
	if ((l = strstr(*out, "status codes: ")))
		sscanf(l + 14, "%ld 2xx", ok2xx);
}

START_TEST(concurrent_streams)
{
	long ok, ok2xx;
	char *o;
	int port;

	if (!have_h2(_i))
		return;
	h2_populate();
	h2_start(_i, 1, NULL, NULL, &port);
	h2load(port, "-n 100 -c 1 -m 100", &ok, &ok2xx, &o);
	IT_ASSERT(ok == 100 && ok2xx == 100, "h2load 100 streams on one connection: %ld succeeded, "
		  "%ld 2xx\n%s", ok, ok2xx, o);
	free(o);
	o = it_run(NULL, T "nghttp -ns -m 100 http://127.0.0.1:%d/hello.txt 2>&1 | grep -c ' 200 '", port);
	IT_ASSERT(atoi(o) == 100, "nghttp -m 100: %s responses with 200", o);
	free(o);
}
END_TEST

START_TEST(max_streams_limit)
{
	struct fbuf b = { 0 };
	struct tally t;
	struct h2 *h;
	long ok, ok2xx;
	int port, n = 20, served = 0, refused = 0;
	char *o;

	if (!have_h2(_i))
		return;
	h2_populate();
	h2_start(_i, 1, NULL, "\"http2\": {\"max_streams\": 10},", &port);
	/* A client that keeps to the advertised limit gets everything. */
	h2load(port, "-n 100 -c 1 -m 10", &ok, &ok2xx, &o);
	IT_ASSERT(ok == 100 && ok2xx == 100, "h2load -m 10 against max_streams 10: %ld succeeded, "
		  "%ld 2xx\n%s", ok, ok2xx, o);
	free(o);

	/*
	 * One that opens 20 before it has seen SETTINGS: 10 are served, the
	 * rest refused with REFUSED_STREAM (safe to retry), and the connection
	 * goes on.
	 */
	h = h2_connect(port);
	fb_preface(&b, false);
	for (int k = 0; k < n; k++)
		fb_get(&b, (uint32_t)(2 * k + 1), "/hello.txt");
	h2_send_fb(h, &b);
	tally_init(&t);
	IT_ASSERT(h2_run(h, &t, all_done, &n, IT_IO_MS), "20 streams not all answered or reset "
		  "(eof %d, err %d, %u frames)", t.eof, t.err, t.frames);
	for (int k = 0; k < n; k++) {
		served += t.ended[k] && t.status[k] == 0x88 && t.data[k] == 12;
		refused += t.rst[k] == E_REFUSED_STREAM;
	}
	IT_ASSERT(served == 10 && refused == 10, "max_streams 10, 20 opened at once: %d served, %d "
		  "refused with REFUSED_STREAM", served, refused);
	IT_ASSERT(t.goaways == 0, "GOAWAY (error %u) for exceeding the limit before SETTINGS ACK",
		  t.goaway_error);
	/* Retried, now that the limit is known, they are served on the same connection. */
	n = 30;
	for (int k = 20; k < n; k++)
		fb_get(&b, (uint32_t)(2 * k + 1), "/hello.txt");
	h2_send_fb(h, &b);
	IT_ASSERT(h2_run(h, &t, all_done, &n, IT_IO_MS), "10 more streams not answered");
	for (int k = 20; k < n; k++)
		IT_ASSERT(t.ended[k] && t.status[k] == 0x88 && t.data[k] == 12,
			  "stream %d after the refusals: status byte %#x, %llu bytes, rst %d", 2 * k + 1,
			  t.status[k], (unsigned long long)t.data[k], t.rst[k]);
	free(b.p);
	h2_close(h);
}
END_TEST

/*
 * swerver(8): streams beyond max_streams are refused with REFUSED_STREAM,
 * also once the client has acknowledged SETTINGS (nghttp2 alone ends the
 * connection with PROTOCOL_ERROR then).
 */
START_TEST(max_streams_after_ack)
{
	struct fbuf b = { 0 };
	struct tally t;
	struct h2 *h;
	uint32_t eleventh = 21, retry = 23;
	int port, n = 10;

	if (!have_h2(_i))
		return;
	h2_populate();
	h2_start(_i, 1, NULL, "\"http2\": {\"max_streams\": 10},", &port);
	/* Ten streams held open by a zero window, then an eleventh. */
	h = h2_open(port, 0, &t);
	for (uint32_t s = 1; s <= eleventh; s += 2)
		fb_get(&b, s, "/hello.txt");
	h2_send_fb(h, &b);
	IT_ASSERT(h2_run(h, &t, reset_or_goaway, &eleventh, IT_IO_MS) &&
		  t.rst[eleventh / 2] == E_REFUSED_STREAM && t.goaways == 0,
		  "stream 11 of max_streams 10 after SETTINGS ACK: RST_STREAM %d, %d GOAWAY "
		  "(error %#x)", t.rst[eleventh / 2], t.goaways, t.goaway_error);
	/* The ten get their bodies once the window opens; the refused one, retried, too. */
	fb_settings_window(&b, 65535);
	h2_send_fb(h, &b);
	IT_ASSERT(h2_run(h, &t, all_done, &n, IT_IO_MS), "the ten streams did not finish");
	for (int k = 0; k < n; k++)
		IT_ASSERT(t.ended[k] && t.status[k] == STATUS_200 && t.data[k] == 12,
			  "stream %d: status byte %#x, %llu bytes, rst %d", 2 * k + 1, t.status[k],
			  (unsigned long long)t.data[k], t.rst[k]);
	fb_get(&b, retry, "/hello.txt");
	h2_send_fb(h, &b);
	IT_ASSERT(h2_run(h, &t, stream_done, &retry, IT_IO_MS) && t.data[retry / 2] == 12,
		  "the refused request retried: %llu bytes, rst %d",
		  (unsigned long long)t.data[retry / 2], t.rst[retry / 2]);
	free(b.p);
	h2_close(h);
}
END_TEST

/*
 * A reload that lowers max_streams applies to new connections (swerver.json(5));
 * one already open keeps the limit it was told in SETTINGS.
 */
START_TEST(max_streams_reload)
{
	char cfg[IT_PATH_MAX];
	struct fbuf b = { 0 };
	struct it_proc *p;
	struct tally t, t2;
	struct h2 *h, *h2;
	uint32_t s, third = 5;
	int port, five = 5, n = 10;

	if (!have_h2(_i))
		return;
	h2_populate();
	p = h2_start(_i, 1, NULL, "\"http2\": {\"max_streams\": 10},", &port);
	h = h2_open(port, 0, &t);   /* every stream stays open: no window */
	for (s = 1; s <= 9; s += 2)
		fb_get(&b, s, "/hello.txt");
	h2_send_fb(h, &b);
	IT_ASSERT(h2_run(h, &t, all_headed, &five, IT_IO_MS), "five streams: not all answered");
	h2_write_config(cfg, _i, 1, NULL, "\"http2\": {\"max_streams\": 2},");
	IT_ASSERT(it_signal(p, SIGHUP) == 0, "kill -HUP");
	IT_ASSERT(h2_wait_metric(port, "swerver_reloads_total", 1, IT_WAIT_MS) == 1, "no reload");
	for (; s <= 19; s += 2)
		fb_get(&b, s, "/hello.txt");
	h2_send_fb(h, &b);
	IT_ASSERT(h2_run(h, &t, all_headed, &n, IT_IO_MS), "ten streams: not all answered");
	for (s = 1; s <= 19; s += 2)
		IT_ASSERT(t.status[s / 2] == STATUS_200 && t.rst[s / 2] < 0,
			  "stream %u, one of 10 on a connection told max_streams 10, after a reload to 2: "
			  "status byte %#x, RST_STREAM %d", s, t.status[s / 2], t.rst[s / 2]);
	/* A new connection gets the new limit. */
	h2 = h2_open(port, 0, &t2);
	for (s = 1; s <= third; s += 2)
		fb_get(&b, s, "/hello.txt");
	h2_send_fb(h2, &b);
	IT_ASSERT(h2_run(h2, &t2, reset_or_goaway, &third, IT_IO_MS) &&
		  t2.rst[third / 2] == E_REFUSED_STREAM, "third stream on a new connection after the "
		  "reload to max_streams 2: RST_STREAM %d", t2.rst[third / 2]);
	free(b.p);
	h2_close(h);
	h2_close(h2);
}
END_TEST

static Suite *http2_streams_suite(void)
{
	Suite *s = suite_create("http2_streams");
	TCase *tc = it_tcase("streams");

	tcase_add_loop_test(tc, concurrent_streams, 0, 2);
	tcase_add_loop_test(tc, max_streams_limit, 0, 2);
	tcase_add_loop_test(tc, max_streams_after_ack, 0, 2);
	tcase_add_loop_test(tc, max_streams_reload, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

IT_SUITE(http2_streams_suite);
