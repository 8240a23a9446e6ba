/* SPDX-License-Identifier: MIT */
/* cidr.h - a set of IPv4/IPv6 CIDR blocks compiled into sorted ranges for O(log n) lookups. */
#ifndef SW_GATEWAY_CIDR_H
#define SW_GATEWAY_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/*
 * Every address is kept as 128 bits, IPv4 as IPv4-mapped IPv6
 * (::ffff:a.b.c.d), so a v4 block and a v4-mapped peer compare alike and
 * one sorted array serves both families.  Blocks become [lo, hi] ranges,
 * sorted and merged by sw_cidr_set_finish: a lookup is a binary search,
 * about 9 steps for 500 blocks.
 */
struct sw_ip128 {
	uint64_t hi, lo;
};

struct sw_cidr_range {
	struct sw_ip128 lo, hi;
};

struct sw_cidr_set {
	struct sw_cidr_range *r;
	size_t n, cap;
};

/* The outcome of sw_cidr_set_add. */
enum sw_cidr_parse {
	SW_CIDR_OK,
	SW_CIDR_HOST_BITS,   /* added, but the address had bits past the prefix (cleared) */
	SW_CIDR_BAD,         /* not an address or "address/prefix" */
};

/* Adds "10.0.0.0/8", "2001:db8::/32", "::1" or "192.0.2.7". */
enum sw_cidr_parse sw_cidr_set_add(struct sw_cidr_set *s, const char *text);
/* Sorts and merges overlapping or adjacent blocks; call once after the adds. */
void sw_cidr_set_finish(struct sw_cidr_set *s);
void sw_cidr_set_release(struct sw_cidr_set *s);

/* Parses an address (no prefix) into 128 bits; v4 and v4-mapped alike.  False when it is not one. */
bool sw_ip128_parse(const char *text, struct sw_ip128 *ip);
/* AF_INET or AF_INET6 socket address into 128 bits; false for other families. */
bool sw_ip128_from_sockaddr(const struct sockaddr *sa, struct sw_ip128 *ip);

/* True when ip is in a block of the (finished) set. */
bool sw_cidr_set_has(const struct sw_cidr_set *s, struct sw_ip128 ip);

#endif
