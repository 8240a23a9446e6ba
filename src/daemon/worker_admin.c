/* SPDX-License-Identifier: MIT */
/* worker_admin.c - a worker's side of admin changes: ask the master, answer when it has. */
#include <config.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/diag.h"
#include "core/log.h"
#include "daemon/cli.h"
#include "daemon/control.h"
#include "daemon/worker.h"
#include "admin/admin.h"
#include "http/exchange.h"


/* One admin request waiting for the master's answer. */
struct sw_admin_wait {
	struct sw_admin_wait *next;
	uint32_t seq;
	struct sw_exchange *x;
	sw_admin_done_fn done;
};

static void unlink_wait(struct sw_worker *w, struct sw_admin_wait *a)
{
	struct sw_admin_wait **pp = &w->admin_waits;

	while (*pp && *pp != a)
		pp = &(*pp)->next;
	if (*pp)
		*pp = a->next;
}

/* The client left before the answer: forget it (the change still happens). */
static void wait_abort(struct sw_exchange *x)
{
	struct sw_admin_wait *a = x->handler_data;

	unlink_wait(x->ctx->hooks.owner, a);
	free(a);
}

void sw_worker_admin_result(struct sw_worker *w, const char *payload)
{
	unsigned seq = 0;
	int status = 500, used = 0;
	struct sw_admin_wait *a;

	if (sscanf(payload, "%u %d %n", &seq, &status, &used) < 2)
		return;
	for (a = w->admin_waits; a && a->seq != seq; a = a->next)
		;
	if (!a)
		return;
	unlink_wait(w, a);
	a->x->on_abort = NULL;
	a->x->handler_data = NULL;
	a->done(a->x, status, payload + used);
	free(a);
}

/* ---- single process: this process is the master ---- */

static void single_config(struct sw_worker *w, struct sw_exchange *x, enum sw_admin_op op,
			  const char *arg, sw_admin_done_fn done)
{
	struct sw_config next;
	struct sw_diag d;
	char out[256], *message = NULL;
	int status = 0;
	char *json = sw_admin_edit(w->ctx.cfg, op, arg, &status, &message);

	if (!json) {
		done(x, status, message ? message : "invalid change");
		free(message);
		return;
	}
	sw_diag_init(&d, "admin request");
	if (sw_config_parse(&next, json, strlen(json), &d) != SW_OK) {
		done(x, 400, sw_diag_first_error(&d) ? sw_diag_first_error(&d) : "invalid");
		sw_diag_deinit(&d);
		free(json);
		return;
	}
	sw_diag_deinit(&d);
	free(json);
	sw_config_stamp_files(&next);
	if (sw_worker_reload_single(w, &next, out, sizeof(out)) != SW_OK)
		done(x, 400, out);   /* as the master answers a change it cannot apply */
	else
		done(x, 200, out);
}

static void single(struct sw_worker *w, struct sw_exchange *x, enum sw_admin_op op,
		   const char *arg, sw_admin_done_fn done)
{
	char out[256];

	switch (op) {
	default:
		single_config(w, x, op, arg, done);
		break;
	case SW_ADMIN_OP_RELOAD:
		if (sw_worker_reload_single(w, NULL, out, sizeof(out)) != SW_OK)
			done(x, 400, out);
		else
			done(x, 200, out);
		break;
	case SW_ADMIN_OP_UPGRADE:
		done(x, 409, "a binary upgrade needs a master process: server.workers must be "
		     "more than 1");
		break;
	case SW_ADMIN_OP_PERSIST:
		if (!w->cli || !w->cli->config_path)
			done(x, 409, "running on built-in defaults: there is no config file to persist to");
		else if (sw_config_persist(w->ctx.cfg, w->cli->config_path, out, sizeof(out)) != SW_OK)
			done(x, 500, out);
		else
			done(x, 200, out);
		break;
	}
}

/* The admin unit's request hook (struct sw_admin_hooks). */
static void admin_request(void *owner, struct sw_exchange *x, enum sw_admin_op op,
			  const char *arg, sw_admin_done_fn done)
{
	struct sw_worker *w = owner;
	struct sw_admin_wait *a;
	char *msg;
	int n;

	if (w->ctl_fd < 0) {
		single(w, x, op, arg, done);
		return;
	}
	a = sw_calloc(1, sizeof(*a));
	a->seq = ++w->admin_seq;
	a->x = x;
	a->done = done;
	n = asprintf(&msg, "%u %s\n%s", a->seq, sw_admin_op_name(op), arg ? arg : "");
	if (n < 0 || sw_ctl_send(w->ctl_fd, SW_CTL_ADMIN, msg, (size_t)n) != SW_OK) {
		if (n >= 0)
			free(msg);
		free(a);
		done(x, 503, "the master cannot be reached");
		return;
	}
	free(msg);
	a->next = w->admin_waits;
	w->admin_waits = a;
	x->handler_data = a;
	x->on_abort = wait_abort;
}

static const struct sw_admin_hooks admin_hooks = {
	.request = admin_request,
};

void sw_worker_admin_init(struct sw_worker *w)
{
	w->ctx.hooks.admin_handle = sw_admin_handle;
	w->ctx.hooks.admin = &admin_hooks;
}
