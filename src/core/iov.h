/* SPDX-License-Identifier: MIT */
/* iov.h - iovec arrays: their size, and advancing past bytes a partial write sent. */
#ifndef SW_CORE_IOV_H
#define SW_CORE_IOV_H

#include <stdbool.h>
#include <string.h>
#include <sys/uio.h>

/* The bytes iov[0..cnt) holds. */
static inline size_t sw_iov_total(const struct iovec *iov, int cnt)
{
	size_t n = 0;

	for (int i = 0; i < cnt; i++)
		n += iov[i].iov_len;
	return n;
}

/*
 * Drops the n bytes a write took from the front of iov[0..*cnt), moving
 * the rest to the front.  True when nothing is left to write.
 */
static inline bool sw_iov_advance(struct iovec *iov, int *cnt, size_t n)
{
	int skip = 0;

	while (skip < *cnt && n >= iov[skip].iov_len)
		n -= iov[skip++].iov_len;
	if (skip) {
		memmove(iov, iov + skip, (size_t)(*cnt - skip) * sizeof(*iov));
		*cnt -= skip;
	}
	if (*cnt) {
		iov[0].iov_base = (char *)iov[0].iov_base + n;
		iov[0].iov_len -= n;
	}
	return *cnt == 0;
}

#endif
