/* runtime/process.c: the process's attributes (hostname, sysctls, rlimits,
 * OOM score, personality, scheduling, user, cwd) and the final execve. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/log.h"
#include "common/path.h"
#include "common/util.h"
#include "process_tables.h"
#include "setup.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

int process_set_hostname(const struct spec *s, berr_t *e)
{
	if (s->hostname && sethostname(s->hostname, strlen(s->hostname)) < 0)
		return berr_sys(e, "set hostname \"%s\"", s->hostname);
	if (s->domainname && setdomainname(s->domainname, strlen(s->domainname)) < 0)
		return berr_sys(e, "set domainname \"%s\"", s->domainname);
	return 0;
}

int process_set_sysctls(const struct spec *s, berr_t *e)
{
	const struct spec_linux *lx = s->linux;

	for (size_t i = 0; lx && lx->sysctl_keys && lx->sysctl_keys[i]; i++) {
		_cleanup_free_ char *path = sysctl_path(lx->sysctl_keys[i]);
		const char *v = lx->sysctl_values[i];

		if (write_file(path, v, strlen(v), 0, 0, e) < 0)
			return berr_wrap(e, "linux.sysctl \"%s\"", lx->sysctl_keys[i]);
	}
	return 0;
}

int process_set_rlimits(const struct spec_process *p, berr_t *e)
{
	for (size_t i = 0; i < p->n_rlimits; i++) {
		const struct spec_rlimit *r = &p->rlimits[i];
		struct rlimit rl = {.rlim_cur = r->soft, .rlim_max = r->hard};
		int res = rlimit_from_name(r->type);

		if (setrlimit(res, &rl) < 0) {
			if (errno == EPERM)
				return berr_sys(e, "setrlimit %s (raising a hard limit needs CAP_SYS_RESOURCE)",
						r->type);
			return berr_sys(e, "setrlimit %s", r->type);
		}
	}
	return 0;
}

int process_set_oom_score_adj(const struct spec_process *p, bool rootless, berr_t *e)
{
	_cleanup_free_ char *current = NULL;
	char buf[16];
	int n;

	if (!p->oom_score_adj.set)
		return 0;
	n = snprintf(buf, sizeof buf, "%lld", (long long)p->oom_score_adj.v);
	if (write_file("/proc/self/oom_score_adj", buf, n, 0, 0, e) == 0)
		return 0;
	/* Lowering it needs CAP_SYS_RESOURCE in the initial user namespace,
	 * which a rootless container never has: it keeps the caller's. */
	if (rootless && (e->errnum == EACCES || e->errnum == EPERM) &&
	    read_file("/proc/self/oom_score_adj", &current, NULL, e) == 0) {
		log_debug("process.oomScoreAdj: %s is below the caller's %s; keeping the caller's",
			  buf, strtok(current, "\n"));
		berr_free(e);
		return 0;
	}
	return berr_wrap(e, "process.oomScoreAdj");
}

int process_set_personality(const struct spec *s, berr_t *e)
{
	const struct spec_personality *pe = s->linux ? &s->linux->personality : NULL;

	if (!pe || !pe->set)
		return 0;
	if (personality(strcmp(pe->domain, "LINUX32") == 0 ? PER_LINUX32 : PER_LINUX) < 0)
		return berr_sys(e, "set personality \"%s\"", pe->domain);
	return 0;
}

struct sched_attr_v1 {
	uint32_t size, sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime, sched_deadline, sched_period;
};

int process_set_scheduling(const struct spec_process *p, berr_t *e)
{
	if (p->io_priority.set) {
		int cls = ioprio_class_from_name(p->io_priority.class);

		if (syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0,
			    (cls << 13) | p->io_priority.priority) < 0)
			return berr_sys(e, "set I/O priority");
	}
	if (p->scheduler.set) {
		struct sched_attr_v1 attr = {
			.size = sizeof attr,
			.sched_policy = sched_policy_from_name(p->scheduler.policy),
			.sched_flags = sched_flags_from_names(p->scheduler.flags),
			.sched_nice = p->scheduler.nice,
			.sched_priority = p->scheduler.priority,
			.sched_runtime = p->scheduler.runtime,
			.sched_deadline = p->scheduler.deadline,
			.sched_period = p->scheduler.period,
		};

		if (syscall(SYS_sched_setattr, 0, &attr, 0) < 0)
			return berr_sys(e, "set scheduler \"%s\"", p->scheduler.policy);
	}
	return 0;
}

int process_set_affinity(const char *cpus, pid_t pid, berr_t *e)
{
	cpu_set_t set;

	if (!cpus)
		return 0;
	if (cpu_list_parse(cpus, &set) < 0)
		return berr_set(e, EINVAL, "invalid CPU list \"%s\"", cpus);
	if (sched_setaffinity(pid, sizeof set, &set) < 0)
		return berr_sys(e, "set CPU affinity \"%s\"", cpus);
	return 0;
}

int process_switch_user(const struct spec_process *p, bool in_userns, berr_t *e)
{
	const struct spec_user *u = &p->user;
	gid_t *gids = xcalloc(u->n_additional_gids + 1, sizeof(gid_t));
	int ret = 0;

	for (size_t i = 0; i < u->n_additional_gids; i++)
		gids[i] = u->additional_gids[i];
	/* A user namespace whose setgroups is denied keeps its groups. */
	if (setgroups(u->n_additional_gids, gids) < 0 &&
	    !(in_userns && errno == EPERM && u->n_additional_gids == 0)) {
		ret = berr_sys(e, "setgroups");
		goto out;
	}
	/* Keep the permitted capabilities across the uid change; caps.c sets
	 * the final sets right after. */
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) {
		ret = berr_sys(e, "keep capabilities");
		goto out;
	}
	if (setresgid(u->gid, u->gid, u->gid) < 0) {
		ret = berr_sys(e, "setgid %u", u->gid);
		goto out;
	}
	if (setresuid(u->uid, u->uid, u->uid) < 0) {
		ret = berr_sys(e, "setuid %u", u->uid);
		goto out;
	}
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		ret = berr_sys(e, "clear keep-capabilities");
	umask(u->umask.set ? (mode_t)u->umask.v : 022);
out:
	free(gids);
	return ret;
}

int process_make_cwd(int rootfd, const struct spec_process *p, berr_t *e)
{
	_cleanup_close_ int fd = root_mkdir_p(rootfd, p->cwd, 0755, e);

	if (fd < 0)
		return berr_wrap(e, "process.cwd");
	return 0;
}

int process_chdir(const struct spec_process *p, berr_t *e)
{
	char buf[PATH_MAX];

	if (chdir(p->cwd) < 0)
		return berr_sys(e, "chdir to cwd \"%s\"", p->cwd);
	/* A working directory outside the root (a leaked fd, CVE-2024-21626)
	 * has no path from here: refuse to run in it. */
	if (!getcwd(buf, sizeof buf) || buf[0] != '/')
		return berr_set(e, EPERM, "cwd \"%s\" is outside the container root", p->cwd);
	return 0;
}

static const char *env_path(char *const *env)
{
	for (size_t i = 0; env && env[i]; i++)
		if (str_has_prefix(env[i], "PATH="))
			return env[i] + 5;
	return DEFAULT_PATH;
}

/* ENOENT, EACCES or 0 for one candidate, the way execve would see it. */
static int check_executable(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return errno == ENOTDIR ? ENOENT : errno;
	if (S_ISDIR(st.st_mode) || !S_ISREG(st.st_mode) || !(st.st_mode & 0111))
		return EACCES;
	return 0;
}

int process_find_executable(const struct spec_process *p, char **out, berr_t *e)
{
	const char *arg0 = p->args[0];
	_cleanup_free_ char *paths = NULL;
	char *save = NULL;
	int denied = 0;

	if (strchr(arg0, '/')) {
		_cleanup_free_ char *full =
			arg0[0] == '/' ? xstrdup(arg0) : xasprintf("%s/%s", p->cwd, arg0);
		int err = check_executable(full);

		if (err)
			return berr_set(e, err, "exec: \"%s\": %s", arg0,
					     err == ENOENT ? "no such file or directory" :
					     err == EACCES ? "permission denied" : strerror(err));
		*out = xstrdup(arg0);
		return 0;
	}
	paths = xstrdup(env_path(p->env));
	for (char *dir = strtok_r(paths, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		_cleanup_free_ char *cand = xasprintf("%s/%s", *dir ? dir : ".", arg0);
		int err = check_executable(cand);

		if (!err) {
			*out = steal_ptr(cand);
			return 0;
		}
		if (err == EACCES)
			denied = 1;
	}
	if (denied)
		return berr_set(e, EACCES, "exec: \"%s\": permission denied", arg0);
	return berr_set(e, ENOENT, "exec: \"%s\": executable file not found in $PATH", arg0);
}

int process_close_fds(int preserve_fds, berr_t *e)
{
	unsigned int first = 3 + preserve_fds;

	if (syscall(SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		return berr_sys(e, "mark fds close-on-exec");
	/* The preserved ones must survive execve. */
	for (unsigned int fd = 3; fd < first; fd++) {
		int flags = fcntl(fd, F_GETFD);

		if (flags >= 0 && (flags & FD_CLOEXEC))
			fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC);
	}
	return 0;
}

int process_exec(const struct spec_process *p, const char *path, berr_t *e)
{
	static char *const empty_env[] = {NULL};

	execve(path, p->args, p->env ? p->env : empty_env);
	if (errno == ENOENT || errno == EACCES)
		return berr_set(e, errno, "exec: \"%s\": %s", p->args[0],
				     errno == ENOENT ? "no such file or directory" : "permission denied");
	return berr_sys(e, "exec \"%s\"", p->args[0]);
}
