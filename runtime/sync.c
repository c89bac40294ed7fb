/* runtime/sync.c: framing of the parent/init messages. SEQPACKET keeps each
 * message whole; fds travel as SCM_RIGHTS beside the header. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/util.h"
#include "sync.h"

static int sendmsg_fd(int sock, struct iovec *iov, int iovcnt, int fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = {.msg_iov = iov, .msg_iovlen = iovcnt};
	ssize_t r;

	if (fd >= 0) {
		struct cmsghdr *c;

		memset(&u, 0, sizeof u);
		msg.msg_control = u.buf;
		msg.msg_controllen = sizeof u.buf;
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	do
		r = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -1 : 0;
}

static int payload_memfd(const void *data, size_t len, berr_t *e)
{
	_cleanup_close_ int fd = memfd_create("berth-sync", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0)
		return berr_sys(e, "memfd_create");
	if (write_all(fd, data, len) < 0)
		return berr_sys(e, "write sync payload");
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
		return berr_sys(e, "seal sync payload");
	return steal_fd(fd);
}

int sync_send(int sock, enum sync_type type, int errnum, const void *data,
	      size_t len, int pass_fd, berr_t *e)
{
	struct sync_msg hdr = {.type = type, .errnum = errnum, .len = len};
	struct iovec iov[2] = {
		{.iov_base = &hdr, .iov_len = sizeof hdr},
		{.iov_base = (void *)data, .iov_len = len},
	};
	_cleanup_close_ int memfd = -1;

	if (len > SYNC_MAX_PAYLOAD)
		return berr_set(e, EMSGSIZE, "sync message of %zu bytes is too large", len);
	if (len > SYNC_INLINE_MAX) {
		if (pass_fd >= 0)
			return berr_set(e, EINVAL, "sync message with an fd must fit inline");
		memfd = payload_memfd(data, len, e);
		if (memfd < 0)
			return -1;
		hdr.flags = SYNC_PAYLOAD_MEMFD;
		pass_fd = memfd;
		len = 0;
	}
	if (sendmsg_fd(sock, iov, len ? 2 : 1, pass_fd) < 0)
		return berr_sys(e, "send to container init");
	return 0;
}

/* Replace a message whose payload is in a memfd by one that holds it. */
static int read_payload(struct sync_msg **m, int fd, berr_t *e)
{
	size_t len = (*m)->len;
	struct sync_msg *full;

	if (fd < 0 || len > SYNC_MAX_PAYLOAD)
		return berr_set(e, EPROTO, "malformed message from container init");
	full = xmalloc(sizeof *full + len + 1);
	*full = **m;
	if (pread(fd, full->data, len, 0) != (ssize_t)len) {
		free(full);
		return berr_sys(e, "read sync payload");
	}
	full->data[len] = '\0';
	free(*m);
	*m = full;
	return 0;
}

int send_fd(int sock, int fd, const void *data, size_t len, berr_t *e)
{
	struct iovec iov = {.iov_base = (void *)data, .iov_len = len};
	char zero = 0;

	if (!len) {
		iov.iov_base = &zero;
		iov.iov_len = 1;
	}
	if (sendmsg_fd(sock, &iov, 1, fd) < 0)
		return berr_sys(e, "send file descriptor");
	return 0;
}

/* The size of the next message without consuming it (SEQPACKET keeps
 * message boundaries; MSG_TRUNC reports the real length). */
static ssize_t next_message_size(int sock)
{
	char byte;
	ssize_t r;

	do
		r = recv(sock, &byte, 1, MSG_PEEK | MSG_TRUNC);
	while (r < 0 && errno == EINTR);
	return r;
}

int sync_recv(int sock, struct sync_msg **out, int *fd_out, berr_t *e)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	_cleanup_free_ struct sync_msg *m = NULL;
	_cleanup_close_ int passed = -1;
	struct iovec iov;
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = u.buf, .msg_controllen = sizeof u.buf,
	};
	ssize_t size = next_message_size(sock), r;

	if (fd_out)
		*fd_out = -1;
	if (size < 0)
		return berr_sys(e, "receive from container init");
	if (size == 0)
		return berr_set(e, EPIPE, "container init exited unexpectedly");
	if ((size_t)size > sizeof *m + SYNC_MAX_PAYLOAD)
		return berr_set(e, EMSGSIZE, "message of %zd bytes from container init is too large",
				size);
	m = xmalloc(size + 1);
	iov.iov_base = m;
	iov.iov_len = size;
	do
		r = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return berr_sys(e, "receive from container init");
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			int fd;

			memcpy(&fd, CMSG_DATA(c), sizeof fd);
			if (passed < 0)
				passed = fd;
			else
				close(fd);
		}
	}
	if ((size_t)r < sizeof *m ||
	    (!(m->flags & SYNC_PAYLOAD_MEMFD) && m->len != (size_t)r - sizeof *m))
		return berr_set(e, EPROTO, "malformed message from container init");
	if (m->flags & SYNC_PAYLOAD_MEMFD) {
		if (read_payload(&m, passed, e) < 0)
			return -1;
	} else {
		m->data[m->len] = '\0';
		if (fd_out)
			*fd_out = steal_fd(passed);
	}
	*out = steal_ptr(m);
	return 0;
}

int sync_expect(int sock, enum sync_type type, struct sync_msg **out, int *fd_out,
		berr_t *e)
{
	struct sync_msg *m = NULL;

	if (sync_recv(sock, &m, fd_out, e) < 0)
		return -1;
	if (m->type == SYNC_ERROR) {
		berr_set(e, m->errnum, "%s", m->data);
		free(m);
		return -1;
	}
	if (m->type != type) {
		berr_set(e, EPROTO, "unexpected message %u from container init (wanted %u)",
			 m->type, type);
		free(m);
		return -1;
	}
	if (out)
		*out = m;
	else
		free(m);
	return 0;
}

void sync_send_error(int sock, const berr_t *e)
{
	_cleanup_free_ char *msg = berr_text(e);
	berr_t ignored = BERR_INIT;

	sync_send(sock, SYNC_ERROR, e->errnum, msg, strlen(msg), -1, &ignored);
	berr_free(&ignored);
}
