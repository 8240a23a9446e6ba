/* SPDX-License-Identifier: MIT */
/* headers.h - header lookup in response heads and echoed request text, for every suite. */
#ifndef SW_IT_HEADERS_H
#define SW_IT_HEADERS_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The value of the first field `name` (case-insensitive) in a head, after
 * its first line; leading blanks skipped, CR/LF excluded.  False if absent.
 */
bool it_header(const char *head, const char *name, char *out, size_t size);
/*
 * The same in the last head of several (curl -D writes a 1xx head before
 * the final one): where the last "HTTP/" line starts.
 */
bool it_header_final(const char *heads, const char *name, char *out, size_t size);
/* A whole line of text equal to line (case-insensitive; CR/LF ignored). */
bool it_has_line(const char *text, const char *line);
/* How many lines start with prefix (case-insensitive), e.g. "X-Forwarded-For:". */
int it_lines_with(const char *text, const char *prefix);

#endif
