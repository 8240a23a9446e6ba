/* SPDX-License-Identifier: MIT */
/* client_addr.c - CIDR matching and the X-Forwarded-For walk behind trusted proxies. */
#include <config.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include "http/context.h"
#include "http/client_addr.h"

/* An address normalized so that IPv4-mapped IPv6 and IPv4 compare alike. */
struct ip {
	int family;            /* AF_INET (a[0..3]) or AF_INET6 */
	uint8_t a[16];
};

static const uint8_t mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

static void normalize(struct ip *ip)
{
	if (ip->family == AF_INET6 && memcmp(ip->a, mapped_prefix, 12) == 0) {
		memmove(ip->a, ip->a + 12, 4);
		memset(ip->a + 4, 0, 12);
		ip->family = AF_INET;
	}
}

static bool ip_from_sockaddr(const struct sockaddr *sa, struct ip *ip)
{
	memset(ip, 0, sizeof(*ip));
	if (!sa)
		return false;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;
		ip->family = AF_INET;
		memcpy(ip->a, &in->sin_addr, 4);
		return true;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;
		ip->family = AF_INET6;
		memcpy(ip->a, &in6->sin6_addr, 16);
		normalize(ip);
		return true;
	}
	return false;
}

/* Strips "[v6]:port", "[v6]" and "v4:port" down to the address. */
static bool strip_port(const char **s, size_t *len)
{
	const char *colon;

	if (*len && (*s)[0] == '[') {
		const char *close = memchr(*s, ']', *len);
		size_t rest;
		if (!close)
			return false;
		rest = *len - (size_t)(close + 1 - *s);
		if (rest && close[1] != ':')
			return false;
		*len = (size_t)(close - *s) - 1;
		(*s)++;
		return true;
	}
	colon = memchr(*s, ':', *len);
	if (colon && memchr(*s, '.', *len) && !memchr(colon + 1, ':', *len - (size_t)(colon + 1 - *s)))
		*len = (size_t)(colon - *s);   /* one colon and a dot: "v4:port" */
	return true;
}

static bool ip_parse(const char *s, size_t len, struct ip *ip)
{
	char buf[INET6_ADDRSTRLEN + 1];

	memset(ip, 0, sizeof(*ip));
	if (!strip_port(&s, &len) || len == 0 || len >= sizeof(buf))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	ip->family = memchr(buf, ':', len) ? AF_INET6 : AF_INET;
	if (inet_pton(ip->family, buf, ip->a) != 1)
		return false;
	normalize(ip);
	return true;
}

static bool prefix_eq(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned bytes = bits / 8, rest = bits % 8;

	if (memcmp(a, b, bytes) != 0)
		return false;
	if (!rest)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (a[bytes] & mask) == (b[bytes] & mask);
}

/* A v4 block matches v4 (and mapped) addresses; a v6 block sees v4 as mapped. */
static bool cidr_has(const struct sw_cidr *c, const struct ip *ip)
{
	uint8_t v6[16];

	if (c->family == AF_INET)
		return ip->family == AF_INET && prefix_eq(c->addr, ip->a, c->prefix);
	if (ip->family == AF_INET6)
		return prefix_eq(c->addr, ip->a, c->prefix);
	memcpy(v6, mapped_prefix, 12);
	memcpy(v6 + 12, ip->a, 4);
	return prefix_eq(c->addr, v6, c->prefix);
}

static bool trusted(const struct sw_cidr *list, size_t n, const struct ip *ip)
{
	for (size_t i = 0; i < n; i++)
		if (cidr_has(&list[i], ip))
			return true;
	return false;
}

bool sw_cidr_match(const struct sw_cidr *list, size_t n, const struct sockaddr *sa)
{
	struct ip ip;

	return ip_from_sockaddr(sa, &ip) && trusted(list, n, &ip);
}

bool sw_cidr_match_text(const struct sw_cidr *list, size_t n, const char *s, size_t len)
{
	struct ip ip;

	return ip_parse(s, len, &ip) && trusted(list, n, &ip);
}

static void ip_format(const struct ip *ip, char *buf, size_t size)
{
	char text[INET6_ADDRSTRLEN];

	if (!inet_ntop(ip->family, ip->a, text, sizeof(text)))
		snprintf(text, sizeof(text), "-");
	snprintf(buf, size, "%s", text);
}

void sw_addr_format(const struct sockaddr *sa, char *buf, size_t size)
{
	struct ip ip;

	if (ip_from_sockaddr(sa, &ip))
		ip_format(&ip, buf, size);
	else
		snprintf(buf, size, "-");
}

/* The list element left of *end in v (a field value), or false when none is left. */
static bool prev_entry(const char *v, size_t *end, struct sw_str *entry)
{
	size_t e = *end, s = e;

	if (e == SIZE_MAX)
		return false;
	while (s > 0 && v[s - 1] != ',')
		s--;
	while (s < e && (v[s] == ' ' || v[s] == '\t'))
		s++;
	while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
		e--;
	entry->p = v + s;
	entry->len = e - s;
	while (s > 0 && v[s - 1] != ',')   /* back over the leading blanks */
		s--;
	*end = s ? s - 1 : SIZE_MAX;
	return true;
}

/*
 * Moves *cur one hop left through one field's entries while *cur is
 * trusted; false once the walk must stop (untrusted hop or malformed entry).
 */
static bool walk_field(const struct sw_cidr *list, size_t n, struct sw_str v, struct ip *cur)
{
	size_t end = v.len;
	struct sw_str e;
	struct ip next;

	while (prev_entry(v.p, &end, &e)) {
		if (e.len == 0)
			continue;   /* empty list elements are allowed and mean nothing */
		if (!trusted(list, n, cur) || !ip_parse(e.p, e.len, &next))
			return false;
		*cur = next;
	}
	return true;
}

void sw_client_addr(const struct sw_exchange *x, char *buf, size_t size)
{
	const struct sw_server_cfg *srv = &x->ctx->cfg->server;
	const struct sw_request *req = &x->req;
	struct ip cur;

	if (!ip_from_sockaddr(x->peer, &cur)) {
		sw_addr_format(NULL, buf, size);
		return;
	}
	if (srv->trusted_proxies_count && trusted(srv->trusted_proxies, srv->trusted_proxies_count, &cur)) {
		for (unsigned i = req->header_count; i-- > 0;) {
			if (!sw_str_ieq(req->headers[i].name, "X-Forwarded-For"))
				continue;
			if (!walk_field(srv->trusted_proxies, srv->trusted_proxies_count,
					req->headers[i].value, &cur))
				break;
		}
	}
	ip_format(&cur, buf, size);
}
