/* SPDX-License-Identifier: MIT */
/* test_proxy_headers.c - the reverse proxy end to end: forwarded headers: what goes upstream (Via, X-Forwarded-*, hop-by-hop fields) over HTTP/1.1 and HTTP/2, and trusted proxies.  Upstreams are tests/backend/origin (origins.h). */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "core/module.h"
#include "proxy_fixture.h"

/* ---- forwarding over HTTP/1.1 and HTTP/2 ---- */

START_TEST(forward_basic)
{
	struct it_origin *a;
	struct hres r;
	struct it_cres cr;
	struct hconn *c;
	char rid[64], line[256], url[128], *eh;
	int port, rc;

	if (!px_have_proxy(_i))
		return;
	a = it_origin_start("A");
	px_start(_i, 1, NULL, &port,
		"\"upstreams\": [{\"name\": \"u\", \"servers\": [" SRV "]}],\n"
		"  \"routes\": [{\"path_prefix\": \"/\", \"upstream\": \"u\", " TMO ",\n"
		"    \"upstream_headers\": [{\"name\": \"X-Env\", \"value\": \"prod\"},\n"
		"                          {\"name\": \"X-Team\", \"value\": \"edge\"}]}]", a->port);

	/* HTTP/1.1: the upstream's view of a request full of hop-by-hop fields */
	rc = hc_get1(port, "/echo?x=1&y=2", "example.test:8080",
		  "Connection: foo, keep-alive\r\nFoo: bar\r\nKeep-Alive: timeout=5\r\n"
		  "TE: trailers\r\nUpgrade: websocket\r\nProxy-Connection: keep-alive\r\n"
		  "X-Custom: kept\r\n", &r);
	IT_ASSERT(rc == 0 && r.status == 200, "GET /echo through the proxy: rc %d, status %d", rc,
		  r.status);
	IT_ASSERT(px_origin_of(&r) == 'A', "no X-Origin: A in the response:\n%s", r.head);
	IT_ASSERT(it_header(r.head, "X-Request-Id", rid, sizeof(rid)), "no X-Request-Id:\n%s", r.head);
	eh = px_echo_head(r.body);
	EXPECT_LINE(eh, "GET /echo?x=1&y=2");
	EXPECT_LINE(eh, "Host: example.test:8080");
	EXPECT_LINE(eh, "X-Forwarded-For: 127.0.0.1");
	IT_ASSERT(it_lines_with(eh, "X-Forwarded-For:") == 1, "X-Forwarded-For more than once:\n%s", eh);
	EXPECT_LINE(eh, "X-Forwarded-Proto: http");
	EXPECT_LINE(eh, "X-Forwarded-Host: example.test:8080");
	EXPECT_LINE(eh, "Via: 1.1 swerver");
	snprintf(line, sizeof(line), "X-Request-Id: %s", rid);
	EXPECT_LINE(eh, line);
	EXPECT_LINE(eh, "X-Env: prod");
	EXPECT_LINE(eh, "X-Team: edge");
	EXPECT_LINE(eh, "X-Custom: kept");
	EXPECT_NO_FIELD(eh, "Connection");
	EXPECT_NO_FIELD(eh, "Foo");
	EXPECT_NO_FIELD(eh, "Keep-Alive");
	EXPECT_NO_FIELD(eh, "TE");
	EXPECT_NO_FIELD(eh, "Upgrade");
	EXPECT_NO_FIELD(eh, "Proxy-Connection");
	free(eh);
	hres_free(&r);

	/* a body goes through with its length */
	rc = hc_req1(port, "POST", "/echo", NULL, NULL, "hello=1", &r);
	IT_ASSERT(rc == 0 && r.status == 200, "POST /echo: rc %d, status %d", rc, r.status);
	eh = px_echo_head(r.body);
	EXPECT_LINE(eh, "POST /echo");
	EXPECT_LINE(eh, "Content-Length: 7");
	IT_ASSERT(r.body_len >= 9 && memcmp(r.body + r.body_len - 9, "\n\nhello=1", 9) == 0,
		  "POST /echo: the body did not arrive:\n%s", r.body);
	free(eh);
	hres_free(&r);

	/* the origin's Connection: close is its own hop: the client's connection stays */
	c = hc_new(port);
	rc = hc_req(c, "GET", "/close", NULL, NULL, NULL, &r);
	IT_ASSERT(rc == 0 && r.status == 200 && !r.truncated, "GET /close: rc %d status %d", rc,
		  r.status);
	IT_ASSERT(!it_header(r.head, "Connection", line, sizeof(line)) || strcasecmp(line, "close") != 0,
		  "the origin's Connection: close reached the client:\n%s", r.head);
	hres_free(&r);
	rc = hc_req(c, "GET", "/name", NULL, NULL, NULL, &r);
	IT_ASSERT(rc == 0 && r.status == 200 && strcmp(r.body, "A") == 0,
		  "a second request on the client connection after /close: rc %d status %d", rc,
		  r.status);
	hres_free(&r);
	hc_free(c);

	/* HTTP/2 */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/echo?h2=1", port);
	it_curl(&cr, "--http2-prior-knowledge -H 'X-Custom: h2' -H 'TE: trailers' "
	     "--data-binary from-h2", url);
	IT_ASSERT(cr.code == 200 && strcmp(cr.version, "2") == 0,
		  "POST /echo over h2 through the proxy: %d (version %s, curl exit %d)", cr.code,
		  cr.version, cr.rc);
	IT_ASSERT(it_cres_header(&cr, "x-origin") && strcmp(it_cres_header(&cr, "x-origin"), "A") == 0,
		  "h2: no x-origin: A\n%s", cr.head);
	IT_ASSERT(it_cres_header(&cr, "x-request-id") != NULL, "h2: no x-request-id\n%s", cr.head);
	snprintf(rid, sizeof(rid), "%s", it_cres_header(&cr, "x-request-id"));
	eh = px_echo_head(cr.body);
	EXPECT_LINE(eh, "POST /echo?h2=1");
	snprintf(line, sizeof(line), "Host: 127.0.0.1:%d", port);
	EXPECT_LINE(eh, line);
	EXPECT_LINE(eh, "X-Forwarded-For: 127.0.0.1");
	EXPECT_LINE(eh, "X-Forwarded-Proto: http");
	snprintf(line, sizeof(line), "X-Forwarded-Host: 127.0.0.1:%d", port);
	EXPECT_LINE(eh, line);
	EXPECT_LINE(eh, "Via: 2 swerver");
	snprintf(line, sizeof(line), "X-Request-Id: %s", rid);
	EXPECT_LINE(eh, line);
	EXPECT_LINE(eh, "X-Env: prod");
	EXPECT_LINE(eh, "x-custom: h2");
	EXPECT_NO_FIELD(eh, "TE");
	IT_ASSERT(strlen(cr.body) >= 7 && strcmp(cr.body + strlen(cr.body) - 7, "from-h2") == 0,
		  "h2: the request body did not arrive:\n%s", cr.body);
	free(eh);
	it_cres_free(&cr);
}
END_TEST

/* ---- X-Forwarded-For and -Proto: replaced for strangers, appended for trusted proxies ---- */

START_TEST(forwarded_for_trust)
{
	struct it_origin *a;
	struct hres r;
	char *eh;
	int plain, trusted, rc;

	if (!px_have_proxy(_i))
		return;
	a = it_origin_start("A");
	px_start(_i, 1, NULL, &plain, ONE_ROUTE, a->port);
	px_start(_i, 1, "\"trusted_proxies\": [\"127.0.0.1/32\"], ", &trusted, ONE_ROUTE, a->port);

	rc = hc_get1(plain, "/echo", NULL, "X-Forwarded-For: 203.0.113.9\r\n"
		  "X-Forwarded-Proto: https\r\nVia: 1.1 edge\r\n", &r);
	IT_ASSERT(rc == 0 && r.status == 200, "untrusted GET /echo: rc %d status %d", rc, r.status);
	eh = px_echo_head(r.body);
	EXPECT_LINE(eh, "X-Forwarded-For: 127.0.0.1");
	IT_ASSERT(it_lines_with(eh, "X-Forwarded-For:") == 1 && !strstr(eh, "203.0.113.9"),
		  "an untrusted client's X-Forwarded-For went upstream:\n%s", eh);
	EXPECT_LINE(eh, "X-Forwarded-Proto: http");
	EXPECT_LINE(eh, "Via: 1.1 edge, 1.1 swerver");
	free(eh);
	hres_free(&r);

	rc = hc_get1(trusted, "/echo", NULL, "X-Forwarded-For: 203.0.113.9\r\n"
		  "X-Forwarded-Proto: https\r\n", &r);
	IT_ASSERT(rc == 0 && r.status == 200, "trusted GET /echo: rc %d status %d", rc, r.status);
	eh = px_echo_head(r.body);
	EXPECT_LINE(eh, "X-Forwarded-For: 203.0.113.9, 127.0.0.1");
	IT_ASSERT(it_lines_with(eh, "X-Forwarded-For:") == 1, "X-Forwarded-For twice:\n%s", eh);
	EXPECT_LINE(eh, "X-Forwarded-Proto: https");
	free(eh);
	hres_free(&r);

	/* two fields are one list */
	rc = hc_get1(trusted, "/echo", NULL, "X-Forwarded-For: 198.51.100.1\r\n"
		  "X-Forwarded-For: 203.0.113.9\r\n", &r);
	IT_ASSERT(rc == 0 && r.status == 200, "trusted GET /echo: rc %d status %d", rc, r.status);
	eh = px_echo_head(r.body);
	EXPECT_LINE(eh, "X-Forwarded-For: 198.51.100.1, 203.0.113.9, 127.0.0.1");
	EXPECT_LINE(eh, "X-Forwarded-Proto: http");
	free(eh);
	hres_free(&r);
}
END_TEST

static Suite *proxy_headers_suite(void)
{
	Suite *s = suite_create("proxy_headers");
	TCase *tc = it_tcase("headers");

	tcase_add_checked_fixture(tc, NULL, it_origins_kill);
	tcase_add_loop_test(tc, forward_basic, 0, 2);
	tcase_add_loop_test(tc, forwarded_for_trust, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

IT_SUITE(proxy_headers_suite);
