/* SPDX-License-Identifier: MIT */
/* handover.c - QUIC packets handed between worker generations of a slot (or slots, unsteered). */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "core/log.h"
#include "http/context.h"
#include "quic/quic_impl.h"
#include "quic/handover.h"

/*
 * A structural reload starts a new worker on the same UDP socket of the
 * slot (the master shares it), so the old worker's packets may be read by
 * the new one and the new one's by the old, whatever steering does.  Each
 * worker binds an abstract AF_UNIX datagram socket named after the master,
 * the slot and its generation, and passes a packet whose connection ID
 * names another generation to that generation's worker, with the addresses
 * and ECN mark it came with.  Nothing is needed from the master, and a
 * worker whose sibling is gone just handles the packet itself.  Where the
 * steering program could not attach, the same sockets carry a packet to
 * the slot its connection ID names.
 */

struct fwd_hdr {
	uint8_t ecn;
	uint8_t pad[3];
	uint32_t local_len, remote_len;
	struct sockaddr_storage local, remote;
};

static socklen_t fwd_name(const struct quic_ep *ep, unsigned slot, unsigned gen,
			  struct sockaddr_un *sun)
{
	int n;

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	/*
	 * sun_path[0] = 0: the abstract namespace, gone with the last
	 * descriptor.  Named after the tree (the first master's pid, kept in
	 * shared memory), not our master: after a binary upgrade the old and
	 * the new generation have different masters.
	 */
	n = snprintf(sun->sun_path + 1, sizeof(sun->sun_path) - 1, "swerver-quic.%llu.%u.%u",
		     (unsigned long long)ep->ctx->shm->head.tree_id, slot, gen);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
}

/* SW_OK when the worker of slot and generation gen took the packet. */
int sw_quic_forward(struct quic_ep *ep, unsigned slot, unsigned gen, const struct quic_path *p,
		    uint8_t ecn, const uint8_t *data, size_t len)
{
	struct fwd_hdr hd = { .ecn = ecn, .local_len = p->local_len, .remote_len = p->remote_len };
	struct iovec iov[2] = { { &hd, sizeof(hd) }, { (void *)data, len } };
	struct sockaddr_un sun;
	struct msghdr m = { .msg_name = &sun, .msg_iov = iov, .msg_iovlen = 2 };

	if (ep->fwd_fd < 0 || gen == 0)
		return SW_ERROR;
	m.msg_namelen = fwd_name(ep, slot, gen, &sun);
	memcpy(&hd.local, &p->local, p->local_len);
	memcpy(&hd.remote, &p->remote, p->remote_len);
	if (sendmsg(ep->fwd_fd, &m, MSG_DONTWAIT) >= 0) {
		sw_stat_add(&ep->ctx->stats->quic_handed_over, 1);
		return SW_OK;
	}
	return errno == EAGAIN || errno == ENOBUFS ? SW_AGAIN : SW_ERROR;
}

/* To the CID's slot, in the generation its parity bits name, nearest to ours first. */
int sw_quic_forward_by_cid(struct quic_ep *ep, const uint8_t *cid, const struct quic_path *p,
			   uint8_t ecn, const uint8_t *data, size_t len)
{
	unsigned slot = cid[0], gen = ep->ctx->generation;
	unsigned delta = (cid[1] - gen) & QUIC_GEN_MASK;

	if (delta == 0)
		return sw_quic_forward(ep, slot, gen, p, ecn, data, len);
	if (delta == 1 && sw_quic_forward(ep, slot, gen + 1, p, ecn, data, len) == SW_OK)
		return SW_OK;
	return gen > QUIC_GEN_MASK + 1 - delta ?
	       sw_quic_forward(ep, slot, gen - (QUIC_GEN_MASK + 1 - delta), p, ecn, data, len) :
	       SW_ERROR;
}

static struct quic_sock *sock_for(struct quic_ep *ep, const struct sockaddr_storage *local)
{
	uint16_t port = ntohs(((const struct sockaddr_in *)local)->sin_port);

	for (struct quic_sock *s = ep->socks; s; s = s->next)
		if (!s->closing && s->family == local->ss_family && s->port == port)
			return s;
	return NULL;
}

static void watch_fwd(struct quic_ep *ep);

static void on_forwarded(struct sw_io *io, ssize_t res)
{
	struct quic_ep *ep = io->data;

	ep->fwd_reading = false;
	if (res < 0 || ep->fwd_fd < 0)
		return;
	ep->in_pass = true;
	for (int i = 0; i < QUIC_RECV_BUDGET; i++) {
		struct fwd_hdr hd;
		struct iovec iov[2] = { { &hd, sizeof(hd) }, { ep->rbuf, QUIC_MAX_DGRAM } };
		struct msghdr m = { .msg_iov = iov, .msg_iovlen = 2 };
		struct quic_path p;
		struct quic_sock *sock;
		ssize_t n = recvmsg(ep->fwd_h.fd, &m, MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if ((size_t)n <= sizeof(hd) || hd.local_len > sizeof(p.local) ||
		    hd.remote_len > sizeof(p.remote))
			continue;
		memcpy(&p.local, &hd.local, hd.local_len);
		memcpy(&p.remote, &hd.remote, hd.remote_len);
		p.local_len = hd.local_len;
		p.remote_len = hd.remote_len;
		sock = sock_for(ep, &p.local);
		if (sock)
			sw_quic_dispatch(sock, &p, hd.ecn, ep->rbuf, (size_t)n - sizeof(hd), true);
	}
	ep->in_pass = false;
	sw_quic_flush_dirty(ep);
	watch_fwd(ep);
}

static void watch_fwd(struct quic_ep *ep)
{
	if (ep->fwd_reading || ep->fwd_fd < 0)
		return;
	ep->fwd_io.data = ep;
	ep->fwd_io.cb = on_forwarded;
	if (sw_loop_poll(ep->ctx->loop, &ep->fwd_h, &ep->fwd_io, false) == SW_OK)
		ep->fwd_reading = true;
}

/* Only a worker under a master has siblings; a name in use (a stale tree) leaves it out. */
void sw_quic_fwd_open(struct quic_ep *ep)
{
	struct sockaddr_un sun;
	socklen_t len;
	int fd;

	ep->fwd_fd = -1;
	if (ep->ctx->single_process)
		return;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	len = fwd_name(ep, ep->ctx->slot, ep->ctx->generation, &sun);
	if (bind(fd, (struct sockaddr *)&sun, len) != 0 ||
	    sw_loop_add_flags(ep->ctx->loop, &ep->fwd_h, fd, ep, SW_HANDLE_PRIVATE) != SW_OK) {
		sw_log_errno(SW_LOG_WARN, errno, "QUIC: no hand-over socket between generations");
		close(fd);
		return;
	}
	ep->fwd_fd = fd;
	watch_fwd(ep);
}

void sw_quic_fwd_close(struct quic_ep *ep)
{
	if (ep->fwd_fd < 0)
		return;
	ep->fwd_fd = -1;
	sw_loop_close_handle(ep->ctx->loop, &ep->fwd_h, NULL);
}

/* ---- which connection IDs are this worker's (else handed over or reset) ---- */

bool sw_quic_slot_cid(const struct quic_ep *ep, const uint8_t *cid, size_t len)
{
	return len == QUIC_SCID_LEN && cid[0] == (uint8_t)ep->ctx->slot;
}

bool sw_quic_same_gen(const struct quic_ep *ep, const uint8_t *cid)
{
	return (cid[1] & QUIC_GEN_MASK) == (ep->ctx->generation & QUIC_GEN_MASK);
}
