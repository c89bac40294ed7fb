/* common/path.c: root-anchored lookups and creation with openat2. Each
 * prefix is resolved from the root again, so no step can walk outside it. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "path.h"
#include "util.h"

static long sys_openat2(int dirfd, const char *path, struct open_how *how)
{
	return syscall(SYS_openat2, dirfd, path, how, sizeof *how);
}

int root_open_resolve(int rootfd, const char *path, int flags, mode_t mode,
		      unsigned long long resolve, berr_t *e)
{
	struct open_how how = {
		.flags = flags | O_CLOEXEC,
		.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | resolve,
	};
	const char *rel = path;
	long fd;

	while (*rel == '/')
		rel++;
	if (!*rel)
		rel = ".";
	do
		fd = sys_openat2(rootfd, rel, &how);
	while (fd < 0 && (errno == EAGAIN || errno == EINTR));
	if (fd < 0)
		return berr_sys(e, "open \"%s\" in container root", path);
	return fd;
}

int root_open(int rootfd, const char *path, int flags, mode_t mode, berr_t *e)
{
	return root_open_resolve(rootfd, path, flags, mode, 0, e);
}

/* The path to create instead when `component` of `prefix` is a dangling
 * symlink: its target (inside the root), then the rest. */
static char *follow_dangling(int dirfd, const char *component, const char *prefix_dir,
			     const char *rest)
{
	char target[PATH_MAX];
	ssize_t n = readlinkat(dirfd, component, target, sizeof target - 1);

	if (n < 0)
		return NULL;
	target[n] = '\0';
	if (target[0] == '/')
		return xasprintf("%s%s%s", target, *rest ? "/" : "", rest);
	return xasprintf("%s/%s%s%s", prefix_dir, target, *rest ? "/" : "", rest);
}

static int mkdir_in_root(int rootfd, const char *path, mode_t mode, int depth, berr_t *e)
{
	_cleanup_free_ char *p = path_clean(path);
	_cleanup_close_ int cur = -1;
	char *s = p;

	if (depth > 40)
		return berr_set(e, ELOOP, "\"%s\": too many levels of symbolic links", path);
	cur = root_open(rootfd, "/", O_PATH | O_DIRECTORY, 0, e);
	if (cur < 0)
		return -1;
	while (*s == '/')
		s++;
	while (*s) {
		char *slash = strchr(s, '/');
		int next;

		if (slash)
			*slash = '\0';
		next = root_open(rootfd, p, O_PATH | O_DIRECTORY, 0, e);
		if (next < 0 && errno == ENOENT) {
			if (mkdirat(cur, s, mode) < 0 && errno != EEXIST)
				return berr_sys(e, "mkdir \"%s\" in container root", p);
			next = root_open(rootfd, p, O_PATH | O_DIRECTORY, 0, e);
			if (next < 0 && errno == ENOENT) {
				/* A dangling symlink: create what it points to,
				 * inside the root, as the kernel would resolve it. */
				char *dir = s > p + 1 ? xstrndup(p, s - p - 1) : xstrdup("/");
				_cleanup_free_ char *redo =
					follow_dangling(cur, s, dir, slash ? slash + 1 : "");

				free(dir);
				if (!redo)
					return berr_sys(e, "mkdir \"%s\" in container root", p);
				berr_free(e);
				return mkdir_in_root(rootfd, redo, mode, depth + 1, e);
			}
		}
		if (next < 0)
			return -1;
		close(cur);
		cur = next;
		if (!slash)
			break;
		*slash = '/';
		s = slash + 1;
	}
	berr_free(e);
	return steal_fd(cur);
}

int root_mkdir_p(int rootfd, const char *path, mode_t mode, berr_t *e)
{
	return mkdir_in_root(rootfd, path, mode, 0, e);
}

int root_ensure_target(int rootfd, const char *path, bool directory, berr_t *e)
{
	_cleanup_free_ char *p = path_clean(path);
	_cleanup_close_ int parent = -1;
	char *slash, *name;
	int fd;

	if (directory)
		return root_mkdir_p(rootfd, p, 0755, e);
	fd = root_open(rootfd, p, O_PATH, 0, e);
	if (fd >= 0 || errno != ENOENT)
		return fd;
	slash = strrchr(p, '/');
	if (slash) {
		*slash = '\0';
		parent = root_mkdir_p(rootfd, *p ? p : "/", 0755, e);
		*slash = '/';
		name = slash + 1;
	} else {
		parent = root_open(rootfd, "/", O_PATH | O_DIRECTORY, 0, e);
		name = p;
	}
	if (parent < 0)
		return -1;
	/* mknodat never follows a planted symlink: it fails with EEXIST. */
	if (mknodat(parent, name, S_IFREG | 0644, 0) < 0 && errno != EEXIST)
		return berr_sys(e, "create \"%s\" in container root", p);
	return root_open(rootfd, p, O_PATH, 0, e);
}

char *path_clean(const char *path)
{
	size_t len = strlen(path);
	char *out = xmalloc(len + 2);
	bool abs = path[0] == '/';
	size_t n = 0;
	const char *s = path;

	if (abs)
		out[n++] = '/';
	while (*s) {
		const char *end;
		size_t clen;

		while (*s == '/')
			s++;
		if (!*s)
			break;
		end = strchrnul(s, '/');
		clen = end - s;
		if (clen == 1 && s[0] == '.') {
			/* skip */
		} else if (clen == 2 && s[0] == '.' && s[1] == '.') {
			size_t base = abs ? 1 : 0;
			bool last_is_up = !abs && n >= 2 && out[n - 1] == '.' &&
					  out[n - 2] == '.' && (n == 2 || out[n - 3] == '/');

			if (n > base && !last_is_up) {
				while (n > base && out[n - 1] != '/')
					n--;
				if (n > base)
					n--;
			} else if (!abs) {
				if (n)
					out[n++] = '/';
				out[n++] = '.';
				out[n++] = '.';
			}
		} else {
			if (n && out[n - 1] != '/')
				out[n++] = '/';
			memcpy(out + n, s, clen);
			n += clen;
		}
		s = end;
	}
	if (n == 0)
		out[n++] = '.';
	out[n] = '\0';
	return out;
}

const char *fd_path(int fd, char buf[FD_PATH_LEN])
{
	snprintf(buf, FD_PATH_LEN, "/proc/self/fd/%d", fd);
	return buf;
}
