/* SPDX-License-Identifier: MIT */
/* control.c - master<->worker messages over a SOCK_SEQPACKET socketpair. */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include "core/common.h"
#include "daemon/control.h"

/* A config with many routes is larger than the default socket buffer. */
#define CTL_BUFSIZE (4 << 20)

int sw_ctl_pair(int fds[2])
{
	int size = CTL_BUFSIZE;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0)
		return SW_ERROR;
	for (int i = 0; i < 2; i++) {
		setsockopt(fds[i], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
		setsockopt(fds[i], SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	}
	return SW_OK;
}

int sw_ctl_send(int fd, enum sw_ctl_type type, const void *payload, size_t len)
{
	return sw_ctl_send_fd(fd, type, payload, len, -1);
}

int sw_ctl_send_fd(int fd, enum sw_ctl_type type, const void *payload, size_t len, int pass)
{
	uint32_t hdr[2] = { (uint32_t)type, (uint32_t)len };
	struct iovec iov[2] = {
		{ .iov_base = hdr, .iov_len = sizeof(hdr) },
		{ .iov_base = (void *)payload, .iov_len = len },
	};
	union { struct cmsghdr align; char buf[CMSG_SPACE(sizeof(int))]; } ctl;
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };
	ssize_t n;

	if (pass >= 0) {
		struct cmsghdr *c;
		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &pass, sizeof(int));
	}
	do
		n = sendmsg(fd, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN ? SW_AGAIN : SW_ERROR;
	return SW_OK;
}

/* The descriptor a message carries, if any. */
static void take_fd(struct msghdr *mh, struct sw_ctl_msg *msg)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
		    c->cmsg_len == CMSG_LEN(sizeof(int)) && msg->fd < 0)
			memcpy(&msg->fd, CMSG_DATA(c), sizeof(int));
}

int sw_ctl_recv(int fd, struct sw_ctl_msg *msg)
{
	union { struct cmsghdr align; char buf[CMSG_SPACE(sizeof(int))]; } ctl;
	struct msghdr mh = { .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf) };
	struct iovec iov;
	ssize_t size, n;
	char *buf;

	memset(msg, 0, sizeof(*msg));
	msg->fd = -1;
	/* MSG_TRUNC with MSG_PEEK returns the whole datagram's length. */
	do
		size = recv(fd, NULL, 0, MSG_PEEK | MSG_TRUNC);
	while (size < 0 && errno == EINTR);
	if (size < 0)
		return errno == EAGAIN ? SW_AGAIN : SW_ERROR;
	if (size == 0)
		return SW_DONE;
	buf = sw_malloc((size_t)size + 1);
	iov = (struct iovec){ .iov_base = buf, .iov_len = (size_t)size };
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	take_fd(&mh, msg);
	if (n != size || n < (ssize_t)(2 * sizeof(uint32_t))) {
		free(buf);
		sw_ctl_msg_free(msg);
		return SW_ERROR;
	}
	memcpy(&msg->type, buf, sizeof(uint32_t));
	memcpy(&msg->len, buf + sizeof(uint32_t), sizeof(uint32_t));
	if (msg->len != (size_t)n - 2 * sizeof(uint32_t)) {
		free(buf);
		sw_ctl_msg_free(msg);
		return SW_ERROR;
	}
	if (msg->len) {
		msg->payload = sw_malloc(msg->len + 1);
		memcpy(msg->payload, buf + 2 * sizeof(uint32_t), msg->len);
		msg->payload[msg->len] = '\0';
	}
	free(buf);
	return SW_OK;
}

void sw_ctl_msg_free(struct sw_ctl_msg *msg)
{
	free(msg->payload);
	msg->payload = NULL;
	if (msg->fd >= 0)
		close(msg->fd);
	msg->fd = -1;
}
