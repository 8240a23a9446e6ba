/* SPDX-License-Identifier: MIT */
/* file_cache.c - static files opened beneath a root, kept open per worker and shared by the responses sending them. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include "core/common.h"
#include "core/log.h"
#include "core/lru.h"
#include "http/beneath.h"
#include "http/file_cache.h"

/*
 * Policy, in one place:
 * - A hit younger than valid_ms costs no system call; the response sends
 *   from the shared fd with pread/sendfile at explicit offsets, so no user
 *   depends on the file position.
 * - An older entry is checked by repeating the miss (an open beneath the
 *   root, fstat): two calls more than an fstatat, once per period per
 *   file, buy that the check applies the same resolution rules as a miss
 *   (RESOLVE_BENEATH, no magic links, read permission), which a plain
 *   fstatat on the path would not.  Same device, inode, size and mtime:
 *   the new fd is closed and the entry trusted again; else it is replaced.
 * - So for up to valid_ms a file replaced by rename is served old, a file
 *   deleted is still served, and a file rewritten in place is served with
 *   its old size and validators (a shrunk one ends the response early, as
 *   an uncached send would when it shrinks mid-send).
 * - Missing files are cached only when the caller asks (precompressed
 *   siblings): a client can ask for any number of absent names, and each
 *   costs one failing open anyway.
 * - Entries are reference counted: the cache holds one while the entry is
 *   in it, each response in flight one more; eviction only drops the
 *   cache's, so an fd closes after its last send.
 */

/* A cached name and its open file (or its absence). */
struct entry {
	struct sw_file f;           /* first: sw_file_release gets the entry from it */
	struct entry *hnext;        /* hash chain */
	struct sw_lru_node lru;     /* recency, most recent first */
	uint64_t checked_ms;
	uint32_t hash;
	unsigned variant;
	unsigned refs;              /* 1 while cached, +1 per holder */
	int err;                    /* a negative entry's errno (f.fd is -1); else 0 */
	bool cached;
	size_t name_len;
	char name[];
};

struct sw_file_cache {
	struct entry **buckets;
	size_t nbuckets;            /* a power of two, at least twice max */
	struct sw_lru lru;
	unsigned count;
	unsigned max;
	uint32_t valid_ms;
};

/* ---- opening ---- */

/*
 * sw_beneath_open: ".." and symlinks that leave the root (or go through
 * /proc magic links) fail with EXDEV/ELOOP, with openat2 in the kernel or
 * by a walk that never lets the kernel follow a link; no race against a
 * path check of ours either way.  O_NONBLOCK so a FIFO cannot block the
 * worker; reads of a regular file ignore it.
 */
int sw_file_open_beneath(int dirfd, const char *name, struct stat *sb)
{
	int fd = sw_beneath_open(dirfd, name, O_RDONLY | O_NONBLOCK | O_NOCTTY);

	if (fd < 0)
		return fd;
	if (fstat(fd, sb) != 0) {
		int err = errno;

		close(fd);
		return -err;
	}
	return fd;
}

/* A regular file's fd, or -errno (-EISDIR, -EACCES for a FIFO or device). */
static int open_regular(int dirfd, const char *name, struct stat *sb)
{
	int fd = sw_file_open_beneath(dirfd, name, sb);

	if (fd < 0 || S_ISREG(sb->st_mode))
		return fd;
	close(fd);
	return S_ISDIR(sb->st_mode) ? -EISDIR : -EACCES;
}

/* ---- entries ---- */

static uint32_t hash_key(const char *name, size_t len, unsigned variant)
{
	uint32_t h = 2166136261u ^ variant;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)name[i]) * 16777619u;
	return h;
}

static struct entry *entry_new(const char *name, size_t len, unsigned variant, uint32_t hash)
{
	struct entry *e = sw_malloc(sizeof(*e) + len + 1);

	memset(e, 0, sizeof(*e));
	e->f.fd = -1;
	e->hash = hash;
	e->variant = variant;
	e->name_len = len;
	memcpy(e->name, name, len);
	e->name[len] = '\0';
	return e;
}

static void entry_set_file(struct entry *e, int fd, const struct stat *sb)
{
	e->f.fd = fd;
	e->f.size = (uint64_t)sb->st_size;
	e->f.mtime = sb->st_mtim;
	e->f.dev = sb->st_dev;
	e->f.ino = sb->st_ino;
}

static void entry_unref(struct entry *e)
{
	if (--e->refs)
		return;
	if (e->f.fd >= 0)
		close(e->f.fd);
	free(e);
}

void sw_file_release(struct sw_file *f)
{
	if (f)
		entry_unref((struct entry *)f);
}

/* Whether a fresh open (fd, or -errno) finds what e remembers. */
static bool entry_same(const struct entry *e, int fd, const struct stat *sb)
{
	if (e->err || fd < 0)
		return fd < 0 && e->err == -fd;
	return e->f.ino == sb->st_ino && e->f.dev == sb->st_dev &&
	       e->f.size == (uint64_t)sb->st_size && e->f.mtime.tv_sec == sb->st_mtim.tv_sec &&
	       e->f.mtime.tv_nsec == sb->st_mtim.tv_nsec;
}

/* ---- the table and the LRU list ---- */

/* The least recently used entry, or NULL. */
#define LRU_TAIL(c) ((c)->lru.tail ? SW_CONTAINER_OF((c)->lru.tail, struct entry, lru) : NULL)

static void evict(struct sw_file_cache *c, struct entry *e)
{
	struct entry **pp = &c->buckets[e->hash & (c->nbuckets - 1)];

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	sw_lru_unlink(&c->lru, &e->lru);
	c->count--;
	e->cached = false;
	entry_unref(e);   /* a response still sending it keeps it open */
}

static void insert(struct sw_file_cache *c, struct entry *e)
{
	struct entry **bucket;

	while (c->count >= c->max)
		evict(c, LRU_TAIL(c));
	bucket = &c->buckets[e->hash & (c->nbuckets - 1)];
	e->hnext = *bucket;
	*bucket = e;
	sw_lru_push(&c->lru, &e->lru);
	e->cached = true;
	e->refs++;
	c->count++;
}

static struct entry *find(struct sw_file_cache *c, const char *name, size_t len,
			  unsigned variant, uint32_t hash)
{
	if (!c->max)
		return NULL;
	for (struct entry *e = c->buckets[hash & (c->nbuckets - 1)]; e; e = e->hnext)
		if (e->hash == hash && e->variant == variant && e->name_len == len &&
		    memcmp(e->name, name, len) == 0)
			return e;
	return NULL;
}

/* Out of descriptors: close the entries nobody is sending but `keep`; true when some were. */
static bool shed_idle(struct sw_file_cache *c, const struct entry *keep)
{
	unsigned before = c->count;
	struct sw_lru_node *n = c->lru.tail, *prev;

	for (; n; n = prev) {
		struct entry *e = SW_CONTAINER_OF(n, struct entry, lru);

		prev = n->prev;
		if (e->refs == 1 && e != keep)
			evict(c, e);
	}
	if (c->count == before)
		return false;
	sw_warn("static files: out of descriptors, closed %u idle cached files", before - c->count);
	return true;
}

/* ---- lookups ---- */

/* A hit: most recent in the LRU, one more reference for the caller. */
static int hand_out(struct sw_file_cache *c, struct entry *e, struct sw_file **out)
{
	sw_lru_unlink(&c->lru, &e->lru);
	sw_lru_push(&c->lru, &e->lru);
	if (e->err)
		return e->err;
	e->refs++;
	*out = &e->f;
	return 0;
}

static bool fresh(const struct sw_file_cache *c, const struct entry *e, uint64_t now_ms)
{
	return now_ms >= e->checked_ms && now_ms - e->checked_ms < c->valid_ms;
}

/* A miss's open, once more after closing idle entries (not stale) if descriptors ran out. */
static int open_or_shed(struct sw_file_cache *c, const struct entry *stale, int dirfd,
			const char *name, struct stat *sb)
{
	int fd = open_regular(dirfd, name, sb);

	if ((fd == -EMFILE || fd == -ENFILE) && shed_idle(c, stale))
		fd = open_regular(dirfd, name, sb);
	return fd;
}

int sw_file_acquire(struct sw_file_cache *c, int dirfd, const char *name, size_t len,
		    unsigned variant, unsigned flags, uint64_t now_ms, struct sw_file **out)
{
	uint32_t hash = hash_key(name, len, variant);
	struct entry *e = find(c, name, len, variant, hash);
	struct stat sb;
	int fd;

	*out = NULL;
	if (e && !(flags & SW_FILE_CACHE_RECHECK) && fresh(c, e, now_ms))
		return hand_out(c, e, out);
	fd = open_or_shed(c, e, dirfd, name, &sb);
	if (e && entry_same(e, fd, &sb)) {
		if (fd >= 0)
			close(fd);
		e->checked_ms = now_ms;
		return hand_out(c, e, out);
	}
	if (e)
		evict(c, e);
	if (fd < 0) {
		bool absent = fd == -ENOENT || fd == -ENOTDIR;

		if (absent && (flags & SW_FILE_CACHE_NEGATIVE) && c->max) {
			e = entry_new(name, len, variant, hash);
			e->err = -fd;
			e->checked_ms = now_ms;
			insert(c, e);
		}
		return -fd;
	}
	e = entry_new(name, len, variant, hash);
	entry_set_file(e, fd, &sb);
	e->checked_ms = now_ms;
	if (c->max)
		insert(c, e);
	e->refs++;
	*out = &e->f;
	return 0;
}

/* ---- life cycle ---- */

struct sw_file_cache *sw_file_cache_create(void)
{
	return sw_calloc(1, sizeof(struct sw_file_cache));
}

void sw_file_cache_flush(struct sw_file_cache *c)
{
	while (c->lru.tail)
		evict(c, LRU_TAIL(c));
}

unsigned sw_file_cache_count(const struct sw_file_cache *c)
{
	return c->count;
}

/* Every entry holds a descriptor: leave most of the process's to connections. */
static unsigned cap_to_fd_limit(unsigned max)
{
	struct rlimit rl;
	rlim_t cap;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return max;
	cap = rl.rlim_cur / 4;
	if (max <= cap)
		return max;
	sw_warn("static.open_file_cache: %u entries capped to %u, a quarter of the "
		"descriptor limit (%llu)", max, (unsigned)cap, (unsigned long long)rl.rlim_cur);
	return (unsigned)cap;
}

void sw_file_cache_configure(struct sw_file_cache *c, unsigned max_entries, uint32_t valid_ms)
{
	size_t n = 16;

	sw_file_cache_flush(c);
	max_entries = cap_to_fd_limit(max_entries);
	while (n < (size_t)max_entries * 2)
		n <<= 1;
	if (n != c->nbuckets) {
		free(c->buckets);
		c->buckets = sw_calloc(n, sizeof(*c->buckets));
		c->nbuckets = n;
	}
	c->max = max_entries;
	c->valid_ms = valid_ms;
}

void sw_file_cache_destroy(struct sw_file_cache *c)
{
	if (!c)
		return;
	sw_file_cache_flush(c);
	free(c->buckets);
	free(c);
}
