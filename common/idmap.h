/* common/idmap.h: user namespace id maps: writing them for a process (as
 * root, for the caller's own ids, or through newuidmap/newgidmap), the
 * caller's subordinate ranges of /etc/subuid and /etc/subgid, and running a
 * function as root inside a fresh user namespace with given maps (the image
 * store unpacks and removes rootless layers that way). */
#ifndef BERTH_IDMAP_H
#define BERTH_IDMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"

struct id_mapping {
	uint32_t container_id, host_id, size;
};

struct id_maps {
	struct id_mapping *uid, *gid;
	size_t n_uid, n_gid;
};
void id_maps_free(struct id_maps *m);

/* Is the caller in a user namespace other than the initial one (its
 * uid_map is not the identity of all 2^32-1 ids)? As root of one (rootless
 * podman runs its runtime so), berth is rootless all the same. */
bool idmap_in_userns(void);

/* The caller's own uid and gid as 0, nothing else (malloc'd maps). */
void idmap_self(struct id_maps *m);

/* Write /proc/PID/{setgroups,gid_map,uid_map}: directly as root or for a
 * map of only the caller's own id (setgroups denied first, as the kernel
 * requires), through newgidmap/newuidmap otherwise. An empty map is left
 * unwritten. */
int idmap_write(pid_t pid, const struct id_maps *m, berr_t *e);

/* The ranges /etc/subuid or /etc/subgid (FILE) gives USER (by name or by
 * NUMERIC id), appended to *m as container ids from *next on; *next moves
 * past them. Returns the number of ranges found (0: none). */
int idmap_subordinate(const char *file, const char *user, uint32_t numeric,
		      struct id_mapping **m, size_t *n, uint32_t *next, berr_t *e);

/* The maps of a rootless container made by berth (run --image): the caller
 * as 0, then every subordinate range of the caller from 1 on, as podman
 * does; only the caller as 0 when it has no range in either file or when
 * newuidmap/newgidmap are not installed. */
int idmap_rootless_default(struct id_maps *m, berr_t *e);

/* Does M map more than the caller's own uid and gid? */
bool idmap_has_subordinate(const struct id_maps *m);

/* Does the map hold container id ID? */
bool idmap_contains(const struct id_mapping *m, size_t n, uint32_t id);

/* The greatest container id + 1 of a map (the ids it covers from 0 when
 * contiguous). */
uint64_t idmap_span(const struct id_mapping *m, size_t n);

/* "0:1000:1,1:100000:65536" for uids, then ";" and the gids; malloc'd. */
char *idmap_format(const struct id_maps *m);

/* Fork a child that enters a new user namespace with maps M, becomes root
 * there and returns fn(arg, e); its error (number and message) comes back
 * to the caller. The caller must not hold locks other threads need (it
 * forks). */
int idmap_run_in_userns(const struct id_maps *m, int (*fn)(void *arg, berr_t *e), void *arg,
			berr_t *e);

/* rm_rf_at(AT_FDCWD, PATH), and where that is denied (files of
 * subordinate ids that the caller cannot remove), again as root of a user
 * namespace with maps M (when M maps more than the caller). */
int idmap_rm_rf(const char *path, const struct id_maps *m, berr_t *e);

#endif
