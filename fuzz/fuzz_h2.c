/* SPDX-License-Identifier: MIT */
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
 * The router and its handlers are fake_router.h's, the loop fake_loop.h's.
 * Checked: every begun exchange is finished exactly once, a held one is
 * aborted when its stream goes, no handler callback comes after its
 * exchange was finished or aborted, a body never exceeds
 * max_body_bytes, and no timer of the connection stays armed after close.
 */
#include <config.h>

#include <string.h>
#define FUZZ_NAME "fuzz_h2"
#include "fuzz_common.h"
#include "fake_loop.h"
#include "fake_router.h"
#include "core/module.h"
#include "http/context.h"
#include "http/http1_conn_impl.h"
#include "http/http2_config.h"

extern const struct sw_module sw_module_http2;

#define MAX_STEPS 20000

/* ---- the fake world ---- */

static struct {
	struct sw_ctx w;
	struct sw_config cfg;
	struct sw_slot_stats stats;
	struct sw_conn c;
	const struct sw_h2_api *api;
	bool reading, closed;
	sw_io_cb send_cb;
	size_t send_len;
} F;

/* The module entry names its config section; setup() fills the section's struct by hand. */
const struct sw_config_section sw_http2_config_section = { .slot = SW_UNIT_HTTP2 };

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
	sw_timer_add(c->ctx->loop, &c->timer, ms);
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
	sw_timer_del(c->ctx->loop, &c->timer);
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

	static struct sw_http2_cfg h2cfg;

	memset(&F.cfg, 0, sizeof(F.cfg));
	F.cfg.unit[SW_UNIT_HTTP2].data = &h2cfg;
	h2cfg.max_streams = max_streams[opts & 3];
	h2cfg.initial_window_size = opts & 4 ? 16 : 1 << 20;
	h2cfg.max_frame_size = 16384;
	h2cfg.max_header_list_size = 8192;
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
	F.c.ctx = &F.w;
	F.c.state = C_H2;
	F.c.rio.data = F.c.wio.data = &F.c;
	F.c.x.resp.file_fd = -1;
	sw_timer_init(&F.c.timer, on_conn_timer, &F.c);
	fuzz_loop_reset(1000);
	F.reading = F.closed = false;
	F.send_cb = NULL;
	fuzz_router_reset(&F.cfg.limits);
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
		if (fuzz_fire_timer(fuzz_now))
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
		if ((opts & 0x40) && fuzz_fire_timer(UINT64_MAX))
			continue;
		if (F.reading) {
			F.reading = false;
			F.c.read_done(&F.c.rio, 0);
			continue;
		}
		if (!fuzz_fire_timer(UINT64_MAX))
			break;
	}
	sw_conn_close(&F.c);

	fuzz_router_check(F.w.request_seq);
	CHECK(fuzz_timers_armed() == 0, "%zu timers armed after close", fuzz_timers_armed());
	if (getenv("FUZZ_H2_TRACE"))   /* what a seed reaches: fuzz/fuzz_h2 FILE */
		fprintf(stderr, "fuzz_h2: %llu exchanges, %zu handled, %llu us of fake time\n",
			(unsigned long long)F.w.request_seq, fuzz_router_handled(),
			(unsigned long long)(fuzz_now - 1000) * 1000);
	free(in);
	return 0;
}
