/* SPDX-License-Identifier: MIT */
/* test_lockout.c - src/auth/lockout.c: the failure table (budget, window, lockout, eviction) and the lockout config. */
#include <config.h>

#include <json-c/json.h>
#include "auth/lockout.h"
#include "core/diag.h"
#include "check_main.h"

static const struct sw_auth_lockout lo3 = { .failures = 3, .window_ms = 1000, .lockout_ms = 300 };

START_TEST(test_budget_then_lockout)
{
	static struct sw_lockout_slot t[64];

	memset(t, 0, sizeof(t));
	ck_assert(!sw_auth_lockout_fail(t, 64, 7, &lo3, 100));
	ck_assert(!sw_auth_lockout_fail(t, 64, 7, &lo3, 110));
	ck_assert_uint_eq(sw_auth_lockout_left(t, 64, 7, 120), 0);
	ck_assert(sw_auth_lockout_fail(t, 64, 7, &lo3, 120));   /* the third begins it */
	ck_assert_uint_eq(sw_auth_lockout_left(t, 64, 7, 120), 300);
	ck_assert_uint_eq(sw_auth_lockout_left(t, 64, 7, 419), 1);
	/* another key, even in the next slot, keeps its whole budget */
	ck_assert_uint_eq(sw_auth_lockout_left(t, 64, 8, 200), 0);
	ck_assert(!sw_auth_lockout_fail(t, 64, 8, &lo3, 200));
	/* failures while locked out do not lengthen it or count later */
	ck_assert(!sw_auth_lockout_fail(t, 64, 7, &lo3, 200));
	ck_assert_uint_eq(sw_auth_lockout_left(t, 64, 7, 420), 0);
	ck_assert(!sw_auth_lockout_fail(t, 64, 7, &lo3, 420));
	ck_assert(!sw_auth_lockout_fail(t, 64, 7, &lo3, 421));
	ck_assert(sw_auth_lockout_fail(t, 64, 7, &lo3, 422));
}
END_TEST

START_TEST(test_window_restarts)
{
	static struct sw_lockout_slot t[64];

	memset(t, 0, sizeof(t));
	ck_assert(!sw_auth_lockout_fail(t, 64, 5, &lo3, 0 + 1));
	ck_assert(!sw_auth_lockout_fail(t, 64, 5, &lo3, 500));
	/* the window began at 1: at 1001 it is over, and the count starts again */
	ck_assert(!sw_auth_lockout_fail(t, 64, 5, &lo3, 1001));
	ck_assert(!sw_auth_lockout_fail(t, 64, 5, &lo3, 1500));
	ck_assert_uint_eq(sw_auth_lockout_left(t, 64, 5, 1500), 0);
	ck_assert(sw_auth_lockout_fail(t, 64, 5, &lo3, 1600));
}
END_TEST

/* A full table gives the least recently failing key's slot away, never a locked-out one's. */
START_TEST(test_bounded_eviction)
{
	static struct sw_lockout_slot t[8];
	const struct sw_auth_lockout lo2 = { .failures = 2, .window_ms = 100000, .lockout_ms = 100000 };

	memset(t, 0, sizeof(t));
	ck_assert(!sw_auth_lockout_fail(t, 8, 1, &lo2, 10));
	for (uint64_t k = 2; k <= 8; k++)
		ck_assert(!sw_auth_lockout_fail(t, 8, k, &lo2, 10 + k));
	ck_assert(!sw_auth_lockout_fail(t, 8, 9, &lo2, 30));   /* takes key 1's slot */
	ck_assert(!sw_auth_lockout_fail(t, 8, 1, &lo2, 31));   /* key 1 starts again (takes 2's) */
	ck_assert(sw_auth_lockout_fail(t, 8, 3, &lo2, 32));    /* key 3 kept its count */
	/* many other keys later, 3 is still locked out */
	for (uint64_t k = 100; k < 1000; k++)
		sw_auth_lockout_fail(t, 8, k, &lo2, 40 + k);
	ck_assert_uint_gt(sw_auth_lockout_left(t, 8, 3, 2000), 0);
	for (size_t i = 0; i < 8; i++)
		ck_assert_uint_eq(t[i].lock, 0);
}
END_TEST

static int parse(const char *json, struct sw_auth_lockout *lo)
{
	struct json_object *o = json ? json_tokener_parse(json) : NULL;
	struct sw_diag d;
	int rc;

	sw_diag_init(&d, "test");
	rc = sw_auth_lockout_parse(o, "routes[0].auth.lockout", lo, &d);
	if (o)
		json_object_put(o);
	sw_diag_deinit(&d);
	return rc;
}

START_TEST(test_config)
{
	struct sw_auth_lockout lo;

	ck_assert_int_eq(parse(NULL, &lo), SW_OK);   /* on by default */
	ck_assert_uint_eq(lo.failures, 10);
	ck_assert_uint_eq(lo.window_ms, 60000);
	ck_assert_uint_eq(lo.lockout_ms, 60000);
	ck_assert_int_eq(parse("false", &lo), SW_OK);
	ck_assert_uint_eq(lo.failures, 0);
	ck_assert_int_eq(parse("{\"failures\": 3, \"lockout_ms\": 300}", &lo), SW_OK);
	ck_assert_uint_eq(lo.failures, 3);
	ck_assert_uint_eq(lo.window_ms, 60000);
	ck_assert_uint_eq(lo.lockout_ms, 300);
	ck_assert_int_eq(parse("{\"failures\": 0}", &lo), SW_ERROR);
	ck_assert_int_eq(parse("{\"window_ms\": \"1s\"}", &lo), SW_ERROR);
	ck_assert_int_eq(parse("{\"lockout\": 5}", &lo), SW_ERROR);
	ck_assert_int_eq(parse("5", &lo), SW_ERROR);
}
END_TEST

static Suite *lockout_suite(void)
{
	Suite *s = suite_create("lockout");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_budget_then_lockout);
	tcase_add_test(tc, test_window_restarts);
	tcase_add_test(tc, test_bounded_eviction);
	tcase_add_test(tc, test_config);
	suite_add_tcase(s, tc);
	return s;
}

SW_TEST_SUITE(lockout_suite);
