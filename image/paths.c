/* image/paths.c: pure rules for tar member names: cleaning against the
 * root, whiteout names (image-spec layer.md), and umoci's rootless owner
 * xattr. No I/O here: unit-tested and fuzzed. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/path.h"
#include "common/util.h"
#include "image.h"

#define WHITEOUT_PREFIX ".wh."
#define WHITEOUT_META_PREFIX ".wh..wh."
#define WHITEOUT_OPAQUE_NAME ".wh..wh..opq"

char *image_tar_path(const char *name)
{
	_cleanup_free_ char *abs = NULL;
	char *clean;

	if (!name || !*name)
		return NULL;
	/* Anchoring at "/" makes path_clean drop every ".." that would climb
	 * above the root: "../../etc" is "etc", as in umoci and docker. */
	abs = xasprintf("/%s", name);
	clean = path_clean(abs);
	if (strcmp(clean, "/") == 0) {
		free(clean);
		return xstrdup(".");
	}
	memmove(clean, clean + 1, strlen(clean));
	return clean;
}

int image_whiteout_classify(const char *path, enum whiteout_kind *kind, char **target,
			    berr_t *e)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	size_t dirlen = slash ? (size_t)(slash - path) : 0;
	const char *hidden;

	*kind = WHITEOUT_NONE;
	*target = NULL;
	if (strncmp(base, WHITEOUT_PREFIX, strlen(WHITEOUT_PREFIX)) != 0)
		return 0;
	if (strcmp(base, WHITEOUT_OPAQUE_NAME) == 0) {
		*kind = WHITEOUT_OPAQUE;
		*target = slash ? xstrndup(path, dirlen) : xstrdup(".");
		return 0;
	}
	if (strncmp(base, WHITEOUT_META_PREFIX, strlen(WHITEOUT_META_PREFIX)) == 0) {
		*kind = WHITEOUT_META;
		return 0;
	}
	hidden = base + strlen(WHITEOUT_PREFIX);
	if (!*hidden || !strcmp(hidden, ".") || !strcmp(hidden, ".."))
		return berr_set(e, EINVAL, "invalid whiteout \"%s\": it names no file", path);
	*kind = WHITEOUT_FILE;
	*target = slash ? xasprintf("%.*s/%s", (int)dirlen, path, hidden) : xstrdup(hidden);
	return 0;
}

/* protobuf varint: 7 bits a byte, low first, high bit = more follows. */
static size_t put_varint(unsigned char *p, uint32_t v)
{
	size_t n = 0;

	do {
		p[n] = v & 0x7f;
		v >>= 7;
		if (v)
			p[n] |= 0x80;
		n++;
	} while (v);
	return n;
}

size_t image_rootless_xattr(uint32_t uid, uint32_t gid, unsigned char buf[16])
{
	size_t n = 0;

	/* proto3 leaves out zero fields; 0:0 is "unchanged", so no xattr at
	 * all (rootless-containers/proto: the value SHOULD be removed). */
	if (uid) {
		buf[n++] = 1 << 3 | 0; /* field 1, varint */
		n += put_varint(buf + n, uid);
	}
	if (gid) {
		buf[n++] = 2 << 3 | 0; /* field 2, varint */
		n += put_varint(buf + n, gid);
	}
	return n;
}
