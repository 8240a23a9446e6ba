/* SPDX-License-Identifier: MIT */
/*
 * fuzz_proxy_proto.c - libFuzzer target for the PROXY protocol header
 * parser (sw_pp_parse, src/http/proxy_proto.c), the first bytes of every
 * connection on a listeners[].proxy_protocol listener.
 *
 * Input: the connection's first bytes, in a buffer of exactly that size (a
 * read past it is caught by ASan).  Checks the contract
 * src/http/http1_conn_pp.c relies on: a header is 15..536 bytes and within
 * the input; "more" always asks for more than it has and never past 536
 * (over TLS exactly that is read); every proper prefix of a header is
 * "more"; an address given is IPv4 or IPv6 with its length.
 */
#include <config.h>

#define FUZZ_NAME "fuzz_proxy_proto"
#include "fuzz_common.h"
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include "http/proxy_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *p = malloc(size ? size : 1);
	struct sw_pp_info info;
	size_t need = 0, len;

	memcpy(p, data, size);
	switch (sw_pp_parse(p, size, &info, &need)) {
	case SW_PP_DONE:
		len = info.len;
		CHECK(len >= SW_PP_MIN && len <= size && len <= SW_PP_V2_MAX, "header length %zu of %zu", len, size);
		CHECK(info.src_len == 0 ||
		      (info.src.ss_family == AF_INET && info.src_len == sizeof(struct sockaddr_in)) ||
		      (info.src.ss_family == AF_INET6 && info.src_len == sizeof(struct sockaddr_in6)),
		      "address family %d, length %u", info.src.ss_family, (unsigned)info.src_len);
		for (size_t k = 0; k < len; k++)
			CHECK(sw_pp_parse(p, k, &info, &need) == SW_PP_MORE && need > k && need <= len,
			      "prefix %zu of a %zu-byte header", k, len);
		break;
	case SW_PP_MORE:
		CHECK(need > size && need <= SW_PP_V2_MAX, "need %zu with %zu", need, size);
		break;
	case SW_PP_BAD:
		break;
	}
	free(p);
	return 0;
}
