/* SPDX-License-Identifier: MIT */
/* http1_conn_tls.c - the HTTP/1.1 connection over TLS: handshake, reads and writes by readiness. */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/iov.h"
#include "core/log.h"
#include "http/context.h"
#include "http/http1_conn_impl.h"
#include "tls/tls.h"

/*
 * OpenSSL reads and writes the socket itself, so TLS connections use the
 * loop for readiness (poll ops) rather than for the I/O; results reach the
 * connection through sw_loop_post, keeping "never a callback inside the
 * call" for both backends.  A write hands OpenSSL up to TLS_BATCH bytes
 * (several records) and then flushes them in one send (tls/tls_wbio.c).
 * Pieces of several iovecs, or of a file, are copied into a TLS_STAGE
 * buffer first; a single iovec (HTTP/2's output) is encrypted in place.
 */
#define TLS_STAGE 16384
#define TLS_BATCH (64 * 1024)
/*
 * The first record after a pause fits one TCP segment, so the client can
 * decrypt the head (and first bytes) of a response as soon as the first
 * packet lands, instead of waiting for a full 16 KiB record; records after
 * it are full size, which is what throughput wants.
 */
#define TLS_FIRST_RECORD 1360
#define TLS_PAUSE_MS 1000

static void handshake_step(struct sw_conn *c);
static void read_step(struct sw_conn *c);
static void write_step(struct sw_conn *c);

static const struct sw_tls_api *api(const struct sw_conn *c)
{
	return c->ctx->tls_api;
}

/*
 * Waits for the socket to be ready in the direction OpenSSL asked for.
 * OpenSSL (SSL_MODE_AUTO_RETRY, on by default) asks only after the socket
 * itself said EAGAIN, so the readiness the loop remembers is spent.
 */
static int wait_for(struct sw_conn *c, ssize_t want, sw_io_cb cb)
{
	bool out = want == SW_TLS_WANT_WRITE;
	struct sw_io *io = out ? &c->wio : &c->rio;

	io->data = c;
	io->cb = cb;
	return sw_loop_poll_spent(c->ctx->loop, &c->h, io, out);
}

/* ---- handshake ---- */

static void on_handshake_ready(struct sw_io *io, ssize_t res)
{
	struct sw_conn *c = io->data;

	if (res < 0)
		sw_conn_close(c);
	else
		handshake_step(c);
}

static void handshake_step(struct sw_conn *c)
{
	int rc = api(c)->handshake(c->tls);

	if (rc == SW_OK) {
		api(c)->peer_subject(c->tls, c->tls_client, sizeof(c->tls_client));
		/* ALPN offers h2 only when the codec is built in. */
		if (c->ctx->h2_api && strcmp(api(c)->alpn(c->tls), "h2") == 0)
			sw_conn_start_h2(c);
		else
			sw_conn_read(c);
	} else if (rc == SW_TLS_WANT_READ || rc == SW_TLS_WANT_WRITE) {
		if (wait_for(c, rc, on_handshake_ready) != SW_OK)
			sw_conn_close(c);
	} else {
		sw_debug("TLS handshake failed");
		sw_conn_close(c);
	}
}

void sw_conn_tls_handshake(struct sw_conn *c)
{
	if (!c->tls_buf)
		c->tls_buf = sw_malloc(TLS_STAGE);
	c->tls_staged = 0;
	c->tls_last_write_ms = 0;
	c->tls_client[0] = '\0';
	handshake_step(c);
}

/* ---- reading ---- */

static void on_read_ready(struct sw_io *io, ssize_t res)
{
	struct sw_conn *c = io->data;

	if (res < 0)
		sw_conn_close(c);
	else
		read_step(c);
}

static void read_step(struct sw_conn *c)
{
	ssize_t n = api(c)->read(c->tls, c->rd_p, c->rd_n);

	if (n == SW_TLS_WANT_READ || n == SW_TLS_WANT_WRITE) {
		if (wait_for(c, n, on_read_ready) != SW_OK)
			sw_conn_close(c);
		return;
	}
	c->rio.data = c;
	c->rio.cb = c->read_done;
	if (sw_loop_post(c->ctx->loop, &c->h, &c->rio, false, n >= 0 ? n : -EPROTO) != SW_OK)
		sw_conn_close(c);
}

void sw_conn_tls_read(struct sw_conn *c)
{
	read_step(c);
}

/* ---- writing ---- */

/* How much the next write may carry: full, or one segment's worth after a pause. */
static size_t record_size(struct sw_conn *c, size_t full)
{
	uint64_t now = sw_loop_now(c->ctx->loop);
	bool paused = now - c->tls_last_write_ms >= TLS_PAUSE_MS;

	c->tls_last_write_ms = now;
	return paused ? TLS_FIRST_RECORD : full;
}

/*
 * Copies as much of the iovecs as one record holds.  A response head that
 * fits is followed by the start of its file body, so a small file goes in
 * the head's record: one SSL_write and one send instead of two.
 */
static size_t stage_iov(struct sw_conn *c)
{
	size_t n = 0, max, want;
	ssize_t got;

	c->tls_file_staged = 0;
	if (c->iovcnt == 1 && !c->file_left) {
		c->tls_wptr = c->iov[0].iov_base;
		return SW_MIN(c->iov[0].iov_len, record_size(c, TLS_BATCH));
	}
	c->tls_wptr = c->tls_buf;
	max = record_size(c, TLS_STAGE);
	for (int i = 0; i < c->iovcnt && n < max; i++) {
		size_t k = SW_MIN(c->iov[i].iov_len, max - n);
		memcpy(c->tls_buf + n, c->iov[i].iov_base, k);
		n += k;
	}
	if (!c->file_left || c->x.resp.file_fd < 0 || n == max ||
	    n != sw_iov_total(c->iov, c->iovcnt))
		return n;
	want = (size_t)SW_MIN(c->file_left, (uint64_t)(max - n));
	got = pread(c->x.resp.file_fd, c->tls_buf + n, want, c->x.resp.file_offset);
	if (got <= 0)
		return n;   /* the file's own write meets the error again, and reports it */
	c->tls_file_staged = (size_t)got;
	return n + (size_t)got;
}

/* The file bytes that went with the head are the body's first progress. */
static size_t take_file_staged(struct sw_conn *c)
{
	size_t k = c->tls_file_staged;

	c->tls_file_staged = 0;
	c->x.resp.file_offset += (off_t)k;
	c->file_left -= k;
	c->x.bytes_out += k;
	return k;
}

/* The next piece of a file body: TLS cannot use sendfile. */
static ssize_t stage_file(struct sw_conn *c)
{
	size_t want = (size_t)SW_MIN(c->file_left, (uint64_t)record_size(c, TLS_STAGE));
	ssize_t n = pread(c->x.resp.file_fd, c->tls_buf, want, c->x.resp.file_offset);

	c->tls_wptr = c->tls_buf;
	return n < 0 ? -errno : n;
}

static void on_write_ready(struct sw_io *io, ssize_t res)
{
	struct sw_conn *c = io->data;

	if (res < 0)
		sw_conn_close(c);
	else
		write_step(c);
}

static void post_write(struct sw_conn *c, ssize_t res)
{
	c->wio.data = c;
	c->wio.cb = c->write_done;
	if (sw_loop_post(c->ctx->loop, &c->h, &c->wio, true, res) != SW_OK)
		sw_conn_close(c);
}

/*
 * Encrypts what is staged, then sends it.  The write is reported done
 * only once the flush has put every record on the socket: the caller may
 * close the connection next.
 */
static void write_step(struct sw_conn *c)
{
	ssize_t n;

	if (c->tls_staged) {
		n = api(c)->write(c->tls, c->tls_wptr, c->tls_staged);
		if (n == SW_TLS_WANT_READ || n == SW_TLS_WANT_WRITE) {
			/* OpenSSL wants the same bytes again: they stay staged. */
			if (wait_for(c, n, on_write_ready) != SW_OK)
				sw_conn_close(c);
			return;
		}
		if (n <= 0) {
			c->tls_staged = 0;
			post_write(c, -EPIPE);
			return;
		}
		c->tls_written = c->tls_staged - take_file_staged(c);
		c->tls_staged = 0;
	}
	n = api(c)->flush(c->tls);
	if (n == SW_TLS_WANT_WRITE) {
		if (wait_for(c, n, on_write_ready) != SW_OK)
			sw_conn_close(c);
		return;
	}
	post_write(c, n == SW_OK ? (ssize_t)c->tls_written : -EPIPE);
}

void sw_conn_tls_write(struct sw_conn *c, bool file)
{
	ssize_t n = file ? stage_file(c) : (ssize_t)stage_iov(c);

	if (n <= 0) {
		post_write(c, n < 0 ? n : 0);   /* 0: the file shrank; the caller closes */
		return;
	}
	c->tls_staged = (size_t)n;
	write_step(c);
}

void sw_conn_tls_close(struct sw_conn *c)
{
	if (!c->tls)
		return;
	api(c)->shutdown(c->tls);
	api(c)->session_free(c->tls);
	c->tls = NULL;
}
