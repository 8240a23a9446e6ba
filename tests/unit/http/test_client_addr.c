/* SPDX-License-Identifier: MIT */
/* test_client_addr.c - CIDR matching (v4, v6, mapped) and the X-Forwarded-For walk. */
#include <config.h>

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "http/context.h"
#include "http/client_addr.h"
#include "check_main.h"

/* "10.0.0.0/8" into a sw_cidr (the config loader's job in the daemon). */
static struct sw_cidr cidr(const char *text)
{
	struct sw_cidr c = { 0 };
	char buf[64];
	char *slash;

	snprintf(buf, sizeof(buf), "%s", text);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	c.family = strchr(buf, ':') ? AF_INET6 : AF_INET;
	ck_assert_int_eq(inet_pton(c.family, buf, c.addr), 1);
	c.prefix = (uint8_t)(slash ? atoi(slash + 1) : c.family == AF_INET ? 32 : 128);
	return c;
}

static struct sockaddr_storage sockaddr(const char *ip)
{
	struct sockaddr_storage ss = { 0 };

	if (strchr(ip, ':')) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
		in6->sin6_family = AF_INET6;
		ck_assert_int_eq(inet_pton(AF_INET6, ip, &in6->sin6_addr), 1);
	} else {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;
		in->sin_family = AF_INET;
		ck_assert_int_eq(inet_pton(AF_INET, ip, &in->sin_addr), 1);
	}
	return ss;
}

static bool match(const char *block, const char *ip)
{
	struct sw_cidr c = cidr(block);
	struct sockaddr_storage ss = sockaddr(ip);

	return sw_cidr_match(&c, 1, (struct sockaddr *)&ss);
}

static bool match_text(const char *block, const char *text)
{
	struct sw_cidr c = cidr(block);

	return sw_cidr_match_text(&c, 1, text, strlen(text));
}

START_TEST(test_cidr_v4)
{
	ck_assert(match("10.0.0.0/8", "10.1.2.3"));
	ck_assert(!match("10.0.0.0/8", "11.0.0.1"));
	ck_assert(match("192.168.1.7", "192.168.1.7"));
	ck_assert(!match("192.168.1.7", "192.168.1.8"));
	ck_assert(match("172.16.0.0/12", "172.31.255.255"));
	ck_assert(!match("172.16.0.0/12", "172.32.0.0"));
	ck_assert(match("0.0.0.0/0", "203.0.113.9"));
	ck_assert(!match("0.0.0.0/0", "2001:db8::1"));   /* a v4 block holds no v6 address */
	ck_assert(match("10.0.0.128/25", "10.0.0.200"));
	ck_assert(!match("10.0.0.128/25", "10.0.0.127"));
}
END_TEST

START_TEST(test_cidr_v6)
{
	ck_assert(match("2001:db8::/32", "2001:db8:ffff::1"));
	ck_assert(!match("2001:db8::/32", "2001:db9::1"));
	ck_assert(match("2001:db8::/33", "2001:db8:7fff::1"));
	ck_assert(!match("2001:db8::/33", "2001:db8:8000::1"));
	ck_assert(match("::1", "::1"));
	ck_assert(!match("::1", "::2"));
	ck_assert(match("fe80::/10", "febf::1"));
	ck_assert(!match("fe80::/10", "fec0::1"));
	ck_assert(match("::/0", "2001:db8::1"));
	ck_assert(!match("2001:db8::/32", "10.0.0.1"));
}
END_TEST

START_TEST(test_cidr_mapped)
{
	/* A dual-stack listener sees IPv4 clients as ::ffff:a.b.c.d. */
	ck_assert(match("10.0.0.0/8", "::ffff:10.1.2.3"));
	ck_assert(!match("10.0.0.0/8", "::ffff:11.1.2.3"));
	ck_assert(match("127.0.0.1", "::ffff:127.0.0.1"));
	/* And a block written in mapped form holds the plain IPv4 address. */
	ck_assert(match("::ffff:10.0.0.0/104", "10.9.9.9"));
	ck_assert(!match("::ffff:10.0.0.0/104", "11.9.9.9"));
	ck_assert(match("::ffff:0:0/96", "198.51.100.1"));
	ck_assert(match("::ffff:0:0/96", "::ffff:198.51.100.1"));
	ck_assert(!match("::/96", "10.0.0.1"));   /* IPv4-compatible is not mapped */
}
END_TEST

START_TEST(test_cidr_text)
{
	ck_assert(match_text("10.0.0.0/8", "10.1.2.3"));
	ck_assert(match_text("10.0.0.0/8", "10.1.2.3:8080"));
	ck_assert(match_text("2001:db8::/32", "2001:db8::5"));
	ck_assert(match_text("2001:db8::/32", "[2001:db8::5]"));
	ck_assert(match_text("2001:db8::/32", "[2001:db8::5]:443"));
	ck_assert(match_text("10.0.0.0/8", "::ffff:10.0.0.1"));
	ck_assert(!match_text("10.0.0.0/8", ""));
	ck_assert(!match_text("10.0.0.0/8", "unknown"));
	ck_assert(!match_text("10.0.0.0/8", "10.1.2"));
	ck_assert(!match_text("10.0.0.0/8", "10.1.2.3.4"));
	ck_assert(!match_text("10.0.0.0/8", " 10.1.2.3"));
	ck_assert(!match_text("10.0.0.0/8", "10.1.2.3:80:90"));
	ck_assert(!match_text("2001:db8::/32", "[2001:db8::5"));
	ck_assert(!match_text("2001:db8::/32", "[2001:db8::5]x"));
	ck_assert(!match_text("10.0.0.0/8", "_10.1.2.3"));
	ck_assert(!match_text("10.0.0.0/8",
			      "10.1.2.3aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
}
END_TEST

/* ---- X-Forwarded-For ---- */

#define MAX_FIELDS 4

struct fixture {
	struct sw_config cfg;
	struct sw_ctx w;
	struct sw_exchange x;
	struct sockaddr_storage peer;
	struct sw_header headers[MAX_FIELDS + 1];
	struct sw_cidr trusted[3];
};

/* peer, trusted 127.0.0.0/8 10.0.0.0/8 ::1 (when `trust`), and up to four XFF fields. */
static const char *client(const char *peer, bool trust, const char *const *xff)
{
	static char out[SW_CLIENT_ADDR_LEN];
	static struct fixture f;
	unsigned n = 0;

	memset(&f, 0, sizeof(f));
	f.trusted[0] = cidr("127.0.0.0/8");
	f.trusted[1] = cidr("10.0.0.0/8");
	f.trusted[2] = cidr("::1");
	f.cfg.server.trusted_proxies = trust ? f.trusted : NULL;
	f.cfg.server.trusted_proxies_count = trust ? 3 : 0;
	f.w.cfg = &f.cfg;
	f.x.ctx = &f.w;
	if (peer) {
		f.peer = sockaddr(peer);
		f.x.peer = (struct sockaddr *)&f.peer;
		f.x.peer_len = sizeof(f.peer);
	}
	f.headers[n++] = (struct sw_header){ SW_STR("Host"), SW_STR("example.com") };
	for (; xff && *xff && n <= MAX_FIELDS; xff++)
		f.headers[n++] = (struct sw_header){ SW_STR("X-Forwarded-For"),
						     { *xff, strlen(*xff) } };
	f.x.req.headers = f.headers;
	f.x.req.header_count = n;
	sw_client_addr(&f.x, out, sizeof(out));
	return out;
}

#define XFF(...) ((const char *const[]){ __VA_ARGS__, NULL })

START_TEST(test_xff_untrusted_peer)
{
	ck_assert_str_eq(client("192.0.2.1", true, XFF("203.0.113.5")), "192.0.2.1");
	ck_assert_str_eq(client("127.0.0.1", false, XFF("203.0.113.5")), "127.0.0.1");
	ck_assert_str_eq(client("2001:db8::7", true, XFF("203.0.113.5")), "2001:db8::7");
	ck_assert_str_eq(client("::ffff:192.0.2.1", true, XFF("203.0.113.5")), "192.0.2.1");
}
END_TEST

START_TEST(test_xff_trusted_peer)
{
	ck_assert_str_eq(client("127.0.0.1", true, XFF("203.0.113.5")), "203.0.113.5");
	ck_assert_str_eq(client("127.0.0.1", true, NULL), "127.0.0.1");
	ck_assert_str_eq(client("::1", true, XFF("2001:db8::5")), "2001:db8::5");
	ck_assert_str_eq(client("::ffff:127.0.0.1", true, XFF("203.0.113.5")), "203.0.113.5");
	ck_assert_str_eq(client("127.0.0.1", true, XFF("::ffff:203.0.113.5")), "203.0.113.5");
}
END_TEST

START_TEST(test_xff_chain)
{
	/* Trusted hops on the right are walked past. */
	ck_assert_str_eq(client("127.0.0.1", true, XFF("198.51.100.1, 10.0.0.2, 10.0.0.3")),
			 "198.51.100.1");
	/* The right-most untrusted address wins; what a client wrote left of it is not believed. */
	ck_assert_str_eq(client("127.0.0.1", true, XFF("1.1.1.1, 203.0.113.5, 10.0.0.3")),
			 "203.0.113.5");
	/* Every hop trusted: the left-most is the client. */
	ck_assert_str_eq(client("127.0.0.1", true, XFF("10.0.0.1, 10.0.0.2")), "10.0.0.1");
	/* Several fields are one list, in order. */
	ck_assert_str_eq(client("127.0.0.1", true, XFF("198.51.100.7", "10.0.0.9")),
			 "198.51.100.7");
	ck_assert_str_eq(client("127.0.0.1", true, XFF("1.1.1.1", "198.51.100.7, 10.0.0.9")),
			 "198.51.100.7");
	ck_assert_str_eq(client("127.0.0.1", true, XFF("10.1.1.1", "10.0.0.9")), "10.1.1.1");
}
END_TEST

START_TEST(test_xff_lowercase_name)
{
	static struct fixture f;
	char out[SW_CLIENT_ADDR_LEN];

	memset(&f, 0, sizeof(f));
	f.trusted[0] = cidr("127.0.0.0/8");
	f.cfg.server.trusted_proxies = f.trusted;
	f.cfg.server.trusted_proxies_count = 1;
	f.w.cfg = &f.cfg;
	f.x.ctx = &f.w;
	f.peer = sockaddr("127.0.0.1");
	f.x.peer = (struct sockaddr *)&f.peer;
	f.headers[0] = (struct sw_header){ SW_STR("x-forwarded-for"), SW_STR("203.0.113.8") };
	f.x.req.headers = f.headers;
	f.x.req.header_count = 1;
	sw_client_addr(&f.x, out, sizeof(out));
	ck_assert_str_eq(out, "203.0.113.8");
}
END_TEST

START_TEST(test_xff_malformed)
{
	/* A trusted hop that wrote garbage: nothing left of it can be believed. */
	ck_assert_str_eq(client("127.0.0.1", true, XFF("203.0.113.5, garbage")), "127.0.0.1");
	ck_assert_str_eq(client("127.0.0.1", true, XFF("203.0.113.5, unknown, 10.0.0.2")),
			 "10.0.0.2");
	ck_assert_str_eq(client("127.0.0.1", true, XFF("1.2.3")), "127.0.0.1");
	ck_assert_str_eq(client("127.0.0.1", true, XFF("300.1.1.1")), "127.0.0.1");
	ck_assert_str_eq(client("127.0.0.1", true, XFF("203.0.113.5 10.0.0.2")), "127.0.0.1");
	ck_assert_str_eq(client("127.0.0.1", true, XFF("[2001:db8::1")), "127.0.0.1");
	ck_assert_str_eq(client("127.0.0.1", true,
				XFF("2001:db8:1111:2222:3333:4444:5555:6666:7777:8888:9999")),
			 "127.0.0.1");
	/* Garbage left of an untrusted address is never even looked at. */
	ck_assert_str_eq(client("127.0.0.1", true, XFF("garbage, 203.0.113.5")), "203.0.113.5");
}
END_TEST

START_TEST(test_xff_lenient_forms)
{
	/* Empty list elements and blanks are allowed by the list syntax. */
	ck_assert_str_eq(client("127.0.0.1", true, XFF("203.0.113.5,, ,")), "203.0.113.5");
	ck_assert_str_eq(client("127.0.0.1", true, XFF(" \t203.0.113.5 \t")), "203.0.113.5");
	ck_assert_str_eq(client("127.0.0.1", true, XFF("")), "127.0.0.1");
	ck_assert_str_eq(client("127.0.0.1", true, XFF(",")), "127.0.0.1");
	/* Some proxies append the port. */
	ck_assert_str_eq(client("127.0.0.1", true, XFF("203.0.113.5:4711")), "203.0.113.5");
	ck_assert_str_eq(client("127.0.0.1", true, XFF("[2001:db8::5]:443")), "2001:db8::5");
	ck_assert_str_eq(client("127.0.0.1", true, XFF("[2001:db8::5]")), "2001:db8::5");
}
END_TEST

START_TEST(test_no_peer)
{
	char out[8];

	ck_assert_str_eq(client(NULL, true, XFF("203.0.113.5")), "-");
	/* A short buffer is cut, never overrun. */
	{
		static struct fixture f;
		memset(&f, 0, sizeof(f));
		f.w.cfg = &f.cfg;
		f.x.ctx = &f.w;
		f.peer = sockaddr("2001:db8:aaaa:bbbb::1");
		f.x.peer = (struct sockaddr *)&f.peer;
		sw_client_addr(&f.x, out, sizeof(out));
		ck_assert_str_eq(out, "2001:db");
	}
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("client_addr");
	TCase *tc = tcase_create("cidr");
	TCase *tx = tcase_create("xff");

	tcase_add_test(tc, test_cidr_v4);
	tcase_add_test(tc, test_cidr_v6);
	tcase_add_test(tc, test_cidr_mapped);
	tcase_add_test(tc, test_cidr_text);
	tcase_add_test(tx, test_xff_untrusted_peer);
	tcase_add_test(tx, test_xff_trusted_peer);
	tcase_add_test(tx, test_xff_chain);
	tcase_add_test(tx, test_xff_lowercase_name);
	tcase_add_test(tx, test_xff_malformed);
	tcase_add_test(tx, test_xff_lenient_forms);
	tcase_add_test(tx, test_no_peer);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, tx);
	return s;
}

SW_TEST_SUITE(suite);
