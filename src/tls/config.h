/* SPDX-License-Identifier: MIT */
/* config.h - the TLS unit's config section, "tls" (src/tls/config.c). */
#ifndef SW_TLS_CONFIG_H
#define SW_TLS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include "core/config.h"
#include "core/module.h"

struct sw_tls_cert_cfg {
	char **hostnames;         /* "example.com", "*.example.com" */
	size_t hostnames_count;
	char *cert_path;
	char *key_path;
};

struct sw_tls_cfg {
	char *cert_path;          /* NULL = no TLS unless listeners say so */
	char *key_path;
	struct sw_tls_cert_cfg *certificates;
	size_t certificates_count;
	char *client_ca_path;     /* NULL = no mTLS */
	bool client_cert_required; /* true */
};

extern const struct sw_config_section sw_tls_config_section;

/* cfg's "tls" section; NULL when cfg was made without the TLS unit. */
static inline struct sw_tls_cfg *sw_tls_config(const struct sw_config *cfg)
{
	return cfg->unit[SW_UNIT_TLS].data;
}

#endif
