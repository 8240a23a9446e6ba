/* SPDX-License-Identifier: MIT */
/* test_file_cache.c - the open-file cache on its own, with a clock the tests move: hits, misses, checks, eviction, references. */
#include <config.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include "http/file_cache.h"
#include "check_main.h"

#define VALID 1000   /* ms */

static char root[64];
static int dirfd_;
static struct sw_file_cache *C;

static void path_of(char *out, size_t size, const char *name)
{
	snprintf(out, size, "%s/%s", root, name);
}

static void put(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, name);
	f = fopen(path, "w");
	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	fputs(text, f);
	fclose(f);
}

static void start(unsigned max)
{
	char tmpl[] = "/tmp/swerver-fcache.XXXXXX";
	char dir[256];

	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	snprintf(root, sizeof(root), "%s", tmpl);
	dirfd_ = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(dirfd_, 0);
	put("a.txt", "alpha");
	put("b.txt", "bravo!");
	put("c.txt", "charlie");
	path_of(dir, sizeof(dir), "dir");
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	C = sw_file_cache_create();
	sw_file_cache_configure(C, max, VALID);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	remove(path);
	return 0;
}

static void stop(void)
{
	sw_file_cache_destroy(C);
	C = NULL;
	close(dirfd_);
	nftw(root, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static int get_v(const char *name, unsigned variant, unsigned flags, uint64_t now,
		 struct sw_file **f)
{
	return sw_file_acquire(C, dirfd_, name, strlen(name), variant, flags, now, f);
}

static int get(const char *name, uint64_t now, struct sw_file **f)
{
	return get_v(name, 0, 0, now, f);
}

/* The whole file through f's fd, as a response would send it. */
static const char *contents(const struct sw_file *f)
{
	static char buf[128];
	ssize_t n = pread(f->fd, buf, sizeof(buf) - 1, 0);

	ck_assert_int_ge(n, 0);
	buf[n] = '\0';
	return buf;
}

static bool fd_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1;
}

START_TEST(hit_and_miss)
{
	struct sw_file *a, *a2, *b, *av;

	start(8);
	ck_assert_int_eq(get("a.txt", 100, &a), 0);
	ck_assert_uint_eq(a->size, 5);
	ck_assert_str_eq(contents(a), "alpha");
	ck_assert_int_eq(get("a.txt", 100 + VALID - 1, &a2), 0);
	ck_assert_ptr_eq(a2, a);                /* the same open file */
	ck_assert_int_eq(get("b.txt", 100, &b), 0);
	ck_assert_ptr_ne(b, a);
	ck_assert_int_ne(b->fd, a->fd);
	ck_assert_str_eq(contents(b), "bravo!");
	ck_assert_int_eq(get_v("a.txt", 1, 0, 100, &av), 0);
	ck_assert_ptr_ne(av, a);                /* another variant, another entry */
	ck_assert_uint_eq(sw_file_cache_count(C), 3);
	sw_file_release(a);
	sw_file_release(a2);
	sw_file_release(b);
	sw_file_release(av);
	ck_assert(fd_open(a->fd));               /* still the cache's */
	stop();
}
END_TEST

START_TEST(refusals_not_cached)
{
	struct sw_file *f = (struct sw_file *)1;
	char path[256];

	start(8);
	path_of(path, sizeof(path), "out");
	ck_assert_int_eq(symlink("/etc/passwd", path), 0);
	path_of(path, sizeof(path), "up");
	ck_assert_int_eq(symlink("..", path), 0);
	path_of(path, sizeof(path), "fifo");
	ck_assert_int_eq(mkfifo(path, 0644), 0);
	ck_assert_int_eq(get("nope.txt", 0, &f), ENOENT);
	ck_assert_ptr_null(f);
	ck_assert_int_eq(get("a.txt/x", 0, &f), ENOTDIR);
	ck_assert_int_eq(get("dir", 0, &f), EISDIR);
	ck_assert_int_eq(get("fifo", 0, &f), EACCES);
	ck_assert_int_eq(get("out", 0, &f), EXDEV);
	ck_assert_int_eq(get("up/etc/passwd", 0, &f), EXDEV);
	ck_assert_int_eq(get("../etc/passwd", 0, &f), EXDEV);
	ck_assert_uint_eq(sw_file_cache_count(C), 0);
	/* Still refused when asked again within the period. */
	ck_assert_int_eq(get("out", 1, &f), EXDEV);
	put("nope.txt", "now here");
	ck_assert_int_eq(get("nope.txt", 2, &f), 0);   /* absence was not remembered */
	sw_file_release(f);
	stop();
}
END_TEST

START_TEST(revalidate_unchanged)
{
	struct sw_file *a, *a2;
	int fd;

	start(8);
	ck_assert_int_eq(get("a.txt", 0, &a), 0);
	fd = a->fd;
	sw_file_release(a);
	/* Past the period, checked and found the same: kept, and trusted anew. */
	ck_assert_int_eq(get("a.txt", VALID, &a2), 0);
	ck_assert_ptr_eq(a2, a);
	ck_assert_int_eq(a2->fd, fd);
	sw_file_release(a2);
	put("a.txt", "ALPHA");   /* same size, in place */
	{
		char path[256];
		struct timespec ts[2] = { { 1000000000, 0 }, { 1000000000, 0 } };

		path_of(path, sizeof(path), "a.txt");
		ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
	}
	ck_assert_int_eq(get("a.txt", VALID + VALID - 1, &a2), 0);
	ck_assert_ptr_eq(a2, a);                /* within the new period: not looked at */
	ck_assert_int_ne(a2->mtime.tv_sec, 1000000000);
	/* a2 is kept, so a new entry cannot reuse its address. */
	ck_assert_int_eq(get("a.txt", 2 * VALID, &a), 0);
	ck_assert_ptr_ne(a, a2);                /* mtime changed: a new entry */
	ck_assert_int_eq(a->mtime.tv_sec, 1000000000);
	ck_assert_str_eq(contents(a), "ALPHA");
	sw_file_release(a);
	sw_file_release(a2);
	stop();
}
END_TEST

START_TEST(revalidate_replaced)
{
	struct sw_file *old, *f;
	char from[256], to[256];
	int old_fd;

	start(8);
	ck_assert_int_eq(get("a.txt", 0, &old), 0);   /* held, as by a response in flight */
	old_fd = old->fd;
	put("new.tmp", "replaced content");
	path_of(from, sizeof(from), "new.tmp");
	path_of(to, sizeof(to), "a.txt");
	ck_assert_int_eq(rename(from, to), 0);
	ck_assert_int_eq(get("a.txt", VALID / 2, &f), 0);
	ck_assert_ptr_eq(f, old);               /* the staleness the period allows */
	sw_file_release(f);
	ck_assert_int_eq(get("a.txt", VALID, &f), 0);
	ck_assert_ptr_ne(f, old);
	ck_assert_str_eq(contents(f), "replaced content");
	ck_assert_uint_eq(f->size, 16);
	ck_assert_uint_eq(sw_file_cache_count(C), 1);
	/* The holder still reads the file it had, until it lets go. */
	ck_assert_str_eq(contents(old), "alpha");
	sw_file_release(old);
	ck_assert(!fd_open(old_fd));
	sw_file_release(f);
	stop();
}
END_TEST

START_TEST(revalidate_rewritten_in_place)
{
	struct sw_file *f, *g;

	start(8);
	ck_assert_int_eq(get("b.txt", 0, &f), 0);
	sw_file_release(f);
	put("b.txt", "bravo, longer now");
	ck_assert_int_eq(get("b.txt", VALID, &g), 0);
	ck_assert_uint_eq(g->size, 17);
	ck_assert_str_eq(contents(g), "bravo, longer now");
	sw_file_release(g);
	stop();
}
END_TEST

START_TEST(revalidate_deleted)
{
	struct sw_file *f;
	char path[256];

	start(8);
	ck_assert_int_eq(get("c.txt", 0, &f), 0);
	sw_file_release(f);
	path_of(path, sizeof(path), "c.txt");
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(get("c.txt", VALID, &f), ENOENT);
	ck_assert_uint_eq(sw_file_cache_count(C), 0);
	stop();
}
END_TEST

/* A cached name replaced by a symlink out of the root is refused once checked. */
START_TEST(revalidate_escape)
{
	struct sw_file *f;
	char path[256];

	start(8);
	ck_assert_int_eq(get("a.txt", 0, &f), 0);
	sw_file_release(f);
	path_of(path, sizeof(path), "a.txt");
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(symlink("/etc/passwd", path), 0);
	ck_assert_int_eq(get("a.txt", VALID, &f), EXDEV);
	ck_assert_uint_eq(sw_file_cache_count(C), 0);
	stop();
}
END_TEST

START_TEST(recheck_flag)
{
	struct sw_file *f, *g;

	start(8);
	ck_assert_int_eq(get("a.txt", 0, &f), 0);
	put("a.txt", "changed!");
	ck_assert_int_eq(get_v("a.txt", 0, SW_FILE_CACHE_RECHECK, 1, &g), 0);
	ck_assert_ptr_ne(g, f);
	ck_assert_uint_eq(g->size, 8);
	ck_assert_str_eq(contents(g), "changed!");
	sw_file_release(g);
	sw_file_release(f);
	stop();
}
END_TEST

START_TEST(negative_entries)
{
	struct sw_file *f;

	start(8);
	ck_assert_int_eq(get_v("a.txt.br", 1, SW_FILE_CACHE_NEGATIVE, 0, &f), ENOENT);
	ck_assert_uint_eq(sw_file_cache_count(C), 1);
	put("a.txt.br", "BR");
	ck_assert_int_eq(get_v("a.txt.br", 1, SW_FILE_CACHE_NEGATIVE, VALID - 1, &f), ENOENT);
	ck_assert_int_eq(get_v("a.txt.br", 1, SW_FILE_CACHE_NEGATIVE, VALID, &f), 0);
	ck_assert_str_eq(contents(f), "BR");
	sw_file_release(f);
	/* Only absence is remembered, not a refusal. */
	ck_assert_int_eq(get_v("dir", 1, SW_FILE_CACHE_NEGATIVE, 0, &f), EISDIR);
	ck_assert_uint_eq(sw_file_cache_count(C), 1);
	stop();
}
END_TEST

START_TEST(lru_eviction)
{
	struct sw_file *a, *b, *c, *f;

	start(2);
	ck_assert_int_eq(get("a.txt", 0, &a), 0);
	ck_assert_int_eq(get("b.txt", 0, &b), 0);   /* held to the end: its address stays its own */
	ck_assert_int_eq(get("a.txt", 1, &f), 0);   /* a is now the most recent */
	sw_file_release(f);
	ck_assert_int_eq(get("c.txt", 2, &c), 0);   /* b goes */
	ck_assert_uint_eq(sw_file_cache_count(C), 2);
	ck_assert_int_eq(get("a.txt", 3, &f), 0);
	ck_assert_ptr_eq(f, a);
	sw_file_release(f);
	ck_assert_int_eq(get("b.txt", 3, &f), 0);
	ck_assert_ptr_ne(f, b);                   /* reopened; c goes (a was used later) */
	sw_file_release(f);
	sw_file_release(c);
	sw_file_release(b);
	/* a, evicted now while held, stays open until released. */
	ck_assert_int_eq(get("c.txt", 4, &c), 0);
	ck_assert_uint_eq(sw_file_cache_count(C), 2);
	ck_assert_str_eq(contents(a), "alpha");
	sw_file_release(c);
	sw_file_release(a);
	stop();
}
END_TEST

START_TEST(refcount_flush)
{
	struct sw_file *a, *b;
	int afd, bfd;

	start(8);
	ck_assert_int_eq(get("a.txt", 0, &a), 0);
	ck_assert_int_eq(get("b.txt", 0, &b), 0);
	afd = a->fd;
	bfd = b->fd;
	sw_file_release(b);
	sw_file_cache_flush(C);
	ck_assert_uint_eq(sw_file_cache_count(C), 0);
	ck_assert(!fd_open(bfd));                 /* nobody held it */
	ck_assert(fd_open(afd));
	ck_assert_str_eq(contents(a), "alpha");
	sw_file_release(a);
	ck_assert(!fd_open(afd));
	/* Destroying the cache with a file in flight: the file outlives it. */
	ck_assert_int_eq(get("a.txt", 0, &a), 0);
	afd = a->fd;
	sw_file_cache_destroy(C);
	C = sw_file_cache_create();
	ck_assert_str_eq(contents(a), "alpha");
	sw_file_release(a);
	ck_assert(!fd_open(afd));
	stop();
}
END_TEST

START_TEST(disabled)
{
	struct sw_file *a, *a2;
	int fd;

	start(0);
	ck_assert_int_eq(get("a.txt", 0, &a), 0);
	ck_assert_int_eq(get("a.txt", 0, &a2), 0);
	ck_assert_ptr_ne(a2, a);
	ck_assert_uint_eq(sw_file_cache_count(C), 0);
	fd = a->fd;
	sw_file_release(a);
	ck_assert(!fd_open(fd));
	sw_file_release(a2);
	ck_assert_int_eq(get_v("x.br", 1, SW_FILE_CACHE_NEGATIVE, 0, &a), ENOENT);
	ck_assert_uint_eq(sw_file_cache_count(C), 0);
	stop();
}
END_TEST

/* Lowers the soft descriptor limit; *saved gets the old one back to restore. */
static void limit_fds(struct rlimit *saved, rlim_t n)
{
	struct rlimit rl;

	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, saved), 0);
	rl = *saved;
	rl.rlim_cur = n;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
}

/* The limit leaves three quarters of the descriptors to connections. */
START_TEST(capped_by_fd_limit)
{
	struct rlimit saved;
	struct sw_file *f;
	char name[32];

	limit_fds(&saved, 64);
	start(1000);
	for (int i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		put(name, name);
		ck_assert_int_eq(get(name, 0, &f), 0);
		sw_file_release(f);
	}
	ck_assert_uint_eq(sw_file_cache_count(C), 16);
	stop();
	setrlimit(RLIMIT_NOFILE, &saved);
}
END_TEST

/* Out of descriptors, idle entries are closed so the request still gets its file. */
START_TEST(sheds_idle_when_out_of_fds)
{
	struct rlimit saved;
	struct sw_file *held, *f;
	char name[32];
	int spare[64], n = 0;

	limit_fds(&saved, 64);
	start(16);
	ck_assert_int_eq(get("a.txt", 0, &held), 0);
	for (int i = 0; i < 15; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		put(name, name);
		ck_assert_int_eq(get(name, 0, &f), 0);
		sw_file_release(f);
	}
	ck_assert_uint_eq(sw_file_cache_count(C), 16);
	while (n < 64 && (spare[n] = dup(0)) >= 0)
		n++;
	ck_assert_int_eq(errno, EMFILE);
	ck_assert_int_eq(get("b.txt", 1, &f), 0);
	ck_assert_str_eq(contents(f), "bravo!");
	ck_assert_uint_eq(sw_file_cache_count(C), 2);   /* the held one and b */
	ck_assert_str_eq(contents(held), "alpha");
	sw_file_release(f);
	sw_file_release(held);
	while (n)
		close(spare[--n]);
	stop();
	setrlimit(RLIMIT_NOFILE, &saved);
}
END_TEST

START_TEST(configure_flushes)
{
	struct sw_file *a, *a2;

	start(8);
	ck_assert_int_eq(get("a.txt", 0, &a), 0);
	sw_file_release(a);
	sw_file_cache_configure(C, 8, VALID);
	ck_assert_uint_eq(sw_file_cache_count(C), 0);
	ck_assert_int_eq(get("a.txt", 0, &a2), 0);
	ck_assert_str_eq(contents(a2), "alpha");
	sw_file_release(a2);
	stop();
}
END_TEST

static Suite *file_cache_suite(void)
{
	Suite *s = suite_create("file_cache");
	TCase *tc = tcase_create("cache");

	tcase_add_test(tc, hit_and_miss);
	tcase_add_test(tc, refusals_not_cached);
	tcase_add_test(tc, revalidate_unchanged);
	tcase_add_test(tc, revalidate_replaced);
	tcase_add_test(tc, revalidate_rewritten_in_place);
	tcase_add_test(tc, revalidate_deleted);
	tcase_add_test(tc, revalidate_escape);
	tcase_add_test(tc, recheck_flag);
	tcase_add_test(tc, negative_entries);
	tcase_add_test(tc, lru_eviction);
	tcase_add_test(tc, refcount_flush);
	tcase_add_test(tc, disabled);
	tcase_add_test(tc, capped_by_fd_limit);
	tcase_add_test(tc, sheds_idle_when_out_of_fds);
	tcase_add_test(tc, configure_flushes);
	suite_add_tcase(s, tc);
	return s;
}

SW_TEST_SUITE(file_cache_suite);
