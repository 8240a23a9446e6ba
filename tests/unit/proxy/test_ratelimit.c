/* SPDX-License-Identifier: MIT */
/* test_ratelimit.c - src/proxy/ratelimit.c: token buckets (burst, refill, per client and route), the fields. */
#include <config.h>

#include <limits.h>
#include <stdio.h>
#include "fixture.h"
#include "check_main.h"
#include "http/policy.h"

static void teardown(void)
{
	fx_stop();
}

/* Routes "/a" and "/b" with the same rate_limit object. */
static void start(const char *rate_limit)
{
	char json[1024];

	snprintf(json, sizeof(json),
		 "{\"upstreams\": [{\"name\": \"u\", \"servers\": [{\"address\": \"127.0.0.1\", \"port\": 9}]}],"
		 " \"routes\": [{\"path_prefix\": \"/a\", \"upstream\": \"u\", \"rate_limit\": %s},"
		 "  {\"path_prefix\": \"/b\", \"upstream\": \"u\", \"rate_limit\": %s}]}",
		 rate_limit, rate_limit);
	fx_start(json);
}

static struct px_rate last;

/* The compiled rate_limit of the route with this prefix (its policy chain's item). */
static const struct px_rate_conf *conf_of(const char *prefix)
{
	const struct px_route *r = fx_route(prefix, NULL);

	ck_assert_ptr_nonnull(r->policies);
	for (unsigned i = 0; i < r->policies->count; i++)
		if (r->policies->items[i].policy == &px_policy_rate_limit)
			return r->policies->items[i].state;
	ck_abort_msg("no rate_limit on %s", prefix);
	return NULL;
}

static bool allow(const char *prefix, struct fx_x *f, struct px_rate *out)
{
	return px_rate_allow(conf_of(prefix), fx_route(prefix, NULL)->cfg, &f->x, out);
}

/* One request from peer on route prefix (with an X-API-Key when key): allowed? */
static bool req(const char *prefix, const char *peer, const char *key)
{
	struct fx_x f;

	fx_exchange(&f, peer, prefix);
	if (key)
		fx_header(&f, "X-API-Key", key);
	memset(&last, 0xa5, sizeof(last));
	return allow(prefix, &f, &last);
}

START_TEST(test_burst)
{
	start("{\"requests_per_second\": 1, \"burst_size\": 3}");
	for (unsigned i = 0; i < 3; i++) {
		ck_assert(req("/a", "192.0.2.1", NULL));
		ck_assert_uint_eq(last.limit, 3);
		ck_assert_uint_eq(last.remaining, 2 - i);
		ck_assert_uint_eq(last.retry_after, 0);
	}
	ck_assert(!req("/a", "192.0.2.1", NULL));
	ck_assert_uint_eq(last.limit, 3);
	ck_assert_uint_eq(last.remaining, 0);
	ck_assert_uint_eq(last.retry_after, 1);
	ck_assert(!req("/a", "192.0.2.1", NULL));   /* a refusal takes nothing, gives nothing */
}
END_TEST

START_TEST(test_refill)
{
	start("{\"requests_per_second\": 10, \"burst_size\": 2}");
	ck_assert(req("/a", "192.0.2.1", NULL));
	ck_assert(req("/a", "192.0.2.1", NULL));
	ck_assert(!req("/a", "192.0.2.1", NULL));
	/* 10 a second is one every 100 ms, counted in thousandths: 99 ms is not enough. */
	fx.loop.now += 99;
	ck_assert(!req("/a", "192.0.2.1", NULL));
	fx.loop.now += 1;
	ck_assert(req("/a", "192.0.2.1", NULL));
	ck_assert_uint_eq(last.remaining, 0);
	ck_assert(!req("/a", "192.0.2.1", NULL));
	/* Partial refills add up across requests. */
	for (int i = 0; i < 4; i++) {
		fx.loop.now += 25;
		ck_assert_msg(req("/a", "192.0.2.1", NULL) == (i == 3), "after %d ms", 25 * (i + 1));
	}
	/* A long quiet spell refills to the burst, never past it. */
	fx.loop.now += 3600 * 1000;
	ck_assert(req("/a", "192.0.2.1", NULL));
	ck_assert_uint_eq(last.remaining, 1);
	ck_assert(req("/a", "192.0.2.1", NULL));
	ck_assert(!req("/a", "192.0.2.1", NULL));
	/* A clock that another process read later (a smaller now) refills nothing. */
	fx.loop.now -= 50;
	ck_assert(!req("/a", "192.0.2.1", NULL));
}
END_TEST

/*
 * Regression: the refill was converted to 64 bits before the cap: at the
 * largest valid rate (1e9 a second) 231 days of quiet are 2e19
 * thousandths, out of range (undefined; 0 here), so the bucket stayed
 * empty for good.
 */
START_TEST(test_refill_after_long_idle_at_high_rate)
{
	start("{\"requests_per_second\": 1000000000, \"burst_size\": 1}");
	ck_assert(req("/a", "192.0.2.1", NULL));
	ck_assert(!req("/a", "192.0.2.1", NULL));
	fx.loop.now += 20000000000ull;
	ck_assert(req("/a", "192.0.2.1", NULL));
	ck_assert_uint_eq(last.remaining, 0);
	ck_assert(!req("/a", "192.0.2.1", NULL));
	fx.loop.now += 1;
	ck_assert(req("/a", "192.0.2.1", NULL));
	ck_assert_uint_eq(last.remaining, 0);   /* capped at burst_size */
}
END_TEST

START_TEST(test_slow_rate_retry_after)
{
	/* Half a request a second: a refused client waits 2 s; burst defaults to 1. */
	start("{\"requests_per_second\": 0.5}");
	ck_assert(req("/a", "192.0.2.1", NULL));
	ck_assert_uint_eq(last.limit, 1);
	ck_assert(!req("/a", "192.0.2.1", NULL));
	ck_assert_uint_eq(last.retry_after, 2);
	fx.loop.now += 1000;
	ck_assert(!req("/a", "192.0.2.1", NULL));
	ck_assert_uint_eq(last.retry_after, 1);   /* half a token is back: 1 s to go */
	fx.loop.now += 1000;
	ck_assert(req("/a", "192.0.2.1", NULL));

	/* A fast rate still says at least 1 s (Retry-After has no fractions). */
	fx_stop();
	start("{\"requests_per_second\": 1000, \"burst_size\": 1}");
	ck_assert(req("/a", "192.0.2.1", NULL));
	ck_assert(!req("/a", "192.0.2.1", NULL));
	ck_assert_uint_eq(last.retry_after, 1);
	/* burst_size defaults to the rate: 1000 at once. */
	fx_stop();
	start("{\"requests_per_second\": 1000}");
	for (int i = 0; i < 1000; i++)
		ck_assert(req("/a", "192.0.2.1", NULL));
	ck_assert(!req("/a", "192.0.2.1", NULL));
}
END_TEST

/*
 * Regression: a rate slow enough that the wait passes 2^32 s (any
 * requests_per_second > 0 is valid) made Retry-After a double-to-unsigned
 * conversion out of range: undefined, in practice a wrapped number
 * (1410065408 for 1e10 s).  It is now capped at the largest it can say.
 */
START_TEST(test_retry_after_very_slow_rate_capped)
{
	start("{\"requests_per_second\": 1e-10, \"burst_size\": 1}");
	ck_assert(req("/a", "192.0.2.1", NULL));
	ck_assert(!req("/a", "192.0.2.1", NULL));
	ck_assert_uint_eq(last.retry_after, UINT_MAX);
	fx_stop();
	/* Under the cap: the exact wait (one request every 10^6 s). */
	start("{\"requests_per_second\": 0.000001, \"burst_size\": 1}");
	ck_assert(req("/a", "192.0.2.1", NULL));
	ck_assert(!req("/a", "192.0.2.1", NULL));
	ck_assert_uint_eq(last.retry_after, 1000000);
}
END_TEST

START_TEST(test_buckets_per_client_and_route)
{
	start("{\"requests_per_second\": 1, \"burst_size\": 1}");
	ck_assert(req("/a", "192.0.2.1", NULL));
	ck_assert(!req("/a", "192.0.2.1", NULL));
	/* Another client, another route: their own buckets. */
	ck_assert(req("/a", "192.0.2.2", NULL));
	ck_assert(req("/a", "2001:db8::1", NULL));
	ck_assert(req("/b", "192.0.2.1", NULL));
	ck_assert(!req("/b", "192.0.2.1", NULL));
	/* Under the ip key a consumer header changes nothing. */
	ck_assert(!req("/a", "192.0.2.1", "k1"));
}
END_TEST

START_TEST(test_consumer_key)
{
	start("{\"requests_per_second\": 1, \"burst_size\": 1, \"key\": \"consumer\"}");
	/* One key from two addresses: one bucket. */
	ck_assert(req("/a", "192.0.2.1", "k1"));
	ck_assert(!req("/a", "192.0.2.2", "k1"));
	ck_assert(req("/a", "192.0.2.1", "k2"));
	/* No key: the address stands in, in a bucket no key can name. */
	ck_assert(req("/a", "192.0.2.1", NULL));
	ck_assert(!req("/a", "192.0.2.1", NULL));
	ck_assert(req("/a", "192.0.2.3", NULL));
	ck_assert(req("/a", "192.0.2.9", "192.0.2.1"));
}
END_TEST

START_TEST(test_consumer_header_named)
{
	struct fx_x f;
	struct px_rate r;

	start("{\"requests_per_second\": 1, \"burst_size\": 1, \"key\": \"consumer\","
	      " \"consumer_header\": \"X-Tenant\"}");
	fx_exchange(&f, "192.0.2.1", "/a");
	fx_header(&f, "x-tenant", "t1");
	ck_assert(allow("/a", &f, &r));
	fx_exchange(&f, "192.0.2.2", "/a");
	fx_header(&f, "X-TENANT", "t1");
	ck_assert(!allow("/a", &f, &r));
	/* X-API-Key is not this route's header. */
	ck_assert(req("/a", "192.0.2.2", "t1"));
}
END_TEST

/* The response fields px_rate_headers adds, "Name=value" joined by ','. */
static const char *fields(const struct px_rate *rate, bool refused)
{
	static char out[256];
	struct fx_x f;
	size_t len = 0;

	fx_exchange(&f, "192.0.2.1", "/a");
	px_rate_headers(&f.x, rate, refused);
	out[0] = '\0';
	for (unsigned i = 0; i < f.x.resp.header_count; i++)
		len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%.*s=%.*s", i ? "," : "",
					(int)f.x.resp.headers[i].name.len, f.x.resp.headers[i].name.p,
					(int)f.x.resp.headers[i].value.len, f.x.resp.headers[i].value.p);
	sw_policy_finish(&f.x);         /* the values live in the exchange's memory */
	return out;
}

START_TEST(test_rate_headers)
{
	struct px_rate r = { .limit = 10, .remaining = 7, .retry_after = 0 };

	start("{\"requests_per_second\": 1}");
	ck_assert_str_eq(fields(&r, false), "X-RateLimit-Limit=10,X-RateLimit-Remaining=7");
	r = (struct px_rate){ .limit = 4294967295u, .remaining = 0, .retry_after = 3 };
	ck_assert_str_eq(fields(&r, true),
			 "X-RateLimit-Limit=4294967295,X-RateLimit-Remaining=0,Retry-After=3");
}
END_TEST

/* An auth policy's consumer is the key; the consumer header is then not read. */
START_TEST(test_consumer_from_auth)
{
	struct fx_x f;
	struct px_rate r;

	start("{\"requests_per_second\": 1, \"burst_size\": 1, \"key\": \"consumer\"}");
	fx_exchange(&f, "192.0.2.1", "/a");
	f.x.consumer = "alice";
	fx_header(&f, "X-API-Key", "k1");
	ck_assert(allow("/a", &f, &r));
	fx_exchange(&f, "192.0.2.2", "/a");
	f.x.consumer = "alice";
	fx_header(&f, "X-API-Key", "k2");
	ck_assert(!allow("/a", &f, &r));            /* same consumer, another key and address */
	ck_assert(req("/a", "192.0.2.1", "k1"));     /* the header's bucket is another one */
	ck_assert(req("/a", "192.0.2.1", "alice"));  /* a header cannot name a consumer's bucket */
}
END_TEST

/* Parses a config with route "/" having rate_limit rl; returns the first error or "". */
static const char *conf_error(const char *rl, bool *ok)
{
	static char first[512];
	char json[1024];
	struct sw_config cfg;
	struct sw_diag d;

	snprintf(json, sizeof(json),
		 "{\"upstreams\": [{\"name\": \"u\", \"servers\": [{\"address\": \"127.0.0.1\", \"port\": 9}]}],"
		 " \"routes\": [{\"path_prefix\": \"/\", \"upstream\": \"u\", \"rate_limit\": %s}]}", rl);
	sw_diag_init(&d, "t.json");
	*ok = sw_config_parse(&cfg, json, strlen(json), &d) == SW_OK;
	snprintf(first, sizeof(first), "%s", d.count ? d.entries[0].text : "");
	if (*ok)
		sw_config_deinit(&cfg);
	sw_diag_deinit(&d);
	return first;
}

/* The loader's messages for rate_limit, as before it became a policy. */
START_TEST(test_config_errors)
{
	bool ok;

	ck_assert_str_eq(conf_error("{\"requests_per_second\": 0}", &ok),
			 "t.json: routes[0].rate_limit.requests_per_second: must be a number > 0 and <= 1000000000");
	ck_assert(!ok);
	ck_assert_str_eq(conf_error("{\"burst_size\": 3}", &ok),
			 "t.json: routes[0].rate_limit.requests_per_second: required");
	ck_assert_str_eq(conf_error("{\"requests_per_second\": 1, \"burst_size\": 0}", &ok),
			 "t.json: routes[0].rate_limit.burst_size: must be 1-4294967295");
	ck_assert_str_eq(conf_error("{\"requests_per_second\": 1, \"key\": \"user\"}", &ok),
			 "t.json: routes[0].rate_limit.key: must be one of \"ip\", \"consumer\"");
	ck_assert_str_eq(conf_error("{\"requests_per_second\": 1, \"key\": \"consumer\","
				    " \"consumer_header\": \"X Key\"}", &ok),
			 "t.json: routes[0].rate_limit.consumer_header: must be a valid header name");
	ck_assert_str_eq(conf_error("5", &ok), "t.json: routes[0].rate_limit: must be an object");
	ck_assert_str_eq(conf_error("{\"requests_per_second\": 1, \"per\": 2}", &ok),
			 "t.json: routes[0].rate_limit.per: unknown key");
	ck_assert(ok);
}
END_TEST

/* Defaults: burst_size is the rate (at least 1), the consumer header X-API-Key; "header" is its old name. */
START_TEST(test_config_defaults)
{
	const struct px_rate_conf *c;

	start("{\"requests_per_second\": 2.5}");
	c = conf_of("/a");
	ck_assert_uint_eq(c->burst_size, 2);
	ck_assert(!c->by_consumer);
	ck_assert_str_eq(c->consumer_header, "X-API-Key");
	fx_stop();
	start("{\"requests_per_second\": 0.1, \"key\": \"consumer\", \"header\": \"X-Token\"}");
	c = conf_of("/a");
	ck_assert_uint_eq(c->burst_size, 1);
	ck_assert(c->by_consumer);
	ck_assert_str_eq(c->consumer_header, "X-Token");
}
END_TEST

static Suite *ratelimit_suite(void)
{
	Suite *s = suite_create("ratelimit");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_burst);
	tcase_add_test(tc, test_refill);
	tcase_add_test(tc, test_refill_after_long_idle_at_high_rate);
	tcase_add_test(tc, test_slow_rate_retry_after);
	tcase_add_test(tc, test_retry_after_very_slow_rate_capped);
	tcase_add_test(tc, test_buckets_per_client_and_route);
	tcase_add_test(tc, test_consumer_key);
	tcase_add_test(tc, test_consumer_header_named);
	tcase_add_test(tc, test_rate_headers);
	tcase_add_test(tc, test_consumer_from_auth);
	tcase_add_test(tc, test_config_errors);
	tcase_add_test(tc, test_config_defaults);
	suite_add_tcase(s, tc);
	return s;
}

SW_TEST_SUITE(ratelimit_suite);
