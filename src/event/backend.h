/* backend.h - what loop.c needs from an I/O backend (epoll.c, uring.c). */
#ifndef SW_EVENT_BACKEND_H
#define SW_EVENT_BACKEND_H

#include "event/loop.h"

struct sw_backend_ops {
	const char *name;
	int (*init)(struct sw_loop *loop, unsigned entries, char *why, size_t why_size);
	void (*deinit)(struct sw_loop *loop);
	int (*add)(struct sw_loop *loop, struct sw_handle *h);
	/* Start io (already recorded in h->rd or h->wr). */
	int (*start)(struct sw_loop *loop, struct sw_io *io);
	void (*cancel)(struct sw_loop *loop, struct sw_io *io);
	/* Begin closing h; loop.c calls on_closed when sw_backend_closed() says so. */
	void (*close)(struct sw_loop *loop, struct sw_handle *h);
	/* Wait up to timeout_ms (-1 = forever) and deliver completions. */
	int (*wait)(struct sw_loop *loop, int timeout_ms);
};

extern const struct sw_backend_ops sw_backend_epoll;
/* io_uring's table is sw_module_find("io_uring")->impl when compiled in. */

#endif
