/* test_http2.c - HTTP/2 end to end: h2c and ALPN h2, h2c_only, concurrency, static files, metrics, flow control, drain, floods, limits. */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "core/module.h"
#include "harness.h"

/* Every client command runs under this cap, so a hung client cannot hang the suite. */
#define T "timeout -k 1 10 "
#define BIG_SIZE (1u << 20)

/* ---- running clients ---- */

static bool have_h2(int i)
{
	if (!it_backend(i))
		return false;
	if (!sw_module_find("http2")) {
		fprintf(stderr, "note: built without http2; skipping\n");
		return false;
	}
	return true;
}

static bool have_h2_tls(int i)
{
	if (!have_h2(i))
		return false;
	if (!sw_module_find("tls")) {
		fprintf(stderr, "note: built without tls; skipping\n");
		return false;
	}
	return true;
}

/* ---- the document root ---- */

static char www[IT_PATH_MAX];

static void write_bytes(const char *name, const void *data, size_t len)
{
	char path[IT_PATH_MAX + 64];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", www, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
	ck_assert_msg(write(fd, data, len) == (ssize_t)len, "write %s: %s", path, strerror(errno));
	close(fd);
}

static void write_text(const char *name, const char *text)
{
	write_bytes(name, text, strlen(text));
}

/* A file of `size` zero bytes that takes no disk (and no time) to make. */
static void write_sparse(const char *name, off_t size)
{
	char path[IT_PATH_MAX + 64];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", www, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ck_assert_msg(fd >= 0 && ftruncate(fd, size) == 0, "sparse %s: %s", path, strerror(errno));
	close(fd);
}

static void populate(void)
{
	char *o;
	int st;

	it_path(www, "www");
	ck_assert_int_eq(mkdir(www, 0755), 0);
	write_text("index.html", "<h1>home</h1>\n");
	write_text("hello.txt", "hello world\n");
	write_text("app.js", "console.log('identity');\n");
	write_text("app.js.gz", "GZIP-BYTES!");
	o = it_run(&st, "head -c %u /dev/urandom > %s/big.bin", BIG_SIZE, www);
	free(o);
	ck_assert_int_eq(st, 0);
}

/*
 * Starts swerver with static_root = www: listener 0 is 127.0.0.1:0 (the one
 * the harness waits on), `listeners` adds more, `extra` adds top-level keys
 * (each ending with a comma).
 */
static void write_config(char cfg[IT_PATH_MAX], int i, unsigned workers, const char *listeners,
			 const char *extra)
{
	it_path(cfg, "swerver.json");
	it_write_filef(cfg,
		"{\n"
		"  \"server\": {\n"
		"    \"listeners\": [{\"address\": \"127.0.0.1\", \"port\": 0}%s],\n"
		"    \"workers\": %u,\n"
		"    \"io_backend\": \"%s\",\n"
		"    \"static_root\": \"%s\"\n"
		"  },\n"
		"  %s\n"
		"  \"timeouts\": {\"drain_ms\": 5000}\n"
		"}\n", listeners ? listeners : "", workers, it_backend(i), www, extra ? extra : "");
}

static struct it_proc *start(int i, unsigned workers, const char *listeners, const char *extra,
			     int *port)
{
	char cfg[IT_PATH_MAX];

	write_config(cfg, i, workers, listeners, extra);
	return it_start_ready(cfg, "127.0.0.1", port);
}

/* ---- curl ---- */

struct cres {
	int code;                     /* %{http_code}, 0 when curl failed */
	char version[8];              /* %{http_version}: "2", "1.1" */
	long size;                    /* %{size_download} */
	char *head;                   /* the response head(s) curl dumped */
	char *body;
	int rc;                       /* curl's exit status */
};

static void cres_free(struct cres *r)
{
	free(r->head);
	free(r->body);
	r->head = r->body = NULL;
}

/* curl `args` url; head and body kept from files. */
static void curl(struct cres *r, const char *args, const char *url)
{
	char hf[IT_PATH_MAX], bf[IT_PATH_MAX];
	char *o;

	memset(r, 0, sizeof(*r));
	it_path(hf, "curl.head");
	it_path(bf, "curl.body");
	unlink(hf);
	unlink(bf);
	o = it_run(&r->rc, T "curl -s --max-time 8 -D %s -o %s -w '%%{http_code} %%{http_version} "
		"%%{size_download}' %s '%s'", hf, bf, args, url);
	if (sscanf(o, "%d %7s %ld", &r->code, r->version, &r->size) != 3)
		r->code = 0;
	free(o);
	r->head = it_read_file(hf);
	r->body = it_read_file(bf);
}

/* curl --http2-prior-knowledge to 127.0.0.1:port path. */
static void h2curl(struct cres *r, int port, const char *args, const char *path)
{
	char url[256], a[8192 + 64];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
	snprintf(a, sizeof(a), "--http2-prior-knowledge %s", args ? args : "");
	curl(r, a, url);
}

/* A header's value in a dumped head (case-insensitive name), into a static buffer. */
static const char *chdr(const struct cres *r, const char *name)
{
	static char val[1024];
	size_t nlen = strlen(name);

	for (const char *l = r->head; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		const char *v = l;

		if (strncasecmp(v, name, nlen) != 0 || v[nlen] != ':')
			continue;
		v += nlen + 1;
		v += strspn(v, " \t");
		snprintf(val, sizeof(val), "%.*s", (int)strcspn(v, "\r\n"), v);
		return val;
	}
	return NULL;
}

static void expect_chdr(const struct cres *r, const char *name, const char *want, const char *what)
{
	const char *v = chdr(r, name);

	IT_ASSERT(v && strcmp(v, want) == 0, "%s: %s is \"%s\", want \"%s\"\n%s", what, name,
		  v ? v : "(absent)", want, r->head);
}

/* One value of a Prometheus series ("name{labels}") in GET /metrics, -1 if absent. */
static long long metric(int port, const char *series)
{
	char *o = it_run(NULL, T "curl -s --http1.1 http://127.0.0.1:%d/metrics", port);
	size_t n = strlen(series);
	long long v = -1;

	for (const char *l = o; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (strncmp(l, series, n) == 0 && l[n] == ' ') {
			v = atoll(l + n + 1);
			break;
		}
	free(o);
	return v;
}

/* Polls until the series reads `want` (counters are shared, but be patient). */
static long long wait_metric(int port, const char *series, long long want, int timeout_ms)
{
	int64_t end = it_now_ms() + timeout_ms;
	long long v;

	while ((v = metric(port, series)) != want && it_now_ms() < end)
		it_sleep_ms(50);
	return v;
}

/* ---- a raw HTTP/2 client ---- */

enum {
	F_DATA = 0, F_HEADERS = 1, F_PRIORITY = 2, F_RST_STREAM = 3, F_SETTINGS = 4,
	F_PUSH_PROMISE = 5, F_PING = 6, F_GOAWAY = 7, F_WINDOW_UPDATE = 8, F_CONTINUATION = 9,
};
#define FL_END_STREAM 0x1
#define FL_ACK 0x1
#define FL_END_HEADERS 0x4
#define FL_PADDED 0x8
#define FL_PRIORITY 0x20
#define E_NO_ERROR 0x0
#define E_PROTOCOL_ERROR 0x1
#define E_FLOW_CONTROL_ERROR 0x3
#define E_CANCEL 0x8
#define E_REFUSED_STREAM 0x7
#define E_ENHANCE_YOUR_CALM 0xb
#define PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define MAX_WINDOW 0x7fffffffu
#define STATUS_200 0x88               /* :status as an indexed static-table field */
#define STATUS_400 0x8c
#define NSTREAMS 1024                 /* streams 1..2047 are tallied */

struct h2 {
	int fd;
	size_t len, used;             /* bytes in buf; bytes of the frame last returned */
	uint8_t buf[1 << 17];
};

struct frame {
	uint8_t type, flags;
	uint32_t stream, len;
	const uint8_t *p;
};

/* What came back on a connection, frame by frame. */
struct tally {
	uint64_t data[NSTREAMS];      /* DATA payload bytes, by stream id / 2 */
	bool ended[NSTREAMS];         /* END_STREAM seen */
	int status[NSTREAMS];         /* first byte of the response header block, -1: none */
	int rst[NSTREAMS];            /* RST_STREAM error code, -1: none */
	uint64_t total_data;
	unsigned frames, headers, rsts, pings_acked, settings;
	int goaways;
	uint32_t goaway_first_last, goaway_first_error;
	uint32_t goaway_last, goaway_error; /* of the latest GOAWAY */
	bool eof;                     /* the server closed cleanly */
	int err;                      /* or the read failed: -errno */
};

/* An index into the tally, or -1 for a stream beyond it. */
static int sidx(uint32_t id)
{
	return id % 2 == 1 && id / 2 < NSTREAMS ? (int)(id / 2) : -1;
}

static void tally_init(struct tally *t)
{
	memset(t, 0, sizeof(*t));
	for (int k = 0; k < NSTREAMS; k++)
		t->status[k] = t->rst[k] = -1;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* A growing buffer of frames, sent in one go. */
struct fbuf {
	uint8_t *p;
	size_t len, cap;
};

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

static void fb_frame(struct fbuf *b, uint8_t type, uint8_t flags, uint32_t stream,
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
static size_t hpack_get(uint8_t *out, const char *path)
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
static void fb_get(struct fbuf *b, uint32_t stream, const char *path)
{
	uint8_t block[256];
	size_t n = hpack_get(block, path);

	fb_frame(b, F_HEADERS, FL_END_STREAM | FL_END_HEADERS, stream, block, n);
}

/* The preface and our SETTINGS; `big_windows` opens stream and connection windows to 2^31-1. */
static void fb_preface(struct fbuf *b, bool big_windows)
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

static struct h2 *h2_connect(int port)
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

static void h2_close(struct h2 *h)
{
	if (h->fd >= 0)
		close(h->fd);
	free(h);
}

/* Sends everything within timeout_ms; 0 or -errno (a flooded server may close on us). */
static int h2_send(struct h2 *h, const void *data, size_t len, int timeout_ms)
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

static void h2_send_fb(struct h2 *h, struct fbuf *b)
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
static void note(struct h2 *h, struct tally *t, const struct frame *f)
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

typedef bool (*until_fn)(const struct tally *t, const void *arg);

/*
 * Reads and tallies frames until `until` holds (NULL: until the server
 * closes), the connection ends, or timeout_ms passes.  True when `until`
 * held (or, without one, on EOF).
 */
static bool h2_run(struct h2 *h, struct tally *t, until_fn until, const void *arg, int timeout_ms)
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
			note(h, t, &f);
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
static bool all_done(const struct tally *t, const void *arg)
{
	int n = *(const int *)arg;

	for (int k = 0; k < n; k++)
		if (!t->ended[k] && t->rst[k] < 0)
			return false;
	return true;
}

/* until: at least *arg body bytes in all. */
static bool data_at_least(const struct tally *t, const void *arg)
{
	return t->total_data >= *(const uint64_t *)arg;
}

/* until: a GOAWAY came. */
static bool got_goaway(const struct tally *t, const void *arg)
{
	(void)arg;
	return t->goaways > 0;
}

/* VmRSS of pid in KiB, -1 when unreadable. */
static long rss_kib(pid_t pid)
{
	char path[64], line[256];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &v) == 1)
			break;
	fclose(f);
	return v;
}

/* ---- 1. cleartext HTTP/2 with prior knowledge ---- */

START_TEST(h2c_prior_knowledge)
{
	struct cres r;
	int port, st;
	char *o;

	if (!have_h2(_i))
		return;
	populate();
	start(_i, 2, NULL,
	      "\"http2\": {\"max_streams\": 77, \"initial_window_size\": 123456,"
	      " \"max_frame_size\": 32768, \"max_header_list_size\": 4096},", &port);

	h2curl(&r, port, NULL, "/.healthz");
	IT_ASSERT(r.code == 200 && strcmp(r.version, "2") == 0 && r.size == 0,
		  "/.healthz over h2c: %d, version %s, %ld bytes", r.code, r.version, r.size);
	expect_chdr(&r, "content-length", "0", "/.healthz");
	IT_ASSERT(strncmp(r.head, "HTTP/2 200", 10) == 0, "head: %.60s", r.head);
	cres_free(&r);

	h2curl(&r, port, NULL, "/hello.txt");
	IT_ASSERT(r.code == 200 && strcmp(r.version, "2") == 0, "/hello.txt: %d %s", r.code,
		  r.version);
	IT_ASSERT(strcmp(r.body, "hello world\n") == 0, "/hello.txt body \"%s\"", r.body);
	expect_chdr(&r, "content-type", "text/plain; charset=utf-8", "/hello.txt");
	cres_free(&r);

	o = it_run(&st, T "curl -s --http2-prior-knowledge http://127.0.0.1:%d/big.bin | cmp - %s/big.bin"
		" && echo same", port, www);
	IT_ASSERT(strstr(o, "same") != NULL, "1 MiB file over h2c differs: %s", o);
	free(o);

	/* The server's SETTINGS are the configured ones, and the connection window follows. */
	o = it_run(&st, T "nghttp -nv http://127.0.0.1:%d/hello.txt 2>&1", port);
	IT_ASSERT(strstr(o, "recv SETTINGS frame") != NULL, "nghttp got no SETTINGS:\n%s", o);
	IT_ASSERT(strstr(o, "[SETTINGS_MAX_CONCURRENT_STREAMS(0x03):77]") != NULL,
		  "max_streams 77 not advertised:\n%s", o);
	IT_ASSERT(strstr(o, "[SETTINGS_INITIAL_WINDOW_SIZE(0x04):123456]") != NULL,
		  "initial_window_size 123456 not advertised:\n%s", o);
	IT_ASSERT(strstr(o, "[SETTINGS_MAX_FRAME_SIZE(0x05):32768]") != NULL,
		  "max_frame_size 32768 not advertised:\n%s", o);
	IT_ASSERT(strstr(o, "[SETTINGS_MAX_HEADER_LIST_SIZE(0x06):4096]") != NULL,
		  "max_header_list_size 4096 not advertised:\n%s", o);
	/* 123456 - 65535: the connection window is widened to the stream window. */
	IT_ASSERT(strstr(o, "recv WINDOW_UPDATE frame <length=4, flags=0x00, stream_id=0>\n"
			 "          (window_size_increment=57921)") != NULL,
		  "no connection WINDOW_UPDATE of 57921:\n%s", o);
	IT_ASSERT(strstr(o, ":status: 200") != NULL, "nghttp: no 200:\n%s", o);
	IT_ASSERT(st == 0, "nghttp exit %d:\n%s", st, o);
	free(o);
	/* HTTP/1.1 still works on a listener that also takes h2c. */
	IT_ASSERT(it_http_get("127.0.0.1", port, "/hello.txt", IT_IO_MS) == 200, "HTTP/1.1 beside h2c");
}
END_TEST

/* ---- 2. HTTP/2 over TLS, by ALPN ---- */

START_TEST(h2_over_tls_alpn)
{
	char listeners[128], extra[2 * IT_PATH_MAX + 128];
	const char *d;
	struct cres r;
	int tport, port, st;
	char url[128];
	char *o;

	if (!have_h2_tls(_i))
		return;
	populate();
	d = it_tmpdir();
	o = it_run(&st, "cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
		"-days 2 -keyout def.key -out def.pem -subj /CN=default.test "
		"-addext subjectAltName=DNS:default.test,IP:127.0.0.1 2>&1", d);
	IT_ASSERT(st == 0, "openssl req: %s", o);
	free(o);
	it_free_ports(&tport, 1);
	snprintf(listeners, sizeof(listeners),
		 ", {\"address\": \"127.0.0.1\", \"port\": %d, \"use_tls\": true}", tport);
	snprintf(extra, sizeof(extra), "\"tls\": {\"cert_path\": \"%s/def.pem\", \"key_path\": \"%s/def.key\"},",
		 d, d);
	start(_i, 2, listeners, extra, &port);
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/hello.txt", tport);

	curl(&r, "-k --http2", url);
	IT_ASSERT(r.code == 200 && strcmp(r.version, "2") == 0, "curl --http2 over TLS: %d, version %s",
		  r.code, r.version);
	IT_ASSERT(strcmp(r.body, "hello world\n") == 0, "body over h2/TLS: \"%s\"", r.body);
	cres_free(&r);

	/* A file body over TLS is read and framed, not sendfile'd: compare it whole. */
	o = it_run(&st, T "curl -sk --http2 https://127.0.0.1:%d/big.bin | cmp - %s/big.bin && echo same",
		tport, www);
	IT_ASSERT(strstr(o, "same") != NULL, "1 MiB file over h2/TLS differs: %s", o);
	free(o);

	o = it_run(&st, "echo | " T "openssl s_client -connect 127.0.0.1:%d -alpn h2 2>&1 | grep -a ALPN",
		tport);
	IT_ASSERT(strstr(o, "ALPN protocol: h2") != NULL, "s_client -alpn h2: \"%s\"", o);
	free(o);

	/* A client that offers only HTTP/1.1 is served HTTP/1.1 on the same port. */
	curl(&r, "-k --http1.1", url);
	IT_ASSERT(r.code == 200 && strcmp(r.version, "1.1") == 0, "curl --http1.1 over TLS: %d, %s",
		  r.code, r.version);
	IT_ASSERT(strcmp(r.body, "hello world\n") == 0, "body over h1/TLS: \"%s\"", r.body);
	cres_free(&r);

	/* nghttp speaks h2 over TLS and gets the SETTINGS there too. */
	o = it_run(&st, T "nghttp -nv https://127.0.0.1:%d/hello.txt 2>&1", tport);
	IT_ASSERT(strstr(o, "[SETTINGS_MAX_CONCURRENT_STREAMS(0x03):128]") && strstr(o, ":status: 200"),
		  "nghttp over TLS:\n%s", o);
	free(o);
}
END_TEST

/* ---- 3. an h2c_only listener ---- */

START_TEST(h2c_only_listener)
{
	char listeners[128];
	struct it_conn *c;
	struct it_response resp;
	struct cres r;
	int port, oport, rc;

	if (!have_h2(_i))
		return;
	populate();
	it_free_ports(&oport, 1);
	snprintf(listeners, sizeof(listeners),
		 ", {\"address\": \"127.0.0.1\", \"port\": %d, \"h2c_only\": true}", oport);
	start(_i, 1, listeners, NULL, &port);

	c = it_conn_new(oport);
	rc = it_conn_get(c, "/hello.txt", &resp);
	IT_ASSERT(rc == 0, "HTTP/1.1 on the h2c_only port: %s", strerror(-rc));
	IT_ASSERT(resp.status == 505, "HTTP/1.1 on the h2c_only port got %d, want 505\n%s",
		  resp.status, resp.head);
	IT_ASSERT(strncmp(resp.head, "HTTP/1.1 505 ", 13) == 0, "status line: %.60s", resp.head);
	IT_ASSERT(resp.conn_close, "505 without Connection: close\n%s", resp.head);
	IT_ASSERT(it_conn_wait_eof(c, IT_IO_MS), "the connection stayed open after the 505");
	it_conn_free(c);

	h2curl(&r, oport, NULL, "/hello.txt");
	IT_ASSERT(r.code == 200 && strcmp(r.version, "2") == 0 && strcmp(r.body, "hello world\n") == 0,
		  "prior knowledge on the h2c_only port: %d %s \"%s\"", r.code, r.version, r.body);
	cres_free(&r);
	/* The other listener keeps both. */
	IT_ASSERT(it_http_get("127.0.0.1", port, "/hello.txt", IT_IO_MS) == 200, "HTTP/1.1 elsewhere");
	h2curl(&r, port, NULL, "/hello.txt");
	IT_ASSERT(r.code == 200 && strcmp(r.version, "2") == 0, "h2c elsewhere: %d", r.code);
	cres_free(&r);
}
END_TEST

/* http2.h2c_only: every cleartext listener refuses HTTP/1.1. */
START_TEST(h2c_only_global)
{
	char cfg[IT_PATH_MAX];
	struct it_proc *p;
	struct it_response resp;
	struct it_conn *c;
	struct cres r;
	int64_t end;
	int port, rc;

	if (!have_h2(_i))
		return;
	populate();
	it_path(cfg, "swerver.json");
	it_write_filef(cfg,
		"{ \"server\": { \"listeners\": [{\"address\": \"127.0.0.1\", \"port\": 0}],\n"
		"              \"workers\": 1, \"io_backend\": \"%s\", \"static_root\": \"%s\" },\n"
		"  \"http2\": {\"h2c_only\": true}, \"timeouts\": {\"drain_ms\": 1000} }\n",
		it_backend(_i), www);
	p = it_start(cfg, NULL);
	port = it_wait_port(p, "127.0.0.1", IT_WAIT_MS);
	IT_ASSERT(port > 0, "no listening line (swerver: %s)", it_code_str(it_poll_exit(p)));
	end = it_now_ms() + IT_WAIT_MS;
	do {
		h2curl(&r, port, NULL, "/.ready");
		rc = r.code;
		cres_free(&r);
	} while (rc != 200 && it_now_ms() < end && (it_sleep_ms(20), true));
	IT_ASSERT(rc == 200, "/.ready over h2c: %d", rc);

	c = it_conn_new(port);
	rc = it_conn_get(c, "/hello.txt", &resp);
	IT_ASSERT(rc == 0 && resp.status == 505, "HTTP/1.1 with http2.h2c_only: rc %d status %d", rc,
		  resp.status);
	IT_ASSERT(it_conn_wait_eof(c, IT_IO_MS), "the connection stayed open after the 505");
	it_conn_free(c);
}
END_TEST

/* ---- 4. many streams on one connection ---- */

/* h2load's "requests: ..." line numbers. */
static void h2load(int port, const char *args, long *succeeded, long *ok2xx, char **out)
{
	const char *l;

	*out = it_run(NULL, T "h2load %s http://127.0.0.1:%d/big.bin 2>&1", args, port);
	*succeeded = *ok2xx = -1;
	if ((l = strstr(*out, "requests: ")))
		sscanf(strstr(l, "done, ") ? strstr(l, "done, ") + 6 : l, "%ld succeeded", succeeded);
	if ((l = strstr(*out, "status codes: ")))
		sscanf(l + 14, "%ld 2xx", ok2xx);
}

START_TEST(concurrent_streams)
{
	long ok, ok2xx;
	char *o;
	int port;

	if (!have_h2(_i))
		return;
	populate();
	start(_i, 1, NULL, NULL, &port);
	h2load(port, "-n 100 -c 1 -m 100", &ok, &ok2xx, &o);
	IT_ASSERT(ok == 100 && ok2xx == 100, "h2load 100 streams on one connection: %ld succeeded, "
		  "%ld 2xx\n%s", ok, ok2xx, o);
	free(o);
	o = it_run(NULL, T "nghttp -ns -m 100 http://127.0.0.1:%d/hello.txt 2>&1 | grep -c ' 200 '", port);
	IT_ASSERT(atoi(o) == 100, "nghttp -m 100: %s responses with 200", o);
	free(o);
}
END_TEST

START_TEST(max_streams_limit)
{
	struct fbuf b = { 0 };
	struct tally t;
	struct h2 *h;
	long ok, ok2xx;
	int port, n = 20, served = 0, refused = 0;
	char *o;

	if (!have_h2(_i))
		return;
	populate();
	start(_i, 1, NULL, "\"http2\": {\"max_streams\": 10},", &port);
	/* A client that keeps to the advertised limit gets everything. */
	h2load(port, "-n 100 -c 1 -m 10", &ok, &ok2xx, &o);
	IT_ASSERT(ok == 100 && ok2xx == 100, "h2load -m 10 against max_streams 10: %ld succeeded, "
		  "%ld 2xx\n%s", ok, ok2xx, o);
	free(o);

	/*
	 * One that opens 20 before it has seen SETTINGS: 10 are served, the
	 * rest refused with REFUSED_STREAM (safe to retry), and the connection
	 * goes on.
	 */
	h = h2_connect(port);
	fb_preface(&b, false);
	for (int k = 0; k < n; k++)
		fb_get(&b, (uint32_t)(2 * k + 1), "/hello.txt");
	h2_send_fb(h, &b);
	tally_init(&t);
	IT_ASSERT(h2_run(h, &t, all_done, &n, IT_IO_MS), "20 streams not all answered or reset "
		  "(eof %d, err %d, %u frames)", t.eof, t.err, t.frames);
	for (int k = 0; k < n; k++) {
		served += t.ended[k] && t.status[k] == 0x88 && t.data[k] == 12;
		refused += t.rst[k] == E_REFUSED_STREAM;
	}
	IT_ASSERT(served == 10 && refused == 10, "max_streams 10, 20 opened at once: %d served, %d "
		  "refused with REFUSED_STREAM", served, refused);
	IT_ASSERT(t.goaways == 0, "GOAWAY (error %u) for exceeding the limit before SETTINGS ACK",
		  t.goaway_error);
	/* Retried, now that the limit is known, they are served on the same connection. */
	n = 30;
	for (int k = 20; k < n; k++)
		fb_get(&b, (uint32_t)(2 * k + 1), "/hello.txt");
	h2_send_fb(h, &b);
	IT_ASSERT(h2_run(h, &t, all_done, &n, IT_IO_MS), "10 more streams not answered");
	for (int k = 20; k < n; k++)
		IT_ASSERT(t.ended[k] && t.status[k] == 0x88 && t.data[k] == 12,
			  "stream %d after the refusals: status byte %#x, %llu bytes, rst %d", 2 * k + 1,
			  t.status[k], (unsigned long long)t.data[k], t.rst[k]);
	free(b.p);
	h2_close(h);
}
END_TEST

/* ---- 5. static file rules over HTTP/2 ---- */

START_TEST(static_rules)
{
	char etag[128], args[IT_PATH_MAX];
	struct cres r;
	int port;

	if (!have_h2(_i))
		return;
	populate();
	start(_i, 1, NULL, NULL, &port);

	h2curl(&r, port, NULL, "/hello.txt");
	IT_ASSERT(r.code == 200 && chdr(&r, "etag") && chdr(&r, "last-modified"),
		  "GET: %d, no validators\n%s", r.code, r.head);
	snprintf(etag, sizeof(etag), "%s", chdr(&r, "etag"));
	expect_chdr(&r, "content-length", "12", "GET hello.txt");
	expect_chdr(&r, "accept-ranges", "bytes", "GET hello.txt");
	IT_ASSERT(!chdr(&r, "connection") && !chdr(&r, "keep-alive") && !chdr(&r, "transfer-encoding"),
		  "connection-specific fields in an HTTP/2 response\n%s", r.head);
	cres_free(&r);

	snprintf(args, sizeof(args), "-H 'If-None-Match: \"nope\", %s'", etag);
	h2curl(&r, port, args, "/hello.txt");
	IT_ASSERT(r.code == 304 && r.size == 0, "If-None-Match: %d, %ld bytes\n%s", r.code, r.size,
		  r.head);
	expect_chdr(&r, "etag", etag, "304");
	IT_ASSERT(!chdr(&r, "content-length"), "304 with a content-length\n%s", r.head);
	cres_free(&r);

	h2curl(&r, port, "-H 'If-None-Match: \"other\"'", "/hello.txt");
	IT_ASSERT(r.code == 200 && r.size == 12, "other ETag: %d", r.code);
	cres_free(&r);

	h2curl(&r, port, "-H 'Range: bytes=0-99'", "/big.bin");
	IT_ASSERT(r.code == 206 && r.size == 100, "Range 0-99: %d with %ld bytes\n%s", r.code, r.size,
		  r.head);
	expect_chdr(&r, "content-range", "bytes 0-99/1048576", "206");
	expect_chdr(&r, "content-length", "100", "206");
	{
		char path[IT_PATH_MAX + 16];
		char *file;

		snprintf(path, sizeof(path), "%s/big.bin", www);
		file = it_read_file(path);
		IT_ASSERT(memcmp(r.body, file, 100) == 0, "the 100 bytes of the range differ");
		free(file);
	}
	cres_free(&r);
	h2curl(&r, port, "-H 'Range: bytes=6-10'", "/hello.txt");
	IT_ASSERT(r.code == 206 && strcmp(r.body, "world") == 0, "Range 6-10: %d \"%s\"", r.code,
		  r.body);
	expect_chdr(&r, "content-range", "bytes 6-10/12", "206");
	cres_free(&r);
	h2curl(&r, port, "-H 'Range: bytes=50-60'", "/hello.txt");
	IT_ASSERT(r.code == 416, "unsatisfiable range: %d", r.code);
	expect_chdr(&r, "content-range", "bytes */12", "416");
	cres_free(&r);

	h2curl(&r, port, "-H 'Accept-Encoding: gzip'", "/app.js");
	IT_ASSERT(r.code == 200 && strcmp(r.body, "GZIP-BYTES!") == 0, "gzip: %d \"%s\"", r.code,
		  r.body);
	expect_chdr(&r, "content-encoding", "gzip", "app.js.gz");
	expect_chdr(&r, "vary", "Accept-Encoding", "app.js.gz");
	expect_chdr(&r, "content-type", "text/javascript; charset=utf-8", "app.js.gz");
	cres_free(&r);
	h2curl(&r, port, "-H 'Accept-Encoding: identity'", "/app.js");
	IT_ASSERT(r.code == 200 && strcmp(r.body, "console.log('identity');\n") == 0 &&
		  !chdr(&r, "content-encoding"), "identity: %d \"%s\"", r.code, r.body);
	cres_free(&r);

	h2curl(&r, port, "-I", "/big.bin");
	IT_ASSERT(r.code == 200 && r.size == 0, "HEAD: %d with %ld body bytes", r.code, r.size);
	expect_chdr(&r, "content-length", "1048576", "HEAD big.bin");
	cres_free(&r);

	h2curl(&r, port, NULL, "/nope.txt");
	IT_ASSERT(r.code == 404 && strcmp(r.version, "2") == 0, "missing file: %d", r.code);
	cres_free(&r);
	h2curl(&r, port, "-X POST -d x", "/hello.txt");
	IT_ASSERT(r.code == 405, "POST to a file: %d", r.code);
	cres_free(&r);
	/* A directory without its slash is redirected. */
	it_path(args, "www/docs");
	ck_assert_int_eq(mkdir(args, 0755), 0);
	h2curl(&r, port, NULL, "/docs");
	IT_ASSERT(r.code == 301 && chdr(&r, "location"), "directory without slash: %d\n%s", r.code,
		  r.head);
	cres_free(&r);
}
END_TEST

/* ---- 6. metrics and access log ---- */

START_TEST(metrics_and_access_log)
{
	char extra[IT_PATH_MAX + 96], alog[IT_PATH_MAX];
	struct cres r;
	int64_t end;
	char *text = NULL;
	long long v;
	int port;

	if (!have_h2(_i))
		return;
	populate();
	it_path(alog, "access.log");
	snprintf(extra, sizeof(extra), "\"access_log\": {\"format\": \"json\", \"target\": \"%s\"},",
		 alog);
	start(_i, 1, NULL, extra, &port);
	h2curl(&r, port, NULL, "/hello.txt");
	ck_assert_int_eq(r.code, 200);
	cres_free(&r);
	h2curl(&r, port, "-A h2-agent", "/index.html");
	ck_assert_int_eq(r.code, 200);
	cres_free(&r);
	h2curl(&r, port, NULL, "/.healthz");
	ck_assert_int_eq(r.code, 200);
	cres_free(&r);
	h2curl(&r, port, NULL, "/missing");
	ck_assert_int_eq(r.code, 404);
	cres_free(&r);

	v = wait_metric(port, "swerver_requests_total{protocol=\"h2\",code=\"2xx\"}", 3, 2000);
	IT_ASSERT(v == 3, "h2 2xx requests: %lld, want 3", v);
	v = metric(port, "swerver_requests_total{protocol=\"h2\",code=\"4xx\"}");
	IT_ASSERT(v == 1, "h2 4xx requests: %lld, want 1", v);
	v = metric(port, "swerver_request_duration_seconds_count{protocol=\"h2\"}");
	IT_ASSERT(v == 4, "h2 duration count: %lld, want 4", v);
	v = metric(port, "swerver_bytes_sent_total{protocol=\"h2\"}");
	IT_ASSERT(v > 12 + 14, "h2 bytes sent: %lld", v);
	v = metric(port, "swerver_bytes_received_total{protocol=\"h2\"}");
	IT_ASSERT(v > 0, "h2 bytes received: %lld", v);
	v = metric(port, "swerver_requests_total{protocol=\"h3\",code=\"2xx\"}");
	IT_ASSERT(v == 0, "h3 2xx requests: %lld", v);

	end = it_now_ms() + 3000;
	for (;;) {
		free(text);
		text = it_read_file(alog);
		if (strstr(text, "\"target\":\"/missing\"") || it_now_ms() > end)
			break;
		it_sleep_ms(50);
	}
	IT_ASSERT(strstr(text, "\"method\":\"GET\",\"target\":\"/hello.txt\",\"protocol\":\"HTTP/2\"")
		  != NULL, "no HTTP/2 line for /hello.txt in the access log:\n%s", text);
	IT_ASSERT(strstr(text, "\"target\":\"/missing\",\"protocol\":\"HTTP/2\"") &&
		  strstr(text, "\"status\":404"), "no HTTP/2 404 line:\n%s", text);
	IT_ASSERT(strstr(text, "\"protocol\":\"HTTP/2\",\"host\":\"127.0.0.1:"),
		  ":authority not logged as the host:\n%s", text);
	IT_ASSERT(strstr(text, "\"user_agent\":\"h2-agent\""), "user agent over h2 not logged:\n%s",
		  text);
	IT_ASSERT(strstr(text, "\"target\":\"/index.html\",\"protocol\":\"HTTP/2\",") &&
		  strstr(text, "\"bytes\":14,"), "bytes of /index.html:\n%s", text);
	free(text);
}
END_TEST

START_TEST(access_log_combined)
{
	char extra[IT_PATH_MAX + 96], alog[IT_PATH_MAX];
	struct cres r;
	int64_t end;
	char *text = NULL;
	int port;

	if (!have_h2(_i))
		return;
	populate();
	it_path(alog, "access.log");
	snprintf(extra, sizeof(extra),
		 "\"access_log\": {\"format\": \"combined\", \"target\": \"%s\"},", alog);
	start(_i, 1, NULL, extra, &port);
	h2curl(&r, port, NULL, "/hello.txt");
	ck_assert_int_eq(r.code, 200);
	cres_free(&r);
	end = it_now_ms() + 3000;
	for (;;) {
		free(text);
		text = it_read_file(alog);
		if (strstr(text, "/hello.txt") || it_now_ms() > end)
			break;
		it_sleep_ms(50);
	}
	IT_ASSERT(strstr(text, "\"GET /hello.txt HTTP/2.0\" 200 12 ") != NULL,
		  "combined line for an h2 request:\n%s", text);
	free(text);
}
END_TEST

/* ---- 7. a client that stops reading is held by flow control, not buffered ---- */

#define HUGE_SIZE ((off_t)64 << 20)

START_TEST(slow_reader_not_buffered)
{
	struct fbuf b = { 0 };
	struct it_proc *p;
	struct tally t;
	struct h2 *h;
	long base, peak = 0, now;
	uint64_t want;
	int port, one = 1;
	int64_t end;

	if (!have_h2(_i))
		return;
	populate();
	write_sparse("huge.bin", HUGE_SIZE);
	p = start(_i, 1, NULL, NULL, &port);   /* workers 1: the server is this one process */

	h = h2_connect(port);
	/* Windows of 2 GiB: only the server's own back-pressure can stop it. */
	fb_preface(&b, true);
	fb_get(&b, 1, "/.healthz");
	h2_send_fb(h, &b);
	tally_init(&t);
	IT_ASSERT(h2_run(h, &t, all_done, &one, IT_IO_MS) && t.ended[0], "warm-up request");
	it_sleep_ms(100);
	base = rss_kib(p->pid);
	IT_ASSERT(base > 0, "VmRSS of %d unreadable", (int)p->pid);
	for (uint32_t s = 3; s <= 9; s += 2)
		fb_get(&b, s, "/huge.bin");
	h2_send_fb(h, &b);
	/* Not a byte read for 2 s while 4 x 64 MiB are asked for. */
	end = it_now_ms() + 2000;
	while (it_now_ms() < end) {
		now = rss_kib(p->pid);
		if (now > peak)
			peak = now;
		it_sleep_ms(50);
	}
	IT_ASSERT(it_poll_exit(p) == IT_TIMEOUT, "the server died: %s", it_code_str(it_poll_exit(p)));
	IT_ASSERT(peak - base < 16 * 1024, "RSS grew from %ld KiB to %ld KiB while the client did not "
		  "read (4 streams of a 64 MiB file)", base, peak);
	/* It was flow-controlled, not given up on: reading again gets the data. */
	want = 8u << 20;
	IT_ASSERT(h2_run(h, &t, data_at_least, &want, 5000), "only %llu bytes after reading again "
		  "(eof %d err %d, goaway %d error %u)", (unsigned long long)t.total_data, t.eof, t.err,
		  t.goaways, t.goaway_error);
	IT_ASSERT(t.status[1] == 0x88 && t.status[4] == 0x88, "big streams answered %#x, %#x",
		  t.status[1], t.status[4]);
	free(b.p);
	h2_close(h);
	IT_ASSERT(it_http_get("127.0.0.1", port, "/.healthz", IT_IO_MS) == 200, "server after");
}
END_TEST

/* The same with the default 64 KiB windows and a slow reader: the file streams on as windows open. */
START_TEST(small_windows_stream_file)
{
	struct fbuf b = { 0 };
	struct tally t;
	struct h2 *h;
	int port;
	uint64_t got = 0;
	int64_t end;

	if (!have_h2(_i))
		return;
	populate();
	start(_i, 1, NULL, NULL, &port);
	h = h2_connect(port);
	fb_preface(&b, false);
	fb_get(&b, 1, "/big.bin");
	h2_send_fb(h, &b);
	tally_init(&t);
	/* Without WINDOW_UPDATE the server must stop at 65535 bytes. */
	end = it_now_ms() + 500;
	while (it_now_ms() < end && !t.eof && !t.err)
		h2_run(h, &t, NULL, NULL, (int)(end - it_now_ms()));
	IT_ASSERT(t.data[0] == 65535, "with a 65535-byte window the server sent %llu bytes",
		  (unsigned long long)t.data[0]);
	/* Open the windows 64 KiB at a time until the whole MiB is in. */
	while (!t.ended[0] && got != t.data[0]) {
		uint8_t inc[4];

		got = t.data[0];
		put32(inc, 65536);
		fb_frame(&b, F_WINDOW_UPDATE, 0, 0, inc, 4);
		fb_frame(&b, F_WINDOW_UPDATE, 0, 1, inc, 4);
		h2_send_fb(h, &b);
		end = it_now_ms() + IT_IO_MS;
		while (t.data[0] == got && !t.ended[0] && !t.eof && !t.err && it_now_ms() < end)
			h2_run(h, &t, NULL, NULL, 50);
	}
	IT_ASSERT(t.ended[0] && t.data[0] == BIG_SIZE, "stream ended %d after %llu bytes", t.ended[0],
		  (unsigned long long)t.data[0]);
	free(b.p);
	h2_close(h);
}
END_TEST

/* ---- 8. GOAWAY on drain ---- */

START_TEST(goaway_on_drain)
{
	struct fbuf b = { 0 };
	struct it_proc *p;
	struct tally t;
	struct h2 *h;
	uint64_t want = 256 << 10;
	int port, code;
	const off_t size = (off_t)32 << 20;

	if (!have_h2(_i))
		return;
	populate();
	write_sparse("huge.bin", size);
	p = start(_i, 1, NULL, NULL, &port);
	h = h2_connect(port);
	fb_preface(&b, true);
	fb_get(&b, 1, "/huge.bin");
	h2_send_fb(h, &b);
	tally_init(&t);
	IT_ASSERT(h2_run(h, &t, data_at_least, &want, IT_IO_MS), "the first 256 KiB");
	IT_ASSERT(!t.ended[0], "32 MiB came in one go; the drain would not catch it in flight");
	ck_assert_int_eq(it_signal(p, SIGTERM), 0);
	/* Read on until the server closes. */
	IT_ASSERT(h2_run(h, &t, NULL, NULL, 8000), "no clean close after the drain (err %s, %llu "
		  "bytes, %d GOAWAY)", strerror(-t.err), (unsigned long long)t.data[0], t.goaways);
	IT_ASSERT(t.ended[0] && t.data[0] == (uint64_t)size, "the in-flight stream got %llu of %lld "
		  "bytes (ended %d)", (unsigned long long)t.data[0], (long long)size, t.ended[0]);
	IT_ASSERT(t.goaways >= 1, "no GOAWAY before the close");
	IT_ASSERT(t.goaway_first_error == E_NO_ERROR && t.goaway_error == E_NO_ERROR,
		  "GOAWAY errors %u then %u, want NO_ERROR", t.goaway_first_error, t.goaway_error);
	IT_ASSERT(t.goaway_last == 1, "the last GOAWAY names stream %u, want 1", t.goaway_last);
	IT_ASSERT(t.rsts == 0, "%u streams reset during the drain", t.rsts);
	code = it_wait_exit(p, 5000);
	IT_ASSERT(code == 0, "swerver after the drain: %s", it_code_str(code));
	free(b.p);
	h2_close(h);
}
END_TEST

/* A connection idle when the drain starts is told GOAWAY and closed, and a new stream is not served. */
START_TEST(goaway_idle_on_drain)
{
	struct fbuf b = { 0 };
	struct it_proc *p;
	struct tally t;
	struct h2 *h;
	int port, one = 1, code;

	if (!have_h2(_i))
		return;
	populate();
	p = start(_i, 1, NULL, NULL, &port);
	h = h2_connect(port);
	fb_preface(&b, false);
	fb_get(&b, 1, "/hello.txt");
	h2_send_fb(h, &b);
	tally_init(&t);
	IT_ASSERT(h2_run(h, &t, all_done, &one, IT_IO_MS) && t.data[0] == 12, "first request");
	ck_assert_int_eq(it_signal(p, SIGTERM), 0);
	IT_ASSERT(h2_run(h, &t, got_goaway, NULL, IT_IO_MS), "no GOAWAY on an idle connection");
	IT_ASSERT(t.goaway_first_error == E_NO_ERROR, "GOAWAY error %u", t.goaway_first_error);
	IT_ASSERT(h2_run(h, &t, NULL, NULL, 3000), "the idle connection was not closed "
		  "(err %d, goaways %d)", t.err, t.goaways);
	IT_ASSERT(t.goaway_last == 1, "last GOAWAY names stream %u, want 1", t.goaway_last);
	code = it_wait_exit(p, 5000);
	IT_ASSERT(code == 0, "swerver after the drain: %s", it_code_str(code));
	free(b.p);
	h2_close(h);
}
END_TEST

/* ---- 9. floods end in ENHANCE_YOUR_CALM and nothing else ---- */

enum flood { RAPID_RESET, SETTINGS_FLOOD, PING_FLOOD, CONTINUATION_FLOOD, PRIORITY_FLOOD };

static void flood(int i, enum flood kind)
{
	static const char *const warn[] = {
		"HTTP/2 rapid reset", "HTTP/2 control frame flood", "HTTP/2 control frame flood",
		"HTTP/2 CONTINUATION flood", "HTTP/2 control frame flood",
	};
	struct fbuf b = { 0 };
	struct it_proc *p;
	struct tally t;
	struct h2 *h;
	uint8_t block[256], cancel[4], ping[8] = "pingpong", prio[5] = { 0, 0, 0, 0, 15 };
	int port, rc;
	size_t n;

	if (!have_h2(i))
		return;
	populate();
	p = start(i, 1, NULL, NULL, &port);
	h = h2_connect(port);
	fb_preface(&b, false);
	switch (kind) {
	case RAPID_RESET:
		put32(cancel, E_CANCEL);
		for (uint32_t s = 1; s < 2 * 3000; s += 2) {
			fb_get(&b, s, "/.healthz");
			fb_frame(&b, F_RST_STREAM, 0, s, cancel, 4);
		}
		break;
	case SETTINGS_FLOOD:
		for (int k = 0; k < 3000; k++)
			fb_frame(&b, F_SETTINGS, 0, 0, NULL, 0);
		break;
	case PING_FLOOD:
		for (int k = 0; k < 3000; k++)
			fb_frame(&b, F_PING, 0, 0, ping, 8);
		break;
	case PRIORITY_FLOOD:
		/* Reprioritising an idle stream over and over. */
		for (int k = 0; k < 3000; k++)
			fb_frame(&b, F_PRIORITY, 0, 3, prio, 5);
		break;
	case CONTINUATION_FLOOD:
		/* A valid block in 21 pieces: the pseudo-headers, then one field per CONTINUATION. */
		n = hpack_get(block, "/.healthz");
		fb_frame(&b, F_HEADERS, FL_END_STREAM, 1, block, n);
		for (int k = 0; k < 20; k++) {
			uint8_t field[] = { 0x00, 3, 'x', '-', (uint8_t)('a' + k), 1, 'v' };
			fb_frame(&b, F_CONTINUATION, k == 19 ? FL_END_HEADERS : 0, 1, field,
				 sizeof(field));
		}
		break;
	}
	rc = h2_send(h, b.p, b.len, IT_IO_MS);
	/* The server may close before it takes all of it; that is fine. */
	IT_ASSERT(rc == 0 || rc == -ECONNRESET || rc == -EPIPE, "sending the flood: %s",
		  strerror(-rc));
	tally_init(&t);
	h2_run(h, &t, NULL, NULL, IT_IO_MS);
	IT_ASSERT(t.goaways >= 1, "%s: no GOAWAY (eof %d, err %s, %u frames)", warn[kind], t.eof,
		  strerror(-t.err), t.frames);
	IT_ASSERT(t.goaway_error == E_ENHANCE_YOUR_CALM, "%s: GOAWAY error %#x, want "
		  "ENHANCE_YOUR_CALM (0xb)", warn[kind], t.goaway_error);
	IT_ASSERT(t.eof, "%s: the connection was not closed after the GOAWAY (err %s)", warn[kind],
		  strerror(-t.err));
	if (kind == PING_FLOOD)
		IT_ASSERT(t.pings_acked <= 1000, "%u PINGs answered", t.pings_acked);
	h2_close(h);
	free(b.p);
	/* The server is the same process and still serves. */
	IT_ASSERT(it_poll_exit(p) == IT_TIMEOUT && !it_pid_gone(p->pid), "the server died: %s",
		  it_code_str(it_poll_exit(p)));
	IT_ASSERT(it_http_get("127.0.0.1", port, "/.healthz", IT_IO_MS) == 200,
		  "HTTP/1.1 after the flood");
	{
		struct cres r;

		h2curl(&r, port, NULL, "/hello.txt");
		IT_ASSERT(r.code == 200 && strcmp(r.version, "2") == 0, "h2 after the flood: %d", r.code);
		cres_free(&r);
	}
	IT_ASSERT(wait_metric(port, "swerver_http2_floods_total", 1, 2000) == 1,
		  "swerver_http2_floods_total is %lld, want 1",
		  metric(port, "swerver_http2_floods_total"));
	IT_ASSERT(it_log_has(p, warn[kind]), "no \"%s\" warning in the log", warn[kind]);
}

START_TEST(flood_rapid_reset)
{
	flood(_i, RAPID_RESET);
}
END_TEST

START_TEST(flood_settings)
{
	flood(_i, SETTINGS_FLOOD);
}
END_TEST

START_TEST(flood_ping)
{
	flood(_i, PING_FLOOD);
}
END_TEST

START_TEST(flood_continuation)
{
	flood(_i, CONTINUATION_FLOOD);
}
END_TEST

START_TEST(flood_priority)
{
	flood(_i, PRIORITY_FLOOD);
}
END_TEST

/* until: stream *arg has ended or was reset. */
static bool stream_done(const struct tally *t, const void *arg)
{
	int k = sidx(*(const uint32_t *)arg);

	return k >= 0 && (t->ended[k] || t->rst[k] >= 0);
}

/* Resets and PINGs within the allowance are not a flood. */
START_TEST(resets_below_limit)
{
	struct fbuf b = { 0 };
	struct it_proc *p;
	struct tally t;
	struct h2 *h;
	uint8_t cancel[4];
	uint32_t last = 1001;
	int port;

	if (!have_h2(_i))
		return;
	populate();
	p = start(_i, 1, NULL, NULL, &port);
	h = h2_connect(port);
	fb_preface(&b, false);
	put32(cancel, E_CANCEL);
	for (uint32_t s = 1; s < last; s += 2) {
		fb_get(&b, s, "/.healthz");
		fb_frame(&b, F_RST_STREAM, 0, s, cancel, 4);
	}
	for (int k = 0; k < 100; k++)
		fb_frame(&b, F_PING, 0, 0, "12345678", 8);
	fb_get(&b, last, "/hello.txt");
	h2_send_fb(h, &b);
	tally_init(&t);
	IT_ASSERT(h2_run(h, &t, stream_done, &last, IT_IO_MS), "stream %u after 500 resets: not "
		  "answered (GOAWAY %d error %#x, eof %d)", last, t.goaways, t.goaway_error, t.eof);
	IT_ASSERT(t.ended[last / 2] && t.data[last / 2] == 12 && t.goaways == 0,
		  "stream %u after 500 resets: %llu bytes, %d GOAWAY", last,
		  (unsigned long long)t.data[last / 2], t.goaways);
	IT_ASSERT(t.pings_acked == 100, "%u of 100 PINGs answered", t.pings_acked);
	free(b.p);
	h2_close(h);
	IT_ASSERT(metric(port, "swerver_http2_floods_total") == 0, "counted as a flood");
	IT_ASSERT(it_poll_exit(p) == IT_TIMEOUT, "the server died");
}
END_TEST

/* ---- 10. header limits ---- */

START_TEST(header_list_limits)
{
	char args[8192], big[4001];
	struct cres r;
	int port, len = 0;

	if (!have_h2(_i))
		return;
	populate();
	start(_i, 1, NULL, "\"http2\": {\"max_header_list_size\": 1024},"
	      " \"limits\": {\"max_header_count\": 20},", &port);
	memset(big, 'a', 4000);
	big[4000] = '\0';
	snprintf(args, sizeof(args), "-H 'x-big: %s'", big);
	h2curl(&r, port, args, "/hello.txt");
	IT_ASSERT(r.code == 431 && strcmp(r.version, "2") == 0,
		  "a 4000-byte field with max_header_list_size 1024: %d (curl exit %d)", r.code, r.rc);
	cres_free(&r);
	/* 30 small fields: under the list size, over the count. */
	for (int k = 0; k < 30; k++)
		len += snprintf(args + len, sizeof(args) - (size_t)len, "-H 'x-h%d: v' ", k);
	h2curl(&r, port, args, "/hello.txt");
	IT_ASSERT(r.code == 431, "30 fields with max_header_count 20: %d", r.code);
	cres_free(&r);
	/* Under both: served, on a server that is none the worse. */
	h2curl(&r, port, "-H 'x-small: v'", "/hello.txt");
	IT_ASSERT(r.code == 200 && strcmp(r.body, "hello world\n") == 0, "a small request: %d", r.code);
	cres_free(&r);
	/* The connection lives on after a 431: the refused request, then a good one, on one connection. */
	{
		char *o = it_run(NULL, T "nghttp -n -s -H 'x-big: %s' http://127.0.0.1:%d/hello.txt "
			      "http://127.0.0.1:%d/index.html 2>&1 | grep -cE ' (431|200) '", big, port,
			      port);
		IT_ASSERT(atoi(o) == 2, "431 and then another request on one connection: \"%s\"", o);
		free(o);
	}
}
END_TEST

/* limits.max_header_bytes covers the decoded HTTP/2 header list too (swerver.json(5)). */
START_TEST(header_bytes_limit)
{
	char args[8192], big[4001], url[128];
	struct cres r;
	int port;

	if (!have_h2(_i))
		return;
	populate();
	start(_i, 1, NULL, "\"http2\": {\"max_header_list_size\": 65536},"
	      " \"limits\": {\"max_header_bytes\": 2048},", &port);
	memset(big, 'a', 4000);
	big[4000] = '\0';
	IT_ASSERT(it_http_get("127.0.0.1", port, "/hello.txt", IT_IO_MS) == 200, "small HTTP/1.1");
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/hello.txt", port);
	snprintf(args, sizeof(args), "--http1.1 -H 'x-big: %s'", big);
	curl(&r, args, url);
	IT_ASSERT(r.code == 431, "HTTP/1.1 head of 4 KB with max_header_bytes 2048: %d", r.code);
	cres_free(&r);
	/* HTTP/2 under the advertised list size, but over the configured head size. */
	snprintf(args, sizeof(args), "-H 'x-big: %s'", big);
	h2curl(&r, port, args, "/hello.txt");
	IT_ASSERT(r.code == 431, "HTTP/2 header list of 4 KB with limits.max_header_bytes 2048: %d, "
		  "want 431 as for HTTP/1.1", r.code);
	cres_free(&r);
}
END_TEST

/* ---- 11. request bodies ---- */

START_TEST(body_too_large)
{
	char body[IT_PATH_MAX], args[IT_PATH_MAX + 64];
	struct cres r;
	char *o;
	int port;

	if (!have_h2(_i))
		return;
	populate();
	start(_i, 1, NULL, "\"limits\": {\"max_body_bytes\": 1000},", &port);
	it_path(body, "post.bin");
	o = it_run(NULL, "head -c 20000 /dev/zero > %s", body);
	free(o);
	snprintf(args, sizeof(args), "-X POST --data-binary @%s", body);
	h2curl(&r, port, args, "/hello.txt");
	IT_ASSERT(r.code == 413 && strcmp(r.version, "2") == 0,
		  "POST of 20000 bytes with max_body_bytes 1000: %d %s", r.code, r.version);
	cres_free(&r);
	/* A body within the limit reaches the handler, which refuses the method. */
	h2curl(&r, port, "-X POST --data-binary 'small'", "/hello.txt");
	IT_ASSERT(r.code == 405, "a small POST: %d", r.code);
	cres_free(&r);
	h2curl(&r, port, NULL, "/hello.txt");
	IT_ASSERT(r.code == 200, "GET after the 413: %d", r.code);
	cres_free(&r);
}
END_TEST

/* ---- 12. what nghttp2 does not check (RFC 9113) ---- */

/* until: the server's SETTINGS came (and note() acknowledged it). */
static bool got_settings(const struct tally *t, const void *arg)
{
	(void)arg;
	return t->settings > 0;
}

/* until: stream *arg has its response head, or was reset. */
static bool stream_headed(const struct tally *t, const void *arg)
{
	int k = sidx(*(const uint32_t *)arg);

	return k >= 0 && (t->status[k] >= 0 || t->rst[k] >= 0);
}

/* until: streams 1, 3, ... up to the count in *arg all have a response head or a reset. */
static bool all_headed(const struct tally *t, const void *arg)
{
	int n = *(const int *)arg;

	for (int k = 0; k < n; k++)
		if (t->status[k] < 0 && t->rst[k] < 0)
			return false;
	return true;
}

/* until: stream *arg was reset, or a GOAWAY came. */
static bool reset_or_goaway(const struct tally *t, const void *arg)
{
	int k = sidx(*(const uint32_t *)arg);

	return t->goaways > 0 || (k >= 0 && t->rst[k] >= 0);
}

static void fb_settings_window(struct fbuf *b, uint32_t window)
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
static struct h2 *h2_open(int port, long window, struct tally *t)
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
static void fb_get_scheme(struct fbuf *b, uint32_t stream, const char *scheme, const char *path)
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
static void expect_goaway(struct h2 *h, struct tally *t, uint32_t error, const char *what)
{
	IT_ASSERT(h2_run(h, t, got_goaway, NULL, IT_IO_MS) && t->goaway_error == error,
		  "%s: want GOAWAY error %#x, got %d GOAWAY (error %#x), eof %d", what, error,
		  t->goaways, t->goaway_error, t->eof);
	IT_ASSERT(h2_run(h, t, NULL, NULL, IT_IO_MS), "%s: the connection stays open after GOAWAY",
		  what);
}

/* RFC 9113 5.1.1: a client's stream ids only grow; 3 after 5 is a connection error. */
START_TEST(stream_id_backwards)
{
	struct fbuf b = { 0 };
	struct tally t;
	struct h2 *h;
	int port;

	if (!have_h2(_i))
		return;
	populate();
	start(_i, 1, NULL, NULL, &port);
	h = h2_open(port, -1, &t);
	fb_get(&b, 5, "/hello.txt");
	fb_get(&b, 3, "/hello.txt");
	h2_send_fb(h, &b);
	expect_goaway(h, &t, E_PROTOCOL_ERROR, "HEADERS on stream 3 after stream 5");
	IT_ASSERT(t.status[3 / 2] < 0, "stream 3 was answered");
	free(b.p);
	h2_close(h);
}
END_TEST

/*
 * RFC 9113 5.3.1 and 6.3, with SETTINGS_NO_RFC7540_PRIORITIES sent: a
 * PRIORITY frame on stream 0 is a connection error, one that makes a
 * stream depend on itself a stream error (a connection error for an idle
 * stream, which RST_STREAM may not name); a valid one changes nothing.
 */
START_TEST(priority_frames_checked)
{
	struct fbuf b = { 0 };
	struct tally t;
	struct h2 *h;
	uint8_t pri[5] = { 0, 0, 0, 0, 15 };
	uint32_t one = 1;
	int port;

	if (!have_h2(_i))
		return;
	populate();
	start(_i, 1, NULL, NULL, &port);

	/* Stream 1 stays open: its body waits on a zero window. */
	h = h2_open(port, 0, &t);
	fb_get(&b, 1, "/hello.txt");
	h2_send_fb(h, &b);
	IT_ASSERT(h2_run(h, &t, stream_headed, &one, IT_IO_MS) && t.status[0] == STATUS_200,
		  "stream 1: no response head (status byte %#x)", t.status[0]);
	put32(pri, 0);
	fb_frame(&b, F_PRIORITY, 0, 1, pri, sizeof(pri));   /* valid: depends on the root */
	put32(pri, 1);
	fb_frame(&b, F_PRIORITY, 0, 1, pri, sizeof(pri));
	h2_send_fb(h, &b);
	IT_ASSERT(h2_run(h, &t, reset_or_goaway, &one, IT_IO_MS) && t.rst[0] == E_PROTOCOL_ERROR &&
		  t.goaways == 0, "PRIORITY making open stream 1 depend on itself: RST_STREAM %d, "
		  "%d GOAWAY (error %#x)", t.rst[0], t.goaways, t.goaway_error);
	h2_close(h);

	h = h2_open(port, -1, &t);
	put32(pri, 3);
	fb_frame(&b, F_PRIORITY, 0, 3, pri, sizeof(pri));
	h2_send_fb(h, &b);
	expect_goaway(h, &t, E_PROTOCOL_ERROR, "PRIORITY making idle stream 3 depend on itself");
	h2_close(h);

	h = h2_open(port, -1, &t);
	put32(pri, 1);
	fb_frame(&b, F_PRIORITY, 0, 0, pri, sizeof(pri));
	h2_send_fb(h, &b);
	expect_goaway(h, &t, E_PROTOCOL_ERROR, "PRIORITY on stream 0");
	h2_close(h);
	free(b.p);
}
END_TEST

/*
 * RFC 9113 6.9.2: a SETTINGS_INITIAL_WINDOW_SIZE that takes an open
 * stream's window past 2^31-1 is a connection FLOW_CONTROL_ERROR.
 */
START_TEST(settings_window_overflow)
{
	struct fbuf b = { 0 };
	struct tally t;
	struct h2 *h;
	uint64_t first = 65535;
	uint8_t inc[4];
	int port;

	if (!have_h2(_i))
		return;
	populate();
	start(_i, 1, NULL, NULL, &port);
	h = h2_open(port, -1, &t);
	/* The first 64 KiB of a big file use up both windows; the stream stays open. */
	fb_get(&b, 1, "/big.bin");
	h2_send_fb(h, &b);
	IT_ASSERT(h2_run(h, &t, data_at_least, &first, IT_IO_MS), "%llu of the first 65535 bytes",
		  (unsigned long long)t.total_data);
	/* The stream's window to the maximum (the connection's stays shut), then one more. */
	put32(inc, MAX_WINDOW);
	fb_frame(&b, F_WINDOW_UPDATE, 0, 1, inc, sizeof(inc));
	fb_settings_window(&b, 65536);
	h2_send_fb(h, &b);
	expect_goaway(h, &t, E_FLOW_CONTROL_ERROR, "INITIAL_WINDOW_SIZE overflowing stream 1");
	free(b.p);
	h2_close(h);
}
END_TEST

/*
 * swerver(8): streams beyond max_streams are refused with REFUSED_STREAM,
 * also once the client has acknowledged SETTINGS (nghttp2 alone ends the
 * connection with PROTOCOL_ERROR then).
 */
START_TEST(max_streams_after_ack)
{
	struct fbuf b = { 0 };
	struct tally t;
	struct h2 *h;
	uint32_t eleventh = 21, retry = 23;
	int port, n = 10;

	if (!have_h2(_i))
		return;
	populate();
	start(_i, 1, NULL, "\"http2\": {\"max_streams\": 10},", &port);
	/* Ten streams held open by a zero window, then an eleventh. */
	h = h2_open(port, 0, &t);
	for (uint32_t s = 1; s <= eleventh; s += 2)
		fb_get(&b, s, "/hello.txt");
	h2_send_fb(h, &b);
	IT_ASSERT(h2_run(h, &t, reset_or_goaway, &eleventh, IT_IO_MS) &&
		  t.rst[eleventh / 2] == E_REFUSED_STREAM && t.goaways == 0,
		  "stream 11 of max_streams 10 after SETTINGS ACK: RST_STREAM %d, %d GOAWAY "
		  "(error %#x)", t.rst[eleventh / 2], t.goaways, t.goaway_error);
	/* The ten get their bodies once the window opens; the refused one, retried, too. */
	fb_settings_window(&b, 65535);
	h2_send_fb(h, &b);
	IT_ASSERT(h2_run(h, &t, all_done, &n, IT_IO_MS), "the ten streams did not finish");
	for (int k = 0; k < n; k++)
		IT_ASSERT(t.ended[k] && t.status[k] == STATUS_200 && t.data[k] == 12,
			  "stream %d: status byte %#x, %llu bytes, rst %d", 2 * k + 1, t.status[k],
			  (unsigned long long)t.data[k], t.rst[k]);
	fb_get(&b, retry, "/hello.txt");
	h2_send_fb(h, &b);
	IT_ASSERT(h2_run(h, &t, stream_done, &retry, IT_IO_MS) && t.data[retry / 2] == 12,
		  "the refused request retried: %llu bytes, rst %d",
		  (unsigned long long)t.data[retry / 2], t.rst[retry / 2]);
	free(b.p);
	h2_close(h);
}
END_TEST

/*
 * A reload that lowers max_streams applies to new connections (swerver.json(5));
 * one already open keeps the limit it was told in SETTINGS.
 */
START_TEST(max_streams_reload)
{
	char cfg[IT_PATH_MAX];
	struct fbuf b = { 0 };
	struct it_proc *p;
	struct tally t, t2;
	struct h2 *h, *h2;
	uint32_t s, third = 5;
	int port, five = 5, n = 10;

	if (!have_h2(_i))
		return;
	populate();
	p = start(_i, 1, NULL, "\"http2\": {\"max_streams\": 10},", &port);
	h = h2_open(port, 0, &t);   /* every stream stays open: no window */
	for (s = 1; s <= 9; s += 2)
		fb_get(&b, s, "/hello.txt");
	h2_send_fb(h, &b);
	IT_ASSERT(h2_run(h, &t, all_headed, &five, IT_IO_MS), "five streams: not all answered");
	write_config(cfg, _i, 1, NULL, "\"http2\": {\"max_streams\": 2},");
	IT_ASSERT(it_signal(p, SIGHUP) == 0, "kill -HUP");
	IT_ASSERT(wait_metric(port, "swerver_reloads_total", 1, IT_WAIT_MS) == 1, "no reload");
	for (; s <= 19; s += 2)
		fb_get(&b, s, "/hello.txt");
	h2_send_fb(h, &b);
	IT_ASSERT(h2_run(h, &t, all_headed, &n, IT_IO_MS), "ten streams: not all answered");
	for (s = 1; s <= 19; s += 2)
		IT_ASSERT(t.status[s / 2] == STATUS_200 && t.rst[s / 2] < 0,
			  "stream %u, one of 10 on a connection told max_streams 10, after a reload to 2: "
			  "status byte %#x, RST_STREAM %d", s, t.status[s / 2], t.rst[s / 2]);
	/* A new connection gets the new limit. */
	h2 = h2_open(port, 0, &t2);
	for (s = 1; s <= third; s += 2)
		fb_get(&b, s, "/hello.txt");
	h2_send_fb(h2, &b);
	IT_ASSERT(h2_run(h2, &t2, reset_or_goaway, &third, IT_IO_MS) &&
		  t2.rst[third / 2] == E_REFUSED_STREAM, "third stream on a new connection after the "
		  "reload to max_streams 2: RST_STREAM %d", t2.rst[third / 2]);
	free(b.p);
	h2_close(h);
	h2_close(h2);
}
END_TEST

/* :scheme is http or https; no request target carries a #fragment (RFC 9113 8.3.1). */
START_TEST(scheme_and_fragment)
{
	struct fbuf b = { 0 };
	struct tally t;
	struct h2 *h;
	int port, n = 4;

	if (!have_h2(_i))
		return;
	populate();
	start(_i, 1, NULL, NULL, &port);
	h = h2_open(port, -1, &t);
	fb_get_scheme(&b, 1, "javascript", "/hello.txt");
	fb_get_scheme(&b, 3, "http", "/hello.txt#top");
	fb_get_scheme(&b, 5, "https", "/hello.txt");
	fb_get_scheme(&b, 7, "HTTP", "/hello.txt");
	h2_send_fb(h, &b);
	IT_ASSERT(h2_run(h, &t, all_done, &n, IT_IO_MS), "four requests not all answered");
	IT_ASSERT(t.status[0] == STATUS_400, ":scheme javascript: status byte %#x", t.status[0]);
	IT_ASSERT(t.status[1] == STATUS_400, ":path with a fragment: status byte %#x", t.status[1]);
	IT_ASSERT(t.status[2] == STATUS_200 && t.data[2] == 12 && t.status[3] == STATUS_200,
		  ":scheme https / HTTP: status bytes %#x %#x", t.status[2], t.status[3]);
	IT_ASSERT(t.goaways == 0, "GOAWAY (error %#x)", t.goaway_error);
	free(b.p);
	h2_close(h);
	IT_ASSERT(it_http_get("127.0.0.1", port, "/hello.txt#top", IT_IO_MS) == 400,
		  "HTTP/1.1 target with a fragment not refused with 400");
}
END_TEST

static Suite *http2_suite(void)
{
	Suite *s = suite_create("http2");
	TCase *tc = it_tcase("http2");

	tcase_add_loop_test(tc, h2c_prior_knowledge, 0, 2);
	tcase_add_loop_test(tc, h2_over_tls_alpn, 0, 2);
	tcase_add_loop_test(tc, h2c_only_listener, 0, 2);
	tcase_add_loop_test(tc, h2c_only_global, 0, 2);
	tcase_add_loop_test(tc, concurrent_streams, 0, 2);
	tcase_add_loop_test(tc, max_streams_limit, 0, 2);
	tcase_add_loop_test(tc, static_rules, 0, 2);
	tcase_add_loop_test(tc, metrics_and_access_log, 0, 2);
	tcase_add_loop_test(tc, access_log_combined, 0, 2);
	tcase_add_loop_test(tc, slow_reader_not_buffered, 0, 2);
	tcase_add_loop_test(tc, small_windows_stream_file, 0, 2);
	tcase_add_loop_test(tc, goaway_on_drain, 0, 2);
	tcase_add_loop_test(tc, goaway_idle_on_drain, 0, 2);
	tcase_add_loop_test(tc, flood_rapid_reset, 0, 2);
	tcase_add_loop_test(tc, flood_settings, 0, 2);
	tcase_add_loop_test(tc, flood_ping, 0, 2);
	tcase_add_loop_test(tc, flood_continuation, 0, 2);
	tcase_add_loop_test(tc, flood_priority, 0, 2);
	tcase_add_loop_test(tc, resets_below_limit, 0, 2);
	tcase_add_loop_test(tc, header_list_limits, 0, 2);
	tcase_add_loop_test(tc, header_bytes_limit, 0, 2);
	tcase_add_loop_test(tc, body_too_large, 0, 2);
	tcase_add_loop_test(tc, stream_id_backwards, 0, 2);
	tcase_add_loop_test(tc, priority_frames_checked, 0, 2);
	tcase_add_loop_test(tc, settings_window_overflow, 0, 2);
	tcase_add_loop_test(tc, max_streams_after_ack, 0, 2);
	tcase_add_loop_test(tc, max_streams_reload, 0, 2);
	tcase_add_loop_test(tc, scheme_and_fragment, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

IT_SUITE(http2_suite);
