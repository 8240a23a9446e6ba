/* SPDX-License-Identifier: MIT */
/* proxy_proto.c - parsing the PROXY protocol header, v1 and v2 (haproxy's proxy-protocol.txt). */
#include <config.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>
#include "http/proxy_proto.h"

static const uint8_t v2_sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a };

/* ---- v1: "PROXY TCP4 src dst sport dport\r\n" ---- */

/* The next space-terminated word of s[*i..end), into out (NUL-terminated). */
static bool v1_word(const char *s, size_t end, size_t *i, char *out, size_t size)
{
	size_t start = *i;

	while (*i < end && s[*i] != ' ')
		(*i)++;
	if (*i == start || *i - start >= size)
		return false;
	memcpy(out, s + start, *i - start);
	out[*i - start] = '\0';
	if (*i < end)
		(*i)++;   /* the space */
	return true;
}

/* A decimal port 0-65535 without sign or leading zeros (the specification's form). */
static bool v1_port(const char *w, uint16_t *port)
{
	unsigned long v = 0;
	size_t len = strlen(w);

	if (len == 0 || len > 5 || (len > 1 && w[0] == '0'))
		return false;
	for (size_t k = 0; k < len; k++) {
		if (w[k] < '0' || w[k] > '9')
			return false;
		v = v * 10 + (unsigned long)(w[k] - '0');
	}
	if (v > 65535)
		return false;
	*port = (uint16_t)v;
	return true;
}

static bool v1_fields(const char *s, size_t end, struct sw_pp_info *info)
{
	char proto[8], src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], sp[8], dp[8];
	struct in6_addr a6, d6;
	uint16_t sport, dport;
	size_t i = 6;   /* after "PROXY " */

	if (!v1_word(s, end, &i, proto, sizeof(proto)))
		return false;
	if (strcmp(proto, "UNKNOWN") == 0)
		return true;   /* anything may follow; the socket's address stays */
	bool v4 = strcmp(proto, "TCP4") == 0;
	if (!v4 && strcmp(proto, "TCP6") != 0)
		return false;
	if (!v1_word(s, end, &i, src, sizeof(src)) || !v1_word(s, end, &i, dst, sizeof(dst)) ||
	    !v1_word(s, end, &i, sp, sizeof(sp)) || !v1_word(s, end, &i, dp, sizeof(dp)) || i != end ||
	    s[end - 1] == ' ' || !v1_port(sp, &sport) || !v1_port(dp, &dport))
		return false;
	if (inet_pton(v4 ? AF_INET : AF_INET6, src, &a6) != 1 ||
	    inet_pton(v4 ? AF_INET : AF_INET6, dst, &d6) != 1)
		return false;
	if (v4) {
		struct sockaddr_in *in = (struct sockaddr_in *)&info->src;
		in->sin_family = AF_INET;
		memcpy(&in->sin_addr, &a6, 4);
		in->sin_port = htons(sport);
		info->src_len = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&info->src;
		in6->sin6_family = AF_INET6;
		in6->sin6_addr = a6;
		in6->sin6_port = htons(sport);
		info->src_len = sizeof(*in6);
	}
	return true;
}

static enum sw_pp_result v1_parse(const uint8_t *p, size_t n, struct sw_pp_info *info, size_t *need)
{
	static const char magic[] = "PROXY ";
	size_t k;

	if (memcmp(p, magic, n < 6 ? n : 6) != 0)
		return SW_PP_BAD;
	for (k = 0; k < n && k < SW_PP_V1_MAX; k++) {
		if (p[k] == '\n')
			break;
		/* Printable ASCII and the CR just before the LF only. */
		if (p[k] == '\r' ? k + 1 < n && p[k + 1] != '\n' : (p[k] < 0x20 || p[k] > 0x7e))
			return SW_PP_BAD;
	}
	if (k == n) {
		if (n >= SW_PP_V1_MAX)
			return SW_PP_BAD;
		*need = n < SW_PP_MIN ? SW_PP_MIN : n + 1;
		return SW_PP_MORE;
	}
	if (k == SW_PP_V1_MAX || k < 7 || p[k - 1] != '\r')
		return SW_PP_BAD;
	if (!v1_fields((const char *)p, k - 1, info))
		return SW_PP_BAD;
	info->len = k + 1;
	return SW_PP_DONE;
}

/* ---- v2: signature, version/command, family/protocol, length, addresses, TLVs ---- */

static void v2_addresses(const uint8_t *a, uint8_t fam, struct sw_pp_info *info)
{
	if (fam == 0x11) {   /* AF_INET over STREAM: src 4, dst 4, sport 2, dport 2 */
		struct sockaddr_in *in = (struct sockaddr_in *)&info->src;
		in->sin_family = AF_INET;
		memcpy(&in->sin_addr, a, 4);
		memcpy(&in->sin_port, a + 8, 2);
		info->src_len = sizeof(*in);
	} else if (fam == 0x21) {   /* AF_INET6 over STREAM: 16, 16, 2, 2 */
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&info->src;
		in6->sin6_family = AF_INET6;
		memcpy(&in6->sin6_addr, a, 16);
		memcpy(&in6->sin6_port, a + 32, 2);
		info->src_len = sizeof(*in6);
	}
}

static enum sw_pp_result v2_parse(const uint8_t *p, size_t n, struct sw_pp_info *info, size_t *need)
{
	if (memcmp(p, v2_sig, n < 12 ? n : 12) != 0)
		return SW_PP_BAD;
	if (n >= 13 && (p[12] >> 4) != 2)
		return SW_PP_BAD;   /* version 2 only */
	if (n >= 13 && (p[12] & 0x0f) > 1)
		return SW_PP_BAD;   /* LOCAL (0) or PROXY (1) */
	if (n < 16) {
		*need = 16;
		return SW_PP_MORE;
	}
	size_t body = (size_t)p[14] << 8 | p[15];
	if (16 + body > SW_PP_V2_MAX)
		return SW_PP_BAD;
	/* The addresses a family needs must fit in the declared length; the rest is TLVs. */
	uint8_t fam = p[13];
	size_t addr_len = fam == 0x11 ? 12 : fam == 0x21 ? 36 : 0;
	if ((p[12] & 0x0f) == 1 && body < addr_len)
		return SW_PP_BAD;
	if (n < 16 + body) {
		*need = 16 + body;
		return SW_PP_MORE;
	}
	if ((p[12] & 0x0f) == 1)
		v2_addresses(p + 16, fam, info);
	info->len = 16 + body;
	return SW_PP_DONE;
}

enum sw_pp_result sw_pp_parse(const uint8_t *p, size_t n, struct sw_pp_info *info, size_t *need)
{
	memset(info, 0, sizeof(*info));
	*need = SW_PP_MIN;
	if (n == 0)
		return SW_PP_MORE;
	if (p[0] == 'P')
		return v1_parse(p, n, info, need);
	if (p[0] == v2_sig[0])
		return v2_parse(p, n, info, need);
	return SW_PP_BAD;
}
