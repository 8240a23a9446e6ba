/* SPDX-License-Identifier: MIT */
/* proxy.h - the reverse proxy's state, shared by the files of src/proxy/ only. */
#ifndef SW_PROXY_PROXY_H
#define SW_PROXY_PROXY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include "core/config.h"
#include "core/module.h"
#include "core/shm.h"
#include "proxy/config.h"
#include "event/loop.h"
#include "http/chunked.h"
#include "http/exchange.h"
#include "http/http1.h"

extern const struct sw_module sw_module_proxy;

struct sw_ctx;
struct px_state;
struct px_fwd;

/* One upstream server as this worker sees it. */
struct px_server {
	const struct sw_upstream_server_cfg *cfg;   /* in the state's config copy */
	struct px_upstream *up;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char name[80];                /* "10.0.0.2:8080", "unix:/run/app.sock" */
	bool resolved;
	/* balancing */
	int64_t current_weight;       /* smooth weighted round robin */
	unsigned active;              /* requests in flight (least_conn, p2c) */
	/*
	 * Health, in shared memory so every worker agrees (local when the
	 * table is full): passive (max_fails within fail_timeout_ms → down for
	 * fail_timeout_ms) and active (health_check).
	 */
	struct sw_health_slot *health;
	struct sw_health_slot local_health;
	/* the pool */
	struct px_upconn *idle;       /* most recently used first */
	unsigned nidle, nopen;
	/* forwards waiting for a connection while nopen is at max_connections */
	struct px_fwd *waiters, **waiters_tail;
	struct sw_timer wake;         /* hands freed capacity to them from the loop */
};

struct px_upstream {
	const struct sw_upstream_cfg *cfg;
	struct px_server *servers;
	size_t nservers;
	unsigned rr;                  /* round-robin cursor */
	struct px_state *st;
	struct sw_timer check_timer;  /* active health checks */
};

struct px_route {
	const struct sw_route_cfg *cfg;
	struct px_upstream *up;
	size_t prefix_len;
	struct px_state *st;
	struct sw_policy_chain *policies;   /* compiled routes[].<policy> keys; NULL: none */
};

/*
 * Everything built from one configuration.  Forwards in flight keep the
 * state they started with (refs), so an in-place reload never pulls a
 * route or a pool from under them; the old state goes with its last one.
 */
struct px_state {
	struct sw_config cfg;         /* a private copy: what the pointers above point into */
	struct sw_ctx *ctx;
	struct px_upstream *ups;
	size_t nups;
	struct px_route *routes;      /* longest path_prefix first */
	size_t nroutes;
	unsigned refs;
};

/* A connection to an upstream server: pooled when idle. */
struct px_upconn {
	struct px_server *srv;
	struct px_state *st;          /* holds a ref while the connection exists */
	struct px_upconn *next;       /* in the server's idle list */
	struct sw_handle h;
	struct sw_io rio, wio;
	struct sw_timer timer;        /* connect, idle */
	bool connected;
	bool reused;                  /* served a request before this one */
	bool idle_watch;              /* a poll-in watches the idle connection */
	bool pooled;                  /* in the idle list (for the pool gauges) */
	struct px_fwd *fwd;           /* the forward using it, NULL when idle */
	char *buf;                    /* response bytes */
	size_t cap, len, used;
};

/* metrics.c: the module's metrics hook (struct sw_module.metrics). */
size_t sw_proxy_metrics(const struct sw_shm *shm, char *buf, size_t size);

/* proxy.c */
struct px_state *px_state_get(struct sw_ctx *ctx);
void px_state_put(struct px_state *st);
uint64_t px_now(const struct px_state *st);

/* route.c */
const struct px_route *px_route_match(const struct px_state *st, const struct sw_exchange *x);
/* The path has a "." or ".." segment (maybe percent-encoded): refused, never forwarded. */
bool px_path_has_dot_segment(struct sw_str path);
/* The upstream request target: path rewritten by the route, query kept.  Length or 0. */
size_t px_route_target(const struct px_route *r, const struct sw_exchange *x, char *buf,
		       size_t size);

/* health.c */
/* Finds (or takes) each server's shared health slot; starts active checks. */
void px_health_start(struct px_state *st);
void px_health_stop(struct px_state *st);
bool px_server_usable(const struct px_server *s, uint64_t now);
void px_stat_error(struct px_server *s, enum sw_upstream_error e);
void px_stat_retry(struct px_server *s);
/* A response head arrived ms after the request went out. */
void px_stat_response(struct px_server *s, uint64_t ms);
/* Pool gauges: +1 / -1 / 0 for busy and idle connections. */
void px_stat_pool(struct px_server *s, int active, int idle);

/* balance.c */
struct px_server *px_balance_pick(struct px_upstream *up, const struct sw_exchange *x,
				  const struct px_server *avoid);
void px_server_failed(struct px_server *s, uint64_t now, const char *why);
void px_server_ok(struct px_server *s);

/* upconn.c */
/* An idle pooled connection, or NULL; the caller then opens one. */
struct px_upconn *px_upconn_take(struct px_server *s);
/* Starts a non-blocking connect; cb gets 0 or -errno.  NULL when no socket could be made. */
struct px_upconn *px_upconn_open(struct px_server *s, struct px_state *st, sw_io_cb cb,
				 void *data, int *err);
/* Arms the connect deadline of a connection px_upconn_open just made. */
void px_upconn_connect_timeout(struct px_upconn *uc, uint32_t ms);
/* Back to the pool (reusable) or closed. */
void px_upconn_release(struct px_upconn *uc, bool reusable);
void px_upconn_close(struct px_upconn *uc);
/* Closes every idle connection of the state (reload, exit). */
void px_pool_drain(struct px_state *st);
/* A connection to s was pooled or closed: a waiting forward may go on. */
void px_fwd_capacity(struct px_server *s);
/* Stops s's wake timer (its state is going away). */
void px_fwd_forget(struct px_server *s);

/* headers.c */
/* The request head for the upstream, into buf.  Length, or 0 when it does not fit. */
size_t px_request_head(const struct px_route *r, const struct sw_exchange *x, bool chunked_body,
		       char *buf, size_t size);
/* An HTTP/1.1 request asking to switch protocols (Upgrade + Connection: upgrade). */
bool px_is_upgrade(const struct sw_exchange *x);
/* Copies the upstream's fields a client may see into x->resp (hop-by-hop ones dropped). */
void px_response_fields(struct sw_exchange *x, const struct sw_http1_response *r);

/* ratelimit_policy.c: the rate_limit policy (SW_POLICY_ROUTE), its compiled config */
extern const struct sw_policy px_policy_rate_limit;
struct px_rate_conf {
	double requests_per_second;   /* > 0 */
	uint32_t burst_size;          /* >= 1, default max(1, rps) */
	bool by_consumer;             /* key "consumer" (else "ip") */
	char *consumer_header;        /* "X-API-Key" */
};

/* ratelimit.c */
struct px_rate {
	unsigned limit;               /* burst_size */
	unsigned remaining;           /* whole requests left in the bucket */
	unsigned retry_after;         /* seconds, when refused */
};
/* Takes a token from the client's bucket for route; false: refuse with 429. */
bool px_rate_allow(const struct px_rate_conf *rl, const struct sw_route_cfg *route,
		   const struct sw_exchange *x, struct px_rate *out);
/* X-RateLimit-Limit / -Remaining, and Retry-After when refused. */
void px_rate_headers(struct sw_exchange *x, const struct px_rate *rate, bool refused);

/* subrequest.c: http/subreq.h through struct sw_proxy_api */
struct sw_subreq;
struct sw_subreq_args;
struct sw_subreq *px_subrequest(const struct sw_subreq_args *a);
void px_subrequest_cancel(struct sw_subreq *s);

/* forward.c */
/* Forwards x along route r (the fields already in x->resp stay on every answer). */
int px_forward(struct px_state *st, const struct px_route *r, struct sw_exchange *x);

#endif
