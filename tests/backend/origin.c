/* SPDX-License-Identifier: MIT */
/* origin.c - a standalone HTTP/1.1 test origin for the proxy tests: event loop, connections, start-up. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "origin.h"

/* ---- buffers ---- */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p) {
		fprintf(stderr, "origin: out of memory\n");
		abort();
	}
	return p;
}

void buf_reserve(struct buf *b, size_t n)
{
	size_t cap = b->cap ? b->cap : 4096;

	if (b->cap - b->len >= n)
		return;
	while (cap - b->len < n)
		cap *= 2;
	b->p = xrealloc(b->p, cap);
	b->cap = cap;
}

void buf_append(struct buf *b, const void *p, size_t n)
{
	buf_reserve(b, n);
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	buf_reserve(b, 256);
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if ((size_t)n >= b->cap - b->len) {
		buf_reserve(b, (size_t)n + 1);
		va_start(ap, fmt);
		vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

void buf_free(struct buf *b)
{
	free(b->p);
	*b = (struct buf){ 0 };
}

/* ---- timers ---- */

static void timer_clear(struct conn *c)
{
	if (!c->deadline)
		return;
	if (c->tprev)
		c->tprev->tnext = c->tnext;
	else
		c->srv->timed = c->tnext;
	if (c->tnext)
		c->tnext->tprev = c->tprev;
	c->tprev = c->tnext = NULL;
	c->deadline = 0;
	c->wait = W_NONE;
}

void timer_set(struct conn *c, int64_t ms, enum wait w)
{
	timer_clear(c);
	c->deadline = c->srv->now + (ms > 0 ? ms : 0) + 1;   /* never 0: 0 means none */
	c->wait = w;
	c->tnext = c->srv->timed;
	if (c->tnext)
		c->tnext->tprev = c;
	c->srv->timed = c;
}

/* ---- connection I/O ---- */

int conn_flush(struct conn *c)
{
	struct buf *o = &c->out;

	while (o->off < o->len) {
		ssize_t n = send(c->fd, o->p + o->off, o->len - o->off, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
		}
		o->off += (size_t)n;
		c->last_active = c->srv->now;
	}
	o->off = o->len = 0;
	return 1;
}

/* One read into the input buffer: 0 on data or would-block, -1 on EOF or error. */
static int conn_fill(struct conn *c)
{
	struct buf *in = &c->in;
	ssize_t n;

	if (in->off) {
		memmove(in->p, in->p + in->off, in->len - in->off);
		in->len -= in->off;
		in->off = 0;
	}
	if (in->len == in->cap)
		return 0;
	n = recv(c->fd, in->p + in->len, in->cap - in->len, 0);
	if (n > 0) {
		in->len += (size_t)n;
		c->last_active = c->srv->now;
		return 0;
	}
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return 0;
	return -1;
}

int conn_linger(struct conn *c)
{
	shutdown(c->fd, SHUT_WR);
	c->st = ST_DRAIN;
	timer_set(c, LINGER_MS, W_LINGER);
	return 0;
}

static void conn_update(struct conn *c)
{
	uint32_t ev = 0;
	size_t pending = c->out.len - c->out.off;
	struct epoll_event e;

	switch (c->st) {
	case ST_HEAD:
	case ST_BODY:
	case ST_DRAIN:
		ev = EPOLLIN;
		break;
	case ST_WS:
		ev = pending > WS_OUT_MAX || c->ws_closing ? 0 : EPOLLIN;
		break;
	case ST_SEND:
		ev = EPOLLOUT;
		break;
	case ST_WAIT:
		break;
	}
	if (pending)
		ev |= EPOLLOUT;
	if (ev == c->events)
		return;
	e = (struct epoll_event){ .events = ev, .data.ptr = c };
	epoll_ctl(c->srv->ep, EPOLL_CTL_MOD, c->fd, &e);
	c->events = ev;
}

static void conn_close(struct conn *c)
{
	struct server *s = c->srv;

	timer_clear(c);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	close(c->fd);
	buf_free(&c->in);
	buf_free(&c->out);
	buf_free(&c->echo);
	free(c);
}

/* ST_SEND: write the response, refilling from its generator; then the next request. */
static int send_step(struct conn *c)
{
	int rc;

	do {
		if ((rc = conn_flush(c)) <= 0)
			return rc;
	} while (http_gen_fill(c));
	buf_free(&c->echo);
	if (c->close_after)
		return conn_linger(c);
	c->st = ST_HEAD;
	return 1;
}

/* Drive the connection as far as it goes without blocking; -1: close it. */
static int conn_run(struct conn *c)
{
	int rc = 1;

	while (rc == 1) {
		switch (c->st) {
		case ST_HEAD: rc = http_head_step(c); break;
		case ST_BODY: rc = http_body_step(c); break;
		case ST_SEND: rc = send_step(c); break;
		case ST_WS: rc = http_ws_step(c); break;
		case ST_WAIT: rc = conn_flush(c) < 0 ? -1 : 0; break;
		case ST_DRAIN: c->in.off = c->in.len; rc = 0; break;
		}
	}
	if (rc < 0)
		return -1;
	conn_update(c);
	return 0;
}

static void conn_event(struct conn *c, uint32_t ev)
{
	int rc = 0;

	if (ev & EPOLLERR)
		rc = -1;
	else if (ev & (EPOLLIN | EPOLLHUP))
		rc = conn_fill(c);
	if (rc == 0)
		rc = conn_run(c);
	if (rc < 0)
		conn_close(c);
}

static void timer_fire(struct conn *c)
{
	enum wait w = c->wait;

	timer_clear(c);
	if (w == W_LINGER) {
		conn_close(c);
		return;
	}
	if (w == W_SLOW)
		http_respond(c, 200, "slow\n");
	else
		buf_append(&c->out, "slowbody\n", 9);
	c->st = ST_SEND;
	if (conn_run(c) < 0)
		conn_close(c);
}

/* ---- the server ---- */

static void accept_all(struct server *s, int lfd)
{
	int fd, one = 1;

	while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		struct conn *c = calloc(1, sizeof(*c));
		struct epoll_event e = { .events = EPOLLIN };

		if (!c) {
			close(fd);
			return;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c->kind = K_CONN;
		c->fd = fd;
		c->srv = s;
		c->serial = ++s->serial;
		c->events = EPOLLIN;
		c->last_active = s->now;
		c->st = ST_HEAD;
		buf_reserve(&c->in, IN_CAP);
		http_req_reset(c);
		e.data.ptr = c;
		if (epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &e) < 0) {
			close(fd);
			buf_free(&c->in);
			free(c);
			continue;
		}
		c->next = s->conns;
		if (c->next)
			c->next->prev = c;
		s->conns = c;
	}
}

static void timers_run(struct server *s)
{
	struct conn *c = s->timed, *next;

	for (; c; c = next) {
		next = c->tnext;
		if (c->deadline <= s->now)
			timer_fire(c);
	}
}

/* Close connections quiet for longer than idle_ms (those waiting on a timer excepted). */
static void idle_sweep(struct server *s)
{
	struct conn *c = s->conns, *next;

	for (; c; c = next) {
		next = c->next;
		if (!c->deadline && s->now - c->last_active > s->idle_ms)
			conn_close(c);
	}
}

static int next_timeout(const struct server *s)
{
	int64_t t = 1000;

	for (const struct conn *c = s->timed; c; c = c->tnext)
		if (c->deadline - s->now < t)
			t = c->deadline - s->now;
	return t < 0 ? 0 : (int)t;
}

static void serve(struct server *s)
{
	struct epoll_event ev[256];
	int64_t swept = now_ms();

	for (;;) {
		int n = epoll_wait(s->ep, ev, 256, next_timeout(s));

		if (n < 0 && errno != EINTR)
			return;
		s->now = now_ms();
		for (int i = 0; i < n; i++) {
			struct src *src = ev[i].data.ptr;

			if (src->kind == K_SIGNAL)
				return;
			if (src->kind == K_LISTEN)
				accept_all(s, src->fd);
			else
				conn_event((struct conn *)src, ev[i].events);
		}
		timers_run(s);
		if (s->now - swept >= 1000) {
			idle_sweep(s);
			swept = s->now;
		}
	}
}

/* ---- start-up ---- */

struct opts {
	const char *host, *unix_path, *name;
	long port;
	int ready_fd;
	long idle_ms;
};

static void usage(void)
{
	fprintf(stderr, "usage: origin --port N [--host ADDR] [--unix PATH] [--name NAME]\n"
		"              [--ready-fd FD] [--idle-ms MS]\n");
	exit(64);
}

static void parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "host", required_argument, NULL, 'H' },
		{ "unix", required_argument, NULL, 'u' },
		{ "name", required_argument, NULL, 'n' },
		{ "ready-fd", required_argument, NULL, 'r' },
		{ "idle-ms", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	char *end;
	int ch;

	*o = (struct opts){ .host = "127.0.0.1", .name = "origin", .port = -1,
			    .ready_fd = -1, .idle_ms = 60000 };
	while ((ch = getopt_long(argc, argv, "p:H:u:n:r:i:h", lo, NULL)) != -1) {
		errno = 0;
		switch (ch) {
		case 'p': o->port = strtol(optarg, &end, 10); break;
		case 'H': o->host = optarg; continue;
		case 'u': o->unix_path = optarg; continue;
		case 'n': o->name = optarg; continue;
		case 'r': o->ready_fd = (int)strtol(optarg, &end, 10); break;
		case 'i': o->idle_ms = strtol(optarg, &end, 10); break;
		default: usage();
		}
		if (errno || *end || end == optarg)
			usage();
	}
	if (optind != argc || o->port > 65535 || o->idle_ms <= 0 ||
	    (o->port < 0 && !o->unix_path))
		usage();
}

static int listen_tcp(const struct opts *o, char *line, size_t n)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
	socklen_t sl = sizeof(*a4);
	int fd, one = 1;
	bool v6 = false;

	if (inet_pton(AF_INET, o->host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)o->port);
	} else if (inet_pton(AF_INET6, o->host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)o->port);
		sl = sizeof(*a6);
		v6 = true;
	} else {
		fprintf(stderr, "origin: --host %s: not an IP address\n", o->host);
		exit(64);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, SOMAXCONN) < 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
		fprintf(stderr, "origin: cannot listen on %s:%ld: %s\n", o->host, o->port,
			strerror(errno));
		exit(1);
	}
	snprintf(line, n, "listening on %s%s%s:%u\n", v6 ? "[" : "", o->host, v6 ? "]" : "",
		 ntohs(v6 ? a6->sin6_port : a4->sin_port));
	return fd;
}

static int listen_unix(const char *path, char *line, size_t n)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "origin: --unix %s: path too long\n", path);
		exit(64);
	}
	strcpy(sa.sun_path, path);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, SOMAXCONN) < 0) {
		fprintf(stderr, "origin: cannot listen on unix:%s: %s\n", path, strerror(errno));
		exit(1);
	}
	snprintf(line, n, "listening on unix:%s\n", path);
	return fd;
}

static void watch(int ep, struct src *src)
{
	struct epoll_event e = { .events = EPOLLIN, .data.ptr = src };

	if (epoll_ctl(ep, EPOLL_CTL_ADD, src->fd, &e) < 0) {
		perror("origin: epoll_ctl");
		exit(1);
	}
}

/* TERM and INT arrive through a signalfd, so the loop needs no global flag. */
static int signals_open(void)
{
	sigset_t set;
	int fd;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0) {
		perror("origin: signalfd");
		exit(1);
	}
	return fd;
}

static void announce(const struct opts *o, const char *tcp, const char *unx)
{
	char all[2 * 320];

	snprintf(all, sizeof(all), "%s%s", tcp, unx);
	fputs(all, stdout);
	fflush(stdout);
	if (o->ready_fd >= 0) {
		if (write(o->ready_fd, all, strlen(all)) < 0)
			perror("origin: --ready-fd");
		close(o->ready_fd);
	}
}

int main(int argc, char **argv)
{
	struct opts o;
	struct server s = { 0 };
	struct src tcp = { K_LISTEN, -1 }, unx = { K_LISTEN, -1 }, sig = { K_SIGNAL, -1 };
	char tline[320] = "", uline[320] = "";

	parse_opts(argc, argv, &o);
	s.name = o.name;
	s.idle_ms = o.idle_ms;
	s.now = now_ms();
	sig.fd = signals_open();
	s.ep = epoll_create1(EPOLL_CLOEXEC);
	if (s.ep < 0) {
		perror("origin: epoll_create1");
		return 1;
	}
	watch(s.ep, &sig);
	if (o.port >= 0) {
		tcp.fd = listen_tcp(&o, tline, sizeof(tline));
		watch(s.ep, &tcp);
	}
	if (o.unix_path) {
		unx.fd = listen_unix(o.unix_path, uline, sizeof(uline));
		watch(s.ep, &unx);
	}
	announce(&o, tline, uline);
	serve(&s);
	while (s.conns)
		conn_close(s.conns);
	if (o.unix_path)
		unlink(o.unix_path);
	return 0;
}
