/* SPDX-License-Identifier: MIT */
/* file_cache.h - static files opened beneath a root, kept open per worker and shared by the responses sending them. */
#ifndef SW_HTTP_FILE_CACHE_H
#define SW_HTTP_FILE_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>
#include "core/clock.h"

/*
 * An open regular file as it was when opened or last checked.  Read-only
 * for its users; it stays valid (fd open) until their last
 * sw_file_release, even after the cache has dropped it.
 */
struct sw_file {
	int fd;
	uint64_t size;
	struct timespec mtime;
	dev_t dev;
	ino_t ino;
	/*
	 * Left to the cache's user: static.c formats its ETag and
	 * Last-Modified here once, as they depend only on the fields above.
	 */
	uint8_t etag_len;            /* 0: not formatted yet */
	char etag[48];
	char last_modified[SW_HTTP_DATE_LEN + 1];
};

struct sw_file_cache;

/* sw_file_acquire flags. */
enum {
	/*
	 * Remember that the name does not exist (ENOENT/ENOTDIR) for the
	 * validity period too.  Only for names the client cannot choose
	 * freely (precompressed siblings of existing files), so a scan of
	 * random paths cannot push real files out.
	 */
	SW_FILE_CACHE_NEGATIVE = 1 << 0,
	/* Check the entry now, whatever its age: the caller saw the file change. */
	SW_FILE_CACHE_RECHECK = 1 << 1,
};

/* An empty cache that caches nothing until configured. */
struct sw_file_cache *sw_file_cache_create(void);
/* Drops every entry (files in flight close at their last release) and the cache. */
void sw_file_cache_destroy(struct sw_file_cache *c);
/*
 * At most max_entries files (0: cache nothing, every open is a miss), each
 * trusted for valid_ms after it was opened or last checked.  Flushes: a
 * reload is when the root or its files may have changed.  The limit is
 * capped at a quarter of RLIMIT_NOFILE (logged), as every entry holds a
 * descriptor that accept(2) may need.
 */
void sw_file_cache_configure(struct sw_file_cache *c, unsigned max_entries, uint32_t valid_ms);
/* Drops every entry; files still being sent close at their last release. */
void sw_file_cache_flush(struct sw_file_cache *c);
/* Entries held (for tests and logs). */
unsigned sw_file_cache_count(const struct sw_file_cache *c);

/*
 * The regular file `name` (NUL-terminated, len bytes) beneath dirfd, for
 * `variant` (the caller's tag, part of the key with the name): 0 and a
 * reference in *out, which the caller gives back with sw_file_release;
 * else an errno: EISDIR for a directory, EACCES for another non-regular
 * file, or what the open/fstat said.  A cached entry younger than valid_ms
 * is returned as it is; an older one is checked by opening the name again
 * exactly as a miss does (sw_file_open_beneath), so after the validity
 * period no answer differs from an uncached one.  now_ms is a monotonic
 * clock in milliseconds.
 */
int sw_file_acquire(struct sw_file_cache *c, int dirfd, const char *name, size_t len,
		    unsigned variant, unsigned flags, uint64_t now_ms, struct sw_file **out);
/* Gives back a reference from sw_file_acquire; the last one of a dropped entry closes it. */
void sw_file_release(struct sw_file *f);

/*
 * The one way a static file is looked up: sw_beneath_open (openat2 with
 * RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS, or the walk where openat2 is
 * refused; "" is dirfd itself), then fstat.  The fd
 * (the caller's to close) with *sb filled, or -errno.
 */
int sw_file_open_beneath(int dirfd, const char *name, struct stat *sb);

#endif
