/* SPDX-License-Identifier: MIT */
/*
 * fake_module.c - the module registry for fuzz_admin (fuzz_config links the
 * daemon's, policies included): every optional unit is taken as built, with the config
 * sections of the units that have one, so the loader accepts the keys they
 * own and the fuzzer reaches their checks.
 */
#include <config.h>

#include <string.h>
#include "core/module.h"
#include "core/policy_def.h"
#include "http/http2_config.h"
#include "proxy/config.h"
#include "quic/config.h"
#include "tls/config.h"

const struct sw_module *sw_module_find(const char *name)
{
	static const struct sw_module any = { .name = "fuzz" };
	static const struct sw_module units[] = {
		{ .name = "tls", .config = &sw_tls_config_section },
		{ .name = "http2", .config = &sw_http2_config_section },
		{ .name = "http3", .config = &sw_quic_config_section },
		{ .name = "proxy", .config = &sw_proxy_config_section },
	};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(name, units[i].name) == 0)
			return &units[i];
	return &any;
}

/* No policy is registered here: policy keys are unknown keys (warnings). */
const struct sw_policy *sw_policy_find(const char *key, unsigned scope, bool *other_scope)
{
	(void)key;
	(void)scope;
	if (other_scope)
		*other_scope = false;
	return NULL;
}
