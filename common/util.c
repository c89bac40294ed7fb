/* common/util.c: memory, string and file helpers shared by every module.
 * File writers never follow a caller's expectations silently: errors name the path. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

void oom(void)
{
	static const char msg[] = "berth: out of memory\n";

	(void)!write(STDERR_FILENO, msg, sizeof msg - 1);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom();
	return p;
}

void *xzalloc(size_t n)
{
	return xcalloc(1, n);
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		oom();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom();
	return p;
}

void *xreallocarray(void *p, size_t n, size_t size)
{
	p = reallocarray(p, n ? n : 1, size ? size : 1);
	if (!p)
		oom();
	return p;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		oom();
	return p;
}

char *xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);

	if (!p)
		oom();
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	char *p = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&p, fmt, ap) < 0)
		oom();
	va_end(ap);
	return p;
}

void freep(void *p)
{
	free(*(void **)p);
}

void closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;

		close(*fd);
		errno = saved;
	}
}

void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

void strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

void strv_freep(char ***v)
{
	strv_free(*v);
}

size_t strv_len(char *const *v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

char **strv_dup(char *const *v)
{
	size_t n = strv_len(v);
	char **out = xcalloc(n + 1, sizeof(char *));

	for (size_t i = 0; i < n; i++)
		out[i] = xstrdup(v[i]);
	return out;
}

void strv_append(char ***v, size_t *len, char *s)
{
	*v = xreallocarray(*v, *len + 2, sizeof(char *));
	(*v)[(*len)++] = s;
	(*v)[*len] = NULL;
}

bool strv_contains(char *const *v, const char *s)
{
	for (size_t i = 0; v && v[i]; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

bool str_has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool str_has_suffix(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);

	return ls >= lx && strcmp(s + ls - lx, suffix) == 0;
}

bool parse_int64(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (!s || !*s)
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

bool parse_uint64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

ssize_t read_all(int fd, void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t r = read(fd, (char *)buf + done, len - done);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		done += r;
	}
	return done;
}

int write_all(int fd, const void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t w = write(fd, (const char *)buf + done, len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		done += w;
	}
	return 0;
}

int read_fd(int fd, size_t max, const char *what, char **out, size_t *len, berr_t *e)
{
	size_t cap = 4096, n = 0;
	_cleanup_free_ char *buf = xmalloc(cap);

	for (;;) {
		ssize_t r;

		if (n + 1 >= cap) {
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return berr_sys(e, "read %s", what);
		if (r == 0)
			break;
		n += r;
		if (max && n > max)
			return berr_set(e, EFBIG, "%s: larger than %zu bytes", what, max);
	}
	buf[n] = '\0';
	if (len)
		*len = n;
	*out = steal_ptr(buf);
	return 0;
}

int read_file_at(int dirfd, const char *path, char **out, size_t *len, berr_t *e)
{
	_cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	_cleanup_free_ char *what = NULL;

	if (fd < 0)
		return berr_sys(e, "open \"%s\"", path);
	what = xasprintf("\"%s\"", path);
	return read_fd(fd, 0, what, out, len, e);
}

int read_file(const char *path, char **out, size_t *len, berr_t *e)
{
	return read_file_at(AT_FDCWD, path, out, len, e);
}

int write_file_at(int dirfd, const char *path, const void *data, size_t len,
		  int flags, mode_t mode, berr_t *e)
{
	_cleanup_close_ int fd =
		openat(dirfd, path, O_WRONLY | O_TRUNC | O_CLOEXEC | flags, mode);

	if (fd < 0)
		return berr_sys(e, "open \"%s\"", path);
	if (write_all(fd, data, len) < 0)
		return berr_sys(e, "write \"%s\"", path);
	return 0;
}

int write_file(const char *path, const void *data, size_t len, int flags,
	       mode_t mode, berr_t *e)
{
	return write_file_at(AT_FDCWD, path, data, len, flags, mode, e);
}

int write_file_atomic_at(int dirfd, const char *path, const void *data,
			 size_t len, mode_t mode, berr_t *e)
{
	_cleanup_free_ char *tmp = xasprintf("%s.tmp%d", path, (int)getpid());
	_cleanup_close_ int fd = openat(dirfd, tmp,
		O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);

	if (fd < 0)
		return berr_sys(e, "create \"%s\"", tmp);
	if (write_all(fd, data, len) < 0) {
		berr_sys(e, "write \"%s\"", tmp);
		unlinkat(dirfd, tmp, 0);
		return -1;
	}
	if (renameat(dirfd, tmp, dirfd, path) < 0) {
		berr_sys(e, "rename \"%s\" to \"%s\"", tmp, path);
		unlinkat(dirfd, tmp, 0);
		return -1;
	}
	return 0;
}

int mkdir_p(const char *path, mode_t mode, berr_t *e)
{
	_cleanup_free_ char *p = xstrdup(path);

	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;

		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return berr_sys(e, "mkdir \"%s\"", p);
		*s = c;
		if (c == '\0')
			break;
	}
	return 0;
}

/* A directory is a mount point if the kernel says so (bind mounts of the
 * same filesystem keep st_dev) or if it lives on another device. */
static int stat_entry(int dirfd, const char *name, dev_t parent_dev,
		      struct statx *stx, bool *is_mount)
{
	if (statx(dirfd, name, AT_SYMLINK_NOFOLLOW,
		  STATX_TYPE | STATX_MODE | STATX_INO, stx) < 0)
		return -1;
	*is_mount = ((stx->stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
		     (stx->stx_attributes & STATX_ATTR_MOUNT_ROOT)) ||
		    makedev(stx->stx_dev_major, stx->stx_dev_minor) != parent_dev;
	return 0;
}

static int rm_contents(int dirfd, dev_t dev, const char *name, berr_t *e)
{
	DIR *d;
	struct dirent *de;
	int ret = 0;
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return berr_sys(e, "open \"%s\"", name);
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return berr_sys(e, "opendir \"%s\"", name);
	}
	while (ret == 0 && (errno = 0, de = readdir(d))) {
		struct statx stx;
		bool is_mount;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (stat_entry(fd, de->d_name, dev, &stx, &is_mount) < 0) {
			if (errno == ENOENT)
				continue;
			ret = berr_sys(e, "stat \"%s/%s\"", name, de->d_name);
			break;
		}
		if (S_ISDIR(stx.stx_mode)) {
			if (is_mount) {
				ret = berr_set(e, EBUSY, "refusing to remove \"%s/%s\": a mount point",
					       name, de->d_name);
				break;
			}
			ret = rm_contents(fd, dev, de->d_name, e);
			if (ret == 0 && unlinkat(fd, de->d_name, AT_REMOVEDIR) < 0 &&
			    errno != ENOENT)
				ret = berr_sys(e, "rmdir \"%s/%s\"", name, de->d_name);
		} else if (unlinkat(fd, de->d_name, 0) < 0 && errno != ENOENT) {
			ret = berr_sys(e, "unlink \"%s/%s\"", name, de->d_name);
		}
	}
	closedir(d);
	return ret;
}

int rm_rf_at(int dirfd, const char *name, berr_t *e)
{
	struct stat st;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : berr_sys(e, "stat \"%s\"", name);
	if (!S_ISDIR(st.st_mode)) {
		if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
			return berr_sys(e, "unlink \"%s\"", name);
		return 0;
	}
	if (rm_contents(dirfd, st.st_dev, name, e) < 0)
		return -1;
	if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return berr_sys(e, "rmdir \"%s\"", name);
	return 0;
}

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

void format_rfc3339_now(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%09ldZ", ts.tv_nsec);
}

int unix_connect(const char *path, int type, const char *what, berr_t *e)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	_cleanup_close_ int fd = -1;

	if (strlen(path) >= sizeof sun.sun_path)
		return berr_set(e, ENAMETOOLONG, "%s \"%s\": the path is too long", what, path);
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return berr_sys(e, "%s: socket", what);
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) < 0)
		return berr_sys(e, "connect to %s \"%s\"", what, path);
	return steal_fd(fd);
}
