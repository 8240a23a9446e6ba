/* SPDX-License-Identifier: MIT */
/* notify.c - sd_notify helpers common to the libsystemd and plain builds. */
#include <config.h>

#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include "daemon/notify.h"

int sw_notify_printf(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return sw_notify(buf);
}

int sw_notify_reloading(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return sw_notify_printf("RELOADING=1\nMONOTONIC_USEC=%llu",
				(unsigned long long)ts.tv_sec * 1000000ULL +
				(unsigned long long)ts.tv_nsec / 1000ULL);
}
