/* SPDX-License-Identifier: MIT */
/*
 * fuzz_chunked.c - libFuzzer target for the chunked body decoder
 * (sw_chunked_decode, src/http/chunked.c).
 *
 * Input layout:
 *   byte 0   how the bytes arrive: < 0x80 in pieces of (b + 1) bytes
 *            (0 = one byte at a time); >= 0x80 in pseudo-random pieces of
 *            1..(b & 0x7f) + 1 bytes
 *   byte 1   max_body: < 0x80 that many bytes; >= 0x80 one of big_limits[]
 *   rest     the body bytes that follow a "Transfer-Encoding: chunked" head
 *
 * The body is decoded whole, then as it trickles in (the bytes not yet
 * "received" ASan-poisoned, so a read past len is caught), driven the way
 * src/http/http1_conn.c drives it: call again on the rest after SW_OK, wait for
 * more after SW_AGAIN.  Both runs must yield the same bytes and verdict.
 */
#include <config.h>

#define FUZZ_NAME "fuzz_chunked"
#include "fuzz_common.h"
#include <string.h>
#include "core/common.h"
#include "http/chunked.h"

static const uint64_t big_limits[] = {
	255, 256, 4095, 4096, 65536, 1u << 20, 32u << 20,
	(uint64_t)1 << 32, (uint64_t)1 << 60, ((uint64_t)1 << 60) - 1,
	UINT64_MAX / 16, UINT64_MAX - 1, UINT64_MAX,
};

static uint64_t pick_max_body(uint8_t b)
{
	if (b < 0x80)
		return b;
	return big_limits[(b - 0x80) % SW_ARRAY_SIZE(big_limits)];
}

/* Yields the growing amounts of body received so far, ending at n. */
struct trickle {
	uint8_t ctl;
	uint32_t rng;
	size_t pos, n;
};

static void trickle_init(struct trickle *t, uint8_t ctl, size_t n)
{
	t->ctl = ctl;
	t->rng = ((uint32_t)ctl * 2654435761u) ^ (uint32_t)n ^ 0x9e3779b9u;
	if (t->rng == 0)
		t->rng = 1;
	t->pos = 0;
	t->n = n;
}

static size_t trickle_next(struct trickle *t)
{
	size_t step;

	if (t->ctl < 0x80) {
		step = (size_t)t->ctl + 1;
	} else {
		t->rng ^= t->rng << 13;
		t->rng ^= t->rng >> 17;
		t->rng ^= t->rng << 5;
		step = 1 + t->rng % ((t->ctl & 0x7fu) + 1);
	}
	t->pos = t->n - t->pos < step ? t->n : t->pos + step;
	return t->pos;
}

struct outcome {
	int rc;            /* SW_DONE, SW_AGAIN (input ran out) or a status */
	size_t used;       /* input bytes consumed in all */
	char *out;         /* the decoded data, concatenated */
	size_t out_len;
};

/*
 * Decodes in[0..n) as it arrives.  whole: all of it is there from the
 * start.  buf is a private copy whose not-yet-received tail is poisoned.
 */
static void decode(const char *in, size_t n, uint64_t max_body, bool whole, uint8_t ctl,
		   struct outcome *o)
{
	struct sw_chunked c;
	struct trickle t;
	char *buf = malloc(n ? n : 1);
	size_t avail, used = 0;

	if (!buf)
		abort();
	memcpy(buf, in, n);
	o->out = malloc(n ? n : 1);
	if (!o->out)
		abort();
	o->out_len = 0;
	trickle_init(&t, ctl, n);
	avail = whole ? n : trickle_next(&t);
	sw_chunked_init(&c);

	for (;;) {
		size_t consumed = (size_t)-1, dlen = (size_t)-1, left = avail - used;
		const char *d = (const char *)1;
		int rc;

		ASAN_POISON_MEMORY_REGION(buf + avail, n - avail);
		rc = sw_chunked_decode(&c, buf + used, left, max_body, &consumed, &d, &dlen);
		ASAN_UNPOISON_MEMORY_REGION(buf, n);

		CHECK(rc == SW_OK || rc == SW_AGAIN || rc == SW_DONE || rc == 400 || rc == 413,
		      "rc %d", rc);
		CHECK(c.total <= max_body, "decoded %llu bytes > max_body %llu",
		      (unsigned long long)c.total, (unsigned long long)max_body);
		if (rc == SW_OK) {
			CHECK(consumed <= left, "SW_OK consumed %zu of %zu", consumed, left);
			CHECK(dlen > 0 && dlen <= consumed, "SW_OK with %zu data bytes", dlen);
			CHECK(d == buf + used + consumed - dlen,
			      "data view is not the end of the consumed bytes");
			memcpy(o->out + o->out_len, d, dlen);
			o->out_len += dlen;
			CHECK(c.total == o->out_len, "total %llu vs %zu",
			      (unsigned long long)c.total, o->out_len);
			used += consumed;
			continue;
		}
		if (rc == SW_AGAIN || rc == SW_DONE) {
			CHECK(d == NULL && dlen == 0, "data view returned with rc %d", rc);
			CHECK(c.total == o->out_len, "total %llu vs %zu",
			      (unsigned long long)c.total, o->out_len);
		}
		if (rc == SW_AGAIN) {
			CHECK(consumed == left, "SW_AGAIN consumed %zu of %zu", consumed, left);
			used += consumed;
			if (avail == n) {
				o->rc = SW_AGAIN;
				break;
			}
			avail = trickle_next(&t);
			continue;
		}
		if (rc == SW_DONE) {
			CHECK(consumed <= left, "SW_DONE consumed %zu of %zu", consumed, left);
			used += consumed;
			CHECK(used >= 5 && memcmp(buf + used - 2, "\r\n", 2) == 0,
			      "SW_DONE after %zu bytes not ending in CRLF", used);
			/* Done is done: whatever follows (the next request) is not taken. */
			for (int again = 0; again < 2; again++) {
				size_t rest = again ? n - used : avail - used;
				consumed = (size_t)-1;
				rc = sw_chunked_decode(&c, buf + used, rest, max_body, &consumed, &d, &dlen);
				CHECK(rc == SW_DONE && consumed == 0 && dlen == 0,
				      "after SW_DONE: rc %d consumed %zu data %zu", rc, consumed, dlen);
			}
			o->rc = SW_DONE;
			break;
		}
		o->rc = rc;   /* 400 or 413: the connection closes */
		break;
	}
	o->used = used;
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct outcome whole, part;
	uint64_t max_body;
	const char *in;
	size_t n;

	if (size < 2)
		return 0;
	max_body = pick_max_body(data[1]);
	in = (const char *)data + 2;
	n = size - 2;

	decode(in, n, max_body, true, data[0], &whole);
	decode(in, n, max_body, false, data[0], &part);

	CHECK(whole.out_len <= max_body && whole.out_len <= n, "decoded %zu", whole.out_len);
	CHECK(whole.rc == part.rc, "whole rc %d, in pieces rc %d", whole.rc, part.rc);
	CHECK(whole.out_len == part.out_len && memcmp(whole.out, part.out, whole.out_len) == 0,
	      "decoded data differs: %zu vs %zu bytes", whole.out_len, part.out_len);
	if (whole.rc == SW_DONE || whole.rc == SW_AGAIN)
		CHECK(whole.used == part.used, "consumed whole %zu, in pieces %zu",
		      whole.used, part.used);
	if (whole.rc == SW_AGAIN)
		CHECK(whole.used == n, "SW_AGAIN left %zu bytes unconsumed", n - whole.used);
	free(whole.out);
	free(part.out);
	return 0;
}
