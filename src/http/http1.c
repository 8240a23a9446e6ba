/* http1.c - HTTP/1.1 request heads: strict parsing in place on the receive buffer. */
#include <config.h>

#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include "http/http1.h"

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

static enum sw_method classify_method(const char *s, size_t len)
{
	for (size_t i = 0; i < SW_ARRAY_SIZE(methods); i++)
		if (methods[i].len == len && memcmp(methods[i].name, s, len) == 0)
			return methods[i].method;
	return SW_METHOD_OTHER;
}

/* Splits path and query and takes the authority out of an absolute-form target. */
static int split_target(struct sw_request *req)
{
	const char *t = req->target.p, *end = t + req->target.len, *q, *slash;

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
	req->method = classify_method(s, req->method_name.len);
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
	return split_target(req);
}

/* Reads a Content-Length value: digits only, no sign, no list. */
static int parse_content_length(struct sw_str v, int64_t *out)
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
		if ((rc = parse_content_length(h->value, &cl)) != 0)
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

/* A reg-name or IP literal, then an optional port (RFC 9110 7.2, 3986 3.2). */
static bool valid_host(struct sw_str v)
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
	if (req->authority.len && !valid_host(req->authority))
		return 400;
	/* HTTP/1.0 has no chunked framing: process, then close (RFC 9112 6.1). */
	if (req->chunked && req->version == 10)
		req->keep_alive = false;
	*head_len = (size_t)end;
	return 0;
}
