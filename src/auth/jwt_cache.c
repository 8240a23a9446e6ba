/* SPDX-License-Identifier: MIT */
/*
 * jwt_cache.c - a worker's verified tokens by SHA-256 of the token, until
 * their exp, least recently used dropped first: a repeated token costs a
 * hash and a lookup instead of a signature check.
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include "auth/jwt_impl.h"
#include "core/common.h"

void sw_jwt_cache_init(struct sw_jwt_cache *c, size_t max)
{
	memset(c, 0, sizeof(*c));
	c->max = max;
}

/* The hash is SHA-256: its first bytes are as good a bucket index as any. */
static struct sw_jwt_cached **bucket(const struct sw_jwt_cache *c, const unsigned char hash[32])
{
	size_t b;

	memcpy(&b, hash, sizeof(b));
	return &c->buckets[b & (c->nbuckets - 1)];
}

static void drop(struct sw_jwt_cache *c, struct sw_jwt_cached *e)
{
	struct sw_jwt_cached **pp;

	for (pp = bucket(c, e->hash); *pp != e; pp = &(*pp)->hnext)
		;
	*pp = e->hnext;
	sw_lru_unlink(&c->lru, &e->lru);
	sw_jwt_identity_release(e->id);
	free(e);
	c->count--;
}

void sw_jwt_cache_deinit(struct sw_jwt_cache *c)
{
	while (c->lru.tail)
		drop(c, SW_CONTAINER_OF(c->lru.tail, struct sw_jwt_cached, lru));
	free(c->buckets);
	memset(c, 0, sizeof(*c));
}

struct sw_jwt_cached *sw_jwt_cache_get(struct sw_jwt_cache *c, const unsigned char hash[32], int64_t now)
{
	struct sw_jwt_cached *e;

	if (!c->buckets)
		return NULL;
	for (e = *bucket(c, hash); e; e = e->hnext)
		if (memcmp(e->hash, hash, 32) == 0)
			break;
	if (!e)
		return NULL;
	if (now >= e->exp) {
		drop(c, e);
		return NULL;
	}
	sw_lru_unlink(&c->lru, &e->lru);
	sw_lru_push(&c->lru, &e->lru);
	return e;
}

void sw_jwt_cache_put(struct sw_jwt_cache *c, const unsigned char hash[32], int64_t exp,
		      struct sw_jwt_identity *id)
{
	struct sw_jwt_cached *e, **b;

	if (c->max == 0)
		return;
	if (!c->buckets) {
		/* Sized on first use: a -t check or an idle route allocates nothing. */
		c->nbuckets = 16;
		while (c->nbuckets < c->max)
			c->nbuckets *= 2;
		c->buckets = sw_calloc(c->nbuckets, sizeof(*c->buckets));
	}
	if (c->count >= c->max)
		drop(c, SW_CONTAINER_OF(c->lru.tail, struct sw_jwt_cached, lru));
	e = sw_calloc(1, sizeof(*e));
	memcpy(e->hash, hash, 32);
	e->exp = exp;
	e->id = id;
	id->refs++;
	b = bucket(c, hash);
	e->hnext = *b;
	*b = e;
	sw_lru_push(&c->lru, &e->lru);
	c->count++;
}
