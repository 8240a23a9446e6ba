/* SPDX-License-Identifier: MIT */
/*
 * fake_router.h - the router and handlers behind the HTTP/2 and HTTP/3
 * fuzz targets, answering in the ways real ones do, by the first letter
 * of the path after '/': e 404 from sw_exchange_error; m a 40000-byte
 * body from memory; s a streamed body in three pieces; b reads the whole
 * request body, then answers its size; h holds the exchange (as the proxy
 * does) until the codec aborts it; any other a small body.  They check
 * that no callback comes after its exchange was finished or aborted and
 * that a body never exceeds max_body_bytes.
 */
#ifndef SW_FUZZ_FAKE_ROUTER_H
#define SW_FUZZ_FAKE_ROUTER_H

#include <stddef.h>
#include <stdint.h>
#include "core/config.h"

/* Forgets the last run's exchanges; bodies are held to limits->max_body_bytes. */
void fuzz_router_reset(const struct sw_limits_cfg *limits);
/* How many exchanges reached a handler. */
size_t fuzz_router_handled(void);
/* Every one of the `begun` exchanges was finished exactly once, and none is left live. */
void fuzz_router_check(uint64_t begun);

#endif
