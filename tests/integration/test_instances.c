/* SPDX-License-Identifier: MIT */
/* test_instances.c - one instance per address: a second swerver, or any other process, listening there first makes swerver refuse to start. */
#include <config.h>

#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include "core/module.h"
#include "harness.h"

/* Listeners on 127.0.0.1:port; h2c_only changes the listener's kind, not its address. */
static void write_config(const char *path, int port, unsigned workers, bool h2c_only)
{
	it_write_filef(path,
		"{ \"server\": { \"listeners\": [{\"address\": \"127.0.0.1\", \"port\": %d%s}],\n"
		"  \"workers\": %u, \"io_backend\": \"epoll\" },\n"
		"  \"timeouts\": {\"drain_ms\": 1000} }\n",
		port, h2c_only ? ", \"h2c_only\": true" : "", workers);
}

/* Starts a swerver on cfg; it must exit 1 naming the address ("udp " for QUIC's) and `holder`. */
static void assert_refused_at(const char *cfg, const char *workers, const char *proto, int port,
			      pid_t holder)
{
	const char *args[] = { "-c", cfg, "-w", workers, NULL };
	char where[64], who[32];
	struct it_proc *b = it_spawn(args, NULL);
	/* A cap, not a measure: a sanitizer build on a busy machine starts slowly. */
	int code = it_wait_exit(b, 3 * IT_WAIT_MS);

	snprintf(where, sizeof(where), "cannot listen on %s127.0.0.1:%d", proto, port);
	snprintf(who, sizeof(who), "pid %d ", (int)holder);
	IT_ASSERT(code == 1, "second instance (-w %s) on port %d: %s, want exit 1", workers, port,
		  it_code_str(code));
	IT_ASSERT(it_log_has(b, where) && it_log_has(b, who),
		  "the refusal names neither \"%s\" nor \"%s\"", where, who);
}

static void assert_refused(const char *cfg, const char *workers, int port, pid_t holder)
{
	assert_refused_at(cfg, workers, "", port, holder);
}

/* A socket of this process on 127.0.0.1:0 with SO_REUSEPORT; *port gets its port. */
static int hold_reuseport(int type, int *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	int one = 1, fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)), 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	if (type == SOCK_STREAM)
		ck_assert_int_eq(listen(fd, 16), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

/*
 * Two instances on one port both ran and split the requests (issue #19
 * item 7).  The second now refuses, whether it forks workers or not, and
 * the first still rebinds the port for itself on a reload.
 */
START_TEST(second_instance_refused)
{
	char cfg[IT_PATH_MAX];
	int port = it_free_port(), got;
	struct it_proc *a;
	size_t from;

	it_path(cfg, "a.json");
	write_config(cfg, port, 2, false);
	a = it_start_ready(cfg, "127.0.0.1", &got);
	IT_ASSERT(got == port, "listening on %d, configured %d", got, port);
	assert_refused(cfg, "2", port, a->pid);
	assert_refused(cfg, "1", port, a->pid);
	/* A reload that rebinds the same port (a new kind of listener there) is ours. */
	if (!sw_module_find("http2")) {   /* h2c_only is the change that rebinds */
		fprintf(stderr, "second_instance_refused: built without HTTP/2, no rebinding reload\n");
		return;
	}
	from = it_log_size(a);
	write_config(cfg, port, 2, true);
	it_signal(a, SIGHUP);
	IT_ASSERT(it_wait_log(a, from, "reload complete", IT_WAIT_MS),
		  "the reload that rebinds its own port did not complete");
	IT_ASSERT(!it_log_has(a, "cannot listen"), "the master refused its own port");
	assert_refused(cfg, "2", port, a->pid);
	IT_ASSERT(it_poll_exit(a) == IT_TIMEOUT, "the first instance exited");
}
END_TEST

/* Any other process that listens there, even with SO_REUSEPORT, is named. */
START_TEST(foreign_listener_refused)
{
	char cfg[IT_PATH_MAX];
	int port, fd = hold_reuseport(SOCK_STREAM, &port);

	it_path(cfg, "b.json");
	write_config(cfg, port, 2, false);
	assert_refused(cfg, "2", port, getpid());
	close(fd);
}
END_TEST

static bool built_with_http3(void)
{
	/* not -V's text: its configure line names --disable-http3 too */
	return sw_module_find("http3") != NULL;
}

/* HTTP/3's UDP group is checked the same way (a UDP socket bound with SO_REUSEPORT). */
START_TEST(foreign_udp_socket_refused)
{
	const char *d = it_tmpdir();
	char cfg[IT_PATH_MAX];
	int udp, fd;

	if (!built_with_http3()) {
		fprintf(stderr, "foreign_udp_socket_refused: built without HTTP/3\n");
		return;
	}
	fd = hold_reuseport(SOCK_DGRAM, &udp);
	it_make_cert(d);
	it_path(cfg, "q.json");
	it_write_filef(cfg,
		"{ \"server\": { \"listeners\": [ {\"address\": \"127.0.0.1\", \"port\": %d,"
		" \"quic_enabled\": true, \"quic_port\": %d} ], \"workers\": 2 },\n"
		"  \"tls\": { \"cert_path\": \"%s/cert.pem\", \"key_path\": \"%s/key.pem\" } }\n",
		it_free_port(), udp, d, d);
	assert_refused_at(cfg, "2", "udp ", udp, getpid());
	close(fd);
}
END_TEST

static Suite *instances_suite(void)
{
	Suite *s = suite_create("instances");
	TCase *tc = it_tcase("instances");

	tcase_set_timeout(tc, 120);

	tcase_add_test(tc, second_instance_refused);
	tcase_add_test(tc, foreign_listener_refused);
	tcase_add_test(tc, foreign_udp_socket_refused);
	suite_add_tcase(s, tc);
	return s;
}

IT_SUITE(instances_suite);
