/* SPDX-License-Identifier: MIT */
/*
 * fixture.h - the proxy's real per-worker state, built by its own init
 * from a JSON config, for the tests of src/proxy/.  A zeroed loop whose
 * clock the test sets, a calloc'ed shared block (rate buckets, health
 * slots), and exchanges whose request a test fills field by field.
 * Header-only and static: each suite is one program.
 */
#ifndef SW_TEST_PROXY_FIXTURE_H
#define SW_TEST_PROXY_FIXTURE_H

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include "core/config.h"
#include "core/diag.h"
#include "core/shm.h"
#include "http/context.h"
#include "event/backend.h"
#include "http/router.h"
#include "proxy/proxy.h"

struct fx {
	struct sw_config cfg;
	struct sw_loop loop;          /* only its clock is read by the code under test */
	struct sw_shm *shm;
	struct sw_ctx w;
	struct px_state *st;
};

static struct fx fx;

/* Parses json (it must be valid) and builds the proxy state with sw_module_proxy's init. */
static inline void fx_start(const char *json)
{
	const struct sw_proxy_api *api = sw_module_proxy.impl;
	struct sw_diag d;

	memset(&fx, 0, sizeof(fx));
	sw_diag_init(&d, "t.json");
	ck_assert_msg(sw_config_parse(&fx.cfg, json, strlen(json), &d) == SW_OK,
		      "config: %s", d.count ? d.entries[0].text : "?");
	sw_diag_deinit(&d);
	fx.shm = calloc(1, sizeof(*fx.shm));
	ck_assert_ptr_nonnull(fx.shm);
	fx.loop.now = 1000000;
	fx.w.loop = &fx.loop;
	fx.w.cfg = &fx.cfg;
	fx.w.shm = fx.shm;
	ck_assert_int_eq(api->init(&fx.w), SW_OK);
	fx.st = fx.w.proxy;
}

static inline void fx_stop(void)
{
	const struct sw_proxy_api *api = sw_module_proxy.impl;

	if (fx.w.proxy)
		api->fini(&fx.w);
	sw_config_deinit(&fx.cfg);
	free(fx.shm);
	memset(&fx, 0, sizeof(fx));
}

/* An exchange of the fixture's worker from peer ip (v4 or v6). */
struct fx_x {
	struct sw_exchange x;
	struct sockaddr_storage peer;
	struct sw_header headers[16];
	char buf[256];                /* what sw_exchange_buffer hands out */
};

static char *fx_buffer(struct sw_exchange *x, size_t size)
{
	struct fx_x *f = (struct fx_x *)x;

	ck_assert_uint_le(size, sizeof(f->buf));
	return f->buf;
}

static const struct sw_exchange_ops fx_ops = { .buffer = fx_buffer };

static inline void fx_exchange(struct fx_x *f, const char *peer, const char *path)
{
	memset(f, 0, sizeof(*f));
	f->x.ops = &fx_ops;
	f->x.ctx = &fx.w;
	if (strchr(peer, ':')) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&f->peer;
		in6->sin6_family = AF_INET6;
		ck_assert_int_eq(inet_pton(AF_INET6, peer, &in6->sin6_addr), 1);
		f->x.peer_len = sizeof(*in6);
	} else {
		struct sockaddr_in *in = (struct sockaddr_in *)&f->peer;
		in->sin_family = AF_INET;
		in->sin_port = htons(40000);
		ck_assert_int_eq(inet_pton(AF_INET, peer, &in->sin_addr), 1);
		f->x.peer_len = sizeof(*in);
	}
	f->x.peer = (struct sockaddr *)&f->peer;
	f->x.req.method = SW_METHOD_GET;
	f->x.req.method_name = SW_STR("GET");
	f->x.req.path = (struct sw_str){ path, strlen(path) };
	f->x.req.version = 11;
	f->x.req.content_length = -1;
	f->x.req.headers = f->headers;
	memcpy(f->x.request_id, "0123456789abcdef", SW_REQUEST_ID_LEN);
}

static inline void fx_header(struct fx_x *f, const char *name, const char *value)
{
	ck_assert_uint_lt(f->x.req.header_count, SW_ARRAY_SIZE(f->headers));
	f->headers[f->x.req.header_count++] = (struct sw_header){
		{ name, strlen(name) }, { value, strlen(value) } };
}

/* The route whose cfg has this path_prefix and host (NULL: any). */
static inline const struct px_route *fx_route(const char *prefix, const char *host)
{
	for (size_t i = 0; i < fx.st->nroutes; i++) {
		const struct sw_route_cfg *c = fx.st->routes[i].cfg;
		if (strcmp(c->path_prefix, prefix) == 0 &&
		    ((!host && !c->host) || (host && c->host && strcmp(host, c->host) == 0)))
			return &fx.st->routes[i];
	}
	ck_abort_msg("no route %s %s", prefix, host ? host : "*");
	return NULL;
}

#endif
