/* cgroups/hierarchy.c: where the cgroup hierarchies are (mountinfo), where
 * berth itself sits in them (/proc/self/cgroup), and cgroupsPath resolution. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroups/internal.h"
#include "common/mountinfo.h"
#include "common/util.h"

static const struct {
	const char *v2, *v1;
} ctrl_names[CG_CTRL_COUNT] = {
	[CG_CPU] = { "cpu", "cpu" },
	[CG_CPUACCT] = { NULL, "cpuacct" },
	[CG_CPUSET] = { "cpuset", "cpuset" },
	[CG_MEMORY] = { "memory", "memory" },
	[CG_PIDS] = { "pids", "pids" },
	[CG_IO] = { "io", "blkio" },
	[CG_HUGETLB] = { "hugetlb", "hugetlb" },
	[CG_RDMA] = { "rdma", "rdma" },
	[CG_NET_CLS] = { NULL, "net_cls" },
	[CG_NET_PRIO] = { NULL, "net_prio" },
	[CG_DEVICES] = { NULL, "devices" },
	[CG_FREEZER] = { NULL, "freezer" },
	[CG_MISC] = { "misc", "misc" },
};

const char *cg_ctrl_v2_name(enum cg_ctrl c)
{
	return c < CG_CTRL_COUNT ? ctrl_names[c].v2 : NULL;
}

const char *cg_ctrl_v1_name(enum cg_ctrl c)
{
	return c < CG_CTRL_COUNT ? ctrl_names[c].v1 : NULL;
}

static enum cg_ctrl ctrl_lookup(const char *name, size_t len, bool v2)
{
	for (int c = 0; c < CG_CTRL_COUNT; c++) {
		const char *n = v2 ? ctrl_names[c].v2 : ctrl_names[c].v1;

		if (n && strlen(n) == len && !strncmp(n, name, len))
			return c;
	}
	return CG_NONE;
}

enum cg_ctrl cg_ctrl_from_v2_name(const char *name)
{
	return ctrl_lookup(name, strlen(name), true);
}

enum cg_ctrl cg_ctrl_from_v1_name(const char *name)
{
	return ctrl_lookup(name, strlen(name), false);
}

static uint32_t mask_parse(const char *list, bool v2)
{
	uint32_t mask = 0;

	for (const char *p = list; p && *p;) {
		size_t len = strcspn(p, " ,\n\t");
		enum cg_ctrl c = ctrl_lookup(p, len, v2);

		if (c != CG_NONE)
			mask |= CG_BIT(c);
		p += len;
		p += strspn(p, " ,\n\t");
	}
	return mask;
}

uint32_t cg_v2_mask_parse(const char *list)
{
	return mask_parse(list, true);
}

uint32_t cg_v1_mask_parse(const char *list)
{
	return mask_parse(list, false);
}

char *cg_v1_mask_format(uint32_t mask)
{
	char *out = xstrdup("");

	for (int c = 0; c < CG_CTRL_COUNT; c++) {
		if (!(mask & CG_BIT(c)))
			continue;
		char *next = xasprintf("%s%s%s", out, *out ? "," : "", ctrl_names[c].v1);

		free(out);
		out = next;
	}
	return out;
}

/* ---- /proc/self/mountinfo ---- */

int cg_mounts_parse(const char *text, struct cg_mounts *out, berr_t *e)
{
	struct mountinfo mi;
	uint32_t seen = 0;

	memset(out, 0, sizeof *out);
	if (mountinfo_parse(text, &mi, e) < 0)
		return berr_wrap(e, "find the cgroup hierarchies");
	for (size_t i = 0; i < mi.n; i++) {
		const struct mountinfo_entry *me = &mi.entries[i];

		if (!strcmp(me->fstype, "cgroup2")) {
			if (!out->v2_mountpoint) {
				out->v2_mountpoint = xstrdup(me->mount_point);
				out->v2_root = xstrdup(me->root);
			}
		} else if (!strcmp(me->fstype, "cgroup")) {
			/* The same hierarchy may be mounted twice: keep the first. */
			uint32_t mask = cg_v1_mask_parse(me->super_opts) & ~seen;

			if (!mask)
				continue;
			seen |= mask;
			out->v1 = xreallocarray(out->v1, out->n_v1 + 1, sizeof *out->v1);
			out->v1[out->n_v1++] = (struct cg_v1_mount){
				.mountpoint = xstrdup(me->mount_point),
				.root = xstrdup(me->root),
				.mask = mask,
			};
		}
	}
	mountinfo_free(&mi);
	return 0;
}

void cg_mounts_free(struct cg_mounts *m)
{
	free(m->v2_mountpoint);
	free(m->v2_root);
	for (size_t i = 0; i < m->n_v1; i++) {
		free(m->v1[i].mountpoint);
		free(m->v1[i].root);
	}
	free(m->v1);
	memset(m, 0, sizeof *m);
}

/* ---- /proc/self/cgroup: "ID:CONTROLLERS:PATH" ---- */

int cg_self_parse(const char *text, struct cg_self *out, berr_t *e)
{
	_cleanup_free_ char *copy = xstrdup(text);
	char *save = NULL;

	memset(out, 0, sizeof *out);
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *c1 = strchr(line, ':'), *c2, *path;

		if (!c1 || !(c2 = strchr(c1 + 1, ':')))
			continue;
		*c2 = '\0';
		path = c2 + 1;
		if (*path != '/')
			continue; /* e.g. "(deleted)" or a path outside our cgroup namespace */
		if (!strncmp(line, "0:", 2) && c1 + 1 == c2) {
			free(out->v2_path);
			out->v2_path = xstrdup(path);
			continue;
		}
		uint32_t mask = cg_v1_mask_parse(c1 + 1);

		for (int c = 0; c < CG_CTRL_COUNT; c++) {
			if ((mask & CG_BIT(c)) && !out->v1_paths[c])
				out->v1_paths[c] = xstrdup(path);
		}
	}
	(void)e;
	return 0;
}

void cg_self_free(struct cg_self *s)
{
	free(s->v2_path);
	for (int c = 0; c < CG_CTRL_COUNT; c++)
		free(s->v1_paths[c]);
	memset(s, 0, sizeof *s);
}

/* ---- cgroupsPath ---- */

int cg_clean_path(const char *path, char **out, bool *absolute, berr_t *e)
{
	_cleanup_free_ char *copy = xstrdup(path);
	_cleanup_free_ char **parts = NULL;
	size_t n = 0;
	char *save = NULL;

	*absolute = path[0] == '/';
	parts = xcalloc(strlen(path) + 1, sizeof *parts);
	for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (!strcmp(c, "."))
			continue;
		if (!strcmp(c, "..")) {
			if (n == 0)
				return berr_set(e, EINVAL, "cgroupsPath \"%s\": \"..\" climbs above %s",
						path, *absolute ? "the hierarchy root"
								: "berth's own cgroup");
			n--;
			continue;
		}
		if (strchr(c, '\n'))
			return berr_set(e, EINVAL, "cgroupsPath \"%s\": a newline in a cgroup name", path);
		parts[n++] = c;
	}
	if (n == 0)
		return berr_set(e, EINVAL, "cgroupsPath \"%s\": names no cgroup below %s", path,
				*absolute ? "the hierarchy root" : "berth's own cgroup");
	char *res = xstrdup(parts[0]);

	for (size_t i = 1; i < n; i++) {
		char *next = xasprintf("%s/%s", res, parts[i]);

		free(res);
		res = next;
	}
	*out = res;
	return 0;
}

/* A hierarchy path from /proc/self/cgroup -> the directory under the mount
 * point. The mount root is "/" unless only a subtree is mounted (inside a
 * container without a cgroup namespace), in which case it is stripped. */
static char *hierarchy_dir(const char *mountpoint, const char *mount_root, const char *cgpath)
{
	const char *rest = cgpath;
	size_t rl = strlen(mount_root);

	if (strcmp(mount_root, "/") != 0 && !strncmp(cgpath, mount_root, rl) &&
	    (cgpath[rl] == '/' || cgpath[rl] == '\0'))
		rest = cgpath + rl;
	while (*rest == '/')
		rest++;
	if (!*rest)
		return xstrdup(mountpoint);
	return xasprintf("%s/%s", strcmp(mountpoint, "/") ? mountpoint : "", rest);
}

static int fill_dir(struct cg_dir *d, const char *mountpoint, const char *mount_root,
		    const char *self_path, bool absolute, const char *rel, berr_t *e)
{
	if (absolute || !self_path)
		d->base = xstrdup(mountpoint);
	else if (strstr(self_path, "/.."))
		return berr_set(e, EINVAL, "berth's own cgroup \"%s\" is outside its cgroup namespace",
				self_path);
	else
		d->base = hierarchy_dir(mountpoint, mount_root, self_path);
	d->mount = xstrdup(mountpoint);
	d->path = xasprintf("%s/%s", d->base, rel);
	return 0;
}

/* The v1 controllers berth creates a directory for: all it knows. freezer
 * holds no limit (berth freezes through v2's cgroup.freeze) but joining it
 * keeps the container out of the host's root freezer cgroup. Named
 * hierarchies such as name=systemd are left alone. */
#define CG_V1_MANAGED ((1u << CG_CTRL_COUNT) - 1)

static bool valid_id(const char *id)
{
	return id && *id && !strchr(id, '/') && !strchr(id, '\n') && strcmp(id, ".") &&
	       strcmp(id, "..");
}

int cg_resolve(const struct cg_mounts *m, const struct cg_self *self,
	       const char *cgroups_path, const char *id, struct cgroup *cg, berr_t *e)
{
	bool absolute = false;

	memset(cg, 0, sizeof *cg);
	if (!m->v2_mountpoint)
		return berr_set(e, ENOTSUP, "no cgroup2 filesystem is mounted: berth needs cgroup v2 "
				"(pure cgroup v1 hosts are not supported)");
	if (cgroups_path && *cgroups_path) {
		if (cg_clean_path(cgroups_path, &cg->rel, &absolute, e) < 0)
			return -1;
	} else {
		if (!valid_id(id))
			return berr_set(e, EINVAL, "container id \"%s\" cannot name a cgroup",
					id ? id : "");
		cg->rel = xasprintf("berth/%s", id);
		cg->default_path = true;
	}
	if (fill_dir(&cg->v2, m->v2_mountpoint, m->v2_root, self->v2_path, absolute,
		     cg->rel, e) < 0)
		goto fail;
	for (size_t i = 0; i < m->n_v1; i++) {
		const struct cg_v1_mount *vm = &m->v1[i];
		uint32_t mask = vm->mask & CG_V1_MANAGED;
		const char *self_path = NULL;
		struct cg_dir *d;

		if (!mask)
			continue;
		for (int c = 0; c < CG_CTRL_COUNT && !self_path; c++)
			if (mask & CG_BIT(c))
				self_path = self->v1_paths[c];
		cg->v1 = xreallocarray(cg->v1, cg->n_v1 + 1, sizeof *cg->v1);
		d = &cg->v1[cg->n_v1++];
		memset(d, 0, sizeof *d);
		d->mask = mask;
		if (fill_dir(d, vm->mountpoint, vm->root, self_path, absolute, cg->rel, e) < 0)
			goto fail;
	}
	return 0;
fail:
	cg_clear(cg);
	return -1;
}

static void dir_clear(struct cg_dir *d)
{
	free(d->mount);
	free(d->base);
	free(d->path);
	memset(d, 0, sizeof *d);
}

void cg_clear(struct cgroup *cg)
{
	dir_clear(&cg->v2);
	for (size_t i = 0; i < cg->n_v1; i++)
		dir_clear(&cg->v1[i]);
	free(cg->v1);
	free(cg->rel);
	free(cg->saved);
	memset(cg, 0, sizeof *cg);
}

const struct cg_dir *cg_v1_dir(const struct cgroup *cg, enum cg_ctrl c)
{
	for (size_t i = 0; i < cg->n_v1; i++)
		if (cg->v1[i].mask & CG_BIT(c))
			return &cg->v1[i];
	return NULL;
}

uint32_t cg_v1_mask(const struct cgroup *cg)
{
	uint32_t mask = 0;

	for (size_t i = 0; i < cg->n_v1; i++)
		mask |= cg->v1[i].mask;
	return mask;
}

uint32_t cg_v2_available(const char *mount)
{
	_cleanup_free_ char *text = NULL;
	berr_t e = BERR_INIT;

	if (cg_read(mount, "cgroup.controllers", &text, &e) < 0) {
		berr_free(&e);
		return 0;
	}
	return cg_v2_mask_parse(text);
}
