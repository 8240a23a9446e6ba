/* SPDX-License-Identifier: MIT */
/* proxy_fixture.c - what the proxy suites share: swerver with upstreams and routes, tallies, /metrics, memory watching (proxy_fixture.h). */
#include <config.h>

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "core/module.h"
#include "proxy_fixture.h"

bool px_have_proxy(int i)
{
	if (!it_backend(i))
		return false;
	if (!sw_module_find("proxy")) {
		fprintf(stderr, "note: built without the proxy; skipping\n");
		return false;
	}
	return true;
}

static int ncfg;

/*
 * Starts swerver on backend i: `server` adds keys to the server object
 * (each ending with a comma); the rest (upstreams, routes) is printf'd.
 */
struct it_proc *px_start(int i, unsigned workers, const char *server, int *port,
			 const char *fmt, ...)
{
	char cfg[IT_PATH_MAX], name[32], rest[7000];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rest, sizeof(rest), fmt, ap);
	va_end(ap);
	snprintf(name, sizeof(name), "proxy-%d.json", ncfg++);
	it_path(cfg, name);
	it_write_filef(cfg,
		"{\n"
		"  \"server\": {%s\"listeners\": [{\"address\": \"127.0.0.1\", \"port\": 0}],\n"
		"    \"workers\": %u, \"io_backend\": \"%s\"},\n"
		"  \"timeouts\": {\"drain_ms\": 1000},\n"
		"  %s\n"
		"}\n", server ? server : "", workers, it_backend(i), rest);
	return it_start_ready(cfg, "127.0.0.1", port);
}

char px_origin_of(const struct hres *r)
{
	char v[64];

	return it_header(r->head, "X-Origin", v, sizeof(v)) ? v[0] : 0;
}

/*
 * n GETs of target (a fresh connection each, or one keep-alive connection);
 * counts['A'..] by X-Origin.  For ".../name" the body must name the same
 * origin.  Returns how many were not 200.
 */
int px_tally(int port, const char *target, int n, bool fresh, const char *hdrs, int counts[26])
{
	struct hconn *c = fresh ? NULL : hc_new(port);
	bool named = strlen(target) >= 5 && strcmp(target + strlen(target) - 5, "/name") == 0;
	int bad = 0;

	for (int k = 0; k < n; k++) {
		struct hres r;
		int rc = fresh ? hc_get1(port, target, NULL, hdrs, &r) :
				 hc_req(c, "GET", target, NULL, hdrs, NULL, &r);
		char o = px_origin_of(&r);

		if (rc != 0 || r.status != 200) {
			bad++;
		} else {
			IT_ASSERT(o >= 'A' && o <= 'Z', "GET %s: no X-Origin\n%s", target, r.head);
			IT_ASSERT(!named || (r.body_len == 1 && r.body[0] == o),
				  "GET %s: X-Origin %c but body \"%s\"", target, o, r.body);
			counts[o - 'A']++;
		}
		hres_free(&r);
		if (!fresh && rc != 0) {
			hc_free(c);
			c = hc_new(port);
		}
	}
	hc_free(c);
	return bad;
}

/* ---- text helpers ---- */


char *px_echo_head(const char *body)
{
	const char *end = strstr(body, "\n\n");

	return strndup(body, end ? (size_t)(end - body + 1) : strlen(body));
}

/* ---- /metrics ---- */

char *px_metrics(int port)
{
	struct hres r;
	int rc = hc_get1(port, "/metrics", NULL, NULL, &r);

	IT_ASSERT(rc == 0 && r.status == 200, "GET /metrics: rc %d status %d", rc, r.status);
	return r.body;
}



/* Polls until swerver_upstream_up of the server reads want; returns the ms it took, -1 never. */
int px_wait_up(int port, const char *up, int sport, int want, int timeout_ms)
{
	int64_t start = it_now_ms();

	for (;;) {
		char *m = px_metrics(port);
		double v = it_series(m, "swerver_upstream_up" LBL "}", up, sport);

		free(m);
		if (v == want)
			return (int)(it_now_ms() - start);
		if (it_now_ms() - start > timeout_ms)
			return -1;
		it_sleep_ms(20);
	}
}

/* ---- memory ---- */

unsigned char px_pattern_at(uint64_t off)
{
	return (unsigned char)((off * 31 + 7) & 0xff);   /* the origin's /bytes/N */
}

/*
 * Runs cmd with its output checked against the /bytes pattern (check) or
 * kept, while the server's VmRSS is sampled every ~10 ms.
 */
void px_run_watched(struct px_watched *w, pid_t pid, bool check, const char *cmd)
{
	static char buf[256 * 1024];
	int64_t last = 0;
	size_t len = 0;
	FILE *f;
	int fd, rc;

	memset(w, 0, sizeof(*w));
	w->bad_at = -1;
	w->out = calloc(1, 1);
	fflush(NULL);
	f = popen(cmd, "r");
	ck_assert_ptr_nonnull(f);
	fd = fileno(f);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n = 0;

		if (it_now_ms() - last >= 10) {
			long kb = it_rss_kb(pid);
			if (kb > w->peak_kb)
				w->peak_kb = kb;
			last = it_now_ms();
		}
		if (poll(&p, 1, 10) <= 0)
			continue;
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (check) {
			for (ssize_t k = 0; k < n && w->bad_at < 0; k++)
				if ((unsigned char)buf[k] != px_pattern_at(w->bytes + (uint64_t)k))
					w->bad_at = (int64_t)(w->bytes + (uint64_t)k);
		} else {
			w->out = realloc(w->out, len + (size_t)n + 1);
			memcpy(w->out + len, buf, (size_t)n);
			len += (size_t)n;
			w->out[len] = '\0';
		}
		w->bytes += (uint64_t)n;
	}
	rc = pclose(f);
	w->status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}
