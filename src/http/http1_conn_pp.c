/* SPDX-License-Identifier: MIT */
/* http1_conn_pp.c - listeners[].proxy_protocol: the load balancer's PROXY header, read before TLS and HTTP. */
#include <config.h>

#include <errno.h>
#include <string.h>
#include "core/log.h"
#include "http/client_addr.h"
#include "http/context.h"
#include "http/http1_conn_impl.h"
#include "http/proxy_proto.h"

/* Refusals less than this apart are one episode, logged once at its start. */
#define PP_EPISODE_MS 60000

static bool episode_starts(struct sw_ctx *ctx, uint64_t *last)
{
	uint64_t now = sw_loop_now(ctx->loop);
	bool first = *last == 0 || now - *last >= PP_EPISODE_MS;

	*last = now ? now : 1;
	return first;
}

/*
 * The peer is a load balancer, not a client: a bad header gets no HTTP
 * answer, just the close (and a line for the operator, who must fix the
 * balancer's configuration).
 */
static void refuse(struct sw_conn *c, const char *why)
{
	char addr[SW_CLIENT_ADDR_LEN];

	sw_stat_add(&c->ctx->stats->pp_bad, 1);
	if (episode_starts(c->ctx, &c->ctx->pp_bad_ms)) {
		sw_addr_format((const struct sockaddr *)&c->peer, addr, sizeof(addr));
		sw_warn("proxy_protocol: %s from %s; closing (logged once a minute)", why, addr);
	}
	sw_conn_close(c);
}

/* Reads what the parser needs: never past the header over TLS, whose session reads the socket itself. */
static void read_more(struct sw_conn *c, size_t need)
{
	size_t want = c->use_tls ? need : c->cap;

	sw_conn_recv(c, c->buf + c->len, want - c->len);
}

static void on_header(struct sw_conn *c, const struct sw_pp_info *info)
{
	if (info->src_len) {   /* LOCAL, UNKNOWN: the socket's address stays */
		memcpy(&c->peer, &info->src, info->src_len);
		c->peer_len = info->src_len;
	}
	c->len -= info->len;
	memmove(c->buf, c->buf + info->len, c->len);
	sw_conn_begin(c);
}

static void on_recv(struct sw_io *io, ssize_t res)
{
	struct sw_conn *c = io->data;
	struct sw_pp_info info;
	size_t need = 0;

	c->recv_pending = false;
	if (res <= 0) {
		if (res < 0 && res != -ECONNRESET)
			sw_debug("proxy_protocol recv: %s", strerror((int)-res));
		refuse(c, res == 0 ? "connection closed before the header ended" : "read error");
		return;
	}
	c->len += (size_t)res;
	switch (sw_pp_parse((const uint8_t *)c->buf, c->len, &info, &need)) {
	case SW_PP_DONE:
		on_header(c, &info);
		break;
	case SW_PP_MORE:
		read_more(c, need);
		break;
	case SW_PP_BAD:
		refuse(c, "no valid PROXY header");
		break;
	}
}

void sw_conn_pp_timeout(struct sw_conn *c)
{
	refuse(c, "header not complete within timeouts.header_ms");
}

void sw_conn_pp_start(struct sw_conn *c)
{
	struct sw_ctx *ctx = c->ctx;
	const struct sw_server_cfg *s = &ctx->cfg->server;
	char addr[SW_CLIENT_ADDR_LEN];

	if (!sw_cidr_match(s->trusted_proxies, s->trusted_proxies_count,
			   (const struct sockaddr *)&c->peer)) {
		/* Anyone else could claim any address: refused before a byte is read. */
		sw_stat_add(&ctx->stats->pp_untrusted, 1);
		if (episode_starts(ctx, &ctx->pp_untrusted_ms)) {
			sw_addr_format((const struct sockaddr *)&c->peer, addr, sizeof(addr));
			sw_warn("proxy_protocol: connection from %s, not in server.trusted_proxies; "
				"closing (logged once a minute)", addr);
		}
		sw_conn_close(c);
		return;
	}
	c->state = C_PROXY;
	c->read_done = on_recv;
	read_more(c, SW_PP_MIN);
}
