/* router.c - the handler chain every protocol's exchanges go through. */
#include <config.h>

#include "http/router.h"

static const sw_handler_fn chain[] = {
	sw_probes_handle,
};

void sw_router_dispatch(struct sw_exchange *x)
{
	for (size_t i = 0; i < SW_ARRAY_SIZE(chain); i++)
		if (chain[i](x) != SW_DECLINED)
			return;
	sw_exchange_error(x, 404);
}
