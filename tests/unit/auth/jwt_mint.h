/* SPDX-License-Identifier: MIT */
/* jwt_mint.h - tokens and key files made with OpenSSL for the JWT tests: the signing side swerver itself lacks. */
#ifndef SW_TEST_JWT_MINT_H
#define SW_TEST_JWT_MINT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

static inline char *mint_b64url(const unsigned char *in, size_t len)
{
	static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	char *out = malloc(len * 4 / 3 + 4), *o = out;
	size_t i;

	for (i = 0; i + 2 < len; i += 3) {
		unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
		*o++ = abc[v >> 18];
		*o++ = abc[(v >> 12) & 63];
		*o++ = abc[(v >> 6) & 63];
		*o++ = abc[v & 63];
	}
	if (len - i == 1) {
		*o++ = abc[in[i] >> 2];
		*o++ = abc[(in[i] & 3) << 4];
	} else if (len - i == 2) {
		unsigned v = (unsigned)in[i] << 8 | in[i + 1];
		*o++ = abc[v >> 10];
		*o++ = abc[(v >> 4) & 63];
		*o++ = abc[(v & 15) << 2];
	}
	*o = '\0';
	return out;
}

/* A signature over input with the JWA algorithm alg: HMAC with secret, or pkey. */
static inline unsigned char *mint_sign(const char *alg, EVP_PKEY *pkey, const char *secret, const char *input,
				size_t *sig_len)
{
	const char *md = strstr(alg, "256") ? "SHA256" : strstr(alg, "384") ? "SHA384" : "SHA512";
	unsigned char *sig = malloc(1024);
	size_t len = 1024;

	if (alg[0] == 'H') {
		if (!EVP_Q_mac(NULL, "HMAC", NULL, md, NULL, secret, strlen(secret),
			       (const unsigned char *)input, strlen(input), sig, 1024, &len))
			abort();
	} else {
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();
		EVP_PKEY_CTX *pctx = NULL;

		if (EVP_DigestSignInit_ex(ctx, &pctx, strcmp(alg, "EdDSA") == 0 ? NULL : md, NULL, NULL,
					  pkey, NULL) != 1)
			abort();
		if (alg[0] == 'P') {
			EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
			EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
		}
		if (EVP_DigestSign(ctx, sig, &len, (const unsigned char *)input, strlen(input)) != 1)
			abort();
		EVP_MD_CTX_free(ctx);
		if (alg[0] == 'E' && alg[1] == 'S') {
			/* DER to JOSE's r||s. */
			const unsigned char *p = sig;
			ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)len);
			int half = strstr(alg, "256") ? 32 : 48;

			BN_bn2binpad(ECDSA_SIG_get0_r(es), sig, half);
			BN_bn2binpad(ECDSA_SIG_get0_s(es), sig + half, half);
			ECDSA_SIG_free(es);
			len = (size_t)half * 2;
		}
	}
	*sig_len = len;
	return sig;
}

/* header.payload.signature from two JSON texts; header NULL means {"alg":ALG,"typ":"JWT"}. */
static inline char *mint(const char *alg, EVP_PKEY *pkey, const char *secret, const char *header, const char *payload)
{
	char hbuf[256], *h, *p, *input, *s, *tok;
	unsigned char *sig;
	size_t sig_len;

	if (!header) {
		snprintf(hbuf, sizeof(hbuf), "{\"alg\":\"%s\",\"typ\":\"JWT\"}", alg);
		header = hbuf;
	}
	h = mint_b64url((const unsigned char *)header, strlen(header));
	p = mint_b64url((const unsigned char *)payload, strlen(payload));
	input = malloc(strlen(h) + strlen(p) + 2);
	sprintf(input, "%s.%s", h, p);
	sig = mint_sign(alg, pkey, secret, input, &sig_len);
	s = mint_b64url(sig, sig_len);
	tok = malloc(strlen(input) + strlen(s) + 2);
	sprintf(tok, "%s.%s", input, s);
	free(h);
	free(p);
	free(input);
	free(sig);
	free(s);
	return tok;
}

/* A fresh key pair for alg. */
static inline EVP_PKEY *mint_key(const char *alg)
{
	if (alg[0] == 'R' || alg[0] == 'P')
		return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	if (strcmp(alg, "ES256") == 0)
		return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (strcmp(alg, "ES384") == 0)
		return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
}

/* Writes pkey's public half as PEM to path. */
static inline void mint_pem(EVP_PKEY *pkey, const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f || PEM_write_PUBKEY(f, pkey) != 1)
		abort();
	fclose(f);
}

#endif
