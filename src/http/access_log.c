/* SPDX-License-Identifier: MIT */
/* access_log.c - formats, buffers and writes the access log of one worker. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include "core/log.h"
#include "http/context.h"
#include "http/access_log.h"
#include "http/client_addr.h"

#define AL_BUF_SIZE (64 * 1024)
#define AL_LINE_MAX (16 * 1024)      /* the longest line (fields are capped) */
#define AL_FLUSH_MS 1000
#define AL_SYSLOG_PRIORITY (LOG_LOCAL7 | LOG_INFO)

/* Output budgets (escaped bytes) for the fields a client controls. */
#define AL_TARGET_MAX 8192
#define AL_HEADER_MAX 2048
#define AL_SHORT_MAX 256

enum al_target { AL_STDERR, AL_SYSLOG, AL_FILE };

struct sw_access_log {
	struct sw_ctx *ctx;
	enum sw_access_format format;
	enum al_target target;
	int fd;                     /* stderr or the file */
	char *path;                 /* file target */
	bool failing;               /* a write failed; said once until one works */
	struct sw_timer timer;      /* armed only while lines are buffered */
	time_t sec;                 /* the second the time stamps below are for */
	char clf_time[80];          /* 26/Nov/2026:09:00:00 +0000 (room for any int) */
	char iso_time[80];          /* 2026-11-26T09:00:00 */
	size_t len;
	char buf[AL_BUF_SIZE];
};

/* ---- writing out ---- */

static bool write_all(struct sw_access_log *al, const char *p, size_t n)
{
	while (n) {
		ssize_t k = write(al->fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			if (!al->failing)
				sw_log_errno(SW_LOG_ERROR, k < 0 ? errno : EIO, "access log %s: lines lost",
					     al->path ? al->path : "stderr");
			al->failing = true;
			return false;
		}
		p += k;
		n -= (size_t)k;
	}
	al->failing = false;
	return true;
}

/* Whole lines of at most PIPE_BUF bytes: a pipe keeps such writes unbroken. */
static void flush_stderr(struct sw_access_log *al)
{
	const char *p = al->buf, *end = al->buf + al->len;

	while (p < end) {
		size_t room = SW_MIN((size_t)(end - p), (size_t)PIPE_BUF);
		const char *cut = p + room;

		if (cut < end) {
			const char *nl = memrchr(p, '\n', room);
			cut = nl ? nl + 1 : (const char *)memchr(p, '\n', (size_t)(end - p)) + 1;
		}
		if (!write_all(al, p, (size_t)(cut - p)))
			return;
		p = cut;
	}
}

static void flush_syslog(struct sw_access_log *al)
{
	const char *p = al->buf, *end = al->buf + al->len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		syslog(AL_SYSLOG_PRIORITY, "%.*s", (int)(nl - p), p);
		p = nl + 1;
	}
}

static void flush(struct sw_access_log *al)
{
	if (al->len == 0)
		return;
	if (al->target == AL_SYSLOG)
		flush_syslog(al);
	else if (al->target == AL_STDERR)
		flush_stderr(al);
	else
		write_all(al, al->buf, al->len);
	al->len = 0;
}

static void on_flush_timer(struct sw_timer *t)
{
	flush(t->data);
}

/* ---- targets ---- */

static int open_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0640);

	if (fd < 0)
		sw_log_errno(SW_LOG_ERROR, errno, "cannot open access log %s", path);
	return fd;
}

static void close_target(struct sw_access_log *al)
{
	if (al->target == AL_FILE && al->fd >= 0)
		close(al->fd);
	free(al->path);
	al->path = NULL;
	al->fd = -1;
}

/* Opens cfg's target; on failure the current one stays in place. */
static int open_target(struct sw_access_log *al, const struct sw_access_log_cfg *cfg)
{
	const char *t = cfg->target ? cfg->target : "stderr";
	int fd = STDERR_FILENO;
	enum al_target kind = AL_STDERR;

	if (strcmp(t, "syslog") == 0) {
		kind = AL_SYSLOG;
		fd = -1;
	} else if (strcmp(t, "stderr") != 0) {
		kind = AL_FILE;
		if ((fd = open_file(t)) < 0)
			return SW_ERROR;
	}
	close_target(al);
	al->target = kind;
	al->fd = fd;
	al->path = kind == AL_FILE ? sw_strdup(t) : NULL;
	al->failing = false;
	return SW_OK;
}

static bool same_target(const struct sw_access_log *al, const struct sw_access_log_cfg *cfg)
{
	const char *t = cfg->target ? cfg->target : "stderr";

	switch (al->target) {
	case AL_STDERR: return strcmp(t, "stderr") == 0;
	case AL_SYSLOG: return strcmp(t, "syslog") == 0;
	default: return strcmp(t, al->path) == 0;
	}
}

/* ---- life cycle ---- */

int sw_access_log_open(struct sw_ctx *ctx)
{
	const struct sw_access_log_cfg *cfg = &ctx->cfg->access_log;
	struct sw_access_log *al;

	ctx->access_log = NULL;
	if (cfg->format == SW_ACCESS_OFF)
		return SW_OK;
	al = sw_calloc(1, sizeof(*al));
	al->ctx = ctx;
	al->fd = -1;
	al->format = cfg->format;
	al->sec = (time_t)-1;
	sw_timer_init(&al->timer, on_flush_timer, al);
	if (open_target(al, cfg) != SW_OK) {
		free(al);
		return SW_ERROR;
	}
	ctx->access_log = al;
	return SW_OK;
}

void sw_access_log_close(struct sw_ctx *ctx)
{
	struct sw_access_log *al = ctx->access_log;

	if (!al)
		return;
	flush(al);
	if (ctx->loop)
		sw_timer_del(ctx->loop, &al->timer);
	close_target(al);
	free(al);
	ctx->access_log = NULL;
}

void sw_access_log_reopen(struct sw_ctx *ctx)
{
	struct sw_access_log *al = ctx->access_log;
	int fd;

	if (!al)
		return;
	flush(al);
	if (al->target != AL_FILE)
		return;
	/* Open the new file first: if that fails, keep writing to the old one. */
	if ((fd = open_file(al->path)) < 0)
		return;
	close(al->fd);
	al->fd = fd;
	al->failing = false;
}

void sw_access_log_reconfigure(struct sw_ctx *ctx)
{
	const struct sw_access_log_cfg *cfg = &ctx->cfg->access_log;
	struct sw_access_log *al = ctx->access_log;

	if (!al) {
		if (sw_access_log_open(ctx) != SW_OK)
			sw_error("access log stays off");
		return;
	}
	if (cfg->format == SW_ACCESS_OFF) {
		sw_access_log_close(ctx);
		return;
	}
	flush(al);
	al->format = cfg->format;
	if (!same_target(al, cfg) && open_target(al, cfg) != SW_OK)
		sw_error("access log: keeping the previous target");
}

/* ---- one line ---- */

/* Appends into a bounded area; what does not fit is cut, never overrun. */
struct line {
	char *p;
	size_t cap, len;
};

static void put(struct line *l, const char *s, size_t n)
{
	n = SW_MIN(n, l->cap - l->len);
	memcpy(l->p + l->len, s, n);
	l->len += n;
}

static void put_cstr(struct line *l, const char *s)
{
	put(l, s, strlen(s));
}

static sw_printf(2, 3) void putf(struct line *l, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		put(l, tmp, SW_MIN((size_t)n, sizeof(tmp) - 1));
}

/* Appends one escape unit if all of it fits within the field's budget. */
static bool put_unit(struct line *l, size_t limit, const char *s, size_t n)
{
	if (l->len + n > limit || l->len + n > l->cap)
		return false;
	memcpy(l->p + l->len, s, n);
	l->len += n;
	return true;
}

static bool put_hex(struct line *l, size_t limit, const char *prefix, unsigned char c)
{
	char esc[8];
	int n = snprintf(esc, sizeof(esc), "%s%02X", prefix, c);

	return put_unit(l, limit, esc, (size_t)n);
}

/* nginx's escaping for the combined format: \xHH for '"', '\' and non-printables. */
static void put_clf(struct line *l, struct sw_str s, size_t budget)
{
	size_t limit = l->len + budget;

	if (s.len == 0) {
		put(l, "-", 1);
		return;
	}
	for (size_t i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.p[i];
		bool ok = c == '"' || c == '\\' || c < 0x20 || c >= 0x7f
			? put_hex(l, limit, "\\x", c) : put_unit(l, limit, s.p + i, 1);
		if (!ok)
			return;
	}
}

static const char *json_short_escape(unsigned char c)
{
	switch (c) {
	case '"': return "\\\"";
	case '\\': return "\\\\";
	case '\n': return "\\n";
	case '\r': return "\\r";
	case '\t': return "\\t";
	case '\b': return "\\b";
	case '\f': return "\\f";
	default: return NULL;
	}
}

/* One JSON string unit at s; returns how many input bytes it took (0: out of room). */
static size_t put_json_unit(struct line *l, size_t limit, const unsigned char *s, size_t n)
{
	const char *esc = json_short_escape(s[0]);
	size_t u;

	if (esc)
		return put_unit(l, limit, esc, 2) ? 1 : 0;
	if (s[0] < 0x20 || s[0] == 0x7f)
		return put_hex(l, limit, "\\u00", s[0]) ? 1 : 0;
	if (s[0] < 0x80)
		return put_unit(l, limit, (const char *)s, 1) ? 1 : 0;
	if ((u = sw_utf8_len(s, n)) > 0)
		return put_unit(l, limit, (const char *)s, u) ? u : 0;
	/* Not UTF-8: keep the byte visible as the code point of the same value. */
	return put_hex(l, limit, "\\u00", s[0]) ? 1 : 0;
}

static void put_json_str(struct line *l, struct sw_str s, size_t budget)
{
	const unsigned char *p = (const unsigned char *)s.p;
	size_t limit = l->len + 1 + budget, i = 0, k;

	put(l, "\"", 1);
	while (i < s.len && (k = put_json_unit(l, limit, p + i, s.len - i)) > 0)
		i += k;
	put(l, "\"", 1);
}

static void json_key_str(struct line *l, const char *key, struct sw_str v, size_t budget)
{
	putf(l, ",\"%s\":", key);
	put_json_str(l, v, budget);
}

static struct sw_str cstr(const char *s)
{
	return (struct sw_str){ s, strlen(s) };
}

/* ---- fields ---- */

static struct sw_str header(const struct sw_exchange *x, const char *name)
{
	const struct sw_header *h = sw_request_header(&x->req, name);

	return h ? h->value : (struct sw_str){ "", 0 };
}

static const char *protocol_name(const struct sw_exchange *x, bool json)
{
	if (x->proto == SW_PROTO_HTTP2)
		return json ? "HTTP/2" : "HTTP/2.0";
	if (x->proto == SW_PROTO_HTTP3)
		return json ? "HTTP/3" : "HTTP/3.0";
	return x->req.version == 10 ? "HTTP/1.0" : "HTTP/1.1";
}

/* Response body bytes, as %b counts them: none for HEAD, 1xx, 204, 304. */
static uint64_t body_bytes(const struct sw_exchange *x)
{
	int st = x->resp.status;

	if (x->req.method == SW_METHOD_HEAD || st < 200 || st == 204 || st == 304)
		return 0;
	return x->resp.content_length;
}

static uint64_t duration_ms(const struct sw_exchange *x)
{
	uint64_t now = x->ctx->loop ? sw_loop_now(x->ctx->loop) : x->started_ms;

	return now > x->started_ms ? now - x->started_ms : 0;
}

static const char *const months[12] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

/* The time stamps change once a second; format them once a second. */
static void update_time(struct sw_access_log *al, const struct timespec *ts)
{
	struct tm tm;

	if (ts->tv_sec == al->sec)
		return;
	al->sec = ts->tv_sec;
	gmtime_r(&ts->tv_sec, &tm);
	snprintf(al->clf_time, sizeof(al->clf_time), "%02d/%s/%04d:%02d:%02d:%02d +0000",
		 tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
		 tm.tm_sec);
	snprintf(al->iso_time, sizeof(al->iso_time), "%04d-%02d-%02dT%02d:%02d:%02d",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static const char *request_id(const struct sw_exchange *x)
{
	return x->request_id[0] ? x->request_id : "-";
}

static void format_combined(struct line *l, const struct sw_exchange *x,
			    const struct sw_access_log *al, const char *client)
{
	uint64_t ms = duration_ms(x);

	/* The user field is the authenticated consumer (routes[].auth), else "-". */
	putf(l, "%s - ", client);
	if (x->consumer)
		put_clf(l, cstr(x->consumer), AL_SHORT_MAX);
	else
		put(l, "-", 1);
	putf(l, " [%s] \"", al->clf_time);
	if (x->req.method_name.len) {
		put_clf(l, x->req.method_name, AL_SHORT_MAX);
		put(l, " ", 1);
		put_clf(l, x->req.target, AL_TARGET_MAX);
		putf(l, " %s", protocol_name(x, false));
	} else {
		put(l, "-", 1);   /* refused before a request line was understood */
	}
	putf(l, "\" %d %llu \"", x->resp.status, (unsigned long long)body_bytes(x));
	put_clf(l, header(x, "Referer"), AL_HEADER_MAX);
	put_cstr(l, "\" \"");
	put_clf(l, header(x, "User-Agent"), AL_HEADER_MAX);
	putf(l, "\" %llu.%03u %s", (unsigned long long)(ms / 1000), (unsigned)(ms % 1000),
	     request_id(x));
}

static void format_json(struct line *l, const struct sw_exchange *x,
			const struct sw_access_log *al, const char *client, long msec)
{
	char peer[SW_CLIENT_ADDR_LEN];

	sw_addr_format(x->peer, peer, sizeof(peer));
	putf(l, "{\"time\":\"%s.%03ldZ\"", al->iso_time, msec);
	json_key_str(l, "client", cstr(client), AL_SHORT_MAX);
	json_key_str(l, "peer", cstr(peer), AL_SHORT_MAX);
	json_key_str(l, "method", x->req.method_name, AL_SHORT_MAX);
	json_key_str(l, "target", x->req.target, AL_TARGET_MAX);
	json_key_str(l, "protocol", cstr(protocol_name(x, true)), AL_SHORT_MAX);
	json_key_str(l, "host", x->req.authority, AL_SHORT_MAX);
	putf(l, ",\"status\":%d,\"bytes\":%llu,\"bytes_in\":%llu,\"bytes_out\":%llu,"
	     "\"duration_ms\":%llu", x->resp.status, (unsigned long long)body_bytes(x),
	     (unsigned long long)x->bytes_in, (unsigned long long)x->bytes_out,
	     (unsigned long long)duration_ms(x));
	json_key_str(l, "user_agent", header(x, "User-Agent"), AL_HEADER_MAX);
	json_key_str(l, "referer", header(x, "Referer"), AL_HEADER_MAX);
	json_key_str(l, "request_id", cstr(x->request_id), AL_SHORT_MAX);
	putf(l, ",\"tls\":%s", x->tls ? "true" : "false");
	if (x->tls_client)
		json_key_str(l, "tls_client", cstr(x->tls_client), AL_HEADER_MAX);
	if (x->consumer)
		json_key_str(l, "consumer", cstr(x->consumer), AL_SHORT_MAX);
	putf(l, ",\"worker\":%u}", x->ctx->slot);
}

void sw_access_log_write(const struct sw_exchange *x)
{
	struct sw_access_log *al = x->ctx ? x->ctx->access_log : NULL;
	char client[SW_CLIENT_ADDR_LEN];
	struct timespec ts;
	struct line l;

	if (!al || al->format == SW_ACCESS_OFF)
		return;
	if (AL_BUF_SIZE - al->len < AL_LINE_MAX)
		flush(al);
	clock_gettime(CLOCK_REALTIME, &ts);
	update_time(al, &ts);
	sw_client_addr(x, client, sizeof(client));
	/* One byte is kept back so the newline always fits. */
	l = (struct line){ al->buf + al->len, AL_LINE_MAX - 1, 0 };
	if (al->format == SW_ACCESS_JSON)
		format_json(&l, x, al, client, ts.tv_nsec / 1000000);
	else
		format_combined(&l, x, al, client);
	l.p[l.len++] = '\n';
	al->len += l.len;
	if (!sw_timer_armed(&al->timer) && x->ctx->loop)
		sw_timer_add(x->ctx->loop, &al->timer, AL_FLUSH_MS);
}
