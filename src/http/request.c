/* SPDX-License-Identifier: MIT */
/* request.c - request-target, method, Host and Content-Length rules every codec shares. */
#include <config.h>

#include <string.h>
#include "http/request.h"

struct method_name {
	const char *name;
	size_t len;
	enum sw_method method;
};

static const struct method_name methods[] = {
	{ "GET", 3, SW_METHOD_GET }, { "HEAD", 4, SW_METHOD_HEAD },
	{ "POST", 4, SW_METHOD_POST }, { "PUT", 3, SW_METHOD_PUT },
	{ "DELETE", 6, SW_METHOD_DELETE }, { "OPTIONS", 7, SW_METHOD_OPTIONS },
	{ "PATCH", 5, SW_METHOD_PATCH }, { "CONNECT", 7, SW_METHOD_CONNECT },
	{ "TRACE", 5, SW_METHOD_TRACE },
};

enum sw_method sw_method_classify(const char *s, size_t len)
{
	for (size_t i = 0; i < SW_ARRAY_SIZE(methods); i++)
		if (methods[i].len == len && memcmp(methods[i].name, s, len) == 0)
			return methods[i].method;
	return SW_METHOD_OTHER;
}

/* Splits path and query and takes the authority out of an absolute-form target. */
int sw_request_split_target(struct sw_request *req)
{
	const char *t = req->target.p, *end = t + req->target.len, *q, *slash;

	/*
	 * A fragment is the client's own business (RFC 9110 4.2.5) and no
	 * request-target or :path may carry one (RFC 9112 3.2, RFC 9113
	 * 8.3.1): refused, so it never reaches a file lookup or an upstream.
	 */
	if (memchr(t, '#', req->target.len))
		return 400;
	if (req->target.len == 1 && *t == '*') {
		if (req->method != SW_METHOD_OPTIONS)
			return 400;
		req->path = req->target;
		return 0;
	}
	if (req->method == SW_METHOD_CONNECT) {
		req->authority = req->target;   /* authority-form */
		return 0;
	}
	if (*t != '/') {
		/* absolute-form: scheme "://" authority path */
		const char *sep = memmem(t, req->target.len, "://", 3);
		if (!sep || sep == t)
			return 400;
		for (const char *c = t; c < sep; c++)
			if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			      (c > t && ((*c >= '0' && *c <= '9') || *c == '+' ||
					 *c == '-' || *c == '.'))))
				return 400;
		slash = memchr(sep + 3, '/', (size_t)(end - sep - 3));
		q = memchr(sep + 3, '?', (size_t)(end - sep - 3));
		if (q && (!slash || q < slash))
			slash = q;
		req->authority.p = sep + 3;
		req->authority.len = (size_t)((slash ? slash : end) - (sep + 3));
		if (req->authority.len == 0)
			return 400;
		t = slash ? slash : end;
	}
	q = memchr(t, '?', (size_t)(end - t));
	/* "http://a" and "http://a?x" have no path: it is "/" (RFC 9112 3.2.2). */
	if (t == end || t == q) {
		req->path.p = "/";
		req->path.len = 1;
	} else {
		req->path.p = t;
		req->path.len = (size_t)((q ? q : end) - t);
	}
	if (q) {
		req->query.p = q + 1;
		req->query.len = (size_t)(end - q - 1);
	}
	return 0;
}

bool sw_request_scheme_ok(struct sw_str scheme)
{
	return sw_str_ieq(scheme, "http") || sw_str_ieq(scheme, "https");
}

/* Reads a Content-Length value: digits only, no sign, no list. */
int sw_content_length_parse(struct sw_str v, int64_t *out)
{
	int64_t n = 0;

	if (v.len == 0 || v.len > 18)
		return 400;
	for (size_t i = 0; i < v.len; i++) {
		if (v.p[i] < '0' || v.p[i] > '9')
			return 400;
		n = n * 10 + (v.p[i] - '0');
	}
	*out = n;
	return 0;
}

/* A reg-name or IP literal, then an optional port (RFC 9110 7.2, 3986 3.2). */
bool sw_host_valid(struct sw_str v)
{
	size_t i = 0;

	if (v.len && v.p[0] == '[') {
		for (i = 1; i < v.len && v.p[i] != ']'; i++)
			if (!((v.p[i] >= '0' && v.p[i] <= '9') || (v.p[i] >= 'a' && v.p[i] <= 'f') ||
			      (v.p[i] >= 'A' && v.p[i] <= 'F') || v.p[i] == ':' || v.p[i] == '.'))
				return false;
		if (i == v.len || i == 1)
			return false;   /* no closing bracket, or "[]" */
		i++;
	} else {
		/* Letters, digits and "-._~": a name can smuggle nothing else. */
		for (; i < v.len && v.p[i] != ':'; i++)
			if (!((v.p[i] >= 'a' && v.p[i] <= 'z') || (v.p[i] >= 'A' && v.p[i] <= 'Z') ||
			      (v.p[i] >= '0' && v.p[i] <= '9') || v.p[i] == '-' || v.p[i] == '.' ||
			      v.p[i] == '_' || v.p[i] == '~'))
				return false;
		if (i == 0)
			return false;   /* an empty host (":80") names nobody */
	}
	if (i < v.len) {
		if (v.p[i++] != ':')
			return false;
		for (; i < v.len; i++)
			if (v.p[i] < '0' || v.p[i] > '9')
				return false;
	}
	return true;
}
