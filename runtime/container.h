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
	/* VM mode (runtime/vm_lifecycle.c): --vm or the org.berth.vm annotation */
	bool vm;
	const char *vm_accel;       /* auto, kvm or tcg */
	const char *vm_kernel;      /* NULL: the host's Debian kernel */
	const char *vm_memory;      /* "256M"; linux.resources.memory.limit wins */
	int vm_cpus;                /* 0: from the cpu quota or cpus, else 1 */
	/* run --image (runtime/image_run.c): the root is an overlay of store
	 * layers mounted inside the container's mount namespace, and the
	 * generated bundle goes with the container. */
	char *const *overlay_lower; /* absolute, top layer first; NULL: no overlay */
	const char *overlay_upper, *overlay_work; /* NULL: a tmpfs in the container */
	bool overlay_userxattr;     /* rootless: user.overlay.* xattrs */
	const char *generated_bundle;
	/* --net and -p (runtime/net_lifecycle.c); NULL: the org.berth.net and
	 * org.berth.publish annotations, else the config's namespaces as they are */
	const char *net;
	char **publish;
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

/* New resources (a LinuxResources JSON object; `what` names it in errors). */
int container_update(const char *root, const char *id, const char *resources_json,
		     const char *what, berr_t *e);
/* Print runc-style events JSON lines: stats every interval and OOM kills
 * until the container stops; or one stats record. */
int container_events(const char *root, const char *id, bool stats_once, int interval_ms,
		     berr_t *e);

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
