/* SPDX-License-Identifier: MIT */
/* reply.c - JSON error answers for the gateway's policies. */
#include <config.h>

#include <json-c/json.h>
#include <string.h>
#include "gateway/reply.h"

void sw_gateway_reply(struct sw_exchange *x, int status, struct json_object *obj)
{
	size_t len;
	const char *text = json_object_to_json_string_length(obj,
		JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	char *body = sw_exchange_buffer(x, len + 1);

	memcpy(body, text, len);
	body[len++] = '\n';
	x->resp.status = status;
	x->resp.body_kind = SW_BODY_MEMORY;
	x->resp.body = (struct sw_str){ body, len };
	x->resp.content_length = len;
	sw_response_add_header(&x->resp, SW_STR("Content-Type"), SW_STR("application/json"));
	x->ops->respond(x);
}

void sw_gateway_reply_error(struct sw_exchange *x, int status, const char *error, const char *message)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "error", json_object_new_string(error));
	json_object_object_add(o, "message", json_object_new_string(message));
	sw_gateway_reply(x, status, o);
	json_object_put(o);
}
