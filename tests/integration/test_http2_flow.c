/* SPDX-License-Identifier: MIT */
/* test_http2_flow.c - HTTP/2 end to end: flow control: a client that stops reading is held by its windows, not buffered; window overflow. */
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

/* ---- a client that stops reading is held by flow control, not buffered ---- */

#define HUGE_SIZE ((off_t)64 << 20)

START_TEST(slow_reader_not_buffered)
{
	struct fbuf b = { 0 };
	struct it_proc *p;
	struct tally t;
	struct h2 *h;
	long base, peak = 0, now;
	uint64_t want;
	int port, one = 1;
	int64_t end;

	if (!have_h2(_i))
		return;
	h2_populate();
	h2_write_sparse("huge.bin", HUGE_SIZE);
	p = h2_start(_i, 1, NULL, NULL, &port);   /* workers 1: the server is this one process */

	h = h2_connect(port);
	/* Windows of 2 GiB: only the server's own back-pressure can stop it. */
	fb_preface(&b, true);
	fb_get(&b, 1, "/.healthz");
	h2_send_fb(h, &b);
	tally_init(&t);
	IT_ASSERT(h2_run(h, &t, all_done, &one, IT_IO_MS) && t.ended[0], "warm-up request");
	it_sleep_ms(100);
	base = it_rss_kb(p->pid);
	IT_ASSERT(base > 0, "VmRSS of %d unreadable", (int)p->pid);
	for (uint32_t s = 3; s <= 9; s += 2)
		fb_get(&b, s, "/huge.bin");
	h2_send_fb(h, &b);
	/* Not a byte read for 2 s while 4 x 64 MiB are asked for. */
	end = it_now_ms() + 2000;
	while (it_now_ms() < end) {
		now = it_rss_kb(p->pid);
		if (now > peak)
			peak = now;
		it_sleep_ms(50);
	}
	IT_ASSERT(it_poll_exit(p) == IT_TIMEOUT, "the server died: %s", it_code_str(it_poll_exit(p)));
	IT_ASSERT(peak - base < 16 * 1024, "RSS grew from %ld KiB to %ld KiB while the client did not "
		  "read (4 streams of a 64 MiB file)", base, peak);
	/* It was flow-controlled, not given up on: reading again gets the data. */
	want = 8u << 20;
	IT_ASSERT(h2_run(h, &t, data_at_least, &want, 5000), "only %llu bytes after reading again "
		  "(eof %d err %d, goaway %d error %u)", (unsigned long long)t.total_data, t.eof, t.err,
		  t.goaways, t.goaway_error);
	IT_ASSERT(t.status[1] == 0x88 && t.status[4] == 0x88, "big streams answered %#x, %#x",
		  t.status[1], t.status[4]);
	free(b.p);
	h2_close(h);
	IT_ASSERT(it_http_get("127.0.0.1", port, "/.healthz", IT_IO_MS) == 200, "server after");
}
END_TEST

/* The same with the default 64 KiB windows and a slow reader: the file streams on as windows open. */
START_TEST(small_windows_stream_file)
{
	struct fbuf b = { 0 };
	struct tally t;
	struct h2 *h;
	int port;
	uint64_t got = 0;
	int64_t end;

	if (!have_h2(_i))
		return;
	h2_populate();
	h2_start(_i, 1, NULL, NULL, &port);
	h = h2_connect(port);
	fb_preface(&b, false);
	fb_get(&b, 1, "/big.bin");
	h2_send_fb(h, &b);
	tally_init(&t);
	/* Without WINDOW_UPDATE the server must stop at 65535 bytes. */
	end = it_now_ms() + 500;
	while (it_now_ms() < end && !t.eof && !t.err)
		h2_run(h, &t, NULL, NULL, (int)(end - it_now_ms()));
	IT_ASSERT(t.data[0] == 65535, "with a 65535-byte window the server sent %llu bytes",
		  (unsigned long long)t.data[0]);
	/* Open the windows 64 KiB at a time until the whole MiB is in. */
	while (!t.ended[0] && got != t.data[0]) {
		uint8_t inc[4];

		got = t.data[0];
		put32(inc, 65536);
		fb_frame(&b, F_WINDOW_UPDATE, 0, 0, inc, 4);
		fb_frame(&b, F_WINDOW_UPDATE, 0, 1, inc, 4);
		h2_send_fb(h, &b);
		end = it_now_ms() + IT_IO_MS;
		while (t.data[0] == got && !t.ended[0] && !t.eof && !t.err && it_now_ms() < end)
			h2_run(h, &t, NULL, NULL, 50);
	}
	IT_ASSERT(t.ended[0] && t.data[0] == BIG_SIZE, "stream ended %d after %llu bytes", t.ended[0],
		  (unsigned long long)t.data[0]);
	free(b.p);
	h2_close(h);
}
END_TEST

/*
 * RFC 9113 6.9.2: a SETTINGS_INITIAL_WINDOW_SIZE that takes an open
 * stream's window past 2^31-1 is a connection FLOW_CONTROL_ERROR.
 */
START_TEST(settings_window_overflow)
{
	struct fbuf b = { 0 };
	struct tally t;
	struct h2 *h;
	uint64_t first = 65535;
	uint8_t inc[4];
	int port;

	if (!have_h2(_i))
		return;
	h2_populate();
	h2_start(_i, 1, NULL, NULL, &port);
	h = h2_open(port, -1, &t);
	/* The first 64 KiB of a big file use up both windows; the stream stays open. */
	fb_get(&b, 1, "/big.bin");
	h2_send_fb(h, &b);
	IT_ASSERT(h2_run(h, &t, data_at_least, &first, IT_IO_MS), "%llu of the first 65535 bytes",
		  (unsigned long long)t.total_data);
	/* The stream's window to the maximum (the connection's stays shut), then one more. */
	put32(inc, MAX_WINDOW);
	fb_frame(&b, F_WINDOW_UPDATE, 0, 1, inc, sizeof(inc));
	fb_settings_window(&b, 65536);
	h2_send_fb(h, &b);
	expect_goaway(h, &t, E_FLOW_CONTROL_ERROR, "INITIAL_WINDOW_SIZE overflowing stream 1");
	free(b.p);
	h2_close(h);
}
END_TEST

static Suite *http2_flow_suite(void)
{
	Suite *s = suite_create("http2_flow");
	TCase *tc = it_tcase("flow");

	tcase_add_loop_test(tc, slow_reader_not_buffered, 0, 2);
	tcase_add_loop_test(tc, small_windows_stream_file, 0, 2);
	tcase_add_loop_test(tc, settings_window_overflow, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

IT_SUITE(http2_flow_suite);
