/* SPDX-License-Identifier: MIT */
/* test_http1_headers.c - the HTTP/1.1 engine end to end, on both I/O backends: the response headers every answer carries (Date, Server). */
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

/* ---- response headers ------------------------------------------------- */

/* IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT", and within 5 s of now. */
static void check_date(const char *v, const char *what)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
					      "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm = { 0 };
	char again[64];
	time_t t, now = time(NULL);
	int mon = -1;

	IT_ASSERT(strlen(v) == 29, "%s: Date \"%s\" is not 29 characters", what, v);
	for (int k = 0; k < 12; k++)
		if (strncmp(v + 8, months[k], 3) == 0)
			mon = k;
	IT_ASSERT(mon >= 0 && sscanf(v + 5, "%2d", &tm.tm_mday) == 1 &&
		  sscanf(v + 12, "%4d", &tm.tm_year) == 1 &&
		  sscanf(v + 17, "%2d:%2d:%2d", &tm.tm_hour, &tm.tm_min, &tm.tm_sec) == 3,
		  "%s: Date \"%s\" is not IMF-fixdate", what, v);
	tm.tm_mon = mon;
	tm.tm_year -= 1900;
	t = timegm(&tm);
	gmtime_r(&t, &tm);
	snprintf(again, sizeof(again), "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday],
		 tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
		 tm.tm_sec);
	IT_ASSERT(strcmp(again, v) == 0, "%s: Date \"%s\" is not IMF-fixdate (want \"%s\")", what,
		  v, again);
	IT_ASSERT(t >= now - 5 && t <= now + 5, "%s: Date \"%s\" is %lld s off", what, v,
		  (long long)(t - now));
}

static void check_common_headers(const struct it_response *r, bool want_server, const char *what)
{
	char val[128];

	IT_ASSERT(h1_count_hdr(r, "Date") == 1 && h1_header(r, "Date", val, sizeof(val)),
		  "%s: want one Date header\n%s", what, r->head);
	check_date(val, what);
	if (want_server) {
		IT_ASSERT(h1_count_hdr(r, "Server") == 1 && h1_header(r, "Server", val, sizeof(val)) &&
			  strcmp(val, "swerver") == 0, "%s: want \"Server: swerver\"\n%s", what,
			  r->head);
	} else {
		IT_ASSERT(h1_count_hdr(r, "Server") == 0, "%s: Server header with server_header false\n%s",
			  what, r->head);
	}
	IT_ASSERT(h1_count_hdr(r, "X-Request-Id") == 1 && h1_header(r, "X-Request-Id", val, sizeof(val)),
		  "%s: want one X-Request-Id\n%s", what, r->head);
	IT_ASSERT(strlen(val) == 16 && strspn(val, "0123456789abcdefABCDEF") == 16,
		  "%s: X-Request-Id \"%s\" is not 16 hex digits", what, val);
}

static void check_headers_on(int port, bool want_server)
{
	struct it_conn *c = it_conn_new(port);
	struct it_response r;

	h1_roundtrip(c, PROBE, 200, &r, "probe");
	check_common_headers(&r, want_server, "200");
	h1_roundtrip(c, "GET /nope HTTP/1.1\r\nHost: a\r\n\r\n", 404, &r, "404");
	check_common_headers(&r, want_server, "404");
	h1_roundtrip(c, "GET / HTTP/1.1\r\n\r\n", 400, &r, "400");
	check_common_headers(&r, want_server, "400");
	it_conn_free(c);
}

START_TEST(response_headers)
{
	const char *backend = it_backend(_i);
	int port;

	if (!backend)
		return;
	h1_start(backend, "", "", "", &port);
	check_headers_on(port, true);
}
END_TEST

START_TEST(response_headers_no_server)
{
	const char *backend = it_backend(_i);
	int port;

	if (!backend)
		return;
	h1_start(backend, "\"server_header\": false", "", "", &port);
	check_headers_on(port, false);
}
END_TEST

static Suite *http1_headers_suite(void)
{
	Suite *s = suite_create("http1_headers");
	TCase *tc = it_tcase("headers");

	tcase_add_loop_test(tc, response_headers, 0, 2);
	tcase_add_loop_test(tc, response_headers_no_server, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

IT_SUITE(http1_headers_suite);
