/* SPDX-License-Identifier: MIT */
/* h3load.h - what the HTTP/3 load generator's driver shares with its engines. */
#ifndef H3LOAD_H
#define H3LOAD_H

#include <curl/curl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Latency histogram: 16 linear steps inside each power of two of microseconds. */
#define H3L_HIST_SUB 16
#define H3L_HIST_BUCKETS (40 * H3L_HIST_SUB)
#define H3L_ERROR_MAX 320

struct h3l_options {
	const char *url;
	char host[256], port[8], authority[300], path[2048];  /* parsed from url */
	int clients, streams;
	double secs, warmup;
	long requests;          /* 0: run for secs instead */
	long timeout_ms;
	struct curl_slist *headers;
	FILE *out;              /* -o: bodies are written here (for checks, with -n 1) */
	bool http2;             /* -2: HTTP/2 on the curl engine */
	bool verbose, trace;
};

struct h3l_counts {
	long started, done, succeeded, failed, errored, timeouts;
	long status[6];         /* by hundreds: 1xx..5xx */
	long connects;
	uint64_t bytes;
	uint64_t hist[H3L_HIST_BUCKETS];
	double max_us;
};

/* One client: a thread and, at any time, one QUIC connection of its engine. */
struct h3l_client {
	pthread_t thread;
	const struct h3l_options *opt;
	int id;                 /* 0.. -c, for -v */
	long quota;             /* requests this client still starts (-n), or -1 */
	struct h3l_counts c;
	char first_error[H3L_ERROR_MAX];
};

/* An engine runs one client until h3l_begin() says stop and its streams are done. */
struct h3l_engine {
	const char *name;
	void *(*run)(void *client);
};

extern const struct h3l_engine h3l_engine_curl;
extern const struct h3l_engine h3l_engine_ngtcp2;

double h3l_now_us(void);

/*
 * Whether the client starts another request; if so it is counted and its
 * start time stored in *started_us (pass it back to h3l_done()).
 */
bool h3l_begin(struct h3l_client *cl, double *started_us);

/*
 * A request ended: status is the HTTP status (0 if none arrived), error
 * NULL when the exchange completed, else what went wrong; timeout says
 * whether that was the per-request deadline.
 */
void h3l_done(struct h3l_client *cl, double started_us, long status, uint64_t body_bytes,
	      const char *error, bool timeout);

/* A connection was opened (counted for the report). */
void h3l_connected(struct h3l_client *cl);

/* Response body bytes, written to -o's file when there is one; -1 if that failed. */
int h3l_body(struct h3l_client *cl, const void *data, size_t len);

#endif
