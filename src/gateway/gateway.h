/* SPDX-License-Identifier: MIT */
/* gateway.h - the gateway unit's policies, registered through its module entry (gateway.c). */
#ifndef SW_GATEWAY_GATEWAY_H
#define SW_GATEWAY_GATEWAY_H

#include "core/policy_def.h"

extern const struct sw_policy sw_policy_cors;      /* cors.c */
extern const struct sw_policy sw_policy_headers;   /* secheaders.c */
extern const struct sw_policy sw_policy_access;        /* access.c */
extern const struct sw_policy sw_policy_body_schema;   /* body_schema.c */

#endif
