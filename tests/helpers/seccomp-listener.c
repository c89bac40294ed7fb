/* tests/helpers/seccomp-listener.c: a seccomp user-notification listener for
 * the tests: receives the notify fd from berth, records the state it came
 * with, and answers mkdir/mkdirat with EXDEV so the workload can show it.
 *   seccomp-listener SOCKET STATE-OUT */
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

static int die(const char *what)
{
	fprintf(stderr, "seccomp-listener: %s: %s\n", what, strerror(errno));
	return 1;
}

static int receive_fd(int conn, char *buf, size_t len, int *fd)
{
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = {.iov_base = buf, .iov_len = len - 1};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b,
			     .msg_controllen = sizeof u.b};
	struct cmsghdr *c;
	ssize_t n = recvmsg(conn, &msg, 0);

	if (n <= 0)
		return -1;
	buf[n] = '\0';
	c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(fd, CMSG_DATA(c), sizeof *fd);
	return 0;
}

/* Answer every notification until the filter's last user is gone. */
static void serve(int nfd)
{
	struct seccomp_notif req;
	struct seccomp_notif_resp resp;

	for (;;) {
		struct pollfd p = {.fd = nfd, .events = POLLIN};

		if (poll(&p, 1, -1) < 0 || (p.revents & (POLLHUP | POLLERR)))
			return;
		memset(&req, 0, sizeof req);
		if (ioctl(nfd, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) {
			if (errno == EINTR || errno == ENOENT)
				continue;
			return;
		}
		memset(&resp, 0, sizeof resp);
		resp.id = req.id;
		if (req.data.nr == SYS_mkdir || req.data.nr == SYS_mkdirat)
			resp.error = -EXDEV;
		else
			resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
		ioctl(nfd, SECCOMP_IOCTL_NOTIF_SEND, &resp);
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	char state[65536];
	int sock, conn, nfd;
	FILE *out;

	if (argc != 3 || strlen(argv[1]) >= sizeof sun.sun_path) {
		fprintf(stderr, "usage: seccomp-listener SOCKET STATE-OUT\n");
		return 2;
	}
	strcpy(sun.sun_path, argv[1]);
	sock = socket(AF_UNIX, SOCK_STREAM, 0);
	if (sock < 0 || bind(sock, (struct sockaddr *)&sun, sizeof sun) < 0 || listen(sock, 1) < 0)
		return die("listen");
	conn = accept(sock, NULL, NULL);
	if (conn < 0)
		return die("accept");
	if (receive_fd(conn, state, sizeof state, &nfd) < 0)
		return die("receive the notify fd");
	out = fopen(argv[2], "w");
	if (!out)
		return die("open state output");
	fputs(state, out);
	fclose(out);
	serve(nfd);
	return 0;
}
