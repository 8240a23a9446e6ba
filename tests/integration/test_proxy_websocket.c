/* SPDX-License-Identifier: MIT */
/* test_proxy_websocket.c - the reverse proxy end to end: WebSocket through the proxy.  Upstreams are tests/backend/origin (origins.h). */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "core/module.h"
#include "proxy_fixture.h"

/* ---- WebSocket through the proxy ---- */

static void ws_send(struct hconn *c, int op, const void *data, size_t n)
{
	static const unsigned char mask[4] = { 0x3c, 0xa5, 0x0f, 0x71 };
	unsigned char *f = malloc(n + 14);
	size_t hl = 2;

	ck_assert_ptr_nonnull(f);
	f[0] = (unsigned char)(0x80 | op);
	if (n < 126) {
		f[1] = (unsigned char)(0x80 | n);
	} else if (n < 65536) {
		f[1] = 0x80 | 126;
		f[2] = (unsigned char)(n >> 8);
		f[3] = (unsigned char)n;
		hl = 4;
	} else {
		f[1] = 0x80 | 127;
		for (int k = 0; k < 8; k++)
			f[2 + k] = (unsigned char)((uint64_t)n >> (56 - 8 * k));
		hl = 10;
	}
	memcpy(f + hl, mask, 4);
	hl += 4;
	for (size_t k = 0; k < n; k++)
		f[hl + k] = ((const unsigned char *)data)[k] ^ mask[k & 3];
	ck_assert_int_eq(hc_send(c, f, hl + n), 0);
	free(f);
}

/* One frame from the server: 0 (op, payload malloc'ed into *data), or -errno. */
static int ws_recv(struct hconn *c, int *op, char **data, size_t *n, int timeout_ms)
{
	int64_t deadline = it_now_ms() + timeout_ms;
	const unsigned char *p;
	size_t hl = 2;
	uint64_t len;
	int rc;

	if ((rc = hc_need(c, 2, deadline)) != 0)
		return rc;
	p = (const unsigned char *)c->buf;
	IT_ASSERT(!(p[1] & 0x80), "a frame from the server is masked");
	len = p[1] & 0x7f;
	hl += len == 126 ? 2 : len == 127 ? 8 : 0;
	if ((rc = hc_need(c, hl, deadline)) != 0)
		return rc;
	p = (const unsigned char *)c->buf;
	if (len == 126) {
		len = (uint64_t)p[2] << 8 | p[3];
	} else if (len == 127) {
		len = 0;
		for (int k = 0; k < 8; k++)
			len = len << 8 | p[2 + k];
	}
	IT_ASSERT(hl + len <= sizeof(c->buf), "frame of %llu bytes", (unsigned long long)len);
	if ((rc = hc_need(c, hl + (size_t)len, deadline)) != 0)
		return rc;
	*op = c->buf[0] & 0x0f;
	*n = (size_t)len;
	*data = malloc(*n + 1);
	memcpy(*data, c->buf + hl, *n);
	(*data)[*n] = '\0';
	hc_consume(c, hl + (size_t)len);
	return 0;
}

START_TEST(websocket)
{
	static const char upgrade[] =
		"GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
	struct it_origin *a;
	struct hconn *c;
	struct hres r;
	char v[128], *data, *big;
	size_t n;
	int port, op, rc;

	if (!px_have_proxy(_i))
		return;
	a = it_origin_start("A");
	px_start(_i, 1, NULL, &port, ONE_ROUTE, a->port);

	c = hc_new(port);
	ck_assert_int_eq(hc_send(c, upgrade, strlen(upgrade)), 0);
	rc = hc_read(c, &r, false, IT_HC_IO_MS);
	IT_ASSERT(rc == 0 && r.status == 101, "WebSocket upgrade through the proxy: rc %d status %d\n%s",
		  rc, r.status, r.head);
	IT_ASSERT(it_header(r.head, "Sec-WebSocket-Accept", v, sizeof(v)) &&
		  strcmp(v, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") == 0, "Sec-WebSocket-Accept:\n%s", r.head);
	IT_ASSERT(it_header(r.head, "Upgrade", v, sizeof(v)) && strcasecmp(v, "websocket") == 0,
		  "101 without Upgrade: websocket:\n%s", r.head);
	IT_ASSERT(it_header(r.head, "Connection", v, sizeof(v)) && strcasestr(v, "upgrade"),
		  "101 without Connection: upgrade:\n%s", r.head);
	IT_ASSERT(px_origin_of(&r) == 'A', "101 without X-Origin: A:\n%s", r.head);
	hres_free(&r);

	ws_send(c, 1, "hello through the proxy", 23);
	rc = ws_recv(c, &op, &data, &n, IT_HC_IO_MS);
	IT_ASSERT(rc == 0 && op == 1 && n == 23 && memcmp(data, "hello through the proxy", 23) == 0,
		  "text frame echo: rc %d op %d \"%s\"", rc, op, rc == 0 ? data : "");
	free(data);

	big = malloc(70000);
	for (size_t k = 0; k < 70000; k++)
		big[k] = (char)(k * 13 + 1);
	ws_send(c, 2, big, 70000);
	rc = ws_recv(c, &op, &data, &n, IT_HC_IO_MS);
	IT_ASSERT(rc == 0 && op == 2 && n == 70000 && memcmp(data, big, 70000) == 0,
		  "70000-byte binary frame echo: rc %d op %d len %zu", rc, op, rc == 0 ? n : 0);
	free(data);
	free(big);

	ws_send(c, 9, "ping", 4);
	rc = ws_recv(c, &op, &data, &n, IT_HC_IO_MS);
	IT_ASSERT(rc == 0 && op == 10 && n == 4 && memcmp(data, "ping", 4) == 0,
		  "ping: rc %d op %d (want a pong)", rc, op);
	free(data);

	ws_send(c, 8, "\x03\xe8", 2);
	rc = ws_recv(c, &op, &data, &n, IT_HC_IO_MS);
	IT_ASSERT(rc == 0 && op == 8, "close: rc %d op %d (want the close echoed)", rc, op);
	free(data);
	c->len = 0;
	rc = hc_fill(c, it_now_ms() + 4000);
	IT_ASSERT(rc == 0 || rc == -ECONNRESET,
		  "the client connection did not end after the close handshake: %s",
		  rc > 0 ? "more bytes" : strerror(-rc));
	hc_free(c);

	/* the proxy serves on as before */
	rc = hc_get1(port, "/name", NULL, NULL, &r);
	IT_ASSERT(rc == 0 && r.status == 200 && strcmp(r.body, "A") == 0,
		  "GET /name after the WebSocket: rc %d status %d", rc, r.status);
	hres_free(&r);
}
END_TEST

static Suite *proxy_websocket_suite(void)
{
	Suite *s = suite_create("proxy_websocket");
	TCase *tc = it_tcase("websocket");

	tcase_add_checked_fixture(tc, NULL, it_origins_kill);
	tcase_add_loop_test(tc, websocket, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

IT_SUITE(proxy_websocket_suite);
