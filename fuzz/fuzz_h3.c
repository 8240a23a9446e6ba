/* SPDX-License-Identifier: MIT */
/*
 * fuzz_h3.c - libFuzzer target for HTTP/3 streams as swerver's nghttp3
 * connection takes them: src/quic/h3.c (request heads, bodies, responses,
 * stream life) over nghttp3, with QUIC below it faked here the way
 * src/quic/conn.c drives nghttp3: stream data in, stream resets and
 * closes, write passes whose bytes are acknowledged at once or one pass
 * later, and the ngtcp2 calls h3.c makes answered by stubs.  The router's
 * handlers and the loop are fake_router.h's and fake_loop.h's, as for
 * fuzz_h2.c.
 *
 * Input layout:
 *   byte 0   bits 0-1 the client's bidi stream limit (100, 1, 3, 8); bit 2
 *            acknowledgements come one write pass late; bit 3 small limits
 *            (4 fields, 256 header bytes, 100 body bytes); bit 4 the worker
 *            drains halfway
 *   then     records: byte s, then for data a length byte and that many
 *            bytes.  s & 15 picks the stream: 0 the client's control stream
 *            (id 2), 1 its QPACK encoder stream (6), 2 its decoder stream
 *            (10), 3-15 request streams 0, 4, ... 48.  s & 0x10: FIN with
 *            the data; s & 0x20: RESET_STREAM/STOP_SENDING instead of data;
 *            s & 0x40: the stream closes (QUIC gave up on it) instead.
 *
 * Checked, as for HTTP/2: every begun exchange finished exactly once, held
 * ones aborted, no handler callback after finish or abort, bodies within
 * max_body_bytes, no timer left and every body chunk back in the pool
 * once the connection is freed; ASan and UBSan for the rest.
 */
#include <config.h>

#include <string.h>
#define FUZZ_NAME "fuzz_h3"
#include "fuzz_common.h"
#include "fake_loop.h"
#include "fake_router.h"
#include "http/context.h"
#include "quic/quic_impl.h"

#define NSLOTS 16
#define MAX_SIDS 64

static struct {
	struct sw_ctx w;
	struct sw_slot_stats stats;
	struct sw_config cfg;
	struct quic_ep ep;
	struct quic_conn qc;
	ngtcp2_transport_params params;
	int64_t next_uni;
	long chunks;                     /* body chunks out of the pool */
	bool dead;                       /* a connection error: QUIC would close */
	/* per stream: what QUIC would know */
	struct sid_state {
		int64_t sid;
		bool rd_done, wr_fin, wr_done, closed;
		uint64_t unacked;
		uint64_t code;
	} sids[MAX_SIDS];
	size_t nsids;
} F;

/* ---- QUIC as h3.c sees it ---- */

static struct sid_state *sid_of(int64_t sid)
{
	for (size_t i = 0; i < F.nsids; i++)
		if (F.sids[i].sid == sid)
			return &F.sids[i];
	if (F.nsids == MAX_SIDS)
		return NULL;
	F.sids[F.nsids] = (struct sid_state){ .sid = sid };
	return &F.sids[F.nsids++];
}

const ngtcp2_transport_params *ngtcp2_conn_get_local_transport_params(ngtcp2_conn *conn)
{
	(void)conn;
	return &F.params;
}

uint64_t ngtcp2_conn_get_streams_uni_left(ngtcp2_conn *conn)
{
	(void)conn;
	return 100;
}

int ngtcp2_conn_is_local_stream(ngtcp2_conn *conn, int64_t stream_id)
{
	(void)conn;
	return (stream_id & 1) != 0;   /* server-initiated */
}

int ngtcp2_is_bidi_stream(int64_t stream_id)
{
	return (stream_id & 2) == 0;
}

int ngtcp2_conn_open_uni_stream(ngtcp2_conn *conn, int64_t *pstream_id, void *stream_user_data)
{
	(void)conn;
	(void)stream_user_data;
	*pstream_id = F.next_uni;
	F.next_uni += 4;
	return 0;
}

int ngtcp2_conn_shutdown_stream_read(ngtcp2_conn *conn, uint32_t flags, int64_t stream_id,
				     uint64_t app_error_code)
{
	struct sid_state *s = sid_of(stream_id);

	(void)conn;
	(void)flags;
	if (s) {
		s->rd_done = true;
		s->code = app_error_code;
	}
	return 0;
}

int ngtcp2_conn_shutdown_stream_write(ngtcp2_conn *conn, uint32_t flags, int64_t stream_id,
				      uint64_t app_error_code)
{
	struct sid_state *s = sid_of(stream_id);

	(void)conn;
	(void)flags;
	if (s) {
		s->wr_done = true;
		s->code = app_error_code;
	}
	return 0;
}

int ngtcp2_conn_shutdown_stream(ngtcp2_conn *conn, uint32_t flags, int64_t stream_id,
				uint64_t app_error_code)
{
	ngtcp2_conn_shutdown_stream_read(conn, flags, stream_id, app_error_code);
	return ngtcp2_conn_shutdown_stream_write(conn, flags, stream_id, app_error_code);
}

void ngtcp2_conn_extend_max_offset(ngtcp2_conn *conn, uint64_t datalen)
{
	(void)conn;
	(void)datalen;
}

int ngtcp2_conn_extend_max_stream_offset(ngtcp2_conn *conn, int64_t stream_id, uint64_t datalen)
{
	(void)conn;
	(void)stream_id;
	(void)datalen;
	return 0;
}

void ngtcp2_conn_extend_max_streams_bidi(ngtcp2_conn *conn, size_t n)
{
	(void)conn;
	(void)n;
}

void sw_quic_want_write(struct quic_conn *qc)
{
	(void)qc;
}

char *sw_quic_chunk_get(struct quic_ep *ep)
{
	char *c = malloc(QUIC_CHUNK);

	(void)ep;
	if (!c)
		abort();
	F.chunks++;
	return c;
}

void sw_quic_chunk_put(struct quic_ep *ep, char *chunk)
{
	(void)ep;
	F.chunks--;
	free(chunk);
}

void sw_quic_conn_goaway(struct quic_conn *qc, bool final)
{
	(void)qc;
	(void)final;
}

void sw_quic_goaway_later(struct quic_ep *ep)
{
	(void)ep;
}

/* ---- driving it ---- */

static void setup(uint8_t opts)
{
	static const uint64_t bidi[] = { 100, 1, 3, 8 };

	memset(&F, 0, sizeof(F));
	F.cfg.limits.max_header_count = opts & 8 ? 4 : 128;
	F.cfg.limits.max_header_bytes = opts & 8 ? 256 : 32768;
	F.cfg.limits.max_body_bytes = opts & 8 ? 100 : 1 << 20;
	F.cfg.server.server_header = true;
	F.w.cfg = &F.cfg;
	F.w.stats = &F.stats;
	F.ep.ctx = &F.w;
	F.qc.ep = &F.ep;
	F.qc.conn = (ngtcp2_conn *)&F.params;   /* never looked into: the stubs take it */
	F.params.initial_max_streams_bidi = bidi[opts & 3];
	F.next_uni = 3;
	fuzz_loop_reset(1000);
	fuzz_router_reset(&F.cfg.limits);
}

/* Fails the connection as conn.c does on an nghttp3 error. */
static void lib_error(int rv)
{
	if (rv < 0)
		F.dead = true;
}

/* QUIC closes a stream once both directions are done; nghttp3 hears of it. */
static void close_finished(void)
{
	for (size_t i = 0; i < F.nsids && !F.dead; i++) {
		struct sid_state *s = &F.sids[i];

		if (s->closed || !s->rd_done || !s->wr_done || (s->sid & 2))
			continue;
		s->closed = true;
		if (nghttp3_conn_close_stream(F.qc.h3, s->sid, s->code ? s->code :
					      NGHTTP3_H3_NO_ERROR) == NGHTTP3_ERR_STREAM_NOT_FOUND)
			continue;
	}
}

/* Acknowledges what was written; a written FIN completes the write side. */
static void ack_all(void)
{
	for (size_t i = 0; i < F.nsids && !F.dead; i++) {
		struct sid_state *s = &F.sids[i];

		if (s->unacked && !s->closed)
			lib_error(nghttp3_conn_add_ack_offset(F.qc.h3, s->sid, s->unacked));
		s->unacked = 0;
		if (s->wr_fin)
			s->wr_done = true;
	}
}

static void write_pass(bool ack_late)
{
	if (ack_late)
		ack_all();
	for (int i = 0; i < 1000 && !F.dead; i++) {
		nghttp3_vec vec[16];
		int64_t sid = -1;
		int fin = 0;
		nghttp3_ssize n = nghttp3_conn_writev_stream(F.qc.h3, &sid, &fin, vec, 16);
		struct sid_state *s;
		size_t len = 0;

		if (n < 0) {
			lib_error((int)n);
			break;
		}
		if (sid < 0)
			break;
		s = sid_of(sid);
		if (!s) {
			F.dead = true;
			break;
		}
		if (s->wr_done || s->closed) {
			nghttp3_conn_shutdown_stream_write(F.qc.h3, sid);
			continue;
		}
		for (nghttp3_ssize k = 0; k < n; k++)
			len += vec[k].len;
		lib_error(nghttp3_conn_add_write_offset(F.qc.h3, sid, len));
		s->unacked += len;
		if (fin)
			s->wr_fin = true;
		if (!len && !fin)
			break;
	}
	if (!ack_late)
		ack_all();
	close_finished();
}

static int64_t slot_sid(unsigned slot)
{
	static const int64_t uni[] = { 2, 6, 10 };

	return slot < 3 ? uni[slot] : (int64_t)(slot - 3) * 4;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t opts;
	size_t off = 1;
	bool drained = false;

	if (size < 1)
		return 0;
	opts = data[0];
	setup(opts);
	if (sw_h3_open(&F.qc) != SW_OK)
		abort();
	while (off < size && !F.dead) {
		uint8_t s = data[off++];
		int64_t sid = slot_sid(s & 15);
		struct sid_state *st = sid_of(sid);

		if ((opts & 0x10) && !drained && off >= size / 2) {
			drained = true;
			F.ep.draining = true;
		}
		if (!st || st->closed)
			continue;
		if (s & 0x40) {
			/* QUIC gave up on the stream (both sides reset). */
			st->rd_done = st->wr_done = st->closed = true;
			if (!(sid & 2))
				nghttp3_conn_close_stream(F.qc.h3, sid, NGHTTP3_H3_REQUEST_CANCELLED);
		} else if (s & 0x20) {
			st->rd_done = true;
			lib_error(nghttp3_conn_shutdown_stream_read(F.qc.h3, sid));
		} else if (!st->rd_done && off < size) {
			size_t n = SW_MIN((size_t)data[off], size - off - 1);
			bool fin = s & 0x10;
			nghttp3_ssize rv;

			off++;
			rv = nghttp3_conn_read_stream(F.qc.h3, sid, data + off, n, fin);
			off += n;
			lib_error((int)rv);
			if (fin)
				st->rd_done = true;
		}
		while (!F.dead && fuzz_fire_timer(UINT64_MAX))
			;
		if (!F.dead)
			write_pass(opts & 4);
	}
	/* The client goes quiet: what is due runs, written bytes are acknowledged. */
	for (int i = 0; i < 100 && !F.dead; i++) {
		bool any = false;

		while (fuzz_fire_timer(UINT64_MAX))
			any = true;
		write_pass(false);
		if (!any)
			break;
	}
	/* The connection goes, as sw_quic_conn_free takes it down. */
	sw_h3_close_all(&F.qc);
	nghttp3_conn_del(F.qc.h3);
	F.qc.h3 = NULL;
	sw_h3_free_streams(&F.qc);

	fuzz_router_check(F.w.request_seq);
	CHECK(fuzz_timers_armed() == 0, "%zu timers armed after the connection went",
	      fuzz_timers_armed());
	CHECK(F.chunks == 0, "%ld body chunks not back in the pool", F.chunks);
	if (getenv("FUZZ_H3_TRACE"))   /* what a seed reaches: fuzz/fuzz_h3 FILE */
		fprintf(stderr, "fuzz_h3: %llu exchanges, %zu handled, %s\n",
			(unsigned long long)F.w.request_seq, fuzz_router_handled(), F.dead ? "connection error" : "ok");
	return 0;
}
