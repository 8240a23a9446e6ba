/* SPDX-License-Identifier: MIT */
/* module.c - lookup in the registry of optional compile units and of their policies. */
#include <config.h>

#include <string.h>
#include "core/module.h"
#include "core/policy_def.h"

const struct sw_module *sw_module_find(const char *name)
{
	for (const struct sw_module *const *m = sw_modules; *m; m++)
		if (strcmp((*m)->name, name) == 0)
			return *m;
	return NULL;
}

static const struct sw_policy *find_in(const struct sw_policy *const *list, const char *key,
				       unsigned scope, bool *other)
{
	for (; list && *list; list++) {
		if (!(*list)->key || strcmp((*list)->key, key) != 0)
			continue;
		if ((*list)->scopes & scope)
			return *list;
		*other = true;
	}
	return NULL;
}

const struct sw_policy *sw_policy_find(const char *key, unsigned scope, bool *other_scope)
{
	const struct sw_policy *p;
	bool other = false;

	p = find_in(sw_policies_builtin, key, scope, &other);
	for (const struct sw_module *const *m = sw_modules; !p && *m; m++)
		p = find_in((*m)->policies, key, scope, &other);
	if (other_scope)
		*other_scope = !p && other;
	return p;
}

void sw_policy_each(void (*fn)(const struct sw_policy *p, void *arg), void *arg)
{
	for (const struct sw_policy *const *l = sw_policies_builtin; *l; l++)
		fn(*l, arg);
	for (const struct sw_module *const *m = sw_modules; *m; m++)
		for (const struct sw_policy *const *l = (*m)->policies; l && *l; l++)
			fn(*l, arg);
}
