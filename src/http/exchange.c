/* SPDX-License-Identifier: MIT */
/* exchange.c - helpers on the protocol-neutral exchange: headers, canned answers. */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include "http/context.h"
#include "http/access_log.h"
#include "http/exchange.h"
#include "http/metrics.h"
#include "http/policy.h"

int sw_response_add_header(struct sw_response *r, struct sw_str name, struct sw_str value)
{
	if (r->header_count == SW_RESPONSE_MAX_HEADERS)
		return SW_ERROR;
	r->headers[r->header_count].name = name;
	r->headers[r->header_count].value = value;
	r->header_count++;
	return SW_OK;
}

const struct sw_header *sw_request_header(const struct sw_request *req, const char *name)
{
	for (unsigned i = 0; i < req->header_count; i++)
		if (sw_str_ieq(req->headers[i].name, name))
			return &req->headers[i];
	return NULL;
}

struct status_text {
	int status;
	const char *reason;
	const char *body;   /* the error page, one line */
};

static const struct status_text statuses[] = {
	{ 100, "Continue", NULL },
	{ 200, "OK", NULL },
	{ 201, "Created", NULL },
	{ 204, "No Content", NULL },
	{ 206, "Partial Content", NULL },
	{ 301, "Moved Permanently", NULL },
	{ 302, "Found", NULL },
	{ 304, "Not Modified", NULL },
	{ 400, "Bad Request", "400 Bad Request\n" },
	{ 401, "Unauthorized", "401 Unauthorized\n" },
	{ 403, "Forbidden", "403 Forbidden\n" },
	{ 404, "Not Found", "404 Not Found\n" },
	{ 405, "Method Not Allowed", "405 Method Not Allowed\n" },
	{ 408, "Request Timeout", "408 Request Timeout\n" },
	{ 409, "Conflict", "409 Conflict\n" },
	{ 411, "Length Required", "411 Length Required\n" },
	{ 413, "Content Too Large", "413 Content Too Large\n" },
	{ 414, "URI Too Long", "414 URI Too Long\n" },
	{ 416, "Range Not Satisfiable", "416 Range Not Satisfiable\n" },
	{ 417, "Expectation Failed", "417 Expectation Failed\n" },
	{ 421, "Misdirected Request", "421 Misdirected Request\n" },
	{ 429, "Too Many Requests", "429 Too Many Requests\n" },
	{ 431, "Request Header Fields Too Large", "431 Request Header Fields Too Large\n" },
	{ 500, "Internal Server Error", "500 Internal Server Error\n" },
	{ 501, "Not Implemented", "501 Not Implemented\n" },
	{ 502, "Bad Gateway", "502 Bad Gateway\n" },
	{ 503, "Service Unavailable", "503 Service Unavailable\n" },
	{ 504, "Gateway Timeout", "504 Gateway Timeout\n" },
	{ 505, "HTTP Version Not Supported", "505 HTTP Version Not Supported\n" },
};

static const struct status_text *find_status(int status)
{
	for (size_t i = 0; i < SW_ARRAY_SIZE(statuses); i++)
		if (statuses[i].status == status)
			return &statuses[i];
	return NULL;
}

const char *sw_status_reason(int status)
{
	const struct status_text *s = find_status(status);
	return s ? s->reason : "Unknown";
}

void sw_exchange_empty(struct sw_exchange *x, int status)
{
	x->resp.status = status;
	x->resp.body_kind = SW_BODY_NONE;
	x->resp.content_length = 0;
	x->ops->respond(x);
}

void sw_exchange_error(struct sw_exchange *x, int status)
{
	const struct status_text *s = find_status(status);

	x->resp.status = status;
	if (s && s->body) {
		x->resp.body_kind = SW_BODY_MEMORY;
		x->resp.body.p = s->body;
		x->resp.body.len = strlen(s->body);
		x->resp.content_length = x->resp.body.len;
		sw_response_add_header(&x->resp, SW_STR("Content-Type"),
				       SW_STR("text/plain; charset=utf-8"));
	}
	x->ops->respond(x);
}

/*
 * A request id unique across workers and restarts without coordination:
 * a random per-process base plus a counter, as 16 hex digits.
 */
void sw_exchange_begin(struct sw_exchange *x)
{
	static uint64_t base;
	static const char hex[] = "0123456789abcdef";
	uint64_t id;

	if (base == 0 && getrandom(&base, sizeof(base), 0) != (ssize_t)sizeof(base))
		base = (uint64_t)getpid() << 32 | (uint64_t)time(NULL);
	id = base + ++x->ctx->request_seq;
	for (int i = SW_REQUEST_ID_LEN - 1; i >= 0; i--, id >>= 4)
		x->request_id[i] = hex[id & 15];
	x->request_id[SW_REQUEST_ID_LEN] = '\0';
	x->started_ms = sw_loop_now(x->ctx->loop);
}

void sw_exchange_finish(struct sw_exchange *x)
{
	sw_metrics_observe(x);
	sw_access_log_write(x);
	if (x->resp.release) {
		x->resp.release(x->resp.owner);
		x->resp.release = NULL;
	}
	if (x->policy)
		sw_policy_finish(x);
}

bool sw_field_connection_specific(struct sw_str n)
{
	return sw_str_ieq(n, "connection") || sw_str_ieq(n, "keep-alive") ||
	       sw_str_ieq(n, "proxy-connection") || sw_str_ieq(n, "transfer-encoding") ||
	       sw_str_ieq(n, "upgrade");
}

char *sw_scratch_reserve(char **buf, size_t *cap, size_t size)
{
	if (*cap < size) {
		free(*buf);
		*buf = sw_malloc(size);
		*cap = size;
	}
	return *buf;
}
