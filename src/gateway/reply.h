/* SPDX-License-Identifier: MIT */
/* reply.h - the gateway policies' JSON answers ({"error": ..., "message": ...}). */
#ifndef SW_GATEWAY_REPLY_H
#define SW_GATEWAY_REPLY_H

#include <stddef.h>
#include "http/exchange.h"

struct json_object;

/*
 * Answers x with status and obj as its application/json body (the text is
 * copied into the exchange's buffer; obj stays the caller's).
 */
void sw_gateway_reply(struct sw_exchange *x, int status, struct json_object *obj);
/* The same for {"error": error, "message": message}. */
void sw_gateway_reply_error(struct sw_exchange *x, int status, const char *error, const char *message);

#endif
