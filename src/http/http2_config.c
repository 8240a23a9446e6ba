/* SPDX-License-Identifier: MIT */
/* http2_config.c - the HTTP/2 unit's config section: the "http2" object's table. */
#include <config.h>     /* autoconf's, from the build dir (not core/config.h) */

#include "core/config_schema.h"
#include "http/http2_config.h"

#define S struct sw_http2_cfg
static const struct sw_cfg_field http2_fields[] = {
	SW_U32("max_streams", max_streams, 1, SW_CFG_MAX_I32, 128, 0),
	SW_U32("initial_window_size", initial_window_size, 0, SW_CFG_MAX_I32, 1 << 20, 0),
	SW_U32("max_frame_size", max_frame_size, 16384, 16777215, 16384, 0),
	SW_U32("max_header_list_size", max_header_list_size, 1, SW_CFG_MAX_U32, 8192, 0),
	SW_BOOL("h2c_only", h2c_only, false, 0),
};
static const struct sw_cfg_table http2_table = SW_TABLE(http2_fields, S, SW_CFG_NONE, NULL, NULL);
#undef S

SW_SECTION_OBJECT(section_table, "http2", struct sw_http2_cfg, http2_table);

const struct sw_config_section sw_http2_config_section = {
	.slot = SW_UNIT_HTTP2,
	.table = &section_table,
};
