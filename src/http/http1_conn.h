/* SPDX-License-Identifier: MIT */
/* http1_conn.h - an HTTP/1.1 connection: read, parse, dispatch, write, keep alive. */
#ifndef SW_HTTP_HTTP1_CONN_H
#define SW_HTTP_HTTP1_CONN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

struct sw_ctx;
struct sw_listen;
struct sw_conn;

/* Takes over an accepted fd.  SW_OK, or SW_ERROR (the fd is then closed). */
int sw_conn_open(struct sw_ctx *ctx, int fd, const struct sockaddr *peer,
		 socklen_t peer_len, const struct sw_listen *listen);
/*
 * Worker drain: an idle keep-alive connection closes now; one with a
 * request in progress finishes it and closes after the response.
 */
void sw_conn_drain(struct sw_conn *c);
/* sw_conn_drain for every connection of the worker. */
void sw_conn_drain_all(struct sw_ctx *ctx);
/* Closes every connection of the worker now. */
void sw_conn_abort_all(struct sw_ctx *ctx);
/*
 * May the worker accept one more connection on a listener (admin: the
 * admin API's)?  At server.max_connections this closes the connection
 * idle the longest (HTTP/2: GOAWAY) to make room, logs the episode once,
 * and keeps a few places for probes and the admin API (http1_conn_limit.c).
 */
bool sw_conn_limit_room(struct sw_ctx *ctx, bool admin);
/* Frees recycled connection memory (worker exit). */
void sw_conn_free_list(struct sw_ctx *ctx);
/*
 * Called every interval_ms: frees the recycled connections that were not
 * needed during the last interval (a few stay), and the spare buffers of
 * connections idle since before it, then gives the pages back to the
 * system (http1_conn_trim.c).
 */
void sw_conn_trim(struct sw_ctx *ctx, uint64_t interval_ms);

#endif
