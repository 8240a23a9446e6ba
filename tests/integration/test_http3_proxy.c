/* SPDX-License-Identifier: MIT */
/* test_http3_proxy.c - HTTP/3 over QUIC: the reverse proxy over HTTP/3: bodies streamed both ways. */
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
 * The reverse proxy behind HTTP/3: a response body streamed from the
 * upstream (write_body) and a request body streamed to it (read_body).  The
 * upstream is a second swerver serving the same files over plain HTTP/1.1.
 */
START_TEST(proxy_streams_bodies_both_ways)
{
	char cfg[IT_PATH_MAX], upcfg[IT_PATH_MAX];
	struct it_proc *p;
	struct fetch f;
	int port, upport;
	char *o;

	if (!have_h3(_i))
		return;
	if (!sw_module_find("proxy")) {
		fprintf(stderr, "skipped: built without --enable-proxy\n");
		return;
	}
	h3_make_site();
	it_path(upcfg, "upstream.json");
	it_write_filef(upcfg,
		"{ \"server\": { \"listeners\": [ {\"address\": \"127.0.0.1\", \"port\": 0} ],\n"
		"              \"workers\": 1, \"static_root\": \"%s/www\" } }\n", it_tmpdir());
	it_start_ready(upcfg, "127.0.0.1", &upport);
	port = it_free_dual_port();
	it_path(cfg, "swerver.json");
	it_write_filef(cfg,
		"{ \"server\": { \"listeners\": [ {\"address\": \"127.0.0.1\", \"port\": %d,"
		"                                  \"quic_enabled\": true} ],\n"
		"              \"workers\": 1, \"io_backend\": \"%s\" },\n"
		"  \"tls\": { \"cert_path\": \"%s/cert.pem\", \"key_path\": \"%s/key.pem\" },\n"
		"  \"upstreams\": [ { \"name\": \"up\", \"servers\": [ {\"address\": \"127.0.0.1\", \"port\": %d} ] } ],\n"
		"  \"routes\": [ { \"path_prefix\": \"/\", \"upstream\": \"up\" } ] }\n",
		port, it_backend(_i), it_tmpdir(), it_tmpdir(), upport);
	p = it_start_ready(cfg, "127.0.0.1", &port);
	(void)p;
	h3_get(port, "/long.bin", NULL, 0, &f);
	IT_ASSERT(f.rc == CURLE_OK && f.code == 200 && same_as_file(&f, "long.bin"),
		  "6 MiB through the proxy over HTTP/3: rc %d code %ld, %zu bytes", f.rc, f.code, f.len);
	free(f.body);
	{
		char opts[IT_PATH_MAX + 32];
		snprintf(opts, sizeof(opts), "-m POST -d %s/www/big.bin", it_tmpdir());
		o = h3_gtls(port, opts, "/index.html", false);
		IT_ASSERT(strstr(o, "[:status: 405]") != NULL, "POST through the proxy: %s", o);
		free(o);
	}
}
END_TEST

static Suite *http3_proxy_suite(void)
{
	TCase *tc;
	Suite *s = h3_suite("proxy", &tc);

	tcase_add_loop_test(tc, proxy_streams_bodies_both_ways, 0, 2);
	return s;
}

H3_SUITE(http3_proxy_suite);
