/* SPDX-License-Identifier: MIT */
/* test_cors.c - src/gateway/cors.c: its config checks, origin matching (wildcards, case, ports), preflight and response answers, Vary. */
#include <config.h>

#include "gw_fixture.h"
#include "gateway/cors.h"
#include "check_main.h"

static const char *const api =
	"{\"origins\": [\"https://app.example.com\", \"https://*.example.org\","
	"  \"http://localhost:8080\"],"
	" \"methods\": [\"GET\", \"PUT\", \"DELETE\"], \"headers\": [\"Authorization\", \"Content-Type\"],"
	" \"expose_headers\": [\"X-Total\"], \"credentials\": true, \"max_age_s\": 600}";

static struct sw_cors *api_cors(void)
{
	struct sw_cors *c = GW_COMPILE(sw_cors_compile, api, "cors");

	ck_assert_msg(c != NULL, "%s", gw_error());
	return c;
}

static bool allowed(const struct sw_cors *c, const char *origin)
{
	return sw_cors_origin_allowed(c, (struct sw_str){ origin, strlen(origin) });
}

/* Compiling text fails with an error that contains want. */
static void refused(const char *text, const char *want)
{
	struct sw_cors *c = GW_COMPILE(sw_cors_compile, text, "cors");

	ck_assert_msg(c == NULL, "accepted: %s", text);
	ck_assert_msg(strstr(gw_error(), want), "error \"%s\" lacks \"%s\"", gw_error(), want);
}

START_TEST(test_config_errors)
{
	refused("{\"origins\": [\"*\"], \"credentials\": true}",
		"t.json: routes[0].cors.origins: \"*\" cannot be used with credentials");
	refused("{\"origins\": [\"https://a.example.com\"], \"credentials\": true,"
		" \"expose_headers\": [\"*\"]}", "routes[0].cors.expose_headers:");
	refused("{\"origins\": [\"null\"]}", "routes[0].cors.origins[0]: \"null\"");
	refused("{\"origins\": [\"https://a.example.com/\"]}", "routes[0].cors.origins[0]:");
	refused("{\"origins\": [\"https://ok.example.com\", \"https://*.com\"]}",
		"routes[0].cors.origins[1]: \"https://*.com\": a wildcard needs");
	refused("{\"origins\": [\"https://a.*.example.com\"]}", "routes[0].cors.origins[0]:");
	refused("{\"origins\": [\"https://x.example.com:99999\"]}", "routes[0].cors.origins[0]:");
	refused("{\"origins\": [\"*\", \"https://a.example.com\"]}", "list it alone");
	refused("{\"origins\": []}", "routes[0].cors.origins: must be a non-empty array");
	refused("{\"methods\": [\"GET\"]}", "routes[0].cors.origins: required");
	refused("{\"origins\": [\"*\"], \"max_age_s\": 86401}", "routes[0].cors.max_age_s:");
	refused("{\"origins\": [\"*\"], \"max_age_s\": -1}", "routes[0].cors.max_age_s:");
	refused("{\"origins\": [\"*\"], \"headers\": [\"X-A\", \"Bad Name\"]}",
		"routes[0].cors.headers[1]: must be a name");
	refused("{\"origins\": [\"*\"], \"methods\": [\"GET\", \"*\"]}", "routes[0].cors.methods[1]:");
	refused("{\"origins\": [\"*\"], \"credential\": true}", "routes[0].cors.credential: unknown key");
	refused("{\"origins\": [\"*\"], \"credentials\": \"yes\"}", "routes[0].cors.credentials:");
	refused("[]", "routes[0].cors: must be an object");
}
END_TEST

START_TEST(test_origin_exact_and_case)
{
	struct sw_cors *c = api_cors();

	ck_assert(allowed(c, "https://app.example.com"));
	ck_assert(allowed(c, "HTTPS://App.Example.COM"));
	ck_assert(allowed(c, "http://localhost:8080"));
	ck_assert(!allowed(c, "http://app.example.com"));       /* scheme */
	ck_assert(!allowed(c, "https://app.example.com:8443"));  /* port */
	ck_assert(!allowed(c, "http://localhost"));
	ck_assert(!allowed(c, "http://localhost:8081"));
	ck_assert(!allowed(c, "https://app.example.com.evil.net"));
	ck_assert(!allowed(c, "https://evilapp.example.com"));
	ck_assert(!allowed(c, "https://app.example.com/"));
	ck_assert(!allowed(c, "null"));
	ck_assert(!allowed(c, ""));
	sw_cors_release(c);
}
END_TEST

/* "*." stands for one or more labels, never for none or part of one. */
START_TEST(test_origin_wildcard)
{
	struct sw_cors *c = api_cors();

	ck_assert(allowed(c, "https://a.example.org"));
	ck_assert(allowed(c, "https://a.b.example.org"));
	ck_assert(allowed(c, "https://A-1.Example.Org"));
	ck_assert(!allowed(c, "https://example.org"));
	ck_assert(!allowed(c, "https://.example.org"));
	ck_assert(!allowed(c, "https://a..example.org"));
	ck_assert(!allowed(c, "https://badexample.org"));
	ck_assert(!allowed(c, "https://a.example.org.evil.net"));
	ck_assert(!allowed(c, "http://a.example.org"));
	ck_assert(!allowed(c, "https://a.example.org:444"));
	ck_assert(!allowed(c, "https://a/b.example.org"));
	sw_cors_release(c);
}
END_TEST

/* Without a scheme a pattern means https only: plain-HTTP origins are written out. */
START_TEST(test_origin_schemeless_is_https)
{
	struct sw_cors *c = GW_COMPILE(sw_cors_compile,
				       "{\"origins\": [\"*.example.com\", \"api.example.net\"]}", "cors");

	ck_assert_msg(c != NULL, "%s", gw_error());
	ck_assert(allowed(c, "https://x.example.com"));
	ck_assert(!allowed(c, "http://x.example.com"));
	ck_assert(allowed(c, "https://api.example.net"));
	ck_assert(!allowed(c, "http://api.example.net"));
	sw_cors_release(c);
}
END_TEST

START_TEST(test_origin_ipv6_and_any)
{
	struct sw_cors *c = GW_COMPILE(sw_cors_compile,
				       "{\"origins\": [\"http://[::1]:8080\"]}", "cors");

	ck_assert_msg(c != NULL, "%s", gw_error());
	ck_assert(allowed(c, "http://[::1]:8080"));
	ck_assert(!allowed(c, "http://[::1]:8081"));
	sw_cors_release(c);
	c = GW_COMPILE(sw_cors_compile, "{\"origins\": [\"*\"]}", "cors");
	ck_assert(allowed(c, "https://anything.example"));
	ck_assert(!allowed(c, "not an origin"));
	sw_cors_release(c);
}
END_TEST

START_TEST(test_is_preflight)
{
	struct gw_req g;

	gw_request(&g, SW_METHOD_OPTIONS, "Origin", "https://a.example.com",
		   "Access-Control-Request-Method", "PUT", NULL);
	ck_assert(sw_cors_is_preflight(&g.req));
	gw_request(&g, SW_METHOD_OPTIONS, "Origin", "https://a.example.com", NULL);
	ck_assert(!sw_cors_is_preflight(&g.req));
	gw_request(&g, SW_METHOD_OPTIONS, "Access-Control-Request-Method", "PUT", NULL);
	ck_assert(!sw_cors_is_preflight(&g.req));
	gw_request(&g, SW_METHOD_GET, "Origin", "https://a.example.com",
		   "Access-Control-Request-Method", "PUT", NULL);
	ck_assert(!sw_cors_is_preflight(&g.req));
}
END_TEST

static const char *preflight(const struct sw_cors *c, const char *origin, const char *method,
			     const char *headers)
{
	struct gw_req g;
	static struct sw_response r;

	if (headers)
		gw_request(&g, SW_METHOD_OPTIONS, "Origin", origin,
			   "Access-Control-Request-Method", method,
			   "Access-Control-Request-Headers", headers, NULL);
	else
		gw_request(&g, SW_METHOD_OPTIONS, "Origin", origin,
			   "Access-Control-Request-Method", method, NULL);
	gw_response(&r);
	sw_cors_preflight(c, &g.req, &r);
	return gw_fields(&r);
}

#define VARY_PF "Vary: Origin, Access-Control-Request-Method, Access-Control-Request-Headers"

START_TEST(test_preflight_allowed)
{
	struct sw_cors *c = api_cors();

	ck_assert_str_eq(preflight(c, "https://app.example.com", "PUT", "authorization,content-type"),
			 VARY_PF "|Access-Control-Allow-Origin: https://app.example.com"
			 "|Access-Control-Allow-Credentials: true"
			 "|Access-Control-Allow-Methods: GET, PUT, DELETE"
			 "|Access-Control-Allow-Headers: Authorization, Content-Type"
			 "|Access-Control-Max-Age: 600");
	/* No headers asked for; the origin echoed as sent. */
	ck_assert_str_eq(preflight(c, "https://B.example.org", "DELETE", NULL),
			 VARY_PF "|Access-Control-Allow-Origin: https://B.example.org"
			 "|Access-Control-Allow-Credentials: true"
			 "|Access-Control-Allow-Methods: GET, PUT, DELETE"
			 "|Access-Control-Allow-Headers: Authorization, Content-Type"
			 "|Access-Control-Max-Age: 600");
	sw_cors_release(c);
}
END_TEST

/* A method or header not allowed: no Allow-Methods/-Headers/-Max-Age, so the browser stops. */
START_TEST(test_preflight_refused_method_or_header)
{
	struct sw_cors *c = api_cors();
	const char *origin_only = VARY_PF "|Access-Control-Allow-Origin: https://app.example.com"
				  "|Access-Control-Allow-Credentials: true";

	ck_assert_str_eq(preflight(c, "https://app.example.com", "PATCH", NULL), origin_only);
	ck_assert_str_eq(preflight(c, "https://app.example.com", "put", NULL), origin_only);
	ck_assert_str_eq(preflight(c, "https://app.example.com", "PUT", "content-type,x-secret"),
			 origin_only);
	ck_assert_str_eq(preflight(c, "https://app.example.com", "PUT", " , content-type , "),
			 VARY_PF "|Access-Control-Allow-Origin: https://app.example.com"
			 "|Access-Control-Allow-Credentials: true"
			 "|Access-Control-Allow-Methods: GET, PUT, DELETE"
			 "|Access-Control-Allow-Headers: Authorization, Content-Type"
			 "|Access-Control-Max-Age: 600");
	sw_cors_release(c);
}
END_TEST

START_TEST(test_preflight_disallowed_origin)
{
	struct sw_cors *c = api_cors();

	ck_assert_str_eq(preflight(c, "https://evil.example.net", "GET", NULL), VARY_PF);
	ck_assert_str_eq(preflight(c, "null", "GET", NULL), VARY_PF);
	sw_cors_release(c);
}
END_TEST

/* "*" lists echo what was asked; any origin without credentials answers "*" and does not Vary on it. */
START_TEST(test_preflight_wildcards)
{
	struct sw_cors *c = GW_COMPILE(sw_cors_compile,
				       "{\"origins\": [\"*\"], \"methods\": [\"*\"], \"headers\": [\"*\"]}",
				       "cors");

	ck_assert_msg(c != NULL, "%s", gw_error());
	ck_assert_str_eq(preflight(c, "https://x.test", "PURGE", "x-a,authorization"),
			 "Vary: Access-Control-Request-Method, Access-Control-Request-Headers"
			 "|Access-Control-Allow-Origin: *"
			 "|Access-Control-Allow-Methods: PURGE"
			 "|Access-Control-Allow-Headers: x-a,authorization");
	sw_cors_release(c);
	/* The defaults: the safelisted methods, no extra headers, no Max-Age. */
	c = GW_COMPILE(sw_cors_compile, "{\"origins\": [\"https://a.example.com\"]}", "cors");
	ck_assert_str_eq(preflight(c, "https://a.example.com", "POST", NULL),
			 VARY_PF "|Access-Control-Allow-Origin: https://a.example.com"
			 "|Access-Control-Allow-Methods: GET, HEAD, POST");
	ck_assert_str_eq(preflight(c, "https://a.example.com", "POST", "x-a"),
			 VARY_PF "|Access-Control-Allow-Origin: https://a.example.com");
	sw_cors_release(c);
}
END_TEST

static const char *respond(const struct sw_cors *c, struct gw_req *g)
{
	static struct sw_response r;

	gw_response(&r);
	/* What an upstream may have said itself: replaced on a CORS route. */
	sw_response_add_header(&r, SW_STR("Content-Type"), SW_STR("application/json"));
	sw_response_add_header(&r, SW_STR("access-control-allow-origin"), SW_STR("*"));
	sw_response_add_header(&r, SW_STR("Access-Control-Allow-Credentials"), SW_STR("true"));
	sw_cors_response(c, &g->req, &r);
	return gw_fields(&r);
}

START_TEST(test_response_allowed)
{
	struct sw_cors *c = api_cors();
	struct gw_req g;

	gw_request(&g, SW_METHOD_GET, "Origin", "https://app.example.com", NULL);
	ck_assert_str_eq(respond(c, &g), "Content-Type: application/json|Vary: Origin"
			 "|Access-Control-Allow-Origin: https://app.example.com"
			 "|Access-Control-Allow-Credentials: true"
			 "|Access-Control-Expose-Headers: X-Total");
	sw_cors_release(c);
}
END_TEST

/* Another origin, none, or two Origin fields: no CORS fields, but Vary: Origin for caches. */
START_TEST(test_response_disallowed_and_vary)
{
	struct sw_cors *c = api_cors();
	struct gw_req g;

	gw_request(&g, SW_METHOD_GET, "Origin", "https://evil.example.net", NULL);
	ck_assert_str_eq(respond(c, &g), "Content-Type: application/json|Vary: Origin");
	gw_request(&g, SW_METHOD_GET, NULL);
	ck_assert_str_eq(respond(c, &g), "Content-Type: application/json|Vary: Origin");
	gw_request(&g, SW_METHOD_GET, "Origin", "https://app.example.com",
		   "Origin", "https://app.example.com", NULL);
	ck_assert_str_eq(respond(c, &g), "Content-Type: application/json|Vary: Origin");
	/* An OPTIONS without Access-Control-Request-Method is an ordinary request. */
	gw_request(&g, SW_METHOD_OPTIONS, "Origin", "https://app.example.com", NULL);
	ck_assert_str_eq(respond(c, &g), "Content-Type: application/json|Vary: Origin"
			 "|Access-Control-Allow-Origin: https://app.example.com"
			 "|Access-Control-Allow-Credentials: true"
			 "|Access-Control-Expose-Headers: X-Total");
	sw_cors_release(c);
}
END_TEST

START_TEST(test_response_any_origin)
{
	struct sw_cors *c = GW_COMPILE(sw_cors_compile,
				       "{\"origins\": [\"*\"], \"expose_headers\": [\"*\"]}", "cors");
	struct gw_req g;

	ck_assert_msg(c != NULL, "%s", gw_error());
	gw_request(&g, SW_METHOD_GET, "Origin", "https://x.test", NULL);
	ck_assert_str_eq(respond(c, &g), "Content-Type: application/json"
			 "|Access-Control-Allow-Origin: *|Access-Control-Expose-Headers: *");
	gw_request(&g, SW_METHOD_GET, NULL);
	ck_assert_str_eq(respond(c, &g), "Content-Type: application/json");
	sw_cors_release(c);
}
END_TEST

/* A Vary that already names Origin (an upstream's, or a global cors policy's) is not repeated. */
START_TEST(test_vary_not_repeated)
{
	struct sw_cors *c = api_cors();
	struct sw_response r;
	struct gw_req g;

	gw_request(&g, SW_METHOD_GET, "Origin", "https://app.example.com", NULL);
	gw_response(&r);
	sw_response_add_header(&r, SW_STR("vary"), SW_STR("Accept-Encoding, origin"));
	sw_cors_response(c, &g.req, &r);
	sw_cors_response(c, &g.req, &r);
	ck_assert_str_eq(gw_fields(&r), "vary: Accept-Encoding, origin"
			 "|Access-Control-Allow-Origin: https://app.example.com"
			 "|Access-Control-Allow-Credentials: true"
			 "|Access-Control-Expose-Headers: X-Total");
	gw_response(&r);
	sw_response_add_header(&r, SW_STR("Vary"), SW_STR("Accept-Encoding,Origins"));
	sw_cors_response(c, &g.req, &r);
	ck_assert_str_eq(gw_fields(&r), "Vary: Accept-Encoding,Origins|Vary: Origin"
			 "|Access-Control-Allow-Origin: https://app.example.com"
			 "|Access-Control-Allow-Credentials: true"
			 "|Access-Control-Expose-Headers: X-Total");
	sw_cors_release(c);
}
END_TEST

static Suite *cors_suite(void)
{
	Suite *s = suite_create("gateway cors");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_config_errors);
	tcase_add_test(tc, test_origin_exact_and_case);
	tcase_add_test(tc, test_origin_wildcard);
	tcase_add_test(tc, test_origin_schemeless_is_https);
	tcase_add_test(tc, test_origin_ipv6_and_any);
	tcase_add_test(tc, test_is_preflight);
	tcase_add_test(tc, test_preflight_allowed);
	tcase_add_test(tc, test_preflight_refused_method_or_header);
	tcase_add_test(tc, test_preflight_disallowed_origin);
	tcase_add_test(tc, test_preflight_wildcards);
	tcase_add_test(tc, test_response_allowed);
	tcase_add_test(tc, test_response_disallowed_and_vary);
	tcase_add_test(tc, test_response_any_origin);
	tcase_add_test(tc, test_vary_not_repeated);
	suite_add_tcase(s, tc);
	return s;
}

const struct sw_test_suite sw_test_suite = { cors_suite, NULL, gw_fini };
