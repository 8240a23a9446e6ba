/* SPDX-License-Identifier: MIT */
/* utf8.h - clipping text without cutting a UTF-8 sequence, for names quoted in JSON answers. */
#ifndef SW_GATEWAY_UTF8_H
#define SW_GATEWAY_UTF8_H

#include <stddef.h>
#include <string.h>

/* How many of the first n bytes of s (n <= its length) end on a character boundary. */
static inline size_t sw_utf8_boundary(const char *s, size_t n)
{
	size_t i = n;

	while (i > 0 && ((unsigned char)s[i - 1] & 0xc0) == 0x80)
		i--;
	if (i > 0 && (unsigned char)s[i - 1] >= 0xc0) {
		unsigned char lead = (unsigned char)s[i - 1];
		size_t need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
		if (n - (i - 1) < need)
			return i - 1;
	}
	return n;
}

/* At most max bytes of s into out (room for max + 1), ending on a character boundary. */
static inline void sw_utf8_clip(char *out, const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n > max)
		n = sw_utf8_boundary(s, max);
	memcpy(out, s, n);
	out[n] = '\0';
}

#endif
