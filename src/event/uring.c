/* SPDX-License-Identifier: MIT */
/* uring.c - the io_uring backend: native ops, one batched submit per iteration. */
#include <config.h>

#include <errno.h>
#include <liburing.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>
#include "core/common.h"
#include "core/log.h"
#include "core/module.h"
#include "event/backend.h"

#ifndef SW_LIBURING_VERSION
/* configure defines it from pkg-config; a hand build may not. */
#define SW_LIBURING_VERSION "(version unknown)"
#endif

#define DEFAULT_ENTRIES 4096
#define CQE_BATCH 256

/*
 * user_data is the sw_io pointer with io->gen in the low 3 bits (a sw_io
 * is 8-aligned).  A cancelled io may be started again before the kernel
 * reports the old SQE, so a CQE whose tag is not io->gen is that old one.
 * SQEs that name no io (cancels) carry UD_NONE.
 */
#define UD_NONE 0
#define UD_GEN_MASK 7u

/* io->stage: what the SQE in flight for io is doing. */
enum { STAGE_OP, STAGE_POLL };

struct uring_state {
	struct io_uring ring;
};

static inline struct io_uring *ring_of(struct sw_loop *loop)
{
	return &((struct uring_state *)loop->backend)->ring;
}

static inline uint64_t io_tag(const struct sw_io *io)
{
	return (uint64_t)(uintptr_t)io | (io->gen & UD_GEN_MASK);
}

/* A full SQ is flushed to the kernel, which frees its slots at once. */
static struct io_uring_sqe *get_sqe(struct io_uring *ring)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	if (sw_unlikely(!sqe)) {
		io_uring_submit(ring);
		sqe = io_uring_get_sqe(ring);
	}
	return sqe;
}

static void prep_op(struct io_uring_sqe *sqe, struct sw_io *io)
{
	int fd = io->handle->fd;

	switch (io->op) {
	case SW_OP_RECV:
		io_uring_prep_recv(sqe, fd, io->u.recv.buf, io->u.recv.len, 0);
		break;
	case SW_OP_WRITEV:
		/* -1: the file position, which a socket or pipe ignores. */
		io_uring_prep_writev(sqe, fd, io->u.writev.iov,
				     (unsigned)io->u.writev.iovcnt, (__u64)-1);
		break;
	case SW_OP_POLL_IN:
		io_uring_prep_poll_add(sqe, fd, POLLIN);
		break;
	default: /* SW_OP_POLL_OUT */
		io_uring_prep_poll_add(sqe, fd, POLLOUT);
		break;
	}
}

/* Queues an SQE for io: its op, or (STAGE_POLL) a wait for readiness. */
static int submit(struct sw_loop *loop, struct sw_io *io, int stage)
{
	struct io_uring_sqe *sqe = get_sqe(ring_of(loop));

	if (sw_unlikely(!sqe))
		return SW_ERROR;
	io->stage = (uint8_t)stage;
	if (stage == STAGE_POLL)
		io_uring_prep_poll_add(sqe, io->handle->fd,
				       sw_io_is_write(io) ? POLLOUT : POLLIN);
	else
		prep_op(sqe, io);
	io_uring_sqe_set_data64(sqe, io_tag(io));
	io->inflight++;
	io->handle->pending++;
	return SW_OK;
}

/*
 * io_uring has no sendfile, and splice would need a pipe per connection.
 * A page-cache hit is the common case, so sendfile(2) runs here and only
 * an EAGAIN costs a POLLOUT wait and another try.
 */
static int sendfile_step(struct sw_loop *loop, struct sw_io *io)
{
	off_t off = io->u.sendfile.offset;
	ssize_t n;

	do
		n = sendfile(io->handle->fd, io->u.sendfile.in_fd, &off,
			     io->u.sendfile.len);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return submit(loop, io, STAGE_POLL);
	sw_backend_complete(loop, io, n < 0 ? -errno : n);
	return SW_OK;
}

/*
 * Accept runs as accept4(2) after a POLLIN, not as IORING_OP_ACCEPT: the
 * kernel arms io_uring accepts with an exclusive wake-up, and when a
 * draining worker cancels one that had just been woken, the connection
 * stays queued while the other workers on the socket sleep on.  Poll
 * wake-ups reach every waiter, so nothing is stranded; under load the
 * first accept4 succeeds and no poll is needed at all.
 */
static int accept_step(struct sw_loop *loop, struct sw_io *io)
{
	int fd;

	io->u.accept.addrlen = sizeof(io->u.accept.addr);
	fd = accept4(io->handle->fd, (struct sockaddr *)&io->u.accept.addr,
		     &io->u.accept.addrlen, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0 && (errno == EAGAIN || errno == EINTR))
		return submit(loop, io, STAGE_POLL);
	sw_backend_complete(loop, io, fd < 0 ? -errno : fd);
	return SW_OK;
}

/* The ops io_uring has no native form for run as a syscall plus a poll. */
static int step(struct sw_loop *loop, struct sw_io *io)
{
	if (io->op == SW_OP_SENDFILE)
		return sendfile_step(loop, io);
	if (io->op == SW_OP_ACCEPT)
		return accept_step(loop, io);
	return submit(loop, io, STAGE_OP);
}

static int ur_start(struct sw_loop *loop, struct sw_io *io)
{
	io->gen = (uint8_t)((io->gen + 1) & UD_GEN_MASK);
	return step(loop, io);
}

static void ur_cancel(struct sw_loop *loop, struct sw_io *io)
{
	struct io_uring_sqe *sqe;

	if (io->inflight == 0) {
		io->state = SW_IO_IDLE;
		return;
	}
	/* Without an SQE the op still completes; its CQE is then dropped. */
	sqe = get_sqe(ring_of(loop));
	if (!sqe)
		return;
	io_uring_prep_cancel64(sqe, io_tag(io), 0);
	io_uring_sqe_set_data64(sqe, UD_NONE);
}

static void finish_close(struct sw_loop *loop, struct sw_handle *h)
{
	close(h->fd);
	h->fd = -1;
	sw_backend_closed(loop, h);
}

/*
 * The fd stays open while SQEs name it: one not yet submitted still holds
 * the number, which a new accept could reuse after a close.
 */
static void ur_close(struct sw_loop *loop, struct sw_handle *h)
{
	if (h->pending == 0)
		finish_close(loop, h);
}

/* The CQE of an op that was cancelled: nobody wants it any more. */
static void on_stale(struct sw_io *io)
{
	/* No accept runs inside the kernel (see accept_step): nothing to hand on. */
	if (io->state == SW_IO_CANCELLED && io->inflight == 0)
		io->state = SW_IO_IDLE;
}

/* io's fd was reported ready (or the op saw EAGAIN): try the op again. */
static void retry(struct sw_loop *loop, struct sw_io *io)
{
	if (step(loop, io) != SW_OK)
		sw_backend_complete(loop, io, -ENOMEM);
}

/* The op itself saw EAGAIN (kernels that honour O_NONBLOCK): poll first. */
static void retry_after_poll(struct sw_loop *loop, struct sw_io *io)
{
	if (submit(loop, io, STAGE_POLL) != SW_OK)
		sw_backend_complete(loop, io, -ENOMEM);
}

static void on_result(struct sw_loop *loop, struct sw_io *io, int res)
{
	if (io->stage == STAGE_POLL) {
		if (res < 0)
			sw_backend_complete(loop, io, res);
		else
			retry(loop, io);
	} else if (sw_unlikely(res == -EAGAIN)) {
		retry_after_poll(loop, io);
	} else if (io->op == SW_OP_POLL_IN || io->op == SW_OP_POLL_OUT) {
		/* The event mask is of no use to the owner: ready is 0. */
		sw_backend_complete(loop, io, res < 0 ? res : 0);
	} else {
		sw_backend_complete(loop, io, res);
	}
}

static void on_cqe(struct sw_loop *loop, uint64_t ud, int res)
{
	struct sw_io *io;
	struct sw_handle *h;
	uint64_t tag = ud & UD_GEN_MASK;

	if (ud == UD_NONE || ud == LIBURING_UDATA_TIMEOUT)
		return;
	io = (struct sw_io *)(uintptr_t)(ud & ~(uint64_t)UD_GEN_MASK);
	h = io->handle;
	io->inflight--;
	h->pending--;
	if (io->state == SW_IO_PENDING && tag == io->gen)
		on_result(loop, io, res);
	else
		on_stale(io);
	if (h->closing && h->pending == 0)
		finish_close(loop, h);
}

static void reap(struct sw_loop *loop)
{
	struct io_uring *ring = ring_of(loop);
	struct io_uring_cqe *cqes[CQE_BATCH];
	/* CQEs posted while we reap wait for the next iteration. */
	unsigned limit = ring->cq.ring_entries;
	unsigned n;

	while (limit && (n = io_uring_peek_batch_cqe(ring, cqes, CQE_BATCH))) {
		for (unsigned i = 0; i < n; i++)
			on_cqe(loop, cqes[i]->user_data, cqes[i]->res);
		io_uring_cq_advance(ring, n);
		limit = n < limit ? limit - n : 0;
	}
}

/* The one io_uring_enter of the iteration: submit the batch, then wait. */
static int ur_wait(struct sw_loop *loop, int timeout_ms)
{
	struct io_uring *ring = ring_of(loop);
	struct io_uring_cqe *cqe;
	int ret;

	if (timeout_ms == 0) {
		ret = io_uring_submit_and_get_events(ring);
	} else if (timeout_ms < 0) {
		ret = io_uring_submit_and_wait(ring, 1);
	} else {
		struct __kernel_timespec ts = {
			.tv_sec = timeout_ms / 1000,
			.tv_nsec = (long long)(timeout_ms % 1000) * 1000000,
		};
		ret = io_uring_submit_and_wait_timeout(ring, &cqe, 1, &ts, NULL);
	}
	if (ret < 0 && ret != -ETIME && ret != -EINTR && ret != -EAGAIN &&
	    ret != -EBUSY) {
		sw_log_errno(SW_LOG_ERROR, -ret, "io_uring_enter");
		return SW_ERROR;
	}
	reap(loop);
	return SW_OK;
}

static int ur_add(struct sw_loop *loop, struct sw_handle *h)
{
	return SW_OK;
}

/* The opcodes this backend issues; a kernel lacking one gets epoll. */
static int check_ops(struct io_uring *ring, char *why, size_t why_size)
{
	static const struct { int op; const char *name; } need[] = {
		{ IORING_OP_ACCEPT, "ACCEPT" }, { IORING_OP_RECV, "RECV" },
		{ IORING_OP_WRITEV, "WRITEV" }, { IORING_OP_POLL_ADD, "POLL_ADD" },
		{ IORING_OP_ASYNC_CANCEL, "ASYNC_CANCEL" },
	};
	struct io_uring_probe *probe = io_uring_get_probe_ring(ring);
	int rc = SW_OK;

	if (!probe) {
		snprintf(why, why_size, "io_uring: cannot probe opcodes");
		return SW_ERROR;
	}
	for (size_t i = 0; i < SW_ARRAY_SIZE(need) && rc == SW_OK; i++) {
		if (!io_uring_opcode_supported(probe, need[i].op)) {
			snprintf(why, why_size, "io_uring: kernel lacks IORING_OP_%s",
				 need[i].name);
			rc = SW_ERROR;
		}
	}
	io_uring_free_probe(probe);
	return rc;
}

static int ur_init(struct sw_loop *loop, unsigned entries, char *why,
		   size_t why_size)
{
	struct uring_state *st = sw_calloc(1, sizeof(*st));
	/*
	 * Newest first: DEFER_TASKRUN (6.1) runs completion work only when we
	 * wait for events, once per loop iteration, which is exactly when we
	 * want it (one worker thread is the only issuer); COOP_TASKRUN (5.19)
	 * at least spares the IPI; older kernels know neither.
	 */
	static const unsigned flag_sets[] = {
		IORING_SETUP_SUBMIT_ALL | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
		IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN,
		0,
	};
	unsigned n = entries ? entries : DEFAULT_ENTRIES;
	struct io_uring_params p;
	int ret = -EINVAL;

	for (size_t i = 0; i < SW_ARRAY_SIZE(flag_sets) && ret == -EINVAL; i++) {
		memset(&p, 0, sizeof(p));
		p.flags = flag_sets[i];
		ret = io_uring_queue_init_params(n, &st->ring, &p);
	}
	if (ret < 0) {
		snprintf(why, why_size, "io_uring_queue_init: %s", strerror(-ret));
		free(st);
		return SW_ERROR;
	}
	if (check_ops(&st->ring, why, why_size) != SW_OK) {
		io_uring_queue_exit(&st->ring);
		free(st);
		return SW_ERROR;
	}
	loop->backend = st;
	return SW_OK;
}

static void ur_deinit(struct sw_loop *loop)
{
	struct uring_state *st = loop->backend;

	io_uring_queue_exit(&st->ring);
	free(st);
	loop->backend = NULL;
}

static const struct sw_backend_ops uring_ops = {
	.name = "io_uring",
	.init = ur_init,
	.deinit = ur_deinit,
	.add = ur_add,
	.start = ur_start,
	.cancel = ur_cancel,
	.close = ur_close,
	.wait = ur_wait,
};

static void uring_versions(char *buf, size_t size)
{
	snprintf(buf, size, "liburing " SW_LIBURING_VERSION);
}

const struct sw_module sw_module_io_uring = {
	.name = "io_uring",
	.summary = "io_uring I/O backend (liburing)",
	.versions = uring_versions,
	.check_config = NULL,
	.impl = &uring_ops,
};
