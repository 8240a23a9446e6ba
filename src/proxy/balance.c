/* SPDX-License-Identifier: MIT */
/* balance.c - choosing an upstream server, and passive health. */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include "core/log.h"
#include "http/context.h"
#include "http/client_addr.h"
#include "proxy/proxy.h"


static uint32_t rand32(void)
{
	static uint64_t state;

	if (state == 0 && getrandom(&state, sizeof(state), 0) != sizeof(state))
		state = 0x9e3779b97f4a7c15ull;
	/* xorshift64*: cheap and good enough to spread load. */
	state ^= state >> 12;
	state ^= state << 25;
	state ^= state >> 27;
	return (uint32_t)((state * 0x2545f4914f6cdd1dull) >> 32);
}

/* FNV-1a of the real client address: the same client keeps its server. */
static uint32_t client_hash(const struct sw_exchange *x)
{
	char addr[SW_CLIENT_ADDR_LEN];
	uint32_t h = 2166136261u;

	sw_client_addr(x, addr, sizeof(addr));
	for (const char *p = addr; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	return h;
}

/* The candidates: usable primaries, or, when none is, usable backups. */
static size_t candidates(struct px_upstream *up, uint64_t now, const struct px_server *avoid,
			 struct px_server **out)
{
	size_t n = 0;

	for (int backup = 0; backup < 2 && n == 0; backup++)
		for (size_t i = 0; i < up->nservers; i++) {
			struct px_server *s = &up->servers[i];
			if (s->cfg->backup == (bool)backup && px_server_usable(s, now) && s != avoid)
				out[n++] = s;
		}
	return n;
}

/* Smooth weighted round robin: each pick adds every weight, takes the largest, subtracts the sum. */
static struct px_server *weighted(struct px_server **c, size_t n)
{
	struct px_server *best = NULL;
	int64_t total = 0;

	for (size_t i = 0; i < n; i++) {
		c[i]->current_weight += c[i]->cfg->weight;
		total += c[i]->cfg->weight;
		if (!best || c[i]->current_weight > best->current_weight)
			best = c[i];
	}
	best->current_weight -= total;
	return best;
}

/* a carries less load than b for its weight (active / weight, compared without division). */
static bool less_loaded(const struct px_server *a, const struct px_server *b)
{
	return (uint64_t)a->active * b->cfg->weight < (uint64_t)b->active * a->cfg->weight;
}

/*
 * Ties take turns: the rr-th of the least loaded.  Rotating where the scan
 * starts instead favoured the server after a busier one (with one busy
 * server of three, the idle two got 2:1).
 */
static struct px_server *least_conn(struct px_upstream *up, struct px_server **c, size_t n)
{
	struct px_server *best = c[0];
	size_t ties = 0, k;

	for (size_t i = 1; i < n; i++)
		if (less_loaded(c[i], best))
			best = c[i];
	for (size_t i = 0; i < n; i++)
		ties += !less_loaded(best, c[i]);
	k = up->rr++ % ties;
	for (size_t i = 0; i < n; i++)
		if (!less_loaded(best, c[i]) && k-- == 0)
			return c[i];
	return best;
}

/* Power of two choices: two at random, the less busy one. */
static struct px_server *two_choices(struct px_server **c, size_t n)
{
	struct px_server *a = c[rand32() % n], *b = c[rand32() % n];

	return a->active <= b->active ? a : b;
}

/*
 * The hash picks among every primary, so a server going down moves only
 * its own clients (to the next usable one); the others stay put.
 */
static struct px_server *by_hash(struct px_upstream *up, const struct sw_exchange *x,
				 struct px_server **c, size_t n)
{
	struct px_server *prim[up->nservers ? up->nservers : 1];
	size_t np = 0, start;

	for (size_t i = 0; i < up->nservers; i++)
		if (!up->servers[i].cfg->backup)
			prim[np++] = &up->servers[i];
	if (np == 0)
		return c[client_hash(x) % n];
	start = client_hash(x) % np;
	for (size_t k = 0; k < np; k++) {
		struct px_server *s = prim[(start + k) % np];
		for (size_t i = 0; i < n; i++)
			if (c[i] == s)
				return s;
	}
	return c[client_hash(x) % n];   /* every primary is down: the backups */
}

struct px_server *px_balance_pick(struct px_upstream *up, const struct sw_exchange *x,
				  const struct px_server *avoid)
{
	struct px_server *c[up->nservers ? up->nservers : 1];
	uint64_t now = sw_loop_now(x->ctx->loop);
	size_t n = candidates(up, now, avoid, c);

	if (n == 0 && avoid)
		n = candidates(up, now, NULL, c);   /* a retry may go back to the same one */
	if (n == 0)
		return NULL;
	switch (up->cfg->load_balancer) {
	case SW_LB_LEAST_CONN:
		return least_conn(up, c, n);
	case SW_LB_IP_HASH:
		return by_hash(up, x, c, n);
	case SW_LB_RANDOM:
		return two_choices(c, n);
	case SW_LB_WEIGHTED_ROUND_ROBIN:
		return weighted(c, n);
	case SW_LB_ROUND_ROBIN:
	default:
		return c[up->rr++ % n];
	}
}

void px_server_failed(struct px_server *s, uint64_t now, const char *why)
{
	const struct sw_upstream_server_cfg *c = s->cfg;
	struct sw_health_slot *h = s->health;
	bool down = false;

	/* An upstream's only server is never taken out: nothing could take its place. */
	if (c->max_fails == 0 || s->up->nservers == 1)
		return;
	sw_spin_lock(&h->lock);
	/* Failures count within a window of fail_timeout_ms from the first. */
	if (h->fails == 0 || now - h->fail_window_ms >= c->fail_timeout_ms) {
		h->fails = 0;
		h->fail_window_ms = now;
	}
	if (++h->fails >= c->max_fails && h->down_until_ms <= now) {
		h->down_until_ms = now + c->fail_timeout_ms;
		h->fails = 0;
		down = true;
	}
	sw_spin_unlock(&h->lock);
	if (down)
		sw_warn("upstream \"%s\": server %s is down for %u ms after %u failure(s) (last: %s)",
			s->up->cfg->name, s->name, c->fail_timeout_ms, c->max_fails, why);
}

void px_server_ok(struct px_server *s)
{
	if (__atomic_load_n(&s->health->fails, __ATOMIC_RELAXED))
		__atomic_store_n(&s->health->fails, 0, __ATOMIC_RELAXED);
}
