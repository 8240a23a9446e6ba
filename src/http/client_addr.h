/* SPDX-License-Identifier: MIT */
/* client_addr.h - who the client really is: the peer, or X-Forwarded-For behind trusted proxies. */
#ifndef SW_HTTP_CLIENT_ADDR_H
#define SW_HTTP_CLIENT_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include "core/config.h"
#include "http/exchange.h"

/* Room for any address sw_client_addr writes, NUL included. */
#define SW_CLIENT_ADDR_LEN 64

/*
 * The real client address as text ("192.0.2.7", "2001:db8::1"; IPv4-mapped
 * IPv6 is shown as IPv4; "-" when unknown).  It is the peer, unless the
 * peer is in server.trusted_proxies: then X-Forwarded-For is walked from
 * the right while addresses are trusted, and the first untrusted one (or
 * the left-most, when all are trusted) is the client.  A malformed entry
 * stops the walk at the last address vouched for, because nothing to its
 * left can be believed.  Every X-Forwarded-For field counts, in order.
 */
void sw_client_addr(const struct sw_exchange *x, char *buf, size_t size);

/* A socket address as text, without port; IPv4-mapped IPv6 as IPv4; "-" for others. */
void sw_addr_format(const struct sockaddr *sa, char *buf, size_t size);

/* True when sa (AF_INET or AF_INET6, mapped IPv4 included) is in a block of list. */
bool sw_cidr_match(const struct sw_cidr *list, size_t n, const struct sockaddr *sa);

/*
 * The textual variant: s (len bytes, not NUL-terminated) is an IPv4 or IPv6
 * address, optionally "[v6]", "[v6]:port" or "v4:port".  False when it
 * does not parse.
 */
bool sw_cidr_match_text(const struct sw_cidr *list, size_t n, const char *s, size_t len);

#endif
