/* image/extract.c: apply tar entries to a root directory without ever
 * leaving it: parents are resolved with openat2(RESOLVE_IN_ROOT), the last
 * component is created with *at() calls that never follow it, and nothing
 * existing is opened for writing (it is replaced), so symlinks and hard
 * links planted by earlier entries or layers cannot redirect a write. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/log.h"
#include "common/path.h"
#include "common/util.h"
#include "internal.h"
#include "lazylibs.h"

/* A merged root is resolved like the container will see it (symlinks
 * followed, inside the root); a store layer is a directory of its own where
 * a symlink means nothing until the overlay is assembled: never followed
 * (a path through one is resolved in the union of the layers instead). */
#define RESOLVE_MERGED (RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV)
#define RESOLVE_LAYER (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV)
#define ROOTLESS_XATTR "user.rootlesscontainers"

/* ---- a string hash set with a small value per key ---- */

struct pathset {
	char **keys;
	uint32_t *vals;
	size_t cap, len;
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

static size_t pathset_slot(const struct pathset *ps, const char *key)
{
	size_t i = hash_str(key) & (ps->cap - 1);

	while (ps->keys[i] && strcmp(ps->keys[i], key) != 0)
		i = (i + 1) & (ps->cap - 1);
	return i;
}

static void pathset_grow(struct pathset *ps)
{
	struct pathset n = {.cap = ps->cap ? ps->cap * 2 : 1024};

	n.keys = xcalloc(n.cap, sizeof *n.keys);
	n.vals = xcalloc(n.cap, sizeof *n.vals);
	for (size_t i = 0; i < ps->cap; i++) {
		if (!ps->keys[i])
			continue;
		size_t s = pathset_slot(&n, ps->keys[i]);

		n.keys[s] = ps->keys[i];
		n.vals[s] = ps->vals[i];
	}
	n.len = ps->len;
	free(ps->keys);
	free(ps->vals);
	*ps = n;
}

/* The value slot of key, inserted with 0 when new. */
static uint32_t *pathset_get(struct pathset *ps, const char *key, bool insert)
{
	size_t i;

	if (!ps->cap) {
		if (!insert)
			return NULL;
		pathset_grow(ps);
	}
	i = pathset_slot(ps, key);
	if (ps->keys[i])
		return &ps->vals[i];
	if (!insert)
		return NULL;
	if ((ps->len + 1) * 2 > ps->cap) {
		pathset_grow(ps);
		i = pathset_slot(ps, key);
	}
	ps->keys[i] = xstrdup(key);
	ps->vals[i] = 0;
	ps->len++;
	return &ps->vals[i];
}

static void pathset_clear(struct pathset *ps)
{
	for (size_t i = 0; i < ps->cap; i++)
		free(ps->keys[i]);
	free(ps->keys);
	free(ps->vals);
	memset(ps, 0, sizeof *ps);
}

/* ---- the extractor ---- */

enum { PATH_TOUCHED = 1, PATH_ADDED = 2 };

struct dirfix {
	char *path;
	mode_t mode;
	struct timespec times[2];
};

struct extractor {
	int rootfd;
	unsigned long long resolve;
	int *union_fds;            /* store form: this layer, then the lower ones */
	size_t n_union;
	struct extract_opts o;
	struct extract_stats st;
	char *cached_parent;       /* the last parent directory and its fd */
	int cached_fd;
	struct pathset layer_paths; /* merged form: what this layer put where */
	struct pathset dir_index;  /* path -> 1 + index in dirs */
	struct dirfix *dirs;
	size_t n_dirs, cap_dirs;
	char **implicit;
	size_t n_implicit;
};

struct extractor *extractor_new(int rootfd, const struct extract_opts *o)
{
	struct extractor *x = xzalloc(sizeof *x);

	x->rootfd = rootfd;
	x->o = *o;
	x->cached_fd = -1;
	x->resolve = o->overlay ? RESOLVE_LAYER : RESOLVE_MERGED;
	if (o->overlay) {
		x->n_union = 1 + o->n_lowers;
		x->union_fds = xcalloc(x->n_union, sizeof(int));
		x->union_fds[0] = rootfd;
		for (size_t i = 0; i < o->n_lowers; i++)
			x->union_fds[1 + i] = o->lowerfds[i];
	}
	return x;
}

static void drop_cache(struct extractor *x)
{
	if (x->cached_fd >= 0)
		close(x->cached_fd);
	x->cached_fd = -1;
	free(x->cached_parent);
	x->cached_parent = NULL;
}

static void dirs_clear(struct extractor *x)
{
	for (size_t i = 0; i < x->n_dirs; i++)
		free(x->dirs[i].path);
	free(x->dirs);
	x->dirs = NULL;
	x->n_dirs = x->cap_dirs = 0;
	pathset_clear(&x->dir_index);
}

void extractor_free(struct extractor *x)
{
	if (!x)
		return;
	drop_cache(x);
	pathset_clear(&x->layer_paths);
	dirs_clear(x);
	strv_free(x->implicit);
	free(x->union_fds);
	free(x);
}

void extractor_begin_layer(struct extractor *x)
{
	pathset_clear(&x->layer_paths);
	strv_free(x->implicit);
	x->implicit = NULL;
	x->n_implicit = 0;
}

const struct extract_stats *extractor_stats(const struct extractor *x)
{
	return &x->st;
}

char *const *extractor_implicit_dirs(const struct extractor *x)
{
	return x->implicit;
}

static long openat2_in(const struct extractor *x, const char *path, int flags)
{
	struct open_how how = {.flags = flags | O_CLOEXEC, .resolve = x->resolve};
	long fd;

	do
		fd = syscall(SYS_openat2, x->rootfd, path, &how, sizeof how);
	while (fd < 0 && (errno == EAGAIN || errno == EINTR));
	return fd;
}

/* Split "a/b/c" into "a/b" and "c" ("c" alone: parent "."). */
static void split_path(char *path, const char **parent, const char **name)
{
	char *slash = strrchr(path, '/');

	if (slash) {
		*slash = '\0';
		*parent = path;
		*name = slash + 1;
	} else {
		*parent = ".";
		*name = path;
	}
}

static void mark_layer_path(struct extractor *x, const char *path)
{
	_cleanup_free_ char *p = NULL;
	char *slash;

	if (x->o.overlay)
		return;
	*pathset_get(&x->layer_paths, path, true) |= PATH_ADDED | PATH_TOUCHED;
	p = xstrdup(path);
	while ((slash = strrchr(p, '/'))) {
		uint32_t *v;

		*slash = '\0';
		v = pathset_get(&x->layer_paths, p, true);
		if (*v & PATH_TOUCHED)
			break;
		*v |= PATH_TOUCHED;
	}
}

/* Store form: a directory the layer did not carry takes the metadata the
 * layers below give it, as if the layer had been applied on top of them. */
static int copy_lower_dir_meta(struct extractor *x, int dfd, const char *path, berr_t *e)
{
	_cleanup_close_ int lfd = -1;
	struct stat st;

	if (!x->o.n_lowers)
		return 0;
	lfd = layers_open(x->o.lowerfds, x->o.n_lowers, path, O_RDONLY | O_NOFOLLOW | O_DIRECTORY, e);
	if (lfd < 0) {
		berr_free(e);
		return 0;
	}
	if (fstat(lfd, &st) < 0 || !S_ISDIR(st.st_mode))
		return 0;
	if (x->o.owners != OWNERS_XATTR && fchown(dfd, st.st_uid, st.st_gid) < 0)
		return berr_sys(e, "chown \"%s\"", path);
	if (fchmod(dfd, st.st_mode & 07777) < 0)
		return berr_sys(e, "chmod \"%s\"", path);
	return 0;
}

static int make_implicit_dir(struct extractor *x, int at, const char *name, const char *path,
			     berr_t *e)
{
	_cleanup_close_ int dfd = -1;

	if (mkdirat(at, name, 0755) < 0) {
		if (errno == EEXIST)
			return 0;
		return berr_sys(e, "mkdir \"%s\"", path);
	}
	if (!x->o.overlay)
		return 0;
	x->st.depends_on_lowers = true;
	strv_append(&x->implicit, &x->n_implicit, xstrdup(path));
	dfd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return berr_sys(e, "open \"%s\"", path);
	return copy_lower_dir_meta(x, dfd, path, e);
}

/* mkdir -p inside the root for a parent that is missing. */
static int make_parents(struct extractor *x, const char *parent, berr_t *e)
{
	_cleanup_free_ char *p = xstrdup(parent);
	_cleanup_close_ int cur = openat2_in(x, ".", O_PATH | O_DIRECTORY);
	char *s = p;

	if (cur < 0)
		return berr_sys(e, "open the root");
	for (;;) {
		char *slash = strchr(s, '/');
		int next;

		if (slash)
			*slash = '\0';
		next = openat2_in(x, p, O_PATH | O_DIRECTORY);
		if (next < 0 && errno == ENOENT) {
			if (make_implicit_dir(x, cur, s, p, e) < 0)
				return -1;
			next = openat2_in(x, p, O_PATH | O_DIRECTORY);
		}
		if (next < 0) {
			if (errno == ENOTDIR)
				return berr_set(e, ENOTDIR, "\"%s\": a parent is not a directory", parent);
			return berr_sys(e, "open \"%s\"", p);
		}
		close(cur);
		cur = next;
		if (!slash)
			return 0;
		*slash = '/';
		s = slash + 1;
	}
}

/* Store form: this layer refers to the layers below (a path through a
 * symlink, a missing parent, a hard link across layers). Its content then
 * depends on them (keyed by ChainID); unpacked in parallel with them, it
 * must wait (EAGAIN) and be unpacked again on top of them. */
static int needs_lowers(struct extractor *x, const char *path, berr_t *e)
{
	if (x->o.independent)
		return berr_set(e, EAGAIN, "\"%s\" needs the layers below", path);
	x->st.depends_on_lowers = true;
	return 0;
}

/* Store form: where `path` (a directory) is once the overlay is assembled:
 * resolved in the union of this layer and the lower ones, symlinks followed
 * there. A path that exists nowhere stays as it is. *canon is malloc'd. */
static int union_dir(struct extractor *x, const char *path, char **canon, berr_t *e)
{
	struct layer_hit hit;

	if (needs_lowers(x, path, e) < 0)
		return -1;
	if (layers_lookup(x->union_fds, x->n_union, path, true, &hit, e) < 0) {
		/* Through a symlink to nowhere: an error, as in a merged root
		 * (the directories are not made under the symlink's name). */
		if (e->errnum != ENOENT || hit.followed)
			return -1;
		berr_free(e);
		*canon = xstrdup(path);
		return 0;
	}
	if (!S_ISDIR(hit.st.st_mode)) {
		free(hit.rel);
		return berr_set(e, ENOTDIR, "\"%s\": not a directory", path);
	}
	*canon = hit.rel;
	return 0;
}

static bool retry_in_union(const struct extractor *x)
{
	return x->o.overlay && (errno == ENOENT || errno == ELOOP || errno == ENOTDIR);
}

/* Open (and with `create`, make) a directory of the root for entries. */
static int open_dir(struct extractor *x, const char *path, bool create, int flags, berr_t *e)
{
	_cleanup_free_ char *canon = NULL;
	int fd = openat2_in(x, path, flags);

	if (fd >= 0)
		return fd;
	if (retry_in_union(x)) {
		if (union_dir(x, path, &canon, e) < 0)
			return -1;
		path = canon;
		fd = openat2_in(x, path, flags);
	}
	if (fd < 0 && errno == ENOENT && create) {
		if (make_parents(x, path, e) < 0)
			return -1;
		fd = openat2_in(x, path, flags);
	}
	if (fd < 0) {
		if (errno == ENOTDIR || errno == ELOOP)
			return berr_set(e, ENOTDIR, "\"%s\": not a directory", path);
		return berr_sys(e, "open \"%s\"", path);
	}
	return fd;
}

/* The directory that holds an entry; cached while entries stay in it. The
 * cache is dropped whenever a whiteout removes anything, so a cached fd
 * never stands for a path whose meaning changed. */
static int parent_fd(struct extractor *x, const char *parent, bool create, berr_t *e)
{
	int fd;

	if (x->cached_parent && strcmp(x->cached_parent, parent) == 0)
		return x->cached_fd;
	drop_cache(x);
	fd = open_dir(x, parent, create, O_PATH | O_DIRECTORY, e);
	if (fd < 0)
		return -1;
	x->cached_parent = xstrdup(parent);
	x->cached_fd = fd;
	return fd;
}

/* Make room for a new entry: remove what is there, unless both are
 * directories (merged). Sets *kept_dir when an existing directory stays. */
static int clear_slot(struct extractor *x, int pfd, const char *name, const char *path,
		      bool want_dir, bool *kept_dir, berr_t *e)
{
	struct stat st;

	*kept_dir = false;
	if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0;
		return berr_sys(e, "stat \"%s\"", path);
	}
	if (S_ISDIR(st.st_mode) && want_dir) {
		*kept_dir = true;
		return 0;
	}
	/* The cached parent is this entry's parent, which stays: only the
	 * entry (and what is below it) goes. */
	if (S_ISDIR(st.st_mode))
		return rm_rf_at(pfd, name, e) < 0 ? berr_wrap(e, "replace \"%s\"", path) : 0;
	if (unlinkat(pfd, name, 0) < 0 && errno != ENOENT)
		return berr_sys(e, "replace \"%s\"", path);
	return 0;
}

/* ---- metadata ---- */

static bool overlay_xattr(const char *name)
{
	return str_has_prefix(name, "trusted.overlay.") || str_has_prefix(name, "user.overlay.");
}

/* fd >= 0: fsetxattr; otherwise lsetxattr on "/proc/self/fd/PFD/NAME",
 * which resolves the parent by fd and never follows NAME. */
static int set_xattr(struct extractor *x, int fd, int pfd, const char *name, const char *path,
		     const char *key, const void *value, size_t size, berr_t *e)
{
	char proc[64 + 256];
	int r;

	if (fd >= 0) {
		r = fsetxattr(fd, key, value, size, 0);
	} else {
		snprintf(proc, sizeof proc, "/proc/self/fd/%d/%s", pfd, name);
		r = lsetxattr(proc, key, value, size, 0);
	}
	if (r == 0)
		return 0;
	/* Rootless, security.capability and trusted.* need privileges; a
	 * symlink takes no user.*; some filesystems take none at all. */
	if (errno == EPERM || errno == ENOTSUP || errno == EACCES) {
		x->st.xattrs_skipped++;
		log_debug("%s: xattr %s not kept: %s", path, key, strerror(errno));
		return 0;
	}
	return berr_sys(e, "set xattr %s on \"%s\"", key, path);
}

static int apply_xattrs(struct extractor *x, struct archive_entry *en, int fd, int pfd,
			const char *name, const char *path, berr_t *e)
{
	const char *key;
	const void *value;
	size_t size;

	if (sym_archive_entry_xattr_reset(en) == 0)
		return 0;
	while (sym_archive_entry_xattr_next(en, &key, &value, &size) == ARCHIVE_OK) {
		/* overlayfs reads these as instructions (redirects, opaque,
		 * metacopy): an image must not be able to plant them. */
		if (overlay_xattr(key) || strcmp(key, ROOTLESS_XATTR) == 0) {
			x->st.xattrs_skipped++;
			continue;
		}
		if (set_xattr(x, fd, pfd, name, path, key, value, size, e) < 0)
			return -1;
	}
	return 0;
}

static int apply_owner(struct extractor *x, struct archive_entry *en, int fd, int pfd,
		       const char *name, const char *path, berr_t *e)
{
	uid_t uid = sym_archive_entry_uid(en);
	gid_t gid = sym_archive_entry_gid(en);
	unsigned char buf[16];
	size_t n;
	int r;

	if (x->o.owners != OWNERS_XATTR) {
		r = fd >= 0 ? fchown(fd, uid, gid) : fchownat(pfd, name, uid, gid, AT_SYMLINK_NOFOLLOW);
		if (r < 0 && errno == EINVAL && x->o.owners == OWNERS_USERNS)
			return berr_set(e, EINVAL,
					"\"%s\" belongs to %u:%u, which the user namespace does not map: give the user a larger range in /etc/subuid and /etc/subgid",
					path, (unsigned)uid, (unsigned)gid);
		if (r < 0)
			return berr_sys(e, "chown \"%s\" to %u:%u", path, (unsigned)uid, (unsigned)gid);
		return 0;
	}
	/* umoci's convention for an unprivileged unpack. */
	n = image_rootless_xattr(uid, gid, buf);
	if (!n)
		return 0;
	x->st.owners_kept++;
	return set_xattr(x, fd, pfd, name, path, ROOTLESS_XATTR, buf, n, e);
}

static void entry_times(struct archive_entry *en, struct timespec ts[2])
{
	ts[1].tv_sec = sym_archive_entry_mtime(en);
	ts[1].tv_nsec = sym_archive_entry_mtime_nsec(en);
	if (sym_archive_entry_atime_is_set(en)) {
		ts[0].tv_sec = sym_archive_entry_atime(en);
		ts[0].tv_nsec = sym_archive_entry_atime_nsec(en);
	} else {
		ts[0] = ts[1];
	}
	if (ts[0].tv_nsec < 0 || ts[0].tv_nsec > 999999999)
		ts[0].tv_nsec = 0;
	if (ts[1].tv_nsec < 0 || ts[1].tv_nsec > 999999999)
		ts[1].tv_nsec = 0;
}

/* ---- entries ---- */

static int count_bytes(struct extractor *x, uint64_t n, const char *path, berr_t *e)
{
	if (n > x->o.max_bytes || x->st.bytes > x->o.max_bytes - n)
		return berr_set(e, EFBIG,
				"\"%s\": the image unpacks to more than %llu bytes (the limit; see --max-bytes)",
				path, (unsigned long long)x->o.max_bytes);
	x->st.bytes += n;
	return 0;
}

static int write_data(struct extractor *x, struct archive *a, int fd, const char *path,
		      int64_t size, berr_t *e)
{
	int64_t pos = 0;

	for (;;) {
		const void *buf;
		size_t len;
		la_int64_t off;
		int r = sym_archive_read_data_block(a, &buf, &len, &off);

		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
			return berr_set(e, EIO, "\"%s\": %s", path, sym_archive_error_string(a));
		if (off < 0 || off + (int64_t)len > size)
			return berr_set(e, EINVAL, "\"%s\": data beyond the entry's size", path);
		if (off != pos && lseek(fd, off, SEEK_SET) < 0)
			return berr_sys(e, "seek in \"%s\"", path);
		if (write_all(fd, buf, len) < 0)
			return berr_sys(e, "write \"%s\"", path);
		pos = off + len;
	}
	/* A sparse file may end in a hole. */
	if (pos < size && ftruncate(fd, size) < 0)
		return berr_sys(e, "truncate \"%s\"", path);
	return 0;
}

static int make_file(struct extractor *x, struct archive *a, struct archive_entry *en, int pfd,
		     const char *name, const char *path, berr_t *e)
{
	mode_t mode = sym_archive_entry_mode(en) & 07777;
	int64_t size = sym_archive_entry_size(en);
	struct timespec ts[2];
	_cleanup_close_ int fd = -1;
	bool kept;
	int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;

	if (size < 0)
		size = 0;
	if (count_bytes(x, size, path, e) < 0)
		return -1;
	fd = openat(pfd, name, flags, mode & 0777);
	if (fd < 0 && errno == EEXIST) {
		if (clear_slot(x, pfd, name, path, false, &kept, e) < 0)
			return -1;
		fd = openat(pfd, name, flags, mode & 0777);
	}
	if (fd < 0)
		return berr_sys(e, "create \"%s\"", path);
	if (size && write_data(x, a, fd, path, size, e) < 0)
		return -1;
	/* chown clears set-id bits and security.capability: owner first,
	 * then the mode, then xattrs. */
	if (apply_owner(x, en, fd, pfd, name, path, e) < 0)
		return -1;
	if ((mode & 07000) && fchmod(fd, mode) < 0)
		return berr_sys(e, "chmod \"%s\"", path);
	if (apply_xattrs(x, en, fd, pfd, name, path, e) < 0)
		return -1;
	entry_times(en, ts);
	if (futimens(fd, ts) < 0)
		return berr_sys(e, "set times of \"%s\"", path);
	return 0;
}

static void dir_fix_record(struct extractor *x, const char *path, mode_t mode,
			   const struct timespec ts[2])
{
	uint32_t *slot = pathset_get(&x->dir_index, path, true);
	struct dirfix *d;

	if (!*slot) {
		if (x->n_dirs == x->cap_dirs) {
			x->cap_dirs = x->cap_dirs ? x->cap_dirs * 2 : 256;
			x->dirs = xreallocarray(x->dirs, x->cap_dirs, sizeof *x->dirs);
		}
		x->dirs[x->n_dirs].path = xstrdup(path);
		*slot = ++x->n_dirs;
	}
	d = &x->dirs[*slot - 1];
	d->mode = mode;
	d->times[0] = ts[0];
	d->times[1] = ts[1];
}

static int dir_meta(struct extractor *x, struct archive_entry *en, int dfd, int pfd,
		    const char *name, const char *path, berr_t *e)
{
	struct timespec ts[2];

	if (apply_owner(x, en, dfd, pfd, name, path, e) < 0 ||
	    apply_xattrs(x, en, dfd, pfd, name, path, e) < 0)
		return -1;
	entry_times(en, ts);
	dir_fix_record(x, path, sym_archive_entry_mode(en) & 07777, ts);
	return 0;
}

static int make_dir(struct extractor *x, struct archive_entry *en, int pfd, const char *name,
		    const char *path, berr_t *e)
{
	mode_t mode = sym_archive_entry_mode(en) & 0777;
	_cleanup_close_ int dfd = -1;
	bool kept = false;

	/* Writable by us until extractor_fix_dirs sets the real mode. */
	if (mkdirat(pfd, name, mode | 0700) < 0) {
		if (errno != EEXIST)
			return berr_sys(e, "mkdir \"%s\"", path);
		if (clear_slot(x, pfd, name, path, true, &kept, e) < 0)
			return -1;
		if (!kept && mkdirat(pfd, name, mode | 0700) < 0)
			return berr_sys(e, "mkdir \"%s\"", path);
	}
	dfd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return berr_sys(e, "open \"%s\"", path);
	return dir_meta(x, en, dfd, pfd, name, path, e);
}

static int make_symlink(struct extractor *x, struct archive_entry *en, int pfd,
			const char *name, const char *path, berr_t *e)
{
	const char *target = sym_archive_entry_symlink(en);
	struct timespec ts[2];
	bool kept;

	if (!target || !*target)
		return berr_set(e, EINVAL, "\"%s\": symlink without a target", path);
	/* The target is only data: whoever follows it later resolves it
	 * inside the root (RESOLVE_IN_ROOT, or the container's own root). */
	if (symlinkat(target, pfd, name) < 0) {
		if (errno != EEXIST)
			return berr_sys(e, "symlink \"%s\"", path);
		if (clear_slot(x, pfd, name, path, false, &kept, e) < 0)
			return -1;
		if (symlinkat(target, pfd, name) < 0)
			return berr_sys(e, "symlink \"%s\"", path);
	}
	if (apply_owner(x, en, -1, pfd, name, path, e) < 0 ||
	    apply_xattrs(x, en, -1, pfd, name, path, e) < 0)
		return -1;
	entry_times(en, ts);
	if (utimensat(pfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
		return berr_sys(e, "set times of \"%s\"", path);
	return 0;
}

static int make_node(struct extractor *x, struct archive_entry *en, int pfd, const char *name,
		     const char *path, berr_t *e)
{
	mode_t type = sym_archive_entry_filetype(en);
	mode_t mode = sym_archive_entry_mode(en) & 07777;
	dev_t dev = makedev(sym_archive_entry_rdevmajor(en), sym_archive_entry_rdevminor(en));
	struct timespec ts[2];
	bool kept;

	if (type != AE_IFIFO && x->o.owners != OWNERS_CHOWN) {
		if (!x->st.devices_skipped)
			log_warn("unprivileged unpack: device nodes are skipped (first: \"%s\")", path);
		x->st.devices_skipped++;
		return 0;
	}
	if (mknodat(pfd, name, type | (mode & 0777), type == AE_IFIFO ? 0 : dev) < 0) {
		if (errno != EEXIST)
			return berr_sys(e, "mknod \"%s\"", path);
		if (clear_slot(x, pfd, name, path, false, &kept, e) < 0)
			return -1;
		if (mknodat(pfd, name, type | (mode & 0777), type == AE_IFIFO ? 0 : dev) < 0)
			return berr_sys(e, "mknod \"%s\"", path);
	}
	if (apply_owner(x, en, -1, pfd, name, path, e) < 0)
		return -1;
	if ((mode & 07000) && fchmodat(pfd, name, mode, AT_SYMLINK_NOFOLLOW) < 0)
		return berr_sys(e, "chmod \"%s\"", path);
	if (apply_xattrs(x, en, -1, pfd, name, path, e) < 0)
		return -1;
	entry_times(en, ts);
	if (utimensat(pfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
		return berr_sys(e, "set times of \"%s\"", path);
	return 0;
}

/* Store form: the target lives in a lower layer, which is a different
 * directory: the layer gets its own copy (overlayfs cannot share an inode
 * across layers either). */
static int copy_from_lower(struct extractor *x, int lowerfd, const char *target, int pfd,
			   const char *name, const char *path, berr_t *e)
{
	_cleanup_close_ int src = -1, dst = -1;
	struct stat st;
	struct timespec ts[2];
	char value[64];
	ssize_t n;

	src = openat(lowerfd, target, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (src < 0)
		return berr_sys(e, "hard link \"%s\" to \"%s\"", path, target);
	if (fstat(src, &st) < 0)
		return berr_sys(e, "stat \"%s\"", target);
	if (!S_ISREG(st.st_mode))
		return berr_set(e, ENOTSUP, "hard link \"%s\": \"%s\" in a lower layer is not a regular file",
				path, target);
	if (count_bytes(x, st.st_size, path, e) < 0)
		return -1;
	dst = openat(pfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		     st.st_mode & 0777);
	if (dst < 0)
		return berr_sys(e, "create \"%s\"", path);
	for (off_t left = st.st_size; left > 0;) {
		ssize_t c = copy_file_range(src, NULL, dst, NULL, left, 0);

		if (c <= 0)
			return berr_sys(e, "copy \"%s\" to \"%s\"", target, path);
		left -= c;
	}
	if (x->o.owners != OWNERS_XATTR && fchown(dst, st.st_uid, st.st_gid) < 0)
		return berr_sys(e, "chown \"%s\"", path);
	n = fgetxattr(src, ROOTLESS_XATTR, value, sizeof value);
	if (x->o.owners == OWNERS_XATTR && n > 0 && fsetxattr(dst, ROOTLESS_XATTR, value, n, 0) < 0)
		return berr_sys(e, "set xattr on \"%s\"", path);
	if ((st.st_mode & 07000) && fchmod(dst, st.st_mode & 07777) < 0)
		return berr_sys(e, "chmod \"%s\"", path);
	ts[0] = st.st_atim;
	ts[1] = st.st_mtim;
	if (futimens(dst, ts) < 0)
		return berr_sys(e, "set times of \"%s\"", path);
	x->st.depends_on_lowers = true;
	return 0;
}

static int link_fd(int tfd, int pfd, const char *name)
{
	char proc[FD_PATH_LEN];

	if (linkat(tfd, "", pfd, name, AT_EMPTY_PATH) == 0)
		return 0;
	if (errno != ENOENT && errno != EPERM)
		return -1;
	/* Without CAP_DAC_READ_SEARCH, AT_EMPTY_PATH is refused; the procfs
	 * link of the same fd works for anyone. */
	return linkat(AT_FDCWD, fd_path(tfd, proc), pfd, name, AT_SYMLINK_FOLLOW);
}

/* The inode a hard link names: an O_PATH fd in this root, or (store form)
 * a file of a lower layer (*lower_rel set, *lowerfd its layer). */
static int link_target(struct extractor *x, const char *target, int *tfd, int *lowerfd,
		       char **lower_rel, berr_t *e)
{
	struct layer_hit hit;

	/* Resolved inside the root like every other path; the last
	 * component is not followed (a link to a symlink links the symlink). */
	*tfd = openat2_in(x, target, O_PATH | O_NOFOLLOW);
	if (*tfd >= 0)
		return 0;
	if (!retry_in_union(x))
		return berr_sys(e, "open \"%s\"", target);
	if (needs_lowers(x, target, e) < 0)
		return -1;
	if (layers_lookup(x->union_fds, x->n_union, target, false, &hit, e) < 0)
		return -1;
	if (hit.layer > 0) {
		*lowerfd = x->union_fds[hit.layer];
		*lower_rel = hit.rel;
		return 0;
	}
	*tfd = openat(x->rootfd, hit.rel, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	free(hit.rel);
	return *tfd < 0 ? berr_sys(e, "open \"%s\"", target) : 0;
}

static int make_hardlink(struct extractor *x, const char *linkname, int pfd, const char *name,
			 const char *path, berr_t *e)
{
	_cleanup_free_ char *target = image_tar_path(linkname), *lower_rel = NULL;
	_cleanup_close_ int tfd = -1;
	int lowerfd = -1;
	struct stat st;
	bool kept;

	if (!target || strcmp(target, ".") == 0)
		return berr_set(e, EINVAL, "\"%s\": hard link to \"%s\"", path, linkname ? linkname : "");
	if (strcmp(target, path) == 0)
		return 0;
	if (link_target(x, target, &tfd, &lowerfd, &lower_rel, e) < 0)
		return berr_wrap(e, "hard link \"%s\"", path);
	if (lower_rel) {
		if (clear_slot(x, pfd, name, path, false, &kept, e) < 0)
			return -1;
		return copy_from_lower(x, lowerfd, lower_rel, pfd, name, path, e);
	}
	if (fstat(tfd, &st) < 0)
		return berr_sys(e, "stat \"%s\"", target);
	if (S_ISDIR(st.st_mode))
		return berr_set(e, EPERM, "hard link \"%s\" to directory \"%s\"", path, target);
	if (link_fd(tfd, pfd, name) < 0) {
		if (errno != EEXIST)
			return berr_sys(e, "hard link \"%s\" to \"%s\"", path, target);
		if (clear_slot(x, pfd, name, path, false, &kept, e) < 0)
			return -1;
		if (link_fd(tfd, pfd, name) < 0)
			return berr_sys(e, "hard link \"%s\" to \"%s\"", path, target);
	}
	return 0;
}

/* ---- whiteouts ---- */

static bool is_dir_entry(int dfd, const struct dirent *de)
{
	struct stat st;

	if (de->d_type != DT_UNKNOWN)
		return de->d_type == DT_DIR;
	return fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

/* Merged form: remove what lower layers put in dfd, keeping what this
 * layer added (touched paths; a touched directory is cleaned inside). */
static int opaque_clean(struct extractor *x, int dfd, const char *dir, berr_t *e)
{
	_cleanup_close_ int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d;
	struct dirent *de;
	int ret = 0;

	if (fd < 0)
		return berr_sys(e, "open \"%s\"", dir);
	d = fdopendir(fd);
	if (!d)
		return berr_sys(e, "opendir \"%s\"", dir);
	fd = -1;
	while (ret == 0 && (de = readdir(d))) {
		_cleanup_free_ char *child = NULL;
		uint32_t *v;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		child = strcmp(dir, ".") ? xasprintf("%s/%s", dir, de->d_name) : xstrdup(de->d_name);
		v = pathset_get(&x->layer_paths, child, false);
		if (!v) {
			ret = rm_rf_at(dirfd(d), de->d_name, e);
		} else if (is_dir_entry(dirfd(d), de)) {
			_cleanup_close_ int cfd = openat(dirfd(d), de->d_name,
							 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			ret = cfd < 0 ? berr_sys(e, "open \"%s\"", child) : opaque_clean(x, cfd, child, e);
		}
	}
	closedir(d);
	return ret;
}

static int whiteout_merged(struct extractor *x, enum whiteout_kind kind, char *target,
			   berr_t *e)
{
	const char *parent, *name;
	_cleanup_close_ int fd = -1;

	drop_cache(x);
	if (kind == WHITEOUT_OPAQUE) {
		fd = openat2_in(x, target, O_PATH | O_DIRECTORY);
		if (fd < 0)
			return errno == ENOENT || errno == ENOTDIR ? 0 : berr_sys(e, "open \"%s\"", target);
		return opaque_clean(x, fd, target, e);
	}
	/* Whiteouts hide lower layers only (image-spec layer.md). */
	if (pathset_get(&x->layer_paths, target, false))
		return 0;
	split_path(target, &parent, &name);
	fd = openat2_in(x, parent, O_PATH | O_DIRECTORY);
	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR ? 0 : berr_sys(e, "open \"%s\"", parent);
	return rm_rf_at(fd, name, e);
}

static int whiteout_overlay(struct extractor *x, enum whiteout_kind kind, char *target,
			    berr_t *e)
{
	const char *parent, *name;
	_cleanup_close_ int dfd = -1;
	struct layer_hit hit;
	struct stat st;
	int pfd;

	if (kind == WHITEOUT_OPAQUE) {
		const char *key = x->o.owners == OWNERS_CHOWN ? "trusted.overlay.opaque"
								 : "user.overlay.opaque";

		dfd = open_dir(x, target, true, O_RDONLY | O_DIRECTORY, e);
		if (dfd < 0)
			return -1;
		if (fsetxattr(dfd, key, "y", 1, 0) < 0)
			return berr_sys(e, "mark \"%s\" opaque (%s)", target, key);
		return 0;
	}
	split_path(target, &parent, &name);
	pfd = openat2_in(x, parent, O_PATH | O_DIRECTORY);
	/* A symlink or a file of this layer on the way hides whatever the
	 * layers below have there: nothing to whiteout (umoci's generator
	 * writes such whiteouts after replacing a directory by a symlink). */
	if (pfd < 0 && (errno == ELOOP || errno == ENOTDIR))
		return 0;
	if (pfd < 0) {
		_cleanup_free_ char *full = xasprintf("%s/%s", parent, name);

		if (errno != ENOENT)
			return berr_sys(e, "open \"%s\"", parent);
		if (needs_lowers(x, full, e) < 0)
			return -1;
		/* Nothing below to hide: no whiteout needed (and no directories
		 * made for one under a path that is a symlink here). */
		if (layers_lookup(x->union_fds, x->n_union, full, false, &hit, e) < 0) {
			if (e->errnum != ENOENT && e->errnum != ENOTDIR)
				return -1;
			berr_free(e);
			return 0;
		}
		free(hit.rel);
		pfd = open_dir(x, parent, true, O_PATH | O_DIRECTORY, e);
		if (pfd < 0)
			return -1;
	}
	dfd = pfd; /* closed on return */
	/* An entry of this same layer is not hidden by it. */
	if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return 0;
	if (mknodat(pfd, name, S_IFCHR | 0, makedev(0, 0)) < 0)
		return berr_sys(e, "create whiteout \"%s\"", target);
	return 0;
}

static int apply_whiteout(struct extractor *x, const char *path, enum whiteout_kind kind,
			  char *target, berr_t *e)
{
	int r;

	if (kind == WHITEOUT_META)
		return 0;
	r = x->o.overlay ? whiteout_overlay(x, kind, target, e) : whiteout_merged(x, kind, target, e);
	return r < 0 ? berr_wrap(e, "whiteout \"%s\"", path) : 0;
}

/* ---- one entry ---- */

static int root_entry(struct extractor *x, struct archive_entry *en, berr_t *e)
{
	_cleanup_close_ int fd = -1;

	if (sym_archive_entry_filetype(en) != AE_IFDIR)
		return berr_set(e, EINVAL, "an entry for the root is not a directory");
	fd = openat2_in(x, ".", O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return berr_sys(e, "open the root");
	return dir_meta(x, en, fd, -1, ".", ".", e);
}

static int apply_entry(struct extractor *x, struct archive *a, struct archive_entry *en,
		       char *path, berr_t *e)
{
	const char *hardlink = sym_archive_entry_hardlink(en);
	mode_t type = sym_archive_entry_filetype(en);
	_cleanup_free_ char *copy = xstrdup(path);
	const char *parent, *name;
	int pfd;

	if (strcmp(path, ".") == 0)
		return root_entry(x, en, e);
	split_path(copy, &parent, &name);
	pfd = parent_fd(x, parent, true, e);
	if (pfd < 0)
		return -1;
	if (hardlink)
		return make_hardlink(x, hardlink, pfd, name, path, e);
	switch (type) {
	case AE_IFREG:
		return make_file(x, a, en, pfd, name, path, e);
	case AE_IFDIR:
		return make_dir(x, en, pfd, name, path, e);
	case AE_IFLNK:
		return make_symlink(x, en, pfd, name, path, e);
	case AE_IFIFO:
	case AE_IFCHR:
	case AE_IFBLK:
		return make_node(x, en, pfd, name, path, e);
	default:
		log_debug("\"%s\": entry of type 0%o skipped", path, (unsigned)type);
		return 0;
	}
}

int extractor_entry(struct extractor *x, struct archive *a, struct archive_entry *en,
		    berr_t *e)
{
	const char *raw = sym_archive_entry_pathname(en);
	_cleanup_free_ char *path = image_tar_path(raw);
	_cleanup_free_ char *target = NULL;
	enum whiteout_kind kind;

	if (!path)
		return berr_set(e, EINVAL, "an entry without a name");
	if (++x->st.entries > x->o.max_entries)
		return berr_set(e, EFBIG,
				"the image has more than %llu entries (the limit; see --max-entries)",
				(unsigned long long)x->o.max_entries);
	if (image_whiteout_classify(path, &kind, &target, e) < 0)
		return -1;
	if (kind != WHITEOUT_NONE)
		return apply_whiteout(x, path, kind, target, e);
	if (apply_entry(x, a, en, path, e) < 0)
		return -1;
	mark_layer_path(x, path);
	return 0;
}

/* ---- directories last ---- */

static size_t depth_of(const char *p)
{
	size_t d = 0;

	for (; *p; p++)
		d += *p == '/';
	return d;
}

static int cmp_depth_desc(const void *a, const void *b)
{
	size_t da = depth_of(((const struct dirfix *)a)->path);
	size_t db = depth_of(((const struct dirfix *)b)->path);

	return da < db ? 1 : da > db ? -1 : 0;
}

int extractor_fix_dirs(struct extractor *x, berr_t *e)
{
	int ret = 0;

	drop_cache(x);
	/* Deepest first: a parent that becomes read-only (rootless) must not
	 * keep its children from being fixed. */
	if (x->n_dirs)
		qsort(x->dirs, x->n_dirs, sizeof *x->dirs, cmp_depth_desc);
	for (size_t i = 0; i < x->n_dirs && ret == 0; i++) {
		struct dirfix *d = &x->dirs[i];
		_cleanup_close_ int fd = openat2_in(x, d->path,
						      O_RDONLY | O_DIRECTORY | O_NOFOLLOW);

		/* Removed or replaced by a later entry: nothing to fix. */
		if (fd < 0 && (errno == ENOENT || errno == ENOTDIR || errno == ELOOP))
			continue;
		if (fd < 0)
			ret = berr_sys(e, "open \"%s\"", d->path);
		else if (fchmod(fd, d->mode) < 0)
			ret = berr_sys(e, "chmod \"%s\"", d->path);
		else if (futimens(fd, d->times) < 0)
			ret = berr_sys(e, "set times of \"%s\"", d->path);
	}
	dirs_clear(x);
	return ret;
}
