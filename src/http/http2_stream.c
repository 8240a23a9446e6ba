/* http2_stream.c - HTTP/2 streams as exchanges: request heads in, responses and bodies out. */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/clock.h"
#include "core/log.h"
#include "daemon/worker.h"
#include "http/conn_impl.h"
#include "http/http2_impl.h"
#include "http/request.h"
#include "http/router.h"

static void respond(struct sw_exchange *x);
static char *scratch(struct sw_exchange *x, size_t size);
static void read_body(struct sw_exchange *x, sw_body_cb cb);
static void write_body(struct sw_exchange *x, const char *data, size_t n, bool last,
		       sw_sent_cb cb);
static void on_kick(struct sw_timer *t);
static void abort_stream(struct sw_exchange *x);
static void interim(struct sw_exchange *x, int status, const struct sw_header *fields,
		    unsigned count);

const struct sw_exchange_ops sw_h2_exchange_ops = {
	.respond = respond,
	.buffer = scratch,
	.read_body = read_body,
	.write_body = write_body,
	.abort = abort_stream,
	.interim = interim,
};

/* ---- life cycle ---- */

struct h2_stream *sw_h2_stream_new(struct h2_conn *h, int32_t id)
{
	const struct sw_limits_cfg *lim = &h->c->w->cfg->limits;
	struct h2_stream *st = h->free_streams;
	/* Pseudo-headers and regular fields, each name and value held. */
	unsigned rc_cap = 2 * (lim->max_header_count + 8);

	if (st) {
		h->free_streams = st->next;
	} else {
		st = sw_calloc(1, sizeof(*st));
	}
	if (st->header_cap < lim->max_header_count) {
		free(st->headers);
		st->headers = sw_calloc(lim->max_header_count, sizeof(*st->headers));
		st->header_cap = lim->max_header_count;
	}
	if (st->rc_cap < rc_cap) {
		free(st->rcbufs);
		st->rcbufs = sw_calloc(rc_cap, sizeof(*st->rcbufs));
		st->rc_cap = rc_cap;
	}
	st->h = h;
	st->id = id;
	st->nrc = 0;
	st->list_size = 0;
	st->refuse = 0;
	st->begun = st->responded = false;
	st->framed = st->sent = 0;
	sw_body_buf_reset(&st->body);
	st->body_reading = st->body_done = false;
	st->body_cb = NULL;
	st->sp = NULL;
	st->sn = st->soff = 0;
	st->slast = false;
	st->sent_cb = NULL;
	st->piece_done = st->has_data = false;
	st->stream_total = 0;
	sw_timer_init(&st->kick, on_kick, st);
	sw_exchange_clear(&st->x);
	st->x.req.headers = st->headers;
	st->x.req.content_length = -1;
	st->x.resp.file_fd = -1;
	st->prev = NULL;
	st->next = h->streams;
	if (h->streams)
		h->streams->prev = st;
	h->streams = st;
	h->nstreams++;
	sw_conn_set_idle(h->c, false);
	return st;
}

void sw_h2_stream_close(struct h2_stream *st)
{
	struct h2_conn *h = st->h;

	sw_timer_del(h->c->w->loop, &st->kick);
	/*
	 * The last piece is in the output and the stream is done before the
	 * loop told the handler: that is a completion, not an abort.
	 */
	if (st->begun && st->sent_cb && st->piece_done && st->slast) {
		sw_sent_cb cb = st->sent_cb;

		st->sent_cb = NULL;
		cb(&st->x, 0);
	}
	if (st->begun) {
		void (*abort_cb)(struct sw_exchange *) = st->x.on_abort;

		/* A handler still holding the exchange (the proxy) lets go first. */
		st->x.on_abort = NULL;
		if (abort_cb)
			abort_cb(&st->x);
		if (st->x.resp.content_length == SW_LENGTH_UNKNOWN)
			st->x.resp.content_length = st->stream_total;
		sw_exchange_finish(&st->x);   /* sent, or abandoned: logged once either way */
	}
	if (st->x.resp.file_fd >= 0)
		close(st->x.resp.file_fd);
	st->x.resp.file_fd = -1;
	for (unsigned i = 0; i < st->nrc; i++)
		nghttp2_rcbuf_decref(st->rcbufs[i]);
	st->nrc = 0;
	if (st->prev)
		st->prev->next = st->next;
	else
		h->streams = st->next;
	if (st->next)
		st->next->prev = st->prev;
	h->nstreams--;
	st->next = h->free_streams;
	h->free_streams = st;
	if (h->nstreams == 0)
		sw_conn_set_idle(h->c, true);
}

void sw_h2_stream_free_list(struct h2_conn *h)
{
	while (h->free_streams) {
		struct h2_stream *st = h->free_streams;
		h->free_streams = st->next;
		free(st->rcbufs);
		free(st->headers);
		free(st->scratch);
		sw_body_buf_free(&st->body);
		free(st);
	}
}

static char *scratch(struct sw_exchange *x, size_t size)
{
	struct h2_stream *st = x->codec;

	return sw_scratch_reserve(&st->scratch, &st->scratch_cap, size);
}

/* ---- the request head ---- */

static struct sw_str view(nghttp2_rcbuf *b)
{
	nghttp2_vec v = nghttp2_rcbuf_get_buf(b);

	return (struct sw_str){ (const char *)v.base, v.len };
}

/* Keeps a header buffer alive for as long as the exchange looks at it. */
static struct sw_str hold(struct h2_stream *st, nghttp2_rcbuf *b)
{
	nghttp2_rcbuf_incref(b);
	st->rcbufs[st->nrc++] = b;
	return view(b);
}

static void take_pseudo(struct h2_stream *st, struct sw_str name, nghttp2_rcbuf *value)
{
	struct sw_request *req = &st->x.req;

	/* nghttp2 has checked that each appears once, before the fields. */
	if (sw_str_eq(name, ":method"))
		req->method_name = hold(st, value);
	else if (sw_str_eq(name, ":path"))
		req->target = hold(st, value);
	else if (sw_str_eq(name, ":authority"))
		req->authority = hold(st, value);
	else if (sw_str_eq(name, ":scheme") && !sw_request_scheme_ok(view(value)) && !st->refuse)
		st->refuse = 400;
}

static void take_field(struct h2_stream *st, nghttp2_rcbuf *name, nghttp2_rcbuf *value)
{
	struct sw_request *req = &st->x.req;
	struct sw_header *hd;

	if (req->header_count == st->header_cap) {
		st->refuse = 431;
		return;
	}
	hd = &st->headers[req->header_count++];
	hd->name = hold(st, name);
	hd->value = hold(st, value);
	if (sw_str_eq(hd->name, "content-length")) {
		int64_t cl;
		if (sw_content_length_parse(hd->value, &cl) != 0 ||
		    (req->content_length >= 0 && req->content_length != cl))
			st->refuse = 400;
		else
			req->content_length = cl;
	}
}

/*
 * nghttp2 has validated the field (lower-case name, no connection-specific
 * fields, pseudo-headers first).  Everything past the configured list size
 * or field count is dropped and the request answered 431: nghttp2 keeps
 * decoding the block so the HPACK state stays in step.
 */
int sw_h2_on_header(nghttp2_session *s, const nghttp2_frame *frame, nghttp2_rcbuf *name,
		    nghttp2_rcbuf *value, uint8_t flags, void *user_data)
{
	struct h2_stream *st = nghttp2_session_get_stream_user_data(s, frame->hd.stream_id);
	struct h2_conn *h = user_data;
	struct sw_str n = view(name);

	(void)flags;
	if (!st || frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;   /* trailers: nothing reads them */
	st->list_size += n.len + view(value).len + 32;
	if (st->list_size > h->c->w->cfg->http2.max_header_list_size ||
	    st->list_size > h->c->w->cfg->limits.max_header_bytes)
		st->refuse = 431;
	if (st->refuse == 431)
		return 0;
	if (n.len && n.p[0] == ':')
		take_pseudo(st, n, value);
	else
		take_field(st, name, value);
	return 0;
}

/* Fills in what HTTP/1.1 gets from its request line; 0 or a refusal status. */
static int finish_request(struct h2_stream *st)
{
	struct sw_request *req = &st->x.req;
	const struct sw_header *host;
	uint64_t max = st->h->c->w->cfg->limits.max_body_bytes;

	req->version = 20;
	req->keep_alive = true;
	req->method = sw_method_classify(req->method_name.p, req->method_name.len);
	if (req->method == SW_METHOD_CONNECT)
		req->target = req->authority;
	if (sw_request_split_target(req) != 0)
		return 400;
	/* RFC 9113 8.3.1: without :authority, Host speaks for it. */
	if (req->authority.len == 0 && (host = sw_request_header(req, "host")))
		req->authority = host->value;
	if (req->authority.len && !sw_host_valid(req->authority))
		return 400;
	if (req->content_length > 0 && (uint64_t)req->content_length > max)
		return 413;
	return 0;
}

void sw_h2_stream_dispatch(struct h2_stream *st)
{
	struct h2_conn *h = st->h;
	struct sw_conn *c = h->c;
	struct sw_exchange *x = &st->x;
	int refuse = st->refuse ? st->refuse : finish_request(st);

	x->ops = &sw_h2_exchange_ops;
	x->codec = st;
	x->worker = c->w;
	x->proto = SW_PROTO_HTTP2;
	x->tls = c->tls != NULL;
	x->tls_client = c->tls_client[0] ? c->tls_client : NULL;
	x->admin = c->on_admin;
	x->over_limit = c->over_limit;
	x->h3_port = c->h3_port;
	x->peer = (const struct sockaddr *)&c->peer;
	x->peer_len = c->peer_len;
	x->bytes_in = st->list_size;
	sw_exchange_begin(x);
	st->begun = true;
	if (refuse)
		sw_exchange_error(x, refuse);
	else
		sw_router_dispatch(x);
}

/* ---- the response ---- */

#define NV_MAX (SW_RESPONSE_MAX_HEADERS + 5)
#define NAMES_MAX 4096   /* lower-cased response field names */

struct nv_list {
	nghttp2_nv v[NV_MAX];
	size_t n;
	char names[NAMES_MAX];
	size_t names_len;
};

static void nv_add(struct nv_list *l, const char *name, size_t nlen, const char *value, size_t vlen)
{
	if (l->n == NV_MAX)
		return;
	l->v[l->n++] = (nghttp2_nv){ (uint8_t *)name, (uint8_t *)value, nlen, vlen,
				     NGHTTP2_NV_FLAG_NONE };
}

/* HTTP/2 field names are lower case (RFC 9113 8.2.1); handlers write "Content-Type". */
static void nv_add_field(struct nv_list *l, struct sw_str name, struct sw_str value)
{
	char *lower = l->names + l->names_len;

	if (sw_field_connection_specific(name) || l->names_len + name.len > NAMES_MAX)
		return;
	for (size_t i = 0; i < name.len; i++) {
		char ch = name.p[i];
		lower[i] = ch >= 'A' && ch <= 'Z' ? (char)(ch + 32) : ch;
	}
	l->names_len += name.len;
	nv_add(l, lower, name.len, value.p, value.len);
}

static ssize_t frame_body(nghttp2_session *s, int32_t id, uint8_t *buf, size_t length,
			  uint32_t *flags, nghttp2_data_source *source, void *user_data)
{
	struct h2_stream *st = source->ptr;
	uint64_t left = st->x.resp.content_length - st->framed;
	size_t n = (size_t)SW_MIN(left, (uint64_t)length);

	(void)s;
	(void)id;
	(void)buf;
	(void)user_data;
	/* The bytes are copied (or read from the file) straight into the output. */
	*flags |= NGHTTP2_DATA_FLAG_NO_COPY;
	st->framed += n;
	if (st->framed == st->x.resp.content_length)
		*flags |= NGHTTP2_DATA_FLAG_EOF;
	return (ssize_t)n;
}

/* A streamed body: frames from the piece write_body handed over, or wait for one. */
static ssize_t frame_stream(nghttp2_session *s, int32_t id, uint8_t *buf, size_t length,
			    uint32_t *flags, nghttp2_data_source *source, void *user_data)
{
	struct h2_stream *st = source->ptr;
	size_t n;

	(void)s;
	(void)id;
	(void)buf;
	(void)user_data;
	if (!st->sent_cb || (st->framed == st->sn && !st->slast))
		return NGHTTP2_ERR_DEFERRED;
	n = SW_MIN(st->sn - st->framed, length);
	*flags |= NGHTTP2_DATA_FLAG_NO_COPY;
	st->framed += n;
	if (st->framed == st->sn && st->slast)
		*flags |= NGHTTP2_DATA_FLAG_EOF;
	return (ssize_t)n;
}

/* Copies one DATA frame into the output: its header, then the body bytes. */
int sw_h2_send_data(nghttp2_session *s, nghttp2_frame *frame, const uint8_t *framehd,
		    size_t length, nghttp2_data_source *source, void *user_data)
{
	struct h2_stream *st = source->ptr;
	struct h2_conn *h = user_data;
	const struct sw_response *r = &st->x.resp;
	size_t pad = frame->data.padlen;   /* 0: we never ask for padding */
	char *out, *data;

	(void)s;
	/*
	 * One mem_send call keeps sending NO_COPY frames while the windows
	 * allow: stop at the mark, or a client with huge windows that never
	 * reads would have whole files copied into memory.  nghttp2 offers
	 * the same frame again on the next call.
	 */
	if (h->out_len >= H2_OUT_HIGH)
		return NGHTTP2_ERR_WOULDBLOCK;
	out = sw_h2_out_reserve(h, 9 + length + pad);
	data = out + 9 + (pad ? 1 : 0);
	if (r->body_kind == SW_BODY_STREAM) {
		if (length)   /* the last piece may be empty, with no memory at all */
			memcpy(data, st->sp + st->soff, length);
		st->soff += length;
		st->stream_total += length;
		/* The whole piece is in the output: its memory is the handler's again. */
		if (st->soff == st->sn) {
			st->piece_done = true;
			sw_timer_add(h->c->w->loop, &st->kick, 0);
		}
	} else if (r->body_kind == SW_BODY_FILE) {
		ssize_t n = pread(r->file_fd, data, length, r->file_offset + (off_t)st->sent);
		if (n != (ssize_t)length) {
			sw_warn("static file shrank or failed while being sent (%s); resetting stream %d",
				n < 0 ? strerror(errno) : "short read", st->id);
			return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
		}
	} else {
		memcpy(data, r->body.p + st->sent, length);
	}
	memcpy(out, framehd, 9);
	if (pad) {
		out[9] = (char)(pad - 1);
		memset(data + length, 0, pad - 1);
	}
	h->out_len += 9 + length + pad;
	st->sent += length;
	st->x.bytes_out += 9 + length + pad;
	return 0;
}

static void respond(struct sw_exchange *x)
{
	struct h2_stream *st = x->codec;
	struct h2_conn *h = st->h;
	const struct sw_response *r = &x->resp;
	bool body = x->req.method != SW_METHOD_HEAD && sw_status_has_length(r->status) &&
		    r->body_kind != SW_BODY_NONE && r->content_length > 0;
	bool sized = r->content_length != SW_LENGTH_UNKNOWN;
	bool stream = r->body_kind == SW_BODY_STREAM;
	nghttp2_data_provider dp = { .source.ptr = st,
				     .read_callback = stream ? frame_stream : frame_body };
	struct nv_list l;
	char status[3], clen[24];

	l.n = l.names_len = 0;
	status[0] = (char)('0' + r->status / 100 % 10);   /* statuses are 100..599 */
	status[1] = (char)('0' + r->status / 10 % 10);
	status[2] = (char)('0' + r->status % 10);
	nv_add(&l, ":status", 7, status, 3);
	nv_add(&l, "date", 4, sw_clock_http_date(), SW_HTTP_DATE_LEN);
	if (h->c->w->cfg->server.server_header)
		nv_add(&l, "server", 6, "swerver", 7);
	for (unsigned i = 0; i < r->header_count; i++)
		nv_add_field(&l, r->headers[i].name, r->headers[i].value);
	if (sw_status_has_length(r->status) && sized) {
		int n = snprintf(clen, sizeof(clen), "%llu", (unsigned long long)r->content_length);
		nv_add(&l, "content-length", 14, clen, (size_t)n);
	}
	nv_add(&l, "x-request-id", 12, x->request_id, SW_REQUEST_ID_LEN);
	/*
	 * A value never seen twice: indexing it would only churn the HPACK
	 * dynamic table (and cost a table search and insert per response).
	 */
	l.v[l.n - 1].flags = NGHTTP2_NV_FLAG_NO_INDEX;
	st->responded = true;
	st->has_data = body;
	/* nghttp2 copies the fields; the body is read when frames are sent. */
	if (nghttp2_submit_response(h->s, st->id, l.v, l.n, body ? &dp : NULL) != 0)
		nghttp2_submit_rst_stream(h->s, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_INTERNAL_ERROR);
	sw_h2_schedule_flush(h);
}

/* A HEADERS frame without END_STREAM ahead of the response's (RFC 9113 8.1). */
static void interim(struct sw_exchange *x, int status, const struct sw_header *fields,
		    unsigned count)
{
	struct h2_stream *st = x->codec;
	struct h2_conn *h = st->h;
	struct nv_list l;
	char code[3];

	if (st->responded || status < 100 || status > 199)
		return;
	l.n = l.names_len = 0;
	code[0] = '1';
	code[1] = (char)('0' + status / 10 % 10);
	code[2] = (char)('0' + status % 10);
	nv_add(&l, ":status", 7, code, 3);
	for (unsigned i = 0; i < count; i++)
		nv_add_field(&l, fields[i].name, fields[i].value);
	/* nghttp2 copies the fields; a failure only loses the hint. */
	if (nghttp2_submit_headers(h->s, NGHTTP2_FLAG_NONE, st->id, NULL, l.v, l.n, NULL) == 0)
		sw_h2_schedule_flush(h);
}

static void write_body(struct sw_exchange *x, const char *data, size_t n, bool last,
		       sw_sent_cb cb)
{
	struct h2_stream *st = x->codec;
	struct h2_conn *h = st->h;

	st->sp = data;
	st->sn = n;
	st->soff = 0;
	st->framed = 0;
	st->slast = last;
	st->sent_cb = cb;
	st->piece_done = false;
	if (!st->has_data) {
		/* HEAD, 204, 304: the headers ended the stream; nothing to frame. */
		st->piece_done = true;
		sw_timer_add(h->c->w->loop, &st->kick, 0);
		return;
	}
	nghttp2_session_resume_data(h->s, st->id);
	sw_h2_schedule_flush(h);
}

/* ---- the request body ---- */

void sw_h2_stream_data(struct h2_stream *st, const uint8_t *data, size_t len)
{
	struct h2_conn *h = st->h;
	uint64_t max = h->c->w->cfg->limits.max_body_bytes;

	st->x.bytes_in += len;
	if (st->responded && !st->body_reading) {
		nghttp2_session_consume(h->s, st->id, len);   /* nobody will read it */
		return;
	}
	if (st->x.bytes_in - st->list_size > max) {
		nghttp2_session_consume(h->s, st->id, len);
		nghttp2_submit_rst_stream(h->s, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_CANCEL);
		return;
	}
	/* Bounded by the stream window: nothing is acknowledged until taken. */
	sw_body_buf_append(&st->body, data, len);
	if (st->body_cb)
		sw_timer_add(h->c->w->loop, &st->kick, 0);
}

void sw_h2_stream_end(struct h2_stream *st)
{
	st->body_done = true;
	if (st->body_cb)
		sw_timer_add(st->h->c->w->loop, &st->kick, 0);
}

static void read_body(struct sw_exchange *x, sw_body_cb cb)
{
	struct h2_stream *st = x->codec;
	struct h2_conn *h = st->h;

	/* The piece handed out last time is done with: acknowledge it (WINDOW_UPDATE). */
	if (st->body.lent) {
		nghttp2_session_consume(h->s, st->id, sw_body_buf_give_back(&st->body));
		sw_h2_schedule_flush(h);
	}
	st->body_reading = true;
	st->body_cb = cb;
	sw_timer_add(h->c->w->loop, &st->kick, 0);
}

/* Callbacks to the handler, from the loop: a piece was sent, or body data is there. */
static void on_kick(struct sw_timer *t)
{
	struct h2_stream *st = t->data;

	if (st->sent_cb && st->piece_done) {
		sw_sent_cb cb = st->sent_cb;

		st->sent_cb = NULL;
		cb(&st->x, 0);
	}
	if (st->body_cb && st->body.lent == 0 && (st->body.len || st->body_done)) {
		sw_body_cb cb = st->body_cb;

		st->body_cb = NULL;
		size_t n;
		const char *p = sw_body_buf_lend(&st->body, &n);

		cb(&st->x, p, (ssize_t)n, st->body_done);
	}
}

static void abort_stream(struct sw_exchange *x)
{
	struct h2_stream *st = x->codec;

	x->on_abort = NULL;
	nghttp2_submit_rst_stream(st->h->s, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_INTERNAL_ERROR);
	sw_h2_schedule_flush(st->h);
}
