/*
 * fuzz_h2.c - libFuzzer target for HTTP/2 input as swerver's nghttp2
 * session takes it: src/http/http2.c (session, I/O, flood limits, drain),
 * http2_stream.c (streams as exchanges, request heads and bodies,
 * responses) and http2_check.c (the RFC 9113 checks nghttp2 leaves out).
 * What lies below and above them is faked here: the connection (reads,
 * writes that may complete in pieces, close), the loop's timers and clock,
 * and a router whose handlers answer in the ways real ones do.
 *
 * Input layout:
 *   byte 0   how the client's bytes arrive: < 0x80 in reads of (b + 1) * 8
 *            bytes; >= 0x80 in pseudo-random reads of 1..((b & 0x7f) + 1) * 8
 *   byte 1   settings: bits 0-1 http2.max_streams (128, 1, 2, 10); bit 2 a
 *            16-byte initial window instead of 1 MiB; bit 3 writes complete
 *            a few bytes at a time; bit 4 the worker drains halfway; bit 5
 *            small limits (4 fields, 256 header bytes, 100 body bytes);
 *            bit 6 the connection times out instead of seeing EOF at the end
 *   rest     what the client sends after the connection preface (added here)
 *
 * Handlers, by the first letter of the path after '/': e 404 from
 * sw_exchange_error; m a 40000-byte body from memory; s a streamed body in
 * three pieces; b reads the whole request body, then answers its size;
 * h holds the exchange (as the proxy does) until the codec aborts it; any
 * other a small body.  Checked: every begun exchange is finished exactly
 * once, a held one is aborted when its stream goes, no handler callback
 * comes after its exchange was finished or aborted, a body never exceeds
 * max_body_bytes, and no timer of the connection stays armed after close.
 */
#include <config.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/log.h"
#include "core/module.h"
#include "daemon/worker.h"
#include "http/conn_impl.h"
#include "http/router.h"
#include "http/access_log.h"
#include "http/metrics.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
extern const struct sw_module sw_module_http2;

#define CHECK(cond, ...) do { \
	if (!(cond)) { \
		fprintf(stderr, "fuzz_h2: invariant failed at line %d: %s\n  ", __LINE__, #cond); \
		fprintf(stderr, __VA_ARGS__); \
		fputc('\n', stderr); \
		abort(); \
	} \
} while (0)

#define MAX_TIMERS 4096
#define MAX_STEPS 20000
#define MAX_HELD 4096

/* ---- the fake world ---- */

static struct {
	struct sw_worker w;
	struct sw_config cfg;
	struct sw_slot_stats stats;
	struct sw_conn c;
	const struct sw_h2_api *api;
	uint64_t now;
	struct sw_timer *timers[MAX_TIMERS];
	size_t ntimers;
	bool reading, closed;
	sw_io_cb send_cb;
	size_t send_len;
	uint64_t finished;
	/* exchanges a handler holds, and whether their callbacks may still come */
	struct sw_exchange *held[MAX_HELD];
	size_t nheld;
} F;

/* One handler's state per exchange: a side table keyed by the exchange. */
struct job {
	struct sw_exchange *x;
	uint64_t seq;        /* request_seq when it began: tells a recycled exchange */
	int piece;
	uint64_t body;
	bool live;
};
static struct job jobs[MAX_HELD];
static size_t njobs;

static struct job *job_of(struct sw_exchange *x)
{
	for (size_t i = njobs; i-- > 0;)
		if (jobs[i].x == x)
			return &jobs[i];
	return NULL;
}

static struct job *job_new(struct sw_exchange *x)
{
	struct job *j;

	if (njobs == MAX_HELD)
		return NULL;
	j = &jobs[njobs++];
	*j = (struct job){ .x = x, .seq = F.w.request_seq, .live = true };
	return j;
}

/* A callback for x: its job must still be live. */
static struct job *job_live(struct sw_exchange *x, const char *what)
{
	struct job *j = job_of(x);

	CHECK(j && j->live, "%s callback for an exchange its handler is done with", what);
	return j;
}

uint64_t sw_loop_now(const struct sw_loop *loop)
{
	(void)loop;
	return F.now;
}

void sw_timer_init(struct sw_timer *t, sw_timer_cb cb, void *data)
{
	t->cb = cb;
	t->data = data;
	t->heap_index = 0;
	t->deadline = 0;
}

void sw_timer_add(struct sw_loop *loop, struct sw_timer *t, uint64_t ms)
{
	(void)loop;
	t->deadline = F.now + ms;
	if (t->heap_index)
		return;
	CHECK(F.ntimers < MAX_TIMERS, "too many timers");
	F.timers[F.ntimers++] = t;
	t->heap_index = F.ntimers;
}

void sw_timer_del(struct sw_loop *loop, struct sw_timer *t)
{
	(void)loop;
	if (!t->heap_index)
		return;
	for (size_t i = 0; i < F.ntimers; i++)
		if (F.timers[i] == t) {
			F.timers[i] = F.timers[--F.ntimers];
			break;
		}
	t->heap_index = 0;
}

/* Fires the earliest timer if it is due by `until`; false when none is. */
static bool fire_timer(uint64_t until)
{
	struct sw_timer *t = NULL;

	for (size_t i = 0; i < F.ntimers; i++)
		if (!t || F.timers[i]->deadline < t->deadline)
			t = F.timers[i];
	if (!t || t->deadline > until)
		return false;
	sw_timer_del(NULL, t);
	if (t->deadline > F.now)
		F.now = t->deadline;
	t->cb(t);
	return true;
}

void sw_conn_reserve(struct sw_conn *c, size_t size)
{
	if (c->cap < size) {
		c->buf = realloc(c->buf, size);
		if (!c->buf)
			abort();
		c->cap = size;
	}
}

void sw_conn_read(struct sw_conn *c)
{
	CHECK(!F.closed && c->len < c->cap, "read on a closed or full connection");
	F.reading = true;
}

void sw_conn_send_iov(struct sw_conn *c, sw_io_cb cb)
{
	size_t n = 0;

	CHECK(!F.closed && !F.send_cb, "a write while another is in flight");
	for (int i = 0; i < c->iovcnt; i++)
		n += c->iov[i].iov_len;
	CHECK(n > 0, "an empty write");
	F.send_cb = cb;
	F.send_len = n;
}

void sw_conn_set_timer(struct sw_conn *c, uint32_t ms)
{
	sw_timer_add(c->w->loop, &c->timer, ms);
}

static void on_conn_timer(struct sw_timer *t)
{
	struct sw_conn *c = t->data;

	F.api->timeout(c);
}

/* Which connections may be closed to make room: the worker's business, not the codec's. */
void sw_conn_set_idle(struct sw_conn *c, bool idle)
{
	(void)c;
	(void)idle;
}

void sw_conn_close(struct sw_conn *c)
{
	if (F.closed)
		return;
	F.closed = true;
	F.reading = false;
	F.send_cb = NULL;
	if (c->h2) {
		F.api->close(c);
		c->h2 = NULL;
	}
	sw_timer_del(c->w->loop, &c->timer);
}

void sw_addr_format(const struct sockaddr *sa, char *buf, size_t size)
{
	(void)sa;
	snprintf(buf, size, "fuzz");
}

const char *sw_clock_http_date(void)
{
	return "Sun, 06 Nov 1994 08:49:37 GMT";
}

bool sw_log_enabled(enum sw_log_level level)
{
	(void)level;
	return false;
}

void sw_log_at(const struct sw_log_site *at, enum sw_log_level level, int err,
	       const char *fmt, ...)
{
	(void)at;
	(void)level;
	(void)err;
	(void)fmt;
}

void sw_access_log_write(const struct sw_exchange *x)
{
	(void)x;
}

void sw_metrics_observe(const struct sw_exchange *x)
{
	struct job *j = job_of((struct sw_exchange *)x);

	F.finished++;
	if (j)
		j->live = false;
}

/* ---- the handlers ---- */

static char big[40000];

static void respond_memory(struct sw_exchange *x, const char *p, size_t n)
{
	x->resp.status = 200;
	x->resp.body_kind = SW_BODY_MEMORY;
	x->resp.body = (struct sw_str){ p, n };
	x->resp.content_length = n;
	x->ops->respond(x);
}

static void on_piece_sent(struct sw_exchange *x, int res)
{
	static const char *pieces[] = { "abc", "", "defgh" };
	struct job *j = job_live(x, "sent");

	if (res < 0 || j->piece == 3)
		return;
	j->piece++;
	sw_exchange_write_body(x, pieces[j->piece - 1], strlen(pieces[j->piece - 1]),
			       j->piece == 3, on_piece_sent);
}

static void on_body(struct sw_exchange *x, const char *p, ssize_t n, bool last)
{
	struct job *j = job_live(x, "body");
	char *out;
	int len;

	(void)p;
	if (n < 0) {
		sw_exchange_error(x, 400);
		return;
	}
	j->body += (uint64_t)n;
	CHECK(j->body <= F.cfg.limits.max_body_bytes, "%llu body bytes, limit %llu",
	      (unsigned long long)j->body, (unsigned long long)F.cfg.limits.max_body_bytes);
	if (!last) {
		sw_exchange_read_body(x, on_body);
		return;
	}
	out = sw_exchange_buffer(x, 32);
	len = snprintf(out, 32, "%llu\n", (unsigned long long)j->body);
	respond_memory(x, out, (size_t)len);
}

static void on_held_abort(struct sw_exchange *x)
{
	job_live(x, "abort")->live = false;
}

void sw_router_dispatch(struct sw_exchange *x)
{
	struct sw_str path = x->req.path;
	struct job *j = job_new(x);
	char kind = path.len > 1 ? path.p[1] : '/';

	if (!j) {
		sw_exchange_error(x, 503);
		return;
	}
	switch (kind) {
	case 'e':
		sw_exchange_error(x, 404);
		break;
	case 'm':
		respond_memory(x, big, sizeof(big));
		break;
	case 's':
		x->resp.status = 200;
		x->resp.body_kind = SW_BODY_STREAM;
		x->resp.content_length = SW_LENGTH_UNKNOWN;
		x->ops->respond(x);
		on_piece_sent(x, 0);
		break;
	case 'b':
		sw_exchange_read_body(x, on_body);
		break;
	case 'h':
		x->on_abort = on_held_abort;
		break;
	default:
		respond_memory(x, "ok\n", 3);
		break;
	}
}

/* ---- driving it ---- */

struct feeder {
	const uint8_t *p;
	size_t n, off;
	uint8_t ctl;
	uint32_t rng;
};

static uint32_t rnd(struct feeder *f)
{
	f->rng ^= f->rng << 13;
	f->rng ^= f->rng >> 17;
	f->rng ^= f->rng << 5;
	return f->rng;
}

static size_t next_read(struct feeder *f)
{
	size_t step;

	if (f->ctl < 0x80)
		step = ((size_t)f->ctl + 1) * 8;
	else
		step = 1 + rnd(f) % (((f->ctl & 0x7fu) + 1) * 8);
	return SW_MIN(step, f->n - f->off);
}

static void setup(uint8_t opts)
{
	static const uint32_t max_streams[] = { 128, 1, 2, 10 };
	static struct sw_loop *no_loop;

	memset(&F.cfg, 0, sizeof(F.cfg));
	F.cfg.http2.max_streams = max_streams[opts & 3];
	F.cfg.http2.initial_window_size = opts & 4 ? 16 : 1 << 20;
	F.cfg.http2.max_frame_size = 16384;
	F.cfg.http2.max_header_list_size = 8192;
	F.cfg.limits.max_header_count = opts & 0x20 ? 4 : 128;
	F.cfg.limits.max_header_bytes = opts & 0x20 ? 256 : 32768;
	F.cfg.limits.max_body_bytes = opts & 0x20 ? 100 : 1 << 20;
	F.cfg.timeouts.idle_ms = 60000;
	F.cfg.timeouts.body_ms = 30000;
	F.cfg.timeouts.write_ms = 30000;
	F.cfg.server.server_header = true;
	memset(&F.w, 0, sizeof(F.w));
	memset(&F.stats, 0, sizeof(F.stats));
	F.w.cfg = &F.cfg;
	F.w.stats = &F.stats;
	F.w.loop = no_loop;
	F.api = sw_module_http2.impl;
	F.w.h2_api = F.api;
	free(F.c.buf);
	memset(&F.c, 0, sizeof(F.c));
	F.c.w = &F.w;
	F.c.state = C_H2;
	F.c.rio.data = F.c.wio.data = &F.c;
	F.c.x.resp.file_fd = -1;
	sw_timer_init(&F.c.timer, on_conn_timer, &F.c);
	F.now = 1000;
	F.ntimers = 0;
	F.reading = F.closed = false;
	F.send_cb = NULL;
	F.finished = 0;
	njobs = 0;
}

/* Client bytes into the receive buffer, as a read completes. */
static void deliver(struct feeder *f)
{
	struct sw_conn *c = &F.c;
	size_t n = SW_MIN(next_read(f), c->cap - c->len);

	memcpy(c->buf + c->len, f->p + f->off, n);
	f->off += n;
	F.reading = false;
	c->read_done(&c->rio, (ssize_t)n);
}

static void complete_send(struct feeder *f, bool trickle)
{
	sw_io_cb cb = F.send_cb;
	size_t n = F.send_len;

	if (trickle)
		n = SW_MIN(n, 1 + rnd(f) % 64);
	F.send_cb = NULL;
	cb(&F.c.wio, (ssize_t)n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char preface[] = SW_H2_PREFACE;
	struct feeder f;
	uint8_t opts;
	uint8_t *in;
	bool drained = false;

	if (size < 2)
		return 0;
	opts = data[1];
	setup(opts);
	in = malloc(SW_H2_PREFACE_LEN + size - 2);
	if (!in)
		abort();
	memcpy(in, preface, SW_H2_PREFACE_LEN);
	memcpy(in + SW_H2_PREFACE_LEN, data + 2, size - 2);
	f = (struct feeder){ .p = in, .n = SW_H2_PREFACE_LEN + size - 2, .ctl = data[0],
			     .rng = 0x9e3779b9u ^ (uint32_t)size };

	F.api->start(&F.c);
	for (int step = 0; step < MAX_STEPS && !F.closed; step++) {
		if ((opts & 0x10) && !drained && f.off >= f.n / 2) {
			drained = true;
			F.w.draining = true;
			F.api->drain(&F.c);
			continue;
		}
		if (fire_timer(F.now))
			continue;   /* what is due now runs first, as in the loop */
		if (F.send_cb && (!F.reading || f.off == f.n || (rnd(&f) & 1))) {
			complete_send(&f, opts & 8);
			continue;
		}
		if (F.reading && f.off < f.n) {
			deliver(&f);
			continue;
		}
		/* The client has sent everything: time passes, then it goes away. */
		if ((opts & 0x40) && fire_timer(UINT64_MAX))
			continue;
		if (F.reading) {
			F.reading = false;
			F.c.read_done(&F.c.rio, 0);
			continue;
		}
		if (!fire_timer(UINT64_MAX))
			break;
	}
	sw_conn_close(&F.c);

	CHECK(F.finished == F.w.request_seq, "%llu exchanges begun, %llu finished",
	      (unsigned long long)F.w.request_seq, (unsigned long long)F.finished);
	for (size_t i = 0; i < njobs; i++)
		CHECK(!jobs[i].live, "exchange %zu neither finished nor aborted", i);
	CHECK(F.ntimers == 0, "%zu timers armed after close", F.ntimers);
	if (getenv("FUZZ_H2_TRACE"))   /* what a seed reaches: fuzz/fuzz_h2 FILE */
		fprintf(stderr, "fuzz_h2: %llu exchanges, %zu handled, %llu us of fake time\n",
			(unsigned long long)F.w.request_seq, njobs,
			(unsigned long long)(F.now - 1000) * 1000);
	free(in);
	return 0;
}
