/* SPDX-License-Identifier: MIT */
/* origin_http.c - the test origin's HTTP/1.1 side: request parsing, endpoints, WebSocket echo. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include "origin.h"

#define UNUSED __attribute__((unused))

/* ---- small helpers ---- */

/* Decimal digits only, no sign, no overflow, at most max. */
static bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

/* Case-insensitive: does the span contain tok? */
static bool span_has(const char *v, size_t n, const char *tok)
{
	size_t t = strlen(tok);

	for (size_t i = 0; i + t <= n; i++)
		if (strncasecmp(v + i, tok, t) == 0)
			return true;
	return false;
}

static bool name_is(const char *name, size_t n, const char *want)
{
	return n == strlen(want) && strncasecmp(name, want, n) == 0;
}

/* ---- SHA-1 and base64, for Sec-WebSocket-Accept ---- */

static uint32_t rol(uint32_t x, int n)
{
	return (x << n) | (x >> (32 - n));
}

static void sha1_block(uint32_t h[5], const unsigned char *p)
{
	uint32_t w[80], v[5], f, k, t;

	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 80; i++)
		w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	memcpy(v, h, sizeof(v));
	for (int i = 0; i < 80; i++) {
		if (i < 20) {
			f = (v[1] & v[2]) | (~v[1] & v[3]);
			k = 0x5A827999;
		} else if (i < 40) {
			f = v[1] ^ v[2] ^ v[3];
			k = 0x6ED9EBA1;
		} else if (i < 60) {
			f = (v[1] & v[2]) | (v[1] & v[3]) | (v[2] & v[3]);
			k = 0x8F1BBCDC;
		} else {
			f = v[1] ^ v[2] ^ v[3];
			k = 0xCA62C1D6;
		}
		t = rol(v[0], 5) + f + v[4] + k + w[i];
		v[4] = v[3];
		v[3] = v[2];
		v[2] = rol(v[1], 30);
		v[1] = v[0];
		v[0] = t;
	}
	for (int i = 0; i < 5; i++)
		h[i] += v[i];
}

static void sha1(const void *data, size_t n, unsigned char out[20])
{
	uint32_t h[5] = { 0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0 };
	const unsigned char *p = data;
	unsigned char tail[128] = { 0 };
	size_t rest = n % 64, tlen = rest < 56 ? 64 : 128;
	uint64_t bits = (uint64_t)n * 8;

	for (size_t i = 0; i + 64 <= n; i += 64)
		sha1_block(h, p + i);
	memcpy(tail, p + n - rest, rest);
	tail[rest] = 0x80;
	for (int i = 0; i < 8; i++)
		tail[tlen - 1 - i] = (unsigned char)(bits >> (8 * i));
	for (size_t i = 0; i < tlen; i += 64)
		sha1_block(h, tail + i);
	for (int i = 0; i < 20; i++)
		out[i] = (unsigned char)(h[i / 4] >> (24 - 8 * (i % 4)));
}

static void base64(const unsigned char *p, size_t n, char *out)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) |
			     (i + 2 < n ? p[i + 2] : 0);

		*out++ = tab[v >> 18 & 63];
		*out++ = tab[v >> 12 & 63];
		*out++ = i + 1 < n ? tab[v >> 6 & 63] : '=';
		*out++ = i + 2 < n ? tab[v & 63] : '=';
	}
	*out = '\0';
}

/* ---- responses ---- */

static const char *reason(int code)
{
	switch (code) {
	case 101: return "Switching Protocols";
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "Unknown";
	}
}

static void head_start(struct conn *c, int code)
{
	c->close_after = !c->keepalive;
	buf_printf(&c->out, "HTTP/1.1 %d %s\r\nX-Origin: %s\r\nX-Origin-Conn: %lu\r\n",
		   code, reason(code), c->srv->name, c->serial);
}

/* clen: the Content-Length, or -1 for none (close-delimited or no body). */
static void head_finish(struct conn *c, int64_t clen)
{
	if (clen >= 0)
		buf_printf(&c->out, "Content-Length: %lld\r\n", (long long)clen);
	if (c->close_after)
		buf_printf(&c->out, "Connection: close\r\n");
	else if (c->minor == 0)
		buf_printf(&c->out, "Connection: keep-alive\r\n");
	buf_append(&c->out, "\r\n", 2);
}

void http_respond(struct conn *c, int code, const char *body)
{
	size_t n = strlen(body);
	bool bodiless = code == 204 || code == 304;

	head_start(c, code);
	buf_printf(&c->out, "Content-Type: text/plain\r\n");
	head_finish(c, bodiless ? -1 : (int64_t)n);
	if (!bodiless && !c->head_only)
		buf_append(&c->out, body, n);
	c->st = ST_SEND;
}

static void fill_pattern(char *dst, uint64_t off, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = (char)(((off + i) * 31 + 7) & 0xff);
}

/* Refill the output buffer from the body generator; false when it is done. */
bool http_gen_fill(struct conn *c)
{
	struct buf *o = &c->out;
	size_t n = 0;

	switch (c->gen) {
	case GEN_NONE:
		return false;
	case GEN_BYTES:
		n = c->gen_left < GEN_SLICE ? (size_t)c->gen_left : GEN_SLICE;
		buf_reserve(o, n);
		fill_pattern(o->p + o->len, c->gen_off, n);
		o->len += n;
		break;
	case GEN_CHUNKED:
		while (o->len < GEN_SLICE && c->gen_left) {
			n = c->gen_left < GEN_CHUNK ? (size_t)c->gen_left : GEN_CHUNK;
			buf_printf(o, "%zx\r\n", n);
			buf_reserve(o, n + 2);
			fill_pattern(o->p + o->len, c->gen_off, n);
			o->len += n;
			buf_append(o, "\r\n", 2);
			c->gen_off += n;
			c->gen_left -= n;
		}
		if (!c->gen_left) {
			buf_append(o, "0\r\n\r\n", 5);
			c->gen = GEN_NONE;
		}
		return true;
	case GEN_ECHO:
		n = c->gen_left < GEN_SLICE ? (size_t)c->gen_left : GEN_SLICE;
		buf_append(o, c->echo.p + c->gen_off, n);
		break;
	}
	c->gen_off += n;
	c->gen_left -= n;
	if (!c->gen_left)
		c->gen = GEN_NONE;
	return true;
}

/* ---- request head ---- */

void http_req_reset(struct conn *c)
{
	c->method[0] = c->target[0] = c->path[0] = '\0';
	c->query = "";
	c->minor = 1;
	c->keepalive = true;
	c->head_only = c->chunked = c->expect100 = c->upgrade_ws = c->too_big = false;
	c->wskey[0] = '\0';
	c->authz[0] = c->fwd_method[0] = c->fwd_uri[0] = '\0';
	c->clen = c->chunk_left = c->body_bytes = 0;
	c->fnv = 0xcbf29ce484222325ull;
	c->cs = CS_SIZE;
	c->bm = BM_DISCARD;
	buf_free(&c->echo);
	c->close_after = false;
	c->gen = GEN_NONE;
	c->gen_off = c->gen_left = 0;
}

/* "METHOD SP TARGET SP HTTP/1.x": 0 or an HTTP status to refuse with. */
static int parse_request_line(struct conn *c, const char *l, size_t n)
{
	const char *sp1 = memchr(l, ' ', n), *sp2, *q;
	size_t ml, tl;

	if (!sp1)
		return 400;
	sp2 = memchr(sp1 + 1, ' ', n - (size_t)(sp1 + 1 - l));
	if (!sp2)
		return 400;
	ml = (size_t)(sp1 - l);
	tl = (size_t)(sp2 - sp1 - 1);
	if (ml == 0 || ml >= sizeof(c->method) || tl == 0)
		return 400;
	if (tl >= sizeof(c->target))
		return 414;
	if (n - (size_t)(sp2 + 1 - l) != 8 || strncmp(sp2 + 1, "HTTP/1.", 7) != 0 ||
	    (sp2[8] != '0' && sp2[8] != '1'))
		return 400;
	memcpy(c->method, l, ml);
	c->method[ml] = '\0';
	memcpy(c->target, sp1 + 1, tl);
	c->target[tl] = '\0';
	c->minor = sp2[8] - '0';
	c->keepalive = c->minor == 1;
	c->head_only = strcmp(c->method, "HEAD") == 0;
	q = strchr(c->target, '?');
	tl = q ? (size_t)(q - c->target) : tl;
	memcpy(c->path, c->target, tl);
	c->path[tl] = '\0';
	c->query = q ? q + 1 : "";
	return 0;
}

static int header_cl(struct conn *c, const char *v, size_t n)
{
	char tmp[32];
	uint64_t cl;

	if (n == 0 || n >= sizeof(tmp))
		return 400;
	memcpy(tmp, v, n);
	tmp[n] = '\0';
	if (!parse_u64(tmp, UINT64_MAX >> 2, &cl) || (c->clen && c->clen != cl))
		return 400;
	c->clen = cl;
	return 0;
}

/* A field's value kept for /auth (cut to size). */
static void copy_field(const char *name, size_t nl, const char *want, const char *v, size_t n,
		       char *out, size_t size)
{
	if (!name_is(name, nl, want))
		return;
	if (n >= size)
		n = size - 1;
	memcpy(out, v, n);
	out[n] = '\0';
}

/* One header field the origin acts on; all of them are echoed as they came. */
static int header_field(struct conn *c, const char *name, size_t nl, const char *v, size_t n)
{
	if (name_is(name, nl, "content-length"))
		return header_cl(c, v, n);
	if (name_is(name, nl, "transfer-encoding")) {
		if (!span_has(v, n, "chunked"))
			return 501;
		c->chunked = true;
	} else if (name_is(name, nl, "connection")) {
		if (span_has(v, n, "close"))
			c->keepalive = false;
		else if (span_has(v, n, "keep-alive"))
			c->keepalive = true;
	} else if (name_is(name, nl, "upgrade")) {
		c->upgrade_ws = span_has(v, n, "websocket");
	} else if (name_is(name, nl, "expect")) {
		c->expect100 = span_has(v, n, "100-continue");
	} else if (name_is(name, nl, "sec-websocket-key") && n < sizeof(c->wskey)) {
		memcpy(c->wskey, v, n);
		c->wskey[n] = '\0';
	}
	copy_field(name, nl, "authorization", v, n, c->authz, sizeof(c->authz));
	copy_field(name, nl, "x-forwarded-method", v, n, c->fwd_method, sizeof(c->fwd_method));
	copy_field(name, nl, "x-forwarded-uri", v, n, c->fwd_uri, sizeof(c->fwd_uri));
	return 0;
}

static int parse_header_line(struct conn *c, const char *l, size_t n)
{
	const char *colon = memchr(l, ':', n), *v, *e = l + n;
	size_t nl;

	if (!colon || colon == l)
		return 400;
	nl = (size_t)(colon - l);
	if (memchr(l, ' ', nl) || memchr(l, '\t', nl))
		return 400;
	for (v = colon + 1; v < e && (*v == ' ' || *v == '\t'); v++)
		;
	while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	if (c->bm == BM_ECHO) {
		buf_append(&c->echo, l, n);
		buf_append(&c->echo, "\n", 1);
	}
	return header_field(c, l, nl, v, (size_t)(e - v));
}

/* Parse a head of n bytes ending in CRLFCRLF: 0 or an HTTP status to refuse with. */
static int head_parse(struct conn *c, const char *p, size_t n)
{
	const char *end = p + n - 2, *eol;
	int code;

	eol = memchr(p, '\n', (size_t)(end - p));
	if ((code = parse_request_line(c, p, (size_t)(eol - p) - (eol[-1] == '\r'))))
		return code;
	if (strcmp(c->path, "/echo") == 0) {
		c->bm = BM_ECHO;
		buf_printf(&c->echo, "%s %s\n", c->method, c->target);
	} else if (strcmp(c->path, "/sink") == 0) {
		c->bm = BM_SINK;
	}
	for (p = eol + 1; p < end; p = eol + 1) {
		eol = memchr(p, '\n', (size_t)(end + 2 - p));
		if ((code = parse_header_line(c, p, (size_t)(eol - p) - (eol > p && eol[-1] == '\r'))))
			return code;
	}
	if (c->chunked && c->clen)
		c->keepalive = false;   /* both framings: trust chunked, then close */
	if (c->chunked)
		c->clen = 0;
	if (c->bm == BM_ECHO)
		buf_append(&c->echo, "\n", 1);
	return 0;
}

int http_head_step(struct conn *c)
{
	struct buf *in = &c->in;
	char *e;
	int code;

	while (in->len - in->off >= 2 && in->p[in->off] == '\r' && in->p[in->off + 1] == '\n')
		in->off += 2;   /* stray CRLF between requests */
	e = memmem(in->p + in->off, in->len - in->off, "\r\n\r\n", 4);
	if (!e) {
		if (in->len - in->off < IN_CAP)
			return 0;
		http_req_reset(c);
		c->keepalive = false;
		http_respond(c, 431, "request head too large\n");
		return 1;
	}
	http_req_reset(c);
	code = head_parse(c, in->p + in->off, (size_t)(e + 4 - (in->p + in->off)));
	in->off = (size_t)(e + 4 - in->p);
	if (code) {
		c->keepalive = false;
		http_respond(c, code, "bad request\n");
		return 1;
	}
	if (c->expect100 && c->minor == 1 && (c->chunked || c->clen))
		buf_printf(&c->out, "HTTP/1.1 100 Continue\r\n\r\n");
	c->st = ST_BODY;
	return 1;
}

/* ---- request body ---- */

static void body_take(struct conn *c, const char *p, size_t n)
{
	c->body_bytes += n;
	if (c->bm == BM_ECHO) {
		if (c->echo.len + n > ECHO_MAX)
			c->too_big = true;
		else
			buf_append(&c->echo, p, n);
	} else if (c->bm == BM_SINK) {
		for (size_t i = 0; i < n; i++) {
			c->fnv ^= (unsigned char)p[i];
			c->fnv *= 0x100000001b3ull;
		}
	}
}

/* A chunked-coding line (size, CRLF after data, trailer): NULL until complete. */
static const char *take_line(struct conn *c, size_t *len, bool *bad)
{
	const char *p = c->in.p + c->in.off;
	size_t avail = c->in.len - c->in.off;
	const char *nl = memchr(p, '\n', avail);

	if (!nl) {
		*bad = avail > 4096;
		return NULL;
	}
	*len = (size_t)(nl - p) - (nl > p && nl[-1] == '\r');
	c->in.off += (size_t)(nl + 1 - p);
	return p;
}

static int chunk_size(struct conn *c, const char *l, size_t n)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		char ch = l[i];
		int d = ch >= '0' && ch <= '9' ? ch - '0' :
			ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 :
			ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;

		if (d < 0)
			break;
		if (v >> 56)
			return -1;
		v = v << 4 | (uint64_t)d;
	}
	if (i == 0 || (i < n && l[i] != ';' && l[i] != ' ' && l[i] != '\t'))
		return -1;
	c->chunk_left = v;
	c->cs = v ? CS_DATA : CS_TRAILER;
	return 0;
}

/* Decode what is buffered: 1 body complete, 0 need more, -1 malformed. */
static int chunked_feed(struct conn *c)
{
	const char *l;
	size_t n, avail;
	bool bad = false;

	for (;;) {
		if (c->cs == CS_DATA) {
			avail = c->in.len - c->in.off;
			n = avail < c->chunk_left ? avail : (size_t)c->chunk_left;
			if (n == 0)
				return 0;
			body_take(c, c->in.p + c->in.off, n);
			c->in.off += n;
			if (!(c->chunk_left -= n))
				c->cs = CS_DATA_CRLF;
			continue;
		}
		if (!(l = take_line(c, &n, &bad)))
			return bad ? -1 : 0;
		if (c->cs == CS_SIZE && chunk_size(c, l, n) < 0)
			return -1;
		else if (c->cs == CS_DATA_CRLF && n != 0)
			return -1;
		else if (c->cs == CS_DATA_CRLF)
			c->cs = CS_SIZE;
		else if (c->cs == CS_TRAILER && n == 0)
			return 1;
	}
}

static int body_feed(struct conn *c)
{
	size_t avail = c->in.len - c->in.off, n;

	if (c->chunked)
		return chunked_feed(c);
	n = avail < c->clen ? avail : (size_t)c->clen;
	body_take(c, c->in.p + c->in.off, n);
	c->in.off += n;
	c->clen -= n;
	return c->clen == 0;
}

/* ---- endpoints: each sets the next state; -1 drops the connection ---- */

/*
 * A forward_auth service: "Authorization: Bearer ok-NAME" gets 200 with
 * X-Auth-User: NAME and X-Auth-Saw: the X-Forwarded-Method and -Uri it was
 * sent; "Bearer forbid" gets 403 with a text body; anything else 401 with
 * a Bearer challenge and a JSON body.
 */
static int on_auth(struct conn *c, const char *arg UNUSED)
{
	static const char nope[] = "{\"error\":\"login first\"}";
	static const char forbid[] = "not for you\n";

	if (strncmp(c->authz, "Bearer ok-", 10) == 0) {
		head_start(c, 200);
		buf_printf(&c->out, "X-Auth-User: %s\r\nX-Auth-Saw: %s %s\r\n", c->authz + 10,
			   c->fwd_method, c->fwd_uri);
		head_finish(c, 0);
	} else if (strcmp(c->authz, "Bearer forbid") == 0) {
		head_start(c, 403);
		buf_printf(&c->out, "Content-Type: text/plain\r\n");
		head_finish(c, (int64_t)strlen(forbid));
		buf_append(&c->out, forbid, strlen(forbid));
	} else {
		head_start(c, 401);
		buf_printf(&c->out, "Content-Type: application/json\r\n"
			   "WWW-Authenticate: Bearer realm=\"svc\"\r\n");
		head_finish(c, (int64_t)strlen(nope));
		buf_append(&c->out, nope, strlen(nope));
	}
	c->st = ST_SEND;
	return 1;
}

static int on_name(struct conn *c, const char *arg UNUSED)
{
	http_respond(c, 200, c->srv->name);
	return 1;
}

static int on_echo(struct conn *c, const char *arg UNUSED)
{
	if (c->too_big) {
		http_respond(c, 413, "echo body too large\n");
		return 1;
	}
	head_start(c, 200);
	buf_printf(&c->out, "Content-Type: text/plain\r\nX-Origin-Version: HTTP/1.%d\r\n", c->minor);
	head_finish(c, (int64_t)c->echo.len);
	if (!c->head_only && c->echo.len) {
		c->gen = GEN_ECHO;
		c->gen_left = c->echo.len;
	}
	c->st = ST_SEND;
	return 1;
}

static int on_sink(struct conn *c, const char *arg UNUSED)
{
	char body[32];

	snprintf(body, sizeof(body), "%llu\n", (unsigned long long)c->body_bytes);
	head_start(c, 200);
	buf_printf(&c->out, "Content-Type: text/plain\r\nX-Body-Fnv: %016llx\r\n",
		   (unsigned long long)c->fnv);
	head_finish(c, (int64_t)strlen(body));
	if (!c->head_only)
		buf_append(&c->out, body, strlen(body));
	c->st = ST_SEND;
	return 1;
}

static bool query_flag(const struct conn *c, const char *flag)
{
	size_t n = strlen(flag);

	for (const char *q = c->query; *q; q += strcspn(q, "&"), q += *q == '&')
		if (strncmp(q, flag, n) == 0 && (q[n] == '&' || q[n] == '\0'))
			return true;
	return false;
}

static int on_bytes(struct conn *c, const char *arg)
{
	uint64_t n;
	bool chunked = query_flag(c, "chunked=1");

	if (!parse_u64(arg, UINT64_MAX >> 2, &n)) {
		http_respond(c, 400, "bad byte count\n");
		return 1;
	}
	head_start(c, 200);
	buf_printf(&c->out, "Content-Type: application/octet-stream\r\n");
	if (chunked) {
		buf_printf(&c->out, "Transfer-Encoding: chunked\r\n");
	} else if (query_flag(c, "close=1")) {
		c->close_after = true;
		c->keepalive = false;
	}
	head_finish(c, chunked || c->close_after ? -1 : (int64_t)n);
	if (!c->head_only) {
		c->gen = chunked ? GEN_CHUNKED : n ? GEN_BYTES : GEN_NONE;
		c->gen_left = n;
	}
	c->st = ST_SEND;
	return 1;
}

static int on_status(struct conn *c, const char *arg)
{
	uint64_t code;
	char body[32];

	if (!parse_u64(arg, 599, &code) || code < 200) {
		http_respond(c, 400, "bad status\n");
		return 1;
	}
	snprintf(body, sizeof(body), "status %d\n", (int)code);
	http_respond(c, (int)code, body);
	return 1;
}

static int on_slow(struct conn *c, const char *arg)
{
	uint64_t ms;

	if (!parse_u64(arg, MAX_WAIT_MS, &ms)) {
		http_respond(c, 400, "bad delay\n");
		return 1;
	}
	c->st = ST_WAIT;
	timer_set(c, (int64_t)ms, W_SLOW);
	return 1;
}

static int on_slowbody(struct conn *c, const char *arg)
{
	uint64_t ms;

	if (!parse_u64(arg, MAX_WAIT_MS, &ms)) {
		http_respond(c, 400, "bad delay\n");
		return 1;
	}
	if (c->head_only) {
		http_respond(c, 200, "slowbody\n");
		return 1;
	}
	head_start(c, 200);
	buf_printf(&c->out, "Content-Type: text/plain\r\n");
	head_finish(c, 9);
	c->st = ST_WAIT;
	timer_set(c, (int64_t)ms, W_SLOWBODY);
	return 1;
}

static int on_garbage(struct conn *c, const char *arg UNUSED)
{
	buf_printf(&c->out, "HTTP/1.1 abc nonsense\r\n\r\n");
	c->keepalive = false;
	c->close_after = true;
	c->st = ST_SEND;
	return 1;
}

static int on_reset(struct conn *c, const char *arg UNUSED)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	return -1;
}

static int on_close(struct conn *c, const char *arg UNUSED)
{
	c->keepalive = false;
	http_respond(c, 200, "close\n");
	return 1;
}

static int on_ws(struct conn *c, const char *arg UNUSED)
{
	char key[128], accept[32];
	unsigned char digest[20];

	if (!c->upgrade_ws || !c->wskey[0]) {
		http_respond(c, 400, "websocket upgrade expected\n");
		return 1;
	}
	snprintf(key, sizeof(key), "%s%s", c->wskey, WS_GUID);
	sha1(key, strlen(key), digest);
	base64(digest, sizeof(digest), accept);
	buf_printf(&c->out, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
		   "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n"
		   "X-Origin: %s\r\nX-Origin-Conn: %lu\r\n\r\n", accept, c->srv->name, c->serial);
	c->ws_closing = false;
	c->st = ST_WS;
	return 1;
}

static int on_health(struct conn *c, const char *arg UNUSED)
{
	if (c->srv->health_down)
		http_respond(c, 503, "down\n");
	else
		http_respond(c, 200, "ok\n");
	return 1;
}

static int on_health_down(struct conn *c, const char *arg UNUSED)
{
	c->srv->health_down = true;
	http_respond(c, 200, "down\n");
	return 1;
}

static int on_health_up(struct conn *c, const char *arg UNUSED)
{
	c->srv->health_down = false;
	http_respond(c, 200, "up\n");
	return 1;
}

static int on_headers_big(struct conn *c, const char *arg UNUSED)
{
	head_start(c, 200);
	buf_printf(&c->out, "Content-Type: text/plain\r\n");
	for (int i = 1; i <= 50; i++)
		buf_printf(&c->out, "X-Big-%02d: value-%02d-abcdefghijklmnopqrstuvwxyz0123456789\r\n",
			   i, i);
	head_finish(c, 4);
	if (!c->head_only)
		buf_append(&c->out, "big\n", 4);
	c->st = ST_SEND;
	return 1;
}

/* How many requests reached this origin before this one: proves what a gateway kept away. */
static int on_requests(struct conn *c, const char *arg UNUSED)
{
	char text[32];

	snprintf(text, sizeof(text), "%lu\n", c->srv->requests);
	http_respond(c, 200, text);
	return 1;
}

static const struct route {
	const char *path;
	bool prefix;   /* path is a prefix; the rest is the argument */
	int (*fn)(struct conn *c, const char *arg);
} routes[] = {
	{ "/name", false, on_name },
	{ "/auth", false, on_auth },
	{ "/echo", false, on_echo },
	{ "/sink", false, on_sink },
	{ "/bytes/", true, on_bytes },
	{ "/status/", true, on_status },
	{ "/slow/", true, on_slow },
	{ "/slowbody/", true, on_slowbody },
	{ "/garbage", false, on_garbage },
	{ "/reset", false, on_reset },
	{ "/close", false, on_close },
	{ "/ws", false, on_ws },
	{ "/health", false, on_health },
	{ "/health/down", false, on_health_down },
	{ "/health/up", false, on_health_up },
	{ "/headers-big", false, on_headers_big },
	{ "/requests", false, on_requests },
};

static int dispatch(struct conn *c)
{
	if (strcmp(c->path, "/requests") != 0)
		c->srv->requests++;
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		const struct route *r = &routes[i];
		size_t n = strlen(r->path);

		if (r->prefix ? strncmp(c->path, r->path, n) == 0 : strcmp(c->path, r->path) == 0)
			return r->fn(c, c->path + n);
	}
	http_respond(c, 404, "not found\n");
	return 1;
}

int http_body_step(struct conn *c)
{
	int rc;

	if (conn_flush(c) < 0)
		return -1;
	rc = body_feed(c);
	if (rc < 0) {
		c->keepalive = false;
		http_respond(c, 400, "bad request body\n");
		return 1;
	}
	return rc == 0 ? 0 : dispatch(c);
}

/* ---- WebSocket echo ---- */

static void ws_send(struct conn *c, int b0, const unsigned char *p, uint64_t n)
{
	unsigned char h[10];
	size_t hl = 2;

	h[0] = (unsigned char)b0;
	if (n < 126) {
		h[1] = (unsigned char)n;
	} else if (n < 65536) {
		h[1] = 126;
		h[2] = (unsigned char)(n >> 8);
		h[3] = (unsigned char)n;
		hl = 4;
	} else {
		h[1] = 127;
		for (int i = 0; i < 8; i++)
			h[2 + i] = (unsigned char)(n >> (56 - 8 * i));
		hl = 10;
	}
	buf_append(&c->out, h, hl);
	buf_append(&c->out, p, (size_t)n);
}

static uint64_t be64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* Echo one buffered frame: 1 echoed, 2 echoed a close, 0 incomplete, -1 bad. */
static int ws_frame(struct conn *c)
{
	unsigned char *p = (unsigned char *)c->in.p + c->in.off, *mask = NULL;
	size_t avail = c->in.len - c->in.off, hdr = 2;
	uint64_t len;
	int op;

	if (avail < 2)
		return 0;
	len = p[1] & 0x7f;
	hdr += len == 126 ? 2 : len == 127 ? 8 : 0;
	hdr += p[1] & 0x80 ? 4 : 0;
	if (avail < hdr)
		return 0;
	if (len == 126)
		len = (uint64_t)p[2] << 8 | p[3];
	else if (len == 127)
		len = be64(p + 2);
	if (len > WS_MAX)
		return -1;
	if (avail < hdr + len) {
		buf_reserve(&c->in, hdr + len - avail);
		return 0;
	}
	if (p[1] & 0x80)
		mask = p + hdr - 4;
	for (uint64_t i = 0; mask && i < len; i++)
		p[hdr + i] ^= mask[i & 3];
	op = p[0] & 0x0f;
	ws_send(c, (p[0] & 0x80) | (op == 9 ? 10 : op), p + hdr, len);
	c->in.off += hdr + (size_t)len;
	return op == 8 ? 2 : 1;
}

int http_ws_step(struct conn *c)
{
	int rc, flushed;

	for (;;) {
		rc = 1;   /* 1: more frames may be buffered, 0: need input */
		while (!c->ws_closing && c->out.len - c->out.off < WS_OUT_MAX) {
			if ((rc = ws_frame(c)) <= 0)
				break;
			c->ws_closing = rc == 2;
		}
		if (rc < 0 || (flushed = conn_flush(c)) < 0)
			return -1;
		if (!flushed)
			return 0;
		if (c->ws_closing)
			return conn_linger(c);
		if (rc == 0)
			return 0;
	}
}
