/* vm/vm.h: VM mode's one interface: run a bundle's process in a microVM
 * (qemu -M microvm, the host's Debian kernel, berth's own guest init). */
#ifndef BERTH_VM_H
#define BERTH_VM_H

#include <stdbool.h>
#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"

#define VM_DEFAULT_MEMORY (256ull << 20)
#define VM_DEFAULT_CPUS 1
/* What Debian's kernel keeps of a guest's RAM for itself (code, data, page
 * tables): added to linux.resources.memory.limit so that the workload sees
 * the limit as its MemTotal, as a container sees its cgroup's limit. */
#define VM_KERNEL_RESERVE (48ull << 20)

/* Annotations for engines that cannot pass flags. */
#define VM_ANNOTATION "org.berth.vm"                 /* "true": run in a VM */
#define VM_ANNOTATION_ROOTFS "org.berth.vm.rootfs"   /* "squashfs" (default) or "9p" */
#define VM_ANNOTATION_KERNEL_ARGS "org.berth.vm.kernel-args"

/* A bind mount of a host directory, shared with the guest over 9p (tag
 * VM_9P_BIND_TAG and the mount's index) and mounted there in its place. */
struct vm_share {
	size_t index;              /* of the mount in config.json */
	char *source;              /* the host directory, absolute */
	bool readonly;
};
struct vm_config {
	const char *state_dir;     /* absolute; the VM's files live here */
	const char *cache_root;    /* where the KVM probe is cached (the state root) */
	const char *rootfs;        /* the bundle's root filesystem on the host */
	bool rootfs_9p;            /* share it over 9p instead of a squashfs image */
	bool rootfs_readonly;      /* root.readonly */
	bool overlay;              /* a tmpfs overlay over the root: writable, or
				    * mount points the image lacks */
	const char *config_text;   /* config.json, for the guest init */
	const char *accel;         /* "auto" (NULL), "kvm" or "tcg" */
	const char *kernel;        /* a vmlinuz or vmlinux; NULL: the host's Debian kernel */
	const char *kernel_args;   /* appended to the kernel command line, may be NULL */
	uint64_t memory;           /* guest RAM in bytes */
	unsigned cpus;
	bool terminal;             /* process.terminal: hvc0 is a terminal */
	unsigned rows, cols;       /* its initial size, 0 when unknown */
	bool forward_stdin;        /* berth stays and sends its stdin (foreground run) */
	const struct vm_share *shares; /* bind mounts of directories */
	size_t n_shares;
	/* Called once qemu runs, before the guest is up: the caller records
	 * the pid, so that a berth killed during the boot leaves qemu for
	 * `delete` to find. A failure stops the launch. */
	int (*spawned)(pid_t qemu, void *arg, berr_t *e);
	void *spawned_arg;
};

/* A VM that reached "created": its qemu and the accelerator it runs on. */
struct vm_instance {
	pid_t pid;         /* qemu */
	int pidfd;
	char accel[8];     /* "kvm" or "tcg" */
	int pty_master;    /* terminal: the master of hvc0's pty, else -1 */
	uint64_t boot_ns;  /* from launch to "created" */
};

/* Launch qemu and wait until the guest init has set the process up and waits
 * for start. On failure nothing is left running. */
int vm_create(const struct vm_config *cfg, struct vm_instance *vm, berr_t *e);
void vm_instance_close(struct vm_instance *vm);

/* Operations on a VM through its state directory's control port. */
int vm_start(const char *state_dir, pid_t qemu, berr_t *e);
int vm_kill(const char *state_dir, int signo, bool all, berr_t *e);
int vm_winsize(const char *state_dir, unsigned rows, unsigned cols, berr_t *e);

/* Foreground: relay stdin (and the terminal), forward the signals in `sigs`
 * (blocked by the caller before vm_create), reap qemu, and return the
 * workload's exit status. A VM that stopped without one (a kernel panic)
 * is an error, never a status. */
int vm_wait(const char *state_dir, struct vm_instance *vm, const sigset_t *sigs,
	    bool forward_stdin, int *status, berr_t *e);

/* Is KVM usable for a Linux guest? Probed once per boot (a tiny VM runs a
 * loop and an int3 through its IDT, timed) and cached under cache_root.
 * *why says why not; static storage. */
bool vm_kvm_usable(const char *cache_root, const char **why);
/* "KVM" or "TCG (emulated CPU)", for people. */
const char *vm_accel_label(const char *accel);

/* Parse "256M", "1G", "1048576" (bytes); false on garbage. */
bool vm_parse_size(const char *s, uint64_t *out);

#endif
