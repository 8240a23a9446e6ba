/* SPDX-License-Identifier: MIT */
/* fixture.h - what the src/auth/ suites share: a fake exchange, compiling a method, the strip record. */
#ifndef SW_TEST_AUTH_FIXTURE_H
#define SW_TEST_AUTH_FIXTURE_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "auth/auth_impl.h"
#include "core/diag.h"
#include "http/exchange.h"

struct fx {
	struct sw_exchange x;
	struct sw_header headers[8];
	char target[512];
	/* what the method asked to keep from the upstream */
	char stripped_header[64];
	char stripped_param[64];
	/* every header stripped, and set (jwt's claims_to_headers), in order */
	char strips[8][64];
	unsigned nstrips;
	char set_name[8][64], set_value[8][256];
	unsigned nset;
	char kept[256];      /* sw_auth_keep's copy */
};

static struct fx *fx_current;

/* The glue's edits, recorded here instead: the suites check what a method strips. */
void sw_auth_strip_header(struct sw_exchange *x, const char *name)
{
	(void)x;
	snprintf(fx_current->stripped_header, sizeof(fx_current->stripped_header), "%s", name);
	if (fx_current->nstrips < 8)
		snprintf(fx_current->strips[fx_current->nstrips++], sizeof(fx_current->strips[0]), "%s", name);
}

void sw_auth_upstream_set(struct sw_exchange *x, const char *name, const char *value)
{
	struct fx *f = fx_current;

	(void)x;
	ck_assert_uint_lt(f->nset, 8);
	snprintf(f->set_name[f->nset], sizeof(f->set_name[0]), "%s", name);
	snprintf(f->set_value[f->nset++], sizeof(f->set_value[0]), "%s", value);
}

const char *sw_auth_keep(struct sw_exchange *x, const char *s)
{
	(void)x;
	snprintf(fx_current->kept, sizeof(fx_current->kept), "%s", s);
	return fx_current->kept;
}

void sw_auth_strip_query_param(struct sw_exchange *x, const char *param)
{
	(void)x;
	snprintf(fx_current->stripped_param, sizeof(fx_current->stripped_param), "%s", param);
}

/* A GET of target ("/p?a=1"). */
static inline void fx_init(struct fx *f, const char *target)
{
	const char *q;

	memset(f, 0, sizeof(*f));
	fx_current = f;
	snprintf(f->target, sizeof(f->target), "%s", target);
	f->x.req.target.p = f->target;
	f->x.req.target.len = strlen(f->target);
	q = strchr(f->target, '?');
	f->x.req.path.p = f->target;
	f->x.req.path.len = q ? (size_t)(q - f->target) : strlen(f->target);
	if (q) {
		f->x.req.query.p = q + 1;
		f->x.req.query.len = strlen(q + 1);
	}
	f->x.req.headers = f->headers;
}

static inline void fx_header(struct fx *f, const char *name, const char *value)
{
	struct sw_header *h = &f->headers[f->x.req.header_count++];

	h->name.p = name;
	h->name.len = strlen(name);
	h->value.p = value;
	h->value.len = strlen(value);
}

/* Compiles {json} as an auth object; NULL with the first error in *err. */
static inline struct sw_auth_node *fx_compile(const char *json, char *err, size_t errsize)
{
	static struct sw_auth_node n;
	struct json_object *obj = json_tokener_parse(json);
	struct sw_diag d;
	int rc;

	ck_assert_msg(obj != NULL, "bad test JSON: %s", json);
	sw_diag_init(&d, "test.json");
	rc = sw_auth_node_compile(&n, obj, "routes[0].auth", NULL, 0, &d);
	if (err)
		snprintf(err, errsize, "%s", sw_diag_first_error(&d) ? sw_diag_first_error(&d) : "");
	sw_diag_deinit(&d);
	json_object_put(obj);
	return rc == SW_OK ? &n : NULL;
}

static inline struct sw_auth_result fx_check(struct sw_auth_node *n, struct fx *f)
{
	struct sw_auth_result r = { .outcome = SW_AUTH_ABSENT };

	fx_current = f;
	n->m->check(&f->x, n->state, &r, NULL);
	return r;
}

#endif
