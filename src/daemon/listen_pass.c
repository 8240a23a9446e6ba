/* SPDX-License-Identifier: MIT */
/* listen_pass.c - a listener set described in text, so a binary upgrade's new master takes its sockets. */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/log.h"
#include "daemon/listener.h"

/*
 * One listener per ';'-terminated record:
 *   ADMIN TLS H2C QUIC PORT QUIC_PORT ADDRESS TCPFDS UDPFDS
 * with flags 0/1, ports as configured (0 = kernel-chosen) and the fds as
 * comma-separated numbers ("-" for none).  Addresses are numeric and carry
 * no spaces or ';'.  Where each socket is bound is read back from the
 * socket itself.
 */

static void put(char **buf, size_t *len, size_t *cap, const char *fmt, ...) sw_printf(4, 5);

static void put(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(*buf + *len, *cap - *len, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < *cap - *len)
			break;
		*cap *= 2;
		*buf = sw_realloc(*buf, *cap);
	}
	*len += (size_t)n;
}

static void put_fds(char **buf, size_t *len, size_t *cap, const int *fds, unsigned n)
{
	if (n == 0)
		put(buf, len, cap, " -");
	for (unsigned i = 0; i < n; i++)
		put(buf, len, cap, "%c%d", i ? ',' : ' ', fds[i]);
}

char *sw_listen_set_describe(const struct sw_listen_set *set)
{
	size_t len = 0, cap = 256;
	char *buf = sw_malloc(cap);

	buf[0] = '\0';
	for (size_t i = 0; i < set->n; i++) {
		const struct sw_listen *l = &set->v[i];
		put(&buf, &len, &cap, "%d %d %d %d %u %u %s", l->admin, l->cfg.use_tls,
		    l->cfg.h2c_only, l->cfg.quic_enabled, l->cfg.port, l->cfg.quic_port,
		    l->cfg.address);
		put_fds(&buf, &len, &cap, l->fds, l->nslots);
		put_fds(&buf, &len, &cap, l->udp_fds, l->udp_nslots);
		put(&buf, &len, &cap, ";");
	}
	return buf;
}

int sw_listen_set_inheritable(const struct sw_listen_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		const struct sw_listen *l = &set->v[i];
		for (unsigned s = 0; s < l->nslots; s++)
			if (fcntl(l->fds[s], F_SETFD, 0) != 0)
				return SW_ERROR;
		for (unsigned s = 0; s < l->udp_nslots; s++)
			if (fcntl(l->udp_fds[s], F_SETFD, 0) != 0)
				return SW_ERROR;
	}
	return SW_OK;
}

/* A socket of the wanted type, close-on-exec from now on; its bound address. */
static int take_fd(int fd, int type, struct sockaddr_storage *addr, socklen_t *addrlen)
{
	int got = 0;
	socklen_t optlen = sizeof(got);

	*addrlen = sizeof(*addr);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &got, &optlen) != 0 || got != type ||
	    getsockname(fd, (struct sockaddr *)addr, addrlen) != 0)
		return SW_ERROR;
	return fcntl(fd, F_SETFD, FD_CLOEXEC) == 0 ? SW_OK : SW_ERROR;
}

static uint16_t port_of(const struct sockaddr_storage *a)
{
	return ntohs(a->ss_family == AF_INET6 ? ((const struct sockaddr_in6 *)a)->sin6_port :
		     ((const struct sockaddr_in *)a)->sin_port);
}

static void name_of(char *out, size_t size, const char *address, int family, uint16_t port)
{
	bool v6 = family == AF_INET6;
	snprintf(out, size, "%s%s%s:%u", v6 ? "[" : "", address, v6 ? "]" : "", port);
}

/* "5,6,7" into fds (at most SW_MAX_SLOTS); "-" is none. */
static int parse_fds(const char *text, int *fds, unsigned *n)
{
	char *end;

	*n = 0;
	if (strcmp(text, "-") == 0)
		return SW_OK;
	for (const char *p = text; *p; p = end + (*end == ',')) {
		long v = strtol(p, &end, 10);
		if (end == p || v < 3 || v > 1 << 24 || (*end && *end != ',') || *n == SW_MAX_SLOTS)
			return SW_ERROR;
		fds[(*n)++] = (int)v;
	}
	return SW_OK;
}

static int import_one(struct sw_listen *l, char *rec, char *err, size_t err_size)
{
	char addr[48], tcp[4096], udp[4096];
	int admin, tls, h2c, quic;
	unsigned port, qport;

	for (unsigned i = 0; i < SW_MAX_SLOTS; i++)
		l->fds[i] = l->udp_fds[i] = -1;
	if (sscanf(rec, "%d %d %d %d %u %u %47s %4095s %4095s", &admin, &tls, &h2c, &quic,
		   &port, &qport, addr, tcp, udp) != 9 || port > 65535 || qport > 65535) {
		snprintf(err, err_size, "inherited listener \"%.80s\": not a listener record", rec);
		return SW_ERROR;
	}
	l->admin = admin;
	l->cfg = (struct sw_listener_cfg){ .address = sw_strdup(addr), .port = (uint16_t)port,
					   .use_tls = tls, .h2c_only = h2c, .quic_enabled = quic,
					   .quic_port = (uint16_t)qport };
	if (parse_fds(tcp, l->fds, &l->nslots) != SW_OK ||
	    parse_fds(udp, l->udp_fds, &l->udp_nslots) != SW_OK || l->nslots == 0) {
		snprintf(err, err_size, "inherited listener %s: bad descriptor list", addr);
		return SW_ERROR;
	}
	for (unsigned s = 0; s < l->nslots; s++) {
		if (take_fd(l->fds[s], SOCK_STREAM, &l->addr, &l->addrlen) != SW_OK)
			goto not_socket;
	}
	l->port = port_of(&l->addr);
	name_of(l->name, sizeof(l->name), addr, l->addr.ss_family, l->port);
	for (unsigned s = 0; s < l->udp_nslots; s++) {
		if (take_fd(l->udp_fds[s], SOCK_DGRAM, &l->udp_addr, &l->udp_addrlen) != SW_OK)
			goto not_socket;
	}
	if (l->udp_nslots) {
		l->udp_port = port_of(&l->udp_addr);
		name_of(l->udp_name, sizeof(l->udp_name), addr, l->udp_addr.ss_family, l->udp_port);
	}
	return SW_OK;
not_socket:
	snprintf(err, err_size, "inherited listener %s: a descriptor is not its socket (%s)", addr,
		 strerror(errno ? errno : EBADF));
	return SW_ERROR;
}

int sw_listen_set_import(struct sw_listen_set *set, const char *text, char *err, size_t err_size)
{
	char *copy = sw_strdup(text), *save = NULL;
	size_t n = 0;
	int rc = SW_OK;

	for (const char *p = text; *p; p++)
		n += *p == ';';
	set->v = sw_calloc(n + 1, sizeof(*set->v));
	set->n = 0;
	for (char *rec = strtok_r(copy, ";", &save); rec && rc == SW_OK && set->n < n;
	     rec = strtok_r(NULL, ";", &save)) {
		set->n++;
		rc = import_one(&set->v[set->n - 1], rec, err, err_size);
	}
	free(copy);
	if (rc != SW_OK)
		sw_listen_set_close(set);
	return rc;
}
