/* runtime/exec.c: `exec`: a new process in a running container: it joins
 * every namespace (user first) and the cgroup, and gets the process's
 * capabilities, seccomp, no_new_privs, rlimits and labels. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroups/cgroups.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"
#include "exec.h"
#include "lifecycle.h"
#include "namespaces.h"
#include "setup.h"
#include "sync.h"
#include "waiter.h"

/* What the exec'd process needs, prepared in berth before the fork. */
struct exec_ctx {
	struct spec_process *process;
	struct caps_plan *caps;
	struct seccomp_plan *seccomp;
	int ns_fds[NS_TYPE_COUNT]; /* the container's namespaces that differ from ours */
	bool in_userns;
	bool rootless;            /* berth runs unprivileged */
	int sync_fd;
	int console_fd;
	bool pty_to_berth;
	int preserve_fds;
	const char *state_json;
};

/* ---- building the process ---- */

static int set_user(struct spec_process *p, const char *spec, berr_t *e)
{
	_cleanup_free_ char *copy = xstrdup(spec);
	char *colon = strchr(copy, ':');
	uint64_t uid, gid = p->user.gid;

	if (colon)
		*colon = '\0';
	if (!parse_uint64(copy, &uid) || uid > UINT32_MAX ||
	    (colon && (!parse_uint64(colon + 1, &gid) || gid > UINT32_MAX)))
		return berr_set(e, EINVAL, "--user \"%s\": expected UID[:GID] (numbers)", spec);
	p->user.uid = uid;
	p->user.gid = gid;
	return 0;
}

static int add_gids(struct spec_process *p, char *const *gids, berr_t *e)
{
	for (size_t i = 0; gids && gids[i]; i++) {
		uint64_t g;

		if (!parse_uint64(gids[i], &g) || g > UINT32_MAX)
			return berr_set(e, EINVAL, "--additional-gids \"%s\": expected a number", gids[i]);
		p->user.additional_gids = xreallocarray(p->user.additional_gids,
							p->user.n_additional_gids + 1, sizeof(uint32_t));
		p->user.additional_gids[p->user.n_additional_gids++] = g;
	}
	return 0;
}

/* --cap adds to every set that keeps it across execve for any user. */
static void add_cap(struct spec_process *p, const char *cap)
{
	char ***sets[] = {&p->capabilities->bounding, &p->capabilities->effective,
			  &p->capabilities->permitted, &p->capabilities->inheritable,
			  &p->capabilities->ambient};

	for (size_t i = 0; i < ARRAY_SIZE(sets); i++) {
		size_t n = strv_len(*sets[i]);

		if (!strv_contains(*sets[i], cap))
			strv_append(sets[i], &n, xstrdup(cap));
	}
}

static void replace_str(char **field, const char *value)
{
	free(*field);
	*field = xstrdup(value);
}

static int process_from_file(const char *path, struct spec_process **out, berr_t *e)
{
	_cleanup_free_ char *text = NULL;
	_cleanup_json_ yajl_val v = NULL;

	if (read_file(path, &text, NULL, e) < 0 || json_parse(text, path, &v, e) < 0)
		return -1;
	if (spec_parse_process(v, "", out, e) < 0)
		return berr_wrap(e, "%s", path);
	return 0;
}

static int build_process(const struct exec_opts *o, const struct spec *saved,
			 struct spec_process **out, berr_t *e)
{
	struct spec_process *p = NULL;

	if (o->process_file) {
		if (process_from_file(o->process_file, &p, e) < 0)
			return -1;
	} else {
		yajl_val v = json_get(saved->tree, "process");

		if (!o->args || !o->args[0])
			return berr_set(e, EINVAL, "exec: a command or --process is required");
		if (!v)
			return berr_set(e, EINVAL, "the container's config has no process to start from");
		if (spec_parse_process(v, "process", &p, e) < 0)
			return -1;
		strv_free(p->args);
		p->args = strv_dup(o->args);
		p->terminal = o->tty;
	}
	*out = p;
	if (o->cwd)
		replace_str(&p->cwd, o->cwd);
	for (size_t i = 0; o->env && o->env[i]; i++)
		spec_process_setenv(p, o->env[i]);
	if ((o->user && set_user(p, o->user, e) < 0) || add_gids(p, o->additional_gids, e) < 0)
		return -1;
	if (o->caps && o->caps[0] && !p->capabilities)
		p->capabilities = xzalloc(sizeof *p->capabilities);
	for (size_t i = 0; o->caps && o->caps[i]; i++)
		add_cap(p, o->caps[i]);
	if (o->no_new_privs)
		p->no_new_privileges = true;
	if (o->apparmor)
		replace_str(&p->apparmor_profile, o->apparmor);
	if (o->process_label)
		replace_str(&p->selinux_label, o->process_label);
	if (!p->args || !p->args[0])
		return berr_set(e, EINVAL, "process.args: must not be empty");
	if (!p->cwd || p->cwd[0] != '/')
		return berr_set(e, EINVAL, "process.cwd: must be an absolute path");
	return 0;
}

/* ---- the container's namespaces ---- */

static bool same_ns(const char *a, const char *b)
{
	struct stat sa, sb;

	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_ino == sb.st_ino &&
	       sa.st_dev == sb.st_dev;
}

static int open_container_ns(pid_t pid, struct exec_ctx *x, berr_t *e)
{
	for (int t = 0; t < NS_TYPE_COUNT; t++) {
		char theirs[64], ours[64];

		x->ns_fds[t] = -1;
		snprintf(theirs, sizeof theirs, "/proc/%d/ns/%s", (int)pid, ns_proc_name(t));
		snprintf(ours, sizeof ours, "/proc/self/ns/%s", ns_proc_name(t));
		if (access(theirs, F_OK) < 0 || same_ns(theirs, ours))
			continue;
		x->ns_fds[t] = open(theirs, O_RDONLY | O_CLOEXEC);
		if (x->ns_fds[t] < 0)
			return berr_sys(e, "open %s namespace of pid %d", spec_ns_name(t), (int)pid);
	}
	x->in_userns = x->ns_fds[NS_USER] >= 0;
	return 0;
}

/* ---- in the exec'd process ---- */

static int exec_setup(struct exec_ctx *x, berr_t *e)
{
	const struct spec_process *p = x->process;
	_cleanup_free_ char *exe = NULL;

	if (sync_expect(x->sync_fd, SYNC_GO, NULL, NULL, e) < 0)
		return -1;
	if (process_set_rlimits(p, e) < 0 || process_set_oom_score_adj(p, x->rootless, e) < 0 ||
	    process_set_scheduling(p, e) < 0 ||
	    process_set_affinity(p->exec_cpu_affinity.initial, 0, e) < 0 ||
	    lsm_set_exec_labels(p, e) < 0 ||
	    terminal_open(p, x->console_fd, x->pty_to_berth ? x->sync_fd : -1, false, e) < 0)
		return -1;
	if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return berr_sys(e, "set no_new_privs");
	if (!p->no_new_privileges && seccomp_plan_load(x->seccomp, x->state_json, e) < 0)
		return -1;
	if (caps_drop_bounding(x->caps, e) < 0 || process_switch_user(p, x->in_userns, e) < 0 ||
	    caps_apply(x->caps, e) < 0 || process_chdir(p, e) < 0 ||
	    process_find_executable(p, &exe, e) < 0)
		return -1;
	if (p->no_new_privileges && seccomp_plan_load(x->seccomp, x->state_json, e) < 0)
		return -1;
	/* A detached exec outlives berth. */
	if (prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0) < 0)
		return berr_sys(e, "clear the parent-death signal");
	if (process_close_fds(x->preserve_fds, e) < 0)
		return -1;
	return process_exec(p, exe, e);
}

__attribute__((noreturn)) static void exec_child(struct exec_ctx *x)
{
	berr_t e = BERR_INIT;
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	exec_setup(x, &e);
	sync_send_error(x->sync_fd, &e);
	_exit(e.errnum == ENOENT ? 127 : e.errnum == EACCES ? 126 : 1);
}

/* The first child joins the namespaces; a pid namespace only applies to
 * its children, so it forks the process (as berth's child, CLONE_PARENT)
 * and reports its pid. */
__attribute__((noreturn)) static void join_and_fork(struct exec_ctx *x)
{
	berr_t e = BERR_INIT;
	char buf[16];
	pid_t pid;

	/* Nothing in the container may open berth's memory or fds through
	 * /proc/PID while it sits in the container's namespaces. */
	make_undumpable();
	if (x->ns_fds[NS_USER] >= 0 && ns_join(x->ns_fds[NS_USER], NS_USER, &e) < 0)
		goto fail;
	for (int t = 0; t < NS_TYPE_COUNT; t++)
		if (t != NS_USER && x->ns_fds[t] >= 0 && ns_join(x->ns_fds[t], t, &e) < 0)
			goto fail;
	pid = syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, NULL, NULL, 0);
	if (pid < 0) {
		berr_sys(&e, "fork into the container");
		goto fail;
	}
	if (pid == 0)
		exec_child(x);
	snprintf(buf, sizeof buf, "%d", (int)pid);
	_exit(sync_send(x->sync_fd, SYNC_INIT_PID, 0, buf, strlen(buf), -1, &e) < 0);
fail:
	sync_send_error(x->sync_fd, &e);
	_exit(1);
}

/* ---- berth's side ---- */

/* Until the socket closes on execve: the pid, the pty, or an error. */
static int follow_exec(int sock, struct cgroup *cg, const char *sub, pid_t *pid, int *pty,
		       berr_t *e)
{
	for (;;) {
		_cleanup_free_ struct sync_msg *m = NULL;
		int fd = -1;
		int64_t n;

		if (sync_recv(sock, &m, &fd, e) < 0) {
			if (e->errnum == EPIPE && *pid > 0) {
				berr_free(e);
				return 0; /* closed by execve */
			}
			return -1;
		}
		switch (m->type) {
		case SYNC_INIT_PID:
			if (!parse_int64(m->data, &n) || n <= 0)
				return berr_set(e, EPROTO, "bad pid from the exec child");
			*pid = n;
			if (cg && (sub ? cgroup_enter_sub(cg, sub, *pid, e) :
				   cgroup_enter(cg, *pid, e)) < 0)
				return -1;
			if (sync_send(sock, SYNC_GO, 0, NULL, 0, -1, e) < 0)
				return -1;
			break;
		case SYNC_PTY:
			*pty = fd;
			break;
		case SYNC_ERROR:
			return berr_set(e, m->errnum, "%s", m->data);
		default:
			if (fd >= 0)
				close(fd);
			return berr_set(e, EPROTO, "unexpected message %u from the exec child", m->type);
		}
	}
}

static int write_pid_file(const char *path, pid_t pid, berr_t *e)
{
	char buf[16];
	int n = snprintf(buf, sizeof buf, "%d", (int)pid);
	_cleanup_free_ char *tmp = xasprintf("%s.tmp%d", path, (int)getpid());

	if (write_file(tmp, buf, n, O_CREAT | O_EXCL, 0644, e) < 0)
		return berr_wrap(e, "--pid-file");
	if (rename(tmp, path) < 0) {
		unlink(tmp);
		return berr_sys(e, "--pid-file \"%s\"", path);
	}
	return 0;
}

static void free_ctx(struct exec_ctx *x)
{
	for (int t = 0; t < NS_TYPE_COUNT; t++)
		if (x->ns_fds[t] >= 0)
			close(x->ns_fds[t]);
	if (x->console_fd >= 0)
		close(x->console_fd);
	spec_process_free(x->process);
	caps_plan_free(x->caps);
	seccomp_plan_free(x->seccomp);
}

static int prepare(const struct exec_opts *o, const struct container_state *st,
		   const struct spec *saved, struct exec_ctx *x, berr_t *e)
{
	if (build_process(o, saved, &x->process, e) < 0 ||
	    caps_plan_make(x->process, &x->caps, e) < 0 ||
	    seccomp_plan_make(saved, o->root, &x->seccomp, e) < 0 ||
	    open_container_ns(st->pid, x, e) < 0)
		return -1;
	x->preserve_fds = o->preserve_fds;
	x->rootless = o->rootless;
	if (x->process->terminal) {
		if (o->console_socket) {
			x->console_fd = unix_connect(o->console_socket, SOCK_STREAM, "--console-socket", e);
			if (x->console_fd < 0)
				return -1;
		} else if (!o->detach) {
			x->pty_to_berth = true;
		} else {
			return berr_set(e, EINVAL, "--tty with --detach needs --console-socket");
		}
	}
	return 0;
}

static int run_exec(const struct exec_opts *o, struct exec_ctx *x, struct cgroup *cg,
		    int *status, berr_t *e)
{
	sigset_t mask, old;
	int sv[2], pty = -1, ret = -1, wstatus = 0;
	pid_t first, pid = 0;
	_cleanup_close_ int pidfd = -1;
	struct waiter w = {.notify_fd = -1};

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return berr_sys(e, "socketpair");
	waiter_signals(&mask);
	sigprocmask(SIG_BLOCK, &mask, &old);
	first = fork();
	if (first == 0) {
		close(sv[0]);
		x->sync_fd = sv[1];
		join_and_fork(x);
	}
	close(sv[1]);
	if (first < 0) {
		berr_sys(e, "fork");
		goto out;
	}
	ret = follow_exec(sv[0], cg, o->cgroup, &pid, &pty, e);
	while (waitpid(first, NULL, 0) < 0 && errno == EINTR)
		;
	if (ret < 0) {
		if (pid > 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
		}
		goto out;
	}
	if (o->pid_file && (ret = write_pid_file(o->pid_file, pid, e)) < 0)
		goto out;
	*status = 0;
	if (o->detach)
		goto out;
	pidfd = syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) {
		ret = berr_sys(e, "pidfd_open %d", (int)pid);
		goto out;
	}
	waiter_attach_tty(&w, pty);
	ret = waiter_wait(&w, pid, pidfd, &mask, &wstatus, e);
	if (ret == 0)
		*status = wait_status_to_exit(wstatus);
out:
	if (pty >= 0)
		close(pty);
	close(sv[0]);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return ret;
}

int container_exec(const struct exec_opts *o, int *status, berr_t *e)
{
	struct state_dir sd;
	struct container_state st;
	struct spec *saved = NULL;
	struct cgroup *cg = NULL;
	struct exec_ctx x = {.console_fd = -1};
	enum container_status cs;
	int ret = -1;

	for (int t = 0; t < NS_TYPE_COUNT; t++)
		x.ns_fds[t] = -1;
	memset(&st, 0, sizeof st);
	if (state_dir_open(o->root, o->id, false, &sd, e) < 0 || state_read(&sd, &st, e) < 0)
		goto out;
	cs = state_status(&sd, &st);
	if (st.vm_accel) {
		berr_set(e, ENOTSUP, "exec into a VM container is not supported");
		goto out;
	}
	if (cs != STATUS_RUNNING && cs != STATUS_CREATED) {
		berr_set(e, EINVAL, "cannot exec in a %s container", state_status_name(cs));
		goto out;
	}
	if (load_saved_spec(&sd, &saved, e) < 0 || prepare(o, &st, saved, &x, e) < 0)
		goto out;
	if (st.cgroup_path && cgroup_open(st.cgroup_path, &cg, e) < 0)
		goto out;
	x.state_json = state_oci_json(&st, cs, false);
	ret = run_exec(o, &x, cg, status, e);
	free((char *)x.state_json);
out:
	if (cg)
		cgroup_free(cg);
	free_ctx(&x);
	spec_free(saved);
	state_free(&st);
	state_dir_close(&sd);
	return ret;
}
