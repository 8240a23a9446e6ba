/* SPDX-License-Identifier: MIT */
/* parse.c - the small parsers the auth methods share: names, base64, query parameters. */
#include <config.h>

#include <stdint.h>
#include <string.h>
#include "auth/auth_impl.h"

bool sw_auth_is_token(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if (!strchr("!#$%&'*+-.^_`|~", *s) && !(*s >= '0' && *s <= '9') &&
		    !(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z'))
			return false;
	return true;
}

bool sw_auth_is_label(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if (*s < 0x21 || *s > 0x7e || *s == '"' || *s == '\\')
			return false;
	return true;
}

int sw_auth_b64_value(unsigned char c, bool url)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == (url ? '-' : '+'))
		return 62;
	if (c == (url ? '_' : '/'))
		return 63;
	return -1;
}

long sw_auth_base64_decode(const char *in, size_t len, unsigned char *out, size_t cap)
{
	size_t n = 0;

	if (len % 4)
		return -1;
	for (size_t i = 0; i < len; i += 4) {
		int v[4], pad = 0;
		for (int j = 0; j < 4; j++) {
			unsigned char c = (unsigned char)in[i + (size_t)j];
			/* '=' only at the very end, as one or two of the last quad's last two. */
			if (c == '=' && i + 4 == len && j >= 2 && (j == 3 || in[i + 3] == '=')) {
				v[j] = 0;
				pad++;
			} else if ((v[j] = sw_auth_b64_value(c, false)) < 0) {
				return -1;
			}
		}
		uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
		size_t take = 3 - (size_t)pad;
		if (n + take > cap)
			return -1;
		for (size_t j = 0; j < take; j++)
			out[n++] = (unsigned char)(w >> (16 - 8 * j));
	}
	return (long)n;
}

size_t sw_auth_query_remove(struct sw_str q, const char *param, char *out, struct sw_str *value)
{
	size_t plen = strlen(param), n = 0, i = 0;

	value->p = NULL;
	value->len = 0;
	while (i <= q.len && q.p) {
		const char *s = q.p + i;
		const char *amp = memchr(s, '&', q.len - i);
		size_t len = amp ? (size_t)(amp - s) : q.len - i;
		/* "param=value" or a bare "param" */
		if (len >= plen && !memcmp(s, param, plen) && (len == plen || s[plen] == '=')) {
			if (!value->p) {
				value->p = len == plen ? s + len : s + plen + 1;
				value->len = len == plen ? 0 : len - plen - 1;
			}
		} else if (len) {
			if (n)
				out[n++] = '&';
			memcpy(out + n, s, len);
			n += len;
		}
		i += len + 1;
	}
	return n;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

long sw_auth_percent_decode(struct sw_str in, char *out)
{
	size_t n = 0;

	for (size_t i = 0; i < in.len; i++) {
		int hi, lo;
		if (in.p[i] != '%') {
			out[n++] = in.p[i];
			continue;
		}
		if (i + 2 >= in.len)
			return -1;
		if ((hi = hex_value(in.p[i + 1])) < 0 || (lo = hex_value(in.p[i + 2])) < 0)
			return -1;
		out[n++] = (char)(hi << 4 | lo);
		i += 2;
	}
	return (long)n;
}
