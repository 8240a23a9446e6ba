/* SPDX-License-Identifier: MIT */
/* static.h - files under server.static_root: safe paths, validators, ranges, precompressed siblings, a per-worker cache. */
#ifndef SW_HTTP_STATIC_H
#define SW_HTTP_STATIC_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include "http/exchange.h"

struct stat;
struct sw_ctx;

/*
 * Allocates ctx->statics, loads the MIME table (/etc/mime.types once per
 * worker) and opens server.static_root (sw_static_open_root).  Returns
 * SW_ERROR (logged) when static_root is set but cannot be opened; the
 * state still exists then and the handler declines, so the worker may
 * keep serving everything else.
 */
int sw_static_init(struct sw_ctx *ctx);
/*
 * Opens root as the O_PATH directory fd files are looked up beneath, and
 * looks the root itself up that way (sw_beneath_open), so a root that
 * requests could not use fails here: the fd with *sb filled, or -errno.
 * The master's config check (-t, start, reload) calls it too.
 */
int sw_static_open_root(const char *root, struct stat *sb);
/*
 * Chooses how files are looked up beneath the root, once for the process
 * and the workers it forks (openat2, or the walk where a kernel or seccomp
 * filter refuses it), and logs which.
 */
void sw_static_select_lookup(void);
/* Drops the caches (entries still being sent are freed after the send) and the state. */
void sw_static_deinit(struct sw_ctx *ctx);
/*
 * After a reload: reopens static_root (so a deploy that swapped a symlink
 * is seen), empties the open-file cache, and flushes the content cache
 * when the root changed or caching was turned off.  A root that cannot be
 * opened is logged and the old one kept.
 */
void sw_static_reconfigure(struct sw_ctx *ctx);
/*
 * Answers GET and HEAD for files under static_root (SW_OK); SW_DECLINED
 * when static_root is unset.  Missing files are answered (404) here, as
 * static files are the last handler before the router's own 404.
 */
int sw_static_handle(struct sw_exchange *x);

/* ---- for tests: the request-parsing helpers the handler uses ---- */

#define SW_STATIC_PATH_MAX 4096

/*
 * Percent-decodes an origin-form path into a path relative to the root:
 * no leading '/', empty and "." segments dropped, a trailing '/' kept (it
 * asks for a directory; "" is the root).  Returns SW_OK, 404 for "..",
 * an encoded '/' or NUL, 400 for a bad %-escape, 414 when longer than cap.
 */
int sw_static_decode_path(struct sw_str path, char *out, size_t cap, size_t *out_len);

enum sw_range_result {
	SW_RANGE_NONE,            /* no usable single range: send the whole file (200) */
	SW_RANGE_PARTIAL,         /* 206: *first and *len are set */
	SW_RANGE_UNSATISFIABLE,   /* 416 */
};

/* A Range value against a representation of `size` bytes; multi-range is NONE. */
enum sw_range_result sw_static_parse_range(struct sw_str value, uint64_t size,
					   uint64_t *first, uint64_t *len);

/* What Accept-Encoding allows, as q-values in thousandths (0: not acceptable). */
struct sw_static_accept {
	unsigned br;
	unsigned gzip;
};

/* Parses Accept-Encoding: q-values, "*", "x-gzip"; an invalid q counts as 0. */
void sw_static_accept_encoding(struct sw_str value, struct sw_static_accept *out);

/*
 * Whether `etag` is in an If-None-Match / If-Range list (or the list is
 * "*"); weak comparison ignores W/ on both sides, strong needs both strong.
 */
bool sw_static_etag_match(struct sw_str list, struct sw_str etag, bool weak);

/* An HTTP-date (IMF-fixdate, RFC 850 or asctime) to time_t; false when malformed. */
bool sw_static_parse_http_date(struct sw_str s, time_t *out);

#endif
