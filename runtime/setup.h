/* runtime/setup.h: the steps of the container's set-up, each implemented in
 * the file of its concern and called in the spec's order by init.c. */
#ifndef BERTH_SETUP_H
#define BERTH_SETUP_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"
#include "namespaces.h"
#include "spec.h"

/* Everything the init needs, prepared by berth before the clone. The init
 * is a fork of berth, so it reads this in its copy of berth's memory. */
struct init_ctx {
	const struct spec *spec;
	const char *bundle;       /* absolute */
	const char *rootfs;       /* absolute, on the host */
	struct ns_plan ns;
	int sync_fd;              /* init's end of the socketpair */
	int start_fd;             /* listening socket `start` connects to */
	int console_fd;           /* connected --console-socket, or -1 */
	bool pty_to_parent;       /* terminal without a console socket: berth relays */
	int preserve_fds;
	bool no_pivot;
	bool no_new_keyring;
	bool rootless;
	/* run --image: rootfs is the mount point of an overlay of these, made
	 * in the init's own mount namespace (NULL overlay_lower: none). */
	char *const *overlay_lower;   /* top layer first */
	const char *overlay_upper, *overlay_work;
	bool overlay_userxattr;
	/* Resolved before the clone: the process's rlimits and capabilities
	 * (see caps.c), the compiled seccomp filter (see seccomp.c). */
	struct caps_plan *caps;
	struct seccomp_plan *seccomp;
	/* The state documents for createContainer/startContainer hooks, sent
	 * by berth with SYNC_GO once the init's pid is known. */
	char *state_creating;
	char *state_created;
};

/* init.c: the container's init; returns only on failure (after reporting
 * it to berth). */
__attribute__((noreturn)) void container_init(struct init_ctx *ctx);

/* rootfs.c */
int rootfs_prepare(const struct init_ctx *ctx, int *rootfd, berr_t *e);
int rootfs_pivot(const struct init_ctx *ctx, int rootfd, berr_t *e);
int rootfs_finalize(const struct init_ctx *ctx, berr_t *e);

/* mounts.c */
int mounts_apply(const struct init_ctx *ctx, int rootfd, berr_t *e);
/* Parse a mount's options (exposed for validation and unit tests). */
struct mount_opts {
	unsigned long flags;       /* MS_* to set */
	unsigned long clear;       /* MS_* explicitly cleared (rw, suid, ...) */
	unsigned long propagation; /* MS_SHARED/SLAVE/PRIVATE/UNBINDABLE (+MS_REC) */
	unsigned long long attr_set, attr_clr; /* recursive mount_setattr (rro, ...) */
	bool bind, rec, tmpcopyup, idmap;
	char *data;                /* fs-specific options, comma separated */
};
int mount_opts_parse(char *const *options, struct mount_opts *mo, berr_t *e);
void mount_opts_free(struct mount_opts *mo);
/* The i-th known mount option's name, NULL past the end (for `features`). */
const char *mount_option_name(size_t i);
/* rootfsPropagation names -> MS_* flags; -1 when unknown. */
long propagation_from_name(const char *name);

/* devices.c */
int devices_create(const struct init_ctx *ctx, int rootfd, berr_t *e);
/* When linux.resources.devices restricts devices, allow what every
 * container needs (the default devices, ptys) and linux.devices, inserted
 * after the config's last deny-all rule. Runs in berth before the cgroup
 * is made. */
void devices_cgroup_complete(struct spec *s);

/* process.c: each a step of the process set-up. */
int process_set_hostname(const struct spec *s, berr_t *e);
int process_set_sysctls(const struct spec *s, berr_t *e);
int process_set_rlimits(const struct spec_process *p, berr_t *e);
int process_set_oom_score_adj(const struct spec_process *p, bool rootless, berr_t *e);
int process_set_personality(const struct spec *s, berr_t *e);
int process_set_scheduling(const struct spec_process *p, berr_t *e);
int process_set_affinity(const char *cpus, pid_t pid, berr_t *e);
int process_switch_user(const struct spec_process *p, bool in_userns, berr_t *e);
/* Create a missing cwd inside the root (before pivot_root), as runc does. */
int process_make_cwd(int rootfd, const struct spec_process *p, berr_t *e);
int process_chdir(const struct spec_process *p, berr_t *e);
/* Find args[0] like execvp would, in the container's PATH. The result is
 * the path to pass to execve; errors carry ENOENT or EACCES. */
int process_find_executable(const struct spec_process *p, char **out, berr_t *e);
/* Close or mark close-on-exec every fd above 2 + preserve_fds. */
int process_close_fds(int preserve_fds, berr_t *e);
int process_exec(const struct spec_process *p, const char *path, berr_t *e);

/* lsm.c */
int lsm_set_exec_labels(const struct spec_process *p, berr_t *e);
/* Mount data with the SELinux mount label as context="..."; malloc'd. */
char *lsm_mount_data(const char *data, const char *mount_label);

/* terminal.c: a pty from the container's devpts when process.terminal is
 * set: its master goes to console_fd, else over relay_fd (SYNC_PTY) to berth;
 * the slave becomes the controlling terminal and fds 0-2 (and /dev/console
 * when `console`). */
int terminal_open(const struct spec_process *p, int console_fd, int relay_fd, bool console,
		  berr_t *e);
int terminal_setup(const struct init_ctx *ctx, berr_t *e);

/* hooks.c: run hooks of one kind in order with the state on stdin. A
 * failure stops at the first failing hook unless `warn_only`. */
int hooks_run(const struct spec *s, enum spec_hook_kind kind, const char *state_json,
	      bool warn_only, berr_t *e);

/* caps.c */
struct caps_plan;
int caps_plan_make(const struct spec_process *p, struct caps_plan **out, berr_t *e);
void caps_plan_free(struct caps_plan *plan);
int caps_drop_bounding(const struct caps_plan *plan, berr_t *e);
int caps_apply(const struct caps_plan *plan, berr_t *e);

/* seccomp.c */
struct seccomp_plan;
/* Compile linux.seccomp (through the cache under cache_root, if not NULL). */
int seccomp_plan_make(const struct spec *s, const char *cache_root, struct seccomp_plan **out,
		      berr_t *e);
void seccomp_plan_free(struct seccomp_plan *plan);
struct json_writer;
/* The linux.seccomp object of the features document. */
void seccomp_write_features(struct json_writer *w);
int seccomp_plan_load(struct seccomp_plan *plan, const char *state_json, berr_t *e);

#endif
