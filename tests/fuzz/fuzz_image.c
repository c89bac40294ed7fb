/* tests/fuzz/fuzz_image.c: libFuzzer target for what an image feeds berth:
 * index/manifest/config/manifest.json documents, tar member names and
 * whiteouts (with the invariant that no cleaned path leaves the root),
 * image references, and /etc/passwd + /etc/group for User resolution. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "image/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A cleaned path is relative and has no "." or ".." component. */
static void check_inside(const char *p)
{
	const char *s = p;

	if (!p || !*p || p[0] == '/')
		abort();
	if (!strcmp(p, "."))
		return;
	while (*s) {
		size_t n = strcspn(s, "/");

		if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
			abort();
		s += n;
		if (*s == '/')
			s++;
	}
}

static void fuzz_tar_name(const char *name)
{
	_cleanup_free_ char *path = image_tar_path(name);
	_cleanup_free_ char *target = NULL;
	_cleanup_berr_ berr_t e = BERR_INIT;
	enum whiteout_kind kind;

	if (!path) {
		if (*name)
			abort();
		return;
	}
	check_inside(path);
	if (image_whiteout_classify(path, &kind, &target, &e) < 0) {
		if (!e.msg)
			abort();
		return;
	}
	if (kind == WHITEOUT_FILE || kind == WHITEOUT_OPAQUE)
		check_inside(target);
}

static bool exists_prefix(const char *path)
{
	/* Pretend paths ending in ".tar" or "layout" exist. */
	return str_has_suffix(path, ".tar") || str_has_suffix(path, "layout");
}

static void fuzz_ref(const char *s)
{
	struct image_ref r;
	_cleanup_berr_ berr_t e = BERR_INIT;

	if (image_ref_parse(s, exists_prefix, &r, &e) == 0)
		image_ref_free(&r);
	else if (!e.msg)
		abort();
}

static void fuzz_user(char *text)
{
	char *group = strchr(text, '\x01'), *user;
	struct image_user u;
	_cleanup_berr_ berr_t e = BERR_INIT;

	if (group)
		*group++ = '\0';
	user = group ? strchr(group, '\x01') : NULL;
	if (user)
		*user++ = '\0';
	if (image_user_resolve(user ? user : "root", text, group, &u, &e) == 0)
		image_user_free(&u);
	else if (!e.msg)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_free_ char *text = NULL;
	_cleanup_berr_ berr_t e = BERR_INIT;

	if (size < 1)
		return 0;
	text = xmalloc(size);
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	switch (data[0] % 4) {
	case 0:
		if (image_parse_check(text, size - 1, &e) < 0 && !e.msg)
			abort(); /* a failure must always say why */
		break;
	case 1:
		fuzz_tar_name(text);
		break;
	case 2:
		fuzz_ref(text);
		break;
	case 3:
		fuzz_user(text);
		break;
	}
	return 0;
}
