/* common/util.h: memory, string and file helpers shared by every module,
 * and the cleanup attributes that keep early returns leak-free. */
#ifndef BERTH_UTIL_H
#define BERTH_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "error.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define UNUSED __attribute__((unused))
#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)

/* Out of memory is not an error berth can report usefully: abort. */
__attribute__((noreturn)) void oom(void);
void *xmalloc(size_t n);
void *xzalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
void *xreallocarray(void *p, size_t n, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

void freep(void *p);   /* for cleanup: free(*(void **)p) */
void closep(int *fd);  /* for cleanup: close when >= 0 */
void fclosep(FILE **f);
void strv_free(char **v);
void strv_freep(char ***v);

#define _cleanup_free_ __attribute__((cleanup(freep)))
#define _cleanup_close_ __attribute__((cleanup(closep)))
#define _cleanup_fclose_ __attribute__((cleanup(fclosep)))
#define _cleanup_strv_ __attribute__((cleanup(strv_freep)))

/* Hand ownership out of a cleanup variable. */
#define steal_ptr(p) ({ __typeof__(p) _t = (p); (p) = NULL; _t; })
#define steal_fd(fd) ({ int _t = (fd); (fd) = -1; _t; })

/* NULL-terminated string vectors. */
size_t strv_len(char *const *v);
char **strv_dup(char *const *v);
void strv_append(char ***v, size_t *len, char *s); /* takes ownership of s */
bool strv_contains(char *const *v, const char *s);

bool str_has_prefix(const char *s, const char *prefix);
bool str_has_suffix(const char *s, const char *suffix);
/* Parse a whole decimal string; false on garbage or overflow. */
bool parse_int64(const char *s, int64_t *out);
bool parse_uint64(const char *s, uint64_t *out);

/* I/O that survives EINTR and short transfers. */
ssize_t read_all(int fd, void *buf, size_t len);
int write_all(int fd, const void *buf, size_t len);
/* Read an fd to its end, at most max bytes (0: no limit); NUL-terminated.
 * `what` names it in errors. */
int read_fd(int fd, size_t max, const char *what, char **out, size_t *len, berr_t *e);
/* Read a whole file (dirfd may be AT_FDCWD); the buffer is NUL-terminated. */
int read_file_at(int dirfd, const char *path, char **out, size_t *len, berr_t *e);
int read_file(const char *path, char **out, size_t *len, berr_t *e);
/* Write a whole file: O_WRONLY|O_TRUNC plus `flags` (e.g. O_CREAT). */
int write_file_at(int dirfd, const char *path, const void *data, size_t len,
		  int flags, mode_t mode, berr_t *e);
int write_file(const char *path, const void *data, size_t len, int flags,
	       mode_t mode, berr_t *e);
/* Write to a temporary file beside path and rename it over path. */
int write_file_atomic_at(int dirfd, const char *path, const void *data,
			 size_t len, mode_t mode, berr_t *e);
int mkdir_p(const char *path, mode_t mode, berr_t *e);
/* Remove a tree without crossing into other mounts; fails (EBUSY) rather
 * than walking into a mount point. */
int rm_rf_at(int dirfd, const char *name, berr_t *e);

/* The current time as RFC 3339 with nanoseconds, UTC. */
void format_rfc3339_now(char *buf, size_t len);
/* A connected AF_UNIX socket of `type` (SOCK_STREAM...), close-on-exec;
 * `what` names the socket in errors ("--console-socket"). */
int unix_connect(const char *path, int type, const char *what, berr_t *e);

/* Monotonic time in nanoseconds. */
uint64_t now_ns(void);

#endif
