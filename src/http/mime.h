/* SPDX-License-Identifier: MIT */
/* mime.h - Content-Type by file extension: a built-in table plus /etc/mime.types. */
#ifndef SW_HTTP_MIME_H
#define SW_HTTP_MIME_H

#include <stdbool.h>
#include <stddef.h>
#include "http/exchange.h"

/* A media type as sent in Content-Type ("text/css; charset=utf-8"). */
struct sw_mime_type {
	struct sw_str value;
	/* Worth a precompressed sibling (text, JSON, XML, SVG, wasm, ...). */
	bool compressible;
};

/* Where Debian's mime-support/media-types package puts the system table. */
#define SW_MIME_SYSTEM_TYPES "/etc/mime.types"

struct sw_mime;

/*
 * A lookup table: the built-in entries, then the extensions `path` (in
 * mime.types format) adds.  The built-in entries win: they carry the
 * charset and the types browsers expect (text/javascript, image/avif),
 * where system files differ between distributions and releases.  A
 * missing or unreadable file (or a NULL path) leaves the built-in table.
 */
struct sw_mime *sw_mime_open(const char *path);
void sw_mime_close(struct sw_mime *m);

/*
 * The type for a file name (a path is fine: the extension after the last
 * '.' of the last segment, compared case-insensitively); the returned
 * strings live as long as m.  application/octet-stream when unknown.
 */
const struct sw_mime_type *sw_mime_lookup(const struct sw_mime *m, const char *name, size_t len);

/* Whether a type from the system file is worth compressing (text types, +json, +xml, ...). */
bool sw_mime_is_compressible(const char *type, size_t len);

/* For tests: the built-in table is sorted by extension with no duplicates. */
bool sw_mime_builtin_sorted(void);

#endif
