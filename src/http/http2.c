/* http2.c - HTTP/2 with nghttp2: the http2 module's registry entry. */
#include <config.h>

#include <stdio.h>
#include <nghttp2/nghttp2.h>
#include "core/module.h"

static void versions(char *buf, size_t size)
{
	snprintf(buf, size, "nghttp2 %s", nghttp2_version(0)->version_str);
}

const struct sw_module sw_module_http2 = {
	.name = "http2",
	.summary = "HTTP/2 over TLS (ALPN h2) and cleartext h2c",
	.versions = versions,
};
