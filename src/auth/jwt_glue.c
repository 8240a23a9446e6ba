/* SPDX-License-Identifier: MIT */
/* jwt_glue.c - the exchange edits the jwt method asks for (claims upstream, the consumer's copy), on the policy chain's exchange helpers. */
#include <config.h>

#include <string.h>
#include "auth/auth_impl.h"
#include "http/policy.h"

/*
 * Its own file, like strip.c: the unit suites define these two and record
 * the calls (tests/unit/auth/fixture.h), so the linker never pulls this in.
 */
void sw_auth_upstream_set(struct sw_exchange *x, const char *name, const char *value)
{
	sw_exchange_upstream_set(x, name, value);
}

const char *sw_auth_keep(struct sw_exchange *x, const char *s)
{
	return sw_exchange_str(x, s, strlen(s)).p;
}
