/* SPDX-License-Identifier: MIT */
/* jws.c - JWS signatures (RFC 7515, algorithms of RFC 7518 and 8037) checked with OpenSSL's EVP, and base64url. */
#include <config.h>

#include <string.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/rsa.h>
#include "auth/auth_impl.h"
#include "auth/jwt_impl.h"

struct alg_info {
	const char *name;
	enum sw_jws_kty kty;
	const char *md;    /* digest; NULL for EdDSA (it hashes itself) */
};

static const struct alg_info algs[SW_JWS_ALG_COUNT] = {
	[SW_JWS_HS256] = { "HS256", SW_KTY_OCT, "SHA256" },
	[SW_JWS_HS384] = { "HS384", SW_KTY_OCT, "SHA384" },
	[SW_JWS_HS512] = { "HS512", SW_KTY_OCT, "SHA512" },
	[SW_JWS_RS256] = { "RS256", SW_KTY_RSA, "SHA256" },
	[SW_JWS_RS384] = { "RS384", SW_KTY_RSA, "SHA384" },
	[SW_JWS_RS512] = { "RS512", SW_KTY_RSA, "SHA512" },
	[SW_JWS_PS256] = { "PS256", SW_KTY_RSA, "SHA256" },
	[SW_JWS_ES256] = { "ES256", SW_KTY_EC256, "SHA256" },
	[SW_JWS_ES384] = { "ES384", SW_KTY_EC384, "SHA384" },
	[SW_JWS_EDDSA] = { "EdDSA", SW_KTY_ED25519, NULL },
};

int sw_jws_alg_parse(const char *name, size_t len)
{
	for (int i = 0; i < SW_JWS_ALG_COUNT; i++)
		if (strlen(algs[i].name) == len && memcmp(algs[i].name, name, len) == 0)
			return i;
	return -1;
}

const char *sw_jws_alg_name(enum sw_jws_alg alg)
{
	return algs[alg].name;
}

enum sw_jws_kty sw_jws_alg_kty(enum sw_jws_alg alg)
{
	return algs[alg].kty;
}

size_t sw_jws_min_secret(enum sw_jws_alg alg)
{
	return alg == SW_JWS_HS512 ? 64 : alg == SW_JWS_HS384 ? 48 : 32;
}

int sw_jws_pkey_kty(EVP_PKEY *pkey, const char **why)
{
	char group[32];

	if (EVP_PKEY_is_a(pkey, "RSA")) {
		/* RFC 7518 3.3: 2048 bits or more. */
		if (EVP_PKEY_get_bits(pkey) < 2048) {
			*why = "RSA key shorter than 2048 bits";
			return -1;
		}
		return SW_KTY_RSA;
	}
	if (EVP_PKEY_is_a(pkey, "ED25519"))
		return SW_KTY_ED25519;
	if (EVP_PKEY_is_a(pkey, "EC") &&
	    EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), NULL)) {
		if (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0)
			return SW_KTY_EC256;
		if (strcmp(group, "secp384r1") == 0 || strcmp(group, "P-384") == 0)
			return SW_KTY_EC384;
		*why = "EC key on a curve other than P-256 or P-384";
		return -1;
	}
	*why = "not an RSA, EC or Ed25519 public key";
	return -1;
}

void sw_jwt_key_clear(struct sw_jwt_key *k)
{
	free(k->kid);
	EVP_PKEY_free(k->pkey);
	if (k->secret) {
		OPENSSL_cleanse(k->secret, k->secret_len);
		free(k->secret);
	}
	memset(k, 0, sizeof(*k));
}

static bool verify_hmac(const struct sw_jwt_key *k, const char *md, const char *input, size_t input_len,
			const unsigned char *sig, size_t sig_len)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	size_t mac_len = 0;

	if (!EVP_Q_mac(NULL, "HMAC", NULL, md, NULL, k->secret, k->secret_len,
		       (const unsigned char *)input, input_len, mac, sizeof(mac), &mac_len))
		return false;
	/* Constant time: a byte-by-byte early exit tells a forger how far it got. */
	return sig_len == mac_len && CRYPTO_memcmp(mac, sig, mac_len) == 0;
}

/* JOSE's fixed-size r||s (RFC 7518 3.4) as the DER ECDSA-Sig-Value EVP verifies; its length or 0. */
static size_t ecdsa_to_der(const unsigned char *sig, size_t sig_len, size_t half, unsigned char *der,
			   size_t der_cap)
{
	ECDSA_SIG *es;
	BIGNUM *r, *s;
	unsigned char *p = der;
	int n;

	if (sig_len != 2 * half)
		return 0;
	es = ECDSA_SIG_new();
	r = BN_bin2bn(sig, (int)half, NULL);
	s = BN_bin2bn(sig + half, (int)half, NULL);
	if (!es || !r || !s || !ECDSA_SIG_set0(es, r, s)) {
		BN_free(r);
		BN_free(s);
		ECDSA_SIG_free(es);
		return 0;
	}
	n = i2d_ECDSA_SIG(es, NULL);
	if (n <= 0 || (size_t)n > der_cap)
		n = 0;
	else
		n = i2d_ECDSA_SIG(es, &p);
	ECDSA_SIG_free(es);
	return n > 0 ? (size_t)n : 0;
}

static bool verify_pkey(const struct sw_jwt_key *k, enum sw_jws_alg alg, const char *input, size_t input_len,
			const unsigned char *sig, size_t sig_len)
{
	unsigned char der[128];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	bool ok = false;

	if (!ctx)
		return false;
	if (alg == SW_JWS_ES256 || alg == SW_JWS_ES384) {
		sig_len = ecdsa_to_der(sig, sig_len, alg == SW_JWS_ES256 ? 32 : 48, der, sizeof(der));
		if (sig_len == 0)
			goto out;
		sig = der;
	}
	if (EVP_DigestVerifyInit_ex(ctx, &pctx, algs[alg].md, NULL, NULL, k->pkey, NULL) != 1)
		goto out;
	if (alg == SW_JWS_PS256 &&
	    (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
	     EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1 ||
	     EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, "SHA256", NULL) != 1))
		goto out;
	ok = EVP_DigestVerify(ctx, sig, sig_len, (const unsigned char *)input, input_len) == 1;
out:
	EVP_MD_CTX_free(ctx);
	return ok;
}

bool sw_jws_verify(const struct sw_jwt_key *k, enum sw_jws_alg alg, const char *input, size_t input_len,
		   const unsigned char *sig, size_t sig_len)
{
	/* The key's kind decides, never the token: an RSA public key is no HMAC secret. */
	if ((unsigned)alg >= SW_JWS_ALG_COUNT || !(k->algs & (1u << alg)) || algs[alg].kty != k->kty)
		return false;
	if (k->kty == SW_KTY_OCT)
		return verify_hmac(k, algs[alg].md, input, input_len, sig, sig_len);
	return verify_pkey(k, alg, input, input_len, sig, sig_len);
}

ssize_t sw_b64url_decode(const char *in, size_t len, unsigned char *out)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t n = 0;

	if (len % 4 == 1)
		return -1;
	for (size_t i = 0; i < len; i++) {
		int v = sw_auth_b64_value((unsigned char)in[i], true);

		if (v < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(acc >> bits);
		}
	}
	/* Leftover bits must be zero: otherwise two spellings decode alike. */
	if (acc & ((1u << bits) - 1))
		return -1;
	return (ssize_t)n;
}
