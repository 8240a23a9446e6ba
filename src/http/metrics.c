/* SPDX-License-Identifier: MIT */
/* metrics.c - /metrics in the Prometheus text format, summed over every worker slot. */
#include <config.h>

#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "core/module.h"
#include "core/version.h"
#include "http/context.h"
#include "http/metrics.h"

static const uint64_t bounds_ms[] = { SW_DURATION_BOUNDS_MS };
static const char *const bound_text[] = {
	"0.001", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5",
	"1", "2.5", "5", "10", "+Inf",
};
static const char *const proto_label[SW_PROTO_COUNT] = { "http1", "h2", "h3" };

_Static_assert(SW_ARRAY_SIZE(bounds_ms) + 1 == SW_DURATION_BUCKETS, "one +Inf bucket");
_Static_assert(SW_ARRAY_SIZE(bound_text) == SW_DURATION_BUCKETS, "a label per bucket");

/* ---- accounting (the hot path: a handful of uncontended atomic adds) ---- */

unsigned sw_metrics_bucket(uint64_t ms)
{
	unsigned b = 0;

	while (b < SW_ARRAY_SIZE(bounds_ms) && ms > bounds_ms[b])
		b++;
	return b;
}

void sw_metrics_observe(const struct sw_exchange *x)
{
	struct sw_ctx *ctx = x->ctx;
	struct sw_slot_stats *st = ctx ? ctx->stats : NULL;
	unsigned p = (unsigned)x->proto;
	int cls = x->resp.status / 100;
	uint64_t now, ms;

	if (!st || p >= SW_PROTO_COUNT)
		return;
	sw_stat_add(&st->xfer_in[p], x->bytes_in);
	sw_stat_add(&st->xfer_out[p], x->bytes_out);
	/* An exchange abandoned before any status was meant is not a request. */
	if (cls < 1 || cls > 5)
		return;
	now = ctx->loop ? sw_loop_now(ctx->loop) : x->started_ms;
	ms = now > x->started_ms ? now - x->started_ms : 0;
	sw_stat_add(&st->requests[p][cls], 1);
	sw_stat_add(&st->duration[p][sw_metrics_bucket(ms)], 1);
	sw_stat_add(&st->duration_sum_ms[p], ms);
}

/* ---- a consistent snapshot, so the sizing pass and the writing pass agree ---- */

struct slot_snap {
	unsigned slot;
	uint64_t open, accepted, requests;
};

struct snap {
	uint64_t requests[SW_PROTO_COUNT][6];
	uint64_t xfer_in[SW_PROTO_COUNT], xfer_out[SW_PROTO_COUNT];
	uint64_t hist[SW_PROTO_COUNT][SW_DURATION_BUCKETS];
	uint64_t sum_ms[SW_PROTO_COUNT];
	int64_t open;
	uint64_t accepted, h2_floods, admin_auth_failures, admin_auth_lockouts, admin_auth_locked;
	uint64_t reclaimed, over_limit, quic_handed_over;
	uint64_t slow_bodies, slow_sends, pp_untrusted, pp_bad;
	uint64_t started_at, generation, reloads, reload_failures, restarts, workers;
	uint64_t stalls, stall_replacements, stalled, stall_passed;
	uint64_t now;
	unsigned nslots;
	struct slot_snap slots[SW_MAX_SLOTS];
};

static uint64_t slot_requests(const struct sw_slot_stats *st)
{
	uint64_t n = 0;

	for (unsigned p = 0; p < SW_PROTO_COUNT; p++)
		for (unsigned c = 1; c <= 5; c++)
			n += sw_stat_get(&st->requests[p][c]);
	return n;
}

static void add_slot(struct snap *s, const struct sw_slot_stats *st)
{
	for (unsigned p = 0; p < SW_PROTO_COUNT; p++) {
		for (unsigned c = 1; c <= 5; c++)
			s->requests[p][c] += sw_stat_get(&st->requests[p][c]);
		for (unsigned b = 0; b < SW_DURATION_BUCKETS; b++)
			s->hist[p][b] += sw_stat_get(&st->duration[p][b]);
		s->xfer_in[p] += sw_stat_get(&st->xfer_in[p]);
		s->xfer_out[p] += sw_stat_get(&st->xfer_out[p]);
		s->sum_ms[p] += sw_stat_get(&st->duration_sum_ms[p]);
	}
	s->open += (int64_t)sw_stat_get(&st->connections_open);
	s->accepted += sw_stat_get(&st->connections_accepted);
	s->h2_floods += sw_stat_get(&st->h2_floods);
	s->reclaimed += sw_stat_get(&st->connections_reclaimed);
	s->over_limit += sw_stat_get(&st->connections_over_limit);
	s->slow_bodies += sw_stat_get(&st->slow_bodies);
	s->slow_sends += sw_stat_get(&st->slow_sends);
	s->pp_untrusted += sw_stat_get(&st->pp_untrusted);
	s->pp_bad += sw_stat_get(&st->pp_bad);
	s->quic_handed_over += sw_stat_get(&st->quic_handed_over);
	s->admin_auth_failures += sw_stat_get(&st->admin_auth_failures);
	s->admin_auth_lockouts += sw_stat_get(&st->admin_auth_lockouts);
	s->admin_auth_locked += sw_stat_get(&st->admin_auth_locked);
}

/*
 * Every slot is summed, not only those in use: after a reload to fewer
 * workers the retired slots' counts must stay in the totals, or the
 * counters would go backwards.  Per-slot series list slots ever used.
 */
static void take_snapshot(struct snap *s, const struct sw_shm *shm)
{
	memset(s, 0, offsetof(struct snap, slots));
	for (unsigned i = 0; i < SW_MAX_SLOTS; i++) {
		const struct sw_slot_stats *st = &shm->slots[i];

		add_slot(s, st);
		if (sw_stat_get(&st->pid) == 0)
			continue;
		s->slots[s->nslots++] = (struct slot_snap){
			.slot = i,
			.open = sw_stat_get(&st->connections_open),
			.accepted = sw_stat_get(&st->connections_accepted),
			.requests = slot_requests(st),
		};
	}
	s->started_at = sw_stat_get(&shm->started_at);
	s->generation = sw_stat_get(&shm->generation);
	s->reloads = sw_stat_get(&shm->reloads);
	s->reload_failures = sw_stat_get(&shm->reload_failures);
	s->restarts = sw_stat_get(&shm->worker_restarts);
	s->stalls = sw_stat_get(&shm->worker_stalls);
	s->stall_replacements = sw_stat_get(&shm->stall_replacements);
	s->stalled = sw_stat_get(&shm->workers_stalled);
	s->stall_passed = sw_stat_get(&shm->stall_passed);
	s->workers = sw_stat_get(&shm->workers);
	s->now = (uint64_t)time(NULL);
}

/* ---- text output: counts its length when buf is NULL ---- */

void sw_metrics_put(struct sw_metrics_out *o, const char *fmt, ...)
{
	va_list ap;
	size_t room = o->len < o->cap ? o->cap - o->len : 0;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(o->buf ? o->buf + o->len : NULL, o->buf ? room : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n;
}

void sw_metrics_family(struct sw_metrics_out *o, const char *name, const char *type,
		       const char *help)
{
	sw_metrics_put(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value: backslash, double quote and newline escaped (format 0.0.4). */
void sw_metrics_label_value(struct sw_metrics_out *o, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			sw_metrics_put(o, "\\%c", *v);
		else if (*v == '\n')
			sw_metrics_put(o, "\\n");
		else
			sw_metrics_put(o, "%c", *v);
	}
}

static void put_u(struct sw_metrics_out *o, const char *name, uint64_t v)
{
	sw_metrics_put(o, "%s %llu\n", name, (unsigned long long)v);
}

/* A family of one unlabelled sample: HELP and TYPE, then the sample, the name written once. */
static void scalar(struct sw_metrics_out *o, const char *name, const char *type, const char *help,
		   uint64_t v)
{
	sw_metrics_family(o, name, type, help);
	put_u(o, name, v);
}

static void put_proto_u(struct sw_metrics_out *o, const char *name, const uint64_t *v)
{
	for (unsigned p = 0; p < SW_PROTO_COUNT; p++)
		sw_metrics_put(o, "%s{protocol=\"%s\"} %llu\n", name, proto_label[p],
		    (unsigned long long)v[p]);
}

static void emit_requests(struct sw_metrics_out *o, const struct snap *s)
{
	sw_metrics_family(o, "swerver_requests_total", "counter",
	       "Requests answered, by protocol and status class.");
	for (unsigned p = 0; p < SW_PROTO_COUNT; p++)
		for (unsigned c = 1; c <= 5; c++)
			sw_metrics_put(o, "swerver_requests_total{protocol=\"%s\",code=\"%uxx\"} %llu\n",
			    proto_label[p], c, (unsigned long long)s->requests[p][c]);
	sw_metrics_family(o, "swerver_bytes_received_total", "counter",
	       "Request bytes (head and body) received, by protocol.");
	put_proto_u(o, "swerver_bytes_received_total", s->xfer_in);
	sw_metrics_family(o, "swerver_bytes_sent_total", "counter",
	       "Response bytes (head and body) sent, by protocol.");
	put_proto_u(o, "swerver_bytes_sent_total", s->xfer_out);
}

static void emit_histogram(struct sw_metrics_out *o, const struct snap *s)
{
	static const char name[] = "swerver_request_duration_seconds";

	sw_metrics_family(o, name, "histogram",
	       "Time from a complete request head to the end of the response.");
	for (unsigned p = 0; p < SW_PROTO_COUNT; p++) {
		uint64_t cum = 0;

		for (unsigned b = 0; b < SW_DURATION_BUCKETS; b++) {
			cum += s->hist[p][b];
			sw_metrics_put(o, "%s_bucket{protocol=\"%s\",le=\"%s\"} %llu\n", name,
			    proto_label[p], bound_text[b], (unsigned long long)cum);
		}
		sw_metrics_put(o, "%s_sum{protocol=\"%s\"} %llu.%03u\n", name, proto_label[p],
		    (unsigned long long)(s->sum_ms[p] / 1000), (unsigned)(s->sum_ms[p] % 1000));
		sw_metrics_put(o, "%s_count{protocol=\"%s\"} %llu\n", name, proto_label[p],
		    (unsigned long long)cum);
	}
}

static void emit_connections(struct sw_metrics_out *o, const struct snap *s)
{
	sw_metrics_family(o, "swerver_connections_open", "gauge", "Client connections open now.");
	sw_metrics_put(o, "swerver_connections_open %lld\n", (long long)(s->open > 0 ? s->open : 0));
	scalar(o, "swerver_connections_accepted_total", "counter", "Client connections accepted.",
	       s->accepted);
	scalar(o, "swerver_connections_reclaimed_total", "counter",
	       "Idle keep-alive connections closed at server.max_connections to admit new ones.",
	       s->reclaimed);
	scalar(o, "swerver_connections_over_limit_total", "counter",
	       "Connections taken past server.max_connections for probes (others answered 503).",
	       s->over_limit);
	scalar(o, "swerver_http2_floods_total", "counter",
	       "HTTP/2 connections closed with ENHANCE_YOUR_CALM for a frame flood or rapid reset.",
	       s->h2_floods);
	sw_metrics_family(o, "swerver_slow_clients_total", "counter",
	       "HTTP/1.1 connections and HTTP/2, HTTP/3 streams ended for a client below "
	       "limits.min_body_rate (kind=body) or limits.min_send_rate (kind=send).");
	put_u(o, "swerver_slow_clients_total{kind=\"body\"}", s->slow_bodies);
	put_u(o, "swerver_slow_clients_total{kind=\"send\"}", s->slow_sends);
	sw_metrics_family(o, "swerver_proxy_protocol_refused_total", "counter",
	       "Connections closed on a listeners[].proxy_protocol listener: from a peer outside "
	       "server.trusted_proxies (reason=untrusted), or without a valid PROXY header within "
	       "timeouts.header_ms (reason=header).");
	put_u(o, "swerver_proxy_protocol_refused_total{reason=\"untrusted\"}", s->pp_untrusted);
	put_u(o, "swerver_proxy_protocol_refused_total{reason=\"header\"}", s->pp_bad);
	scalar(o, "swerver_http3_packets_handed_over_total", "counter",
	       "HTTP/3 packets a worker passed to the worker of another generation on its slot "
	       "(reloads, binary upgrades).", s->quic_handed_over);
	scalar(o, "swerver_admin_auth_failures_total", "counter",
	       "Admin API requests refused for a missing or wrong key.", s->admin_auth_failures);
	scalar(o, "swerver_admin_auth_lockouts_total", "counter",
	       "Admin API lockouts begun after too many wrong keys (an address, or all).",
	       s->admin_auth_lockouts);
	scalar(o, "swerver_admin_auth_locked_total", "counter",
	       "Admin API requests answered 429 during a lockout, their key unchecked.",
	       s->admin_auth_locked);
}

static void emit_daemon(struct sw_metrics_out *o, const struct snap *s)
{
	scalar(o, "swerver_worker_restarts_total", "counter", "Workers restarted after they died.",
	       s->restarts);
	scalar(o, "swerver_worker_stalls_total", "counter",
	       "Workers found without a heartbeat for 1 s (new TCP connections steered around them).",
	       s->stalls);
	scalar(o, "swerver_worker_stall_replacements_total", "counter",
	       "Stalled workers killed and replaced after timeouts.stall_ms.",
	       s->stall_replacements);
	scalar(o, "swerver_workers_stalled", "gauge",
	       "Worker slots kept out of the TCP steering now for a missed heartbeat.", s->stalled);
	scalar(o, "swerver_stalled_connections_passed_total", "counter",
	       "Connections queued on a stalled worker's socket that the master passed to another.",
	       s->stall_passed);
	scalar(o, "swerver_reloads_total", "counter", "Configuration reloads applied.", s->reloads);
	scalar(o, "swerver_reload_failures_total", "counter",
	       "Configuration reloads refused (the running configuration was kept).",
	       s->reload_failures);
	scalar(o, "swerver_config_generation", "gauge", "Generation of the running configuration.",
	       s->generation);
	scalar(o, "swerver_workers", "gauge", "Worker processes configured.", s->workers);
	scalar(o, "swerver_start_time_seconds", "gauge", "Start time of the server, Unix seconds.",
	       s->started_at);
	scalar(o, "swerver_uptime_seconds", "gauge", "Seconds since the server started.",
	       s->now > s->started_at ? s->now - s->started_at : 0);
}

static void emit_build(struct sw_metrics_out *o)
{
	char features[256] = "";

	sw_version_features(features, sizeof(features));
	sw_metrics_family(o, "swerver_build_info", "gauge", "Always 1; the labels describe the build.");
	sw_metrics_put(o, "swerver_build_info{version=\"");
	sw_metrics_label_value(o, PACKAGE_VERSION);
	sw_metrics_put(o, "\",features=\"");
	sw_metrics_label_value(o, features);
	sw_metrics_put(o, "\"} 1\n");
}

static void emit_slots(struct sw_metrics_out *o, const struct snap *s)
{
	sw_metrics_family(o, "swerver_worker_connections_open", "gauge",
	       "Client connections open now, by worker slot.");
	for (unsigned i = 0; i < s->nslots; i++)
		sw_metrics_put(o, "swerver_worker_connections_open{worker=\"%u\"} %lld\n", s->slots[i].slot,
		    (long long)((int64_t)s->slots[i].open > 0 ? (int64_t)s->slots[i].open : 0));
	sw_metrics_family(o, "swerver_worker_connections_accepted_total", "counter",
	       "Client connections accepted, by worker slot.");
	for (unsigned i = 0; i < s->nslots; i++)
		sw_metrics_put(o, "swerver_worker_connections_accepted_total{worker=\"%u\"} %llu\n",
		    s->slots[i].slot, (unsigned long long)s->slots[i].accepted);
	sw_metrics_family(o, "swerver_worker_requests_total", "counter", "Requests answered, by worker slot.");
	for (unsigned i = 0; i < s->nslots; i++)
		sw_metrics_put(o, "swerver_worker_requests_total{worker=\"%u\"} %llu\n",
		    s->slots[i].slot, (unsigned long long)s->slots[i].requests);
}

/*
 * The families optional units own (upstreams, auth failures, ...), from their
 * rows in shm, written once into one string so that both passes of render
 * see the same numbers (they change under us between the passes).
 */
static char *units_text(const struct sw_shm *shm, size_t *len)
{
	size_t cap = 0, n;
	char *buf = NULL;

	for (;;) {
		n = 0;
		for (const struct sw_module *const *m = sw_modules; *m; m++)
			if ((*m)->metrics)
				n += (*m)->metrics(shm, buf ? buf + n : NULL, buf && n < cap ? cap - n : 0);
		if (buf && n < cap)
			break;
		free(buf);
		cap = n + 4096;         /* room for what grows between the passes */
		buf = sw_malloc(cap);
	}
	*len = n;
	return buf;
}

static size_t render(const struct snap *s, const char *units, size_t units_len, char *buf,
		     size_t cap)
{
	struct sw_metrics_out o = { buf, cap, 0 };

	emit_requests(&o, s);
	emit_histogram(&o, s);
	emit_connections(&o, s);
	emit_slots(&o, s);
	emit_daemon(&o, s);
	sw_metrics_put(&o, "%.*s", (int)units_len, units);
	emit_build(&o);
	return o.len;
}

const char *sw_metrics_bound_text(unsigned bucket)
{
	return bucket < SW_ARRAY_SIZE(bound_text) ? bound_text[bucket] : "+Inf";
}

/* ---- the handler ---- */

void sw_metrics_respond(struct sw_exchange *x)
{
	size_t n, units_len;
	struct snap s;
	char *buf, *units;

	take_snapshot(&s, x->ctx->shm);
	units = units_text(x->ctx->shm, &units_len);
	n = render(&s, units, units_len, NULL, 0);
	buf = x->ops->buffer ? sw_exchange_buffer(x, n + 1) : NULL;
	if (buf)
		render(&s, units, units_len, buf, n + 1);
	free(units);
	if (!buf) {
		sw_exchange_error(x, 500);
		return;
	}
	x->resp.status = 200;
	x->resp.body_kind = SW_BODY_MEMORY;
	x->resp.body = (struct sw_str){ buf, n };
	x->resp.content_length = n;
	sw_response_add_header(&x->resp, SW_STR("Content-Type"),
			       SW_STR("text/plain; version=0.0.4; charset=utf-8"));
	sw_response_add_header(&x->resp, SW_STR("Cache-Control"), SW_STR("no-store"));
	x->ops->respond(x);
}

int sw_metrics_handle(struct sw_exchange *x)
{
	if (!sw_str_eq(x->req.path, "/metrics"))
		return SW_DECLINED;
	if (x->req.method != SW_METHOD_GET && x->req.method != SW_METHOD_HEAD) {
		sw_response_add_header(&x->resp, SW_STR("Allow"), SW_STR("GET, HEAD"));
		sw_exchange_error(x, 405);
		return SW_OK;
	}
	sw_metrics_respond(x);
	return SW_OK;
}
