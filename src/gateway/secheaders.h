/* SPDX-License-Identifier: MIT */
/* secheaders.h - the `headers` policy: response and upstream request header edits with security presets. */
#ifndef SW_GATEWAY_SECHEADERS_H
#define SW_GATEWAY_SECHEADERS_H

#include <stdbool.h>
#include "core/diag.h"
#include "gateway/header_edit.h"
#include "http/exchange.h"

struct json_object;

struct sw_secheaders {
	/* response.set/add/remove with the presets folded into set, HSTS aside. */
	struct sw_header_edits response;
	/* The Strict-Transport-Security value, or NULL: sent over TLS only (RFC 6797 7.2). */
	char *hsts;
	/* request.set/add/remove: edits of the head that goes upstream. */
	struct sw_header_edits request;
};

/*
 * Checks and compiles a `headers` value ("path" is its key path, e.g.
 * "routes[2].headers"); NULL after errors, which go to diag.
 */
struct sw_secheaders *sw_secheaders_compile(struct json_object *conf, const char *path,
					    struct sw_diag *diag);
void sw_secheaders_release(struct sw_secheaders *h);
/* The response edits (and HSTS when tls) applied to r; the strings stay h's. */
void sw_secheaders_response(const struct sw_secheaders *h, struct sw_response *r, bool tls);

#endif
