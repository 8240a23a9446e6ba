/* SPDX-License-Identifier: MIT */
/* quic.h - HTTP/3 over QUIC with ngtcp2, nghttp3 and GnuTLS. */
#ifndef SW_QUIC_QUIC_H
#define SW_QUIC_QUIC_H

#include <stdint.h>
#include "http/quic_api.h"

struct sw_diag;
struct sw_config;
struct sw_ctx;

/* The certificate and key QUIC uses (quic.* or else tls.*), loaded with GnuTLS. */
int sw_quic_check_config(const struct sw_config *cfg, struct sw_diag *diag);

/* endpoint.c: the worker side of struct sw_quic_api (http/quic_api.h). */
int sw_quic_start(struct sw_ctx *ctx);
int sw_quic_relisten(struct sw_ctx *ctx);
void sw_quic_drain(struct sw_ctx *ctx);
unsigned sw_quic_count(const struct sw_ctx *ctx);
const char *sw_quic_alt_svc(struct sw_ctx *ctx, uint16_t port);
void sw_quic_stop(struct sw_ctx *ctx);
void sw_quic_release(struct sw_ctx *ctx);

#endif
