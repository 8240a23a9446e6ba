/* SPDX-License-Identifier: MIT */
/* steer_tcp.c - keeping new TCP connections away from the sockets of stalled workers. */
#include <config.h>

#include <errno.h>
#include <string.h>
#include <linux/filter.h>
#include <sys/socket.h>
#include "core/log.h"
#include "daemon/steer_tcp.h"

#ifndef SO_DETACH_REUSEPORT_BPF
#define SO_DETACH_REUSEPORT_BPF 68  /* Linux 5.3 */
#endif

/* random, modulo, then one compare-and-return per healthy slot */
#define PROG_MAX (3 + 2 * SW_MAX_SLOTS)

/*
 * The program returns the index of the socket in the group, which is the
 * slot while the group is in slot order (listener.c keeps it so).  For a
 * SYN the kernel picks once and the request stays with that listener, so
 * a random choice spreads as evenly as the hash without knowing the
 * packet's addresses (cBPF sees the TCP payload, not the header).
 */
static unsigned build(struct sock_filter *code, const unsigned *healthy, unsigned n)
{
	unsigned len = 0;

	code[len++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
						   SKF_AD_OFF + SKF_AD_RANDOM);
	code[len++] = (struct sock_filter)BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, n);
	for (unsigned k = 0; k < n; k++) {
		code[len++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, k, 0, 1);
		code[len++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, healthy[k]);
	}
	code[len++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, healthy[0]);
	return len;
}

static int attach(int fd, const unsigned *healthy, unsigned n)
{
	struct sock_filter code[PROG_MAX];
	struct sock_fprog prog = { .filter = code };

	prog.len = (unsigned short)build(code, healthy, n);
	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof(prog));
}

/*
 * Back to the kernel's hash.  A kernel without SO_DETACH_REUSEPORT_BPF
 * gets a program over every slot instead, which spreads the same way.
 */
static int detach(int fd, const unsigned *all, unsigned n)
{
	int unused = 0;

	if (setsockopt(fd, SOL_SOCKET, SO_DETACH_REUSEPORT_BPF, &unused, sizeof(unused)) == 0 ||
	    errno == ENOENT)
		return 0;
	return attach(fd, all, n);
}

static void apply_one(const struct sw_listen *l, unsigned nslots, const bool *stalled)
{
	unsigned healthy[SW_MAX_SLOTS], all[SW_MAX_SLOTS], n = 0, total = SW_MIN(nslots, l->nslots);
	int rc;

	for (unsigned s = 0; s < total; s++) {
		all[s] = s;
		if (!stalled[s])
			healthy[n++] = s;
	}
	if (total < 2 || l->fds[0] < 0)
		return;
	if (l->unordered) {
		if (n < total)
			sw_warn("%s: its socket group was rebuilt around older sockets, so stalled "
				"workers cannot be steered around on it", l->name);
		return;
	}
	/* All stalled: nobody better to send them to. */
	if (n == 0 || n == total)
		rc = detach(l->fds[0], all, total);
	else
		rc = attach(l->fds[0], healthy, n);
	if (rc != 0)
		sw_log_errno(SW_LOG_WARN, errno, "%s: cannot set the TCP steering program", l->name);
}

void sw_steer_tcp_apply(const struct sw_listen_set *set, unsigned nslots, const bool *stalled)
{
	for (size_t i = 0; i < set->n; i++)
		apply_one(&set->v[i], nslots, stalled);
}
