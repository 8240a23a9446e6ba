/* SPDX-License-Identifier: MIT */
/*
 * jwt_verify.c - CPU time of one JWT verification (src/auth/jwt*.c) per
 * algorithm, with the per-worker cache of verified tokens off and on (hit):
 * the part of a jwt route's cost that is the token.  Never part of make check.
 *
 *   bench/jwt_verify [iterations]
 *   bench/jwt_verify --mint PEM-FILE SUB    (bench/jwt.sh: an ES256 key's public
 *       half to PEM-FILE and a token for SUB, good for an hour, on stdout)
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>
#include "auth/jwt.h"
#include "core/diag.h"
#include "jwt_mint.h"

#define SECRET "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static double cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static struct sw_jwt *config(const char *alg, const char *pem, int cache)
{
	char json[1024];
	struct json_object *conf;
	struct sw_diag d;
	struct sw_jwt *j;

	if (alg[0] == 'H')
		snprintf(json, sizeof(json), "{\"keys\":[{\"secret\":\"%s\",\"algorithms\":[\"%s\"]}],\"cache_size\":%d}",
			 SECRET, alg, cache);
	else
		snprintf(json, sizeof(json), "{\"keys\":[{\"public_key_file\":\"%s\",\"algorithms\":[\"%s\"]}],"
			 "\"cache_size\":%d}", pem, alg, cache);
	conf = json_tokener_parse(json);
	sw_diag_init(&d, "bench");
	j = sw_jwt_compile(conf, "auth.jwt", &d);
	if (!j) {
		fprintf(stderr, "%s\n", sw_diag_first_error(&d));
		exit(1);
	}
	sw_diag_deinit(&d);
	json_object_put(conf);
	return j;
}

static double per_verify(struct sw_jwt *j, const char *tok, long n)
{
	size_t len = strlen(tok);
	int64_t now = (int64_t)time(NULL);
	double t0 = cpu_us();

	for (long i = 0; i < n; i++) {
		struct sw_jwt_identity *id;
		const char *why;

		if (sw_jwt_verify(j, tok, len, now, &id, &why) != SW_OK) {
			fprintf(stderr, "verify failed: %s\n", why);
			exit(1);
		}
		sw_jwt_identity_release(id);
	}
	return (cpu_us() - t0) / (double)n;
}

static int mint_one(const char *pem, const char *sub)
{
	EVP_PKEY *key = mint_key("ES256");
	char payload[256], *tok;

	mint_pem(key, pem);
	snprintf(payload, sizeof(payload), "{\"sub\":\"%s\",\"exp\":%ld}", sub, (long)time(NULL) + 3600);
	tok = mint("ES256", key, NULL, NULL, payload);
	printf("%s\n", tok);
	free(tok);
	EVP_PKEY_free(key);
	return 0;
}

int main(int argc, char **argv)
{
	static const char *const algs[] = { "HS256", "RS256", "PS256", "ES256", "ES384", "EdDSA" };
	long n;
	char pem[] = "/tmp/sw-jwt-bench-XXXXXX";
	int fd;

	if (argc == 4 && strcmp(argv[1], "--mint") == 0)
		return mint_one(argv[2], argv[3]);
	n = argc > 1 ? atol(argv[1]) : 2000;
	fd = mkstemp(pem);
	if (fd < 0 || n <= 0)
		return 1;
	close(fd);
	printf("| alg | µs/verify, no cache | µs/verify, cache hit |\n| --- | ---: | ---: |\n");
	for (size_t a = 0; a < sizeof(algs) / sizeof(algs[0]); a++) {
		EVP_PKEY *key = algs[a][0] == 'H' ? NULL : mint_key(algs[a]);
		char payload[256], *tok;
		struct sw_jwt *cold, *warm;
		double c, w;

		if (key)
			mint_pem(key, pem);
		snprintf(payload, sizeof(payload), "{\"sub\":\"bench-client\",\"iss\":\"https://idp.example\","
			 "\"aud\":\"api\",\"exp\":%ld,\"iat\":%ld}", (long)time(NULL) + 3600, (long)time(NULL));
		tok = mint(algs[a], key, SECRET, NULL, payload);
		cold = config(algs[a], pem, 0);
		warm = config(algs[a], pem, 1024);
		c = per_verify(cold, tok, n);
		w = per_verify(warm, tok, n * 20);
		printf("| %s | %.2f | %.3f |\n", algs[a], c, w);
		sw_jwt_release(cold);
		sw_jwt_release(warm);
		EVP_PKEY_free(key);
		free(tok);
	}
	unlink(pem);
	return 0;
}
