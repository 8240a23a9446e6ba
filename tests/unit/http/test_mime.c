/* SPDX-License-Identifier: MIT */
/* test_mime.c - Content-Type lookup: the built-in table, case, defaults, and a mime.types file. */
#include <config.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "http/mime.h"
#include "check_main.h"

static const char *type_of(const struct sw_mime *m, const char *name)
{
	static char buf[128];
	const struct sw_mime_type *t = sw_mime_lookup(m, name, strlen(name));

	snprintf(buf, sizeof(buf), "%.*s", (int)t->value.len, t->value.p);
	return buf;
}

START_TEST(builtin_sorted)
{
	ck_assert(sw_mime_builtin_sorted());
}
END_TEST

START_TEST(builtin_types)
{
	static const char *const cases[][2] = {
		{ "index.html", "text/html; charset=utf-8" },
		{ "a/b/style.css", "text/css; charset=utf-8" },
		{ "app.js", "text/javascript; charset=utf-8" },
		{ "mod.mjs", "text/javascript; charset=utf-8" },
		{ "data.json", "application/json" },
		{ "feed.xml", "application/xml" },
		{ "notes.txt", "text/plain; charset=utf-8" },
		{ "logo.svg", "image/svg+xml" },
		{ "x.png", "image/png" }, { "x.jpg", "image/jpeg" }, { "x.jpeg", "image/jpeg" },
		{ "x.gif", "image/gif" }, { "x.webp", "image/webp" }, { "x.avif", "image/avif" },
		{ "favicon.ico", "image/x-icon" }, { "f.woff", "font/woff" }, { "f.woff2", "font/woff2" },
		{ "f.ttf", "font/ttf" }, { "f.otf", "font/otf" }, { "m.wasm", "application/wasm" },
		{ "d.pdf", "application/pdf" }, { "v.mp4", "video/mp4" }, { "v.webm", "video/webm" },
		{ "a.mp3", "audio/mpeg" }, { "a.ogg", "audio/ogg" }, { "a.wav", "audio/wav" },
		{ "z.zip", "application/zip" }, { "z.tar.gz", "application/gzip" },
		{ "app.js.map", "application/json" }, { "t.csv", "text/csv; charset=utf-8" },
		{ "README.md", "text/markdown; charset=utf-8" },
		/* Case-insensitive extensions. */
		{ "INDEX.HTML", "text/html; charset=utf-8" }, { "Photo.JpG", "image/jpeg" },
		/* Defaults: unknown, none, dotfiles, a dot in a directory name. */
		{ "blob.unknownext", "application/octet-stream" },
		{ "Makefile", "application/octet-stream" },
		{ ".profile", "application/octet-stream" },
		{ "dir.d/file", "application/octet-stream" },
		{ "trailing.", "application/octet-stream" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_msg(strcmp(type_of(NULL, cases[i][0]), cases[i][1]) == 0,
			      "%s: got %s, want %s", cases[i][0], type_of(NULL, cases[i][0]),
			      cases[i][1]);
}
END_TEST

START_TEST(compressible)
{
	ck_assert(sw_mime_lookup(NULL, "a.js", 4)->compressible);
	ck_assert(sw_mime_lookup(NULL, "a.css", 5)->compressible);
	ck_assert(sw_mime_lookup(NULL, "a.svg", 5)->compressible);
	ck_assert(!sw_mime_lookup(NULL, "a.png", 5)->compressible);
	ck_assert(!sw_mime_lookup(NULL, "a.woff2", 7)->compressible);
	ck_assert(!sw_mime_lookup(NULL, "a.nope", 6)->compressible);
	ck_assert(sw_mime_is_compressible("text/x-foo", 10));
	ck_assert(sw_mime_is_compressible("application/vnd.x+json", 22));
	ck_assert(!sw_mime_is_compressible("application/x-foo", 17));
}
END_TEST

/* The file adds extensions; the built-in entries win where both have one. */
START_TEST(types_file)
{
	char path[] = "/tmp/swerver-mime.XXXXXX";
	int fd = mkstemp(path);
	FILE *f;
	struct sw_mime *m;

	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	fputs("# comment line\n"
	      "application/x-foo\t\tfoo FOO2 # trailing comment\n"
	      "text/x-bar bar\n"
	      "application/javascript js\n"
	      "application/x-first dup\n"
	      "application/x-second dup\n"
	      "\n"
	      "application/no-extensions\n", f);
	fclose(f);
	m = sw_mime_open(path);
	unlink(path);
	ck_assert_str_eq(type_of(m, "x.foo"), "application/x-foo");
	ck_assert_str_eq(type_of(m, "x.FOO"), "application/x-foo");
	ck_assert_str_eq(type_of(m, "x.foo2"), "application/x-foo");
	ck_assert_str_eq(type_of(m, "x.bar"), "text/x-bar");
	ck_assert(sw_mime_lookup(m, "x.bar", 5)->compressible);
	ck_assert(!sw_mime_lookup(m, "x.foo", 5)->compressible);
	ck_assert_str_eq(type_of(m, "x.js"), "text/javascript; charset=utf-8");
	ck_assert_str_eq(type_of(m, "x.dup"), "application/x-first");
	ck_assert_str_eq(type_of(m, "x.none"), "application/octet-stream");
	sw_mime_close(m);
}
END_TEST

START_TEST(missing_file)
{
	struct sw_mime *m = sw_mime_open("/nonexistent/mime.types");

	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(type_of(m, "a.css"), "text/css; charset=utf-8");
	ck_assert_str_eq(type_of(m, "a.foo"), "application/octet-stream");
	sw_mime_close(m);
}
END_TEST

/* The system table, when present, loads and adds types we do not list. */
START_TEST(system_file)
{
	struct sw_mime *m;

	if (access(SW_MIME_SYSTEM_TYPES, R_OK) != 0)
		return;
	m = sw_mime_open(SW_MIME_SYSTEM_TYPES);
	ck_assert_str_eq(type_of(m, "a.html"), "text/html; charset=utf-8");
	ck_assert_str_ne(type_of(m, "a.odt"), "application/octet-stream");
	sw_mime_close(m);
}
END_TEST

static Suite *mime_suite(void)
{
	Suite *s = suite_create("mime");
	TCase *tc = tcase_create("mime");

	tcase_add_test(tc, builtin_sorted);
	tcase_add_test(tc, builtin_types);
	tcase_add_test(tc, compressible);
	tcase_add_test(tc, types_file);
	tcase_add_test(tc, missing_file);
	tcase_add_test(tc, system_file);
	suite_add_tcase(s, tc);
	return s;
}

SW_TEST_SUITE(mime_suite);
