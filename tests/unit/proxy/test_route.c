/* SPDX-License-Identifier: MIT */
/* test_route.c - src/proxy/route.c: longest-prefix and host matching, target rewriting, dot segments. */
#include <config.h>

#include <stdio.h>
#include "fixture.h"
#include "check_main.h"

/* Route order comes from the proxy's own state builder (proxy.c sorts the table). */
static const char *const routes_json =
	"{\"upstreams\": [{\"name\": \"u\", \"servers\": [{\"address\": \"127.0.0.1\", \"port\": 9}]}],"
	" \"routes\": ["
	"  {\"path_prefix\": \"/\", \"upstream\": \"u\"},"
	"  {\"path_prefix\": \"/api\", \"upstream\": \"u\"},"
	"  {\"path_prefix\": \"/api/v2/\", \"upstream\": \"u\"},"
	"  {\"path_prefix\": \"/api/v2\", \"upstream\": \"u\"},"
	"  {\"path_prefix\": \"/api/v2/deep\", \"upstream\": \"u\"},"
	"  {\"path_prefix\": \"/app\", \"host\": \"*.example.com\", \"upstream\": \"u\"},"
	"  {\"path_prefix\": \"/app\", \"upstream\": \"u\"},"
	"  {\"path_prefix\": \"/app\", \"host\": \"www.example.com\", \"upstream\": \"u\"}"
	"]}";

static void setup(void)
{
	fx_start(routes_json);
}

static void teardown(void)
{
	fx_stop();
}

/* The matched route as "PREFIX HOST" ("-" for any host, "none"). */
static const char *match(const char *path, const char *authority)
{
	static char out[128];
	struct fx_x f;
	const struct px_route *r;

	fx_exchange(&f, "192.0.2.1", path);
	if (authority)
		f.x.req.authority = (struct sw_str){ authority, strlen(authority) };
	r = px_route_match(fx.st, &f.x);
	if (!r)
		return "none";
	snprintf(out, sizeof(out), "%s %s", r->cfg->path_prefix, r->cfg->host ? r->cfg->host : "-");
	return out;
}

START_TEST(test_longest_prefix)
{
	ck_assert_str_eq(match("/", NULL), "/ -");
	ck_assert_str_eq(match("/other", NULL), "/ -");
	ck_assert_str_eq(match("/api", NULL), "/api -");
	ck_assert_str_eq(match("/api/x", NULL), "/api -");
	ck_assert_str_eq(match("/api/v2", NULL), "/api/v2 -");
	ck_assert_str_eq(match("/api/v2/", NULL), "/api/v2/ -");
	ck_assert_str_eq(match("/api/v2/x", NULL), "/api/v2/ -");
	ck_assert_str_eq(match("/api/v2/deep", NULL), "/api/v2/deep -");
	ck_assert_str_eq(match("/api/v2/deep/er", NULL), "/api/v2/deep -");
	/* The config's order does not matter: the table is longest first. */
	for (size_t i = 1; i < fx.st->nroutes; i++)
		ck_assert_uint_ge(fx.st->routes[i - 1].prefix_len, fx.st->routes[i].prefix_len);
}
END_TEST

START_TEST(test_prefix_segment_boundary)
{
	/* "/api" is not a prefix of "/apix": a prefix ends at a '/' unless it ends in one. */
	ck_assert_str_eq(match("/apix", NULL), "/ -");
	ck_assert_str_eq(match("/api/v2deep", NULL), "/api -");
	ck_assert_str_eq(match("/api/v2/deeper", NULL), "/api/v2/ -");
	/* Matching is byte-exact: paths are case-sensitive. */
	ck_assert_str_eq(match("/API/x", NULL), "/ -");
	ck_assert_str_eq(match("/ap", NULL), "/ -");
}
END_TEST

START_TEST(test_host_order)
{
	/* Same prefix: exact host, then wildcard, then any host. */
	ck_assert_str_eq(match("/app", "www.example.com"), "/app www.example.com");
	ck_assert_str_eq(match("/app/x", "WWW.Example.COM:8443"), "/app www.example.com");
	ck_assert_str_eq(match("/app", "api.example.com"), "/app *.example.com");
	ck_assert_str_eq(match("/app", "a.b.example.com"), "/app *.example.com");
	/* The wildcard wants a subdomain: neither the bare domain nor a longer name. */
	ck_assert_str_eq(match("/app", "example.com"), "/app -");
	ck_assert_str_eq(match("/app", "badexample.com"), "/app -");
	ck_assert_str_eq(match("/app", "www.example.com.evil"), "/app -");
	ck_assert_str_eq(match("/app", NULL), "/app -");
	ck_assert_str_eq(match("/app", "[::1]:80"), "/app -");
}
END_TEST

START_TEST(test_no_catch_all)
{
	fx_stop();
	fx_start("{\"upstreams\": [{\"name\": \"u\", \"servers\": [{\"address\": \"127.0.0.1\", \"port\": 9}]}],"
		 " \"routes\": [{\"path_prefix\": \"/api\", \"upstream\": \"u\"},"
		 "  {\"path_prefix\": \"/h\", \"host\": \"[::1]\", \"upstream\": \"u\"}]}");
	ck_assert_str_eq(match("/", NULL), "none");
	ck_assert_str_eq(match("/other/api", NULL), "none");
	ck_assert_str_eq(match("/api/x", NULL), "/api -");
	/* An IPv6 literal host: its port is cut after the bracket, not at a colon inside. */
	ck_assert_str_eq(match("/h", "[::1]:8080"), "/h [::1]");
	ck_assert_str_eq(match("/h", "[::2]"), "none");
}
END_TEST

/* px_route_target for a route with that rewrite, on path (and query when q). */
static const char *target(const char *pattern, const char *replacement, const char *path,
			  const char *q, size_t size)
{
	static char buf[256];
	struct sw_route_cfg c = { .path_prefix = "/", .rewrite_pattern = (char *)pattern,
				  .rewrite_replacement = (char *)replacement };
	struct px_route r = { .cfg = &c, .prefix_len = 1 };
	struct fx_x f;
	size_t n;

	fx_exchange(&f, "192.0.2.1", path);
	if (q)
		f.x.req.query = (struct sw_str){ q, strlen(q) };
	ck_assert_uint_le(size, sizeof(buf));
	memset(buf, '#', sizeof(buf));
	n = px_route_target(&r, &f.x, buf, size);
	if (n == 0)
		return "(none)";
	ck_assert_uint_lt(n, size);   /* room for the terminator the caller may add */
	buf[n] = '\0';
	return buf;
}

START_TEST(test_rewrite)
{
	ck_assert_str_eq(target(NULL, NULL, "/a/b", NULL, 256), "/a/b");
	ck_assert_str_eq(target(NULL, NULL, "/a", "x=1", 256), "/a?x=1");
	ck_assert_str_eq(target(NULL, NULL, "/a", "", 256), "/a?");   /* "?" kept as sent */
	ck_assert_str_eq(target("/api/v1", "/v1", "/api/v1/x", NULL, 256), "/v1/x");
	ck_assert_str_eq(target("/api/v1", "/v1", "/api/v1/x", "q", 256), "/v1/x?q");
	ck_assert_str_eq(target("/api", "", "/api/x", NULL, 256), "/x");
	ck_assert_str_eq(target("/api", "", "/api", NULL, 256), "/");
	ck_assert_str_eq(target("/api", NULL, "/api", "q", 256), "/?q");
	/* Exactly one '/' where replacement and rest meet. */
	ck_assert_str_eq(target("/api", "/b/", "/api/x", NULL, 256), "/b/x");
	ck_assert_str_eq(target("/api/", "/b", "/api/x", NULL, 256), "/b/x");
	ck_assert_str_eq(target("/api", "/b", "/api", NULL, 256), "/b");
	/* No match: the path goes as it is. */
	ck_assert_str_eq(target("/api/v1", "/v1", "/api/v2/x", NULL, 256), "/api/v2/x");
}
END_TEST

START_TEST(test_rewrite_limits)
{
	/* "/abc?q" is 6 bytes: it needs 7 (one for a terminator). */
	ck_assert_str_eq(target(NULL, NULL, "/abc", "q", 7), "/abc?q");
	ck_assert_str_eq(target(NULL, NULL, "/abc", "q", 6), "(none)");
	/* With a rewrite the check is looser by a byte or two (a '/' and a '?' it may add). */
	ck_assert_str_eq(target("/a", "/long/er", "/a/b", NULL, 12), "/long/er/b");
	ck_assert_str_eq(target("/a", "/long/er", "/a/b", NULL, 10), "(none)");
	ck_assert_str_eq(target("/a", "/long/er", "/a/b", NULL, 4), "(none)");
	ck_assert_str_eq(target(NULL, NULL, "/", NULL, 1), "(none)");
}
END_TEST

START_TEST(test_dot_segments)
{
	static const char *const dotted[] = {
		"/..", "/.", "/a/../b", "/a/./b", "/a/..", "/%2e%2e/x", "/%2E./x", "/.%2e",
		"/a//../b", "..", ".", "/a/%2e",
	};
	static const char *const clean[] = {
		"/", "/a", "/...", "/a/.../b", "/.hidden", "/a.b/c", "/..a", "/a..", "/%2e%2e%2e",
		"/%2ex", "/%2", "/%2f..",   /* an encoded slash is not a segment break here */
		"",
	};

	for (size_t i = 0; i < SW_ARRAY_SIZE(dotted); i++)
		ck_assert_msg(px_path_has_dot_segment((struct sw_str){ dotted[i], strlen(dotted[i]) }),
			      "should be refused: %s", dotted[i]);
	for (size_t i = 0; i < SW_ARRAY_SIZE(clean); i++)
		ck_assert_msg(!px_path_has_dot_segment((struct sw_str){ clean[i], strlen(clean[i]) }),
			      "should pass: %s", clean[i]);
}
END_TEST

static Suite *route_suite(void)
{
	Suite *s = suite_create("route");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_longest_prefix);
	tcase_add_test(tc, test_prefix_segment_boundary);
	tcase_add_test(tc, test_host_order);
	tcase_add_test(tc, test_no_catch_all);
	tcase_add_test(tc, test_rewrite);
	tcase_add_test(tc, test_rewrite_limits);
	tcase_add_test(tc, test_dot_segments);
	suite_add_tcase(s, tc);
	return s;
}

SW_TEST_SUITE(route_suite);
