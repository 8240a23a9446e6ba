/* SPDX-License-Identifier: MIT */
/* test_beneath.c - the lookup walk gives openat2(RESOLVE_BENEATH)'s answer for every path: files, links in and out, "..", loops, lengths. */
#include <config.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <linux/filter.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "http/beneath.h"
#include "check_main.h"

static char top[64];    /* holds root and a file outside it */
static char root[96];
static int rootfd;

static void at(const char *name, char *out, size_t size)
{
	snprintf(out, size, "%s/%s", root, name);
}

static void file(const char *name)
{
	char path[256];
	int fd;

	at(name, path, sizeof(path));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_msg(fd >= 0, "%s: %s", path, strerror(errno));
	close(fd);
}

static void dir(const char *name)
{
	char path[256];

	at(name, path, sizeof(path));
	ck_assert_msg(mkdir(path, 0755) == 0, "%s: %s", path, strerror(errno));
}

static void link_(const char *target, const char *name)
{
	char path[256];

	at(name, path, sizeof(path));
	ck_assert_msg(symlink(target, path) == 0, "%s: %s", path, strerror(errno));
}

static void setup(void)
{
	char path[256], name[32], target[32];

	snprintf(top, sizeof(top), "/tmp/sw-beneath-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(top));
	snprintf(path, sizeof(path), "%s/secret", top);
	close(creat(path, 0644));
	snprintf(root, sizeof(root), "%s/root", top);
	ck_assert_int_eq(mkdir(root, 0755), 0);
	file("a.txt");
	dir("dir");
	file("dir/b.txt");
	dir("dir/sub");
	file("dir/sub/c.txt");
	link_("a.txt", "in");
	link_("dir", "indir");
	link_("../a.txt", "dir/upin");
	link_("sub/../../a.txt", "dir/zigzag");
	link_("..", "up");
	link_("../secret", "out");
	link_("../..", "dir/up2");
	link_("/etc/passwd", "abs");
	link_("/proc/self/root/etc/passwd", "magic");
	link_("loop2", "loop1");
	link_("loop1", "loop2");
	link_("nothere", "dangling");
	at("fifo", path, sizeof(path));
	ck_assert_int_eq(mkfifo(path, 0644), 0);
	/* chainN -> chainN-1 -> ... -> chain0 -> a.txt: N + 1 links */
	link_("a.txt", "chain0");
	for (int i = 1; i <= 41; i++) {
		snprintf(name, sizeof(name), "chain%d", i);
		snprintf(target, sizeof(target), "chain%d", i - 1);
		link_(target, name);
	}
	rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(rootfd, 0);
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void teardown(void)
{
	close(rootfd);
	nftw(top, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int kernel(const char *name, int flags)
{
	struct open_how how = {
		.flags = (unsigned)(flags | O_CLOEXEC),
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	int fd = (int)syscall(SYS_openat2, rootfd, name[0] ? name : ".", &how, sizeof(how));

	return fd < 0 ? -errno : fd;
}

/* Both answers for name: the same errno, or fds of the same file. */
static void same(const char *name, int flags)
{
	int want = kernel(name, flags);
	int got = sw_beneath_walk(rootfd, name, flags);
	struct stat a, b;

	if (want == -ENOSYS)
		return;   /* no openat2 to compare with; the seccomp test below still runs */
	if (want < 0 || got < 0) {
		ck_assert_msg(want == got, "\"%s\": openat2 says %s, the walk %s", name,
			      want < 0 ? strerror(-want) : "an fd", got < 0 ? strerror(-got) : "an fd");
	} else {
		ck_assert_int_eq(fstat(want, &a), 0);
		ck_assert_int_eq(fstat(got, &b), 0);
		ck_assert_msg(a.st_dev == b.st_dev && a.st_ino == b.st_ino,
			      "\"%s\": the walk opened another file", name);
	}
	if (want >= 0)
		close(want);
	if (got >= 0)
		close(got);
}

static const char *const paths[] = {
	"", ".", "/", "a.txt", "/a.txt", "//a.txt", "./dir/./b.txt", "a.txt/", "a.txt/x",
	"dir", "dir/", "dir//sub///c.txt", "dir/../a.txt", "dir/sub/../../a.txt", "dir/..",
	"..", "../", "../secret", "dir/../..", "dir/../../secret", "in", "in/", "indir/b.txt",
	"indir/", "indir/../a.txt", "dir/upin", "dir/zigzag", "up", "up/", "up/secret",
	"up/root/a.txt", "out", "dir/up2", "dir/up2/secret", "abs", "magic", "loop1",
	"loop1/x", "dangling", "nothere", "dir/nothere/x", "chain39", "chain40", "chain41",
	"fifo", "indir/sub/../../in",
};

START_TEST(walk_matches_openat2)
{
	char longname[NAME_MAX + 2];

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		same(paths[i], O_RDONLY | O_NONBLOCK | O_NOCTTY);
		same(paths[i], O_PATH);
	}
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	same(longname, O_RDONLY);
}
END_TEST

/* What the walk must answer, whatever the kernel: nothing outside the root. */
START_TEST(walk_stays_beneath)
{
	static const struct { const char *name; int err; } cases[] = {
		{ "..", EXDEV }, { "../secret", EXDEV }, { "up/secret", EXDEV }, { "out", EXDEV },
		{ "dir/up2/secret", EXDEV }, { "abs", EXDEV }, { "magic", EXDEV },
		{ "loop1", ELOOP }, { "chain41", ELOOP }, { "a.txt/", ENOTDIR }, { "dangling", ENOENT },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int fd = sw_beneath_walk(rootfd, cases[i].name, O_RDONLY);

		ck_assert_msg(fd == -cases[i].err, "\"%s\": want %s, got %s", cases[i].name,
			      strerror(cases[i].err), fd < 0 ? strerror(-fd) : "an fd");
	}
}
END_TEST

/* Under a filter that answers openat2 ENOSYS (systemd's RestrictSUIDSGID=), the walk is chosen. */
START_TEST(refused_openat2_selects_walk)
{
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_openat2, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA)),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = (unsigned short)(sizeof(filter) / sizeof(filter[0])), .filter = filter };
	int why = -1, fd;

	/* Check forks each test, so the filter and the choice stay in this one. */
	ck_assert_int_eq(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0);
	ck_assert_int_eq(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog), 0);
	ck_assert_int_eq(sw_beneath_select(&why), SW_BENEATH_WALK);
	ck_assert_int_eq(why, ENOSYS);
	fd = sw_beneath_open(rootfd, "indir/b.txt", O_RDONLY);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(sw_beneath_open(rootfd, "up/secret", O_RDONLY), -EXDEV);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("beneath");
	TCase *tc = tcase_create("beneath");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, walk_matches_openat2);
	tcase_add_test(tc, walk_stays_beneath);
	tcase_add_test(tc, refused_openat2_selects_walk);
	suite_add_tcase(s, tc);
	return s;
}

SW_TEST_SUITE(suite);
