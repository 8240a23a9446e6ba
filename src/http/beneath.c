/* SPDX-License-Identifier: MIT */
/* beneath.c - opening a name beneath a directory fd, never outside it: openat2, or a walk where openat2 is refused. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "http/beneath.h"

#define MAX_LINKS 40   /* the kernel's MAXSYMLINKS, so both modes refuse the same chains */

static int chosen = -1;   /* enum sw_beneath_mode once selected */
static int chosen_why;

static int via_openat2(int dirfd, const char *name, int flags)
{
	struct open_how how = {
		.flags = (unsigned)(flags | O_CLOEXEC),
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	int fd = (int)syscall(SYS_openat2, dirfd, name[0] ? name : ".", &how, sizeof(how));

	return fd < 0 ? -errno : fd;
}

enum sw_beneath_mode sw_beneath_select(int *why)
{
	if (chosen < 0) {
		/* Bad fd: a kernel that runs openat2 answers EBADF without a lookup. */
		int r = via_openat2(-1, ".", O_PATH);

		if (r >= 0)
			close(r);
		chosen_why = r == -ENOSYS || r == -EPERM ? -r : 0;
		chosen = chosen_why ? SW_BENEATH_WALK : SW_BENEATH_OPENAT2;
	}
	if (why)
		*why = chosen_why;
	return (enum sw_beneath_mode)chosen;
}

const char *sw_beneath_mode_name(enum sw_beneath_mode mode)
{
	return mode == SW_BENEATH_WALK ? "openat walk" : "openat2";
}

int sw_beneath_open(int dirfd, const char *name, int flags)
{
	if (sw_beneath_select(NULL) == SW_BENEATH_WALK)
		return sw_beneath_walk(dirfd, name, flags);
	return via_openat2(dirfd, name, flags);
}

/* ---- the walk ---- */

/*
 * Where the walk stands.  `done` is the path from the root to `cur`,
 * made only of directories entered with O_NOFOLLOW, so ".." can be
 * resolved by walking it again from the root minus its last component:
 * never through the kernel's "..", which would leave a directory that
 * was moved out of the root meanwhile.
 */
struct walk {
	int root;
	int cur;                    /* root, or an O_PATH fd of ours */
	unsigned links;
	size_t done_len;
	char done[PATH_MAX];
	char rest[PATH_MAX];        /* what is left to resolve */
};

static void set_cur(struct walk *w, int fd)
{
	if (w->cur != w->root)
		close(w->cur);
	w->cur = fd;
}

static int enter_dir(int at, const char *comp)
{
	int fd = openat(at, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

static int push(struct walk *w, const char *comp, int fd)
{
	size_t n = strlen(comp);

	if (w->done_len + 1 + n >= sizeof(w->done)) {
		close(fd);
		return -ENAMETOOLONG;
	}
	if (w->done_len)
		w->done[w->done_len++] = '/';
	memcpy(w->done + w->done_len, comp, n + 1);
	w->done_len += n;
	set_cur(w, fd);
	return 0;
}

/* "..": the parent of cur, which the root has not (EXDEV, as RESOLVE_BENEATH). */
static int pop(struct walk *w)
{
	char *slash = memrchr(w->done, '/', w->done_len);
	char again[PATH_MAX];
	char *p, *save = NULL;

	if (!w->done_len)
		return -EXDEV;
	w->done_len = slash ? (size_t)(slash - w->done) : 0;
	w->done[w->done_len] = '\0';
	set_cur(w, w->root);
	if (!w->done_len)
		return 0;
	memcpy(again, w->done, w->done_len + 1);
	for (p = strtok_r(again, "/", &save); p; p = strtok_r(NULL, "/", &save)) {
		int fd = enter_dir(w->cur, p);

		if (fd < 0)
			return fd;
		set_cur(w, fd);
	}
	return 0;
}

/*
 * comp in cur was refused as a link would be (ELOOP, ENOTDIR): if it is
 * one, its target takes its place in front of `after`.  -EINVAL when it
 * is not a link.  Absolute targets leave the root: EXDEV.
 */
static int expand(struct walk *w, const char *comp, const char *after)
{
	char target[PATH_MAX], next[PATH_MAX];
	size_t alen = strlen(after);
	ssize_t n;

	n = readlinkat(w->cur, comp, target, sizeof(target));
	if (n < 0)
		return -errno;
	if (++w->links > MAX_LINKS)
		return -ELOOP;
	if (n == 0)
		return -ENOENT;
	if (target[0] == '/')
		return -EXDEV;
	if ((size_t)n + alen >= sizeof(next))
		return -ENAMETOOLONG;
	memcpy(next, target, (size_t)n);
	memcpy(next + n, after, alen + 1);
	memcpy(w->rest, next, (size_t)n + alen + 1);
	return 0;
}

/* The last component, opened with the caller's flags; a link is never opened itself. */
static int open_last(struct walk *w, const char *comp, int flags, bool dir)
{
	struct stat sb;
	int fd = openat(w->cur, comp, flags | O_CLOEXEC | O_NOFOLLOW | (dir ? O_DIRECTORY : 0));

	if (fd < 0)
		return -errno;
	/* O_PATH | O_NOFOLLOW opens a link as itself: treat it as one. */
	if ((flags & O_PATH) && fstat(fd, &sb) == 0 && S_ISLNK(sb.st_mode)) {
		close(fd);
		return -ELOOP;
	}
	return fd;
}

/*
 * Resolves the component at w->rest + *pos.  True to go on (at *pos,
 * which a link's expansion resets to 0); false when the walk ends with
 * *out: the last component's fd or -errno.
 */
static bool step(struct walk *w, size_t *pos, int flags, int *out)
{
	const char *p = w->rest + *pos;
	size_t n = strcspn(p, "/");
	const char *after = p + n;
	bool last = after[strspn(after, "/")] == '\0';
	char comp[NAME_MAX + 1];
	int fd;

	if (n > NAME_MAX) {
		*out = -ENAMETOOLONG;
		return false;
	}
	memcpy(comp, p, n);
	comp[n] = '\0';
	*pos += n;
	if (strcmp(comp, ".") == 0)
		return true;
	if (strcmp(comp, "..") == 0) {
		*out = pop(w);
		return *out == 0;
	}
	/* A trailing '/' asks for a directory, as in any path. */
	fd = last ? open_last(w, comp, flags, *after == '/') : enter_dir(w->cur, comp);
	if (fd == -ELOOP || fd == -ENOTDIR) {
		int r = expand(w, comp, after);

		*out = r == -EINVAL ? fd : r;   /* EINVAL: not a link, the open's own answer */
		*pos = 0;
		return *out == 0;
	}
	if (fd >= 0 && !last) {
		*out = push(w, comp, fd);
		return *out == 0;
	}
	*out = fd;
	return false;
}

int sw_beneath_walk(int dirfd, const char *name, int flags)
{
	struct walk w;
	size_t pos = 0;
	int fd = 0;

	if (name[0] == '/')   /* absolute: not beneath anything, as RESOLVE_BENEATH says */
		return -EXDEV;
	if (strlen(name) >= sizeof(w.rest))
		return -ENAMETOOLONG;
	w.root = w.cur = dirfd;
	w.links = 0;
	w.done_len = 0;
	w.done[0] = '\0';
	strcpy(w.rest, name);
	for (;;) {
		pos += strspn(w.rest + pos, "/");
		if (w.rest[pos] == '\0') {
			/* Nothing left: the directory we stand in ("", ".", "a/..") */
			fd = openat(w.cur, ".", flags | O_CLOEXEC);
			if (fd < 0)
				fd = -errno;
			break;
		}
		if (!step(&w, &pos, flags, &fd))
			break;
	}
	set_cur(&w, dirfd);
	return fd;
}
