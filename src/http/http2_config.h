/* SPDX-License-Identifier: MIT */
/* http2_config.h - the HTTP/2 unit's config section, "http2" (http2_config.c). */
#ifndef SW_HTTP_HTTP2_CONFIG_H
#define SW_HTTP_HTTP2_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include "core/config.h"
#include "core/module.h"

struct sw_http2_cfg {
	uint32_t max_streams;          /* 128 */
	uint32_t initial_window_size;  /* 1 MiB */
	uint32_t max_frame_size;       /* 16384 (16384..16777215) */
	uint32_t max_header_list_size; /* 8192 */
	bool h2c_only;                 /* false */
};

extern const struct sw_config_section sw_http2_config_section;

/* cfg's "http2" section; NULL when cfg was made without the HTTP/2 unit. */
static inline struct sw_http2_cfg *sw_http2_config(const struct sw_config *cfg)
{
	return cfg->unit[SW_UNIT_HTTP2].data;
}

#endif
