/* SPDX-License-Identifier: MIT */
/* h2_fixture.c - what the HTTP/2 suites share (h2_fixture.h). */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/module.h"
#include "h2_fixture.h"

bool have_h2(int i)
{
	if (!it_backend(i))
		return false;
	if (!sw_module_find("http2")) {
		fprintf(stderr, "note: built without http2; skipping\n");
		return false;
	}
	return true;
}

bool have_h2_tls(int i)
{
	if (!have_h2(i))
		return false;
	if (!sw_module_find("tls")) {
		fprintf(stderr, "note: built without tls; skipping\n");
		return false;
	}
	return true;
}

char h2_www[IT_PATH_MAX];

static void write_bytes(const char *name, const void *data, size_t len)
{
	char path[IT_PATH_MAX + 64];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", h2_www, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
	ck_assert_msg(write(fd, data, len) == (ssize_t)len, "write %s: %s", path, strerror(errno));
	close(fd);
}

static void write_text(const char *name, const char *text)
{
	write_bytes(name, text, strlen(text));
}

/* A file of `size` zero bytes that takes no disk (and no time) to make. */
void h2_write_sparse(const char *name, off_t size)
{
	char path[IT_PATH_MAX + 64];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", h2_www, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ck_assert_msg(fd >= 0 && ftruncate(fd, size) == 0, "sparse %s: %s", path, strerror(errno));
	close(fd);
}

void h2_populate(void)
{
	char *o;
	int st;

	it_path(h2_www, "h2_www");
	ck_assert_int_eq(mkdir(h2_www, 0755), 0);
	write_text("index.html", "<h1>home</h1>\n");
	write_text("hello.txt", "hello world\n");
	write_text("app.js", "console.log('identity');\n");
	write_text("app.js.gz", "GZIP-BYTES!");
	o = it_run(&st, "head -c %u /dev/urandom > %s/big.bin", BIG_SIZE, h2_www);
	free(o);
	ck_assert_int_eq(st, 0);
}

/*
 * Starts swerver with static_root = h2_www: listener 0 is 127.0.0.1:0 (the one
 * the harness waits on), `listeners` adds more, `extra` adds top-level keys
 * (each ending with a comma).
 */
void h2_write_config(char cfg[IT_PATH_MAX], int i, unsigned workers, const char *listeners,
		  const char *extra)
{
	it_path(cfg, "swerver.json");
	it_write_filef(cfg,
		"{\n"
		"  \"server\": {\n"
		"    \"listeners\": [{\"address\": \"127.0.0.1\", \"port\": 0}%s],\n"
		"    \"workers\": %u,\n"
		"    \"io_backend\": \"%s\",\n"
		"    \"static_root\": \"%s\"\n"
		"  },\n"
		"  %s\n"
		"  \"timeouts\": {\"drain_ms\": 5000}\n"
		"}\n", listeners ? listeners : "", workers, it_backend(i), h2_www, extra ? extra : "");
}

struct it_proc *h2_start(int i, unsigned workers, const char *listeners, const char *extra,
		      int *port)
{
	char cfg[IT_PATH_MAX];

	h2_write_config(cfg, i, workers, listeners, extra);
	return it_start_ready(cfg, "127.0.0.1", port);
}

/* curl --http2-prior-knowledge to 127.0.0.1:port path. */
void h2curl(struct it_cres *r, int port, const char *args, const char *path)
{
	char url[256], a[8192 + 64];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
	snprintf(a, sizeof(a), "--http2-prior-knowledge %s", args ? args : "");
	it_curl(r, a, url);
}

void expect_chdr(const struct it_cres *r, const char *name, const char *want, const char *what)
{
	const char *v = it_cres_header(r, name);

	IT_ASSERT(v && strcmp(v, want) == 0, "%s: %s is \"%s\", want \"%s\"\n%s", what, name,
		  v ? v : "(absent)", want, r->head);
}

/* Polls until the series reads `want` (counters are shared, but be patient). */
long long h2_wait_metric(int port, const char *series, long long want, int timeout_ms)
{
	int64_t end = it_now_ms() + timeout_ms;
	long long v;

	while ((v = (long long)it_metric(port, series)) != want && it_now_ms() < end)
		it_sleep_ms(50);
	return v;
}
