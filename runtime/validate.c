/* runtime/validate.c: checks of a parsed config that need no side effect,
 * run before anything is created so that bad input leaves nothing behind. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/path.h"
#include "common/util.h"
#include "process_tables.h"
#include "setup.h"
#include "validate.h"

static bool has_ns(const struct spec *s, enum spec_ns_type t)
{
	return spec_find_ns(s, t) != NULL;
}

static bool apparmor_enabled(void)
{
	_cleanup_free_ char *v = NULL;
	berr_t ignored = BERR_INIT;
	bool on = read_file("/sys/module/apparmor/parameters/enabled", &v, NULL, &ignored) == 0 &&
		  v[0] == 'Y';

	berr_free(&ignored);
	return on;
}

static bool selinux_enabled(void)
{
	return access("/sys/fs/selinux/enforce", F_OK) == 0;
}

static int validate_process(const struct spec *s, berr_t *e)
{
	const struct spec_process *p = s->process;

	if (!p)
		return berr_set(e, EINVAL, "process: missing required field");
	if (!p->args || !p->args[0])
		return berr_set(e, EINVAL, "process.args: must not be empty");
	if (!p->cwd || p->cwd[0] != '/')
		return berr_set(e, EINVAL, "process.cwd: must be an absolute path");
	for (size_t i = 0; i < p->n_rlimits; i++) {
		const struct spec_rlimit *r = &p->rlimits[i];

		if (rlimit_from_name(r->type) < 0)
			return berr_set(e, EINVAL, "process.rlimits[%zu].type: unknown rlimit \"%s\"", i,
					r->type);
		if (r->soft > r->hard)
			return berr_set(e, EINVAL, "process.rlimits[%zu]: soft limit above hard limit", i);
		for (size_t k = 0; k < i; k++)
			if (strcmp(p->rlimits[k].type, r->type) == 0)
				return berr_set(e, EINVAL, "process.rlimits[%zu]: duplicate type \"%s\"", i,
						r->type);
	}
	if (p->oom_score_adj.set && (p->oom_score_adj.v < -1000 || p->oom_score_adj.v > 1000))
		return berr_set(e, EINVAL, "process.oomScoreAdj: %lld is outside -1000..1000",
				(long long)p->oom_score_adj.v);
	if (p->scheduler.set) {
		if (sched_policy_from_name(p->scheduler.policy) < 0)
			return berr_set(e, EINVAL, "process.scheduler.policy: unknown policy \"%s\"",
					p->scheduler.policy);
		if (sched_flags_from_names(p->scheduler.flags) < 0)
			return berr_set(e, EINVAL, "process.scheduler.flags: unknown flag");
	}
	if (p->io_priority.set) {
		if (ioprio_class_from_name(p->io_priority.class) < 0)
			return berr_set(e, EINVAL, "process.ioPriority.class: unknown class \"%s\"",
					p->io_priority.class);
		if (p->io_priority.priority < 0 || p->io_priority.priority > 7)
			return berr_set(e, EINVAL, "process.ioPriority.priority: must be 0..7");
	}
	for (int i = 0; i < 2; i++) {
		const char *list = i ? p->exec_cpu_affinity.final : p->exec_cpu_affinity.initial;
		cpu_set_t set;

		if (list && cpu_list_parse(list, &set) < 0)
			return berr_set(e, EINVAL, "process.execCPUAffinity.%s: invalid CPU list \"%s\"",
					i ? "final" : "initial", list);
	}
	if (p->apparmor_profile && *p->apparmor_profile && !apparmor_enabled())
		return berr_set(e, ENOTSUP,
				"process.apparmorProfile: AppArmor is not enabled on this host");
	if (p->selinux_label && *p->selinux_label && !selinux_enabled())
		return berr_set(e, ENOTSUP, "process.selinuxLabel: SELinux is not enabled on this host");
	return 0;
}

/* The process's ids must exist in the new user namespace; setgid to an
 * unmapped gid would fail with a bare EINVAL much later. */
static int validate_user_mapped(const struct spec *s, berr_t *e)
{
	const struct spec_linux *lx = s->linux;
	const struct spec_user *u = s->process ? &s->process->user : NULL;

	if (!u)
		return 0;
	if (!idmap_contains(lx->uid_mappings, lx->n_uid_mappings, u->uid))
		return berr_set(e, EINVAL, "process.user.uid: %u is not mapped by linux.uidMappings",
				u->uid);
	if (!idmap_contains(lx->gid_mappings, lx->n_gid_mappings, u->gid))
		return berr_set(e, EINVAL, "process.user.gid: %u is not mapped by linux.gidMappings",
				u->gid);
	for (size_t i = 0; i < u->n_additional_gids; i++)
		if (!idmap_contains(lx->gid_mappings, lx->n_gid_mappings, u->additional_gids[i]))
			return berr_set(e, EINVAL,
					"process.user.additionalGids[%zu]: %u is not mapped by linux.gidMappings",
					i, u->additional_gids[i]);
	/* Unprivileged, a gid map of only the caller's gid is written after
	 * denying setgroups. */
	if (geteuid() != 0 && u->n_additional_gids && lx->n_gid_mappings == 1 &&
	    lx->gid_mappings[0].size == 1 && lx->gid_mappings[0].host_id == getegid())
		return berr_set(e, EPERM,
				"process.user.additionalGids: setgroups is denied in a user namespace that maps only the caller's gid; map a subordinate range (/etc/subgid) or drop them");
	return 0;
}

static int validate_namespaces(const struct spec *s, bool rootless, berr_t *e)
{
	const struct spec_linux *lx = s->linux;
	bool userns = has_ns(s, NS_USER);
	const struct spec_namespace *user = spec_find_ns(s, NS_USER);

	if (s->hostname && *s->hostname && !has_ns(s, NS_UTS))
		return berr_set(e, EINVAL, "hostname: setting it requires a new uts namespace");
	if (s->domainname && *s->domainname && !has_ns(s, NS_UTS))
		return berr_set(e, EINVAL, "domainname: setting it requires a new uts namespace");
	if (!lx)
		return 0;
	if ((lx->n_uid_mappings || lx->n_gid_mappings) && !userns)
		return berr_set(e, EINVAL,
				"linux.uidMappings: id mappings need a user namespace in linux.namespaces");
	if (userns && !user->path && (!lx->n_uid_mappings || !lx->n_gid_mappings))
		return berr_set(e, EINVAL,
				"linux.uidMappings: a new user namespace needs uid and gid mappings");
	/* Root of a user namespace may make the others without one. */
	if (rootless && geteuid() != 0 && !userns)
		return berr_set(e, EPERM,
				"linux.namespaces: a rootless container needs a user namespace");
	if (userns && !user->path && validate_user_mapped(s, e) < 0)
		return -1;
	if ((lx->time_monotonic.set || lx->time_boottime.set)) {
		const struct spec_namespace *t = spec_find_ns(s, NS_TIME);

		if (!t || t->path)
			return berr_set(e, EINVAL,
					"linux.timeOffsets: offsets need a new time namespace");
	}
	for (size_t i = 0; lx->sysctl_keys && lx->sysctl_keys[i]; i++) {
		int ns = sysctl_namespace(lx->sysctl_keys[i]);
		const struct spec_namespace *n = ns >= 0 ? spec_find_ns(s, ns) : NULL;

		if (ns < 0)
			return berr_set(e, EPERM, "linux.sysctl: \"%s\" is not namespaced and cannot be set in a container",
					lx->sysctl_keys[i]);
		if (!n)
			return berr_set(e, EPERM,
					"linux.sysctl: \"%s\" requires a new %s namespace",
					lx->sysctl_keys[i], spec_ns_name(ns));
	}
	return 0;
}

static int validate_linux(const struct spec *s, berr_t *e)
{
	const struct spec_linux *lx = s->linux;

	if (!lx)
		return 0;
	for (size_t i = 0; i < lx->n_devices; i++) {
		const struct spec_device *d = &lx->devices[i];
		_cleanup_free_ char *clean = path_clean(d->path);

		if (!strchr("cbup", d->type))
			return berr_set(e, EINVAL, "linux.devices[%zu].type: unknown type \"%c\"", i, d->type);
		if (!str_has_prefix(clean, "/dev/"))
			return berr_set(e, EINVAL, "linux.devices[%zu].path: \"%s\" is not under /dev", i,
					d->path);
		if (d->type != 'p' && (d->major < 0 || d->minor < 0))
			return berr_set(e, EINVAL, "linux.devices[%zu]: major and minor are required", i);
	}
	if (lx->rootfs_propagation && propagation_from_name(lx->rootfs_propagation) < 0)
		return berr_set(e, EINVAL, "linux.rootfsPropagation: unknown value \"%s\"",
				lx->rootfs_propagation);
	for (size_t i = 0; lx->masked_paths && lx->masked_paths[i]; i++)
		if (lx->masked_paths[i][0] != '/')
			return berr_set(e, EINVAL, "linux.maskedPaths[%zu]: must be absolute", i);
	for (size_t i = 0; lx->readonly_paths && lx->readonly_paths[i]; i++)
		if (lx->readonly_paths[i][0] != '/')
			return berr_set(e, EINVAL, "linux.readonlyPaths[%zu]: must be absolute", i);
	if (lx->personality.set && strcmp(lx->personality.domain, "LINUX") &&
	    strcmp(lx->personality.domain, "LINUX32"))
		return berr_set(e, EINVAL, "linux.personality.domain: unknown domain \"%s\"",
				lx->personality.domain);
	if (lx->intel_rdt.set && access("/sys/fs/resctrl/schemata", F_OK) < 0)
		return berr_set(e, ENOTSUP, "linux.intelRdt: resctrl is not mounted on this host");
	if (lx->mount_label && *lx->mount_label && !selinux_enabled())
		return berr_set(e, ENOTSUP, "linux.mountLabel: SELinux is not enabled on this host");
	return 0;
}

static int validate_mounts(const struct spec *s, berr_t *e)
{
	for (size_t i = 0; i < s->n_mounts; i++) {
		const struct spec_mount *m = &s->mounts[i];
		struct mount_opts mo;
		int r;

		if (!*m->destination)
			return berr_set(e, EINVAL, "mounts[%zu].destination: must not be empty", i);
		if (mount_opts_parse(m->options, &mo, e) < 0)
			return berr_wrap(e, "mounts[%zu].options", i);
		r = 0;
		if (!mo.bind && !m->type)
			r = berr_set(e, EINVAL, "mounts[%zu]: a mount needs a type or a bind option", i);
		else if (mo.idmap || m->n_uid_mappings || m->n_gid_mappings)
			r = berr_set(e, ENOTSUP, "mounts[%zu]: idmapped mounts are not supported by berth",
				     i);
		mount_opts_free(&mo);
		if (r < 0)
			return -1;
	}
	return 0;
}

int validate_spec(const struct spec *s, bool rootless, berr_t *e)
{
	if (!s->linux)
		return berr_set(e, EINVAL, "linux: missing required field (berth runs Linux containers)");
	if (validate_process(s, e) < 0 || validate_namespaces(s, rootless, e) < 0 ||
	    validate_linux(s, e) < 0 || validate_mounts(s, e) < 0)
		return -1;
	return 0;
}

int validate_rootfs(const char *rootfs, berr_t *e)
{
	struct stat st;

	if (stat(rootfs, &st) < 0)
		return berr_sys(e, "root.path \"%s\"", rootfs);
	if (!S_ISDIR(st.st_mode))
		return berr_set(e, ENOTDIR, "root.path \"%s\" is not a directory", rootfs);
	return 0;
}
