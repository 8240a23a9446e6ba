/* SPDX-License-Identifier: MIT */
/*
 * fuzz_http1.c - libFuzzer target for the HTTP/1.1 request-head parser
 * (sw_http1_parse, src/http/http1.c).
 *
 * Input layout:
 *   byte 0   how the bytes trickle in: < 0x80 in steps of (b + 1) bytes
 *            (0 = one byte at a time); >= 0x80 in pseudo-random steps of
 *            1..(b & 0x7f) + 1 bytes
 *   byte 1   limits: < 0xe0 the defaults below (8192 bytes, 64 fields);
 *            >= 0xe0 small ones, max_header_count = b & 7 and
 *            max_header_bytes = 32 << ((b >> 3) & 3)
 *   rest     the bytes a client sends
 *
 * The parser is run on the whole input, then on growing prefixes of it as
 * a trickling client would send them (the bytes beyond the prefix are
 * ASan-poisoned, so a read past len is caught), then on the head alone.
 * Any violated invariant aborts with a message.
 */
#include <config.h>

#define FUZZ_NAME "fuzz_http1"
#include "fuzz_common.h"
#include "fuzz_fields.h"
#include <string.h>
#include <strings.h>
#include "http/http1.h"

static void pick_limits(uint8_t b, struct sw_limits_cfg *l)
{
	l->max_body_bytes = 1 << 20;
	if (b < 0xe0) {
		l->max_header_bytes = 8192;
		l->max_header_count = 64;
	} else {
		l->max_header_count = b & 7;
		l->max_header_bytes = 32u << ((b >> 3) & 3);
	}
}

/* Yields the growing prefix lengths a trickling client produces, ending at n. */
struct trickle {
	uint8_t ctl;
	uint32_t rng;
	size_t pos, n;
	bool started;
};

static void trickle_init(struct trickle *t, uint8_t ctl, size_t n)
{
	t->ctl = ctl;
	t->rng = ((uint32_t)ctl * 2654435761u) ^ (uint32_t)n ^ 0x9e3779b9u;
	if (t->rng == 0)
		t->rng = 1;
	t->pos = 0;
	t->n = n;
	t->started = false;
}

/* Next prefix length; false when the whole input has been offered. */
static bool trickle_next(struct trickle *t, size_t *len)
{
	size_t step;

	if (t->started && t->pos >= t->n)
		return false;
	t->started = true;
	if (t->ctl < 0x80) {
		step = (size_t)t->ctl + 1;
	} else {
		t->rng ^= t->rng << 13;
		t->rng ^= t->rng >> 17;
		t->rng ^= t->rng << 5;
		step = 1 + t->rng % ((t->ctl & 0x7fu) + 1);
	}
	t->pos = t->n - t->pos < step ? t->n : t->pos + step;
	*len = t->pos;
	return true;
}

/* Two views from two parses of the same bytes: same place, or same static text. */
static bool same_view(struct sw_str a, const char *abuf, size_t alen,
		      struct sw_str b, const char *bbuf, size_t blen)
{
	bool ain, bin;

	if (a.len != b.len)
		return false;
	if (a.len == 0)
		return true;
	ain = in_buf(a, abuf, alen);
	bin = in_buf(b, bbuf, blen);
	if (ain != bin)
		return false;
	if (ain)
		return a.p - abuf == b.p - bbuf;
	return memcmp(a.p, b.p, a.len) == 0;
}

static void check_same_request(const struct sw_request *a, const char *abuf, size_t alen,
			       const struct sw_request *b, const char *bbuf, size_t blen,
			       const char *what)
{
#define SAME(f) CHECK(same_view(a->f, abuf, alen, b->f, bbuf, blen), \
		      "%s: field " #f " differs", what)
	CHECK(a->method == b->method, "%s: method %d vs %d", what, a->method, b->method);
	SAME(method_name);
	SAME(target);
	SAME(path);
	SAME(query);
	SAME(authority);
	CHECK(a->version == b->version, "%s: version %u vs %u", what, a->version, b->version);
	CHECK(a->header_count == b->header_count, "%s: header_count %u vs %u", what,
	      a->header_count, b->header_count);
	for (unsigned i = 0; i < a->header_count; i++) {
		CHECK(same_view(a->headers[i].name, abuf, alen, b->headers[i].name, bbuf, blen),
		      "%s: header %u name differs", what, i);
		CHECK(same_view(a->headers[i].value, abuf, alen, b->headers[i].value, bbuf, blen),
		      "%s: header %u value differs", what, i);
	}
	CHECK(a->content_length == b->content_length, "%s: content_length %lld vs %lld", what,
	      (long long)a->content_length, (long long)b->content_length);
	CHECK(a->chunked == b->chunked && a->keep_alive == b->keep_alive &&
	      a->expect_continue == b->expect_continue, "%s: flags differ", what);
#undef SAME
}

/* A view that is either absent (empty) or inside the head. */
static void check_view(struct sw_str s, const char *buf, size_t head_len, const char *name)
{
	CHECK(s.len == 0 || in_buf(s, buf, head_len), "%s view outside the head", name);
}

/* What must hold whenever the parser accepts a head. */
static void check_accepted(const char *buf, size_t len, const struct sw_limits_cfg *limits,
			   const struct sw_request *req, size_t head_len)
{
	const char *first_end;
	unsigned hosts = 0;

	CHECK(head_len >= 4 && head_len <= len, "head_len %zu, len %zu", head_len, len);
	CHECK(head_len <= limits->max_header_bytes, "head_len %zu > max_header_bytes %u",
	      head_len, limits->max_header_bytes);
	CHECK(memcmp(buf + head_len - 4, "\r\n\r\n", 4) == 0, "head does not end with CRLFCRLF");
	first_end = memmem(buf, head_len, "\r\n\r\n", 4);
	CHECK(first_end == buf + head_len - 4, "head runs past its first empty line");
	for (size_t i = 0; i < head_len; i++) {
		if (buf[i] == '\n')
			CHECK(i > 0 && buf[i - 1] == '\r', "bare LF at %zu accepted", i);
		if (buf[i] == '\r')
			CHECK(i + 1 < head_len && buf[i + 1] == '\n', "bare CR at %zu accepted", i);
	}
	CHECK(req->header_count <= limits->max_header_count, "header_count %u > max %u",
	      req->header_count, limits->max_header_count);
	CHECK(req->version == 10 || req->version == 11, "version %u", req->version);

	/* The request line. */
	CHECK(req->method_name.p == buf && req->method_name.len > 0, "method_name not at 0");
	check_view(req->target, buf, head_len, "target");
	CHECK(req->target.len > 0, "empty target");
	for (size_t i = 0; i < req->method_name.len; i++)
		CHECK(is_tchar((uint8_t)buf[i]), "method byte %zu is not a tchar", i);
	for (size_t i = 0; i < req->target.len; i++)
		CHECK(req->target.p[i] > 0x20 && req->target.p[i] < 0x7f, "target byte %zu", i);
	CHECK((req->method == SW_METHOD_OTHER) ==
	      !(sw_str_eq(req->method_name, "GET") || sw_str_eq(req->method_name, "HEAD") ||
		sw_str_eq(req->method_name, "POST") || sw_str_eq(req->method_name, "PUT") ||
		sw_str_eq(req->method_name, "DELETE") || sw_str_eq(req->method_name, "OPTIONS") ||
		sw_str_eq(req->method_name, "PATCH") || sw_str_eq(req->method_name, "CONNECT") ||
		sw_str_eq(req->method_name, "TRACE")), "method classified wrongly");
	check_view(req->query, buf, head_len, "query");
	check_view(req->authority, buf, head_len, "authority");
	/* path is in the head, or the static "/" of an absolute-form without one. */
	CHECK(req->path.len == 0 || in_buf(req->path, buf, head_len) ||
	      (req->path.len == 1 && req->path.p[0] == '/'), "path view outside the head");
	if (req->method == SW_METHOD_CONNECT) {
		CHECK(req->authority.p == req->target.p && req->authority.len == req->target.len,
		      "CONNECT authority is not the target");
	} else if (sw_str_eq(req->target, "*")) {
		CHECK(req->method == SW_METHOD_OPTIONS, "'*' target with a method not OPTIONS");
	} else {
		CHECK(req->path.len > 0 && req->path.p[0] == '/',
		      "path \"%.*s\" does not start with '/' (target \"%.*s\")",
		      (int)req->path.len, req->path.p ? req->path.p : "",
		      (int)req->target.len, req->target.p);
	}
	if (req->version == 11)
		CHECK(req->authority.len > 0, "HTTP/1.1 request without an authority");
	/* The authority reaches routing and logs: host name or IP literal, port. */
	for (size_t i = 0; i < req->authority.len; i++) {
		char c = req->authority.p[i];
		CHECK((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c != 0 && strchr("-._~:[]", c) != NULL),
		      "authority \"%.*s\" has byte 0x%02x", (int)req->authority.len,
		      req->authority.p, (uint8_t)c);
	}
	/* HTTP/1.0 has no chunked framing: such a request must close (RFC 9112 6.1). */
	CHECK(!(req->chunked && req->version == 10 && req->keep_alive),
	      "HTTP/1.0 chunked request kept alive");

	/* The fields. */
	for (unsigned i = 0; i < req->header_count; i++) {
		struct sw_str n = req->headers[i].name, v = req->headers[i].value;

		check_field(n, v, buf, head_len, "header", i);
		if (sw_str_ieq(n, "host"))
			hosts++;
		if (sw_str_ieq(n, "transfer-encoding"))
			CHECK(req->chunked, "Transfer-Encoding accepted but not chunked");
		if (sw_str_ieq(n, "content-length")) {
			int64_t cl = 0;
			for (size_t j = 0; j < v.len; j++)
				cl = cl * 10 + (v.p[j] - '0');
			CHECK(v.len > 0 && cl == req->content_length, "Content-Length mismatch");
		}
	}
	CHECK(hosts <= 1, "%u Host fields accepted", hosts);
	CHECK(!(req->chunked && req->content_length >= 0), "both chunked and Content-Length");
	CHECK(req->content_length >= -1 && req->content_length < 1000000000000000000LL,
	      "content_length %lld", (long long)req->content_length);
}

static bool is_status(int rc)
{
	return rc == 400 || rc == 417 || rc == 431 || rc == 501 || rc == 505;
}

static struct sw_header *new_headers(const struct sw_limits_cfg *limits)
{
	/* Exactly the room the contract promises, so ASan catches one more. */
	struct sw_header *h = malloc((size_t)limits->max_header_count * sizeof(*h));

	if (!h && limits->max_header_count)
		abort();
	return h;
}

/* A request struct full of junk but the headers pointer: the parser must not trust it. */
static void junk_request(struct sw_request *req, struct sw_header *headers)
{
	memset(req, 0xa5, sizeof(*req));
	req->headers = headers;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sw_limits_cfg limits;
	struct sw_http1_parser p;
	struct sw_request whole, inc, alone;
	struct sw_header *wh, *ih, *ah;
	struct trickle t;
	const char *in;
	char *buf, *head;
	size_t n, len, whole_head = 0, inc_head = 0, alone_head = 0, inc_len = 0;
	int rc_whole, rc_inc = SW_AGAIN, rc_alone;

	if (size < 2)
		return 0;
	pick_limits(data[1], &limits);
	in = (const char *)data + 2;
	n = size - 2;
	wh = new_headers(&limits);
	ih = new_headers(&limits);
	ah = new_headers(&limits);

	/* 1. Everything at once (libFuzzer's copy ends exactly at n). */
	junk_request(&whole, wh);
	sw_http1_parser_reset(&p);
	rc_whole = sw_http1_parse(&p, in, n, &limits, &whole, &whole_head);
	CHECK(rc_whole == 0 || rc_whole == SW_AGAIN || is_status(rc_whole), "whole: rc %d", rc_whole);
	CHECK(p.scanned <= n, "whole: scanned %zu > len %zu", p.scanned, n);
	if (rc_whole == 0)
		check_accepted(in, n, &limits, &whole, whole_head);
	if (rc_whole == SW_AGAIN)
		CHECK(n <= limits.max_header_bytes, "whole: SW_AGAIN with %zu bytes > limit", n);

	/* 2. Trickled: the same buffer, the bytes not yet "received" poisoned. */
	buf = malloc(n ? n : 1);
	if (!buf)
		abort();
	memcpy(buf, in, n);
	junk_request(&inc, ih);
	sw_http1_parser_reset(&p);
	trickle_init(&t, data[0], n);
	while (rc_inc == SW_AGAIN && trickle_next(&t, &len)) {
		size_t before = p.scanned;

		ASAN_POISON_MEMORY_REGION(buf + len, n - len);
		rc_inc = sw_http1_parse(&p, buf, len, &limits, &inc, &inc_head);
		ASAN_UNPOISON_MEMORY_REGION(buf, n);
		inc_len = len;
		CHECK(rc_inc == 0 || rc_inc == SW_AGAIN || is_status(rc_inc), "trickle: rc %d", rc_inc);
		if (rc_inc == SW_AGAIN)
			CHECK(p.scanned >= before && p.scanned <= len,
			      "trickle: scanned %zu -> %zu with len %zu", before, p.scanned, len);
		if (rc_inc == 0)
			check_accepted(buf, len, &limits, &inc, inc_head);
	}

	/*
	 * Trickled or whole, the verdict is the same.  The one allowed
	 * difference: a trickled head may be refused with 431 (too long, too
	 * many lines) before the bytes that make the whole input fail some
	 * other way have arrived.
	 */
	if (rc_whole == 0 || rc_inc == 0) {
		CHECK(rc_whole == rc_inc, "whole rc %d, trickled rc %d (after %zu bytes)",
		      rc_whole, rc_inc, inc_len);
		CHECK(whole_head == inc_head, "head_len whole %zu, trickled %zu", whole_head, inc_head);
		check_same_request(&whole, in, n, &inc, buf, inc_len, "whole vs trickled");
	} else if (rc_whole == SW_AGAIN || rc_inc == SW_AGAIN) {
		CHECK(rc_whole == rc_inc, "whole rc %d, trickled rc %d (after %zu bytes)",
		      rc_whole, rc_inc, inc_len);
	} else {
		CHECK(rc_whole == rc_inc || rc_inc == 431,
		      "whole refused with %d, trickled with %d (after %zu bytes)",
		      rc_whole, rc_inc, inc_len);
	}

	/* 3. The head alone, in a buffer of exactly its size, parses the same. */
	if (rc_whole == 0) {
		head = malloc(whole_head);
		if (!head)
			abort();
		memcpy(head, in, whole_head);
		junk_request(&alone, ah);
		sw_http1_parser_reset(&p);
		rc_alone = sw_http1_parse(&p, head, whole_head, &limits, &alone, &alone_head);
		CHECK(rc_alone == 0 && alone_head == whole_head,
		      "head alone: rc %d head_len %zu, whole head_len %zu",
		      rc_alone, alone_head, whole_head);
		check_same_request(&whole, in, n, &alone, head, whole_head, "whole vs head alone");
		free(head);
	}

	free(buf);
	free(wh);
	free(ih);
	free(ah);
	return 0;
}
