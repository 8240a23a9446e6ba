/* SPDX-License-Identifier: MIT */
/* strip.c - the credential a method took, kept from the upstream request (the exchange's upstream edits). */
#include <config.h>

#include <string.h>
#include "auth/auth_impl.h"
#include "http/policy.h"

/*
 * Its own file so the unit suites can define these two and record the
 * calls instead (tests/unit/auth/fixture.h): the linker then never pulls
 * this object in for them.
 */
void sw_auth_strip_header(struct sw_exchange *x, const char *name)
{
	sw_exchange_upstream_remove(x, name);
}

/*
 * The query is a view of the client's request; the upstream target (and
 * the access log's) is rebuilt from x->req, so both get the query without
 * the key, in exchange memory.
 */
void sw_auth_strip_query_param(struct sw_exchange *x, const char *param)
{
	struct sw_request *req = &x->req;
	struct sw_str value;
	char *buf;
	size_t n;

	if (!req->query.p)
		return;
	buf = sw_exchange_alloc(x, req->path.len + 1 + req->query.len + 1);
	memcpy(buf, req->path.p, req->path.len);
	buf[req->path.len] = '?';
	n = sw_auth_query_remove(req->query, param, buf + req->path.len + 1, &value);
	if (!value.p)
		return;
	req->path.p = buf;
	req->query.p = buf + req->path.len + 1;
	req->query.len = n;
	req->target.p = buf;
	req->target.len = req->path.len + 1 + n;
	if (n == 0) {
		/* "/p?api_key=k" becomes "/p" */
		req->query.p = NULL;
		req->target.len--;
	}
}
