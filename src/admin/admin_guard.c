/* SPDX-License-Identifier: MIT */
/* admin_guard.c - wrong admin keys counted per client address and in all: past a budget, a lockout. */
#include <config.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include "core/log.h"
#include "http/context.h"
#include "admin/admin.h"

/* The peer as 16 bytes (IPv4 mapped); false when it has no IP address. */
static bool peer_addr(const struct sw_exchange *x, uint8_t out[16])
{
	const struct sockaddr *sa = x->peer;

	memset(out, 0, 16);
	if (sa && sa->sa_family == AF_INET6) {
		memcpy(out, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
		return true;
	}
	if (sa && sa->sa_family == AF_INET) {
		out[10] = out[11] = 0xff;
		memcpy(out + 12, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
		return true;
	}
	return false;
}

static void addr_text(const uint8_t a[16], char *buf, size_t size)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (memcmp(a, mapped, 12) == 0)
		inet_ntop(AF_INET, a + 12, buf, (socklen_t)size);
	else
		inet_ntop(AF_INET6, a, buf, (socklen_t)size);
}

/* How readily a slot is given to another address: free first, locked out last. */
static uint64_t staleness(const struct sw_auth_slot *s, uint64_t now)
{
	if (!s->used)
		return 0;
	if (s->locked_until_ms > now)
		return (1ull << 62) + s->locked_until_ms;
	return 1 + s->window_ms;
}

/*
 * The slot of addr: its own, else (with claim) the stalest of its probes,
 * taken over (a forgotten client only gets a fresh budget; the budget for
 * all addresses still holds), else NULL.  Returned locked.  Holding one
 * slot while taking the next is safe: every probe runs forward over 8 of
 * 256 slots, so two can never wait for each other.
 */
static struct sw_auth_slot *slot_of(struct sw_shm *shm, const uint8_t addr[16], uint64_t now,
				    bool claim)
{
	uint64_t h = 1469598103934665603ull;
	struct sw_auth_slot *best = NULL;

	for (int i = 0; i < 16; i++)
		h = (h ^ addr[i]) * 1099511628211ull;
	for (unsigned k = 0; k < SW_AUTH_PROBE; k++) {
		struct sw_auth_slot *s = &shm->auth[(h + k) % SW_AUTH_SLOTS];
		sw_spin_lock(&s->lock);
		if (s->used && memcmp(s->addr, addr, 16) == 0) {
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
	memcpy(best->addr, addr, 16);
	best->used = 1;
	best->failures = 0;
	best->window_ms = 0;
	best->locked_until_ms = 0;
	return best;
}

/* Counts one failure in s; true when it begins a lockout. */
static bool count_failure(struct sw_auth_slot *s, uint64_t now, uint32_t budget, uint32_t lockout_ms)
{
	if (s->locked_until_ms > now)
		return false;   /* its 401 was on the way when the lockout began */
	if (s->window_ms == 0 || now - s->window_ms >= lockout_ms) {
		s->window_ms = now;
		s->failures = 0;
	}
	if (++s->failures < budget)
		return false;
	s->locked_until_ms = now + lockout_ms;
	s->failures = 0;
	s->window_ms = 0;
	return true;
}

uint64_t sw_admin_guard_locked(const struct sw_exchange *x)
{
	struct sw_shm *shm = x->ctx->shm;
	uint64_t now = sw_loop_now(x->ctx->loop), until;
	uint8_t addr[16];
	struct sw_auth_slot *s;

	sw_spin_lock(&shm->auth_all.lock);
	until = shm->auth_all.locked_until_ms;
	sw_spin_unlock(&shm->auth_all.lock);
	/* A lookup only: clients with the right key take no slot. */
	if (peer_addr(x, addr) && (s = slot_of(shm, addr, now, false))) {
		until = SW_MAX(until, s->locked_until_ms);
		sw_spin_unlock(&s->lock);
	}
	return until > now ? until - now : 0;
}

void sw_admin_guard_fail(const struct sw_exchange *x)
{
	const struct sw_admin_cfg *a = &x->ctx->cfg->admin;
	struct sw_shm *shm = x->ctx->shm;
	uint64_t now = sw_loop_now(x->ctx->loop);
	uint8_t addr[16];
	char text[INET6_ADDRSTRLEN];
	bool one = false, all;

	if (peer_addr(x, addr)) {
		struct sw_auth_slot *s = slot_of(shm, addr, now, true);
		one = count_failure(s, now, a->auth_failures, a->lockout_ms);
		sw_spin_unlock(&s->lock);
	}
	sw_spin_lock(&shm->auth_all.lock);
	all = count_failure(&shm->auth_all, now, a->auth_failures_total, a->lockout_ms);
	sw_spin_unlock(&shm->auth_all.lock);
	/* Logged once per lockout, by the worker whose failure began it. */
	if (one) {
		addr_text(addr, text, sizeof(text));
		sw_warn("admin API: %u wrong keys from %s within %u ms: refusing it for %u ms",
			a->auth_failures, text, a->lockout_ms, a->lockout_ms);
		sw_stat_add(&x->ctx->stats->admin_auth_lockouts, 1);
	}
	if (all) {
		sw_warn("admin API: %u wrong keys from all addresses within %u ms: refusing every "
			"request for %u ms", a->auth_failures_total, a->lockout_ms, a->lockout_ms);
		sw_stat_add(&x->ctx->stats->admin_auth_lockouts, 1);
	}
}
