/* SPDX-License-Identifier: MIT */
/* mime.c - Content-Type by file extension: a built-in table plus /etc/mime.types. */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/log.h"
#include "http/mime.h"

#define EXT_MAX 32            /* longer "extensions" are not types */
#define TYPES_FILE_MAX (4u << 20)

#define UTF8 "; charset=utf-8"
#define T(ext, type, z) { ext, { SW_STR(type), z } }

struct builtin {
	const char *ext;
	struct sw_mime_type type;
};

/* Sorted by extension (strcmp): looked up with bsearch. */
static const struct builtin builtin[] = {
	T("7z", "application/x-7z-compressed", false),
	T("aac", "audio/aac", false),
	T("apng", "image/apng", false),
	T("atom", "application/atom+xml", true),
	T("avif", "image/avif", false),
	T("bin", "application/octet-stream", false),
	T("bmp", "image/bmp", true),
	T("cjs", "text/javascript" UTF8, true),
	T("css", "text/css" UTF8, true),
	T("csv", "text/csv" UTF8, true),
	T("eot", "application/vnd.ms-fontobject", true),
	T("epub", "application/epub+zip", false),
	T("flac", "audio/flac", false),
	T("gif", "image/gif", false),
	T("gz", "application/gzip", false),
	T("htm", "text/html" UTF8, true),
	T("html", "text/html" UTF8, true),
	T("ico", "image/x-icon", true),
	T("ics", "text/calendar" UTF8, true),
	T("jpeg", "image/jpeg", false),
	T("jpg", "image/jpeg", false),
	T("js", "text/javascript" UTF8, true),
	T("json", "application/json", true),
	T("jsonld", "application/ld+json", true),
	T("jxl", "image/jxl", false),
	T("m4a", "audio/mp4", false),
	T("m4v", "video/mp4", false),
	T("map", "application/json", true),
	T("md", "text/markdown" UTF8, true),
	T("mjs", "text/javascript" UTF8, true),
	T("mov", "video/quicktime", false),
	T("mp3", "audio/mpeg", false),
	T("mp4", "video/mp4", false),
	T("oga", "audio/ogg", false),
	T("ogg", "audio/ogg", false),
	T("ogv", "video/ogg", false),
	T("opus", "audio/ogg", false),
	T("otf", "font/otf", true),
	T("pdf", "application/pdf", false),
	T("png", "image/png", false),
	T("rss", "application/rss+xml", true),
	T("svg", "image/svg+xml", true),
	T("tar", "application/x-tar", false),
	T("tif", "image/tiff", false),
	T("tiff", "image/tiff", false),
	T("ttf", "font/ttf", true),
	T("txt", "text/plain" UTF8, true),
	T("wasm", "application/wasm", true),
	T("wav", "audio/wav", false),
	T("webm", "video/webm", false),
	T("webmanifest", "application/manifest+json", true),
	T("webp", "image/webp", false),
	T("woff", "font/woff", false),
	T("woff2", "font/woff2", false),
	T("xhtml", "application/xhtml+xml", true),
	T("xml", "application/xml", true),
	T("xz", "application/x-xz", false),
	T("zip", "application/zip", false),
	T("zst", "application/zstd", false),
};

static const struct sw_mime_type octet_stream = { SW_STR("application/octet-stream"), false };

/* An extension the system file adds; `type` indexes sw_mime.types. */
struct ext_entry {
	const char *ext;
	size_t type;
};

struct sw_mime {
	char *text;                   /* the file, tokens NUL-terminated in place */
	struct sw_mime_type *types;
	size_t ntypes, types_cap;
	struct ext_entry *exts;
	size_t nexts, exts_cap;
};

bool sw_mime_builtin_sorted(void)
{
	for (size_t i = 1; i < SW_ARRAY_SIZE(builtin); i++)
		if (strcmp(builtin[i - 1].ext, builtin[i].ext) >= 0)
			return false;
	return true;
}

static bool has_suffix(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len >= n && strncasecmp(s + len - n, suffix, n) == 0;
}

bool sw_mime_is_compressible(const char *type, size_t len)
{
	static const char *const exact[] = {
		"application/javascript", "application/json", "application/xml",
		"application/wasm", "image/svg+xml", "image/bmp", "image/x-icon",
		"image/vnd.microsoft.icon", "font/ttf", "font/otf",
	};

	if (len >= 5 && strncasecmp(type, "text/", 5) == 0)
		return true;
	if (has_suffix(type, len, "+json") || has_suffix(type, len, "+xml"))
		return true;
	for (size_t i = 0; i < SW_ARRAY_SIZE(exact); i++)
		if (strlen(exact[i]) == len && strncasecmp(type, exact[i], len) == 0)
			return true;
	return false;
}

/* ---- the system file ---- */

static char *read_small_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *text = NULL;
	ssize_t n;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size < (off_t)TYPES_FILE_MAX) {
		text = sw_malloc((size_t)st.st_size + 1);
		n = read(fd, text, (size_t)st.st_size);
		if (n < 0) {
			sw_log_errno(SW_LOG_WARN, errno, "%s", path);
			n = 0;
		}
		text[n] = '\0';
	}
	close(fd);
	return text;
}

static void add_type(struct sw_mime *m, char *type)
{
	size_t len = strlen(type);

	if (m->ntypes == m->types_cap) {
		m->types_cap = m->types_cap ? m->types_cap * 2 : 256;
		m->types = sw_realloc(m->types, m->types_cap * sizeof(*m->types));
	}
	m->types[m->ntypes].value = (struct sw_str){ type, len };
	m->types[m->ntypes].compressible = sw_mime_is_compressible(type, len);
	m->ntypes++;
}

static void add_ext(struct sw_mime *m, char *ext)
{
	if (strlen(ext) >= EXT_MAX)
		return;
	for (char *p = ext; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (m->nexts == m->exts_cap) {
		m->exts_cap = m->exts_cap ? m->exts_cap * 2 : 1024;
		m->exts = sw_realloc(m->exts, m->exts_cap * sizeof(*m->exts));
	}
	m->exts[m->nexts].ext = ext;
	m->exts[m->nexts].type = m->ntypes - 1;
	m->nexts++;
}

/* One line: "type ext ext ...", '#' starts a comment. */
static void parse_line(struct sw_mime *m, char *line)
{
	char *save = NULL, *tok;
	bool first = true;

	line[strcspn(line, "#")] = '\0';
	for (tok = strtok_r(line, " \t\r", &save); tok; tok = strtok_r(NULL, " \t\r", &save)) {
		if (first)
			add_type(m, tok);
		else
			add_ext(m, tok);
		first = false;
	}
}

/* Equal extensions: the file's first line wins (type order is line order). */
static int ext_cmp(const void *a, const void *b)
{
	const struct ext_entry *x = a, *y = b;
	int c = strcmp(x->ext, y->ext);

	if (c)
		return c;
	return (x->type > y->type) - (x->type < y->type);
}

static void sort_exts(struct sw_mime *m)
{
	size_t out = 0;

	qsort(m->exts, m->nexts, sizeof(*m->exts), ext_cmp);
	for (size_t i = 0; i < m->nexts; i++)
		if (out == 0 || strcmp(m->exts[out - 1].ext, m->exts[i].ext) != 0)
			m->exts[out++] = m->exts[i];
	m->nexts = out;
}

struct sw_mime *sw_mime_open(const char *path)
{
	struct sw_mime *m = sw_calloc(1, sizeof(*m));
	char *save = NULL;

	m->text = path ? read_small_file(path) : NULL;
	if (!m->text)
		return m;
	for (char *l = strtok_r(m->text, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		parse_line(m, l);
	sort_exts(m);
	return m;
}

void sw_mime_close(struct sw_mime *m)
{
	if (!m)
		return;
	free(m->text);
	free(m->types);
	free(m->exts);
	free(m);
}

/* ---- lookup ---- */

static int builtin_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct builtin *)elem)->ext);
}

static int file_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct ext_entry *)elem)->ext);
}

/* The lower-cased extension of the last path segment; false when there is none. */
static bool extension(const char *name, size_t len, char out[EXT_MAX])
{
	size_t i = len, n;

	while (i > 0 && name[i - 1] != '.' && name[i - 1] != '/')
		i--;
	/* No dot, or a leading one (".profile" is a name, not a type). */
	if (i < 2 || name[i - 1] != '.' || name[i - 2] == '/')
		return false;
	n = len - i;
	if (n == 0 || n >= EXT_MAX)
		return false;
	for (size_t k = 0; k < n; k++)
		out[k] = (char)tolower((unsigned char)name[i + k]);
	out[n] = '\0';
	return true;
}

const struct sw_mime_type *sw_mime_lookup(const struct sw_mime *m, const char *name, size_t len)
{
	const struct builtin *b;
	const struct ext_entry *e;
	char ext[EXT_MAX];

	if (!extension(name, len, ext))
		return &octet_stream;
	b = bsearch(ext, builtin, SW_ARRAY_SIZE(builtin), sizeof(builtin[0]), builtin_cmp);
	if (b)
		return &b->type;
	if (m && m->nexts) {
		e = bsearch(ext, m->exts, m->nexts, sizeof(m->exts[0]), file_cmp);
		if (e)
			return &m->types[e->type];
	}
	return &octet_stream;
}
