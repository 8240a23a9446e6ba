/* SPDX-License-Identifier: MIT */
/* str.h - length-delimited views into buffers the caller owns. */
#ifndef SW_CORE_STR_H
#define SW_CORE_STR_H

#include <stdbool.h>
#include <stddef.h>

/* A view into a buffer someone else owns; not NUL-terminated. */
struct sw_str {
	const char *p;
	size_t len;
};

#define SW_STR(lit) ((struct sw_str){ (lit), sizeof(lit) - 1 })

/* Compares a view with a NUL-terminated literal, exactly or case-insensitively. */
bool sw_str_eq(struct sw_str s, const char *lit);
bool sw_str_ieq(struct sw_str s, const char *lit);

/* Length of the valid UTF-8 sequence at s (n > 0 bytes), or 0 (RFC 3629: no overlongs, surrogates). */
size_t sw_utf8_len(const unsigned char *s, size_t n);
/* Whether all n bytes at s are UTF-8 (ASCII included). */
bool sw_utf8_valid(const char *s, size_t n);
/* A non-empty RFC 9110 token (a header field name); false for NULL. */
bool sw_str_is_token(const char *s);

#endif
