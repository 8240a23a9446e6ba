/* SPDX-License-Identifier: MIT */
/*
 * fuzz_config.c - libFuzzer target for the config reader: JSON text
 * through sw_config_parse_partial and sw_config_parse (src/core/config.c,
 * config_check.c), what `swerver -t`, start-up, SIGHUP and the admin API
 * all use.  The input is the file's text, as read.
 *
 * Checked: both entry points agree on accepting; an accepted config has
 * no error, converts to JSON, and that JSON parses again and converts to
 * the same text (what the admin API writes back is what was read); a
 * refused one has at least one error, each naming the file; a private
 * copy (what the proxy's state and a reload keep) converts to the same
 * text too.  ASan and UBSan watch the rest.
 */
#include <config.h>

#define FUZZ_NAME "fuzz_config"
#include "fuzz_common.h"
#include <string.h>
#include "core/config.h"
#include "core/diag.h"

static const char source[] = "fuzz.json";

/* Every message names the file it is about ("fuzz.json: key: why", "fuzz.json:1:2: why"). */
static void check_messages(const struct sw_diag *d)
{
	for (size_t i = 0; i < d->count; i++)
		CHECK(d->entries[i].text && strncmp(d->entries[i].text, source, sizeof(source) - 1) == 0 &&
		      d->entries[i].text[sizeof(source) - 1] == ':',
		      "message %zu does not name the file: \"%s\"", i,
		      d->entries[i].text ? d->entries[i].text : "(null)");
}

/* The config's JSON, which must parse again to the same JSON. */
static char *round_trip(const struct sw_config *cfg)
{
	struct sw_config again, copy;
	struct sw_diag d;
	char *text = sw_config_to_json(cfg, false), *text2;

	CHECK(text != NULL, "an accepted config does not convert to JSON");
	sw_diag_init(&d, source);
	CHECK(sw_config_parse(&again, text, strlen(text), &d) == SW_OK,
	      "its own JSON is refused: %s\n%s",
	      sw_diag_first_error(&d) ? sw_diag_first_error(&d) : "?", text);
	sw_diag_deinit(&d);
	text2 = sw_config_to_json(&again, false);
	CHECK(text2 && strcmp(text, text2) == 0, "read back, it converts differently:\n%s\n---\n%s",
	      text, text2 ? text2 : "(null)");
	free(text2);
	sw_config_deinit(&again);
	sw_config_copy(&copy, cfg);
	text2 = sw_config_to_json(&copy, false);
	CHECK(text2 && strcmp(text, text2) == 0, "a copy converts differently:\n%s\n---\n%s", text,
	      text2 ? text2 : "(null)");
	free(text2);
	sw_config_deinit(&copy);
	return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sw_config cfg, strict;
	struct sw_diag d, d2;
	bool usable = false;
	int rc, rc2;

	sw_diag_init(&d, source);
	rc = sw_config_parse_partial(&cfg, (const char *)data, size, &d, &usable);
	check_messages(&d);
	CHECK((rc == SW_OK) == (d.errors == 0), "returned %d with %zu error(s)", rc, d.errors);
	CHECK(rc != SW_OK || usable, "accepted but not usable");

	sw_diag_init(&d2, source);
	rc2 = sw_config_parse(&strict, (const char *)data, size, &d2);
	CHECK(rc == rc2, "parse_partial says %d, parse %d (%s)", rc, rc2,
	      sw_diag_first_error(&d2) ? sw_diag_first_error(&d2) : "no error");
	CHECK(d.errors == d2.errors, "parse_partial found %zu error(s), parse %zu", d.errors,
	      d2.errors);
	if (getenv("FUZZ_CONFIG_TRACE"))   /* what a seed reaches: fuzz/fuzz_config FILE */
		fprintf(stderr, "fuzz_config: %s\n", rc == SW_OK ? "accepted" :
			sw_diag_first_error(&d) ? sw_diag_first_error(&d) : "refused");
	if (rc == SW_OK) {
		free(round_trip(&cfg));
		sw_config_deinit(&strict);
	}
	if (usable)
		sw_config_deinit(&cfg);
	sw_diag_deinit(&d);
	sw_diag_deinit(&d2);
	return 0;
}
