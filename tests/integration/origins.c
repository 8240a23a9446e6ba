/* SPDX-License-Identifier: MIT */
/* origins.c - upstreams for the proxy suites: tests/backend/origin, a request-line capture server, a slow sink (origins.h). */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "harness.h"
#include "origins.h"

#define MAX_ORIGINS 8
static struct it_origin origins[MAX_ORIGINS];
static int norigins;
static bool origins_atexit;

void it_origin_kill(struct it_origin *o)
{
	/* Only a child of ours that is still there: never a recycled pid. */
	if (o->pid > 0 && waitpid(o->pid, NULL, WNOHANG) == 0) {
		kill(o->pid, SIGKILL);
		waitpid(o->pid, NULL, 0);
	}
	o->pid = 0;
}

void it_origins_kill(void)
{
	for (int i = 0; i < norigins; i++)
		it_origin_kill(&origins[i]);
	norigins = 0;
}

/* The origin next to the swerver binary the harness runs (the build dir). */
static const char *origin_bin(void)
{
	static char path[PATH_MAX];
	const char *env = getenv("SWERVER_BIN");
	char dir[PATH_MAX];

	if (path[0])
		return path;
	if (env && env[0]) {
		snprintf(dir, sizeof(dir), "%s", env);
		snprintf(path, sizeof(path), "%s/tests/backend/origin", dirname(dir));
	} else if (!realpath("./tests/backend/origin", path)) {
		snprintf(path, sizeof(path), "./tests/backend/origin");
	}
	return path;
}

static struct it_origin *origin_new(const char *name)
{
	struct it_origin *o;

	ck_assert_msg(norigins < MAX_ORIGINS, "too many origins in one test");
	if (!origins_atexit) {
		atexit(it_origins_kill);
		origins_atexit = true;
	}
	o = &origins[norigins++];
	memset(o, 0, sizeof(*o));
	snprintf(o->name, sizeof(o->name), "%s", name);
	return o;
}

/*
 * Starts `origin --port 0 --name NAME` (with --idle-ms when idle_ms > 0);
 * its "listening on" line comes through a pipe.
 */
struct it_origin *it_origin_start_idle(const char *name, int idle_ms)
{
	const char *bin = origin_bin();
	char log[IT_PATH_MAX], logname[64], line[512] = "";
	struct it_origin *o;
	size_t len = 0;
	int64_t end;
	int pfd[2];
	char *at;

	IT_ASSERT(access(bin, X_OK) == 0, "the test origin %s is not built: %s", bin, strerror(errno));
	o = origin_new(name);
	snprintf(logname, sizeof(logname), "origin-%s.log", name);
	it_path(log, logname);
	ck_assert_int_eq(pipe2(pfd, O_CLOEXEC), 0);
	fflush(NULL);
	o->pid = fork();
	ck_assert_msg(o->pid >= 0, "fork: %s", strerror(errno));
	if (o->pid == 0) {
		char fdarg[16], idle[16];
		int fd, w;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		w = fcntl(pfd[1], F_DUPFD, 10);   /* the copy is not close-on-exec */
		snprintf(fdarg, sizeof(fdarg), "%d", w);
		snprintf(idle, sizeof(idle), "%d", idle_ms > 0 ? idle_ms : 60000);
		execl(bin, bin, "--port", "0", "--name", name, "--ready-fd", fdarg, "--idle-ms", idle,
		      (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	end = it_now_ms() + 5000;
	while (!strchr(line, '\n') && it_now_ms() < end) {
		struct pollfd p = { .fd = pfd[0], .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 100) <= 0)
			continue;
		n = read(pfd[0], line + len, sizeof(line) - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		line[len] = '\0';
	}
	close(pfd[0]);
	at = strstr(line, "listening on 127.0.0.1:");
	IT_ASSERT(at != NULL, "origin %s did not start (%s): \"%s\"", name, bin, line);
	o->port = atoi(at + strlen("listening on 127.0.0.1:"));
	return o;
}

struct it_origin *it_origin_start(const char *name)
{
	return it_origin_start_idle(name, 0);
}

/*
 * A server that answers every request with its own request line as the
 * body ("GET /v2/x?q=1 HTTP/1.1"), then closes: shows the target exactly
 * as the proxy sent it.
 */
int it_capture_start(void)
{
	struct it_origin *o = origin_new("capture");
	int port, fd = it_hold_port(&port);

	fflush(NULL);
	o->pid = fork();
	ck_assert_msg(o->pid >= 0, "fork: %s", strerror(errno));
	if (o->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;) {
			char buf[8192], resp[9000];
			size_t len = 0, ll;
			int c = accept(fd, NULL, NULL), n;

			if (c < 0)
				continue;
			buf[0] = '\0';
			while (len < sizeof(buf) - 1 && !strstr(buf, "\r\n\r\n")) {
				ssize_t k = recv(c, buf + len, sizeof(buf) - 1 - len, 0);
				if (k <= 0)
					break;
				len += (size_t)k;
				buf[len] = '\0';
			}
			ll = strcspn(buf, "\r\n");
			n = snprintf(resp, sizeof(resp), "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n"
				     "Connection: close\r\n\r\n%.*s", ll, (int)ll, buf);
			if (send(c, resp, (size_t)n, MSG_NOSIGNAL) < 0)
				_exit(1);
			close(c);
		}
	}
	close(fd);
	o->port = port;
	return port;
}

/*
 * A slow upstream sink: reads a request with a Content-Length body in
 * 8 KiB steps with a pause between them (a few MB/s, so the proxy's writes
 * to it wait), then answers "<bytes> <fnv1a-64 hex>" and closes.
 */
int it_slow_sink_start(void)
{
	struct it_origin *o = origin_new("slowsink");
	int port, fd = it_hold_port(&port), small = 16384;

	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	fflush(NULL);
	o->pid = fork();
	ck_assert_msg(o->pid >= 0, "fork: %s", strerror(errno));
	if (o->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;) {
			static char buf[8192 + 16384];
			char resp[256], body[64], *end = NULL, *cl;
			uint64_t h = 0xcbf29ce484222325ull, got = 0, want = 0;
			size_t len = 0;
			int c = accept(fd, NULL, NULL), n;

			if (c < 0)
				continue;
			while (len < 16384 && !memmem(buf, len, "\r\n\r\n", 4)) {
				ssize_t k = recv(c, buf + len, 16384 - len, 0);
				if (k <= 0)
					break;
				len += (size_t)k;
			}
			end = memmem(buf, len, "\r\n\r\n", 4);
			if (!end) {
				close(c);
				continue;
			}
			*end = '\0';
			cl = strcasestr(buf, "\r\nContent-Length:");
			want = cl ? strtoull(cl + 17, NULL, 10) : 0;
			for (char *p = end + 4; p < buf + len; p++, got++)
				h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
			while (got < want) {
				ssize_t k = recv(c, buf, 8192, 0);
				if (k <= 0)
					break;
				for (ssize_t i = 0; i < k; i++)
					h = (h ^ (unsigned char)buf[i]) * 0x100000001b3ull;
				got += (uint64_t)k;
				usleep(1000);
			}
			snprintf(body, sizeof(body), "%llu %016llx", (unsigned long long)got,
				 (unsigned long long)h);
			n = snprintf(resp, sizeof(resp), "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n"
				     "Connection: close\r\n\r\n%s", strlen(body), body);
			if (send(c, resp, (size_t)n, MSG_NOSIGNAL) < 0)
				_exit(1);
			close(c);
		}
	}
	close(fd);
	o->port = port;
	return port;
}

