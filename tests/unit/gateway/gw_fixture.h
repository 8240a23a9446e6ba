/* SPDX-License-Identifier: MIT */
/* gw_fixture.h - what the gateway policy suites share: JSON in, a request made of fields, a response's fields out. */
#ifndef SW_TEST_GW_FIXTURE_H
#define SW_TEST_GW_FIXTURE_H

#include <check.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/diag.h"
#include "http/exchange.h"

static struct sw_diag gw_diag;

/* The runner's fini (check_main.h): the last test's diag released. */
static inline void gw_fini(void)
{
	sw_diag_deinit(&gw_diag);
}

static inline struct json_object *gw_json(const char *text)
{
	struct json_object *j = json_tokener_parse(text);

	ck_assert_msg(j != NULL, "bad JSON in the test: %s", text);
	return j;
}

/*
 * Compiles text with fn at "routes[0].KEY"; the diag keeps the errors
 * until the next call.  Returns what fn returned.
 */
#define GW_COMPILE(fn, text, key) __extension__ ({ \
	struct json_object *j_ = gw_json(text); \
	sw_diag_deinit(&gw_diag); \
	sw_diag_init(&gw_diag, "t.json"); \
	__typeof__(fn(NULL, NULL, NULL)) r_ = fn(j_, "routes[0]." key, &gw_diag); \
	json_object_put(j_); \
	r_; })

/* The first error's text ("" when none). */
static inline const char *gw_error(void)
{
	const char *e = sw_diag_first_error(&gw_diag);

	return e ? e : "";
}

/* A request with up to 8 fields given as "Name", "value" pairs, NULL-terminated. */
struct gw_req {
	struct sw_request req;
	struct sw_header h[8];
};

static inline void gw_request(struct gw_req *g, enum sw_method m, ...)
{
	va_list ap;
	const char *name;

	memset(g, 0, sizeof(*g));
	g->req.method = m;
	g->req.headers = g->h;
	va_start(ap, m);
	while ((name = va_arg(ap, const char *))) {
		const char *value = va_arg(ap, const char *);
		ck_assert_uint_lt(g->req.header_count, 8);
		g->h[g->req.header_count].name = (struct sw_str){ name, strlen(name) };
		g->h[g->req.header_count].value = (struct sw_str){ value, strlen(value) };
		g->req.header_count++;
	}
	va_end(ap);
}

/* A response's fields as "Name: value|Name: value" (in order), for exact comparisons. */
static inline const char *gw_fields(const struct sw_response *r)
{
	static char out[4096];
	size_t n = 0;

	out[0] = '\0';
	for (unsigned i = 0; i < r->header_count; i++)
		n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%.*s: %.*s", i ? "|" : "",
				      (int)r->headers[i].name.len, r->headers[i].name.p,
				      (int)r->headers[i].value.len, r->headers[i].value.p);
	return out;
}

static inline void gw_response(struct sw_response *r)
{
	memset(r, 0, sizeof(*r));
	r->status = 200;
}

#endif
