/* SPDX-License-Identifier: MIT */
/* jwks.c - keys for JWT verification from JWKs (RFC 7517, 7518 6, 8037 2) and PEM public key files. */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include "auth/jwt_impl.h"
#include "core/common.h"
#include "core/config.h"
#include "core/diag.h"

/* A JWK member that holds base64url bytes; a fresh buffer (length in *len) or NULL. */
static unsigned char *member_bytes(struct json_object *jwk, const char *name, const char *path,
				   size_t *len, struct sw_diag *diag)
{
	struct json_object *v;
	const char *s;
	size_t slen;
	unsigned char *out;
	ssize_t n;

	if (!json_object_object_get_ex(jwk, name, &v) || !json_object_is_type(v, json_type_string)) {
		sw_diag_error(diag, path, "\"%s\" is missing or not a string", name);
		return NULL;
	}
	s = json_object_get_string(v);
	slen = (size_t)json_object_get_string_len(v);
	out = sw_malloc(slen * 3 / 4 + 1);
	n = sw_b64url_decode(s, slen, out);
	if (n <= 0) {
		sw_diag_error(diag, path, "\"%s\" is not base64url without padding", name);
		free(out);
		return NULL;
	}
	*len = (size_t)n;
	return out;
}

static EVP_PKEY *from_params(const char *type, OSSL_PARAM_BLD *bld)
{
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	EVP_PKEY *pkey = NULL;

	if (params && ctx && EVP_PKEY_fromdata_init(ctx) == 1)
		EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	return pkey;
}

static EVP_PKEY *rsa_key(struct json_object *jwk, const char *path, struct sw_diag *diag)
{
	size_t nlen = 0, elen = 0;
	unsigned char *n = member_bytes(jwk, "n", path, &nlen, diag);
	unsigned char *e = n ? member_bytes(jwk, "e", path, &elen, diag) : NULL;
	BIGNUM *bn = NULL, *be = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	EVP_PKEY *pkey = NULL;

	if (!e)
		goto out;
	bn = BN_bin2bn(n, (int)nlen, NULL);
	be = BN_bin2bn(e, (int)elen, NULL);
	bld = OSSL_PARAM_BLD_new();
	if (bn && be && bld && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be))
		pkey = from_params("RSA", bld);
	if (!pkey)
		sw_diag_error(diag, path, "\"n\" and \"e\" do not make an RSA public key");
out:
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	free(n);
	free(e);
	return pkey;
}

/* EC (P-256, P-384) or OKP (Ed25519) from crv, x and (EC) y. */
static EVP_PKEY *curve_key(struct json_object *jwk, bool okp, const char *path, struct sw_diag *diag)
{
	struct json_object *v;
	const char *crv = json_object_object_get_ex(jwk, "crv", &v) ? json_object_get_string(v) : "";
	const char *group = NULL;
	size_t size = 32, xlen = 0, ylen = 0;
	unsigned char *x = NULL, *y = NULL, point[1 + 2 * 48];
	OSSL_PARAM_BLD *bld = NULL;
	EVP_PKEY *pkey = NULL;

	if (okp && strcmp(crv, "Ed25519") != 0) {
		sw_diag_error(diag, path, "OKP \"crv\" \"%s\" is not supported (Ed25519 is)", crv);
		return NULL;
	}
	if (!okp && strcmp(crv, "P-256") == 0) {
		group = "prime256v1";
	} else if (!okp && strcmp(crv, "P-384") == 0) {
		group = "secp384r1";
		size = 48;
	} else if (!okp) {
		sw_diag_error(diag, path, "EC \"crv\" \"%s\" is not supported (P-256 and P-384 are)", crv);
		return NULL;
	}
	x = member_bytes(jwk, "x", path, &xlen, diag);
	if (!x)
		return NULL;
	if (okp) {
		if (xlen == 32)
			pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, x, xlen);
		goto out;
	}
	y = member_bytes(jwk, "y", path, &ylen, diag);
	if (!y) {
		free(x);
		return NULL;
	}
	if (xlen != size || ylen != size)
		goto out;
	/* The uncompressed SEC1 point OpenSSL takes as the public key. */
	point[0] = 0x04;
	memcpy(point + 1, x, size);
	memcpy(point + 1 + size, y, size);
	bld = OSSL_PARAM_BLD_new();
	if (bld && OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) &&
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, 1 + 2 * size))
		pkey = from_params("EC", bld);
out:
	if (!pkey)
		sw_diag_error(diag, path, "\"x\"%s do not make a %s public key", okp ? "" : " and \"y\"", crv);
	OSSL_PARAM_BLD_free(bld);
	free(x);
	free(y);
	return pkey;
}

int sw_jwk_parse(struct json_object *jwk, const char *path, struct sw_jwt_key *out, struct sw_diag *diag)
{
	struct json_object *v;
	const char *kty, *why = NULL;
	int kind;

	memset(out, 0, sizeof(*out));
	if (!json_object_is_type(jwk, json_type_object)) {
		sw_diag_error(diag, path, "a JWK must be an object");
		return SW_ERROR;
	}
	if (json_object_object_get_ex(jwk, "use", &v) && strcmp(json_object_get_string(v), "sig") != 0)
		return SW_DECLINED;
	if (json_object_object_get_ex(jwk, "kid", &v)) {
		if (!json_object_is_type(v, json_type_string)) {
			sw_diag_error(diag, path, "\"kid\" must be a string");
			return SW_ERROR;
		}
		out->kid = sw_strdup(json_object_get_string(v));
	}
	kty = json_object_object_get_ex(jwk, "kty", &v) ? json_object_get_string(v) : "";
	if (strcmp(kty, "oct") == 0) {
		out->kty = SW_KTY_OCT;
		out->secret = member_bytes(jwk, "k", path, &out->secret_len, diag);
		if (out->secret)
			return SW_OK;
		sw_jwt_key_clear(out);
		return SW_ERROR;
	}
	if (strcmp(kty, "RSA") == 0) {
		out->pkey = rsa_key(jwk, path, diag);
	} else if (strcmp(kty, "EC") == 0 || strcmp(kty, "OKP") == 0) {
		out->pkey = curve_key(jwk, kty[0] == 'O', path, diag);
	} else {
		sw_diag_error(diag, path, "\"kty\" \"%s\" is not supported (RSA, EC, OKP and oct are)", kty);
		sw_jwt_key_clear(out);
		return SW_ERROR;
	}
	kind = out->pkey ? sw_jws_pkey_kty(out->pkey, &why) : -1;
	if (kind < 0) {
		if (why)
			sw_diag_error(diag, path, "%s", why);
		sw_jwt_key_clear(out);
		return SW_ERROR;
	}
	out->kty = (enum sw_jws_kty)kind;
	return SW_OK;
}

#define MAX_KEY_FILE (1u << 20)

EVP_PKEY *sw_pem_read_public(const char *file, const char *path, struct sw_diag *diag)
{
	char *text = NULL;
	size_t len = 0;
	int err = sw_config_read_file(file, MAX_KEY_FILE, &text, &len, NULL);
	BIO *bio;
	EVP_PKEY *pkey = NULL;
	const char *why = NULL;

	if (err) {
		sw_diag_error(diag, path, "%s: cannot read: %s", file,
			      err == EFBIG ? "larger than 1 MiB" : err == EINVAL ? "not a regular file" : strerror(err));
		return NULL;
	}
	bio = BIO_new_mem_buf(text, (int)len);
	if (bio)
		pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	BIO_free(bio);
	free(text);
	if (!pkey) {
		sw_diag_error(diag, path, "%s: holds no PEM public key (\"-----BEGIN PUBLIC KEY-----\")", file);
		return NULL;
	}
	if (sw_jws_pkey_kty(pkey, &why) < 0) {
		sw_diag_error(diag, path, "%s: %s", file, why);
		EVP_PKEY_free(pkey);
		return NULL;
	}
	return pkey;
}
