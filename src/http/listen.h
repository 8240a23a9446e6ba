/* SPDX-License-Identifier: MIT */
/* listen.h - the listener set as the request path reads it; daemon/listener.c opens it. */
#ifndef SW_HTTP_LISTEN_H
#define SW_HTTP_LISTEN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include "core/config.h"
#include "core/shm.h"

/*
 * One configured listener: an SO_REUSEPORT group of TCP sockets, one per
 * worker slot.  The master creates them before fork and keeps them for as
 * long as the listener is configured, so connections queued on the socket
 * of a worker that dies or is replaced wait for its successor.
 */
struct sw_listen {
	struct sw_listener_cfg cfg;      /* own copy; cfg.port as configured */
	struct sockaddr_storage addr;    /* with the bound port */
	socklen_t addrlen;
	uint16_t port;                   /* bound port (resolved when cfg.port is 0) */
	char name[64];                   /* "127.0.0.1:8080", "[::1]:8080" */
	bool admin;                      /* the admin API's listener (admin.address:port) */
	int fds[SW_MAX_SLOTS];           /* -1 where closed */
	unsigned nslots;
	/*
	 * The group had sockets of ours before fds[0] joined it, so a socket's
	 * index in the kernel's group may differ from its slot: TCP steering
	 * (steer_tcp.c) leaves such a group alone.
	 */
	bool unordered;
	/*
	 * HTTP/3 (cfg.quic_enabled): the same per-slot SO_REUSEPORT group of
	 * UDP sockets, kept in slot order for the whole listener's life so the
	 * QUIC unit's steering program (slot in the connection ID = index in
	 * the group) stays right.  udp_nslots is 0 without QUIC, and when an
	 * earlier listener of the set has a group at the same UDP address
	 * (udp_port is still set: that group serves this listener's HTTP/3).
	 */
	struct sockaddr_storage udp_addr;
	socklen_t udp_addrlen;
	uint16_t udp_port;
	char udp_name[64];
	int udp_fds[SW_MAX_SLOTS];
	unsigned udp_nslots;
};

struct sw_listen_set {
	struct sw_listen *v;
	size_t n;
};

#endif
