/* SPDX-License-Identifier: MIT */
/* cors.h - the `cors` policy: allowed origins and the Fetch standard's CORS protocol answers. */
#ifndef SW_GATEWAY_CORS_H
#define SW_GATEWAY_CORS_H

#include <stdbool.h>
#include "core/diag.h"
#include "core/str.h"
#include "http/exchange.h"

struct json_object;
struct sw_cors;

/*
 * Checks and compiles a `cors` value ("path" is its key path, e.g.
 * "routes[1].cors"); NULL after errors, which go to diag.
 */
struct sw_cors *sw_cors_compile(struct json_object *conf, const char *path, struct sw_diag *diag);
void sw_cors_release(struct sw_cors *c);

/* Whether a request's Origin value is one the config allows. */
bool sw_cors_origin_allowed(const struct sw_cors *c, struct sw_str origin);
/* A CORS preflight: OPTIONS with Origin and Access-Control-Request-Method. */
bool sw_cors_is_preflight(const struct sw_request *req);

/*
 * The answer to a preflight, into r (the caller sends it as 204): the
 * Access-Control-Allow-* fields when origin, method and headers are all
 * allowed; only Allow-Origin (and -Credentials) when the origin is but
 * the method or a header is not; none for another origin.  Vary always.
 */
void sw_cors_preflight(const struct sw_cors *c, const struct sw_request *req,
		       struct sw_response *r);
/*
 * The fields of any other response of the route: the upstream's own
 * Access-Control-* fields go (the gateway answers for CORS here), then
 * Allow-Origin, -Credentials and -Expose-Headers for an allowed origin,
 * and Vary: Origin when the answer depends on the origin.
 */
void sw_cors_response(const struct sw_cors *c, const struct sw_request *req,
		      struct sw_response *r);

#endif
