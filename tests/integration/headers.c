/* SPDX-License-Identifier: MIT */
/* headers.c - header lookup in response heads and echoed request text (headers.h). */
#include <config.h>

#include <string.h>
#include <strings.h>
#include <stdio.h>
#include "headers.h"

/* The next line of text after l, NULL at the end. */
static const char *next_line(const char *l)
{
	const char *nl = strchr(l, '\n');

	return nl && nl[1] ? nl + 1 : NULL;
}

bool it_header(const char *head, const char *name, char *out, size_t size)
{
	size_t nlen = strlen(name);

	for (const char *l = head ? next_line(head) : NULL; l; l = next_line(l)) {
		const char *v = l;

		if (strncasecmp(v, name, nlen) != 0 || v[nlen] != ':')
			continue;
		v += nlen + 1;
		v += strspn(v, " \t");
		snprintf(out, size, "%.*s", (int)strcspn(v, "\r\n"), v);
		return true;
	}
	return false;
}

bool it_header_final(const char *heads, const char *name, char *out, size_t size)
{
	const char *last = heads;

	for (const char *l = heads; l && *l; l = next_line(l))
		if (strncmp(l, "HTTP/", 5) == 0)
			last = l;
	return it_header(last, name, out, size);
}

bool it_has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *l = text; l && *l; l = next_line(l))
		if (strncasecmp(l, line, n) == 0 && (l[n] == '\n' || l[n] == '\r' || l[n] == '\0'))
			return true;
	return false;
}

int it_lines_with(const char *text, const char *prefix)
{
	size_t n = strlen(prefix);
	int count = 0;

	for (const char *l = text; l && *l; l = next_line(l))
		if (strncasecmp(l, prefix, n) == 0)
			count++;
	return count;
}
