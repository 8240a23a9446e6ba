/* proxy.c - the reverse proxy: the proxy module's registry entry. */
#include <config.h>

#include "core/module.h"
#include "proxy/proxy.h"

/*
 * Routes and upstreams are parsed and validated by the config loader when
 * this unit is built; forwarding lands here with the proxy work.
 */
const struct sw_module sw_module_proxy = {
	.name = "proxy",
	.summary = "reverse proxy: routes, upstreams, balancing, health checks",
};
