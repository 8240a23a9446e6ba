/* SPDX-License-Identifier: MIT */
/* heartbeat.h - workers prove their loop turns; the master finds the ones that stall. */
#ifndef SW_DAEMON_HEARTBEAT_H
#define SW_DAEMON_HEARTBEAT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "core/shm.h"

#define SW_HEARTBEAT_MS 250        /* a worker writes its beat this often */
#define SW_HEARTBEAT_MISS_MS 1000  /* a beat older than this: the worker is stalled */

struct sw_worker;

/* In a worker of a master: writes a beat now and every SW_HEARTBEAT_MS until it drains. */
void sw_heartbeat_start(struct sw_worker *w);

/* What the master keeps per slot between two looks. */
struct sw_stall_watch {
	bool stalled[SW_MAX_SLOTS];  /* out of the TCP steering */
	unsigned steered_gen;        /* the generation the steering was last set for */
	uint64_t last_look_ms;       /* when the master last looked */
};

/*
 * False when the master's previous look was over SW_HEARTBEAT_MISS_MS ago:
 * the master itself did not run (the whole machine starved, a VM paused),
 * so the workers' silence proves nothing this time.
 */
bool sw_stall_watch_awake(struct sw_stall_watch *w, uint64_t now_ms);

enum sw_stall_verdict {
	SW_STALL_NONE,      /* nothing changed */
	SW_STALL_BEGUN,     /* no beat for SW_HEARTBEAT_MISS_MS: steer around it */
	SW_STALL_OVER,      /* it beats again: back in the steering */
	SW_STALL_REPLACE,   /* no beat for stall_ms (not 0): kill and restart it */
};

/*
 * The master's look at the serving worker `pid` of slot/generation at
 * now_ms (CLOCK_MONOTONIC, as the workers write it); logs each change and
 * keeps the stall counters in shm.  After SW_STALL_REPLACE the caller
 * stops asking about that pid; the slot stays stalled until its successor
 * beats.
 */
enum sw_stall_verdict sw_stall_judge(struct sw_stall_watch *w, struct sw_shm *shm,
				     unsigned slot, unsigned gen, pid_t pid, uint64_t now_ms,
				     uint32_t stall_ms);

/* Slots at or past nslots (a reload to fewer workers) are no longer watched. */
void sw_stall_forget_from(struct sw_stall_watch *w, struct sw_shm *shm, unsigned nslots);

#endif
