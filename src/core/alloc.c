/* SPDX-License-Identifier: MIT */
/* alloc.c - allocation wrappers: running out of memory ends the process loudly. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/common.h"

/*
 * A worker that cannot allocate cannot serve; dying lets the master restart
 * it with a clean heap, which beats limping on with half-built state.  No
 * stdio here: it may itself need memory.
 */
sw_cold static void oom(void)
{
	static const char msg[] = "swerver: out of memory\n";
	ssize_t r = write(STDERR_FILENO, msg, sizeof(msg) - 1);
	(void)r;
	abort();
}

void *sw_malloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (sw_unlikely(p == NULL))
		oom();
	return p;
}

void *sw_calloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (sw_unlikely(p == NULL))
		oom();
	return p;
}

void *sw_realloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (sw_unlikely(q == NULL))
		oom();
	return q;
}

char *sw_strdup(const char *s)
{
	return s ? sw_strndup(s, strlen(s)) : NULL;
}

char *sw_strndup(const char *s, size_t n)
{
	char *p = sw_malloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}
