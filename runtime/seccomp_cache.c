/* runtime/seccomp_cache.c: compiled seccomp filters kept under the state
 * root, so that a large profile (16 ms to compile for three architectures
 * with libseccomp 2.5) is compiled once, not at every start. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "seccomp_cache.h"

#define CACHE_DIR "seccomp-cache"
#define CACHE_MAGIC "berth-seccomp-1\n"
#define CACHE_MAX_ENTRIES 64

struct cache_header {
	char magic[16];
	uint32_t key_len;
	uint32_t n_insns;
};

/* FNV-1a picks the file; a hit is only a hit when the stored key is the
 * same byte for byte, so the hash need not resist collisions. */
static uint64_t fnv1a(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static char *entry_path(const char *root, const char *key, size_t key_len)
{
	return xasprintf("%s/%s/%016llx", root, CACHE_DIR,
			 (unsigned long long)fnv1a(key, key_len));
}

int seccomp_cache_lookup(const char *root, const char *key, size_t key_len,
			 struct sock_filter **insns, size_t *n)
{
	_cleanup_free_ char *path = NULL, *data = NULL;
	struct cache_header h;
	berr_t e = BERR_INIT;
	size_t len;

	if (!root)
		return 0;
	path = entry_path(root, key, key_len);
	if (read_file(path, &data, &len, &e) < 0) {
		berr_free(&e);
		return 0;
	}
	if (len < sizeof h)
		return 0;
	memcpy(&h, data, sizeof h);
	if (memcmp(h.magic, CACHE_MAGIC, sizeof h.magic) != 0 || h.key_len != key_len ||
	    len != sizeof h + key_len + (size_t)h.n_insns * sizeof(struct sock_filter) ||
	    memcmp(data + sizeof h, key, key_len) != 0)
		return 0;
	*n = h.n_insns;
	*insns = xmalloc(*n * sizeof **insns);
	memcpy(*insns, data + sizeof h + key_len, *n * sizeof **insns);
	log_debug("seccomp: compiled filter from the cache %s", path);
	return 1;
}

/* Keep the cache bounded: when full, drop the least recently written. */
static void evict_oldest(int dirfd)
{
	DIR *d = fdopendir(dup(dirfd));
	struct dirent *de;
	char oldest[NAME_MAX + 1] = "";
	time_t oldest_time = 0;
	int count = 0;

	if (!d)
		return;
	while ((de = readdir(d))) {
		struct stat st;

		if (de->d_name[0] == '.' || fstatat(dirfd, de->d_name, &st, 0) < 0)
			continue;
		count++;
		if (!oldest[0] || st.st_mtime < oldest_time) {
			snprintf(oldest, sizeof oldest, "%s", de->d_name);
			oldest_time = st.st_mtime;
		}
	}
	closedir(d);
	if (count >= CACHE_MAX_ENTRIES && oldest[0])
		unlinkat(dirfd, oldest, 0);
}

void seccomp_cache_store(const char *root, const char *key, size_t key_len,
			 const struct sock_filter *insns, size_t n)
{
	_cleanup_free_ char *dir = NULL, *path = NULL, *data = NULL;
	_cleanup_close_ int dirfd = -1;
	struct cache_header h = {.key_len = key_len, .n_insns = n};
	size_t len = sizeof h + key_len + n * sizeof *insns;
	berr_t e = BERR_INIT;

	if (!root)
		return;
	dir = xasprintf("%s/%s", root, CACHE_DIR);
	if (mkdir_p(dir, 0700, &e) < 0)
		goto fail;
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		berr_sys(&e, "open \"%s\"", dir);
		goto fail;
	}
	evict_oldest(dirfd);
	memcpy(h.magic, CACHE_MAGIC, sizeof h.magic);
	data = xmalloc(len);
	memcpy(data, &h, sizeof h);
	memcpy(data + sizeof h, key, key_len);
	memcpy(data + sizeof h + key_len, insns, n * sizeof *insns);
	path = entry_path(root, key, key_len);
	if (write_file_atomic_at(dirfd, strrchr(path, '/') + 1, data, len, 0600, &e) < 0)
		goto fail;
	return;
fail:
	/* A cache that cannot be written costs time, never correctness. */
	log_debug("seccomp cache: %s", e.msg);
	berr_free(&e);
}
