/* SPDX-License-Identifier: MIT */
/* listener.c - binding the SO_REUSEPORT socket groups and carrying them over reloads. */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/log.h"
#include "core/module.h"
#include "daemon/listener.h"
#include "daemon/port_claim.h"
#include "daemon/worker.h"
#include "quic/quic.h"

#define LISTEN_BACKLOG 4096

static int resolve(struct sw_listen *l, char *err, size_t err_size)
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_PASSIVE,
				  .ai_socktype = SOCK_STREAM };
	struct addrinfo *ai;
	int rc = getaddrinfo(l->cfg.address, NULL, &hints, &ai);

	if (rc != 0) {
		snprintf(err, err_size, "listener %s: not an IP address: %s",
			 l->cfg.address, gai_strerror(rc));
		return SW_ERROR;
	}
	memcpy(&l->addr, ai->ai_addr, ai->ai_addrlen);
	l->addrlen = ai->ai_addrlen;
	freeaddrinfo(ai);
	return SW_OK;
}

static void set_port(struct sw_listen *l, uint16_t port)
{
	bool v6 = l->addr.ss_family == AF_INET6;

	if (l->addr.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&l->addr)->sin6_port = htons(port);
	else
		((struct sockaddr_in *)&l->addr)->sin_port = htons(port);
	l->port = port;
	snprintf(l->name, sizeof(l->name), "%s%s%s:%u", v6 ? "[" : "", l->cfg.address,
		 v6 ? "]" : "", port);
}

static int bind_one(struct sw_listen *l, char *err, size_t err_size)
{
	int one = 1, fd;
	struct sockaddr_storage got;
	socklen_t gotlen = sizeof(got);

	fd = socket(l->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0)
		goto fail;
	/* "::" must not also take the IPv4 port: a "0.0.0.0" listener may want it. */
	if (l->addr.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&l->addr, l->addrlen) != 0 ||
	    listen(fd, LISTEN_BACKLOG) != 0)
		goto fail;
	if (l->port == 0) {
		/* Port 0: the first socket learns the port, the rest join it. */
		if (getsockname(fd, (struct sockaddr *)&got, &gotlen) != 0)
			goto fail;
		set_port(l, ntohs(got.ss_family == AF_INET6 ?
				  ((struct sockaddr_in6 *)&got)->sin6_port :
				  ((struct sockaddr_in *)&got)->sin_port));
	}
	return fd;
fail:
	snprintf(err, err_size, "cannot listen on %s: %s", l->name, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

/*
 * A new group at a fixed port is ours alone (issue #19 item 7): another
 * process listening there would otherwise share the traffic silently.
 * Our own sockets may be there (a reload that changes a listener's kind
 * at the same port); the new sockets then join that group after them, so
 * a group index is no longer its slot.
 */
static int claim(struct sw_listen *l, const struct sockaddr *addr, socklen_t len, int socktype,
		 const char *name, char *err, size_t err_size)
{
	bool own;

	if (sw_port_claim_check(addr, len, socktype, name, &own, err, err_size) != SW_OK)
		return SW_ERROR;
	if (own && socktype == SOCK_STREAM)
		l->unordered = true;
	return SW_OK;
}

/* ---- HTTP/3: the UDP group beside the TCP one ---- */

static int bind_udp(struct sw_listen *l, char *err, size_t err_size)
{
	int one = 1;
	int fd = socket(l->udp_addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		goto fail;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0)
		goto fail;
	if (l->udp_addr.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&l->udp_addr, l->udp_addrlen) != 0)
		goto fail;
	return fd;
fail:
	snprintf(err, err_size, "cannot listen on udp %s: %s", l->udp_name, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

/* A QUIC listener's UDP group bound at exactly l's UDP address in set, other than l. */
static const struct sw_listen *find_udp_group(const struct sw_listen_set *set,
					      const struct sw_listen *l)
{
	for (size_t i = 0; set && i < set->n; i++) {
		const struct sw_listen *o = &set->v[i];
		if (o != l && o->udp_nslots && o->udp_addrlen == l->udp_addrlen &&
		    memcmp(&o->udp_addr, &l->udp_addr, l->udp_addrlen) == 0)
			return o;
	}
	return NULL;
}

/*
 * An existing UDP group at l's address carries over, whatever happened to
 * the TCP side (its port, TLS, h2c): the same sockets in the same slot
 * order.  Binding new ones beside them would put both in one reuseport
 * group; once the old workers closed theirs, the kernel would have moved
 * the new sockets to other indices than their slots, and the steering
 * program would send every connection's packets to the wrong worker.
 * Returns the slot from which new sockets are still needed.
 */
static int keep_udp(struct sw_listen *l, const struct sw_listen *old, unsigned nslots,
		    unsigned *from, char *err, size_t err_size)
{
	unsigned keep = SW_MIN(old->udp_nslots, nslots);

	for (unsigned i = 0; i < keep; i++) {
		l->udp_fds[i] = fcntl(old->udp_fds[i], F_DUPFD_CLOEXEC, 3);
		if (l->udp_fds[i] < 0) {
			snprintf(err, err_size, "cannot keep udp %s: %s", old->udp_name, strerror(errno));
			return SW_ERROR;
		}
		l->udp_nslots = i + 1;
	}
	*from = keep;
	return SW_OK;
}

/*
 * The UDP sockets of a QUIC listener in set (the previous ones in reuse
 * carried over, new ones added in slot order).  The QUIC unit then
 * attaches its steering program to the group and makes, once per process
 * tree, the secrets every worker must share; it runs here because the
 * master opens every group before it forks the workers that use it.
 */
static int open_udp(struct sw_listen *l, const struct sw_listen_set *set, unsigned nslots,
		    const struct sw_listen_set *reuse, char *err, size_t err_size)
{
	const struct sw_quic_api *q = sw_quic_api();
	bool v6 = l->addr.ss_family == AF_INET6;
	const struct sw_listen *old;
	unsigned from = 0;

	if (!l->cfg.quic_enabled)
		return SW_OK;
	l->udp_port = l->cfg.quic_port ? l->cfg.quic_port : l->port;
	l->udp_addr = l->addr;
	l->udp_addrlen = l->addrlen;
	if (v6)
		((struct sockaddr_in6 *)&l->udp_addr)->sin6_port = htons(l->udp_port);
	else
		((struct sockaddr_in *)&l->udp_addr)->sin_port = htons(l->udp_port);
	snprintf(l->udp_name, sizeof(l->udp_name), "%s%s%s:%u", v6 ? "[" : "", l->cfg.address,
		 v6 ? "]" : "", l->udp_port);
	/*
	 * Two listeners of one set with the same HTTP/3 address (TCP :80 and
	 * :443, both with quic_port 443) share the first one's group: a second
	 * group there would join the first in the kernel and break steering.
	 */
	if (find_udp_group(set, l))
		return SW_OK;
	old = find_udp_group(reuse, l);
	if (old && keep_udp(l, old, nslots, &from, err, err_size) != SW_OK)
		return SW_ERROR;
	if (!old && claim(l, (struct sockaddr *)&l->udp_addr, l->udp_addrlen, SOCK_DGRAM,
			  l->udp_name, err, err_size) != SW_OK)
		return SW_ERROR;
	for (unsigned i = from; i < nslots; i++) {
		l->udp_fds[i] = bind_udp(l, err, err_size);
		if (l->udp_fds[i] < 0)
			return SW_ERROR;
		l->udp_nslots = i + 1;
	}
	if (q && q->group_open(l->udp_fds, l->udp_nslots, err, err_size) != SW_OK)
		return SW_ERROR;
	return SW_OK;
}

static void close_slots(struct sw_listen *l)
{
	for (unsigned i = 0; i < l->nslots; i++)
		if (l->fds[i] >= 0)
			close(l->fds[i]);
	l->nslots = 0;
	for (unsigned i = 0; i < l->udp_nslots; i++)
		if (l->udp_fds[i] >= 0)
			close(l->udp_fds[i]);
	l->udp_nslots = 0;
}

static bool same_listener(const struct sw_listener_cfg *a, const struct sw_listener_cfg *b)
{
	return strcmp(a->address, b->address) == 0 && a->port == b->port &&
	       a->use_tls == b->use_tls && a->h2c_only == b->h2c_only;
}

static const struct sw_listen *find_reusable(const struct sw_listen_set *reuse,
					     const struct sw_listener_cfg *c)
{
	for (size_t i = 0; reuse && i < reuse->n; i++)
		if (reuse->v[i].nslots && same_listener(&reuse->v[i].cfg, c))
			return &reuse->v[i];
	return NULL;
}

static void copy_cfg(struct sw_listen *l, const struct sw_listener_cfg *c)
{
	l->cfg = *c;
	l->cfg.address = sw_strdup(c->address);
	for (unsigned i = 0; i < SW_MAX_SLOTS; i++)
		l->fds[i] = l->udp_fds[i] = -1;
}

/*
 * Shares the old listener's sockets with l by dup(): the same kernel socket,
 * and so the same accept queue, lives on in the new set, while the old set
 * can be closed whole once its workers are gone.  Returns the slot from
 * which new sockets are still needed.
 */
static int take_over(struct sw_listen *l, const struct sw_listen *old, unsigned nslots,
		     unsigned *from, char *err, size_t err_size)
{
	unsigned keep = SW_MIN(old->nslots, nslots);

	l->addr = old->addr;
	l->addrlen = old->addrlen;
	l->port = old->port;
	l->unordered = old->unordered;
	memcpy(l->name, old->name, sizeof(l->name));
	for (unsigned i = 0; i < keep; i++) {
		l->fds[i] = fcntl(old->fds[i], F_DUPFD_CLOEXEC, 3);
		if (l->fds[i] < 0) {
			snprintf(err, err_size, "cannot keep %s: %s", l->name, strerror(errno));
			l->nslots = i;
			return SW_ERROR;
		}
		l->nslots = i + 1;
	}
	*from = keep;
	return SW_OK;
}

static int open_one(struct sw_listen *l, const struct sw_listener_cfg *c,
		    const struct sw_listen_set *set, unsigned nslots,
		    const struct sw_listen_set *reuse, char *err, size_t err_size)
{
	const struct sw_listen *old = find_reusable(reuse, c);
	unsigned from = 0;

	copy_cfg(l, c);
	if (old) {
		if (take_over(l, old, nslots, &from, err, err_size) != SW_OK)
			return SW_ERROR;
	} else {
		if (resolve(l, err, err_size) != SW_OK)
			return SW_ERROR;
		set_port(l, c->port);
		if (c->port && claim(l, (struct sockaddr *)&l->addr, l->addrlen, SOCK_STREAM,
				     l->name, err, err_size) != SW_OK)
			return SW_ERROR;
	}
	for (unsigned i = from; i < nslots; i++) {
		l->fds[i] = bind_one(l, err, err_size);
		if (l->fds[i] < 0)
			return SW_ERROR;
		l->nslots = i + 1;
	}
	return open_udp(l, set, nslots, reuse, err, err_size);
}

int sw_listen_set_open(struct sw_listen_set *set, const struct sw_config *cfg,
		       unsigned nslots, const struct sw_listen_set *reuse,
		       char *err, size_t err_size)
{
	size_t n = cfg->server.listeners_count;
	/* The admin API listens on its own address, last in the set. */
	struct sw_listener_cfg admin = { .address = cfg->admin.address, .port = cfg->admin.port };

	set->v = sw_calloc(n + 1, sizeof(*set->v));
	set->n = 0;
	for (size_t i = 0; i < n; i++) {
		set->n = i + 1;  /* so a failure closes this one's sockets too */
		if (open_one(&set->v[i], &cfg->server.listeners[i], set, nslots, reuse,
			     err, err_size) != SW_OK) {
			sw_listen_set_close(set);
			return SW_ERROR;
		}
	}
	if (cfg->admin.enabled) {
		set->n = n + 1;
		set->v[n].admin = true;
		if (open_one(&set->v[n], &admin, set, nslots, reuse, err, err_size) != SW_OK) {
			sw_listen_set_close(set);
			return SW_ERROR;
		}
	}
	return SW_OK;
}

void sw_listen_set_close(struct sw_listen_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		close_slots(&set->v[i]);
		free(set->v[i].cfg.address);
	}
	free(set->v);
	set->v = NULL;
	set->n = 0;
}

void sw_listen_set_keep_slot(struct sw_listen_set *set, unsigned slot)
{
	for (size_t i = 0; i < set->n; i++) {
		struct sw_listen *l = &set->v[i];
		for (unsigned s = 0; s < l->nslots; s++) {
			if (s != slot && l->fds[s] >= 0) {
				close(l->fds[s]);
				l->fds[s] = -1;
			}
		}
		for (unsigned s = 0; s < l->udp_nslots; s++) {
			if (s != slot && l->udp_fds[s] >= 0) {
				close(l->udp_fds[s]);
				l->udp_fds[s] = -1;
			}
		}
	}
}
