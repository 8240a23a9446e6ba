/* SPDX-License-Identifier: MIT */
/* config_file.c - reading the config file (and the files it names for secrets): regular files only. */
#include <config.h>     /* autoconf's, from the build dir (not core/config.h) */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/config.h"
#include "core/diag.h"

#define MAX_CONFIG (16u << 20)

/* Reads fd to its end; 0 or an errno value. */
static int read_all(int fd, size_t max, char **out, size_t *out_len)
{
	size_t len = 0, cap = 4096;
	char *buf = sw_malloc(cap);

	for (;;) {
		if (len + 1 >= cap) {
			if (cap > max) {
				free(buf);
				return EFBIG;
			}
			cap *= 2;
			buf = sw_realloc(buf, cap);
		}
		ssize_t n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = errno;
			free(buf);
			return err;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > max) {
		free(buf);
		return EFBIG;
	}
	buf[len] = '\0';
	*out = buf;
	*out_len = len;
	return 0;
}

int sw_config_read_file(const char *path, size_t max, char **out, size_t *out_len,
			unsigned *mode)
{
	/* O_NONBLOCK: opening a FIFO with no writer would wait for one forever. */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	int err;

	*out = NULL;
	*out_len = 0;
	if (fd < 0)
		return errno;
	if (fstat(fd, &st) != 0) {
		err = errno;
	} else if (!S_ISREG(st.st_mode)) {
		err = EINVAL;
	} else {
		if (mode)
			*mode = (unsigned)(st.st_mode & 07777);
		err = read_all(fd, max, out, out_len);
	}
	close(fd);
	return err;
}

/* Why a file could not be read, in words an operator acts on. */
static const char *read_error(int err)
{
	if (err == EINVAL)
		return "not a regular file";
	if (err == EFBIG)
		return "larger than 16 MiB";
	return strerror(err);
}

/* A key in a file any user may read is anyone's key: say so at every load. */
static void warn_readable_key(const struct sw_config *cfg, const char *path, unsigned mode,
			      struct sw_diag *d)
{
	const struct sw_admin_cfg *a = &cfg->admin;

	if (!a->api_key || a->api_key_file || a->api_key_env || !(mode & S_IROTH))
		return;
	sw_diag_warn(d, "admin.api_key", "%s is readable by every user (mode %04o): chmod o-r it, "
		     "or move the key to admin.api_key_file or admin.api_key_env", path, mode);
}

#define MAX_KEY 4096

/* The key in a file: one line, trailing white space (the newline) dropped. */
static char *key_from_file(const char *path, struct sw_diag *d)
{
	char *text = NULL, *key = NULL;
	size_t len = 0;
	unsigned mode = 0;
	int err = sw_config_read_file(path, MAX_KEY, &text, &len, &mode);

	if (err) {
		sw_diag_error(d, "admin.api_key_file", "%s: cannot read: %s", path,
			      err == EFBIG ? "larger than 4 KiB" : read_error(err));
		return NULL;
	}
	while (len > 0 && strchr(" \t\r\n", text[len - 1]))
		len--;
	text[len] = '\0';
	if (len == 0)
		sw_diag_error(d, "admin.api_key_file", "%s: holds no key", path);
	else if (strlen(text) != len || strpbrk(text, "\r\n"))
		sw_diag_error(d, "admin.api_key_file", "%s: must hold the key alone on one line", path);
	else
		key = sw_strdup(text);
	if (key && (mode & S_IROTH))
		sw_diag_warn(d, "admin.api_key_file", "%s is readable by every user (mode %04o): "
			     "chmod o-r it", path, mode);
	explicit_bzero(text, len);
	free(text);
	return key;
}

void sw_config_resolve_admin_key(struct sw_admin_cfg *a, struct sw_diag *d)
{
	const char *env;

	if (!!a->api_key + !!a->api_key_file + !!a->api_key_env > 1) {
		sw_diag_error(d, "admin", "set only one of api_key, api_key_file and api_key_env");
		return;
	}
	if (a->api_key_file) {
		a->api_key = key_from_file(a->api_key_file, d);
	} else if (a->api_key_env) {
		env = getenv(a->api_key_env);
		if (env && *env)
			a->api_key = sw_strdup(env);
		else
			sw_diag_error(d, "admin.api_key_env", "the environment variable %s is %s",
				      a->api_key_env, env ? "empty" : "not set");
	}
}

int sw_config_load_partial(struct sw_config *cfg, const char *path, struct sw_diag *d,
			   bool *usable)
{
	const char *source = d->source;
	char *text = NULL;
	size_t len = 0;
	unsigned mode = 0;
	int rc, err;

	/* Every message must name the file, even if the caller forgot to. */
	if (!source)
		d->source = path;
	*usable = false;
	err = sw_config_read_file(path, MAX_CONFIG, &text, &len, &mode);
	if (err) {
		memset(cfg, 0, sizeof(*cfg));
		sw_diag_error(d, NULL, "cannot read: %s", read_error(err));
		rc = SW_ERROR;
	} else {
		rc = sw_config_parse_partial(cfg, text, len, d, usable);
		free(text);
		if (*usable) {
			cfg->path = sw_strdup(path);
			warn_readable_key(cfg, path, mode, d);
		}
	}
	d->source = source;
	return rc;
}

int sw_config_load(struct sw_config *cfg, const char *path, struct sw_diag *d)
{
	bool usable;
	int rc = sw_config_load_partial(cfg, path, d, &usable);

	if (rc != SW_OK && usable)
		sw_config_deinit(cfg);
	return rc;
}
