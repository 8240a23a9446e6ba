/* SPDX-License-Identifier: MIT */
/*
 * h2_fixture.h - what the HTTP/2 suites (test_http2_*.c) share: swerver
 * serving a small document root, curl with prior knowledge, /metrics.
 * The raw frame client is h2client.h's.
 */
#ifndef SW_IT_H2_FIXTURE_H
#define SW_IT_H2_FIXTURE_H

#include <stdbool.h>
#include <sys/types.h>
#include "curl.h"
#include "h2client.h"
#include "harness.h"

/* Every client command runs under this cap, so a hung client cannot hang the suite. */
#define T "timeout -k 1 10 "
#define BIG_SIZE (1u << 20)

/* Backend i exists and HTTP/2 (and TLS) is built; else a note, and the test returns. */
bool have_h2(int i);
bool have_h2_tls(int i);

/* The document root h2_populate fills (index.html, hello.txt, app.js(.gz), big.bin). */
extern char h2_www[IT_PATH_MAX];

/* A file of `size` zero bytes that takes no disk (and no time) to make. */
void h2_write_sparse(const char *name, off_t size);

void h2_populate(void);

/*
 * Starts swerver with static_root = h2_www: listener 0 is 127.0.0.1:0 (the one
 * the harness waits on), `listeners` adds more, `extra` adds top-level keys
 * (each ending with a comma).
 */
void h2_write_config(char cfg[IT_PATH_MAX], int i, unsigned workers, const char *listeners,
		  const char *extra);

struct it_proc *h2_start(int i, unsigned workers, const char *listeners, const char *extra,
		      int *port);

/* curl --http2-prior-knowledge to 127.0.0.1:port path. */
void h2curl(struct it_cres *r, int port, const char *args, const char *path);

/* Fails the test unless the final head has name: want. */
void expect_chdr(const struct it_cres *r, const char *name, const char *want, const char *what);

/* Polls until the series reads `want` (counters are shared, but be patient). */
long long h2_wait_metric(int port, const char *series, long long want, int timeout_ms);

#endif
