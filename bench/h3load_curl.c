/* SPDX-License-Identifier: MIT */
/* h3load_curl.c - h3load's libcurl engine: libcurl's multi interface, HTTP/3, or HTTP/2 with -2. */

/*
 * Each client thread has its own multi handle, held to one QUIC
 * connection (MAX_HOST_CONNECTIONS 1 + PIPEWAIT) that carries -m streams
 * at once; a finished stream is replaced at once by the next request, so
 * the connection always has -m requests in flight, as h2load -m does.
 * When the server closes the connection (GOAWAY on a reload, idle
 * timeout), libcurl opens the next one. libcurl is an independent client
 * (the tests use this engine for that), but it spends ~80 µs of CPU per
 * request: it cannot load a fast server to its limit on one core.
 */
#include <stdlib.h>
#include <string.h>

#include "h3load.h"

/* One stream slot: an easy handle reused request after request. */
struct slot {
	CURL *easy;
	struct h3l_client *cl;
	double started_us;
	uint64_t bytes;
	char error[CURL_ERROR_SIZE];
};

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct slot *s = arg;

	s->bytes += size * n;
	return h3l_body(s->cl, data, size * n) == 0 ? size * n : 0;
}

static int slot_start(CURLM *multi, struct slot *s)
{
	if (!h3l_begin(s->cl, &s->started_us))
		return -1;
	s->bytes = 0;
	s->error[0] = '\0';
	return curl_multi_add_handle(multi, s->easy) == CURLM_OK ? 0 : -1;
}

static void slot_done(struct slot *s, CURLcode rc)
{
	long code = 0, connects = 0;
	char what[H3L_ERROR_MAX];

	curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(s->easy, CURLINFO_NUM_CONNECTS, &connects);
	while (connects-- > 0)
		h3l_connected(s->cl);
	if (rc == CURLE_OK) {
		h3l_done(s->cl, s->started_us, code, s->bytes, NULL, false);
		return;
	}
	snprintf(what, sizeof(what), "%s (%s)", curl_easy_strerror(rc),
		 s->error[0] ? s->error : "no detail");
	h3l_done(s->cl, s->started_us, code, s->bytes, what, rc == CURLE_OPERATION_TIMEDOUT);
}

static CURL *easy_new(struct slot *s)
{
	const struct h3l_options *o = s->cl->opt;
	CURL *e = curl_easy_init();

	if (!e)
		return NULL;
	curl_easy_setopt(e, CURLOPT_URL, o->url);
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, !o->http2 ? (long)CURL_HTTP_VERSION_3ONLY :
			 strncmp(o->url, "https:", 6) == 0 ? (long)CURL_HTTP_VERSION_2TLS :
			 (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, o->timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, o->timeout_ms);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, s->error);
	curl_easy_setopt(e, CURLOPT_PRIVATE, s);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	if (o->headers)
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, o->headers);
	if (o->trace)
		curl_easy_setopt(e, CURLOPT_VERBOSE, 1L);
	return e;
}

/* Collect finished streams and put their slots back to work; how many retired. */
static int reap(CURLM *multi)
{
	int retired = 0, left;
	CURLMsg *msg;

	while ((msg = curl_multi_info_read(multi, &left))) {
		struct slot *s = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
		curl_multi_remove_handle(multi, s->easy);
		slot_done(s, msg->data.result);
		/*
		 * A fresh handle per request: libcurl counts "connection died,
		 * retrying" per handle, not per transfer, so a reused one that
		 * saw five server reloads would give up on the sixth.
		 */
		curl_easy_cleanup(s->easy);
		s->easy = easy_new(s);
		if (!s->easy || slot_start(multi, s) != 0)
			retired++;
	}
	return retired;
}

static void *curl_run(void *arg)
{
	struct h3l_client *cl = arg;
	int n = cl->opt->streams, active = 0, running = 0;
	struct slot *slots = calloc((size_t)n, sizeof(*slots));
	CURLM *multi = curl_multi_init();

	if (!slots || !multi) {
		snprintf(cl->first_error, sizeof(cl->first_error), "out of memory");
		goto out;
	}
	curl_multi_setopt(multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
	curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, 1L);
	curl_multi_setopt(multi, CURLMOPT_MAX_CONCURRENT_STREAMS, (long)n);
	for (int i = 0; i < n; i++) {
		slots[i].cl = cl;
		slots[i].easy = easy_new(&slots[i]);
		if (slots[i].easy && slot_start(multi, &slots[i]) == 0)
			active++;
	}
	while (active > 0) {
		if (curl_multi_perform(multi, &running) != CURLM_OK)
			break;
		active -= reap(multi);
		if (active > 0 && running)
			curl_multi_poll(multi, NULL, 0, 100, NULL);
	}
out:
	for (int i = 0; slots && i < n; i++)
		if (slots[i].easy)
			curl_easy_cleanup(slots[i].easy);
	if (multi)
		curl_multi_cleanup(multi);
	free(slots);
	return NULL;
}

const struct h3l_engine h3l_engine_curl = { "curl", curl_run };
