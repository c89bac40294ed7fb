/* runtime/notify.h: NOTIFY_SOCKET proxying and LISTEN_FDS passthrough. */
#ifndef BERTH_NOTIFY_H
#define BERTH_NOTIFY_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"
#include "spec.h"

/* LISTEN_FDS=N in berth's environment: pass fds 3..3+N-1 and tell the
 * process (LISTEN_FDS, LISTEN_PID=1). */
int listen_fds_prepare(struct spec *s, int *preserve_fds);
/* NOTIFY_SOCKET in berth's environment: bind STATE/notify at /run/notify in
 * the container and point the process's NOTIFY_SOCKET there; *host_socket
 * gets the caller's socket (NULL when not set). */
int notify_prepare(struct spec *s, int state_dirfd, const char *state_path, char **host_socket,
		   berr_t *e);
/* Bind STATE/notify/notify.sock (before the process starts); an fd. */
int notify_listen(int state_dirfd, berr_t *e);
/* Read one datagram; a READY=1 is forwarded with MAINPID=pid, *ready set. */
int notify_forward(int fd, const char *host_socket, pid_t pid, bool *ready, berr_t *e);
/* Block until the container says READY=1, then forward it. */
int notify_wait_ready(int fd, const char *host_socket, pid_t pid, berr_t *e);

#endif
