/* image/digest.c: content digests: strict parsing of "alg:hex" and hashing
 * through libcrypto's EVP interface (SHA-NI where the CPU has it). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "internal.h"
#include "lazylibs.h"

static const struct {
	const char *name;
	size_t hex_len;
} algs[] = {
	[DIGEST_SHA256] = {"sha256", 64},
	[DIGEST_SHA512] = {"sha512", 128},
};

const char *digest_alg_name(enum digest_alg alg)
{
	return algs[alg].name;
}

int digest_parse(const char *s, struct digest *d, berr_t *e)
{
	const char *colon = s ? strchr(s, ':') : NULL;

	if (!colon)
		return berr_set(e, EINVAL, "invalid digest \"%s\": expected ALGORITHM:HEX",
				s ? s : "");
	for (size_t a = 0; a < ARRAY_SIZE(algs); a++) {
		size_t n = strlen(algs[a].name);
		const char *hex = colon + 1;

		if ((size_t)(colon - s) != n || strncmp(s, algs[a].name, n) != 0)
			continue;
		if (strlen(hex) != algs[a].hex_len)
			return berr_set(e, EINVAL, "invalid digest \"%s\": %s needs %zu hex digits", s,
					algs[a].name, algs[a].hex_len);
		for (const char *p = hex; *p; p++)
			if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
				return berr_set(e, EINVAL,
						"invalid digest \"%s\": not lowercase hexadecimal", s);
		d->alg = a;
		memcpy(d->hex, hex, algs[a].hex_len + 1);
		return 0;
	}
	return berr_set(e, ENOTSUP, "digest \"%.80s\": unsupported algorithm (sha256 and sha512 are)",
			s);
}

char *digest_string(const struct digest *d)
{
	return xasprintf("%s:%s", algs[d->alg].name, d->hex);
}

bool digest_equal(const struct digest *a, const struct digest *b)
{
	return a->alg == b->alg && strcmp(a->hex, b->hex) == 0;
}

int hasher_init(struct hasher *h, enum digest_alg alg, berr_t *e)
{
	EVP_MD_CTX *ctx;

	h->ctx = NULL;
	h->alg = alg;
	h->bytes = 0;
	if (lazy_crypto_load(e) < 0)
		return -1;
	ctx = sym_EVP_MD_CTX_new();
	if (!ctx)
		oom();
	if (!sym_EVP_DigestInit_ex(ctx, alg == DIGEST_SHA256 ? sym_EVP_sha256() : sym_EVP_sha512(),
				   NULL)) {
		sym_EVP_MD_CTX_free(ctx);
		return berr_set(e, EIO, "libcrypto: cannot start a %s digest", algs[alg].name);
	}
	h->ctx = ctx;
	return 0;
}

void hasher_update(struct hasher *h, const void *buf, size_t len)
{
	sym_EVP_DigestUpdate(h->ctx, buf, len);
	h->bytes += len;
}

void hasher_final(struct hasher *h, struct digest *out)
{
	unsigned char md[64];
	unsigned int n = 0;
	static const char hexdig[] = "0123456789abcdef";

	sym_EVP_DigestFinal_ex(h->ctx, md, &n);
	out->alg = h->alg;
	for (unsigned int i = 0; i < n; i++) {
		out->hex[2 * i] = hexdig[md[i] >> 4];
		out->hex[2 * i + 1] = hexdig[md[i] & 15];
	}
	out->hex[2 * n] = '\0';
}

void hasher_free(struct hasher *h)
{
	if (h->ctx)
		sym_EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
}

int digest_buffer(enum digest_alg alg, const void *buf, size_t len, struct digest *out,
		  berr_t *e)
{
	struct hasher h;

	if (hasher_init(&h, alg, e) < 0)
		return -1;
	hasher_update(&h, buf, len);
	hasher_final(&h, out);
	hasher_free(&h);
	return 0;
}

int digest_check(const struct digest *want, const struct digest *got, const char *what,
		 berr_t *e)
{
	if (digest_equal(want, got))
		return 0;
	return berr_set(e, EILSEQ, "%s: digest mismatch: expected %s:%s, content has %s:%s", what,
			algs[want->alg].name, want->hex, algs[got->alg].name, got->hex);
}
