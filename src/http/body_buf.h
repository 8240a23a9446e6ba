/* SPDX-License-Identifier: MIT */
/* body_buf.h - a request body held for a handler, part of it lent out while more arrives. */
#ifndef SW_HTTP_BODY_BUF_H
#define SW_HTTP_BODY_BUF_H

#include <stddef.h>

/*
 * HTTP/2 and HTTP/3 keep DATA until the handler asks; what they hand it
 * (lend) must stay where it is until the next ask, even when more DATA
 * arrives and the buffer has to grow: then the lent bytes stay behind in
 * the old block, freed when they are given back.
 */
struct sw_body_buf {
	char *p;
	size_t len, cap;
	size_t lent;      /* bytes lent to the handler, given back on its next ask */
	char *old;        /* the block the lent bytes are in, when p has moved on */
};

/* Appends n bytes without moving what is lent. */
void sw_body_buf_append(struct sw_body_buf *b, const void *data, size_t n);
/* Lends everything held; *n gets its size.  Nothing may be lent already. */
const char *sw_body_buf_lend(struct sw_body_buf *b, size_t *n);
/* Takes the lent bytes back and drops them; returns how many (to acknowledge). */
size_t sw_body_buf_give_back(struct sw_body_buf *b);
void sw_body_buf_reset(struct sw_body_buf *b);
void sw_body_buf_free(struct sw_body_buf *b);

#endif
