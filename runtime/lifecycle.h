/* runtime/lifecycle.h: the container being created, shared by create,
 * run's waiter and the clone protocol; private to runtime/. */
#ifndef BERTH_LIFECYCLE_H
#define BERTH_LIFECYCLE_H

#include <stdbool.h>
#include <sys/types.h>

#include "cgroups/cgroups.h"
#include "container.h"
#include "setup.h"
#include "spec.h"
#include "state.h"

struct container {
	struct spec *spec;
	char *config_text;          /* config.json as read at create */
	struct state_dir sd;
	struct container_state st;
	struct cgroup *cg;
	struct init_ctx init;
	pid_t pid;                  /* the init */
	int pidfd;
	int sync_fd;                /* berth's end of the socketpair */
	int pty_master;             /* terminal relayed by berth, or -1 */
	bool state_dir_made;
	bool spawned;               /* the init existed: a failed create runs poststop */
	struct net_setup *net;      /* net_lifecycle.c; NULL before net_plan */
};

/* A bundle's config, read, parsed and validated, and its rootfs resolved. */
struct bundle_config {
	char *text;    /* config.json as read */
	struct spec *spec;
	char *bundle;  /* absolute */
	char *rootfs;  /* absolute */
};
/* On failure what was read is left in *b for the caller to free. */
int bundle_load(const struct create_opts *o, struct bundle_config *b, berr_t *e);

/* spawn.c: clone the init and take it through the create protocol until it
 * reports created. On failure the init is killed and reaped. */
int spawn_container(struct container *c, berr_t *e);

/* lifecycle.c */
int container_create_internal(const struct create_opts *o, struct container *c, berr_t *e);
void container_free(struct container *c);
/* The OCI state of c with the given status (for hooks). */
char *container_state_for_hooks(const struct container *c, enum container_status status);
/* Connect to a created container's start socket and wait for execve. */
int start_connect(struct state_dir *sd, berr_t *e);
/* start_connect, and with NOTIFY_SOCKET, wait for READY=1 and forward it. */
int start_and_notify(struct state_dir *sd, const struct container_state *st, berr_t *e);
/* Stop what remains, run poststop hooks, remove cgroup and state. */
int container_destroy(struct state_dir *sd, const struct container_state *st,
		      const struct spec *spec, berr_t *e);
/* The config saved at create, for later hooks. */
int load_saved_spec(struct state_dir *sd, struct spec **out, berr_t *e);

#endif
