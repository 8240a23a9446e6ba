/* SPDX-License-Identifier: MIT */
/* shm.h - counters in shared memory, written per worker slot, summed by readers. */
#ifndef SW_CORE_SHM_H
#define SW_CORE_SHM_H

#include <stdint.h>
#include "core/common.h"

#define SW_MAX_SLOTS 256

enum sw_proto { SW_PROTO_HTTP1, SW_PROTO_HTTP2, SW_PROTO_HTTP3, SW_PROTO_COUNT };

/* Request duration histogram: upper bounds in ms, then one +Inf bucket. */
#define SW_DURATION_BOUNDS_MS 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000
#define SW_DURATION_BUCKETS 13

/*
 * One block per worker slot.  During a reload the old and the new worker of
 * a slot overlap, so updates are relaxed atomic adds (an uncontended
 * `lock xadd` on x86) rather than plain stores.
 */
struct sw_slot_stats {
	uint64_t pid;                   /* current worker of this slot */
	uint64_t cpu;                   /* CPU it is pinned to */
	uint64_t connections_accepted;
	uint64_t connections_open;      /* gauge: add 1 on open, sub 1 on close */
	uint64_t h2_floods;             /* HTTP/2 connections ended for flooding */
	uint64_t connections_reclaimed; /* idle ones closed at max_connections to admit new ones */
	uint64_t connections_over_limit; /* accepted past max_connections for probes */
	uint64_t slow_bodies;           /* connections, streams cut below limits.min_body_rate */
	uint64_t slow_sends;            /* connections cut below limits.min_send_rate */
	uint64_t pp_untrusted;          /* proxy_protocol connections from outside trusted_proxies */
	uint64_t pp_bad;                /* proxy_protocol connections without a valid header in time */
	uint64_t quic_handed_over;      /* HTTP/3 packets passed to another generation's worker */
	uint64_t admin_auth_failures;   /* admin API requests without a valid key */
	uint64_t admin_auth_lockouts;   /* lockouts begun (an address, or every address) */
	uint64_t admin_auth_locked;     /* requests answered 429 while locked out */
	uint64_t requests[SW_PROTO_COUNT][6]; /* by status class 1xx..5xx, [0] unused */
	uint64_t bytes_in, bytes_out;
	/*
	 * Written by sw_metrics_observe once per finished exchange.  Bucket
	 * counts are per bucket, not cumulative, so one add records a request;
	 * readers accumulate, which keeps +Inf equal to _count by construction.
	 */
	uint64_t xfer_in[SW_PROTO_COUNT];   /* request head + body bytes */
	uint64_t xfer_out[SW_PROTO_COUNT];  /* response head + body bytes */
	uint64_t duration[SW_PROTO_COUNT][SW_DURATION_BUCKETS];
	uint64_t duration_sum_ms[SW_PROTO_COUNT];
} __attribute__((aligned(64)));

/*
 * TLS session-ticket keys, made and rotated by the master, so a client
 * resumes on whichever worker its next connection lands on.  A seqlock:
 * the master makes seq odd while it writes; readers retry on odd or change.
 */
#define SW_TICKET_KEY_LEN 80            /* name 16, HMAC 32, AES-256 32 */
struct sw_ticket_keys {
	uint64_t seq;
	uint8_t current[SW_TICKET_KEY_LEN];
	uint8_t previous[SW_TICKET_KEY_LEN]; /* still accepted, renewed on use */
};

/*
 * A new key every 12 hours; the previous one stays valid for another
 * period, so a ticket lives at most a day (forward secrecy for resumed
 * sessions is bounded by that).  The master rotates; a single process
 * does it itself.
 */
#define SW_TICKET_ROTATION_MS (12ULL * 3600 * 1000)

/* New random current key; the old current becomes previous. */
void sw_ticket_keys_rotate(struct sw_ticket_keys *k);
/* A consistent copy of both keys. */
void sw_ticket_keys_read(const struct sw_ticket_keys *k, uint8_t current[SW_TICKET_KEY_LEN],
			 uint8_t previous[SW_TICKET_KEY_LEN]);

/*
 * Rate-limit token buckets shared by every worker, so a client is limited
 * the same whichever worker its connections land on.  A fixed table: a key
 * probes a few slots from its hash and takes over the stalest one when
 * all are busy (a client forgotten after that is only let in sooner).
 * Each slot has its own spin lock; a worker holds it for a few loads and
 * stores.
 */
#define SW_RATE_SLOTS 4096
#define SW_RATE_PROBE 8
struct sw_rate_slot {
	uint32_t lock;
	uint32_t pad;
	uint64_t key;                   /* hash of route + client key; 0 = free */
	uint64_t tokens_milli;          /* thousandths of a request */
	uint64_t last_ms;               /* CLOCK_MONOTONIC, the same in every process */
};

/*
 * Upstream server health, shared so that a server found down (by a failed
 * request or an active check) is down for every worker, and so that one
 * worker, whichever claims next_check_ms first, runs each active check.
 */
#define SW_HEALTH_SLOTS 1024
enum sw_upstream_error { SW_UPERR_CONNECT, SW_UPERR_TIMEOUT, SW_UPERR_RESET, SW_UPERR_BAD_RESPONSE,
			 SW_UPSTREAM_ERRORS };
struct sw_health_slot {
	uint32_t lock;
	uint32_t fails;                 /* passive failures in the current window */
	uint64_t key;                   /* hash of upstream + server; 0 = free */
	uint64_t fail_window_ms;        /* when that window began */
	uint64_t down_until_ms;         /* passive: out until then */
	uint64_t next_check_ms;         /* active: claimed by compare-and-swap */
	uint32_t ok_streak, fail_streak;
	uint32_t active_down;           /* active checks say it is down */
	uint32_t pad;
	/* for /metrics, summed over every worker (relaxed atomic adds) */
	char upstream[48], server[80];
	uint64_t requests;              /* attempts that got a response head */
	uint64_t errors[SW_UPSTREAM_ERRORS];
	uint64_t retries;
	uint64_t latency[SW_DURATION_BUCKETS];  /* until the response head */
	uint64_t latency_sum_ms;
	uint64_t pool_active, pool_idle; /* gauges: +1 / -1 */
};

/*
 * The part of the block a binary upgrade carries over even when the new
 * binary's layout of the rest differs: what must stay the same for every
 * process of the tree (old and new generation) to work together.
 */
#define SW_SHM_MAGIC 0x73777368u        /* "swsh"; bump when this header changes */
#define SW_SHM_SECRET_LEN 32
struct sw_shm_head {
	uint32_t magic;
	uint32_t pad;
	uint64_t size;                  /* sizeof(struct sw_shm) of the binary that made it */
	uint64_t tree_id;               /* the first master's pid: names the QUIC hand-over sockets */
	uint8_t secret[SW_SHM_SECRET_LEN]; /* QUIC tokens and stateless resets */
	struct sw_ticket_keys tickets;
};

/*
 * Wrong admin keys per client address (and one entry for every address),
 * shared so a guesser has one budget whichever worker its connections
 * land on.  Same probing and spin locks as the rate-limit table.
 */
#define SW_AUTH_SLOTS 256
#define SW_AUTH_PROBE 8
struct sw_auth_slot {
	uint32_t lock;
	uint32_t failures;              /* in the window that began at window_ms */
	uint32_t used;
	uint32_t pad;
	uint8_t addr[16];               /* IPv6, or IPv4 mapped into it */
	uint64_t window_ms;             /* CLOCK_MONOTONIC, the same in every process */
	uint64_t locked_until_ms;
};

/*
 * Failed routes[].auth credentials per route and client address
 * (src/auth/lockout.c), shared so a guesser has one budget whichever
 * worker its connections land on.  A fixed table: a key probes a few slots
 * and takes over the stalest (free, then least recently failed, locked-out
 * ones last).  Each slot has its own spin lock.
 */
#define SW_LOCKOUT_SLOTS 4096
#define SW_LOCKOUT_PROBE 8
struct sw_lockout_slot {
	uint32_t lock;
	uint32_t failures;              /* in the window that began at window_ms */
	uint64_t key;                   /* hash of route + client address; 0 = free */
	uint64_t window_ms;             /* CLOCK_MONOTONIC, the same in every process */
	uint64_t last_ms;               /* the last failure: staleness for eviction */
	uint64_t locked_until_ms;
};

/*
 * Labelled counters that optional units own (auth failures by route,
 * method and reason): one row per family and label set, claimed by the
 * first worker that needs it (CAS on key) and added to by every worker
 * (relaxed atomic adds), so a row is already the whole server's count.
 * The unit writes its families to /metrics (struct sw_module.metrics).
 */
#define SW_LCOUNTER_SLOTS 512
struct sw_lcounter_slot {
	uint64_t key;                   /* hash of family and labels; 0 = free */
	uint32_t ready;                 /* family and labels are written (release) */
	uint32_t pad;
	uint64_t value;
	char family[32];
	char labels[216];               /* 'name="value",...', escaped for the exposition */
};

/* A spin lock in shared memory, held for a few loads and stores. */
static inline void sw_spin_lock(uint32_t *l)
{
	while (__atomic_test_and_set(l, __ATOMIC_ACQUIRE))
		;
}

static inline void sw_spin_unlock(uint32_t *l)
{
	__atomic_clear(l, __ATOMIC_RELEASE);
}

struct sw_shm {
	struct sw_shm_head head;
	uint64_t started_at;            /* realtime seconds */
	uint64_t generation;            /* config generation, 1 at start */
	uint64_t reloads;               /* successful */
	uint64_t reload_failures;
	uint64_t worker_restarts;
	uint64_t worker_stalls;         /* workers found without a heartbeat */
	uint64_t stall_replacements;    /* of those, replaced after timeouts.stall_ms */
	uint64_t workers_stalled;       /* gauge: slots kept out of the TCP steering now */
	uint64_t stall_passed;          /* connections taken from stalled workers' queues */
	uint64_t workers;               /* slots in use */
	char last_reload[160];          /* the outcome of the last reload, for status */
	struct sw_slot_stats slots[SW_MAX_SLOTS];
	/* CLOCK_MONOTONIC ms of each worker's last beat, [slot][generation % 4] (heartbeat.c) */
	uint64_t heartbeat[SW_MAX_SLOTS][4];
	struct sw_rate_slot rate[SW_RATE_SLOTS];
	struct sw_health_slot health[SW_HEALTH_SLOTS];
	struct sw_auth_slot auth_all;   /* failures from every address together */
	struct sw_auth_slot auth[SW_AUTH_SLOTS];
	struct sw_lcounter_slot lcounters[SW_LCOUNTER_SLOTS];
	struct sw_lockout_slot auth_lockout[SW_LOCKOUT_SLOTS];
};

/*
 * The row of family with labels, claimed when new; NULL when the table is
 * full (the count is then lost, never mixed into another row).
 */
struct sw_lcounter_slot *sw_lcounter(struct sw_shm *shm, const char *family, const char *labels);

/* Records the last reload's outcome (printf-style) for /v1/status and sd_notify. */
void sw_shm_set_outcome(struct sw_shm *shm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Maps the block before fork so every worker shares it.  It lives in a
 * memfd (*fd, close-on-exec) so that a binary upgrade can hand it to the
 * new master.  NULL on failure.
 */
struct sw_shm *sw_shm_create(int *fd);
/*
 * The new master of a binary upgrade maps the block it was handed.  A block
 * of another layout (an upgrade across a change of struct sw_shm) is not
 * shared: a fresh one takes its header (secrets, ticket keys, tree id), and
 * *fd becomes the fresh one's.  NULL, with the reason in err, when fd is not
 * such a block.
 */
struct sw_shm *sw_shm_attach(int *fd, char *err, size_t err_size);
void sw_shm_destroy(struct sw_shm *shm);

static inline void sw_stat_add(uint64_t *counter, uint64_t n)
{
	__atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

static inline void sw_stat_sub(uint64_t *counter, uint64_t n)
{
	__atomic_fetch_sub(counter, n, __ATOMIC_RELAXED);
}

static inline uint64_t sw_stat_get(const uint64_t *counter)
{
	return __atomic_load_n(counter, __ATOMIC_RELAXED);
}

#endif
