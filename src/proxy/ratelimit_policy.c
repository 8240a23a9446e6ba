/* SPDX-License-Identifier: MIT */
/* ratelimit_policy.c - routes[].rate_limit as a policy: its config and its place in the chain. */
#include <config.h>

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "core/diag.h"
#include "http/policy.h"
#include "proxy/proxy.h"

#define MAX_RPS 1000000000

static const char *const known[] = {
	"requests_per_second", "burst_size", "key", "consumer_header", "header", NULL
};

static bool get_rps(struct json_object *v, const char *path, struct sw_diag *d, double *out)
{
	bool num = json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double);
	double r = num ? json_object_get_double(v) : 0;

	if (!v) {
		sw_policy_conf_error(d, path, "requests_per_second", "required");
		return false;
	}
	if (!num || !isfinite(r) || !(r > 0) || r > MAX_RPS) {
		sw_policy_conf_error(d, path, "requests_per_second",
				     "must be a number > 0 and <= %d", MAX_RPS);
		return false;
	}
	*out = r;
	return true;
}

/* The loader's wording for an integer out of 1-UINT32_MAX. */
static bool get_burst(struct json_object *v, const char *path, struct sw_diag *d, uint32_t *out)
{
	int64_t n;

	if (!json_object_is_type(v, json_type_int)) {
		sw_policy_conf_error(d, path, "burst_size", "must be an integer 1-%" PRIu32, UINT32_MAX);
		return false;
	}
	n = json_object_get_int64(v);
	if (n < 1 || n > (int64_t)UINT32_MAX) {
		sw_policy_conf_error(d, path, "burst_size", "must be 1-%" PRIu32, UINT32_MAX);
		return false;
	}
	*out = (uint32_t)n;
	return true;
}

static bool get_key(struct json_object *v, const char *path, struct sw_diag *d, bool *consumer)
{
	const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";

	if (strcmp(s, "ip") && strcmp(s, "consumer")) {
		sw_policy_conf_error(d, path, "key", "must be one of \"ip\", \"consumer\"");
		return false;
	}
	*consumer = strcmp(s, "consumer") == 0;
	return true;
}

/* consumer_header (or its older name, header): a header field name. */
static bool get_header(struct json_object *v, const char *path, const char *key,
		      struct sw_diag *d, const char **out)
{
	const char *s;

	if (!json_object_is_type(v, json_type_string)) {
		sw_policy_conf_error(d, path, key, "must be a string");
		return false;
	}
	s = json_object_get_string(v);
	if (strlen(s) != (size_t)json_object_get_string_len(v)) {
		sw_policy_conf_error(d, path, key, "must not contain a NUL character");
		return false;
	}
	*out = s;
	return true;
}

/* The parts of conf other than requests_per_second; false after an error. */
static bool get_rest(struct json_object *conf, const char *path, struct sw_diag *d,
		     struct px_rate_conf *rl, const char **header)
{
	struct json_object *v;
	bool ok = true;

	if (json_object_object_get_ex(conf, "burst_size", &v))
		ok &= get_burst(v, path, d, &rl->burst_size);
	if (json_object_object_get_ex(conf, "key", &v))
		ok &= get_key(v, path, d, &rl->by_consumer);
	if (json_object_object_get_ex(conf, "header", &v))
		ok &= get_header(v, path, "header", d, header);
	if (json_object_object_get_ex(conf, "consumer_header", &v))
		ok &= get_header(v, path, "consumer_header", d, header);
	return ok;
}

static void *rate_compile(struct json_object *conf, const char *path, struct sw_diag *d)
{
	struct px_rate_conf rl = { .by_consumer = false };
	struct json_object *rps = NULL;
	const char *header = "X-API-Key";
	bool ok;

	if (!sw_policy_conf_object(conf, path, known, d))
		return NULL;
	json_object_object_get_ex(conf, "requests_per_second", &rps);
	ok = get_rps(rps, path, d, &rl.requests_per_second);
	/* burst_size defaults to the rate itself: one second's worth of requests. */
	rl.burst_size = ok && rl.requests_per_second >= 1 ? (uint32_t)rl.requests_per_second : 1;
	ok &= get_rest(conf, path, d, &rl, &header);
	if (ok && rl.by_consumer && !sw_str_is_token(header)) {
		sw_policy_conf_error(d, path, "consumer_header", "must be a valid header name");
		ok = false;
	}
	if (!ok)
		return NULL;
	struct px_rate_conf *out = sw_malloc(sizeof(*out));
	*out = rl;
	out->consumer_header = sw_strdup(header);
	return out;
}

static void rate_release(void *state)
{
	struct px_rate_conf *rl = state;

	free(rl->consumer_header);
	free(rl);
}

/* A token from the client's bucket, or 429; X-RateLimit-* on the answer either way. */
static enum sw_policy_verdict rate_request(struct sw_exchange *x, void *state)
{
	struct px_rate rate;

	if (!x->route)          /* only in a route's chain (SW_POLICY_ROUTE): never */
		return SW_POLICY_CONTINUE;
	if (!px_rate_allow(state, x->route, x, &rate)) {
		px_rate_headers(x, &rate, true);
		sw_exchange_error(x, 429);
		return SW_POLICY_DONE;
	}
	px_rate_headers(x, &rate, false);
	return SW_POLICY_CONTINUE;
}

const struct sw_policy px_policy_rate_limit = {
	.key = "rate_limit",
	.scopes = SW_POLICY_ROUTE,
	.order = SW_POLICY_ORDER_RATE_LIMIT,
	.compile = rate_compile,
	.release = rate_release,
	.request = rate_request,
};
