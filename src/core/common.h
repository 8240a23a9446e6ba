/* SPDX-License-Identifier: MIT */
/* common.h - return codes and small helpers shared by every swerver file. */
#ifndef SW_CORE_COMMON_H
#define SW_CORE_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

/*
 * The few results a function returns.  SW_AGAIN means "would block, call
 * again when the fd is ready"; the reason for SW_ERROR is logged or put in
 * an out-parameter by the callee, never lost.
 */
enum {
	SW_OK = 0,
	SW_ERROR = -1,
	SW_AGAIN = -2,
	SW_DONE = -3,
	SW_DECLINED = -4,
};

/* Exit codes (sysexits.h values, as the man page documents). */
enum {
	SW_EXIT_OK = 0,
	SW_EXIT_FAILURE = 1,   /* runtime failure: bind, fork, ... */
	SW_EXIT_USAGE = 64,    /* EX_USAGE: bad flag or flag value */
	SW_EXIT_CONFIG = 78,   /* EX_CONFIG: the config is invalid */
};

#define SW_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define SW_MIN(a, b) ((a) < (b) ? (a) : (b))
#define SW_MAX(a, b) ((a) > (b) ? (a) : (b))
#define SW_CONTAINER_OF(p, type, member) \
	((type *)(void *)((char *)(p) - offsetof(type, member)))

#define sw_likely(x) __builtin_expect(!!(x), 1)
#define sw_unlikely(x) __builtin_expect(!!(x), 0)
#define sw_cold __attribute__((cold))
#define sw_printf(a, b) __attribute__((format(printf, a, b)))

/* Allocation failure is not recoverable in a server worker: log and abort. */
void *sw_malloc(size_t n);
void *sw_calloc(size_t n, size_t size);
void *sw_realloc(void *p, size_t n);
char *sw_strdup(const char *s);
char *sw_strndup(const char *s, size_t n);

#endif
