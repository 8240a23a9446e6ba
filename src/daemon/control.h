/* SPDX-License-Identifier: MIT */
/* control.h - the message channel between the master and each worker. */
#ifndef SW_DAEMON_CONTROL_H
#define SW_DAEMON_CONTROL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * A SOCK_SEQPACKET socketpair per worker: message boundaries are kept, and
 * EOF tells a worker its master is gone.  Each message is a header and an
 * optional payload in one datagram.
 */
enum sw_ctl_type {
	SW_CTL_READY = 1,    /* worker -> master: every listener is accepting */
	SW_CTL_DRAIN,        /* master -> worker: stop accepting, finish, exit 0 */
	SW_CTL_STOP,         /* master -> worker: exit now */
	SW_CTL_REOPEN_LOGS,  /* master -> worker: reopen log files */
	SW_CTL_CONFIG,       /* master -> worker: payload is the new config (JSON) */
	SW_CTL_ADMIN,        /* worker -> master: "SEQ OP\n" then a config (JSON) for OP config */
	SW_CTL_ADMIN_RESULT, /* master -> worker: "SEQ STATUS TEXT" */
	SW_CTL_FAILED,       /* upgrade: new master -> old: why it cannot start (READY: it serves) */
	SW_CTL_CONN,         /* master -> worker: a connection (fd attached) queued on a stalled
	                        worker's socket of listener "INDEX"; serve it */
};

struct sw_ctl_msg {
	uint32_t type;
	uint32_t len;        /* payload bytes */
	char *payload;       /* malloc'ed, NUL-terminated; NULL when len == 0 */
	int fd;              /* a descriptor passed with it, else -1; set to -1 when taken */
};

/* A non-blocking, close-on-exec pair: fds[0] for the master, fds[1] for the worker. */
int sw_ctl_pair(int fds[2]);
/* Sends one message; SW_OK, SW_AGAIN (peer's queue is full) or SW_ERROR. */
int sw_ctl_send(int fd, enum sw_ctl_type type, const void *payload, size_t len);
/* The same with a descriptor passed along (SCM_RIGHTS); the caller still closes its copy. */
int sw_ctl_send_fd(int fd, enum sw_ctl_type type, const void *payload, size_t len, int pass);
/*
 * Receives one message: SW_OK, SW_AGAIN (none queued), SW_DONE (peer
 * closed), SW_ERROR.  A passed descriptor is in msg->fd (close-on-exec);
 * sw_ctl_msg_free closes it unless the caller took it.
 */
int sw_ctl_recv(int fd, struct sw_ctl_msg *msg);
void sw_ctl_msg_free(struct sw_ctl_msg *msg);

#endif
