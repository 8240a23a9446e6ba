/* SPDX-License-Identifier: MIT */
/* test_http2_frames.c - HTTP/2 end to end: what nghttp2 does not check (RFC 9113): stream ids, PRIORITY frames, :scheme and fragments. */
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

/* ---- what nghttp2 does not check (RFC 9113) ---- */
/* RFC 9113 5.1.1: a client's stream ids only grow; 3 after 5 is a connection error. */
START_TEST(stream_id_backwards)
{
	struct fbuf b = { 0 };
	struct tally t;
	struct h2 *h;
	int port;

	if (!have_h2(_i))
		return;
	h2_populate();
	h2_start(_i, 1, NULL, NULL, &port);
	h = h2_open(port, -1, &t);
	fb_get(&b, 5, "/hello.txt");
	fb_get(&b, 3, "/hello.txt");
	h2_send_fb(h, &b);
	expect_goaway(h, &t, E_PROTOCOL_ERROR, "HEADERS on stream 3 after stream 5");
	IT_ASSERT(t.status[3 / 2] < 0, "stream 3 was answered");
	free(b.p);
	h2_close(h);
}
END_TEST

/*
 * RFC 9113 5.3.1 and 6.3, with SETTINGS_NO_RFC7540_PRIORITIES sent: a
 * PRIORITY frame on stream 0 is a connection error, one that makes a
 * stream depend on itself a stream error (a connection error for an idle
 * stream, which RST_STREAM may not name); a valid one changes nothing.
 */
START_TEST(priority_frames_checked)
{
	struct fbuf b = { 0 };
	struct tally t;
	struct h2 *h;
	uint8_t pri[5] = { 0, 0, 0, 0, 15 };
	uint32_t one = 1;
	int port;

	if (!have_h2(_i))
		return;
	h2_populate();
	h2_start(_i, 1, NULL, NULL, &port);

	/* Stream 1 stays open: its body waits on a zero window. */
	h = h2_open(port, 0, &t);
	fb_get(&b, 1, "/hello.txt");
	h2_send_fb(h, &b);
	IT_ASSERT(h2_run(h, &t, stream_headed, &one, IT_IO_MS) && t.status[0] == STATUS_200,
		  "stream 1: no response head (status byte %#x)", t.status[0]);
	put32(pri, 0);
	fb_frame(&b, F_PRIORITY, 0, 1, pri, sizeof(pri));   /* valid: depends on the root */
	put32(pri, 1);
	fb_frame(&b, F_PRIORITY, 0, 1, pri, sizeof(pri));
	h2_send_fb(h, &b);
	IT_ASSERT(h2_run(h, &t, reset_or_goaway, &one, IT_IO_MS) && t.rst[0] == E_PROTOCOL_ERROR &&
		  t.goaways == 0, "PRIORITY making open stream 1 depend on itself: RST_STREAM %d, "
		  "%d GOAWAY (error %#x)", t.rst[0], t.goaways, t.goaway_error);
	h2_close(h);

	h = h2_open(port, -1, &t);
	put32(pri, 3);
	fb_frame(&b, F_PRIORITY, 0, 3, pri, sizeof(pri));
	h2_send_fb(h, &b);
	expect_goaway(h, &t, E_PROTOCOL_ERROR, "PRIORITY making idle stream 3 depend on itself");
	h2_close(h);

	h = h2_open(port, -1, &t);
	put32(pri, 1);
	fb_frame(&b, F_PRIORITY, 0, 0, pri, sizeof(pri));
	h2_send_fb(h, &b);
	expect_goaway(h, &t, E_PROTOCOL_ERROR, "PRIORITY on stream 0");
	h2_close(h);
	free(b.p);
}
END_TEST

/* :scheme is http or https; no request target carries a #fragment (RFC 9113 8.3.1). */
START_TEST(scheme_and_fragment)
{
	struct fbuf b = { 0 };
	struct tally t;
	struct h2 *h;
	int port, n = 4;

	if (!have_h2(_i))
		return;
	h2_populate();
	h2_start(_i, 1, NULL, NULL, &port);
	h = h2_open(port, -1, &t);
	fb_get_scheme(&b, 1, "javascript", "/hello.txt");
	fb_get_scheme(&b, 3, "http", "/hello.txt#top");
	fb_get_scheme(&b, 5, "https", "/hello.txt");
	fb_get_scheme(&b, 7, "HTTP", "/hello.txt");
	h2_send_fb(h, &b);
	IT_ASSERT(h2_run(h, &t, all_done, &n, IT_IO_MS), "four requests not all answered");
	IT_ASSERT(t.status[0] == STATUS_400, ":scheme javascript: status byte %#x", t.status[0]);
	IT_ASSERT(t.status[1] == STATUS_400, ":path with a fragment: status byte %#x", t.status[1]);
	IT_ASSERT(t.status[2] == STATUS_200 && t.data[2] == 12 && t.status[3] == STATUS_200,
		  ":scheme https / HTTP: status bytes %#x %#x", t.status[2], t.status[3]);
	IT_ASSERT(t.goaways == 0, "GOAWAY (error %#x)", t.goaway_error);
	free(b.p);
	h2_close(h);
	IT_ASSERT(it_http_get("127.0.0.1", port, "/hello.txt#top", IT_IO_MS) == 400,
		  "HTTP/1.1 target with a fragment not refused with 400");
}
END_TEST

static Suite *http2_frames_suite(void)
{
	Suite *s = suite_create("http2_frames");
	TCase *tc = it_tcase("frames");

	tcase_add_loop_test(tc, stream_id_backwards, 0, 2);
	tcase_add_loop_test(tc, priority_frames_checked, 0, 2);
	tcase_add_loop_test(tc, scheme_and_fragment, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

IT_SUITE(http2_frames_suite);
