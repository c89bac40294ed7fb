/* runtime/mounts_cgroup.c: /sys/fs/cgroup inside the container. cgroup2 is
 * mounted fresh in a cgroup namespace and bound from the host's view of the
 * container's cgroup otherwise; on hybrid hosts the v1 hierarchies too. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/mountinfo.h"
#include "common/path.h"
#include "common/util.h"
#include "mountapi.h"
#include "setup.h"

int mount_cgroup(const struct init_ctx *ctx, int rootfd, const struct spec_mount *m,
		 const struct mount_opts *mo, berr_t *e);

/* The controllers of a v1 hierarchy: its super options minus rw/ro and the
 * generic ones. "rw,nosuid,cpu,cpuacct" -> "cpu,cpuacct". */
static char *v1_controllers(const char *super_opts)
{
	_cleanup_free_ char *copy = xstrdup(super_opts);
	char *out = xstrdup(""), *save = NULL;

	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		char *next;

		if (!strcmp(t, "rw") || !strcmp(t, "ro") || !strcmp(t, "xattr") ||
		    str_has_prefix(t, "release_agent=") || !strcmp(t, "clone_children") ||
		    !strcmp(t, "noprefix") || str_has_prefix(t, "cpuset_v2_mode"))
			continue;
		next = xasprintf("%s%s%s", out, *out ? "," : "", t);
		free(out);
		out = next;
	}
	return out;
}

/* Our cgroup in the hierarchy whose /proc/self/cgroup controller field is
 * `controllers` ("" for cgroup2). */
static char *own_cgroup(const char *proc_cgroup, const char *controllers)
{
	_cleanup_free_ char *copy = xstrdup(proc_cgroup);
	char *save = NULL;

	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

		if (!c2)
			continue;
		*c2 = '\0';
		if (strcmp(c1 + 1, controllers) == 0)
			return xstrdup(c2 + 1);
	}
	return NULL;
}

/* Mount one hierarchy at target: fresh in a cgroup namespace, else a bind
 * of the container's own cgroup directory from the host. */
static int mount_hierarchy(const struct init_ctx *ctx, const struct mountinfo_entry *host,
			   const char *proc_cgroup, int target, unsigned long flags,
			   berr_t *e)
{
	bool v2 = strcmp(host->fstype, "cgroup2") == 0;
	_cleanup_free_ char *ctrl = v2 ? xstrdup("") : v1_controllers(host->super_opts);
	_cleanup_free_ char *own = NULL, *src = NULL;
	bool cgns = ctx->ns.create[NS_CGROUP] || ctx->ns.fds[NS_CGROUP] >= 0;
	char buf[FD_PATH_LEN];

	if (cgns && mount(v2 ? "cgroup2" : "cgroup", fd_path(target, buf), host->fstype,
			  flags, v2 ? NULL : ctrl) == 0)
		return 0;
	if (cgns)
		log_debug("mount %s (%s) in the cgroup namespace: %s; binding instead",
			  host->fstype, ctrl, strerror(errno));
	own = own_cgroup(proc_cgroup, ctrl);
	if (!own)
		return berr_set(e, ENOENT, "no cgroup of this process in \"%s\"", host->mount_point);
	src = xasprintf("%s%s", host->mount_point, own);
	if (mount(src, fd_path(target, buf), NULL, MS_BIND | MS_REC, NULL) < 0)
		return berr_sys(e, "bind mount \"%s\"", src);
	return 0;
}

static int make_readonly(int rootfd, const char *path, berr_t *e)
{
	_cleanup_close_ int fd = root_open(rootfd, path, O_PATH, 0, e);

	if (fd < 0)
		return -1;
	if (mount_set_attr(fd, false, MOUNT_ATTR_RDONLY, 0) < 0)
		return berr_sys(e, "make \"%s\" read-only", path);
	return 0;
}

static int mount_v2(const struct init_ctx *ctx, int rootfd, const char *dest,
		    const struct mountinfo_entry *host, const char *proc_cgroup,
		    unsigned long flags, berr_t *e)
{
	_cleanup_close_ int target = root_ensure_target(rootfd, dest, true, e);

	if (target < 0)
		return -1;
	if (mount_hierarchy(ctx, host, proc_cgroup, target, flags, e) < 0)
		return -1;
	return (flags & MS_RDONLY) ? make_readonly(rootfd, dest, e) : 0;
}

/* Hybrid hosts and "cgroup" mounts: a tmpfs with one directory per host
 * hierarchy, each mounted like the host's. */
static int mount_v1_tree(const struct init_ctx *ctx, int rootfd, const char *dest,
			 const struct mountinfo *mi, const char *proc_cgroup,
			 unsigned long flags, berr_t *e)
{
	_cleanup_close_ int target = root_ensure_target(rootfd, dest, true, e);
	char buf[FD_PATH_LEN];

	if (target < 0)
		return -1;
	if (mount("tmpfs", fd_path(target, buf), "tmpfs", flags & ~MS_RDONLY, "mode=755") < 0)
		return berr_sys(e, "mount tmpfs on \"%s\"", dest);
	for (size_t i = 0; i < mi->n; i++) {
		const struct mountinfo_entry *me = &mi->entries[i];
		const char *base;
		_cleanup_free_ char *sub = NULL;
		_cleanup_close_ int subfd = -1;

		if (strcmp(me->fstype, "cgroup") && strcmp(me->fstype, "cgroup2"))
			continue;
		if (!str_has_prefix(me->mount_point, "/sys/fs/cgroup/"))
			continue;
		base = me->mount_point + strlen("/sys/fs/cgroup/");
		if (!*base || strchr(base, '/'))
			continue;
		sub = xasprintf("%s/%s", dest, base);
		subfd = root_ensure_target(rootfd, sub, true, e);
		if (subfd < 0 || mount_hierarchy(ctx, me, proc_cgroup, subfd, flags, e) < 0)
			return -1;
		if ((flags & MS_RDONLY) && make_readonly(rootfd, sub, e) < 0)
			return -1;
	}
	return (flags & MS_RDONLY) ? make_readonly(rootfd, dest, e) : 0;
}

int mount_cgroup(const struct init_ctx *ctx, int rootfd, const struct spec_mount *m,
		 const struct mount_opts *mo, berr_t *e)
{
	struct mountinfo mi;
	_cleanup_free_ char *proc_cgroup = NULL;
	const struct mountinfo_entry *v2 = NULL;
	bool pure_v2;
	int ret;

	if (mountinfo_read(NULL, &mi, e) < 0)
		return -1;
	if (read_file("/proc/self/cgroup", &proc_cgroup, NULL, e) < 0) {
		mountinfo_free(&mi);
		return -1;
	}
	for (size_t i = 0; i < mi.n; i++)
		if (strcmp(mi.entries[i].fstype, "cgroup2") == 0 &&
		    str_has_prefix(mi.entries[i].mount_point, "/sys/fs/cgroup"))
			v2 = &mi.entries[i];
	pure_v2 = v2 && strcmp(v2->mount_point, "/sys/fs/cgroup") == 0;
	if (pure_v2 || (v2 && strcmp(m->type, "cgroup2") == 0))
		ret = mount_v2(ctx, rootfd, m->destination, v2, proc_cgroup, mo->flags, e);
	else
		ret = mount_v1_tree(ctx, rootfd, m->destination, &mi, proc_cgroup, mo->flags, e);
	mountinfo_free(&mi);
	return ret;
}
