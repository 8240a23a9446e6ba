/* SPDX-License-Identifier: MIT */
/*
 * fake_router.c - the handlers of fake_router.h, and the access log and
 * metrics hooks through which the codecs report a finished exchange.
 */
#include <config.h>

#include <string.h>
#define FUZZ_NAME "fake_router"
#include "fuzz_common.h"
#include "fake_router.h"
#include "http/access_log.h"
#include "http/exchange.h"
#include "http/metrics.h"
#include "http/router.h"

#define MAX_JOBS 4096

/* One handler's state per exchange: a side table keyed by the exchange. */
struct job {
	struct sw_exchange *x;
	int piece;
	uint64_t body;
	bool live;
};
static struct job jobs[MAX_JOBS];
static size_t njobs;
static uint64_t finished;
static const struct sw_limits_cfg *lim;
static char big[40000];

void fuzz_router_reset(const struct sw_limits_cfg *limits)
{
	lim = limits;
	njobs = 0;
	finished = 0;
}

size_t fuzz_router_handled(void)
{
	return njobs;
}

void fuzz_router_check(uint64_t begun)
{
	CHECK(finished == begun, "%llu exchanges begun, %llu finished",
	      (unsigned long long)begun, (unsigned long long)finished);
	for (size_t i = 0; i < njobs; i++)
		CHECK(!jobs[i].live, "exchange %zu neither finished nor aborted", i);
}

static struct job *job_of(struct sw_exchange *x)
{
	for (size_t i = njobs; i-- > 0;)
		if (jobs[i].x == x)
			return &jobs[i];
	return NULL;
}

/* A callback for x: its job must still be live. */
static struct job *job_live(struct sw_exchange *x, const char *what)
{
	struct job *j = job_of(x);

	CHECK(j && j->live, "%s callback for an exchange its handler is done with", what);
	return j;
}

void sw_access_log_write(const struct sw_exchange *x)
{
	(void)x;
}

void sw_metrics_observe(const struct sw_exchange *x)
{
	struct job *j = job_of((struct sw_exchange *)x);

	finished++;
	if (j)
		j->live = false;
}

static void respond_memory(struct sw_exchange *x, const char *p, size_t n)
{
	x->resp.status = 200;
	x->resp.body_kind = SW_BODY_MEMORY;
	x->resp.body = (struct sw_str){ p, n };
	x->resp.content_length = n;
	x->ops->respond(x);
}

static void on_piece_sent(struct sw_exchange *x, int res)
{
	static const char *pieces[] = { "abc", "", "defgh" };
	struct job *j = job_live(x, "sent");

	if (res < 0 || j->piece == 3)
		return;
	j->piece++;
	sw_exchange_write_body(x, pieces[j->piece - 1], strlen(pieces[j->piece - 1]),
			       j->piece == 3, on_piece_sent);
}

static void on_body(struct sw_exchange *x, const char *p, ssize_t n, bool last)
{
	struct job *j = job_live(x, "body");
	char *out;
	int len;

	(void)p;
	if (n < 0) {
		sw_exchange_error(x, 400);
		return;
	}
	j->body += (uint64_t)n;
	CHECK(j->body <= lim->max_body_bytes, "%llu body bytes, limit %llu",
	      (unsigned long long)j->body, (unsigned long long)lim->max_body_bytes);
	if (!last) {
		sw_exchange_read_body(x, on_body);
		return;
	}
	out = sw_exchange_buffer(x, 32);
	len = snprintf(out, 32, "%llu\n", (unsigned long long)j->body);
	respond_memory(x, out, (size_t)len);
}

static void on_held_abort(struct sw_exchange *x)
{
	job_live(x, "abort")->live = false;
}

void sw_router_dispatch(struct sw_exchange *x)
{
	struct sw_str path = x->req.path;
	char kind = path.len > 1 ? path.p[1] : '/';

	if (njobs == MAX_JOBS) {
		sw_exchange_error(x, 503);
		return;
	}
	jobs[njobs++] = (struct job){ .x = x, .live = true };
	switch (kind) {
	case 'e':
		sw_exchange_error(x, 404);
		break;
	case 'm':
		respond_memory(x, big, sizeof(big));
		break;
	case 's':
		x->resp.status = 200;
		x->resp.body_kind = SW_BODY_STREAM;
		x->resp.content_length = SW_LENGTH_UNKNOWN;
		x->ops->respond(x);
		on_piece_sent(x, 0);
		break;
	case 'b':
		sw_exchange_read_body(x, on_body);
		break;
	case 'h':
		x->on_abort = on_held_abort;
		break;
	default:
		respond_memory(x, "ok\n", 3);
		break;
	}
}

/*
 * The policy chain's hooks in the codecs and the exchange: this router
 * runs no chain, so x->policy stays NULL and they are never reached.
 */
bool sw_policy_read_body(struct sw_exchange *x, sw_body_cb cb)
{
	(void)x;
	(void)cb;
	CHECK(false, "policy hook without a policy");
	return false;
}

void sw_policy_respond(struct sw_exchange *x)
{
	(void)x;
	CHECK(false, "policy hook without a policy");
}

void sw_policy_finish(struct sw_exchange *x)
{
	(void)x;
	CHECK(false, "policy hook without a policy");
}
