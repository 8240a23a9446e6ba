/* SPDX-License-Identifier: MIT */
/* test_jwt.c - JWT verification: the RFC 7515/7519/8037 vectors, every algorithm, claims, refusals, JWKS, the cache. */
#include <config.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <json-c/json.h>
#include "check_main.h"
#include "auth/jwt.h"
#include "auth/jwt_impl.h"
#include "core/diag.h"
#include "jwt_mint.h"

/* RFC 7515 A.1-A.3 share this payload: {"iss":"joe",\r\n "exp":1300819380,\r\n "http://example.com/is_root":true} */
#define RFC_PAYLOAD "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
#define RFC_NOW 1300819000   /* before their exp */

/* RFC 7515 A.1 (and RFC 7519 3.1, the same token): HS256. */
static const char a1_token[] = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9." RFC_PAYLOAD
	".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
static const char a1_jwks[] = "{\"keys\":[{\"kty\":\"oct\",\"k\":\"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T"
	"-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow\"}]}";

/* RFC 7515 A.2: RS256. */
static const char a2_token[] = "eyJhbGciOiJSUzI1NiJ9." RFC_PAYLOAD
	".cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9u"
	"JdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eS"
	"N9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5A"
	"XLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";
#define A2_N "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4" \
	"QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KX" \
	"BdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj" \
	"8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ"
static const char a2_jwks[] = "{\"keys\":[{\"kty\":\"RSA\",\"e\":\"AQAB\",\"n\":\"" A2_N "\"}]}";

/* RFC 7515 A.3: ES256. */
static const char a3_token[] = "eyJhbGciOiJFUzI1NiJ9." RFC_PAYLOAD
	".DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";
static const char a3_jwks[] = "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\","
	"\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\",\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}]}";

/* RFC 8037 A.4: EdDSA (Ed25519) over the payload "Example of Ed25519 signing", which is not JSON. */
static const char a4_token[] = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc"
	".hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";
static const char a4_jwk[] = "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}";

#define NOW 1800000000

static char dir[64];

static const char *file(const char *name)
{
	static char buf[4][128];
	static int next;
	char *b = buf[next++ % 4];

	snprintf(b, sizeof(buf[0]), "%s/%s", dir, name);
	return b;
}

static void write_file(const char *name, const char *text)
{
	FILE *f = fopen(file(name), "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static void setup(void)
{
	strcpy(dir, "/tmp/sw-jwt-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static char last_error[1024];

/* Compiles a config text (printf-style; DIR expands to the test's directory via %1$s). */
static struct sw_jwt *compile(const char *json)
{
	struct json_object *conf = json_tokener_parse(json);
	struct sw_diag d;
	struct sw_jwt *j;

	ck_assert_msg(conf != NULL, "bad test JSON: %s", json);
	sw_diag_init(&d, "test.json");
	j = sw_jwt_compile(conf, "routes[0].auth.jwt", &d);
	snprintf(last_error, sizeof(last_error), "%s", sw_diag_first_error(&d) ? sw_diag_first_error(&d) : "");
	sw_diag_deinit(&d);
	json_object_put(conf);
	return j;
}

static struct sw_jwt *compile_f(const char *fmt, ...) sw_printf(1, 2);
static struct sw_jwt *compile_f(const char *fmt, ...)
{
	char buf[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return compile(buf);
}

/* The reason a token fails ("" when it passes); the consumer in *consumer when asked. */
static const char *verify_at(struct sw_jwt *j, const char *tok, int64_t now, char *consumer)
{
	static char reason[64];
	struct sw_jwt_identity *id = NULL;
	const char *why = NULL;
	int64_t exp;

	if (sw_jwt_verify_uncached(j, tok, strlen(tok), now, &id, &exp, &why) == SW_OK) {
		ck_assert_ptr_nonnull(id);
		ck_assert_ptr_null(why);
		if (consumer)
			strcpy(consumer, id->consumer);
		sw_jwt_identity_release(id);
		return "";
	}
	ck_assert_ptr_null(id);
	ck_assert_ptr_nonnull(why);
	snprintf(reason, sizeof(reason), "%s", why);
	return reason;
}

static const char *verify(struct sw_jwt *j, const char *tok)
{
	return verify_at(j, tok, NOW, NULL);
}

/* A config for one JWKS file holding text, checking nothing but the signature and iss as consumer. */
static struct sw_jwt *rfc_jwks(const char *jwks, const char *alg)
{
	write_file("jwks.json", jwks);
	return compile_f("{\"keys\":[{\"jwks_file\":\"%s\",\"algorithms\":[\"%s\"]}],\"consumer_claim\":\"iss\","
			 "\"claims_to_headers\":{\"http://example.com/is_root\":\"X-Root\"}}", file("jwks.json"), alg);
}

static void check_rfc(const char *jwks, const char *alg, const char *token)
{
	struct sw_jwt *j = rfc_jwks(jwks, alg);
	char consumer[64] = "", *bad = strdup(token);
	struct sw_jwt_identity *id = NULL;
	const char *why;
	int64_t exp;

	ck_assert_msg(j != NULL, "%s", last_error);
	ck_assert_int_eq(sw_jwt_verify_uncached(j, token, strlen(token), RFC_NOW, &id, &exp, &why), SW_OK);
	ck_assert_str_eq(id->consumer, "joe");
	ck_assert_int_eq(exp, 1300819380);
	ck_assert_str_eq(id->values[0], "true");
	sw_jwt_identity_release(id);
	/* Past exp it is expired (leeway 30 s by default). */
	ck_assert_str_eq(verify_at(j, token, 1300819380 + 30, consumer), "expired");
	ck_assert_str_eq(verify_at(j, token, 1300819380 + 29, consumer), "");
	/* One signature bit flipped. */
	bad[strlen(bad) - 3] ^= 1;
	ck_assert_str_eq(verify_at(j, bad, RFC_NOW, NULL), "bad_signature");
	free(bad);
	sw_jwt_release(j);
}

START_TEST(rfc7515_a1_hs256)
{
	check_rfc(a1_jwks, "HS256", a1_token);
}
END_TEST

/* RFC 7519 3.1's example JWT is A.1's token: its "typ":"JWT" header is accepted and otherwise ignored. */
START_TEST(rfc7519_3_1_jwt)
{
	struct sw_jwt *j = rfc_jwks(a1_jwks, "HS256");
	char consumer[64] = "";

	ck_assert_str_eq(verify_at(j, a1_token, RFC_NOW, consumer), "");
	ck_assert_str_eq(consumer, "joe");
	sw_jwt_release(j);
}
END_TEST

START_TEST(rfc7515_a2_rs256)
{
	check_rfc(a2_jwks, "RS256", a2_token);
}
END_TEST

START_TEST(rfc7515_a3_es256)
{
	check_rfc(a3_jwks, "ES256", a3_token);
}
END_TEST

START_TEST(rfc8037_a4_eddsa)
{
	struct json_object *jwk = json_tokener_parse(a4_jwk);
	const char *input_end = strrchr(a4_token, '.');
	unsigned char sig[128];
	ssize_t n = sw_b64url_decode(input_end + 1, strlen(input_end + 1), sig);
	struct sw_jwt_key k;
	struct sw_diag d;
	struct sw_jwt *j;
	char jwks[256];

	sw_diag_init(&d, "t");
	ck_assert_int_eq(sw_jwk_parse(jwk, "k", &k, &d), SW_OK);
	ck_assert_int_eq(k.kty, SW_KTY_ED25519);
	k.algs = 1u << SW_JWS_EDDSA;
	ck_assert_int_eq(n, 64);
	ck_assert(sw_jws_verify(&k, SW_JWS_EDDSA, a4_token, (size_t)(input_end - a4_token), sig, (size_t)n));
	sig[0] ^= 1;
	ck_assert(!sw_jws_verify(&k, SW_JWS_EDDSA, a4_token, (size_t)(input_end - a4_token), sig, (size_t)n));
	sw_jwt_key_clear(&k);
	sw_diag_deinit(&d);
	json_object_put(jwk);
	/* Through the whole check the signature passes and the non-JSON payload is what fails. */
	snprintf(jwks, sizeof(jwks), "{\"keys\":[%s]}", a4_jwk);
	j = rfc_jwks(jwks, "EdDSA");
	ck_assert_msg(j != NULL, "%s", last_error);
	ck_assert_str_eq(verify(j, a4_token), "bad_token");
	sw_jwt_release(j);
}
END_TEST

static const char *const all_algs[] = { "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256",
					"ES256", "ES384", "EdDSA" };
#define SECRET "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* Each algorithm with a key made here: the token passes, another key's token fails. */
START_TEST(every_algorithm)
{
	const char *alg = all_algs[_i];
	EVP_PKEY *key = NULL, *other = NULL;
	struct sw_jwt *j;
	char *tok, *forged, consumer[64];

	if (alg[0] == 'H') {
		j = compile_f("{\"keys\":[{\"secret\":\"%s\",\"algorithms\":[\"%s\"]}]}", SECRET, alg);
	} else {
		key = mint_key(alg);
		other = mint_key(alg);
		mint_pem(key, file("pub.pem"));
		j = compile_f("{\"keys\":[{\"public_key_file\":\"%s\",\"algorithms\":[\"%s\"]}]}", file("pub.pem"), alg);
	}
	ck_assert_msg(j != NULL, "%s: %s", alg, last_error);
	tok = mint(alg, key, SECRET, NULL, "{\"sub\":\"alice\",\"exp\":1800000100}");
	ck_assert_str_eq(verify_at(j, tok, NOW, consumer), "");
	ck_assert_str_eq(consumer, "alice");
	forged = mint(alg, other, SECRET "x", NULL, "{\"sub\":\"alice\",\"exp\":1800000100}");
	ck_assert_str_eq(verify(j, forged), "bad_signature");
	free(tok);
	free(forged);
	EVP_PKEY_free(key);
	EVP_PKEY_free(other);
	sw_jwt_release(j);
}
END_TEST

static struct sw_jwt *hs_config(const char *extra)
{
	struct sw_jwt *j = compile_f("{\"keys\":[{\"secret\":\"%s\",\"algorithms\":[\"HS256\"]}]%s}", SECRET, extra);

	ck_assert_msg(j != NULL, "%s", last_error);
	return j;
}

static const char *hs_verify(struct sw_jwt *j, const char *payload)
{
	char *tok = mint("HS256", NULL, SECRET, NULL, payload);
	const char *r = verify(j, tok);

	free(tok);
	return r;
}

START_TEST(time_claims)
{
	struct sw_jwt *j = hs_config(",\"leeway_s\":10");

	ck_assert_str_eq(hs_verify(j, "{\"sub\":\"a\",\"exp\":1799999990}"), "expired");
	ck_assert_str_eq(hs_verify(j, "{\"sub\":\"a\",\"exp\":1799999991}"), "");   /* within the leeway */
	ck_assert_str_eq(hs_verify(j, "{\"sub\":\"a\",\"exp\":1800000000}"), "");
	ck_assert_str_eq(hs_verify(j, "{\"sub\":\"a\",\"exp\":1800000100,\"nbf\":1800000011}"), "not_yet_valid");
	ck_assert_str_eq(hs_verify(j, "{\"sub\":\"a\",\"exp\":1800000100,\"nbf\":1800000010}"), "");
	ck_assert_str_eq(hs_verify(j, "{\"sub\":\"a\",\"exp\":1800000100,\"iat\":1800000050}"), "not_yet_valid");
	ck_assert_str_eq(hs_verify(j, "{\"sub\":\"a\",\"exp\":1800000100.5,\"iat\":1799999999.9}"), "");
	ck_assert_str_eq(hs_verify(j, "{\"sub\":\"a\",\"exp\":\"1800000100\"}"), "bad_claim");
	ck_assert_str_eq(hs_verify(j, "{\"sub\":\"a\",\"exp\":9223372036854775807}"), "");
	/* exp is required unless required_claims says otherwise. */
	ck_assert_str_eq(hs_verify(j, "{\"sub\":\"a\"}"), "missing_claim");
	sw_jwt_release(j);
	j = hs_config(",\"required_claims\":[]");
	ck_assert_str_eq(hs_verify(j, "{\"sub\":\"a\"}"), "");
	sw_jwt_release(j);
	j = hs_config(",\"required_claims\":[\"exp\",\"scope\"]");
	ck_assert_str_eq(hs_verify(j, "{\"sub\":\"a\",\"exp\":1800000100}"), "missing_claim");
	ck_assert_str_eq(hs_verify(j, "{\"sub\":\"a\",\"exp\":1800000100,\"scope\":\"x\"}"), "");
	sw_jwt_release(j);
}
END_TEST

START_TEST(issuer_and_audience)
{
	struct sw_jwt *j = hs_config(",\"issuer\":\"https://idp\",\"audience\":[\"api\",\"web\"]");

	ck_assert_str_eq(hs_verify(j, "{\"sub\":\"a\",\"exp\":1800000100,\"iss\":\"https://idp\",\"aud\":\"api\"}"), "");
	ck_assert_str_eq(hs_verify(j, "{\"sub\":\"a\",\"exp\":1800000100,\"iss\":\"https://idp\","
				      "\"aud\":[\"x\",\"web\"]}"), "");
	ck_assert_str_eq(hs_verify(j, "{\"sub\":\"a\",\"exp\":1800000100,\"iss\":\"https://idp\",\"aud\":\"other\"}"),
			 "bad_audience");
	ck_assert_str_eq(hs_verify(j, "{\"sub\":\"a\",\"exp\":1800000100,\"iss\":\"https://idp\",\"aud\":[\"x\"]}"),
			 "bad_audience");
	ck_assert_str_eq(hs_verify(j, "{\"sub\":\"a\",\"exp\":1800000100,\"iss\":\"https://idp\"}"), "bad_audience");
	ck_assert_str_eq(hs_verify(j, "{\"sub\":\"a\",\"exp\":1800000100,\"iss\":\"https://evil\",\"aud\":\"api\"}"),
			 "bad_issuer");
	ck_assert_str_eq(hs_verify(j, "{\"sub\":\"a\",\"exp\":1800000100,\"aud\":\"api\"}"), "bad_issuer");
	sw_jwt_release(j);
}
END_TEST

START_TEST(tampered)
{
	struct sw_jwt *j = hs_config("");
	char *tok = mint("HS256", NULL, SECRET, NULL, "{\"sub\":\"alice\",\"exp\":1800000100}");
	char *other = mint("HS256", NULL, SECRET, NULL, "{\"sub\":\"admin\",\"exp\":1800000100}");
	char *dot1 = strchr(tok, '.'), *dot2 = strrchr(tok, '.'), *odot1 = strchr(other, '.');
	char *mixed = malloc(strlen(tok) + strlen(other));

	/* alice's signature on admin's payload. */
	sprintf(mixed, "%.*s%.*s%s", (int)(dot1 - tok), tok, (int)(strrchr(other, '.') - odot1), odot1, dot2);
	ck_assert_str_eq(verify(j, mixed), "bad_signature");
	/* One bit of the signature. */
	strcpy(mixed, tok);
	mixed[strlen(mixed) - 2] = mixed[strlen(mixed) - 2] == 'A' ? 'B' : 'A';
	ck_assert_str_eq(verify(j, mixed), "bad_signature");
	/* Signature cut, or missing, or a fourth part. */
	strcpy(mixed, tok);
	mixed[strlen(mixed) - 3] = '\0';
	ck_assert_str_eq(verify(j, mixed), "bad_signature");
	sprintf(mixed, "%.*s", (int)(dot2 + 1 - tok), tok);
	ck_assert_str_eq(verify(j, mixed), "bad_token");
	sprintf(mixed, "%s.", tok);
	ck_assert_str_eq(verify(j, mixed), "bad_token");
	ck_assert_str_eq(verify(j, ""), "bad_token");
	ck_assert_str_eq(verify(j, tok), "");
	free(tok);
	free(other);
	free(mixed);
	sw_jwt_release(j);
}
END_TEST

/* An unsigned token, and one whose header or signature is not strict base64url. */
START_TEST(alg_none_and_encoding)
{
	struct sw_jwt *j = hs_config("");
	char *h = mint_b64url((const unsigned char *)"{\"alg\":\"none\"}", 14);
	char *p = mint_b64url((const unsigned char *)"{\"sub\":\"a\",\"exp\":1800000100}", 28);
	char *tok = mint("HS256", NULL, SECRET, NULL, "{\"sub\":\"a\",\"exp\":1800000100}");
	char buf[1024];

	snprintf(buf, sizeof(buf), "%s.%s.", h, p);
	ck_assert_str_eq(verify(j, buf), "alg_none");
	free(h);
	h = mint_b64url((const unsigned char *)"{\"alg\":\"None\"}", 14);
	snprintf(buf, sizeof(buf), "%s.%s.", h, p);
	ck_assert_str_eq(verify(j, buf), "alg_none");
	/* Padding is not base64url's. */
	snprintf(buf, sizeof(buf), "%s=", tok);
	ck_assert_str_eq(verify(j, buf), "bad_token");
	/* Standard base64's alphabet neither. */
	strcpy(buf, tok);
	*strchr(buf, '.') = '+';
	ck_assert_str_eq(verify(j, buf), "bad_token");
	/* Non-zero bits after the last byte: a second spelling of the same signature. */
	{
		static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
		char *last;
		size_t v;

		strcpy(buf, tok);
		last = buf + strlen(buf) - 1;
		v = (size_t)(strchr(abc, *last) - abc);
		ck_assert_int_eq(v & 3, 0);   /* 32 bytes: 43 characters, 2 bits spare */
		*last = abc[v | 1];
	}
	ck_assert_str_eq(verify(j, buf), "bad_token");
	free(h);
	free(p);
	free(tok);
	sw_jwt_release(j);
	/* The config cannot ask for it either. */
	ck_assert_ptr_null(compile("{\"keys\":[{\"secret\":\"" SECRET "\",\"algorithms\":[\"none\"]}]}"));
	ck_assert_msg(strstr(last_error, "routes[0].auth.jwt.keys[0].algorithms[0]") &&
		      strstr(last_error, "never accepted"), "%s", last_error);
}
END_TEST

START_TEST(crit_refused_typ_ignored)
{
	struct sw_jwt *j = hs_config("");
	char *tok = mint("HS256", NULL, SECRET, "{\"alg\":\"HS256\",\"crit\":[\"exp\"],\"exp\":1}",
			 "{\"sub\":\"a\",\"exp\":1800000100}");

	ck_assert_str_eq(verify(j, tok), "crit");
	free(tok);
	tok = mint("HS256", NULL, SECRET, "{\"alg\":\"HS256\",\"typ\":\"anything/at-all\"}",
		   "{\"sub\":\"a\",\"exp\":1800000100}");
	ck_assert_str_eq(verify(j, tok), "");
	free(tok);
	/* Trailing data after the header object. */
	tok = mint("HS256", NULL, SECRET, "{\"alg\":\"HS256\"} {}", "{\"sub\":\"a\",\"exp\":1800000100}");
	ck_assert_str_eq(verify(j, tok), "bad_token");
	free(tok);
	sw_jwt_release(j);
}
END_TEST

/*
 * Algorithm confusion: an HS256 token whose HMAC key is the RSA public key's
 * PEM text, the secret a verifier that trusts the token's "alg" would use.
 */
START_TEST(hs256_against_rsa_key)
{
	EVP_PKEY *key = mint_key("RS256");
	char pem[4096] = "", *tok;
	FILE *f;
	size_t n;
	struct sw_jwt *j;

	mint_pem(key, file("rsa.pem"));
	f = fopen(file("rsa.pem"), "r");
	n = fread(pem, 1, sizeof(pem) - 1, f);
	fclose(f);
	pem[n] = '\0';
	j = compile_f("{\"keys\":[{\"public_key_file\":\"%s\",\"algorithms\":[\"RS256\"]}]}", file("rsa.pem"));
	ck_assert_msg(j != NULL, "%s", last_error);
	tok = mint("HS256", NULL, pem, NULL, "{\"sub\":\"a\",\"exp\":1800000100}");
	ck_assert_str_eq(verify(j, tok), "alg_not_allowed");
	sw_jwt_release(j);
	/* Nor can the config pair an HMAC algorithm with an RSA key. */
	ck_assert_ptr_null(compile_f("{\"keys\":[{\"public_key_file\":\"%s\",\"algorithms\":[\"RS256\",\"HS256\"]}]}",
				     file("rsa.pem")));
	ck_assert_msg(strstr(last_error, "HS256 does not fit an RSA key"), "%s", last_error);
	/* And a JWKS RSA key never verifies HS256 even when asked for it. */
	{
		struct sw_jwt_key k = { .kty = SW_KTY_RSA, .pkey = key, .algs = 1u << SW_JWS_HS256 };
		unsigned char sig[32] = { 0 };

		ck_assert(!sw_jws_verify(&k, SW_JWS_HS256, "a.b", 3, sig, sizeof(sig)));
	}
	free(tok);
	EVP_PKEY_free(key);
}
END_TEST

START_TEST(kid_selection)
{
	char jwks[512];
	struct sw_jwt *j;
	char *tok;

	/* Two oct keys, kid one and two (k: 32 bytes each). */
	snprintf(jwks, sizeof(jwks), "{\"keys\":[{\"kty\":\"oct\",\"kid\":\"one\",\"k\":\"%s\"},"
		 "{\"kty\":\"oct\",\"kid\":\"two\",\"k\":\"%s\"}]}",
		 "MTExMTExMTExMTExMTExMTExMTExMTExMTExMTExMTE", "MjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjI");
	write_file("kids.json", jwks);
	j = compile_f("{\"keys\":[{\"jwks_file\":\"%s\",\"algorithms\":[\"HS256\"]}]}", file("kids.json"));
	ck_assert_msg(j != NULL, "%s", last_error);
	ck_assert_int_eq(j->nkeys, 2);
	tok = mint("HS256", NULL, "22222222222222222222222222222222",
		   "{\"alg\":\"HS256\",\"kid\":\"two\"}", "{\"sub\":\"a\",\"exp\":1800000100}");
	ck_assert_str_eq(verify(j, tok), "");
	free(tok);
	/* Key two's signature under kid one. */
	tok = mint("HS256", NULL, "22222222222222222222222222222222",
		   "{\"alg\":\"HS256\",\"kid\":\"one\"}", "{\"sub\":\"a\",\"exp\":1800000100}");
	ck_assert_str_eq(verify(j, tok), "bad_signature");
	free(tok);
	tok = mint("HS256", NULL, "22222222222222222222222222222222",
		   "{\"alg\":\"HS256\",\"kid\":\"three\"}", "{\"sub\":\"a\",\"exp\":1800000100}");
	ck_assert_str_eq(verify(j, tok), "unknown_kid");
	free(tok);
	/* No kid: every key for the algorithm is tried. */
	tok = mint("HS256", NULL, "11111111111111111111111111111111", NULL, "{\"sub\":\"a\",\"exp\":1800000100}");
	ck_assert_str_eq(verify(j, tok), "");
	free(tok);
	sw_jwt_release(j);
}
END_TEST

START_TEST(oversize_token)
{
	struct sw_jwt *j = hs_config("");
	char *big = malloc(SW_JWT_MAX_TOKEN + 2), payload[SW_JWT_MAX_TOKEN];
	char *tok;
	size_t pad;

	memset(big, 'A', SW_JWT_MAX_TOKEN + 1);
	big[SW_JWT_MAX_TOKEN + 1] = '\0';
	ck_assert_str_eq(verify(j, big), "token_too_large");
	/* A real token just over the limit too, and one at the limit passes. */
	pad = 6000;
	for (;;) {
		snprintf(payload, sizeof(payload), "{\"sub\":\"a\",\"exp\":1800000100,\"pad\":\"%0*d\"}", (int)pad, 0);
		tok = mint("HS256", NULL, SECRET, NULL, payload);
		if (strlen(tok) > SW_JWT_MAX_TOKEN)
			break;
		if (strlen(tok) > SW_JWT_MAX_TOKEN - 4)
			ck_assert_str_eq(verify(j, tok), "");
		free(tok);
		pad++;
	}
	ck_assert_str_eq(verify(j, tok), "token_too_large");
	free(tok);
	free(big);
	sw_jwt_release(j);
}
END_TEST

START_TEST(jwks_parsing)
{
	EVP_PKEY *ec = mint_key("ES384");
	char x[128], y[128], jwks[2048];
	unsigned char pub[97];
	size_t len = 0;
	char *xb, *yb;
	struct sw_jwt *j;

	EVP_PKEY_get_octet_string_param(ec, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub), &len);
	ck_assert_int_eq(len, 97);
	xb = mint_b64url(pub + 1, 48);
	yb = mint_b64url(pub + 49, 48);
	snprintf(x, sizeof(x), "%s", xb);
	snprintf(y, sizeof(y), "%s", yb);
	/* An encryption key is skipped, an RSA key with alg RS512 is narrowed to it, P-384 for ES384. */
	snprintf(jwks, sizeof(jwks), "{\"keys\":["
		 "{\"kty\":\"EC\",\"use\":\"enc\",\"crv\":\"P-999\"},"
		 "{\"kty\":\"RSA\",\"kid\":\"r\",\"alg\":\"RS512\",\"e\":\"AQAB\",\"n\":\"" A2_N "\"},"
		 "{\"kty\":\"EC\",\"kid\":\"e\",\"crv\":\"P-384\",\"x\":\"%s\",\"y\":\"%s\"}]}", x, y);
	write_file("set.json", jwks);
	j = compile_f("{\"keys\":[{\"jwks_file\":\"%s\",\"algorithms\":[\"RS256\",\"RS512\",\"ES384\"]}]}",
		      file("set.json"));
	ck_assert_msg(j != NULL, "%s", last_error);
	ck_assert_int_eq(j->nkeys, 2);
	ck_assert_str_eq(j->keys[0].kid, "r");
	ck_assert_int_eq(j->keys[0].algs, 1u << SW_JWS_RS512);
	ck_assert_int_eq(j->keys[1].kty, SW_KTY_EC384);
	ck_assert_int_eq(j->keys[1].algs, 1u << SW_JWS_ES384);
	{
		char *tok = mint("ES384", ec, NULL, "{\"alg\":\"ES384\",\"kid\":\"e\"}", "{\"sub\":\"a\",\"exp\":1800000100}");

		ck_assert_str_eq(verify(j, tok), "");
		free(tok);
	}
	sw_jwt_release(j);

	/* What a JWKS may not hold, each with the file and the key's index in the message. */
	static const struct { const char *set, *msg; } bad[] = {
		{ "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-521\",\"x\":\"AA\",\"y\":\"AA\"}]}", "keys[0]: EC \"crv\" \"P-521\"" },
		{ "{\"keys\":[{\"kty\":\"XYZ\"}]}", "keys[0]: \"kty\" \"XYZ\" is not supported" },
		{ "{\"keys\":[{\"kty\":\"RSA\",\"e\":\"AQAB\"}]}", "keys[0]: \"n\" is missing" },
		{ "{\"keys\":[{\"kty\":\"RSA\",\"e\":\"AQAB\",\"n\":\"AQAB\"}]}", "shorter than 2048 bits" },
		{ "{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"AAAA\"}]}", "do not make a Ed25519 public key" },
		{ "{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo=\"}]}",
		  "not base64url without padding" },
		{ "{\"kys\":[]}", "not a JWK set" },
		{ "{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"use\":\"enc\",\"x\":\"AA\"}]}", "no signing key" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_file("bad.json", bad[i].set);
		j = compile_f("{\"keys\":[{\"jwks_file\":\"%s\",\"algorithms\":[\"RS256\",\"ES256\",\"EdDSA\"]}]}",
			      file("bad.json"));
		ck_assert_msg(j == NULL, "case %zu accepted", i);
		ck_assert_msg(strstr(last_error, bad[i].msg) && strstr(last_error, "bad.json") &&
			      strstr(last_error, "routes[0].auth.jwt.keys[0].jwks_file"),
			      "case %zu: %s", i, last_error);
	}
	free(xb);
	free(yb);
	EVP_PKEY_free(ec);
}
END_TEST

START_TEST(config_errors)
{
	static const struct { const char *conf, *msg; } bad[] = {
		{ "{}", "routes[0].auth.jwt.keys: is required" },
		{ "{\"keys\":[{\"secret\":\"" SECRET "\"}]}", "keys[0].algorithms: is required" },
		{ "{\"keys\":[{\"secret\":\"short\",\"algorithms\":[\"HS256\"]}]}", "at least 32 bytes" },
		{ "{\"keys\":[{\"secret\":\"" SECRET "\",\"algorithms\":[\"RS256\"]}]}", "RS256 does not fit an HMAC secret" },
		{ "{\"keys\":[{\"secret\":\"" SECRET "\",\"secret_file\":\"/x\",\"algorithms\":[\"HS256\"]}]}",
		  "exactly one of" },
		{ "{\"keys\":[{\"public_key_file\":\"/nonexistent/k.pem\",\"algorithms\":[\"ES256\"]}]}",
		  "keys[0].public_key_file: /nonexistent/k.pem: cannot read" },
		{ "{\"keys\":[{\"secret\":\"" SECRET "\",\"algorithms\":[\"HS256\"]}],\"leeway_s\":301}", "leeway_s" },
		{ "{\"keys\":[{\"secret\":\"" SECRET "\",\"algorithms\":[\"HS256\"]}],\"audience\":[]}", "audience" },
		{ "{\"keys\":[{\"secret\":\"" SECRET "\",\"algorithms\":[\"HS256\"]}],\"claims_to_headers\":{\"sub\":\"X User\"}}",
		  "claims_to_headers.sub: must be a header name" },
		{ "{\"keys\":[{\"secret\":\"" SECRET "\",\"algorithms\":[\"HS256\"]}],\"cookie\":\"a;b\"}", "not a cookie name" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(compile(bad[i].conf) == NULL, "case %zu accepted", i);
		ck_assert_msg(strstr(last_error, bad[i].msg), "case %zu: %s", i, last_error);
	}
	/* A PEM file that holds a key of the wrong kind for its algorithms. */
	{
		EVP_PKEY *ed = mint_key("EdDSA");

		mint_pem(ed, file("ed.pem"));
		ck_assert_ptr_null(compile_f("{\"keys\":[{\"public_key_file\":\"%s\",\"algorithms\":[\"ES256\"]}]}",
					     file("ed.pem")));
		ck_assert_msg(strstr(last_error, "ES256 does not fit an Ed25519 key"), "%s", last_error);
		EVP_PKEY_free(ed);
	}
	/* secret_file: the file's bytes less the final newline. */
	write_file("secret", SECRET "\n");
	{
		struct sw_jwt *j = compile_f("{\"keys\":[{\"secret_file\":\"%s\",\"algorithms\":[\"HS256\"]}]}",
					     file("secret"));
		char *tok = mint("HS256", NULL, SECRET, NULL, "{\"sub\":\"a\",\"exp\":1800000100}");

		ck_assert_msg(j != NULL, "%s", last_error);
		ck_assert_str_eq(verify(j, tok), "");
		free(tok);
		sw_jwt_release(j);
	}
}
END_TEST

START_TEST(consumer_and_headers)
{
	struct sw_jwt *j = hs_config(",\"consumer_claim\":\"client_id\","
				     "\"claims_to_headers\":{\"sub\":\"X-User\",\"admin\":\"X-Admin\",\"n\":\"X-N\"}");
	struct sw_jwt_identity *id;
	const char *why;
	int64_t exp;
	char *tok = mint("HS256", NULL, SECRET, NULL,
			 "{\"client_id\":\"app-1\",\"sub\":\"u\",\"admin\":false,\"exp\":1800000100}");

	ck_assert_int_eq(sw_jwt_header_count(j), 3);
	ck_assert_str_eq(sw_jwt_header_name(j, 1), "X-Admin");
	ck_assert_int_eq(sw_jwt_verify_uncached(j, tok, strlen(tok), NOW, &id, &exp, &why), SW_OK);
	ck_assert_str_eq(id->consumer, "app-1");
	ck_assert_str_eq(id->values[0], "u");
	ck_assert_str_eq(id->values[1], "false");
	ck_assert_ptr_null(id->values[2]);
	sw_jwt_identity_release(id);
	free(tok);
	ck_assert_str_eq(hs_verify(j, "{\"sub\":\"u\",\"exp\":1800000100}"), "no_consumer");
	ck_assert_str_eq(hs_verify(j, "{\"client_id\":{\"a\":1},\"exp\":1800000100}"), "no_consumer");
	/* A claim that would split the upstream header. */
	ck_assert_str_eq(hs_verify(j, "{\"client_id\":\"a\",\"sub\":\"u\\r\\nX-Evil: 1\",\"exp\":1800000100}"),
			 "bad_claim");
	ck_assert_str_eq(hs_verify(j, "{\"client_id\":\"a\\u0000b\",\"exp\":1800000100}"), "bad_claim");
	sw_jwt_release(j);
}
END_TEST

START_TEST(cache_until_exp)
{
	struct sw_jwt *j = hs_config(",\"leeway_s\":0,\"cache_size\":2");
	char *t[3];
	struct sw_jwt_identity *id, *again;
	const char *why;

	for (int i = 0; i < 3; i++) {
		char payload[128];

		snprintf(payload, sizeof(payload), "{\"sub\":\"u%d\",\"exp\":%d}", i, NOW + 100);
		t[i] = mint("HS256", NULL, SECRET, NULL, payload);
	}
	ck_assert_int_eq(sw_jwt_verify(j, t[0], strlen(t[0]), NOW, &id, &why), SW_OK);
	ck_assert_int_eq(j->cache.count, 1);
	ck_assert_int_eq(sw_jwt_verify(j, t[0], strlen(t[0]), NOW + 1, &again, &why), SW_OK);
	ck_assert_ptr_eq(id, again);   /* the cached identity, shared */
	ck_assert_int_eq(id->refs, 3);
	sw_jwt_identity_release(again);
	/* Bounded: a third token pushes out the least recently used. */
	ck_assert_int_eq(sw_jwt_verify(j, t[1], strlen(t[1]), NOW, &again, &why), SW_OK);
	sw_jwt_identity_release(again);
	ck_assert_int_eq(sw_jwt_verify(j, t[0], strlen(t[0]), NOW, &again, &why), SW_OK);   /* t0 most recent */
	sw_jwt_identity_release(again);
	ck_assert_int_eq(sw_jwt_verify(j, t[2], strlen(t[2]), NOW, &again, &why), SW_OK);
	sw_jwt_identity_release(again);
	ck_assert_int_eq(j->cache.count, 2);
	{
		unsigned char h[32];
		unsigned int hl;

		EVP_Digest(t[1], strlen(t[1]), h, &hl, EVP_sha256(), NULL);
		ck_assert_ptr_null(sw_jwt_cache_get(&j->cache, h, NOW));
		EVP_Digest(t[0], strlen(t[0]), h, &hl, EVP_sha256(), NULL);
		ck_assert_ptr_nonnull(sw_jwt_cache_get(&j->cache, h, NOW));
	}
	/* At exp the cached entry is no good any more: the token is checked again, and expired. */
	ck_assert_int_eq(sw_jwt_verify(j, t[0], strlen(t[0]), NOW + 100, &again, &why), SW_ERROR);
	ck_assert_str_eq(why, "expired");
	ck_assert_int_eq(j->cache.count, 1);
	/* A failure is never cached, and a cached token keeps its identity after release. */
	ck_assert_str_eq(id->consumer, "u0");
	sw_jwt_identity_release(id);
	for (int i = 0; i < 3; i++)
		free(t[i]);
	sw_jwt_release(j);
}
END_TEST

static Suite *jwt_suite(void)
{
	Suite *s = suite_create("jwt");
	TCase *tc = tcase_create("jwt");

	tcase_add_checked_fixture(tc, setup, teardown);
	/* RSA key generation is slow on a loaded machine; no timing is asserted. */
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, rfc7515_a1_hs256);
	tcase_add_test(tc, rfc7519_3_1_jwt);
	tcase_add_test(tc, rfc7515_a2_rs256);
	tcase_add_test(tc, rfc7515_a3_es256);
	tcase_add_test(tc, rfc8037_a4_eddsa);
	tcase_add_loop_test(tc, every_algorithm, 0, (int)(sizeof(all_algs) / sizeof(all_algs[0])));
	tcase_add_test(tc, time_claims);
	tcase_add_test(tc, issuer_and_audience);
	tcase_add_test(tc, tampered);
	tcase_add_test(tc, alg_none_and_encoding);
	tcase_add_test(tc, crit_refused_typ_ignored);
	tcase_add_test(tc, hs256_against_rsa_key);
	tcase_add_test(tc, kid_selection);
	tcase_add_test(tc, oversize_token);
	tcase_add_test(tc, jwks_parsing);
	tcase_add_test(tc, config_errors);
	tcase_add_test(tc, consumer_and_headers);
	tcase_add_test(tc, cache_until_exp);
	suite_add_tcase(s, tc);
	return s;
}

SW_TEST_SUITE(jwt_suite);
