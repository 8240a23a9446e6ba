/* SPDX-License-Identifier: MIT */
/* metrics.c - the proxy's families in /metrics: each upstream server's counters, health, pool and latency (its shared health slots). */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "core/shm.h"
#include "http/metrics.h"
#include "proxy/proxy.h"

struct up_snap {
	char upstream[48], server[80];
	uint64_t requests, retries, errors[SW_UPSTREAM_ERRORS];
	uint64_t hist[SW_DURATION_BUCKETS], sum_ms;
	uint64_t active, idle;
	bool up;
};

static const char *const error_kind[SW_UPSTREAM_ERRORS] = {
	"connect", "timeout", "reset", "bad_response",
};

/* Every named slot, copied: one consistent view for the whole text. */
struct ups_snap {
	struct up_snap *v;
	size_t n;
};

static struct ups_snap *snapshot(const struct sw_shm *shm, uint64_t now)
{
	struct ups_snap *all = sw_calloc(1, sizeof(*all));
	struct up_snap *v = NULL;
	size_t n = 0;

	for (unsigned i = 0; i < SW_HEALTH_SLOTS; i++) {
		const struct sw_health_slot *h = &shm->health[i];
		struct up_snap *u;

		if (!sw_stat_get(&h->key) || !h->upstream[0])
			continue;
		v = sw_realloc(v, (n + 1) * sizeof(*v));
		u = &v[n++];
		memcpy(u->upstream, h->upstream, sizeof(u->upstream));
		memcpy(u->server, h->server, sizeof(u->server));
		u->upstream[sizeof(u->upstream) - 1] = u->server[sizeof(u->server) - 1] = '\0';
		u->requests = sw_stat_get(&h->requests);
		u->retries = sw_stat_get(&h->retries);
		for (unsigned e = 0; e < SW_UPSTREAM_ERRORS; e++)
			u->errors[e] = sw_stat_get(&h->errors[e]);
		for (unsigned b = 0; b < SW_DURATION_BUCKETS; b++)
			u->hist[b] = sw_stat_get(&h->latency[b]);
		u->sum_ms = sw_stat_get(&h->latency_sum_ms);
		u->active = sw_stat_get(&h->pool_active);
		u->idle = sw_stat_get(&h->pool_idle);
		u->up = sw_stat_get(&h->down_until_ms) <= now &&
			!__atomic_load_n(&h->active_down, __ATOMIC_RELAXED);
	}
	all->v = v;
	all->n = n;
	return all;
}

static void release(struct ups_snap *all)
{
	free(all->v);
	free(all);
}

static void put_labels(struct sw_metrics_out *o, const struct up_snap *u)
{
	sw_metrics_put(o, "{upstream=\"");
	sw_metrics_label_value(o, u->upstream);
	sw_metrics_put(o, "\",server=\"");
	sw_metrics_label_value(o, u->server);
	sw_metrics_put(o, "\"");
}

static void emit_upstream_counters(struct sw_metrics_out *o, const struct up_snap *v, size_t n)
{
	sw_metrics_family(o, "swerver_upstream_requests_total", "counter",
	       "Requests an upstream server answered (a response head arrived).");
	for (size_t i = 0; i < n; i++) {
		sw_metrics_put(o, "swerver_upstream_requests_total");
		put_labels(o, &v[i]);
		sw_metrics_put(o, "} %llu\n", (unsigned long long)v[i].requests);
	}
	sw_metrics_family(o, "swerver_upstream_errors_total", "counter",
	       "Failed attempts at an upstream server, by kind.");
	for (size_t i = 0; i < n; i++)
		for (unsigned e = 0; e < SW_UPSTREAM_ERRORS; e++) {
			sw_metrics_put(o, "swerver_upstream_errors_total");
			put_labels(o, &v[i]);
			sw_metrics_put(o, ",kind=\"%s\"} %llu\n", error_kind[e], (unsigned long long)v[i].errors[e]);
		}
	sw_metrics_family(o, "swerver_upstream_retries_total", "counter",
	       "Requests tried again after a failure at this server.");
	for (size_t i = 0; i < n; i++) {
		sw_metrics_put(o, "swerver_upstream_retries_total");
		put_labels(o, &v[i]);
		sw_metrics_put(o, "} %llu\n", (unsigned long long)v[i].retries);
	}
}

static void emit_upstream_gauges(struct sw_metrics_out *o, const struct up_snap *v, size_t n)
{
	sw_metrics_family(o, "swerver_upstream_up", "gauge",
	       "1 while the server takes requests, 0 while health (passive or active) keeps it out.");
	for (size_t i = 0; i < n; i++) {
		sw_metrics_put(o, "swerver_upstream_up");
		put_labels(o, &v[i]);
		sw_metrics_put(o, "} %d\n", v[i].up);
	}
	sw_metrics_family(o, "swerver_upstream_pool_connections", "gauge",
	       "Connections to the server, busy with a request or idle in the pool.");
	for (size_t i = 0; i < n; i++) {
		sw_metrics_put(o, "swerver_upstream_pool_connections");
		put_labels(o, &v[i]);
		sw_metrics_put(o, ",state=\"active\"} %llu\n", (unsigned long long)v[i].active);
		sw_metrics_put(o, "swerver_upstream_pool_connections");
		put_labels(o, &v[i]);
		sw_metrics_put(o, ",state=\"idle\"} %llu\n", (unsigned long long)v[i].idle);
	}
}

static void emit_upstream_latency(struct sw_metrics_out *o, const struct up_snap *v, size_t n)
{
	static const char name[] = "swerver_upstream_response_seconds";

	sw_metrics_family(o, name, "histogram", "Time from sending a request upstream to its response head.");
	for (size_t i = 0; i < n; i++) {
		uint64_t cum = 0;

		for (unsigned b = 0; b < SW_DURATION_BUCKETS; b++) {
			cum += v[i].hist[b];
			sw_metrics_put(o, "%s_bucket", name);
			put_labels(o, &v[i]);
			sw_metrics_put(o, ",le=\"%s\"} %llu\n", sw_metrics_bound_text(b), (unsigned long long)cum);
		}
		sw_metrics_put(o, "%s_sum", name);
		put_labels(o, &v[i]);
		sw_metrics_put(o, "} %llu.%03u\n", (unsigned long long)(v[i].sum_ms / 1000),
		    (unsigned)(v[i].sum_ms % 1000));
		sw_metrics_put(o, "%s_count", name);
		put_labels(o, &v[i]);
		sw_metrics_put(o, "} %llu\n", (unsigned long long)cum);
	}
}

/* The loop's clock (health's down_until_ms is on it). */
static uint64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

size_t sw_proxy_metrics(const struct sw_shm *shm, char *buf, size_t size)
{
	struct ups_snap *all = snapshot(shm, monotonic_ms());
	struct sw_metrics_out o = { buf, size, 0 };

	if (all->n) {
		emit_upstream_counters(&o, all->v, all->n);
		emit_upstream_gauges(&o, all->v, all->n);
		emit_upstream_latency(&o, all->v, all->n);
	}
	release(all);
	return o.len;
}
