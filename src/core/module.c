/* module.c - lookup in the registry of optional compile units. */
#include <config.h>

#include <string.h>
#include "core/module.h"

const struct sw_module *sw_module_find(const char *name)
{
	for (const struct sw_module *const *m = sw_modules; *m; m++)
		if (strcmp((*m)->name, name) == 0)
			return *m;
	return NULL;
}
