/* SPDX-License-Identifier: MIT */
/*
 * fuzz_jwt.c - libFuzzer target for a bearer token: sw_jwt_verify
 * (src/auth/jwt_verify.c: structure, header, signature with jws.c, claims)
 * against a config with an HMAC secret and a JWKS of RSA, P-256, Ed25519
 * and oct keys (jwks.c), the RFC 7515 and 8037 example keys, so seeds made
 * of their example tokens reach the claim checks.  The input is the token.
 *
 * Checked: success and failure are exclusive (an identity xor a reason);
 * an accepted token's consumer is non-empty and it and every forwarded
 * claim are free of control characters (they become header values); the
 * cached verification answers as the uncached one did; base64url decoding
 * is canonical (what decodes encodes back to the same text).  ASan and
 * UBSan watch the rest.
 */
#include <config.h>

#define FUZZ_NAME "fuzz_jwt"
#include "fuzz_common.h"
#include <errno.h>
#include <string.h>
#include <json-c/json.h>
#include "auth/jwt.h"
#include "auth/jwt_impl.h"
#include "core/config.h"
#include "core/diag.h"

#define NOW 1300819000   /* before the RFC tokens' exp */

static const char jwks[] = "{\"keys\":["
	"{\"kty\":\"oct\",\"kid\":\"hs\",\"k\":\"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow\"},"
	"{\"kty\":\"RSA\",\"e\":\"AQAB\",\"n\":\"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2m"
	"JPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e"
	"-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs"
	"91kzk2PAcDTW9gb54h4FRWyuXpoQ\"},"
	"{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
	"\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"},"
	"{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}]}";

/* The JWKS comes from memory: the target reads no files. */
int sw_config_read_file(const char *path, size_t max, char **out, size_t *out_len, unsigned *mode)
{
	(void)max;
	(void)mode;
	if (strcmp(path, "mem:jwks") != 0)
		return ENOENT;
	*out = strdup(jwks);
	*out_len = strlen(jwks);
	return 0;
}

static struct sw_jwt *config(int cache)
{
	char text[512];
	struct json_object *conf;
	struct sw_diag d;
	struct sw_jwt *j;

	snprintf(text, sizeof(text), "{\"keys\":[{\"jwks_file\":\"mem:jwks\",\"algorithms\":[\"HS256\",\"RS256\","
		 "\"PS256\",\"ES256\",\"EdDSA\"]},{\"secret\":\"0123456789abcdef0123456789abcdef0123456789abcdef\","
		 "\"algorithms\":[\"HS384\"],\"kid\":\"s\"}],\"consumer_claim\":\"iss\",\"required_claims\":[],"
		 "\"claims_to_headers\":{\"http://example.com/is_root\":\"X-Root\",\"sub\":\"X-Sub\"},"
		 "\"cache_size\":%d}", cache);
	conf = json_tokener_parse(text);
	sw_diag_init(&d, "fuzz");
	j = sw_jwt_compile(conf, "auth.jwt", &d);
	CHECK(j != NULL, "the fuzz config does not compile: %s", sw_diag_first_error(&d));
	sw_diag_deinit(&d);
	json_object_put(conf);
	return j;
}

static void clean(const char *s, const char *what)
{
	for (const char *c = s; *c; c++)
		CHECK((unsigned char)*c >= 0x20 && *c != 0x7f, "%s holds a control character", what);
}

static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void check_b64(const char *in, size_t len)
{
	unsigned char out[SW_JWT_MAX_TOKEN];
	ssize_t n;
	size_t o = 0;

	if (len > SW_JWT_MAX_TOKEN)
		return;
	n = sw_b64url_decode(in, len, out);
	if (n < 0)
		return;
	/* encode back: must give the same characters */
	for (ssize_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)out[i] << 16 | (i + 1 < n ? (unsigned)out[i + 1] << 8 : 0) |
			     (i + 2 < n ? out[i + 2] : 0);
		size_t chars = i + 2 < n ? 4 : i + 1 < n ? 3 : 2;

		for (size_t k = 0; k < chars; k++, o++)
			CHECK(o < len && in[o] == abc[(v >> (18 - 6 * k)) & 63], "base64url not canonical at %zu", o);
	}
	CHECK(o == len, "base64url decoded %zu characters of %zu", o, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sw_jwt *cold, *warm;
	const char *tok = (const char *)data, *why = NULL, *why2 = NULL;
	struct sw_jwt_identity *id = NULL, *id2 = NULL;
	int64_t exp;
	int rc, rc2;

	if (!cold) {
		cold = config(0);
		warm = config(4);
	}
	check_b64(tok, size);
	rc = sw_jwt_verify_uncached(cold, tok, size, NOW, &id, &exp, &why);
	CHECK((rc == SW_OK) == (id != NULL) && (rc == SW_OK) == (why == NULL), "rc %d, id %p, reason %s",
	      rc, (void *)id, why ? why : "(none)");
	if (id) {
		CHECK(id->consumer && id->consumer[0], "an accepted token without a consumer");
		clean(id->consumer, "the consumer");
		for (unsigned i = 0; i < id->nvalues; i++)
			if (id->values[i])
				clean(id->values[i], "a claim header");
	}
	/* twice through the cache: a miss, then (for a token with exp) a hit */
	for (int i = 0; i < 2; i++) {
		rc2 = sw_jwt_verify(warm, tok, size, NOW, &id2, &why2);
		CHECK(rc2 == rc, "cached %d, uncached %d", rc2, rc);
		CHECK(!why2 == !why && (!why || strcmp(why, why2) == 0), "reasons %s and %s", why, why2);
		CHECK(!id2 == !id && (!id || strcmp(id->consumer, id2->consumer) == 0), "consumers differ");
		sw_jwt_identity_release(id2);
	}
	sw_jwt_identity_release(id);
	return 0;
}
