/* SPDX-License-Identifier: MIT */
/* port_claim.c - refusing an address another process already listens on. */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/common.h"
#include "daemon/port_claim.h"

#define MAX_HOLDERS 64

/*
 * A probe without SO_REUSEPORT fails with EADDRINUSE wherever a socket
 * listens (TCP) or is bound (UDP) at an address that overlaps ours, whoever
 * owns it; with SO_REUSEPORT the kernel would let a second process of the
 * same uid join the first one's group and share its traffic unnoticed.
 */
static bool probe_in_use(const struct sockaddr *addr, socklen_t len, int socktype)
{
	int one = 1, fd = socket(addr->sa_family, socktype | SOCK_CLOEXEC, 0);
	bool used;

	if (fd < 0)
		return false;  /* the real bind will say why */
	/* TCP: sockets in TIME_WAIT are no reason to refuse. */
	if (socktype == SOCK_STREAM)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (addr->sa_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	used = bind(fd, addr, len) != 0 && errno == EADDRINUSE;
	close(fd);
	return used;
}

/* Parses /proc/net's hex address (the kernel prints the raw 32-bit words). */
static bool parse_hex_words(const char *hex, uint32_t *words, size_t n)
{
	char chunk[9] = "";

	if (strlen(hex) != n * 8)
		return false;
	for (size_t i = 0; i < n; i++) {
		memcpy(chunk, hex + i * 8, 8);
		words[i] = (uint32_t)strtoul(chunk, NULL, 16);
	}
	return true;
}

/*
 * Whether an entry bound at words (1 word: IPv4, 4: IPv6) overlaps addr:
 * the same address, or a wildcard on either side.  An IPv6 wildcard may be
 * dual-stack, so it overlaps an IPv4 address too.
 */
static bool overlaps(const struct sockaddr *addr, const uint32_t *words, size_t n)
{
	static const uint32_t zero[4];
	bool entry_any = memcmp(words, zero, n * 4) == 0;
	const struct in6_addr *a6 = &((const struct sockaddr_in6 *)addr)->sin6_addr;

	if (addr->sa_family == AF_INET) {
		uint32_t a = ((const struct sockaddr_in *)addr)->sin_addr.s_addr;
		if (n == 4)
			return entry_any || (words[0] == 0 && words[1] == 0 &&
					     words[2] == htonl(0xffff) && words[3] == a);
		return entry_any || a == 0 || words[0] == a;
	}
	if (n == 1)
		return false;  /* our IPv6 sockets are IPv6-only */
	return entry_any || IN6_IS_ADDR_UNSPECIFIED(a6) || memcmp(words, a6, 16) == 0;
}

/* Inodes of the sockets in one /proc/net table that hold port at an overlapping address. */
static size_t scan_table(const char *path, const struct sockaddr *addr, uint16_t port,
			 int socktype, size_t words, unsigned long *inodes, size_t n, size_t max)
{
	/* TCP_LISTEN is 0x0A; an unconnected UDP socket shows TCP_CLOSE, 0x07. */
	unsigned want_state = socktype == SOCK_STREAM ? 0x0A : 0x07;
	FILE *f = fopen(path, "re");
	char line[512], hex[40];
	unsigned p, st;
	unsigned long inode;
	uint32_t w[4];

	if (!f)
		return n;
	while (n < max && fgets(line, sizeof(line), f)) {
		if (sscanf(line, " %*u: %39[0-9A-Fa-f]:%x %*s %x %*s %*s %*s %*u %*u %lu",
			   hex, &p, &st, &inode) != 4)
			continue;
		if (p == port && st == want_state && inode &&
		    parse_hex_words(hex, w, words) && overlaps(addr, w, words))
			inodes[n++] = inode;
	}
	fclose(f);
	return n;
}

/* True when /proc/<pid>/fd has a link to socket:[inode]. */
static bool pid_holds(const char *pid, unsigned long inode)
{
	char dir[64], path[320], link[64], want[40];
	struct dirent *e;
	bool found = false;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%s/fd", pid);
	snprintf(want, sizeof(want), "socket:[%lu]", inode);
	d = opendir(dir);
	if (!d)
		return false;
	while (!found && (e = readdir(d))) {
		ssize_t n;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n > 0) {
			link[n] = '\0';
			found = strcmp(link, want) == 0;
		}
	}
	closedir(d);
	return found;
}

static pid_t parent_of(pid_t pid)
{
	char path[64], line[256];
	int ppid = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "PPid: %d", &ppid) == 1)
			break;
	fclose(f);
	return (pid_t)ppid;
}

/* A process that holds the socket: this one first, else the first found; 0 if none visible. */
static pid_t holder_of(unsigned long inode)
{
	struct dirent *e;
	pid_t found = 0;
	DIR *d;

	if (pid_holds("self", inode))
		return getpid();
	d = opendir("/proc");
	if (!d)
		return 0;
	while (!found && (e = readdir(d))) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		if (*end == '\0' && pid > 0 && pid != getpid() &&
		    pid_holds(e->d_name, inode))
			found = (pid_t)pid;
	}
	closedir(d);
	/* Name the top of a process tree that shares it (a master, not one of its workers). */
	while (found) {
		pid_t up = parent_of(found);
		char name[24];
		snprintf(name, sizeof(name), "%d", (int)up);
		if (up <= 1 || !pid_holds(name, inode))
			break;
		found = up;
	}
	return found;
}

static void describe(pid_t pid, char *buf, size_t size)
{
	char path[64], comm[64] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "re");
	if (f) {
		if (fgets(comm, sizeof(comm), f))
			comm[strcspn(comm, "\n")] = '\0';
		fclose(f);
	}
	snprintf(buf, size, "pid %d%s%s%s", (int)pid, comm[0] ? " (" : "", comm,
		 comm[0] ? ")" : "");
}

int sw_port_claim_check(const struct sockaddr *addr, socklen_t len, int socktype,
			const char *name, bool *own, char *err, size_t err_size)
{
	bool tcp = socktype == SOCK_STREAM;
	unsigned long inodes[MAX_HOLDERS];
	uint16_t port;
	size_t n = 0;
	char who[96];

	*own = false;
	if (!probe_in_use(addr, len, socktype))
		return SW_OK;
	port = ntohs(addr->sa_family == AF_INET6 ? ((const struct sockaddr_in6 *)addr)->sin6_port :
		     ((const struct sockaddr_in *)addr)->sin_port);
	if (addr->sa_family == AF_INET)
		n = scan_table(tcp ? "/proc/net/tcp" : "/proc/net/udp", addr, port, socktype, 1,
			       inodes, n, MAX_HOLDERS);
	n = scan_table(tcp ? "/proc/net/tcp6" : "/proc/net/udp6", addr, port, socktype, 4,
		       inodes, n, MAX_HOLDERS);
	/* Nothing that listens (a bound client socket?): the real bind decides. */
	if (n == 0)
		return SW_OK;
	for (size_t i = 0; i < n; i++) {
		pid_t pid = holder_of(inodes[i]);
		/* Ours, or a worker of ours still draining a previous generation. */
		if (pid && (pid == getpid() || parent_of(pid) == getpid()))
			continue;
		if (pid)
			describe(pid, who, sizeof(who));
		else
			snprintf(who, sizeof(who), "a process this user cannot see");
		snprintf(err, err_size, "cannot listen on %s%s: %s: %s %s there", tcp ? "" : "udp ",
			 name, strerror(EADDRINUSE), who, tcp ? "listens" : "is bound");
		return SW_ERROR;
	}
	*own = true;
	return SW_OK;
}
