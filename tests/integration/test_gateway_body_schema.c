/* SPDX-License-Identifier: MIT */
/* test_gateway_body_schema.c - routes[].body_schema end to end (what passes is forwarded unchanged, what fails never leaves), and -t's messages for bad access and body_schema keys; libcurl over HTTP/1.1, HTTP/2 and HTTP/3. */
#include <config.h>

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "gateway_fixture.h"

/* ---- body_schema ---- */

/* What the origin's /echo got as its body: after the echoed head's blank line. */
static const char *echoed_body(const struct res *r)
{
	const char *b = strstr(r->body, "\n\n");

	return b ? b + 2 : "";
}

static void post(enum proto p, const char *path, const char *ctype, const char *body, struct res *r)
{
	struct req q = { .proto = p, .port = port4, .method = "POST", .path = path, .ctype = ctype,
			 .body = body };

	perform(&q, r);
}

/* What passed the check is what the client sent, byte for byte; what did not never left. */
START_TEST(test_valid_body_forwarded_unchanged)
{
	/* odd spacing, escapes and non-ASCII: forwarded as sent, never re-serialized */
	static const char body[] =
		"{ \"customer\" :\"anna\",\r\n\t\"items\": [ {\"name\":\"caf\\u00e9\", \"qty\": 2.0},"
		" {\"name\": \"\xe2\x82\xac uro\"} ] }  \n";
	struct res r;
	long before;

	if (!have_gateway())
		return;
	start(NULL);
	before = origin_requests();
	for (int i = 0; i < nprotos; i++) {
		enum proto p = protos[i];

		post(p, "/orders/echo", "application/json; charset=utf-8", body, &r);
		IT_ASSERT(r.code == 200 && strcmp(echoed_body(&r), body) == 0,
			  "%s: a valid body: %ld, the origin got:\n%s", proto_name[p], r.code, r.body);
		post(p, "/orders/echo", "application/vnd.shop.order+json", body, &r);
		IT_ASSERT(r.code == 200 && strcmp(echoed_body(&r), body) == 0,
			  "%s: a +json body: %ld", proto_name[p], r.code);
		/* no body: nothing to judge */
		get4(p, "/orders/name", &r);
		IT_ASSERT(r.code == 200, "%s: GET without a body: %ld", proto_name[p], r.code);
		/* the same body one character off (qty 2.5) */
		post(p, "/orders/echo", "application/json", "{\"customer\":\"anna\",\"items\":[{\"name\":\"x\",\"qty\":2.5}]}", &r);
		assert_refused(&r, 400, "schema_violation", "qty 2.5");
	}
	IT_ASSERT(origin_requests() - before == 3 * nprotos, "the origin saw %ld requests",
		  origin_requests() - before);
}
END_TEST

START_TEST(test_invalid_body_refused)
{
	static const struct {
		const char *body, *path, *keyword;
	} cases[] = {
		{ "{\"customer\":\"anna\",\"items\":[{\"name\":\"a\"},{\"name\":\"b\"},{\"name\":\"\"}]}",
		  "/items/2/name", "minLength" },
		{ "{\"customer\":\"anna\",\"items\":[{\"name\":\"a\",\"qty\":1.5}]}", "/items/0/qty", "type" },
		{ "{\"customer\":\"anna\",\"items\":[{\"name\":\"a\",\"qty\":0}]}", "/items/0/qty", "minimum" },
		{ "{\"customer\":\"Anna!\",\"items\":[{\"name\":\"a\"}]}", "/customer", "pattern" },
		{ "{\"customer\":\"anna\"}", "", "required" },
		{ "{\"customer\":\"anna\",\"items\":[{\"name\":\"a\"}],\"admin\":true}", "/admin",
		  "additionalProperties" },
		{ "[]", "", "type" },
	};
	static const char *const not_json[] = { "{'customer':'anna'}", "{\"a\":1,}", "NaN", "{\"a\":1} x" };
	char want[128];
	struct res r;
	long before;

	if (!have_gateway())
		return;
	start(NULL);
	before = origin_requests();
	for (int i = 0; i < nprotos; i++) {
		enum proto p = protos[i];

		for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
			post(p, "/orders/echo", "application/json", cases[k].body, &r);
			assert_refused(&r, 400, "schema_violation", cases[k].body);
			snprintf(want, sizeof(want), "\"path\":\"%s\",\"keyword\":\"%s\"", cases[k].path,
				 cases[k].keyword);
			IT_ASSERT(strstr(r.body, want), "%s %s: want %s in %s", proto_name[p], cases[k].body,
				  want, r.body);
		}
		for (size_t k = 0; k < sizeof(not_json) / sizeof(not_json[0]); k++) {
			post(p, "/orders/echo", "application/json", not_json[k], &r);
			assert_refused(&r, 400, "invalid_json", not_json[k]);
		}
		/* require_json defaults to true: a body the route cannot check is refused */
		post(p, "/orders/echo", "text/plain", "customer=anna", &r);
		assert_refused(&r, 415, "unsupported_media_type", "a text/plain body");
		post(p, "/orders/echo", NULL, "{\"customer\":\"anna\"}", &r);   /* curl's form type */
		assert_refused(&r, 415, "unsupported_media_type", "a form body");
	}
	IT_ASSERT(origin_requests() == before, "%ld refused requests reached the origin",
		  origin_requests() - before);
}
END_TEST

/* The long form: options beside the schema; require_json false lets other types through. */
START_TEST(test_options_form)
{
	struct res r;
	long before;

	if (!have_gateway())
		return;
	start(NULL);
	before = origin_requests();
	for (int i = 0; i < nprotos; i++) {
		enum proto p = protos[i];

		post(p, "/hooks/echo", "text/plain", "not json at all", &r);
		IT_ASSERT(r.code == 200 && strcmp(echoed_body(&r), "not json at all") == 0,
			  "%s: text/plain with require_json false: %ld", proto_name[p], r.code);
		post(p, "/hooks/echo", "application/json", "{\"event\":\"push\"}", &r);
		IT_ASSERT(r.code == 200, "%s: a valid hook: %ld", proto_name[p], r.code);
		post(p, "/hooks/echo", "application/json", "{\"evnt\":\"push\"}", &r);
		assert_refused(&r, 400, "schema_violation", "a hook without event");
	}
	IT_ASSERT(origin_requests() - before == 2 * nprotos, "the origin saw %ld requests",
		  origin_requests() - before);
}
END_TEST

/* ---- config checks ---- */

START_TEST(test_config_errors)
{
	char cfg[IT_PATH_MAX];
	struct it_proc *p;
	char *log;
	int code;

	if (!have_gateway())
		return;
	it_path(cfg, "bad.json");
	it_write_file(cfg,
		"{ \"upstreams\": [ {\"name\": \"o\", \"servers\": [{\"address\": \"127.0.0.1\", \"port\": 9}]} ],\n"
		"  \"routes\": [\n"
		"    {\"path_prefix\": \"/a\", \"upstream\": \"o\",\n"
		"     \"access\": {\"allow\": [\"10.0.0.0/33\"], \"methds\": [\"GET\"]}},\n"
		"    {\"path_prefix\": \"/b\", \"upstream\": \"o\",\n"
		"     \"body_schema\": {\"properties\": {\"age\": {\"minimum\": \"0\"},\n"
		"                     \"id\": {\"pattern\": \"^\\\\d+$\"}, \"t\": {\"type\": \"text\"}},\n"
		"                     \"anyOf\": [{}]}} ] }\n");
	p = it_spawn((const char *const[]){ "-t", "-c", cfg, NULL }, NULL);
	code = it_wait_exit(p, IT_WAIT_MS);
	log = it_log(p);
	IT_ASSERT(code != 0, "-t accepted the config: %s", log);
	IT_ASSERT(strstr(log, "routes[0].access.allow: [0]: \"10.0.0.0/33\" is not an IP address or CIDR block") &&
		  strstr(log, "routes[0].access.methds: unknown key") &&
		  strstr(log, "routes[1].body_schema.properties.age.minimum: must be a number") &&
		  strstr(log, "routes[1].body_schema.properties.id.pattern: \"\\d\" is not POSIX ERE") &&
		  strstr(log, "routes[1].body_schema.properties.t.type: unknown type \"text\"") &&
		  strstr(log, "routes[1].body_schema.anyOf: not supported"),
		  "-t said:\n%s", log);
	free(log);
}
END_TEST

static Suite *gateway_body_schema_suite(void)
{
	Suite *s = suite_create("gateway_body_schema");
	TCase *t = it_tcase("body_schema");

	curl_global_init(CURL_GLOBAL_DEFAULT);
	tcase_add_test(t, test_valid_body_forwarded_unchanged);
	tcase_add_test(t, test_invalid_body_refused);
	tcase_add_test(t, test_options_form);
	tcase_add_test(t, test_config_errors);
	suite_add_tcase(s, t);
	return s;
}

IT_SUITE(gateway_body_schema_suite);
