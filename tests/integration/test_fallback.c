/* SPDX-License-Identifier: MIT */
/* test_fallback.c - io_backend auto falls back to epoll (and says why) when io_uring is refused. */
#include <config.h>

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include "core/module.h"
#include "harness.h"

/*
 * What a container's default seccomp profile does: io_uring_setup fails
 * with EPERM.  Unprivileged, thanks to PR_SET_NO_NEW_PRIVS.
 */
static void block_io_uring(void)
{
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = (unsigned short)(sizeof(filter) / sizeof(filter[0])), .filter = filter };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
		perror("seccomp");
		_exit(126);
	}
}

static void write_config(char cfg[IT_PATH_MAX], const char *backend, unsigned workers)
{
	it_config_simple(cfg, "swerver.json", "127.0.0.1", 0, workers, backend);
}

START_TEST(auto_falls_back_to_epoll)
{
	char cfg[IT_PATH_MAX];
	pid_t kids[4];
	int port, n;
	struct it_proc *p;

	if (!sw_module_find("io_uring"))
		return;   /* built without io_uring: nothing to fall back from */
	write_config(cfg, "auto", 2);
	it_pre_exec = block_io_uring;
	p = it_start_ready(cfg, "127.0.0.1", &port);
	it_pre_exec = NULL;
	IT_ASSERT(it_log_has(p, "io_uring unavailable (io_uring_queue_init: Operation not permitted); using epoll"),
		  "no log line saying why io_uring was not used");
	IT_ASSERT(it_log_has(p, "serving on the epoll backend"), "workers not on epoll");
	n = it_wait_children(p->pid, 2, kids, 4, 5000);
	IT_ASSERT(n == 2, "want 2 workers, have %d", n);
	for (int i = 0; i < n; i++)
		IT_ASSERT(it_has_fd_kind(kids[i], "[eventpoll]"), "worker %d holds no epoll fd", (int)kids[i]);
	IT_ASSERT(it_http_get("127.0.0.1", port, "/.healthz", IT_IO_MS) == 200, "not serving");
}
END_TEST

START_TEST(explicit_io_uring_refused_is_an_error)
{
	char cfg[IT_PATH_MAX];
	int code;
	struct it_proc *p;

	if (!sw_module_find("io_uring"))
		return;   /* the config itself is refused; test_config covers that */
	write_config(cfg, "io_uring", 2);
	it_pre_exec = block_io_uring;
	p = it_start(cfg, NULL);
	it_pre_exec = NULL;
	code = it_wait_exit(p, 5000);
	IT_ASSERT(code == 1, "io_backend io_uring refused by seccomp: want exit 1, got %s",
		  it_code_str(code));
	IT_ASSERT(it_log_has(p, "io_uring cannot start here: io_uring_queue_init: Operation not permitted"),
		  "the error does not say why");
}
END_TEST

static Suite *fallback_suite(void)
{
	Suite *s = suite_create("fallback");
	TCase *tc = it_tcase("fallback");

	tcase_add_test(tc, auto_falls_back_to_epoll);
	tcase_add_test(tc, explicit_io_uring_refused_is_an_error);
	suite_add_tcase(s, tc);
	return s;
}

IT_SUITE(fallback_suite);
