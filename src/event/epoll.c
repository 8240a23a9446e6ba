/* SPDX-License-Identifier: MIT */
/* epoll.c - the epoll backend: completions emulated on edge-triggered readiness. */
#include <config.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include "core/common.h"
#include "core/log.h"
#include "event/backend.h"

#define MAX_EVENTS 512

struct epoll_state {
	int epfd;
	struct epoll_event events[MAX_EVENTS];
};

static int ep_init(struct sw_loop *loop, unsigned entries, char *why,
		   size_t why_size)
{
	struct epoll_state *st = sw_malloc(sizeof(*st));

	st->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (st->epfd < 0) {
		if (why && why_size)
			snprintf(why, why_size, "epoll_create1: %s", strerror(errno));
		free(st);
		return SW_ERROR;
	}
	loop->backend = st;
	return SW_OK;
}

static void ep_deinit(struct sw_loop *loop)
{
	struct epoll_state *st = loop->backend;

	close(st->epfd);
	free(st);
	loop->backend = NULL;
}

static int ep_add(struct sw_loop *loop, struct sw_handle *h)
{
	struct epoll_state *st = loop->backend;
	struct epoll_event ev = {
		.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
		.data.ptr = h,
	};

	if (epoll_ctl(st->epfd, EPOLL_CTL_ADD, h->fd, &ev) < 0) {
		sw_log_errno(SW_LOG_ERROR, errno, "epoll_ctl(ADD, fd %d)", h->fd);
		return SW_ERROR;
	}
	return SW_OK;
}

/* Readiness check for poll ops: the flag alone may be stale (new handles). */
static ssize_t poll_now(int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };
	int n = poll(&p, 1, 0);

	if (n < 0)
		return -errno;
	return n ? 0 : -EAGAIN;
}

/* One non-blocking attempt: the result, or -errno (-EAGAIN = not ready). */
static ssize_t attempt(struct sw_io *io)
{
	int fd = io->handle->fd;
	ssize_t n;
	off_t off;

	switch (io->op) {
	case SW_OP_ACCEPT:
		io->u.accept.addrlen = sizeof(io->u.accept.addr);
		n = accept4(fd, (struct sockaddr *)&io->u.accept.addr,
			    &io->u.accept.addrlen, SOCK_NONBLOCK | SOCK_CLOEXEC);
		break;
	case SW_OP_RECV:
		n = recv(fd, io->u.recv.buf, io->u.recv.len, 0);
		break;
	case SW_OP_WRITEV:
		n = writev(fd, io->u.writev.iov, io->u.writev.iovcnt);
		break;
	case SW_OP_SENDFILE:
		off = io->u.sendfile.offset;
		n = sendfile(fd, io->u.sendfile.in_fd, &off, io->u.sendfile.len);
		break;
	case SW_OP_POLL_IN:
		return poll_now(fd, POLLIN);
	case SW_OP_POLL_OUT:
		return poll_now(fd, POLLOUT);
	default:
		return -EINVAL;
	}
	return n < 0 ? -errno : n;
}

/* EINTR is no result for the owner; ECONNABORTED and the like are. */
static ssize_t attempt_nointr(struct sw_io *io)
{
	ssize_t res;

	do
		res = attempt(io);
	while (sw_unlikely(res == -EINTR));
	return res;
}

static bool short_writev(const struct sw_io *io, ssize_t res)
{
	size_t total = 0;

	for (int i = 0; i < io->u.writev.iovcnt; i++)
		total += io->u.writev.iov[i].iov_len;
	return (size_t)res < total;
}

/*
 * Tries io and queues its completion, or clears the readiness flag and
 * leaves it for the next edge.  With EPOLLET a short recv or writev means
 * the socket buffer was drained or filled, so the next attempt would only
 * cost an EAGAIN syscall: the flag is cleared and new data or space raises
 * a new edge that sets it.  After a hang-up no edge comes, so reads stay
 * ready.
 */
static void try_io(struct sw_loop *loop, struct sw_io *io)
{
	struct sw_handle *h = io->handle;
	ssize_t res = attempt_nointr(io);

	if (res == -EAGAIN) {
		if (sw_io_is_write(io))
			h->writable = false;
		else
			h->readable = false;
		return;
	}
	if (io->op == SW_OP_RECV && res > 0 && (size_t)res < io->u.recv.len &&
	    !h->hup)
		h->readable = false;
	else if (io->op == SW_OP_WRITEV && res > 0 && short_writev(io, res))
		h->writable = false;
	sw_backend_complete(loop, io, res);
}

static int ep_start(struct sw_loop *loop, struct sw_io *io)
{
	struct sw_handle *h = io->handle;

	if (sw_io_is_write(io) ? h->writable : h->readable)
		try_io(loop, io);
	return SW_OK;
}

/* Nothing of an unqueued op is in the kernel: forgetting it is enough. */
static void ep_cancel(struct sw_loop *loop, struct sw_io *io)
{
	io->state = SW_IO_IDLE;
}

/*
 * close() alone drops the registration only when no other descriptor
 * (dup, fork, SCM_RIGHTS) shares the open file: a listener inherited from
 * the master would keep reporting events that name the freed handle.  So
 * the registration goes first.  Events for h already in this iteration's
 * batch are skipped by h->closing, and on_closed waits for the iteration's
 * end, after the batch.
 */
static void ep_close(struct sw_loop *loop, struct sw_handle *h)
{
	struct epoll_state *st = loop->backend;

	/* A copy of the fd in another process would keep the registration alive. */
	if (!h->private_fd)
		epoll_ctl(st->epfd, EPOLL_CTL_DEL, h->fd, NULL);
	close(h->fd);
	h->fd = -1;
	sw_backend_closed(loop, h);
}

/*
 * An edge just came for io's side: a poll op completes on it without the
 * confirming poll() that a possibly stale flag needs in ep_start.
 */
static void on_edge(struct sw_loop *loop, struct sw_io *io)
{
	if (io->op == SW_OP_POLL_IN || io->op == SW_OP_POLL_OUT)
		sw_backend_complete(loop, io, 0);
	else
		try_io(loop, io);
}

static void on_event(struct sw_loop *loop, struct sw_handle *h, uint32_t ev)
{
	/* Hang-up and error wake both sides: the ops then see EOF or errno. */
	if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
		/* No edge follows end of stream: a short recv must not wait. */
		if (ev & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
			h->hup = true;
		h->readable = true;
		if (h->rd && !h->rd->queued)
			on_edge(loop, h->rd);
	}
	if (ev & (EPOLLOUT | EPOLLHUP | EPOLLERR)) {
		h->writable = true;
		if (h->wr && !h->wr->queued)
			on_edge(loop, h->wr);
	}
}

static int ep_wait(struct sw_loop *loop, int timeout_ms)
{
	struct epoll_state *st = loop->backend;
	int n = epoll_wait(st->epfd, st->events, MAX_EVENTS, timeout_ms);

	if (n < 0) {
		if (errno == EINTR)
			return SW_OK;
		sw_log_errno(SW_LOG_ERROR, errno, "epoll_wait");
		return SW_ERROR;
	}
	for (int i = 0; i < n; i++) {
		struct sw_handle *h = st->events[i].data.ptr;

		if (sw_likely(!h->closing))
			on_event(loop, h, st->events[i].events);
	}
	return SW_OK;
}

const struct sw_backend_ops sw_backend_epoll = {
	.name = "epoll",
	.init = ep_init,
	.deinit = ep_deinit,
	.add = ep_add,
	.start = ep_start,
	.cancel = ep_cancel,
	.close = ep_close,
	.wait = ep_wait,
};
