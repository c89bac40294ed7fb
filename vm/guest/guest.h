/* vm/guest/guest.h: the guest init's parts: the boot (init.c) and the
 * workload's set-up with berth's own runtime code (workload.c). */
#ifndef BERTH_VM_GUEST_H
#define BERTH_VM_GUEST_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"
#include "runtime/setup.h"
#include "runtime/spec.h"
#include "vm/protocol.h"

/* What the host's "boot" message says about this VM. */
struct boot_opts {
	char root[16];        /* "squashfs" or "9p" */
	bool overlay;         /* a tmpfs overlay over the (read-only) root */
	bool stdin_forwarded; /* the host sends stdin; else /dev/null */
	bool terminal;        /* hvc0 is the workload's controlling terminal */
	unsigned rows, cols;
	bool shares;          /* berth.9p=1: bind mounts shared over 9p */
	size_t binds[VM_MAX_SHARES]; /* their indexes in config.json's mounts */
	size_t n_binds;
};

struct workload {
	const struct spec *spec;
	struct caps_plan *caps;
	struct seccomp_plan *seccomp;
	bool terminal;
	unsigned rows, cols;
	int tty_fd;    /* terminal: hvc0 */
	int stdio[3];  /* no terminal: the fds that become 0, 1 and 2 */
	int sync_fd;   /* the child's end of the socketpair (runtime/sync.h) */
	bool readonly_root;
	const size_t *binds; /* indexes of the bind mounts shared over 9p */
	size_t n_binds;
};

/* workload.c: clone the workload (in a new pid namespace when the config
 * has one) and run it through berth's set-up until it waits for SYNC_GO. */
int workload_spawn(struct workload *w, pid_t *pid, berr_t *e);

/* init.c: a line on the kernel log (the console on ttyS0). */
void guest_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
