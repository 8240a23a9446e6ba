/* listener.h - the listening sockets the master owns, one per worker slot. */
#ifndef SW_DAEMON_LISTENER_H
#define SW_DAEMON_LISTENER_H

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

/*
 * Opens the listeners of cfg with nslots sockets each.  A listener that is
 * also in `reuse` (same address, port and kind) shares its sockets (dup),
 * so their accept queues carry over; slots are added to match nslots.  A
 * UDP group carries over the same way when `reuse` has one at the same UDP
 * address, whatever changed on the TCP side, so QUIC connections and the
 * group's slot order survive.  On
 * failure (the reason, naming address:port and errno text, is in err)
 * nothing new stays open.  `reuse` is never changed.
 */
int sw_listen_set_open(struct sw_listen_set *set, const struct sw_config *cfg,
		       unsigned nslots, const struct sw_listen_set *reuse,
		       char *err, size_t err_size);
void sw_listen_set_close(struct sw_listen_set *set);
/* In a worker after fork: close every socket that is not its slot's. */
void sw_listen_set_keep_slot(struct sw_listen_set *set, unsigned slot);

/*
 * Binary upgrade (listen_pass.c).  The old master describes its set in one
 * line of text naming the descriptors (malloc'ed) and, in the child about
 * to exec the new binary, clears their close-on-exec flag; the new master
 * rebuilds the set from the text, checking each descriptor is a socket of
 * the right kind, and passes it as `reuse` to sw_listen_set_open, so the
 * same kernel sockets, accept queues and UDP groups serve on.
 */
char *sw_listen_set_describe(const struct sw_listen_set *set);
int sw_listen_set_inheritable(const struct sw_listen_set *set);
int sw_listen_set_import(struct sw_listen_set *set, const char *text, char *err,
			 size_t err_size);

#endif
