/* SPDX-License-Identifier: MIT */
/* http1.h - the strict, in-place HTTP/1.1 request-head parser (RFC 9112). */
#ifndef SW_HTTP_HTTP1_H
#define SW_HTTP_HTTP1_H

#include <stddef.h>
#include "core/config.h"
#include "http/exchange.h"

/*
 * Incremental state: how far the buffer has been checked, so a client that
 * trickles its head costs linear work, not quadratic.
 */
struct sw_http1_parser {
	size_t scanned;   /* bytes before this have had their line ends checked */
	size_t lines;     /* header lines seen so far (for the count limit) */
};

static inline void sw_http1_parser_reset(struct sw_http1_parser *p)
{
	p->scanned = 0;
	p->lines = 0;
}

/*
 * Parses a request head at buf[0..len).  Views in req point into buf, and
 * req->headers must have room for limits->max_header_count entries.
 *
 * Returns 0 with *head_len set when the head is complete; SW_AGAIN when
 * more bytes are needed; or the HTTP status to refuse the request with
 * (400 malformed or smuggling-prone framing, 431 head too large or too
 * many fields, 501 unsupported transfer coding, 505 unsupported version,
 * 417 unsupported expectation).  Any refusal means the connection's
 * framing is in doubt and it must be closed after the answer.
 */
int sw_http1_parse(struct sw_http1_parser *p, const char *buf, size_t len,
		   const struct sw_limits_cfg *limits, struct sw_request *req,
		   size_t *head_len);

/* An upstream's response head. */
struct sw_http1_response {
	int status;
	uint8_t version;             /* 10, 11 */
	struct sw_header *headers;   /* room for header_cap fields, filled by the parser */
	unsigned header_count, header_cap;
	int64_t content_length;      /* -1 when absent */
	bool chunked;                /* Transfer-Encoding ending in chunked */
	bool until_close;            /* no length: a body would end when the upstream closes */
	bool keep_alive;
	bool te_seen;                /* a Transfer-Encoding field was there */
	/* On SW_ERROR for a reason worth naming: what (and the coding at fault, if one). */
	const char *why;
	struct sw_str bad_coding;
};

/*
 * Parses a response head at buf[0..len) as strictly as requests (bare LF,
 * obs-fold, bad bytes, conflicting lengths are errors).  Returns SW_OK
 * with *head_len set, SW_AGAIN for more bytes, or SW_ERROR (malformed, or
 * over max_bytes or header_cap fields; r->why says why when it is a
 * framing we refuse, such as a transfer coding other than chunked).  The caller decides bodies of
 * HEAD, 1xx, 204 and 304, which have none whatever the fields say.
 */
int sw_http1_parse_response(struct sw_http1_parser *p, const char *buf, size_t len,
			    size_t max_bytes, struct sw_http1_response *r, size_t *head_len);

#endif
