/* SPDX-License-Identifier: MIT */
/* quic.c - HTTP/3: the http3 module's entry, its shared secrets, reuseport steering, config checks. */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/filter.h>
#include <sys/socket.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <ngtcp2/ngtcp2.h>
#include <nghttp3/nghttp3.h>
#include "core/config.h"
#include "core/diag.h"
#include "core/log.h"
#include "core/module.h"
#include "quic/quic.h"
#include "quic/quic_impl.h"

struct quic_secrets sw_quic_secrets;

/*
 * Classic BPF run by the kernel on each datagram of the group (offset 0 is
 * the UDP payload): the index of the socket is the first byte of the
 * destination connection ID, at offset 6 in a long header (flags, version,
 * DCID length) and 1 in a short one.  An index past the group (a client's
 * own first DCID) falls back to the 4-tuple hash, so the first flight of a
 * connection still lands on one socket.  No privilege is needed, unlike an
 * eBPF SK_REUSEPORT program.
 */
static int steer(int fd, char *err, size_t err_size)
{
	static struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 0),
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x80, 0, 2),
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 6),
		BPF_STMT(BPF_RET | BPF_A, 0),
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 1),
		BPF_STMT(BPF_RET | BPF_A, 0),
	};
	struct sock_fprog prog = { .len = SW_ARRAY_SIZE(code), .filter = code };

	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof(prog)) != 0) {
		snprintf(err, err_size, "SO_ATTACH_REUSEPORT_CBPF: %s", strerror(errno));
		return SW_ERROR;
	}
	return SW_OK;
}

static int group_open(const int *fds, unsigned n, char *err, size_t err_size)
{
	char why[128];

	(void)err;
	(void)err_size;
	/*
	 * One socket has nobody to steer to; the program belongs to the whole
	 * group.  Without it the 4-tuple hash still keeps a client that does
	 * not move on one worker, and the workers forked from now on pass the
	 * packets of a client that moved to the slot its connection ID names
	 * (endpoint.c): one more hop for those, worth a warning, not a refusal.
	 */
	if (n > 1 && steer(fds[0], why, sizeof(why)) != SW_OK) {
		sw_warn("HTTP/3: %s; workers will pass each other the packets of clients that "
			"change address", why);
		sw_quic_secrets.unsteered = true;
	}
	return SW_OK;
}

/*
 * QUIC's handshake runs on GnuTLS (the crypto helper Debian ships) while
 * TCP uses OpenSSL, so the same PEM files must load in both; -t proves it.
 */
int sw_quic_check_config(const struct sw_config *cfg, struct sw_diag *diag)
{
	const char *cert = sw_quic_cert_path(cfg), *key = sw_quic_key_path(cfg);
	gnutls_certificate_credentials_t cred;
	int rc;

	if (!sw_quic_wanted(cfg) || !cert || !key)
		return SW_OK;
	if (gnutls_certificate_allocate_credentials(&cred) != GNUTLS_E_SUCCESS) {
		sw_diag_error(diag, "quic", "cannot allocate GnuTLS credentials");
		return SW_ERROR;
	}
	rc = gnutls_certificate_set_x509_key_file(cred, cert, key, GNUTLS_X509_FMT_PEM);
	gnutls_certificate_free_credentials(cred);
	if (rc < 0) {
		sw_diag_error(diag, "quic.cert_path", "%s / %s: GnuTLS cannot load them: %s",
			      cert, key, gnutls_strerror(rc));
		return SW_ERROR;
	}
	return SW_OK;
}

static void versions(char *buf, size_t size)
{
	snprintf(buf, size, "ngtcp2 %s, nghttp3 %s, GnuTLS %s",
		 ngtcp2_version(0)->version_str, nghttp3_version(0)->version_str,
		 gnutls_check_version(NULL));
}

static const struct sw_quic_api api = {
	.group_open = group_open,
	.start = sw_quic_start,
	.relisten = sw_quic_relisten,
	.drain = sw_quic_drain,
	.count = sw_quic_count,
	.alt_svc = sw_quic_alt_svc,
	.stop = sw_quic_stop,
	.release = sw_quic_release,
};

const struct sw_module sw_module_http3 = {
	.name = "http3",
	.summary = "HTTP/3 over QUIC (ngtcp2, nghttp3, GnuTLS)",
	.versions = versions,
	.check_config = sw_quic_check_config,
	.config = &sw_quic_config_section,
	.impl = &api,
};
