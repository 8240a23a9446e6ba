/* uring.c - the io_uring backend: native accept/recv/writev/poll, one batched submit per iteration. */
#include "config.h"

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
	case SW_OP_ACCEPT:
		io->u.accept.addrlen = sizeof(io->u.accept.addr);
		io_uring_prep_accept(sqe, fd, (struct sockaddr *)&io->u.accept.addr,
				     &io->u.accept.addrlen,
				     SOCK_NONBLOCK | SOCK_CLOEXEC);
		break;
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
 * sendfile has no io_uring opcode before splice pairs, and a page-cache
 * hit is the common case: try it here and wait for POLLOUT on EAGAIN.
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

static int ur_start(struct sw_loop *loop, struct sw_io *io)
{
	io->gen = (uint8_t)((io->gen + 1) & UD_GEN_MASK);
	if (io->op == SW_OP_SENDFILE)
		return sendfile_step(loop, io);
	return submit(loop, io, STAGE_OP);
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
static void on_stale(struct sw_io *io, uint64_t tag, int res)
{
	if (io->state == SW_IO_CANCELLED && io->inflight == 0)
		io->state = SW_IO_IDLE;
	/* An accept the cancel came too late for made an fd nobody owns. */
	if (res >= 0 && tag == io->gen && io->op == SW_OP_ACCEPT &&
	    io->stage == STAGE_OP)
		close(res);
}

/* io's fd was reported ready (or the op saw EAGAIN): try the op again. */
static void retry(struct sw_loop *loop, struct sw_io *io)
{
	int rc;

	if (io->op == SW_OP_SENDFILE)
		rc = sendfile_step(loop, io);
	else
		rc = submit(loop, io, STAGE_OP);
	if (rc != SW_OK)
		sw_backend_complete(loop, io, -ENOMEM);
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
	if (io->state != SW_IO_PENDING || tag != io->gen)
		on_stale(io, tag, res);
	else if (io->stage == STAGE_POLL)
		if (res < 0)
			sw_backend_complete(loop, io, res);
		else
			retry(loop, io);
	else if (sw_unlikely(res == -EAGAIN))
		/* Older kernels return EAGAIN for O_NONBLOCK files. */
		retry_after_poll(loop, io);
	else if (io->op == SW_OP_POLL_IN || io->op == SW_OP_POLL_OUT)
		sw_backend_complete(loop, io, res < 0 ? res : 0);
	else
		sw_backend_complete(loop, io, res);
	if (h->closing && h->pending == 0)
		finish_close(loop, h);
}
