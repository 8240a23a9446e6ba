/* SPDX-License-Identifier: MIT */
/* module.c - the auth unit in the module table: its name, its libraries, its policy. */
#include <config.h>

#include <stdio.h>
#include <openssl/crypto.h>
#include "auth/auth_impl.h"
#include "auth/metrics.h"
#include "core/module.h"
#include "http/policy.h"

#ifndef SW_LIBXCRYPT_VERSION
#define SW_LIBXCRYPT_VERSION "(version unknown)"
#endif

static void auth_versions(char *buf, size_t size)
{
	snprintf(buf, size, "libxcrypt " SW_LIBXCRYPT_VERSION ", %s", OpenSSL_version(OPENSSL_VERSION));
}

static const struct sw_policy *const policies[] = { &sw_auth_policy, NULL };

const struct sw_module sw_module_auth = {
	.name = "auth",
	.summary = "routes[].auth: api_key, basic (htpasswd), jwt, chain, anonymous",
	.versions = auth_versions,
	.policies = policies,
	.metrics = sw_auth_metrics_emit,
};
