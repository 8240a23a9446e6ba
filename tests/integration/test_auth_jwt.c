/* SPDX-License-Identifier: MIT */
/* test_auth_jwt.c - routes[].auth.jwt end to end: curl over HTTP/1.1 and HTTP/2, libcurl over HTTP/3, tokens made here with OpenSSL, keys rotated by reload.  The upstream is tests/backend/origin, whose /echo shows what reached it. */
#include <config.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef HAVE_LIBCURL_H3
#include <curl/curl.h>
#endif
#include "core/module.h"
#include "harness.h"
#include "origins.h"
#include "../unit/auth/jwt_mint.h"

/* Every client command runs under this cap, so a hung client cannot hang the suite. */
#define T "timeout -k 1 25 "

static bool have_jwt(int i)
{
	if (!it_backend(i))
		return false;
	if (!sw_module_find("proxy") || !sw_module_find("auth")) {
		fprintf(stderr, "note: built without the proxy or auth; skipping\n");
		return false;
	}
	return true;
}

/* ---- keys and tokens ---- */

static char jwks[IT_PATH_MAX], rsa_pem[IT_PATH_MAX], config[IT_PATH_MAX];
static EVP_PKEY *es_key, *rs_key;

/* A JWK set of one P-256 key with kid. */
static void write_jwks(EVP_PKEY *key, const char *kid)
{
	unsigned char pub[65];
	size_t len = 0;
	char *x, *y;

	ck_assert(EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub), &len) && len == 65);
	x = mint_b64url(pub + 1, 32);
	y = mint_b64url(pub + 33, 32);
	it_write_filef(jwks, "{\"keys\": [{\"kty\": \"EC\", \"crv\": \"P-256\", \"kid\": \"%s\", \"use\": \"sig\","
		       " \"x\": \"%s\", \"y\": \"%s\"}]}\n", kid, x, y);
	free(x);
	free(y);
}

/* An ES256 token for sub with kid, exp seconds from now, aud. */
static char *es256(EVP_PKEY *key, const char *kid, const char *sub, long exp_in, const char *aud)
{
	char header[128], payload[512];

	snprintf(header, sizeof(header), "{\"alg\":\"ES256\",\"typ\":\"JWT\",\"kid\":\"%s\"}", kid);
	snprintf(payload, sizeof(payload), "{\"iss\":\"https://idp.test/\",\"aud\":\"%s\",\"sub\":\"%s\","
		 "\"email\":\"%s@example.test\",\"exp\":%ld,\"iat\":%ld}", aud, sub, sub,
		 (long)time(NULL) + exp_in, (long)time(NULL) - 5);
	return mint("ES256", key, NULL, header, payload);
}

/*
 * Routes, each "/X" forwarded to the origin as "/": /jwt (ES256 keys from
 * a JWKS file, iss and aud checked, the email claim upstream), /rs (RS256
 * from a PEM file, the token also taken from the "session" cookie), /open.
 * QUIC on the same port number for HTTP/3.
 */
static struct it_proc *start(int backend, int *port)
{
	int oport = it_origin_start("o")->port;

	if (!es_key) {
		es_key = mint_key("ES256");
		rs_key = mint_key("RS256");
	}
	it_path(jwks, "jwks.json");
	it_path(rsa_pem, "rsa.pem");
	it_path(config, "swerver.json");
	write_jwks(es_key, "k1");
	mint_pem(rs_key, rsa_pem);
	it_make_cert(it_tmpdir());
	*port = it_free_dual_port();
#define R(p, auth) "{\"path_prefix\": \"" p "\", \"upstream\": \"o\", \"rewrite_pattern\": \"" p "\"," \
		" \"rewrite_replacement\": \"/\"" auth "}"
	it_write_filef(config,
		"{ \"server\": { \"listeners\": [ {\"address\": \"127.0.0.1\", \"port\": %d, \"quic_enabled\": true} ],"
		"    \"workers\": 1, \"io_backend\": \"%s\" },"
		"  \"tls\": { \"cert_path\": \"%s/cert.pem\", \"key_path\": \"%s/key.pem\" },"
		"  \"upstreams\": [ {\"name\": \"o\", \"servers\": [ {\"address\": \"127.0.0.1\", \"port\": %d} ]} ],"
		"  \"routes\": [ "
		R("/jwt", ", \"auth\": {\"realm\": \"api\", \"jwt\": {\"keys\": [{\"jwks_file\": \"%s\", \"algorithms\": [\"ES256\"]}],"
		  " \"issuer\": \"https://idp.test/\", \"audience\": [\"api\"],"
		  " \"claims_to_headers\": {\"email\": \"X-User-Email\"}}}") ","
		R("/rs", ", \"auth\": {\"jwt\": {\"keys\": [{\"public_key_file\": \"%s\", \"algorithms\": [\"RS256\"]}],"
		  " \"cookie\": \"session\", \"required_claims\": []}}") ","
		R("/open", "") " ] }\n",
		*port, it_backend(backend), it_tmpdir(), it_tmpdir(), oport, jwks, rsa_pem);
#undef R
	return it_start_ready(config, "127.0.0.1", port);
}

/*
 * SIGTERM, and a clean exit: status 0, and in a sanitizer build no
 * report (the harness fails the test on one, e.g. a pooled upstream
 * connection leaked at exit).
 */
static void stop(struct it_proc *p)
{
	int code;

	it_signal(p, SIGTERM);
	code = it_wait_exit(p, IT_WAIT_MS);
	IT_ASSERT(code == 0, "swerver after SIGTERM: %s", it_code_str(code));
}

/* What curl saw: status, headers and body (-i). */
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

/* The same with "Authorization: Bearer tok". */
static void bearer(struct res *r, const char *proto, int port, const char *tok, const char *path)
{
	char args[4096];

	snprintf(args, sizeof(args), "-H 'Authorization: Bearer %s' -H 'X-User-Email: forged@client'", tok);
	curl(r, proto, port, args, path);
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

START_TEST(jwt_over_http1_and_h2)
{
	struct it_proc *p;
	struct res r;
	int port;
	char *good, *expired, *wrong_aud, *forged, *none, *tampered;

	if (!have_jwt(_i))
		return;
	p = start(_i, &port);
	good = es256(es_key, "k1", "alice", 3600, "api");
	expired = es256(es_key, "k1", "alice", -3600, "api");
	wrong_aud = es256(es_key, "k1", "alice", 3600, "other");
	{
		EVP_PKEY *other = mint_key("ES256");

		forged = es256(other, "k1", "mallory", 3600, "api");
		EVP_PKEY_free(other);
	}
	{
		char *h = mint_b64url((const unsigned char *)"{\"alg\":\"none\"}", 14);
		const char *dot = strchr(good, '.');

		none = malloc(strlen(good) + 32);
		sprintf(none, "%s%.*s.", h, (int)(strrchr(good, '.') - dot), dot);
		free(h);
	}
	tampered = strdup(good);
	/* another base64url character in the signature (a flipped bit could leave the alphabet) */
	tampered[strlen(tampered) - 5] = tampered[strlen(tampered) - 5] == 'A' ? 'B' : 'A';
	for (size_t k = 0; k < 2; k++) {
		const char *proto = protos[k];

		curl(&r, proto, port, NULL, "/jwt/echo");
		/* no token: a challenge without an error attribute (RFC 6750 3.1) */
		IT_ASSERT(r.code == 401 && has(&r, "www-authenticate: Bearer realm=\"api\"\r\n") &&
			  !has(&r, "error=") && has(&r, "\"reason\":\"missing\""), "%s no token: %s", proto, r.text);
		done(&r);
		/* the consumer and the claim go upstream, the client's X-User-Email and the token do not */
		bearer(&r, proto, port, good, "/jwt/echo");
		IT_ASSERT(r.code == 200 && has(&r, "\nX-Consumer: alice") &&
			  has(&r, "\nX-User-Email: alice@example.test") && !has(&r, "forged@client") &&
			  !has(&r, "Bearer "), "%s good token: %s", proto, r.text);
		done(&r);
		/* again: from the worker's cache, the same answer */
		bearer(&r, proto, port, good, "/jwt/echo");
		IT_ASSERT(r.code == 200 && has(&r, "\nX-Consumer: alice"), "%s cached token: %s", proto, r.text);
		done(&r);
		static const struct { const char *what, *reason; } bad[] = {
			{ "expired", "expired" }, { "wrong aud", "bad_audience" }, { "other key", "bad_signature" },
			{ "alg none", "alg_none" }, { "tampered", "bad_signature" },
		};
		char *toks[] = { expired, wrong_aud, forged, none, tampered };
		for (size_t b = 0; b < 5; b++) {
			char reason[64];

			bearer(&r, proto, port, toks[b], "/jwt/echo");
			snprintf(reason, sizeof(reason), "\"reason\":\"%s\"", bad[b].reason);
			/* a bad token: error="invalid_token" (RFC 6750 3.1) */
			IT_ASSERT(r.code == 401 && has(&r, reason) &&
				  has(&r, "www-authenticate: Bearer realm=\"api\", error=\"invalid_token\"\r\n") &&
				  !has(&r, "X-Consumer"), "%s %s: %s", proto, bad[b].what, r.text);
			done(&r);
		}
	}
	curl(&r, protos[0], port, "-H 'X-User-Email: forged@client'", "/open/echo");
	IT_ASSERT(r.code == 200 && !has(&r, "X-Consumer"), "open: %s", r.text);
	done(&r);
	stop(p);
	free(good);
	free(expired);
	free(wrong_aud);
	free(forged);
	free(none);
	free(tampered);
}
END_TEST

/*
 * Algorithm confusion over the wire: an HS256 token whose HMAC key is the
 * route's RSA public key (its PEM text) is refused; an RS256 one passes,
 * from the header or the session cookie.
 */
START_TEST(rs256_confusion_and_cookie)
{
	struct it_proc *p;
	struct res r;
	int port;
	char *pem, *hs, *rs, args[4096];

	if (!have_jwt(_i))
		return;
	p = start(_i, &port);
	pem = it_read_file(rsa_pem);
	hs = mint("HS256", NULL, pem, NULL, "{\"sub\":\"mallory\"}");
	rs = mint("RS256", rs_key, NULL, NULL, "{\"sub\":\"bob\"}");
	bearer(&r, protos[1], port, hs, "/rs/echo");
	IT_ASSERT(r.code == 401 && has(&r, "\"reason\":\"alg_not_allowed\""), "HS256 on RSA: %s", r.text);
	done(&r);
	bearer(&r, protos[1], port, rs, "/rs/echo");
	IT_ASSERT(r.code == 200 && has(&r, "\nX-Consumer: bob"), "RS256: %s", r.text);
	done(&r);
	snprintf(args, sizeof(args), "-H 'Cookie: theme=dark; session=%s'", rs);
	curl(&r, protos[0], port, args, "/rs/echo");
	IT_ASSERT(r.code == 200 && has(&r, "\nX-Consumer: bob"), "cookie: %s", r.text);
	done(&r);
	stop(p);
	free(pem);
	free(hs);
	free(rs);
}
END_TEST

/* A rotated JWKS file is read again on reload: the new key's tokens pass, the old one's stop. */
START_TEST(reload_rereads_jwks)
{
	struct it_proc *p;
	struct res r;
	int port;
	EVP_PKEY *next = mint_key("ES256");
	char *old_tok, *new_tok;

	if (!have_jwt(_i)) {
		EVP_PKEY_free(next);
		return;
	}
	p = start(_i, &port);
	old_tok = es256(es_key, "k1", "alice", 3600, "api");
	new_tok = es256(next, "k2", "alice", 3600, "api");
	bearer(&r, protos[0], port, new_tok, "/jwt/echo");
	IT_ASSERT(r.code == 401 && has(&r, "\"reason\":\"unknown_kid\""), "new key before reload: %s", r.text);
	done(&r);
	write_jwks(next, "k2");
	it_signal(p, SIGHUP);
	int64_t end = it_now_ms() + IT_WAIT_MS;
	for (;;) {
		bearer(&r, protos[0], port, new_tok, "/jwt/echo");
		if (r.code == 200 || it_now_ms() > end)
			break;
		done(&r);
		it_sleep_ms(50);
	}
	IT_ASSERT(r.code == 200 && has(&r, "\nX-Consumer: alice"), "new key after reload: %s", r.text);
	done(&r);
	bearer(&r, protos[0], port, old_tok, "/jwt/echo");
	IT_ASSERT(r.code == 401 && has(&r, "\"reason\":\"unknown_kid\""), "old key after reload: %s", r.text);
	done(&r);
	stop(p);
	free(old_tok);
	free(new_tok);
	EVP_PKEY_free(next);
}
END_TEST

START_TEST(failures_counted)
{
	struct it_proc *p;
	struct res r;
	int port, st;
	char *m, *expired;

	if (!have_jwt(_i))
		return;
	p = start(_i, &port);
	expired = es256(es_key, "k1", "alice", -3600, "api");
	for (int i = 0; i < 2; i++) {
		bearer(&r, protos[i], port, expired, "/jwt/echo");
		done(&r);
	}
	m = it_run(&st, T "curl -s http://127.0.0.1:%d/metrics", port);
	IT_ASSERT(it_series(m, "swerver_auth_failures_total{route=\"/jwt\",method=\"jwt\",reason=\"expired\"}") == 2,
		  "metrics: %s", m);
	IT_ASSERT(!strstr(m, expired), "a token in the metrics");
	free(m);
	free(expired);
	stop(p);
}
END_TEST

/* ---- HTTP/3 (libcurl, GnuTLS with ngtcp2) ---- */

#ifdef HAVE_LIBCURL_H3
struct fetch {
	char text[16384];
	size_t len;
};

static size_t on_data(char *ptr, size_t size, size_t n, void *data)
{
	struct fetch *f = data;
	size_t len = size * n, room = sizeof(f->text) - 1 - f->len;

	memcpy(f->text + f->len, ptr, len < room ? len : room);
	f->len += len < room ? len : room;
	f->text[f->len] = '\0';
	return len;
}

static long h3(int port, const char *path, const char *tok, struct fetch *f)
{
	char auth[4096], url[256];
	struct curl_slist *hdrs = NULL;
	CURL *c = curl_easy_init();
	long code = 0;
	CURLcode rc;

	if (tok) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", tok);
		hdrs = curl_slist_append(NULL, auth);
	}
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
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(c);
	curl_slist_free_all(hdrs);
	IT_ASSERT(rc == CURLE_OK, "HTTP/3 %s: %s", path, curl_easy_strerror(rc));
	return code;
}
#endif

START_TEST(jwt_over_http3)
{
#ifdef HAVE_LIBCURL_H3
	struct it_proc *p;
	struct fetch f;
	int port;
	char *good, *expired;

	if (!have_jwt(_i))
		return;
	if (!sw_module_find("http3")) {
		fprintf(stderr, "note: built without HTTP/3; skipping\n");
		return;
	}
	p = start(_i, &port);
	good = es256(es_key, "k1", "carol", 3600, "api");
	expired = es256(es_key, "k1", "carol", -3600, "api");
	IT_ASSERT(h3(port, "/jwt/echo", NULL, &f) == 401 && strcasestr(f.text, "www-authenticate: Bearer"),
		  "h3 no token: %s", f.text);
	IT_ASSERT(h3(port, "/jwt/echo", expired, &f) == 401 && strstr(f.text, "\"reason\":\"expired\""),
		  "h3 expired: %s", f.text);
	IT_ASSERT(h3(port, "/jwt/echo", good, &f) == 200 && strstr(f.text, "\nX-Consumer: carol") &&
		  strstr(f.text, "\nX-User-Email: carol@example.test") && !strstr(f.text, "Bearer "),
		  "h3 good: %s", f.text);
	stop(p);
	free(good);
	free(expired);
#else
	(void)_i;
	fprintf(stderr, "note: built without libcurl; skipping the HTTP/3 test\n");
#endif
}
END_TEST

/* ---- config errors ---- */

START_TEST(bad_keys_refused_at_load)
{
	char file[IT_PATH_MAX], cfg[IT_PATH_MAX];
	int st;
	char *o;

	if (!have_jwt(_i))
		return;
	it_path(file, "bad-jwks.json");
	it_write_filef(file, "{\"keys\": [{\"kty\": \"EC\", \"crv\": \"P-521\", \"x\": \"AA\", \"y\": \"AA\"}]}\n");
	it_path(cfg, "bad.json");
	it_write_filef(cfg, "{ \"upstreams\": [ {\"name\": \"o\", \"servers\": [ {\"address\": \"127.0.0.1\", \"port\": 9} ]} ],"
		       "  \"routes\": [ {\"path_prefix\": \"/\", \"upstream\": \"o\", \"auth\": {\"jwt\": {\"keys\": ["
		       "{\"jwks_file\": \"%s\", \"algorithms\": [\"ES256\"]}]}}},"
		       " {\"path_prefix\": \"/b\", \"upstream\": \"o\", \"auth\": {\"jwt\": {\"keys\": ["
		       "{\"secret\": \"0123456789abcdef0123456789abcdef\", \"algorithms\": [\"HS256\", \"none\"]}]}}} ] }\n",
		       file);
	o = it_run(&st, "%s -t -c %s 2>&1", getenv("SWERVER_BIN"), cfg);
	IT_ASSERT(st == 78 && strstr(o, "routes[0].auth.jwt.keys[0].jwks_file") &&
		  strstr(o, "bad-jwks.json: keys[0]: EC \"crv\" \"P-521\" is not supported") &&
		  strstr(o, "routes[1].auth.jwt.keys[0].algorithms[1]: \"none\""),
		  "-t: exit %d: %s", st, o);
	free(o);
}
END_TEST

static Suite *auth_jwt_suite(void)
{
	Suite *s = suite_create("auth_jwt");
	TCase *tc = it_tcase("auth_jwt");

	it_require_tool("curl", "curl");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, jwt_over_http1_and_h2, 0, 2);
	tcase_add_loop_test(tc, rs256_confusion_and_cookie, 0, 1);
	tcase_add_loop_test(tc, reload_rereads_jwks, 0, 1);
	tcase_add_loop_test(tc, failures_counted, 0, 1);
	tcase_add_loop_test(tc, jwt_over_http3, 0, 1);
	tcase_add_loop_test(tc, bad_keys_refused_at_load, 0, 1);
	suite_add_tcase(s, tc);
	return s;
}

IT_SUITE(auth_jwt_suite);
