/* runtime/run.c: `run`: create and start, then, in the foreground, stay as
 * the waiter: forward signals, relay the terminal, reap, delete, and report
 * the workload's exit status. */
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

struct waiter {
	struct container *c;
	int sigfd;
	int pty;            /* master, or -1 */
	bool pty_open;      /* the slave side is still open somewhere */
	bool stdin_open;
	bool tty_raw;
	struct termios saved_tty;
	int status;         /* wait status of the init, once reaped */
	bool exited;
};

/* Signals that report a fault of berth itself stay unblocked. */
static void forwardable_signals(sigset_t *set)
{
	sigfillset(set);
	sigdelset(set, SIGSEGV);
	sigdelset(set, SIGBUS);
	sigdelset(set, SIGILL);
	sigdelset(set, SIGFPE);
	sigdelset(set, SIGTRAP);
	sigdelset(set, SIGABRT);
	sigdelset(set, SIGSYS);
}

static void copy_winsize(int from, int to)
{
	struct winsize ws;

	if (ioctl(from, TIOCGWINSZ, &ws) == 0)
		ioctl(to, TIOCSWINSZ, &ws);
}

static void tty_raw(struct waiter *w)
{
	struct termios raw;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &w->saved_tty) < 0)
		return;
	raw = w->saved_tty;
	cfmakeraw(&raw);
	if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0)
		w->tty_raw = true;
	copy_winsize(STDIN_FILENO, w->pty);
}

static void tty_restore(struct waiter *w)
{
	if (w->tty_raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &w->saved_tty);
	w->tty_raw = false;
}

/* Copy what is available from one fd to another; false on EOF or error. */
static bool pump(int from, int to)
{
	char buf[16384];
	ssize_t n = read(from, buf, sizeof buf);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return true;
	if (n <= 0)
		return false;
	return write_all(to, buf, n) == 0;
}

static void reap(struct waiter *w)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid == w->c->pid) {
			w->status = status;
			w->exited = true;
		}
	}
}

static void handle_signal(struct waiter *w)
{
	struct signalfd_siginfo si;

	while (read(w->sigfd, &si, sizeof si) == sizeof si) {
		if (si.ssi_signo == SIGCHLD)
			reap(w);
		else if (si.ssi_signo == SIGWINCH && w->pty >= 0)
			copy_winsize(STDIN_FILENO, w->pty);
		else if (!w->exited)
			syscall(SYS_pidfd_send_signal, w->c->pidfd, si.ssi_signo, NULL, 0);
	}
}

static void wait_loop(struct waiter *w)
{
	while (!w->exited) {
		struct pollfd p[3] = {
			{.fd = w->sigfd, .events = POLLIN},
			{.fd = w->pty_open ? w->pty : -1, .events = POLLIN},
			{.fd = w->stdin_open ? STDIN_FILENO : -1, .events = POLLIN},
		};

		if (poll(p, 3, -1) < 0 && errno != EINTR)
			break;
		if (p[0].revents & POLLIN)
			handle_signal(w);
		/* EIO on the master: every holder of the slave closed it. */
		if ((p[1].revents & (POLLIN | POLLHUP | POLLERR)) && !pump(w->pty, STDOUT_FILENO))
			w->pty_open = false;
		if ((p[2].revents & (POLLIN | POLLHUP | POLLERR)) && !pump(STDIN_FILENO, w->pty))
			w->stdin_open = false;
	}
	/* Output the workload wrote just before it exited. */
	if (w->pty_open) {
		struct pollfd p = {.fd = w->pty, .events = POLLIN};

		while (poll(&p, 1, 0) > 0 && (p.revents & POLLIN) && pump(w->pty, STDOUT_FILENO))
			;
	}
}

static int exit_status(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 255;
}

static int start_and_poststart(struct container *c, berr_t *e)
{
	_cleanup_free_ char *state = NULL;

	if (start_connect(&c->sd, e) < 0)
		return -1;
	state = container_state_for_hooks(c, STATUS_RUNNING);
	return hooks_run(c->spec, HOOK_POSTSTART, state, true, e);
}

/* A start that failed leaves a created-then-dead container: remove it. */
static void abort_run(struct container *c)
{
	berr_t e = BERR_INIT;

	if (c->pid > 0) {
		syscall(SYS_pidfd_send_signal, c->pidfd, SIGKILL, NULL, 0);
		waitpid(c->pid, NULL, 0);
	}
	if (container_destroy(&c->sd, &c->st, c->spec, &e) < 0) {
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
	ret = start_and_poststart(&c, e);
	if (ret < 0)
		abort_run(&c);
	container_free(&c);
	*status = 0;
	return ret;
}

int container_run(const struct create_opts *o, int *status, berr_t *e)
{
	struct container c;
	struct waiter w = {.c = &c, .sigfd = -1, .pty = -1};
	sigset_t mask, old;
	int ret = -1;

	if (o->detach)
		return run_detached(o, status, e);
	/* Blocked before the clone so that no signal is lost between create
	 * and the wait loop; the init unblocks them for itself. */
	forwardable_signals(&mask);
	sigprocmask(SIG_BLOCK, &mask, &old);
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	if (container_create_internal(o, &c, e) < 0) {
		container_free(&c);
		sigprocmask(SIG_SETMASK, &old, NULL);
		return -1;
	}
	w.sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (w.sigfd < 0) {
		berr_sys(e, "signalfd");
		abort_run(&c);
		goto out;
	}
	w.pty = c.pty_master;
	w.pty_open = w.stdin_open = w.pty >= 0;
	if (w.pty >= 0)
		tty_raw(&w);
	if (start_and_poststart(&c, e) < 0) {
		tty_restore(&w);
		abort_run(&c);
		goto out;
	}
	wait_loop(&w);
	tty_restore(&w);
	*status = exit_status(w.status);
	c.pid = 0;
	ret = container_destroy(&c.sd, &c.st, c.spec, e);
out:
	if (w.sigfd >= 0)
		close(w.sigfd);
	container_free(&c);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return ret;
}
