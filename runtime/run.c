/* runtime/run.c: `run`: create and start, then, in the foreground, stay as
 * the waiter (waiter.c) and delete the container when its process exits. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "lifecycle.h"
#include "notify.h"
#include "waiter.h"

static int run_poststart(struct container *c, berr_t *e)
{
	_cleanup_free_ char *state = container_state_for_hooks(c, STATUS_RUNNING);

	return hooks_run(c->spec, HOOK_POSTSTART, state, true, e);
}

/* Delete the container run made, unless someone deleted it meanwhile. */
static int destroy_run(struct container *c, berr_t *e)
{
	if (state_dir_relock(&c->sd, e) < 0) {
		if (e->errnum != ENOENT)
			return -1;
		berr_free(e);
		return 0;
	}
	return container_destroy(&c->sd, &c->st, c->spec, e);
}

/* A start that failed leaves a created-then-dead container: remove it. */
static void abort_run(struct container *c)
{
	berr_t e = BERR_INIT;

	if (c->pid > 0) {
		syscall(SYS_pidfd_send_signal, c->pidfd, SIGKILL, NULL, 0);
		waitpid(c->pid, NULL, 0);
	}
	if (destroy_run(c, &e) < 0) {
		log_berr(LOG_WARNING, &e);
		berr_free(&e);
	}
}

static int run_detached(const struct create_opts *o, int *status, berr_t *e)
{
	struct container c;
	int ret;

	if (container_create_internal(o, &c, e) < 0) {
		container_free(&c);
		return -1;
	}
	ret = start_and_notify(&c.sd, &c.st, e);
	if (ret == 0)
		ret = run_poststart(&c, e);
	if (ret < 0)
		abort_run(&c);
	container_free(&c);
	*status = 0;
	return ret;
}

int container_run(const struct create_opts *o, int *status, berr_t *e)
{
	struct container c;
	struct waiter w = {.notify_fd = -1};
	sigset_t mask, old;
	int wstatus = 0, ret = -1;

	if (o->detach)
		return run_detached(o, status, e);
	/* Blocked before the clone so that no signal is lost between create
	 * and the wait loop; the init unblocks them for itself. */
	waiter_signals(&mask);
	sigprocmask(SIG_BLOCK, &mask, &old);
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	if (container_create_internal(o, &c, e) < 0) {
		container_free(&c);
		sigprocmask(SIG_SETMASK, &old, NULL);
		return -1;
	}
	waiter_attach_tty(&w, c.pty_master);
	/* READY=1 is forwarded by the wait loop, which cannot block on it. */
	w.notify_host = c.st.notify_socket;
	if ((c.st.notify_socket && (w.notify_fd = notify_listen(c.sd.dirfd, e)) < 0) ||
	    start_connect(&c.sd, e) < 0 || run_poststart(&c, e) < 0) {
		waiter_restore_tty(&w);
		abort_run(&c);
		goto out;
	}
	if (waiter_wait(&w, c.pid, c.pidfd, &mask, &wstatus, e) < 0) {
		abort_run(&c);
		goto out;
	}
	*status = wait_status_to_exit(wstatus);
	c.pid = 0;
	ret = destroy_run(&c, e);
out:
	if (w.notify_fd >= 0)
		close(w.notify_fd);
	container_free(&c);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return ret;
}
