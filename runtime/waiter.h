/* runtime/waiter.h: berth in the foreground of a container process (run,
 * exec): forwards signals, relays a pty, reaps, reports the exit status. */
#ifndef BERTH_WAITER_H
#define BERTH_WAITER_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>
#include <termios.h>

#include "common/error.h"

struct waiter {
	int pty;            /* master, or -1 */
	bool pty_open;      /* the slave side is still open somewhere */
	bool stdin_open;
	bool tty_raw;
	struct termios saved_tty;
	int notify_fd;           /* NOTIFY_SOCKET proxy (notify.c), or -1 */
	const char *notify_host; /* where READY=1 goes */
};

/* The signals a waiter forwards; block them before creating the process so
 * that none is lost (the child unblocks them for itself). */
void waiter_signals(sigset_t *set);
/* Put our terminal in raw mode and give the pty its size (pty may be -1).
 * Leaves notify_fd alone. */
void waiter_attach_tty(struct waiter *w, int pty);
void waiter_restore_tty(struct waiter *w);
/* Forward signals to pidfd's process, relay the pty, reap children until
 * pid exits; *wstatus is its wait status. The terminal is restored. */
int waiter_wait(struct waiter *w, pid_t pid, int pidfd, const sigset_t *mask, int *wstatus,
		berr_t *e);
/* A wait status as a shell reports it: the exit code, or 128+N. */
int wait_status_to_exit(int wstatus);

#endif
