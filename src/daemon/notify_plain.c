/* SPDX-License-Identifier: MIT */
/* notify_plain.c - the sd_notify datagram protocol without libsystemd. */
#include <config.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "daemon/notify.h"

/*
 * A build without libsystemd still tells a service manager it is ready:
 * the protocol is one datagram to $NOTIFY_SOCKET ('@' = abstract).
 */
bool sw_notify_enabled(void)
{
	const char *s = getenv("NOTIFY_SOCKET");
	return s && (*s == '/' || *s == '@');
}

int sw_notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t plen;
	socklen_t len;
	ssize_t n;
	int fd;

	if (!sw_notify_enabled())
		return SW_OK;
	plen = strlen(path);
	if (plen >= sizeof(sa.sun_path))
		return SW_ERROR;
	memcpy(sa.sun_path, path, plen);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return SW_ERROR;
	n = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa, len);
	close(fd);
	return n < 0 ? SW_ERROR : SW_OK;
}

uint64_t sw_notify_watchdog_usec(void)
{
	const char *s = getenv("WATCHDOG_USEC");
	const char *pid = getenv("WATCHDOG_PID");

	if (!s)
		return 0;
	if (pid && strtol(pid, NULL, 10) != getpid())
		return 0;
	return strtoull(s, NULL, 10);
}

bool sw_journal_available(void)
{
	return false;
}

int sw_journal_write(const struct sw_journal_entry *e)
{
	(void)e;
	return SW_DECLINED;
}
