/* SPDX-License-Identifier: MIT */
/* test_http1_curl.c - the HTTP/1.1 engine end to end, on both I/O backends: curl as an independent client. */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "h1_fixture.h"

/* ---- curl as an independent client ------------------------------------- */

/* Runs curl with args on two URLs; stdout ("CODE CONNECTS" per URL) and stderr. */
static void run_curl(int port, const char *args, char **out, char **err)
{
	char cmd[4096], o[IT_PATH_MAX], e[IT_PATH_MAX];
	int rc;

	it_path(o, "curl.out");
	it_path(e, "curl.err");
	snprintf(cmd, sizeof(cmd),
		 "curl -sv --max-time 5 %s -o /dev/null -o /dev/null "
		 "-w '%%{http_code} %%{num_connects}\\n' "
		 "http://127.0.0.1:%d/.healthz http://127.0.0.1:%d/.ready >%s 2>%s",
		 args, port, port, o, e);
	rc = system(cmd);
	*out = it_read_file(o);
	*err = it_read_file(e);
	IT_ASSERT(rc == 0, "%s: exit %d\n%s", cmd, rc, *err);
}

START_TEST(curl_keep_alive)
{
	const char *backend = it_backend(_i);
	char *out, *err;
	int port;

	if (!backend)
		return;
	IT_ASSERT(system("command -v curl >/dev/null 2>&1") == 0, "curl is not installed");
	h1_start(backend, "", "", "", &port);

	run_curl(port, "", &out, &err);
	IT_ASSERT(strcmp(out, "200 1\n200 0\n") == 0 && strstr(err, "Re-using existing"),
		  "curl HTTP/1.1: want one connection reused; stdout:\n%s\nstderr:\n%s", out, err);
	free(out), free(err);

	run_curl(port, "--http1.0 -H 'Connection: keep-alive'", &out, &err);
	IT_ASSERT(strcmp(out, "200 1\n200 0\n") == 0 && strstr(err, "Re-using existing"),
		  "curl HTTP/1.0 keep-alive: want one connection reused; stdout:\n%s\nstderr:\n%s",
		  out, err);
	IT_ASSERT(strcasestr(err, "< Connection: keep-alive"), "curl HTTP/1.0: no keep-alive:\n%s",
		  err);
	free(out), free(err);

	run_curl(port, "--http1.0", &out, &err);
	IT_ASSERT(strcmp(out, "200 1\n200 1\n") == 0 && !strstr(err, "Re-using existing"),
		  "curl HTTP/1.0: want two connections; stdout:\n%s\nstderr:\n%s", out, err);
	free(out), free(err);

	run_curl(port, "-H 'Connection: close'", &out, &err);
	IT_ASSERT(strcmp(out, "200 1\n200 1\n") == 0 && !strstr(err, "Re-using existing"),
		  "curl Connection: close: want two connections; stdout:\n%s\nstderr:\n%s", out, err);
	IT_ASSERT(strcasestr(err, "< Connection: close"), "curl: no Connection: close:\n%s", err);
	free(out), free(err);
}
END_TEST

static Suite *http1_curl_suite(void)
{
	Suite *s = suite_create("http1_curl");
	TCase *tc = it_tcase("curl");

	tcase_add_loop_test(tc, curl_keep_alive, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

IT_SUITE(http1_curl_suite);
