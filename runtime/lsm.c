/* runtime/lsm.c: AppArmor profiles and SELinux labels: the exec label the
 * workload gets at execve, and the context of the container's mounts.
 * Validation refuses them on hosts without that LSM (validate.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "setup.h"

static int write_attr(const char *const *paths, const char *value, const char *what, berr_t *e)
{
	for (size_t i = 0; paths[i]; i++) {
		int fd = open(paths[i], O_WRONLY | O_CLOEXEC);

		if (fd < 0 && errno == ENOENT)
			continue;
		if (fd < 0)
			return berr_sys(e, "%s: open \"%s\"", what, paths[i]);
		if (write_all(fd, value, strlen(value)) < 0) {
			berr_sys(e, "%s: set \"%s\"", what, value);
			close(fd);
			return -1;
		}
		close(fd);
		return 0;
	}
	return berr_set(e, ENOTSUP, "%s: the kernel offers no exec label interface", what);
}

int lsm_set_exec_labels(const struct spec_process *p, berr_t *e)
{
	/* The per-LSM file first (Linux 5.1+), then the shared legacy one. */
	static const char *const apparmor[] = {"/proc/thread-self/attr/apparmor/exec",
					       "/proc/thread-self/attr/exec", NULL};
	static const char *const selinux[] = {"/proc/thread-self/attr/exec", NULL};

	if (p->apparmor_profile && *p->apparmor_profile) {
		_cleanup_free_ char *v = xasprintf("exec %s", p->apparmor_profile);

		if (write_attr(apparmor, v, "process.apparmorProfile", e) < 0)
			return -1;
	}
	if (p->selinux_label && *p->selinux_label &&
	    write_attr(selinux, p->selinux_label, "process.selinuxLabel", e) < 0)
		return -1;
	return 0;
}

char *lsm_mount_data(const char *data, const char *mount_label)
{
	if (!mount_label || !*mount_label)
		return data ? xstrdup(data) : NULL;
	if (data && *data)
		return xasprintf("%s,context=\"%s\"", data, mount_label);
	return xasprintf("context=\"%s\"", mount_label);
}
