/* SPDX-License-Identifier: MIT */
/* test_steer_tcp.c - the TCP reuseport steering program: new connections skip stalled slots, and spread again once it is off. */
#include <config.h>

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "daemon/steer_tcp.h"
#include "check_main.h"

#define SLOTS 4
#define CONNS 64

/* A group of SLOTS listeners on 127.0.0.1, joined in slot order, as listener.c binds them. */
static void open_group(struct sw_listen *l, struct sw_listen_set *set)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	int one = 1;

	memset(l, 0, sizeof(*l));
	snprintf(l->name, sizeof(l->name), "test group");
	for (unsigned i = 0; i < SLOTS; i++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)), 0);
		ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
		ck_assert_int_eq(listen(fd, CONNS * 2), 0);
		if (i == 0)
			ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
		l->fds[i] = fd;
	}
	l->nslots = SLOTS;
	l->addr.ss_family = AF_INET;
	memcpy(&l->addr, &sin, sizeof(sin));
	l->addrlen = sizeof(sin);
	set->v = l;
	set->n = 1;
}

static void close_group(struct sw_listen *l)
{
	for (unsigned i = 0; i < SLOTS; i++)
		close(l->fds[i]);
}

/* CONNS new connections; per listener, how many it got. */
static void connect_and_count(const struct sw_listen *l, unsigned got[SLOTS])
{
	int clients[CONNS];

	for (unsigned c = 0; c < CONNS; c++) {
		clients[c] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		ck_assert_int_ge(clients[c], 0);
		ck_assert_msg(connect(clients[c], (const struct sockaddr *)&l->addr, l->addrlen) == 0,
			      "connect: %s", strerror(errno));
	}
	for (unsigned i = 0; i < SLOTS; i++) {
		int fd;
		got[i] = 0;
		while ((fd = accept(l->fds[i], NULL, NULL)) >= 0) {
			got[i]++;
			close(fd);
		}
		ck_assert_int_eq(errno, EAGAIN);
	}
	for (unsigned c = 0; c < CONNS; c++)
		close(clients[c]);
	ck_assert_uint_eq(got[0] + got[1] + got[2] + got[3], CONNS);
}

START_TEST(stalled_slot_skipped_then_back)
{
	struct sw_listen l;
	struct sw_listen_set set;
	bool stalled[SW_MAX_SLOTS] = { false, true, false, false };
	unsigned got[SLOTS];

	open_group(&l, &set);
	sw_steer_tcp_apply(&set, SLOTS, stalled);
	connect_and_count(&l, got);
	ck_assert_msg(got[1] == 0, "the stalled slot got %u of %u connections", got[1], CONNS);
	ck_assert_msg(got[0] && got[2] && got[3], "healthy slots unused: %u %u %u",
		      got[0], got[2], got[3]);
	/* Healthy again: the program is off and the hash reaches slot 1 (1 - (3/4)^64). */
	stalled[1] = false;
	sw_steer_tcp_apply(&set, SLOTS, stalled);
	connect_and_count(&l, got);
	ck_assert_msg(got[1] > 0, "slot 1 still skipped once healthy");
	close_group(&l);
}
END_TEST

/* Two stalled slots out of four: the two others take everything. */
START_TEST(two_stalled)
{
	struct sw_listen l;
	struct sw_listen_set set;
	bool stalled[SW_MAX_SLOTS] = { true, false, true, false };
	unsigned got[SLOTS];

	open_group(&l, &set);
	sw_steer_tcp_apply(&set, SLOTS, stalled);
	connect_and_count(&l, got);
	ck_assert_msg(got[0] == 0 && got[2] == 0, "stalled slots got %u and %u", got[0], got[2]);
	close_group(&l);
}
END_TEST

/* A group whose index is not its slot is left to the kernel's hash. */
START_TEST(unordered_group_left_alone)
{
	struct sw_listen l;
	struct sw_listen_set set;
	bool stalled[SW_MAX_SLOTS] = { false, true, false, false };
	unsigned got[SLOTS];

	open_group(&l, &set);
	l.unordered = true;
	sw_steer_tcp_apply(&set, SLOTS, stalled);
	connect_and_count(&l, got);
	ck_assert_msg(got[1] > 0, "an unordered group was steered");
	close_group(&l);
}
END_TEST

static Suite *steer_tcp_suite(void)
{
	Suite *s = suite_create("steer_tcp");
	TCase *tc = tcase_create("steer_tcp");

	tcase_add_test(tc, stalled_slot_skipped_then_back);
	tcase_add_test(tc, two_stalled);
	tcase_add_test(tc, unordered_group_left_alone);
	suite_add_tcase(s, tc);
	return s;
}

SW_TEST_SUITE(steer_tcp_suite);
