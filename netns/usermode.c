/* netns/usermode.c: rootless networking: pasta (Debian's passt) or
 * slirp4netns joins the container's user and network namespaces and gives
 * it a tap device with outbound connectivity and the published ports.
 *
 * The helper is forked, reported to the caller (who records its pid in the
 * container's state), and only then allowed to exec, so that no crash of
 * berth leaves a helper nothing knows about. It outlives `berth create` and
 * is ended by pid at delete. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "internal.h"

#define HELPER_PID "net-helper.pid"
#define HELPER_LOG "net-helper.log"
#define HELPER_SOCK "net-helper.sock"
#define HELPER_READY_FD 3
#define HELPER_TIMEOUT_MS 10000

const char *net_usermode_name(enum net_usermode kind)
{
	return kind == NET_PASTA ? "pasta" : "slirp4netns";
}

static char *port_list(const struct net_port *ports, size_t n, const char *proto)
{
	char *out = NULL;

	for (size_t i = 0; i < n; i++) {
		char *next;

		if (strcmp(ports[i].proto, proto))
			continue;
		next = xasprintf("%s%s%u:%u", out ? out : "", out ? "," : "", ports[i].host,
				 ports[i].container);
		free(out);
		out = next;
	}
	return out ? out : xstrdup("none");
}

static bool same_userns(pid_t pid)
{
	char path[64];
	struct stat a, b;

	snprintf(path, sizeof path, "/proc/%d/ns/user", (int)pid);
	return stat("/proc/self/ns/user", &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino &&
	       a.st_dev == b.st_dev;
}

static void build_argv(const struct net_usermode_req *r, char ***argv)
{
	size_t n = 0;

	if (r->kind == NET_PASTA) {
		_cleanup_free_ char *tcp = port_list(r->ports, r->n_ports, "tcp");
		_cleanup_free_ char *udp = port_list(r->ports, r->n_ports, "udp");

		/* -f: the pid berth records is pasta's own. No port is
		 * forwarded unless asked for, in either direction. */
		strv_append(argv, &n, xstrdup("pasta"));
		strv_append(argv, &n, xstrdup("--config-net"));
		strv_append(argv, &n, xstrdup("--foreground"));
		strv_append(argv, &n, xstrdup("--quiet"));
		strv_append(argv, &n, xasprintf("--pid=%s/%s", r->dir, HELPER_PID));
		strv_append(argv, &n, xstrdup("--ns-ifname=eth0"));
		strv_append(argv, &n, xasprintf("--tcp-ports=%s", tcp));
		strv_append(argv, &n, xasprintf("--udp-ports=%s", udp));
		strv_append(argv, &n, xstrdup("--tcp-ns=none"));
		strv_append(argv, &n, xstrdup("--udp-ns=none"));
		strv_append(argv, &n, xasprintf("%d", (int)r->target));
		return;
	}
	strv_append(argv, &n, xstrdup("slirp4netns"));
	strv_append(argv, &n, xstrdup("--configure"));
	strv_append(argv, &n, xstrdup("--mtu=65520"));
	strv_append(argv, &n, xstrdup("--disable-host-loopback"));
	strv_append(argv, &n, xasprintf("--ready-fd=%d", HELPER_READY_FD));
	strv_append(argv, &n, xasprintf("--api-socket=%s/%s", r->dir, HELPER_SOCK));
	if (!same_userns(r->target))
		strv_append(argv, &n, xasprintf("--userns-path=/proc/%d/ns/user", (int)r->target));
	strv_append(argv, &n, xasprintf("%d", (int)r->target));
	strv_append(argv, &n, xstrdup("eth0"));
}

__attribute__((noreturn)) static void helper_child(char **argv, const char *dir, int gate,
						   int ready)
{
	_cleanup_free_ char *log = xasprintf("%s/%s", dir, HELPER_LOG);
	int null = open("/dev/null", O_RDONLY);
	int logfd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	sigset_t none;
	char go;

	/* berth run blocks every signal while it waits; the helper must not
	 * inherit that. Its own session: signals for berth's terminal are not
	 * its. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setsid();
	signal(SIGPIPE, SIG_DFL);
	if (null < 0 || logfd < 0 || dup2(null, 0) < 0 || dup2(logfd, 1) < 0 || dup2(logfd, 2) < 0)
		_exit(126);
	if (read(gate, &go, 1) != 1)
		_exit(125); /* berth could not record us: never start */
	if (ready >= 0 && ready != HELPER_READY_FD && dup2(ready, HELPER_READY_FD) < 0)
		_exit(126);
	if (ready == HELPER_READY_FD)
		fcntl(ready, F_SETFD, 0);
	/* Whatever berth inherited (a test runner's output pipe, an engine's
	 * sockets) must not be held open for the helper's whole life. */
	close_range(ready >= 0 ? HELPER_READY_FD + 1 : 3, ~0u, 0);
	execvp(argv[0], argv);
	dprintf(2, "%s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

static char *last_log_line(const char *dir)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", dir, HELPER_LOG), *text = NULL;
	berr_t e = BERR_INIT;
	char *line, *end;

	if (read_file(path, &text, NULL, &e) < 0) {
		berr_free(&e);
		return xstrdup("no message");
	}
	end = text + strlen(text);
	while (end > text && (end[-1] == '\n' || end[-1] == ' '))
		*--end = '\0';
	line = strrchr(text, '\n');
	return xstrdup(line ? line + 1 : *text ? text : "no message");
}

static int helper_failed(const struct net_usermode_req *r, pid_t pid, int status, berr_t *e)
{
	_cleanup_free_ char *msg = last_log_line(r->dir);
	const char *name = net_usermode_name(r->kind);

	(void)pid;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		return berr_set(e, ENOENT, "%s not found (install the %s package)", name,
				r->kind == NET_PASTA ? "passt" : "slirp4netns");
	return berr_set(e, EIO, "%s exited before the network was ready: %s", name, msg);
}

/* pasta writes its pid file once the namespace is configured. */
static int wait_pasta(const struct net_usermode_req *r, pid_t pid, berr_t *e)
{
	_cleanup_free_ char *pidfile = xasprintf("%s/%s", r->dir, HELPER_PID);

	for (int waited = 0; waited < HELPER_TIMEOUT_MS; waited += 10) {
		struct timespec ts = {0, 10 * 1000 * 1000};
		int status;

		if (access(pidfile, F_OK) == 0)
			return 0;
		if (waitpid(pid, &status, WNOHANG) == pid)
			return helper_failed(r, pid, status, e);
		nanosleep(&ts, NULL);
	}
	return berr_set(e, ETIMEDOUT, "pasta did not configure the network in %d s",
			HELPER_TIMEOUT_MS / 1000);
}

static int wait_ready_fd(const struct net_usermode_req *r, pid_t pid, int fd, berr_t *e)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	char c;
	int status;

	if (poll(&p, 1, HELPER_TIMEOUT_MS) == 1 && read(fd, &c, 1) == 1)
		return 0;
	if (waitpid(pid, &status, WNOHANG) == pid)
		return helper_failed(r, pid, status, e);
	return berr_set(e, ETIMEDOUT, "slirp4netns did not configure the network in %d s",
			HELPER_TIMEOUT_MS / 1000);
}

/* slirp4netns forwards ports through its JSON API socket. */
static int slirp_add_port(const struct net_usermode_req *r, const struct net_port *p, berr_t *e)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	_cleanup_close_ int dirfd = open(r->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	_cleanup_free_ char *req = NULL;
	char reply[512];
	ssize_t n;

	if (dirfd < 0 || fd < 0)
		return berr_sys(e, "slirp4netns API socket");
	/* sun_path has 108 bytes: go through the directory's fd. */
	snprintf(sun.sun_path, sizeof sun.sun_path, "/proc/self/fd/%d/%s", dirfd, HELPER_SOCK);
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) < 0)
		return berr_sys(e, "connect to the slirp4netns API socket");
	req = xasprintf("{\"execute\": \"add_hostfwd\", \"arguments\": {\"proto\": \"%s\", "
			"\"host_addr\": \"0.0.0.0\", \"host_port\": %u, \"guest_port\": %u}}",
			p->proto, p->host, p->container);
	if (write_all(fd, req, strlen(req)) < 0)
		return berr_sys(e, "slirp4netns API");
	shutdown(fd, SHUT_WR);
	n = read_all(fd, reply, sizeof reply - 1);
	if (n < 0)
		return berr_sys(e, "slirp4netns API");
	reply[n] = '\0';
	if (strstr(reply, "\"error\""))
		return berr_set(e, EADDRINUSE, "slirp4netns: publish %u/%s: %s", p->host, p->proto,
				reply);
	return 0;
}

int net_usermode_start(const struct net_usermode_req *r, pid_t *helper, berr_t *e)
{
	char **argv = NULL;
	int gate[2] = {-1, -1}, ready[2] = {-1, -1};
	pid_t pid;
	int ret = -1;

	*helper = 0;
	build_argv(r, &argv);
	if (pipe2(gate, O_CLOEXEC) < 0 ||
	    (r->kind == NET_SLIRP4NETNS && pipe2(ready, O_CLOEXEC) < 0)) {
		berr_sys(e, "pipe");
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		berr_sys(e, "fork %s", argv[0]);
		goto out;
	}
	if (pid == 0) {
		close(gate[1]);
		helper_child(argv, r->dir, gate[0], ready[1]);
	}
	close(gate[0]);
	gate[0] = -1;
	if (ready[1] >= 0) {
		close(ready[1]);
		ready[1] = -1;
	}
	if (r->record(r->record_arg, pid, e) < 0) {
		close(gate[1]); /* EOF: the child exits without exec */
		gate[1] = -1;
		waitpid(pid, NULL, 0);
		goto out;
	}
	*helper = pid;
	log_debug("%s: starting as pid %d", argv[0], (int)pid);
	if (write(gate[1], "g", 1) != 1) {
		berr_sys(e, "start %s", argv[0]);
		goto out;
	}
	ret = r->kind == NET_PASTA ? wait_pasta(r, pid, e) : wait_ready_fd(r, pid, ready[0], e);
	for (size_t i = 0; ret == 0 && r->kind == NET_SLIRP4NETNS && i < r->n_ports; i++)
		ret = slirp_add_port(r, &r->ports[i], e);
	if (ret < 0)
		berr_wrap(e, "--net %s", argv[0]);
out:
	for (int i = 0; i < 2; i++) {
		if (gate[i] >= 0)
			close(gate[i]);
		if (ready[i] >= 0)
			close(ready[i]);
	}
	strv_free(argv);
	return ret;
}
