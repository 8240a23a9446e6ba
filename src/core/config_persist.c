/* SPDX-License-Identifier: MIT */
/* config_persist.c - writes the running config back to its file, atomically (admin persist). */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/config.h"

static int fail(char *err, size_t n, const char *what, const char *path)
{
	snprintf(err, n, "%s %s: %s", what, path, strerror(errno));
	return SW_ERROR;
}

/*
 * A temporary file beside the target, fsync'ed, given the target's owner
 * and mode (never more than 0640: it may hold the admin key), renamed
 * over it, and the directory fsync'ed: a crash leaves the old file or the
 * new one, never half of one.
 */
int sw_config_persist(const struct sw_config *cfg, const char *path, char *err, size_t n)
{
	char *json = sw_config_to_json(cfg, false), tmp[4096], dir[4096];
	size_t len = strlen(json), off = 0;
	bool add_newline = len == 0 || json[len - 1] != '\n';   /* end the file with exactly one */
	struct stat st;
	int fd, dfd;

	snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
	snprintf(dir, sizeof(dir), "%s", path);
	if ((fd = mkstemp(tmp)) < 0) {
		free(json);
		return fail(err, n, "cannot create a temporary file beside", path);
	}
	while (off < len) {
		ssize_t k = write(fd, json + off, len - off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		off += (size_t)k;
	}
	free(json);
	if (off < len || (add_newline && write(fd, "\n", 1) != 1) || fsync(fd) != 0) {
		close(fd);
		unlink(tmp);
		return fail(err, n, "cannot write", tmp);
	}
	bool exists = stat(path, &st) == 0;
	if (fchmod(fd, exists ? st.st_mode & 0640 : 0640) != 0 ||
	    (exists && fchown(fd, st.st_uid, st.st_gid) != 0 && errno != EPERM)) {
		close(fd);
		unlink(tmp);
		return fail(err, n, "cannot give the mode and owner of", path);
	}
	close(fd);
	if (rename(tmp, path) != 0) {
		unlink(tmp);
		return fail(err, n, "cannot rename over", path);
	}
	if ((dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		fsync(dfd);
		close(dfd);
	}
	snprintf(err, n, "persisted to %s", path);
	return SW_OK;
}
