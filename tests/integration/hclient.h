/* SPDX-License-Identifier: MIT */
/*
 * hclient.h - a raw HTTP/1.1 client that keeps whole bodies (sized,
 * chunked or to close), for suites that check what a proxy or origin sent
 * byte for byte.  Functions return 0 or -errno (-ECONNRESET, -ETIMEDOUT,
 * -EPROTO) unless said otherwise.
 */
#ifndef SW_IT_HCLIENT_H
#define SW_IT_HCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HC_BUF (256 * 1024)
#define IT_HC_IO_MS 5000              /* hc_req's cap on one response */

struct hconn {
	int fd;
	size_t len;
	char buf[HC_BUF];
};

struct hres {
	int status;
	char head[16384];
	char *body;                   /* NUL-terminated; free with hres_free */
	size_t body_len, body_cap;
	bool truncated;               /* the connection ended before the body did */
};

void hres_free(struct hres *r);
/* A connection to 127.0.0.1:port; fails the test when connect fails. */
struct hconn *hc_new(int port);
void hc_free(struct hconn *c);
int hc_send(struct hconn *c, const void *p, size_t n);
/* More bytes before the deadline (it_now_ms): >0 read, 0 EOF, -errno. */
int hc_fill(struct hconn *c, int64_t deadline);
/* Drops n buffered bytes. */
void hc_consume(struct hconn *c, size_t n);
/* Until n bytes are buffered: 0, or what hc_fill said when it could not (EOF: -ECONNRESET). */
int hc_need(struct hconn *c, size_t n, int64_t deadline);
/* Reads one response; 0 (with r filled), or -errno when no complete head came. */
int hc_read(struct hconn *c, struct hres *r, bool head_req, int timeout_ms);
/*
 * One request on c: Host (NULL: "localhost"), extra header lines (each
 * ending in CRLF), a body (NULL: none); then its response.
 */
int hc_req(struct hconn *c, const char *method, const char *target, const char *host,
	   const char *hdrs, const char *body, struct hres *r);
/* The same on a fresh connection. */
int hc_req1(int port, const char *method, const char *target, const char *host,
	    const char *hdrs, const char *body, struct hres *r);
int hc_get1(int port, const char *target, const char *host, const char *hdrs, struct hres *r);

#endif
