/* SPDX-License-Identifier: MIT */
/* config_policy.h - the config engine's policy slot: policy keys kept as their JSON. */
#ifndef SW_CORE_CONFIG_POLICY_H
#define SW_CORE_CONFIG_POLICY_H

#include <stdbool.h>
#include "core/config.h"

/*
 * key (at path, with value val) in an object whose table has a policy slot
 * of scope: when a registered policy owns it, its compile checks val
 * (errors to d), and set keeps val; returns false when no policy of any
 * scope has that key (the caller warns "unknown key").  A policy of the
 * other scope only is an error: it would silently not apply.
 */
bool sw_policy_set_parse(struct sw_policy_set *set, unsigned scope, const char *key,
			 struct json_object *val, const char *path, struct sw_diag *d);
void sw_policy_set_free(struct sw_policy_set *set);
/* dst shares src's values (a reference each). */
void sw_policy_set_copy(struct sw_policy_set *dst, const struct sw_policy_set *src);
bool sw_policy_set_equal(const struct sw_policy_set *a, const struct sw_policy_set *b);
/* Adds each key and its value to obj; with redact, the policy's secrets read "<redacted>". */
void sw_policy_set_emit(const struct sw_policy_set *set, struct json_object *obj, bool redact);

#endif
