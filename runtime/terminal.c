/* runtime/terminal.c: process.terminal: a pty from the container's own
 * devpts, its master sent to --console-socket (or to berth, which relays). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "common/util.h"
#include "setup.h"
#include "sync.h"

/* /dev/console is the pty's slave, as on a real console. */
static int bind_console(const char *slave_name, berr_t *e)
{
	if (mknod("/dev/console", S_IFREG | 0600, 0) < 0 && errno != EEXIST)
		return berr_sys(e, "create /dev/console");
	if (mount(slave_name, "/dev/console", NULL, MS_BIND, NULL) < 0)
		return berr_sys(e, "bind mount \"%s\" on /dev/console", slave_name);
	return 0;
}

static int become_controlling(int slave, berr_t *e)
{
	if (setsid() < 0)
		return berr_sys(e, "setsid");
	if (ioctl(slave, TIOCSCTTY, 0) < 0)
		return berr_sys(e, "make the pty the controlling terminal");
	for (int fd = 0; fd <= 2; fd++)
		if (dup2(slave, fd) < 0)
			return berr_sys(e, "dup2 pty to fd %d", fd);
	return 0;
}

int terminal_open(const struct spec_process *p, int console_fd, int relay_fd, bool console,
		  berr_t *e)
{
	_cleanup_close_ int master = -1, slave = -1;
	char name[64];

	if (!p->terminal)
		return 0;
	master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		return berr_sys(e, "open /dev/ptmx in the container");
	if (unlockpt(master) < 0 || ptsname_r(master, name, sizeof name) != 0)
		return berr_sys(e, "set up the pty");
	slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		return berr_sys(e, "open \"%s\"", name);
	if (p->has_console_size) {
		struct winsize ws = {.ws_row = p->console_height, .ws_col = p->console_width};

		if (ioctl(slave, TIOCSWINSZ, &ws) < 0)
			return berr_sys(e, "set the console size");
	}
	if (console && bind_console(name, e) < 0)
		return -1;
	if (console_fd >= 0) {
		if (send_fd(console_fd, master, name, strlen(name), e) < 0)
			return berr_wrap(e, "send the pty to --console-socket");
	} else if (relay_fd >= 0) {
		if (sync_send(relay_fd, SYNC_PTY, 0, name, strlen(name), master, e) < 0)
			return -1;
	}
	return become_controlling(slave, e);
}

int terminal_setup(const struct init_ctx *ctx, berr_t *e)
{
	return terminal_open(ctx->spec->process, ctx->console_fd,
			     ctx->pty_to_parent ? ctx->sync_fd : -1, true, e);
}
