/* SPDX-License-Identifier: MIT */
/* check_main.c - the main() of every Check suite program (see check_main.h). */
#include <config.h>

#include <stdlib.h>
#include "check_main.h"

int main(void)
{
	Suite *s = sw_test_suite.make();
	SRunner *sr = srunner_create(s);
	int failed;

	if (sw_test_suite.init)
		sw_test_suite.init();
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	if (sw_test_suite.fini)
		sw_test_suite.fini();
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
