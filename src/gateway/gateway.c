/* SPDX-License-Identifier: MIT */
/* gateway.c - the gateway unit's module entry: its policies, one list every policy file adds to. */
#include <config.h>

#include <stddef.h>
#include "core/module.h"
#include "gateway/gateway.h"

static const struct sw_policy *const policies[] = {
	&sw_policy_cors,
	&sw_policy_headers,
	&sw_policy_access,
	&sw_policy_body_schema,
	NULL
};

/* Always built (json-c and libc only); configure adds it to the module list unconditionally. */
const struct sw_module sw_module_gateway = {
	.name = "gateway",
	.summary = "API gateway policies: access rules, CORS, request validation, security headers",
	.policies = policies,
};
