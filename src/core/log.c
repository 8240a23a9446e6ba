/* SPDX-License-Identifier: MIT */
/* log.c - the error log: one formatted line per event, to the chosen target. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include "core/log.h"
#include "core/log_journal.h"

enum target { T_STDERR, T_SYSLOG, T_JOURNAL, T_FILE };

static struct {
	enum target target;
	enum sw_log_level level;
	int fd;                 /* stderr or the file */
	char *path;             /* file target */
	char role[32];
	int worker;             /* the journal's SWERVER_WORKER; -1: the master */
	uint64_t generation;    /* SWERVER_GENERATION; 0: none yet */
} L = { T_STDERR, SW_LOG_INFO, STDERR_FILENO, NULL, "master", -1, 0 };

static const char *const level_names[] = { "error", "warn", "info", "debug" };
static const int syslog_prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };

/*
 * O_NONBLOCK: a FIFO without a reader at the path would block open(2)
 * forever, in the master on a reload (hanging it) and in every worker.
 * It fails with ENXIO instead; writes then block again, as on a file.
 */
static int open_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NONBLOCK, 0640);
	if (fd < 0)
		fprintf(stderr, "swerver: cannot open log file %s: %s\n", path,
			strerror(errno));
	else
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
}

static void close_target(void)
{
	if (L.target == T_FILE && L.fd > STDERR_FILENO)
		close(L.fd);
	if (L.target == T_SYSLOG)
		closelog();
	free(L.path);
	L.path = NULL;
	L.fd = STDERR_FILENO;
	L.target = T_STDERR;
}

/* The daemon's journal output (daemon/notify.h), given at start-up; none until then. */
int (*sw_log_journal_sink)(const struct sw_journal_entry *e);
static bool (*journal_available)(void);

void sw_log_set_journal(int (*write)(const struct sw_journal_entry *e), bool (*available)(void))
{
	sw_log_journal_sink = write;
	journal_available = available;
}

int sw_log_open(const struct sw_log_cfg *cfg)
{
	const char *t = cfg->target ? cfg->target : "auto";
	int fd;

	L.level = cfg->level;
	if (strcmp(t, "auto") == 0)
		t = journal_available && journal_available() ? "journal" : "stderr";
	if (strcmp(t, "stderr") == 0) {
		close_target();
	} else if (strcmp(t, "syslog") == 0) {
		close_target();
		openlog("swerver", LOG_PID | LOG_NDELAY, LOG_DAEMON);
		L.target = T_SYSLOG;
	} else if (strcmp(t, "journal") == 0) {
		close_target();
		L.target = T_JOURNAL;
	} else {
		fd = open_file(t);
		if (fd < 0)
			return SW_ERROR;
		close_target();
		L.target = T_FILE;
		L.fd = fd;
		L.path = strdup(t);
	}
	return SW_OK;
}

int sw_log_reconfigure(const struct sw_log_cfg *cfg)
{
	return sw_log_open(cfg);
}

int sw_log_reopen(void)
{
	int fd;

	if (L.target != T_FILE)
		return SW_OK;
	fd = open_file(L.path);
	if (fd < 0)
		return SW_ERROR;
	dup2(fd, L.fd);  /* atomic swap: no moment without a log fd */
	close(fd);
	return SW_OK;
}

void sw_log_close(void)
{
	close_target();
}

void sw_log_set_role(const char *role)
{
	snprintf(L.role, sizeof(L.role), "%s", role);
}

void sw_log_set_worker(int slot, uint64_t generation)
{
	L.worker = slot;
	L.generation = generation;
}

void sw_log_set_generation(uint64_t generation)
{
	L.generation = generation;
}

void sw_log_set_level(enum sw_log_level level)
{
	L.level = level;
}

bool sw_log_enabled(enum sw_log_level level)
{
	return level <= L.level;
}

/* One write(2) per line so lines from several processes never interleave. */
static void write_line(enum sw_log_level level, const char *msg)
{
	char line[2048];
	struct timespec ts;
	struct tm tm;
	int n;
	ssize_t w;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(line, sizeof(line),
		     "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ swerver[%d] %s %s: %s\n",
		     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		     tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, (int)getpid(),
		     level_names[level], L.role, msg);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line)) {
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	w = write(L.fd, line, (size_t)n);
	(void)w;
}

/* The journal entry of one line, with the caller's location and our fields. */
static int journal_write(const struct sw_log_site *at, enum sw_log_level level, int err,
			 const char *msg)
{
	struct sw_log_record r = {
		.at = at, .priority = syslog_prio[level], .err = err, .role = L.role,
		.worker = L.worker, .generation = L.generation, .msg = msg,
	};
	struct sw_journal_entry e;

	if (!sw_log_journal_sink)
		return SW_DECLINED;
	sw_log_journal_entry(&e, &r);
	return sw_log_journal_sink(&e);
}

void sw_logv_at(const struct sw_log_site *at, enum sw_log_level level, int err,
		const char *fmt, va_list ap)
{
	char msg[1536];
	size_t n;

	if (!sw_log_enabled(level))
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (err) {
		n = strlen(msg);
		snprintf(msg + n, sizeof(msg) - n, ": %s", strerror(err));
	}
	switch (L.target) {
	case T_SYSLOG:
		syslog(syslog_prio[level], "%s: %s", L.role, msg);
		break;
	case T_JOURNAL:
		if (journal_write(at, level, err, msg) == SW_OK)
			break;
		/* the journal is gone: do not lose the line */
		write_line(level, msg);
		break;
	default:
		write_line(level, msg);
	}
}

void sw_log_at(const struct sw_log_site *at, enum sw_log_level level, int err,
	       const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	sw_logv_at(at, level, err, fmt, ap);
	va_end(ap);
	errno = saved;
}
