/* cgroups/cgroup.c: a container's cgroup over its life: create (with rollback),
 * enter, save and reopen, update, destroy. */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "cgroups/cgroups.h"
#include "cgroups/internal.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"

/* ---- saved form ---- */

static void write_dir_json(struct json_writer *w, const struct cg_dir *d, bool v1)
{
	json_begin_map(w);
	if (v1) {
		_cleanup_free_ char *names = cg_v1_mask_format(d->mask);

		json_kv_str(w, "controllers", names);
	}
	json_kv_str(w, "path", d->path);
	json_kv_str(w, "mount", d->mount);
	json_kv_i64(w, "owned", d->owned);
	json_end_map(w);
}

/* {"v2":{"path","mount","owned"},"v1":[{"controllers","path","mount","owned"}]}:
 * absolute directories, so that any later berth process reopens the same
 * cgroup whatever cgroup it runs in itself. */
char *cg_serialize(const struct cgroup *cg)
{
	struct json_writer *w = json_writer_new();
	char *out;

	json_begin_map(w);
	json_key(w, "v2");
	write_dir_json(w, &cg->v2, false);
	if (cg->n_v1) {
		json_key(w, "v1");
		json_begin_array(w);
		for (size_t i = 0; i < cg->n_v1; i++)
			write_dir_json(w, &cg->v1[i], true);
		json_end_array(w);
	}
	json_end_map(w);
	out = xstrdup(json_writer_str(w));
	json_writer_free(w);
	return out;
}

static int read_dir_json(yajl_val v, const char *path, struct cg_dir *d, bool v1, berr_t *e)
{
	_cleanup_free_ char *names = NULL;
	int64_t owned = 1;

	if (json_expect_object(v, path, e) < 0 ||
	    json_field_str(v, path, "path", true, &d->path, e) < 0 ||
	    json_field_str(v, path, "mount", true, &d->mount, e) < 0 ||
	    json_field_i64(v, path, "owned", false, &owned, NULL, e) < 0)
		return -1;
	size_t ml = strlen(d->mount);

	if (d->path[0] != '/' || strncmp(d->path, d->mount, ml) != 0 || d->path[ml] != '/' ||
	    strstr(d->path, "/../") || str_has_suffix(d->path, "/.."))
		return berr_set(e, EINVAL, "%s.path: \"%s\" is not a directory below \"%s\"", path,
				d->path, d->mount);
	d->owned = owned < 1 ? 1 : owned > 64 ? 64 : (int)owned;
	if (v1) {
		if (json_field_str(v, path, "controllers", true, &names, e) < 0)
			return -1;
		d->mask = cg_v1_mask_parse(names);
	}
	return 0;
}

int cg_deserialize(const char *text, struct cgroup *cg, berr_t *e)
{
	_cleanup_json_ yajl_val root = NULL;
	yajl_val v1;

	memset(cg, 0, sizeof *cg);
	if (json_parse(text, "saved cgroup", &root, e) < 0)
		return -1;
	if (json_expect_object(root, "cgroup", e) < 0 ||
	    read_dir_json(json_get(root, "v2"), "cgroup.v2", &cg->v2, false, e) < 0)
		goto fail;
	v1 = json_get(root, "v1");
	if (v1) {
		if (json_expect_array(v1, "cgroup.v1", e) < 0)
			goto fail;
		cg->v1 = xcalloc(v1->u.array.len, sizeof *cg->v1);
		for (size_t i = 0; i < v1->u.array.len; i++) {
			_cleanup_free_ char *p = json_path_index("cgroup.v1", i);

			cg->n_v1 = i + 1;
			if (read_dir_json(v1->u.array.values[i], p, &cg->v1[i], true, e) < 0)
				goto fail;
		}
	}
	cg->saved = xstrdup(text);
	return 0;
fail:
	cg_clear(cg);
	return -1;
}

/* ---- creating directories ---- */

/* v1 cpuset: a new cgroup starts with empty cpus and mems and refuses tasks
 * until they are set, so copy the parent's down. */
static int cpuset_copy_down(const char *dir, berr_t *e)
{
	static const char *const files[] = { "cpuset.cpus", "cpuset.mems" };
	_cleanup_free_ char *parent = xstrndup(dir, strrchr(dir, '/') - dir);

	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		_cleanup_free_ char *cur = NULL;
		_cleanup_free_ char *from = NULL;

		if (cg_read(dir, files[i], &cur, e) < 0)
			return -1;
		if (*cur)
			continue;
		if (cg_read(parent, files[i], &from, e) < 0)
			return -1;
		/* A parent berth did not make and nobody configured. */
		if (!*from)
			return berr_set(e, ENOSPC, "parent cgroup \"%s\" has an empty %s: no task "
					"can run below it", parent, files[i]);
		if (cg_write(dir, files[i], from, e) < 0)
			return -1;
	}
	return 0;
}

/* mkdir -p base/rel, counting the directories made. A concurrent destroy
 * may remove an empty shared parent (berth/) between our mkdirs: retry. */
static int make_dir(struct cg_dir *d, const char *rel, bool cpuset, berr_t *e)
{
	for (int attempt = 0;; attempt++) {
		_cleanup_free_ char *path = xstrdup(d->base);
		const char *p = rel;
		int err = 0;

		while (*p) {
			size_t len = strcspn(p, "/");
			char *next = xasprintf("%s/%.*s", path, (int)len, p);

			free(path);
			path = next;
			p += len;
			p += strspn(p, "/");
			if (mkdir(path, 0755) == 0) {
				d->created++;
				if (cpuset && cpuset_copy_down(path, e) < 0)
					return berr_wrap(e, "set up cpuset cgroup \"%s\"", path);
			} else if (errno != EEXIST) {
				err = errno;
				break;
			}
		}
		if (!err)
			return 0;
		if (err == ENOENT && attempt < 5)
			continue;
		errno = err;
		return berr_sys(e, "create cgroup \"%s\"", path);
	}
}

/* Remove the `count` directories cgroup_create made: the deepest existing
 * components of d->path, deepest first. */
static void remove_trailing(const struct cg_dir *d, int count)
{
	_cleanup_free_ char *path = xstrdup(d->path);
	size_t base_len = strlen(d->base);

	while (count > 0 && strlen(path) > base_len) {
		char *slash;

		if (rmdir(path) == 0)
			count--;
		else if (errno != ENOENT)
			break;
		slash = strrchr(path, '/');
		if (!slash)
			break;
		*slash = '\0';
	}
}

static void rollback(struct cgroup *cg)
{
	for (size_t i = 0; i < cg->n_v1; i++)
		remove_trailing(&cg->v1[i], cg->v1[i].created);
	remove_trailing(&cg->v2, cg->v2.created);
}

static bool permission_error(int err)
{
	return err == EACCES || err == EPERM || err == EROFS;
}

/* Rootless: drop a v1 hierarchy we may not write to. */
static void drop_v1(struct cgroup *cg, size_t i)
{
	free(cg->v1[i].mount);
	free(cg->v1[i].base);
	free(cg->v1[i].path);
	memmove(&cg->v1[i], &cg->v1[i + 1], (cg->n_v1 - i - 1) * sizeof *cg->v1);
	cg->n_v1--;
}

static int make_dirs(struct cgroup *cg, const struct cgroup_config *cfg, bool *skip, berr_t *e)
{
	*skip = false;
	if (make_dir(&cg->v2, cg->rel, false, e) < 0) {
		if (!cfg->rootless || !permission_error(e->errnum))
			return -1;
		if (cgroup_resources_any(cfg->resources))
			return berr_wrap(e, "linux.resources asks for limits, but this user has no "
				       "delegated, writable cgroup v2 subtree to enforce them");
		log_debug("rootless: no writable cgroup (%s); running without one", e->msg);
		berr_free(e);
		*skip = true;
		return 0;
	}
	for (size_t i = 0; i < cg->n_v1;) {
		if (make_dir(&cg->v1[i], cg->rel, (cg->v1[i].mask & CG_BIT(CG_CPUSET)) != 0, e) == 0) {
			i++;
			continue;
		}
		if (!cfg->rootless || !permission_error(e->errnum))
			return -1;
		log_debug("rootless: skipping cgroup v1 hierarchy: %s", e->msg);
		berr_free(e);
		drop_v1(cg, i);
	}
	return 0;
}

/* What destroy may remove: the leaf always; for the default path also the
 * shared berth/ parent when it is empty; for a given path, the parents this
 * create made. */
static void set_owned(struct cgroup *cg)
{
	int depth = 1;

	for (const char *p = cg->rel; *p; p++)
		depth += *p == '/';
	cg->v2.owned = cg->default_path ? depth : cg->v2.created > 0 ? cg->v2.created : 1;
	for (size_t i = 0; i < cg->n_v1; i++)
		cg->v1[i].owned = cg->default_path ? depth
				  : cg->v1[i].created > 0 ? cg->v1[i].created : 1;
}

static struct cg_host host_of(const struct cgroup *cg)
{
	return (struct cg_host){ .v2_mask = cg->v2_avail, .v1_mask = cg_v1_mask(cg) };
}

/* A hierarchy something else was mounted over later (a tmpfs over
 * /sys/fs/cgroup/unified, as sandboxes do to hide it) is still listed in
 * mountinfo but not reachable: what is at the mount point decides. */
static bool fs_is(const char *mountpoint, unsigned long magic)
{
	struct statfs sf;

	return statfs(mountpoint, &sf) == 0 && (unsigned long)sf.f_type == magic;
}

static void drop_covered(struct cg_mounts *m)
{
	size_t kept = 0;

	if (m->v2_mountpoint && !fs_is(m->v2_mountpoint, CGROUP2_SUPER_MAGIC)) {
		log_debug("cgroup2 at %s is covered by another mount: not used", m->v2_mountpoint);
		free(m->v2_mountpoint);
		free(m->v2_root);
		m->v2_mountpoint = m->v2_root = NULL;
	}
	for (size_t i = 0; i < m->n_v1; i++) {
		if (!fs_is(m->v1[i].mountpoint, CGROUP_SUPER_MAGIC)) {
			log_debug("cgroup v1 at %s is covered by another mount: not used",
				  m->v1[i].mountpoint);
			free(m->v1[i].mountpoint);
			free(m->v1[i].root);
			continue;
		}
		m->v1[kept++] = m->v1[i];
	}
	m->n_v1 = kept;
}

static int read_host(struct cg_mounts *m, struct cg_self *self, berr_t *e)
{
	_cleanup_free_ char *mountinfo = NULL;
	_cleanup_free_ char *own = NULL;

	if (read_file("/proc/self/mountinfo", &mountinfo, NULL, e) < 0 ||
	    read_file("/proc/self/cgroup", &own, NULL, e) < 0)
		return -1;
	if (cg_mounts_parse(mountinfo, m, e) < 0)
		return -1;
	drop_covered(m);
	if (cg_self_parse(own, self, e) < 0) {
		cg_mounts_free(m);
		return -1;
	}
	return 0;
}

/* berth drives cgroupfs itself; the systemd driver (transient scopes over
 * D-Bus) is not implemented, and is never silently replaced. */
static int check_systemd(const struct cgroup_config *cfg, berr_t *e)
{
	struct stat st;

	if (!cfg->systemd)
		return 0;
	if (stat("/run/systemd/system", &st) < 0)
		return berr_set(e, ENOTSUP, "systemd cgroup driver requested but systemd is not running");
	return berr_set(e, ENOTSUP, "the systemd cgroup driver is not supported by berth; "
			"run without --systemd-cgroup to use cgroupfs");
}

int cgroup_create(const struct cgroup_config *cfg, struct cgroup **out, berr_t *e)
{
	struct cgroup *cg = xzalloc(sizeof *cg);
	struct cg_mounts m = { 0 };
	struct cg_self self = { 0 };
	struct cg_plan plan = { 0 };
	struct cg_host host;
	bool skip = false;
	int ret;

	*out = NULL;
	if (check_systemd(cfg, e) < 0 || read_host(&m, &self, e) < 0) {
		free(cg);
		return -1;
	}
	ret = cg_resolve(&m, &self, cfg->path, cfg->id, cg, e);
	cg_mounts_free(&m);
	cg_self_free(&self);
	if (ret < 0) {
		free(cg);
		/* Rootless without any reachable cgroup2: as without a
		 * writable one. */
		if (!cfg->rootless || e->errnum != ENOTSUP || cgroup_resources_any(cfg->resources))
			return -1;
		log_debug("rootless: %s; running without a cgroup", e->msg);
		berr_free(e);
		return 0;
	}
	cg->v2_avail = cg_v2_available(cg->v2.mount);
	/* Validate every limit against the host before touching anything. */
	host = host_of(cg);
	if (cg_plan_resources(cfg->resources, &host, &plan, e) < 0)
		goto fail;
	if (make_dirs(cg, cfg, &skip, e) < 0)
		goto undo;
	if (skip) {
		rollback(cg);
		cg_plan_free(&plan);
		cgroup_free(cg);
		return 0;
	}
	if (cg_apply_plan(cg, &plan, cfg->resources, e) < 0)
		goto undo;
	cg_plan_free(&plan);
	set_owned(cg);
	cg->saved = cg_serialize(cg);
	*out = cg;
	return 0;
undo:
	rollback(cg);
fail:
	cg_plan_free(&plan);
	cgroup_free(cg);
	return -1;
}

int cgroup_enter(struct cgroup *cg, pid_t pid, berr_t *e)
{
	char buf[32];

	snprintf(buf, sizeof buf, "%d", (int)pid);
	for (size_t i = 0; i < cg->n_v1; i++)
		if (cg_write(cg->v1[i].path, "cgroup.procs", buf, e) < 0)
			return berr_wrap(e, "join cgroup");
	if (cg_write(cg->v2.path, "cgroup.procs", buf, e) < 0)
		return berr_wrap(e, "join cgroup");
	return 0;
}

int cgroup_enter_sub(struct cgroup *cg, const char *sub, pid_t pid, berr_t *e)
{
	_cleanup_free_ char *clean = NULL, *dir = NULL;
	bool absolute;
	char buf[32];

	/* Below the container's v2 cgroup only: the v1 hierarchies keep the
	 * process in the container's own cgroup. */
	if (cg_clean_path(sub, &clean, &absolute, e) < 0)
		return berr_wrap(e, "--cgroup \"%s\"", sub);
	dir = xasprintf("%s/%s", cg->v2.path, clean);
	snprintf(buf, sizeof buf, "%d", (int)pid);
	for (size_t i = 0; i < cg->n_v1; i++)
		if (cg_write(cg->v1[i].path, "cgroup.procs", buf, e) < 0)
			return berr_wrap(e, "join cgroup");
	if (cg_write(dir, "cgroup.procs", buf, e) < 0)
		return berr_wrap(e, "join sub-cgroup \"%s\"", sub);
	return 0;
}

const char *cgroup_path(const struct cgroup *cg)
{
	return cg->saved;
}

int cgroup_open(const char *saved_path, struct cgroup **out, berr_t *e)
{
	struct cgroup *cg = xzalloc(sizeof *cg);

	*out = NULL;
	if (cg_deserialize(saved_path, cg, e) < 0) {
		free(cg);
		return -1;
	}
	cg->v2_avail = cg_v2_available(cg->v2.mount);
	*out = cg;
	return 0;
}

void cgroup_free(struct cgroup *cg)
{
	if (!cg)
		return;
	cg_clear(cg);
	free(cg);
}

/* ---- destroy ---- */

/* Sub-cgroups a container made for itself: rmdir, deepest first. rmdir
 * fails on a cgroup that still has processes, so nothing alive is removed. */
static void remove_children(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		_cleanup_free_ char *sub = NULL;

		if (de->d_type != DT_DIR || !strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		sub = xasprintf("%s/%s", dir, de->d_name);
		remove_children(sub);
		if (rmdir(sub) < 0 && errno != ENOENT)
			log_debug("cgroup: rmdir \"%s\": %s", sub, strerror(errno));
	}
	closedir(d);
}

/* The leaf may stay busy for a moment while killed processes exit. */
static int remove_leaf(const struct cg_dir *d, uint64_t deadline, berr_t *e)
{
	for (;;) {
		remove_children(d->path);
		if (rmdir(d->path) == 0 || errno == ENOENT)
			break;
		if ((errno != EBUSY && errno != ENOTEMPTY) || now_ns() > deadline)
			return berr_sys(e, "remove cgroup \"%s\"", d->path);
		nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
	}
	/* Then the parents this cgroup owns, while they are empty. */
	_cleanup_free_ char *path = xstrdup(d->path);

	for (int i = 1; i < d->owned; i++) {
		char *slash = strrchr(path, '/');

		if (!slash || (size_t)(slash - path) <= strlen(d->mount))
			break;
		*slash = '\0';
		if (rmdir(path) < 0)
			break; /* in use by another container, or gone */
	}
	return 0;
}

int cgroup_destroy(struct cgroup *cg, berr_t *e)
{
	uint64_t deadline = now_ns() + 1000ull * 1000 * 1000;
	int ret = 0;

	/* Every hierarchy is tried; the first failure is reported. */
	for (size_t i = 0; i <= cg->n_v1; i++) {
		const struct cg_dir *d = i < cg->n_v1 ? &cg->v1[i] : &cg->v2;
		berr_t err = BERR_INIT;

		if (remove_leaf(d, deadline, &err) < 0) {
			if (ret == 0)
				berr_move(e, &err);
			berr_free(&err);
			ret = -1;
		}
	}
	return ret;
}

/* ---- update ---- */

/* checkBeforeUpdate: refuse a memory limit below what the cgroup already
 * uses, instead of letting the kernel reclaim or OOM-kill to fit. */
static int check_memory_usage(const struct cgroup *cg, const struct cgroup_resources *r,
			      berr_t *e)
{
	const struct cg_dir *d;
	_cleanup_free_ char *text = NULL;
	uint64_t usage;
	const char *dir, *file;

	if (!r->memory.check_before_update.v || !r->memory.limit.set || r->memory.limit.v <= 0)
		return 0;
	if (cg->v2_avail & CG_BIT(CG_MEMORY)) {
		dir = cg->v2.path;
		file = "memory.current";
	} else if ((d = cg_v1_dir(cg, CG_MEMORY))) {
		dir = d->path;
		file = "memory.usage_in_bytes";
	} else {
		return 0; /* the plan reports the missing controller */
	}
	if (cg_read(dir, file, &text, e) < 0)
		return berr_wrap(e, "linux.resources.memory.checkBeforeUpdate");
	if (parse_uint64(text, &usage) && (uint64_t)r->memory.limit.v < usage)
		return berr_set(e, EBUSY, "linux.resources.memory.limit: %lld is below the "
				"current usage of %llu bytes (checkBeforeUpdate)",
				(long long)r->memory.limit.v, (unsigned long long)usage);
	return 0;
}

int cgroup_update(struct cgroup *cg, const struct cgroup_resources *r, berr_t *e)
{
	struct cg_plan plan = { 0 };
	struct cg_host host = host_of(cg);
	int ret;

	if (!r)
		return 0;
	if (cg_plan_resources(r, &host, &plan, e) < 0)
		return berr_wrap(e, "update cgroup");
	ret = check_memory_usage(cg, r, e);
	if (ret == 0)
		ret = cg_apply_plan(cg, &plan, r, e);
	cg_plan_free(&plan);
	return ret < 0 ? berr_wrap(e, "update cgroup") : 0;
}
