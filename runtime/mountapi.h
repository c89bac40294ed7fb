/* runtime/mountapi.h: mount_setattr(2) on an fd, which changes only the
 * attributes asked for (no locked-flag surprises of MS_REMOUNT in a userns). */
#ifndef BERTH_MOUNTAPI_H
#define BERTH_MOUNTAPI_H

#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mount.h>

static inline int mount_set_attr(int fd, bool recursive, uint64_t set, uint64_t clr)
{
	struct mount_attr attr = {.attr_set = set, .attr_clr = clr};

	return mount_setattr(fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0),
			     &attr, sizeof attr);
}

static inline int mount_set_propagation(int fd, bool recursive, uint64_t propagation)
{
	struct mount_attr attr = {.propagation = propagation};

	return mount_setattr(fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0),
			     &attr, sizeof attr);
}

#endif
