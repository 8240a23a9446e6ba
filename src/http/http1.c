/* SPDX-License-Identifier: MIT */
/* http1.c - HTTP/1.1 request heads: strict parsing in place on the receive buffer. */
#include <config.h>

#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include "http/http1.h"
#include "http/request.h"

/* RFC 9110 tchar: the characters of a method or a field name. */
static const uint8_t tchar[256] = {
	['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1,
	['*'] = 1, ['+'] = 1, ['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1,
	['`'] = 1, ['|'] = 1, ['~'] = 1,
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1,
	['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
	['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
	['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1,
	['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1,
	['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
	['Y'] = 1, ['Z'] = 1,
	['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
	['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1,
	['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1,
	['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
	['y'] = 1, ['z'] = 1,
};

/* A request-target byte: visible ASCII; no space, no controls, no DEL. */
static inline bool target_char(uint8_t c)
{
	return c > 0x20 && c < 0x7f;
}

/* A field-value byte: VCHAR, obs-text, SP, HTAB (never CR, LF or NUL). */
static inline bool value_char(uint8_t c)
{
	return c >= 0x20 ? c != 0x7f : c == '\t';
}

/*
 * Finds the end of the head incrementally.  Every LF must follow a CR (a
 * bare LF is a smuggling vector between parsers that disagree on it).
 * Returns the head length, 0 to wait for more, or -400.
 */
static ssize_t find_head_end(struct sw_http1_parser *p, const char *buf, size_t len)
{
	size_t i = p->scanned;

	while (i < len) {
		const char *nl = memchr(buf + i, '\n', len - i);
		size_t at;

		if (!nl) {
			p->scanned = len;
			return 0;
		}
		at = (size_t)(nl - buf);
		if (at == 0 || buf[at - 1] != '\r')
			return -400;
		/* An empty line (CRLF right after the previous CRLF) ends the head. */
		if (at >= 3 && buf[at - 2] == '\n')
			return (ssize_t)(at + 1);
		if (at == 1)
			return -400;  /* the head starts with an empty line */
		p->lines++;
		i = at + 1;
	}
	p->scanned = len;
	return 0;
}

/* method SP request-target SP HTTP-version CRLF */
static int parse_request_line(const char *s, const char *eol, struct sw_request *req)
{
	const char *p = s, *sp;

	while (p < eol && tchar[(uint8_t)*p])
		p++;
	if (p == s || p == eol || *p != ' ')
		return 400;
	req->method_name.p = s;
	req->method_name.len = (size_t)(p - s);
	req->method = sw_method_classify(s, req->method_name.len);
	sp = ++p;
	while (p < eol && target_char((uint8_t)*p))
		p++;
	if (p == sp || p == eol || *p != ' ')
		return 400;
	req->target.p = sp;
	req->target.len = (size_t)(p - sp);
	p++;
	if (eol - p != 8 || memcmp(p, "HTTP/", 5) != 0 || p[6] != '.' ||
	    p[5] < '0' || p[5] > '9' || p[7] < '0' || p[7] > '9')
		return 400;
	if (p[5] != '1')
		return 505;
	req->version = p[7] == '0' ? 10 : 11;
	return sw_request_split_target(req);
}

/* Does the comma-separated list contain `token` (case-insensitive)? */
static bool list_has(struct sw_str v, const char *token)
{
	size_t tl = strlen(token), i = 0;

	while (i < v.len) {
		size_t start, end;
		while (i < v.len && (v.p[i] == ' ' || v.p[i] == '\t' || v.p[i] == ','))
			i++;
		start = i;
		while (i < v.len && v.p[i] != ',')
			i++;
		end = i;
		while (end > start && (v.p[end - 1] == ' ' || v.p[end - 1] == '\t'))
			end--;
		if (end - start == tl && strncasecmp(v.p + start, token, tl) == 0)
			return true;
	}
	return false;
}

/*
 * Transfer-Encoding: the last coding must be chunked, or the body's end is
 * unknowable (RFC 9112 6.3); other codings are not implemented.
 */
static int parse_transfer_encoding(struct sw_str v, struct sw_request *req)
{
	size_t end = v.len, start;   /* parse_field trimmed the OWS around v */

	start = end;
	while (start > 0 && v.p[start - 1] != ',')
		start--;
	while (start < end && (v.p[start] == ' ' || v.p[start] == '\t'))
		start++;
	if (end - start != 7 || strncasecmp(v.p + start, "chunked", 7) != 0)
		return 400;
	if (start != 0)
		return 501;   /* e.g. "gzip, chunked" */
	if (req->chunked)
		return 400;   /* repeated Transfer-Encoding */
	req->chunked = true;
	return 0;
}

static int take_header(struct sw_request *req, const struct sw_header *h, bool *seen_host)
{
	int64_t cl;
	int rc;

	if (sw_str_ieq(h->name, "host")) {
		if (*seen_host)
			return 400;
		*seen_host = true;
		if (h->value.len == 0 && req->authority.len == 0)
			return 400;
		if (req->authority.len == 0)
			req->authority = h->value;
	} else if (sw_str_ieq(h->name, "content-length")) {
		if ((rc = sw_content_length_parse(h->value, &cl)) != 0)
			return rc;
		if (req->content_length >= 0 && req->content_length != cl)
			return 400;
		req->content_length = cl;
	} else if (sw_str_ieq(h->name, "transfer-encoding")) {
		if ((rc = parse_transfer_encoding(h->value, req)) != 0)
			return rc;
	} else if (sw_str_ieq(h->name, "connection")) {
		if (list_has(h->value, "close"))
			req->keep_alive = false;
		else if (list_has(h->value, "keep-alive"))
			req->keep_alive = true;
	} else if (sw_str_ieq(h->name, "expect")) {
		if (!sw_str_ieq(h->value, "100-continue"))
			return 417;
		req->expect_continue = true;
	}
	return 0;
}

/* name ":" OWS value OWS; no space before the colon, no obs-fold. */
static int parse_field(const char *s, const char *eol, struct sw_header *h)
{
	const char *p = s, *v, *ve;

	while (p < eol && tchar[(uint8_t)*p])
		p++;
	if (p == s || p == eol || *p != ':')
		return 400;   /* also catches obs-fold (leading SP) and "Name :" */
	h->name.p = s;
	h->name.len = (size_t)(p - s);
	v = p + 1;
	while (v < eol && (*v == ' ' || *v == '\t'))
		v++;
	ve = eol;
	while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
		ve--;
	for (const char *c = v; c < ve; c++)
		if (!value_char((uint8_t)*c))
			return 400;
	h->value.p = v;
	h->value.len = (size_t)(ve - v);
	return 0;
}

static int parse_fields(const char *p, const char *end, const struct sw_limits_cfg *limits,
			struct sw_request *req)
{
	bool seen_host = false;
	int rc;

	while (p < end) {
		const char *eol = memchr(p, '\r', (size_t)(end - p));
		struct sw_header h;

		if (!eol || eol[1] != '\n')
			return 400;   /* a bare CR inside a line */
		if (eol == p)
			break;        /* the empty line */
		if (req->header_count == limits->max_header_count)
			return 431;
		if ((rc = parse_field(p, eol, &h)) != 0 ||
		    (rc = take_header(req, &h, &seen_host)) != 0)
			return rc;
		req->headers[req->header_count++] = h;
		p = eol + 2;
	}
	if (req->version == 11 && !seen_host)
		return 400;
	if (req->chunked && req->content_length >= 0)
		return 400;   /* both framings: the classic smuggling request */
	return 0;
}

int sw_http1_parse(struct sw_http1_parser *p, const char *buf, size_t len,
		   const struct sw_limits_cfg *limits, struct sw_request *req,
		   size_t *head_len)
{
	struct sw_header *headers = req->headers;
	ssize_t end = find_head_end(p, buf, len);
	const char *eol;
	int rc;

	if (end < 0)
		return (int)-end;
	if (end == 0) {
		if (len > limits->max_header_bytes || p->lines > (size_t)limits->max_header_count + 1)
			return 431;
		return SW_AGAIN;
	}
	if ((size_t)end > limits->max_header_bytes)
		return 431;
	memset(req, 0, sizeof(*req));
	req->headers = headers;
	req->content_length = -1;
	eol = memchr(buf, '\r', (size_t)end);
	if (eol[1] != '\n')
		return 400;
	if ((rc = parse_request_line(buf, eol, req)) != 0)
		return rc;
	req->keep_alive = req->version == 11;
	if ((rc = parse_fields(eol + 2, buf + end, limits, req)) != 0)
		return rc;
	if (req->authority.len && !sw_host_valid(req->authority))
		return 400;
	/* HTTP/1.0 has no chunked framing: process, then close (RFC 9112 6.1). */
	if (req->chunked && req->version == 10)
		req->keep_alive = false;
	req->has_body = req->chunked || req->content_length > 0;
	*head_len = (size_t)end;
	return 0;
}

/* ---- responses (from upstreams) ---- */

/* "HTTP/1.x" SP 3DIGIT SP reason: the reason may be empty, never malformed bytes. */
static int parse_status_line(const char *s, const char *eol, struct sw_http1_response *r)
{
	const char *p = s;

	if (eol - s < 12 || memcmp(p, "HTTP/1.", 7) != 0 || (p[7] != '0' && p[7] != '1') ||
	    p[8] != ' ')
		return SW_ERROR;
	r->version = p[7] == '0' ? 10 : 11;
	for (int i = 9; i < 12; i++)
		if (p[i] < '0' || p[i] > '9')
			return SW_ERROR;
	r->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	if (r->status < 100 || (eol - s > 12 && p[12] != ' '))
		return SW_ERROR;
	for (p += 12; p < eol; p++)
		if (!value_char((uint8_t)*p))
			return SW_ERROR;
	return SW_OK;
}

static int refuse_te(struct sw_http1_response *r, struct sw_str coding, const char *why)
{
	r->bad_coding = coding;
	r->why = why;
	return SW_ERROR;
}

/*
 * A response's Transfer-Encoding (RFC 9112 6.1, 6.3), one field or several
 * (one list).  Codings apply in order, so "gzip, chunked" is gzip data in
 * chunk framing: chunked must come last and once, and every coding before
 * it would have to be undone before the body means anything.  We undo
 * chunked and the no-op identity; anything else is refused (502 with the
 * reason in r->why), never passed on with its framing still in the body.
 * Without chunked the body ends at the close (identity only).
 */
static int take_response_te(struct sw_http1_response *r, struct sw_str v)
{
	size_t i = 0;
	bool any = false;

	while (i < v.len) {
		size_t start, end, name_end;
		struct sw_str name;

		while (i < v.len && (v.p[i] == ' ' || v.p[i] == '\t' || v.p[i] == ','))
			i++;
		if (i == v.len)
			break;
		start = i;
		while (i < v.len && v.p[i] != ',')
			i++;
		end = i;
		while (end > start && (v.p[end - 1] == ' ' || v.p[end - 1] == '\t'))
			end--;
		name_end = start;
		while (name_end < end && v.p[name_end] != ';' && v.p[name_end] != ' ' &&
		       v.p[name_end] != '\t')
			name_end++;
		name = (struct sw_str){ v.p + start, name_end - start };
		any = true;
		if (r->chunked)
			return refuse_te(r, name, "chunked is not the final transfer coding");
		if (sw_str_ieq(name, "chunked")) {
			if (name_end != end)
				return refuse_te(r, name, "chunked takes no parameters");
			r->chunked = true;
		} else if (!sw_str_ieq(name, "identity")) {
			return refuse_te(r, name, "a transfer coding swerver does not decode");
		}
	}
	if (!any)
		return refuse_te(r, v, "an empty Transfer-Encoding");
	r->te_seen = true;
	return SW_OK;
}

static int take_response_header(struct sw_http1_response *r, const struct sw_header *h)
{
	int64_t cl;

	if (sw_str_ieq(h->name, "content-length")) {
		if (sw_content_length_parse(h->value, &cl) != 0 ||
		    (r->content_length >= 0 && r->content_length != cl))
			return SW_ERROR;
		r->content_length = cl;
	} else if (sw_str_ieq(h->name, "transfer-encoding")) {
		return take_response_te(r, h->value);
	} else if (sw_str_ieq(h->name, "connection")) {
		if (list_has(h->value, "close"))
			r->keep_alive = false;
		else if (list_has(h->value, "keep-alive"))
			r->keep_alive = true;
	}
	return SW_OK;
}

int sw_http1_parse_response(struct sw_http1_parser *p, const char *buf, size_t len,
			    size_t max_bytes, struct sw_http1_response *r, size_t *head_len)
{
	ssize_t end = find_head_end(p, buf, len);
	const char *eol, *at;

	if (end < 0)
		return SW_ERROR;
	if (end == 0)
		return len > max_bytes ? SW_ERROR : SW_AGAIN;
	if ((size_t)end > max_bytes)
		return SW_ERROR;
	r->header_count = 0;
	r->content_length = -1;
	r->chunked = r->until_close = r->te_seen = false;
	r->why = NULL;
	r->bad_coding = (struct sw_str){ NULL, 0 };
	eol = memchr(buf, '\r', (size_t)end);
	if (eol[1] != '\n' || parse_status_line(buf, eol, r) != SW_OK)
		return SW_ERROR;
	r->keep_alive = r->version == 11;
	for (at = eol + 2; at < buf + end; at = eol + 2) {
		struct sw_header h;

		eol = memchr(at, '\r', (size_t)(buf + end - at));
		if (!eol || eol[1] != '\n')
			return SW_ERROR;
		if (eol == at)
			break;
		if (r->header_count == r->header_cap || parse_field(at, eol, &h) != 0 ||
		    take_response_header(r, &h) != SW_OK)
			return SW_ERROR;
		r->headers[r->header_count++] = h;
	}
	/* Both framings from an upstream: refuse it rather than guess (RFC 9112 6.3). */
	if (r->te_seen && r->content_length >= 0) {
		r->why = "both Content-Length and Transfer-Encoding";
		return SW_ERROR;
	}
	/* A body read to the close ends the connection; the caller knows when there is none. */
	if (r->content_length < 0 && !r->chunked)
		r->until_close = true;
	*head_len = (size_t)end;
	return SW_OK;
}
