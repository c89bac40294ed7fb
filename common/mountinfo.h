/* common/mountinfo.h: /proc/self/mountinfo, parsed: where each filesystem is
 * mounted, with its type and super-block options (cgroup controllers). */
#ifndef BERTH_MOUNTINFO_H
#define BERTH_MOUNTINFO_H

#include <stddef.h>

#include "error.h"

struct mountinfo_entry {
	int id, parent;
	char *root;         /* path inside the filesystem */
	char *mount_point;  /* unescaped */
	char *mount_opts;   /* per-mount options */
	char *optional;     /* optional fields: "shared:1 master:2" */
	char *fstype;
	char *source;
	char *super_opts;   /* super-block options: "rw,cpu,cpuacct" */
};

struct mountinfo {
	struct mountinfo_entry *entries;
	size_t n;
};

/* Parse a mountinfo file (path NULL: /proc/self/mountinfo). */
int mountinfo_read(const char *path, struct mountinfo *mi, berr_t *e);
/* Parse mountinfo text (for tests). */
int mountinfo_parse(const char *text, struct mountinfo *mi, berr_t *e);
void mountinfo_free(struct mountinfo *mi);
/* The last (topmost) entry mounted exactly at `mount_point`, or NULL. */
const struct mountinfo_entry *mountinfo_find(const struct mountinfo *mi,
					     const char *mount_point);

#endif
