/* runtime/namespaces.c: the namespace plan of a container, joining and
 * unsharing in the init, and the user namespace's id maps. */
#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/idmap.h"
#include "common/log.h"
#include "common/util.h"
#include "namespaces.h"
#include "sync.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static const struct {
	int flag;
	const char *proc;
} ns_table[NS_TYPE_COUNT] = {
	[NS_PID] = {CLONE_NEWPID, "pid"},
	[NS_NETWORK] = {CLONE_NEWNET, "net"},
	[NS_MOUNT] = {CLONE_NEWNS, "mnt"},
	[NS_IPC] = {CLONE_NEWIPC, "ipc"},
	[NS_UTS] = {CLONE_NEWUTS, "uts"},
	[NS_USER] = {CLONE_NEWUSER, "user"},
	[NS_CGROUP] = {CLONE_NEWCGROUP, "cgroup"},
	[NS_TIME] = {CLONE_NEWTIME, "time"},
};

int ns_clone_flag(enum spec_ns_type t)
{
	return ns_table[t].flag;
}

const char *ns_proc_name(enum spec_ns_type t)
{
	return ns_table[t].proc;
}

static int open_ns_path(const char *path, enum spec_ns_type t, berr_t *e)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	int type;

	if (fd < 0)
		return berr_sys(e, "open %s namespace \"%s\"", spec_ns_name(t), path);
	type = ioctl(fd, NS_GET_NSTYPE);
	if (type < 0)
		return berr_set(e, EINVAL, "\"%s\" is not a namespace file", path);
	if (type != ns_table[t].flag)
		return berr_set(e, EINVAL, "\"%s\" is not a %s namespace", path, spec_ns_name(t));
	return steal_fd(fd);
}

int ns_plan_make(const struct spec *s, struct ns_plan *plan, berr_t *e)
{
	bool joins_other = false;

	memset(plan, 0, sizeof *plan);
	for (int t = 0; t < NS_TYPE_COUNT; t++)
		plan->fds[t] = -1;
	for (size_t i = 0; s->linux && i < s->linux->n_namespaces; i++) {
		const struct spec_namespace *ns = &s->linux->namespaces[i];

		if (!ns->path) {
			plan->create[ns->type] = true;
			continue;
		}
		plan->fds[ns->type] = open_ns_path(ns->path, ns->type, e);
		if (plan->fds[ns->type] < 0) {
			ns_plan_close(plan);
			return -1;
		}
		/* A pid namespace is joined by berth itself before the clone. */
		if (ns->type != NS_PID)
			joins_other = true;
	}
	/* cgroup: unshared by the init once it is inside its cgroup, so that
	 * the namespace's root is the container's cgroup. time: unshared by
	 * the init, whose offsets then apply from execve on. */
	if (!joins_other) {
		for (int t = 0; t < NS_TYPE_COUNT; t++)
			if (plan->create[t] && t != NS_CGROUP && t != NS_TIME)
				plan->clone_flags |= ns_table[t].flag;
	} else {
		plan->unshare_in_init = true;
		plan->fork_for_pid = plan->create[NS_PID];
	}
	return 0;
}

void ns_plan_close(struct ns_plan *plan)
{
	for (int t = 0; t < NS_TYPE_COUNT; t++) {
		if (plan->fds[t] >= 0)
			close(plan->fds[t]);
		plan->fds[t] = -1;
	}
}

void make_undumpable(void)
{
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

int ns_join(int fd, enum spec_ns_type t, berr_t *e)
{
	if (setns(fd, ns_table[t].flag) < 0)
		return berr_sys(e, "join %s namespace", spec_ns_name(t));
	return 0;
}

int ns_join_and_unshare(const struct ns_plan *plan, int sync_fd, berr_t *e)
{
	unsigned long flags = 0;
	struct sync_msg *m = NULL;

	if (!plan->unshare_in_init)
		return 0;
	/* The user namespace first: joined namespaces owned by it need its
	 * capabilities. Otherwise join while berth's privileges still apply,
	 * and create the user namespace afterwards. Its root may trace what
	 * joins it: undumpable from here on. */
	if (plan->fds[NS_USER] >= 0) {
		make_undumpable();
		if (ns_join(plan->fds[NS_USER], NS_USER, e) < 0)
			return -1;
	}
	for (int t = 0; t < NS_TYPE_COUNT; t++) {
		if (t == NS_USER || t == NS_PID || plan->fds[t] < 0)
			continue;
		if (ns_join(plan->fds[t], t, e) < 0)
			return -1;
	}
	if (plan->create[NS_USER]) {
		if (unshare(CLONE_NEWUSER) < 0)
			return berr_sys(e, "unshare user namespace");
		if (sync_send(sync_fd, SYNC_USERNS, 0, NULL, 0, -1, e) < 0 ||
		    sync_expect(sync_fd, SYNC_GO, &m, NULL, e) < 0)
			return -1;
		free(m);
		make_undumpable();
		if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
			return berr_sys(e, "become root in the user namespace");
	}
	for (int t = 0; t < NS_TYPE_COUNT; t++)
		if (plan->create[t] && t != NS_USER && t != NS_CGROUP && t != NS_TIME)
			flags |= ns_table[t].flag;
	if (flags && unshare(flags) < 0)
		return berr_sys(e, "unshare namespaces");
	return 0;
}

int ns_write_id_maps(pid_t pid, const struct spec_linux *lx, berr_t *e)
{
	struct id_maps m = {lx->uid_mappings, lx->gid_mappings, lx->n_uid_mappings,
			    lx->n_gid_mappings};

	return idmap_write(pid, &m, e);
}
