/* SPDX-License-Identifier: MIT */
/* heartbeat.c - workers prove their loop turns; the master finds the ones that stall. */
#include <config.h>

#include "core/log.h"
#include "daemon/heartbeat.h"
#include "daemon/worker.h"
#include "event/loop.h"

/*
 * One cell per slot and generation modulo 4: during reloads the draining,
 * serving and starting workers of a slot (three generations at most) each
 * write their own, so a live predecessor cannot hide a stalled successor.
 */
static uint64_t *cell(struct sw_shm *shm, unsigned slot, unsigned gen)
{
	return &shm->heartbeat[slot][gen & 3];
}

static void on_beat(struct sw_timer *t)
{
	struct sw_worker *w = t->data;

	/* A draining worker takes no new connections: nothing to steer. */
	if (w->ctx.draining)
		return;
	__atomic_store_n(cell(w->ctx.shm, w->ctx.slot, w->ctx.generation), sw_loop_now(w->ctx.loop),
			 __ATOMIC_RELAXED);
	sw_timer_add(w->ctx.loop, &w->beat_timer, SW_HEARTBEAT_MS);
}

void sw_heartbeat_start(struct sw_worker *w)
{
	sw_loop_update_time(w->ctx.loop);
	sw_timer_init(&w->beat_timer, on_beat, w);
	on_beat(&w->beat_timer);
}

static void set_stalled(struct sw_stall_watch *w, struct sw_shm *shm, unsigned slot, bool on)
{
	w->stalled[slot] = on;
	if (on)
		sw_stat_add(&shm->workers_stalled, 1);
	else
		sw_stat_sub(&shm->workers_stalled, 1);
}

enum sw_stall_verdict sw_stall_judge(struct sw_stall_watch *w, struct sw_shm *shm,
				     unsigned slot, unsigned gen, pid_t pid, uint64_t now_ms,
				     uint32_t stall_ms)
{
	uint64_t beat = __atomic_load_n(cell(shm, slot, gen), __ATOMIC_RELAXED);
	/* A worker beats before it says READY; 0 would be one that never did. */
	uint64_t quiet = beat && now_ms > beat ? now_ms - beat : 0;

	if (quiet < SW_HEARTBEAT_MISS_MS) {
		if (!w->stalled[slot])
			return SW_STALL_NONE;
		set_stalled(w, shm, slot, false);
		sw_info("worker %u (pid %d) beats again; new connections reach it again",
			slot, (int)pid);
		return SW_STALL_OVER;
	}
	if (!w->stalled[slot]) {
		set_stalled(w, shm, slot, true);
		sw_stat_add(&shm->worker_stalls, 1);
		sw_warn("worker %u (pid %d) missed its heartbeat for %llu ms; new connections go "
			"to the other workers", slot, (int)pid, (unsigned long long)quiet);
		return SW_STALL_BEGUN;
	}
	if (stall_ms == 0 || quiet < stall_ms)
		return SW_STALL_NONE;
	sw_stat_add(&shm->stall_replacements, 1);
	sw_error("worker %u (pid %d) stalled for %llu ms (timeouts.stall_ms %u); replacing it, "
		 "its queued connections go to its successor", slot, (int)pid,
		 (unsigned long long)quiet, stall_ms);
	return SW_STALL_REPLACE;
}

bool sw_stall_watch_awake(struct sw_stall_watch *w, uint64_t now_ms)
{
	bool awake = w->last_look_ms && now_ms - w->last_look_ms <= SW_HEARTBEAT_MISS_MS;

	w->last_look_ms = now_ms;
	return awake;
}

void sw_stall_forget_from(struct sw_stall_watch *w, struct sw_shm *shm, unsigned nslots)
{
	for (unsigned s = nslots; s < SW_MAX_SLOTS; s++)
		if (w->stalled[s])
			set_stalled(w, shm, s, false);
}
