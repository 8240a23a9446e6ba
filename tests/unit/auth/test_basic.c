/* SPDX-License-Identifier: MIT */
/* test_basic.c - src/auth/basic.c: htpasswd files from openssl passwd and mkpasswd, refused hashes. */
#include <config.h>

#include <crypt.h>
#include <unistd.h>
#include "fixture.h"
#include "check_main.h"

static char dir[64];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/sw-auth-basic-XXXXXX");
	ck_assert(mkdtemp(dir) != NULL);
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* The first line a shell command prints, without its newline. */
static void run(const char *cmd, char *out, size_t size)
{
	FILE *p = popen(cmd, "r");

	ck_assert(p != NULL);
	ck_assert_msg(fgets(out, (int)size, p) != NULL, "no output from %s", cmd);
	out[strcspn(out, "\n")] = '\0';
	ck_assert_int_eq(pclose(p), 0);
}

/* Writes text as DIR/htpasswd and compiles a basic method reading it. */
static struct sw_auth_node *load(const char *text, char *err, size_t errsize)
{
	char path[128], json[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/htpasswd", dir);
	ck_assert((f = fopen(path, "w")) != NULL);
	fputs(text, f);
	fclose(f);
	snprintf(json, sizeof(json), "{\"basic\": {\"htpasswd\": \"%s\"}}", path);
	return fx_compile(json, err, errsize);
}

static struct sw_auth_result login(struct sw_auth_node *n, const char *b64, struct fx *f)
{
	char value[256];

	snprintf(value, sizeof(value), "Basic %s", b64);
	fx_init(f, "/p");
	fx_header(f, "Authorization", value);
	return fx_check(n, f);
}

/* alice:wonderland (SHA-512-crypt), bob:builder (bcrypt), as the tools write them. */
static struct sw_auth_node *users(void)
{
	char sha[256], bcrypt[256], text[600], err[512];
	struct sw_auth_node *n;

	run("openssl passwd -6 wonderland", sha, sizeof(sha));
	/* whois's mkpasswd, as operators use it; libcrypt's own salt where it is not installed */
	if (system("command -v mkpasswd >/dev/null 2>&1") == 0) {
		run("mkpasswd -m bcrypt -R 5 builder", bcrypt, sizeof(bcrypt));
	} else {
		char salt[CRYPT_GENSALT_OUTPUT_SIZE];
		fprintf(stderr, "note: mkpasswd (package whois) missing: bcrypt hash from crypt_gensalt\n");
		ck_assert_ptr_nonnull(crypt_gensalt_rn("$2b$", 5, NULL, 0, salt, sizeof(salt)));
		snprintf(bcrypt, sizeof(bcrypt), "%s", crypt("builder", salt));
	}
	ck_assert(!strncmp(sha, "$6$", 3));
	ck_assert(!strncmp(bcrypt, "$2b$", 4));
	snprintf(text, sizeof(text), "# made by the test\n\nalice:%s\r\nbob:%s\n", sha, bcrypt);
	n = load(text, err, sizeof(err));
	ck_assert_msg(n != NULL, "%s", err);
	return n;
}

START_TEST(test_sha512_and_bcrypt)
{
	struct sw_auth_node *n = users();
	struct sw_auth_result r;
	struct fx f;

	r = login(n, "YWxpY2U6d29uZGVybGFuZA==", &f);   /* alice:wonderland */
	ck_assert_int_eq(r.outcome, SW_AUTH_OK);
	ck_assert_str_eq(r.consumer, "alice");
	ck_assert_str_eq(f.stripped_header, "Authorization");
	r = login(n, "Ym9iOmJ1aWxkZXI=", &f);           /* bob:builder */
	ck_assert_int_eq(r.outcome, SW_AUTH_OK);
	ck_assert_str_eq(r.consumer, "bob");
	sw_auth_node_release(n);
}
END_TEST

/* A success is remembered; the memory never lets a near miss or another user in. */
START_TEST(test_cache)
{
	struct sw_auth_node *n = users();
	struct sw_auth_result r;
	struct fx f;

	for (int i = 0; i < 3; i++) {
		r = login(n, "Ym9iOmJ1aWxkZXI=", &f);   /* bob:builder */
		ck_assert_int_eq(r.outcome, SW_AUTH_OK);
		ck_assert_str_eq(r.consumer, "bob");
	}
	r = login(n, "Ym9iOmJ1aWxkZXJ4", &f);           /* bob:builderx */
	ck_assert_int_eq(r.outcome, SW_AUTH_FAIL);
	r = login(n, "YWxpY2U6YnVpbGRlcg==", &f);       /* alice:builder */
	ck_assert_int_eq(r.outcome, SW_AUTH_FAIL);
	r = login(n, "YWxpY2U6d29uZGVybGFuZA==", &f);   /* alice:wonderland */
	ck_assert_str_eq(r.consumer, "alice");
	r = login(n, "YWxpY2U6d29uZGVybGFuZA==", &f);
	ck_assert_str_eq(r.consumer, "alice");
	r = login(n, "Ym9iOmJ1aWxkZXI=", &f);
	ck_assert_str_eq(r.consumer, "bob");
	sw_auth_node_release(n);
}
END_TEST

START_TEST(test_wrong)
{
	/* alice:builder, bob:wonderland, carol:x, alice:wonderlan, not base64, no colon */
	static const char *const bad[] = { "YWxpY2U6YnVpbGRlcg==", "Ym9iOndvbmRlcmxhbmQ=", "Y2Fyb2w6eA==",
					   "YWxpY2U6d29uZGVybGFu", "!!!!", "YWxpY2U=" };
	struct sw_auth_node *n = users();

	for (size_t i = 0; i < SW_ARRAY_SIZE(bad); i++) {
		struct fx f;
		struct sw_auth_result r = login(n, bad[i], &f);
		ck_assert_msg(r.outcome == SW_AUTH_FAIL, "%s let in", bad[i]);
		ck_assert_int_eq(r.status, 401);
		ck_assert_str_eq(f.stripped_header, "");
	}
	sw_auth_node_release(n);
}
END_TEST

START_TEST(test_absent)
{
	struct sw_auth_node *n = users();
	struct fx f;

	fx_init(&f, "/p");
	ck_assert_int_eq(fx_check(n, &f).outcome, SW_AUTH_ABSENT);
	fx_header(&f, "Authorization", "Bearer YWxpY2U6d29uZGVybGFuZA==");
	ck_assert_int_eq(fx_check(n, &f).outcome, SW_AUTH_ABSENT);
	sw_auth_node_release(n);
}
END_TEST

static void refused(const char *line, const char *expect)
{
	char err[512], text[512];

	snprintf(text, sizeof(text), "# header\n%s\n", line);
	ck_assert_msg(load(text, err, sizeof(err)) == NULL, "accepted: %s", line);
	ck_assert_msg(strstr(err, "routes[0].auth.basic.htpasswd") && strstr(err, "/htpasswd:2:") &&
		      strstr(err, expect), "error \"%s\" lacks the path, file:line or \"%s\"", err, expect);
}

START_TEST(test_refused_hashes)
{
	char md5[128], apr1[128], line[256];

	run("openssl passwd -1 secret", md5, sizeof(md5));
	run("openssl passwd -apr1 secret", apr1, sizeof(apr1));
	snprintf(line, sizeof(line), "u:%s", md5);
	refused(line, "MD5");
	snprintf(line, sizeof(line), "u:%s", apr1);
	refused(line, "MD5");
	refused("u:secret", "plain text or DES");
	refused("u:abJnggxhB/yWI", "plain text or DES");
	refused("u:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=", "SHA-1");
	refused("u:$5$salt$Gcm6FsVtF/Qa77ZKD.iwsJlCVPY0XSMgLJL0Hnww/c1", "unsupported");
	refused("u:$6$", "malformed");
	refused("nocolon", "not \"user:hash\"");
}
END_TEST

START_TEST(test_file_errors)
{
	char err[512], json[256];
	struct sw_auth_node *n;

	ck_assert(load("# only comments\n", err, sizeof(err)) == NULL);
	ck_assert_msg(strstr(err, "no users"), "%s", err);
	snprintf(json, sizeof(json), "{\"basic\": {\"htpasswd\": \"%s/none\"}}", dir);
	ck_assert(fx_compile(json, err, sizeof(err)) == NULL);
	ck_assert_msg(strstr(err, "/none: No such file"), "%s", err);
	snprintf(json, sizeof(json), "{\"basic\": {\"htpasswd\": \"%s\"}}", dir);
	ck_assert(fx_compile(json, err, sizeof(err)) == NULL);
	ck_assert_msg(strstr(err, "not a regular file"), "%s", err);
	ck_assert(fx_compile("{\"basic\": {\"htpasswd\": \"relative\"}}", err, sizeof(err)) == NULL);
	ck_assert_msg(strstr(err, "routes[0].auth.basic.htpasswd: required, an absolute path"), "%s", err);
	n = fx_compile("{\"basic\": {}}", err, sizeof(err));
	ck_assert(n == NULL);
}
END_TEST

START_TEST(test_duplicate_user)
{
	char sha[256], text[600], err[512];

	run("openssl passwd -6 x", sha, sizeof(sha));
	snprintf(text, sizeof(text), "u:%s\nu:%s\n", sha, sha);
	ck_assert(load(text, err, sizeof(err)) == NULL);
	ck_assert_msg(strstr(err, "/htpasswd:2: user \"u\" appears twice"), "%s", err);
}
END_TEST

static Suite *basic_suite(void)
{
	Suite *s = suite_create("basic");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_sha512_and_bcrypt);
	tcase_add_test(tc, test_wrong);
	tcase_add_test(tc, test_cache);
	tcase_add_test(tc, test_absent);
	tcase_add_test(tc, test_refused_hashes);
	tcase_add_test(tc, test_file_errors);
	tcase_add_test(tc, test_duplicate_user);
	suite_add_tcase(s, tc);
	return s;
}

SW_TEST_SUITE(basic_suite);
