/* runtime/hooks.c: running OCI hooks: the state on stdin, args and env as
 * given, a timeout that kills, and errors that name the hook. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "setup.h"

static const char *const hook_names[HOOK_KIND_COUNT] = {
	"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop",
};

__attribute__((noreturn)) static void exec_hook(const struct spec_hook *h, int stdin_fd)
{
	static char *const empty[] = {NULL};
	char *const default_argv[] = {h->path, NULL};
	struct sigaction dfl = {.sa_handler = SIG_DFL};
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	sigaction(SIGPIPE, &dfl, NULL);
	/* Its own process group: on timeout the hook goes with everything it
	 * started, which would otherwise hold berth's stdout open. */
	setpgid(0, 0);
	if (dup2(stdin_fd, STDIN_FILENO) < 0)
		_exit(126);
	execve(h->path, h->args && h->args[0] ? h->args : default_argv, h->env ? h->env : empty);
	dprintf(STDERR_FILENO, "berth: exec hook \"%s\": %s\n", h->path, strerror(errno));
	_exit(127);
}

static int64_t remaining_ms(uint64_t deadline)
{
	uint64_t now = now_ns();

	if (!deadline)
		return -1;
	return now >= deadline ? 0 : (int64_t)((deadline - now) / 1000000);
}

/* Feed the state and wait for the hook, both under the deadline: a hook
 * that neither reads stdin nor exits must not hang berth. */
static int feed_and_wait(pid_t pid, int pidfd, int wfd, const char *state, uint64_t deadline,
			 int *status, berr_t *e)
{
	size_t len = strlen(state), done = 0;

	for (;;) {
		struct pollfd pfd[2] = {{.fd = pidfd, .events = POLLIN},
					{.fd = wfd, .events = POLLOUT}};
		int n = poll(pfd, wfd >= 0 ? 2 : 1, remaining_ms(deadline));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return berr_sys(e, "poll");
		if (n == 0)
			return berr_set(e, ETIMEDOUT, "timed out");
		if (wfd >= 0 && (pfd[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
			ssize_t w = write(wfd, state + done, len - done);

			if (w > 0)
				done += w;
			if ((w < 0 && errno != EAGAIN && errno != EINTR) || done == len) {
				close(wfd); /* EPIPE: the hook does not read stdin */
				wfd = -1;
			}
		}
		if (pfd[0].revents & POLLIN)
			break;
	}
	if (wfd >= 0)
		close(wfd);
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR)
			return berr_sys(e, "wait");
	return 0;
}

static int run_one(const struct spec_hook *h, const char *state, berr_t *e)
{
	int pipefd[2];
	pid_t pid;
	_cleanup_close_ int pidfd = -1;
	uint64_t deadline = h->timeout.set ? now_ns() + (uint64_t)h->timeout.v * 1000000000ull : 0;
	int status = 0;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return berr_sys(e, "pipe");
	pid = fork();
	if (pid < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return berr_sys(e, "fork");
	}
	if (pid == 0)
		exec_hook(h, pipefd[0]);
	close(pipefd[0]);
	fcntl(pipefd[1], F_SETFL, O_NONBLOCK);
	pidfd = syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) {
		berr_sys(e, "pidfd_open");
		close(pipefd[1]);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return -1;
	}
	if (feed_and_wait(pid, pidfd, pipefd[1], state, deadline, &status, e) < 0) {
		if (e->errnum == ETIMEDOUT) {
			kill(-pid, SIGKILL);
			waitpid(pid, NULL, 0);
			return berr_set(e, ETIMEDOUT, "timed out after %lld seconds",
					(long long)h->timeout.v);
		}
		return -1;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFSIGNALED(status))
		return berr_set(e, 0, "killed by signal %d", WTERMSIG(status));
	return berr_set(e, 0, "exited with status %d", WEXITSTATUS(status));
}

int hooks_run(const struct spec *s, enum spec_hook_kind kind, const char *state_json,
	      bool warn_only, berr_t *e)
{
	for (size_t i = 0; i < s->hooks.n_hooks[kind]; i++) {
		const struct spec_hook *h = &s->hooks.hooks[kind][i];

		log_debug("running %s hook %s", hook_names[kind], h->path);
		if (run_one(h, state_json ? state_json : "{}", e) == 0)
			continue;
		berr_wrap(e, "%s hook \"%s\"", hook_names[kind], h->path);
		if (!warn_only)
			return -1;
		log_berr(LOG_WARNING, e);
		berr_free(e);
	}
	return 0;
}
