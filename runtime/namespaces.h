/* runtime/namespaces.h: creating and joining namespaces, and writing the user
 * namespace's id maps; shared by create (clone) and exec (setns). */
#ifndef BERTH_NAMESPACES_H
#define BERTH_NAMESPACES_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"
#include "spec.h"

/* CLONE_NEW* flag and /proc/PID/ns/ name of a spec namespace type. */
int ns_clone_flag(enum spec_ns_type t);
const char *ns_proc_name(enum spec_ns_type t);

/* The namespace plan of a container, made in berth before the clone. */
struct ns_plan {
	int fds[NS_TYPE_COUNT]; /* opened `path` of joined namespaces, else -1 */
	bool create[NS_TYPE_COUNT]; /* a new namespace is asked for */
	/* Flags the clone itself creates. When a namespace must be joined
	 * (other than pid), the init joins first and unshares afterwards, so
	 * that new namespaces are owned by the right user namespace. */
	unsigned long clone_flags;
	bool unshare_in_init;   /* the slow path: setns + unshare in the init */
	bool fork_for_pid;      /* the slow path with a new pid namespace */
};

/* Open every `path` (checking it is a namespace of the right type) and work
 * out how the init will enter each namespace. */
int ns_plan_make(const struct spec *s, struct ns_plan *plan, berr_t *e);
void ns_plan_close(struct ns_plan *plan);

/* In the init: join the path namespaces (user first) and unshare the new
 * ones the clone did not create, except cgroup and time (see init.c). */
int ns_join_and_unshare(const struct ns_plan *plan, int sync_fd, berr_t *e);

/* In berth: write uid_map/gid_map (and setgroups) of pid's user namespace.
 * Root writes directly; an unprivileged user may map only itself, or goes
 * through newuidmap/newgidmap for more. */
int ns_write_id_maps(pid_t pid, const struct spec_linux *lx, berr_t *e);

/* Keep what joins a container out of reach of ptrace and /proc/PID. */
void make_undumpable(void);
/* Join one namespace by fd; errors name the namespace type. */
int ns_join(int fd, enum spec_ns_type t, berr_t *e);

#endif
