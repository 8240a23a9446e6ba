/* SPDX-License-Identifier: MIT */
/*
 * gateway_fields.c - CPU time of the headers and cors policies' work on one
 * exchange (src/gateway/): a preflight's answer, an actual response's CORS
 * fields and security headers, the request edits' values.  What
 * bench/gateway.sh measures through the whole server, without the load
 * machine's noise.  Never part of make check.
 *
 *   bench/gateway_fields [iterations]
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>
#include "core/diag.h"
#include "gateway/cors.h"
#include "gateway/secheaders.h"

static const char *const cors_json =
	"{\"origins\": [\"https://www.example.com\", \"https://admin.example.com\","
	" \"https://*.apps.example.com\"], \"methods\": [\"GET\", \"POST\", \"PUT\", \"DELETE\"],"
	" \"headers\": [\"Authorization\", \"Content-Type\"], \"expose_headers\": [\"X-Total-Count\"],"
	" \"credentials\": true, \"max_age_s\": 600}";
static const char *const headers_json =
	"{\"response\": {\"hsts\": true, \"nosniff\": true, \"frame_options\": \"DENY\","
	" \"referrer_policy\": \"no-referrer\", \"content_security_policy\": \"default-src 'none'\","
	" \"set\": [{\"name\": \"Cache-Control\", \"value\": \"no-store\"}],"
	" \"remove\": [\"X-Powered-By\"]}}";

static double cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void *compile(void *(*fn)(struct json_object *, const char *, struct sw_diag *),
		     const char *text)
{
	struct json_object *j = json_tokener_parse(text);
	struct sw_diag d;
	void *s;

	sw_diag_init(&d, "bench");
	s = fn(j, "bench", &d);
	if (!s) {
		fprintf(stderr, "%s\n", sw_diag_first_error(&d));
		exit(1);
	}
	sw_diag_deinit(&d);
	json_object_put(j);
	return s;
}

static void *cors_compile(struct json_object *j, const char *p, struct sw_diag *d)
{
	return sw_cors_compile(j, p, d);
}

static void *headers_compile(struct json_object *j, const char *p, struct sw_diag *d)
{
	return sw_secheaders_compile(j, p, d);
}

/* What a proxied answer brings: six upstream fields. */
static void upstream_answer(struct sw_response *r)
{
	r->header_count = 0;
	sw_response_add_header(r, SW_STR("Content-Type"), SW_STR("application/json"));
	sw_response_add_header(r, SW_STR("Cache-Control"), SW_STR("private"));
	sw_response_add_header(r, SW_STR("X-Powered-By"), SW_STR("app"));
	sw_response_add_header(r, SW_STR("ETag"), SW_STR("\"abc\""));
	sw_response_add_header(r, SW_STR("X-Total-Count"), SW_STR("42"));
	sw_response_add_header(r, SW_STR("Last-Modified"), SW_STR("Sun, 06 Dec 2026 07:00:00 GMT"));
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	struct sw_cors *c = compile(cors_compile, cors_json);
	struct sw_secheaders *h = compile(headers_compile, headers_json);
	struct sw_header fields[] = {
		{ SW_STR("host"), SW_STR("api.example.com") },
		{ SW_STR("user-agent"), SW_STR("Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101") },
		{ SW_STR("accept"), SW_STR("application/json") },
		{ SW_STR("origin"), SW_STR("https://a.apps.example.com") },
		{ SW_STR("access-control-request-method"), SW_STR("PUT") },
		{ SW_STR("access-control-request-headers"), SW_STR("authorization,content-type") },
	};
	struct sw_request req = { .method = SW_METHOD_OPTIONS, .headers = fields, .header_count = 6 };
	static struct sw_response r;
	double t0, t1, t2, t3;
	unsigned sink = 0;

	t0 = cpu_us();
	for (long i = 0; i < n; i++) {
		r.header_count = 0;
		sw_cors_preflight(c, &req, &r);
		sink += r.header_count;
	}
	t1 = cpu_us();
	req.method = SW_METHOD_GET;
	req.header_count = 4;
	for (long i = 0; i < n; i++) {
		upstream_answer(&r);
		sink += r.header_count;
	}
	t2 = cpu_us();
	for (long i = 0; i < n; i++) {
		upstream_answer(&r);
		sw_cors_response(c, &req, &r);
		sw_secheaders_response(h, &r, true);
		sink += r.header_count;
	}
	t3 = cpu_us();
	printf("iterations: %ld (fields checksum %u)\n", n, sink);
	printf("preflight answer (wildcard origin, 2 headers asked): %.3f us\n", (t1 - t0) / (double)n);
	printf("actual response: cors + headers (6 presets/sets, 1 remove): %.3f us "
	       "(6 upstream fields added: %.3f us, not counted)\n",
	       ((t3 - t2) - (t2 - t1)) / (double)n, (t2 - t1) / (double)n);
	sw_cors_release(c);
	sw_secheaders_release(h);
	return 0;
}
