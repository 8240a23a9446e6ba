/* SPDX-License-Identifier: MIT */
/* loop.h - the completion-style event loop every worker and the master run. */
#ifndef SW_EVENT_LOOP_H
#define SW_EVENT_LOOP_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/socket.h>
#include "core/common.h"
#include "core/config.h"

/*
 * The interface is completion-style: the owner starts an operation
 * (accept, recv, writev, sendfile, poll) on a handle and gets a callback
 * with the result.  io_uring implements it natively; epoll emulates it by
 * trying the syscall when the fd is known ready and otherwise waiting for
 * readiness (edge-triggered), so both backends give the same semantics:
 *
 *  - a callback is never invoked from inside the call that started the
 *    operation; an operation that completes at once is queued and its
 *    callback runs later in the same loop iteration;
 *  - res >= 0 is the syscall's result (bytes, or the new fd for accept),
 *    res < 0 is -errno (never -EAGAIN: the loop waits instead);
 *  - a handle has at most one read-side (accept, recv, poll-in) and one
 *    write-side (writev, sendfile, poll-out) operation pending at once;
 *  - memory an operation refers to (buffers, iovecs) must stay valid until
 *    its callback runs, or, after a cancel or close, until on_closed;
 *  - a cancelled io may be started again at once on the same handle (the
 *    loop tells a late completion of the old operation apart); on another
 *    handle only after the first handle's on_closed;
 *  - recv is for stream sockets (a short read is taken to drain the socket);
 *    read datagrams yourself after a poll-in, until EAGAIN;
 *  - the process ignores SIGPIPE (writev and sendfile to a reset peer);
 *  - one exception to "cancelled means no callback": an accept that had
 *    already taken a connection when it was cancelled (or its handle
 *    closed) still delivers the new fd to its callback, before on_closed,
 *    so no queued client is ever reset.  Accept owners must expect it.
 */

struct sw_loop;
struct sw_io;
struct sw_handle;

typedef void (*sw_io_cb)(struct sw_io *io, ssize_t res);
typedef void (*sw_handle_cb)(struct sw_handle *h);

enum sw_io_op {
	SW_OP_NONE = 0,
	SW_OP_ACCEPT,    /* read side */
	SW_OP_RECV,      /* read side */
	SW_OP_POLL_IN,   /* read side: completes with 0 once readable */
	SW_OP_WRITEV,    /* write side */
	SW_OP_SENDFILE,  /* write side */
	SW_OP_POLL_OUT,  /* write side: completes with 0 once writable */
};

enum sw_io_state { SW_IO_IDLE = 0, SW_IO_PENDING, SW_IO_CANCELLED };

/* One operation.  Embed it in the owner and find the owner with io->data. */
struct sw_io {
	sw_io_cb cb;
	void *data;
	struct sw_handle *handle;
	uint8_t op;       /* enum sw_io_op */
	uint8_t state;    /* enum sw_io_state */
	/* loop state, fits in the padding before the union */
	uint8_t queued;   /* in the completion queue, callback not yet run */
	uint8_t gen;      /* io_uring: tells a cancelled SQE's CQE from a new one's */
	uint8_t inflight; /* io_uring: SQEs in the kernel that name this io */
	uint8_t stage;    /* io_uring: waiting for readiness before a retry */
	union {
		struct { struct sockaddr_storage addr; socklen_t addrlen; } accept;
		struct { void *buf; size_t len; } recv;
		struct { const struct iovec *iov; int iovcnt; } writev;
		struct { int in_fd; off_t offset; size_t len; } sendfile;
	} u;
	ssize_t res;            /* result waiting in the completion queue */
	struct sw_io *next;     /* completion queue link (loop.c) */
};

/* One file descriptor known to the loop. */
struct sw_handle {
	int fd;
	void *data;
	struct sw_io *rd, *wr;  /* pending operations, or NULL */
	/* backend state */
	uint32_t pending;       /* io_uring: SQEs in flight for this handle */
	bool readable, writable;/* epoll: readiness not yet consumed (ET) */
	bool private_fd;        /* SW_HANDLE_PRIVATE */
	bool hup;               /* epoll: peer shut down; reads never block again */
	bool closing;
	sw_handle_cb on_closed;
	struct sw_handle *next_closed;
};

struct sw_timer;
typedef void (*sw_timer_cb)(struct sw_timer *t);

/* A one-shot timer; re-add it to repeat.  Embed it and use t->data. */
struct sw_timer {
	sw_timer_cb cb;
	void *data;
	uint64_t deadline;      /* monotonic ms */
	size_t heap_index;      /* 0 = not armed */
};

/*
 * Creates a loop on the wanted backend.  SW_IO_AUTO tries io_uring and
 * falls back to epoll; the reason for the fallback (e.g. "io_uring_queue_init:
 * Operation not permitted") is written to why.  An explicit SW_IO_URING that
 * cannot start is SW_ERROR with the reason in why.
 */
int sw_loop_open(struct sw_loop **out, enum sw_io_backend want,
		 unsigned entries, char *why, size_t why_size);
void sw_loop_close(struct sw_loop *loop);
/* "epoll" or "io_uring". */
const char *sw_loop_backend_name(const struct sw_loop *loop);
/* True when this build and kernel can run io_uring at all. */
bool sw_loop_uring_available(char *why, size_t why_size);

/* Runs until sw_loop_stop(); returns SW_OK, or SW_ERROR on a backend failure. */
int sw_loop_run(struct sw_loop *loop);
void sw_loop_stop(struct sw_loop *loop);
/*
 * Once the loop has stopped: waits, at most ms, until every handle whose
 * close was started has had its on_closed (an owner frees its memory
 * there), running nothing else (no timers, no I/O callbacks: the process
 * is on its way out).  Returns how many are still closing.
 */
size_t sw_loop_finish_closes(struct sw_loop *loop, uint64_t ms);

/* Monotonic milliseconds, cached once per loop iteration. */
uint64_t sw_loop_now(const struct sw_loop *loop);
/* Refreshes the cached time (after a long callback). */
void sw_loop_update_time(struct sw_loop *loop);

/* Registers fd (non-blocking, owned by the caller until close). */
int sw_loop_add(struct sw_loop *loop, struct sw_handle *h, int fd, void *data);

enum {
	/* A just-accepted socket: nothing to read yet, so the first recv
	 * waits for readiness instead of trying (and failing) at once. */
	SW_HANDLE_FRESH = 1 << 0,
	/* No other process holds this fd: closing it is enough to leave epoll. */
	SW_HANDLE_PRIVATE = 1 << 1,
};
/* sw_loop_add with hints (SW_HANDLE_*) that save syscalls on the hot path. */
int sw_loop_add_flags(struct sw_loop *loop, struct sw_handle *h, int fd, void *data,
		      unsigned flags);
/*
 * Cancels the handle's pending operations (their callbacks are not
 * invoked), closes the fd, and calls on_closed (may be NULL) from the loop
 * once the kernel holds no reference to the handle's buffers; only then
 * may the owner free them.
 */
void sw_loop_close_handle(struct sw_loop *loop, struct sw_handle *h,
			  sw_handle_cb on_closed);
/*
 * Cancels one pending operation; its callback will not be invoked.  On
 * epoll nothing is consumed.  On io_uring the kernel may have finished the
 * op before the cancel reached it: a cancelled recv may have eaten data
 * (an accept's connection is still delivered, see above), so cancel a read only
 * before closing the handle, or wait with poll-in where you may cancel.
 */
void sw_loop_cancel(struct sw_loop *loop, struct sw_io *io);

/* Starting operations: SW_OK, or SW_ERROR if the handle is closing or busy. */
int sw_loop_accept(struct sw_loop *loop, struct sw_handle *h, struct sw_io *io);
int sw_loop_recv(struct sw_loop *loop, struct sw_handle *h, struct sw_io *io,
		 void *buf, size_t len);
int sw_loop_writev(struct sw_loop *loop, struct sw_handle *h, struct sw_io *io,
		   const struct iovec *iov, int iovcnt);
int sw_loop_sendfile(struct sw_loop *loop, struct sw_handle *h, struct sw_io *io,
		     int in_fd, off_t offset, size_t len);
int sw_loop_poll(struct sw_loop *loop, struct sw_handle *h, struct sw_io *io,
		 bool out);
/*
 * sw_loop_poll after the caller's own read (or write) on h's descriptor
 * just failed with EAGAIN, as OpenSSL's do: the readiness is known spent,
 * so the epoll backend waits for the next edge instead of asking the
 * kernel again (one poll syscall per TLS read saved).
 */
int sw_loop_poll_spent(struct sw_loop *loop, struct sw_handle *h, struct sw_io *io,
		       bool out);

/*
 * Completes io with res from the loop as if an operation had run: for work
 * done in user space (TLS) that must keep the callback contract.  The io
 * takes the read or the write slot of h until its callback runs.
 */
int sw_loop_post(struct sw_loop *loop, struct sw_handle *h, struct sw_io *io,
		 bool write_side, ssize_t res);

void sw_timer_init(struct sw_timer *t, sw_timer_cb cb, void *data);
/* Arms (or re-arms) the timer to fire after `ms` milliseconds. */
void sw_timer_add(struct sw_loop *loop, struct sw_timer *t, uint64_t ms);
void sw_timer_del(struct sw_loop *loop, struct sw_timer *t);
static inline bool sw_timer_armed(const struct sw_timer *t) { return t->heap_index != 0; }

#endif
