/* SPDX-License-Identifier: MIT */
/* test_upstream.c - what the proxy does with odd upstream responses (transfer codings, endless 1xx, 103 Early Hints, to HTTP/1.1, HTTP/2 and HTTP/3 clients: curl, gtlsclient) and with clients that trickle (limits.min_body_rate, min_send_rate). */
#include <config.h>

#include <errno.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "core/module.h"
#include "harness.h"

/* Every client command runs under this cap, so a hung client cannot hang the suite. */
#define T "timeout -k 1 25 "

/* ---- a scripted upstream: a fixed raw answer per path ---- */

static pid_t origin_pid;
static char origin_log[IT_PATH_MAX];

static void origin_note(const char *what)
{
	int fd = open(origin_log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);

	if (fd >= 0) {
		if (write(fd, what, strlen(what)) < 0)
			_exit(1);
		close(fd);
	}
}

/* Sends s; false once the proxy has closed the connection. */
static bool say(int c, const char *s)
{
	return send(c, s, strlen(s), MSG_NOSIGNAL) == (ssize_t)strlen(s);
}

/* 103s every `ms` until the peer goes away, which is noted ("closed <path>"). */
static void hints_forever(int c, int ms, const char *path)
{
	char note[128];

	while (say(c, "HTTP/1.1 103 Early Hints\r\nLink: </x.css>; rel=preload\r\n\r\n"))
		usleep((useconds_t)ms * 1000);
	snprintf(note, sizeof(note), "closed %s\n", path);
	origin_note(note);
}

static void answer(int c, const char *path)
{
	static const char chunked_body[] = "5\r\nhello\r\n0\r\n\r\n";
	char buf[512];

	if (strcmp(path, "/te/chunked") == 0) {
		snprintf(buf, sizeof(buf), "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%s",
			 chunked_body);
	} else if (strcmp(path, "/te/gzip-chunked") == 0) {
		snprintf(buf, sizeof(buf), "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n"
			 "\r\n%s", chunked_body);
	} else if (strcmp(path, "/te/chunked-gzip") == 0) {
		snprintf(buf, sizeof(buf), "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n"
			 "\r\n%s", chunked_body);
	} else if (strcmp(path, "/te/unknown") == 0) {
		snprintf(buf, sizeof(buf), "HTTP/1.1 200 OK\r\nTransfer-Encoding: frob, chunked\r\n"
			 "\r\n%s", chunked_body);
	} else if (strcmp(path, "/te/chunked-chunked") == 0) {
		snprintf(buf, sizeof(buf), "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
			 "Transfer-Encoding: chunked\r\n\r\n%s", chunked_body);
	} else if (strcmp(path, "/te/identity") == 0) {
		snprintf(buf, sizeof(buf), "HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n\r\nhello");
	} else if (strcmp(path, "/sink") == 0) {
		/* Takes the request body and never answers; notes when the proxy lets go. */
		while (recv(c, buf, sizeof(buf), 0) > 0)
			;
		origin_note("closed /sink\n");
		return;
	} else if (strcmp(path, "/big") == 0) {
		/* 1 GiB of zeros, until the proxy lets go. */
		static char zeros[65536];

		if (!say(c, "HTTP/1.1 200 OK\r\nContent-Length: 1073741824\r\n\r\n"))
			return;
		while (send(c, zeros, sizeof(zeros), MSG_NOSIGNAL) > 0)
			;
		origin_note("closed /big\n");
		return;
	} else if (strcmp(path, "/late") == 0) {
		/* Answers after 2 s (read_timeout_ms is 3 s): a stream still open when another is cut. */
		sleep(2);
		snprintf(buf, sizeof(buf), "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nlate");
	} else if (strcmp(path, "/hints/forever") == 0) {
		hints_forever(c, 20, path);
		return;
	} else if (strcmp(path, "/hints/slow") == 0) {
		hints_forever(c, 300, path);
		return;
	} else if (strcmp(path, "/hints/two") == 0) {
		if (!say(c, "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload; as=style\r\n"
			 "X-Internal: secret\r\n\r\n"))
			return;
		usleep(50 * 1000);
		snprintf(buf, sizeof(buf), "HTTP/1.1 103 Early Hints\r\nLink: </b.js>; rel=preload; "
			 "as=script\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ndone");
	} else {
		snprintf(buf, sizeof(buf), "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
	}
	say(c, buf);
}

/* One process per connection, each answering one request and closing (no pooling). */
static int origin_start(void)
{
	int port, fd = it_hold_port(&port);

	it_path(origin_log, "origin.log");
	fflush(NULL);
	origin_pid = fork();
	ck_assert_msg(origin_pid >= 0, "fork: %s", strerror(errno));
	if (origin_pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		signal(SIGCHLD, SIG_IGN);   /* the connection processes reap themselves */
		for (;;) {
			int c = accept(fd, NULL, NULL);
			if (c < 0)
				continue;
			if (fork() == 0) {
				char req[4096], path[256] = "";
				size_t len = 0;

				prctl(PR_SET_PDEATHSIG, SIGKILL);
				close(fd);
				req[0] = '\0';
				while (len < sizeof(req) - 1 && !strstr(req, "\r\n\r\n")) {
					ssize_t k = recv(c, req + len, sizeof(req) - 1 - len, 0);
					if (k <= 0)
						_exit(0);
					len += (size_t)k;
					req[len] = '\0';
				}
				sscanf(req, "%*s %255s", path);
				answer(c, path);
				close(c);
				_exit(0);
			}
			close(c);
		}
	}
	close(fd);
	return port;
}

static void origin_stop(void)
{
	if (origin_pid > 0 && waitpid(origin_pid, NULL, WNOHANG) == 0) {
		kill(origin_pid, SIGKILL);
		waitpid(origin_pid, NULL, 0);
	}
	origin_pid = 0;
}

/* ---- swerver: plain HTTP/1.1 and h2c on TCP, HTTP/3 on UDP, the same port ---- */

static bool have_proxy(int i)
{
	if (!it_backend(i))
		return false;
	if (!sw_module_find("proxy")) {
		fprintf(stderr, "note: built without the proxy; skipping\n");
		return false;
	}
	return true;
}

/* extra: top-level keys (each ending in ","); routes: entries put first in routes[] (each ending in ","). */
static struct it_proc *start_proxy_routes(int i, int origin, const char *extra, const char *routes,
					  int *port)
{
	const char *d = it_tmpdir();
	char cfg[IT_PATH_MAX];
	bool h3 = sw_module_find("http3") != NULL;

	if (h3)
		it_make_cert(d);
	*port = h3 ? it_free_dual_port() : 0;
	it_path(cfg, "swerver.json");
	it_write_filef(cfg,
		"{\n"
		"  \"server\": {\"listeners\": [{\"address\": \"127.0.0.1\", \"port\": %d%s}],\n"
		"    \"workers\": 1, \"io_backend\": \"%s\"},\n"
		"  %s%s%s%s%s\n"
		"  \"timeouts\": {\"drain_ms\": 1000},\n  %s\n"
		"  \"upstreams\": [{\"name\": \"o\", \"servers\": [{\"address\": \"127.0.0.1\",\n"
		"    \"port\": %d, \"max_fails\": 0}]}],\n"
		"  \"routes\": [%s\n"
		"    {\"path_prefix\": \"/hints/slow\", \"upstream\": \"o\", \"connect_timeout_ms\": 1000,\n"
		"     \"read_timeout_ms\": 1000},\n"
		"    {\"path_prefix\": \"/\", \"upstream\": \"o\", \"connect_timeout_ms\": 1000,\n"
		"     \"read_timeout_ms\": 3000}]\n"
		"}\n", *port, h3 ? ", \"quic_enabled\": true" : "", it_backend(i),
		h3 ? "\"tls\": {\"cert_path\": \"" : "", h3 ? d : "",
		h3 ? "/cert.pem\", \"key_path\": \"" : "", h3 ? d : "", h3 ? "/key.pem\"}," : "",
		extra, origin, routes);
	return it_start_ready(cfg, "127.0.0.1", port);
}

static struct it_proc *start_proxy_with(int i, int origin, const char *extra, int *port)
{
	return start_proxy_routes(i, origin, extra, "", port);
}

static struct it_proc *start_proxy(int i, int origin, int *port)
{
	return start_proxy_with(i, origin, "", port);
}

/* ---- clients ---- */

struct res {
	int code;                     /* 0: no answer */
	char *head;                   /* every head the client saw, 1xx included */
	char *body;
};

static void res_free(struct res *r)
{
	free(r->head);
	free(r->body);
}

/* curl over HTTP/1.1 or HTTP/2 (prior knowledge, cleartext). */
static void curl_get(struct res *r, int port, bool h2, const char *path)
{
	char hf[IT_PATH_MAX], bf[IT_PATH_MAX];
	char *o;
	int st;

	it_path(hf, "curl.head");
	it_path(bf, "curl.body");
	unlink(hf);
	unlink(bf);
	o = it_run(&st, T "curl -s --max-time 20 %s -D %s -o %s -w '%%{http_code}' "
		   "'http://127.0.0.1:%d%s'", h2 ? "--http2-prior-knowledge" : "--http1.1", hf, bf,
		   port, path);
	r->code = atoi(o);
	free(o);
	r->head = it_read_file(hf);
	r->body = it_read_file(bf);
}

/* gtlsclient (ngtcp2's client) over HTTP/3: its header lines, the body from --download. */
static void h3_get(struct res *r, int port, const char *path)
{
	char dl[IT_PATH_MAX], file[IT_PATH_MAX + 64];
	const char *at;
	int st;

	it_path(dl, "dl");
	snprintf(file, sizeof(file), "%s/%s", dl, strrchr(path, '/') + 1);
	unlink(file);
	r->head = it_run(&st, "mkdir -p %s && timeout -k 1 25 gtlsclient --exit-on-all-streams-close "
			 "--handshake-timeout=5s --timeout=10s --no-quic-dump --download=%s "
			 "127.0.0.1 %d 'https://127.0.0.1:%d%s' 2>&1", dl, dl, port, port, path);
	/* The last ":status" is the final one; a 103 before it is an interim answer. */
	r->code = 0;
	for (at = r->head; (at = strstr(at, "[:status: ")); at++)
		r->code = atoi(at + strlen("[:status: "));
	r->body = it_read_file(file);
}

static bool have_h3(void)
{
	return sw_module_find("http3") != NULL;
}

enum client { H1, H2, H3, NCLIENTS };
static const char *const client_names[NCLIENTS] = { "HTTP/1.1", "HTTP/2", "HTTP/3" };

static void get(struct res *r, enum client c, int port, const char *path)
{
	memset(r, 0, sizeof(*r));
	if (c == H3)
		h3_get(r, port, path);
	else
		curl_get(r, port, c == H2, path);
}

/* ---- tests ---- */

/*
 * Issue #20 item 2: "Transfer-Encoding: gzip, chunked" from an upstream
 * reached the client with its chunk framing in the body.  chunked is
 * always decoded; a coding before it (or after it, or unknown) is refused
 * with 502 and a log line naming it; identity alone is a plain body.
 */
START_TEST(transfer_codings)
{
	static const struct {
		const char *path;
		int want;
		const char *body;     /* for 200 */
		const char *logged;   /* for 502 */
	} cases[] = {
		{ "/te/chunked", 200, "hello", NULL },
		{ "/te/identity", 200, "hello", NULL },
		{ "/te/gzip-chunked", 502, NULL, "Transfer-Encoding \"gzip\"" },
		{ "/te/chunked-gzip", 502, NULL, "chunked is not the final transfer coding" },
		{ "/te/unknown", 502, NULL, "Transfer-Encoding \"frob\"" },
		{ "/te/chunked-chunked", 502, NULL, "chunked is not the final transfer coding" },
	};
	struct it_proc *p;
	int port, origin;

	if (!have_proxy(_i))
		return;
	origin = origin_start();
	p = start_proxy(_i, origin, &port);
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		for (int c = H1; c < NCLIENTS; c++) {
			struct res r;

			if ((c == H2 && !sw_module_find("http2")) || (c == H3 && !have_h3()))
				continue;
			get(&r, c, port, cases[k].path);
			IT_ASSERT(r.code == cases[k].want, "%s over %s: status %d, want %d (body \"%s\")\n%s",
				  cases[k].path, client_names[c], r.code, cases[k].want, r.body, r.head);
			if (cases[k].want == 200)
				IT_ASSERT(strcmp(r.body, cases[k].body) == 0, "%s over %s: body \"%s\", "
					  "want \"%s\" (the framing decoded)", cases[k].path,
					  client_names[c], r.body, cases[k].body);
			else
				IT_ASSERT(it_log_has(p, cases[k].logged), "%s over %s: 502, but the log "
					  "does not say why (want \"%s\")", cases[k].path,
					  client_names[c], cases[k].logged);
			res_free(&r);
		}
	}
}
END_TEST

/* Polls the origin's notes until `needle` shows. */
static bool origin_noted(const char *needle)
{
	for (int k = 0; k < 100; k++) {
		char *s = it_read_file(origin_log);
		bool found = strstr(s, needle) != NULL;

		free(s);
		if (found)
			return true;
		it_sleep_ms(100);
	}
	return false;
}

/*
 * Issue #20 item 1: an upstream sending 103 every 20 ms and never a final
 * status kept the client waiting forever (each 1xx restarted
 * read_timeout_ms).  Now: 502 after 16 interim answers, and the upstream
 * connection is closed; one sending them slowly gets 504 when
 * read_timeout_ms has passed since the request went out.
 */
START_TEST(endless_interim)
{
	struct it_proc *p;
	struct res r;
	int port, origin;

	if (!have_proxy(_i))
		return;
	origin = origin_start();
	p = start_proxy(_i, origin, &port);
	get(&r, H1, port, "/hints/forever");
	IT_ASSERT(r.code == 502, "an upstream sending 103 without end: status %d, want 502\n%s",
		  r.code, r.head);
	res_free(&r);
	IT_ASSERT(it_log_has(p, "interim"), "the 502 for endless 1xx is not explained in the log");
	IT_ASSERT(origin_noted("closed /hints/forever"), "the upstream connection sending endless "
		  "103s was not closed");
	get(&r, H1, port, "/hints/slow");
	IT_ASSERT(r.code == 504, "an upstream sending a 103 every 300 ms with read_timeout_ms "
		  "1000: status %d, want 504\n%s", r.code, r.head);
	res_free(&r);
	IT_ASSERT(origin_noted("closed /hints/slow"), "the upstream connection sending slow "
		  "103s was not closed");
	if (sw_module_find("http2")) {
		get(&r, H2, port, "/hints/forever");
		IT_ASSERT(r.code == 502, "endless 103s to an HTTP/2 client: status %d, want 502\n%s",
			  r.code, r.head);
		res_free(&r);
	}
}
END_TEST

/*
 * 103 Early Hints reach HTTP/2 and HTTP/3 clients before the final
 * answer, with their Link fields (and nothing else); HTTP/1.1 clients get
 * only the final answer.
 */
START_TEST(early_hints)
{
	struct res r;
	int port, origin;

	if (!have_proxy(_i))
		return;
	origin = origin_start();
	start_proxy(_i, origin, &port);
	get(&r, H1, port, "/hints/two");
	IT_ASSERT(r.code == 200 && strcmp(r.body, "done") == 0, "HTTP/1.1: %d \"%s\"", r.code,
		  r.body);
	IT_ASSERT(!strstr(r.head, " 103"), "an HTTP/1.1 client was sent a 103:\n%s", r.head);
	res_free(&r);
	if (sw_module_find("http2")) {
		get(&r, H2, port, "/hints/two");
		IT_ASSERT(r.code == 200 && strcmp(r.body, "done") == 0, "HTTP/2: %d \"%s\"", r.code,
			  r.body);
		IT_ASSERT(strstr(r.head, "HTTP/2 103") &&
			  strstr(r.head, "link: </a.css>; rel=preload; as=style") &&
			  strstr(r.head, "link: </b.js>; rel=preload; as=script"),
			  "HTTP/2: the 103s with their Link fields are missing:\n%s", r.head);
		IT_ASSERT(!strcasestr(r.head, "x-internal"), "HTTP/2: a 103 field other than "
			  "Link was passed on:\n%s", r.head);
		res_free(&r);
	}
	if (have_h3()) {
		get(&r, H3, port, "/hints/two");
		IT_ASSERT(r.code == 200 && strcmp(r.body, "done") == 0, "HTTP/3: %d \"%s\"\n%s",
			  r.code, r.body, r.head);
		IT_ASSERT(strstr(r.head, "[:status: 103]") &&
			  strstr(r.head, "[link: </a.css>; rel=preload; as=style]") &&
			  strstr(r.head, "[link: </b.js>; rel=preload; as=script]"),
			  "HTTP/3: the 103s with their Link fields are missing:\n%s", r.head);
		res_free(&r);
	}
}
END_TEST

#define SLOW_LIMITS "\"limits\": {\"min_body_rate\": 200, \"min_send_rate\": 200000, " \
	"\"min_rate_window_ms\": 1000},"

/*
 * Issue #19 item 10: a proxied POST sent at 1 byte every 100 ms restarted
 * timeouts.body_ms at every byte and was never cut.  Below
 * limits.min_body_rate over min_rate_window_ms of waiting, the client gets
 * 408 and the connection closes (and so does the upstream one); counted.
 */
START_TEST(slow_request_body)
{
	struct it_conn *c;
	struct it_response r;
	struct it_proc *p;
	int port, origin, rc = -1;

	if (!have_proxy(_i))
		return;
	origin = origin_start();
	p = start_proxy_with(_i, origin, SLOW_LIMITS, &port);
	c = it_conn_new(port);
	IT_ASSERT(it_conn_send(c, "POST /sink HTTP/1.1\r\nHost: x\r\nContent-Length: 300\r\n\r\n")
		  == 0, "send the head");
	/* 10 bytes a second for up to 30 s: an answer must come before the body is done. */
	for (int k = 0; k < 300; k++) {
		struct pollfd pfd = { .fd = c->fd, .events = POLLIN };

		if (poll(&pfd, 1, 100) == 1)
			break;
		if (it_conn_send(c, "x") != 0)
			break;
	}
	rc = it_conn_read(c, &r, IT_IO_MS);
	IT_ASSERT(rc == 0 && r.status == 408, "a body at 10 bytes/s with min_body_rate 200: rc %d, "
		  "status %d, want 408", rc, rc == 0 ? r.status : 0);
	IT_ASSERT(it_conn_wait_eof(c, IT_IO_MS), "the connection stayed open after the 408");
	it_conn_free(c);
	IT_ASSERT(it_log_has(p, "below limits.min_body_rate"), "the slow body is not logged");
	IT_ASSERT(origin_noted("closed /sink"), "the upstream connection was kept");
	IT_ASSERT((long)it_metric(port, "swerver_slow_clients_total{kind=\"body\"}") == 1,
		  "the slow body is not counted in /metrics");
}
END_TEST

/*
 * A client that takes a proxied download at ~10 KB/s, below
 * limits.min_send_rate, is cut (write_ms alone never fires: it reads a
 * little every 100 ms); counted.
 */
START_TEST(slow_reader)
{
	struct it_proc *p;
	int port, origin, fd, small = 4096;
	bool eof = false;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	char buf[1024];

	if (!have_proxy(_i))
		return;
	origin = origin_start();
	p = start_proxy_with(_i, origin, SLOW_LIMITS, &port);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	{
		static const char req[] = "GET /big HTTP/1.1\r\nHost: x\r\n\r\n";
		ck_assert_int_eq(send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL), (ssize_t)sizeof(req) - 1);
	}
	/* 1 KiB every 100 ms for up to 30 s (1 GiB would take a day). */
	for (int k = 0; k < 300 && !eof; k++) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		eof = n <= 0;
		it_sleep_ms(100);
	}
	close(fd);
	IT_ASSERT(eof, "a client reading 10 KB/s with min_send_rate 200000 was not cut");
	IT_ASSERT(it_log_has(p, "below limits.min_send_rate"), "the slow reader is not logged");
	IT_ASSERT(origin_noted("closed /big"), "the upstream connection was kept");
	IT_ASSERT((long)it_metric(port, "swerver_slow_clients_total{kind=\"send\"}") == 1,
		  "the slow reader is not counted in /metrics");
}
END_TEST

/*
 * Issue #19 item 10 on HTTP/2: a proxied POST trickled at ~20 bytes/s on
 * one stream gets 408 (and the stream ends), while another stream of the
 * same connection (curl --parallel multiplexes them) is answered after it;
 * logged and counted as kind="body".
 */
START_TEST(slow_request_body_h2)
{
	struct it_proc *p;
	int port, origin, st;
	char *o;
	int code[2] = { 0, 0 }, connects[2] = { -1, -1 };

	if (!have_proxy(_i))
		return;
	origin = origin_start();
	p = start_proxy_with(_i, origin, SLOW_LIMITS, &port);
	/*
	 * 10 bytes every 500 ms from a pipe for up to 30 s; the producer dies
	 * of SIGPIPE once curl is gone.
	 */
	o = it_run(&st, "(for i in $(seq 60); do printf xxxxxxxxxx || exit; sleep 0.5; done) 2>/dev/null | "
		   T "curl -s --parallel --http2-prior-knowledge -o /dev/null "
		   "-w 'sink %%{http_code} %%{num_connects}\n' -T - -X POST "
		   "'http://127.0.0.1:%d/sink' --next --http2-prior-knowledge -o /dev/null "
		   "-w 'late %%{http_code} %%{num_connects}\n' 'http://127.0.0.1:%d/late'",
		   port, port);
	{
		const char *a = strstr(o, "sink "), *b = strstr(o, "late ");

		if (a)
			sscanf(a, "sink %d %d", &code[0], &connects[0]);
		if (b)
			sscanf(b, "late %d %d", &code[1], &connects[1]);
	}
	IT_ASSERT(code[0] == 408, "a body at 20 bytes/s with min_body_rate 200 over HTTP/2 got "
		  "%d, want 408 (curl said: %s)", code[0], o);
	IT_ASSERT(code[1] == 200, "the other stream got %d, want 200 (curl said: %s)", code[1], o);
	IT_ASSERT(connects[0] + connects[1] == 1, "the two streams did not share a connection "
		  "(curl said: %s)", o);
	free(o);
	IT_ASSERT(it_log_has(p, "below limits.min_body_rate 200; ending HTTP/2 stream"),
		  "the slow stream is not logged");
	IT_ASSERT(origin_noted("closed /sink"), "the upstream connection was kept");
	IT_ASSERT((long)it_metric(port, "swerver_slow_clients_total{kind=\"body\"}") == 1,
		  "the slow stream is not counted in /metrics");
}
END_TEST

/*
 * Issue #12: routes[].rate_limit runs as a policy on the chain; its
 * answers are the same on HTTP/1.1, HTTP/2 and HTTP/3: the X-RateLimit
 * fields on what the upstream sent, then 429 with Retry-After, the
 * upstream not asked.  One route (one bucket) per protocol.
 */
START_TEST(rate_limit_each_protocol)
{
	static const char routes[] =
		"\n    {\"path_prefix\": \"/rl1\", \"upstream\": \"o\", \"rewrite_pattern\": \"/rl1\","
		" \"rewrite_replacement\": \"/te/identity\", \"rate_limit\": {\"requests_per_second\": 0.001,"
		" \"burst_size\": 2}},"
		"\n    {\"path_prefix\": \"/rl2\", \"upstream\": \"o\", \"rewrite_pattern\": \"/rl2\","
		" \"rewrite_replacement\": \"/te/identity\", \"rate_limit\": {\"requests_per_second\": 0.001,"
		" \"burst_size\": 2}},"
		"\n    {\"path_prefix\": \"/rl3\", \"upstream\": \"o\", \"rewrite_pattern\": \"/rl3\","
		" \"rewrite_replacement\": \"/te/identity\", \"rate_limit\": {\"requests_per_second\": 0.001,"
		" \"burst_size\": 2}},";
	int port, origin;

	if (!have_proxy(_i))
		return;
	origin = origin_start();
	start_proxy_routes(_i, origin, "", routes, &port);
	for (int c = H1; c < NCLIENTS; c++) {
		char path[8], want[64];
		struct res r;

		if ((c == H2 && !sw_module_find("http2")) || (c == H3 && !have_h3()))
			continue;
		snprintf(path, sizeof(path), "/rl%d", c + 1);
		for (int k = 0; k < 2; k++) {
			get(&r, c, port, path);
			IT_ASSERT(r.code == 200 && r.body && strcmp(r.body, "hello") == 0,
				  "%s request %d over %s: status %d\n%s", path, k + 1, client_names[c],
				  r.code, r.head);
			snprintf(want, sizeof(want), "x-ratelimit-remaining: %d", 1 - k);
			IT_ASSERT(strcasestr(r.head, want) && strcasestr(r.head, "x-ratelimit-limit: 2"),
				  "%s request %d over %s: no \"%s\" or limit 2\n%s", path, k + 1,
				  client_names[c], want, r.head);
			res_free(&r);
		}
		get(&r, c, port, path);
		IT_ASSERT(r.code == 429, "%s request 3 over %s: status %d, want 429\n%s", path,
			  client_names[c], r.code, r.head);
		IT_ASSERT(strcasestr(r.head, "retry-after: ") && strcasestr(r.head, "x-ratelimit-remaining: 0"),
			  "%s 429 over %s without Retry-After or X-RateLimit-Remaining: 0\n%s", path,
			  client_names[c], r.head);
		IT_ASSERT(r.body && strstr(r.body, "429 Too Many Requests"), "%s 429 over %s: body \"%s\"",
			  path, client_names[c], r.body ? r.body : "");
		res_free(&r);
	}
}
END_TEST

static Suite *upstream_suite(void)
{
	Suite *s = suite_create("upstream");
	TCase *tc = it_tcase("upstream");

	tcase_add_checked_fixture(tc, NULL, origin_stop);
	tcase_add_loop_test(tc, transfer_codings, 0, 2);
	tcase_add_loop_test(tc, endless_interim, 0, 2);
	tcase_add_loop_test(tc, early_hints, 0, 2);
	tcase_add_loop_test(tc, slow_request_body, 0, 2);
	tcase_add_loop_test(tc, slow_reader, 0, 2);
	tcase_add_loop_test(tc, slow_request_body_h2, 0, 2);
	tcase_add_loop_test(tc, rate_limit_each_protocol, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

IT_SUITE(upstream_suite);
