/* SPDX-License-Identifier: MIT */
/*
 * fuzz_common.h - what every libFuzzer target here starts with: the entry
 * point's prototype, CHECK for invariants (the message run.sh greps for),
 * and ASan poisoning that compiles away without ASan.  Header-only, so
 * run.sh's standalone clang build needs no extra source.  Define
 * FUZZ_NAME ("fuzz_http1", ...) before including it.
 */
#ifndef SW_FUZZ_COMMON_H
#define SW_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#ifndef FUZZ_NAME
#error "define FUZZ_NAME before including fuzz_common.h"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond, ...) do { \
	if (!(cond)) { \
		fprintf(stderr, FUZZ_NAME ": invariant failed at line %d: %s\n  ", \
			__LINE__, #cond); \
		fprintf(stderr, __VA_ARGS__); \
		fputc('\n', stderr); \
		abort(); \
	} \
} while (0)

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#include <sanitizer/asan_interface.h>
#define FUZZ_HAVE_ASAN 1
#endif
#endif
#ifndef FUZZ_HAVE_ASAN
#define ASAN_POISON_MEMORY_REGION(a, n) ((void)(a), (void)(n))
#define ASAN_UNPOISON_MEMORY_REGION(a, n) ((void)(a), (void)(n))
#endif

#endif
