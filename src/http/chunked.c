/* SPDX-License-Identifier: MIT */
/* chunked.c - chunked transfer coding: sizes, extensions, data, trailers. */
#include <config.h>

#include <string.h>
#include "core/common.h"
#include "http/chunked.h"

/* Long enough for any sane size line with extensions, or trailer line. */
#define LINE_MAX_BYTES 4096
#define TRAILERS_MAX_BYTES 16384

enum {
	S_SIZE,          /* hex digits */
	S_SIZE_BWS,      /* whitespace after the digits: only ';' may follow */
	S_EXT,           /* ";ext..." until CR */
	S_SIZE_LF,       /* LF after the size line */
	S_DATA,
	S_DATA_CR,       /* CRLF after data */
	S_DATA_LF,
	S_TRAILER,       /* start of a trailer line (or the final CRLF) */
	S_TRAILER_NAME,  /* a trailer field's name, up to its colon */
	S_TRAILER_LINE,  /* a trailer field's value */
	S_TRAILER_LF,    /* LF after a trailer field line */
	S_FINAL_LF,      /* LF of the empty line that ends the body */
	S_DONE,
};

void sw_chunked_init(struct sw_chunked *c)
{
	*c = (struct sw_chunked){ .state = S_SIZE };
}

/* RFC 9110 tchar, for trailer field names. */
static bool is_tchar(char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* One byte of a size line: digits, then optional extensions, then CRLF. */
static int size_byte(struct sw_chunked *c, char ch)
{
	int v = hexval(ch);

	if (++c->line_bytes > LINE_MAX_BYTES)
		return 400;
	if (c->state == S_SIZE && v >= 0) {
		if (c->chunk_left >> 60)
			return 400;   /* would overflow: no body is that large */
		c->chunk_left = c->chunk_left << 4 | (uint64_t)v;
		return 0;
	}
	if (c->line_bytes == 1)
		return 400;       /* a size line must start with a digit */
	if (ch == '\r') {
		if (c->state == S_SIZE_BWS)
			return 400;   /* whitespace must lead to ';' (RFC 9112 7.1.1) */
		c->state = S_SIZE_LF;
		return 0;
	}
	if (ch == '\n' || ch == '\0')
		return 400;
	if (c->state == S_EXT)
		return 0;     /* extensions are skipped: none is understood */
	/* "1 2" must not pass as size 1: after the digits only BWS ';'. */
	if (ch == ';')
		c->state = S_EXT;
	else if (ch == ' ' || ch == '\t')
		c->state = S_SIZE_BWS;
	else
		return 400;
	return 0;
}

/* Trailer fields are read and dropped: none of them can change framing. */
static int trailer_byte(struct sw_chunked *c, char ch)
{
	if (++c->trailer_bytes > TRAILERS_MAX_BYTES)
		return 400;
	switch (c->state) {
	case S_TRAILER:
		if (ch == '\r') {
			c->state = S_FINAL_LF;
			return 0;
		}
		if (!is_tchar(ch))
			return 400;   /* obs-fold, an empty field name, a bare LF */
		c->state = S_TRAILER_NAME;
		return 0;
	case S_TRAILER_NAME:
		if (ch == ':')
			c->state = S_TRAILER_LINE;
		else if (!is_tchar(ch))
			return 400;   /* a field line needs "name:" */
		return 0;
	case S_TRAILER_LINE:
		if (ch == '\r')
			c->state = S_TRAILER_LF;
		else if (ch == '\n' || ch == '\0')
			return 400;
		return 0;
	case S_TRAILER_LF:
		if (ch != '\n')
			return 400;
		c->state = S_TRAILER;
		return 0;
	default: /* S_FINAL_LF */
		if (ch != '\n')
			return 400;
		c->state = S_DONE;
		return 0;
	}
}

static int end_of_size_line(struct sw_chunked *c, uint64_t max_body)
{
	c->line_bytes = 0;
	if (c->chunk_left == 0) {
		c->state = S_TRAILER;
		return 0;
	}
	if (c->chunk_left > max_body - c->total)
		return 413;
	c->state = S_DATA;
	return 0;
}

int sw_chunked_decode(struct sw_chunked *c, const char *in, size_t len, uint64_t max_body,
		      size_t *consumed, const char **data, size_t *data_len)
{
	size_t i = 0;
	int rc = 0;

	*data = NULL;
	*data_len = 0;
	*consumed = 0;
	while (i < len && c->state != S_DONE) {
		char ch = in[i];

		switch (c->state) {
		case S_SIZE:
		case S_SIZE_BWS:
		case S_EXT:
			rc = size_byte(c, ch);
			break;
		case S_SIZE_LF:
			rc = ch == '\n' ? end_of_size_line(c, max_body) : 400;
			break;
		case S_DATA: {
			size_t n = (size_t)SW_MIN((uint64_t)(len - i), c->chunk_left);
			*data = in + i;
			*data_len = n;
			c->chunk_left -= n;
			c->total += n;
			if (c->chunk_left == 0)
				c->state = S_DATA_CR;
			*consumed = i + n;
			return SW_OK;
		}
		case S_DATA_CR:
			rc = ch == '\r' ? (c->state = S_DATA_LF, 0) : 400;
			break;
		case S_DATA_LF:
			rc = ch == '\n' ? (c->state = S_SIZE, 0) : 400;
			break;
		default:
			rc = trailer_byte(c, ch);
		}
		if (rc)
			return rc;
		i++;
	}
	*consumed = i;
	return c->state == S_DONE ? SW_DONE : SW_AGAIN;
}
