/* SPDX-License-Identifier: MIT */
/* version.h - what `swerver -V` prints and start-up logs. */
#ifndef SW_CORE_VERSION_H
#define SW_CORE_VERSION_H

#include <stdio.h>

/* "swerver/0.1.0" */
const char *sw_version_string(void);
/* Version, compiler, configure switches and every linked library. */
void sw_version_print(FILE *out);
/* "tls http2 http3 proxy io_uring systemd" (the enabled modules). */
void sw_version_features(char *buf, size_t size);

#endif
