/* SPDX-License-Identifier: MIT */
/* test_jwt_method.c - src/auth/jwt_method.c: where the token is taken from, what goes upstream, the outcomes. */
#include <config.h>

#include <time.h>
#include "fixture.h"
#include "check_main.h"
#include "jwt_mint.h"

#define SECRET "0123456789abcdef0123456789abcdef"

static char *token(const char *sub, long exp_in)
{
	char payload[256];

	snprintf(payload, sizeof(payload), "{\"sub\":\"%s\",\"role\":\"admin\",\"exp\":%ld}", sub,
		 (long)time(NULL) + exp_in);
	return mint("HS256", NULL, SECRET, NULL, payload);
}

static struct sw_auth_node *jwt(const char *extra)
{
	char json[1024], err[512];
	struct sw_auth_node *n;

	snprintf(json, sizeof(json), "{\"jwt\": {\"keys\": [{\"secret\": \"" SECRET "\", \"algorithms\": [\"HS256\"]}],"
		 " \"claims_to_headers\": {\"role\": \"X-Role\", \"team\": \"X-Team\"}%s}}", extra);
	n = fx_compile(json, err, sizeof(err));
	ck_assert_msg(n != NULL, "%s", err);
	ck_assert_str_eq(n->m->name, "jwt");
	ck_assert_str_eq(n->m->challenge, "Bearer");
	return n;
}

static bool stripped(const struct fx *f, const char *name)
{
	for (unsigned i = 0; i < f->nstrips; i++)
		if (!strcasecmp(f->strips[i], name))
			return true;
	return false;
}

START_TEST(test_bearer)
{
	struct sw_auth_node *n = jwt("");
	char *t = token("alice", 3600), auth[1024];
	struct sw_auth_result r;
	struct fx f;

	fx_init(&f, "/api");
	snprintf(auth, sizeof(auth), "bearer   %s ", t);
	fx_header(&f, "Authorization", auth);
	fx_header(&f, "X-Role", "forged-by-client");
	r = fx_check(n, &f);
	ck_assert_int_eq(r.outcome, SW_AUTH_OK);
	ck_assert_str_eq(r.consumer, "alice");
	ck_assert_ptr_eq(r.consumer, f.kept);   /* the exchange's copy, not the cache's */
	/* The claim replaces the client's X-Role, X-Team (no such claim) is removed, the token stays here. */
	ck_assert_uint_eq(f.nset, 1);
	ck_assert_str_eq(f.set_name[0], "X-Role");
	ck_assert_str_eq(f.set_value[0], "admin");
	ck_assert(stripped(&f, "X-Team"));
	ck_assert(stripped(&f, "Authorization"));
	/* The second time from the cache: the same answer. */
	fx_init(&f, "/api");
	fx_header(&f, "Authorization", auth);
	r = fx_check(n, &f);
	ck_assert_int_eq(r.outcome, SW_AUTH_OK);
	ck_assert_str_eq(r.consumer, "alice");
	ck_assert_str_eq(f.set_value[0], "admin");
	free(t);
	sw_auth_node_release(n);
}
END_TEST

START_TEST(test_forward_token)
{
	struct sw_auth_node *n = jwt(", \"forward_token\": true");
	char *t = token("alice", 3600), auth[1024];
	struct fx f;

	fx_init(&f, "/api");
	snprintf(auth, sizeof(auth), "Bearer %s", t);
	fx_header(&f, "Authorization", auth);
	ck_assert_int_eq(fx_check(n, &f).outcome, SW_AUTH_OK);
	ck_assert(!stripped(&f, "Authorization"));
	free(t);
	sw_auth_node_release(n);
}
END_TEST

START_TEST(test_cookie)
{
	struct sw_auth_node *n = jwt(", \"cookie\": \"session\"");
	char *t = token("carol", 3600), c[1024];
	struct sw_auth_result r;
	struct fx f;

	/* A second Cookie field (HTTP/2 splits them), a look-alike name first, the value quoted. */
	fx_init(&f, "/api");
	fx_header(&f, "Cookie", "theme=dark; xsession=nope");
	snprintf(c, sizeof(c), "a=1;session=\"%s\"; b=2", t);
	fx_header(&f, "cookie", c);
	r = fx_check(n, &f);
	ck_assert_int_eq(r.outcome, SW_AUTH_OK);
	ck_assert_str_eq(r.consumer, "carol");
	ck_assert(!stripped(&f, "Authorization"));
	/* Only the look-alike: absent. */
	fx_init(&f, "/api");
	fx_header(&f, "Cookie", "theme=dark; xsession=nope");
	ck_assert_int_eq(fx_check(n, &f).outcome, SW_AUTH_ABSENT);
	free(t);
	sw_auth_node_release(n);
}
END_TEST

START_TEST(test_absent_and_failures)
{
	struct sw_auth_node *n = jwt("");
	char *expired = token("dave", -3600), auth[1024];
	struct sw_auth_result r;
	struct fx f;

	/* No token, another scheme, or a cookie nobody configured: absent, and the claim headers still go. */
	fx_init(&f, "/api");
	fx_header(&f, "X-Role", "admin");
	r = fx_check(n, &f);
	ck_assert_int_eq(r.outcome, SW_AUTH_ABSENT);
	ck_assert(stripped(&f, "X-Role"));
	ck_assert_uint_eq(f.nset, 0);
	fx_init(&f, "/api");
	fx_header(&f, "Authorization", "Basic YTpi");
	ck_assert_int_eq(fx_check(n, &f).outcome, SW_AUTH_ABSENT);
	fx_init(&f, "/api");
	fx_header(&f, "Cookie", "session=x.y.z");
	ck_assert_int_eq(fx_check(n, &f).outcome, SW_AUTH_ABSENT);
	/* Expired: 401 with the reason, claim headers removed, no consumer. */
	fx_init(&f, "/api");
	snprintf(auth, sizeof(auth), "Bearer %s", expired);
	fx_header(&f, "Authorization", auth);
	fx_header(&f, "X-Role", "admin");
	r = fx_check(n, &f);
	ck_assert_int_eq(r.outcome, SW_AUTH_FAIL);
	ck_assert_int_eq(r.status, 401);
	ck_assert_str_eq(r.reason, "expired");
	ck_assert_ptr_null(r.consumer);
	ck_assert(stripped(&f, "X-Role"));
	ck_assert_uint_eq(f.nset, 0);
	/* Bearer with nothing, or garbage. */
	fx_init(&f, "/api");
	fx_header(&f, "Authorization", "Bearer ");
	r = fx_check(n, &f);
	ck_assert_int_eq(r.outcome, SW_AUTH_FAIL);
	ck_assert_str_eq(r.reason, "bad_token");
	fx_init(&f, "/api");
	fx_header(&f, "Authorization", "Bearer abc");
	ck_assert_str_eq(fx_check(n, &f).reason, "bad_token");
	free(expired);
	sw_auth_node_release(n);
}
END_TEST

START_TEST(test_config_path)
{
	char err[512];

	ck_assert_ptr_null(fx_compile("{\"jwt\": {\"keys\": [{\"secret\": \"short\", \"algorithms\": [\"HS256\"]}]}}",
				      err, sizeof(err)));
	ck_assert_msg(strstr(err, "routes[0].auth.jwt.keys[0]: HS256 needs a secret of at least 32 bytes"), "%s", err);
	ck_assert_ptr_null(fx_compile("{\"jwt\": {\"keys\": [{\"secret\": \"" SECRET "\", \"algorithms\": [\"HS256\"]}],"
				      " \"forward_token\": 1}}", err, sizeof(err)));
	ck_assert_msg(strstr(err, "routes[0].auth.jwt.forward_token: must be true or false"), "%s", err);
}
END_TEST

static Suite *jwt_method_suite(void)
{
	Suite *s = suite_create("jwt_method");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_bearer);
	tcase_add_test(tc, test_forward_token);
	tcase_add_test(tc, test_cookie);
	tcase_add_test(tc, test_absent_and_failures);
	tcase_add_test(tc, test_config_path);
	suite_add_tcase(s, tc);
	return s;
}

SW_TEST_SUITE(jwt_method_suite);
