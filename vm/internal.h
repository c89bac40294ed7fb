/* vm/internal.h: what the launcher's files share (kernel, initramfs, tools);
 * private to vm/. */
#ifndef BERTH_VM_INTERNAL_H
#define BERTH_VM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"

/* kernel.c: the guest kernel, extracted once to an uncompressed vmlinux
 * (PVH boot needs the ELF; decompressing xz under TCG costs seconds). */
struct vm_kernel {
	char *image;       /* the vmlinuz or vmlinux berth was given or found */
	char *vmlinux;     /* the uncompressed ELF, cached */
	char *version;     /* "6.1.0-56-amd64"; NULL when unknown */
	char *modules_dir; /* /lib/modules/VERSION; NULL when absent */
};
int vm_kernel_find(const char *path, struct vm_kernel *k, berr_t *e);
void vm_kernel_free(struct vm_kernel *k);

/* initrd.c: the cached initramfs: berth-vm-init as /init and the modules
 * the guest needs, in groups listed in modules.dep order. */
int vm_initrd_get(const struct vm_kernel *k, char **path, berr_t *e);

/* The cache for vmlinux and initramfs files: $BERTH_VM_CACHE, else
 * /var/cache/berth (root) or $XDG_CACHE_HOME/berth. malloc'd. */
char *vm_cache_dir(void);

/* Run a tool (argv[0] looked up in PATH) with the given stdin/stdout (-1:
 * /dev/null); its stderr becomes part of the error. */
int vm_run_tool(char *const argv[], int in_fd, int out_fd, berr_t *e);
/* The same in two halves, for a tool that runs while the VM boots. */
struct vm_tool {
	pid_t pid;
	int err_fd;
	const char *name;
};
int vm_tool_start(char *const argv[], int in_fd, int out_fd, struct vm_tool *t, berr_t *e);
int vm_tool_finish(struct vm_tool *t, berr_t *e);

/* Files in the container's state directory. */
#define VM_FILE_CTL "ctl"              /* qemu's pipe chardev: ctl.in and ctl.out */
#define VM_FILE_CTL_IN "ctl.in"        /* FIFO, host -> guest */
#define VM_FILE_CTL_OUT "ctl.out"      /* file, guest -> host */
#define VM_FILE_KERNEL_LOG "kernel.log" /* ttyS0 */
#define VM_FILE_QEMU_LOG "qemu.log"    /* qemu's own stderr */
#define VM_FILE_DISK "rootfs.squashfs"

/* launch.c: the guest's lines in ctl.out, read as they are appended. */
struct vm_ctl_reader {
	int fd, inotify;
	off_t off;
	char buf[4096];
	size_t len;
};
int vm_ctl_reader_open(struct vm_ctl_reader *r, const char *state_dir, berr_t *e);
void vm_ctl_reader_close(struct vm_ctl_reader *r);
int vm_ctl_next_line(struct vm_ctl_reader *r, char *line, size_t size, berr_t *e);
/* 0: *line starts with one of want; 1: qemu (pidfd) exited first. */
int vm_ctl_wait(struct vm_ctl_reader *r, int pidfd, const char *const *want, char *line,
		size_t size, int timeout_ms, berr_t *e);
/* One message into ctl.in (atomic up to PIPE_BUF); ESRCH when qemu is gone. */
int vm_ctl_send(const char *state_dir, const void *msg, size_t len, berr_t *e);
/* Fill e with why a VM stopped without an exit status. */
void vm_explain_failure(const char *state_dir, int qemu_status, berr_t *e);

#endif
