/* SPDX-License-Identifier: MIT */
/* chain.c - routes[].auth.chain (methods in order, the first success wins) and anonymous. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "auth/auth_impl.h"
#include "core/common.h"
#include "core/diag.h"

struct chain {
	struct sw_auth_node *nodes;
	size_t count;
};

static void chain_release(void *state)
{
	struct chain *c = state;

	if (!c)
		return;
	for (size_t i = 0; i < c->count; i++)
		sw_auth_node_release(&c->nodes[i]);
	free(c->nodes);
	free(c);
}

static void *chain_compile(struct json_object *conf, const char *path, struct sw_diag *d)
{
	unsigned depth = sw_auth_compile_depth;
	struct chain *c;
	size_t n;
	char sub[512];
	bool bad = false;

	if (!json_object_is_type(conf, json_type_array) || (n = json_object_array_length(conf)) == 0) {
		sw_diag_error(d, path, "must be a non-empty array of methods ([{\"api_key\": {...}}, ...])");
		return NULL;
	}
	if (depth >= SW_AUTH_CHAIN_DEPTH) {
		sw_diag_error(d, path, "chains nest at most %d deep", SW_AUTH_CHAIN_DEPTH);
		return NULL;
	}
	c = sw_calloc(1, sizeof(*c));
	c->nodes = sw_calloc(n, sizeof(*c->nodes));
	for (size_t i = 0; i < n; i++) {
		snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
		if (sw_auth_node_compile(&c->nodes[c->count], json_object_array_get_idx(conf, i), sub,
					 NULL, depth + 1, d) != SW_OK) {
			bad = true;
			continue;
		}
		if (c->nodes[c->count].m->cancel) {
			/* its answer comes later, when the chain has long moved on */
			sw_diag_error(d, sub, "%s decides alone: it cannot be part of a chain",
				      c->nodes[c->count].m->name);
			bad = true;
		}
		if (c->nodes[c->count].m == &sw_auth_anonymous && i + 1 < n) {
			sw_diag_error(d, sub, "anonymous lets every request through: it must come last");
			bad = true;
		}
		c->count++;
	}
	sw_auth_compile_depth = depth;
	if (bad) {
		chain_release(c);
		return NULL;
	}
	return c;
}

/*
 * A method that finds no credential of its kind passes to the next one.
 * One that finds a bad credential does too (a client may hold a good
 * token and a stale key), but then the request can no longer become
 * anonymous: presenting a wrong secret never buys the anonymous access a
 * client without one gets.  With no success, the first failure answers.
 */
static void chain_check(struct sw_exchange *x, void *state, struct sw_auth_result *r,
			sw_auth_done_fn done)
{
	const struct chain *c = state;
	struct sw_auth_result first = { .outcome = SW_AUTH_ABSENT, .reason = "missing" };

	for (size_t i = 0; i < c->count; i++) {
		struct sw_auth_result one = { .outcome = SW_AUTH_ABSENT };
		if (c->nodes[i].m == &sw_auth_anonymous && first.outcome == SW_AUTH_FAIL)
			break;
		c->nodes[i].m->check(x, c->nodes[i].state, &one, done);
		if (!one.method)
			one.method = c->nodes[i].m->name;
		if (one.outcome == SW_AUTH_OK || one.outcome == SW_AUTH_PENDING) {
			*r = one;
			return;
		}
		if (one.outcome == SW_AUTH_FAIL && first.outcome != SW_AUTH_FAIL)
			first = one;
	}
	*r = first;
}

size_t sw_auth_chain_challenges(const void *chain, const char **out, size_t max)
{
	const struct chain *c = chain;
	size_t n = 0;

	for (size_t i = 0; i < c->count; i++)
		n += sw_auth_node_challenges(&c->nodes[i], out + n, max - n);
	return n;
}

const struct sw_auth_method sw_auth_chain = {
	.name = "chain",
	.challenge = NULL,   /* each member's own (auth.c lists them) */
	.compile = chain_compile,
	.release = chain_release,
	.check = chain_check,
};

/* A consumer name for requests that bring no credential at all. */
static void *anon_compile(struct json_object *conf, const char *path, struct sw_diag *d)
{
	struct json_object *v = NULL;
	const char *name = "anonymous";

	if (json_object_is_type(conf, json_type_object)) {
		if (json_object_object_get_ex(conf, "consumer", &v))
			name = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
		json_object_object_foreach(conf, k, val) {
			(void)val;
			if (strcmp(k, "consumer"))
				sw_diag_warn(d, path, "%s: unknown key", k);
		}
	} else if (json_object_is_type(conf, json_type_string)) {
		name = json_object_get_string(conf);
	} else {
		name = NULL;
	}
	if (!sw_auth_is_label(name)) {
		sw_diag_error(d, path, "consumer: must be a name (printable ASCII without quotes)");
		return NULL;
	}
	return sw_strdup(name);
}

static void anon_check(struct sw_exchange *x, void *state, struct sw_auth_result *r,
		       sw_auth_done_fn done)
{
	(void)x;
	(void)done;
	r->outcome = SW_AUTH_OK;
	r->consumer = state;
}

const struct sw_auth_method sw_auth_anonymous = {
	.name = "anonymous",
	.challenge = NULL,
	.compile = anon_compile,
	.release = free,
	.check = anon_check,
};
