/* SPDX-License-Identifier: MIT */
/* test_secheaders.c - src/gateway/secheaders.c and header_edit.c: config checks with key paths, presets, HSTS over TLS only, set/add/remove order. */
#include <config.h>

#include <strings.h>

#include "gw_fixture.h"
#include "gateway/gateway.h"
#include "gateway/secheaders.h"
#include "http/policy.h"
#include "check_main.h"

static void refused(const char *text, const char *want)
{
	struct sw_secheaders *h = GW_COMPILE(sw_secheaders_compile, text, "headers");

	ck_assert_msg(h == NULL, "accepted: %s", text);
	ck_assert_msg(strstr(gw_error(), want), "error \"%s\" lacks \"%s\"", gw_error(), want);
}

static struct sw_secheaders *compiled(const char *text)
{
	struct sw_secheaders *h = GW_COMPILE(sw_secheaders_compile, text, "headers");

	ck_assert_msg(h != NULL, "%s", gw_error());
	return h;
}

START_TEST(test_value_checks)
{
	refused("{\"response\": {\"set\": [{\"name\": \"X-A\", \"value\": \"a\\r\\nInjected: 1\"}]}}",
		"t.json: routes[0].headers.response.set[0].value: not a valid header value");
	refused("{\"response\": {\"add\": [{\"name\": \"X-A\", \"value\": \"ok\"},"
		" {\"name\": \"X-B\", \"value\": \"a\\u0000b\"}]}}",
		"routes[0].headers.response.add[1].value: must not contain a NUL byte");
	refused("{\"response\": {\"set\": [{\"name\": \"X A\", \"value\": \"v\"}]}}",
		"routes[0].headers.response.set[0].name: \"X A\" is not a valid header name");
	refused("{\"response\": {\"set\": [{\"name\": \"\", \"value\": \"v\"}]}}",
		"routes[0].headers.response.set[0].name:");
	refused("{\"response\": {\"set\": [{\"name\": \"X-A\"}]}}",
		"routes[0].headers.response.set[0].value: required");
	refused("{\"response\": {\"set\": [{\"name\": \"X-A\", \"value\": \" lead\"}]}}",
		"routes[0].headers.response.set[0].value:");
	refused("{\"response\": {\"remove\": [\"X-Powered-By\", \"Bad:Name\"]}}",
		"routes[0].headers.response.remove[1]: \"Bad:Name\" is not a valid header name");
	refused("{\"response\": {\"content_security_policy\": \"default-src 'self'\\n\"}}",
		"routes[0].headers.response.content_security_policy: not a valid header value");
	refused("{\"response\": {\"permissions_policy\": \"\"}}",
		"routes[0].headers.response.permissions_policy:");
	refused("{\"response\": {\"sett\": []}}", "routes[0].headers.response.sett: unknown key");
	refused("{\"request\": {\"set\": [{\"name\": \"X-A\", \"value\": \"1\"},"
		" {\"name\": \"x-a\", \"value\": \"2\"}]}}",
		"routes[0].headers.request.set: x-a is set twice ([0] and [1])");
	refused("{\"request\": {\"hsts\": true}}", "routes[0].headers.request.hsts: unknown key");
	refused("{\"responses\": {}}", "routes[0].headers.responses: unknown key");
}
END_TEST

/* Framing and connection fields, and what the proxy builds, are not the operator's to edit. */
START_TEST(test_owned_fields_refused)
{
	refused("{\"response\": {\"set\": [{\"name\": \"Content-Length\", \"value\": \"1\"}]}}",
		"routes[0].headers.response.set[0].name: Content-Length cannot be edited");
	refused("{\"response\": {\"remove\": [\"transfer-encoding\"]}}",
		"routes[0].headers.response.remove[0]:");
	/* Written by the codec after the policies: an edit would silently do nothing. */
	refused("{\"response\": {\"remove\": [\"X-Powered-By\", \"Server\"]}}",
		"routes[0].headers.response.remove[1]: Server cannot be edited");
	refused("{\"response\": {\"set\": [{\"name\": \"Date\", \"value\": \"x\"}]}}",
		"routes[0].headers.response.set[0].name: Date cannot be edited");
	refused("{\"request\": {\"set\": [{\"name\": \"Host\", \"value\": \"x\"}]}}",
		"routes[0].headers.request.set[0].name: Host cannot be edited");
	refused("{\"request\": {\"remove\": [\"X-Forwarded-For\"]}}",
		"routes[0].headers.request.remove[0]:");
	refused("{\"response\": {\"add\": [{\"name\": \"Strict-Transport-Security\","
		" \"value\": \"max-age=1\"}]}}", "use response.hsts");
}
END_TEST

START_TEST(test_preset_checks)
{
	refused("{\"response\": {\"frame_options\": \"ALLOW-FROM https://a\"}}",
		"routes[0].headers.response.frame_options: must be \"DENY\" or \"SAMEORIGIN\"");
	refused("{\"response\": {\"referrer_policy\": \"same-origin, nope\"}}",
		"routes[0].headers.response.referrer_policy: \"nope\" is not a Referrer-Policy");
	refused("{\"response\": {\"hsts\": {\"max_age\": -5}}}",
		"routes[0].headers.response.hsts.max_age:");
	refused("{\"response\": {\"hsts\": {\"max_age\": 600, \"include_subdomains\": true,"
		" \"preload\": true}}}", "routes[0].headers.response.hsts.preload: needs");
	refused("{\"response\": {\"hsts\": {\"preload\": true}}}",
		"routes[0].headers.response.hsts.preload: needs include_subdomains");
	refused("{\"response\": {\"hsts\": {\"maxage\": 5}}}",
		"routes[0].headers.response.hsts.maxage: unknown key");
	refused("{\"response\": {\"nosniff\": \"yes\"}}",
		"routes[0].headers.response.nosniff: must be true or false");
	refused("{\"response\": {\"nosniff\": true, \"set\": [{\"name\": \"x-content-type-options\","
		" \"value\": \"nosniff\"}]}}", "also in set");
}
END_TEST

static const char *apply(const struct sw_secheaders *h, bool tls)
{
	static struct sw_response r;

	gw_response(&r);
	sw_response_add_header(&r, SW_STR("X-Upstream"), SW_STR("upstream/1"));
	sw_response_add_header(&r, SW_STR("X-Powered-By"), SW_STR("php"));
	sw_response_add_header(&r, SW_STR("Cache-Control"), SW_STR("no-cache"));
	sw_response_add_header(&r, SW_STR("x-powered-by"), SW_STR("again"));
	sw_response_add_header(&r, SW_STR("Link"), SW_STR("</a>"));
	sw_secheaders_response(h, &r, tls);
	return gw_fields(&r);
}

START_TEST(test_presets_and_hsts_tls_only)
{
	struct sw_secheaders *h = compiled(
		"{\"response\": {\"hsts\": {\"max_age\": 63072000, \"include_subdomains\": true,"
		" \"preload\": true}, \"nosniff\": true, \"referrer_policy\": \"no-referrer\","
		" \"frame_options\": \"deny\", \"content_security_policy\": \"default-src 'none'\","
		" \"permissions_policy\": \"geolocation=()\"}}");
	const char *common = "X-Upstream: upstream/1|X-Powered-By: php|Cache-Control: no-cache"
			     "|x-powered-by: again|Link: </a>"
			     "|X-Content-Type-Options: nosniff|Referrer-Policy: no-referrer"
			     "|X-Frame-Options: DENY|Content-Security-Policy: default-src 'none'"
			     "|Permissions-Policy: geolocation=()";
	char want[1024];

	ck_assert_str_eq(apply(h, false), common);
	snprintf(want, sizeof(want), "%s|Strict-Transport-Security: max-age=63072000; "
		 "includeSubDomains; preload", common);
	ck_assert_str_eq(apply(h, true), want);
	sw_secheaders_release(h);
	h = compiled("{\"response\": {\"hsts\": true}}");
	ck_assert_str_eq(apply(h, true), "X-Upstream: upstream/1|X-Powered-By: php"
			 "|Cache-Control: no-cache|x-powered-by: again|Link: </a>"
			 "|Strict-Transport-Security: max-age=31536000");
	sw_secheaders_release(h);
}
END_TEST

/* remove first, then set replaces every field of its name, then add appends. */
START_TEST(test_set_add_remove)
{
	struct sw_secheaders *h = compiled(
		"{\"response\": {\"remove\": [\"X-POWERED-BY\", \"X-Upstream\"],"
		" \"set\": [{\"name\": \"Cache-Control\", \"value\": \"no-store\"}],"
		" \"add\": [{\"name\": \"Link\", \"value\": \"</b>\"}, {\"name\": \"X-Empty\", \"value\": \"\"}]},"
		" \"request\": {\"set\": [{\"name\": \"X-Tenant\", \"value\": \"blue\"}],"
		" \"remove\": [\"Cookie\"]}}");

	ck_assert_str_eq(apply(h, true), "Link: </a>|Cache-Control: no-store|Link: </b>|X-Empty: ");
	ck_assert_uint_eq(h->request.set_count, 1);
	ck_assert_str_eq(h->request.set[0].name, "X-Tenant");
	ck_assert_str_eq(h->request.set[0].value, "blue");
	ck_assert_uint_eq(h->request.remove_count, 1);
	ck_assert_str_eq(h->request.remove[0], "Cookie");
	sw_secheaders_release(h);
}
END_TEST

/* A full response loses what does not fit, never overruns. */
START_TEST(test_full_response)
{
	struct sw_secheaders *h = compiled("{\"response\": {\"nosniff\": true}}");
	struct sw_response r;

	gw_response(&r);
	for (unsigned i = 0; i < SW_RESPONSE_MAX_HEADERS; i++)
		sw_response_add_header(&r, SW_STR("X-Fill"), SW_STR("1"));
	sw_secheaders_response(h, &r, false);
	ck_assert_uint_eq(r.header_count, SW_RESPONSE_MAX_HEADERS);
	sw_secheaders_release(h);
}
END_TEST

/* The upstream edit named name: its value, "(removed)", or NULL when none. */
static const char *edit_of(struct sw_exchange *x, const char *name)
{
	size_t n;
	const struct sw_upstream_edit *e = sw_exchange_upstream_edits(x, &n);
	const char *v = NULL;

	for (size_t i = 0; i < n; i++)
		if (strcasecmp(e[i].name, name) == 0)
			v = e[i].value ? e[i].value : "(removed)";
	return v;
}

/*
 * request: remove and set become upstream edits; add extends what would go
 * so far (the client's fields joined, or an earlier policy's edit), with
 * "; " between cookies.  The global policy runs before the route's.
 */
START_TEST(test_request_edits)
{
	struct sw_secheaders *global = compiled(
		"{\"request\": {\"add\": [{\"name\": \"X-Trace\", \"value\": \"g\"}],"
		" \"set\": [{\"name\": \"X-Tenant\", \"value\": \"blue\"}]}}");
	struct sw_secheaders *route = compiled(
		"{\"request\": {\"remove\": [\"X-Drop\"],"
		" \"add\": [{\"name\": \"X-Trace\", \"value\": \"r\"},"
		"  {\"name\": \"Cookie\", \"value\": \"gw=1\"},"
		"  {\"name\": \"X-New\", \"value\": \"n\"}]}}");
	struct gw_req g;
	struct sw_exchange x;

	gw_request(&g, SW_METHOD_GET, "X-Trace", "c1", "x-trace", "c2", "Cookie", "a=1",
		   "cookie", "b=2", "X-Drop", "1", NULL);
	memset(&x, 0, sizeof(x));
	x.req = g.req;
	ck_assert_int_eq(sw_policy_headers.request(&x, global), SW_POLICY_CONTINUE);
	ck_assert_str_eq(edit_of(&x, "x-trace"), "c1, c2, g");
	ck_assert_int_eq(sw_policy_headers.request(&x, route), SW_POLICY_CONTINUE);
	ck_assert_str_eq(edit_of(&x, "X-Trace"), "c1, c2, g, r");
	ck_assert_str_eq(edit_of(&x, "cookie"), "a=1; b=2; gw=1");
	ck_assert_str_eq(edit_of(&x, "X-New"), "n");
	ck_assert_str_eq(edit_of(&x, "X-Drop"), "(removed)");
	ck_assert_str_eq(edit_of(&x, "X-Tenant"), "blue");
	sw_policy_finish(&x);
	sw_secheaders_release(global);
	sw_secheaders_release(route);
}
END_TEST

static Suite *secheaders_suite(void)
{
	Suite *s = suite_create("gateway headers");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_value_checks);
	tcase_add_test(tc, test_owned_fields_refused);
	tcase_add_test(tc, test_preset_checks);
	tcase_add_test(tc, test_presets_and_hsts_tls_only);
	tcase_add_test(tc, test_set_add_remove);
	tcase_add_test(tc, test_full_response);
	tcase_add_test(tc, test_request_edits);
	suite_add_tcase(s, tc);
	return s;
}

const struct sw_test_suite sw_test_suite = { secheaders_suite, NULL, gw_fini };
