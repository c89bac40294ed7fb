/* runtime/mounts.c: the config's mounts, in order, onto targets resolved
 * inside the rootfs (a symlink there can never send a mount outside it). */
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
#include "common/path.h"
#include "common/util.h"
#include "mountapi.h"
#include "setup.h"

/* Options of mount(8) and the runtime-spec, with their effect. */
enum opt_kind { OPT_FLAG, OPT_CLEAR, OPT_PROPAGATION, OPT_RATTR_SET, OPT_RATTR_CLR,
		OPT_BIND, OPT_RBIND, OPT_TMPCOPYUP, OPT_IDMAP, OPT_IGNORE };

static const struct mount_option {
	const char *name;
	enum opt_kind kind;
	unsigned long long value;
} mount_options[] = {
	{"async", OPT_CLEAR, MS_SYNCHRONOUS},
	{"atime", OPT_CLEAR, MS_NOATIME},
	{"bind", OPT_BIND, 0},
	{"defaults", OPT_IGNORE, 0},
	{"dev", OPT_CLEAR, MS_NODEV},
	{"diratime", OPT_CLEAR, MS_NODIRATIME},
	{"dirsync", OPT_FLAG, MS_DIRSYNC},
	{"exec", OPT_CLEAR, MS_NOEXEC},
	{"idmap", OPT_IDMAP, 0},
	{"lazytime", OPT_FLAG, MS_LAZYTIME},
	{"loud", OPT_CLEAR, MS_SILENT},
	{"mand", OPT_FLAG, MS_MANDLOCK},
	{"noatime", OPT_FLAG, MS_NOATIME},
	{"nodev", OPT_FLAG, MS_NODEV},
	{"nodiratime", OPT_FLAG, MS_NODIRATIME},
	{"noexec", OPT_FLAG, MS_NOEXEC},
	{"nolazytime", OPT_CLEAR, MS_LAZYTIME},
	{"nomand", OPT_CLEAR, MS_MANDLOCK},
	{"norelatime", OPT_CLEAR, MS_RELATIME},
	{"nostrictatime", OPT_CLEAR, MS_STRICTATIME},
	{"nosuid", OPT_FLAG, MS_NOSUID},
	{"nosymfollow", OPT_FLAG, MS_NOSYMFOLLOW},
	{"notmpcopyup", OPT_IGNORE, 0},
	{"private", OPT_PROPAGATION, MS_PRIVATE},
	{"rbind", OPT_RBIND, 0},
	{"relatime", OPT_FLAG, MS_RELATIME},
	{"remount", OPT_FLAG, MS_REMOUNT},
	{"ro", OPT_FLAG, MS_RDONLY},
	{"rprivate", OPT_PROPAGATION, MS_PRIVATE | MS_REC},
	{"rshared", OPT_PROPAGATION, MS_SHARED | MS_REC},
	{"rslave", OPT_PROPAGATION, MS_SLAVE | MS_REC},
	{"runbindable", OPT_PROPAGATION, MS_UNBINDABLE | MS_REC},
	{"rw", OPT_CLEAR, MS_RDONLY},
	{"shared", OPT_PROPAGATION, MS_SHARED},
	{"silent", OPT_FLAG, MS_SILENT},
	{"slave", OPT_PROPAGATION, MS_SLAVE},
	{"strictatime", OPT_FLAG, MS_STRICTATIME},
	{"suid", OPT_CLEAR, MS_NOSUID},
	{"symfollow", OPT_CLEAR, MS_NOSYMFOLLOW},
	{"sync", OPT_FLAG, MS_SYNCHRONOUS},
	{"tmpcopyup", OPT_TMPCOPYUP, 0},
	{"unbindable", OPT_PROPAGATION, MS_UNBINDABLE},
	/* SELinux relabel requests: berth does not relabel. */
	{"z", OPT_IGNORE, 0},
	{"Z", OPT_IGNORE, 0},
	/* Recursive attributes (mount_setattr with AT_RECURSIVE). */
	{"rro", OPT_RATTR_SET, MOUNT_ATTR_RDONLY},
	{"rrw", OPT_RATTR_CLR, MOUNT_ATTR_RDONLY},
	{"rnosuid", OPT_RATTR_SET, MOUNT_ATTR_NOSUID},
	{"rsuid", OPT_RATTR_CLR, MOUNT_ATTR_NOSUID},
	{"rnodev", OPT_RATTR_SET, MOUNT_ATTR_NODEV},
	{"rdev", OPT_RATTR_CLR, MOUNT_ATTR_NODEV},
	{"rnoexec", OPT_RATTR_SET, MOUNT_ATTR_NOEXEC},
	{"rexec", OPT_RATTR_CLR, MOUNT_ATTR_NOEXEC},
	{"rnodiratime", OPT_RATTR_SET, MOUNT_ATTR_NODIRATIME},
	{"rdiratime", OPT_RATTR_CLR, MOUNT_ATTR_NODIRATIME},
	{"rnosymfollow", OPT_RATTR_SET, MOUNT_ATTR_NOSYMFOLLOW},
	{"rsymfollow", OPT_RATTR_CLR, MOUNT_ATTR_NOSYMFOLLOW},
};

static const struct mount_option *find_option(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(mount_options); i++)
		if (strcmp(mount_options[i].name, name) == 0)
			return &mount_options[i];
	return NULL;
}

const char *mount_option_name(size_t i)
{
	return i < ARRAY_SIZE(mount_options) ? mount_options[i].name : NULL;
}

long propagation_from_name(const char *name)
{
	const struct mount_option *o = find_option(name);

	if (!o || o->kind != OPT_PROPAGATION)
		return -1;
	return o->value;
}

static void append_data(char **data, const char *opt)
{
	char *next = *data ? xasprintf("%s,%s", *data, opt) : xstrdup(opt);

	free(*data);
	*data = next;
}

int mount_opts_parse(char *const *options, struct mount_opts *mo, berr_t *e)
{
	memset(mo, 0, sizeof *mo);
	for (size_t i = 0; options && options[i]; i++) {
		const struct mount_option *o = find_option(options[i]);

		if (!o) {
			append_data(&mo->data, options[i]);
			continue;
		}
		switch (o->kind) {
		case OPT_FLAG:
			mo->flags |= o->value;
			mo->clear &= ~o->value;
			break;
		case OPT_CLEAR:
			mo->flags &= ~o->value;
			mo->clear |= o->value;
			break;
		case OPT_PROPAGATION:
			if (mo->propagation && mo->propagation != o->value) {
				mount_opts_free(mo);
				return berr_set(e, EINVAL,
						"option \"%s\": only one propagation type per mount",
						o->name);
			}
			mo->propagation = o->value;
			break;
		case OPT_RATTR_SET:
			mo->attr_set |= o->value;
			mo->attr_clr &= ~o->value;
			break;
		case OPT_RATTR_CLR:
			mo->attr_clr |= o->value;
			mo->attr_set &= ~o->value;
			break;
		case OPT_RBIND:
			mo->rec = true;
			/* fallthrough */
		case OPT_BIND:
			mo->bind = true;
			break;
		case OPT_TMPCOPYUP:
			mo->tmpcopyup = true;
			break;
		case OPT_IDMAP:
			mo->idmap = true;
			break;
		case OPT_IGNORE:
			break;
		}
	}
	return 0;
}

void mount_opts_free(struct mount_opts *mo)
{
	free(mo->data);
	mo->data = NULL;
}

/* MS_* flags that mount_setattr can change on a bind mount. */
static void flags_to_attr(unsigned long flags, uint64_t *attr)
{
	if (flags & MS_RDONLY)
		*attr |= MOUNT_ATTR_RDONLY;
	if (flags & MS_NOSUID)
		*attr |= MOUNT_ATTR_NOSUID;
	if (flags & MS_NODEV)
		*attr |= MOUNT_ATTR_NODEV;
	if (flags & MS_NOEXEC)
		*attr |= MOUNT_ATTR_NOEXEC;
	if (flags & MS_NODIRATIME)
		*attr |= MOUNT_ATTR_NODIRATIME;
	if (flags & MS_NOSYMFOLLOW)
		*attr |= MOUNT_ATTR_NOSYMFOLLOW;
}

static void atime_to_attr(unsigned long flags, uint64_t *set, uint64_t *clr)
{
	uint64_t atime = (flags & MS_NOATIME) ? MOUNT_ATTR_NOATIME :
			 (flags & MS_STRICTATIME) ? MOUNT_ATTR_STRICTATIME :
			 (flags & MS_RELATIME) ? MOUNT_ATTR_RELATIME : UINT64_MAX;

	if (atime != UINT64_MAX) {
		*clr |= MOUNT_ATTR__ATIME;
		*set |= atime;
	}
}

/* /proc is the door to the host's kernel: only procfs itself goes there, or
 * binds onto the files tools such as lxcfs are known to replace
 * (CVE-2019-19921). */
static int check_proc_destination(const char *dest, const char *type, berr_t *e)
{
	static const char *const allowed[] = {
		"/proc/cpuinfo", "/proc/diskstats", "/proc/meminfo", "/proc/stat",
		"/proc/swaps", "/proc/uptime", "/proc/loadavg", "/proc/slabinfo",
		"/proc/net/dev", "/proc/sys/kernel/ns_last_pid",
	};
	_cleanup_free_ char *clean = path_clean(dest);

	if (strcmp(clean, "/proc") == 0) {
		if (type && strcmp(type, "proc") != 0)
			return berr_set(e, EINVAL, "\"%s\" cannot be mounted on /proc", type);
		return 0;
	}
	if (!str_has_prefix(clean, "/proc/"))
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(allowed); i++)
		if (strcmp(clean, allowed[i]) == 0)
			return 0;
	return berr_set(e, EPERM, "mounting on \"%s\" inside /proc is not allowed", clean);
}

static char *bind_source(const struct init_ctx *ctx, const char *source)
{
	if (source[0] == '/')
		return xstrdup(source);
	return xasprintf("%s/%s", ctx->bundle, source);
}

static int copy_tree(int srcdir, int dstdir, berr_t *e);

static int copy_entry(int srcdir, int dstdir, const char *name, berr_t *e)
{
	struct stat st;

	if (fstatat(srcdir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return berr_sys(e, "tmpcopyup: stat \"%s\"", name);
	if (S_ISDIR(st.st_mode)) {
		_cleanup_close_ int s = -1, d = -1;

		if (mkdirat(dstdir, name, st.st_mode & 07777) < 0 && errno != EEXIST)
			return berr_sys(e, "tmpcopyup: mkdir \"%s\"", name);
		s = openat(srcdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		d = openat(dstdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (s < 0 || d < 0)
			return berr_sys(e, "tmpcopyup: open \"%s\"", name);
		if (copy_tree(s, d, e) < 0)
			return -1;
	} else if (S_ISLNK(st.st_mode)) {
		char target[PATH_MAX];
		ssize_t n = readlinkat(srcdir, name, target, sizeof target - 1);

		if (n < 0)
			return berr_sys(e, "tmpcopyup: readlink \"%s\"", name);
		target[n] = '\0';
		if (symlinkat(target, dstdir, name) < 0)
			return berr_sys(e, "tmpcopyup: symlink \"%s\"", name);
	} else if (S_ISREG(st.st_mode)) {
		_cleanup_close_ int s = openat(srcdir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		_cleanup_close_ int d = openat(dstdir, name, O_WRONLY | O_CREAT | O_EXCL |
					       O_NOFOLLOW | O_CLOEXEC, st.st_mode & 07777);
		char buf[65536];
		ssize_t n;

		if (s < 0 || d < 0)
			return berr_sys(e, "tmpcopyup: open \"%s\"", name);
		while ((n = read(s, buf, sizeof buf)) > 0)
			if (write_all(d, buf, n) < 0)
				return berr_sys(e, "tmpcopyup: write \"%s\"", name);
		if (n < 0)
			return berr_sys(e, "tmpcopyup: read \"%s\"", name);
	} else if (mknodat(dstdir, name, st.st_mode, st.st_rdev) < 0) {
		return berr_sys(e, "tmpcopyup: mknod \"%s\"", name);
	}
	if (fchownat(dstdir, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0 &&
	    errno != EPERM && errno != EINVAL)
		return berr_sys(e, "tmpcopyup: chown \"%s\"", name);
	if (!S_ISLNK(st.st_mode) && fchmodat(dstdir, name, st.st_mode & 07777, 0) < 0)
		return berr_sys(e, "tmpcopyup: chmod \"%s\"", name);
	return 0;
}

static int copy_tree(int srcdir, int dstdir, berr_t *e)
{
	int fd = dup(srcdir);
	DIR *d;
	struct dirent *de;
	int ret = 0;

	if (fd < 0)
		return berr_sys(e, "tmpcopyup: dup");
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return berr_sys(e, "tmpcopyup: opendir");
	}
	while (ret == 0 && (de = readdir(d))) {
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			ret = copy_entry(srcdir, dstdir, de->d_name, e);
	}
	closedir(d);
	return ret;
}

static int mount_bind(const struct init_ctx *ctx, int rootfd, const struct spec_mount *m,
		      const struct mount_opts *mo, berr_t *e)
{
	_cleanup_free_ char *src = bind_source(ctx, m->source ? m->source : "");
	_cleanup_close_ int target = -1, mnt = -1;
	char buf[FD_PATH_LEN];
	uint64_t set = 0, clr = 0;
	struct stat st;

	if (!m->source)
		return berr_set(e, EINVAL, "bind mount without a source");
	if (stat(src, &st) < 0)
		return berr_sys(e, "bind source \"%s\"", src);
	target = root_ensure_target(rootfd, m->destination, S_ISDIR(st.st_mode), e);
	if (target < 0)
		return -1;
	if (mount(src, fd_path(target, buf), NULL, MS_BIND | (mo->rec ? MS_REC : 0), NULL) < 0)
		return berr_sys(e, "bind mount \"%s\"", src);
	/* The fd still names the covered directory: look the target up again
	 * to act on the new mount. */
	mnt = root_open(rootfd, m->destination, O_PATH, 0, e);
	if (mnt < 0)
		return -1;
	flags_to_attr(mo->flags, &set);
	flags_to_attr(mo->clear, &clr);
	atime_to_attr(mo->flags, &set, &clr);
	if ((set || clr) && mount_set_attr(mnt, false, set, clr) < 0)
		return berr_sys(e, "set options of bind mount");
	return 0;
}

static int mount_filesystem(const struct init_ctx *ctx, int rootfd,
			    const struct spec_mount *m, const struct mount_opts *mo,
			    berr_t *e)
{
	_cleanup_close_ int target = root_ensure_target(rootfd, m->destination, true, e);
	_cleanup_close_ int copy_from = -1, mnt = -1;
	/* The SELinux mount label goes on the filesystems berth creates for
	 * the container, not on proc or sysfs, as runc does. */
	bool labelled = m->type && (!strcmp(m->type, "tmpfs") || !strcmp(m->type, "devpts") ||
				    !strcmp(m->type, "mqueue"));
	_cleanup_free_ char *data =
		lsm_mount_data(mo->data, labelled ? ctx->spec->linux->mount_label : NULL);
	char buf[FD_PATH_LEN];
	const char *type = m->type;
	int ret;

	if (target < 0)
		return -1;
	if (mo->tmpcopyup) {
		if (!type || strcmp(type, "tmpfs") != 0)
			return berr_set(e, EINVAL, "tmpcopyup is only valid for tmpfs");
		copy_from = root_open(rootfd, m->destination, O_RDONLY | O_DIRECTORY, 0, e);
		if (copy_from < 0)
			return -1;
	}
	ret = mount(m->source ? m->source : type, fd_path(target, buf), type,
		    mo->flags & ~MS_REMOUNT, data);
	if (ret < 0 && errno == EPERM && strcmp(type, "sysfs") == 0 && ctx->rootless) {
		/* A rootless container without its own network namespace may
		 * not mount sysfs: bind the host's instead, read-only. */
		log_debug("mount sysfs: permission denied, binding /sys instead");
		ret = mount("/sys", buf, NULL, MS_BIND | MS_REC, NULL);
	}
	if (ret < 0)
		return berr_sys(e, "mount \"%s\"", type);
	if (copy_from >= 0) {
		mnt = root_open(rootfd, m->destination, O_RDONLY | O_DIRECTORY, 0, e);
		if (mnt < 0 || copy_tree(copy_from, mnt, e) < 0)
			return -1;
	}
	return 0;
}

int mount_cgroup(const struct init_ctx *ctx, int rootfd, const struct spec_mount *m,
		 const struct mount_opts *mo, berr_t *e);

static int mount_one(const struct init_ctx *ctx, int rootfd, const struct spec_mount *m,
		     berr_t *e)
{
	struct mount_opts mo;
	_cleanup_close_ int mnt = -1;
	const char *type = m->type;
	int ret;

	if (mount_opts_parse(m->options, &mo, e) < 0)
		return -1;
	if (type && strcmp(type, "bind") == 0)
		mo.bind = true;
	if (check_proc_destination(m->destination, mo.bind ? "bind" : type, e) < 0) {
		mount_opts_free(&mo);
		return -1;
	}
	if (mo.bind)
		ret = mount_bind(ctx, rootfd, m, &mo, e);
	else if (!type)
		ret = berr_set(e, EINVAL, "mount without a type");
	else if (strcmp(type, "cgroup") == 0 || strcmp(type, "cgroup2") == 0)
		ret = mount_cgroup(ctx, rootfd, m, &mo, e);
	else
		ret = mount_filesystem(ctx, rootfd, m, &mo, e);
	if (ret == 0 && (mo.propagation || mo.attr_set || mo.attr_clr)) {
		char buf[FD_PATH_LEN];

		mnt = root_open(rootfd, m->destination, O_PATH, 0, e);
		if (mnt < 0)
			ret = -1;
		else if (mo.propagation &&
			 mount(NULL, fd_path(mnt, buf), NULL, mo.propagation, NULL) < 0)
			ret = berr_sys(e, "set propagation");
		else if ((mo.attr_set || mo.attr_clr) &&
			 mount_set_attr(mnt, true, mo.attr_set, mo.attr_clr) < 0)
			ret = berr_sys(e, "set recursive options");
	}
	mount_opts_free(&mo);
	return ret;
}

int mounts_apply(const struct init_ctx *ctx, int rootfd, berr_t *e)
{
	const struct spec *s = ctx->spec;

	for (size_t i = 0; i < s->n_mounts; i++) {
		const struct spec_mount *m = &s->mounts[i];

		if (mount_one(ctx, rootfd, m, e) < 0)
			return berr_wrap(e, "mounts[%zu] \"%s\" on \"%s\"", i,
					 m->source ? m->source : (m->type ? m->type : ""),
					 m->destination);
	}
	return 0;
}
