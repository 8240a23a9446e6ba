/* SPDX-License-Identifier: MIT */
/* fields.c - HTTP/2 and HTTP/3 fields: the request head taken in and finished, response field lists built. */
#include <config.h>

#include <stdio.h>
#include "core/clock.h"
#include "http/fields.h"
#include "http/request.h"

/* ---- the request head ---- */

/* Keeps a library buffer alive for as long as the exchange looks at it. */
static struct sw_str hold(struct sw_stream *st, struct sw_str v, void *buf)
{
	st->cls->hold(buf);
	st->held[st->nheld++] = buf;
	return v;
}

static void take_pseudo(struct sw_stream *st, struct sw_str name, struct sw_str value, void *buf)
{
	struct sw_request *req = &st->x.req;

	/* The library has checked that each appears once, before the fields. */
	if (sw_str_eq(name, ":method"))
		req->method_name = hold(st, value, buf);
	else if (sw_str_eq(name, ":path"))
		req->target = hold(st, value, buf);
	else if (sw_str_eq(name, ":authority"))
		req->authority = hold(st, value, buf);
	else if (sw_str_eq(name, ":scheme") && !sw_request_scheme_ok(value) && !st->refuse)
		st->refuse = 400;
}

static void take_content_length(struct sw_stream *st, struct sw_str value)
{
	struct sw_request *req = &st->x.req;
	int64_t cl;

	if (sw_content_length_parse(value, &cl) != 0 ||
	    (req->content_length >= 0 && req->content_length != cl))
		st->refuse = 400;
	else
		req->content_length = cl;
}

void sw_fields_take(struct sw_stream *st, struct sw_str name, void *name_buf,
		    struct sw_str value, void *value_buf)
{
	struct sw_request *req = &st->x.req;
	struct sw_header *hd;

	st->field_bytes += name.len + value.len + 32;
	if (st->field_bytes > st->max_field_bytes)
		st->refuse = 431;
	if (st->refuse == 431)
		return;
	if (name.len && name.p[0] == ':') {
		take_pseudo(st, name, value, value_buf);
		return;
	}
	if (req->header_count == st->header_cap) {
		st->refuse = 431;
		return;
	}
	hd = &st->headers[req->header_count++];
	hd->name = hold(st, name, name_buf);
	hd->value = hold(st, value, value_buf);
	if (sw_str_eq(name, "content-length"))
		take_content_length(st, value);
}

int sw_fields_finish(struct sw_request *req, int version, uint64_t max_body)
{
	const struct sw_header *host;

	req->version = version;
	req->keep_alive = true;
	req->method = sw_method_classify(req->method_name.p, req->method_name.len);
	if (req->method == SW_METHOD_CONNECT)
		req->target = req->authority;
	if (sw_request_split_target(req) != 0)
		return 400;
	/* RFC 9113 8.3.1, RFC 9114 4.3.1: without :authority, Host speaks for it. */
	if (req->authority.len == 0 && (host = sw_request_header(req, "host")))
		req->authority = host->value;
	if (req->authority.len && !sw_host_valid(req->authority))
		return 400;
	if (req->content_length > 0 && (uint64_t)req->content_length > max_body)
		return 413;
	return 0;
}

/* ---- response field lists ---- */

static void add(struct sw_field_list *l, const char *name, size_t nlen, const char *value,
		size_t vlen)
{
	if (l->n == SW_FIELDS_MAX)
		return;
	l->name[l->n] = (struct sw_str){ name, nlen };
	l->value[l->n] = (struct sw_str){ value, vlen };
	l->n++;
	l->bytes += nlen + vlen;
}

/* HTTP/2 and HTTP/3 field names are lower case (RFC 9113 8.2.1); handlers write "Content-Type". */
static void add_field(struct sw_field_list *l, struct sw_str name, struct sw_str value)
{
	char *lower = l->names + l->names_len;

	if (sw_field_connection_specific(name) || l->names_len + name.len > SW_FIELDS_NAMES)
		return;
	for (size_t i = 0; i < name.len; i++) {
		char ch = name.p[i];
		lower[i] = ch >= 'A' && ch <= 'Z' ? (char)(ch + 32) : ch;
	}
	l->names_len += name.len;
	add(l, lower, name.len, value.p, value.len);
}

static void add_status(struct sw_field_list *l, int status)
{
	l->n = l->bytes = l->names_len = 0;
	l->status[0] = (char)('0' + status / 100 % 10);   /* statuses are 100..599 */
	l->status[1] = (char)('0' + status / 10 % 10);
	l->status[2] = (char)('0' + status % 10);
	add(l, ":status", 7, l->status, 3);
}

void sw_fields_response(struct sw_field_list *l, const struct sw_exchange *x, bool server_header)
{
	const struct sw_response *r = &x->resp;

	add_status(l, r->status);
	add(l, "date", 4, sw_clock_http_date(), SW_HTTP_DATE_LEN);
	if (server_header)
		add(l, "server", 6, "swerver", 7);
	for (unsigned i = 0; i < r->header_count; i++)
		add_field(l, r->headers[i].name, r->headers[i].value);
	if (sw_status_has_length(r->status) && r->content_length != SW_LENGTH_UNKNOWN) {
		int n = snprintf(l->clen, sizeof(l->clen), "%llu",
				 (unsigned long long)r->content_length);
		add(l, "content-length", 14, l->clen, (size_t)n);
	}
	add(l, "x-request-id", 12, x->request_id, SW_REQUEST_ID_LEN);
}

bool sw_fields_interim(struct sw_field_list *l, int status, const struct sw_header *fields,
		       unsigned count)
{
	if (status < 100 || status > 199)
		return false;
	add_status(l, status);
	for (unsigned i = 0; i < count; i++)
		add_field(l, fields[i].name, fields[i].value);
	return true;
}
