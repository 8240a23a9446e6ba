/* SPDX-License-Identifier: MIT */
/* access_log.h - one line per finished exchange: combined or JSON, buffered per worker. */
#ifndef SW_HTTP_ACCESS_LOG_H
#define SW_HTTP_ACCESS_LOG_H

#include "http/exchange.h"

struct sw_ctx;

/*
 * Formats (access_log.format):
 *
 *  combined  the Apache/nginx combined format, then the request time in
 *            seconds and the request id; the time is UTC:
 *    192.0.2.7 - - [26/Nov/2026:09:00:00 +0000] "GET /x HTTP/1.1" 200 123 "-" "curl/7.88.1" 0.002 5f0c9e7a21b3d4c8
 *            '"', '\' and bytes below 0x20 or from 0x7f are written \xHH,
 *            as nginx does, so a line never breaks and quotes always pair.
 *  json      one RFC 8259 object per line; control bytes and bytes that
 *            are not valid UTF-8 become \u00XX, so every line parses:
 *    {"time":"2026-11-26T09:00:00.123Z","client":"192.0.2.7","peer":"192.0.2.7",
 *     "method":"GET","target":"/x","protocol":"HTTP/1.1","host":"example.com",
 *     "status":200,"bytes":123,"bytes_in":78,"bytes_out":301,"duration_ms":2,
 *     "user_agent":"curl/7.88.1","referer":"","request_id":"5f0c9e7a21b3d4c8",
 *     "tls":false,"worker":0}
 *
 * "client" is sw_client_addr (X-Forwarded-For behind trusted proxies),
 * "peer" the connection's own peer; "bytes" counts the response body,
 * bytes_in/bytes_out everything on the wire for the exchange.  Very long
 * fields are cut (target 8 KiB, referer and user agent 2 KiB, escaped)
 * so one line always fits the buffer.
 *
 * Targets (access_log.target):
 *
 *  stderr    written in chunks of whole lines of at most PIPE_BUF bytes,
 *            so lines from several workers never interleave on a pipe;
 *  syslog    one syslog() call per line, facility LOG_LOCAL7 (nginx's
 *            default for access logs, so it can be routed apart from the
 *            error log, which uses LOG_DAEMON), priority LOG_INFO;
 *  /path     each worker opens the file itself with O_APPEND; a flush is
 *            whole lines in one write(2), and O_APPEND writes to a local
 *            file are atomic (the offset update and the copy happen under
 *            the inode lock), so workers' lines never interleave or
 *            overwrite one another.  (NFS gives no such promise.)
 *
 * Lines are buffered per worker (64 KiB) and flushed when the buffer is
 * full, one second after the first line went in (the timer runs only
 * while something is buffered, so an idle worker sleeps), on reopen,
 * reconfigure and close.
 */

/* Opens the configured target for this worker (nothing when format is off). */
int sw_access_log_open(struct sw_ctx *ctx);
/* Flushes and closes; call before the worker's loop is closed. */
void sw_access_log_close(struct sw_ctx *ctx);
/* SIGUSR1: flushes and reopens a file target (after logrotate moved it). */
void sw_access_log_reopen(struct sw_ctx *ctx);
/* After a reload changed ctx->cfg->access_log: flushes, then applies format and target. */
void sw_access_log_reconfigure(struct sw_ctx *ctx);
/* Logs one finished exchange (sw_exchange_finish calls it exactly once). */
void sw_access_log_write(const struct sw_exchange *x);

#endif
