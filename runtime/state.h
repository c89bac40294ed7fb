/* runtime/state.h: the per-container state directory under --root: its lock,
 * state.json (OCI state plus what berth needs later), and status detection. */
#ifndef BERTH_STATE_H
#define BERTH_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"

enum container_status {
	STATUS_CREATING,
	STATUS_CREATED,
	STATUS_RUNNING,
	STATUS_STOPPED,
	STATUS_PAUSED,
};

struct container_state {
	char *id;
	char *oci_version;  /* of the config the container was created from */
	char *bundle;       /* absolute */
	char *rootfs;       /* absolute */
	char *created;      /* RFC 3339 */
	char *owner;        /* user name of the creator */
	enum container_status saved_status; /* creating or created, as written */
	pid_t pid;          /* the container's init, in berth's pid namespace */
	uint64_t start_time; /* field 22 of /proc/PID/stat, guards against pid reuse */
	pid_t creator_pid;  /* the berth that is creating it (while creating) */
	char *cgroup_path;  /* cgroup_path() of the container's cgroup, may be NULL */
	bool systemd_cgroup;
	bool own_pid_ns;    /* false: processes may outlive init (kill --all needed) */
	bool use_terminal;
	char *vm_accel;     /* VM mode: "kvm" or "tcg"; NULL for a container */
	char *notify_socket; /* the caller's NOTIFY_SOCKET, proxied by start */
	char *generated_bundle; /* run --image: removed with the container */
	char **annotation_keys, **annotation_values;
	/* runtime/net_lifecycle.c: what delete must undo */
	char *net;          /* "bridge:NAME", "pasta", "slirp4netns"; NULL: nothing */
	pid_t net_helper_pid; /* pasta or slirp4netns, ended by pid at delete */
	uint64_t net_helper_start; /* its start time, against a reused pid */
};

/* The state directory root: --root, or /run/berth (root) or
 * $XDG_RUNTIME_DIR/berth (rootless). malloc'd. */
char *state_default_root(void);
/* Container ids: letters, digits, and _ + - . ; not "." or "..". */
int state_validate_id(const char *id, berr_t *e);

/* An open state directory, locked or not. */
struct state_dir {
	char *root;
	char *id;
	char *path;
	int dirfd;
	bool locked;
};

/* Whether ROOT/ID is a container (a valid id whose directory exists). */
bool state_exists(const char *root, const char *id);
/* Create ROOT/ID exclusively ("container with id ... already exists"), locked. */
int state_dir_create(const char *root, const char *id, struct state_dir *sd, berr_t *e);
/* Open an existing container's directory; lock it when asked ("container
 * ... does not exist" when missing or deleted while we waited). */
int state_dir_open(const char *root, const char *id, bool lock, struct state_dir *sd,
		   berr_t *e);
void state_dir_close(struct state_dir *sd);
/* A foreground run holds the directory open for the container's whole life
 * but must not block kill, pause or delete meanwhile: it unlocks after
 * create and locks again before it deletes (ENOENT: already deleted). */
void state_dir_unlock(struct state_dir *sd);
int state_dir_relock(struct state_dir *sd, berr_t *e);
/* Remove the directory and everything in it (never crossing a mount). */
int state_dir_remove(struct state_dir *sd, berr_t *e);

int state_write(struct state_dir *sd, const struct container_state *st, berr_t *e);
int state_read(struct state_dir *sd, struct container_state *st, berr_t *e);
void state_free(struct container_state *st);
/* A new container's state, "creating": id, ociVersion, created (now),
 * owner, creatorPid, terminal and annotations from the config. */
struct spec;
void state_begin(struct container_state *st, const char *id, const struct spec *s);

/* The live status: stopped when the init is gone (or is a zombie, or its pid
 * was reused), paused when its cgroup is frozen, created while the start
 * socket exists, running otherwise. */
enum container_status state_status(struct state_dir *sd, const struct container_state *st);
const char *state_status_name(enum container_status s);

/* Field 22 (starttime) of /proc/PID/stat, and whether the task is a zombie. */
int proc_start_time(pid_t pid, uint64_t *start_time, bool *zombie);

/* The OCI state document (runtime.md "State") for hooks and `berth state`. */
char *state_oci_json(const struct container_state *st, enum container_status status,
		     bool pretty);

/* Files inside the state directory. */
#define STATE_FILE "state.json"
#define STATE_CONFIG_FILE "config.json" /* the config as it was at create */
#define STATE_START_SOCKET "start.sock"

#endif
