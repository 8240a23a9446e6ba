/* SPDX-License-Identifier: MIT */
/* health.c - upstream health shared by the workers, and active health checks. */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/log.h"
#include "http/context.h"
#include "http/metrics.h"
#include "proxy/proxy.h"

/* A check in flight: its own connection, request and response buffer. */
struct check {
	struct px_server *srv;
	struct px_upconn *uc;
	struct sw_timer timer;
	char req[512];
	struct iovec iov;
};

bool px_server_usable(const struct px_server *s, uint64_t now)
{
	const struct sw_health_slot *h = s->health;

	/* active_down counts only while checks run: a slot may outlive a removed health_check. */
	return s->resolved && __atomic_load_n(&h->down_until_ms, __ATOMIC_RELAXED) <= now &&
	       !(s->up->cfg->health_check.enabled && __atomic_load_n(&h->active_down,
								     __ATOMIC_RELAXED));
}

static uint64_t server_key(const struct px_server *s)
{
	uint64_t h = 1469598103934665603ull;

	for (const char *p = s->up->cfg->name; *p; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ull;
	h = (h ^ '/') * 1099511628211ull;
	for (const char *p = s->name; *p; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ull;
	return h | 1;
}

/* The server's slot: its own from an earlier generation, or a free one. */
static void attach(struct px_server *s, struct sw_shm *shm)
{
	uint64_t key = server_key(s);

	for (unsigned i = 0; i < SW_HEALTH_SLOTS; i++) {
		struct sw_health_slot *h = &shm->health[(key + i) % SW_HEALTH_SLOTS];
		uint64_t k = __atomic_load_n(&h->key, __ATOMIC_ACQUIRE);

		/* A free slot is taken with CAS: another worker may be claiming it too. */
		if (k == 0 && __atomic_compare_exchange_n(&h->key, &k, key, false,
							  __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			k = key;
		if (k == key) {
			s->health = h;
			if (!h->upstream[0]) {
				snprintf(h->server, sizeof(h->server), "%s", s->name);
				snprintf(h->upstream, sizeof(h->upstream), "%s", s->up->cfg->name);
			}
			return;
		}
	}
	s->health = &s->local_health;   /* table full: this worker keeps its own view */
}

/* ---- one check ---- */

static void check_done(struct check *c, bool ok, const char *why)
{
	struct px_server *s = c->srv;
	const struct sw_health_check_cfg *hc = &s->up->cfg->health_check;
	struct sw_health_slot *h = s->health;
	int change = 0;

	sw_timer_del(s->up->st->ctx->loop, &c->timer);
	if (c->uc)
		px_upconn_close(c->uc);
	sw_spin_lock(&h->lock);
	if (ok) {
		h->fail_streak = 0;
		if (++h->ok_streak >= hc->healthy_threshold && h->active_down) {
			h->active_down = 0;
			change = 1;
		}
	} else {
		h->ok_streak = 0;
		if (++h->fail_streak >= hc->unhealthy_threshold && !h->active_down) {
			h->active_down = 1;
			change = -1;
		}
	}
	sw_spin_unlock(&h->lock);
	if (change > 0)
		sw_log_upstream(SW_LOG_INFO, 0, s->up->cfg->name,
				"upstream \"%s\": server %s is up (health check passed %u time(s))",
				s->up->cfg->name, s->name, hc->healthy_threshold);
	else if (change < 0)
		sw_log_upstream(SW_LOG_WARN, 0, s->up->cfg->name,
				"upstream \"%s\": server %s is down (health check: %s)",
				s->up->cfg->name, s->name, why);
	px_state_put(s->up->st);
	free(c);
}

static void on_check_timeout(struct sw_timer *t)
{
	check_done(t->data, false, "timeout");
}

static void on_check_response(struct sw_io *io, ssize_t res)
{
	struct check *c = io->data;
	struct px_upconn *uc = c->uc;
	struct sw_http1_parser parser = { 0 };
	struct sw_header fields[64];
	struct sw_http1_response r = { .headers = fields, .header_cap = 64 };
	size_t head_len;
	int rc;

	if (res <= 0) {
		check_done(c, false, res ? strerror((int)-res) : "closed");
		return;
	}
	uc->len += (size_t)res;
	rc = sw_http1_parse_response(&parser, uc->buf, uc->len, uc->cap, &r, &head_len);
	if (rc == SW_AGAIN && uc->len < uc->cap) {
		uc->rio.data = c;
		uc->rio.cb = on_check_response;
		if (sw_loop_recv(c->srv->up->st->ctx->loop, &uc->h, &uc->rio, uc->buf + uc->len,
				 uc->cap - uc->len) != SW_OK)
			check_done(c, false, "cannot read");
		return;
	}
	if (rc != SW_OK) {
		check_done(c, false, "malformed response");
		return;
	}
	check_done(c, r.status == c->srv->up->cfg->health_check.expected_status,
		   "unexpected status");
}

static void on_check_sent(struct sw_io *io, ssize_t res)
{
	struct check *c = io->data;
	struct px_upconn *uc = c->uc;

	if (res < (ssize_t)c->iov.iov_len) {
		check_done(c, false, res < 0 ? strerror((int)-res) : "short write");
		return;
	}
	uc->rio.data = c;
	uc->rio.cb = on_check_response;
	if (sw_loop_recv(c->srv->up->st->ctx->loop, &uc->h, &uc->rio, uc->buf, uc->cap) != SW_OK)
		check_done(c, false, "cannot read");
}

static void on_check_connected(struct sw_io *io, ssize_t res)
{
	struct check *c = io->data;
	struct px_upconn *uc = c->uc;

	if (res < 0) {
		check_done(c, false, strerror((int)-res));
		return;
	}
	uc->wio.data = c;
	uc->wio.cb = on_check_sent;
	if (sw_loop_writev(c->srv->up->st->ctx->loop, &uc->h, &uc->wio, &c->iov, 1) != SW_OK)
		check_done(c, false, "cannot write");
}

static void run_check(struct px_server *s)
{
	const struct sw_health_check_cfg *hc = &s->up->cfg->health_check;
	struct px_state *st = s->up->st;
	struct check *c = sw_calloc(1, sizeof(*c));
	int err = 0, n;

	c->srv = s;
	st->refs++;
	sw_timer_init(&c->timer, on_check_timeout, c);
	sw_timer_add(st->ctx->loop, &c->timer, hc->timeout_ms);
	n = snprintf(c->req, sizeof(c->req),
		     "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: swerver-health-check\r\n"
		     "Connection: close\r\n\r\n", hc->path ? hc->path : "/", s->name);
	c->iov = (struct iovec){ c->req, (size_t)SW_MIN(n, (int)sizeof(c->req) - 1) };
	c->uc = px_upconn_open(s, st, on_check_connected, c, &err);
	if (!c->uc)
		check_done(c, false, strerror(err));
}

/*
 * Every worker ticks; the one that moves a server's next_check_ms forward
 * first runs that check, so each server is checked once per interval.
 */
static void on_tick(struct sw_timer *t)
{
	struct px_upstream *up = t->data;
	const struct sw_health_check_cfg *hc = &up->cfg->health_check;
	uint64_t now = px_now(up->st);

	for (size_t i = 0; i < up->nservers; i++) {
		struct px_server *s = &up->servers[i];
		uint64_t next = __atomic_load_n(&s->health->next_check_ms, __ATOMIC_ACQUIRE);

		if (!s->resolved || next > now)
			continue;
		if (__atomic_compare_exchange_n(&s->health->next_check_ms, &next,
						now + hc->interval_ms, false, __ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE))
			run_check(s);
	}
	sw_timer_add(up->st->ctx->loop, &up->check_timer, SW_MAX(hc->interval_ms / 4, 10u));
}

void px_health_start(struct px_state *st)
{
	for (size_t i = 0; i < st->nups; i++) {
		struct px_upstream *up = &st->ups[i];

		up->st = st;
		for (size_t k = 0; k < up->nservers; k++)
			attach(&up->servers[k], st->ctx->shm);
		sw_timer_init(&up->check_timer, on_tick, up);
		if (up->cfg->health_check.enabled)
			sw_timer_add(st->ctx->loop, &up->check_timer, 0);
	}
}

void px_health_stop(struct px_state *st)
{
	for (size_t i = 0; i < st->nups; i++)
		sw_timer_del(st->ctx->loop, &st->ups[i].check_timer);
}

/* ---- per-server counters for /metrics (relaxed adds, shared by the workers) ---- */

void px_stat_error(struct px_server *s, enum sw_upstream_error e)
{
	sw_stat_add(&s->health->errors[e], 1);
}

void px_stat_retry(struct px_server *s)
{
	sw_stat_add(&s->health->retries, 1);
}

void px_stat_response(struct px_server *s, uint64_t ms)
{
	sw_stat_add(&s->health->requests, 1);
	sw_stat_add(&s->health->latency[sw_metrics_bucket(ms)], 1);
	sw_stat_add(&s->health->latency_sum_ms, ms);
}

void px_stat_pool(struct px_server *s, int active, int idle)
{
	if (active > 0)
		sw_stat_add(&s->health->pool_active, 1);
	else if (active < 0)
		sw_stat_sub(&s->health->pool_active, 1);
	if (idle > 0)
		sw_stat_add(&s->health->pool_idle, 1);
	else if (idle < 0)
		sw_stat_sub(&s->health->pool_idle, 1);
}
