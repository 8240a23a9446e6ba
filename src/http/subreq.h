/* SPDX-License-Identifier: MIT */
/* subreq.h - a request of the gateway's own to an upstream (forward_auth), made by the proxy unit. */
#ifndef SW_HTTP_SUBREQ_H
#define SW_HTTP_SUBREQ_H

#include <stddef.h>
#include <stdint.h>
#include "http/exchange.h"

struct sw_subreq;

/* What came back.  Views valid during the callback only. */
struct sw_subreq_answer {
	int status;                   /* 0: no answer, err says why */
	int err;                      /* -ETIMEDOUT, -ECONNREFUSED, -ENOENT (no such upstream), -EPROTO, ... */
	const struct sw_header *headers;
	unsigned header_count;
	const char *body;             /* at most max_body bytes of it */
	size_t body_len;
};

typedef void (*sw_subreq_cb)(void *data, const struct sw_subreq_answer *a);

struct sw_subreq_args {
	struct sw_exchange *x;        /* on whose behalf: its worker, its client for balancing */
	const char *upstream;         /* an upstreams[] name */
	const char *head;             /* a whole HTTP/1.1 request head without a body; copied */
	size_t head_len;
	uint32_t timeout_ms;          /* from the start to the whole answer */
	size_t max_body;
	sw_subreq_cb cb;              /* exactly once, from the loop, unless cancelled first */
	void *data;
};

#endif
