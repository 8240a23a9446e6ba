/* SPDX-License-Identifier: MIT */
/* body_buf.c - a request body held for a handler, part of it lent out while more arrives. */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include "core/common.h"
#include "http/body_buf.h"

void sw_body_buf_append(struct sw_body_buf *b, const void *data, size_t n)
{
	if (n && b->len + n > b->cap) {
		size_t cap = SW_MAX(b->cap * 2, b->len + n);

		if (b->lent && !b->old) {
			/* Leave the lent bytes where the handler has them; move the rest. */
			char *p = sw_malloc(cap);
			memcpy(p, b->p + b->lent, b->len - b->lent);
			b->old = b->p;
			b->p = p;
			b->len -= b->lent;
		} else {
			b->p = sw_realloc(b->p, cap);
		}
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->len, data, n);
	b->len += n;
}

const char *sw_body_buf_lend(struct sw_body_buf *b, size_t *n)
{
	b->lent = b->len;
	*n = b->len;
	return b->p;
}

size_t sw_body_buf_give_back(struct sw_body_buf *b)
{
	size_t n = b->lent;

	if (b->old) {
		free(b->old);   /* p holds only what came after */
		b->old = NULL;
	} else if (n) {
		memmove(b->p, b->p + n, b->len - n);
		b->len -= n;
	}
	b->lent = 0;
	return n;
}

void sw_body_buf_reset(struct sw_body_buf *b)
{
	free(b->old);
	b->old = NULL;
	b->len = b->lent = 0;
}

void sw_body_buf_free(struct sw_body_buf *b)
{
	sw_body_buf_reset(b);
	free(b->p);
	b->p = NULL;
	b->cap = 0;
}
