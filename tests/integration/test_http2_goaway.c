/* SPDX-License-Identifier: MIT */
/* test_http2_goaway.c - HTTP/2 end to end: GOAWAY when the server drains. */
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

/* ---- GOAWAY on drain ---- */

START_TEST(goaway_on_drain)
{
	struct fbuf b = { 0 };
	struct it_proc *p;
	struct tally t;
	struct h2 *h;
	uint64_t want = 256 << 10;
	int port, code;
	const off_t size = (off_t)32 << 20;

	if (!have_h2(_i))
		return;
	h2_populate();
	h2_write_sparse("huge.bin", size);
	p = h2_start(_i, 1, NULL, NULL, &port);
	h = h2_connect(port);
	fb_preface(&b, true);
	fb_get(&b, 1, "/huge.bin");
	h2_send_fb(h, &b);
	tally_init(&t);
	IT_ASSERT(h2_run(h, &t, data_at_least, &want, IT_IO_MS), "the first 256 KiB");
	IT_ASSERT(!t.ended[0], "32 MiB came in one go; the drain would not catch it in flight");
	ck_assert_int_eq(it_signal(p, SIGTERM), 0);
	/* Read on until the server closes. */
	IT_ASSERT(h2_run(h, &t, NULL, NULL, 8000), "no clean close after the drain (err %s, %llu "
		  "bytes, %d GOAWAY)", strerror(-t.err), (unsigned long long)t.data[0], t.goaways);
	IT_ASSERT(t.ended[0] && t.data[0] == (uint64_t)size, "the in-flight stream got %llu of %lld "
		  "bytes (ended %d)", (unsigned long long)t.data[0], (long long)size, t.ended[0]);
	IT_ASSERT(t.goaways >= 1, "no GOAWAY before the close");
	IT_ASSERT(t.goaway_first_error == E_NO_ERROR && t.goaway_error == E_NO_ERROR,
		  "GOAWAY errors %u then %u, want NO_ERROR", t.goaway_first_error, t.goaway_error);
	IT_ASSERT(t.goaway_last == 1, "the last GOAWAY names stream %u, want 1", t.goaway_last);
	IT_ASSERT(t.rsts == 0, "%u streams reset during the drain", t.rsts);
	code = it_wait_exit(p, 5000);
	IT_ASSERT(code == 0, "swerver after the drain: %s", it_code_str(code));
	free(b.p);
	h2_close(h);
}
END_TEST

/* A connection idle when the drain starts is told GOAWAY and closed, and a new stream is not served. */
START_TEST(goaway_idle_on_drain)
{
	struct fbuf b = { 0 };
	struct it_proc *p;
	struct tally t;
	struct h2 *h;
	int port, one = 1, code;

	if (!have_h2(_i))
		return;
	h2_populate();
	p = h2_start(_i, 1, NULL, NULL, &port);
	h = h2_connect(port);
	fb_preface(&b, false);
	fb_get(&b, 1, "/hello.txt");
	h2_send_fb(h, &b);
	tally_init(&t);
	IT_ASSERT(h2_run(h, &t, all_done, &one, IT_IO_MS) && t.data[0] == 12, "first request");
	ck_assert_int_eq(it_signal(p, SIGTERM), 0);
	IT_ASSERT(h2_run(h, &t, got_goaway, NULL, IT_IO_MS), "no GOAWAY on an idle connection");
	IT_ASSERT(t.goaway_first_error == E_NO_ERROR, "GOAWAY error %u", t.goaway_first_error);
	IT_ASSERT(h2_run(h, &t, NULL, NULL, 3000), "the idle connection was not closed "
		  "(err %d, goaways %d)", t.err, t.goaways);
	IT_ASSERT(t.goaway_last == 1, "last GOAWAY names stream %u, want 1", t.goaway_last);
	code = it_wait_exit(p, 5000);
	IT_ASSERT(code == 0, "swerver after the drain: %s", it_code_str(code));
	free(b.p);
	h2_close(h);
}
END_TEST

static Suite *http2_goaway_suite(void)
{
	Suite *s = suite_create("http2_goaway");
	TCase *tc = it_tcase("goaway");

	tcase_add_loop_test(tc, goaway_on_drain, 0, 2);
	tcase_add_loop_test(tc, goaway_idle_on_drain, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

IT_SUITE(http2_goaway_suite);
