/* SPDX-License-Identifier: MIT */
/* h2client.c - a raw HTTP/2 client (h2client.h). */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "h2client.h"
#include "harness.h"

/* An index into the tally, or -1 for a stream beyond it. */
int sidx(uint32_t id)
{
	return id % 2 == 1 && id / 2 < NSTREAMS ? (int)(id / 2) : -1;
}

void tally_init(struct tally *t)
{
	memset(t, 0, sizeof(*t));
	for (int k = 0; k < NSTREAMS; k++)
		t->status[k] = t->rst[k] = -1;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void fb_add(struct fbuf *b, const void *data, size_t len)
{
	if (b->len + len > b->cap) {
		b->cap = (b->len + len) * 2 + 4096;
		b->p = realloc(b->p, b->cap);
		ck_assert_ptr_nonnull(b->p);
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
}

void fb_frame(struct fbuf *b, uint8_t type, uint8_t flags, uint32_t stream,
	      const void *payload, size_t len)
{
	uint8_t hd[9];

	hd[0] = (uint8_t)(len >> 16);
	hd[1] = (uint8_t)(len >> 8);
	hd[2] = (uint8_t)len;
	hd[3] = type;
	hd[4] = flags;
	put32(hd + 5, stream & 0x7fffffffu);
	fb_add(b, hd, 9);
	if (len)
		fb_add(b, payload, len);
}

/*
 * A request header block from the static table only: :method GET (0x82),
 * :scheme http (0x86), :path as a literal without indexing of name 4,
 * :authority likewise of name 1.  Returns its length.
 */
size_t hpack_get(uint8_t *out, const char *path)
{
	static const char host[] = "localhost";
	size_t n = 0, pl = strlen(path);

	ck_assert_uint_lt(pl, 127);
	out[n++] = 0x82;
	out[n++] = 0x86;
	out[n++] = 0x04;
	out[n++] = (uint8_t)pl;
	memcpy(out + n, path, pl);
	n += pl;
	out[n++] = 0x01;
	out[n++] = (uint8_t)(sizeof(host) - 1);
	memcpy(out + n, host, sizeof(host) - 1);
	return n + sizeof(host) - 1;
}

/* HEADERS for GET path on a stream, with END_STREAM and END_HEADERS. */
void fb_get(struct fbuf *b, uint32_t stream, const char *path)
{
	uint8_t block[256];
	size_t n = hpack_get(block, path);

	fb_frame(b, F_HEADERS, FL_END_STREAM | FL_END_HEADERS, stream, block, n);
}

/* The preface and our SETTINGS; `big_windows` opens stream and connection windows to 2^31-1. */
void fb_preface(struct fbuf *b, bool big_windows)
{
	uint8_t set[6] = { 0, 4 }, inc[4];

	fb_add(b, PREFACE, strlen(PREFACE));
	if (!big_windows) {
		fb_frame(b, F_SETTINGS, 0, 0, NULL, 0);
		return;
	}
	put32(set + 2, MAX_WINDOW);
	fb_frame(b, F_SETTINGS, 0, 0, set, sizeof(set));
	put32(inc, MAX_WINDOW - 65535);
	fb_frame(b, F_WINDOW_UPDATE, 0, 0, inc, sizeof(inc));
}

struct h2 *h2_connect(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct h2 *h = calloc(1, sizeof(*h));

	ck_assert_ptr_nonnull(h);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	h->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_msg(h->fd >= 0, "socket: %s", strerror(errno));
	IT_ASSERT(connect(h->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0, "connect :%d: %s", port,
		  strerror(errno));
	fcntl(h->fd, F_SETFL, O_NONBLOCK);
	return h;
}

void h2_close(struct h2 *h)
{
	if (h->fd >= 0)
		close(h->fd);
	free(h);
}

/* Sends everything within timeout_ms; 0 or -errno (a flooded server may close on us). */
int h2_send(struct h2 *h, const void *data, size_t len, int timeout_ms)
{
	int64_t end = it_now_ms() + timeout_ms;
	size_t off = 0;

	while (off < len) {
		struct pollfd pfd = { .fd = h->fd, .events = POLLOUT };
		int left = (int)(end - it_now_ms());
		ssize_t n;

		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&pfd, 1, left) < 0 && errno != EINTR)
			return -errno;
		n = send(h->fd, (const uint8_t *)data + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0)
			return -errno;
		off += (size_t)n;
	}
	return 0;
}

void h2_send_fb(struct h2 *h, struct fbuf *b)
{
	int rc = h2_send(h, b->p, b->len, IT_IO_MS);

	IT_ASSERT(rc == 0, "sending %zu bytes of frames: %s", b->len, strerror(-rc));
	b->len = 0;
}

/* The next frame: 1, 0 on EOF, -errno (-ETIMEDOUT). */
static int h2_read(struct h2 *h, struct frame *f, int timeout_ms)
{
	int64_t end = it_now_ms() + timeout_ms;

	memmove(h->buf, h->buf + h->used, h->len - h->used);
	h->len -= h->used;
	h->used = 0;
	for (;;) {
		struct pollfd pfd = { .fd = h->fd, .events = POLLIN };
		int left;
		ssize_t n;

		if (h->len >= 9) {
			uint32_t flen = (uint32_t)h->buf[0] << 16 | (uint32_t)h->buf[1] << 8 | h->buf[2];

			if (flen > sizeof(h->buf) - 9)
				return -EMSGSIZE;
			if (h->len >= 9 + flen) {
				f->len = flen;
				f->type = h->buf[3];
				f->flags = h->buf[4];
				f->stream = get32(h->buf + 5) & 0x7fffffffu;
				f->p = h->buf + 9;
				h->used = 9 + flen;
				return 1;
			}
		}
		left = (int)(end - it_now_ms());
		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&pfd, 1, left) < 0 && errno != EINTR)
			return -errno;
		n = recv(h->fd, h->buf + h->len, sizeof(h->buf) - h->len, 0);
		if (n == 0)
			return 0;
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0)
			return -errno;
		h->len += (size_t)n;
	}
}

/* Counts one frame; acknowledges the server's SETTINGS. */
void h2_note(struct h2 *h, struct tally *t, const struct frame *f)
{
	int k = sidx(f->stream);

	t->frames++;
	switch (f->type) {
	case F_DATA:
		t->total_data += f->len;
		if (k >= 0)
			t->data[k] += f->len;
		break;
	case F_HEADERS:
		t->headers++;
		if (k >= 0 && t->status[k] < 0 && f->len > 0) {
			size_t skip = (f->flags & FL_PADDED ? 1 : 0) + (f->flags & FL_PRIORITY ? 5 : 0);
			t->status[k] = skip < f->len ? f->p[skip] : -1;
		}
		break;
	case F_RST_STREAM:
		t->rsts++;
		if (k >= 0 && f->len == 4)
			t->rst[k] = (int)get32(f->p);
		break;
	case F_SETTINGS:
		if (!(f->flags & FL_ACK)) {
			struct fbuf b = { 0 };

			t->settings++;
			fb_frame(&b, F_SETTINGS, FL_ACK, 0, NULL, 0);
			(void)h2_send(h, b.p, b.len, IT_IO_MS);
			free(b.p);
		}
		break;
	case F_PING:
		if (f->flags & FL_ACK)
			t->pings_acked++;
		break;
	case F_GOAWAY:
		if (f->len >= 8) {
			t->goaway_last = get32(f->p) & 0x7fffffffu;
			t->goaway_error = get32(f->p + 4);
			if (t->goaways == 0) {
				t->goaway_first_last = t->goaway_last;
				t->goaway_first_error = t->goaway_error;
			}
		}
		t->goaways++;
		break;
	default:
		break;
	}
	if (k >= 0 && (f->type == F_DATA || f->type == F_HEADERS) && (f->flags & FL_END_STREAM))
		t->ended[k] = true;
}

/*
 * Reads and tallies frames until `until` holds (NULL: until the server
 * closes), the connection ends, or timeout_ms passes.  True when `until`
 * held (or, without one, on EOF).
 */
bool h2_run(struct h2 *h, struct tally *t, until_fn until, const void *arg, int timeout_ms)
{
	int64_t end = it_now_ms() + timeout_ms;
	struct frame f = { 0 };

	for (;;) {
		int left = (int)(end - it_now_ms()), rc;

		if (until && until(t, arg))
			return true;
		if (t->eof || t->err)
			return !until && t->eof;
		if (left <= 0)
			return false;
		rc = h2_read(h, &f, left);
		if (rc == 1)
			h2_note(h, t, &f);
		else if (rc == 0)
			t->eof = true;
		else if (rc == -ETIMEDOUT)
			return until ? until(t, arg) : false;   /* may be called again */
		else if (rc == -ECONNRESET)
			t->eof = true, t->err = rc;   /* a close with our flood unread */
		else
			t->err = rc;
	}
}

/* until: every stream 1, 3, ... up to the count in *arg has ended or was reset. */
bool all_done(const struct tally *t, const void *arg)
{
	int n = *(const int *)arg;

	for (int k = 0; k < n; k++)
		if (!t->ended[k] && t->rst[k] < 0)
			return false;
	return true;
}

/* until: at least *arg body bytes in all. */
bool data_at_least(const struct tally *t, const void *arg)
{
	return t->total_data >= *(const uint64_t *)arg;
}

/* until: a GOAWAY came. */
bool got_goaway(const struct tally *t, const void *arg)
{
	(void)arg;
	return t->goaways > 0;
}

/* until: the server's SETTINGS came (and h2_note() acknowledged it). */
static bool got_settings(const struct tally *t, const void *arg)
{
	(void)arg;
	return t->settings > 0;
}

/* until: stream *arg has ended or was reset. */
bool stream_done(const struct tally *t, const void *arg)
{
	int k = sidx(*(const uint32_t *)arg);

	return k >= 0 && (t->ended[k] || t->rst[k] >= 0);
}

/* until: stream *arg has its response head, or was reset. */
bool stream_headed(const struct tally *t, const void *arg)
{
	int k = sidx(*(const uint32_t *)arg);

	return k >= 0 && (t->status[k] >= 0 || t->rst[k] >= 0);
}

/* until: streams 1, 3, ... up to the count in *arg all have a response head or a reset. */
bool all_headed(const struct tally *t, const void *arg)
{
	int n = *(const int *)arg;

	for (int k = 0; k < n; k++)
		if (t->status[k] < 0 && t->rst[k] < 0)
			return false;
	return true;
}

/* until: stream *arg was reset, or a GOAWAY came. */
bool reset_or_goaway(const struct tally *t, const void *arg)
{
	int k = sidx(*(const uint32_t *)arg);

	return t->goaways > 0 || (k >= 0 && t->rst[k] >= 0);
}

void fb_settings_window(struct fbuf *b, uint32_t window)
{
	uint8_t set[6] = { 0, 4 };

	put32(set + 2, window);
	fb_frame(b, F_SETTINGS, 0, 0, set, sizeof(set));
}

/*
 * A connection past the preface and SETTINGS exchange (both acknowledged
 * by the time the next frames arrive); `window` >= 0 is sent as our
 * SETTINGS_INITIAL_WINDOW_SIZE, 0 holding every response body back.
 */
struct h2 *h2_open(int port, long window, struct tally *t)
{
	struct fbuf b = { 0 };
	struct h2 *h = h2_connect(port);

	fb_add(&b, PREFACE, strlen(PREFACE));
	if (window >= 0)
		fb_settings_window(&b, (uint32_t)window);
	else
		fb_frame(&b, F_SETTINGS, 0, 0, NULL, 0);
	h2_send_fb(h, &b);
	free(b.p);
	tally_init(t);
	IT_ASSERT(h2_run(h, t, got_settings, NULL, IT_IO_MS), "no SETTINGS from the server");
	return h;
}

/* A literal field without indexing, its name static-table entry idx (< 15). */
static size_t hpack_lit(uint8_t *out, uint8_t idx, const char *value)
{
	size_t vl = strlen(value);

	ck_assert_uint_lt(vl, 127);
	out[0] = idx;
	out[1] = (uint8_t)vl;
	memcpy(out + 2, value, vl);
	return vl + 2;
}

/* HEADERS for GET with this :scheme and :path, END_STREAM and END_HEADERS. */
void fb_get_scheme(struct fbuf *b, uint32_t stream, const char *scheme, const char *path)
{
	uint8_t block[512];
	size_t n = 0;

	block[n++] = 0x82;
	n += hpack_lit(block + n, 6, scheme);
	n += hpack_lit(block + n, 4, path);
	n += hpack_lit(block + n, 1, "localhost");
	fb_frame(b, F_HEADERS, FL_END_STREAM | FL_END_HEADERS, stream, block, n);
}

/* Expects GOAWAY with `error`, then the close. */
void expect_goaway(struct h2 *h, struct tally *t, uint32_t error, const char *what)
{
	IT_ASSERT(h2_run(h, t, got_goaway, NULL, IT_IO_MS) && t->goaway_error == error,
		  "%s: want GOAWAY error %#x, got %d GOAWAY (error %#x), eof %d", what, error,
		  t->goaways, t->goaway_error, t->eof);
	IT_ASSERT(h2_run(h, t, NULL, NULL, IT_IO_MS), "%s: the connection stays open after GOAWAY",
		  what);
}
