/* SPDX-License-Identifier: MIT */
/* clock.h - wall-clock strings cached per second (HTTP Date, logs). */
#ifndef SW_CORE_CLOCK_H
#define SW_CORE_CLOCK_H

#include <stddef.h>
#include <time.h>

#define SW_HTTP_DATE_LEN 29  /* "Sun, 06 Nov 1994 08:49:37 GMT" */

/*
 * The IMF-fixdate for the current second, formatted at most once per
 * second per process (the Date header is on every response).
 */
const char *sw_clock_http_date(void);
/* Formats t as an IMF-fixdate into buf (at least SW_HTTP_DATE_LEN + 1). */
void sw_clock_format_http(time_t t, char *buf);

#endif
