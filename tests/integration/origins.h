/* SPDX-License-Identifier: MIT */
/*
 * origins.h - upstreams the proxy suites start: tests/backend/origin (the
 * build's, next to SWERVER_BIN), a server that echoes the request line, a
 * slow sink.  Each is a child of the test, killed by it_origins_kill (the
 * tcase's teardown) or at exit.
 */
#ifndef SW_IT_ORIGINS_H
#define SW_IT_ORIGINS_H

#include <sys/types.h>

struct it_origin {
	pid_t pid;
	int port;
	char name[32];
};

/*
 * Starts `origin --port 0 --name NAME` (with --idle-ms when idle_ms > 0)
 * on 127.0.0.1; fails the test when it does not come up.  Its answers
 * carry X-Origin: NAME.
 */
struct it_origin *it_origin_start_idle(const char *name, int idle_ms);
struct it_origin *it_origin_start(const char *name);
/*
 * A server that answers every request with its own request line as the
 * body ("GET /v2/x?q=1 HTTP/1.1"), then closes; returns its port.
 */
int it_capture_start(void);
/*
 * A slow upstream sink: reads a Content-Length body in 8 KiB steps with a
 * pause between them, then answers "<bytes> <fnv1a-64 hex>"; returns its port.
 */
int it_slow_sink_start(void);
/* Kills and reaps one origin (only while it is still our child). */
void it_origin_kill(struct it_origin *o);
/* Kills and reaps every origin this test started. */
void it_origins_kill(void);

#endif
