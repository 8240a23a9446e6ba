/* SPDX-License-Identifier: MIT */
/* config_secret.h - secrets inside policy values: hidden from readers of the config, never accepted as their placeholder. */
#ifndef SW_CORE_CONFIG_SECRET_H
#define SW_CORE_CONFIG_SECRET_H

#include <stdbool.h>

struct json_object;
struct sw_diag;

/* What a redacted secret reads as (the schema's SW_F_SECRET fields too). */
#define SW_REDACTED "<redacted>"

/*
 * A copy of v (a new reference) where every value of a key named in
 * secrets (NULL-terminated), at any depth, is SW_REDACTED; v itself is
 * untouched.  secrets NULL: v with one more reference.
 */
struct json_object *sw_secret_redacted(struct json_object *v, const char *const *secrets);

/*
 * An error in d for each key named in secrets under v whose value is
 * SW_REDACTED, naming its path ("routes[1].auth.jwt.keys[0].secret"): a
 * config read back from the admin API must not set the placeholder as
 * the secret.  False when there was one.
 */
bool sw_secret_check(struct json_object *v, const char *const *secrets, const char *path,
		     struct sw_diag *d);

#endif
