/* SPDX-License-Identifier: MIT */
/* config_secret.c - secrets inside policy values (struct sw_policy.secrets): redacted for readers, placeholder refused. */
#include <config.h>

#include <stdio.h>
#include <string.h>
#include <json-c/json.h>
#include "core/config_secret.h"
#include "core/diag.h"

static bool named(const char *key, const char *const *secrets)
{
	for (size_t i = 0; secrets[i]; i++)
		if (strcmp(key, secrets[i]) == 0)
			return true;
	return false;
}

/* Replaces, in place, the secrets of v (a private copy). */
static void redact(struct json_object *v, const char *const *secrets)
{
	if (json_object_is_type(v, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(v); i++)
			redact(json_object_array_get_idx(v, i), secrets);
		return;
	}
	if (!json_object_is_type(v, json_type_object))
		return;
	json_object_object_foreach(v, key, val) {
		/* a secret of any type (a number, an object) hides as a whole */
		if (named(key, secrets))
			json_object_object_add(v, key, json_object_new_string(SW_REDACTED));
		else
			redact(val, secrets);
	}
}

struct json_object *sw_secret_redacted(struct json_object *v, const char *const *secrets)
{
	struct json_object *copy = NULL;

	if (!secrets || !v)
		return json_object_get(v);
	if (json_object_deep_copy(v, &copy, NULL) != 0)
		return json_object_new_string(SW_REDACTED);   /* out of memory: show nothing rather than the secret */
	redact(copy, secrets);
	return copy;
}

bool sw_secret_check(struct json_object *v, const char *const *secrets, const char *path,
		     struct sw_diag *d)
{
	char sub[512];
	bool ok = true;

	if (!secrets)
		return true;
	if (json_object_is_type(v, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
			ok = sw_secret_check(json_object_array_get_idx(v, i), secrets, sub, d) && ok;
		}
		return ok;
	}
	if (!json_object_is_type(v, json_type_object))
		return true;
	json_object_object_foreach(v, key, val) {
		snprintf(sub, sizeof(sub), "%s.%s", path, key);
		if (named(key, secrets) && json_object_is_type(val, json_type_string) &&
		    strcmp(json_object_get_string(val), SW_REDACTED) == 0) {
			sw_diag_error(d, sub, "\"" SW_REDACTED "\" is how the admin API shows a secret, "
				      "not one: send the real value");
			ok = false;
		} else {
			ok = sw_secret_check(val, secrets, sub, d) && ok;
		}
	}
	return ok;
}
