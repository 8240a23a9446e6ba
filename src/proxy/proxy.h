/* proxy.h - the reverse proxy and gateway. */
#ifndef SW_PROXY_PROXY_H
#define SW_PROXY_PROXY_H

#include "core/module.h"

extern const struct sw_module sw_module_proxy;

#endif
