/* SPDX-License-Identifier: MIT */
/* tls_impl.h - what the OpenSSL unit's files share. */
#ifndef SW_TLS_TLS_IMPL_H
#define SW_TLS_TLS_IMPL_H

#include <openssl/bio.h>

/* A write BIO on fd that sends a write's records together at the flush (tls_wbio.c). */
BIO *sw_tls_wbio_new(int fd);

#endif
