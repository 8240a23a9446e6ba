/* SPDX-License-Identifier: MIT */
/* config.c - the HTTP/3 unit's config section: the "quic" table, its checks, its files. */
#include <config.h>     /* autoconf's, from the build dir (not core/config.h) */

#include "core/config_schema.h"
#include "core/diag.h"
#include "quic/config.h"
#include "tls/config.h"

static const char *const retry_names[] = { "off", "always", "auto", NULL };
static const char *const cc_names[] = { "cubic", "bbr", "reno", NULL };

#define S struct sw_quic_cfg
static const struct sw_cfg_field quic_fields[] = {
	SW_BOOL("enabled", enabled, false, 0),
	SW_U16("port", port, 1, 65535, 443, 0),
	SW_STRING("cert_path", cert_path, NULL, 0),   /* NULL: tls.cert_path */
	SW_STRING("key_path", key_path, NULL, 0),
	SW_U32("max_idle_timeout_ms", max_idle_timeout_ms, 1, SW_CFG_MAX_U32, 30000, 0),
	SW_U32("max_streams_bidi", max_streams_bidi, 1, SW_CFG_MAX_U32, 100, 0),
	SW_U32("max_streams_uni", max_streams_uni, 3, SW_CFG_MAX_U32, 100, 0),
	SW_ENUM("retry", retry, retry_names, SW_QUIC_RETRY_OFF, 0),
	SW_ENUM("congestion_control", congestion_control, cc_names, SW_QUIC_CC_CUBIC, 0),
	SW_U32("max_connections", max_connections, 1, 1048576, 4096, 0),
};
static const struct sw_cfg_table quic_table = SW_TABLE(quic_fields, S, SW_CFG_NONE, NULL, NULL);
#undef S

SW_SECTION_OBJECT(section_table, "quic", struct sw_quic_cfg, quic_table);

const char *sw_quic_cert_path(const struct sw_config *cfg)
{
	const struct sw_tls_cfg *t = sw_tls_config(cfg);

	return sw_quic_config(cfg)->cert_path ? sw_quic_config(cfg)->cert_path : t ? t->cert_path : NULL;
}

const char *sw_quic_key_path(const struct sw_config *cfg)
{
	const struct sw_tls_cfg *t = sw_tls_config(cfg);

	return sw_quic_config(cfg)->key_path ? sw_quic_config(cfg)->key_path : t ? t->key_path : NULL;
}

const struct sw_tls_cfg *sw_quic_sni_certs(const struct sw_config *cfg)
{
	return sw_quic_config(cfg)->cert_path ? NULL : sw_tls_config(cfg);
}

bool sw_quic_wanted(const struct sw_config *cfg)
{
	if (sw_quic_config(cfg)->enabled)
		return true;
	for (size_t i = 0; i < cfg->server.listeners_count; i++)
		if (cfg->server.listeners[i].quic_enabled)
			return true;
	return false;
}

static void validate(const struct sw_config *cfg, struct sw_diag *d)
{
	const struct sw_tls_cfg *t = sw_tls_config(cfg);

	if (!sw_quic_wanted(cfg))
		return;
	if (!sw_quic_cert_path(cfg))
		sw_diag_error(d, "quic.cert_path", "required when QUIC is enabled (or set tls.cert_path)");
	if (!sw_quic_key_path(cfg))
		sw_diag_error(d, "quic.key_path", "required when QUIC is enabled (or set tls.key_path)");
	/*
	 * QUIC does not ask for client certificates: where they are required
	 * it would serve without one, so that is refused (optional ones are
	 * simply never offered over HTTP/3, as the man page says).
	 */
	if (t && t->client_ca_path && t->client_cert_required)
		sw_diag_error(d, "tls.client_ca_path", "required client certificates are not "
			      "supported over HTTP/3: turn QUIC off (quic.enabled, "
			      "listeners[].quic_enabled) or set client_cert_required false");
}

/* Without listeners[], quic.enabled serves HTTP/3 on quic.port of the one listener. */
static void listener(const struct sw_config *cfg, struct sw_listener_cfg *l)
{
	const struct sw_quic_cfg *q = sw_quic_config(cfg);

	l->quic_enabled = q->enabled;
	l->quic_port = q->enabled ? q->port : 0;
}

static void files(const struct sw_config *cfg, sw_config_file_fn *fn, void *arg)
{
	const struct sw_quic_cfg *q = sw_quic_config(cfg);

	if (q->cert_path)
		fn(arg, "quic.cert_path", q->cert_path);
	if (q->key_path)
		fn(arg, "quic.key_path", q->key_path);
}

const struct sw_config_section sw_quic_config_section = {
	.slot = SW_UNIT_QUIC,
	.table = &section_table,
	.validate = validate,
	.listener = listener,
	.files = files,
};
