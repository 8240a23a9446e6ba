/* SPDX-License-Identifier: MIT */
/* chunked.h - incremental decoder for chunked request bodies (RFC 9112 7.1). */
#ifndef SW_HTTP_CHUNKED_H
#define SW_HTTP_CHUNKED_H

#include <stddef.h>
#include <stdint.h>

struct sw_chunked {
	uint8_t state;
	uint64_t chunk_left;   /* data bytes left in the current chunk */
	uint64_t total;        /* data bytes decoded so far */
	size_t line_bytes;     /* size/extension/trailer line length, bounded */
	size_t trailer_bytes;  /* whole trailer section, bounded */
};

void sw_chunked_init(struct sw_chunked *c);

/*
 * Decodes from in[0..len).  *consumed is how many input bytes were used;
 * when the decoder reaches chunk data it stops and reports it as
 * *data and *data_len (a view into in; consumed includes it), so a caller that
 * forwards the body gets it without copying.  Returns:
 *   SW_OK      data (possibly empty) was produced; call again with the rest
 *   SW_AGAIN   all input used, need more
 *   SW_DONE    the last chunk and the trailer section are complete
 *   400        malformed framing (the connection must close)
 *   413        the body exceeds max_body (checked before it is read)
 */
int sw_chunked_decode(struct sw_chunked *c, const char *in, size_t len, uint64_t max_body,
		      size_t *consumed, const char **data, size_t *data_len);

#endif
