/* tests/helpers/console-receiver.c: the engine's side of --console-socket,
 * as conmon does it: accept one connection, take the pty master passed with
 * SCM_RIGHTS (the pty's name as payload), type INPUT into it, and copy what
 * the container writes to OUT until the pty closes.
 *   console-receiver SOCKET OUT [INPUT] */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	char name[256], buf[4096];
	struct iovec iov = {.iov_base = name, .iov_len = sizeof name - 1};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b,
			     .msg_controllen = sizeof u.b};
	struct cmsghdr *c;
	struct winsize ws;
	int sock, conn, master;
	ssize_t n;
	FILE *out;

	if (argc < 3 || strlen(argv[1]) >= sizeof sun.sun_path) {
		fprintf(stderr, "usage: console-receiver SOCKET OUT [INPUT]\n");
		return 2;
	}
	strcpy(sun.sun_path, argv[1]);
	sock = socket(AF_UNIX, SOCK_STREAM, 0);
	if (sock < 0 || bind(sock, (struct sockaddr *)&sun, sizeof sun) < 0 || listen(sock, 1) < 0 ||
	    (conn = accept(sock, NULL, NULL)) < 0) {
		perror("console-receiver: listen");
		return 1;
	}
	n = recvmsg(conn, &msg, 0);
	c = CMSG_FIRSTHDR(&msg);
	if (n <= 0 || !c || c->cmsg_type != SCM_RIGHTS) {
		fprintf(stderr, "console-receiver: no fd received\n");
		return 1;
	}
	name[n] = '\0';
	memcpy(&master, CMSG_DATA(c), sizeof master);
	out = fopen(argv[2], "w");
	if (!out)
		return 1;
	/* First line: the pty's name and size, as the engine sees them. */
	if (ioctl(master, TIOCGWINSZ, &ws) < 0)
		memset(&ws, 0, sizeof ws);
	fprintf(out, "name=%s rows=%u cols=%u\n", name, ws.ws_row, ws.ws_col);
	fflush(out);
	if (argc > 3)
		(void)!write(master, argv[3], strlen(argv[3]));
	while ((n = read(master, buf, sizeof buf)) > 0) {
		fwrite(buf, 1, n, out);
		fflush(out);
	}
	fclose(out);
	return 0;
}
