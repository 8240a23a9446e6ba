/* SPDX-License-Identifier: MIT */
/*
 * admin_fixture.h - what the admin API suites (test_admin_*.c) share:
 * swerver with the admin API on its own port, a raw client that keeps
 * bodies and times answers, authorised requests and their JSON, and
 * checks that a change reached every worker.  Upstreams are origins.h's.
 */
#ifndef SW_IT_ADMIN_FIXTURE_H
#define SW_IT_ADMIN_FIXTURE_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "harness.h"
#include "origins.h"

#define KEY "it-admin-key-0123456789"   /* >= 16 characters */
#define ADM_IO_MS 5000
#define SPREAD 20                        /* requests on new connections per check */

/* One upstream server / a route for prefix to upstream up, the prefix replaced by "/". */
#define UPSTREAM_FMT "{\"name\": \"%s\", \"servers\": [{\"address\": \"127.0.0.1\", \"port\": %d}]}"
#define TMO "\"connect_timeout_ms\": 500, \"read_timeout_ms\": 2000"
#define ROUTE(prefix, up) "{\"path_prefix\": \"" prefix "\", \"upstream\": \"" up "\", " \
	"\"rewrite_pattern\": \"" prefix "\", \"rewrite_replacement\": \"/\", " TMO "}"

/* The proxy is built (else a note, and the test returns). */
bool adm_have_proxy(void);


/* A raw HTTP/1.1 client that keeps the body (one request per connection). */
struct resp {
	int status;
	char head[8192];
	char *body;          /* NUL-terminated, malloc'ed */
	size_t len;
	int64_t ms;          /* from the send to the end of the response */
	int64_t sent_at;
};

int req_open(int port);

/* Sends method path with extra header lines (each ending CRLF) and an optional body. */
int req_send(int fd, const char *method, const char *path, const char *headers,
	     const char *body, struct resp *r);

/* A field of the response head (headers.h's it_header). */
bool resp_header(const struct resp *r, const char *name, char *out, size_t size);

/* Reads to EOF (we always send Connection: close); 0 or -errno. */
int req_read(int fd, struct resp *r, int timeout_ms);

void resp_free(struct resp *r);

/* One request on a new connection; fails the test when there is no answer. */
void adm_request(int port, const char *method, const char *path, const char *headers,
	     const char *body, struct resp *r);

/* An authorised admin request. */
void adm(const char *method, const char *path, const char *body, struct resp *r);

/* An authorised admin request that must answer `want`; its JSON (the caller puts it). */
json_object *adm_json(const char *method, const char *path, const char *body, int want);

json_object *adm_get(json_object *o, const char *key);

const char *adm_get_str(json_object *o, const char *key);

/* A 200 change answer: {"ok": true, "result": ..., "generation": N}; its result in out. */
void change_ok(const char *method, const char *path, const char *body, char *out,
	       size_t size);

/* An error answer of status `want` whose "error" contains needle. */
void change_fails(const char *method, const char *path, const char *body, int want,
		  const char *needle);

/* The admin port of the swerver under test (adm, adm_json, change_*). */
extern int admin_port;

/* A config: one listener, the admin API on aport, and `extra` (",\"upstreams\": [...]" or ""). */
void adm_write_config(const char *path, const char *backend, int port, int aport,
		  unsigned workers, const char *extra);

/* Starts it and waits for the admin line, /.ready and (several workers) the master's "ready:". */
struct it_proc *adm_start(const char *cfg, int port, int aport);
/* The same with extra environment entries "K=V" (NULL-terminated, may be NULL). */
struct it_proc *adm_start_env(const char *cfg, int port, int aport, const char *const *env);

/* Per-slot connections_accepted from /v1/status; the slot that answered. */
int accepted_by_slot(uint64_t *out, int max);

/* The pid /v1/status gives for a worker slot, -1 if none. */
pid_t slot_pid(int slot);

/*
 * SPREAD GETs of path on new connections to the main listener must all be
 * 200 with body `want` (the origin's name for /PREFIX/name), and every
 * worker must have taken at least one of them: the change reached them all.
 */
void all_workers_serve(int port, const char *path, const char *want);

/* Every one of `count` GETs of path on new connections answers want. */
void all_status(int port, const char *path, int want, int count);

/* The length of the JSON array an authorised GET of path answers. */
int array_len(const char *path);

/* The swerver_admin_auth_failures_total sample in a Prometheus text body, -1 if absent. */
long long auth_failures(const char *text);

/* The config generation /v1/status reports. */
int64_t adm_generation(void);

/* POSTs body to the admin path in `pieces` chunks, 30 ms apart (several reads on the server). */
void post_chunked(const char *path, const char *body, int pieces, struct resp *r);

/* Starts swerver (2 workers) with upstream o1 and no routes. */
void start_with_origin(const char *backend, int *port);

#endif
