/* image/ref.c: image references (PATH[:TAG], PATH@DIGEST) and platform
 * matching for multi-platform indexes. Pure: unit-tested. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "common/util.h"
#include "internal.h"

int image_ref_parse(const char *ref, bool (*exists)(const char *path), struct image_ref *out,
		    berr_t *e)
{
	size_t len = strlen(ref);

	memset(out, 0, sizeof *out);
	if (!len)
		return berr_set(e, EINVAL, "empty image reference");
	if (exists(ref)) {
		out->path = xstrdup(ref);
		return 0;
	}
	/* The longest existing prefix is the path: "a.tar:busybox:latest"
	 * is the archive a.tar and the tag "busybox:latest". */
	for (size_t i = len; i-- > 1;) {
		_cleanup_free_ char *prefix = NULL;
		const char *rest = ref + i + 1;

		if (ref[i] != ':' && ref[i] != '@')
			continue;
		prefix = xstrndup(ref, i);
		if (!exists(prefix))
			continue;
		if (!*rest)
			return berr_set(e, EINVAL, "image reference \"%s\": empty %s", ref,
					ref[i] == '@' ? "digest" : "tag");
		if (ref[i] == '@') {
			struct digest d;

			if (digest_parse(rest, &d, e) < 0)
				return berr_wrap(e, "image reference \"%s\"", ref);
			out->digest = xstrdup(rest);
		} else {
			out->tag = xstrdup(rest);
		}
		out->path = steal_ptr(prefix);
		return 0;
	}
	return berr_set(e, ENOENT, "image \"%s\": no such layout or archive", ref);
}

void image_ref_free(struct image_ref *r)
{
	free(r->path);
	free(r->tag);
	free(r->digest);
	memset(r, 0, sizeof *r);
}

/* ---- platforms ---- */

static const struct {
	const char *machine, *architecture, *variant;
} machines[] = {
	{"x86_64", "amd64", NULL},
	{"aarch64", "arm64", "v8"},
	{"armv7l", "arm", "v7"},
	{"armv6l", "arm", "v6"},
	{"i686", "386", NULL},
	{"i386", "386", NULL},
	{"ppc64le", "ppc64le", NULL},
	{"s390x", "s390x", NULL},
	{"riscv64", "riscv64", NULL},
	{"loongarch64", "loong64", NULL},
};

/* The variant an architecture means when none is written. */
static const struct {
	const char *architecture, *variant;
} default_variants[] = {
	{"amd64", "v1"},
	{"arm64", "v8"},
	{"arm", "v7"},
};

static char host_variant[8];

void image_host_platform(struct image_platform *p)
{
	static struct utsname u;

	uname(&u);
	p->os = "linux";
	p->architecture = u.machine;
	p->variant = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(machines); i++) {
		if (strcmp(u.machine, machines[i].machine) == 0) {
			p->architecture = machines[i].architecture;
			p->variant = machines[i].variant;
			break;
		}
	}
#if defined(__x86_64__)
	/* amd64 variants are the x86-64 micro-architecture levels, told by
	 * their defining features (names both gcc and clang know). */
	__builtin_cpu_init();
	snprintf(host_variant, sizeof host_variant, "v%d",
		 !(__builtin_cpu_supports("popcnt") && __builtin_cpu_supports("sse4.2")) ? 1 :
		 !(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi2") &&
		   __builtin_cpu_supports("fma")) ? 2 :
		 !(__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
		   __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl")) ? 3 : 4);
	if (strcmp(p->architecture, "amd64") == 0)
		p->variant = host_variant;
#endif
}

/* "v8.2" -> 802, "v3" -> 300; -1 when not of that form. */
static int variant_level(const char *arch, const char *variant)
{
	int major = 0, minor = 0, n = 0;

	if (!variant || !*variant) {
		for (size_t i = 0; i < ARRAY_SIZE(default_variants); i++)
			if (strcmp(arch, default_variants[i].architecture) == 0)
				variant = default_variants[i].variant;
		if (!variant)
			return 0;
	}
	if (sscanf(variant, "v%d%n.%d%n", &major, &n, &minor, &n) < 1 || variant[n] ||
	    major < 0 || major > 99 || minor < 0 || minor > 99)
		return -1;
	return major * 100 + minor;
}

int image_platform_score(const struct image_platform *host, const struct image_platform *cand)
{
	int hl, cl;

	if (!cand->os || !cand->architecture)
		return 0;
	if (strcmp(cand->os, host->os) != 0 || strcmp(cand->architecture, host->architecture) != 0)
		return -1;
	hl = variant_level(host->architecture, host->variant);
	cl = variant_level(cand->architecture, cand->variant);
	if (cl < 0) /* a variant we cannot order: only an exact match */
		return host->variant && cand->variant && !strcmp(host->variant, cand->variant) ? 1 : -1;
	if (hl >= 0 && cl > hl)
		return -1;
	/* The newest variant the host runs wins. */
	return 1 + cl;
}
