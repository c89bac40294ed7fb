/* vm/control.c: a running VM seen from the host: start, signals, the
 * terminal's size, and the foreground wait that relays stdin and signals
 * through the control port and reads the workload's exit status. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "internal.h"
#include "protocol.h"
#include "vm.h"

#define START_TIMEOUT_MS 60000

static int send_line(const char *state_dir, berr_t *e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int send_line(const char *state_dir, berr_t *e, const char *fmt, ...)
{
	char line[VM_CTL_LINE_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	return vm_ctl_send(state_dir, line, n, e);
}

static int error_from_line(const char *line, berr_t *e)
{
	int errnum = 0, off = 0;

	sscanf(line, "error %d %n", &errnum, &off);
	return berr_set(e, errnum, "%s", line + off);
}

int vm_start(const char *state_dir, pid_t qemu, berr_t *e)
{
	static const char *const want[] = {"started", "error ", "exit ", NULL};
	struct vm_ctl_reader r;
	char line[VM_CTL_LINE_MAX];
	_cleanup_close_ int pidfd = syscall(SYS_pidfd_open, qemu, 0);
	int ret = -1, w;

	if (pidfd < 0)
		return berr_sys(e, "the VM's qemu (pid %d)", (int)qemu);
	if (vm_ctl_reader_open(&r, state_dir, e) < 0)
		goto out;
	if (send_line(state_dir, e, "start\n") < 0)
		goto out;
	w = vm_ctl_wait(&r, pidfd, want, line, sizeof line, START_TIMEOUT_MS, e);
	if (w < 0)
		goto out;
	if (w == 1) {
		vm_explain_failure(state_dir, 0, e);
		goto out;
	}
	if (str_has_prefix(line, "error ")) {
		error_from_line(line, e);
		goto out;
	}
	ret = 0;
out:
	vm_ctl_reader_close(&r);
	return ret;
}

int vm_kill(const char *state_dir, int signo, bool all, berr_t *e)
{
	return send_line(state_dir, e, "%s %d\n", all ? "killall" : "kill", signo);
}

int vm_winsize(const char *state_dir, unsigned rows, unsigned cols, berr_t *e)
{
	return send_line(state_dir, e, "winsize %u %u\n", rows, cols);
}

/* ---- the foreground wait ---- */

struct relay {
	const char *state_dir;
	struct vm_instance *vm;
	int ctl;             /* ctl.in, blocking writes */
	bool stdin_open;
	bool pty_open;
	bool tty_raw;
	struct termios saved;
	int qemu_status;
	bool exited;
};

static void send_winsize(struct relay *r)
{
	struct winsize ws;
	berr_t ignored = BERR_INIT;

	if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0 &&
	    vm_winsize(r->state_dir, ws.ws_row, ws.ws_col, &ignored) < 0)
		berr_free(&ignored);
}

static void stdin_to_vm(struct relay *r)
{
	char buf[32 + VM_STDIN_CHUNK];
	int hdr = 0;
	ssize_t n;

	if (r->vm->pty_master >= 0) {
		n = read(STDIN_FILENO, buf, VM_STDIN_CHUNK);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			return;
		if (n <= 0 || write_all(r->vm->pty_master, buf, n) < 0)
			r->stdin_open = false;
		return;
	}
	/* Header and data in one write, so that a concurrent `berth kill`
	 * never lands in the middle. */
	n = read(STDIN_FILENO, buf + 32, VM_STDIN_CHUNK);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		r->stdin_open = false;
		if (write_all(r->ctl, "eof\n", 4) < 0)
			log_debug("vm: send eof: %s", strerror(errno));
		return;
	}
	hdr = snprintf(buf, 32, "stdin %zd\n", n);
	memmove(buf + hdr, buf + 32, n);
	if (write_all(r->ctl, buf, hdr + n) < 0)
		r->stdin_open = false;
}

static void pty_to_stdout(struct relay *r)
{
	char buf[16384];
	ssize_t n = read(r->vm->pty_master, buf, sizeof buf);

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0 || write_all(STDOUT_FILENO, buf, n) < 0)
		r->pty_open = false;
}

static void reap_qemu(struct relay *r)
{
	int status;

	if (r->exited || waitpid(r->vm->pid, &status, WNOHANG) != r->vm->pid)
		return;
	r->exited = true;
	r->qemu_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	r->vm->pid = 0;
}

static void handle_signals(struct relay *r, int sigfd)
{
	struct signalfd_siginfo si;
	berr_t err = BERR_INIT;

	while (read(sigfd, &si, sizeof si) == sizeof si) {
		if (si.ssi_signo == SIGCHLD)
			reap_qemu(r);
		else if (si.ssi_signo == SIGWINCH && r->vm->pty_master >= 0)
			send_winsize(r);
		else if (!r->exited && vm_kill(r->state_dir, si.ssi_signo, false, &err) < 0)
			berr_free(&err);
	}
}

static void tty_raw(struct relay *r)
{
	struct termios raw;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &r->saved) < 0)
		return;
	raw = r->saved;
	cfmakeraw(&raw);
	if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0)
		r->tty_raw = true;
}

static void relay_loop(struct relay *r, int sigfd)
{
	while (!r->exited) {
		struct pollfd p[4] = {
			{.fd = sigfd, .events = POLLIN},
			{.fd = r->vm->pidfd, .events = POLLIN},
			{.fd = r->stdin_open ? STDIN_FILENO : -1, .events = POLLIN},
			{.fd = r->pty_open ? r->vm->pty_master : -1, .events = POLLIN},
		};

		if (poll(p, 4, -1) < 0 && errno != EINTR)
			break;
		if (p[0].revents & POLLIN)
			handle_signals(r, sigfd);
		if (p[3].revents & (POLLIN | POLLHUP | POLLERR))
			pty_to_stdout(r);
		if (p[2].revents & (POLLIN | POLLHUP | POLLERR))
			stdin_to_vm(r);
		if (p[1].revents & POLLIN) {
			int status;

			if (waitpid(r->vm->pid, &status, 0) == r->vm->pid) {
				r->exited = true;
				r->qemu_status = WIFEXITED(status) ? WEXITSTATUS(status) :
						 128 + WTERMSIG(status);
				r->vm->pid = 0;
			}
		}
	}
	/* What the terminal still holds. */
	while (r->pty_open) {
		struct pollfd p = {.fd = r->vm->pty_master, .events = POLLIN};

		if (poll(&p, 1, 0) <= 0 || !(p.revents & POLLIN))
			break;
		pty_to_stdout(r);
	}
}

/* The last "exit N" the guest wrote. */
static int read_exit_status(const char *state_dir, int *status, berr_t *e)
{
	struct vm_ctl_reader r;
	char line[VM_CTL_LINE_MAX], error[VM_CTL_LINE_MAX] = "";
	bool found = false;
	int ret = -1;

	if (vm_ctl_reader_open(&r, state_dir, e) < 0)
		goto out;
	for (;;) {
		if (vm_ctl_next_line(&r, line, sizeof line, e) < 0)
			goto out;
		if (!*line)
			break;
		if (sscanf(line, "exit %d", status) == 1)
			found = true;
		else if (str_has_prefix(line, "error "))
			snprintf(error, sizeof error, "%s", line);
	}
	if (found)
		ret = 0;
	else if (*error)
		error_from_line(error, e);
	else
		ret = 1;
out:
	vm_ctl_reader_close(&r);
	return ret;
}

int vm_wait(const char *state_dir, struct vm_instance *vm, const sigset_t *sigs,
	    bool forward_stdin, int *status, berr_t *e)
{
	_cleanup_free_ char *in_path = xasprintf("%s/%s", state_dir, VM_FILE_CTL_IN);
	struct relay r = {.state_dir = state_dir, .vm = vm, .ctl = -1};
	_cleanup_close_ int sigfd = signalfd(-1, sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	int ret;

	if (sigfd < 0)
		return berr_sys(e, "signalfd");
	r.ctl = open(in_path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (r.ctl < 0 && errno != ENXIO)
		return berr_sys(e, "open \"%s\"", in_path);
	if (r.ctl >= 0)
		fcntl(r.ctl, F_SETFL, 0);
	r.stdin_open = r.ctl >= 0 && (forward_stdin || vm->pty_master >= 0);
	r.pty_open = vm->pty_master >= 0;
	if (r.pty_open) {
		tty_raw(&r);
		send_winsize(&r);
	}
	relay_loop(&r, sigfd);
	if (r.tty_raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &r.saved);
	if (r.ctl >= 0)
		close(r.ctl);
	ret = read_exit_status(state_dir, status, e);
	if (ret == 1) {
		vm_explain_failure(state_dir, r.qemu_status, e);
		return -1;
	}
	return ret;
}
