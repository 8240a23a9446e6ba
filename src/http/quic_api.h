/* SPDX-License-Identifier: MIT */
/* quic_api.h - the table through which the worker and the router reach the HTTP/3 unit. */
#ifndef SW_HTTP_QUIC_API_H
#define SW_HTTP_QUIC_API_H

#include <stddef.h>
#include <stdint.h>
#include "core/module.h"

struct sw_ctx;

/*
 * The HTTP/3 unit, found through sw_quic_api() so the core links
 * without ngtcp2 (src/quic/quic.c).  Declared here, below the unit, since
 * the router asks it for Alt-Svc and src/quic/ includes src/http/.
 */
struct sw_quic_api {
	/*
	 * The master opened a UDP group (fds in slot order), before forking any
	 * worker that uses it: make the process tree's shared QUIC secrets once
	 * and steer packets to the slot their connection ID names.
	 */
	int (*group_open)(const int *fds, unsigned n, char *err, size_t err_size);
	/* Serves this worker's UDP sockets of ctx->listens (taking them over). */
	int (*start)(struct sw_ctx *ctx);
	/* Single process, listeners replaced: old sockets finish their connections. */
	int (*relisten)(struct sw_ctx *ctx);
	/* Drain: GOAWAY, let open streams finish, then close the connections. */
	void (*drain)(struct sw_ctx *ctx);
	/* Connections still open: a draining worker exits at 0. */
	unsigned (*count)(const struct sw_ctx *ctx);
	/*
	 * The Alt-Svc value advertising HTTP/3 on UDP port (a TCP listener's
	 * quic port) while this worker serves it there, else NULL; valid for
	 * the worker's life, so a response head may hold it.
	 */
	const char *(*alt_svc)(struct sw_ctx *ctx, uint16_t port);
	/* Closes every connection and socket now (the endpoint stays till release). */
	void (*stop)(struct sw_ctx *ctx);
	/* After the loop has ended: frees the endpoint. */
	void (*release)(struct sw_ctx *ctx);
};

/* The unit's table, or NULL when it was compiled out: the one place its sw_module's impl is converted. */
static inline const struct sw_quic_api *sw_quic_api(void)
{
	const struct sw_module *m = sw_module_find("http3");

	return m ? m->impl : NULL;
}

#endif
