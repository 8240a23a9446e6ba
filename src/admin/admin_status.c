/* SPDX-License-Identifier: MIT */
/* admin_status.c - GET /v1/status: the daemon, each worker, listeners and upstream health. */
#include <config.h>

#include <time.h>
#include "http/listen.h"
#include "http/context.h"
#include "admin/admin.h"

static json_object *u64(uint64_t v)
{
	return json_object_new_int64((int64_t)v);
}

static json_object *workers(const struct sw_shm *shm)
{
	json_object *arr = json_object_new_array();
	uint64_t n = sw_stat_get(&shm->workers);

	for (unsigned i = 0; i < SW_MAX_SLOTS && i < n; i++) {
		const struct sw_slot_stats *s = &shm->slots[i];
		json_object *ctx = json_object_new_object();
		uint64_t requests = 0;

		for (unsigned p = 0; p < SW_PROTO_COUNT; p++)
			for (unsigned c = 1; c <= 5; c++)
				requests += sw_stat_get(&s->requests[p][c]);
		json_object_object_add(ctx, "slot", json_object_new_int((int)i));
		json_object_object_add(ctx, "pid", u64(sw_stat_get(&s->pid)));
		json_object_object_add(ctx, "cpu", u64(sw_stat_get(&s->cpu)));
		json_object_object_add(ctx, "connections_open", u64(sw_stat_get(&s->connections_open)));
		json_object_object_add(ctx, "connections_accepted",
				       u64(sw_stat_get(&s->connections_accepted)));
		json_object_object_add(ctx, "requests", u64(requests));
		json_object_array_add(arr, ctx);
	}
	return arr;
}

static json_object *listeners(const struct sw_ctx *ctx)
{
	json_object *arr = json_object_new_array();

	for (size_t i = 0; i < ctx->listens->n; i++) {
		const struct sw_listen *l = &ctx->listens->v[i];
		json_object *o = json_object_new_object();

		json_object_object_add(o, "address", json_object_new_string(l->name));
		json_object_object_add(o, "tls", json_object_new_boolean(l->cfg.use_tls));
		json_object_object_add(o, "admin", json_object_new_boolean(l->admin));
		json_object_array_add(arr, o);
	}
	return arr;
}

/* The proxy's shared health slots: one entry per upstream server seen. */
static json_object *upstreams(const struct sw_shm *shm, uint64_t now)
{
	json_object *arr = json_object_new_array();

	for (unsigned i = 0; i < SW_HEALTH_SLOTS; i++) {
		const struct sw_health_slot *h = &shm->health[i];
		json_object *o;

		if (!sw_stat_get(&h->key) || !h->upstream[0])
			continue;
		o = json_object_new_object();
		/* Names cut to fit the slot may end inside a character. */
		json_object_object_add(o, "upstream", sw_admin_text(h->upstream));
		json_object_object_add(o, "server", sw_admin_text(h->server));
		json_object_object_add(o, "up", json_object_new_boolean(
			sw_stat_get(&h->down_until_ms) <= now &&
			!__atomic_load_n(&h->active_down, __ATOMIC_RELAXED)));
		json_object_object_add(o, "requests", u64(sw_stat_get(&h->requests)));
		json_object_array_add(arr, o);
	}
	return arr;
}

json_object *sw_admin_status(const struct sw_exchange *x)
{
	const struct sw_ctx *ctx = x->ctx;
	const struct sw_shm *shm = ctx->shm;
	json_object *doc = json_object_new_object();
	uint64_t started = sw_stat_get(&shm->started_at), now = (uint64_t)time(NULL);

	json_object_object_add(doc, "version", json_object_new_string(PACKAGE_VERSION));
	json_object_object_add(doc, "uptime_s", u64(now > started ? now - started : 0));
	json_object_object_add(doc, "generation", u64(sw_stat_get(&shm->generation)));
	json_object_object_add(doc, "reloads", u64(sw_stat_get(&shm->reloads)));
	json_object_object_add(doc, "reload_failures", u64(sw_stat_get(&shm->reload_failures)));
	json_object_object_add(doc, "last_reload", sw_admin_text(shm->last_reload));
	json_object_object_add(doc, "worker_restarts", u64(sw_stat_get(&shm->worker_restarts)));
	json_object_object_add(doc, "worker_stalls", u64(sw_stat_get(&shm->worker_stalls)));
	json_object_object_add(doc, "workers_stalled", u64(sw_stat_get(&shm->workers_stalled)));
	json_object_object_add(doc, "answered_by_worker", json_object_new_int((int)ctx->slot));
	json_object_object_add(doc, "workers", workers(shm));
	json_object_object_add(doc, "listeners", listeners(ctx));
	json_object_object_add(doc, "upstreams", upstreams(shm, sw_loop_now(ctx->loop)));
	return doc;
}
