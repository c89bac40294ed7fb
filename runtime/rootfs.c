/* runtime/rootfs.c: the container's root: propagation, the bind mount that
 * makes it a mount point, pivot_root, and the masked and read-only paths. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/log.h"
#include "common/path.h"
#include "common/util.h"
#include "mountapi.h"
#include "setup.h"

/* Before pivot_root every mount of the new mount namespace becomes a slave
 * (or private): recursively, so that no mount the container makes can
 * propagate back to the host through a shared parent, and so that the new
 * root's parent is not shared (pivot_root refuses that). The config's
 * rootfsPropagation is applied to the container's / after the pivot. */
static int set_root_propagation(const struct init_ctx *ctx, berr_t *e)
{
	const char *name = ctx->spec->linux ? ctx->spec->linux->rootfs_propagation : NULL;
	long requested = name ? propagation_from_name(name) : 0;
	unsigned long flags = (requested > 0 && (requested & MS_PRIVATE)) ? MS_PRIVATE : MS_SLAVE;

	if (mount(NULL, "/", NULL, flags | MS_REC, NULL) < 0)
		return berr_sys(e, "set propagation of \"/\"");
	return 0;
}

int rootfs_prepare(const struct init_ctx *ctx, int *rootfd, berr_t *e)
{
	int fd;

	if (set_root_propagation(ctx, e) < 0)
		return -1;
	if (mount(ctx->rootfs, ctx->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
		return berr_sys(e, "bind mount rootfs \"%s\"", ctx->rootfs);
	fd = open(ctx->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return berr_sys(e, "open rootfs \"%s\"", ctx->rootfs);
	*rootfd = fd;
	return 0;
}

static int pivot(int rootfd, berr_t *e)
{
	_cleanup_close_ int oldroot = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (oldroot < 0)
		return berr_sys(e, "open `/`");
	if (fchdir(rootfd) < 0)
		return berr_sys(e, "chdir to rootfs");
	/* pivot_root(".", ".") stacks the old root on top of the new one,
	 * then we detach it; no directory is needed inside the rootfs. */
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return berr_sys(e, "pivot_root");
	if (fchdir(oldroot) < 0)
		return berr_sys(e, "chdir to the old root");
	/* Never let the unmount propagate to the host. */
	if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
		return berr_sys(e, "make the old root a slave");
	if (umount2(".", MNT_DETACH) < 0)
		return berr_sys(e, "detach the old root");
	if (chdir("/") < 0)
		return berr_sys(e, "chdir to `/`");
	return 0;
}

static int move_root(int rootfd, const char *rootfs, berr_t *e)
{
	if (fchdir(rootfd) < 0)
		return berr_sys(e, "chdir to rootfs");
	if (mount(rootfs, "/", NULL, MS_MOVE, NULL) < 0)
		return berr_sys(e, "move rootfs to `/`");
	if (chroot(".") < 0)
		return berr_sys(e, "chroot");
	if (chdir("/") < 0)
		return berr_sys(e, "chdir to `/`");
	return 0;
}

int rootfs_pivot(const struct init_ctx *ctx, int rootfd, berr_t *e)
{
	if (ctx->no_pivot)
		return move_root(rootfd, ctx->rootfs, e);
	return pivot(rootfd, e);
}

/* A masked directory gets an empty read-only tmpfs, a file /dev/null. */
static int mask_path(int rootfd, const char *path, berr_t *e)
{
	_cleanup_close_ int fd = root_open(rootfd, path, O_PATH | O_NOFOLLOW, 0, e);
	char buf[FD_PATH_LEN];
	struct stat st;

	if (fd < 0) {
		if (errno == ENOENT) {
			berr_free(e);
			return 0;
		}
		return berr_wrap(e, "linux.maskedPaths");
	}
	if (fstat(fd, &st) < 0)
		return berr_sys(e, "stat masked path \"%s\"", path);
	if (S_ISDIR(st.st_mode)) {
		if (mount("tmpfs", fd_path(fd, buf), "tmpfs", MS_RDONLY, "size=0k") < 0)
			return berr_sys(e, "mask \"%s\"", path);
	} else if (!S_ISLNK(st.st_mode)) {
		if (mount("/dev/null", fd_path(fd, buf), NULL, MS_BIND, NULL) < 0)
			return berr_sys(e, "mask \"%s\" with /dev/null", path);
	}
	return 0;
}

static int readonly_path(int rootfd, const char *path, berr_t *e)
{
	_cleanup_close_ int fd = root_open(rootfd, path, O_PATH, 0, e);
	_cleanup_close_ int mnt = -1;
	char buf[FD_PATH_LEN];

	if (fd < 0) {
		if (errno == ENOENT) {
			berr_free(e);
			return 0;
		}
		return berr_wrap(e, "linux.readonlyPaths");
	}
	if (mount(fd_path(fd, buf), fd_path(fd, buf), NULL, MS_BIND | MS_REC, NULL) < 0)
		return berr_sys(e, "bind mount read-only path \"%s\"", path);
	mnt = root_open(rootfd, path, O_PATH, 0, e);
	if (mnt < 0)
		return -1;
	if (mount_set_attr(mnt, true, MOUNT_ATTR_RDONLY, 0) < 0)
		return berr_sys(e, "make \"%s\" read-only", path);
	return 0;
}

int rootfs_finalize(const struct init_ctx *ctx, berr_t *e)
{
	const struct spec_linux *lx = ctx->spec->linux;
	_cleanup_close_ int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (rootfd < 0)
		return berr_sys(e, "open `/`");
	for (size_t i = 0; lx && lx->readonly_paths && lx->readonly_paths[i]; i++)
		if (readonly_path(rootfd, lx->readonly_paths[i], e) < 0)
			return -1;
	for (size_t i = 0; lx && lx->masked_paths && lx->masked_paths[i]; i++)
		if (mask_path(rootfd, lx->masked_paths[i], e) < 0)
			return -1;
	if (lx && lx->rootfs_propagation) {
		long f = propagation_from_name(lx->rootfs_propagation);

		if (mount(NULL, "/", NULL, f, NULL) < 0)
			return berr_sys(e, "set rootfsPropagation \"%s\"", lx->rootfs_propagation);
	}
	if (ctx->spec->root.readonly && mount_set_attr(rootfd, false, MOUNT_ATTR_RDONLY, 0) < 0)
		return berr_sys(e, "make the root filesystem read-only");
	return 0;
}
