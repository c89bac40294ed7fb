/* runtime/notify.c: sd_notify through berth (NOTIFY_SOCKET), and socket
 * activation (LISTEN_FDS), as runc and crun pass them to a container. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "notify.h"

#define NOTIFY_DIR "notify"
#define NOTIFY_CONTAINER_DIR "/run/notify"

int listen_fds_prepare(struct spec *s, int *preserve_fds)
{
	const char *v = getenv("LISTEN_FDS");
	uint64_t n;
	char buf[32];

	if (!v || !parse_uint64(v, &n) || n == 0 || n > 1024)
		return 0;
	/* The fds from 3 on go through; the container's process is pid 1 of
	 * its namespace, and so the LISTEN_PID of sd_listen_fds(). */
	*preserve_fds += n;
	snprintf(buf, sizeof buf, "LISTEN_FDS=%u", (unsigned)n);
	spec_process_setenv(s->process, buf);
	spec_process_setenv(s->process, "LISTEN_PID=1");
	return 0;
}

int notify_prepare(struct spec *s, int state_dirfd, const char *state_path, char **host_socket,
		   berr_t *e)
{
	const char *v = getenv("NOTIFY_SOCKET");
	_cleanup_free_ char *src = NULL;
	struct spec_mount *m;

	*host_socket = NULL;
	if (!v || !*v)
		return 0;
	if (mkdirat(state_dirfd, NOTIFY_DIR, 0755) < 0 && errno != EEXIST)
		return berr_sys(e, "mkdir \"%s/%s\"", state_path, NOTIFY_DIR);
	src = xasprintf("%s/%s", state_path, NOTIFY_DIR);
	s->mounts = xreallocarray(s->mounts, s->n_mounts + 1, sizeof *s->mounts);
	m = &s->mounts[s->n_mounts++];
	memset(m, 0, sizeof *m);
	m->destination = xstrdup(NOTIFY_CONTAINER_DIR);
	m->type = xstrdup("bind");
	m->source = steal_ptr(src);
	m->options = strv_dup((char *[]){"bind", "nosuid", "noexec", "nodev", NULL});
	spec_process_setenv(s->process, "NOTIFY_SOCKET=" NOTIFY_CONTAINER_DIR "/notify.sock");
	*host_socket = xstrdup(v);
	return 0;
}

static int socket_addr(const char *path, struct sockaddr_un *sun, socklen_t *len, berr_t *e)
{
	size_t n = strlen(path);

	memset(sun, 0, sizeof *sun);
	sun->sun_family = AF_UNIX;
	if (n >= sizeof sun->sun_path)
		return berr_set(e, ENAMETOOLONG, "NOTIFY_SOCKET \"%s\": path too long", path);
	memcpy(sun->sun_path, path, n);
	/* "@name" is an abstract address. */
	if (path[0] == '@')
		sun->sun_path[0] = '\0';
	*len = offsetof(struct sockaddr_un, sun_path) + n + (path[0] == '@' ? 0 : 1);
	return 0;
}

int notify_listen(int state_dirfd, berr_t *e)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return berr_sys(e, "socket");
	/* Through the directory's fd: the state path may exceed sun_path. */
	snprintf(sun.sun_path, sizeof sun.sun_path, "/proc/self/fd/%d/" NOTIFY_DIR "/notify.sock",
		 state_dirfd);
	unlink(sun.sun_path);
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) < 0)
		return berr_sys(e, "bind the notify socket");
	/* The container's process may run as any user. */
	chmod(sun.sun_path, 0777);
	return steal_fd(fd);
}

int notify_forward(int fd, const char *host_socket, pid_t pid, bool *ready, berr_t *e)
{
	char buf[4096], out[4200];
	struct sockaddr_un sun;
	socklen_t len = 0;
	ssize_t n;
	_cleanup_close_ int to = -1;

	*ready = false;
	n = recv(fd, buf, sizeof buf - 1, 0);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : berr_sys(e, "receive from the notify socket");
	buf[n] = '\0';
	if (!strstr(buf, "READY=1"))
		return 0;
	/* The service manager needs the container's pid as the main pid. */
	n = snprintf(out, sizeof out, "%s\nMAINPID=%d", buf, (int)pid);
	if (socket_addr(host_socket, &sun, &len, e) < 0)
		return -1;
	to = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (to < 0)
		return berr_sys(e, "socket");
	if (sendto(to, out, n, 0, (struct sockaddr *)&sun, len) < 0)
		return berr_sys(e, "forward READY=1 to NOTIFY_SOCKET \"%s\"", host_socket);
	*ready = true;
	return 0;
}

int notify_wait_ready(int fd, const char *host_socket, pid_t pid, berr_t *e)
{
	bool ready = false;

	while (!ready) {
		struct pollfd p = {.fd = fd, .events = POLLIN};

		if (poll(&p, 1, -1) < 0 && errno != EINTR)
			return berr_sys(e, "poll the notify socket");
		if (notify_forward(fd, host_socket, pid, &ready, e) < 0)
			return -1;
	}
	return 0;
}
