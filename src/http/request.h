/* SPDX-License-Identifier: MIT */
/* request.h - request-target, method, Host and Content-Length rules every codec shares. */
#ifndef SW_HTTP_REQUEST_H
#define SW_HTTP_REQUEST_H

#include <stdbool.h>
#include <stdint.h>
#include "http/exchange.h"

/* The method enum for a method token; SW_METHOD_OTHER for extension methods. */
enum sw_method sw_method_classify(const char *s, size_t len);
/*
 * Sets req->path and req->query from req->target (origin, absolute or
 * asterisk form; the authority of an absolute-form target too; for
 * CONNECT the target is the authority).  Returns 0 or 400.
 */
int sw_request_split_target(struct sw_request *req);
/*
 * An HTTP/2 or HTTP/3 :scheme this server answers for: "http" or "https"
 * (any case).  Anything else ("javascript", "ftp") is refused with 400
 * rather than served as if it were one of them.
 */
bool sw_request_scheme_ok(struct sw_str scheme);
/* A Content-Length value: digits only, no sign, no list.  Returns 0 or 400. */
int sw_content_length_parse(struct sw_str v, int64_t *out);
/* A reg-name or IP literal, then an optional port (RFC 9110 7.2, RFC 3986 3.2). */
bool sw_host_valid(struct sw_str v);

#endif
