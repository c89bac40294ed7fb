/* common/path.h: path handling inside a hostile root. Every lookup under a
 * container rootfs or an image goes through openat2(RESOLVE_IN_ROOT), so a
 * symlink or `..` planted there can never reach outside the root. */
#ifndef BERTH_PATH_H
#define BERTH_PATH_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"

/* Open `path` (absolute or relative, interpreted inside the root) with
 * openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS). Returns an fd or -1. */
int root_open(int rootfd, const char *path, int flags, mode_t mode, berr_t *e);
/* Same, with caller-chosen extra RESOLVE_* flags. */
int root_open_resolve(int rootfd, const char *path, int flags, mode_t mode,
		      unsigned long long resolve, berr_t *e);
/* mkdir -p inside the root; returns an O_PATH fd of the final directory. */
int root_mkdir_p(int rootfd, const char *path, mode_t mode, berr_t *e);
/* Make sure a mount target exists inside the root, as a directory or an
 * empty regular file, and return an O_PATH fd of it. */
int root_ensure_target(int rootfd, const char *path, bool directory, berr_t *e);

/* Lexically clean an absolute or relative path: collapse "//", ".", and
 * resolve ".." without going above "/" (for an absolute path). malloc'd. */
char *path_clean(const char *path);
/* "/proc/self/fd/N": the path that lets mount(2) act on an fd. */
#define FD_PATH_LEN 32
const char *fd_path(int fd, char buf[FD_PATH_LEN]);

#endif
