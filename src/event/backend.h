/* SPDX-License-Identifier: MIT */
/* backend.h - what loop.c needs from an I/O backend (epoll.c, uring.c). */
#ifndef SW_EVENT_BACKEND_H
#define SW_EVENT_BACKEND_H

#include "core/module.h"
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
/* io_uring's table, or NULL when it was compiled out: the one place the module's impl is converted. */
static inline const struct sw_backend_ops *sw_uring_ops(void)
{
	const struct sw_module *m = sw_module_find("io_uring");

	return m ? m->impl : NULL;
}

/*
 * The loop, visible to the backends so that queueing a completion on the
 * hot path is a few stores, not a call.  Only loop.c and the backends
 * include this header.
 */
struct sw_loop {
	const struct sw_backend_ops *ops;
	void *backend;                   /* the backend's own state */
	uint64_t now;                    /* monotonic ms, cached per iteration */
	bool stop;
	struct sw_io *cq_head, *cq_tail; /* completions whose callback is due */
	size_t cq_len;
	struct sw_handle *closed_head, *closed_tail; /* on_closed is due */
	size_t closing;                  /* handles closed, their on_closed not yet run */
	struct sw_timer **heap;          /* 1-based binary min-heap */
	size_t heap_len, heap_cap;
};

/* Write-side ops sit in h->wr, the others in h->rd. */
static inline bool sw_io_is_write(const struct sw_io *io)
{
	return io->op >= SW_OP_WRITEV;
}

/* Queues io's callback with result res (the backend calls this, never cb). */
static inline void sw_backend_complete(struct sw_loop *loop, struct sw_io *io,
				       ssize_t res)
{
	io->res = res;
	io->queued = 1;
	io->next = NULL;
	if (loop->cq_tail)
		loop->cq_tail->next = io;
	else
		loop->cq_head = io;
	loop->cq_tail = io;
	loop->cq_len++;
}

/*
 * A closing handle is done: its fd is closed and the kernel holds none of
 * its buffers.  on_closed runs at the end of the loop iteration.
 */
static inline void sw_backend_closed(struct sw_loop *loop, struct sw_handle *h)
{
	h->next_closed = NULL;
	if (loop->closed_tail)
		loop->closed_tail->next_closed = h;
	else
		loop->closed_head = h;
	loop->closed_tail = h;
}

#endif
