/* SPDX-License-Identifier: MIT */
/* lockout.c - routes[].auth.lockout: failed credentials per route and client address in a shared table; past a budget, 429 without checking. */
#include <config.h>

#include <stdio.h>
#include <string.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "auth/lockout.h"
#include "core/diag.h"
#include "core/log.h"
#include "http/client_addr.h"
#include "http/context.h"
#include "http/exchange.h"
#include "proxy/config.h"   /* x->route: its path_prefix and host name the route */

/* ---- configuration ---- */

static int parse_u32(struct json_object *conf, const char *key, const char *path, uint32_t max,
		     uint32_t *out, struct sw_diag *d)
{
	struct json_object *v;

	if (!json_object_object_get_ex(conf, key, &v))
		return SW_OK;
	if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 1 ||
	    json_object_get_int64(v) > (int64_t)max) {
		sw_diag_error(d, path, "%s: must be an integer from 1 to %u", key, max);
		return SW_ERROR;
	}
	*out = (uint32_t)json_object_get_int64(v);
	return SW_OK;
}

int sw_auth_lockout_parse(struct json_object *conf, const char *path, struct sw_auth_lockout *lo,
			  struct sw_diag *d)
{
	int rc = SW_OK;

	*lo = (struct sw_auth_lockout){ SW_AUTH_LOCKOUT_FAILURES, SW_AUTH_LOCKOUT_WINDOW_MS,
					SW_AUTH_LOCKOUT_MS };
	if (!conf)
		return SW_OK;
	if (json_object_is_type(conf, json_type_boolean)) {
		if (!json_object_get_boolean(conf))
			lo->failures = 0;
		return SW_OK;
	}
	if (!json_object_is_type(conf, json_type_object)) {
		sw_diag_error(d, path, "must be false, true or {\"failures\": N, \"window_ms\": N, \"lockout_ms\": N}");
		return SW_ERROR;
	}
	json_object_object_foreach(conf, k, val) {
		(void)val;
		if (strcmp(k, "failures") && strcmp(k, "window_ms") && strcmp(k, "lockout_ms")) {
			sw_diag_error(d, path, "%s: unknown key (failures, window_ms, lockout_ms)", k);
			rc = SW_ERROR;
		}
	}
	if (parse_u32(conf, "failures", path, 1000000, &lo->failures, d) != SW_OK ||
	    parse_u32(conf, "window_ms", path, 86400000, &lo->window_ms, d) != SW_OK ||
	    parse_u32(conf, "lockout_ms", path, 86400000, &lo->lockout_ms, d) != SW_OK)
		rc = SW_ERROR;
	return rc;
}

/* ---- the table ---- */

/* How readily a slot is given to another key: free first, locked out last. */
static uint64_t staleness(const struct sw_lockout_slot *s, uint64_t now)
{
	if (!s->key)
		return 0;
	if (s->locked_until_ms > now)
		return (1ull << 62) + s->locked_until_ms;
	return 1 + s->last_ms;
}

/*
 * key's slot, else (with claim) the stalest of its probes, taken over (a
 * forgotten client only gets a fresh budget), else NULL.  Returned locked.
 * Holding one slot while locking the next cannot deadlock: every probe
 * runs forward over a few slots of a much larger table, in the same order.
 */
static struct sw_lockout_slot *slot_of(struct sw_lockout_slot *table, size_t n, uint64_t key,
				       uint64_t now, bool claim)
{
	struct sw_lockout_slot *best = NULL;

	for (unsigned k = 0; k < SW_LOCKOUT_PROBE && k < n; k++) {
		struct sw_lockout_slot *s = &table[(key + k) % n];
		sw_spin_lock(&s->lock);
		if (s->key == key) {
			if (best)
				sw_spin_unlock(&best->lock);
			return s;
		}
		if (!best || staleness(s, now) < staleness(best, now)) {
			if (best)
				sw_spin_unlock(&best->lock);
			best = s;
		} else {
			sw_spin_unlock(&s->lock);
		}
	}
	if (!claim) {
		sw_spin_unlock(&best->lock);
		return NULL;
	}
	best->key = key;
	best->failures = 0;
	best->window_ms = 0;
	best->last_ms = now;
	best->locked_until_ms = 0;
	return best;
}

uint64_t sw_auth_lockout_left(struct sw_lockout_slot *table, size_t n, uint64_t key, uint64_t now)
{
	struct sw_lockout_slot *s = slot_of(table, n, key, now, false);
	uint64_t until;

	if (!s)
		return 0;   /* a lookup only: clients that never failed take no slot */
	until = s->locked_until_ms;
	sw_spin_unlock(&s->lock);
	return until > now ? until - now : 0;
}

bool sw_auth_lockout_fail(struct sw_lockout_slot *table, size_t n, uint64_t key,
			  const struct sw_auth_lockout *lo, uint64_t now)
{
	struct sw_lockout_slot *s = slot_of(table, n, key, now, true);
	bool begins = false;

	s->last_ms = now;
	if (s->locked_until_ms > now)
		goto out;   /* its credential was being checked when the lockout began */
	if (s->window_ms == 0 || now - s->window_ms >= lo->window_ms) {
		s->window_ms = now;
		s->failures = 0;
	}
	if (++s->failures >= lo->failures) {
		s->locked_until_ms = now + lo->lockout_ms;
		s->failures = 0;
		s->window_ms = 0;
		begins = true;
	}
out:
	sw_spin_unlock(&s->lock);
	return begins;
}

/* ---- the exchange side ---- */

/*
 * Keyed with the shared block's secret: an attacker who picks its address
 * (an IPv6 /64 is a lot of choice) cannot aim at the slot, or the key, of
 * another client.  Never 0 (a free slot).
 */
uint64_t sw_auth_lockout_key(const struct sw_exchange *x)
{
	const struct sw_shm *shm = x->ctx->shm;
	const char *prefix = x->route && x->route->path_prefix ? x->route->path_prefix : "";
	const char *host = x->route && x->route->host ? x->route->host : "";
	char msg[SW_CLIENT_ADDR_LEN + 600], addr[SW_CLIENT_ADDR_LEN];
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	uint64_t key = 0;
	int n;

	sw_client_addr(x, addr, sizeof(addr));
	n = snprintf(msg, sizeof(msg), "%s%c%.256s%c%.256s", addr, 0, host, 0, prefix);
	if (n < 0 || !HMAC(EVP_sha256(), shm->head.secret, sizeof(shm->head.secret),
			   (const unsigned char *)msg, (size_t)SW_MIN((size_t)n, sizeof(msg) - 1), mac, &len))
		return 1;
	memcpy(&key, mac, sizeof(key));
	return key ? key : 1;
}

uint64_t sw_auth_lockout_check(struct sw_exchange *x, uint64_t key)
{
	return sw_auth_lockout_left(x->ctx->shm->auth_lockout, SW_LOCKOUT_SLOTS, key,
				    sw_loop_now(x->ctx->loop));
}

void sw_auth_lockout_failed(struct sw_exchange *x, uint64_t key, const struct sw_auth_lockout *lo)
{
	char addr[SW_CLIENT_ADDR_LEN];

	if (!sw_auth_lockout_fail(x->ctx->shm->auth_lockout, SW_LOCKOUT_SLOTS, key, lo,
				  sw_loop_now(x->ctx->loop)))
		return;
	/* Logged once per lockout, by the worker whose failure began it. */
	sw_client_addr(x, addr, sizeof(addr));
	sw_warn("auth: %u failed credentials from %s on route %s within %u ms: refusing it for %u ms",
		lo->failures, addr, x->route && x->route->path_prefix ? x->route->path_prefix : "-",
		lo->window_ms, lo->lockout_ms);
}
