/* SPDX-License-Identifier: MIT */
/* h3load.c - HTTP/3 load generator (Debian's h2load has no HTTP/3): options, clients, the report. */

/*
 * -c clients, each a thread holding one QUIC connection that carries -m
 * streams at once; a finished stream is replaced at once by the next
 * request, as h2load -m does. When the server closes the connection
 * (GOAWAY on a reload, idle timeout) the client opens the next one; how
 * many were opened is reported. The transport is an engine (h3load.h):
 * libcurl's, an independent client, or one on ngtcp2 + nghttp3 directly,
 * cheap enough per request to load a fast server from one core.
 *
 * The summary copies h2load's "requests:" line so the scripts and tests
 * that read h2load's output read this one too. Certificates are not
 * verified: the peers under test use self-signed ones.
 *
 * -2 makes libcurl's engine speak HTTP/2 instead (prior knowledge on
 * http://), for load that must survive server reloads: h2load stops a
 * client for good at the first GOAWAY, where libcurl moves its next
 * requests to a new connection and retries those the GOAWAY refused.
 */
#include <errno.h>
#include <getopt.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "h3load.h"

#define MAX_CLIENTS 256
#define MAX_STREAMS 1024

static const struct h3l_engine *const engines[] = {
	&h3l_engine_curl,
#ifdef H3LOAD_NGTCP2
	&h3l_engine_ngtcp2,
#endif
};

static double t_start_us, t_measure_us, t_stop_us;

double h3l_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static unsigned hist_index(double us)
{
	uint64_t v = us < 1 ? 1 : (uint64_t)us;
	unsigned exp = 63 - (unsigned)__builtin_clzll(v);
	unsigned sub = exp >= 4 ? (unsigned)(v >> (exp - 4)) & (H3L_HIST_SUB - 1) :
				  (unsigned)(v << (4 - exp)) & (H3L_HIST_SUB - 1);
	unsigned i = exp * H3L_HIST_SUB + sub;

	return i < H3L_HIST_BUCKETS ? i : H3L_HIST_BUCKETS - 1;
}

/* The lower edge of bucket i, in microseconds. */
static double hist_value(unsigned i)
{
	unsigned exp = i / H3L_HIST_SUB, sub = i % H3L_HIST_SUB;

	return (double)(1ULL << exp) * (1.0 + sub / (double)H3L_HIST_SUB);
}

/* Requests started in the warm-up are made but not counted. */
static bool measuring(double t)
{
	return t >= t_measure_us;
}

bool h3l_begin(struct h3l_client *cl, double *started_us)
{
	double now = h3l_now_us();

	if (cl->opt->requests ? cl->quota <= 0 : now >= t_stop_us)
		return false;
	if (cl->quota > 0)
		cl->quota--;
	if (measuring(now))
		cl->c.started++;
	*started_us = now;
	return true;
}

/* -v: each error with the wall-clock time, to set beside the server's log. */
static void note_error(struct h3l_client *cl, const char *what, double started_us)
{
	struct timespec ts;
	struct tm tm;

	if (!cl->first_error[0])
		snprintf(cl->first_error, sizeof(cl->first_error), "%s", what);
	if (!cl->opt->verbose)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	fprintf(stderr, "h3load: %02d:%02d:%02d.%03ld client %d, after %.1f ms: %s\n", tm.tm_hour,
		tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, cl->id,
		(h3l_now_us() - started_us) / 1e3, what);
}

void h3l_done(struct h3l_client *cl, double started_us, long status, uint64_t body_bytes,
	      const char *error, bool timeout)
{
	double lat = h3l_now_us() - started_us;
	char what[64];

	if (!measuring(started_us))
		return;
	cl->c.done++;
	cl->c.bytes += body_bytes;
	if (error) {
		cl->c.timeouts += timeout;
		cl->c.errored++;
		note_error(cl, error, started_us);
		return;
	}
	if (status >= 100 && status < 600)
		cl->c.status[status / 100]++;
	if (status >= 200 && status < 400) {
		cl->c.succeeded++;
	} else {
		cl->c.failed++;
		snprintf(what, sizeof(what), "status %ld", status);
		note_error(cl, what, started_us);
	}
	cl->c.hist[hist_index(lat)]++;
	if (lat > cl->c.max_us)
		cl->c.max_us = lat;
}

void h3l_connected(struct h3l_client *cl)
{
	cl->c.connects++;
}

int h3l_body(struct h3l_client *cl, const void *data, size_t len)
{
	FILE *out = cl->opt->out;

	return !out || !len || fwrite(data, len, 1, out) == 1 ? 0 : -1;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: h3load [-e engine] [-c clients] [-m streams] [-D secs | -n requests]\n"
		   "              [-w warmup-secs] [-T timeout-ms] [-H 'Name: value']... [-o file]\n"
		   "              [-2] [-v] [-V] https://host[:port]/path\n"
		   "  -e  transport:");
	for (size_t i = 0; i < sizeof(engines) / sizeof(engines[0]); i++)
		fprintf(f, " %s%s", engines[i]->name, i ? "" : " (default)");
	fprintf(f, "\n"
		   "  -c  clients, each one connection in its own thread (default 1)\n"
		   "  -m  concurrent streams per connection (default 1)\n"
		   "  -D  run for this many seconds after the warm-up (default 5)\n"
		   "  -n  make this many requests in all instead of running for -D\n"
		   "  -w  seconds of load not counted before measuring (default 0)\n"
		   "  -T  per-request timeout in ms (default 10000)\n"
		   "  -H  an extra request header\n"
		   "  -o  write the response bodies to this file (\"-\": stdout), e.g. with -n 1\n"
		   "  -2  HTTP/2 instead, on the curl engine (http:// URLs: prior knowledge)\n"
		   "  -v  print every error as it happens\n"
		   "  -V  the engine's own trace of every transfer (stderr)\n");
}

static const struct h3l_engine *engine_find(const char *name)
{
	for (size_t i = 0; i < sizeof(engines) / sizeof(engines[0]); i++)
		if (strcmp(engines[i]->name, name) == 0)
			return engines[i];
	return NULL;
}

/* https://host[:port]/path (http:// with -2), host possibly a [v6] literal. */
static int parse_url(struct h3l_options *o)
{
	const char *p = o->url, *end, *colon;
	bool tls = strncmp(p, "https://", 8) == 0;
	size_t hlen;

	if (!tls && !(o->http2 && strncmp(p, "http://", 7) == 0))
		return -1;
	p += tls ? 8 : 7;
	end = p + strcspn(p, "/");
	if (*p == '[') {
		const char *rb = memchr(p, ']', (size_t)(end - p));
		if (!rb)
			return -1;
		colon = rb[1] == ':' ? rb + 1 : NULL;
		hlen = (size_t)(rb - p - 1);
		if (hlen >= sizeof(o->host))
			return -1;
		memcpy(o->host, p + 1, hlen);
	} else {
		colon = memchr(p, ':', (size_t)(end - p));
		hlen = (size_t)((colon ? colon : end) - p);
		if (hlen >= sizeof(o->host))
			return -1;
		memcpy(o->host, p, hlen);
	}
	o->host[hlen] = '\0';
	snprintf(o->port, sizeof(o->port), "%.*s", colon ? (int)(end - colon - 1) : 3,
		 colon ? colon + 1 : tls ? "443" : "80");
	snprintf(o->authority, sizeof(o->authority), "%.*s", (int)(end - p), p);
	snprintf(o->path, sizeof(o->path), "%s", *end ? end : "/");
	return o->host[0] && o->port[0] ? 0 : -1;
}

static int parse_args(int argc, char **argv, struct h3l_options *o,
		      const struct h3l_engine **engine)
{
	int ch;

	*o = (struct h3l_options){ .clients = 1, .streams = 1, .secs = 5, .timeout_ms = 10000 };
	*engine = engines[0];
	while ((ch = getopt(argc, argv, "e:c:m:D:n:w:T:H:o:2vVh")) != -1) {
		switch (ch) {
		case 'e':
			if (!(*engine = engine_find(optarg)))
				return -1;
			break;
		case 'c': o->clients = atoi(optarg); break;
		case 'm': o->streams = atoi(optarg); break;
		case 'D': o->secs = atof(optarg); break;
		case 'n': o->requests = atol(optarg); break;
		case 'w': o->warmup = atof(optarg); break;
		case 'T': o->timeout_ms = atol(optarg); break;
		case 'H': o->headers = curl_slist_append(o->headers, optarg); break;
		case 'o':
			o->out = strcmp(optarg, "-") ? fopen(optarg, "wb") : stdout;
			if (!o->out) {
				fprintf(stderr, "h3load: %s: %s\n", optarg, strerror(errno));
				return -1;
			}
			break;
		case '2': o->http2 = true; break;
		case 'v': o->verbose = true; break;
		case 'V': o->trace = true; break;
		case 'h': usage(stdout); exit(0);
		default: return -1;
		}
	}
	if (optind != argc - 1 || o->clients < 1 || o->clients > MAX_CLIENTS ||
	    o->streams < 1 || o->streams > MAX_STREAMS || o->secs <= 0 || o->warmup < 0 ||
	    o->requests < 0 || o->timeout_ms <= 0 || (o->http2 && *engine != &h3l_engine_curl))
		return -1;
	o->url = argv[optind];
	if (parse_url(o) != 0)
		return -1;
	if (o->requests)
		o->warmup = 0;
	return 0;
}

static void merge(struct h3l_counts *all, const struct h3l_counts *c)
{
	all->started += c->started;
	all->done += c->done;
	all->succeeded += c->succeeded;
	all->failed += c->failed;
	all->errored += c->errored;
	all->timeouts += c->timeouts;
	all->connects += c->connects;
	all->bytes += c->bytes;
	for (int i = 0; i < 6; i++)
		all->status[i] += c->status[i];
	for (int i = 0; i < H3L_HIST_BUCKETS; i++)
		all->hist[i] += c->hist[i];
	if (c->max_us > all->max_us)
		all->max_us = c->max_us;
}

static double percentile(const struct h3l_counts *c, double p)
{
	uint64_t total = 0, want, seen = 0;

	for (int i = 0; i < H3L_HIST_BUCKETS; i++)
		total += c->hist[i];
	if (!total)
		return 0;
	want = (uint64_t)(p * (double)total);
	for (unsigned i = 0; i < H3L_HIST_BUCKETS; i++) {
		seen += c->hist[i];
		if (seen > want)
			return hist_value(i);
	}
	return c->max_us;
}

static void report(const struct h3l_counts *c, double secs, const char *engine)
{
	printf("finished in %.2fs, %.2f req/s, %.2fMB/s\n", secs, c->succeeded / secs,
	       (double)c->bytes / secs / 1e6);
	printf("requests: %ld total, %ld started, %ld done, %ld succeeded, %ld failed, "
	       "%ld errored, %ld timeout\n", c->started, c->started, c->done, c->succeeded,
	       c->failed, c->errored, c->timeouts);
	printf("status codes: %ld 2xx, %ld 3xx, %ld 4xx, %ld 5xx\n", c->status[2], c->status[3],
	       c->status[4], c->status[5]);
	printf("latency (ms): p50 %.3f, p90 %.3f, p99 %.3f, max %.3f\n",
	       percentile(c, 0.50) / 1e3, percentile(c, 0.90) / 1e3, percentile(c, 0.99) / 1e3,
	       c->max_us / 1e3);
	printf("connections: %ld opened (engine %s)\n", c->connects, engine);
}

int main(int argc, char **argv)
{
	static struct h3l_client clients[MAX_CLIENTS];
	const struct h3l_engine *engine;
	struct h3l_counts all = { 0 };
	struct h3l_options o;
	double elapsed;
	int bad = 0;

	if (parse_args(argc, argv, &o, &engine) != 0) {
		usage(stderr);
		return 2;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "h3load: libcurl did not initialise\n");
		return 1;
	}
	if (engine == &h3l_engine_curl && !(curl_version_info(CURLVERSION_NOW)->features &
					    (o.http2 ? CURL_VERSION_HTTP2 : CURL_VERSION_HTTP3))) {
		fprintf(stderr, "h3load: this libcurl has no HTTP/%d\n", o.http2 ? 2 : 3);
		return 1;
	}
	t_start_us = h3l_now_us();
	t_measure_us = t_start_us + o.warmup * 1e6;
	t_stop_us = t_measure_us + o.secs * 1e6;
	for (int i = 0; i < o.clients; i++) {
		struct h3l_client *cl = &clients[i];

		cl->opt = &o;
		cl->id = i;
		cl->quota = o.requests ? o.requests / o.clients + (i < o.requests % o.clients) : -1;
		if (pthread_create(&cl->thread, NULL, engine->run, cl) != 0) {
			fprintf(stderr, "h3load: pthread_create: %s\n", strerror(errno));
			return 1;
		}
	}
	for (int i = 0; i < o.clients; i++) {
		pthread_join(clients[i].thread, NULL);
		merge(&all, &clients[i].c);
		if (clients[i].first_error[0] && bad++ == 0)
			fprintf(stderr, "h3load%s: first error: %s\n", o.http2 ? " -2" : "",
				clients[i].first_error);
	}
	elapsed = (h3l_now_us() - (o.requests ? t_start_us : t_measure_us)) / 1e6;
	if (o.out && o.out != stdout)
		fclose(o.out);
	if (o.out != stdout)
		report(&all, elapsed, engine->name);
	else
		fflush(stdout);
	curl_slist_free_all(o.headers);
	curl_global_cleanup();
	return all.succeeded > 0 ? 0 : 1;
}
