/* image/lazylibs.c: dlopen of libarchive and libcrypto on first use. Linking
 * them would cost every berth invocation (see image/image.h). */
#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

#include "lazylibs.h"

#define LAZY_DEFINE(name) __typeof__(name) *sym_##name;
LAZY_ARCHIVE_SYMBOLS(LAZY_DEFINE)
LAZY_CRYPTO_SYMBOLS(LAZY_DEFINE)
#undef LAZY_DEFINE

struct lazy_sym {
	void **ptr;
	const char *name;
};

#define LAZY_ROW(name) {(void **)&sym_##name, #name},
static const struct lazy_sym archive_syms[] = {LAZY_ARCHIVE_SYMBOLS(LAZY_ROW)};
static const struct lazy_sym crypto_syms[] = {LAZY_CRYPTO_SYMBOLS(LAZY_ROW)};
#undef LAZY_ROW

struct lazy_lib {
	const char *soname;
	const char *package;      /* the Debian package that ships it */
	const struct lazy_sym *syms;
	size_t n_syms;
	void *handle;
};

static struct lazy_lib archive_lib = {"libarchive.so.13", "libarchive13", archive_syms,
				      sizeof archive_syms / sizeof archive_syms[0], NULL};
static struct lazy_lib crypto_lib = {"libcrypto.so.3", "libssl3", crypto_syms,
				     sizeof crypto_syms / sizeof crypto_syms[0], NULL};

static int lazy_load(struct lazy_lib *lib, berr_t *e)
{
	void *h;

	if (lib->handle)
		return 0;
	h = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return berr_set(e, ENOENT, "%s not found: install %s (%s)", lib->soname,
				lib->package, dlerror());
	for (size_t i = 0; i < lib->n_syms; i++) {
		void *p = dlsym(h, lib->syms[i].name);

		if (!p) {
			berr_set(e, ENOENT, "%s: symbol %s missing: install a newer %s", lib->soname,
				 lib->syms[i].name, lib->package);
			dlclose(h);
			return -1;
		}
		*lib->syms[i].ptr = p;
	}
	lib->handle = h;
	return 0;
}

int lazy_archive_load(berr_t *e)
{
	return lazy_load(&archive_lib, e);
}

int lazy_crypto_load(berr_t *e)
{
	return lazy_load(&crypto_lib, e);
}

bool lazy_archive_loaded(void)
{
	return archive_lib.handle != NULL;
}

bool lazy_crypto_loaded(void)
{
	return crypto_lib.handle != NULL;
}
