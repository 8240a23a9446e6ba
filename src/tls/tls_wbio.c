/* SPDX-License-Identifier: MIT */
/* tls_wbio.c - the session's write side: records gather in memory, one send(2) per flush. */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <openssl/bio.h>
#include "core/common.h"
#include "tls/tls_impl.h"

/*
 * OpenSSL's socket BIO makes one write(2) per TLS record, so 64 KiB of
 * HTTP/2 frames cost four sends and four trips through TCP.  This BIO
 * keeps the records of a write in memory and sends them together when
 * OpenSSL (handshake flights, alerts) or the connection (after each
 * SSL_write) flushes.  The buffer exists only while bytes are waiting,
 * so an idle connection holds none.
 *
 * A write past WBIO_HIGH waiting bytes first tries to flush, and asks
 * OpenSSL to retry when the socket is full; the connection never stages
 * that much, so this is a bound, not a path taken.
 */
#define WBIO_HIGH (256 * 1024)
/* Room for a whole write (four full records with their overhead) in one allocation. */
#define WBIO_FIRST (4 * (16384 + 256))

struct wbio {
	int fd;
	char *buf;
	size_t len, off, cap;
};

static BIO_METHOD *method;

static void release(struct wbio *w)
{
	free(w->buf);
	w->buf = NULL;
	w->len = w->off = w->cap = 0;
}

/* 1 when everything waiting went out, -1 (retry set when the socket was full) otherwise. */
static long flush(BIO *b, struct wbio *w)
{
	BIO_clear_retry_flags(b);
	while (w->off < w->len) {
		ssize_t n = send(w->fd, w->buf + w->off, w->len - w->off, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				BIO_set_retry_write(b);
			return -1;
		}
		w->off += (size_t)n;
	}
	release(w);
	return 1;
}

static int on_write(BIO *b, const char *data, size_t n, size_t *written)
{
	struct wbio *w = BIO_get_data(b);

	*written = 0;
	if (w->len - w->off + n > WBIO_HIGH && flush(b, w) <= 0)
		return 0;
	if (w->len + n > w->cap) {
		/* Slide what is left to the front before growing. */
		if (w->off) {
			memmove(w->buf, w->buf + w->off, w->len - w->off);
			w->len -= w->off;
			w->off = 0;
		}
		if (w->len + n > w->cap) {
			size_t cap = SW_MAX(SW_MAX(w->cap * 2, w->len + n), (size_t)WBIO_FIRST);
			char *p = realloc(w->buf, cap);

			if (!p)
				return 0;
			w->buf = p;
			w->cap = cap;
		}
	}
	memcpy(w->buf + w->len, data, n);
	w->len += n;
	*written = n;
	return 1;
}

static long on_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	struct wbio *w = BIO_get_data(b);

	(void)num;
	(void)ptr;
	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return flush(b, w);
	case BIO_CTRL_WPENDING:
		return (long)(w->len - w->off);
	case BIO_CTRL_PENDING:
		return 0;
	case BIO_CTRL_DUP:
		return 1;
	default:
		return 0;
	}
}

static int on_create(BIO *b)
{
	BIO_set_init(b, 0);
	return 1;
}

static int on_destroy(BIO *b)
{
	struct wbio *w = BIO_get_data(b);

	if (w) {
		release(w);
		free(w);
		BIO_set_data(b, NULL);
	}
	return 1;
}

BIO *sw_tls_wbio_new(int fd)
{
	struct wbio *w;
	BIO *b;

	if (!method) {
		int type = BIO_get_new_index();

		if (type < 0 || !(method = BIO_meth_new(type | BIO_TYPE_SOURCE_SINK, "swerver send")))
			return NULL;
		BIO_meth_set_write_ex(method, on_write);
		BIO_meth_set_ctrl(method, on_ctrl);
		BIO_meth_set_create(method, on_create);
		BIO_meth_set_destroy(method, on_destroy);
	}
	if (!(w = calloc(1, sizeof(*w))))
		return NULL;
	if (!(b = BIO_new(method))) {
		free(w);
		return NULL;
	}
	w->fd = fd;
	BIO_set_data(b, w);
	BIO_set_init(b, 1);
	return b;
}
