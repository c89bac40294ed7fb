/* runtime/devices.c: the default devices, the /dev symlinks and
 * linux.devices: mknod where allowed, a bind of the host's node otherwise. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/log.h"
#include "common/path.h"
#include "common/util.h"
#include "setup.h"

/* What every container gets (the runtime-spec's "Default Devices"). */
static const struct spec_device default_devices[] = {
	{'c', "/dev/null", 1, 3, {0666, true}, {0, false}, {0, false}},
	{'c', "/dev/zero", 1, 5, {0666, true}, {0, false}, {0, false}},
	{'c', "/dev/full", 1, 7, {0666, true}, {0, false}, {0, false}},
	{'c', "/dev/random", 1, 8, {0666, true}, {0, false}, {0, false}},
	{'c', "/dev/urandom", 1, 9, {0666, true}, {0, false}, {0, false}},
	{'c', "/dev/tty", 5, 0, {0666, true}, {0, false}, {0, false}},
};

static const struct {
	const char *target, *link;
} dev_symlinks[] = {
	{"/proc/self/fd", "/dev/fd"},
	{"/proc/self/fd/0", "/dev/stdin"},
	{"/proc/self/fd/1", "/dev/stdout"},
	{"/proc/self/fd/2", "/dev/stderr"},
	{"/proc/kcore", "/dev/core"},
};

/* Split "/dev/x/y" into an O_PATH fd of /dev/x (created) and "y". */
static int open_parent(int rootfd, const char *path, const char **name, berr_t *e)
{
	const char *slash = strrchr(path, '/');
	_cleanup_free_ char *dir = NULL;

	if (!slash || !slash[1])
		return berr_set(e, EINVAL, "invalid device path \"%s\"", path);
	dir = slash == path ? xstrdup("/") : xstrndup(path, slash - path);
	*name = slash + 1;
	return root_mkdir_p(rootfd, dir, 0755, e);
}

static mode_t device_type_mode(char type)
{
	switch (type) {
	case 'b':
		return S_IFBLK;
	case 'p':
		return S_IFIFO;
	default: /* 'c' and 'u' (unbuffered) */
		return S_IFCHR;
	}
}

/* Where mknod is denied (a user namespace), bind the host's node. */
static int bind_host_device(int parent, const char *name, const char *path, berr_t *e)
{
	_cleanup_close_ int target = -1;
	char buf[FD_PATH_LEN];

	if (mknodat(parent, name, S_IFREG | 0644, 0) < 0 && errno != EEXIST)
		return berr_sys(e, "create \"%s\"", path);
	target = openat(parent, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (target < 0)
		return berr_sys(e, "open \"%s\"", path);
	if (mount(path, fd_path(target, buf), NULL, MS_BIND, NULL) < 0)
		return berr_sys(e, "bind mount device \"%s\"", path);
	return 0;
}

static int create_device(int rootfd, const struct spec_device *d, bool bind, berr_t *e)
{
	const char *name;
	_cleanup_close_ int parent = open_parent(rootfd, d->path, &name, e);
	mode_t mode = d->file_mode.set ? (mode_t)d->file_mode.v : 0666;

	if (parent < 0)
		return -1;
	if (bind && d->type != 'p')
		return bind_host_device(parent, name, d->path, e);
	/* A node already there (from the image, or a previous entry) is
	 * replaced so that the config's numbers and mode are what you get. */
	if (unlinkat(parent, name, 0) < 0 && errno != ENOENT && errno != EISDIR)
		return berr_sys(e, "remove \"%s\"", d->path);
	if (mknodat(parent, name, device_type_mode(d->type) | (mode & 07777),
		    makedev(d->major, d->minor)) < 0) {
		if (errno == EPERM && d->type != 'p')
			return bind_host_device(parent, name, d->path, e);
		return berr_sys(e, "mknod \"%s\"", d->path);
	}
	if (fchmodat(parent, name, mode & 07777, 0) < 0)
		return berr_sys(e, "chmod \"%s\"", d->path);
	if ((d->uid.set || d->gid.set) &&
	    fchownat(parent, name, d->uid.set ? (uid_t)d->uid.v : (uid_t)-1,
		     d->gid.set ? (gid_t)d->gid.v : (gid_t)-1, AT_SYMLINK_NOFOLLOW) < 0)
		return berr_sys(e, "chown \"%s\"", d->path);
	return 0;
}

static int create_symlinks(int rootfd, berr_t *e)
{
	for (size_t i = 0; i < ARRAY_SIZE(dev_symlinks); i++) {
		const char *name;
		_cleanup_close_ int parent = -1;

		if (strcmp(dev_symlinks[i].link, "/dev/core") == 0 && access("/proc/kcore", F_OK) < 0)
			continue;
		parent = open_parent(rootfd, dev_symlinks[i].link, &name, e);
		if (parent < 0)
			return -1;
		if (symlinkat(dev_symlinks[i].target, parent, name) < 0 && errno != EEXIST)
			return berr_sys(e, "symlink \"%s\"", dev_symlinks[i].link);
	}
	return 0;
}

/* /dev/ptmx must be the container's devpts instance, not the host's. */
static int setup_ptmx(int rootfd, berr_t *e)
{
	const char *name;
	_cleanup_close_ int parent = open_parent(rootfd, "/dev/ptmx", &name, e);
	_cleanup_close_ int pts = -1;

	if (parent < 0)
		return -1;
	pts = root_open(rootfd, "/dev/pts/ptmx", O_PATH, 0, e);
	if (pts < 0) {
		/* No devpts mounted: leave /dev/ptmx alone. */
		berr_free(e);
		return 0;
	}
	if (unlinkat(parent, name, 0) < 0 && errno != ENOENT)
		return berr_sys(e, "remove /dev/ptmx");
	if (symlinkat("pts/ptmx", parent, name) < 0)
		return berr_sys(e, "symlink /dev/ptmx");
	return 0;
}

/* A /dev bound from the host brings its own nodes: leave it alone. */
static bool dev_is_bind_mounted(const struct spec *s)
{
	for (size_t i = 0; i < s->n_mounts; i++) {
		const struct spec_mount *m = &s->mounts[i];
		_cleanup_free_ char *dest = path_clean(m->destination);

		if (strcmp(dest, "/dev") == 0)
			return (m->type && strcmp(m->type, "bind") == 0) ||
			       strv_contains(m->options, "bind") || strv_contains(m->options, "rbind");
	}
	return false;
}

int devices_create(const struct init_ctx *ctx, int rootfd, berr_t *e)
{
	const struct spec *s = ctx->spec;
	bool in_userns = ctx->ns.create[NS_USER] || ctx->ns.fds[NS_USER] >= 0;
	bool bind = in_userns || ctx->rootless;

	if (!dev_is_bind_mounted(s)) {
		for (size_t i = 0; i < ARRAY_SIZE(default_devices); i++)
			if (create_device(rootfd, &default_devices[i], bind, e) < 0)
				return berr_wrap(e, "default device");
		if (create_symlinks(rootfd, e) < 0 || setup_ptmx(rootfd, e) < 0)
			return -1;
	}
	for (size_t i = 0; s->linux && i < s->linux->n_devices; i++)
		if (create_device(rootfd, &s->linux->devices[i], bind, e) < 0)
			return berr_wrap(e, "linux.devices[%zu]", i);
	return 0;
}

/* Allowed by every container with a device cgroup (runc's defaults). */
static const struct cg_device_rule default_rules[] = {
	{true, 'c', -1, -1, "m"},  {true, 'b', -1, -1, "m"},
	{true, 'c', 1, 3, "rwm"},  {true, 'c', 1, 5, "rwm"},  {true, 'c', 1, 7, "rwm"},
	{true, 'c', 1, 8, "rwm"},  {true, 'c', 1, 9, "rwm"},  {true, 'c', 5, 0, "rwm"},
	{true, 'c', 5, 1, "rwm"},  {true, 'c', 5, 2, "rwm"},  {true, 'c', 136, -1, "rwm"},
};

static bool is_deny_all(const struct cg_device_rule *r)
{
	return !r->allow && r->type == 'a' && r->major < 0 && r->minor < 0;
}

/* The defaults go right after the config's last deny-all rule (or at the
 * end when there is none): a config that starts with "deny everything"
 * still gets the devices every container needs, and rules after that
 * deny-all can refine them, e.g. deny reading /dev/zero. */
void devices_cgroup_complete(struct spec *s)
{
	struct cgroup_resources *r = s->linux ? s->linux->resources : NULL;
	struct cg_device_rule *rules;
	size_t n = 0, at;

	if (!r || !r->n_devices)
		return;
	at = r->n_devices;
	while (at > 0 && !is_deny_all(&r->devices[at - 1]))
		at--;
	if (at == 0)
		at = r->n_devices;
	rules = xcalloc(r->n_devices + ARRAY_SIZE(default_rules) + s->linux->n_devices,
			sizeof *rules);
	for (size_t i = 0; i < at; i++)
		rules[n++] = r->devices[i];
	for (size_t i = 0; i < ARRAY_SIZE(default_rules); i++)
		rules[n++] = default_rules[i];
	for (size_t i = 0; i < s->linux->n_devices; i++) {
		const struct spec_device *d = &s->linux->devices[i];

		if (d->type == 'p')
			continue;
		rules[n++] = (struct cg_device_rule){
			.allow = true, .type = d->type == 'b' ? 'b' : 'c',
			.major = d->major, .minor = d->minor, .access = "rwm",
		};
	}
	for (size_t i = at; i < r->n_devices; i++)
		rules[n++] = r->devices[i];
	free(r->devices);
	r->devices = rules;
	r->n_devices = n;
}
