/* SPDX-License-Identifier: MIT */
/* config.c - the TLS unit's config section: the "tls" table, its checks, its files. */
#include <config.h>     /* autoconf's, from the build dir (not core/config.h) */

#include <stdio.h>
#include "core/config_schema.h"
#include "core/diag.h"
#include "tls/config.h"

#define S struct sw_tls_cert_cfg
static const struct sw_cfg_field cert_fields[] = {
	SW_STRV("hostnames", hostnames, hostnames_count, 0),
	SW_STRING("cert_path", cert_path, NULL, 0),
	SW_STRING("key_path", key_path, NULL, 0),
};
static const struct sw_cfg_table cert_table = SW_TABLE(cert_fields, S, SW_CFG_NONE, NULL, NULL);
#undef S

#define S struct sw_tls_cfg
static const struct sw_cfg_field tls_fields[] = {
	SW_STRING("cert_path", cert_path, NULL, 0),
	SW_STRING("key_path", key_path, NULL, 0),
	SW_ARR("certificates", certificates, certificates_count, cert_table, 0),
	SW_STRING("client_ca_path", client_ca_path, NULL, 0),
	SW_BOOL("client_cert_required", client_cert_required, true, 0),
};
static const struct sw_cfg_table tls_table = SW_TABLE(tls_fields, S, SW_CFG_NONE, NULL, NULL);
#undef S

SW_SECTION_OBJECT(section_table, "tls", struct sw_tls_cfg, tls_table);

static void check_certs(const struct sw_tls_cfg *t, struct sw_diag *d)
{
	char path[80];

	for (size_t i = 0; i < t->certificates_count; i++) {
		const struct sw_tls_cert_cfg *c = &t->certificates[i];
		if (c->hostnames_count == 0) {
			snprintf(path, sizeof(path), "tls.certificates[%zu].hostnames", i);
			sw_diag_error(d, path, "must not be empty");
		}
		if (!c->cert_path) {
			snprintf(path, sizeof(path), "tls.certificates[%zu].cert_path", i);
			sw_diag_error(d, path, "required");
		}
		if (!c->key_path) {
			snprintf(path, sizeof(path), "tls.certificates[%zu].key_path", i);
			sw_diag_error(d, path, "required");
		}
	}
	if (t->cert_path && !t->key_path)
		sw_diag_error(d, "tls.key_path", "required when tls.cert_path is set");
	if (t->key_path && !t->cert_path)
		sw_diag_error(d, "tls.cert_path", "required when tls.key_path is set");
}

static void validate(const struct sw_config *cfg, struct sw_diag *d)
{
	const struct sw_tls_cfg *t = sw_tls_config(cfg);
	char path[80];

	check_certs(t, d);
	if (t->cert_path || t->certificates_count)
		return;
	for (size_t i = 0; i < cfg->server.listeners_count; i++) {
		if (!cfg->server.listeners[i].use_tls)
			continue;
		snprintf(path, sizeof(path), "server.listeners[%zu].use_tls", i);
		sw_diag_error(d, path, "requires tls.cert_path or tls.certificates");
	}
}

/* Without listeners[], a certificate makes the one listener a TLS one. */
static void listener(const struct sw_config *cfg, struct sw_listener_cfg *l)
{
	const struct sw_tls_cfg *t = sw_tls_config(cfg);

	l->use_tls = t->cert_path || t->certificates_count;
}

static void file(sw_config_file_fn *fn, void *arg, const char *key, const char *path)
{
	if (path)
		fn(arg, key, path);
}

static void files(const struct sw_config *cfg, sw_config_file_fn *fn, void *arg)
{
	const struct sw_tls_cfg *t = sw_tls_config(cfg);
	char key[64];

	file(fn, arg, "tls.cert_path", t->cert_path);
	file(fn, arg, "tls.key_path", t->key_path);
	file(fn, arg, "tls.client_ca_path", t->client_ca_path);
	for (size_t i = 0; i < t->certificates_count; i++) {
		snprintf(key, sizeof(key), "tls.certificates[%zu].cert_path", i);
		file(fn, arg, key, t->certificates[i].cert_path);
		snprintf(key, sizeof(key), "tls.certificates[%zu].key_path", i);
		file(fn, arg, key, t->certificates[i].key_path);
	}
}

const struct sw_config_section sw_tls_config_section = {
	.slot = SW_UNIT_TLS,
	.table = &section_table,
	.validate = validate,
	.listener = listener,
	.files = files,
};
