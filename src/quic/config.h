/* SPDX-License-Identifier: MIT */
/* config.h - the HTTP/3 unit's config section, "quic" (src/quic/config.c). */
#ifndef SW_QUIC_CONFIG_H
#define SW_QUIC_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include "core/config.h"
#include "core/module.h"

enum sw_quic_retry { SW_QUIC_RETRY_OFF, SW_QUIC_RETRY_ALWAYS, SW_QUIC_RETRY_AUTO };
enum sw_quic_cc { SW_QUIC_CC_CUBIC, SW_QUIC_CC_BBR, SW_QUIC_CC_RENO };

struct sw_quic_cfg {
	bool enabled;                  /* false */
	uint16_t port;                 /* 443 */
	char *cert_path;               /* NULL = tls.cert_path */
	char *key_path;
	uint32_t max_idle_timeout_ms;  /* 30000 */
	uint32_t max_streams_bidi;     /* 100 */
	uint32_t max_streams_uni;      /* 100 (>= 3) */
	enum sw_quic_retry retry;      /* "off" | "always" | "auto" (under load) */
	enum sw_quic_cc congestion_control; /* "cubic" | "bbr" | "reno" */
	uint32_t max_connections;      /* per worker, 4096 */
};

extern const struct sw_config_section sw_quic_config_section;

/* cfg's "quic" section; NULL when cfg was made without the HTTP/3 unit. */
static inline struct sw_quic_cfg *sw_quic_config(const struct sw_config *cfg)
{
	return cfg->unit[SW_UNIT_QUIC].data;
}

/* quic.cert_path / key_path, else the TCP ones (tls.*, when the TLS unit is built), else NULL. */
/* Whether QUIC is on: quic.enabled or a listener's quic_enabled. */
bool sw_quic_wanted(const struct sw_config *cfg);
const char *sw_quic_cert_path(const struct sw_config *cfg);
const char *sw_quic_key_path(const struct sw_config *cfg);
/* The TCP certificates QUIC serves by SNI too (none when quic.cert_path is set). */
const struct sw_tls_cfg *sw_quic_sni_certs(const struct sw_config *cfg);

#endif
