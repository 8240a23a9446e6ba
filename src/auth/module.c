/* module.c - the auth unit in the module table: its name, its libraries, its policy. */
#include <config.h>

#include <stdio.h>
#include <openssl/crypto.h>
#include "core/module.h"

#ifndef SW_LIBXCRYPT_VERSION
#define SW_LIBXCRYPT_VERSION "(version unknown)"
#endif

static void auth_versions(char *buf, size_t size)
{
	snprintf(buf, size, "libxcrypt " SW_LIBXCRYPT_VERSION ", %s", OpenSSL_version(OPENSSL_VERSION));
}

const struct sw_module sw_module_auth = {
	.name = "auth",
	.summary = "routes[].auth: api_key, basic (htpasswd), jwt, chain, anonymous",
	.versions = auth_versions,
};
