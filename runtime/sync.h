/* runtime/sync.h: the messages berth and the container's init exchange over
 * a SOCK_SEQPACKET socketpair while the container is being created. */
#ifndef BERTH_SYNC_H
#define BERTH_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

enum sync_type {
	SYNC_ERROR = 1,  /* init -> berth: errnum + message; the init then exits */
	SYNC_GO,         /* berth -> init: carry on */
	SYNC_USERNS,     /* init -> berth: a user namespace was unshared, write the maps */
	SYNC_INIT_PID,   /* init -> berth: payload is the pid of the real init (double fork) */
	SYNC_HOOKS,      /* init -> berth: run prestart and createRuntime hooks now */
	SYNC_PTY,        /* init -> berth: the pty master rides along (SCM_RIGHTS) */
	SYNC_CREATED,    /* init -> berth: set up, waiting for start */
};

struct sync_msg {
	uint32_t type;
	int32_t errnum;
	uint32_t len;
	uint32_t flags;
	char data[]; /* len bytes, NUL-terminated beyond len */
};

/* The payload rides in a sealed memfd: a datagram is bounded by the socket
 * buffer (~200 KB), and states carry annotations of any size. */
#define SYNC_PAYLOAD_MEMFD 1u
#define SYNC_INLINE_MAX (32 * 1024)

/* States carry the annotations, which engines may make large. */
#define SYNC_MAX_PAYLOAD (16 * 1024 * 1024)

/* Send a message, optionally passing one fd (pass_fd >= 0; then the payload
 * must fit inline). */
int sync_send(int sock, enum sync_type type, int errnum, const void *data,
	      size_t len, int pass_fd, berr_t *e);
/* Receive one message; *fd_out (may be NULL) gets a passed fd or -1.
 * EOF is an error with errnum EPIPE. */
int sync_recv(int sock, struct sync_msg **out, int *fd_out, berr_t *e);
/* Receive and require a given type; a SYNC_ERROR is turned into *e. */
int sync_expect(int sock, enum sync_type type, struct sync_msg **out, int *fd_out,
		berr_t *e);
/* Report e to the other side as SYNC_ERROR. */
void sync_send_error(int sock, const berr_t *e);

/* SCM_RIGHTS helpers, also used for the console socket. */
int send_fd(int sock, int fd, const void *data, size_t len, berr_t *e);

#endif
