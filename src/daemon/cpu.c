/* SPDX-License-Identifier: MIT */
/* cpu.c - CPU affinity: count allowed CPUs and pin workers. */
#include <config.h>

#include <errno.h>
#include <sched.h>
#include "core/common.h"
#include "core/log.h"
#include "daemon/cpu.h"

/*
 * The mask is read once, in the master before any pinning, so a worker's
 * own (pinned) mask never shrinks what the next worker may use.
 */
static cpu_set_t allowed;
static int allowed_read;

static int read_allowed(void)
{
	if (allowed_read)
		return allowed_read > 0 ? SW_OK : SW_ERROR;
	CPU_ZERO(&allowed);
	allowed_read = sched_getaffinity(0, sizeof(allowed), &allowed) == 0 ? 1 : -1;
	return allowed_read > 0 ? SW_OK : SW_ERROR;
}

unsigned sw_cpu_count(void)
{
	int n;

	if (read_allowed() != SW_OK)
		return 1;
	n = CPU_COUNT(&allowed);
	return n > 0 ? (unsigned)n : 1;
}

int sw_cpu_for_slot(unsigned slot)
{
	unsigned n = sw_cpu_count(), want, seen = 0;

	if (read_allowed() != SW_OK)
		return -1;
	want = slot % n;
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (!CPU_ISSET(cpu, &allowed))
			continue;
		if (seen++ == want)
			return cpu;
	}
	return -1;
}

int sw_cpu_pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return SW_ERROR;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) != 0) {
		sw_log_errno(SW_LOG_WARN, errno, "cannot pin to CPU %d", cpu);
		return SW_ERROR;
	}
	return SW_OK;
}
