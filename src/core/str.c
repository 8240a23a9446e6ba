/* str.c - comparisons on sw_str views. */
#include <config.h>

#include <string.h>
#include <strings.h>
#include "core/str.h"

bool sw_str_eq(struct sw_str s, const char *lit)
{
	return strlen(lit) == s.len && memcmp(s.p, lit, s.len) == 0;
}

bool sw_str_ieq(struct sw_str s, const char *lit)
{
	return strlen(lit) == s.len && strncasecmp(s.p, lit, s.len) == 0;
}
