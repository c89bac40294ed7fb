/* runtime/init.c: the container's init, from the clone to execve. One
 * function, container_setup(), lists the steps in the order the spec asks. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/path.h"
#include "common/util.h"
#include "netns/netns.h"
#include "setup.h"
#include "sync.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#define KEYCTL_JOIN_SESSION_KEYRING 1

/* Where errors go: the sync socket until the container is created, then the
 * connection of `berth start`. */
static int report_fd = -1;

static void reset_signals(void)
{
	sigset_t all;
	struct sigaction dfl = {.sa_handler = SIG_DFL};

	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &dfl, NULL);
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
}

static int wait_for_go(struct init_ctx *ctx, berr_t *e)
{
	struct sync_msg *m = NULL;

	if (sync_expect(ctx->sync_fd, SYNC_GO, &m, NULL, e) < 0)
		return -1;
	/* Payload: the "creating" state, NUL, the "created" state. */
	if (m->len) {
		size_t first = strlen(m->data);

		free(ctx->state_creating);
		free(ctx->state_created);
		ctx->state_creating = xstrdup(m->data);
		ctx->state_created = xstrdup(first < m->len ? m->data + first + 1 : m->data);
	}
	free(m);
	return 0;
}

/* In a new user namespace, act as its root for the rest of the set-up (a
 * config that does not map 0 keeps the creator's identity). */
static int become_userns_root(const struct init_ctx *ctx, berr_t *e)
{
	if (!ctx->ns.create[NS_USER] || ctx->ns.unshare_in_init)
		return 0;
	if (setresgid(0, 0, 0) < 0 && errno != EINVAL)
		return berr_sys(e, "setresgid to the user namespace's root");
	if (setresuid(0, 0, 0) < 0 && errno != EINVAL)
		return berr_sys(e, "setresuid to the user namespace's root");
	return 0;
}

/* A new pid namespace unshared after joining others only applies to
 * children: fork the real init as a sibling (CLONE_PARENT) so that berth
 * is its parent, report its pid, and let this process go. */
static int fork_pid_init(struct init_ctx *ctx, berr_t *e)
{
	pid_t pid = syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, NULL, NULL, 0);
	char buf[16];

	if (pid < 0)
		return berr_sys(e, "fork the container init");
	if (pid == 0) {
		/* The parent-death signal is not inherited. */
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		return 0;
	}
	snprintf(buf, sizeof buf, "%d", (int)pid);
	if (sync_send(ctx->sync_fd, SYNC_INIT_PID, 0, buf, strlen(buf), -1, e) < 0)
		_exit(1);
	_exit(0);
}

static int write_time_offsets(const struct spec_linux *lx, berr_t *e)
{
	char buf[128];
	int n = 0;

	if (lx->time_monotonic.set)
		n += snprintf(buf + n, sizeof buf - n, "monotonic %lld %u\n",
			      (long long)lx->time_monotonic.secs, lx->time_monotonic.nanosecs);
	if (lx->time_boottime.set)
		n += snprintf(buf + n, sizeof buf - n, "boottime %lld %u\n",
			      (long long)lx->time_boottime.secs, lx->time_boottime.nanosecs);
	if (n && write_file("/proc/self/timens_offsets", buf, n, 0, 0, e) < 0)
		return berr_wrap(e, "linux.timeOffsets");
	return 0;
}

/* cgroup: now that berth has placed us in the container's cgroup, a new
 * cgroup namespace is rooted there. time: offsets can only be written before
 * a process enters; execve moves us into it. */
static int enter_late_namespaces(const struct init_ctx *ctx, berr_t *e)
{
	if (ctx->ns.create[NS_CGROUP] && unshare(CLONE_NEWCGROUP) < 0)
		return berr_sys(e, "unshare cgroup namespace");
	if (ctx->ns.create[NS_TIME]) {
		if (unshare(CLONE_NEWTIME) < 0)
			return berr_sys(e, "unshare time namespace");
		if (write_time_offsets(ctx->spec->linux, e) < 0)
			return -1;
	}
	return 0;
}

static int join_session_keyring(const struct init_ctx *ctx, berr_t *e)
{
	if (ctx->no_new_keyring)
		return 0;
	/* Keyrings are not namespaced: a fresh session keyring keeps the
	 * container out of berth's. ENOSYS/EACCES: the host disabled them. */
	if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL) < 0 &&
	    errno != ENOSYS && errno != EACCES && errno != EPERM)
		return berr_sys(e, "join a new session keyring");
	return 0;
}

static bool has_runtime_hooks(const struct spec *s)
{
	return s->hooks.n_hooks[HOOK_PRESTART] || s->hooks.n_hooks[HOOK_CREATE_RUNTIME];
}

static int run_runtime_hooks(const struct init_ctx *ctx, berr_t *e)
{
	if (!has_runtime_hooks(ctx->spec))
		return 0;
	if (sync_send(ctx->sync_fd, SYNC_HOOKS, 0, NULL, 0, -1, e) < 0)
		return -1;
	return sync_expect(ctx->sync_fd, SYNC_GO, NULL, NULL, e);
}

static void exit_on_signal(int sig)
{
	_exit(128 + sig);
}

/* Block until `berth start` connects. While waiting, termination signals end
 * the init (an init without handlers would ignore them). */
static int wait_for_start(struct init_ctx *ctx, berr_t *e)
{
	static const int term_signals[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
	struct sigaction sa = {.sa_handler = exit_on_signal};
	int conn;

	for (size_t i = 0; i < ARRAY_SIZE(term_signals); i++)
		sigaction(term_signals[i], &sa, NULL);
	do
		conn = accept4(ctx->start_fd, NULL, NULL, SOCK_CLOEXEC);
	while (conn < 0 && errno == EINTR);
	if (conn < 0)
		return berr_sys(e, "wait for start");
	sa.sa_handler = SIG_DFL;
	for (size_t i = 0; i < ARRAY_SIZE(term_signals); i++)
		sigaction(term_signals[i], &sa, NULL);
	close(ctx->start_fd);
	report_fd = conn;
	return 0;
}

static int report_created(struct init_ctx *ctx, berr_t *e)
{
	/* From here on the init outlives `berth create`. */
	if (prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0) < 0)
		return berr_sys(e, "clear the parent-death signal");
	if (sync_send(ctx->sync_fd, SYNC_CREATED, 0, NULL, 0, -1, e) < 0)
		return -1;
	close(ctx->sync_fd);
	ctx->sync_fd = -1;
	report_fd = -1;
	return 0;
}

static int container_setup(struct init_ctx *ctx, berr_t *e)
{
	const struct spec *s = ctx->spec;
	const struct spec_process *p = s->process;
	_cleanup_close_ int rootfd = -1;
	_cleanup_free_ char *exe = NULL;

	/* Namespaces: berth has written the id maps and placed us in the
	 * container's cgroup before it says go. */
	if (wait_for_go(ctx, e) < 0)
		return -1;
	/* Nothing in the container may read berth's memory or open its fds
	 * through /proc while the set-up holds host resources (CVE-2019-5736).
	 * Not before the id maps are written: an unprivileged berth writes
	 * them itself, and /proc/PID of an undumpable process is root's. */
	if (!ctx->ns.unshare_in_init)
		make_undumpable();
	if (become_userns_root(ctx, e) < 0 || ns_join_and_unshare(&ctx->ns, ctx->sync_fd, e) < 0)
		return -1;
	make_undumpable();
	/* The real init of a double fork gets the states with its own pid. */
	if (ctx->ns.fork_for_pid && (fork_pid_init(ctx, e) < 0 || wait_for_go(ctx, e) < 0))
		return -1;
	if (enter_late_namespaces(ctx, e) < 0 || join_session_keyring(ctx, e) < 0)
		return -1;
	if (ctx->ns.create[NS_NETWORK] && netns_loopback_up(e) < 0)
		return berr_wrap(e, "network namespace");

	/* The root filesystem and mounts, devices; hooks that want to see the
	 * container before pivot_root. */
	if (rootfs_prepare(ctx, &rootfd, e) < 0 ||
	    mounts_apply(ctx, rootfd, e) < 0 ||
	    devices_create(ctx, rootfd, e) < 0 ||
	    process_make_cwd(rootfd, p, e) < 0 ||
	    run_runtime_hooks(ctx, e) < 0 ||
	    hooks_run(s, HOOK_CREATE_CONTAINER, ctx->state_creating, false, e) < 0 ||
	    rootfs_pivot(ctx, rootfd, e) < 0)
		return -1;

	/* Inside the new root: names, kernel parameters, masked and read-only
	 * paths, the console. */
	if (process_set_hostname(s, e) < 0 ||
	    process_set_sysctls(s, e) < 0 ||
	    rootfs_finalize(ctx, e) < 0 ||
	    terminal_setup(ctx, e) < 0)
		return -1;

	/* The process: limits and scheduling while still privileged, then the
	 * executable is found now so that create fails, not start. */
	if (process_set_rlimits(p, e) < 0 ||
	    process_set_oom_score_adj(p, ctx->rootless, e) < 0 ||
	    process_set_personality(s, e) < 0 ||
	    process_set_scheduling(p, e) < 0 ||
	    process_set_affinity(p->exec_cpu_affinity.initial, 0, e) < 0 ||
	    process_find_executable(p, &exe, e) < 0)
		return -1;

	/* Privileges: LSM labels take effect at execve; without no_new_privs,
	 * loading seccomp needs CAP_SYS_ADMIN, so it goes before the
	 * capabilities are dropped. */
	if (lsm_set_exec_labels(p, e) < 0)
		return -1;
	if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return berr_sys(e, "set no_new_privs");
	if (!p->no_new_privileges && seccomp_plan_load(ctx->seccomp, ctx->state_created, e) < 0)
		return -1;
	if (caps_drop_bounding(ctx->caps, e) < 0 ||
	    process_switch_user(p, ctx->ns.create[NS_USER] || ctx->ns.fds[NS_USER] >= 0, e) < 0 ||
	    caps_apply(ctx->caps, e) < 0 ||
	    process_chdir(p, e) < 0)
		return -1;

	/* Created: wait for start, then startContainer hooks and execve. */
	if (report_created(ctx, e) < 0 || wait_for_start(ctx, e) < 0 ||
	    hooks_run(s, HOOK_START_CONTAINER, ctx->state_created, false, e) < 0)
		return -1;
	if (p->no_new_privileges && seccomp_plan_load(ctx->seccomp, ctx->state_created, e) < 0)
		return -1;
	if (process_close_fds(ctx->preserve_fds, e) < 0)
		return -1;
	return process_exec(p, exe, e);
}

void container_init(struct init_ctx *ctx)
{
	berr_t e = BERR_INIT;
	int status;

	/* If berth dies during the set-up, so does the half-made container. */
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	reset_signals();
	report_fd = ctx->sync_fd;

	container_setup(ctx, &e);
	/* Only failures return. 127/126 like a shell, for engines that map
	 * them to "not found" and "not executable". */
	status = e.errnum == ENOENT ? 127 : e.errnum == EACCES ? 126 : 1;
	if (report_fd >= 0)
		sync_send_error(report_fd, &e);
	_exit(status);
}
