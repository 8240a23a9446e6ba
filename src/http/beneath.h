/* SPDX-License-Identifier: MIT */
/* beneath.h - opening a name beneath a directory fd, never outside it: openat2, or a walk where openat2 is refused. */
#ifndef SW_HTTP_BENEATH_H
#define SW_HTTP_BENEATH_H

enum sw_beneath_mode {
	SW_BENEATH_OPENAT2,   /* openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) */
	SW_BENEATH_WALK,      /* one openat(O_NOFOLLOW) per component, links read by us */
};

/*
 * The mode of this process, chosen at the first call (workers inherit it
 * across fork): openat2 unless the kernel or a seccomp filter refuses it
 * (ENOSYS, EPERM; systemd's RestrictSUIDSGID= answers ENOSYS), in which
 * case *why (may be NULL) gets that errno, else 0.
 */
enum sw_beneath_mode sw_beneath_select(int *why);

/* "openat2" or "openat walk", for log lines. */
const char *sw_beneath_mode_name(enum sw_beneath_mode mode);

/*
 * Opens `name` (relative; "" or "." is dirfd itself) beneath dirfd with
 * open flags `flags` (O_CLOEXEC is added), by the selected mode.  The fd,
 * or -errno: EXDEV for a ".." or an absolute symlink that leaves dirfd,
 * ELOOP past 40 symlinks, and otherwise what the open said.
 */
int sw_beneath_open(int dirfd, const char *name, int flags);

/*
 * The walk itself, whatever the mode (tests compare it with openat2).
 * Symlinks inside dirfd are followed as openat2 would (relative targets,
 * at most 40), but by readlinkat and lookups of our own: the kernel never
 * follows a link, so neither a link nor a /proc magic link can lead out.
 */
int sw_beneath_walk(int dirfd, const char *name, int flags);

#endif
