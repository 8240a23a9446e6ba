/* SPDX-License-Identifier: MIT */
/* http2.h - the table through which the worker and the HTTP/1.1 connection reach the HTTP/2 unit. */
#ifndef SW_HTTP_HTTP2_H
#define SW_HTTP_HTTP2_H

#include <stdbool.h>
#include "core/module.h"

struct sw_conn;

/*
 * The HTTP/2 codec, found through sw_h2_api() (the worker keeps it in
 * ctx->h2_api) so the HTTP/1.1 connection links without nghttp2.  It
 * takes the connection over after ALPN "h2" or a cleartext prior-knowledge
 * preface and uses the connection's transport (sw_conn_read,
 * sw_conn_send_iov in http1_conn_impl.h).
 */
struct sw_h2_api {
	/* Takes c over; c->buf[0..len) holds bytes already read (the preface). */
	void (*start)(struct sw_conn *c);
	/* Worker drain: GOAWAY, let the open streams finish, then close. */
	void (*drain)(struct sw_conn *c);
	/* The connection timer fired. */
	void (*timeout)(struct sw_conn *c);
	/* Finishes every open stream's exchange and frees the session. */
	void (*close)(struct sw_conn *c);
	/* Idle (no open stream): frees the output buffer and recycled streams; true if any. */
	bool (*trim)(struct sw_conn *c);
};

/* The unit's table, or NULL when it was compiled out: the one place its sw_module's impl is converted. */
static inline const struct sw_h2_api *sw_h2_api(void)
{
	const struct sw_module *m = sw_module_find("http2");

	return m ? m->impl : NULL;
}

#endif
