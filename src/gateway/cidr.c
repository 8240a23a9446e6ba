/* SPDX-License-Identifier: MIT */
/* cidr.c - CIDR blocks as merged, sorted 128-bit ranges; lookups by binary search. */
#include <config.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include "core/common.h"
#include "gateway/cidr.h"

static struct sw_ip128 ip_from_bytes(const uint8_t b[16])
{
	struct sw_ip128 ip = { 0, 0 };

	for (int i = 0; i < 8; i++) {
		ip.hi = ip.hi << 8 | b[i];
		ip.lo = ip.lo << 8 | b[i + 8];
	}
	return ip;
}

/* a.b.c.d as ::ffff:a.b.c.d */
static struct sw_ip128 ip_from_v4(const uint8_t b[4])
{
	struct sw_ip128 ip = { 0, 0xffff00000000ull };

	ip.lo |= (uint64_t)b[0] << 24 | (uint64_t)b[1] << 16 | (uint64_t)b[2] << 8 | b[3];
	return ip;
}

static int ip_cmp(struct sw_ip128 a, struct sw_ip128 b)
{
	if (a.hi != b.hi)
		return a.hi < b.hi ? -1 : 1;
	if (a.lo != b.lo)
		return a.lo < b.lo ? -1 : 1;
	return 0;
}

/* The mask of the host bits past a prefix of bits (0-128). */
static struct sw_ip128 host_mask(unsigned bits)
{
	struct sw_ip128 m;

	m.hi = bits >= 64 ? 0 : bits == 0 ? UINT64_MAX : UINT64_MAX >> bits;
	m.lo = bits >= 128 ? 0 : bits <= 64 ? UINT64_MAX : UINT64_MAX >> (bits - 64);
	return m;
}

/* inet_pton of len bytes; v4 as mapped v6.  *v4 says which family it was. */
static bool parse_addr(const char *s, size_t len, struct sw_ip128 *ip, bool *v4)
{
	char buf[INET6_ADDRSTRLEN];
	uint8_t b[16];

	if (len == 0 || len >= sizeof(buf))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	*v4 = !memchr(buf, ':', len);
	if (inet_pton(*v4 ? AF_INET : AF_INET6, buf, b) != 1)
		return false;
	*ip = *v4 ? ip_from_v4(b) : ip_from_bytes(b);
	return true;
}

bool sw_ip128_parse(const char *text, struct sw_ip128 *ip)
{
	bool v4;

	return parse_addr(text, strlen(text), ip, &v4);
}

bool sw_ip128_from_sockaddr(const struct sockaddr *sa, struct sw_ip128 *ip)
{
	if (sa && sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;
		*ip = ip_from_v4((const uint8_t *)&in->sin_addr);
		return true;
	}
	if (sa && sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;
		*ip = ip_from_bytes(in6->sin6_addr.s6_addr);
		return true;
	}
	return false;
}

/* "/N": 0-max, digits only, no sign or blanks strtoul would take. */
static bool parse_prefix(const char *s, unsigned max, unsigned *prefix)
{
	unsigned v = 0;

	if (!*s || strlen(s) > 3)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (unsigned)(*s - '0');
	}
	*prefix = v;
	return v <= max;
}

enum sw_cidr_parse sw_cidr_set_add(struct sw_cidr_set *s, const char *text)
{
	const char *slash = strchr(text, '/');
	size_t alen = slash ? (size_t)(slash - text) : strlen(text);
	struct sw_ip128 ip, m;
	unsigned prefix;
	bool v4, host_bits;

	if (!parse_addr(text, alen, &ip, &v4))
		return SW_CIDR_BAD;
	prefix = v4 ? 32 : 128;
	if (slash && !parse_prefix(slash + 1, prefix, &prefix))
		return SW_CIDR_BAD;
	if (v4)
		prefix += 96;   /* within ::ffff:0:0/96 */
	m = host_mask(prefix);
	host_bits = (ip.hi & m.hi) || (ip.lo & m.lo);
	ip.hi &= ~m.hi;
	ip.lo &= ~m.lo;
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 8;
		s->r = sw_realloc(s->r, s->cap * sizeof(*s->r));
	}
	s->r[s->n].lo = ip;
	s->r[s->n].hi = (struct sw_ip128){ ip.hi | m.hi, ip.lo | m.lo };
	s->n++;
	return host_bits ? SW_CIDR_HOST_BITS : SW_CIDR_OK;
}

static int range_cmp(const void *a, const void *b)
{
	return ip_cmp(((const struct sw_cidr_range *)a)->lo, ((const struct sw_cidr_range *)b)->lo);
}

/* hi + 1 == lo: the ranges touch and can be one. */
static bool adjacent(struct sw_ip128 hi, struct sw_ip128 lo)
{
	struct sw_ip128 next = { hi.hi + (hi.lo == UINT64_MAX), hi.lo + 1 };

	if (hi.hi == UINT64_MAX && hi.lo == UINT64_MAX)
		return false;
	return ip_cmp(next, lo) == 0;
}

void sw_cidr_set_finish(struct sw_cidr_set *s)
{
	size_t out = 0;

	if (s->n == 0)
		return;
	qsort(s->r, s->n, sizeof(*s->r), range_cmp);
	for (size_t i = 1; i < s->n; i++) {
		struct sw_cidr_range *last = &s->r[out];
		if (ip_cmp(s->r[i].lo, last->hi) <= 0 || adjacent(last->hi, s->r[i].lo)) {
			if (ip_cmp(s->r[i].hi, last->hi) > 0)
				last->hi = s->r[i].hi;
		} else {
			s->r[++out] = s->r[i];
		}
	}
	s->n = out + 1;
}

void sw_cidr_set_release(struct sw_cidr_set *s)
{
	free(s->r);
	memset(s, 0, sizeof(*s));
}

bool sw_cidr_set_has(const struct sw_cidr_set *s, struct sw_ip128 ip)
{
	size_t lo = 0, hi = s->n;

	/* The last range starting at or below ip is the only one that can hold it. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ip_cmp(s->r[mid].lo, ip) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo > 0 && ip_cmp(ip, s->r[lo - 1].hi) <= 0;
}
