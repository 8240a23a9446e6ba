/* SPDX-License-Identifier: MIT */
/*
 * policy_def.h - what a policy is (struct sw_policy), shared by the config
 * engine, which keeps and checks policy keys, and the module table, which
 * lists them.  The chain that runs policies is src/http/policy.h; code that
 * writes a policy includes that.
 */
#ifndef SW_CORE_POLICY_DEF_H
#define SW_CORE_POLICY_DEF_H

#include <stdbool.h>
#include <stddef.h>

struct json_object;
struct sw_diag;
struct sw_exchange;

enum sw_policy_verdict {
	SW_POLICY_CONTINUE,   /* next policy, then the handler */
	SW_POLICY_DONE,       /* the policy answered the exchange (sw_exchange_error/_empty/respond): stop */
	SW_POLICY_PAUSE,      /* it will call sw_policy_resume(x, verdict) later, from the loop */
};

#define SW_POLICY_ROUTE  1u   /* may appear in routes[] */
#define SW_POLICY_GLOBAL 2u   /* may appear at the top level of the config */
#define SW_POLICY_ALWAYS 4u   /* no key: in every global chain (the probes) */

struct sw_policy {
	const char *key;      /* its config key ("auth", "cors", "rate_limit", "headers", ...) */
	unsigned scopes;      /* SW_POLICY_ROUTE | SW_POLICY_GLOBAL (| SW_POLICY_ALWAYS) */
	int order;            /* place in the chain, lower runs first (table in http/policy.h) */
	/*
	 * Key names whose values, at any depth of the policy's JSON, are
	 * secrets (an inline key, a password); NULL-terminated, NULL: none.
	 * The admin API shows them as "<redacted>" (the file keeps them), and a
	 * value of "<redacted>" for one is refused (core/config_secret.h).
	 */
	const char *const *secrets;
	/*
	 * Validates and compiles the key's JSON value (json-c); errors go to
	 * diag with their key path ("routes[2].auth.jwt.alg: ..."), path being
	 * the key's own ("routes[2].auth"); NULL on error.  Called at every
	 * parse (-t, start, reload, admin edits; the result then released) and
	 * when a worker builds its state from a (re)loaded config.  conf is
	 * NULL for SW_POLICY_ALWAYS.  Never NULL itself.
	 */
	void *(*compile)(struct json_object *conf, const char *path, struct sw_diag *diag);
	/* Frees what compile returned.  May be NULL when compile returns static memory. */
	void (*release)(void *state);
	/* Before the handler; NULL when the policy only acts on responses. */
	enum sw_policy_verdict (*request)(struct sw_exchange *x, void *state);
	/*
	 * Before the response head is sent, whatever produced it (handler,
	 * error, another policy): add/remove response headers.  NULL when none.
	 */
	void (*response)(struct sw_exchange *x, void *state);
	/*
	 * The client went away while this policy had the exchange paused: stop
	 * what it waits for and never resume x.  NULL when it never pauses.
	 */
	void (*cancel)(struct sw_exchange *x, void *state);
};

/*
 * The policy a config key names in scope (SW_POLICY_ROUTE or _GLOBAL),
 * among those of src/http (sw_policies_builtin) and of every unit built
 * (struct sw_module.policies); NULL when none.  *other_scope (may be NULL)
 * is set when the key is a policy of the other scope only.
 */
const struct sw_policy *sw_policy_find(const char *key, unsigned scope, bool *other_scope);

/* Calls fn for every registered policy (built-in, then each unit's). */
void sw_policy_each(void (*fn)(const struct sw_policy *p, void *arg), void *arg);

/*
 * For compile functions: "PATH.KEY: message" (key NULL: "PATH: message")
 * as an error or a warning in diag, like the loader's own messages.
 */
void sw_policy_conf_error(struct sw_diag *d, const char *path, const char *key,
			  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void sw_policy_conf_warn(struct sw_diag *d, const char *path, const char *key,
			 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/*
 * conf must be an object (else an error, false); each of its keys not in
 * known (NULL-terminated) gets the loader's "unknown key" warning.
 */
bool sw_policy_conf_object(struct json_object *conf, const char *path,
			   const char *const *known, struct sw_diag *d);

/* src/http's own policies (always built), NULL-terminated: src/http/policy.c. */
extern const struct sw_policy *const sw_policies_builtin[];

#endif
