/* SPDX-License-Identifier: MIT */
/* cpu.h - which CPUs this process may use, and pinning workers to them. */
#ifndef SW_DAEMON_CPU_H
#define SW_DAEMON_CPU_H

/* CPUs in this process's affinity mask (respects cpusets and taskset). */
unsigned sw_cpu_count(void);
/*
 * The id of the slot-th allowed CPU (wrapping), for pinning worker `slot`.
 * -1 when the affinity mask cannot be read.
 */
int sw_cpu_for_slot(unsigned slot);
/* Pins the calling process to cpu; SW_OK or SW_ERROR (logged). */
int sw_cpu_pin(int cpu);

#endif
