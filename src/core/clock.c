/* SPDX-License-Identifier: MIT */
/* clock.c - the cached HTTP date. */
#include <config.h>

#include <stdio.h>
#include <time.h>
#include "core/clock.h"

static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
				     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

void sw_clock_format_http(time_t t, char *buf)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	/* strftime's %a/%b follow the locale; HTTP wants English names. */
	snprintf(buf, SW_HTTP_DATE_LEN + 1, "%s, %02d %s %04d %02d:%02d:%02d GMT",
		 days[tm.tm_wday % 7], tm.tm_mday % 100, months[tm.tm_mon % 12],
		 (tm.tm_year + 1900) % 10000, tm.tm_hour % 100, tm.tm_min % 100,
		 tm.tm_sec % 100);
}

const char *sw_clock_http_date(void)
{
	static char cached[SW_HTTP_DATE_LEN + 1];
	static time_t cached_at = -1;
	struct timespec ts;

	/* CLOCK_REALTIME_COARSE is a vDSO read without a syscall. */
	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	if (ts.tv_sec != cached_at) {
		sw_clock_format_http(ts.tv_sec, cached);
		cached_at = ts.tv_sec;
	}
	return cached;
}
