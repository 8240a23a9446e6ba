/* SPDX-License-Identifier: MIT */
/* test_proxy_proto.c - the PROXY protocol header parser: v1, v2, every truncation, the bounds. */
#include <config.h>

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <string.h>
#include "http/proxy_proto.h"
#include "check_main.h"

static const uint8_t sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a };

static enum sw_pp_result parse(const void *p, size_t n, struct sw_pp_info *info)
{
	size_t need = 0;

	return sw_pp_parse(p, n, info, &need);
}

static void assert_v4(const struct sw_pp_info *info, const char *addr, uint16_t port)
{
	const struct sockaddr_in *in = (const void *)&info->src;
	char text[INET_ADDRSTRLEN];

	ck_assert_uint_eq(info->src_len, sizeof(*in));
	ck_assert_int_eq(in->sin_family, AF_INET);
	ck_assert_ptr_nonnull(inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text)));
	ck_assert_str_eq(text, addr);
	ck_assert_uint_eq(ntohs(in->sin_port), port);
}

/*
 * Every proper prefix of a valid header asks for more, with a need past
 * what it has and no further than the header's end; the whole is DONE.
 */
static void assert_prefixes(const uint8_t *h, size_t len)
{
	struct sw_pp_info info;

	for (size_t n = 0; n < len; n++) {
		size_t need = 0;
		ck_assert_msg(sw_pp_parse(h, n, &info, &need) == SW_PP_MORE, "prefix %zu", n);
		ck_assert_msg(need > n && need <= len, "prefix %zu: need %zu", n, need);
	}
	ck_assert(parse(h, len, &info) == SW_PP_DONE);
	ck_assert_uint_eq(info.len, len);
}

START_TEST(test_v1_tcp4)
{
	const char *h = "PROXY TCP4 192.0.2.7 127.0.0.1 54321 8080\r\nGET / HTTP/1.1\r\n";
	struct sw_pp_info info;

	ck_assert(parse(h, strlen(h), &info) == SW_PP_DONE);
	ck_assert_uint_eq(info.len, strlen("PROXY TCP4 192.0.2.7 127.0.0.1 54321 8080\r\n"));
	assert_v4(&info, "192.0.2.7", 54321);
	assert_prefixes((const uint8_t *)h, info.len);
}
END_TEST

START_TEST(test_v1_tcp6)
{
	const char *h = "PROXY TCP6 2001:db8::7 ::1 1 65535\r\n";
	struct sw_pp_info info;
	const struct sockaddr_in6 *in6 = (const void *)&info.src;
	struct in6_addr want;

	ck_assert(parse(h, strlen(h), &info) == SW_PP_DONE);
	ck_assert_uint_eq(info.src_len, sizeof(*in6));
	inet_pton(AF_INET6, "2001:db8::7", &want);
	ck_assert_mem_eq(&in6->sin6_addr, &want, 16);
	ck_assert_uint_eq(ntohs(in6->sin6_port), 1);
	assert_prefixes((const uint8_t *)h, strlen(h));
}
END_TEST

/* UNKNOWN keeps the socket's address, whatever follows it on the line. */
START_TEST(test_v1_unknown)
{
	const char *a = "PROXY UNKNOWN\r\n", *b = "PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n";
	struct sw_pp_info info;

	ck_assert(parse(a, strlen(a), &info) == SW_PP_DONE);
	ck_assert_uint_eq(info.len, 15);
	ck_assert_uint_eq(info.src_len, 0);
	assert_prefixes((const uint8_t *)a, strlen(a));
	ck_assert(parse(b, strlen(b), &info) == SW_PP_DONE);
	ck_assert_uint_eq(info.src_len, 0);
}
END_TEST

START_TEST(test_v1_malformed)
{
	static const char *const bad[] = {
		"GET / HTTP/1.1\r\n\r\n",
		"PROXY TCP4 192.0.2.7 127.0.0.1 54321\r\n",            /* a field missing */
		"PROXY TCP4 192.0.2.7 127.0.0.1 54321 8080 9\r\n",     /* one too many */
		"PROXY TCP4 192.0.2.7  127.0.0.1 54321 8080\r\n",      /* double space */
		"PROXY TCP4 192.0.2.7 127.0.0.1 54321 8080 \r\n",      /* trailing space */
		"PROXY TCP4 2001:db8::7 127.0.0.1 1 2\r\n",            /* v6 under TCP4 */
		"PROXY TCP6 192.0.2.7 ::1 1 2\r\n",                    /* v4 under TCP6 */
		"PROXY TCP4 192.0.2.7 127.0.0.1 65536 80\r\n",         /* port over 16 bits */
		"PROXY TCP4 192.0.2.7 127.0.0.1 01 80\r\n",            /* leading zero */
		"PROXY TCP4 192.0.2.7 127.0.0.1 -1 80\r\n",
		"PROXY UDP4 192.0.2.7 127.0.0.1 1 80\r\n",
		"PROXY TCP4 192.0.2.7 127.0.0.1 1 80\n",               /* LF without CR */
		"PROXY TCP4 192.0.2.7 127.0.0.1 1 80\r\r\n",
		"PROXY \r\n",
		"proxy TCP4 192.0.2.7 127.0.0.1 1 80\r\n",
	};
	struct sw_pp_info info;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(parse(bad[i], strlen(bad[i]), &info) == SW_PP_BAD, "%s", bad[i]);
}
END_TEST

/* 107 bytes without a line end is over the bound; a NUL or control byte is refused at once. */
START_TEST(test_v1_bounds)
{
	char h[200];
	struct sw_pp_info info;

	memset(h, 'a', sizeof(h));
	memcpy(h, "PROXY UNKNOWN ", 14);
	ck_assert(parse(h, SW_PP_V1_MAX - 1, &info) == SW_PP_MORE);
	ck_assert(parse(h, SW_PP_V1_MAX, &info) == SW_PP_BAD);
	ck_assert(parse(h, sizeof(h), &info) == SW_PP_BAD);
	/* Exactly 107 with its CRLF is the longest allowed. */
	memcpy(h + SW_PP_V1_MAX - 2, "\r\n", 2);
	ck_assert(parse(h, SW_PP_V1_MAX, &info) == SW_PP_DONE);
	h[20] = '\0';
	ck_assert(parse(h, 30, &info) == SW_PP_BAD);
}
END_TEST

/* A v2 header: sig, ver_cmd, fam, len, then body bytes. */
static size_t v2(uint8_t *out, uint8_t ver_cmd, uint8_t fam, const uint8_t *body, size_t body_len)
{
	memcpy(out, sig, 12);
	out[12] = ver_cmd;
	out[13] = fam;
	out[14] = (uint8_t)(body_len >> 8);
	out[15] = (uint8_t)body_len;
	if (body_len)
		memcpy(out + 16, body, body_len);
	return 16 + body_len;
}

static const uint8_t v4_body[12] = { 192, 0, 2, 7, 127, 0, 0, 1, 0xd4, 0x31, 0x1f, 0x90 };

START_TEST(test_v2_inet)
{
	uint8_t h[64];
	size_t len = v2(h, 0x21, 0x11, v4_body, sizeof(v4_body));
	struct sw_pp_info info;

	ck_assert(parse(h, len, &info) == SW_PP_DONE);
	ck_assert_uint_eq(info.len, 28);
	assert_v4(&info, "192.0.2.7", 54321);
	assert_prefixes(h, len);
}
END_TEST

START_TEST(test_v2_inet6)
{
	uint8_t body[36] = { 0x20, 0x01, 0x0d, 0xb8 }, h[64];
	size_t len;
	struct sw_pp_info info;
	const struct sockaddr_in6 *in6 = (const void *)&info.src;

	body[15] = 7;
	body[31] = 1;
	body[32] = 0x01;
	body[33] = 0xbb;
	len = v2(h, 0x21, 0x21, body, sizeof(body));
	ck_assert(parse(h, len, &info) == SW_PP_DONE);
	ck_assert_uint_eq(info.src_len, sizeof(*in6));
	ck_assert_mem_eq(&in6->sin6_addr, body, 16);
	ck_assert_uint_eq(ntohs(in6->sin6_port), 443);
	assert_prefixes(h, len);
}
END_TEST

/* TLVs after the addresses are skipped within the declared length. */
START_TEST(test_v2_tlvs)
{
	uint8_t body[12 + 3 + 5 + 3 + 4], h[64];
	size_t len;
	struct sw_pp_info info;

	memcpy(body, v4_body, 12);
	memcpy(body + 12, "\x04\x00\x05" "\x00\x00\x00\x00\x00", 8);   /* PP2_TYPE_NOOP */
	memcpy(body + 20, "\x01\x00\x04" "h2\r\n", 7);                 /* ALPN, odd bytes */
	len = v2(h, 0x21, 0x11, body, sizeof(body));
	ck_assert(parse(h, len + 5, &info) == SW_PP_DONE);   /* the data after is not ours */
	ck_assert_uint_eq(info.len, len);
	assert_v4(&info, "192.0.2.7", 54321);
	assert_prefixes(h, len);
}
END_TEST

/* LOCAL, AF_UNSPEC and AF_UNIX keep the socket's own address. */
START_TEST(test_v2_local)
{
	uint8_t unix_body[216] = { '/' }, h[300];
	struct sw_pp_info info;
	size_t len;

	len = v2(h, 0x20, 0x00, NULL, 0);
	ck_assert(parse(h, len, &info) == SW_PP_DONE);
	ck_assert_uint_eq(info.len, 16);
	ck_assert_uint_eq(info.src_len, 0);
	len = v2(h, 0x20, 0x11, v4_body, sizeof(v4_body));   /* LOCAL ignores its addresses */
	ck_assert(parse(h, len, &info) == SW_PP_DONE);
	ck_assert_uint_eq(info.src_len, 0);
	len = v2(h, 0x21, 0x00, NULL, 0);
	ck_assert(parse(h, len, &info) == SW_PP_DONE);
	ck_assert_uint_eq(info.src_len, 0);
	len = v2(h, 0x21, 0x31, unix_body, sizeof(unix_body));
	ck_assert(parse(h, len, &info) == SW_PP_DONE);
	ck_assert_uint_eq(info.len, 16 + 216);
	ck_assert_uint_eq(info.src_len, 0);
}
END_TEST

START_TEST(test_v2_bad)
{
	uint8_t h[SW_PP_V2_MAX + 32] = { 0 };
	struct sw_pp_info info;
	size_t len, need = 0;

	len = v2(h, 0x21, 0x11, v4_body, sizeof(v4_body));
	h[7] ^= 1;                                               /* signature */
	ck_assert(parse(h, len, &info) == SW_PP_BAD);
	ck_assert(parse(h, 8, &info) == SW_PP_BAD);              /* seen in the first bytes */
	len = v2(h, 0x11, 0x11, v4_body, sizeof(v4_body));      /* version 1 */
	ck_assert(parse(h, len, &info) == SW_PP_BAD);
	len = v2(h, 0x22, 0x11, v4_body, sizeof(v4_body));      /* command 2 */
	ck_assert(parse(h, len, &info) == SW_PP_BAD);
	len = v2(h, 0x21, 0x11, v4_body, 8);                     /* shorter than INET's addresses */
	ck_assert(parse(h, len, &info) == SW_PP_BAD);
	len = v2(h, 0x21, 0x21, v4_body, 12);                    /* shorter than INET6's */
	ck_assert(parse(h, len, &info) == SW_PP_BAD);
	/* The longest declared length allowed, and one more. */
	v2(h, 0x21, 0x11, v4_body, 12);
	h[14] = (uint8_t)((SW_PP_V2_MAX - 16) >> 8);
	h[15] = (uint8_t)(SW_PP_V2_MAX - 16);
	ck_assert(sw_pp_parse(h, 16, &info, &need) == SW_PP_MORE);
	ck_assert_uint_eq(need, SW_PP_V2_MAX);
	ck_assert(parse(h, SW_PP_V2_MAX, &info) == SW_PP_DONE);
	h[15]++;
	ck_assert(parse(h, 16, &info) == SW_PP_BAD);
	h[14] = h[15] = 0xff;
	ck_assert(parse(h, sizeof(h), &info) == SW_PP_BAD);
}
END_TEST

static Suite *proxy_proto_suite(void)
{
	Suite *s = suite_create("proxy_proto");
	TCase *tc = tcase_create("proxy_proto");

	tcase_add_test(tc, test_v1_tcp4);
	tcase_add_test(tc, test_v1_tcp6);
	tcase_add_test(tc, test_v1_unknown);
	tcase_add_test(tc, test_v1_malformed);
	tcase_add_test(tc, test_v1_bounds);
	tcase_add_test(tc, test_v2_inet);
	tcase_add_test(tc, test_v2_inet6);
	tcase_add_test(tc, test_v2_tlvs);
	tcase_add_test(tc, test_v2_local);
	tcase_add_test(tc, test_v2_bad);
	suite_add_tcase(s, tc);
	return s;
}

SW_TEST_SUITE(proxy_proto_suite);
