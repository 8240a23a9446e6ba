/* SPDX-License-Identifier: MIT */
/* proxy_proto.h - the PROXY protocol header (v1 text, v2 binary) a load balancer puts before a connection's bytes. */
#ifndef SW_HTTP_PROXY_PROTO_H
#define SW_HTTP_PROXY_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* v1: "PROXY ... \r\n" is at most 107 bytes (the specification's bound). */
#define SW_PP_V1_MAX 107
/*
 * v2: the 16-byte header and its declared length.  Addresses take at most
 * 216 bytes; the rest is TLVs, which we skip.  Anything longer than this
 * is refused rather than buffered (the specification's suggested 536).
 */
#define SW_PP_V2_MAX 536
/* The fewest bytes any header has ("PROXY UNKNOWN\r\n"): safe to read first. */
#define SW_PP_MIN 15

enum sw_pp_result {
	SW_PP_DONE,    /* a whole header: info filled */
	SW_PP_MORE,    /* a valid beginning: *need is the total to have before trying again */
	SW_PP_BAD,     /* not a PROXY header, malformed, or over the bounds */
};

struct sw_pp_info {
	size_t len;                   /* header bytes, the connection's data follows */
	/*
	 * 0 for v1 UNKNOWN, v2 LOCAL and v2 families other than INET/INET6
	 * over STREAM: the connection keeps its socket's own address.
	 */
	socklen_t src_len;
	struct sockaddr_storage src;  /* the client as the balancer saw it, with port */
};

/*
 * Parses p[0..n), the first bytes of a connection.  Never reads past n.
 * SW_PP_MORE also for an empty or short input that could still become a
 * header; SW_PP_BAD as soon as the bytes cannot.
 */
enum sw_pp_result sw_pp_parse(const uint8_t *p, size_t n, struct sw_pp_info *info, size_t *need);

#endif
