/* SPDX-License-Identifier: MIT */
/* harness.h - start the built swerver, talk raw HTTP/1.1 to it, clean up after. */
#ifndef SW_IT_HARNESS_H
#define SW_IT_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "check_main.h"

#define IT_PATH_MAX 512
#define IT_WAIT_MS 10000      /* start-up cap: listening line, /.ready */
#define IT_IO_MS 3000         /* one request/response round trip */
#define IT_TIMEOUT (-1)       /* it_wait_exit: still running */
#define IT_SIGNALED(sig) (256 + (sig)) /* it_wait_exit: killed by sig */
#define IT_MAX_PIDS 64

/* The two I/O backends every serving test runs on (loop index 0 and 1). */
extern const char *const it_backends[2];

/*
 * The backend for a loop test's index; NULL (and a note on stderr) when
 * the build has no such backend, in which case the test returns early.
 */
const char *it_backend(int i);

/* One started swerver (the master; workers are found through /proc). */
struct it_proc {
	pid_t pid;
	bool reaped;
	int code;                     /* it_wait_exit's result once reaped */
	char err_path[IT_PATH_MAX];   /* its stderr */
	char out_path[IT_PATH_MAX];   /* its stdout */
};

/* A client connection with its receive buffer (keep-alive aware). */
struct it_conn {
	int fd;
	size_t len;
	char buf[65536];
};

struct it_response {
	int status;                   /* 100-599 */
	long content_length;          /* -1 when absent */
	size_t body_len;
	bool conn_close;              /* "Connection: close" was sent */
	char head[4096];              /* status line and headers, NUL-terminated */
};

/*
 * Suite life cycle, called by main() in the runner process: the root temp
 * dir is created before any test forks and removed (with everything the
 * tests left) after the last one, even when a test failed with _exit.
 */
void it_suite_init(void);
void it_suite_fini(void);
/* The suite an integration test file gives check_main.c's main(). */
#define IT_SUITE(make_fn) \
	const struct sw_test_suite sw_test_suite = { (make_fn), it_suite_init, it_suite_fini }
/*
 * For the suite's make function: when `tool` is not on PATH, says so
 * with the package that has it and exits 77, which automake reports as
 * SKIP for the whole suite (a suite whose clients are missing proves
 * nothing, and its failures would hide real ones).
 */
void it_require_tool(const char *tool, const char *package);
/* A tcase with the harness teardown as checked fixture and a 30 s cap. */
TCase *it_tcase(const char *name);

/* Kills and reaps every started swerver and its children; removes this test's dir. */
void it_cleanup(void);

/* This test's private temp dir; `name` inside it. */
const char *it_tmpdir(void);
void it_path(char out[IT_PATH_MAX], const char *name);
/* Writes a file atomically enough for a reload (write temp, rename). */
void it_write_file(const char *path, const char *text);
void it_write_filef(const char *path, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Malloc'ed contents, "" for a missing file. */
char *it_read_file(const char *path);

/* Writes <tmpdir>/<name> with one listener 127.0.0.1:0 (or host) on backend. */
void it_config_simple(char out[IT_PATH_MAX], const char *name, const char *host,
		      int port, unsigned workers, const char *backend);

/*
 * Starts SWERVER_BIN with args (NULL-terminated, after argv[0]) and extra
 * environment entries "K=V" (NULL-terminated, may be NULL).  stdout and
 * stderr go to files in the temp dir.  Never returns NULL (aborts the test).
 */
struct it_proc *it_spawn(const char *const *args, const char *const *env);
/* When set, runs in the child just before exec (e.g. to install a seccomp filter). */
extern void (*it_pre_exec)(void);
/* `swerver -t -c path` with env: its exit code (it_wait_exit); *log its stderr (the caller frees). */
int it_check_config(const char *path, const char *const *env, char **log);
/* it_spawn("-c", config). */
struct it_proc *it_start(const char *config, const char *const *env);
/*
 * it_start, then waits for "listening on HOST:PORT" (host "127.0.0.1" or
 * "[::1]") and for GET /.ready == 200 on it.  Fails the test otherwise.
 */
struct it_proc *it_start_ready(const char *config, const char *host, int *port);

/* it_wait_status(host, port, "/.ready", 200), giving up early if p exits. */
int it_wait_ready(struct it_proc *p, const char *host, int port, int timeout_ms);
/* The port in the first "listening on HOST:PORT" line, -1 after timeout_ms. */
int it_wait_port(struct it_proc *p, const char *host, int timeout_ms);
/* Polls until GET path answers `want`; returns the last status or -errno. */
int it_wait_status(const char *host, int port, const char *path, int want, int timeout_ms);

/* Exit code 0-255, IT_SIGNALED(sig), or IT_TIMEOUT.  Reaps. */
int it_wait_exit(struct it_proc *p, int timeout_ms);
/* Exit code of an already finished process or IT_TIMEOUT if still running. */
int it_poll_exit(struct it_proc *p);
int it_signal(struct it_proc *p, int sig);
/* Human text for an it_wait_exit code ("exit 1", "signal 9", "still running"). */
const char *it_code_str(int code);

/* Live (non-zombie) children of pid; returns how many (at most max). */
int it_children(pid_t pid, pid_t *out, int max);
/* Polls until pid has exactly n live children; returns the count seen last. */
int it_wait_children(pid_t pid, int n, pid_t *out, int max, int timeout_ms);
/* True when pid is gone or a zombie. */
bool it_pid_gone(pid_t pid);
/* Polls until every pid is gone; true on success. */
bool it_wait_gone(const pid_t *pids, int n, int timeout_ms);
/* Cpus_allowed_list of pid into buf ("0", "0-1"); false if unreadable. */
bool it_cpus_allowed(pid_t pid, char *buf, size_t size);
/* CPUs this test process may run on. */
int it_cpu_count(void);
/* True when one of pid's fds links to "anon_inode:<kind>", e.g. "[io_uring]". */
bool it_has_fd_kind(pid_t pid, const char *kind);
/* VmRSS of pid in KiB, -1 when unreadable. */
long it_rss_kb(pid_t pid);

/*
 * Runs a shell command (printf-style) and returns its whole output (the
 * caller frees it); *status gets the exit status (-1 when killed).  For
 * independent clients: curl, nghttp, h2load, openssl s_client.
 */
char *it_run(int *status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * The value of one series ("name{labels}", printf-style) in a /metrics
 * exposition: the line that starts with it and a space; -1 when absent.
 */
double it_series(const char *text, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* it_series of GET http://127.0.0.1:port/metrics (curl); -1 when absent. */
double it_metric(int port, const char *series);

/* stderr / stdout contents and searches. */
char *it_log(struct it_proc *p);
char *it_out(struct it_proc *p);
bool it_log_has(struct it_proc *p, const char *needle);
bool it_out_has(struct it_proc *p, const char *needle);
/* Polls stderr until it contains needle past byte `from`. */
bool it_wait_log(struct it_proc *p, size_t from, const char *needle, int timeout_ms);
/* Waits until needle appears at least count times after byte `from`. */
bool it_wait_log_n(struct it_proc *p, size_t from, const char *needle, int count, int timeout_ms);
size_t it_log_size(struct it_proc *p);
/* Prints every started process's stdout/stderr to our stderr (for failures). */
void it_dump_logs(void);

/* Sockets: a free 127.0.0.1 port (bound then closed), and a held one. */
int it_free_port(void);
/* n distinct free ports (all held while choosing, then released). */
void it_free_ports(int *out, int n);
/* Binds and listens on 127.0.0.1:0 without SO_REUSEPORT; returns the fd. */
int it_hold_port(int *port);
/* A 127.0.0.1 port free for TCP and UDP both (a listener with QUIC takes both). */
int it_free_dual_port(void);
/* dir/cert.pem + dir/key.pem: self-signed ECDSA P-256 for localhost and 127.0.0.1. */
void it_make_cert(const char *dir);
/* Monotonic clock in milliseconds / microseconds. */
int64_t it_now_ms(void);
int64_t it_now_us(void);
void it_sleep_ms(int ms);

/* HTTP client (client.c).  Functions return 0 or -errno (-ECONNREFUSED, -ETIMEDOUT, -EPROTO). */
int it_conn_open(struct it_conn *c, const char *host, int port);
/* A heap connection to 127.0.0.1:port; fails the test when connect fails. */
struct it_conn *it_conn_new(int port);
/* it_conn_close, then free. */
void it_conn_free(struct it_conn *c);
void it_conn_close(struct it_conn *c);
int it_conn_send(struct it_conn *c, const char *bytes);
/* Reads more into c->buf (kept NUL-terminated) before the deadline (it_now_ms): >0 bytes, 0 EOF, -errno. */
int it_conn_fill(struct it_conn *c, int64_t deadline);
int it_conn_read(struct it_conn *c, struct it_response *r, int timeout_ms);
/* Sends "GET path HTTP/1.1" with Host and reads the response. */
int it_conn_get(struct it_conn *c, const char *path, struct it_response *r);
/* True when the peer closed (EOF) within timeout_ms and sent nothing else. */
bool it_conn_wait_eof(struct it_conn *c, int timeout_ms);
/* One request on a fresh connection: the status, or -errno. */
int it_http_get(const char *host, int port, const char *path, int timeout_ms);

/*
 * Assertion that first prints the daemon's logs, so a failure in the
 * test-suite.log shows what swerver said.
 */
#define IT_ASSERT(cond, ...) do { \
	if (!(cond)) { \
		it_dump_logs(); \
		ck_abort_msg(__VA_ARGS__); \
	} \
} while (0)

#endif
