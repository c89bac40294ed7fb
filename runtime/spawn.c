/* runtime/spawn.c: berth's side of creating the init: the clone with the new
 * namespaces, id maps, the cgroup, and the message loop until "created". */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "lifecycle.h"
#include "namespaces.h"
#include "net_lifecycle.h"
#include "sync.h"

static pid_t clone_init(unsigned long flags, int *pidfd)
{
	struct clone_args args = {
		.flags = flags | CLONE_PIDFD,
		.pidfd = (uint64_t)(uintptr_t)pidfd,
		.exit_signal = SIGCHLD,
	};

	return syscall(SYS_clone3, &args, sizeof args);
}

/* A pid namespace given by path is entered by berth for its children only
 * (pid_for_children), around the clone. */
static int enter_pid_ns(const struct ns_plan *plan, int *saved, berr_t *e)
{
	*saved = -1;
	if (plan->fds[NS_PID] < 0)
		return 0;
	*saved = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
	if (*saved < 0)
		return berr_sys(e, "open /proc/self/ns/pid");
	return ns_join(plan->fds[NS_PID], NS_PID, e);
}

static void leave_pid_ns(int saved)
{
	if (saved < 0)
		return;
	if (setns(saved, CLONE_NEWPID) < 0)
		log_warn("restore pid namespace: %s", strerror(errno));
	close(saved);
}

/* GO carries the states the init passes to its hooks: creating, then
 * created, NUL-separated. */
static int send_go_with_states(struct container *c, berr_t *e)
{
	_cleanup_free_ char *creating = container_state_for_hooks(c, STATUS_CREATING);
	_cleanup_free_ char *created = container_state_for_hooks(c, STATUS_CREATED);
	size_t a = strlen(creating), b = strlen(created);
	_cleanup_free_ char *buf = xmalloc(a + b + 2);

	memcpy(buf, creating, a + 1);
	memcpy(buf + a + 1, created, b + 1);
	return sync_send(c->sync_fd, SYNC_GO, 0, buf, a + b + 1, -1, e);
}

static int run_runtime_hooks(struct container *c, berr_t *e)
{
	_cleanup_free_ char *state = container_state_for_hooks(c, STATUS_CREATING);

	if (hooks_run(c->spec, HOOK_PRESTART, state, false, e) < 0 ||
	    hooks_run(c->spec, HOOK_CREATE_RUNTIME, state, false, e) < 0)
		return -1;
	return sync_send(c->sync_fd, SYNC_GO, 0, NULL, 0, -1, e);
}

/* The double fork of the slow path: the intermediate reports the real init
 * and exits; berth adopts the new pid. */
static int adopt_init(struct container *c, const char *pid_text, berr_t *e)
{
	int64_t pid;
	int status;

	if (!parse_int64(pid_text, &pid) || pid <= 0)
		return berr_set(e, EPROTO, "bad init pid from container");
	while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR)
		;
	close(c->pidfd);
	c->pid = pid;
	c->st.pid = pid;
	c->pidfd = syscall(SYS_pidfd_open, c->pid, 0);
	if (c->pidfd < 0)
		return berr_sys(e, "pidfd_open %d", c->pid);
	if (net_after_clone(c, true, e) < 0)
		return -1;
	return send_go_with_states(c, e);
}

static int message_loop(struct container *c, berr_t *e)
{
	for (;;) {
		_cleanup_free_ struct sync_msg *m = NULL;
		int fd = -1;

		if (sync_recv(c->sync_fd, &m, &fd, e) < 0)
			return -1;
		switch (m->type) {
		case SYNC_ERROR:
			return berr_set(e, m->errnum, "%s", m->data);
		case SYNC_USERNS:
			if (ns_write_id_maps(c->pid, c->spec->linux, e) < 0 ||
			    sync_send(c->sync_fd, SYNC_GO, 0, NULL, 0, -1, e) < 0)
				return -1;
			break;
		case SYNC_INIT_PID:
			if (adopt_init(c, m->data, e) < 0)
				return -1;
			break;
		case SYNC_HOOKS:
			if (run_runtime_hooks(c, e) < 0)
				return -1;
			break;
		case SYNC_PTY:
			if (c->pty_master >= 0)
				close(c->pty_master);
			c->pty_master = fd;
			break;
		case SYNC_CREATED:
			return 0;
		default:
			if (fd >= 0)
				close(fd);
			return berr_set(e, EPROTO, "unexpected message %u from container init", m->type);
		}
	}
}

static void kill_init(struct container *c)
{
	if (c->pid <= 0)
		return;
	if (c->pidfd >= 0)
		syscall(SYS_pidfd_send_signal, c->pidfd, SIGKILL, NULL, 0);
	else
		kill(c->pid, SIGKILL);
	while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
		;
	c->pid = 0;
}

static int after_clone(struct container *c, berr_t *e)
{
	const struct ns_plan *plan = &c->init.ns;

	if ((plan->clone_flags & CLONE_NEWUSER) && ns_write_id_maps(c->pid, c->spec->linux, e) < 0)
		return berr_wrap(e, "user namespace");
	if (c->cg && cgroup_enter(c->cg, c->pid, e) < 0)
		return -1;
	if (net_after_clone(c, false, e) < 0)
		return -1;
	if (send_go_with_states(c, e) < 0)
		return -1;
	return message_loop(c, e);
}

int spawn_container(struct container *c, berr_t *e)
{
	int sv[2], saved_pidns = -1;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return berr_sys(e, "socketpair");
	if (enter_pid_ns(&c->init.ns, &saved_pidns, e) < 0) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	c->pid = clone_init(c->init.ns.clone_flags, &c->pidfd);
	if (c->pid == 0) {
		/* berth's fds are close-on-exec, but the init lives on until
		 * start: drop the locked state directory now, or `start`
		 * would wait for a lock the init holds. */
		close(sv[0]);
		close(c->sd.dirfd);
		c->init.sync_fd = sv[1];
		container_init(&c->init);
	}
	leave_pid_ns(saved_pidns);
	close(sv[1]);
	c->sync_fd = sv[0];
	if (c->pid < 0) {
		c->pid = 0;
		return berr_sys(e, "clone the container init");
	}
	c->st.pid = c->pid;
	c->spawned = true;
	if (after_clone(c, e) < 0) {
		int status = 0;

		/* The init's own report is better than "exited unexpectedly". */
		if (e->errnum == EPIPE && waitpid(c->pid, &status, WNOHANG) == c->pid) {
			c->pid = 0;
			if (WIFSIGNALED(status))
				berr_wrap(e, "killed by signal %d", WTERMSIG(status));
		}
		kill_init(c);
		return -1;
	}
	return 0;
}
