/* runtime/container.h: the lifecycle API the CLI calls (create, start, run,
 * kill, delete, state, list, pause, ps). It knows nothing of argv. */
#ifndef BERTH_CONTAINER_H
#define BERTH_CONTAINER_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"
#include "state.h"

struct create_opts {
	const char *root;           /* state root */
	const char *id;
	const char *bundle;         /* NULL: the current directory */
	const char *pid_file;
	const char *console_socket;
	int preserve_fds;
	bool no_pivot;
	bool no_new_keyring;
	bool systemd_cgroup;
	bool rootless;
	bool detach;                /* run -d */
	bool foreground;            /* run without -d: berth waits and relays */
};

int container_create(const struct create_opts *o, berr_t *e);
int container_start(const char *root, const char *id, berr_t *e);
/* run: create + start, then (unless detached) wait, relay signals and the
 * terminal, delete, and report the workload's exit status (128+N for a
 * signal) in *status. */
int container_run(const struct create_opts *o, int *status, berr_t *e);
int container_kill(const char *root, const char *id, int signo, bool all, berr_t *e);
int container_delete(const char *root, const char *id, bool force, berr_t *e);
/* The OCI state document of a container, pretty-printed. */
int container_state_json(const char *root, const char *id, char **out, berr_t *e);
int container_pause(const char *root, const char *id, bool pause, berr_t *e);
int container_pids(const char *root, const char *id, pid_t **pids, size_t *n, berr_t *e);

struct container_summary {
	struct container_state st;
	enum container_status status;
};
int container_list(const char *root, struct container_summary **out, size_t *n, berr_t *e);
void container_list_free(struct container_summary *list, size_t n);

/* Signal names and numbers: "KILL", "SIGKILL", "9". -1 when unknown. */
int signal_parse(const char *s);
const char *signal_name(int signo);

#endif
