/* SPDX-License-Identifier: MIT */
/*
 * fuzz_response.c - libFuzzer target for the upstream response-head
 * parser the proxy and its health checks use (sw_http1_parse_response,
 * src/http/http1.c), driven as src/proxy/forward.c's take_head drives it:
 * interim 1xx heads are taken off the front and parsing starts again.
 *
 * Input layout:
 *   byte 0   how the bytes trickle in: < 0x80 in steps of (b + 1) bytes;
 *            >= 0x80 in pseudo-random steps of 1..(b & 0x7f) + 1 bytes
 *   byte 1   limits: < 0xe0 max_bytes 8192 and 64 fields; from 0xe0
 *            header_cap = b & 7 and max_bytes = 32 << ((b >> 3) & 3)
 *   rest     what the upstream sends
 *
 * The heads are parsed from the whole input and again as the bytes
 * trickle in (the bytes not yet received are ASan-poisoned); both must
 * give the same heads, statuses and verdict.  Every accepted head must
 * end at its first empty line within max_bytes, be free of bare CR/LF,
 * have its views inside it, well-formed names and values, a three-digit
 * status, and one framing: chunked, a Content-Length equal to the field,
 * or read to the close.
 */
#include <config.h>

#define FUZZ_NAME "fuzz_response"
#include "fuzz_common.h"
#include "fuzz_fields.h"
#include <string.h>
#include "http/http1.h"

#define MAX_HEADS 16   /* interim heads and the final one */
#define FIELDS_MAX 64

/* What one run saw: each head's status, length and framing, then the verdict. */
struct outcome {
	int status[MAX_HEADS];
	size_t head_len[MAX_HEADS];
	int64_t content_length[MAX_HEADS];
	bool chunked[MAX_HEADS];
	unsigned nheads;
	int rc;                     /* of the last parse: SW_OK, SW_AGAIN, SW_ERROR */
};

static void check_head(const char *buf, size_t len, size_t max_bytes,
		       const struct sw_http1_response *r, size_t head_len)
{
	CHECK(head_len >= 4 && head_len <= len && head_len <= max_bytes,
	      "head_len %zu, len %zu, max %zu", head_len, len, max_bytes);
	CHECK(memcmp(buf + head_len - 4, "\r\n\r\n", 4) == 0, "head does not end with CRLFCRLF");
	CHECK(memmem(buf, head_len, "\r\n\r\n", 4) == buf + head_len - 4,
	      "head runs past its first empty line");
	for (size_t i = 0; i < head_len; i++) {
		if (buf[i] == '\n')
			CHECK(i > 0 && buf[i - 1] == '\r', "bare LF at %zu accepted", i);
		if (buf[i] == '\r')
			CHECK(i + 1 < head_len && buf[i + 1] == '\n', "bare CR at %zu accepted", i);
	}
	CHECK(r->status >= 100 && r->status <= 999, "status %d", r->status);
	CHECK(r->version == 10 || r->version == 11, "version %u", r->version);
	CHECK(!r->keep_alive || r->version == 11 || r->version == 10, "keep_alive");
	CHECK(r->header_count <= r->header_cap, "%u fields, room for %u", r->header_count,
	      r->header_cap);
	CHECK(!(r->chunked && r->content_length >= 0), "both chunked and Content-Length");
	CHECK(!(r->until_close && (r->chunked || r->content_length >= 0)),
	      "read to the close with another framing");
	CHECK(r->until_close || r->chunked || r->content_length >= 0, "no framing");
	for (unsigned i = 0; i < r->header_count; i++) {
		struct sw_str n = r->headers[i].name, v = r->headers[i].value;

		check_field(n, v, buf, head_len, "field", i);
		if (sw_str_ieq(n, "content-length")) {
			int64_t cl = 0;

			for (size_t j = 0; j < v.len; j++)
				cl = cl * 10 + (v.p[j] - '0');
			CHECK(v.len > 0 && cl == r->content_length, "Content-Length mismatch");
		}
	}
}

/*
 * Parses heads from buf[0..*len) as take_head does, where the bytes
 * arrive in growing prefixes when trickle is set.  buf is moved down
 * after each interim head, as forward.c moves its receive buffer.
 */
static void run(char *buf, size_t n, uint8_t ctl, bool trickle, size_t max_bytes,
		unsigned cap, struct outcome *o)
{
	struct sw_header *fields = malloc((cap ? cap : 1) * sizeof(*fields));
	struct sw_http1_parser p = { 0 };
	struct sw_http1_response r;
	uint32_t rng = ((uint32_t)ctl * 2654435761u) ^ (uint32_t)n ^ 0x9e3779b9u;
	size_t have = trickle ? 0 : n, head_len = 0;

	if (!fields)
		abort();
	memset(o, 0, sizeof(*o));
	o->rc = SW_AGAIN;
	for (;;) {
		if (trickle) {
			size_t step;

			if (rng == 0)
				rng = 1;
			if (ctl < 0x80) {
				step = (size_t)ctl + 1;
			} else {
				rng ^= rng << 13;
				rng ^= rng >> 17;
				rng ^= rng << 5;
				step = 1 + rng % ((ctl & 0x7fu) + 1);
			}
			have = n - have < step ? n : have + step;
		}
		memset(&r, 0xa5, sizeof(r));   /* the parser must not trust what it is given */
		r.headers = fields;
		r.header_cap = cap;
		ASAN_POISON_MEMORY_REGION(buf + have, n - have);
		o->rc = sw_http1_parse_response(&p, buf, have, max_bytes, &r, &head_len);
		ASAN_UNPOISON_MEMORY_REGION(buf, n);
		CHECK(o->rc == SW_OK || o->rc == SW_AGAIN || o->rc == SW_ERROR, "rc %d", o->rc);
		if (o->rc == SW_AGAIN) {
			CHECK(have <= max_bytes, "SW_AGAIN with %zu bytes over %zu", have, max_bytes);
			if (have == n)
				break;
			continue;
		}
		if (o->rc != SW_OK)
			break;
		check_head(buf, have, max_bytes, &r, head_len);
		o->status[o->nheads] = r.status;
		o->head_len[o->nheads] = head_len;
		o->content_length[o->nheads] = r.content_length;
		o->chunked[o->nheads] = r.chunked;
		o->nheads++;
		if (r.status >= 200 || r.status == 101 || o->nheads == MAX_HEADS)
			break;
		/* An interim answer: off the front, and parse again from scratch. */
		memmove(buf, buf + head_len, n - head_len);
		n -= head_len;
		have -= head_len;
		p = (struct sw_http1_parser){ 0 };
	}
	free(fields);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct outcome whole, inc;
	size_t n, max_bytes = 8192;
	unsigned cap = FIELDS_MAX;
	char *a, *b;

	if (size < 2)
		return 0;
	if (data[1] >= 0xe0) {
		cap = data[1] & 7;
		max_bytes = 32u << ((data[1] >> 3) & 3);
	}
	n = size - 2;
	a = malloc(n ? n : 1);
	b = malloc(n ? n : 1);
	if (!a || !b)
		abort();
	memcpy(a, data + 2, n);
	memcpy(b, data + 2, n);
	run(a, n, data[0], false, max_bytes, cap, &whole);
	run(b, n, data[0], true, max_bytes, cap, &inc);
	/*
	 * The same heads either way.  A trickled parse may stop at max_bytes
	 * (SW_ERROR) before the bytes that make the whole input fail another
	 * way arrive, so only acceptance must match.
	 */
	CHECK(whole.nheads == inc.nheads, "%u heads whole, %u trickled", whole.nheads, inc.nheads);
	for (unsigned i = 0; i < whole.nheads; i++)
		CHECK(whole.status[i] == inc.status[i] && whole.head_len[i] == inc.head_len[i] &&
		      whole.content_length[i] == inc.content_length[i] &&
		      whole.chunked[i] == inc.chunked[i],
		      "head %u: status %d/%d, length %zu/%zu", i, whole.status[i], inc.status[i],
		      whole.head_len[i], inc.head_len[i]);
	CHECK((whole.rc == SW_OK) == (inc.rc == SW_OK) &&
	      (whole.rc == SW_AGAIN) == (inc.rc == SW_AGAIN),
	      "verdict whole %d, trickled %d", whole.rc, inc.rc);
	free(a);
	free(b);
	return 0;
}
