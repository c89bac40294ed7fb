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

/* The kernel's own words about a failed fsconfig ("e overlay: ..."). */
static int overlay_fail(int fsfd, const char *what, berr_t *e)
{
	char log[256];
	int saved = errno;
	ssize_t n = read(fsfd, log, sizeof log - 1);

	if (n > 2) {
		log[n] = '\0';
		log[strcspn(log, "\n")] = '\0';
		return berr_errno(e, saved, "overlay rootfs: %s (%s)", what, log + 2);
	}
	return berr_errno(e, saved, "overlay rootfs: %s", what);
}

/* The writable layer when berth was given none: a tmpfs that is mounted
 * nowhere (fsmount's detached mount, reached as /proc/self/fd/N), so that
 * nothing is made or removed on the host's disk, writes are charged to the
 * container's memory cgroup, and the layer ends with the mount namespace. */
struct overlay_rw {
	int tmpfs;
	char upper[64], work[64];
	const char *upper_path, *work_path;
};

static int overlay_rw_prepare(const struct init_ctx *ctx, struct overlay_rw *rw, berr_t *e)
{
	_cleanup_close_ int fsfd = -1;

	rw->tmpfs = -1;
	if (ctx->overlay_upper) {
		rw->upper_path = ctx->overlay_upper;
		rw->work_path = ctx->overlay_work;
		return 0;
	}
	fsfd = fsopen("tmpfs", FSOPEN_CLOEXEC);
	if (fsfd < 0)
		return berr_sys(e, "overlay rootfs: fsopen tmpfs");
	if (fsconfig(fsfd, FSCONFIG_SET_STRING, "mode", "0755", 0) < 0 ||
	    fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return overlay_fail(fsfd, "tmpfs for the writable layer", e);
	rw->tmpfs = fsmount(fsfd, FSMOUNT_CLOEXEC, 0);
	if (rw->tmpfs < 0)
		return berr_sys(e, "overlay rootfs: fsmount tmpfs");
	if (mkdirat(rw->tmpfs, "upper", 0755) < 0 || mkdirat(rw->tmpfs, "work", 0755) < 0)
		return berr_sys(e, "overlay rootfs: mkdir in the writable layer");
	snprintf(rw->upper, sizeof rw->upper, "/proc/self/fd/%d/upper", rw->tmpfs);
	snprintf(rw->work, sizeof rw->work, "/proc/self/fd/%d/work", rw->tmpfs);
	rw->upper_path = rw->upper;
	rw->work_path = rw->work;
	return 0;
}

/* Before Linux 6.8: one option string, at most a page long. */
static int mount_overlay_legacy(const struct init_ctx *ctx, const struct overlay_rw *rw,
				berr_t *e)
{
	_cleanup_free_ char *opts = NULL;
	size_t len = 64 + strlen(rw->upper_path) + strlen(rw->work_path);
	char *p;

	for (size_t i = 0; ctx->overlay_lower[i]; i++)
		len += strlen(ctx->overlay_lower[i]) + 1;
	if (len >= (size_t)sysconf(_SC_PAGESIZE))
		return berr_set(e, E2BIG, "overlay rootfs: too many layers for this kernel (needs Linux 6.8)");
	p = opts = xmalloc(len);
	p += sprintf(p, "lowerdir=");
	for (size_t i = 0; ctx->overlay_lower[i]; i++)
		p += sprintf(p, "%s%s", i ? ":" : "", ctx->overlay_lower[i]);
	sprintf(p, ",upperdir=%s,workdir=%s%s", rw->upper_path, rw->work_path,
		ctx->overlay_userxattr ? ",userxattr" : "");
	if (mount("overlay", ctx->rootfs, "overlay", 0, opts) < 0)
		return berr_sys(e, "overlay rootfs: mount on \"%s\"", ctx->rootfs);
	return 0;
}

static int overlay_configure(const struct init_ctx *ctx, int fsfd, const struct overlay_rw *rw,
			     berr_t *e)
{
	for (size_t i = 0; ctx->overlay_lower[i]; i++) {
		if (fsconfig(fsfd, FSCONFIG_SET_STRING, "lowerdir+", ctx->overlay_lower[i], 0) == 0)
			continue;
		if (i == 0 && errno == EINVAL)
			return 1;
		return overlay_fail(fsfd, ctx->overlay_lower[i], e);
	}
	/* volatile: no sync of the upper layer, which dies with the
	 * container anyway (it is never mounted again). */
	if (fsconfig(fsfd, FSCONFIG_SET_STRING, "upperdir", rw->upper_path, 0) < 0 ||
	    fsconfig(fsfd, FSCONFIG_SET_STRING, "workdir", rw->work_path, 0) < 0 ||
	    (ctx->overlay_userxattr && fsconfig(fsfd, FSCONFIG_SET_FLAG, "userxattr", NULL, 0) < 0) ||
	    fsconfig(fsfd, FSCONFIG_SET_FLAG, "volatile", NULL, 0) < 0)
		return overlay_fail(fsfd, rw->upper_path, e);
	if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return overlay_fail(fsfd, "create", e);
	return 0;
}

/* run --image: the overlay of the store's layers, mounted here, inside the
 * init's own mount namespace, so that the host never sees it. The new mount
 * API's "lowerdir+" (Linux 6.8) takes one layer at a time: no page-sized
 * limit on the option string as with mount(2). */
static int mount_overlay(const struct init_ctx *ctx, berr_t *e)
{
	struct overlay_rw rw;
	_cleanup_close_ int fsfd = -1, mfd = -1;
	int r;

	if (!ctx->ns.create[NS_MOUNT])
		return berr_set(e, EINVAL, "an overlay rootfs needs a new mount namespace");
	if (overlay_rw_prepare(ctx, &rw, e) < 0)
		goto fail;
	fsfd = fsopen("overlay", FSOPEN_CLOEXEC);
	if (fsfd < 0) {
		berr_sys(e, "overlay rootfs: fsopen");
		goto fail;
	}
	r = overlay_configure(ctx, fsfd, &rw, e);
	if (r > 0)
		r = mount_overlay_legacy(ctx, &rw, e);
	else if (r == 0 && (mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, 0)) < 0)
		r = berr_sys(e, "overlay rootfs: fsmount");
	else if (r == 0 && move_mount(mfd, "", AT_FDCWD, ctx->rootfs, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		r = berr_sys(e, "overlay rootfs: mount on \"%s\"", ctx->rootfs);
	/* The overlay holds its own reference to the tmpfs. */
	if (rw.tmpfs >= 0)
		close(rw.tmpfs);
	return r;
fail:
	if (rw.tmpfs >= 0)
		close(rw.tmpfs);
	return -1;
}

int rootfs_prepare(const struct init_ctx *ctx, int *rootfd, berr_t *e)
{
	int fd;

	if (set_root_propagation(ctx, e) < 0)
		return -1;
	if (ctx->overlay_lower) {
		if (mount_overlay(ctx, e) < 0)
			return -1;
	} else if (mount(ctx->rootfs, ctx->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
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
		return berr_sys(e, "open \"/\"");
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
		return berr_sys(e, "chdir to \"/\"");
	return 0;
}

static int move_root(int rootfd, const char *rootfs, berr_t *e)
{
	if (fchdir(rootfd) < 0)
		return berr_sys(e, "chdir to rootfs");
	if (mount(rootfs, "/", NULL, MS_MOVE, NULL) < 0)
		return berr_sys(e, "move rootfs to \"/\"");
	if (chroot(".") < 0)
		return berr_sys(e, "chroot");
	if (chdir("/") < 0)
		return berr_sys(e, "chdir to \"/\"");
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
		return berr_sys(e, "open \"/\"");
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
