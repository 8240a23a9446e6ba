/* SPDX-License-Identifier: MIT */
/* test_log.c - the journal's fields for a log line: the caller's CODE_FILE/CODE_LINE/CODE_FUNC through the log API, SWERVER_* fields, ERRNO. */
#include <config.h>

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include "core/log.h"
#include "core/log_journal.h"
#include "check_main.h"

/* ---- the fields of one record ---- */

/* The field "KEY=..." of e, NUL-terminated in a static buffer; NULL when absent. */
static const char *field(const struct sw_journal_entry *e, const char *key)
{
	static char out[4096];
	size_t klen = strlen(key);

	for (int i = 0; i < e->n; i++) {
		const char *f = e->iov[i].iov_base;
		size_t len = e->iov[i].iov_len;

		if (len > klen && memcmp(f, key, klen) == 0 && f[klen] == '=') {
			snprintf(out, sizeof(out), "%.*s", (int)(len - klen - 1), f + klen + 1);
			return out;
		}
	}
	return NULL;
}

static void expect(const struct sw_journal_entry *e, const char *key, const char *want)
{
	const char *got = field(e, key);

	ck_assert_msg(got && strcmp(got, want) == 0, "%s is \"%s\", want \"%s\"", key,
		      got ? got : "(absent)", want);
}

START_TEST(worker_record_fields)
{
	static const struct sw_log_site at = {
		"../../swerver/src/daemon/worker.c", 40, "on_accept", "SWERVER_LISTENER", "127.0.0.1:8080",
	};
	struct sw_log_record r = {
		.at = &at, .priority = LOG_WARNING, .err = EMFILE, .role = "worker 1",
		.worker = 1, .generation = 3, .msg = "accept on 127.0.0.1:8080: Too many open files",
	};
	struct sw_journal_entry e;

	sw_log_journal_entry(&e, &r);
	ck_assert_str_eq(e.code_file, "CODE_FILE=src/daemon/worker.c");
	ck_assert_str_eq(e.code_line, "CODE_LINE=40");
	ck_assert_str_eq(e.func, "on_accept");
	expect(&e, "MESSAGE", "worker 1: accept on 127.0.0.1:8080: Too many open files");
	expect(&e, "PRIORITY", "4");
	expect(&e, "SYSLOG_IDENTIFIER", "swerver");
	expect(&e, "SWERVER_ROLE", "worker 1");
	expect(&e, "SWERVER_WORKER", "1");
	expect(&e, "SWERVER_GENERATION", "3");
	expect(&e, "SWERVER_LISTENER", "127.0.0.1:8080");
	expect(&e, "ERRNO", "24");
}
END_TEST

/* The master has no slot, a line no errno and no subject: those fields are left out. */
START_TEST(master_record_fields)
{
	static const struct sw_log_site at = { "src/daemon/master.c", 7, "f", NULL, NULL };
	struct sw_log_record r = {
		.at = &at, .priority = LOG_INFO, .role = "master", .worker = -1, .msg = "hi",
	};
	struct sw_journal_entry e;

	sw_log_journal_entry(&e, &r);
	ck_assert_str_eq(e.code_file, "CODE_FILE=src/daemon/master.c");
	ck_assert_ptr_null(field(&e, "SWERVER_WORKER"));
	ck_assert_ptr_null(field(&e, "SWERVER_GENERATION"));
	ck_assert_ptr_null(field(&e, "ERRNO"));
	expect(&e, "MESSAGE", "master: hi");
	ck_assert_int_eq(e.n, 4);
}
END_TEST

/* A message longer than the buffer is cut; the fields before it stay whole. */
START_TEST(long_message_is_cut)
{
	static const struct sw_log_site at = { "x.c", 1, "f", "SWERVER_UPSTREAM", "app" };
	struct sw_log_record r = { .at = &at, .priority = LOG_ERR, .role = "master", .worker = -1 };
	struct sw_journal_entry e;
	char *msg = malloc(8000);

	memset(msg, 'm', 7999);
	msg[7999] = '\0';
	r.msg = msg;
	sw_log_journal_entry(&e, &r);
	expect(&e, "SWERVER_UPSTREAM", "app");
	ck_assert_ptr_nonnull(field(&e, "MESSAGE"));
	ck_assert_uint_le(e.used, sizeof(e.buf));
	free(msg);
}
END_TEST

/* ---- through the log API ---- */

static struct sw_journal_entry caught;
static int caught_n;

static int catch_entry(const struct sw_journal_entry *e)
{
	caught = *e;
	/* iov points into e->buf: rebase onto the copy */
	for (int i = 0; i < caught.n; i++)
		caught.iov[i].iov_base = caught.buf + ((const char *)e->iov[i].iov_base - e->buf);
	caught_n++;
	return SW_OK;
}

static void to_journal(void)
{
	struct sw_log_cfg cfg = { .target = "journal", .level = SW_LOG_DEBUG };

	ck_assert_int_eq(sw_log_open(&cfg), SW_OK);
	sw_log_journal_sink = catch_entry;
}

/* The caller's file, line and function arrive, not the logging helper's. */
START_TEST(caller_location_arrives)
{
	char want[32];
	int line;

	to_journal();
	sw_log_set_role("worker 2");
	sw_log_set_worker(2, 5);
	line = __LINE__ + 1;
	sw_warn("disk %s is full", "/var");
	ck_assert_int_eq(caught_n, 1);
	ck_assert_str_eq(caught.code_file, "CODE_FILE=tests/unit/core/test_log.c");
	snprintf(want, sizeof(want), "CODE_LINE=%d", line);
	ck_assert_str_eq(caught.code_line, want);
	ck_assert_str_eq(caught.func, __func__);
	expect(&caught, "MESSAGE", "worker 2: disk /var is full");
	expect(&caught, "SWERVER_WORKER", "2");
	expect(&caught, "SWERVER_GENERATION", "5");

	line = __LINE__ + 1;
	sw_log_listener(SW_LOG_ERROR, ENOENT, "[::1]:443", "cannot watch listener %s", "[::1]:443");
	snprintf(want, sizeof(want), "CODE_LINE=%d", line);
	ck_assert_str_eq(caught.code_line, want);
	expect(&caught, "SWERVER_LISTENER", "[::1]:443");
	expect(&caught, "ERRNO", "2");
	expect(&caught, "PRIORITY", "3");
	expect(&caught, "MESSAGE", "worker 2: cannot watch listener [::1]:443: No such file or directory");

	/* Below the level: nothing reaches the journal. */
	sw_log_set_level(SW_LOG_INFO);
	sw_debug("not this");
	ck_assert_int_eq(caught_n, 2);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("log");

	tcase_add_test(tc, worker_record_fields);
	tcase_add_test(tc, master_record_fields);
	tcase_add_test(tc, long_message_is_cut);
	tcase_add_test(tc, caller_location_arrives);
	suite_add_tcase(s, tc);
	return s;
}

SW_TEST_SUITE(suite);
