/* SPDX-License-Identifier: MIT */
/* policy.c - the policy chain on the exchange: compiling chains, running them, their helpers. */
#include <config.h>

#include <errno.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "core/diag.h"
#include "core/log.h"
#include "http/context.h"
#include "http/policy.h"
#include "http/router.h"

#define MAX_UPSTREAM_EDITS 32

/* A piece of sw_exchange_alloc memory. */
struct chunk {
	struct chunk *next;
	alignas(max_align_t) char data[];
};

/*
 * What one exchange carries for the chain, made on first need: an exchange
 * whose chains neither pause nor have response hooks never gets one.
 */
struct sw_policy_run {
	struct sw_policy_chain *resp[2];   /* chains whose response hooks run (a ref each) */
	unsigned nresp;
	bool responded;
	/* a paused chain (a ref on it) and what follows it */
	struct sw_policy_chain *chain;
	unsigned at;                        /* the paused item */
	sw_policy_then_fn then;
	sw_policy_drop_fn drop;
	void *data;
	struct chunk *mem;
	struct sw_upstream_edit *edits;
	size_t nedits;
	/* the held body */
	sw_hold_cb hold_cb;
	sw_body_cb replay_cb;
	char *body;
	size_t len, cap, max;
	bool held, replayed;
	struct sw_timer timer;              /* calls hold_cb or replay_cb from the loop */
};

/* ---- compiling ---- */

/* Two passes over the registry: count the SW_POLICY_ALWAYS ones (c NULL), then add them. */
struct collect {
	struct sw_policy_chain *c;
	unsigned always;
};

static void add_item(struct sw_policy_chain *c, const struct sw_policy *p, void *state)
{
	unsigned i = c->count++;

	/* Insertion by order; equal orders keep the order they were added in. */
	while (i > 0 && c->items[i - 1].policy->order > p->order) {
		c->items[i] = c->items[i - 1];
		i--;
	}
	c->items[i] = (struct sw_policy_item){ p, state };
	if (p->response)
		c->has_response = true;
}

static void add_always(const struct sw_policy *p, void *arg)
{
	struct collect *k = arg;

	if (!(p->scopes & SW_POLICY_ALWAYS))
		return;
	if (k->c)
		add_item(k->c, p, p->compile(NULL, "", NULL));
	else
		k->always++;
}

static void *compile_logged(const struct sw_policy_cfg *pc, const char *obj_path)
{
	struct sw_diag d;
	char path[600];
	void *state;

	snprintf(path, sizeof(path), "%s%s%s", obj_path, *obj_path ? "." : "", pc->policy->key);
	sw_diag_init(&d, "policy");
	state = pc->policy->compile(pc->value, path, &d);
	if (!state) {
		sw_diag_log(&d);
		sw_error("%s: does not compile in this worker; its requests get 503", path);
	}
	sw_diag_deinit(&d);
	return state;
}

struct sw_policy_chain *sw_policy_chain_build(const struct sw_policy_set *set, unsigned scope,
					      const char *path)
{
	struct collect k = { NULL, 0 };
	unsigned n = (unsigned)set->count;

	if (scope == SW_POLICY_GLOBAL) {
		sw_policy_each(add_always, &k);
		n += k.always;
	}
	if (n == 0)
		return NULL;
	k.c = sw_calloc(1, sizeof(*k.c) + n * sizeof(k.c->items[0]));
	k.c->refs = 1;
	if (scope == SW_POLICY_GLOBAL)
		sw_policy_each(add_always, &k);
	for (size_t i = 0; i < set->count; i++)
		add_item(k.c, set->v[i].policy, compile_logged(&set->v[i], path));
	return k.c;
}

void sw_policy_chain_put(struct sw_policy_chain *c)
{
	if (!c || --c->refs)
		return;
	for (unsigned i = 0; i < c->count; i++)
		if (c->items[i].state && c->items[i].policy->release)
			c->items[i].policy->release(c->items[i].state);
	free(c);
}

/* ---- running ---- */

static struct sw_policy_run *run_of(struct sw_exchange *x)
{
	if (!x->policy)
		x->policy = sw_calloc(1, sizeof(*x->policy));
	return x->policy;
}

static void on_paused_abort(struct sw_exchange *x)
{
	struct sw_policy_run *r = x->policy;
	const struct sw_policy_item *it = &r->chain->items[r->at];

	if (it->policy->cancel)
		it->policy->cancel(x, it->state);
	if (r->drop)
		r->drop(r->data);
	sw_policy_chain_put(r->chain);
	r->chain = NULL;
}

static enum sw_policy_verdict run_from(struct sw_exchange *x, struct sw_policy_chain *c,
				       unsigned i, sw_policy_then_fn then,
				       sw_policy_drop_fn drop, void *data)
{
	for (; i < c->count; i++) {
		const struct sw_policy_item *it = &c->items[i];
		enum sw_policy_verdict v;

		if (!it->policy->request)
			continue;
		if (!it->state) {
			sw_exchange_error(x, 503);
			return SW_POLICY_DONE;
		}
		v = it->policy->request(x, it->state);
		if (v == SW_POLICY_CONTINUE)
			continue;
		if (v == SW_POLICY_PAUSE) {
			struct sw_policy_run *r = run_of(x);
			c->refs++;
			r->chain = c;
			r->at = i;
			r->then = then;
			r->drop = drop;
			r->data = data;
			x->on_abort = on_paused_abort;
		}
		return v;
	}
	return SW_POLICY_CONTINUE;
}

enum sw_policy_verdict sw_policy_run(struct sw_exchange *x, struct sw_policy_chain *c,
				     sw_policy_then_fn then, sw_policy_drop_fn drop, void *data)
{
	if (!c)
		return SW_POLICY_CONTINUE;
	/* Attached first, so an answer the chain itself gives (401, 204) gets them too. */
	if (c->has_response) {
		struct sw_policy_run *r = run_of(x);
		if (r->nresp < SW_ARRAY_SIZE(r->resp)) {
			c->refs++;
			r->resp[r->nresp++] = c;
		}
	}
	return run_from(x, c, 0, then, drop, data);
}

void sw_policy_resume(struct sw_exchange *x, enum sw_policy_verdict v)
{
	struct sw_policy_run *r = x->policy;
	struct sw_policy_chain *c = r->chain;
	sw_policy_then_fn then = r->then;
	sw_policy_drop_fn drop = r->drop;
	void *data = r->data;

	r->chain = NULL;
	if (x->on_abort == on_paused_abort)
		x->on_abort = NULL;
	if (v == SW_POLICY_CONTINUE)
		v = run_from(x, c, r->at + 1, then, drop, data);
	/* then may finish x (and free r): nothing of r is touched after. */
	if (v == SW_POLICY_CONTINUE)
		then(x, data);
	else if (v == SW_POLICY_DONE && drop)
		drop(data);
	sw_policy_chain_put(c);
}

void *sw_policy_paused_state(const struct sw_exchange *x)
{
	const struct sw_policy_run *r = x->policy;

	return r && r->chain ? r->chain->items[r->at].state : NULL;
}

void sw_policy_respond(struct sw_exchange *x)
{
	struct sw_policy_run *r = x->policy;

	if (r->responded)
		return;
	r->responded = true;
	for (unsigned k = 0; k < r->nresp; k++) {
		const struct sw_policy_chain *c = r->resp[k];
		for (unsigned i = 0; i < c->count; i++)
			if (c->items[i].policy->response && c->items[i].state)
				c->items[i].policy->response(x, c->items[i].state);
	}
}

void sw_policy_finish(struct sw_exchange *x)
{
	struct sw_policy_run *r = x->policy;

	x->policy = NULL;
	if (r->chain) {           /* abandoned while paused, without on_abort */
		if (r->drop)
			r->drop(r->data);
		sw_policy_chain_put(r->chain);
	}
	for (unsigned k = 0; k < r->nresp; k++)
		sw_policy_chain_put(r->resp[k]);
	if (sw_timer_armed(&r->timer))
		sw_timer_del(x->ctx->loop, &r->timer);
	while (r->mem) {
		struct chunk *next = r->mem->next;
		free(r->mem);
		r->mem = next;
	}
	for (size_t i = 0; i < r->nedits; i++) {
		free(r->edits[i].name);
		free(r->edits[i].value);
	}
	free(r->edits);
	free(r->body);
	free(r);
}

/* ---- helpers ---- */

static const struct sw_policy_item *item_in(const struct sw_policy_chain *c,
					    const struct sw_policy *p)
{
	for (unsigned i = 0; c && i < c->count; i++)
		if (c->items[i].policy == p)
			return &c->items[i];
	return NULL;
}

const struct sw_policy_item *sw_policy_route_item(const struct sw_exchange *x,
						  const struct sw_policy *p)
{
	const struct sw_proxy_api *api = x->ctx->proxy_api;

	return api && api->route_policies ? item_in(api->route_policies(x), p) : NULL;
}

const struct sw_policy_item *sw_policy_global_item(const struct sw_exchange *x,
						   const struct sw_policy *p)
{
	return item_in(x->ctx->policies, p);
}

void *sw_exchange_alloc(struct sw_exchange *x, size_t size)
{
	struct sw_policy_run *r = run_of(x);
	struct chunk *c = sw_calloc(1, sizeof(*c) + size);

	c->next = r->mem;
	r->mem = c;
	return c->data;
}

struct sw_str sw_exchange_str(struct sw_exchange *x, const char *s, size_t len)
{
	char *p = sw_exchange_alloc(x, len + 1);

	memcpy(p, s, len);
	return (struct sw_str){ p, len };
}

static int edit(struct sw_exchange *x, const char *name, const char *value)
{
	struct sw_policy_run *r = run_of(x);

	for (size_t i = 0; i < r->nedits; i++) {
		if (strcasecmp(r->edits[i].name, name) == 0) {
			free(r->edits[i].value);
			r->edits[i].value = value ? sw_strdup(value) : NULL;
			return SW_OK;
		}
	}
	if (r->nedits == MAX_UPSTREAM_EDITS)
		return SW_ERROR;
	r->edits = sw_realloc(r->edits, (r->nedits + 1) * sizeof(*r->edits));
	r->edits[r->nedits++] = (struct sw_upstream_edit){ sw_strdup(name),
							   value ? sw_strdup(value) : NULL };
	return SW_OK;
}

int sw_exchange_upstream_set(struct sw_exchange *x, const char *name, const char *value)
{
	return edit(x, name, value);
}

int sw_exchange_upstream_remove(struct sw_exchange *x, const char *name)
{
	return edit(x, name, NULL);
}

const struct sw_upstream_edit *sw_exchange_upstream_edits(const struct sw_exchange *x, size_t *n)
{
	*n = x->policy ? x->policy->nedits : 0;
	return x->policy ? x->policy->edits : NULL;
}

/* ---- the body hold ---- */

/* Never NULL, so a policy may memcpy or compare an empty body. */
static const char *held_body(const struct sw_policy_run *r)
{
	return r->body ? r->body : "";
}

/* The hold ends in an answer: the paused chain is done. */
static void hold_failed(struct sw_exchange *x, int status)
{
	/* The rest of the body is unread (or in doubt): the connection cannot carry another request. */
	x->resp.close = true;
	sw_exchange_error(x, status);
	sw_policy_resume(x, SW_POLICY_DONE);
}

static void on_hold_piece(struct sw_exchange *x, const char *data, ssize_t n, bool last)
{
	struct sw_policy_run *r = x->policy;

	if (n < 0) {
		hold_failed(x, n == -EFBIG ? 413 : n == -ETIMEDOUT ? 408 : 400);
		return;
	}
	if ((size_t)n > r->max - r->len) {
		hold_failed(x, 413);
		return;
	}
	if (r->len + (size_t)n > r->cap) {
		r->cap = SW_MAX(r->len + (size_t)n, 2 * r->cap);
		r->body = sw_realloc(r->body, r->cap);
	}
	if (n > 0) {            /* a last piece may be empty (and data NULL) */
		memcpy(r->body + r->len, data, (size_t)n);
		r->len += (size_t)n;
	}
	if (!last) {
		x->ops->read_body(x, on_hold_piece);
		return;
	}
	r->held = true;
	r->hold_cb(x, held_body(r), r->len);
}

static void on_timer(struct sw_timer *t)
{
	struct sw_exchange *x = t->data;
	struct sw_policy_run *r = x->policy;
	sw_body_cb replay = r->replay_cb;

	if (replay) {
		bool first = !r->replayed;
		r->replay_cb = NULL;
		r->replayed = true;
		replay(x, first ? held_body(r) : "", first ? (ssize_t)r->len : 0, true);
		return;
	}
	r->hold_cb(x, held_body(r), r->len);
}

void sw_exchange_hold_body(struct sw_exchange *x, size_t max, sw_hold_cb cb)
{
	struct sw_policy_run *r = run_of(x);
	uint64_t limit = x->ctx->cfg->limits.max_body_bytes;

	r->hold_cb = cb;
	r->max = limit && limit < max ? (size_t)limit : max;
	sw_timer_init(&r->timer, on_timer, x);
	if (x->req.has_body && x->ops->read_body) {
		x->ops->read_body(x, on_hold_piece);
		return;
	}
	r->held = true;         /* nothing to read: cb from the loop all the same */
	sw_timer_add(x->ctx->loop, &r->timer, 0);
}

bool sw_policy_read_body(struct sw_exchange *x, sw_body_cb cb)
{
	struct sw_policy_run *r = x->policy;

	if (!r->held)
		return false;
	r->replay_cb = cb;
	sw_timer_add(x->ctx->loop, &r->timer, 0);
	return true;
}

/* src/http's own policies (the probes). */
extern const struct sw_policy sw_policy_probes;
const struct sw_policy *const sw_policies_builtin[] = {
	&sw_policy_probes,
	NULL,
};
