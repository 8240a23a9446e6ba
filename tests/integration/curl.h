/* SPDX-License-Identifier: MIT */
/* curl.h - the curl CLI as an independent client: status, version, head and body kept. */
#ifndef SW_IT_CURL_H
#define SW_IT_CURL_H

struct it_cres {
	int code;                     /* %{http_code}, 0 when curl failed */
	char version[8];              /* %{http_version}: "2", "1.1" */
	long size;                    /* %{size_download} */
	char *head;                   /* the response head(s) curl dumped */
	char *body;
	int rc;                       /* curl's exit status */
};

/*
 * curl -s `args` url, capped (--max-time 20, and `timeout` around it so a
 * hung client cannot hang the suite); head and body read back from files
 * in the test's temp dir.
 */
void it_curl(struct it_cres *r, const char *args, const char *url);
void it_cres_free(struct it_cres *r);
/* A field of the final response's head (after any 1xx), static buffer; NULL if absent. */
const char *it_cres_header(const struct it_cres *r, const char *name);

#endif
