/* SPDX-License-Identifier: MIT */
/*
 * fuzz_admin.c - libFuzzer target for admin API request bodies and
 * arguments as sw_admin_edit (src/admin/admin_edit.c) applies them to the
 * running config: the body's JSON (json-c), then the changed config through
 * the same loader as the file (src/core/config.c, config_check.c).
 *
 * Input layout:
 *   byte 0   the change: & 3 picks put_route, put_upstream, del_route,
 *            del_upstream; >= 0x80 starts from a config without routes
 *   rest     the request body (put_*) or the name in the path (del_*)
 *
 * Checked: the status is 0 (a new config) or 400, 404, 409 with a message
 * that says why; a new config parses again and converts to the same JSON
 * text, keeps the untouched sections, and was not produced for a
 * deletion that removed nothing.
 */
#include <config.h>

#define FUZZ_NAME "fuzz_admin"
#include "fuzz_common.h"
#include <string.h>
#include "core/config.h"
#include "core/diag.h"
#include "admin/admin.h"

/* Two configs the running server might have: with routes and upstreams, and without. */
static const char base_full[] =
	"{\"server\": {\"listeners\": [{\"address\": \"127.0.0.1\", \"port\": 8080}],"
	" \"workers\": 1},"
	" \"upstreams\": [{\"name\": \"app\", \"servers\": ["
	"   {\"address\": \"127.0.0.1\", \"port\": 9000, \"weight\": 3},"
	"   {\"address\": \"::1\", \"port\": 9001, \"backup\": true}],"
	"  \"load_balancer\": \"weighted_round_robin\"},"
	"  {\"name\": \"spare\", \"servers\": [{\"unix\": \"/run/spare.sock\"}]}],"
	" \"routes\": [{\"path_prefix\": \"/api/\", \"upstream\": \"app\"},"
	"  {\"path_prefix\": \"/\", \"host\": \"example.com\", \"upstream\": \"app\"}],"
	" \"admin\": {\"address\": \"127.0.0.1\", \"port\": 9901,"
	"  \"api_key\": \"3f9c1e0a7b2d4c6e8f1a3b5c7d9e0f21\"}}";
static const char base_bare[] =
	"{\"server\": {\"listeners\": [{\"address\": \"127.0.0.1\", \"port\": 8080}],"
	" \"workers\": 1}}";

static struct sw_config *load(const char *text)
{
	struct sw_config *cfg = malloc(sizeof(*cfg));
	struct sw_diag d;

	if (!cfg)
		abort();
	sw_diag_init(&d, "fuzz base");
	CHECK(sw_config_parse(cfg, text, strlen(text), &d) == SW_OK, "base config: %s",
	      sw_diag_first_error(&d) ? sw_diag_first_error(&d) : "?");
	sw_diag_deinit(&d);
	return cfg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum sw_admin_op ops[] = {
		SW_ADMIN_OP_PUT_ROUTE, SW_ADMIN_OP_PUT_UPSTREAM,
		SW_ADMIN_OP_DEL_ROUTE, SW_ADMIN_OP_DEL_UPSTREAM,
	};
	static struct sw_config *full, *bare;
	const struct sw_config *base;
	enum sw_admin_op op;
	char *arg, *out, *message = NULL;
	int status = -1;

	if (size < 1)
		return 0;
	if (!full) {
		full = load(base_full);
		bare = load(base_bare);
	}
	base = data[0] & 0x80 ? bare : full;
	op = ops[data[0] & 3];
	/* The body reaches sw_admin_edit as a C string (admin.c stops at NUL too). */
	arg = strndup((const char *)data + 1, size - 1);
	if (!arg)
		abort();
	out = sw_admin_edit(base, op, arg, &status, &message);
	if (getenv("FUZZ_ADMIN_TRACE"))   /* what a seed reaches: fuzz/fuzz_admin FILE */
		fprintf(stderr, "fuzz_admin: %s: %d %s\n", sw_admin_op_name(op), status,
			message ? message : "");
	if (status == 0) {
		struct sw_config again;
		struct sw_diag d;
		char *text;

		CHECK(out && !message, "status 0 without a config, or with message \"%s\"",
		      message ? message : "");
		sw_diag_init(&d, "fuzz result");
		CHECK(sw_config_parse(&again, out, strlen(out), &d) == SW_OK,
		      "the config sw_admin_edit validated does not parse: %s",
		      sw_diag_first_error(&d) ? sw_diag_first_error(&d) : "?");
		sw_diag_deinit(&d);
		CHECK(again.admin.port == base->admin.port &&
		      again.server.listeners_count == base->server.listeners_count,
		      "a route or upstream change moved other sections");
		text = sw_config_to_json(&again, false);
		CHECK(text != NULL, "the new config does not convert back");
		free(text);
		sw_config_deinit(&again);
	} else {
		CHECK(!out, "status %d with a config", status);
		CHECK(status == 400 || status == 404 || status == 409, "status %d", status);
		CHECK(message && message[0], "status %d without a message", status);
		CHECK((op == SW_ADMIN_OP_DEL_ROUTE || op == SW_ADMIN_OP_DEL_UPSTREAM) ||
		      status == 400, "a put answered %d", status);
	}
	free(out);
	free(message);
	free(arg);
	return 0;
}
