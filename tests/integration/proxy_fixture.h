/* SPDX-License-Identifier: MIT */
/*
 * proxy_fixture.h - what the proxy suites (test_proxy_*.c) share: swerver
 * started with upstreams and routes, which origin answered, /metrics, and
 * a worker's memory watched during a transfer.  The upstreams themselves
 * are origins.h's; the client is hclient.h's or curl.h's.
 */
#ifndef SW_IT_PROXY_FIXTURE_H
#define SW_IT_PROXY_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "curl.h"
#include "harness.h"
#include "hclient.h"
#include "headers.h"
#include "origins.h"

/* Every client command runs under this cap, so a hung client cannot hang the suite. */
#define T "timeout -k 1 25 "
#define BIG (100ull * 1024 * 1024)       /* the streamed transfers */
#define RSS_SLACK_KB (32 * 1024)         /* how much a 100 MiB transfer may grow the worker */

/* One upstream server in a config, and the small timeouts every route gets. */
#define SRV "{\"address\": \"127.0.0.1\", \"port\": %d}"
#define TMO "\"connect_timeout_ms\": 500, \"read_timeout_ms\": 2000"
/* A route for prefix to upstream up, the prefix replaced by "/" upstream. */
#define ROUTE(prefix, up) "{\"path_prefix\": \"" prefix "\", \"upstream\": \"" up "\", " \
	"\"rewrite_pattern\": \"" prefix "\", \"rewrite_replacement\": \"/\", " TMO "}"
/* Upstream "u" with one server (its port), every path routed to it. */
#define ONE_ROUTE "\"upstreams\": [{\"name\": \"u\", \"servers\": [" SRV "]}],\n" \
	"  \"routes\": [{\"path_prefix\": \"/\", \"upstream\": \"u\", " TMO "}]"
/* The labels of one upstream server's series in /metrics (upstream, port). */
#define LBL "{upstream=\"%s\",server=\"127.0.0.1:%d\""

#define EXPECT_LINE(text, line) \
	IT_ASSERT(it_has_line(text, line), "the upstream did not see \"%s\":\n%s", line, text)
#define EXPECT_NO_FIELD(text, name) \
	IT_ASSERT(it_lines_with(text, name ":") == 0, "the upstream saw hop-by-hop %s:\n%s", name, text)

/* Backend i exists and the proxy is built (else a note, and the test returns). */
bool px_have_proxy(int i);
/*
 * Starts swerver on backend i: `server` adds keys to the server object
 * (each ending with a comma); the rest (upstreams, routes) is printf'd.
 */
struct it_proc *px_start(int i, unsigned workers, const char *server, int *port,
			 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* The origin that answered ('A'...), 0 when no X-Origin came. */
char px_origin_of(const struct hres *r);
/*
 * n GETs of target (a fresh connection each, or one keep-alive connection);
 * counts['A'..] by X-Origin.  For ".../name" the body must name the same
 * origin.  Returns how many were not 200.
 */
int px_tally(int port, const char *target, int n, bool fresh, const char *hdrs, int counts[26]);
/* The header part of an origin /echo body (up to the blank line), malloc'ed. */
char *px_echo_head(const char *body);
/* GET /metrics (malloc'ed body); fails the test unless 200. */
char *px_metrics(int port);
/* Polls until swerver_upstream_up of the server reads want; returns the ms it took, -1 never. */
int px_wait_up(int port, const char *up, int sport, int want, int timeout_ms);
/* Byte off of the origin's /bytes/N pattern. */
unsigned char px_pattern_at(uint64_t off);

struct px_watched {
	uint64_t bytes;               /* of the command's output */
	int64_t bad_at;               /* first byte off the /bytes pattern, -1 none */
	long peak_kb;                 /* the server's largest VmRSS meanwhile */
	char *out;                    /* the output, when not checked */
	int status;
};

/*
 * Runs cmd with its output checked against the /bytes pattern (check) or
 * kept, while the server's VmRSS is sampled every ~10 ms.
 */
void px_run_watched(struct px_watched *w, pid_t pid, bool check, const char *cmd);

#endif
