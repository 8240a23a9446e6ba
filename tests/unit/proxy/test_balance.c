/* SPDX-License-Identifier: MIT */
/* test_balance.c - src/proxy/balance.c: each balancer's distribution, backups, passive health. */
#include <config.h>

#include <stdio.h>
#include "fixture.h"
#include "check_main.h"

static void teardown(void)
{
	fx_stop();
}

/* An upstream "u" of servers 127.0.0.1:1..N (extra: JSON after each server's port). */
static void start(const char *lb, const char *const *extra, size_t n)
{
	char json[2048];
	size_t len;

	len = (size_t)snprintf(json, sizeof(json),
			       "{\"upstreams\": [{\"name\": \"u\", \"load_balancer\": \"%s\", \"servers\": [",
			       lb);
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(json + len, sizeof(json) - len,
					"%s{\"address\": \"127.0.0.1\", \"port\": %zu%s}", i ? "," : "",
					i + 1, extra[i]);
	snprintf(json + len, sizeof(json) - len,
		 "]}], \"routes\": [{\"path_prefix\": \"/\", \"upstream\": \"u\"}]}");
	fx_start(json);
	ck_assert_uint_eq(fx.st->nups, 1);
	ck_assert_uint_eq(fx.st->ups[0].nservers, n);
}

static struct px_upstream *up(void)
{
	return &fx.st->ups[0];
}

/* The index of the server picked for a client at peer (avoiding avoid, or -1); -1 for none. */
static int pick(const char *peer, int avoid)
{
	struct fx_x f;
	struct px_server *s;

	fx_exchange(&f, peer, "/");
	s = px_balance_pick(up(), &f.x, avoid >= 0 ? &up()->servers[avoid] : NULL);
	return s ? (int)(s - up()->servers) : -1;
}

static const char *const plain[] = { "", "", "", "", "" };

START_TEST(test_round_robin)
{
	int counts[3] = { 0 }, prev = -1;

	start("round_robin", plain, 3);
	for (int i = 0; i < 300; i++) {
		int s = pick("192.0.2.1", -1);
		ck_assert_int_ge(s, 0);
		ck_assert_int_ne(s, prev);   /* strictly in turn */
		counts[s]++;
		prev = s;
	}
	ck_assert_int_eq(counts[0], 100);
	ck_assert_int_eq(counts[1], 100);
	ck_assert_int_eq(counts[2], 100);
}
END_TEST

START_TEST(test_weighted_round_robin)
{
	static const char *const w[] = { ", \"weight\": 5", ", \"weight\": 1", ", \"weight\": 1" };
	char seq[8] = { 0 };
	int counts[3] = { 0 };

	start("weighted_round_robin", w, 3);
	/* Smooth: the heavy server's turns are spread, not five in a row (nginx's sequence). */
	for (int i = 0; i < 7; i++)
		seq[i] = (char)('a' + pick("192.0.2.1", -1));
	ck_assert_str_eq(seq, "aabacaa");
	for (int i = 0; i < 700; i++)
		counts[pick("192.0.2.1", -1)]++;
	ck_assert_int_eq(counts[0], 500);
	ck_assert_int_eq(counts[1], 100);
	ck_assert_int_eq(counts[2], 100);
}
END_TEST

START_TEST(test_least_conn)
{
	static const char *const w[] = { "", "", ", \"weight\": 4" };
	int counts[3] = { 0 };

	start("least_conn", w, 3);
	up()->servers[0].active = 3;
	up()->servers[1].active = 1;
	up()->servers[2].active = 5;   /* 5 / 4 = 1.25 per weight: busier than 1 / 1 */
	ck_assert_int_eq(pick("192.0.2.1", -1), 1);
	up()->servers[1].active = 2;   /* 2 / 1 > 5 / 4 */
	ck_assert_int_eq(pick("192.0.2.1", -1), 2);

	/* Simulated requests that never finish: in flight follows the weights. */
	up()->servers[0].active = up()->servers[1].active = up()->servers[2].active = 0;
	for (int i = 0; i < 600; i++)
		up()->servers[pick("192.0.2.1", -1)].active++;
	for (int i = 0; i < 3; i++)
		counts[i] = (int)up()->servers[i].active;
	ck_assert_int_eq(counts[0], 100);
	ck_assert_int_eq(counts[1], 100);
	ck_assert_int_eq(counts[2], 400);
}
END_TEST

/*
 * Regression: least_conn rotated where its scan started, so with one busy
 * server of three the server after it won the rotation's turn too: the
 * idle two got 7 and 3 of 10 picks.  Ties now take turns evenly.
 */
START_TEST(test_least_conn_ties_even)
{
	int counts[3] = { 0 };

	start("least_conn", plain, 3);
	up()->servers[0].active = up()->servers[1].active = 0;
	up()->servers[2].active = 1000;
	memset(counts, 0, sizeof(counts));
	for (int i = 0; i < 10; i++)
		counts[pick("192.0.2.1", -1)]++;
	ck_assert_int_eq(counts[0], 5);
	ck_assert_int_eq(counts[1], 5);
}
END_TEST

START_TEST(test_ip_hash)
{
	int owner[200], counts[4] = { 0 };
	char ip[32];

	start("ip_hash", plain, 4);
	for (int i = 0; i < 200; i++) {
		snprintf(ip, sizeof(ip), "198.51.%d.%d", i / 50, i % 50 + 1);
		owner[i] = pick(ip, -1);
		/* The same client keeps its server. */
		for (int k = 0; k < 3; k++)
			ck_assert_int_eq(pick(ip, -1), owner[i]);
		counts[owner[i]]++;
	}
	for (int s = 0; s < 4; s++)
		ck_assert_msg(counts[s] > 0, "server %d got none of 200 clients", s);

	/* Server 2 goes down: only its clients move; everyone else stays put. */
	up()->servers[2].health->down_until_ms = fx.loop.now + 1000;
	for (int i = 0; i < 200; i++) {
		snprintf(ip, sizeof(ip), "198.51.%d.%d", i / 50, i % 50 + 1);
		if (owner[i] != 2)
			ck_assert_int_eq(pick(ip, -1), owner[i]);
		else
			ck_assert_int_ne(pick(ip, -1), 2);
	}
	/* Back: they return to it. */
	fx.loop.now += 1000;
	for (int i = 0; i < 200; i++) {
		snprintf(ip, sizeof(ip), "198.51.%d.%d", i / 50, i % 50 + 1);
		ck_assert_int_eq(pick(ip, -1), owner[i]);
	}
}
END_TEST

START_TEST(test_ip_hash_trusted_proxy)
{
	int a, b;

	/* Behind a trusted proxy the real client (X-Forwarded-For) is what is hashed. */
	fx_start("{\"server\": {\"trusted_proxies\": [\"10.0.0.0/8\"]},"
		 " \"upstreams\": [{\"name\": \"u\", \"load_balancer\": \"ip_hash\", \"servers\": ["
		 "  {\"address\": \"127.0.0.1\", \"port\": 1}, {\"address\": \"127.0.0.1\", \"port\": 2},"
		 "  {\"address\": \"127.0.0.1\", \"port\": 3}, {\"address\": \"127.0.0.1\", \"port\": 4}]}],"
		 " \"routes\": [{\"path_prefix\": \"/\", \"upstream\": \"u\"}]}");
	for (int i = 1; i < 50; i++) {
		char ip[32];
		struct fx_x f;
		snprintf(ip, sizeof(ip), "203.0.113.%d", i);
		a = pick(ip, -1);
		fx_exchange(&f, "10.0.0.1", "/");
		fx_header(&f, "X-Forwarded-For", ip);
		b = (int)(px_balance_pick(up(), &f.x, NULL) - up()->servers);
		ck_assert_int_eq(a, b);
	}
}
END_TEST

START_TEST(test_random_two_choices)
{
	int counts[3] = { 0 };

	start("random", plain, 3);
	for (int i = 0; i < 3000; i++)
		counts[pick("192.0.2.1", -1)]++;
	for (int s = 0; s < 3; s++)
		ck_assert_msg(counts[s] > 0, "server %d never picked", s);
	/*
	 * Two choices, the less busy: the busy server wins only when both
	 * draws are it (1 in 9); never picking it twice as often as that is
	 * a bound no fair draw of 3000 comes near.
	 */
	memset(counts, 0, sizeof(counts));
	up()->servers[1].active = 50;
	for (int i = 0; i < 3000; i++)
		counts[pick("192.0.2.1", -1)]++;
	ck_assert_msg(counts[1] < 3000 * 2 / 9, "busy server got %d of 3000", counts[1]);
	ck_assert_int_gt(counts[0], 3000 / 4);
	ck_assert_int_gt(counts[2], 3000 / 4);
}
END_TEST

START_TEST(test_backup_and_avoid)
{
	static const char *const w[] = { "", "", ", \"backup\": true" };

	start("round_robin", w, 3);
	for (int i = 0; i < 20; i++)
		ck_assert_int_ne(pick("192.0.2.1", -1), 2);   /* a backup waits */
	/* A retry avoids the server that just failed, while another is usable. */
	for (int i = 0; i < 10; i++)
		ck_assert_int_eq(pick("192.0.2.1", 0), 1);
	/* Primaries down: the backup. */
	up()->servers[0].health->down_until_ms = fx.loop.now + 10;
	up()->servers[1].health->down_until_ms = fx.loop.now + 10;
	ck_assert_int_eq(pick("192.0.2.1", -1), 2);
	/* ... and when the only candidate is avoided, a retry may go back to it. */
	ck_assert_int_eq(pick("192.0.2.1", 2), 2);
	up()->servers[2].health->down_until_ms = fx.loop.now + 10;
	ck_assert_int_eq(pick("192.0.2.1", -1), -1);
	fx.loop.now += 10;
	ck_assert_int_ne(pick("192.0.2.1", -1), 2);
	/* An unresolved server is never picked. */
	up()->servers[0].resolved = false;
	for (int i = 0; i < 10; i++)
		ck_assert_int_eq(pick("192.0.2.1", -1), 1);
}
END_TEST

START_TEST(test_passive_health)
{
	static const char *const w[] = { ", \"max_fails\": 3, \"fail_timeout_ms\": 1000", "" };
	struct px_server *s0;

	start("round_robin", w, 2);
	s0 = &up()->servers[0];
	/* Three failures within the window: down for fail_timeout_ms. */
	px_server_failed(s0, fx.loop.now, "test");
	px_server_failed(s0, fx.loop.now + 10, "test");
	ck_assert(px_server_usable(s0, fx.loop.now + 10));
	px_server_failed(s0, fx.loop.now + 20, "test");
	ck_assert(!px_server_usable(s0, fx.loop.now + 20));
	ck_assert(!px_server_usable(s0, fx.loop.now + 1019));
	ck_assert(px_server_usable(s0, fx.loop.now + 1020));

	/* Failures spread wider than the window never add up. */
	fx.loop.now += 5000;
	for (int i = 0; i < 10; i++)
		px_server_failed(s0, fx.loop.now + (uint64_t)i * 600, "test");
	ck_assert(px_server_usable(s0, fx.loop.now + 6000));

	/* A success clears the count. */
	fx.loop.now += 10000;
	px_server_failed(s0, fx.loop.now, "test");
	px_server_failed(s0, fx.loop.now, "test");
	px_server_ok(s0);
	px_server_failed(s0, fx.loop.now, "test");
	ck_assert(px_server_usable(s0, fx.loop.now));
}
END_TEST

START_TEST(test_only_server_never_down)
{
	static const char *const w[] = { ", \"max_fails\": 1" };

	start("round_robin", w, 1);
	for (int i = 0; i < 5; i++)
		px_server_failed(&up()->servers[0], fx.loop.now, "test");
	ck_assert_int_eq(pick("192.0.2.1", -1), 0);
	/* max_fails 0 turns passive health off. */
	fx_stop();
	static const char *const off[] = { ", \"max_fails\": 0", "" };
	start("round_robin", off, 2);
	for (int i = 0; i < 5; i++)
		px_server_failed(&up()->servers[0], fx.loop.now, "test");
	ck_assert(px_server_usable(&up()->servers[0], fx.loop.now));
}
END_TEST

static Suite *balance_suite(void)
{
	Suite *s = suite_create("balance");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_round_robin);
	tcase_add_test(tc, test_weighted_round_robin);
	tcase_add_test(tc, test_least_conn);
	tcase_add_test(tc, test_least_conn_ties_even);
	tcase_add_test(tc, test_ip_hash);
	tcase_add_test(tc, test_ip_hash_trusted_proxy);
	tcase_add_test(tc, test_random_two_choices);
	tcase_add_test(tc, test_backup_and_avoid);
	tcase_add_test(tc, test_passive_health);
	tcase_add_test(tc, test_only_server_never_down);
	suite_add_tcase(s, tc);
	return s;
}

SW_TEST_SUITE(balance_suite);
