/* SPDX-License-Identifier: MIT */
/* test_proxy_protocol.c - listeners[].proxy_protocol behind Debian's haproxy (send-proxy, send-proxy-v2, over TLS), and raw headers for the refusals. */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "core/module.h"
#include "proxy_fixture.h"

/* curl's source address: not haproxy's own 127.0.0.1, so the two cannot be confused. */
#define CLIENT "127.0.0.5"

struct pp {
	struct it_proc *p;
	int plain;          /* listener 0: no PROXY header (readiness, /metrics) */
	int pp;             /* proxy_protocol */
	int pps;            /* proxy_protocol, then TLS */
	int h1, h2, hs, hs1; /* haproxy: send-proxy, send-proxy-v2; to pps: send-proxy-v2, send-proxy */
	char log[IT_PATH_MAX];
};

static pid_t haproxy_pid;

static void haproxy_kill(void)
{
	if (haproxy_pid > 0) {
		kill(haproxy_pid, SIGKILL);
		waitpid(haproxy_pid, NULL, 0);
	}
	haproxy_pid = 0;
}

static void teardown(void)
{
	haproxy_kill();
	it_origins_kill();
}

static bool have(int i)
{
	if (!it_backend(i))
		return false;
	if (!sw_module_find("proxy") || !sw_module_find("tls")) {
		fprintf(stderr, "note: built without the proxy or TLS; skipping\n");
		return false;
	}
	return true;
}

static void start_swerver(struct pp *s, int i)
{
	struct it_origin *o = it_origin_start("A");
	char cfg[IT_PATH_MAX];
	int ports[2];

	it_free_ports(ports, 2);
	s->pp = ports[0];
	s->pps = ports[1];
	it_make_cert(it_tmpdir());
	it_path(s->log, "access.log");
	it_path(cfg, "swerver.json");
	it_write_filef(cfg,
		"{\n"
		"  \"server\": {\"listeners\": [{\"address\": \"127.0.0.1\", \"port\": 0},\n"
		"      {\"address\": \"127.0.0.1\", \"port\": %d, \"proxy_protocol\": true},\n"
		"      {\"address\": \"127.0.0.1\", \"port\": %d, \"use_tls\": true, \"proxy_protocol\": true}],\n"
		"    \"workers\": 1, \"io_backend\": \"%s\", \"trusted_proxies\": [\"127.0.0.1/32\"]},\n"
		"  \"tls\": {\"cert_path\": \"%s/cert.pem\", \"key_path\": \"%s/key.pem\"},\n"
		"  \"timeouts\": {\"drain_ms\": 1000, \"header_ms\": 1000},\n"
		"  \"access_log\": {\"format\": \"json\", \"target\": \"%s\"},\n"
		"  " ONE_ROUTE "\n"
		"}\n", s->pp, s->pps, it_backend(i), it_tmpdir(), it_tmpdir(), s->log, o->port);
	s->p = it_start_ready(cfg, "127.0.0.1", &s->plain);
}

/* A connection to 127.0.0.1:port from src; -1 when refused. */
static int connect_from(const char *src, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET }, to = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	inet_pton(AF_INET, src, &a.sin_addr);
	ck_assert_msg(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0, "bind %s: %s", src, strerror(errno));
	inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
	to.sin_port = htons((uint16_t)port);
	if (connect(fd, (struct sockaddr *)&to, sizeof(to)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void start_haproxy(struct pp *s)
{
	char cfg[IT_PATH_MAX], out[IT_PATH_MAX];
	int ports[4], fd = -1;
	int64_t end;

	it_free_ports(ports, 4);
	s->h1 = ports[0];
	s->h2 = ports[1];
	s->hs = ports[2];
	s->hs1 = ports[3];
	it_path(cfg, "haproxy.cfg");
	it_path(out, "haproxy.log");
	it_write_filef(cfg,
		"global\n  maxconn 64\n"
		"defaults\n  mode tcp\n  timeout connect 5s\n  timeout client 20s\n  timeout server 20s\n"
		"frontend v1\n  bind 127.0.0.1:%d\n  default_backend v1\n"
		"backend v1\n  server s 127.0.0.1:%d send-proxy\n"
		"frontend v2\n  bind 127.0.0.1:%d\n  default_backend v2\n"
		"backend v2\n  server s 127.0.0.1:%d send-proxy-v2\n"
		"frontend tls\n  bind 127.0.0.1:%d\n  default_backend tls\n"
		"backend tls\n  server s 127.0.0.1:%d send-proxy-v2\n"
		"frontend tls1\n  bind 127.0.0.1:%d\n  default_backend tls1\n"
		"backend tls1\n  server s 127.0.0.1:%d send-proxy\n",
		s->h1, s->pp, s->h2, s->pp, s->hs, s->pps, s->hs1, s->pps);
	fflush(NULL);
	haproxy_pid = fork();
	ck_assert_int_ge(haproxy_pid, 0);
	if (haproxy_pid == 0) {
		if (!freopen(out, "w", stdout) || !freopen(out, "a", stderr))
			_exit(127);
		execlp("haproxy", "haproxy", "-db", "-f", cfg, (char *)NULL);
		_exit(127);
	}
	/* Listening once every frontend takes a connection. */
	for (end = it_now_ms() + IT_WAIT_MS; it_now_ms() < end; it_sleep_ms(20)) {
		int ok = 0;
		for (int k = 0; k < 4; k++) {
			fd = connect_from("127.0.0.1", ports[k]);
			if (fd >= 0) {
				ok++;
				close(fd);
			}
		}
		if (ok == 4)
			return;
	}
	char *log = it_read_file(out);
	IT_ASSERT(false, "haproxy did not listen:\n%s", log);
}

/* Through haproxy: the origin saw the client's address in X-Forwarded-For, and so did the access log. */
static void expect_client(struct pp *s, const char *args, const char *url, const char *version)
{
	struct it_cres r;
	char *eh, *log, rid[80];
	const char *id;
	bool found = false;

	it_curl(&r, args, url);
	IT_ASSERT(r.code == 200, "%s %s: curl rc %d, status %d", args, url, r.rc, r.code);
	IT_ASSERT(strcmp(r.version, version) == 0, "%s: HTTP/%s, wanted %s", url, r.version, version);
	eh = px_echo_head(r.body);
	EXPECT_LINE(eh, "X-Forwarded-For: " CLIENT);
	id = it_cres_header(&r, "X-Request-Id");
	IT_ASSERT(id, "no X-Request-Id:\n%s", r.head);
	snprintf(rid, sizeof(rid), "\"request_id\":\"%s\"", id);
	for (int64_t end = it_now_ms() + IT_WAIT_MS; !found && it_now_ms() < end; it_sleep_ms(20)) {
		log = it_read_file(s->log);
		char *line = strstr(log, rid);
		if (line) {
			char *bol = line, *eol = strchr(line, '\n');
			while (bol > log && bol[-1] != '\n')
				bol--;
			if (eol)
				*eol = '\0';
			IT_ASSERT(strstr(bol, "\"client\":\"" CLIENT "\"") && strstr(bol, "\"peer\":\"" CLIENT "\""),
				  "the access log did not name " CLIENT ":\n%s", bol);
			found = true;
		}
		free(log);
	}
	IT_ASSERT(found, "no access log line with %s", rid);
	free(eh);
	it_cres_free(&r);
}

START_TEST(test_behind_haproxy)
{
	struct pp s;
	char url[128];

	if (!have(_i))
		return;
	start_swerver(&s, _i);
	start_haproxy(&s);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/echo", s.h1);
	expect_client(&s, "--interface " CLIENT, url, "1.1");             /* send-proxy (v1) */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/echo", s.h2);
	expect_client(&s, "--interface " CLIENT, url, "1.1");             /* send-proxy-v2 */
	expect_client(&s, "--interface " CLIENT " --http2-prior-knowledge", url, "2");
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/echo", s.hs);
	expect_client(&s, "-k --http2 --interface " CLIENT, url, "2");   /* v2, then TLS with ALPN h2 */
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/echo", s.hs1);
	expect_client(&s, "-k --http1.1 --interface " CLIENT, url, "1.1"); /* v1 read to its CRLF, then TLS */
	IT_ASSERT(it_metric(s.plain, "swerver_proxy_protocol_refused_total{reason=\"header\"}") == 0,
		  "haproxy's headers were refused");
}
END_TEST

/* What a refused connection gets: nothing at all, then the close. */
static void expect_closed(int fd, const void *bytes, size_t len, const char *what)
{
	char buf[256];
	ssize_t n;
	struct timeval tv = { .tv_sec = 20 };   /* a cap; header_ms (1 s) ends the slow case */

	if (len)
		IT_ASSERT(send(fd, bytes, len, MSG_NOSIGNAL) == (ssize_t)len, "%s: send", what);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	n = recv(fd, buf, sizeof(buf) - 1, 0);
	if (n > 0)
		buf[n] = '\0';
	IT_ASSERT(n == 0 || (n < 0 && errno == ECONNRESET), "%s: not closed without an answer (%zd: %s)",
		  what, n, n > 0 ? buf : strerror(errno));
	close(fd);
}

/* A raw header and a request in one send from a trusted peer: served, as `as`. */
static void expect_served_as(int port, const void *hdr, size_t hlen, const char *as)
{
	const char *req = "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n";
	char bytes[1024], want[128];
	struct it_conn c = { .fd = connect_from("127.0.0.1", port) };
	struct it_response r;

	ck_assert_int_ge(c.fd, 0);
	memcpy(bytes, hdr, hlen);
	memcpy(bytes + hlen, req, strlen(req));
	ck_assert(send(c.fd, bytes, hlen + strlen(req), MSG_NOSIGNAL) == (ssize_t)(hlen + strlen(req)));
	IT_ASSERT(it_conn_read(&c, &r, IT_IO_MS) == 0 && r.status == 200, "raw header for %s: %d", as, r.status);
	snprintf(want, sizeof(want), "X-Forwarded-For: %s", as);
	IT_ASSERT(it_has_line(c.buf, want), "not forwarded as %s:\n%s", as, c.buf);
	close(c.fd);
}

/* v1 TCP6, v2 INET6 with TLVs after the addresses, v2 LOCAL (the socket's own address). */
START_TEST(test_raw_headers)
{
	static const char v2_tlv[] = "\r\n\r\n\0\r\nQUIT\n\x21\x21\x00\x2d"
		"\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x09" "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01"
		"\x30\x39\x00\x50" "\x04\x00\x02\0\0" "\x01\x00\x02h2";
	static const char v2_local[] = "\r\n\r\n\0\r\nQUIT\n\x20\x00\x00\x00";
	const char *v1 = "PROXY TCP6 2001:db8::7 ::1 1 80\r\n";
	struct pp s;

	if (!have(_i))
		return;
	start_swerver(&s, _i);
	expect_served_as(s.pp, v1, strlen(v1), "2001:db8::7");
	expect_served_as(s.pp, v2_tlv, sizeof(v2_tlv) - 1, "2001:db8::9");
	expect_served_as(s.pp, v2_local, sizeof(v2_local) - 1, "127.0.0.1");
}
END_TEST

START_TEST(test_refused)
{
	static const char v2_cut[] = "\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x0c" "\x7f\x00\x00";
	static const char v2_bad_sig[] = "\r\n\r\n\0\r\nQUIZ\n\x21\x11\x00\x0c";
	const char *req = "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n";
	char good[256];
	struct pp s;
	int fd;

	if (!have(_i))
		return;
	start_swerver(&s, _i);
	/* No header at all: the first bytes are HTTP. */
	expect_closed(connect_from("127.0.0.1", s.pp), req, strlen(req), "no header");
	/* A malformed v1 line, and a bad v2 signature. */
	expect_closed(connect_from("127.0.0.1", s.pp), "PROXY TCP4 1.2.3.4 x 1 2\r\n", 26, "bad v1");
	expect_closed(connect_from("127.0.0.1", s.pp), v2_bad_sig, sizeof(v2_bad_sig) - 1, "bad v2 signature");
	/* A v2 header cut short, then nothing more: ended by timeouts.header_ms. */
	expect_closed(connect_from("127.0.0.1", s.pp), v2_cut, sizeof(v2_cut) - 1, "truncated v2");
	/* The same before TLS. */
	expect_closed(connect_from("127.0.0.1", s.pps), req, strlen(req), "no header before TLS");
	/* A valid header from a peer outside trusted_proxies. */
	snprintf(good, sizeof(good), "PROXY TCP4 192.0.2.7 127.0.0.1 1 %d\r\n%s", s.pp, req);
	fd = connect_from(CLIENT, s.pp);
	expect_closed(fd, good, strlen(good), "untrusted peer");
	/* And a valid one from a trusted peer is served, as 192.0.2.7. */
	fd = connect_from("127.0.0.1", s.pp);
	ck_assert_int_ge(fd, 0);
	ck_assert(send(fd, good, strlen(good), MSG_NOSIGNAL) == (ssize_t)strlen(good));
	{
		struct it_conn c = { .fd = fd };
		struct it_response r;
		IT_ASSERT(it_conn_read(&c, &r, IT_IO_MS) == 0 && r.status == 200, "trusted raw v1: %d", r.status);
		IT_ASSERT(strstr(c.buf, "X-Forwarded-For: 192.0.2.7"), "not forwarded as 192.0.2.7:\n%s", c.buf);
		close(fd);
	}
	IT_ASSERT(it_metric(s.plain, "swerver_proxy_protocol_refused_total{reason=\"untrusted\"}") == 1,
		  "untrusted refusals not counted");
	IT_ASSERT(it_metric(s.plain, "swerver_proxy_protocol_refused_total{reason=\"header\"}") == 5,
		  "header refusals not counted");
	IT_ASSERT(it_log_has(s.p, "not in server.trusted_proxies"), "the untrusted peer was not logged");
}
END_TEST

static Suite *proxy_protocol_suite(void)
{
	Suite *s = suite_create("proxy_protocol");
	TCase *tc = it_tcase("proxy_protocol");

	it_require_tool("haproxy", "haproxy");
	it_require_tool("curl", "curl");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_loop_test(tc, test_behind_haproxy, 0, 2);
	tcase_add_loop_test(tc, test_refused, 0, 2);
	tcase_add_loop_test(tc, test_raw_headers, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

IT_SUITE(proxy_protocol_suite);
