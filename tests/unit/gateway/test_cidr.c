/* SPDX-License-Identifier: MIT */
/* test_cidr.c - the gateway's CIDR set: parsing, v4/v6/mapped matching, merging, and many blocks. */
#include <config.h>

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "gateway/cidr.h"
#include "check_main.h"

static struct sw_cidr_set set_of(const char *const *blocks)
{
	struct sw_cidr_set s = { 0 };

	for (; *blocks; blocks++)
		ck_assert_int_ne(sw_cidr_set_add(&s, *blocks), SW_CIDR_BAD);
	sw_cidr_set_finish(&s);
	return s;
}

static bool has(const struct sw_cidr_set *s, const char *ip)
{
	struct sw_ip128 a;

	ck_assert_msg(sw_ip128_parse(ip, &a), "%s does not parse", ip);
	return sw_cidr_set_has(s, a);
}

START_TEST(test_v4)
{
	struct sw_cidr_set s = set_of((const char *const[]){ "10.0.0.0/8", "192.0.2.7", NULL });

	ck_assert(has(&s, "10.0.0.0"));
	ck_assert(has(&s, "10.255.255.255"));
	ck_assert(!has(&s, "11.0.0.0"));
	ck_assert(!has(&s, "9.255.255.255"));
	ck_assert(has(&s, "192.0.2.7"));
	ck_assert(!has(&s, "192.0.2.8"));
	ck_assert(!has(&s, "192.0.2.6"));
	sw_cidr_set_release(&s);
}
END_TEST

START_TEST(test_v6)
{
	struct sw_cidr_set s = set_of((const char *const[]){ "2001:db8::/32", "::1", NULL });

	ck_assert(has(&s, "2001:db8::"));
	ck_assert(has(&s, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"));
	ck_assert(!has(&s, "2001:db9::"));
	ck_assert(has(&s, "::1"));
	ck_assert(!has(&s, "::2"));
	ck_assert(!has(&s, "127.0.0.1"));
	sw_cidr_set_release(&s);
}
END_TEST

/* A v4-mapped v6 address is its v4 address, whichever way either is written. */
START_TEST(test_mapped)
{
	struct sw_cidr_set s = set_of((const char *const[]){ "127.0.0.0/8", NULL });
	struct sw_cidr_set m = set_of((const char *const[]){ "::ffff:192.0.2.0/120", NULL });
	struct sockaddr_in6 in6 = { .sin6_family = AF_INET6 };
	struct sockaddr_in in = { .sin_family = AF_INET };
	struct sw_ip128 a;

	ck_assert(has(&s, "::ffff:127.0.0.1"));
	ck_assert(!has(&s, "::ffff:128.0.0.1"));
	ck_assert(!has(&s, "::127.0.0.1"));   /* the old "compatible" form is not v4 */
	ck_assert(has(&m, "192.0.2.200"));
	ck_assert(!has(&m, "192.0.3.1"));

	inet_pton(AF_INET6, "::ffff:127.1.2.3", &in6.sin6_addr);
	ck_assert(sw_ip128_from_sockaddr((struct sockaddr *)&in6, &a));
	ck_assert(sw_cidr_set_has(&s, a));
	inet_pton(AF_INET, "127.9.9.9", &in.sin_addr);
	ck_assert(sw_ip128_from_sockaddr((struct sockaddr *)&in, &a));
	ck_assert(sw_cidr_set_has(&s, a));
	inet_pton(AF_INET, "128.0.0.1", &in.sin_addr);
	ck_assert(sw_ip128_from_sockaddr((struct sockaddr *)&in, &a));
	ck_assert(!sw_cidr_set_has(&s, a));
	sw_cidr_set_release(&s);
	sw_cidr_set_release(&m);
}
END_TEST

START_TEST(test_whole_spaces)
{
	struct sw_cidr_set all = set_of((const char *const[]){ "::/0", NULL });
	struct sw_cidr_set v4 = set_of((const char *const[]){ "0.0.0.0/0", NULL });

	ck_assert(has(&all, "::"));
	ck_assert(has(&all, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
	ck_assert(has(&all, "1.2.3.4"));   /* v4 lives in ::ffff:0:0/96 */
	ck_assert(has(&v4, "0.0.0.0"));
	ck_assert(has(&v4, "255.255.255.255"));
	ck_assert(!has(&v4, "::1"));
	ck_assert(!has(&v4, "::fffe:ffff:ffff"));
	ck_assert(!has(&v4, "::1:0:0:0"));
	sw_cidr_set_release(&all);
	sw_cidr_set_release(&v4);
}
END_TEST

START_TEST(test_parse)
{
	struct sw_cidr_set s = { 0 };

	ck_assert_int_eq(sw_cidr_set_add(&s, "10.0.0.0/8"), SW_CIDR_OK);
	ck_assert_int_eq(sw_cidr_set_add(&s, "10.1.2.3/8"), SW_CIDR_HOST_BITS);
	ck_assert_int_eq(sw_cidr_set_add(&s, "2001:db8::1/32"), SW_CIDR_HOST_BITS);
	ck_assert_int_eq(sw_cidr_set_add(&s, "::/0"), SW_CIDR_OK);
	const char *bad[] = { "", "10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/-1",
			      "10.0.0.0/ 8", "10.0.0.0/+8", "10.0.0/8", "host.example", "10.0.0.0/0008",
			      "1.2.3.4/8/8", "[::1]", "::1/x", "300.0.0.1" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(sw_cidr_set_add(&s, bad[i]) == SW_CIDR_BAD, "\"%s\" was taken", bad[i]);
	ck_assert_uint_eq(s.n, 4);
	sw_cidr_set_release(&s);
}
END_TEST

/* Overlapping, nested and touching blocks merge; nothing outside them joins. */
START_TEST(test_merge)
{
	struct sw_cidr_set s = set_of((const char *const[]){
		"10.0.0.0/9", "10.128.0.0/9", "10.1.0.0/16", "192.0.2.0/25", "192.0.2.128/26",
		"2001:db8::/33", "2001:db8:8000::/33", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NULL });

	ck_assert_uint_eq(s.n, 4);   /* 10/8, 192.0.2.0/25+/26, 2001:db8::/32, the last address */
	ck_assert(has(&s, "10.200.0.1"));
	ck_assert(has(&s, "192.0.2.191"));
	ck_assert(!has(&s, "192.0.2.192"));
	ck_assert(has(&s, "2001:db8:ffff::1"));
	ck_assert(!has(&s, "2001:db9::"));
	ck_assert(has(&s, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
	ck_assert(!has(&s, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe"));
	sw_cidr_set_release(&s);
}
END_TEST

START_TEST(test_empty)
{
	struct sw_cidr_set s = { 0 };

	sw_cidr_set_finish(&s);
	ck_assert(!has(&s, "127.0.0.1"));
	ck_assert(!has(&s, "::"));
	sw_cidr_set_release(&s);
}
END_TEST

/*
 * 1,000 disjoint /24s and /64s against a linear scan of the same blocks,
 * at the edges of every block: the binary search must agree everywhere.
 */
START_TEST(test_many_blocks)
{
	struct sw_cidr_set s = { 0 };
	char buf[64];

	for (unsigned i = 0; i < 500; i++) {
		snprintf(buf, sizeof(buf), "10.%u.%u.0/24", (i * 7) / 256, (i * 7) % 256);
		ck_assert_int_eq(sw_cidr_set_add(&s, buf), SW_CIDR_OK);
		snprintf(buf, sizeof(buf), "2001:db8:%x:%x::/64", i * 3, i);
		ck_assert_int_eq(sw_cidr_set_add(&s, buf), SW_CIDR_OK);
	}
	sw_cidr_set_finish(&s);
	ck_assert_uint_eq(s.n, 1000);
	for (unsigned k = 0; k < 500 * 7 + 8; k++) {
		bool in = k % 7 == 0 && k / 7 < 500;
		snprintf(buf, sizeof(buf), "10.%u.%u.0", k / 256, k % 256);
		ck_assert_msg(has(&s, buf) == in, "%s", buf);
		snprintf(buf, sizeof(buf), "10.%u.%u.255", k / 256, k % 256);
		ck_assert_msg(has(&s, buf) == in, "%s", buf);
	}
	for (unsigned i = 0; i < 500; i++) {
		snprintf(buf, sizeof(buf), "2001:db8:%x:%x:ffff:ffff:ffff:ffff", i * 3, i);
		ck_assert_msg(has(&s, buf), "%s", buf);
		snprintf(buf, sizeof(buf), "2001:db8:%x:%x::", i * 3 + 1, i);
		ck_assert_msg(!has(&s, buf), "%s", buf);
	}
	sw_cidr_set_release(&s);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("cidr");
	TCase *tc = tcase_create("set");

	tcase_add_test(tc, test_v4);
	tcase_add_test(tc, test_v6);
	tcase_add_test(tc, test_mapped);
	tcase_add_test(tc, test_whole_spaces);
	tcase_add_test(tc, test_parse);
	tcase_add_test(tc, test_merge);
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_many_blocks);
	suite_add_tcase(s, tc);
	return s;
}

SW_TEST_SUITE(suite);
