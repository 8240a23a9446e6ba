/* SPDX-License-Identifier: MIT */
/* check_main.h - what a suite file gives the one Check main (check_main.c). */
#ifndef SW_TEST_CHECK_MAIN_H
#define SW_TEST_CHECK_MAIN_H

#include <check.h>

/*
 * Each suite program defines exactly one of these (SW_TEST_SUITE or the
 * harness's IT_SUITE); check_main.c's main() builds the suite, runs it
 * with the CK_* environment respected (CK_VERBOSITY, CK_RUN_SUITE,
 * CK_RUN_CASE, CK_FORK, CK_DEFAULT_TIMEOUT, ...) and turns the failures
 * into the exit status automake reads.
 */
struct sw_test_suite {
	Suite *(*make)(void);         /* may exit 77: automake's SKIP for the whole suite */
	void (*init)(void);           /* NULL, or once in the runner before the first test */
	void (*fini)(void);           /* NULL, or once in the runner after the last test */
};

extern const struct sw_test_suite sw_test_suite;

#define SW_TEST_SUITE(make_fn) \
	const struct sw_test_suite sw_test_suite = { (make_fn), NULL, NULL }

#endif
