/* SPDX-License-Identifier: MIT */
/* master_admin.c - the master's side of the admin API: workers' ADMIN requests and their waits. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/diag.h"
#include "core/log.h"
#include "core/shm.h"
#include "daemon/control.h"
#include "daemon/master_impl.h"
#include "daemon/worker.h"
#include "admin/admin.h"

static void admin_reply(struct wproc *p, unsigned seq, int status, const char *text)
{
	char msg[512];
	int n = snprintf(msg, sizeof(msg), "%u %d %s", seq, status, text);

	sw_ctl_send(p->ctl_fd, SW_CTL_ADMIN_RESULT, msg, (size_t)SW_MIN(n, (int)sizeof(msg) - 1));
}

/* A refusal says why: "refused: ..." and "failed: ..." drop their prefix. */
const char *sw_master_outcome_reason(const char *outcome)
{
	const char *space = strchr(outcome, ' ');

	return space ? space + 1 : outcome;
}

/* The reload the waiting requests started is over: they hear how it went. */
void sw_master_admin_settle(struct master *m, int status)
{
	const char *text = status == 200 ? m->shm->last_reload : sw_master_outcome_reason(m->shm->last_reload);

	for (unsigned i = 0; i < m->nadmin_waits; i++)
		admin_reply(m->admin_waits[i].p, m->admin_waits[i].seq, status, text);
	m->nadmin_waits = 0;
}

void sw_master_admin_forget(struct master *m, const struct wproc *p)
{
	for (unsigned i = 0; i < m->nadmin_waits;)
		if (m->admin_waits[i].p == p)
			m->admin_waits[i] = m->admin_waits[--m->nadmin_waits];
		else
			i++;
}

/* A change made to the master's own config, so changes in a row all stay. */
static int admin_change(struct master *m, enum sw_admin_op op, const char *arg, int *status)
{
	struct sw_config next;
	struct sw_diag d;
	char *message = NULL;
	char *json = sw_admin_edit(&m->cfg, op, arg, status, &message);

	if (!json) {
		sw_shm_set_outcome(m->shm, "refused: %s", message ? message : "invalid change");
		free(message);
		return FAILED;
	}
	*status = 400;
	sw_diag_init(&d, "admin request");
	if (sw_config_parse(&next, json, strlen(json), &d) != SW_OK) {
		sw_shm_set_outcome(m->shm, "failed: %s", sw_diag_first_error(&d) ?
				   sw_diag_first_error(&d) : "invalid");
		sw_diag_deinit(&d);
		free(json);
		return FAILED;
	}
	sw_diag_deinit(&d);
	free(json);
	sw_config_stamp_files(&next);
	sw_info("applying a configuration change from the admin API");
	return sw_master_apply_next(m, &next);
}

void sw_master_admin_request(struct master *m, struct wproc *p, const char *payload)
{
	unsigned seq = 0;
	char name[16] = "";
	const char *body = strchr(payload, '\n');
	enum sw_admin_op op;
	char err[256];
	int rc, status = 400;

	if (sscanf(payload, "%u %15s", &seq, name) != 2 || !body)
		return;
	op = sw_admin_op_parse(name);
	if (op == SW_ADMIN_OPS) {
		admin_reply(p, seq, 400, "unknown admin operation");
		return;
	}
	if (op == SW_ADMIN_OP_PERSIST) {
		if (!m->cli->config_path)
			admin_reply(p, seq, 409, "running on built-in defaults: no config file to persist to");
		else if (sw_config_persist(&m->cfg, m->cli->config_path, err, sizeof(err)) != SW_OK)
			admin_reply(p, seq, 500, err);
		else
			admin_reply(p, seq, 200, err);
		return;
	}
	if (m->reloading || m->abandoning || m->nadmin_waits == SW_ARRAY_SIZE(m->admin_waits)) {
		admin_reply(p, seq, 503, "a reload is in progress; try again");
		return;
	}
	if (sw_upgrade_busy(&m->up)) {
		admin_reply(p, seq, 503, "a binary upgrade is in progress; try again");
		return;
	}
	if (op == SW_ADMIN_OP_UPGRADE)
		rc = sw_master_start_upgrade(m);
	else
		rc = op == SW_ADMIN_OP_RELOAD ? sw_master_reload(m) :
		     admin_change(m, op, body + 1, &status);
	if (rc == PENDING) {
		m->admin_waits[m->nadmin_waits].p = p;
		m->admin_waits[m->nadmin_waits++].seq = seq;
		return;
	}
	admin_reply(p, seq, rc == APPLIED ? 200 : status, rc == APPLIED ? m->shm->last_reload :
		    sw_master_outcome_reason(m->shm->last_reload));
}
