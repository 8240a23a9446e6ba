/* SPDX-License-Identifier: MIT */
/*
 * h3_fixture.h - what the HTTP/3 suites (test_http3_*.c) share: swerver
 * with a dual TCP/UDP listener and a small site, libcurl's HTTP/3 (the
 * GnuTLS flavour with ngtcp2 and nghttp3) and gtlsclient, ngtcp2's own
 * client, another QUIC stack than libcurl's use of it.
 */
#ifndef SW_IT_H3_FIXTURE_H
#define SW_IT_H3_FIXTURE_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>
#include "harness.h"

#define BIG_BYTES (1 << 20)
#define LONG_BYTES (6 << 20)
#define LONG_RATE (3 << 20)      /* the slow client's bytes per second: a 2 s download */

/* Backend i exists and HTTP/3 is built (else a note, and the test returns). */
bool have_h3(int i);

/* A certificate for 127.0.0.1, a site with a big file and precompressed siblings. */
void h3_make_site(void);

/* A "limits" object for the next config written, or NULL: the header limit tests set it. */
extern const char *h3_cfg_limits;

/* The config start_h3 writes: one dual listener, TLS, QUIC, the access log to access_target. */
void h3_write_config(const char *path, int backend, unsigned workers, int port,
		  const char *quic_extra, const char *access_target);

/* Plain HTTP/1.1 on TCP and HTTP/3 on UDP, both on *port. */
struct it_proc *start_h3(int backend, unsigned workers, const char *quic_extra, int *port);

struct fetch {
	CURLcode rc;
	long code;
	long version;
	long connects;
	char *body;
	size_t len, cap;
	char head[4096];
	size_t head_len;
};

CURL *h3_easy(const char *url, struct fetch *f, struct curl_slist *hdrs, curl_off_t speed);

void h3_info(CURL *c, struct fetch *f);

/* One GET over HTTP/3 only, with the request headers in hdrs (or none). */
void h3_get_list(int port, const char *path, struct curl_slist *hdrs, curl_off_t speed,
		 struct fetch *f);

/* One GET over HTTP/3 only; extra is one request header or NULL. */
void h3_get(int port, const char *path, const char *extra, curl_off_t speed, struct fetch *f);

bool same_as_file(const struct fetch *f, const char *name);

/* Runs gtlsclient against the port; its quic dump is in the output when dump is set. */
char *h3_gtls(int port, const char *opts, const char *path, bool dump);

/* The slot byte of the server's connection ID, from gtlsclient's packet log; -1 none. */
int server_slot(const char *dump);
/* An Initial's DCID as gtlsclient's --dcid takes it: 18 bytes in hex, the first `first`. */
void initial_dcid(char out[37], unsigned first);

/* A download of /long.bin at LONG_RATE on its own thread (pthread_create's arg). */
struct slow_dl {
	int port;
	struct fetch f;
};

void *slow_download(void *arg);
/* The end of a long client log, short enough for a Check failure message. */
const char *tail_of(const char *o);

/*
 * The suite "http3_NAME" with one tcase NAME (a 60 s cap) for the caller
 * to fill; exits 77 (SKIP) when gtlsclient is not installed.
 */
Suite *h3_suite(const char *name, TCase **tc);

/* The runner's init and fini: the harness's, and libcurl's global state. */
void h3_suite_init(void);
void h3_suite_fini(void);
/* The suite an HTTP/3 test file gives check_main.c's main(). */
#define H3_SUITE(make_fn) \
	const struct sw_test_suite sw_test_suite = { (make_fn), h3_suite_init, h3_suite_fini }

#endif
