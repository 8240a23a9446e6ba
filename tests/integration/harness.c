/* SPDX-License-Identifier: MIT */
/* harness.c - process, file, /proc, port and certificate helpers for the integration tests; the it_conn client is client.c. */
#include <config.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "harness.h"
#include "headers.h"

const char *const it_backends[2] = { "epoll", "io_uring" };

#define MAX_PROCS 16

static char root_dir[128];   /* made by the runner, shared by forks */
static char test_dir[256];   /* this test process's own dir */
static pid_t test_dir_owner;
static struct it_proc *procs[MAX_PROCS];
static int nprocs;
static bool atexit_done;
static const char *current_backend = "-";

const char *it_backend(int i)
{
#ifndef HAVE_IO_URING
	if (strcmp(it_backends[i], "io_uring") == 0) {
		fprintf(stderr, "note: built without io_uring; skipping that backend\n");
		return NULL;
	}
#endif
	current_backend = it_backends[i];
	return it_backends[i];
}

/* ---- time ---------------------------------------------------------------- */

int64_t it_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t it_now_ms(void)
{
	return it_now_us() / 1000;
}

void it_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* ---- temp files ---------------------------------------------------------- */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	remove(path);
	return 0;
}

static void rm_tree(const char *dir)
{
	if (dir[0])
		nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

void it_suite_init(void)
{
	snprintf(root_dir, sizeof(root_dir), "/tmp/swerver-it.XXXXXX");
	if (!mkdtemp(root_dir)) {
		perror("mkdtemp");
		exit(99);
	}
	signal(SIGPIPE, SIG_IGN);
	/* Orphaned workers of a failed test come back to us to be reaped. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
}

void it_suite_fini(void)
{
	it_cleanup();
	rm_tree(root_dir);
	root_dir[0] = '\0';
}

const char *it_tmpdir(void)
{
	if (test_dir[0] && test_dir_owner == getpid())
		return test_dir;
	if (!root_dir[0])
		it_suite_init();
	snprintf(test_dir, sizeof(test_dir), "%s/t.XXXXXX", root_dir);
	ck_assert_msg(mkdtemp(test_dir) != NULL, "mkdtemp %s: %s", test_dir, strerror(errno));
	test_dir_owner = getpid();
	return test_dir;
}

void it_path(char out[IT_PATH_MAX], const char *name)
{
	snprintf(out, IT_PATH_MAX, "%s/%s", it_tmpdir(), name);
}

void it_write_file(const char *path, const char *text)
{
	char tmp[IT_PATH_MAX + 8];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.new", path);
	f = fopen(tmp, "w");
	ck_assert_msg(f != NULL, "fopen %s: %s", tmp, strerror(errno));
	fputs(text, f);
	ck_assert_msg(fclose(f) == 0, "write %s: %s", tmp, strerror(errno));
	ck_assert_msg(rename(tmp, path) == 0, "rename %s: %s", path, strerror(errno));
}

void it_write_filef(const char *path, const char *fmt, ...)
{
	char text[8192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	it_write_file(path, text);
}

char *it_read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *text = NULL;
	size_t len = 0, cap = 0, n;

	if (!f)
		return strdup("");
	do {
		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 8192;
			text = realloc(text, cap + 1);
			ck_assert_msg(text != NULL, "out of memory");
		}
		n = fread(text + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	fclose(f);
	text[len] = '\0';
	return text;
}

void it_config_simple(char out[IT_PATH_MAX], const char *name, const char *host,
		      int port, unsigned workers, const char *backend)
{
	it_path(out, name);
	it_write_filef(out,
		"{\n"
		"  \"server\": {\n"
		"    \"listeners\": [{\"address\": \"%s\", \"port\": %d}],\n"
		"    \"workers\": %u,\n"
		"    \"io_backend\": \"%s\"\n"
		"  },\n"
		"  \"timeouts\": {\"drain_ms\": 5000}\n"
		"}\n", host, port, workers, backend);
}

/* ---- processes ----------------------------------------------------------- */

static const char *swerver_bin(void)
{
	static char found[PATH_MAX];
	const char *bin = getenv("SWERVER_BIN");

	if (bin && bin[0])
		return bin;
	if (realpath("./swerver", found))
		return found;
	ck_abort_msg("SWERVER_BIN is not set and ./swerver does not exist");
	return NULL;
}

static void redirect(int target_fd, const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);

	if (fd < 0 || dup2(fd, target_fd) < 0)
		_exit(126);
	close(fd);
}

void (*it_pre_exec)(void);

static void exec_child(struct it_proc *p, const char *bin, const char *const *args,
		       const char *const *env)
{
	const char *argv[64];
	int n = 0;

	/* If the test dies, so does the swerver master; Check's killpg does the rest. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	redirect(STDOUT_FILENO, p->out_path);
	redirect(STDERR_FILENO, p->err_path);
	unsetenv("NOTIFY_SOCKET");
	unsetenv("JOURNAL_STREAM");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_PID");
	for (; env && *env; env++)
		putenv((char *)*env);
	argv[n++] = bin;
	for (; args && *args && n < 63; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	if (it_pre_exec)
		it_pre_exec();
	execv(bin, (char *const *)argv);
	fprintf(stderr, "exec %s: %s\n", bin, strerror(errno));
	_exit(127);
}

/* Before the first fork of a test process: cleanup at exit, adopt orphans. */
static void arm_cleanup(void)
{
	if (atexit_done)
		return;
	atexit(it_cleanup);
	/* Not inherited over fork: each test process adopts its own orphans. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	atexit_done = true;
}

struct it_proc *it_spawn(const char *const *args, const char *const *env)
{
	const char *bin = swerver_bin();
	struct it_proc *p = calloc(1, sizeof(*p));
	char name[64];

	ck_assert_msg(p != NULL, "out of memory");
	snprintf(name, sizeof(name), "swerver-%d.err", nprocs);
	it_path(p->err_path, name);
	snprintf(name, sizeof(name), "swerver-%d.out", nprocs);
	it_path(p->out_path, name);
	ck_assert_msg(access(bin, X_OK) == 0, "%s is not executable: %s", bin, strerror(errno));
	ck_assert_msg(nprocs < MAX_PROCS, "too many processes in one test");
	arm_cleanup();
	fflush(NULL);
	p->pid = fork();
	ck_assert_msg(p->pid >= 0, "fork: %s", strerror(errno));
	if (p->pid == 0)
		exec_child(p, bin, args, env);
	procs[nprocs++] = p;
	return p;
}

int it_check_config(const char *path, const char *const *env, char **log)
{
	const char *args[] = { "-t", "-c", path, NULL };
	struct it_proc *p = it_spawn(args, env);
	int code = it_wait_exit(p, IT_WAIT_MS);

	*log = it_log(p);
	return code;
}

struct it_proc *it_start(const char *config, const char *const *env)
{
	const char *args[] = { "-c", config, NULL };

	return it_spawn(args, env);
}

struct it_proc *it_start_ready(const char *config, const char *host, int *port)
{
	struct it_proc *p = it_start(config, NULL);
	int st;

	*port = it_wait_port(p, host, IT_WAIT_MS);
	IT_ASSERT(*port > 0, "no \"listening on %s:PORT\" line within %d ms (swerver: %s)",
		  host, IT_WAIT_MS, it_code_str(it_poll_exit(p)));
	st = it_wait_ready(p, host, *port, IT_WAIT_MS);
	IT_ASSERT(st == 200, "GET /.ready on %s:%d gave %d, want 200 (swerver: %s)", host, *port,
		  st, it_code_str(it_poll_exit(p)));
	/*
	 * One worker answering is not all of them: with several, wait for the
	 * master's "ready:" line (every worker accepting), so a test that
	 * counts on each worker never races the last one's start-up.
	 */
	if (!it_log_has(p, "(single process)"))
		IT_ASSERT(it_wait_log(p, 0, "ready: ", IT_WAIT_MS),
			  "no \"ready:\" line from the master within %d ms", IT_WAIT_MS);
	return p;
}

static int decode_status(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return IT_SIGNALED(WTERMSIG(status));
	return IT_TIMEOUT;
}

/* Set while it_cleanup kills what is left: no assertion may fire from there. */
static bool cleaning_up;

/*
 * A sanitizer build's report goes to the daemon's stderr, and a leak
 * report only at exit (whatever status it gives): a test that stopped a
 * swerver which left one fails here, with the report in its log.
 */
static void check_sanitizer_report(const struct it_proc *p)
{
	static const char *const marks[] = {
		"ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
	};
	char *text;

	if (cleaning_up)
		return;
	text = it_read_file(p->err_path);
	for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
		const char *at = strstr(text, marks[i]);
		if (at) {
			it_dump_logs();
			ck_abort_msg("swerver pid %d (%s) left a sanitizer report: %.300s", (int)p->pid,
				     p->err_path, at);
		}
	}
	free(text);
}

int it_poll_exit(struct it_proc *p)
{
	int status;
	pid_t r;

	if (p->reaped)
		return p->code;
	r = waitpid(p->pid, &status, WNOHANG);
	if (r != p->pid)
		return IT_TIMEOUT;
	p->reaped = true;
	p->code = decode_status(status);
	check_sanitizer_report(p);
	return p->code;
}

int it_wait_exit(struct it_proc *p, int timeout_ms)
{
	int64_t end = it_now_ms() + timeout_ms;
	int code;

	while ((code = it_poll_exit(p)) == IT_TIMEOUT && it_now_ms() < end)
		it_sleep_ms(5);
	return code;
}

int it_signal(struct it_proc *p, int sig)
{
	if (p->reaped)
		return -ESRCH;
	return kill(p->pid, sig) == 0 ? 0 : -errno;
}

const char *it_code_str(int code)
{
	static char buf[64];

	if (code == IT_TIMEOUT)
		snprintf(buf, sizeof(buf), "still running");
	else if (code >= 256)
		snprintf(buf, sizeof(buf), "killed by signal %d (%s)", code - 256,
			 strsignal(code - 256));
	else
		snprintf(buf, sizeof(buf), "exit %d", code);
	return buf;
}

/* Every descendant of pid, children first-level then theirs. */
static int descendants(pid_t pid, pid_t *out, int max)
{
	int n = it_children(pid, out, max);

	for (int i = 0; i < n && n < max; i++)
		n += it_children(out[i], out + n, max - n);
	return n;
}

static void kill_tree(struct it_proc *p)
{
	pid_t kids[IT_MAX_PIDS];
	int n;

	if (p->reaped)
		return;
	n = descendants(p->pid, kids, IT_MAX_PIDS);
	kill(p->pid, SIGKILL);
	for (int i = 0; i < n; i++)
		kill(kids[i], SIGKILL);
	it_wait_exit(p, 5000);
}

/* Kills and reaps whatever child is left: orphaned workers we adopted. */
static void reap_all(void)
{
	pid_t kids[IT_MAX_PIDS];
	int n = it_children(getpid(), kids, IT_MAX_PIDS);
	int64_t end = it_now_ms() + 2000;

	for (int i = 0; i < n; i++)
		kill(kids[i], SIGKILL);
	while (it_now_ms() < end) {
		pid_t r = waitpid(-1, NULL, WNOHANG);

		if (r < 0)
			break;          /* ECHILD: nothing left */
		if (r == 0)
			it_sleep_ms(5);
	}
}

void it_cleanup(void)
{
	cleaning_up = true;
	if (nprocs && getenv("IT_VERBOSE"))
		it_dump_logs();
	for (int i = 0; i < nprocs; i++) {
		kill_tree(procs[i]);
		free(procs[i]);
	}
	nprocs = 0;
	reap_all();
	if (test_dir[0] && test_dir_owner == getpid()) {
		rm_tree(test_dir);
		test_dir[0] = '\0';
	}
	cleaning_up = false;
}

/* ---- /proc ---------------------------------------------------------------- */

/* ppid and state from /proc/PID/stat; false when the process is gone. */
static bool read_stat(pid_t pid, pid_t *ppid, char *state)
{
	char path[64], buf[1024], *rp;
	FILE *f;
	size_t n;
	int pp;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	rp = strrchr(buf, ')');    /* comm may hold spaces and parentheses */
	if (!rp || sscanf(rp + 1, " %c %d", state, &pp) != 2)
		return false;
	*ppid = (pid_t)pp;
	return true;
}

int it_children(pid_t pid, pid_t *out, int max)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)) && n < max) {
		pid_t child, ppid;
		char state;

		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		child = (pid_t)atoi(e->d_name);
		if (read_stat(child, &ppid, &state) && ppid == pid && state != 'Z')
			out[n++] = child;
	}
	closedir(d);
	return n;
}

int it_wait_children(pid_t pid, int want, pid_t *out, int max, int timeout_ms)
{
	int64_t end = it_now_ms() + timeout_ms;
	int n;

	while ((n = it_children(pid, out, max)) != want && it_now_ms() < end)
		it_sleep_ms(10);
	return n;
}

bool it_pid_gone(pid_t pid)
{
	pid_t ppid;
	char state;

	return !read_stat(pid, &ppid, &state) || state == 'Z' || state == 'X';
}

bool it_wait_gone(const pid_t *pids, int n, int timeout_ms)
{
	int64_t end = it_now_ms() + timeout_ms;

	for (;;) {
		int alive = 0;

		for (int i = 0; i < n; i++)
			alive += !it_pid_gone(pids[i]);
		if (alive == 0)
			return true;
		if (it_now_ms() >= end)
			return false;
		it_sleep_ms(10);
	}
}

bool it_cpus_allowed(pid_t pid, char *buf, size_t size)
{
	char path[64], line[256];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "Cpus_allowed_list:", 18) != 0)
			continue;
		char *v = line + 18;
		v += strspn(v, " \t");
		v[strcspn(v, "\n")] = '\0';
		snprintf(buf, size, "%s", v);
		found = true;
	}
	fclose(f);
	return found;
}

int it_cpu_count(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return 1;
	return CPU_COUNT(&set);
}

bool it_has_fd_kind(pid_t pid, const char *kind)
{
	char dir[64], path[PATH_MAX], link[256], want[64];
	struct dirent *e;
	bool found = false;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	snprintf(want, sizeof(want), "anon_inode:%s", kind);
	d = opendir(dir);
	if (!d)
		return false;
	while (!found && (e = readdir(d))) {
		ssize_t n;

		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		found = strcmp(link, want) == 0;
	}
	closedir(d);
	return found;
}

long it_rss_kb(pid_t pid)
{
	char path[64], line[256];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &v) == 1)
			break;
	fclose(f);
	return v;
}

/* ---- logs ------------------------------------------------------------------ */

char *it_log(struct it_proc *p)
{
	return it_read_file(p->err_path);
}

char *it_out(struct it_proc *p)
{
	return it_read_file(p->out_path);
}

/* Occurrences of needle in the file after byte `from`. */
static int file_count(const char *path, size_t from, const char *needle)
{
	char *text = it_read_file(path);
	int n = 0;

	if (strlen(text) >= from)
		for (const char *at = text + from; (at = strstr(at, needle)); at += strlen(needle))
			n++;
	free(text);
	return n;
}

static bool file_has(const char *path, size_t from, const char *needle)
{
	return file_count(path, from, needle) > 0;
}

bool it_log_has(struct it_proc *p, const char *needle)
{
	return file_has(p->err_path, 0, needle);
}

bool it_out_has(struct it_proc *p, const char *needle)
{
	return file_has(p->out_path, 0, needle);
}

size_t it_log_size(struct it_proc *p)
{
	struct stat st;

	return stat(p->err_path, &st) == 0 ? (size_t)st.st_size : 0;
}

bool it_wait_log(struct it_proc *p, size_t from, const char *needle, int timeout_ms)
{
	return it_wait_log_n(p, from, needle, 1, timeout_ms);
}

bool it_wait_log_n(struct it_proc *p, size_t from, const char *needle, int count, int timeout_ms)
{
	int64_t end = it_now_ms() + timeout_ms;

	for (;;) {
		if (file_count(p->err_path, from, needle) >= count)
			return true;
		if (it_now_ms() >= end)
			return false;
		it_sleep_ms(10);
	}
}

/* Port after "listening on HOST:" in text, or -1. */
static int find_port(const char *text, const char *host)
{
	char needle[128];
	const char *at;

	snprintf(needle, sizeof(needle), "listening on %s:", host);
	at = strstr(text, needle);
	if (!at || !isdigit((unsigned char)at[strlen(needle)]))
		return -1;
	return atoi(at + strlen(needle));
}

int it_wait_port(struct it_proc *p, const char *host, int timeout_ms)
{
	int64_t end = it_now_ms() + timeout_ms;

	for (;;) {
		char *text = it_log(p);
		int port = find_port(text, host);

		free(text);
		if (port > 0)
			return port;
		if (it_poll_exit(p) != IT_TIMEOUT || it_now_ms() >= end)
			return -1;
		it_sleep_ms(10);
	}
}

static void dump_file(const char *label, const char *path)
{
	char *text = it_read_file(path);

	fprintf(stderr, "----- %s (%s) -----\n%s%s", label, path, text,
		text[0] && text[strlen(text) - 1] != '\n' ? "\n" : "");
	free(text);
}

void it_dump_logs(void)
{
	for (int i = 0; i < nprocs; i++) {
		fprintf(stderr, "===== swerver pid %d (backend %s): %s =====\n",
			(int)procs[i]->pid, current_backend, it_code_str(it_poll_exit(procs[i])));
		dump_file("stderr", procs[i]->err_path);
		dump_file("stdout", procs[i]->out_path);
	}
	fflush(stderr);
}

/* ---- sockets --------------------------------------------------------------- */

static int bind_loopback(int *port, bool do_listen)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_msg(fd >= 0, "socket: %s", strerror(errno));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_msg(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0, "bind: %s", strerror(errno));
	ck_assert_msg(!do_listen || listen(fd, 8) == 0, "listen: %s", strerror(errno));
	getsockname(fd, (struct sockaddr *)&sa, &len);
	*port = ntohs(sa.sin_port);
	return fd;
}

int it_free_port(void)
{
	int port;

	close(bind_loopback(&port, false));
	return port;
}

void it_free_ports(int *out, int n)
{
	int fds[8];

	ck_assert_int_le(n, 8);
	for (int i = 0; i < n; i++)
		fds[i] = bind_loopback(&out[i], false);
	for (int i = 0; i < n; i++)
		close(fds[i]);
}

int it_hold_port(int *port)
{
	return bind_loopback(port, true);
}

int it_free_dual_port(void)
{
	for (int tries = 0; tries < 50; tries++) {
		int port = it_free_port();
		struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
		int fd = socket(AF_INET, SOCK_DGRAM, 0);
		bool ok;

		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		ok = fd >= 0 && bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0;
		if (fd >= 0)
			close(fd);
		if (ok)
			return port;
	}
	ck_abort_msg("no port free for both TCP and UDP");
	return -1;
}

void it_make_cert(const char *dir)
{
	int st;
	char *out = it_run(&st, "cd %s && openssl req -x509 -newkey ec -pkeyopt "
			   "ec_paramgen_curve:P-256 -nodes -days 2 -keyout key.pem -out cert.pem "
			   "-subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>&1",
			   dir);

	IT_ASSERT(st == 0, "openssl req: %s", out);
	free(out);
}

int it_wait_status(const char *host, int port, const char *path, int want, int timeout_ms)
{
	int64_t end = it_now_ms() + timeout_ms;
	int st;

	while ((st = it_http_get(host, port, path, IT_IO_MS)) != want && it_now_ms() < end)
		it_sleep_ms(10);
	return st;
}

int it_wait_ready(struct it_proc *p, const char *host, int port, int timeout_ms)
{
	int64_t end = it_now_ms() + timeout_ms;
	int st;

	while ((st = it_http_get(host, port, "/.ready", IT_IO_MS)) != 200 &&
	       it_now_ms() < end && it_poll_exit(p) == IT_TIMEOUT)
		it_sleep_ms(10);
	return st;
}

/* ---- Check glue -------------------------------------------------------------- */

TCase *it_tcase(const char *name)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, NULL, it_cleanup);
	tcase_set_timeout(tc, 30);
	return tc;
}

static bool on_path(const char *tool)
{
	const char *path = getenv("PATH");
	char file[PATH_MAX];

	for (const char *p = path ? path : ""; *p;) {
		size_t n = strcspn(p, ":");

		if (n > 0 && (size_t)snprintf(file, sizeof(file), "%.*s/%s", (int)n, p, tool) <
				     sizeof(file) && access(file, X_OK) == 0)
			return true;
		p += n;
		if (*p == ':')
			p++;
	}
	return false;
}

void it_require_tool(const char *tool, const char *package)
{
	if (on_path(tool))
		return;
	printf("SKIP: %s not found on PATH; install %s to run this suite\n", tool, package);
	exit(77);
}

double it_metric(int port, const char *series)
{
	char *out = it_run(NULL, "timeout -k 1 15 curl -s --max-time 10 "
			   "http://127.0.0.1:%d/metrics", port);
	double v = it_series(out, "%s", series);

	free(out);
	return v;
}

double it_series(const char *text, const char *fmt, ...)
{
	char name[512];
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	n = strlen(name);
	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (strncmp(l, name, n) == 0 && l[n] == ' ')
			return strtod(l + n + 1, NULL);
	return -1;
}

char *it_run(int *status, const char *fmt, ...)
{
	char cmd[16384], *out = calloc(1, 1);
	size_t len = 0, n;
	va_list ap;
	FILE *f;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	fflush(NULL);   /* a child must not write our buffered output again */
	f = popen(cmd, "r");
	ck_assert_ptr_nonnull(f);
	for (char buf[4096]; (n = fread(buf, 1, sizeof(buf), f)) > 0;) {
		out = realloc(out, len + n + 1);
		memcpy(out + len, buf, n);
		len += n;
		out[len] = '\0';
	}
	rc = pclose(f);
	if (status)
		*status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
	return out;
}
