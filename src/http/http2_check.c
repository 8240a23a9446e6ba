/* SPDX-License-Identifier: MIT */
/*
 * http2_check.c - the RFC 9113 rules nghttp2 leaves unchecked in the way
 * swerver runs it, checked from http2.c's callbacks:
 *
 * - a HEADERS on a stream id the client skipped (3 after 5): nghttp2
 *   cannot tell it from late trailers on a stream it forgot, so it drops
 *   it; an id we know was never opened is a PROTOCOL_ERROR (5.1.1);
 * - PRIORITY frames, whose payload nghttp2 skips unread once
 *   SETTINGS_NO_RFC7540_PRIORITIES is sent: on stream 0 a connection
 *   error, depending on itself a stream error (5.3.1, 6.3);
 * - a SETTINGS_INITIAL_WINDOW_SIZE that overflows an open stream's send
 *   window: nghttp2 resets that stream, 6.9.2 asks for a connection
 *   FLOW_CONTROL_ERROR;
 * - max_streams: nghttp2 refuses streams past the limit only until the
 *   client acknowledges SETTINGS and then ends the connection with
 *   PROTOCOL_ERROR; RFC 9113 5.1.2 allows REFUSED_STREAM, which a client
 *   retries, so swerver keeps the count itself (see sw_h2_patch_settings).
 */
#include <config.h>

#include <string.h>
#include "core/log.h"
#include "http/http1_conn_impl.h"
#include "http/http2_impl.h"

#define PREFACE_LEN 24   /* "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" */

static uint32_t get31(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]) &
	       0x7fffffffu;
}

/* ---- stream ids ---- */

static bool in_gap(const struct h2_conn *h, int32_t id)
{
	for (unsigned i = 0; i < H2_GAPS; i++)
		if (h->gaps[i].lo && id >= h->gaps[i].lo && id <= h->gaps[i].hi)
			return true;
	return false;
}

/*
 * Clients number streams 1, 3, 5, ...; ids they skip are closed without
 * ever being opened.  The last few such runs are remembered (a client
 * that skips more often gets nghttp2's leniency for the older ones).
 */
static int check_headers_id(struct h2_conn *h, int32_t id)
{
	if (id <= 0 || id % 2 == 0)
		return 0;   /* nghttp2 refuses these itself */
	if (id > h->max_client_id) {
		if (id > h->max_client_id + 2) {
			h->gaps[h->gap_next].lo = h->max_client_id + 2;
			h->gaps[h->gap_next].hi = id - 2;
			h->gap_next = (h->gap_next + 1) % H2_GAPS;
		}
		h->max_client_id = id;
		return 0;
	}
	if (in_gap(h, id)) {
		sw_debug("HTTP/2: HEADERS on stream %d, which the client skipped", (int)id);
		return nghttp2_session_terminate_session(h->s, NGHTTP2_PROTOCOL_ERROR);
	}
	return 0;
}

/* ---- SETTINGS_INITIAL_WINDOW_SIZE ---- */

/* Before nghttp2 applies a SETTINGS: the old initial window and the widest stream window. */
static void settings_before(struct h2_conn *h)
{
	h->iws_before = nghttp2_session_get_remote_settings(h->s,
							     NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE);
	h->win_max_before = INT32_MIN;
	for (struct sw_stream *st = h->streams.open; st; st = st->next) {
		int32_t id = ((struct h2_stream *)st)->id;
		int32_t w = nghttp2_session_get_stream_remote_window_size(h->s, id);

		if (w > h->win_max_before)
			h->win_max_before = w;
	}
}

/*
 * After it: replays the INITIAL_WINDOW_SIZE entries in order on the
 * widest window (every stream moves by the same amount).
 */
int sw_h2_check_settings(struct h2_conn *h, const nghttp2_settings *f)
{
	int64_t init = h->iws_before, w = h->win_max_before;

	if ((f->hd.flags & NGHTTP2_FLAG_ACK) || w == INT32_MIN)
		return 0;
	for (size_t i = 0; i < f->niv; i++) {
		if (f->iv[i].settings_id != NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE)
			continue;
		w += (int64_t)f->iv[i].value - init;
		init = f->iv[i].value;
		if (w > NGHTTP2_MAX_WINDOW_SIZE) {
			sw_debug("HTTP/2: SETTINGS_INITIAL_WINDOW_SIZE %lld overflows a stream window",
				 (long long)init);
			return nghttp2_session_terminate_session(h->s, NGHTTP2_FLOW_CONTROL_ERROR);
		}
	}
	return 0;
}

int sw_h2_check_begin_frame(struct h2_conn *h, const nghttp2_frame_hd *hd)
{
	if (hd->type == NGHTTP2_HEADERS)
		return check_headers_id(h, hd->stream_id);
	if (hd->type == NGHTTP2_SETTINGS && !(hd->flags & NGHTTP2_FLAG_ACK))
		settings_before(h);
	return 0;
}

/* ---- PRIORITY: following frame boundaries in the client's bytes ---- */

size_t sw_h2_scan(struct h2_conn *h, const uint8_t *p, size_t len, bool *priority)
{
	struct h2_scan *sc = &h->scan;
	size_t off = 0;

	*priority = false;
	if (!sc->started) {
		sc->started = true;
		sc->skip = PREFACE_LEN;
	}
	while (off < len) {
		uint32_t flen;

		if (sc->skip) {
			size_t n = SW_MIN(sc->skip, len - off);

			sc->skip -= n;
			off += n;
			continue;
		}
		sc->hd[sc->got++] = p[off++];
		if (sc->got == sizeof(sc->hd)) {   /* a PRIORITY frame, payload and all */
			sc->got = 0;
			*priority = true;
			return off;
		}
		if (sc->got != 9)
			continue;
		flen = (uint32_t)sc->hd[0] << 16 | (uint32_t)sc->hd[1] << 8 | sc->hd[2];
		if (sc->hd[3] == NGHTTP2_PRIORITY && flen == 5)
			continue;   /* collect the payload too */
		sc->got = 0;
		sc->skip = flen;
	}
	return off;
}

/* nghttp2 has just skipped the PRIORITY frame sw_h2_scan stopped after. */
int sw_h2_check_priority(struct h2_conn *h)
{
	const uint8_t *hd = h->scan.hd;
	int32_t id = (int32_t)get31(hd + 5), dep = (int32_t)get31(hd + 9);

	if (!nghttp2_session_want_read(h->s))
		return 0;   /* already ending */
	if (id == 0) {
		sw_debug("HTTP/2: PRIORITY on stream 0");
		return nghttp2_session_terminate_session(h->s, NGHTTP2_PROTOCOL_ERROR);
	}
	if (dep != id)
		return 0;
	/*
	 * A stream error, but RST_STREAM may not name an idle stream (6.4),
	 * and nghttp2 drops one that does: for an idle stream the connection
	 * ends instead, as nghttp2 does with RFC 7540 priorities on.
	 */
	sw_debug("HTTP/2: PRIORITY makes stream %d depend on itself", (int)id);
	if (id % 2 == 0 || id > h->max_client_id)
		return nghttp2_session_terminate_session(h->s, NGHTTP2_PROTOCOL_ERROR);
	return nghttp2_submit_rst_stream(h->s, NGHTTP2_FLAG_NONE, id, NGHTTP2_PROTOCOL_ERROR);
}

/* ---- max_streams ---- */

/*
 * nghttp2 is told no stream limit (NGHTTP2_INITIAL_MAX_CONCURRENT_STREAMS),
 * so it never
 * ends the connection over one; the client is told max_streams: the value
 * is written into our first SETTINGS on its way out, and streams past it
 * are refused in on_begin_headers.  out holds whole frames from nghttp2.
 */
void sw_h2_patch_settings(struct h2_conn *h, uint8_t *out, size_t n)
{
	uint32_t max = h->max_streams;
	size_t off = 0;

	while (!h->settings_patched && n - off >= 9) {
		uint8_t *f = out + off;
		size_t flen = (size_t)f[0] << 16 | (size_t)f[1] << 8 | f[2];

		if (flen > n - off - 9)
			return;
		if (f[3] == NGHTTP2_SETTINGS && !(f[4] & NGHTTP2_FLAG_ACK)) {
			for (size_t i = 9; i + 6 <= 9 + flen; i += 6)
				if (f[i] == 0 && f[i + 1] == NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS) {
					f[i + 2] = (uint8_t)(max >> 24);
					f[i + 3] = (uint8_t)(max >> 16);
					f[i + 4] = (uint8_t)(max >> 8);
					f[i + 5] = (uint8_t)max;
				}
			h->settings_patched = true;
		}
		off += 9 + flen;
	}
}

bool sw_h2_over_max_streams(const struct h2_conn *h)
{
	return h->streams.n >= h->max_streams;
}
