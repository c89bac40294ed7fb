/* runtime/vm_lifecycle.h: VM mode's branch of the lifecycle (see
 * vm_lifecycle.c); private to runtime/. */
#ifndef BERTH_VM_LIFECYCLE_H
#define BERTH_VM_LIFECYCLE_H

#include <stdbool.h>

#include "common/error.h"
#include "container.h"
#include "state.h"

/* --vm, or the bundle's config carries org.berth.vm=true. */
bool vm_requested(const struct create_opts *o);
int vm_container_create(const struct create_opts *o, berr_t *e);
int vm_container_run(const struct create_opts *o, int *status, berr_t *e);
/* For a VM container (st->vm_accel set): start, kill through the control port. */
int vm_container_start(struct state_dir *sd, const struct container_state *st, berr_t *e);
int vm_container_kill(struct state_dir *sd, const struct container_state *st, int signo,
		      bool all, berr_t *e);

#endif
