/* SPDX-License-Identifier: MIT */
/* config_check.c - the proxy section's checks: upstream servers, routes and their cross-references. */
#include <config.h>     /* autoconf's, from the build dir (not core/config.h) */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "core/diag.h"
#include "proxy/config.h"

static void check_upstream_server(const struct sw_upstream_server_cfg *sv, const char *path,
				  struct sw_diag *d)
{
	char sub[160];

	if (sv->address && sv->unix_path) {
		sw_diag_error(d, path, "set either address and port, or unix, not both");
	} else if (!sv->address && !sv->unix_path) {
		sw_diag_error(d, path, "needs address and port, or unix");
	} else if (sv->address && sv->port == 0) {
		snprintf(sub, sizeof(sub), "%s.port", path);
		sw_diag_error(d, sub, "must be 1-65535");
	} else if (sv->unix_path && sv->unix_path[0] != '/') {
		snprintf(sub, sizeof(sub), "%s.unix", path);
		sw_diag_error(d, sub, "must be an absolute path");
	}
}

static void check_upstream(const struct sw_proxy_cfg *px, size_t i, struct sw_diag *d)
{
	const struct sw_upstream_cfg *u = &px->upstreams[i];
	char path[128];

	snprintf(path, sizeof(path), "upstreams[%zu].name", i);
	if (!u->name || !*u->name)
		sw_diag_error(d, path, "required");
	for (size_t j = 0; u->name && j < i; j++) {
		if (px->upstreams[j].name && strcmp(px->upstreams[j].name, u->name) == 0) {
			sw_diag_error(d, path, "\"%s\" is already used by upstreams[%zu]", u->name, j);
			break;
		}
	}
	snprintf(path, sizeof(path), "upstreams[%zu].servers", i);
	if (u->servers_count == 0)
		sw_diag_error(d, path, "must not be empty");
	for (size_t j = 0; j < u->servers_count; j++) {
		snprintf(path, sizeof(path), "upstreams[%zu].servers[%zu]", i, j);
		check_upstream_server(&u->servers[j], path, d);
	}
	if (u->health_check.path && u->health_check.path[0] != '/') {
		snprintf(path, sizeof(path), "upstreams[%zu].health_check.path", i);
		sw_diag_error(d, path, "must start with '/'");
	}
}

static const struct sw_upstream_cfg *find_upstream(const struct sw_proxy_cfg *px, const char *name)
{
	for (size_t i = 0; i < px->upstreams_count; i++)
		if (px->upstreams[i].name && strcmp(px->upstreams[i].name, name) == 0)
			return &px->upstreams[i];
	return NULL;
}

/* RFC 9110 token: what a header field name may contain. */
static bool is_token(const char *s)
{
	if (!s || !*s)
		return false;
	for (const unsigned char *c = (const unsigned char *)s; *c; c++)
		if (!((*c | 0x20u) - 'a' < 26 || (unsigned)(*c - '0') < 10 || strchr("!#$%&'*+-.^_`|~", *c)))
			return false;
	return true;
}

sw_printf(4, 5)
static void route_error(struct sw_diag *d, size_t i, const char *key, const char *fmt, ...)
{
	char path[160], msg[512];
	va_list ap;

	snprintf(path, sizeof(path), "routes[%zu]%s%s", i, *key ? "." : "", key);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sw_diag_error(d, path, "%s", msg);
}

static void check_route_headers(const struct sw_route_cfg *r, size_t i, struct sw_diag *d)
{
	char key[96];

	for (size_t j = 0; j < r->upstream_headers_count; j++) {
		const struct sw_header_cfg *h = &r->upstream_headers[j];
		snprintf(key, sizeof(key), "upstream_headers[%zu].name", j);
		if (!h->name)
			route_error(d, i, key, "required");
		else if (!is_token(h->name))
			route_error(d, i, key, "\"%s\" is not a valid header name", h->name);
		snprintf(key, sizeof(key), "upstream_headers[%zu].value", j);
		if (!h->value)
			route_error(d, i, key, "required");
		else if (strpbrk(h->value, "\r\n"))
			route_error(d, i, key, "must not contain CR or LF");
	}
}

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static void check_route(const struct sw_proxy_cfg *px, size_t i, struct sw_diag *d)
{
	const struct sw_route_cfg *r = &px->routes[i];

	if (!r->path_prefix)
		route_error(d, i, "path_prefix", "required");
	else if (r->path_prefix[0] != '/')
		route_error(d, i, "path_prefix", "must start with '/'");
	if (!r->upstream)
		route_error(d, i, "upstream", "required");
	else if (!find_upstream(px, r->upstream))
		route_error(d, i, "upstream", "no upstream named \"%s\"", r->upstream);
	if (r->rewrite_pattern && !r->rewrite_replacement)
		route_error(d, i, "rewrite_replacement", "required when rewrite_pattern is set");
	if (r->rewrite_replacement && !r->rewrite_pattern)
		route_error(d, i, "rewrite_pattern", "required when rewrite_replacement is set");
	check_route_headers(r, i, d);
	for (size_t j = 0; r->path_prefix && j < i; j++) {
		const struct sw_route_cfg *o = &px->routes[j];
		if (same_str(o->path_prefix, r->path_prefix) && same_str(o->host, r->host)) {
			route_error(d, i, "", "same path_prefix and host as routes[%zu]", j);
			break;
		}
	}
}

void sw_proxy_config_validate(const struct sw_config *cfg, struct sw_diag *d)
{
	const struct sw_proxy_cfg *px = sw_proxy_config(cfg);

	for (size_t i = 0; i < px->upstreams_count; i++)
		check_upstream(px, i, d);
	for (size_t i = 0; i < px->routes_count; i++)
		check_route(px, i, d);
}
