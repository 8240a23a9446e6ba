/* SPDX-License-Identifier: MIT */
/* static.c - files under server.static_root: safe paths, validators, ranges, precompressed siblings, a per-worker cache. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "core/clock.h"
#include "core/log.h"
#include "core/lru.h"
#include "http/context.h"
#include "http/beneath.h"
#include "http/file_cache.h"
#include "http/mime.h"
#include "http/static.h"

/*
 * Policy, in one place:
 * - ETag is strong: "<size hex>-<mtime ns hex>" plus "-br"/"-gz" for a
 *   precompressed sibling, so If-Range works and each encoding validates
 *   on its own.
 * - Siblings (x.br, x.gz) are looked for only for compressible types, and
 *   every response for such a type carries Vary: Accept-Encoding, whether
 *   or not a sibling exists today (caches must not depend on our disk).
 * - A range applies to the bytes of the selected representation: a 206 of
 *   the .br sibling has Content-Encoding: br and offsets into the .br file,
 *   consistent with its own ETag (RFC 9110 14.1).
 * - No Accept-Encoding header means identity, like every deployed server.
 *   A sibling is served only beside its original (x.js.br alone is not
 *   x.js), and it is trusted to match it: the deploy keeps them in step.
 * - Files are opened through the open-file cache (static.open_file_cache,
 *   file_cache.c): fd, size, mtime and validators shared by every response
 *   for the path, trusted for open_file_cache_valid_ms, then looked up
 *   again exactly as on a miss.  Absent precompressed siblings are cached
 *   too; absent files asked for by name are not.  Every reload empties it.
 * - The content cache (server.cache_static_files) holds files up to 64 KiB, 256
 *   entries, 16 MiB per worker, LRU; each hit is revalidated with one
 *   fstatat (size, mtime, inode), so an edited file is seen at once (a
 *   changed one is then read through a freshly checked open-file entry).
 * - Dotfiles are served like any file; keep secrets out of the root.
 */

#define CACHE_MAX_ENTRIES 256
#define CACHE_MAX_FILE (64u << 10)
#define CACHE_MAX_BYTES (16u << 20)
#define CACHE_BUCKETS 512           /* a power of two, twice the entries */
#define ETAG_MAX 48                 /* "16 hex-16 hex-br" */
#define RANGE_MAX 80                /* "bytes a-b/size" */
#define RESP_SCRATCH (ETAG_MAX + SW_HTTP_DATE_LEN + 1 + RANGE_MAX)
#define INDEX_NAME "index.html"
#define SUFFIX_MAX 3                /* ".br", ".gz" */

/* get_file's answers besides SW_OK and HTTP statuses. */
#define IS_DIR 1

enum enc { ENC_IDENTITY, ENC_BR, ENC_GZIP };

static const struct {
	const char *suffix;
	struct sw_str coding;
	const char *tag;
} encs[] = {
	[ENC_IDENTITY] = { "", { "", 0 }, "" },
	[ENC_BR] = { ".br", SW_STR("br"), "-br" },
	[ENC_GZIP] = { ".gz", SW_STR("gzip"), "-gz" },
};

/* A cached file: its bytes and validators, shared with responses in flight. */
struct entry {
	struct entry *hnext;        /* hash chain */
	struct sw_lru_node lru;     /* recency, most recent first */
	unsigned refs;              /* 1 while cached, +1 per response in flight */
	uint32_t hash;
	enum enc enc;
	uint64_t size;
	struct timespec mtime;
	ino_t ino;
	dev_t dev;
	size_t etag_len;
	char etag[ETAG_MAX];
	char last_modified[SW_HTTP_DATE_LEN + 1];
	char *data;
	size_t name_len;
	char name[];                /* path under the root, NUL, then the data */
};

struct cache {
	struct entry *buckets[CACHE_BUCKETS];
	struct sw_lru lru;
	unsigned count;
	size_t bytes;
};

struct sw_static_state {
	int root_fd;                /* O_PATH directory; -1: static files off */
	char *root;                 /* our copy: cfg strings are replaced on reload */
	dev_t root_dev;
	ino_t root_ino;
	bool cache_on;
	bool open_cache_on;         /* static.open_file_cache > 0 */
	struct sw_mime *mime;
	struct cache cache;
	struct sw_file_cache *files;
	/* The decoded path, with room for "index.html" and a sibling suffix. */
	char path[SW_STATIC_PATH_MAX + sizeof(INDEX_NAME) + SUFFIX_MAX + 1];
};

/*
 * The representation chosen to answer with: a file opened for this
 * response (fd), a shared open file (cf) or cached bytes (e); one of them.
 */
struct file {
	int fd;                     /* -1 unless the response owns it */
	struct sw_file *cf;
	struct entry *e;
	enum enc enc;
	uint64_t size;
	struct timespec mtime;
	dev_t dev;
	ino_t ino;
};

/* ETag and Last-Modified as sent. */
struct validators {
	struct sw_str etag;
	struct sw_str last_modified;
};

/* ---- small parsing helpers ---- */

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static struct sw_str trim(struct sw_str s)
{
	while (s.len && is_ows(s.p[0])) {
		s.p++;
		s.len--;
	}
	while (s.len && is_ows(s.p[s.len - 1]))
		s.len--;
	return s;
}

/* Splits off the next comma-separated element of *list. */
static struct sw_str next_element(struct sw_str *list)
{
	const char *comma = memchr(list->p, ',', list->len);
	size_t n = comma ? (size_t)(comma - list->p) : list->len;
	struct sw_str el = { list->p, n };

	list->p += comma ? n + 1 : n;
	list->len -= comma ? n + 1 : n;
	return trim(el);
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* ---- paths ---- */

/*
 * Ends the segment that started at out[seg]: "." disappears, ".." is
 * refused, a real name gets its '/' when more follows.
 */
static int end_segment(char *out, size_t *n, size_t *seg, bool more, size_t cap)
{
	size_t len = *n - *seg;
	const char *s = out + *seg;

	if (len == 2 && s[0] == '.' && s[1] == '.')
		return 404;
	if (len == 1 && s[0] == '.')
		*n = *seg;
	else if (len && more) {
		if (*n + 1 >= cap)
			return 414;
		out[(*n)++] = '/';
	}
	*seg = *n;
	return SW_OK;
}

/* One byte of the path, %XX decoded; advances *i.  -1: a bad escape. */
static int path_byte(struct sw_str in, size_t *i, bool *escaped)
{
	int hi, lo;

	*escaped = in.p[*i] == '%';
	if (!*escaped)
		return (unsigned char)in.p[(*i)++];
	if (*i + 2 >= in.len)
		return -1;
	hi = hex_value(in.p[*i + 1]);
	lo = hex_value(in.p[*i + 2]);
	if (hi < 0 || lo < 0)
		return -1;
	*i += 3;
	return hi << 4 | lo;
}

int sw_static_decode_path(struct sw_str in, char *out, size_t cap, size_t *out_len)
{
	size_t i = 0, n = 0, seg = 0;
	bool escaped;
	int c, rc;

	if (in.len == 0 || in.p[0] != '/' || cap == 0)
		return 404;
	while (i < in.len) {
		c = path_byte(in, &i, &escaped);
		if (c < 0)
			return 400;
		if (c == 0 || (c == '/' && escaped))
			return 404;
		if (c == '/') {
			if ((rc = end_segment(out, &n, &seg, true, cap)) != SW_OK)
				return rc;
			continue;
		}
		if (n + 1 >= cap)
			return 414;
		out[n++] = (char)c;
	}
	if ((rc = end_segment(out, &n, &seg, false, cap)) != SW_OK)
		return rc;
	out[n] = '\0';
	*out_len = n;
	return SW_OK;
}

/* ---- Range ---- */

/* Decimal digits, saturating; false when there are none. */
static bool parse_u64(struct sw_str *s, uint64_t *v)
{
	size_t i = 0;

	*v = 0;
	for (; i < s->len && s->p[i] >= '0' && s->p[i] <= '9'; i++) {
		unsigned d = (unsigned)(s->p[i] - '0');

		*v = *v > (UINT64_MAX - d) / 10 ? UINT64_MAX : *v * 10 + d;
	}
	s->p += i;
	s->len -= i;
	return i > 0;
}

/* "-n": the last n bytes. */
static enum sw_range_result suffix_range(uint64_t n, uint64_t size, uint64_t *first, uint64_t *len)
{
	if (n == 0 || size == 0)
		return SW_RANGE_UNSATISFIABLE;
	*len = SW_MIN(n, size);
	*first = size - *len;
	return SW_RANGE_PARTIAL;
}

enum sw_range_result sw_static_parse_range(struct sw_str value, uint64_t size,
					   uint64_t *first, uint64_t *len)
{
	struct sw_str s = trim(value);
	uint64_t a, b = UINT64_MAX;

	if (s.len < 6 || strncasecmp(s.p, "bytes=", 6) != 0 || memchr(s.p, ',', s.len))
		return SW_RANGE_NONE;
	s.p += 6;
	s.len -= 6;
	s = trim(s);
	if (s.len && s.p[0] == '-') {
		s.p++;
		s.len--;
		if (!parse_u64(&s, &a) || s.len)
			return SW_RANGE_NONE;
		return suffix_range(a, size, first, len);
	}
	if (!parse_u64(&s, &a) || !s.len || s.p[0] != '-')
		return SW_RANGE_NONE;
	s.p++;
	s.len--;
	if (s.len && !parse_u64(&s, &b))
		return SW_RANGE_NONE;
	if (s.len || b < a)
		return SW_RANGE_NONE;
	if (a >= size)
		return SW_RANGE_UNSATISFIABLE;
	*first = a;
	*len = SW_MIN(b, size - 1) - a + 1;
	return SW_RANGE_PARTIAL;
}

/* ---- Accept-Encoding ---- */

/* qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ), in thousandths. */
static bool parse_qvalue(struct sw_str v, unsigned *q)
{
	unsigned scale = 100;

	if (v.len == 0 || (v.p[0] != '0' && v.p[0] != '1') || v.len > 5)
		return false;
	*q = v.p[0] == '1' ? 1000 : 0;
	if (v.len == 1)
		return true;
	if (v.p[1] != '.')
		return false;
	for (size_t i = 2; i < v.len; i++, scale /= 10) {
		if (v.p[i] < '0' || v.p[i] > '9' || (*q == 1000 && v.p[i] != '0'))
			return false;
		*q += (unsigned)(v.p[i] - '0') * scale;
	}
	return true;
}

/* The q of one element's parameters ("; q=0.5"); 1000 when absent, 0 when invalid. */
static unsigned element_q(struct sw_str params)
{
	unsigned q = 1000;

	while (params.len) {
		const char *semi = memchr(params.p, ';', params.len);
		size_t n = semi ? (size_t)(semi - params.p) : params.len;
		struct sw_str p = trim((struct sw_str){ params.p, n });

		params.p += semi ? n + 1 : n;
		params.len -= semi ? n + 1 : n;
		if (p.len >= 2 && (p.p[0] | 0x20) == 'q' && p.p[1] == '=') {
			if (!parse_qvalue(trim((struct sw_str){ p.p + 2, p.len - 2 }), &q))
				return 0;
		}
	}
	return q;
}

void sw_static_accept_encoding(struct sw_str value, struct sw_static_accept *out)
{
	int br = -1, gzip = -1, star = -1;

	while (value.len) {
		struct sw_str el = next_element(&value);
		const char *semi = memchr(el.p, ';', el.len);
		struct sw_str coding = trim((struct sw_str){ el.p, semi ? (size_t)(semi - el.p) : el.len });
		struct sw_str params = { semi ? semi + 1 : el.p + el.len,
					 semi ? (size_t)(el.p + el.len - semi - 1) : 0 };
		int q = (int)element_q(params);

		if (sw_str_ieq(coding, "br"))
			br = q;
		else if (sw_str_ieq(coding, "gzip") || sw_str_ieq(coding, "x-gzip"))
			gzip = q;
		else if (sw_str_eq(coding, "*"))
			star = q;
	}
	/* An unlisted coding takes the q of "*", else it is not acceptable. */
	out->br = (unsigned)(br >= 0 ? br : SW_MAX(star, 0));
	out->gzip = (unsigned)(gzip >= 0 ? gzip : SW_MAX(star, 0));
}

/* ---- entity tags and dates ---- */

/* Splits one entity-tag off *list; false at a malformed one. */
static bool next_etag(struct sw_str *list, struct sw_str *opaque, bool *weak)
{
	const char *close;

	*list = trim(*list);
	*weak = list->len >= 2 && list->p[0] == 'W' && list->p[1] == '/';
	if (*weak) {
		list->p += 2;
		list->len -= 2;
	}
	if (list->len < 2 || list->p[0] != '"')
		return false;
	close = memchr(list->p + 1, '"', list->len - 1);
	if (!close)
		return false;
	opaque->p = list->p;
	opaque->len = (size_t)(close - list->p) + 1;
	list->len -= opaque->len;
	list->p = close + 1;
	*list = trim(*list);
	if (list->len && list->p[0] != ',')
		return false;
	if (list->len) {
		list->p++;
		list->len--;
	}
	return true;
}

bool sw_static_etag_match(struct sw_str list, struct sw_str etag, bool weak)
{
	bool our_weak = etag.len >= 2 && etag.p[0] == 'W' && etag.p[1] == '/';
	struct sw_str ours = our_weak ? (struct sw_str){ etag.p + 2, etag.len - 2 } : etag;
	struct sw_str opaque;
	bool their_weak;

	if (sw_str_eq(trim(list), "*"))
		return true;
	while (trim(list).len && next_etag(&list, &opaque, &their_weak)) {
		if (!weak && (our_weak || their_weak))
			continue;
		if (opaque.len == ours.len && memcmp(opaque.p, ours.p, ours.len) == 0)
			return true;
	}
	return false;
}

static int month_index(const char *m)
{
	static const char names[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

	for (int i = 0; i < 12; i++)
		if (strncmp(names + i * 3, m, 3) == 0)
			return i;
	return -1;
}

/* The three HTTP-date forms of RFC 9110 5.6.7; sscanf is fine off the hot path. */
static bool scan_date(const char *s, struct tm *tm, char mon[4])
{
	int end = -1;

	if (sscanf(s, "%*3[A-Za-z], %2d %3s %4d %2d:%2d:%2d GMT%n", &tm->tm_mday, mon,
		   &tm->tm_year, &tm->tm_hour, &tm->tm_min, &tm->tm_sec, &end) == 6 && end >= 0 &&
	    !s[end])
		return true;
	end = -1;
	if (sscanf(s, "%*[A-Za-z], %2d-%3s-%2d %2d:%2d:%2d GMT%n", &tm->tm_mday, mon,
		   &tm->tm_year, &tm->tm_hour, &tm->tm_min, &tm->tm_sec, &end) == 6 && end >= 0 &&
	    !s[end]) {
		tm->tm_year += tm->tm_year < 70 ? 2000 : 1900;
		return true;
	}
	end = -1;
	return sscanf(s, "%*3[A-Za-z] %3s %2d %2d:%2d:%2d %4d%n", mon, &tm->tm_mday,
		      &tm->tm_hour, &tm->tm_min, &tm->tm_sec, &tm->tm_year, &end) == 6 &&
	       end >= 0 && !s[end];
}

bool sw_static_parse_http_date(struct sw_str s, time_t *out)
{
	char buf[64], mon[4] = "";
	struct tm tm = { 0 };

	s = trim(s);
	if (s.len == 0 || s.len >= sizeof(buf))
		return false;
	memcpy(buf, s.p, s.len);
	buf[s.len] = '\0';
	if (!scan_date(buf, &tm, mon) || (tm.tm_mon = month_index(mon)) < 0)
		return false;
	if (tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
	    tm.tm_sec > 60 || tm.tm_year < 1900)
		return false;
	tm.tm_year -= 1900;
	*out = timegm(&tm);
	return *out != (time_t)-1;
}

static size_t format_etag(char *out, uint64_t size, struct timespec mtime, enum enc enc)
{
	uint64_t ns = (uint64_t)mtime.tv_sec * 1000000000u + (uint64_t)mtime.tv_nsec;
	int n = snprintf(out, ETAG_MAX, "\"%llx-%llx%s\"", (unsigned long long)size,
			 (unsigned long long)ns, encs[enc].tag);

	return (size_t)n;
}

/* ---- the cache ---- */

static uint32_t hash_key(const char *name, size_t len, enum enc enc)
{
	uint32_t h = 2166136261u ^ (uint32_t)enc;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)name[i]) * 16777619u;
	return h;
}

static void entry_unref(void *owner)
{
	struct entry *e = owner;

	if (--e->refs == 0)
		free(e);
}

/* The least recently used entry, or NULL. */
#define LRU_TAIL(c) ((c)->lru.tail ? SW_CONTAINER_OF((c)->lru.tail, struct entry, lru) : NULL)

static void cache_evict(struct cache *c, struct entry *e)
{
	struct entry **pp = &c->buckets[e->hash & (CACHE_BUCKETS - 1)];

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	sw_lru_unlink(&c->lru, &e->lru);
	c->count--;
	c->bytes -= e->size;
	entry_unref(e);   /* a response still sending it keeps it alive */
}

static void cache_flush(struct cache *c)
{
	while (c->lru.tail)
		cache_evict(c, LRU_TAIL(c));
}

static struct entry *cache_find(struct cache *c, const char *name, size_t len, enum enc enc)
{
	uint32_t h = hash_key(name, len, enc);

	for (struct entry *e = c->buckets[h & (CACHE_BUCKETS - 1)]; e; e = e->hnext) {
		if (e->hash == h && e->enc == enc && e->name_len == len &&
		    memcmp(e->name, name, len) == 0) {
			sw_lru_unlink(&c->lru, &e->lru);
			sw_lru_push(&c->lru, &e->lru);
			return e;
		}
	}
	return NULL;
}

static void cache_insert(struct cache *c, struct entry *e)
{
	struct entry **bucket = &c->buckets[e->hash & (CACHE_BUCKETS - 1)];

	while (c->count >= CACHE_MAX_ENTRIES || c->bytes + e->size > CACHE_MAX_BYTES)
		cache_evict(c, LRU_TAIL(c));
	e->hnext = *bucket;
	*bucket = e;
	sw_lru_push(&c->lru, &e->lru);
	c->count++;
	c->bytes += e->size;
}

/* An entry is good while the file under its name has the same identity, size and mtime. */
static bool entry_valid(const struct sw_static_state *st, const struct entry *e)
{
	struct stat sb;

	return fstatat(st->root_fd, e->name, &sb, 0) == 0 && S_ISREG(sb.st_mode) &&
	       (uint64_t)sb.st_size == e->size && sb.st_ino == e->ino && sb.st_dev == e->dev &&
	       sb.st_mtim.tv_sec == e->mtime.tv_sec && sb.st_mtim.tv_nsec == e->mtime.tv_nsec;
}

static bool read_all(int fd, char *buf, size_t size)
{
	size_t done = 0;

	while (done < size) {
		ssize_t n = pread(fd, buf + done, size - done, (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		done += (size_t)n;
	}
	return true;
}

/* Reads a small open file into a new entry and caches it; NULL leaves f to be sent. */
static struct entry *cache_load(struct sw_static_state *st, const char *name, size_t len,
				const struct file *f, int fd)
{
	size_t size = (size_t)f->size;
	struct entry *e = sw_malloc(sizeof(*e) + len + 1 + size);

	memset(e, 0, sizeof(*e));
	e->refs = 1;
	e->hash = hash_key(name, len, f->enc);
	e->enc = f->enc;
	e->size = size;
	e->mtime = f->mtime;
	e->ino = f->ino;
	e->dev = f->dev;
	e->name_len = len;
	memcpy(e->name, name, len);
	e->name[len] = '\0';
	e->data = e->name + len + 1;
	/* Short read: the file changed under us; send the fd, cache next time. */
	if (!read_all(fd, e->data, size)) {
		free(e);
		return NULL;
	}
	e->etag_len = format_etag(e->etag, e->size, e->mtime, e->enc);
	sw_clock_format_http(e->mtime.tv_sec, e->last_modified);
	cache_insert(&st->cache, e);
	return e;
}

/* ---- opening files ---- */

/* An openat2 errno as the status the client sees; escapes look like absent files. */
static int open_status(int err, const char *name)
{
	switch (err) {
	case ENOENT: case ENOTDIR: case ENAMETOOLONG: case EXDEV: case ELOOP:
		return 404;
	case EACCES: case EPERM:
		return 403;
	case EMFILE: case ENFILE: case ENOMEM:
		sw_log_errno(SW_LOG_WARN, err, "static file %s", name);
		return 503;
	default:
		sw_log_errno(SW_LOG_WARN, err, "static file %s", name);
		return 404;
	}
}

/* f holds a reference, so no eviction (e.g. by a sibling's load) frees it under us. */
static void file_from_entry(struct file *f, struct entry *e)
{
	e->refs++;
	f->e = e;
	f->size = e->size;
	f->mtime = e->mtime;
}

static void file_drop(struct file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	sw_file_release(f->cf);
	f->cf = NULL;
	if (f->e)
		entry_unref(f->e);
	f->e = NULL;
}

/* The open-file cache's clock: the vDSO's, no system call, and no loop needed. */
static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Through the open-file cache: f shares the cached fd. */
static int open_shared(struct sw_static_state *st, const char *name, size_t len,
		       unsigned flags, struct file *f)
{
	int err = sw_file_acquire(st->files, st->root_fd, name, len, f->enc, flags, now_ms(),
				  &f->cf);

	if (err)
		return err == EISDIR ? IS_DIR : open_status(err, name);
	f->size = f->cf->size;
	f->mtime = f->cf->mtime;
	f->dev = f->cf->dev;
	f->ino = f->cf->ino;
	return SW_OK;
}

/* With the open-file cache off: f gets an fd of its own, which the codec closes. */
static int open_owned(struct sw_static_state *st, const char *name, struct file *f)
{
	struct stat sb;
	int fd = sw_file_open_beneath(st->root_fd, name, &sb);

	if (fd < 0)
		return open_status(-fd, name);
	if (!S_ISREG(sb.st_mode)) {
		close(fd);
		return S_ISDIR(sb.st_mode) ? IS_DIR : 403;
	}
	f->fd = fd;
	f->size = (uint64_t)sb.st_size;
	f->mtime = sb.st_mtim;
	f->dev = sb.st_dev;
	f->ino = sb.st_ino;
	return SW_OK;
}

/* Opens `name`: SW_OK with f filled, IS_DIR, or an HTTP status. */
static int open_file(struct sw_static_state *st, const char *name, size_t len, unsigned flags,
		     struct file *f)
{
	int rc = st->open_cache_on ? open_shared(st, name, len, flags, f) : open_owned(st, name, f);
	struct entry *e;

	if (rc != SW_OK || !st->cache_on || f->size > CACHE_MAX_FILE)
		return rc;
	e = cache_load(st, name, len, f, f->cf ? f->cf->fd : f->fd);
	if (e) {
		file_drop(f);
		file_from_entry(f, e);
	}
	return SW_OK;
}

/*
 * The file `name` as encoding enc: from the content cache when still
 * valid, else opened.  A precompressed sibling's absence is cached too:
 * most files have none, and its name is not the client's to choose.
 */
static int get_file(struct sw_static_state *st, const char *name, size_t len, enum enc enc,
		    struct file *f)
{
	unsigned flags = enc != ENC_IDENTITY ? SW_FILE_CACHE_NEGATIVE : 0;
	struct entry *e;

	*f = (struct file){ .fd = -1, .enc = enc };
	if (st->cache_on && (e = cache_find(&st->cache, name, len, enc)) != NULL) {
		if (entry_valid(st, e)) {
			file_from_entry(f, e);
			return SW_OK;
		}
		cache_evict(&st->cache, e);
		/* Changed on disk: an open-file entry for it is stale too. */
		flags |= SW_FILE_CACHE_RECHECK;
	}
	return open_file(st, name, len, flags, f);
}

/* ---- content negotiation ---- */

/* Acceptable encodings with a sibling worth trying, best q first (br on a tie). */
static unsigned preferred(const struct sw_static_accept *a, enum enc order[2])
{
	unsigned n = 0;

	if (a->br && a->br >= a->gzip)
		order[n++] = ENC_BR;
	if (a->gzip)
		order[n++] = ENC_GZIP;
	if (a->br && a->br < a->gzip)
		order[n++] = ENC_BR;
	return n;
}

/* Replaces f with a precompressed sibling when the client takes one and it exists. */
static void pick_encoding(struct sw_exchange *x, struct sw_static_state *st, size_t len,
			  struct file *f)
{
	const struct sw_header *h = sw_request_header(&x->req, "Accept-Encoding");
	struct sw_static_accept a;
	enum enc order[2];
	struct file v;
	unsigned n;

	if (!h)
		return;
	sw_static_accept_encoding(h->value, &a);
	n = preferred(&a, order);
	for (unsigned i = 0; i < n; i++) {
		int rc;

		memcpy(st->path + len, encs[order[i]].suffix, SUFFIX_MAX + 1);
		rc = get_file(st, st->path, len + SUFFIX_MAX, order[i], &v);
		st->path[len] = '\0';
		if (rc == SW_OK) {
			file_drop(f);
			*f = v;
			return;
		}
	}
}

/* ---- answering ---- */

static void add_header(struct sw_exchange *x, struct sw_str name, struct sw_str value)
{
	if (sw_response_add_header(&x->resp, name, value) != SW_OK)
		sw_warn("static: response header %.*s dropped (too many headers)",
			(int)name.len, name.p);
}

/*
 * ETag and Last-Modified: the cached bytes' own, the shared open file's
 * (formatted on its first response), or formatted into the exchange's buffer.
 */
static void make_validators(const struct file *f, char *buf, struct validators *v)
{
	struct sw_file *cf = f->cf;

	if (f->e) {
		v->etag = (struct sw_str){ f->e->etag, f->e->etag_len };
		v->last_modified = (struct sw_str){ f->e->last_modified, SW_HTTP_DATE_LEN };
		return;
	}
	if (cf) {
		if (!cf->etag_len) {
			cf->etag_len = (uint8_t)format_etag(cf->etag, cf->size, cf->mtime, f->enc);
			sw_clock_format_http(cf->mtime.tv_sec, cf->last_modified);
		}
		v->etag = (struct sw_str){ cf->etag, cf->etag_len };
		v->last_modified = (struct sw_str){ cf->last_modified, SW_HTTP_DATE_LEN };
		return;
	}
	v->etag = (struct sw_str){ buf, format_etag(buf, f->size, f->mtime, f->enc) };
	sw_clock_format_http(f->mtime.tv_sec, buf + ETAG_MAX);
	v->last_modified = (struct sw_str){ buf + ETAG_MAX, SW_HTTP_DATE_LEN };
}

/* If-None-Match wins; If-Modified-Since only counts without it (RFC 9110 13.2.2). */
static bool not_modified(const struct sw_exchange *x, const struct file *f,
			 const struct validators *v)
{
	const struct sw_header *h = sw_request_header(&x->req, "If-None-Match");
	time_t t;

	if (h)
		return sw_static_etag_match(h->value, v->etag, true);
	h = sw_request_header(&x->req, "If-Modified-Since");
	return h && sw_static_parse_http_date(h->value, &t) && f->mtime.tv_sec <= t;
}

/* If-Range: the range applies only to the representation the client has. */
static bool if_range_holds(const struct sw_exchange *x, const struct file *f,
			   const struct validators *v)
{
	const struct sw_header *h = sw_request_header(&x->req, "If-Range");
	struct sw_str val;
	time_t t;

	if (!h)
		return true;
	val = trim(h->value);
	/* An entity-tag ('"' or "W/"), else a date ("Wed, ..." starts with W too). */
	if ((val.len && val.p[0] == '"') || (val.len >= 2 && val.p[0] == 'W' && val.p[1] == '/'))
		return sw_static_etag_match(val, v->etag, false);
	return sw_static_parse_http_date(val, &t) && t == f->mtime.tv_sec;
}

static enum sw_range_result want_range(const struct sw_exchange *x, const struct file *f,
				       const struct validators *v, uint64_t *first, uint64_t *len)
{
	const struct sw_header *h = sw_request_header(&x->req, "Range");

	/* Range is defined for GET only (RFC 9110 14.2). */
	if (!h || x->req.method != SW_METHOD_GET || !if_range_holds(x, f, v))
		return SW_RANGE_NONE;
	return sw_static_parse_range(h->value, f->size, first, len);
}

/*
 * sw_exchange_finish: the codec is done with the shared file.  Every codec
 * finishes the exchange before it closes resp.file_fd, so clearing it
 * here keeps them from closing the cache's descriptor.
 */
static void release_shared(void *owner)
{
	struct sw_exchange *x = owner;

	x->resp.file_fd = -1;
	sw_file_release(x->handler_data);
	x->handler_data = NULL;
}

/*
 * The response points into the cached bytes or the shared file (headers,
 * body, fd): f's reference passes to it, and sw_exchange_finish drops it
 * once the send is done.
 */
static void hold(struct sw_exchange *x, struct file *f)
{
	if (f->e) {
		x->resp.release = entry_unref;
		x->resp.owner = f->e;
		f->e = NULL;
	} else if (f->cf) {
		x->resp.release = release_shared;
		x->resp.owner = x;
		x->handler_data = f->cf;
		f->cf = NULL;
	}
}

static void add_validators(struct sw_exchange *x, const struct validators *v, bool vary)
{
	add_header(x, SW_STR("ETag"), v->etag);
	add_header(x, SW_STR("Last-Modified"), v->last_modified);
	if (vary)
		add_header(x, SW_STR("Vary"), SW_STR("Accept-Encoding"));
}

static void answer_304(struct sw_exchange *x, struct file *f, const struct validators *v,
		       bool vary)
{
	hold(x, f);
	file_drop(f);
	add_validators(x, v, vary);
	sw_exchange_empty(x, 304);
}

static void answer_416(struct sw_exchange *x, struct file *f, char *buf)
{
	int n = snprintf(buf, RANGE_MAX, "bytes */%llu", (unsigned long long)f->size);

	file_drop(f);
	add_header(x, SW_STR("Content-Range"), (struct sw_str){ buf, (size_t)n });
	sw_exchange_error(x, 416);
}

static void set_body(struct sw_exchange *x, struct file *f, uint64_t first, uint64_t len)
{
	struct sw_response *r = &x->resp;

	r->content_length = len;
	if (f->e) {
		r->body_kind = SW_BODY_MEMORY;
		r->body = (struct sw_str){ f->e->data + first, (size_t)len };
		hold(x, f);
		return;
	}
	/* The codec sends (or, for HEAD, skips) it, and closes an fd of the response's own. */
	r->body_kind = SW_BODY_FILE;
	r->file_offset = (off_t)first;
	if (f->cf) {
		r->file_fd = f->cf->fd;
		hold(x, f);
		return;
	}
	r->file_fd = f->fd;
	f->fd = -1;
}

static void answer_file(struct sw_exchange *x, struct file *f, const struct sw_mime_type *type,
			char *buf)
{
	struct validators v;
	uint64_t first = 0, len = f->size;
	enum sw_range_result range;
	char *cr = buf + ETAG_MAX + SW_HTTP_DATE_LEN + 1;

	make_validators(f, buf, &v);
	if (not_modified(x, f, &v)) {
		answer_304(x, f, &v, type->compressible);
		return;
	}
	range = want_range(x, f, &v, &first, &len);
	if (range == SW_RANGE_UNSATISFIABLE) {
		answer_416(x, f, cr);
		return;
	}
	add_header(x, SW_STR("Content-Type"), type->value);
	if (f->enc != ENC_IDENTITY)
		add_header(x, SW_STR("Content-Encoding"), encs[f->enc].coding);
	add_validators(x, &v, type->compressible);
	add_header(x, SW_STR("Accept-Ranges"), SW_STR("bytes"));
	if (range == SW_RANGE_PARTIAL) {
		int n = snprintf(cr, RANGE_MAX, "bytes %llu-%llu/%llu", (unsigned long long)first,
				 (unsigned long long)(first + len - 1), (unsigned long long)f->size);

		add_header(x, SW_STR("Content-Range"), (struct sw_str){ cr, (size_t)n });
	}
	set_body(x, f, first, len);
	x->resp.status = range == SW_RANGE_PARTIAL ? 206 : 200;
	x->ops->respond(x);
}

/*
 * A directory asked for without its '/': send the client to it, keeping
 * the query.  Leading "//" (or "/\") would make the Location a
 * network-path reference to another host, so it is collapsed.
 */
static void redirect_dir(struct sw_exchange *x)
{
	struct sw_str p = x->req.path, q = x->req.query;
	size_t skip = 1, n = 0;
	char *loc;

	while (skip < p.len && p.p[skip] == '/')
		skip++;
	loc = sw_exchange_buffer(x, p.len + q.len + 8);
	loc[n++] = '/';
	if (skip < p.len && p.p[skip] == '\\') {
		memcpy(loc + n, "%5C", 3);
		n += 3;
		skip++;
	}
	memcpy(loc + n, p.p + skip, p.len - skip);
	n += p.len - skip;
	loc[n++] = '/';
	if (q.len) {
		loc[n++] = '?';
		memcpy(loc + n, q.p, q.len);
		n += q.len;
	}
	add_header(x, SW_STR("Location"), (struct sw_str){ loc, n });
	sw_exchange_empty(x, 301);
}

static bool method_allowed(struct sw_exchange *x)
{
	if (x->req.method == SW_METHOD_GET || x->req.method == SW_METHOD_HEAD)
		return true;
	add_header(x, SW_STR("Allow"), SW_STR("GET, HEAD"));
	sw_exchange_error(x, 405);
	return false;
}

/* The decoded path is in st->path[0..len). */
static void serve(struct sw_exchange *x, struct sw_static_state *st, size_t len)
{
	bool want_dir = len == 0 || st->path[len - 1] == '/';
	const struct sw_mime_type *type;
	struct file f;
	int rc;

	if (want_dir) {
		memcpy(st->path + len, INDEX_NAME, sizeof(INDEX_NAME));
		len += sizeof(INDEX_NAME) - 1;
	}
	rc = get_file(st, st->path, len, ENC_IDENTITY, &f);
	if (rc != SW_OK && rc != IS_DIR) {
		sw_exchange_error(x, rc);
		return;
	}
	if (!method_allowed(x)) {
		file_drop(&f);
		return;
	}
	if (rc == IS_DIR) {
		/* No listings: a directory is served only through its index.html. */
		if (want_dir)
			sw_exchange_error(x, 403);
		else
			redirect_dir(x);
		return;
	}
	type = sw_mime_lookup(st->mime, st->path, len);
	if (type->compressible)
		pick_encoding(x, st, len, &f);
	answer_file(x, &f, type, sw_exchange_buffer(x, RESP_SCRATCH));
}

int sw_static_handle(struct sw_exchange *x)
{
	struct sw_static_state *st = x->ctx->statics;
	size_t len;
	int rc;

	if (!st || st->root_fd < 0)
		return SW_DECLINED;
	rc = sw_static_decode_path(x->req.path, st->path, SW_STATIC_PATH_MAX, &len);
	if (rc != SW_OK)
		sw_exchange_error(x, rc);
	else
		serve(x, st, len);
	return SW_OK;
}

/* ---- life cycle ---- */

int sw_static_open_root(const char *root, struct stat *sb)
{
	int fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	int probe;

	if (fd < 0)
		return -errno;
	if (fstat(fd, sb) != 0) {
		int err = errno;

		close(fd);
		return -err;
	}
	/* The root itself through the lookup every request uses: searchable, openable. */
	probe = sw_beneath_open(fd, "", O_PATH | O_DIRECTORY);
	if (probe < 0) {
		close(fd);
		return probe;
	}
	close(probe);
	return fd;
}

void sw_static_select_lookup(void)
{
	int why;
	enum sw_beneath_mode mode = sw_beneath_select(&why);

	if (why)
		sw_info("static files: openat2 refused here (%s); files are looked up by an "
			"%s from the root, one O_NOFOLLOW component at a time", strerror(why),
			sw_beneath_mode_name(mode));
	else
		sw_info("static files: looked up with %s (RESOLVE_BENEATH)",
			sw_beneath_mode_name(mode));
}

/* Opens root as the directory fd every lookup is resolved beneath; -1 on failure (logged). */
static int open_root(const char *root, struct stat *sb)
{
	int fd = sw_static_open_root(root, sb);

	if (fd < 0) {
		sw_log_errno(SW_LOG_ERROR, -fd, "static_root %s", root);
		return -1;
	}
	return fd;
}

static void set_root(struct sw_static_state *st, int fd, const struct stat *sb, const char *root)
{
	bool same = fd >= 0 && st->root_fd >= 0 && sb->st_dev == st->root_dev &&
		    sb->st_ino == st->root_ino;

	if (!same)
		cache_flush(&st->cache);
	if (st->root_fd >= 0)
		close(st->root_fd);
	free(st->root);
	st->root_fd = fd;
	st->root = fd >= 0 ? sw_strdup(root) : NULL;
	st->root_dev = fd >= 0 ? sb->st_dev : 0;
	st->root_ino = fd >= 0 ? sb->st_ino : 0;
}

/*
 * Applies ctx->cfg; SW_ERROR when the configured root cannot be used.  The
 * open-file cache starts empty after every reload, whatever changed: a
 * reload is the operator's word that the files or the root may be new.
 */
static int apply(struct sw_ctx *ctx, struct sw_static_state *st)
{
	const struct sw_static_cfg *sc = &ctx->cfg->static_files;
	const char *root = ctx->cfg->server.static_root;
	struct stat sb;
	int fd = -1;

	st->cache_on = ctx->cfg->server.cache_static_files;
	if (!st->cache_on)
		cache_flush(&st->cache);
	st->open_cache_on = sc->open_file_cache > 0;
	sw_file_cache_configure(st->files, sc->open_file_cache, sc->open_file_cache_valid_ms);
	if (root && root[0] && (fd = open_root(root, &sb)) < 0) {
		if (st->root_fd >= 0)
			sw_warn("static files: keeping the previous root %s", st->root);
		return SW_ERROR;
	}
	set_root(st, fd, &sb, root);
	if (fd >= 0)
		sw_debug("static files from %s (open files %u for %u ms, content cache %s)", root,
			 sc->open_file_cache, sc->open_file_cache_valid_ms, st->cache_on ? "on" : "off");
	return SW_OK;
}

int sw_static_init(struct sw_ctx *ctx)
{
	struct sw_static_state *st = sw_calloc(1, sizeof(*st));

	st->root_fd = -1;
	st->mime = sw_mime_open(SW_MIME_SYSTEM_TYPES);
	st->files = sw_file_cache_create();
	ctx->statics = st;
	return apply(ctx, st);
}

void sw_static_reconfigure(struct sw_ctx *ctx)
{
	if (ctx->statics)
		apply(ctx, ctx->statics);
}

void sw_static_deinit(struct sw_ctx *ctx)
{
	struct sw_static_state *st = ctx->statics;

	if (!st)
		return;
	cache_flush(&st->cache);
	sw_file_cache_destroy(st->files);
	if (st->root_fd >= 0)
		close(st->root_fd);
	free(st->root);
	sw_mime_close(st->mime);
	free(st);
	ctx->statics = NULL;
}
