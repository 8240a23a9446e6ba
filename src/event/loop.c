/* SPDX-License-Identifier: MIT */
/* loop.c - the backend-independent event loop: ops, completion queue, timers. */
#include <config.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "core/common.h"
#include "core/module.h"
#include "event/backend.h"
#include "event/loop.h"

/*
 * Callbacks run per pass beyond those queued when the pass began.  An op
 * started from a callback that completes at once runs in the same pass, but
 * a connection whose recv keeps completing at once must not starve the
 * rest: past this budget the remainder waits for the next iteration, which
 * then polls without blocking.
 */
#define CQ_EXTRA_BUDGET 1024

static uint64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void set_why(char *why, size_t why_size, const char *msg)
{
	if (why && why_size)
		snprintf(why, why_size, "%s", msg);
}

/* Tries io_uring; SW_ERROR with the reason in why when it cannot start. */
static int open_uring(struct sw_loop *loop, unsigned entries, char *why,
		      size_t why_size)
{
	const struct sw_backend_ops *ops = sw_uring_ops();

	if (!ops) {
		set_why(why, why_size,
			"io_uring: not compiled in (configure --enable-io-uring)");
		return SW_ERROR;
	}
	if (ops->init(loop, entries, why, why_size) != SW_OK)
		return SW_ERROR;
	loop->ops = ops;
	return SW_OK;
}

int sw_loop_open(struct sw_loop **out, enum sw_io_backend want,
		 unsigned entries, char *why, size_t why_size)
{
	struct sw_loop *loop = sw_calloc(1, sizeof(*loop));
	char scratch[160];

	/* The backends always get a buffer for their reason. */
	if (!why || !why_size) {
		why = scratch;
		why_size = sizeof(scratch);
	}
	why[0] = '\0';
	loop->now = monotonic_ms();
	if (want != SW_IO_EPOLL && open_uring(loop, entries, why, why_size) == SW_OK)
		goto done;
	if (want == SW_IO_URING)
		goto fail;
	/* AUTO keeps io_uring's reason in why: the caller logs the fallback. */
	if (sw_backend_epoll.init(loop, entries, why, why_size) != SW_OK)
		goto fail;
	loop->ops = &sw_backend_epoll;
done:
	*out = loop;
	return SW_OK;
fail:
	free(loop);
	*out = NULL;
	return SW_ERROR;
}

void sw_loop_close(struct sw_loop *loop)
{
	if (!loop)
		return;
	loop->ops->deinit(loop);
	free(loop->heap);
	free(loop);
}

const char *sw_loop_backend_name(const struct sw_loop *loop)
{
	return loop->ops->name;
}

bool sw_loop_uring_available(char *why, size_t why_size)
{
	/* One probe per process: a ring costs locked memory and a syscall. */
	static int probed = -1;
	static char reason[160];

	if (probed < 0) {
		struct sw_loop *loop;

		probed = sw_loop_open(&loop, SW_IO_URING, 8, reason,
				      sizeof(reason)) == SW_OK;
		sw_loop_close(loop);
	}
	set_why(why, why_size, probed ? "" : reason);
	return probed;
}

uint64_t sw_loop_now(const struct sw_loop *loop)
{
	return loop->now;
}

void sw_loop_update_time(struct sw_loop *loop)
{
	loop->now = monotonic_ms();
}

/* ---- handles and operations ---- */

int sw_loop_add_flags(struct sw_loop *loop, struct sw_handle *h, int fd, void *data,
		      unsigned flags)
{
	memset(h, 0, sizeof(*h));
	h->fd = fd;
	h->data = data;
	h->readable = !(flags & SW_HANDLE_FRESH);
	h->writable = true;
	h->private_fd = flags & SW_HANDLE_PRIVATE;
	return loop->ops->add(loop, h);
}

int sw_loop_add(struct sw_loop *loop, struct sw_handle *h, int fd, void *data)
{
	return sw_loop_add_flags(loop, h, fd, data, 0);
}

static void cq_unlink(struct sw_loop *loop, struct sw_io *io)
{
	struct sw_io *prev = NULL;

	for (struct sw_io *p = loop->cq_head; p; prev = p, p = p->next) {
		if (p != io)
			continue;
		if (prev)
			prev->next = io->next;
		else
			loop->cq_head = io->next;
		if (loop->cq_tail == io)
			loop->cq_tail = prev;
		loop->cq_len--;
		break;
	}
	io->queued = 0;
	io->next = NULL;
}

void sw_loop_cancel(struct sw_loop *loop, struct sw_io *io)
{
	struct sw_handle *h = io->handle;

	if (io->state != SW_IO_PENDING)
		return;
	if (h->rd == io)
		h->rd = NULL;
	else if (h->wr == io)
		h->wr = NULL;
	if (io->queued) {
		/*
		 * An accept that already took a connection off the queue is
		 * delivered anyway: dropping it would reset a client's request.
		 */
		if (io->op == SW_OP_ACCEPT && io->res >= 0)
			return;
		/* Done already, only the callback was due: nothing in the kernel. */
		cq_unlink(loop, io);
		io->state = SW_IO_IDLE;
		return;
	}
	io->state = SW_IO_CANCELLED;
	loop->ops->cancel(loop, io);
}

void sw_loop_close_handle(struct sw_loop *loop, struct sw_handle *h,
			  sw_handle_cb on_closed)
{
	if (h->closing)
		return;
	h->closing = true;
	h->on_closed = on_closed;
	loop->closing++;
	if (h->rd)
		sw_loop_cancel(loop, h->rd);
	if (h->wr)
		sw_loop_cancel(loop, h->wr);
	loop->ops->close(loop, h);
}

static int start(struct sw_loop *loop, struct sw_handle *h, struct sw_io *io,
		 enum sw_io_op op)
{
	struct sw_io **slot;

	if (sw_unlikely(h->closing || io->state == SW_IO_PENDING))
		return SW_ERROR;
	/* A cancelled io the kernel still names belongs to its old handle. */
	if (sw_unlikely(io->state == SW_IO_CANCELLED && io->handle != h))
		return SW_ERROR;
	slot = op >= SW_OP_WRITEV ? &h->wr : &h->rd;
	if (sw_unlikely(*slot != NULL))
		return SW_ERROR;
	io->op = op;
	io->handle = h;
	io->state = SW_IO_PENDING;
	io->res = 0;
	*slot = io;
	if (sw_unlikely(loop->ops->start(loop, io) != SW_OK)) {
		*slot = NULL;
		io->state = SW_IO_IDLE;
		return SW_ERROR;
	}
	return SW_OK;
}

int sw_loop_post(struct sw_loop *loop, struct sw_handle *h, struct sw_io *io,
		 bool write_side, ssize_t res)
{
	struct sw_io **slot = write_side ? &h->wr : &h->rd;

	if (sw_unlikely(h->closing || io->state == SW_IO_PENDING || *slot != NULL))
		return SW_ERROR;
	io->op = write_side ? SW_OP_POLL_OUT : SW_OP_POLL_IN;
	io->handle = h;
	io->state = SW_IO_PENDING;
	*slot = io;
	sw_backend_complete(loop, io, res);
	return SW_OK;
}

int sw_loop_accept(struct sw_loop *loop, struct sw_handle *h, struct sw_io *io)
{
	return start(loop, h, io, SW_OP_ACCEPT);
}

int sw_loop_recv(struct sw_loop *loop, struct sw_handle *h, struct sw_io *io,
		 void *buf, size_t len)
{
	if (sw_unlikely(io->state == SW_IO_PENDING))
		return SW_ERROR;
	io->u.recv.buf = buf;
	io->u.recv.len = len;
	return start(loop, h, io, SW_OP_RECV);
}

int sw_loop_writev(struct sw_loop *loop, struct sw_handle *h, struct sw_io *io,
		   const struct iovec *iov, int iovcnt)
{
	if (sw_unlikely(io->state == SW_IO_PENDING))
		return SW_ERROR;
	io->u.writev.iov = iov;
	io->u.writev.iovcnt = iovcnt;
	return start(loop, h, io, SW_OP_WRITEV);
}

int sw_loop_sendfile(struct sw_loop *loop, struct sw_handle *h, struct sw_io *io,
		     int in_fd, off_t offset, size_t len)
{
	if (sw_unlikely(io->state == SW_IO_PENDING))
		return SW_ERROR;
	io->u.sendfile.in_fd = in_fd;
	io->u.sendfile.offset = offset;
	io->u.sendfile.len = len;
	return start(loop, h, io, SW_OP_SENDFILE);
}

int sw_loop_poll(struct sw_loop *loop, struct sw_handle *h, struct sw_io *io,
		 bool out)
{
	return start(loop, h, io, out ? SW_OP_POLL_OUT : SW_OP_POLL_IN);
}

/* Edge-triggered epoll reports data that arrives after the EAGAIN: clearing is safe. */
int sw_loop_poll_spent(struct sw_loop *loop, struct sw_handle *h, struct sw_io *io,
		       bool out)
{
	if (out)
		h->writable = false;
	else
		h->readable = false;
	return sw_loop_poll(loop, h, io, out);
}

/* ---- timers: a 1-based binary min-heap on deadline ---- */

static void heap_set(struct sw_loop *loop, size_t i, struct sw_timer *t)
{
	loop->heap[i] = t;
	t->heap_index = i;
}

static void heap_up(struct sw_loop *loop, size_t i)
{
	struct sw_timer *t = loop->heap[i];

	while (i > 1 && loop->heap[i / 2]->deadline > t->deadline) {
		heap_set(loop, i, loop->heap[i / 2]);
		i /= 2;
	}
	heap_set(loop, i, t);
}

static void heap_down(struct sw_loop *loop, size_t i)
{
	struct sw_timer *t = loop->heap[i];

	for (;;) {
		size_t c = 2 * i;

		if (c > loop->heap_len)
			break;
		if (c < loop->heap_len &&
		    loop->heap[c + 1]->deadline < loop->heap[c]->deadline)
			c++;
		if (loop->heap[c]->deadline >= t->deadline)
			break;
		heap_set(loop, i, loop->heap[c]);
		i = c;
	}
	heap_set(loop, i, t);
}

void sw_timer_init(struct sw_timer *t, sw_timer_cb cb, void *data)
{
	t->cb = cb;
	t->data = data;
	t->deadline = 0;
	t->heap_index = 0;
}

void sw_timer_add(struct sw_loop *loop, struct sw_timer *t, uint64_t ms)
{
	uint64_t old = t->deadline;

	t->deadline = loop->now + ms;
	if (t->heap_index) {
		if (t->deadline < old)
			heap_up(loop, t->heap_index);
		else
			heap_down(loop, t->heap_index);
		return;
	}
	if (loop->heap_len + 1 >= loop->heap_cap) {
		loop->heap_cap = loop->heap_cap ? 2 * loop->heap_cap : 64;
		loop->heap = sw_realloc(loop->heap,
					loop->heap_cap * sizeof(*loop->heap));
	}
	heap_set(loop, ++loop->heap_len, t);
	heap_up(loop, loop->heap_len);
}

void sw_timer_del(struct sw_loop *loop, struct sw_timer *t)
{
	size_t i = t->heap_index;
	struct sw_timer *last;

	if (!i)
		return;
	t->heap_index = 0;
	last = loop->heap[loop->heap_len--];
	if (last == t)
		return;
	heap_set(loop, i, last);
	if (i > 1 && loop->heap[i / 2]->deadline > last->deadline)
		heap_up(loop, i);
	else
		heap_down(loop, i);
}

static void run_timers(struct sw_loop *loop)
{
	/* A callback re-arming its timer for 0 ms must not spin here forever. */
	size_t budget = loop->heap_len;

	while (budget-- && loop->heap_len &&
	       loop->heap[1]->deadline <= loop->now) {
		struct sw_timer *t = loop->heap[1];

		sw_timer_del(loop, t);
		t->cb(t);
	}
}

/* ---- the iteration ---- */

static void run_completions(struct sw_loop *loop)
{
	size_t budget = loop->cq_len + CQ_EXTRA_BUDGET;

	while (loop->cq_head && budget--) {
		struct sw_io *io = loop->cq_head;
		struct sw_handle *h = io->handle;

		loop->cq_head = io->next;
		if (!loop->cq_head)
			loop->cq_tail = NULL;
		loop->cq_len--;
		io->queued = 0;
		io->next = NULL;
		/* Free the slot first, so the callback may start the next op. */
		if (h->rd == io)
			h->rd = NULL;
		else if (h->wr == io)
			h->wr = NULL;
		io->state = SW_IO_IDLE;
		io->cb(io, io->res);
	}
}

static void run_closed(struct sw_loop *loop)
{
	while (loop->closed_head) {
		struct sw_handle *h = loop->closed_head;

		loop->closed_head = h->next_closed;
		if (!loop->closed_head)
			loop->closed_tail = NULL;
		h->next_closed = NULL;
		loop->closing--;
		/* The owner may free h in on_closed: touch nothing after. */
		if (h->on_closed)
			h->on_closed(h);
	}
}

/* How long the backend may block: not at all while work is queued. */
static int wait_timeout(const struct sw_loop *loop)
{
	uint64_t next;

	if (loop->stop || loop->cq_head || loop->closed_head)
		return 0;
	if (!loop->heap_len)
		return -1;
	next = loop->heap[1]->deadline;
	if (next <= loop->now)
		return 0;
	return next - loop->now > INT_MAX ? INT_MAX : (int)(next - loop->now);
}

int sw_loop_run(struct sw_loop *loop)
{
	int rc = SW_OK;

	do {
		if (loop->ops->wait(loop, wait_timeout(loop)) != SW_OK) {
			rc = SW_ERROR;
			break;
		}
		sw_loop_update_time(loop);
		run_completions(loop);
		run_closed(loop);
		run_timers(loop);
	} while (!loop->stop);
	loop->stop = false;
	return rc;
}

void sw_loop_stop(struct sw_loop *loop)
{
	loop->stop = true;
}

size_t sw_loop_finish_closes(struct sw_loop *loop, uint64_t ms)
{
	uint64_t end;

	sw_loop_update_time(loop);
	end = loop->now + ms;
	run_closed(loop);
	while (loop->closing && loop->now < end) {
		uint64_t left = end - loop->now;

		if (loop->ops->wait(loop, left > INT_MAX ? INT_MAX : (int)left) != SW_OK)
			break;
		sw_loop_update_time(loop);
		run_closed(loop);
	}
	return loop->closing;
}
