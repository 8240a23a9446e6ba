/* SPDX-License-Identifier: MIT */
/* config_check.c - semantic validation of a parsed config: cross-references, conflicts, features. */
#include <config.h>     /* autoconf's, from the build dir (not core/config.h) */

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/config.h"
#include "core/diag.h"
#include "core/module.h"

struct ipaddr {
	int family;
	uint8_t a[16];
};

static bool parse_ip(const char *s, struct ipaddr *ip)
{
	memset(ip, 0, sizeof(*ip));
	if (!s)
		return false;
	ip->family = strchr(s, ':') ? AF_INET6 : AF_INET;
	return inet_pton(ip->family, s, ip->a) == 1;
}

static bool ip_is_any(const struct ipaddr *ip)
{
	static const uint8_t zero[16];

	return memcmp(ip->a, zero, ip->family == AF_INET ? 4 : 16) == 0;
}

static bool ip_is_loopback(const struct ipaddr *ip)
{
	static const uint8_t v6_loop[16] = { [15] = 1 };
	static const uint8_t v4_mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (ip->family == AF_INET)
		return ip->a[0] == 127;
	if (memcmp(ip->a, v6_loop, 16) == 0)
		return true;
	return memcmp(ip->a, v4_mapped, 12) == 0 && ip->a[12] == 127;
}

static bool ip_equal(const struct ipaddr *a, const struct ipaddr *b)
{
	return a->family == b->family && memcmp(a->a, b->a, 16) == 0;
}

static void format_hostport(char *buf, size_t size, const char *addr, unsigned port)
{
	snprintf(buf, size, strchr(addr, ':') ? "[%s]:%u" : "%s:%u", addr, port);
}

static bool have(const char *module)
{
	return sw_module_find(module) != NULL;
}

static void need(struct sw_diag *d, const char *path, const char *module, const char *sw)
{
	if (!have(module))
		sw_diag_error(d, path, "requires a build with %s", sw);
}

static void check_listener_pair(struct sw_diag *d, const struct sw_server_cfg *s, size_t i)
{
	const struct sw_listener_cfg *l = &s->listeners[i];
	struct ipaddr a, b;
	char path[64], hp[80];

	if (l->port == 0 || !parse_ip(l->address, &a))
		return;         /* port 0: the kernel picks distinct ports */
	for (size_t j = 0; j < i; j++) {
		const struct sw_listener_cfg *o = &s->listeners[j];
		if (o->port != l->port || !parse_ip(o->address, &b) || !ip_equal(&a, &b))
			continue;
		snprintf(path, sizeof(path), "server.listeners[%zu]", i);
		format_hostport(hp, sizeof(hp), l->address, l->port);
		sw_diag_error(d, path, "%s duplicates server.listeners[%zu]", hp, j);
		return;
	}
}

static void check_listeners(const struct sw_config *cfg, struct sw_diag *d)
{
	const struct sw_server_cfg *s = &cfg->server;
	struct ipaddr ip;
	char path[80];

	if (s->listeners_count == 0)
		sw_diag_error(d, "server.listeners", "must not be empty");
	for (size_t i = 0; i < s->listeners_count; i++) {
		const struct sw_listener_cfg *l = &s->listeners[i];
		if (!parse_ip(l->address, &ip)) {
			snprintf(path, sizeof(path), "server.listeners[%zu].address", i);
			sw_diag_error(d, path, "must be an IPv4 or IPv6 address");
		}
		if (l->h2c_only && l->use_tls) {
			snprintf(path, sizeof(path), "server.listeners[%zu].h2c_only", i);
			sw_diag_error(d, path, "cannot be combined with use_tls");
		}
		if (l->proxy_protocol && s->trusted_proxies_count == 0) {
			/* Headers are believed only from trusted_proxies: none could be. */
			snprintf(path, sizeof(path), "server.listeners[%zu].proxy_protocol", i);
			sw_diag_error(d, path, "requires server.trusted_proxies (the load balancers' addresses)");
		}
		check_listener_pair(d, s, i);
	}
}

/* Counts the listeners whose flag at off is set; with d, reports `key` of each. */
static size_t listeners_with(const struct sw_config *cfg, size_t off, const char *key,
			     struct sw_diag *d, const char *msg)
{
	size_t n = 0;
	char path[80];

	for (size_t i = 0; i < cfg->server.listeners_count; i++) {
		if (!*(const bool *)((const char *)&cfg->server.listeners[i] + off))
			continue;
		n++;
		if (!d)
			continue;
		snprintf(path, sizeof(path), "server.listeners[%zu].%s", i, key);
		sw_diag_error(d, path, "%s", msg);
	}
	return n;
}

/*
 * A listener flag for a unit the build lacks.  (A key of the unit's own
 * section already said so at parse time; its checks are the unit's.)
 */
static void check_listener_units(const struct sw_config *cfg, struct sw_diag *d)
{
	if (!have("tls"))
		listeners_with(cfg, offsetof(struct sw_listener_cfg, use_tls), "use_tls", d,
			       "requires a build with --enable-tls");
	if (!have("http3"))
		listeners_with(cfg, offsetof(struct sw_listener_cfg, quic_enabled), "quic_enabled", d,
			       "requires a build with --enable-http3");
	if (!have("http2"))
		listeners_with(cfg, offsetof(struct sw_listener_cfg, h2c_only), "h2c_only", d,
			       "requires a build with --enable-http2");
}

static void check_features(const struct sw_config *cfg, struct sw_diag *d)
{
	if (cfg->server.io_backend == SW_IO_URING)
		need(d, "server.io_backend", "io_uring", "--enable-io-uring");
	if (cfg->log.target && strcmp(cfg->log.target, "journal") == 0)
		need(d, "log.target", "systemd", "--with-systemd");
}

static void check_admin(const struct sw_config *cfg, struct sw_diag *d)
{
	const struct sw_admin_cfg *a = &cfg->admin;
	struct ipaddr ip, lip;
	bool ip_ok = parse_ip(a->address, &ip);

	if (a->enabled && !a->api_key)
		sw_diag_error(d, "admin.api_key", "required when admin.enabled is true");
	if (a->api_key && strlen(a->api_key) < 16)
		sw_diag_error(d, a->api_key_file ? "admin.api_key_file" : a->api_key_env ?
			      "admin.api_key_env" : "admin.api_key", "must be at least 16 characters");
	if (!ip_ok)
		sw_diag_error(d, "admin.address", "must be an IPv4 or IPv6 address");
	if (!a->enabled || !ip_ok)
		return;
	if (!ip_is_loopback(&ip))
		sw_diag_warn(d, "admin.address", "%s is not a loopback address; "
			     "the admin API is reachable from the network", a->address);
	for (size_t i = 0; a->port && i < cfg->server.listeners_count; i++) {
		const struct sw_listener_cfg *l = &cfg->server.listeners[i];
		if (l->port != a->port || !parse_ip(l->address, &lip))
			continue;
		/* A wildcard bind overlaps every address of the port. */
		if (ip_equal(&ip, &lip) || ip_is_any(&ip) || ip_is_any(&lip)) {
			sw_diag_error(d, "admin.port", "%u is also used by server.listeners[%zu]",
				      a->port, i);
			break;
		}
	}
}

int sw_config_validate(const struct sw_config *cfg, struct sw_diag *d)
{
	size_t errors = d->errors;

	check_listeners(cfg, d);
	check_listener_units(cfg, d);
	check_features(cfg, d);
	for (size_t i = 0; i < SW_UNIT_SLOTS; i++)
		if (cfg->unit[i].data && cfg->unit[i].sec->validate)
			cfg->unit[i].sec->validate(cfg, d);
	check_admin(cfg, d);
	return d->errors == errors ? SW_OK : SW_ERROR;
}

