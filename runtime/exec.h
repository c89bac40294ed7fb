/* runtime/exec.h: `exec`: a new process inside a running container, from
 * trailing arguments (defaults from the container's config) or --process. */
#ifndef BERTH_EXEC_H
#define BERTH_EXEC_H

#include <stdbool.h>

#include "common/error.h"

struct exec_opts {
	const char *root;
	bool rootless;             /* --rootless (auto: not root, or in a user namespace) */
	const char *id;
	const char *process_file;  /* --process: a whole process object */
	char **args;               /* the command, when no --process */
	bool tty;
	const char *console_socket;
	bool detach;
	const char *pid_file;
	const char *cwd;
	char **env;                /* KEY=VALUE, replacing the config's */
	const char *user;          /* UID[:GID] */
	char **additional_gids;
	char **caps;               /* added to every capability set */
	bool no_new_privs;
	int preserve_fds;
	const char *process_label;
	const char *apparmor;
	const char *cgroup;        /* a sub-cgroup of the container's */
};

/* In the foreground *status is the process's exit status (128+N for a
 * signal); detached, berth returns once the process has started. */
int container_exec(const struct exec_opts *o, int *status, berr_t *e);

#endif
