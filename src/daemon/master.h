/* SPDX-License-Identifier: MIT */
/* master.h - the supervising process: listeners, workers, signals, reloads. */
#ifndef SW_DAEMON_MASTER_H
#define SW_DAEMON_MASTER_H

#include "core/config.h"
#include "daemon/cli.h"

/*
 * Runs the server on a validated config (which it takes over) until it is
 * stopped; returns the process exit code.  With one worker the process
 * serves by itself; otherwise it forks and supervises workers.
 */
int sw_master_run(const struct sw_cli *cli, struct sw_config *cfg);

/* The worker count a config asks for (0 = the CPUs this process may use). */
unsigned sw_master_worker_count(const struct sw_config *cfg);

#endif
