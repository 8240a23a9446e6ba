/* SPDX-License-Identifier: MIT */
/* h3_fixture.c - what the HTTP/3 suites share (h3_fixture.h). */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>
#include "core/module.h"
#include "h3_fixture.h"

bool have_h3(int i)
{
	if (!it_backend(i))
		return false;
	if (!sw_module_find("http3")) {
		fprintf(stderr, "skipped: built without --enable-http3\n");
		return false;
	}
	return true;
}

/* A certificate for 127.0.0.1, a site with a big file and precompressed siblings. */
void h3_make_site(void)
{
	const char *d = it_tmpdir();
	int st;
	char *o = it_run(&st,
		"cd %s && "
		"openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 "
		"  -keyout key.pem -out cert.pem -subj /CN=localhost "
		"  -addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>&1 && "
		"mkdir -p www && head -c %d /dev/urandom > www/big.bin && "
		"head -c %d /dev/urandom > www/long.bin && echo hello > www/index.html && "
		"printf 'var a = 1; // plain\\n' > www/app.js && "
		"printf 'BROTLI-BYTES' > www/app.js.br && printf 'GZIP-BYTES' > www/app.js.gz",
		d, BIG_BYTES, LONG_BYTES);
	free(o);
	IT_ASSERT(st == 0, "making the test site failed");
}

/* A "limits" object for the next config written, or NULL: the header limit tests set it. */
const char *h3_cfg_limits;

void h3_write_config(const char *path, int backend, unsigned workers, int port,
		  const char *quic_extra, const char *access_target)
{
	const char *d = it_tmpdir();

	it_write_filef(path,
		"{ \"server\": { \"listeners\": [ {\"address\": \"127.0.0.1\", \"port\": %d,"
		"                                  \"quic_enabled\": true} ],\n"
		"              \"workers\": %u, \"io_backend\": \"%s\", \"static_root\": \"%s/www\" },\n"
		"  \"tls\": { \"cert_path\": \"%s/cert.pem\", \"key_path\": \"%s/key.pem\" },\n"
		"  \"quic\": { \"max_streams_bidi\": 100 %s },\n"
		"  \"access_log\": { \"format\": \"combined\", \"target\": \"%s\" },\n"
		"  %s%s%s"
		"  \"timeouts\": { \"drain_ms\": 10000 } }\n",
		port, workers, it_backend(backend), d, d, d, quic_extra ? quic_extra : "",
		access_target ? access_target : "stderr", h3_cfg_limits ? "\"limits\": " : "",
		h3_cfg_limits ? h3_cfg_limits : "", h3_cfg_limits ? ",\n" : "");
}

/* Plain HTTP/1.1 on TCP and HTTP/3 on UDP, both on *port. */
struct it_proc *start_h3(int backend, unsigned workers, const char *quic_extra, int *port)
{
	char cfg[IT_PATH_MAX];

	h3_make_site();
	*port = it_free_dual_port();
	it_path(cfg, "swerver.json");
	h3_write_config(cfg, backend, workers, *port, quic_extra, NULL);
	return it_start_ready(cfg, "127.0.0.1", port);
}

static size_t on_body(char *p, size_t size, size_t n, void *data)
{
	struct fetch *f = data;
	size_t len = size * n;

	if (f->len + len > f->cap) {
		f->cap = (f->len + len) * 2;
		f->body = realloc(f->body, f->cap);
	}
	memcpy(f->body + f->len, p, len);
	f->len += len;
	return len;
}

static size_t on_header(char *p, size_t size, size_t n, void *data)
{
	struct fetch *f = data;
	size_t len = size * n;
	size_t room = sizeof(f->head) - 1 - f->head_len;

	memcpy(f->head + f->head_len, p, len < room ? len : room);
	f->head_len += len < room ? len : room;
	f->head[f->head_len] = '\0';
	return len;
}

CURL *h3_easy(const char *url, struct fetch *f, struct curl_slist *hdrs, curl_off_t speed)
{
	CURL *c = curl_easy_init();

	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_3ONLY);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 20000L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, f);
	if (hdrs)
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	if (speed)
		curl_easy_setopt(c, CURLOPT_MAX_RECV_SPEED_LARGE, speed);
	return c;
}

void h3_info(CURL *c, struct fetch *f)
{
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &f->code);
	curl_easy_getinfo(c, CURLINFO_HTTP_VERSION, &f->version);
	curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &f->connects);
}

/* One GET over HTTP/3 only, with the request headers in hdrs (or none). */
void h3_get_list(int port, const char *path, struct curl_slist *hdrs, curl_off_t speed,
		 struct fetch *f)
{
	char url[256];
	CURL *c;

	memset(f, 0, sizeof(*f));
	snprintf(url, sizeof(url), "https://127.0.0.1:%d%s", port, path);
	c = h3_easy(url, f, hdrs, speed);
	f->rc = curl_easy_perform(c);
	h3_info(c, f);
	curl_easy_cleanup(c);
}

/* One GET over HTTP/3 only; extra is one request header or NULL. */
void h3_get(int port, const char *path, const char *extra, curl_off_t speed, struct fetch *f)
{
	struct curl_slist *hdrs = extra ? curl_slist_append(NULL, extra) : NULL;

	h3_get_list(port, path, hdrs, speed, f);
	curl_slist_free_all(hdrs);
}

bool same_as_file(const struct fetch *f, const char *name)
{
	char path[IT_PATH_MAX];
	char *want;
	size_t len;
	FILE *fp;
	bool same;

	snprintf(path, sizeof(path), "%s/www/%s", it_tmpdir(), name);
	fp = fopen(path, "rb");
	if (!fp)
		return false;
	want = malloc(LONG_BYTES + 1);
	len = fread(want, 1, LONG_BYTES + 1, fp);
	fclose(fp);
	same = len == f->len && memcmp(want, f->body, len) == 0;
	free(want);
	return same;
}

/* Runs gtlsclient against the port; its quic dump is in the output when dump is set. */
char *h3_gtls(int port, const char *opts, const char *path, bool dump)
{
	int st;

	return it_run(&st, "timeout 20 gtlsclient --exit-on-all-streams-close --handshake-timeout=5s "
		   "--timeout=5s %s %s 127.0.0.1 %d https://127.0.0.1:%d%s 2>&1",
		   dump ? "" : "--no-quic-dump", opts, port, port, path);
}

/* The slot byte of the server's connection ID, from gtlsclient's packet log. */
int server_slot(const char *dump)
{
	const char *p = dump;

	while ((p = strstr(p, "pkt tx")) != NULL) {
		const char *eol = strchr(p, '\n');
		const char *d = strstr(p, "dcid=0x");
		const char *t = strstr(p, "type=1RTT");
		if (d && t && (!eol || (t < eol && d < eol)))
			return (int)strtol((char[3]){ d[7], d[8], 0 }, NULL, 16);
		p += 6;
	}
	return -1;
}

/*
 * An Initial's DCID as gtlsclient's --dcid takes it: 18 bytes in hex, the
 * first `first`, the rest random.
 */
void initial_dcid(char out[37], unsigned first)
{
	unsigned char rnd[17];

	ck_assert_int_eq(getrandom(rnd, sizeof(rnd), 0), (ssize_t)sizeof(rnd));
	snprintf(out, 3, "%02x", first);
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(out + 2 + 2 * i, 3, "%02x", rnd[i]);
}


void *slow_download(void *arg)
{
	struct slow_dl *d = arg;

	h3_get(d->port, "/long.bin", NULL, LONG_RATE, &d->f);
	return NULL;
}

const char *tail_of(const char *o)
{
	size_t n = strlen(o);

	return n > 1500 ? o + n - 1500 : o;
}

Suite *h3_suite(const char *name, TCase **tc)
{
	static char sname[64];   /* Check keeps the pointer; one suite a program */
	Suite *s;

	/* ngtcp2's own client, the second QUIC stack most tests check against */
	it_require_tool("gtlsclient", "ngtcp2-client");
	snprintf(sname, sizeof(sname), "http3_%s", name);
	s = suite_create(sname);
	*tc = it_tcase(name);
	tcase_set_timeout(*tc, 60);
	suite_add_tcase(s, *tc);
	return s;
}

void h3_suite_init(void)
{
	it_suite_init();
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

void h3_suite_fini(void)
{
	curl_global_cleanup();
	it_suite_fini();
}
