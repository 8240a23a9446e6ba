/* SPDX-License-Identifier: MIT */
/* test_http2_flood.c - HTTP/2 end to end: floods end in ENHANCE_YOUR_CALM and nothing else; resets below the limit do not. */
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

/* ---- floods end in ENHANCE_YOUR_CALM and nothing else ---- */

enum flood { RAPID_RESET, SETTINGS_FLOOD, PING_FLOOD, CONTINUATION_FLOOD, PRIORITY_FLOOD };

static void flood(int i, enum flood kind)
{
	static const char *const warn[] = {
		"HTTP/2 rapid reset", "HTTP/2 control frame flood", "HTTP/2 control frame flood",
		"HTTP/2 CONTINUATION flood", "HTTP/2 control frame flood",
	};
	struct fbuf b = { 0 };
	struct it_proc *p;
	struct tally t;
	struct h2 *h;
	uint8_t block[256], cancel[4], ping[8] = "pingpong", prio[5] = { 0, 0, 0, 0, 15 };
	int port, rc;
	size_t n;

	if (!have_h2(i))
		return;
	h2_populate();
	p = h2_start(i, 1, NULL, NULL, &port);
	h = h2_connect(port);
	fb_preface(&b, false);
	switch (kind) {
	case RAPID_RESET:
		put32(cancel, E_CANCEL);
		for (uint32_t s = 1; s < 2 * 3000; s += 2) {
			fb_get(&b, s, "/.healthz");
			fb_frame(&b, F_RST_STREAM, 0, s, cancel, 4);
		}
		break;
	case SETTINGS_FLOOD:
		for (int k = 0; k < 3000; k++)
			fb_frame(&b, F_SETTINGS, 0, 0, NULL, 0);
		break;
	case PING_FLOOD:
		for (int k = 0; k < 3000; k++)
			fb_frame(&b, F_PING, 0, 0, ping, 8);
		break;
	case PRIORITY_FLOOD:
		/* Reprioritising an idle stream over and over. */
		for (int k = 0; k < 3000; k++)
			fb_frame(&b, F_PRIORITY, 0, 3, prio, 5);
		break;
	case CONTINUATION_FLOOD:
		/* A valid block in 21 pieces: the pseudo-headers, then one field per CONTINUATION. */
		n = hpack_get(block, "/.healthz");
		fb_frame(&b, F_HEADERS, FL_END_STREAM, 1, block, n);
		for (int k = 0; k < 20; k++) {
			uint8_t field[] = { 0x00, 3, 'x', '-', (uint8_t)('a' + k), 1, 'v' };
			fb_frame(&b, F_CONTINUATION, k == 19 ? FL_END_HEADERS : 0, 1, field,
				 sizeof(field));
		}
		break;
	}
	rc = h2_send(h, b.p, b.len, IT_IO_MS);
	/* The server may close before it takes all of it; that is fine. */
	IT_ASSERT(rc == 0 || rc == -ECONNRESET || rc == -EPIPE, "sending the flood: %s",
		  strerror(-rc));
	tally_init(&t);
	h2_run(h, &t, NULL, NULL, IT_IO_MS);
	IT_ASSERT(t.goaways >= 1, "%s: no GOAWAY (eof %d, err %s, %u frames)", warn[kind], t.eof,
		  strerror(-t.err), t.frames);
	IT_ASSERT(t.goaway_error == E_ENHANCE_YOUR_CALM, "%s: GOAWAY error %#x, want "
		  "ENHANCE_YOUR_CALM (0xb)", warn[kind], t.goaway_error);
	IT_ASSERT(t.eof, "%s: the connection was not closed after the GOAWAY (err %s)", warn[kind],
		  strerror(-t.err));
	if (kind == PING_FLOOD)
		IT_ASSERT(t.pings_acked <= 1000, "%u PINGs answered", t.pings_acked);
	h2_close(h);
	free(b.p);
	/* The server is the same process and still serves. */
	IT_ASSERT(it_poll_exit(p) == IT_TIMEOUT && !it_pid_gone(p->pid), "the server died: %s",
		  it_code_str(it_poll_exit(p)));
	IT_ASSERT(it_http_get("127.0.0.1", port, "/.healthz", IT_IO_MS) == 200,
		  "HTTP/1.1 after the flood");
	{
		struct it_cres r;

		h2curl(&r, port, NULL, "/hello.txt");
		IT_ASSERT(r.code == 200 && strcmp(r.version, "2") == 0, "h2 after the flood: %d", r.code);
		it_cres_free(&r);
	}
	IT_ASSERT(h2_wait_metric(port, "swerver_http2_floods_total", 1, 2000) == 1,
		  "swerver_http2_floods_total is %lld, want 1",
		  (long long)it_metric(port, "swerver_http2_floods_total"));
	IT_ASSERT(it_log_has(p, warn[kind]), "no \"%s\" warning in the log", warn[kind]);
}

START_TEST(flood_rapid_reset)
{
	flood(_i, RAPID_RESET);
}
END_TEST

START_TEST(flood_settings)
{
	flood(_i, SETTINGS_FLOOD);
}
END_TEST

START_TEST(flood_ping)
{
	flood(_i, PING_FLOOD);
}
END_TEST

START_TEST(flood_continuation)
{
	flood(_i, CONTINUATION_FLOOD);
}
END_TEST

START_TEST(flood_priority)
{
	flood(_i, PRIORITY_FLOOD);
}
END_TEST

/* Resets and PINGs within the allowance are not a flood. */
START_TEST(resets_below_limit)
{
	struct fbuf b = { 0 };
	struct it_proc *p;
	struct tally t;
	struct h2 *h;
	uint8_t cancel[4];
	uint32_t last = 1001;
	int port;

	if (!have_h2(_i))
		return;
	h2_populate();
	p = h2_start(_i, 1, NULL, NULL, &port);
	h = h2_connect(port);
	fb_preface(&b, false);
	put32(cancel, E_CANCEL);
	for (uint32_t s = 1; s < last; s += 2) {
		fb_get(&b, s, "/.healthz");
		fb_frame(&b, F_RST_STREAM, 0, s, cancel, 4);
	}
	for (int k = 0; k < 100; k++)
		fb_frame(&b, F_PING, 0, 0, "12345678", 8);
	fb_get(&b, last, "/hello.txt");
	h2_send_fb(h, &b);
	tally_init(&t);
	IT_ASSERT(h2_run(h, &t, stream_done, &last, IT_IO_MS), "stream %u after 500 resets: not "
		  "answered (GOAWAY %d error %#x, eof %d)", last, t.goaways, t.goaway_error, t.eof);
	IT_ASSERT(t.ended[last / 2] && t.data[last / 2] == 12 && t.goaways == 0,
		  "stream %u after 500 resets: %llu bytes, %d GOAWAY", last,
		  (unsigned long long)t.data[last / 2], t.goaways);
	IT_ASSERT(t.pings_acked == 100, "%u of 100 PINGs answered", t.pings_acked);
	free(b.p);
	h2_close(h);
	IT_ASSERT((long long)it_metric(port, "swerver_http2_floods_total") == 0, "counted as a flood");
	IT_ASSERT(it_poll_exit(p) == IT_TIMEOUT, "the server died");
}
END_TEST

static Suite *http2_flood_suite(void)
{
	Suite *s = suite_create("http2_flood");
	TCase *tc = it_tcase("flood");

	tcase_add_loop_test(tc, flood_rapid_reset, 0, 2);
	tcase_add_loop_test(tc, flood_settings, 0, 2);
	tcase_add_loop_test(tc, flood_ping, 0, 2);
	tcase_add_loop_test(tc, flood_continuation, 0, 2);
	tcase_add_loop_test(tc, flood_priority, 0, 2);
	tcase_add_loop_test(tc, resets_below_limit, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

IT_SUITE(http2_flood_suite);
