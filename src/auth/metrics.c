/* SPDX-License-Identifier: MIT */
/* metrics.c - swerver_auth_failures_total: rows in the shared labelled-counter table. */
#include <config.h>

#include <stdio.h>
#include <string.h>
#include "auth/metrics.h"
#include "core/config.h"
#include "core/shm.h"
#include "http/context.h"
#include "http/exchange.h"
#include "proxy/config.h"   /* x->route: the label is its path_prefix */

#define FAMILY "swerver_auth_failures_total"

/* A label value escaped for the text format (backslash, quote, newline); false when it did not fit. */
static bool put_value(char *out, size_t size, size_t *n, const char *v)
{
	for (; *v; v++) {
		if (*n + 3 >= size)
			return false;
		if (*v == '\\' || *v == '"' || *v == '\n')
			out[(*n)++] = '\\';
		out[(*n)++] = *v == '\n' ? 'n' : *v;
	}
	out[*n] = '\0';
	return true;
}

static bool put_label(char *out, size_t size, size_t *n, const char *name, const char *v)
{
	int k = snprintf(out + *n, size - *n, "%s%s=\"", *n ? "," : "", name);

	if (k < 0 || (size_t)k >= size - *n)
		return false;
	*n += (size_t)k;
	if (!put_value(out, size, n, v) || *n + 2 >= size)
		return false;
	out[(*n)++] = '"';
	out[*n] = '\0';
	return true;
}

void sw_auth_metrics_failure(struct sw_exchange *x, const char *method, const char *reason)
{
	const char *route = x->route && x->route->path_prefix ? x->route->path_prefix : "";
	struct sw_lcounter_slot *c;
	char labels[sizeof(c->labels)];
	size_t n = 0;

	/* The reason and method come from our own tables; a route too long for the row is cut. */
	if (!put_label(labels, sizeof(labels), &n, "method", method) ||
	    !put_label(labels, sizeof(labels), &n, "reason", reason))
		return;
	char with_route[sizeof(labels)];
	size_t m = 0;
	char cut[128];
	snprintf(cut, sizeof(cut), "%s", route);
	if (!put_label(with_route, sizeof(with_route), &m, "route", cut) || m + 1 + n >= sizeof(with_route))
		return;
	snprintf(with_route + m, sizeof(with_route) - m, ",%s", labels);
	c = sw_lcounter(x->ctx->shm, FAMILY, with_route);
	if (c)
		__atomic_add_fetch(&c->value, 1, __ATOMIC_RELAXED);
}

size_t sw_auth_metrics_emit(const struct sw_shm *shm, char *buf, size_t size)
{
	size_t len = 0;
	int k;

	k = snprintf(buf, size, "# HELP " FAMILY " Requests refused by routes[].auth.\n# TYPE " FAMILY
		     " counter\n");
	len += (size_t)k;
	for (unsigned i = 0; i < SW_LCOUNTER_SLOTS; i++) {
		const struct sw_lcounter_slot *c = &shm->lcounters[i];
		if (!__atomic_load_n(&c->ready, __ATOMIC_ACQUIRE) || strcmp(c->family, FAMILY))
			continue;
		k = snprintf(buf ? buf + SW_MIN(len, size) : NULL, buf && len < size ? size - len : 0,
			     FAMILY "{%s} %llu\n", c->labels,
			     (unsigned long long)__atomic_load_n(&c->value, __ATOMIC_RELAXED));
		len += (size_t)k;
	}
	return len;
}
