/* SPDX-License-Identifier: MIT */
/* test_auth.c - routes[].auth end to end over HTTP/1.1, HTTP/2 (curl) and HTTP/3 (libcurl): api_key, basic, chain, refusals, X-Consumer, metrics, the access log, reload.  The upstream is tests/backend/origin, whose /echo shows what reached it. */
#include <config.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef HAVE_LIBCURL_H3
#include <curl/curl.h>
#endif
#include "core/module.h"
#include "harness.h"
#include "origins.h"

/* Every client command runs under this cap, so a hung client cannot hang the suite. */
#define T "timeout -k 1 25 "
#define ALICE_KEY "k-alice-0123456789"
#define BOB_KEY "k-bob-0123456789"
/* sha256 of BOB_KEY: the config holds only the digest */
#define BOB_SHA "051a7bf3e59e49c925f6e9f960fc161de4e5efb77af24072c52e1341c621328f"

static bool have_auth(int i)
{
	if (!it_backend(i))
		return false;
	if (!sw_module_find("proxy") || !sw_module_find("auth")) {
		fprintf(stderr, "note: built without the proxy or auth; skipping\n");
		return false;
	}
	return true;
}

/* ---- the server ---- */

static char htpasswd[IT_PATH_MAX], access_log[IT_PATH_MAX], config[IT_PATH_MAX];

/* One line from a shell command, without its newline. */
static void first_line(const char *cmd, char *out, size_t size)
{
	int st;
	char *o = it_run(&st, "%s", cmd);

	IT_ASSERT(st == 0, "%s: %s", cmd, o);
	snprintf(out, size, "%.*s", (int)strcspn(o, "\n"), o);
	free(o);
}

/* alice:wonderland as SHA-512-crypt, bob:builder as bcrypt, made by the tools operators use. */
static void write_htpasswd(const char *alice_pass)
{
	char sha[256], bcrypt[256], cmd[128];

	snprintf(cmd, sizeof(cmd), "openssl passwd -6 '%s'", alice_pass);
	first_line(cmd, sha, sizeof(sha));
	first_line("mkpasswd -m bcrypt -R 5 builder", bcrypt, sizeof(bcrypt));
	it_path(htpasswd, "htpasswd");
	it_write_filef(htpasswd, "# users\nalice:%s\nbob:%s\n", sha, bcrypt);
}

/*
 * Routes, each "/X" forwarded to the origin as "/": /key (api_key), /basic
 * (basic), /chain (api_key then basic then anonymous "guest"), /open (no
 * auth).  QUIC on the same port number for HTTP/3.
 */
static struct it_proc *start(int backend, int *port)
{
	int oport = it_origin_start("o")->port;

	write_htpasswd("wonderland");
	it_path(access_log, "access.log");
	it_path(config, "swerver.json");
	it_make_cert(it_tmpdir());
	*port = it_free_dual_port();
#define R(p, auth) "{\"path_prefix\": \"" p "\", \"upstream\": \"o\", \"rewrite_pattern\": \"" p "\"," \
		" \"rewrite_replacement\": \"/\"" auth "}"
#define KEYS "{\"keys\": [{\"name\": \"alice\", \"key\": \"" ALICE_KEY "\"}," \
		" {\"name\": \"bob\", \"key_sha256\": \"" BOB_SHA "\"}]}"
	it_write_filef(config,
		"{ \"server\": { \"listeners\": [ {\"address\": \"127.0.0.1\", \"port\": %d, \"quic_enabled\": true} ],"
		"    \"workers\": 1, \"io_backend\": \"%s\", \"trusted_proxies\": [\"127.0.0.1\"] },"
		"  \"tls\": { \"cert_path\": \"%s/cert.pem\", \"key_path\": \"%s/key.pem\" },"
		"  \"access_log\": { \"format\": \"json\", \"target\": \"%s\" },"
		"  \"upstreams\": [ {\"name\": \"o\", \"servers\": [ {\"address\": \"127.0.0.1\", \"port\": %d} ]} ],"
		"  \"routes\": [ "
		R("/key", ", \"auth\": {\"realm\": \"keys\", \"api_key\": " KEYS "}") ","
		R("/basic", ", \"auth\": {\"realm\": \"staff\", \"basic\": {\"htpasswd\": \"%s\"}}") ","
		R("/chain", ", \"auth\": {\"realm\": \"mixed\", \"chain\": [{\"api_key\": " KEYS "},"
		  " {\"basic\": {\"htpasswd\": \"%s\"}}, {\"anonymous\": {\"consumer\": \"guest\"}}]}") ","
		R("/rl", ", \"auth\": {\"basic\": {\"htpasswd\": \"%s\"}}, \"rate_limit\":"
		  " {\"requests_per_second\": 0.001, \"burst_size\": 1, \"key\": \"consumer\"}") ","
		R("/locked", ", \"auth\": {\"basic\": {\"htpasswd\": \"%s\"},"
		  " \"lockout\": {\"failures\": 3, \"window_ms\": 60000, \"lockout_ms\": 300}}") ","
		R("/open", "") " ] }\n",
		*port, it_backend(backend), it_tmpdir(), it_tmpdir(), access_log, oport, htpasswd, htpasswd,
		htpasswd, htpasswd);
#undef R
#undef KEYS
	return it_start_ready(config, "127.0.0.1", port);
}

/*
 * SIGTERM, and a clean exit (the access log is complete then): status
 * 0, and in a sanitizer build no report (the harness fails the test on
 * one, e.g. a pooled upstream connection leaked at exit).
 */
static void stop(struct it_proc *p)
{
	int code;

	it_signal(p, SIGTERM);
	code = it_wait_exit(p, IT_WAIT_MS);
	IT_ASSERT(code == 0, "swerver after SIGTERM: %s", it_code_str(code));
}

/* What curl saw: status, headers and body (-i), with the protocol args (--http1.1, --http2-prior-knowledge). */
struct res {
	int code;
	char *text;
};

static void curl(struct res *r, const char *proto, int port, const char *args, const char *path)
{
	int st;

	r->text = it_run(&st, T "curl -s -i %s %s 'http://127.0.0.1:%d%s'", proto, args ? args : "", port, path);
	IT_ASSERT(st == 0, "curl %s %s: exit %d: %s", proto, path, st, r->text);
	r->code = 0;
	sscanf(r->text, "HTTP/%*s %d", &r->code);
}

static bool has(const struct res *r, const char *needle)
{
	return strcasestr(r->text, needle) != NULL;
}

static void done(struct res *r)
{
	free(r->text);
	r->text = NULL;
}

static const char *const protos[] = { "--http1.1", "--http2-prior-knowledge" };

/* ---- api_key ---- */

START_TEST(api_key_over_http1_and_h2)
{
	struct it_proc *p;
	struct res r;
	int port;

	if (!have_auth(_i))
		return;
	p = start(_i, &port);
	for (size_t k = 0; k < 2; k++) {
		const char *proto = protos[k];

		curl(&r, proto, port, NULL, "/key/echo");
		IT_ASSERT(r.code == 401, "%s no key: %s", proto, r.text);
		IT_ASSERT(has(&r, "www-authenticate: ApiKey realm=\"keys\"") &&
			  has(&r, "{\"error\":\"unauthorized\",\"reason\":\"missing\"}") &&
			  has(&r, "content-type: application/json"), "%s no key: %s", proto, r.text);
		done(&r);
		curl(&r, proto, port, "-H 'X-API-Key: " ALICE_KEY "x'", "/key/echo");
		IT_ASSERT(r.code == 401 && has(&r, "\"reason\":\"unknown_key\""), "%s wrong key: %s", proto, r.text);
		done(&r);
		/* the client's own X-Consumer is replaced, the key never goes upstream */
		curl(&r, proto, port, "-H 'X-API-Key: " ALICE_KEY "' -H 'X-Consumer: root'", "/key/echo");
		IT_ASSERT(r.code == 200, "%s alice: %s", proto, r.text);
		IT_ASSERT(has(&r, "\nX-Consumer: alice") && !has(&r, "root") && !has(&r, ALICE_KEY),
			  "%s alice upstream: %s", proto, r.text);
		done(&r);
		curl(&r, proto, port, "-H 'X-API-Key: " BOB_KEY "'", "/key/echo");
		IT_ASSERT(r.code == 200 && has(&r, "\nX-Consumer: bob"), "%s bob (sha256): %s", proto, r.text);
		done(&r);
		/* from the query: removed before forwarding, the other parameters kept in order */
		curl(&r, proto, port, NULL, "/key/echo?a=1&api_key=" BOB_KEY "&b=2");
		IT_ASSERT(r.code == 200 && has(&r, "GET /echo?a=1&b=2\n") && !has(&r, BOB_KEY) &&
			  has(&r, "\nX-Consumer: bob"), "%s query key: %s", proto, r.text);
		done(&r);
	}
	/* an unprotected route passes, and no secret reached the access log */
	curl(&r, protos[0], port, "-H 'X-Consumer: root'", "/open/echo");
	IT_ASSERT(r.code == 200 && !has(&r, "X-Consumer") && !has(&r, "root"), "open: %s", r.text);
	done(&r);
	stop(p);
	char *log = it_read_file(access_log);
	IT_ASSERT(log && strstr(log, "\"consumer\":\"alice\"") && strstr(log, "\"consumer\":\"bob\""),
		  "access log: %s", log ? log : "(none)");
	IT_ASSERT(!strstr(log, ALICE_KEY) && !strstr(log, BOB_KEY), "a key in the access log: %s", log);
	free(log);
}
END_TEST

/* ---- basic ---- */

START_TEST(basic_over_http1_and_h2)
{
	struct it_proc *p;
	struct res r;
	int port;

	if (!have_auth(_i))
		return;
	p = start(_i, &port);
	for (size_t k = 0; k < 2; k++) {
		const char *proto = protos[k];

		curl(&r, proto, port, NULL, "/basic/echo");
		IT_ASSERT(r.code == 401 && has(&r, "www-authenticate: Basic realm=\"staff\""), "%s none: %s",
			  proto, r.text);
		done(&r);
		curl(&r, proto, port, "-u alice:builder", "/basic/echo");
		IT_ASSERT(r.code == 401 && has(&r, "\"reason\":\"bad_credentials\""), "%s wrong: %s", proto, r.text);
		done(&r);
		curl(&r, proto, port, "-u alice:wonderland", "/basic/echo");
		IT_ASSERT(r.code == 200 && has(&r, "\nX-Consumer: alice") && !has(&r, "\nAuthorization:"),
			  "%s alice (SHA-512-crypt): %s", proto, r.text);
		done(&r);
		curl(&r, proto, port, "-u bob:builder", "/basic/echo");
		IT_ASSERT(r.code == 200 && has(&r, "\nX-Consumer: bob"), "%s bob (bcrypt): %s", proto, r.text);
		done(&r);
	}
	stop(p);
}
END_TEST

/* The htpasswd file is read again on reload: a changed password works, the old one stops. */
START_TEST(basic_reload_rereads_htpasswd)
{
	struct it_proc *p;
	struct res r;
	int port;

	if (!have_auth(_i))
		return;
	p = start(_i, &port);
	write_htpasswd("looking-glass");
	it_signal(p, SIGHUP);
	int64_t end = it_now_ms() + IT_WAIT_MS;
	for (;;) {
		curl(&r, protos[0], port, "-u alice:looking-glass", "/basic/echo");
		if (r.code == 200 || it_now_ms() > end)
			break;
		done(&r);
		it_sleep_ms(50);
	}
	IT_ASSERT(r.code == 200, "new password after reload: %s", r.text);
	done(&r);
	curl(&r, protos[0], port, "-u alice:wonderland", "/basic/echo");
	IT_ASSERT(r.code == 401, "old password after reload: %s", r.text);
	done(&r);
	stop(p);
}
END_TEST

/* ---- chain ---- */

START_TEST(chain_order_and_anonymous)
{
	struct it_proc *p;
	struct res r;
	int port;

	if (!have_auth(_i))
		return;
	p = start(_i, &port);
	curl(&r, protos[1], port, "-H 'X-API-Key: " ALICE_KEY "'", "/chain/echo");
	IT_ASSERT(r.code == 200 && has(&r, "\nX-Consumer: alice"), "chain key: %s", r.text);
	done(&r);
	curl(&r, protos[1], port, "-u bob:builder", "/chain/echo");
	IT_ASSERT(r.code == 200 && has(&r, "\nX-Consumer: bob"), "chain basic: %s", r.text);
	done(&r);
	curl(&r, protos[1], port, NULL, "/chain/echo");
	IT_ASSERT(r.code == 200 && has(&r, "\nX-Consumer: guest"), "chain anonymous: %s", r.text);
	done(&r);
	/* a wrong credential never becomes anonymous; the 401 names the method's own challenge */
	curl(&r, protos[1], port, "-u bob:wrong", "/chain/echo");
	IT_ASSERT(r.code == 401 && has(&r, "www-authenticate: Basic realm=\"mixed\"") &&
		  !has(&r, "ApiKey") && !has(&r, "guest"), "chain wrong password: %s", r.text);
	done(&r);
	stop(p);
}
END_TEST

/* rate_limit with key "consumer" counts each authenticated consumer apart, from one address. */
START_TEST(rate_limit_by_consumer)
{
	struct it_proc *p;
	struct res r;
	int port;

	if (!have_auth(_i))
		return;
	p = start(_i, &port);
	curl(&r, protos[0], port, "-u alice:wonderland", "/rl/echo");
	IT_ASSERT(r.code == 200, "alice first: %s", r.text);
	done(&r);
	curl(&r, protos[0], port, "-u alice:wonderland", "/rl/echo");
	IT_ASSERT(r.code == 429, "alice second: %s", r.text);
	done(&r);
	/* the same address, another consumer: its own bucket */
	curl(&r, protos[1], port, "-u bob:builder", "/rl/echo");
	IT_ASSERT(r.code == 200, "bob first: %s", r.text);
	done(&r);
	stop(p);
}
END_TEST

/* ---- metrics ---- */

START_TEST(failures_counted)
{
	struct it_proc *p;
	struct res r;
	int port, st;
	char *m;

	if (!have_auth(_i))
		return;
	p = start(_i, &port);
	for (int i = 0; i < 3; i++) {
		curl(&r, protos[i % 2], port, "-H 'X-API-Key: nope'", "/key/echo");
		done(&r);
	}
	curl(&r, protos[0], port, NULL, "/key/echo");
	done(&r);
	curl(&r, protos[0], port, "-u bob:wrong", "/basic/echo");
	done(&r);
	m = it_run(&st, T "curl -s http://127.0.0.1:%d/metrics", port);
	IT_ASSERT(it_series(m, "swerver_auth_failures_total{route=\"/key\",method=\"api_key\",reason=\"unknown_key\"}") == 3 &&
		  it_series(m, "swerver_auth_failures_total{route=\"/key\",method=\"api_key\",reason=\"missing\"}") == 1 &&
		  it_series(m, "swerver_auth_failures_total{route=\"/basic\",method=\"basic\",reason=\"bad_credentials\"}") == 1 &&
		  strstr(m, "# TYPE swerver_auth_failures_total counter"), "metrics: %s", m);
	free(m);
	stop(p);
}
END_TEST

/*
 * routes[].auth.lockout: 3 wrong passwords from one client (the
 * X-Forwarded-For address, 127.0.0.1 being a trusted proxy) lock it out of
 * /locked for 300 ms: the right password then gets 429 with Retry-After,
 * while another address and the proxy itself still get in; after the
 * lockout the right password works again.
 */
START_TEST(lockout_after_failures)
{
	static const char *const who = "-H 'X-Forwarded-For: 192.0.2.7'";
	struct it_proc *p;
	struct res r;
	char args[256];
	int port, st;
	char *m;

	if (!have_auth(_i))
		return;
	p = start(_i, &port);
	snprintf(args, sizeof(args), "%s -u alice:guess", who);
	for (int i = 0; i < 3; i++) {
		curl(&r, protos[i % 2], port, args, "/locked/echo");
		IT_ASSERT(r.code == 401, "guess %d: %s", i, r.text);
		done(&r);
	}
	snprintf(args, sizeof(args), "%s -u alice:wonderland", who);
	for (size_t k = 0; k < 2; k++) {
		curl(&r, protos[k], port, args, "/locked/echo");
		IT_ASSERT(r.code == 429 && has(&r, "\nretry-after: 1\r") && has(&r, "\"reason\":\"locked_out\"") &&
			  !has(&r, "X-Consumer"), "%s locked out, right password: %s", protos[k], r.text);
		done(&r);
	}
	/* only that address, only that route */
	curl(&r, protos[0], port, "-H 'X-Forwarded-For: 192.0.2.8' -u alice:wonderland", "/locked/echo");
	IT_ASSERT(r.code == 200 && has(&r, "\nX-Consumer: alice"), "other address: %s", r.text);
	done(&r);
	curl(&r, protos[1], port, "-u alice:wonderland", "/locked/echo");
	IT_ASSERT(r.code == 200, "the proxy's own address: %s", r.text);
	done(&r);
	curl(&r, protos[0], port, args, "/basic/echo");
	IT_ASSERT(r.code == 200, "same address, another route: %s", r.text);
	done(&r);
	m = it_run(&st, T "curl -s http://127.0.0.1:%d/metrics", port);
	IT_ASSERT(it_series(m, "swerver_auth_failures_total{route=\"/locked\",method=\"basic\",reason=\"locked_out\"}") == 2 &&
		  it_series(m, "swerver_auth_failures_total{route=\"/locked\",method=\"basic\",reason=\"bad_credentials\"}") == 3,
		  "metrics: %s", m);
	free(m);
	usleep(400 * 1000);   /* past lockout_ms */
	curl(&r, protos[1], port, args, "/locked/echo");
	IT_ASSERT(r.code == 200 && has(&r, "\nX-Consumer: alice"), "after the lockout: %s", r.text);
	done(&r);
	stop(p);
}
END_TEST

/* ---- HTTP/3 (libcurl, GnuTLS with ngtcp2) ---- */

#ifdef HAVE_LIBCURL_H3
struct fetch {
	char text[16384];
	size_t len;
};

static size_t on_data(char *p, size_t size, size_t n, void *data)
{
	struct fetch *f = data;
	size_t len = size * n, room = sizeof(f->text) - 1 - f->len;

	memcpy(f->text + f->len, p, len < room ? len : room);
	f->len += len < room ? len : room;
	f->text[f->len] = '\0';
	return len;
}

static long h3(int port, const char *path, const char *header, const char *userpwd, struct fetch *f)
{
	struct curl_slist *hdrs = header ? curl_slist_append(NULL, header) : NULL;
	CURL *c = curl_easy_init();
	char url[256];
	long code = 0;
	CURLcode rc;

	memset(f, 0, sizeof(*f));
	snprintf(url, sizeof(url), "https://127.0.0.1:%d%s", port, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_3ONLY);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 20000L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, f);
	if (hdrs)
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	if (userpwd)
		curl_easy_setopt(c, CURLOPT_USERPWD, userpwd);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(c);
	curl_slist_free_all(hdrs);
	IT_ASSERT(rc == CURLE_OK, "HTTP/3 %s: %s", path, curl_easy_strerror(rc));
	return code;
}
#endif

START_TEST(api_key_and_basic_over_http3)
{
#ifdef HAVE_LIBCURL_H3
	struct it_proc *p;
	struct fetch f;
	int port;

	if (!have_auth(_i))
		return;
	if (!sw_module_find("http3")) {
		fprintf(stderr, "note: built without HTTP/3; skipping\n");
		return;
	}
	p = start(_i, &port);
	IT_ASSERT(h3(port, "/key/echo", NULL, NULL, &f) == 401 && strcasestr(f.text, "www-authenticate: ApiKey"),
		  "h3 no key: %s", f.text);
	IT_ASSERT(h3(port, "/key/echo", "X-API-Key: nope", NULL, &f) == 401, "h3 wrong key: %s", f.text);
	IT_ASSERT(h3(port, "/key/echo", "X-API-Key: " ALICE_KEY, NULL, &f) == 200 &&
		  strstr(f.text, "\nX-Consumer: alice") && !strstr(f.text, ALICE_KEY), "h3 alice: %s", f.text);
	IT_ASSERT(h3(port, "/basic/echo", NULL, "bob:builder", &f) == 200 && strstr(f.text, "\nX-Consumer: bob"),
		  "h3 basic: %s", f.text);
	IT_ASSERT(h3(port, "/basic/echo", NULL, "bob:wrong", &f) == 401, "h3 basic wrong: %s", f.text);
	stop(p);
#else
	(void)_i;
	fprintf(stderr, "note: built without libcurl; skipping the HTTP/3 test\n");
#endif
}
END_TEST

/* ---- forward_auth ---- */

/*
 * /fa asks a second origin's /auth (tests/backend/origin decides by the
 * Authorization it is sent); /fa-slow asks one that answers after 5 s with
 * timeout_ms 300; /fa-down asks a port nothing listens on.
 */
static struct it_proc *start_fa(int backend, int *port)
{
	int oport = it_origin_start("o")->port, aport = it_origin_start("authsvc")->port;
	int dead = it_free_port();

	it_path(config, "swerver-fa.json");
	it_make_cert(it_tmpdir());
	*port = it_free_dual_port();
#define FA(p, svc, path, extra) "{\"path_prefix\": \"" p "\", \"upstream\": \"o\", \"rewrite_pattern\": \"" p "\"," \
		" \"rewrite_replacement\": \"/\", \"auth\": {\"forward_auth\": {\"upstream\": \"" svc "\"," \
		" \"path\": \"" path "\"" extra "}}}"
	it_write_filef(config,
		"{ \"server\": { \"listeners\": [ {\"address\": \"127.0.0.1\", \"port\": %d, \"quic_enabled\": true} ],"
		"    \"workers\": 1, \"io_backend\": \"%s\" },"
		"  \"tls\": { \"cert_path\": \"%s/cert.pem\", \"key_path\": \"%s/key.pem\" },"
		"  \"upstreams\": [ {\"name\": \"o\", \"servers\": [ {\"address\": \"127.0.0.1\", \"port\": %d} ]},"
		"    {\"name\": \"authsvc\", \"servers\": [ {\"address\": \"127.0.0.1\", \"port\": %d} ]},"
		"    {\"name\": \"dead\", \"servers\": [ {\"address\": \"127.0.0.1\", \"port\": %d} ]} ],"
		"  \"routes\": [ "
		FA("/fa-slow", "authsvc", "/slow/5000", ", \"timeout_ms\": 300") ","
		FA("/fa-down", "dead", "/auth", "") ","
		FA("/fa", "authsvc", "/auth", ", \"response_headers\": [\"X-Auth-Saw\"]") " ] }\n",
		*port, it_backend(backend), it_tmpdir(), it_tmpdir(), oport, aport, dead);
#undef FA
	return it_start_ready(config, "127.0.0.1", port);
}

START_TEST(forward_auth_over_http1_and_h2)
{
	struct it_proc *p;
	struct res r;
	int port;

	if (!have_auth(_i))
		return;
	p = start_fa(_i, &port);
	for (size_t k = 0; k < 2; k++) {
		const char *proto = protos[k];

		/* the service's refusal goes back as it was, and nothing reaches the upstream */
		curl(&r, proto, port, NULL, "/fa/echo");
		IT_ASSERT(r.code == 401 && has(&r, "www-authenticate: Bearer realm=\"svc\"") &&
			  has(&r, "{\"error\":\"login first\"}") && !has(&r, "X-Forwarded-For:"),
			  "%s no token: %s", proto, r.text);
		done(&r);
		curl(&r, proto, port, "-H 'Authorization: Bearer forbid'", "/fa/echo");
		IT_ASSERT(r.code == 403 && has(&r, "not for you"), "%s forbidden: %s", proto, r.text);
		done(&r);
		/* 2xx: the chosen answer field goes upstream (the client's own replaced), the consumer named */
		curl(&r, proto, port, "-H 'Authorization: Bearer ok-carol' -H 'X-Auth-Saw: forged'",
		     "/fa/echo?x=1");
		IT_ASSERT(r.code == 200 && has(&r, "\nX-Consumer: carol") &&
			  has(&r, "\nX-Auth-Saw: GET /fa/echo?x=1") && !has(&r, "forged"),
			  "%s allowed: %s", proto, r.text);
		done(&r);
		/* a request body waits through the check and is forwarded whole */
		curl(&r, proto, port, "-H 'Authorization: Bearer ok-carol' --data-binary 'the-body'", "/fa/echo");
		IT_ASSERT(r.code == 200 && has(&r, "\nX-Auth-Saw: POST /fa/echo") && has(&r, "the-body"),
			  "%s POST: %s", proto, r.text);
		done(&r);
		/* a silent or missing service never lets a request through */
		curl(&r, proto, port, "-H 'Authorization: Bearer ok-carol'", "/fa-slow/echo");
		IT_ASSERT(r.code == 503 && has(&r, "\"reason\":\"timeout\"") && !has(&r, "X-Consumer"),
			  "%s slow service: %s", proto, r.text);
		done(&r);
		curl(&r, proto, port, "-H 'Authorization: Bearer ok-carol'", "/fa-down/echo");
		IT_ASSERT(r.code == 503 && has(&r, "\"reason\":\"unavailable\"") && !has(&r, "X-Consumer"),
			  "%s service down: %s", proto, r.text);
		done(&r);
	}
	stop(p);
}
END_TEST

START_TEST(forward_auth_over_http3)
{
#ifdef HAVE_LIBCURL_H3
	struct it_proc *p;
	struct fetch f;
	int port;

	if (!have_auth(_i))
		return;
	if (!sw_module_find("http3")) {
		fprintf(stderr, "note: built without HTTP/3; skipping\n");
		return;
	}
	p = start_fa(_i, &port);
	IT_ASSERT(h3(port, "/fa/echo", NULL, NULL, &f) == 401 && strstr(f.text, "login first"), "h3 none: %s", f.text);
	IT_ASSERT(h3(port, "/fa/echo", "Authorization: Bearer ok-dave", NULL, &f) == 200 &&
		  strstr(f.text, "\nX-Consumer: dave"), "h3 allowed: %s", f.text);
	IT_ASSERT(h3(port, "/fa-down/echo", "Authorization: Bearer ok-dave", NULL, &f) == 503, "h3 down: %s", f.text);
	stop(p);
#else
	(void)_i;
	fprintf(stderr, "note: built without libcurl; skipping the HTTP/3 test\n");
#endif
}
END_TEST

/* A client that leaves while the service thinks: nothing is left behind, the server goes on. */
START_TEST(forward_auth_client_leaves)
{
	struct it_proc *p;
	struct res r;
	int port, st;
	char *o;

	if (!have_auth(_i))
		return;
	p = start_fa(_i, &port);
	o = it_run(&st, T "curl -s --max-time 0.1 -H 'Authorization: Bearer ok-x' http://127.0.0.1:%d/fa-slow/echo", port);
	free(o);
	curl(&r, protos[0], port, "-H 'Authorization: Bearer ok-erin'", "/fa/echo");
	IT_ASSERT(r.code == 200 && has(&r, "\nX-Consumer: erin"), "after a client left: %s", r.text);
	done(&r);
	stop(p);
}
END_TEST

/* ---- config errors ---- */

START_TEST(bad_htpasswd_refused_at_load)
{
	char file[IT_PATH_MAX], cfg[IT_PATH_MAX], md5[128];
	int st;
	char *o;

	if (!have_auth(_i))
		return;
	first_line("openssl passwd -apr1 secret", md5, sizeof(md5));
	it_path(file, "htpasswd.md5");
	it_write_filef(file, "# old\n\ncarol:%s\n", md5);
	it_path(cfg, "bad.json");
	it_write_filef(cfg, "{ \"upstreams\": [ {\"name\": \"o\", \"servers\": [ {\"address\": \"127.0.0.1\", \"port\": 9} ]} ],"
		       "  \"routes\": [ {\"path_prefix\": \"/\", \"upstream\": \"o\", \"auth\": {\"basic\": {\"htpasswd\": \"%s\"}}} ] }\n",
		       file);
	o = it_run(&st, "%s -t -c %s 2>&1", getenv("SWERVER_BIN"), cfg);
	IT_ASSERT(st == 78 && strstr(o, "routes[0].auth.basic.htpasswd") && strstr(o, "htpasswd.md5:3:") &&
		  strstr(o, "MD5"), "-t: exit %d: %s", st, o);
	free(o);
}
END_TEST

/* A build without the auth unit refuses an auth key rather than leave the route open. */
START_TEST(auth_key_refused_without_the_unit)
{
	char cfg[IT_PATH_MAX];
	int st;
	char *o;

	if (!it_backend(_i) || !sw_module_find("proxy"))
		return;
	it_path(cfg, "auth.json");
	it_write_file(cfg, "{ \"upstreams\": [ {\"name\": \"o\", \"servers\": [ {\"address\": \"127.0.0.1\", \"port\": 9} ]} ],"
		      "  \"routes\": [ {\"path_prefix\": \"/\", \"upstream\": \"o\","
		      "    \"auth\": {\"api_key\": {\"keys\": [{\"name\": \"a\", \"key\": \"k\"}]}}} ] }\n");
	o = it_run(&st, "%s -t -c %s 2>&1", getenv("SWERVER_BIN"), cfg);
	if (sw_module_find("auth"))
		IT_ASSERT(st == 0, "-t with the unit: exit %d: %s", st, o);
	else
		IT_ASSERT(st == 78 && strstr(o, "routes[0].auth: requires a build with --enable-auth"),
			  "-t without the unit: exit %d: %s", st, o);
	free(o);
}
END_TEST

static Suite *auth_suite(void)
{
	Suite *s = suite_create("auth");
	TCase *tc = it_tcase("auth");

	it_require_tool("curl", "curl");
	it_require_tool("mkpasswd", "whois");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, api_key_over_http1_and_h2, 0, 2);
	tcase_add_loop_test(tc, basic_over_http1_and_h2, 0, 1);
	tcase_add_loop_test(tc, basic_reload_rereads_htpasswd, 0, 1);
	tcase_add_loop_test(tc, chain_order_and_anonymous, 0, 1);
	tcase_add_loop_test(tc, failures_counted, 0, 1);
	tcase_add_loop_test(tc, lockout_after_failures, 0, 2);
	tcase_add_loop_test(tc, rate_limit_by_consumer, 0, 1);
	tcase_add_loop_test(tc, api_key_and_basic_over_http3, 0, 1);
	tcase_add_loop_test(tc, bad_htpasswd_refused_at_load, 0, 1);
	tcase_add_loop_test(tc, auth_key_refused_without_the_unit, 0, 1);
	tcase_add_loop_test(tc, forward_auth_over_http1_and_h2, 0, 2);
	tcase_add_loop_test(tc, forward_auth_over_http3, 0, 1);
	tcase_add_loop_test(tc, forward_auth_client_leaves, 0, 1);
	suite_add_tcase(s, tc);
	return s;
}

IT_SUITE(auth_suite);
