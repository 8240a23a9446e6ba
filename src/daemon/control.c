/* control.c - master<->worker messages over a SOCK_SEQPACKET socketpair. */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
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
	uint32_t hdr[2] = { (uint32_t)type, (uint32_t)len };
	struct iovec iov[2] = {
		{ .iov_base = hdr, .iov_len = sizeof(hdr) },
		{ .iov_base = (void *)payload, .iov_len = len },
	};
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };
	ssize_t n;

	do
		n = sendmsg(fd, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN ? SW_AGAIN : SW_ERROR;
	return SW_OK;
}

int sw_ctl_recv(int fd, struct sw_ctl_msg *msg)
{
	ssize_t size, n;
	char *buf;

	memset(msg, 0, sizeof(*msg));
	/* MSG_TRUNC with MSG_PEEK returns the whole datagram's length. */
	do
		size = recv(fd, NULL, 0, MSG_PEEK | MSG_TRUNC);
	while (size < 0 && errno == EINTR);
	if (size < 0)
		return errno == EAGAIN ? SW_AGAIN : SW_ERROR;
	if (size == 0)
		return SW_DONE;
	buf = sw_malloc((size_t)size + 1);
	n = recv(fd, buf, (size_t)size, 0);
	if (n != size || n < (ssize_t)(2 * sizeof(uint32_t))) {
		free(buf);
		return SW_ERROR;
	}
	memcpy(&msg->type, buf, sizeof(uint32_t));
	memcpy(&msg->len, buf + sizeof(uint32_t), sizeof(uint32_t));
	if (msg->len != (size_t)n - 2 * sizeof(uint32_t)) {
		free(buf);
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
}
