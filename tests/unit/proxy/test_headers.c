/* SPDX-License-Identifier: MIT */
/* test_headers.c - src/proxy/headers.c: hop-by-hop removal, X-Forwarded-*, Via, the request head, response fields. */
#include <config.h>

#include <stdio.h>
#include "fixture.h"
#include "http/policy.h"
#include "check_main.h"

static const char *const cfg_json =
	"{\"server\": {\"trusted_proxies\": [\"10.0.0.0/8\"]},"
	" \"upstreams\": [{\"name\": \"u\", \"servers\": [{\"address\": \"127.0.0.1\", \"port\": 9}]}],"
	" \"routes\": [{\"path_prefix\": \"/\", \"upstream\": \"u\"},"
	"  {\"path_prefix\": \"/set\", \"upstream\": \"u\","
	"   \"upstream_headers\": [{\"name\": \"X-Tenant\", \"value\": \"blue\"}]}]}";

static void setup(void)
{
	fx_start(cfg_json);
}

static void teardown(void)
{
	fx_stop();
}

static char head[4096];

/* The upstream request head for f on route prefix (any host); "" when it did not fit. */
static const char *build(struct fx_x *f, const char *prefix, bool chunked, size_t size)
{
	size_t n;

	ck_assert_uint_lt(size, sizeof(head));
	n = px_request_head(fx_route(prefix, NULL), &f->x, chunked, head, size);
	ck_assert_uint_le(n, size);
	head[n] = '\0';
	return head;
}

/* The head has this exact line (name and value as written, "\r\n" after). */
static bool has_line(const char *h, const char *line)
{
	char want[512];

	snprintf(want, sizeof(want), "\r\n%s\r\n", line);
	return strstr(h, want) != NULL;
}

/* Lines whose name (case-insensitive) is name. */
static int count_field(const char *h, const char *name)
{
	int n = 0;
	size_t nl = strlen(name);

	for (const char *p = strstr(h, "\r\n"); p && p[2]; p = strstr(p + 2, "\r\n"))
		if (strncasecmp(p + 2, name, nl) == 0 && p[2 + nl] == ':')
			n++;
	return n;
}

START_TEST(test_request_line_and_host)
{
	struct fx_x f;
	const char *h;

	fx_exchange(&f, "192.0.2.7", "/a/b");
	f.x.req.query = SW_STR("q=1");
	f.x.req.authority = SW_STR("www.example.com:8080");
	h = build(&f, "/", false, 4000);
	ck_assert_msg(strncmp(h, "GET /a/b?q=1 HTTP/1.1\r\nHost: www.example.com:8080\r\n", 51) == 0,
		      "%s", h);
	ck_assert_msg(has_line(h, "X-Forwarded-Host: www.example.com:8080"), "%s", h);
	ck_assert(has_line(h, "X-Request-Id: 0123456789abcdef"));
	ck_assert(has_line(h, "Via: 1.1 swerver"));
	ck_assert_int_eq(count_field(h, "content-length"), 0);   /* no body: no length */
	ck_assert(strcmp(h + strlen(h) - 4, "\r\n\r\n") == 0);

	/* No authority (HTTP/1.0 without Host): the server's own name, and no X-Forwarded-Host. */
	fx_exchange(&f, "192.0.2.7", "/");
	f.x.req.version = 10;
	h = build(&f, "/", false, 4000);
	ck_assert_msg(has_line(h, "Host: 127.0.0.1:9"), "%s", h);
	ck_assert_int_eq(count_field(h, "x-forwarded-host"), 0);
	ck_assert(has_line(h, "Via: 1.0 swerver"));
}
END_TEST

START_TEST(test_hop_by_hop_dropped)
{
	struct fx_x f;
	const char *h;

	fx_exchange(&f, "192.0.2.7", "/");
	f.x.req.authority = SW_STR("h");
	fx_header(&f, "Connection", "keep-alive, X-Secret,X-Other");
	fx_header(&f, "Keep-Alive", "timeout=5");
	fx_header(&f, "Proxy-Connection", "keep-alive");
	fx_header(&f, "TE", "trailers");
	fx_header(&f, "Trailer", "X-T");
	fx_header(&f, "Upgrade", "websocket");          /* not an upgrade: Connection lacks it */
	fx_header(&f, "x-secret", "named by Connection");
	fx_header(&f, "X-OTHER", "also named");
	fx_header(&f, "Expect", "100-continue");
	fx_header(&f, "Content-Length", "999");          /* the proxy writes its own */
	fx_header(&f, "Accept", "*/*");
	fx_header(&f, "X-Secretive", "not named: kept");
	h = build(&f, "/", false, 4000);
	static const char *const gone[] = { "connection", "keep-alive", "proxy-connection", "te",
					    "trailer", "upgrade", "x-secret", "x-other", "expect",
					    "content-length" };
	for (size_t i = 0; i < SW_ARRAY_SIZE(gone); i++)
		ck_assert_msg(count_field(h, gone[i]) == 0, "%s forwarded:\n%s", gone[i], h);
	ck_assert(has_line(h, "Accept: */*"));
	ck_assert(has_line(h, "X-Secretive: not named: kept"));
}
END_TEST

START_TEST(test_upgrade_forwarded)
{
	struct fx_x f;
	const char *h;

	fx_exchange(&f, "192.0.2.7", "/ws");
	fx_header(&f, "Connection", "Upgrade");
	fx_header(&f, "Upgrade", "websocket");
	fx_header(&f, "Sec-WebSocket-Key", "k");
	ck_assert(px_is_upgrade(&f.x));
	h = build(&f, "/", false, 4000);
	ck_assert_msg(has_line(h, "Upgrade: websocket"), "%s", h);
	ck_assert(has_line(h, "Connection: upgrade"));
	ck_assert_int_eq(count_field(h, "upgrade"), 1);
	ck_assert_int_eq(count_field(h, "connection"), 1);
	ck_assert(has_line(h, "Sec-WebSocket-Key: k"));

	/* HTTP/1.0, an empty Upgrade or no Connection token: no upgrade. */
	f.x.req.version = 10;
	ck_assert(!px_is_upgrade(&f.x));
	fx_exchange(&f, "192.0.2.7", "/ws");
	fx_header(&f, "Connection", "keep-alive, upgradex");
	fx_header(&f, "Upgrade", "websocket");
	ck_assert(!px_is_upgrade(&f.x));
	fx_exchange(&f, "192.0.2.7", "/ws");
	fx_header(&f, "Connection", "upgrade");
	fx_header(&f, "Upgrade", "");
	ck_assert(!px_is_upgrade(&f.x));
}
END_TEST

START_TEST(test_forwarded_untrusted)
{
	struct fx_x f;
	const char *h;

	/* An untrusted peer cannot write the chain, the scheme or our own fields. */
	fx_exchange(&f, "192.0.2.7", "/");
	f.x.req.authority = SW_STR("h");
	fx_header(&f, "X-Forwarded-For", "1.2.3.4");
	fx_header(&f, "X-Forwarded-Proto", "https");
	fx_header(&f, "X-Forwarded-Host", "evil");
	fx_header(&f, "X-Request-Id", "forged");
	fx_header(&f, "X-Client-Cert-Subject", "CN=admin");
	fx_header(&f, "Via", "1.1 front");
	h = build(&f, "/", false, 4000);
	ck_assert_msg(has_line(h, "X-Forwarded-For: 192.0.2.7"), "%s", h);
	ck_assert(has_line(h, "X-Forwarded-Proto: http"));
	ck_assert(has_line(h, "X-Forwarded-Host: h"));
	ck_assert_int_eq(count_field(h, "x-forwarded-for"), 1);
	ck_assert_int_eq(count_field(h, "x-forwarded-proto"), 1);
	ck_assert_int_eq(count_field(h, "x-forwarded-host"), 1);
	ck_assert_int_eq(count_field(h, "x-request-id"), 1);
	ck_assert(strstr(h, "forged") == NULL);
	ck_assert_int_eq(count_field(h, "x-client-cert-subject"), 0);
	/* Via is a chain every hop appends to, whoever sent it. */
	ck_assert(has_line(h, "Via: 1.1 front, 1.1 swerver"));

	/* Over TLS with a verified client certificate: ours, and "https". */
	f.x.tls = true;
	f.x.tls_client = "CN=alice";
	h = build(&f, "/", false, 4000);
	ck_assert(has_line(h, "X-Forwarded-Proto: https"));
	ck_assert(has_line(h, "X-Client-Cert-Subject: CN=alice"));
	ck_assert_int_eq(count_field(h, "x-client-cert-subject"), 1);
}
END_TEST

START_TEST(test_forwarded_trusted)
{
	struct fx_x f;
	const char *h;

	fx_exchange(&f, "10.1.2.3", "/");
	fx_header(&f, "X-Forwarded-For", "203.0.113.1, 10.9.9.9");
	fx_header(&f, "x-forwarded-for", "10.8.8.8");
	fx_header(&f, "X-Forwarded-Proto", "https");
	h = build(&f, "/", false, 4000);
	/* The chain so far (both fields, in order), then the peer. */
	ck_assert_msg(has_line(h, "X-Forwarded-For: 203.0.113.1, 10.9.9.9, 10.8.8.8, 10.1.2.3"),
		      "%s", h);
	ck_assert(has_line(h, "X-Forwarded-Proto: https"));
	ck_assert_int_eq(count_field(h, "x-forwarded-for"), 1);

	/* A trusted peer that sent none: just the peer, and our scheme. */
	fx_exchange(&f, "10.1.2.3", "/");
	h = build(&f, "/", false, 4000);
	ck_assert(has_line(h, "X-Forwarded-For: 10.1.2.3"));
	ck_assert(has_line(h, "X-Forwarded-Proto: http"));

	/* An IPv6 peer. */
	fx_exchange(&f, "2001:db8::5", "/");
	h = build(&f, "/", false, 4000);
	ck_assert_msg(has_line(h, "X-Forwarded-For: 2001:db8::5"), "%s", h);
}
END_TEST

START_TEST(test_body_framing)
{
	struct fx_x f;
	const char *h;

	fx_exchange(&f, "192.0.2.7", "/");
	f.x.req.method = SW_METHOD_POST;
	f.x.req.method_name = SW_STR("POST");
	f.x.req.content_length = 12;
	fx_header(&f, "Transfer-Encoding", "chunked");
	h = build(&f, "/", false, 4000);
	ck_assert(strncmp(h, "POST / HTTP/1.1\r\n", 17) == 0);
	ck_assert(has_line(h, "Content-Length: 12"));
	ck_assert_int_eq(count_field(h, "transfer-encoding"), 0);
	h = build(&f, "/", true, 4000);
	ck_assert(has_line(h, "Transfer-Encoding: chunked"));
	ck_assert_int_eq(count_field(h, "transfer-encoding"), 1);
	ck_assert_int_eq(count_field(h, "content-length"), 0);
	f.x.req.content_length = 0;
	h = build(&f, "/", false, 4000);
	ck_assert(has_line(h, "Content-Length: 0"));
}
END_TEST

START_TEST(test_route_headers_and_cookies)
{
	struct fx_x f;
	const char *h;

	fx_exchange(&f, "192.0.2.7", "/set/x");
	fx_header(&f, "x-tenant", "red");   /* the route sets it: the client's never goes */
	fx_header(&f, "cookie", "a=1");
	fx_header(&f, "Cookie", "b=2");
	h = build(&f, "/set", false, 4000);
	ck_assert_msg(has_line(h, "X-Tenant: blue"), "%s", h);
	ck_assert_int_eq(count_field(h, "x-tenant"), 1);
	/* HTTP/1.1 cookies go as they came. */
	ck_assert_int_eq(count_field(h, "cookie"), 2);

	/* HTTP/2 and 3 split cookies: one field for HTTP/1.1 (RFC 9113 8.2.3), "; " between. */
	f.x.req.version = 20;
	h = build(&f, "/set", false, 4000);
	ck_assert_msg(has_line(h, "Cookie: a=1; b=2"), "%s", h);
	ck_assert_int_eq(count_field(h, "cookie"), 1);
	ck_assert(has_line(h, "Via: 2 swerver"));
	f.x.req.version = 30;
	h = build(&f, "/set", false, 4000);
	ck_assert(has_line(h, "Cookie: a=1; b=2"));
	ck_assert(has_line(h, "Via: 3 swerver"));
}
END_TEST

/* A policy's Cookie edit replaces the joined HTTP/2 and HTTP/3 cookies, never adds to them. */
START_TEST(test_policy_cookie_edit_h2)
{
	struct fx_x f;
	const char *h;

	fx_exchange(&f, "192.0.2.7", "/x");
	fx_header(&f, "cookie", "session=secret");
	fx_header(&f, "cookie", "b=2");
	f.x.req.version = 20;
	ck_assert_int_eq(sw_exchange_upstream_remove(&f.x, "Cookie"), SW_OK);
	h = build(&f, "/", false, 4000);
	ck_assert_msg(!strstr(h, "secret"), "%s", h);
	ck_assert_int_eq(count_field(h, "cookie"), 0);
	ck_assert_int_eq(sw_exchange_upstream_set(&f.x, "Cookie", "c=3"), SW_OK);
	f.x.req.version = 30;
	h = build(&f, "/", false, 4000);
	ck_assert_msg(has_line(h, "Cookie: c=3"), "%s", h);
	ck_assert_int_eq(count_field(h, "cookie"), 1);
	sw_policy_finish(&f.x);
}
END_TEST

START_TEST(test_head_does_not_fit)
{
	struct fx_x f;
	size_t full, n;
	char big[300];

	fx_exchange(&f, "192.0.2.7", "/p");
	memset(big, 'v', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	fx_header(&f, "X-Big", big);
	full = strlen(build(&f, "/", false, 4000));
	ck_assert_uint_gt(full, 300);
	/* Exactly enough fits; one byte less (at any point in the head) is 0, never a cut head. */
	ck_assert_uint_eq(strlen(build(&f, "/", false, full)), full);
	for (size_t size = 0; size < full; size += 7) {
		n = px_request_head(fx_route("/", NULL), &f.x, false, head, size);
		ck_assert_msg(n == 0, "size %zu gave %zu", size, n);
	}
	ck_assert_uint_eq(px_request_head(fx_route("/", NULL), &f.x, false, head, full - 1), 0);
}
END_TEST

/* px_response_fields on these upstream fields; the names that reach the client, joined by ','. */
static const char *response(int status, const char *const *kv, size_t n)
{
	static char out[1024];
	struct sw_header hs[16];
	struct sw_http1_response r = { .status = status, .version = 11, .headers = hs,
				       .header_count = (unsigned)n / 2, .header_cap = 16 };
	struct fx_x f;
	size_t len = 0;

	for (size_t i = 0; i < n / 2; i++)
		hs[i] = (struct sw_header){ { kv[2 * i], strlen(kv[2 * i]) },
					    { kv[2 * i + 1], strlen(kv[2 * i + 1]) } };
	fx_exchange(&f, "192.0.2.7", "/");
	px_response_fields(&f.x, &r);
	out[0] = '\0';
	for (unsigned i = 0; i < f.x.resp.header_count; i++)
		len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%.*s=%.*s", i ? "," : "",
					(int)f.x.resp.headers[i].name.len, f.x.resp.headers[i].name.p,
					(int)f.x.resp.headers[i].value.len, f.x.resp.headers[i].value.p);
	return out;
}

START_TEST(test_response_fields)
{
	static const char *const up[] = {
		"Content-Type", "text/plain", "Connection", "close, X-Hop", "X-Hop", "1",
		"Keep-Alive", "timeout=5", "Transfer-Encoding", "chunked", "Content-Length", "5",
		"Date", "Mon", "Server", "backend/1.0", "X-Request-Id", "up", "Trailer", "X-T",
		"Upgrade", "h2c", "Set-Cookie", "a=1", "set-cookie", "b=2", "Proxy-Connection", "x",
	};

	ck_assert_str_eq(response(200, up, SW_ARRAY_SIZE(up)),
			 "Content-Type=text/plain,Set-Cookie=a=1,set-cookie=b=2");

	/* 101: the Upgrade the upstream agreed to, and Connection: upgrade, go to the client. */
	static const char *const sw[] = { "Upgrade", "websocket", "Connection", "Upgrade",
					  "Sec-WebSocket-Accept", "x" };
	ck_assert_str_eq(response(101, sw, SW_ARRAY_SIZE(sw)),
			 "Upgrade=websocket,Connection=upgrade,Sec-WebSocket-Accept=x");
}
END_TEST

static Suite *headers_suite(void)
{
	Suite *s = suite_create("proxy headers");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_request_line_and_host);
	tcase_add_test(tc, test_hop_by_hop_dropped);
	tcase_add_test(tc, test_upgrade_forwarded);
	tcase_add_test(tc, test_forwarded_untrusted);
	tcase_add_test(tc, test_forwarded_trusted);
	tcase_add_test(tc, test_body_framing);
	tcase_add_test(tc, test_route_headers_and_cookies);
	tcase_add_test(tc, test_policy_cookie_edit_h2);
	tcase_add_test(tc, test_head_does_not_fit);
	tcase_add_test(tc, test_response_fields);
	suite_add_tcase(s, tc);
	return s;
}

SW_TEST_SUITE(headers_suite);
