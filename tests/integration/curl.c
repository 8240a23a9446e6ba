/* SPDX-License-Identifier: MIT */
/* curl.c - the curl CLI as an independent client (curl.h). */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "curl.h"
#include "harness.h"
#include "headers.h"

void it_curl(struct it_cres *r, const char *args, const char *url)
{
	char hf[IT_PATH_MAX], bf[IT_PATH_MAX];
	char *o;

	memset(r, 0, sizeof(*r));
	it_path(hf, "curl.head");
	it_path(bf, "curl.body");
	unlink(hf);
	unlink(bf);
	o = it_run(&r->rc, "timeout -k 1 25 curl -s --max-time 20 -D %s -o %s "
		   "-w '%%{http_code} %%{http_version} %%{size_download}' %s '%s'", hf, bf, args, url);
	if (sscanf(o, "%d %7s %ld", &r->code, r->version, &r->size) != 3)
		r->code = 0;
	free(o);
	r->head = it_read_file(hf);
	r->body = it_read_file(bf);
}

void it_cres_free(struct it_cres *r)
{
	free(r->head);
	free(r->body);
	r->head = r->body = NULL;
}

const char *it_cres_header(const struct it_cres *r, const char *name)
{
	static char val[1024];

	return it_header_final(r->head, name, val, sizeof(val)) ? val : NULL;
}
