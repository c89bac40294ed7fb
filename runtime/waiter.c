/* runtime/waiter.c: the foreground waiter of run and exec: a signalfd for
 * forwarding and reaping, and a pty relay with raw mode and SIGWINCH. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "notify.h"
#include "waiter.h"

void waiter_signals(sigset_t *set)
{
	/* Signals that report a fault of berth itself stay unblocked. */
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

void waiter_attach_tty(struct waiter *w, int pty)
{
	struct termios raw;

	w->pty = pty;
	w->pty_open = w->stdin_open = pty >= 0;
	w->tty_raw = false;
	if (pty < 0 || !isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &w->saved_tty) < 0)
		return;
	raw = w->saved_tty;
	cfmakeraw(&raw);
	if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0)
		w->tty_raw = true;
	copy_winsize(STDIN_FILENO, pty);
}

void waiter_restore_tty(struct waiter *w)
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

static bool reap(pid_t pid, int *wstatus)
{
	bool exited = false;
	int status;
	pid_t r;

	/* berth may be a subreaper: reap every orphan too. */
	while ((r = waitpid(-1, &status, WNOHANG)) > 0) {
		if (r == pid) {
			*wstatus = status;
			exited = true;
		}
	}
	return exited;
}

int waiter_wait(struct waiter *w, pid_t pid, int pidfd, const sigset_t *mask, int *wstatus,
		berr_t *e)
{
	_cleanup_close_ int sigfd = signalfd(-1, mask, SFD_CLOEXEC | SFD_NONBLOCK);
	bool exited = false;

	if (sigfd < 0) {
		waiter_restore_tty(w);
		return berr_sys(e, "signalfd");
	}
	/* The process may have exited before the signalfd existed. */
	exited = reap(pid, wstatus);
	while (!exited) {
		struct pollfd p[4] = {
			{.fd = sigfd, .events = POLLIN},
			{.fd = w->pty_open ? w->pty : -1, .events = POLLIN},
			{.fd = w->stdin_open ? STDIN_FILENO : -1, .events = POLLIN},
			{.fd = w->notify_fd, .events = POLLIN},
		};
		struct signalfd_siginfo si;
		bool ready = false;

		if (poll(p, 4, -1) < 0 && errno != EINTR)
			break;
		/* Forward READY=1 once; a failure to forward is not the
		 * container's: warn and stop proxying. */
		if ((p[3].revents & POLLIN) &&
		    (notify_forward(w->notify_fd, w->notify_host, pid, &ready, e) < 0 || ready)) {
			if (e->msg) {
				log_berr(LOG_WARNING, e);
				berr_free(e);
			}
			close(w->notify_fd);
			w->notify_fd = -1;
		}
		while (read(sigfd, &si, sizeof si) == sizeof si) {
			if (si.ssi_signo == SIGCHLD)
				exited = reap(pid, wstatus) || exited;
			else if (si.ssi_signo == SIGWINCH && w->pty >= 0)
				copy_winsize(STDIN_FILENO, w->pty);
			else if (!exited)
				syscall(SYS_pidfd_send_signal, pidfd, si.ssi_signo, NULL, 0);
		}
		/* EIO on the master: every holder of the slave closed it. */
		if ((p[1].revents & (POLLIN | POLLHUP | POLLERR)) && !pump(w->pty, STDOUT_FILENO))
			w->pty_open = false;
		if ((p[2].revents & (POLLIN | POLLHUP | POLLERR)) && !pump(STDIN_FILENO, w->pty))
			w->stdin_open = false;
	}
	/* Output the process wrote just before it exited. */
	if (w->pty_open) {
		struct pollfd p = {.fd = w->pty, .events = POLLIN};

		while (poll(&p, 1, 0) > 0 && (p.revents & POLLIN) && pump(w->pty, STDOUT_FILENO))
			;
	}
	waiter_restore_tty(w);
	return exited ? 0 : berr_sys(e, "wait for pid %d", (int)pid);
}

int wait_status_to_exit(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return 255;
}
