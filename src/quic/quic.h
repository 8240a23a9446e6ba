/* quic.h - HTTP/3 over QUIC with ngtcp2, nghttp3 and GnuTLS. */
#ifndef SW_QUIC_QUIC_H
#define SW_QUIC_QUIC_H

struct sw_diag;
struct sw_config;

/* The certificate and key QUIC uses (quic.* or else tls.*), loaded with GnuTLS. */
int sw_quic_check_config(const struct sw_config *cfg, struct sw_diag *diag);

#endif
