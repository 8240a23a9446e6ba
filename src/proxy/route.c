/* SPDX-License-Identifier: MIT */
/* route.c - which route an exchange takes, and the target it has upstream. */
#include <config.h>

#include <string.h>
#include <strings.h>
#include "proxy/proxy.h"

/* The host part of an authority, without the port: "a.b:80" → "a.b". */
static struct sw_str host_of(struct sw_str a)
{
	const char *end = a.p + a.len;

	if (a.len && a.p[0] == '[') {
		const char *rb = memchr(a.p, ']', a.len);
		return (struct sw_str){ a.p, rb ? (size_t)(rb + 1 - a.p) : a.len };
	}
	for (const char *c = a.p; c < end; c++)
		if (*c == ':')
			return (struct sw_str){ a.p, (size_t)(c - a.p) };
	return a;
}

/* A route's host: exact (case-insensitive) or "*.example.com" for any subdomain. */
static bool host_matches(const char *pattern, struct sw_str host)
{
	size_t pl = strlen(pattern);

	if (pl > 2 && pattern[0] == '*' && pattern[1] == '.')
		return host.len > pl - 1 &&
		       strncasecmp(host.p + host.len - (pl - 1), pattern + 1, pl - 1) == 0;
	return host.len == pl && strncasecmp(host.p, pattern, pl) == 0;
}

/*
 * "/api" takes "/api", "/api/x" and "/api?q", not "/apix": a prefix ends
 * at a segment boundary unless it ends in '/' itself.
 */
static bool prefix_matches(const struct px_route *r, struct sw_str path)
{
	const char *pre = r->cfg->path_prefix;
	size_t n = r->prefix_len;

	if (path.len < n || memcmp(path.p, pre, n) != 0)
		return false;
	return path.len == n || pre[n - 1] == '/' || path.p[n] == '/';
}

/* Longest prefix first (the table is sorted), then a named host before any host. */
const struct px_route *px_route_match(const struct px_state *st, const struct sw_exchange *x)
{
	struct sw_str host = host_of(x->req.authority);

	for (size_t i = 0; i < st->nroutes; i++) {
		const struct px_route *r = &st->routes[i];

		if (!r->up || !prefix_matches(r, x->req.path))
			continue;
		if (r->cfg->host && !host_matches(r->cfg->host, host))
			continue;
		return r;
	}
	return NULL;
}

size_t px_route_target(const struct px_route *r, const struct sw_exchange *x, char *buf,
		       size_t size)
{
	struct sw_str path = x->req.path, query = x->req.query;
	const char *pat = r->cfg->rewrite_pattern;
	const char *rep = r->cfg->rewrite_replacement ? r->cfg->rewrite_replacement : "";
	size_t n = 0, pl = pat ? strlen(pat) : 0, rl = strlen(rep);

	/* rewrite_pattern is a prefix: "/api/v1" → "/v1" turns /api/v1/x into /v1/x. */
	if (pat && path.len >= pl && memcmp(path.p, pat, pl) == 0) {
		if (rl + path.len - pl + 2 > size)
			return 0;
		memcpy(buf, rep, rl);
		n = rl;
		path.p += pl;
		path.len -= pl;
		/* Exactly one '/' where the two meet, and the result starts with one. */
		if (n && buf[n - 1] == '/' && path.len && path.p[0] == '/') {
			path.p++;
			path.len--;
		}
		if ((n == 0 || buf[n - 1] != '/') && (path.len == 0 || path.p[0] != '/') &&
		    (n == 0 || path.len))
			buf[n++] = '/';
	}
	if (n + path.len + 1 + query.len + 1 > size)
		return 0;
	memcpy(buf + n, path.p, path.len);
	n += path.len;
	if (x->req.query.p) {
		buf[n++] = '?';
		memcpy(buf + n, query.p, query.len);
		n += query.len;
	}
	return n;
}

/* One segment of a path is "." or ".." (also spelled %2e), in any case. */
bool px_path_has_dot_segment(struct sw_str path)
{
	size_t i = 0;

	while (i < path.len) {
		size_t dots = 0, chars = 0;

		while (i < path.len && path.p[i] == '/')
			i++;
		for (; i < path.len && path.p[i] != '/'; chars++) {
			if (path.p[i] == '.') {
				dots++;
				i++;
			} else if (path.len - i >= 3 && path.p[i] == '%' && path.p[i + 1] == '2' &&
				   (path.p[i + 2] == 'e' || path.p[i + 2] == 'E')) {
				dots++;
				i += 3;
			} else {
				i++;
			}
		}
		if (chars && dots == chars && chars <= 2)
			return true;
	}
	return false;
}
