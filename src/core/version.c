/* SPDX-License-Identifier: MIT */
/* version.c - build facts: version, compiler, switches, library versions. */
#include <config.h>

#include <string.h>
#include <json-c/json_c_version.h>
#include "core/module.h"
#include "core/version.h"

const char *sw_version_string(void)
{
	return PACKAGE_NAME "/" PACKAGE_VERSION;
}

void sw_version_features(char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (const struct sw_module *const *m = sw_modules; *m; m++) {
		int n = snprintf(buf + used, size - used, "%s%s",
				 used ? " " : "", (*m)->name);
		if (n < 0 || (size_t)n >= size - used)
			break;
		used += (size_t)n;
	}
	if (used == 0)
		snprintf(buf, size, "(none)");
}

void sw_version_print(FILE *out)
{
	char line[256];

	fprintf(out, "swerver version: %s\n", sw_version_string());
	fprintf(out, "built by: %s\n", SW_CC_VERSION);
	fprintf(out, "configure arguments: %s\n", SW_CONFIGURE_SWITCHES);
	sw_version_features(line, sizeof(line));
	fprintf(out, "features: %s\n", line);
	fprintf(out, "libraries:\n");
	fprintf(out, "  json-c %s\n", json_c_version());
	for (const struct sw_module *const *m = sw_modules; *m; m++) {
		if (!(*m)->versions)
			continue;
		line[0] = '\0';
		(*m)->versions(line, sizeof(line));
		if (line[0])
			fprintf(out, "  %s (%s)\n", line, (*m)->name);
	}
}
