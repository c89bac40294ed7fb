/* tests/helpers/notify-send.c: sd_notify(3) without libsystemd: send the
 * arguments, newline-joined, to $NOTIFY_SOCKET. Static: runs in a rootfs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

int main(int argc, char **argv)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	char msg[4096] = "";
	int fd;

	if (!path || strlen(path) >= sizeof sun.sun_path) {
		fprintf(stderr, "notify-send: NOTIFY_SOCKET is not set\n");
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		strncat(msg, argv[i], sizeof msg - strlen(msg) - 2);
		strcat(msg, "\n");
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (fd < 0 || sendto(fd, msg, strlen(msg), 0, (struct sockaddr *)&sun, sizeof sun) < 0) {
		perror("notify-send");
		return 1;
	}
	return 0;
}
