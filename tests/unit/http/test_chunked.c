/* SPDX-License-Identifier: MIT */
/* test_chunked.c - the chunked body decoder against a table of inputs: whole, byte by byte, split in two. */
#include <config.h>

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/common.h"
#include "http/chunked.h"
#include "check_main.h"

#define MAX_BODY 32          /* max_body for the table */
#define ANY_REFUSAL 1        /* want: 400 or 413, as long as it is refused */

struct vector {
	const char *name;
	const char *text;
	size_t len;          /* for texts with a NUL inside; 0 = strlen */
	int want;            /* SW_DONE, SW_AGAIN (incomplete), 400, 413, ANY_REFUSAL */
	const char *body;    /* SW_DONE: the decoded data */
	size_t used;         /* SW_DONE: bytes consumed (0 = all of text) */
	size_t blen;         /* SW_DONE: body length when it has a NUL (0 = strlen) */
};

#define NUL_TEXT(s) (s), sizeof(s) - 1

static const struct vector vectors[] = {
	/* valid */
	{ "empty body", "0\r\n\r\n", 0, SW_DONE, "", 0, 0 },
	{ "one chunk", "5\r\nhello\r\n0\r\n\r\n", 0, SW_DONE, "hello", 0, 0 },
	{ "hex lower", "a\r\n0123456789\r\n0\r\n\r\n", 0, SW_DONE, "0123456789", 0, 0 },
	{ "hex upper", "A\r\n0123456789\r\nB\r\nabcdefghijk\r\n0\r\n\r\n", 0, SW_DONE,
	  "0123456789abcdefghijk", 0, 0 },
	{ "hex two digits mixed case", "1f\r\n0123456789abcdefghijklmnopqrstu\r\n0\r\n\r\n", 0,
	  SW_DONE, "0123456789abcdefghijklmnopqrstu", 0, 0 },
	{ "hex two digits upper", "1F\r\n0123456789abcdefghijklmnopqrstu\r\n0\r\n\r\n", 0,
	  SW_DONE, "0123456789abcdefghijklmnopqrstu", 0, 0 },
	{ "leading zeros", "0005\r\nhello\r\n000\r\n\r\n", 0, SW_DONE, "hello", 0, 0 },
	{ "several chunks", "1\r\na\r\n2\r\nbc\r\n3\r\ndef\r\n0\r\n\r\n", 0, SW_DONE, "abcdef", 0, 0 },
	{ "extension", "5;name=value\r\nhello\r\n0\r\n\r\n", 0, SW_DONE, "hello", 0, 0 },
	{ "extension no value", "5;flag\r\nhello\r\n0;last\r\n\r\n", 0, SW_DONE, "hello", 0, 0 },
	{ "two extensions", "5;a=1;b=2\r\nhello\r\n0\r\n\r\n", 0, SW_DONE, "hello", 0, 0 },
	{ "quoted extension", "5;a=\"x y;z\"\r\nhello\r\n0\r\n\r\n", 0, SW_DONE, "hello", 0, 0 },
	{ "BWS before ;", "5 ;a=1\r\nhello\r\n0\t;b\r\n\r\n", 0, SW_DONE, "hello", 0, 0 },
	{ "one trailer", "5\r\nhello\r\n0\r\nX-Checksum: abc\r\n\r\n", 0, SW_DONE, "hello", 0, 0 },
	{ "two trailers", "0\r\nA: 1\r\nB: two words\r\n\r\n", 0, SW_DONE, "", 0, 0 },
	{ "trailer empty value", "0\r\nA:\r\n\r\n", 0, SW_DONE, "", 0, 0 },
	{ "data with CRLF inside", "4\r\n\r\n\r\n\r\n0\r\n\r\n", 0, SW_DONE, "\r\n\r\n", 0, 0 },
	{ "data with NUL inside", NUL_TEXT("3\r\na\0b\r\n0\r\n\r\n"), SW_DONE, "a\0b", 0, 3 },
	{ "exactly max", "20\r\n0123456789abcdef0123456789abcdef\r\n0\r\n\r\n", 0, SW_DONE,
	  "0123456789abcdef0123456789abcdef", 0, 0 },
	{ "stops at its end (pipelined)", "3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\n", 0, SW_DONE,
	  "abc", 13, 0 },
	{ "stops after trailers", "0\r\nT: 1\r\n\r\n0\r\n\r\n", 0, SW_DONE, "", 11, 0 },
	/* incomplete: never done, never refused */
	{ "incomplete size", "5", 0, SW_AGAIN, NULL, 0, 0 },
	{ "incomplete data", "5\r\nhel", 0, SW_AGAIN, NULL, 0, 0 },
	{ "incomplete last chunk", "5\r\nhello\r\n0\r\n", 0, SW_AGAIN, NULL, 0, 0 },
	{ "incomplete trailer", "0\r\nX: 1\r\n", 0, SW_AGAIN, NULL, 0, 0 },
	/* size line */
	{ "empty size", "\r\nhello\r\n0\r\n\r\n", 0, 400, NULL, 0, 0 },
	{ "size x", "x\r\n", 0, 400, NULL, 0, 0 },
	{ "size 1 2", "1 2\r\nab\r\n0\r\n\r\n", 0, 400, NULL, 0, 0 },
	{ "size 1<TAB>2", "1\t2\r\nab\r\n0\r\n\r\n", 0, 400, NULL, 0, 0 },
	{ "size 5x", "5x\r\nhello\r\n0\r\n\r\n", 0, 400, NULL, 0, 0 },
	{ "size 0x5", "0x5\r\nhello\r\n0\r\n\r\n", 0, 400, NULL, 0, 0 },
	{ "size -1", "-1\r\n", 0, 400, NULL, 0, 0 },
	{ "size +5", "+5\r\nhello\r\n0\r\n\r\n", 0, 400, NULL, 0, 0 },
	{ "leading space", " 5\r\nhello\r\n0\r\n\r\n", 0, 400, NULL, 0, 0 },
	{ "extension only", ";a=1\r\nhello\r\n0\r\n\r\n", 0, 400, NULL, 0, 0 },
	{ "bare LF after size", "5\nhello\r\n0\r\n\r\n", 0, 400, NULL, 0, 0 },
	{ "bare LF after extension", "5;a\nhello\r\n0\r\n\r\n", 0, 400, NULL, 0, 0 },
	{ "bare CR after size", "5\rhello\r\n0\r\n\r\n", 0, 400, NULL, 0, 0 },
	{ "NUL in size", NUL_TEXT("5\0\r\nhello\r\n0\r\n\r\n"), 400, NULL, 0, 0 },
	{ "NUL in extension", NUL_TEXT("5;a\0b\r\nhello\r\n0\r\n\r\n"), 400, NULL, 0, 0 },
	{ "NUL before size", NUL_TEXT("\0" "5\r\nhello\r\n0\r\n\r\n"), 400, NULL, 0, 0 },
	/* after data */
	{ "missing CRLF after data", "5\r\nhello0\r\n\r\n", 0, 400, NULL, 0, 0 },
	{ "data longer than size", "5\r\nhelloX\r\n0\r\n\r\n", 0, 400, NULL, 0, 0 },
	{ "bare LF after data", "5\r\nhello\n0\r\n\r\n", 0, 400, NULL, 0, 0 },
	{ "bare CR after data", "5\r\nhello\r0\r\n\r\n", 0, 400, NULL, 0, 0 },
	{ "NUL after data", NUL_TEXT("5\r\nhello\0\r\n0\r\n\r\n"), 400, NULL, 0, 0 },
	/* last chunk and trailers */
	{ "bare LF ends body", "0\r\n\n", 0, 400, NULL, 0, 0 },
	{ "bare LF after last size", "0\n\r\n", 0, 400, NULL, 0, 0 },
	{ "bare CR ends body", "0\r\n\rX", 0, 400, NULL, 0, 0 },
	{ "bare LF after trailer", "0\r\nX: 1\n\r\n", 0, 400, NULL, 0, 0 },
	{ "bare CR in trailer", "0\r\nX: 1\r2\r\n\r\n", 0, 400, NULL, 0, 0 },
	{ "NUL in trailer", NUL_TEXT("0\r\nX: a\0b\r\n\r\n"), 400, NULL, 0, 0 },
	{ "obs-fold in trailers", "0\r\nX: 1\r\n 2\r\n\r\n", 0, 400, NULL, 0, 0 },
	{ "trailer without colon", "0\r\nnocolon\r\n\r\n", 0, 400, NULL, 0, 0 },
	{ "trailer name with space", "0\r\nX Y: 1\r\n\r\n", 0, 400, NULL, 0, 0 },
	{ "whitespace without extension", "5 \r\nhello\r\n0\r\n\r\n", 0, 400, NULL, 0, 0 },
	{ "trailer empty name", "0\r\n: 1\r\n\r\n", 0, 400, NULL, 0, 0 },
	/* sizes: overflow and max_body */
	{ "over max in one chunk", "21\r\n", 0, 413, NULL, 0, 0 },
	{ "over max in total", "10\r\n0123456789abcdef\r\n11\r\n", 0, 413, NULL, 0, 0 },
	{ "huge size, 16 digits", "ffffffffffffffff\r\n", 0, 413, NULL, 0, 0 },
	{ "huge size, 16 digits upper", "FFFFFFFFFFFFFFFF\r\n", 0, 413, NULL, 0, 0 },
	/* 2^64 + 5 and 2^68 + 3: must not wrap around to 5 or 3. */
	{ "overflow to 5", "10000000000000005\r\nhello\r\n0\r\n\r\n", 0, ANY_REFUSAL, NULL, 0, 0 },
	{ "overflow to 3", "100000000000000003\r\nabc\r\n0\r\n\r\n", 0, ANY_REFUSAL, NULL, 0, 0 },
	{ "overflow 32 digits", "fffffffffffffffffffffffffffffff1\r\na\r\n0\r\n\r\n", 0,
	  ANY_REFUSAL, NULL, 0, 0 },
};

#define NVECTORS ((int)(sizeof(vectors) / sizeof(vectors[0])))

struct result {
	int rc;              /* SW_DONE, SW_AGAIN, or the refusal */
	size_t used;         /* bytes consumed when done */
	char body[256];
	size_t body_len;
};

/*
 * Feeds text in pieces: bytes [0, split) then [split, len) when split is
 * given, else `step` bytes at a time.  The decoder sees only the bytes
 * of the current piece, as a connection's receive buffer would give them.
 */
static void decode(const char *text, size_t len, size_t split, size_t step,
		   uint64_t max, struct result *res)
{
	struct sw_chunked c;
	size_t off = 0;

	memset(res, 0, sizeof(*res));
	sw_chunked_init(&c);
	while (off < len) {
		size_t end = split ? (off < split ? split : len) : SW_MIN(off + step, len);
		size_t pos = off;

		for (;;) {
			const char *data = NULL;
			size_t consumed = (size_t)-1, dlen = 0;
			int rc = sw_chunked_decode(&c, text + pos, end - pos, max, &consumed,
						   &data, &dlen);

			if (rc != SW_OK && rc != SW_AGAIN && rc != SW_DONE) {
				res->rc = rc;
				return;
			}
			ck_assert_msg(consumed <= end - pos, "consumed %zu of %zu", consumed,
				      end - pos);
			if (dlen) {
				ck_assert_msg(data >= text + pos && data + dlen <= text + pos + consumed,
					      "data is not a view into the consumed input");
				ck_assert_msg(res->body_len + dlen < sizeof(res->body), "body too long");
				memcpy(res->body + res->body_len, data, dlen);
				res->body_len += dlen;
			}
			pos += consumed;
			if (rc == SW_DONE) {
				res->rc = SW_DONE;
				res->used = pos;
				return;
			}
			if (rc == SW_AGAIN) {
				ck_assert_msg(pos == end, "SW_AGAIN with %zu bytes unused", end - pos);
				break;
			}
			/* SW_OK: data, and a call again with the rest. */
			ck_assert_msg(dlen > 0 || consumed > 0, "SW_OK without progress");
			if (pos == end)
				break;
		}
		off = end;
	}
	res->rc = SW_AGAIN;
}

static void check_result(const struct vector *v, size_t len, const struct result *res,
			 const char *how)
{
	size_t blen;

	if (v->want == ANY_REFUSAL) {
		ck_assert_msg(res->rc == 400 || res->rc == 413,
			      "%s (%s): got %d, want a refusal (400 or 413)", v->name, how, res->rc);
		return;
	}
	ck_assert_msg(res->rc == v->want, "%s (%s): got %d, want %d", v->name, how, res->rc,
		      v->want);
	if (v->want != SW_DONE)
		return;
	ck_assert_msg(res->used == (v->used ? v->used : len), "%s (%s): consumed %zu, want %zu",
		      v->name, how, res->used, v->used ? v->used : len);
	blen = v->blen ? v->blen : strlen(v->body);
	ck_assert_msg(res->body_len == blen && memcmp(res->body, v->body, blen) == 0,
		      "%s (%s): body \"%.*s\" (%zu bytes), want \"%s\" (%zu)", v->name, how,
		      (int)res->body_len, res->body, res->body_len, v->body, blen);
}

START_TEST(test_vector_whole)
{
	const struct vector *v = &vectors[_i];
	size_t len = v->len ? v->len : strlen(v->text);
	struct result res;

	decode(v->text, len, 0, len ? len : 1, MAX_BODY, &res);
	check_result(v, len, &res, "whole");
}
END_TEST

START_TEST(test_vector_bytewise)
{
	const struct vector *v = &vectors[_i];
	size_t len = v->len ? v->len : strlen(v->text);
	struct result res;

	decode(v->text, len, 0, 1, MAX_BODY, &res);
	check_result(v, len, &res, "one byte at a time");
}
END_TEST

START_TEST(test_vector_splits)
{
	const struct vector *v = &vectors[_i];
	size_t len = v->len ? v->len : strlen(v->text);
	struct result res;
	char how[32];

	for (size_t split = 1; split < len; split++) {
		decode(v->text, len, split, 0, MAX_BODY, &res);
		snprintf(how, sizeof(how), "split at %zu", split);
		check_result(v, len, &res, how);
	}
}
END_TEST

/* 413 is decided on the size line, before any of the data is seen. */
START_TEST(test_over_max_before_data)
{
	struct sw_chunked c;
	const char *data;
	size_t consumed, dlen;
	const char *line = "400\r\n";

	sw_chunked_init(&c);
	ck_assert_int_eq(sw_chunked_decode(&c, line, strlen(line), 1000, &consumed, &data,
					   &dlen), 413);
	/* max_body 0: any data at all is too much, an empty body is fine. */
	sw_chunked_init(&c);
	ck_assert_int_eq(sw_chunked_decode(&c, "1\r\n", 3, 0, &consumed, &data, &dlen), 413);
	sw_chunked_init(&c);
	ck_assert_int_eq(sw_chunked_decode(&c, "0\r\n\r\n", 5, 0, &consumed, &data, &dlen),
			 SW_DONE);
}
END_TEST

/* Data is handed out as soon as it arrives, without waiting for the chunk's end. */
START_TEST(test_partial_data_streams)
{
	struct sw_chunked c;
	const char *data;
	size_t consumed, dlen;
	const char *in = "a\r\n01234";

	sw_chunked_init(&c);
	ck_assert_int_eq(sw_chunked_decode(&c, in, strlen(in), 100, &consumed, &data, &dlen),
			 SW_OK);
	ck_assert_uint_eq(consumed, strlen(in));
	ck_assert_uint_eq(dlen, 5);
	ck_assert(data == in + 3);
	ck_assert_int_eq(sw_chunked_decode(&c, "56789\r\n0\r\n\r\n", 12, 100, &consumed, &data,
					   &dlen), SW_OK);
	ck_assert_uint_eq(dlen, 5);
	ck_assert_uint_eq(consumed, 5);
	ck_assert_uint_eq(c.total, 10);
}
END_TEST

/* A size line or trailer section that never ends is refused, not buffered forever. */
static int feed_until_refused(const char *prefix, char fill, size_t n)
{
	struct sw_chunked c;
	const char *data;
	size_t consumed, dlen;
	char *buf = malloc(n);
	int rc;

	ck_assert_ptr_nonnull(buf);
	memset(buf, fill, n);
	sw_chunked_init(&c);
	rc = sw_chunked_decode(&c, prefix, strlen(prefix), 1 << 20, &consumed, &data, &dlen);
	ck_assert_int_eq(rc, SW_AGAIN);
	for (size_t off = 0; off < n && rc == SW_AGAIN; off += 512)
		rc = sw_chunked_decode(&c, buf + off, SW_MIN((size_t)512, n - off), 1 << 20,
				       &consumed, &data, &dlen);
	free(buf);
	return rc;
}

START_TEST(test_bounded_lines)
{
	/* 1 MiB of extension on one size line. */
	ck_assert_int_eq(feed_until_refused("5;a=", 'x', 1 << 20), 400);
	/* 1 MiB of trailer field value. */
	ck_assert_int_eq(feed_until_refused("0\r\nX-T: ", 'x', 1 << 20), 400);
	/* 1 MiB of leading zeros is a size line without end, too. */
	ck_assert_int_eq(feed_until_refused("", '0', 1 << 20), 400);
}
END_TEST

START_TEST(test_many_trailers_bounded)
{
	struct sw_chunked c;
	const char *data, *line = "X-T: 1\r\n";
	size_t consumed, dlen;
	int rc;

	sw_chunked_init(&c);
	rc = sw_chunked_decode(&c, "0\r\n", 3, 100, &consumed, &data, &dlen);
	for (int i = 0; i < 1 << 17 && rc == SW_AGAIN; i++)
		rc = sw_chunked_decode(&c, line, strlen(line), 100, &consumed, &data, &dlen);
	ck_assert_int_eq(rc, 400);
}
END_TEST

/* Once done, the decoder takes nothing more: the rest is the next request. */
START_TEST(test_done_is_sticky)
{
	struct sw_chunked c;
	const char *data;
	size_t consumed = 99, dlen;

	sw_chunked_init(&c);
	ck_assert_int_eq(sw_chunked_decode(&c, "0\r\n\r\n", 5, 10, &consumed, &data, &dlen),
			 SW_DONE);
	ck_assert_int_eq(sw_chunked_decode(&c, "GET", 3, 10, &consumed, &data, &dlen), SW_DONE);
	ck_assert_uint_eq(consumed, 0);
	ck_assert_uint_eq(dlen, 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("chunked");
	TCase *tc = tcase_create("decoder");

	tcase_add_loop_test(tc, test_vector_whole, 0, NVECTORS);
	tcase_add_loop_test(tc, test_vector_bytewise, 0, NVECTORS);
	tcase_add_loop_test(tc, test_vector_splits, 0, NVECTORS);
	tcase_add_test(tc, test_over_max_before_data);
	tcase_add_test(tc, test_partial_data_streams);
	tcase_add_test(tc, test_bounded_lines);
	tcase_add_test(tc, test_many_trailers_bounded);
	tcase_add_test(tc, test_done_is_sticky);
	suite_add_tcase(s, tc);
	return s;
}

SW_TEST_SUITE(suite);
