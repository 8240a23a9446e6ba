/* SPDX-License-Identifier: MIT */
/* upconn.c - connections to upstream servers: non-blocking connect, keep-alive pools. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "core/log.h"
#include "http/context.h"
#include "proxy/proxy.h"

#define UPCONN_BUF (16 * 1024)

static void on_closed(struct sw_handle *h)
{
	struct px_upconn *uc = h->data;

	px_state_put(uc->st);
	free(uc->buf);
	free(uc);
}

void px_upconn_close(struct px_upconn *uc)
{
	px_stat_pool(uc->srv, uc->pooled ? 0 : -1, uc->pooled ? -1 : 0);
	uc->pooled = false;
	uc->srv->nopen--;
	sw_timer_del(uc->st->ctx->loop, &uc->timer);
	sw_loop_close_handle(uc->st->ctx->loop, &uc->h, on_closed);
	px_fwd_capacity(uc->srv);
}

/* Unlinks uc from its server's idle list. */
static void unlink_idle(struct px_upconn *uc)
{
	struct px_upconn **pp = &uc->srv->idle;

	while (*pp && *pp != uc)
		pp = &(*pp)->next;
	if (*pp) {
		*pp = uc->next;
		uc->srv->nidle--;
	}
	uc->next = NULL;
}

/* An idle connection became readable: the upstream closed it (or sent what nobody asked for). */
static void on_idle_event(struct sw_io *io, ssize_t res)
{
	struct px_upconn *uc = io->data;

	(void)res;
	uc->idle_watch = false;
	unlink_idle(uc);
	px_upconn_close(uc);
}

static void on_idle_timeout(struct sw_timer *t)
{
	struct px_upconn *uc = t->data;

	if (uc->fwd)
		return;   /* busy: the forward's own timers govern it */
	unlink_idle(uc);
	if (uc->idle_watch)
		sw_loop_cancel(uc->st->ctx->loop, &uc->rio);
	px_upconn_close(uc);
}

struct px_upconn *px_upconn_take(struct px_server *s)
{
	struct px_upconn *uc = s->idle;

	if (!uc)
		return NULL;
	s->idle = uc->next;
	s->nidle--;
	uc->next = NULL;
	uc->pooled = false;
	px_stat_pool(s, 1, -1);
	if (uc->idle_watch) {
		sw_loop_cancel(uc->st->ctx->loop, &uc->rio);
		uc->idle_watch = false;
	}
	sw_timer_del(uc->st->ctx->loop, &uc->timer);
	uc->reused = true;
	uc->len = uc->used = 0;
	return uc;
}

static void on_connect_timeout(struct sw_timer *t)
{
	struct px_upconn *uc = t->data;

	/* Completes the connect as failed; the forward decides what follows. */
	sw_loop_cancel(uc->st->ctx->loop, &uc->wio);
	uc->wio.cb(&uc->wio, -ETIMEDOUT);
}

static void on_writable(struct sw_io *io, ssize_t res)
{
	struct px_upconn *uc = io->data;
	int err = 0;
	socklen_t len = sizeof(err);

	sw_timer_del(uc->st->ctx->loop, &uc->timer);
	if (res >= 0 && getsockopt(uc->h.fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0)
		uc->connected = true;
	else if (res >= 0)
		res = -(err ? err : EIO);
	/* Hand over to whoever opened it: the callback stored in rio by px_upconn_open. */
	uc->rio.cb(&uc->rio, uc->connected ? 0 : (res < 0 ? res : -EIO));
}

struct px_upconn *px_upconn_open(struct px_server *s, struct px_state *st, sw_io_cb cb,
				 void *data, int *err)
{
	int family = s->addr.ss_family;
	int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct px_upconn *uc;
	int one = 1;

	if (fd < 0) {
		*err = errno;
		return NULL;
	}
	if (family != AF_UNIX)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	uc = sw_calloc(1, sizeof(*uc));
	uc->srv = s;
	uc->st = st;
	st->refs++;
	uc->cap = UPCONN_BUF;
	uc->buf = sw_malloc(uc->cap);
	sw_timer_init(&uc->timer, on_connect_timeout, uc);
	if (sw_loop_add_flags(st->ctx->loop, &uc->h, fd, uc, SW_HANDLE_PRIVATE) != SW_OK) {
		close(fd);
		px_state_put(st);
		free(uc->buf);
		free(uc);
		*err = EMFILE;
		return NULL;
	}
	s->nopen++;
	px_stat_pool(s, 1, 0);
	if (connect(fd, (const struct sockaddr *)&s->addr, s->addrlen) != 0 &&
	    errno != EINPROGRESS) {
		*err = errno;
		px_upconn_close(uc);
		return NULL;
	}
	/* The owner's callback waits in rio until the connect completes. */
	uc->rio.cb = cb;
	uc->rio.data = data;
	uc->wio.data = uc;
	uc->wio.cb = on_writable;
	if (sw_loop_poll(st->ctx->loop, &uc->h, &uc->wio, true) != SW_OK) {
		*err = EIO;
		px_upconn_close(uc);
		return NULL;
	}
	return uc;
}

/* Arms the connect deadline of a connection px_upconn_open just made. */
void px_upconn_connect_timeout(struct px_upconn *uc, uint32_t ms)
{
	sw_timer_add(uc->st->ctx->loop, &uc->timer, ms);
}

void px_upconn_release(struct px_upconn *uc, bool reusable)
{
	struct px_server *s = uc->srv;
	const struct sw_pool_cfg *pool = &s->up->cfg->connection_pool;

	uc->fwd = NULL;
	/* A state replaced by a reload keeps no pool: its connections just close. */
	if (!reusable || s->nidle >= pool->max_idle || uc->st != uc->st->ctx->proxy) {
		px_upconn_close(uc);
		return;
	}
	uc->len = uc->used = 0;
	uc->next = s->idle;
	s->idle = uc;
	s->nidle++;
	uc->pooled = true;
	px_stat_pool(s, -1, 1);
	uc->rio.data = uc;
	uc->rio.cb = on_idle_event;
	uc->idle_watch = sw_loop_poll(uc->st->ctx->loop, &uc->h, &uc->rio, false) == SW_OK;
	sw_timer_init(&uc->timer, on_idle_timeout, uc);
	sw_timer_add(uc->st->ctx->loop, &uc->timer, pool->idle_timeout_ms);
	px_fwd_capacity(s);
}

void px_pool_drain(struct px_state *st)
{
	for (size_t i = 0; i < st->nups; i++)
		for (size_t k = 0; k < st->ups[i].nservers; k++) {
			struct px_server *s = &st->ups[i].servers[k];
			while (s->idle) {
				struct px_upconn *uc = px_upconn_take(s);
				px_upconn_close(uc);
			}
		}
}
