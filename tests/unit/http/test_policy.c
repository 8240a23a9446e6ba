/* SPDX-License-Identifier: MIT */
/*
 * test_policy.c - src/http/policy.c: chain order, verdicts, pause/resume,
 * response hooks, global and route chains, failed compiles, the exchange
 * helpers (upstream edits, memory, the body hold), on a fake codec whose
 * loop only runs the timers the test fires.
 */
#include <config.h>

#include <check.h>
#include "check_main.h"
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "core/diag.h"
#include "http/context.h"
#include "event/backend.h"
#include "http/policy.h"

/* ---- the fake codec ---- */

static struct sw_loop loop;
static struct sw_config cfg;
static struct sw_ctx w;
static struct sw_exchange x;
static char log_[256];         /* what ran, in order: "A B then" */
static int responded;          /* respond calls */
static sw_body_cb body_cb;     /* the codec's pending read */
static int read_calls;

static void note(const char *what)
{
	size_t n = strlen(log_);

	snprintf(log_ + n, sizeof(log_) - n, "%s%s", n ? " " : "", what);
}

static void fake_respond(struct sw_exchange *e)
{
	sw_exchange_before_head(e);     /* what every codec's respond does first */
	responded++;
}

static void fake_read_body(struct sw_exchange *e, sw_body_cb cb)
{
	(void)e;
	body_cb = cb;
	read_calls++;
}

static const struct sw_exchange_ops ops = { .respond = fake_respond, .read_body = fake_read_body };

/* The codec hands the pending read a piece (from "the loop"). */
static void deliver(const char *data, ssize_t n, bool last)
{
	sw_body_cb cb = body_cb;

	ck_assert_ptr_nonnull(cb);
	body_cb = NULL;
	cb(&x, data, n, last);
}

/* Runs the timers that are due, as the loop would. */
static void fire_timers(void)
{
	while (loop.heap_len && loop.heap[1]->deadline <= loop.now) {
		struct sw_timer *t = loop.heap[1];
		sw_timer_del(&loop, t);
		t->cb(t);
	}
}

static void setup(void)
{
	memset(&loop, 0, sizeof(loop));
	memset(&cfg, 0, sizeof(cfg));
	memset(&w, 0, sizeof(w));
	loop.now = 1000;
	cfg.limits.max_body_bytes = 1 << 20;
	w.loop = &loop;
	w.cfg = &cfg;
	memset(&x, 0, sizeof(x));
	x.ops = &ops;
	x.ctx = &w;
	x.req.path = SW_STR("/x");
	log_[0] = '\0';
	responded = 0;
	body_cb = NULL;
	read_calls = 0;
}

/* The codec is done with x: what sw_exchange_finish does for the chain. */
static void finish(void)
{
	if (x.policy)
		sw_policy_finish(&x);
	ck_assert_ptr_null(x.policy);
}

static void teardown(void)
{
	finish();
	free(loop.heap);
}

/* ---- test policies: their JSON value {"name": "A", "verdict": "continue"|"done"|"pause"} ---- */

struct tp {
	char name[8];
	enum sw_policy_verdict verdict;
};

static int compiled, released, cancelled;

static void *tp_compile(struct json_object *conf, const char *path, struct sw_diag *d)
{
	struct json_object *n, *v;
	struct tp *t;

	(void)d;
	note(path);
	if (!json_object_object_get_ex(conf, "name", &n))
		return NULL;
	t = calloc(1, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s", json_object_get_string(n));
	if (json_object_object_get_ex(conf, "verdict", &v))
		t->verdict = strcmp(json_object_get_string(v), "done") == 0 ? SW_POLICY_DONE :
			     strcmp(json_object_get_string(v), "pause") == 0 ? SW_POLICY_PAUSE :
			     SW_POLICY_CONTINUE;
	compiled++;
	return t;
}

static void tp_release(void *state)
{
	released++;
	free(state);
}

static enum sw_policy_verdict tp_request(struct sw_exchange *e, void *state)
{
	struct tp *t = state;

	note(t->name);
	if (t->verdict == SW_POLICY_DONE)
		sw_exchange_error(e, 403);
	return t->verdict;
}

/* Adds "X-Seen: <names of the response hooks that ran>" (one field, grown). */
static void tp_response(struct sw_exchange *e, void *state)
{
	struct tp *t = state;
	char buf[64];

	snprintf(buf, sizeof(buf), "resp-%s", t->name);
	note(buf);
	sw_response_add_header(&e->resp, SW_STR("X-Seen"), sw_exchange_str(e, t->name, strlen(t->name)));
}

static void tp_cancel(struct sw_exchange *e, void *state)
{
	(void)e;
	(void)state;
	cancelled++;
}

static const struct sw_policy p_access = { .key = "t_access", .scopes = SW_POLICY_ROUTE | SW_POLICY_GLOBAL,
	.order = SW_POLICY_ORDER_ACCESS, .compile = tp_compile, .release = tp_release,
	.request = tp_request };
static const struct sw_policy p_auth = { .key = "t_auth", .scopes = SW_POLICY_ROUTE | SW_POLICY_GLOBAL,
	.order = SW_POLICY_ORDER_AUTH, .compile = tp_compile, .release = tp_release,
	.request = tp_request, .cancel = tp_cancel };
static const struct sw_policy p_headers = { .key = "t_headers", .scopes = SW_POLICY_ROUTE | SW_POLICY_GLOBAL,
	.order = SW_POLICY_ORDER_HEADERS, .compile = tp_compile, .release = tp_release,
	.response = tp_response };
static const struct sw_policy p_rate = { .key = "t_rate", .scopes = SW_POLICY_ROUTE,
	.order = SW_POLICY_ORDER_RATE_LIMIT, .compile = tp_compile, .release = tp_release,
	.request = tp_request, .response = tp_response };

/* A set as the config keeps it: (policy, JSON text) pairs in file order. */
static struct sw_policy_set set_of(const struct sw_policy *const *p, const char *const *json, size_t n)
{
	struct sw_policy_set s = { calloc(n, sizeof(struct sw_policy_cfg)), n };

	for (size_t i = 0; i < n; i++)
		s.v[i] = (struct sw_policy_cfg){ p[i], json_tokener_parse(json[i]) };
	return s;
}

static void set_free(struct sw_policy_set *s)
{
	for (size_t i = 0; i < s->count; i++)
		json_object_put(s->v[i].value);
	free(s->v);
}

static struct sw_policy_chain *route_chain(const struct sw_policy *const *p, const char *const *json,
					   size_t n)
{
	struct sw_policy_set s = set_of(p, json, n);
	struct sw_policy_chain *c = sw_policy_chain_build(&s, SW_POLICY_ROUTE, "routes[3]");

	set_free(&s);   /* the chain keeps nothing of the JSON */
	return c;
}

static void then_fn(struct sw_exchange *e, void *data)
{
	(void)e;
	note(data);
}

static void drop_fn(void *data)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "drop-%s", (const char *)data);
	note(buf);
}

/* ---- tests ---- */

START_TEST(test_no_policy_no_chain)
{
	struct sw_policy_set empty = { NULL, 0 };

	ck_assert_ptr_null(sw_policy_chain_build(&empty, SW_POLICY_ROUTE, "routes[0]"));
	ck_assert_int_eq(sw_policy_run(&x, NULL, then_fn, drop_fn, "h"), SW_POLICY_CONTINUE);
	ck_assert_ptr_null(x.policy);       /* nothing allocated for a route without policies */
	ck_assert_str_eq(log_, "");
}
END_TEST

/* Sorted by order whatever the file order; each compiled with its key path. */
START_TEST(test_chain_order)
{
	const struct sw_policy *p[] = { &p_rate, &p_auth, &p_access };
	const char *j[] = { "{\"name\": \"R\"}", "{\"name\": \"U\"}", "{\"name\": \"A\"}" };
	struct sw_policy_chain *c;

	compiled = released = 0;
	c = route_chain(p, j, 3);
	ck_assert_str_eq(log_, "routes[3].t_rate routes[3].t_auth routes[3].t_access");
	ck_assert_int_eq(compiled, 3);
	ck_assert_uint_eq(c->count, 3);
	ck_assert_ptr_eq(c->items[0].policy, &p_access);
	ck_assert_ptr_eq(c->items[1].policy, &p_auth);
	ck_assert_ptr_eq(c->items[2].policy, &p_rate);
	log_[0] = '\0';
	ck_assert_int_eq(sw_policy_run(&x, c, then_fn, drop_fn, "h"), SW_POLICY_CONTINUE);
	ck_assert_str_eq(log_, "A U R");
	sw_policy_chain_put(c);
	ck_assert_int_eq(released, 0);      /* R's response hook still to run: x holds the chain */
	finish();
	ck_assert_int_eq(released, 3);
}
END_TEST

/* The global chain starts with the probes, which answer /.healthz before anything else. */
START_TEST(test_global_chain_probes_first)
{
	const struct sw_policy *p[] = { &p_access };
	const char *j[] = { "{\"name\": \"A\", \"verdict\": \"done\"}" };
	struct sw_policy_set s = set_of(p, j, 1);
	struct sw_policy_chain *c = sw_policy_chain_build(&s, SW_POLICY_GLOBAL, "");

	set_free(&s);
	ck_assert_uint_eq(c->count, 2);
	ck_assert_int_eq(c->items[0].policy->order, SW_POLICY_ORDER_PROBES);
	w.ready = true;
	x.req.method = SW_METHOD_GET;
	x.req.path = SW_STR("/.healthz");
	ck_assert_int_eq(sw_policy_run(&x, c, then_fn, drop_fn, "h"), SW_POLICY_DONE);
	ck_assert_int_eq(x.resp.status, 200);
	ck_assert_str_eq(log_, "t_access");    /* compiled, never asked */
	finish();
	setup();
	ck_assert_int_eq(sw_policy_run(&x, c, then_fn, drop_fn, "h"), SW_POLICY_DONE);
	ck_assert_int_eq(x.resp.status, 403);
	sw_policy_chain_put(c);
}
END_TEST

/* DONE stops the chain: later policies never run, nor the handler, nor drop. */
START_TEST(test_done_stops)
{
	const struct sw_policy *p[] = { &p_access, &p_auth, &p_rate };
	const char *j[] = { "{\"name\": \"A\"}", "{\"name\": \"U\", \"verdict\": \"done\"}",
			    "{\"name\": \"R\"}" };
	struct sw_policy_chain *c = route_chain(p, j, 3);

	log_[0] = '\0';
	ck_assert_int_eq(sw_policy_run(&x, c, then_fn, drop_fn, "h"), SW_POLICY_DONE);
	ck_assert_int_eq(responded, 1);
	ck_assert_int_eq(x.resp.status, 403);
	/* R's response hook runs on U's answer too: it was attached with the chain. */
	ck_assert_str_eq(log_, "A U resp-R");
	sw_policy_chain_put(c);
}
END_TEST

/* A pause: the rest of the chain and then() run when resumed with CONTINUE. */
START_TEST(test_pause_resume_continue)
{
	const struct sw_policy *p[] = { &p_access, &p_auth, &p_rate };
	const char *j[] = { "{\"name\": \"A\"}", "{\"name\": \"U\", \"verdict\": \"pause\"}",
			    "{\"name\": \"R\"}" };
	struct sw_policy_chain *c = route_chain(p, j, 3);

	log_[0] = '\0';
	ck_assert_int_eq(sw_policy_run(&x, c, then_fn, drop_fn, "h"), SW_POLICY_PAUSE);
	ck_assert_str_eq(log_, "A U");
	ck_assert_ptr_nonnull(x.on_abort);
	sw_policy_chain_put(c);             /* a reload: the paused exchange keeps the chain */
	sw_policy_resume(&x, SW_POLICY_CONTINUE);
	ck_assert_str_eq(log_, "A U R h");
	ck_assert_ptr_null(x.on_abort);
}
END_TEST

START_TEST(test_pause_resume_done)
{
	const struct sw_policy *p[] = { &p_auth, &p_rate };
	const char *j[] = { "{\"name\": \"U\", \"verdict\": \"pause\"}", "{\"name\": \"R\"}" };
	struct sw_policy_chain *c = route_chain(p, j, 2);

	log_[0] = '\0';
	ck_assert_int_eq(sw_policy_run(&x, c, then_fn, drop_fn, "h"), SW_POLICY_PAUSE);
	sw_exchange_error(&x, 401);         /* the paused policy answers, from the loop */
	sw_policy_resume(&x, SW_POLICY_DONE);
	ck_assert_str_eq(log_, "U resp-R drop-h");
	ck_assert_int_eq(x.resp.status, 401);
	sw_policy_chain_put(c);
}
END_TEST

/* The client goes away while paused: the policy's cancel, then drop; never then(). */
START_TEST(test_pause_client_gone)
{
	const struct sw_policy *p[] = { &p_auth };
	const char *j[] = { "{\"name\": \"U\", \"verdict\": \"pause\"}" };
	struct sw_policy_chain *c = route_chain(p, j, 1);
	void (*abort_cb)(struct sw_exchange *);

	cancelled = released = 0;
	log_[0] = '\0';
	ck_assert_int_eq(sw_policy_run(&x, c, then_fn, drop_fn, "h"), SW_POLICY_PAUSE);
	sw_policy_chain_put(c);
	ck_assert_int_eq(released, 0);
	abort_cb = x.on_abort;             /* as the codecs do */
	x.on_abort = NULL;
	abort_cb(&x);
	ck_assert_int_eq(cancelled, 1);
	ck_assert_str_eq(log_, "U drop-h");
	ck_assert_int_eq(released, 1);      /* the last reference went with the pause */
}
END_TEST

/* Response hooks: the global chain's, then the route's, once, whoever answers. */
START_TEST(test_response_hooks_global_then_route)
{
	const struct sw_policy *gp[] = { &p_headers };
	const char *gj[] = { "{\"name\": \"G\"}" };
	const struct sw_policy *rp[] = { &p_rate, &p_headers };
	const char *rj[] = { "{\"name\": \"R\"}", "{\"name\": \"H\"}" };
	struct sw_policy_set gs = set_of(gp, gj, 1);
	struct sw_policy_chain *g = sw_policy_chain_build(&gs, SW_POLICY_GLOBAL, "");
	struct sw_policy_chain *r = route_chain(rp, rj, 2);

	set_free(&gs);
	log_[0] = '\0';
	ck_assert_int_eq(sw_policy_run(&x, g, then_fn, drop_fn, "g"), SW_POLICY_CONTINUE);
	ck_assert_int_eq(sw_policy_run(&x, r, then_fn, drop_fn, "r"), SW_POLICY_CONTINUE);
	sw_policy_chain_put(g);
	sw_policy_chain_put(r);
	ck_assert_str_eq(log_, "R");
	sw_exchange_empty(&x, 204);         /* the handler */
	sw_exchange_before_head(&x);        /* a second call changes nothing */
	ck_assert_str_eq(log_, "R resp-G resp-R resp-H");
	ck_assert_uint_eq(x.resp.header_count, 3);
	ck_assert(sw_str_eq(x.resp.headers[0].value, "G"));
	ck_assert(sw_str_eq(x.resp.headers[2].value, "H"));
}
END_TEST

static void *fail_compile(struct json_object *conf, const char *path, struct sw_diag *d)
{
	(void)conf;
	sw_diag_error(d, path, "key file gone");
	return NULL;
}

static const struct sw_policy p_broken = { .key = "t_broken", .scopes = SW_POLICY_ROUTE,
	.order = SW_POLICY_ORDER_AUTH, .compile = fail_compile, .request = tp_request };

/* A policy that no longer compiles in the worker refuses (503), never lets requests through. */
START_TEST(test_failed_compile_refuses)
{
	const struct sw_policy *p[] = { &p_broken, &p_rate };
	const char *j[] = { "{}", "{\"name\": \"R\"}" };
	struct sw_policy_chain *c = route_chain(p, j, 2);

	log_[0] = '\0';
	ck_assert_ptr_null(c->items[0].state);
	ck_assert_int_eq(sw_policy_run(&x, c, then_fn, drop_fn, "h"), SW_POLICY_DONE);
	ck_assert_int_eq(x.resp.status, 503);
	ck_assert_str_eq(log_, "resp-R");
	sw_policy_chain_put(c);
}
END_TEST

START_TEST(test_upstream_edits)
{
	const struct sw_upstream_edit *e;
	size_t n;
	char name[16];

	ck_assert_ptr_null(sw_exchange_upstream_edits(&x, &n));
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(sw_exchange_upstream_set(&x, "X-Consumer-Id", "7"), SW_OK);
	ck_assert_int_eq(sw_exchange_upstream_remove(&x, "Authorization"), SW_OK);
	ck_assert_int_eq(sw_exchange_upstream_set(&x, "x-consumer-id", "8"), SW_OK);  /* last wins */
	e = sw_exchange_upstream_edits(&x, &n);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(e[0].value, "8");
	ck_assert_ptr_null(e[1].value);
	for (int i = 2; i < 32; i++) {
		snprintf(name, sizeof(name), "X-%d", i);
		ck_assert_int_eq(sw_exchange_upstream_set(&x, name, "v"), SW_OK);
	}
	ck_assert_int_eq(sw_exchange_upstream_set(&x, "X-Full", "v"), SW_ERROR);
}
END_TEST

/* Exchange memory: zeroed, aligned, disjoint, whether it fits the run's own bytes or not. */
START_TEST(test_exchange_alloc)
{
	size_t sizes[] = { 1, 64, 40, 64, 1000, 3 };
	char *p[6];

	for (size_t i = 0; i < 6; i++) {
		p[i] = sw_exchange_alloc(&x, sizes[i]);
		ck_assert_uint_eq((uintptr_t)p[i] % _Alignof(max_align_t), 0);
		for (size_t k = 0; k < sizes[i]; k++)
			ck_assert_int_eq(p[i][k], 0);
		memset(p[i], (int)i + 1, sizes[i]);
	}
	for (size_t i = 0; i < 6; i++)
		for (size_t k = 0; k < sizes[i]; k++)
			ck_assert_int_eq(p[i][k], (int)i + 1);    /* nothing overlapped */
	ck_assert(sw_str_eq(sw_exchange_str(&x, "alice!", 5), "alice"));
}
END_TEST

static char held[64];
static size_t held_len;
static int hold_calls;

static size_t *hold_state;           /* what hold_compile returned */

static void on_held(struct sw_exchange *e, const char *body, size_t len)
{
	/* sw_hold_cb has no data pointer: the paused policy's state comes from x. */
	ck_assert_ptr_eq(sw_policy_paused_state(e), hold_state);
	ck_assert_ptr_nonnull(body);        /* "" for an empty body */
	memcpy(held, body, len);
	held_len = len;
	hold_calls++;
}

static char replayed[64];
static ssize_t replay_n;
static bool replay_last;

static void on_replay(struct sw_exchange *e, const char *data, ssize_t n, bool last)
{
	(void)e;
	if (n > 0)
		memcpy(replayed, data, (size_t)n);
	replay_n = n;
	replay_last = last;
}

static enum sw_policy_verdict hold_request(struct sw_exchange *e, void *state)
{
	sw_exchange_hold_body(e, *(size_t *)state, on_held);
	return SW_POLICY_PAUSE;
}

static void *hold_compile(struct json_object *conf, const char *path, struct sw_diag *d)
{
	static size_t max;

	(void)path;
	(void)d;
	max = (size_t)json_object_get_int64(conf);
	hold_state = &max;
	return &max;
}

static const struct sw_policy p_hold = { .key = "t_hold", .scopes = SW_POLICY_ROUTE,
	.order = SW_POLICY_ORDER_BODY_SCHEMA, .compile = hold_compile, .request = hold_request };

static struct sw_policy_chain *hold_chain(const char *max)
{
	const struct sw_policy *p[] = { &p_hold };
	const char *j[] = { max };

	hold_calls = 0;
	held_len = 0;
	replay_n = -99;
	return route_chain(p, j, 1);
}

/* The body is read whole, given to the policy, then replayed unchanged to the handler. */
START_TEST(test_hold_body_replayed)
{
	struct sw_policy_chain *c = hold_chain("8");

	x.req.has_body = true;
	ck_assert_int_eq(sw_policy_run(&x, c, then_fn, drop_fn, "h"), SW_POLICY_PAUSE);
	deliver("abc", 3, false);
	ck_assert_int_eq(hold_calls, 0);
	deliver("defgh", 5, true);          /* exactly max */
	ck_assert_int_eq(hold_calls, 1);
	ck_assert_uint_eq(held_len, 8);
	ck_assert(memcmp(held, "abcdefgh", 8) == 0);
	sw_policy_resume(&x, SW_POLICY_CONTINUE);
	ck_assert_str_eq(log_, "h");
	ck_assert_ptr_null(sw_policy_paused_state(&x));
	/* The handler reads: the held body, from the loop, never inside the call. */
	read_calls = 0;
	sw_exchange_read_body(&x, on_replay);
	ck_assert_int_eq(replay_n, -99);
	fire_timers();
	ck_assert_int_eq(replay_n, 8);
	ck_assert(replay_last);
	ck_assert(memcmp(replayed, "abcdefgh", 8) == 0);
	ck_assert_int_eq(read_calls, 0);    /* the codec was not asked again */
	sw_exchange_read_body(&x, on_replay);
	fire_timers();
	ck_assert_int_eq(replay_n, 0);
	sw_policy_chain_put(c);
}
END_TEST

/* Over max: 413 (the connection closes, the rest is unread), the pause ends, cb never runs. */
START_TEST(test_hold_body_too_large)
{
	struct sw_policy_chain *c = hold_chain("4");

	x.req.has_body = true;
	ck_assert_int_eq(sw_policy_run(&x, c, then_fn, drop_fn, "h"), SW_POLICY_PAUSE);
	deliver("abc", 3, false);
	deliver("de", 2, false);
	ck_assert_int_eq(x.resp.status, 413);
	ck_assert(x.resp.close);
	ck_assert_int_eq(hold_calls, 0);
	ck_assert_str_eq(log_, "drop-h");
	ck_assert_ptr_null(body_cb);        /* nothing more was asked of the codec */
	sw_policy_chain_put(c);
}
END_TEST

/* limits.max_body_bytes caps max; a codec error maps to its status. */
START_TEST(test_hold_body_limits_and_errors)
{
	struct sw_policy_chain *c = hold_chain("100");

	cfg.limits.max_body_bytes = 2;
	x.req.has_body = true;
	ck_assert_int_eq(sw_policy_run(&x, c, then_fn, drop_fn, "h"), SW_POLICY_PAUSE);
	deliver("abc", 3, true);
	ck_assert_int_eq(x.resp.status, 413);
	finish();
	setup();
	x.req.has_body = true;
	ck_assert_int_eq(sw_policy_run(&x, c, then_fn, drop_fn, "h"), SW_POLICY_PAUSE);
	deliver(NULL, -ETIMEDOUT, false);
	ck_assert_int_eq(x.resp.status, 408);
	finish();
	setup();
	x.req.has_body = true;
	ck_assert_int_eq(sw_policy_run(&x, c, then_fn, drop_fn, "h"), SW_POLICY_PAUSE);
	deliver(NULL, -EPROTO, false);
	ck_assert_int_eq(x.resp.status, 400);
	sw_policy_chain_put(c);
}
END_TEST

/* No body: cb with nothing, from the loop. */
START_TEST(test_hold_no_body)
{
	struct sw_policy_chain *c = hold_chain("4");

	ck_assert_int_eq(sw_policy_run(&x, c, then_fn, drop_fn, "h"), SW_POLICY_PAUSE);
	ck_assert_int_eq(hold_calls, 0);
	fire_timers();
	ck_assert_int_eq(hold_calls, 1);
	ck_assert_uint_eq(held_len, 0);
	ck_assert_int_eq(read_calls, 0);
	sw_policy_chain_put(c);
}
END_TEST

/* Finished while the replay is due (the client went away): the timer goes with it. */
START_TEST(test_hold_finish_cancels_timer)
{
	struct sw_policy_chain *c = hold_chain("4");

	ck_assert_int_eq(sw_policy_run(&x, c, then_fn, drop_fn, "h"), SW_POLICY_PAUSE);
	ck_assert_uint_eq(loop.heap_len, 1);
	finish();                           /* abandoned: drop runs, the timer is gone */
	ck_assert_uint_eq(loop.heap_len, 0);
	ck_assert_str_eq(log_, "drop-h");
	sw_policy_chain_put(c);
}
END_TEST

static Suite *policy_suite(void)
{
	Suite *s = suite_create("policy");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_no_policy_no_chain);
	tcase_add_test(tc, test_chain_order);
	tcase_add_test(tc, test_global_chain_probes_first);
	tcase_add_test(tc, test_done_stops);
	tcase_add_test(tc, test_pause_resume_continue);
	tcase_add_test(tc, test_pause_resume_done);
	tcase_add_test(tc, test_pause_client_gone);
	tcase_add_test(tc, test_response_hooks_global_then_route);
	tcase_add_test(tc, test_failed_compile_refuses);
	tcase_add_test(tc, test_upstream_edits);
	tcase_add_test(tc, test_exchange_alloc);
	tcase_add_test(tc, test_hold_body_replayed);
	tcase_add_test(tc, test_hold_body_too_large);
	tcase_add_test(tc, test_hold_body_limits_and_errors);
	tcase_add_test(tc, test_hold_no_body);
	tcase_add_test(tc, test_hold_finish_cancels_timer);
	suite_add_tcase(s, tc);
	return s;
}

SW_TEST_SUITE(policy_suite);
