/* SPDX-License-Identifier: MIT */
/* test_http3_reload.c - HTTP/3 over QUIC: reload, drain and a crashed worker: downloads finish, connections kept, stateless resets from the successor. */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "core/module.h"
#include "h3_fixture.h"

/*
 * A structural reload (a new access log target) replaces the workers while
 * two slow downloads run: the new worker of each slot shares its UDP socket,
 * hands the old connections' packets to the old worker, and the old worker
 * sends GOAWAY and stays until the downloads are done.
 */
START_TEST(reload_lets_downloads_finish)
{
	struct slow_dl d[2];
	pthread_t t[2];
	struct it_proc *p;
	char cfg[IT_PATH_MAX], alog[IT_PATH_MAX];
	struct fetch f;
	int port;

	if (!have_h3(_i))
		return;
	p = start_h3(_i, 2, NULL, &port);
	for (int i = 0; i < 2; i++) {
		d[i].port = port;
		pthread_create(&t[i], NULL, slow_download, &d[i]);
	}
	it_sleep_ms(600);
	it_path(cfg, "swerver.json");
	it_path(alog, "access.log");
	h3_write_config(cfg, _i, 2, port, NULL, alog);
	it_signal(p, SIGHUP);
	IT_ASSERT(it_wait_log(p, 0, "reload complete", IT_WAIT_MS), "the reload did not complete");
	h3_get(port, "/.healthz", NULL, 0, &f);
	IT_ASSERT(f.code == 200, "a new connection after the reload: rc %d code %ld", f.rc, f.code);
	free(f.body);
	for (int i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
		IT_ASSERT(d[i].f.rc == CURLE_OK && d[i].f.code == 200 && same_as_file(&d[i].f, "long.bin"),
			  "download %d across the reload: rc %d (%s) code %ld, %zu bytes", i, d[i].f.rc,
			  curl_easy_strerror(d[i].f.rc), d[i].f.code, d[i].f.len);
		IT_ASSERT(d[i].f.connects == 1, "download %d reconnected", i);
		free(d[i].f.body);
	}
	IT_ASSERT(it_wait_log_n(p, 0, "exited with status 0", 2, IT_WAIT_MS),
		  "the old workers did not exit after their downloads");
}
END_TEST

/*
 * A single process reloads itself: the new listener set brings a new UDP
 * socket on the same port; the old one is read dry and closed, and its
 * connections go on through the new one (the same address).
 */
START_TEST(reload_single_process_keeps_connection)
{
	struct slow_dl d;
	pthread_t t;
	struct it_proc *p;
	char cfg[IT_PATH_MAX], alog[IT_PATH_MAX];
	struct fetch f;
	int port;

	if (!have_h3(_i))
		return;
	p = start_h3(_i, 1, NULL, &port);
	d.port = port;
	pthread_create(&t, NULL, slow_download, &d);
	it_sleep_ms(600);
	it_path(cfg, "swerver.json");
	it_path(alog, "access.log");
	h3_write_config(cfg, _i, 1, port, NULL, alog);
	it_signal(p, SIGHUP);
	IT_ASSERT(it_wait_log(p, 0, "configuration applied in place", IT_WAIT_MS),
		  "the reload did not complete");
	h3_get(port, "/.healthz", NULL, 0, &f);
	IT_ASSERT(f.code == 200, "a new connection after the reload: rc %d code %ld", f.rc, f.code);
	free(f.body);
	pthread_join(t, NULL);
	IT_ASSERT(d.f.rc == CURLE_OK && d.f.code == 200 && same_as_file(&d.f, "long.bin"),
		  "download across the reload: rc %d (%s) code %ld, %zu bytes", d.f.rc,
		  curl_easy_strerror(d.f.rc), d.f.code, d.f.len);
	IT_ASSERT(d.f.connects == 1, "the download reconnected");
	free(d.f.body);
}
END_TEST

/* SIGTERM: GOAWAY, the running download finishes, then exit 0 (single process and workers). */
START_TEST(drain_lets_download_finish)
{
	struct slow_dl d;
	pthread_t t;
	struct it_proc *p;
	int port, code;

	if (!have_h3(_i))
		return;
	p = start_h3(_i, 1, NULL, &port);
	d.port = port;
	pthread_create(&t, NULL, slow_download, &d);
	it_sleep_ms(600);
	it_signal(p, SIGTERM);
	pthread_join(t, NULL);
	IT_ASSERT(d.f.rc == CURLE_OK && d.f.code == 200 && same_as_file(&d.f, "long.bin"),
		  "download across SIGTERM: rc %d (%s) code %ld, %zu bytes", d.f.rc,
		  curl_easy_strerror(d.f.rc), d.f.code, d.f.len);
	free(d.f.body);
	code = it_wait_exit(p, IT_WAIT_MS);
	IT_ASSERT(code == 0, "swerver after the drain: %s", it_code_str(code));
}
END_TEST

struct delayed_kill {
	pid_t master;
	int after_ms;
};

static void *kill_workers(void *arg)
{
	struct delayed_kill *k = arg;
	pid_t pids[8];
	int n;

	it_sleep_ms(k->after_ms);
	n = it_children(k->master, pids, 8);
	for (int i = 0; i < n; i++)
		kill(pids[i], SIGKILL);
	return NULL;
}

/*
 * A worker that dies loses its connections.  Its successor has the same
 * secret (the master made it), so it answers their packets with a
 * stateless reset and the client gives up at once instead of waiting out
 * the idle timeout.
 */
START_TEST(crashed_worker_successor_sends_stateless_reset)
{
	struct delayed_kill k;
	struct it_proc *p;
	pthread_t t;
	int64_t t0;
	char *o;
	int port;

	if (!have_h3(_i))
		return;
	p = start_h3(_i, 2, NULL, &port);
	k.master = p->pid;
	k.after_ms = 1000;
	pthread_create(&t, NULL, kill_workers, &k);
	t0 = it_now_ms();
	/* The request goes out 2 s after the handshake, on the dead worker's connection. */
	o = h3_gtls(port, "--delay-stream=2s --no-http-dump", "/index.html", true);
	pthread_join(t, NULL);
	IT_ASSERT(strstr(o, " SR token=") != NULL, "no stateless reset: %s", o);
	IT_ASSERT(it_now_ms() - t0 < 8000, "the client waited %lld ms",
		  (long long)(it_now_ms() - t0));
	free(o);
	{
		pid_t pids[8];
		IT_ASSERT(it_wait_children(p->pid, 2, pids, 8, IT_WAIT_MS) == 2, "workers not restarted");
	}
}
END_TEST

static Suite *http3_reload_suite(void)
{
	TCase *tc;
	Suite *s = h3_suite("reload", &tc);

	tcase_add_loop_test(tc, reload_lets_downloads_finish, 0, 2);
	tcase_add_loop_test(tc, reload_single_process_keeps_connection, 0, 2);
	tcase_add_loop_test(tc, drain_lets_download_finish, 0, 2);
	tcase_add_loop_test(tc, crashed_worker_successor_sends_stateless_reset, 0, 2);
	return s;
}

H3_SUITE(http3_reload_suite);
