/* SPDX-License-Identifier: MIT */
/* fields.h - HTTP/2 and HTTP/3 fields: the request head taken in and finished, response field lists built. */
#ifndef SW_HTTP_FIELDS_H
#define SW_HTTP_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "http/exchange.h"
#include "http/stream.h"

/*
 * One field of the request head, name and value in library buffers the
 * library has checked (a lower-case token name, a value without control
 * characters, pseudo-headers first and once).  Past the count or byte
 * limits the rest is dropped and the request is answered 431; the library
 * keeps decoding so HPACK/QPACK stay in step.
 */
void sw_fields_take(struct sw_stream *st, struct sw_str name, void *name_buf,
		    struct sw_str value, void *value_buf);
/*
 * Fills in what HTTP/1.1 gets from its request line (version 20 or 30);
 * 0, or the status to refuse the request with.
 */
int sw_fields_finish(struct sw_request *req, int version, uint64_t max_body);

/* A response head for the library to copy: at most its array, names lower-cased here. */
#define SW_FIELDS_MAX (SW_RESPONSE_MAX_HEADERS + 5)
#define SW_FIELDS_NAMES 4096

struct sw_field_list {
	struct sw_str name[SW_FIELDS_MAX], value[SW_FIELDS_MAX];
	size_t n;
	size_t bytes;                   /* names + values, for the exchange's byte count */
	char status[3];
	char clen[24];
	char names[SW_FIELDS_NAMES];
	size_t names_len;
};

/*
 * :status, date, server (when on), the handler's fields lower-cased minus
 * connection-specific ones, content-length when known, and x-request-id
 * last (a value never seen twice: the codec may keep it out of its table).
 */
void sw_fields_response(struct sw_field_list *l, const struct sw_exchange *x, bool server_header);
/* :status and the fields of a 1xx response; false for a status that is not 1xx. */
bool sw_fields_interim(struct sw_field_list *l, int status, const struct sw_header *fields,
		       unsigned count);

#endif
