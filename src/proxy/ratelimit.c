/* SPDX-License-Identifier: MIT */
/* ratelimit.c - routes[].rate_limit's token buckets per client, shared by all workers. */
#include <config.h>

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include "http/context.h"
#include "http/client_addr.h"
#include "http/policy.h"
#include "proxy/proxy.h"

static uint64_t fnv(uint64_t h, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)p[i]) * 1099511628211ull;
	return h;
}

/*
 * The bucket's key: the route, then the consumer (an auth policy's
 * x->consumer, else the consumer header) or the client address.
 */
static uint64_t bucket_key(const struct px_rate_conf *rl, const struct sw_route_cfg *route,
			   const struct sw_exchange *x)
{
	const struct sw_header *h = NULL;
	uint64_t k = 1469598103934665603ull;
	char addr[SW_CLIENT_ADDR_LEN];

	k = fnv(k, route->path_prefix, strlen(route->path_prefix));
	if (route->host)
		k = fnv(k, route->host, strlen(route->host));
	if (rl->by_consumer && x->consumer) {
		k = fnv(k, "n", 1);
		return fnv(k, x->consumer, strlen(x->consumer)) | 1;
	}
	if (rl->by_consumer)
		h = sw_request_header(&x->req, rl->consumer_header);
	if (h) {
		k = fnv(k, "c", 1);
		k = fnv(k, h->value.p, h->value.len);
	} else {
		/* No consumer key: the client's address stands in for it. */
		sw_client_addr(x, addr, sizeof(addr));
		k = fnv(k, "a", 1);
		k = fnv(k, addr, strlen(addr));
	}
	return k | 1;   /* 0 marks a free slot */
}

/* The key's slot, or a free one, or the stalest of the probe window. */
static struct sw_rate_slot *find_slot(struct sw_shm *shm, uint64_t key)
{
	struct sw_rate_slot *stalest = NULL;

	for (unsigned i = 0; i < SW_RATE_PROBE; i++) {
		struct sw_rate_slot *s = &shm->rate[(key + i) % SW_RATE_SLOTS];
		uint64_t k = __atomic_load_n(&s->key, __ATOMIC_RELAXED);

		if (k == key || k == 0)
			return s;
		if (!stalest || __atomic_load_n(&s->last_ms, __ATOMIC_RELAXED) < stalest->last_ms)
			stalest = s;
	}
	return stalest;
}

/*
 * Seconds until one whole token is back, rounded up, at least 1.  Capped:
 * any rate > 0 is valid, and a very slow one's wait does not fit an
 * unsigned (converting it would be undefined).
 */
static unsigned retry_after_s(uint64_t tokens_milli, double rps)
{
	double s = (double)(1000 - tokens_milli) / (rps * 1000) + 0.999;

	if (s >= (double)UINT_MAX)
		return UINT_MAX;
	return s < 1 ? 1 : (unsigned)s;
}

bool px_rate_allow(const struct px_rate_conf *rl, const struct sw_route_cfg *route,
		   const struct sw_exchange *x, struct px_rate *out)
{
	struct sw_shm *shm = x->ctx->shm;
	uint64_t key = bucket_key(rl, route, x), now = sw_loop_now(x->ctx->loop);
	uint64_t cap = (uint64_t)rl->burst_size * 1000;
	struct sw_rate_slot *s = find_slot(shm, key);
	bool ok;

	sw_spin_lock(&s->lock);
	if (s->key != key) {
		s->key = key;            /* a new client, or the slot is taken over */
		s->tokens_milli = cap;
	} else if (now > s->last_ms) {
		/* rps tokens a second is rps thousandths a millisecond. */
		double refill = (double)(now - s->last_ms) * rl->requests_per_second;
		/* Compared as a double first: a fast rate's long quiet spell does not fit 64 bits. */
		s->tokens_milli = s->tokens_milli >= cap || refill >= (double)(cap - s->tokens_milli) ?
				  cap : s->tokens_milli + (uint64_t)refill;
	}
	s->last_ms = now;
	ok = s->tokens_milli >= 1000;
	if (ok)
		s->tokens_milli -= 1000;
	out->limit = rl->burst_size;
	out->remaining = (unsigned)(s->tokens_milli / 1000);
	out->retry_after = ok ? 0 : retry_after_s(s->tokens_milli, rl->requests_per_second);
	sw_spin_unlock(&s->lock);
	return ok;
}

/*
 * X-RateLimit-Limit and -Remaining (and Retry-After on a refusal), in
 * memory of the exchange's own: they are added before the handler runs.
 */
void px_rate_headers(struct sw_exchange *x, const struct px_rate *rate, bool refused)
{
	char *b = sw_exchange_alloc(x, 64);
	int n1 = snprintf(b, 20, "%u", rate->limit);
	int n2 = snprintf(b + 20, 20, "%u", rate->remaining);
	int n3 = snprintf(b + 40, 20, "%u", rate->retry_after);

	sw_response_add_header(&x->resp, SW_STR("X-RateLimit-Limit"), (struct sw_str){ b, (size_t)n1 });
	sw_response_add_header(&x->resp, SW_STR("X-RateLimit-Remaining"),
			       (struct sw_str){ b + 20, (size_t)n2 });
	if (refused)
		sw_response_add_header(&x->resp, SW_STR("Retry-After"),
				       (struct sw_str){ b + 40, (size_t)n3 });
}
