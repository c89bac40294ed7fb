/* vm/guest/workload.c: the workload's process inside the VM, set up with
 * berth's own runtime code (process.c, caps.c, seccomp.c) in init.c's order. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

#include "common/util.h"
#include "guest.h"
#include "runtime/sync.h"

/* mount(2) flags by option name; anything else is filesystem data. */
static const struct {
	const char *name;
	unsigned long set, clear;
} mount_flags[] = {
	{"ro", MS_RDONLY, 0},        {"rw", 0, MS_RDONLY},
	{"nosuid", MS_NOSUID, 0},    {"suid", 0, MS_NOSUID},
	{"nodev", MS_NODEV, 0},      {"dev", 0, MS_NODEV},
	{"noexec", MS_NOEXEC, 0},    {"exec", 0, MS_NOEXEC},
	{"sync", MS_SYNCHRONOUS, 0}, {"async", 0, MS_SYNCHRONOUS},
	{"dirsync", MS_DIRSYNC, 0},  {"mand", MS_MANDLOCK, 0},
	{"noatime", MS_NOATIME, 0},  {"atime", 0, MS_NOATIME},
	{"nodiratime", MS_NODIRATIME, 0}, {"diratime", 0, MS_NODIRATIME},
	{"relatime", MS_RELATIME, 0}, {"norelatime", 0, MS_RELATIME},
	{"strictatime", MS_STRICTATIME, 0},
	{"bind", MS_BIND, 0},        {"rbind", MS_BIND | MS_REC, 0},
	{"private", 0, 0},           {"rprivate", 0, 0},
	{"shared", 0, 0},            {"rshared", 0, 0},
	{"slave", 0, 0},             {"rslave", 0, 0},
	{"unbindable", 0, 0},        {"runbindable", 0, 0},
};

/* Default device nodes for a tmpfs /dev, as in container mode. */
static const struct {
	const char *name;
	unsigned major, minor;
} default_devices[] = {
	{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7},
	{"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
};

static const struct {
	const char *target, *name;
} default_links[] = {
	{"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"},
	{"/proc/self/fd/1", "stdout"}, {"/proc/self/fd/2", "stderr"},
	{"pts/ptmx", "ptmx"}, {"/proc/kcore", "core"},
};

static void parse_options(char *const *options, unsigned long *flags, char **data)
{
	size_t len = 0;

	*flags = 0;
	*data = xzalloc(1);
	for (size_t i = 0; options && options[i]; i++) {
		size_t k;

		for (k = 0; k < ARRAY_SIZE(mount_flags); k++)
			if (strcmp(options[i], mount_flags[k].name) == 0)
				break;
		if (k < ARRAY_SIZE(mount_flags)) {
			*flags = (*flags & ~mount_flags[k].clear) | mount_flags[k].set;
			continue;
		}
		/* tmpcopyup and idmap are runtime-only options; drop them. */
		if (!strcmp(options[i], "tmpcopyup") || !strncmp(options[i], "idmap", 5) ||
		    !strncmp(options[i], "ridmap", 6))
			continue;
		*data = xrealloc(*data, len + strlen(options[i]) + 2);
		len += sprintf(*data + len, "%s%s", len ? "," : "", options[i]);
	}
}

static int ensure_dir(const char *path, berr_t *e)
{
	struct stat st;

	if (stat(path, &st) == 0)
		return 0;
	if (mkdir_p(path, 0755, e) < 0)
		return berr_wrap(e, "create mount point (the root is read-only without an overlay)");
	return 0;
}

static int create_default_devices(const char *dev, bool nodes, berr_t *e)
{
	for (size_t i = 0; nodes && i < ARRAY_SIZE(default_devices); i++) {
		_cleanup_free_ char *path = xasprintf("%s/%s", dev, default_devices[i].name);

		if (mknod(path, S_IFCHR | 0666, makedev(default_devices[i].major,
							default_devices[i].minor)) < 0 &&
		    errno != EEXIST)
			return berr_sys(e, "mknod \"%s\"", path);
		/* The umask trimmed the mode. */
		if (chmod(path, 0666) < 0)
			return berr_sys(e, "chmod \"%s\"", path);
	}
	for (size_t i = 0; i < ARRAY_SIZE(default_links); i++) {
		_cleanup_free_ char *path = xasprintf("%s/%s", dev, default_links[i].name);

		if (symlink(default_links[i].target, path) < 0 && errno != EEXIST)
			return berr_sys(e, "symlink \"%s\"", path);
	}
	return 0;
}

static bool shared(const struct workload *w, size_t i)
{
	for (size_t k = 0; k < w->n_binds; k++)
		if (w->binds[k] == i)
			return true;
	return false;
}

/* A bind mount of a host directory: its 9p share, in its place. */
static int mount_share(size_t i, const char *dest, unsigned long flags, berr_t *e)
{
	char tag[32];

	snprintf(tag, sizeof tag, VM_9P_BIND_TAG "%zu", i);
	if (ensure_dir(dest, e) < 0)
		return berr_wrap(e, "mounts[%zu] \"%s\"", i, dest);
	if (mount(tag, dest, "9p", flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC),
		  "trans=virtio,version=9p2000.L,msize=524288,cache=mmap") < 0)
		return berr_sys(e, "mounts[%zu]: mount the shared directory on \"%s\"", i, dest);
	return 0;
}

/* One entry of config.json's mounts. Bind mounts of host directories come
 * over 9p; the host warned about the others (files), which are skipped;
 * kernel filesystems are mounted. */
static int apply_mount(const struct workload *w, const struct spec_mount *m, size_t i,
		       berr_t *e)
{
	_cleanup_free_ char *data = NULL;
	const char *type = m->type;
	unsigned long flags;

	parse_options(m->options, &flags, &data);
	if (shared(w, i))
		return mount_share(i, m->destination, flags, e);
	if (flags & MS_BIND) {
		guest_log("mounts[%zu]: bind mount of host path \"%s\" on \"%s\" skipped in a VM",
			  i, m->source ? m->source : "", m->destination);
		return 0;
	}
	if (!type)
		return berr_set(e, EINVAL, "mounts[%zu]: no type for \"%s\"", i, m->destination);
	/* cgroup v1 is not mounted in the guest: its cgroup2 stands in. */
	if (!strcmp(type, "cgroup")) {
		type = "cgroup2";
		free(data);
		data = xstrdup("");
	}
	if (ensure_dir(m->destination, e) < 0)
		return berr_wrap(e, "mounts[%zu] \"%s\"", i, m->destination);
	if (mount(m->source ? m->source : type, m->destination, type, flags,
		  *data ? data : NULL) < 0)
		return berr_sys(e, "mount \"%s\" on \"%s\"", type, m->destination);
	/* A devtmpfs has the nodes but not the links (udev's job elsewhere). */
	if (!strcmp(m->destination, "/dev") && (!strcmp(type, "tmpfs") || !strcmp(type, "devtmpfs")) &&
	    create_default_devices("/dev", !strcmp(type, "tmpfs"), e) < 0)
		return -1;
	return 0;
}

static int mask_paths(const struct spec_linux *lx, berr_t *e)
{
	for (size_t i = 0; lx && lx->masked_paths && lx->masked_paths[i]; i++) {
		const char *p = lx->masked_paths[i];
		struct stat st;

		if (stat(p, &st) < 0)
			continue; /* nothing to mask */
		if (S_ISDIR(st.st_mode)) {
			if (mount("tmpfs", p, "tmpfs", MS_RDONLY, "size=0") < 0)
				return berr_sys(e, "mask \"%s\"", p);
		} else if (mount("/dev/null", p, NULL, MS_BIND, NULL) < 0) {
			return berr_sys(e, "mask \"%s\"", p);
		}
	}
	for (size_t i = 0; lx && lx->readonly_paths && lx->readonly_paths[i]; i++) {
		const char *p = lx->readonly_paths[i];

		if (mount(p, p, NULL, MS_BIND | MS_REC, NULL) < 0) {
			if (errno == ENOENT)
				continue;
			return berr_sys(e, "bind \"%s\" read-only", p);
		}
		if (mount(NULL, p, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)
			return berr_sys(e, "remount \"%s\" read-only", p);
	}
	return 0;
}

static int apply_mounts(const struct workload *w, berr_t *e)
{
	const struct spec *s = w->spec;

	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return berr_sys(e, "make the root mount private");
	for (size_t i = 0; i < s->n_mounts; i++)
		if (apply_mount(w, &s->mounts[i], i, e) < 0)
			return -1;
	if (mask_paths(s->linux, e) < 0)
		return -1;
	/* root.readonly over the writable overlay: as in container mode, the
	 * root is made read-only after the mounts are in place. */
	if (w->readonly_root && mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0 &&
	    errno != EINVAL)
		return berr_sys(e, "remount the root read-only");
	return 0;
}

static int setup_stdio(const struct workload *w, berr_t *e)
{
	if (w->terminal) {
		struct winsize ws = {.ws_row = w->rows, .ws_col = w->cols};

		if (setsid() < 0)
			return berr_sys(e, "setsid");
		if (ioctl(w->tty_fd, TIOCSCTTY, 0) < 0)
			return berr_sys(e, "make %s the controlling terminal", "hvc0");
		if (w->rows && w->cols && ioctl(w->tty_fd, TIOCSWINSZ, &ws) < 0)
			return berr_sys(e, "set the terminal size");
		for (int fd = 0; fd < 3; fd++)
			if (dup2(w->tty_fd, fd) < 0)
				return berr_sys(e, "dup2 the terminal to fd %d", fd);
		return 0;
	}
	for (int fd = 0; fd < 3; fd++)
		if (dup2(w->stdio[fd], fd) < 0)
			return berr_sys(e, "dup2 to fd %d", fd);
	return 0;
}

/* As runtime/terminal.c gives a container its console: the terminal is
 * /dev/console, so that ttyname() finds it inside the workload's /dev. */
static int terminal_console(const struct workload *w, berr_t *e)
{
	struct stat st;
	int fd;

	if (!w->terminal)
		return 0;
	if (fstat(w->tty_fd, &st) < 0)
		return berr_sys(e, "stat the terminal");
	/* hvc0's node lives in the initramfs' devtmpfs, out of reach now. */
	unlink("/dev/console");
	if (mknod("/dev/console", S_IFCHR | 0620, st.st_rdev) < 0) {
		guest_log("no /dev/console for the terminal: %s", strerror(errno));
		return 0;
	}
	fd = open("/dev/console", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return berr_sys(e, "open /dev/console");
	for (int i = 0; i < 3; i++)
		if (dup2(fd, i) < 0)
			return berr_sys(e, "dup2 the terminal to fd %d", i);
	close(fd);
	return 0;
}

static void exit_on_signal(int sig)
{
	_exit(128 + sig);
}

/* Like the container's init waiting for start: termination signals end it. */
static int wait_for_go(const struct workload *w, berr_t *e)
{
	static const int term_signals[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
	struct sigaction sa = {.sa_handler = exit_on_signal};

	for (size_t i = 0; i < ARRAY_SIZE(term_signals); i++)
		sigaction(term_signals[i], &sa, NULL);
	if (sync_send(w->sync_fd, SYNC_CREATED, 0, NULL, 0, -1, e) < 0 ||
	    sync_expect(w->sync_fd, SYNC_GO, NULL, NULL, e) < 0)
		return -1;
	sa.sa_handler = SIG_DFL;
	for (size_t i = 0; i < ARRAY_SIZE(term_signals); i++)
		sigaction(term_signals[i], &sa, NULL);
	return 0;
}

/* The order of runtime/init.c's container_setup(), less what a VM does
 * not have (namespaces to join, pivot_root, hooks). */
static int workload_setup(const struct workload *w, berr_t *e)
{
	const struct spec *s = w->spec;
	const struct spec_process *p = s->process;
	_cleanup_free_ char *exe = NULL;

	if (setup_stdio(w, e) < 0 || apply_mounts(w, e) < 0 || terminal_console(w, e) < 0)
		return -1;
	if (process_set_hostname(s, e) < 0 || process_set_sysctls(s, e) < 0)
		return -1;
	if (process_set_rlimits(p, e) < 0 ||
	    process_set_oom_score_adj(p, false, e) < 0 ||
	    process_set_personality(s, e) < 0 ||
	    process_set_scheduling(p, e) < 0 ||
	    process_find_executable(p, &exe, e) < 0)
		return -1;
	if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return berr_sys(e, "set no_new_privs");
	if (!p->no_new_privileges && seccomp_plan_load(w->seccomp, NULL, e) < 0)
		return -1;
	if (caps_drop_bounding(w->caps, e) < 0 ||
	    process_switch_user(p, false, e) < 0 ||
	    caps_apply(w->caps, e) < 0 ||
	    process_chdir(p, e) < 0)
		return -1;
	if (wait_for_go(w, e) < 0)
		return -1;
	if (p->no_new_privileges && seccomp_plan_load(w->seccomp, NULL, e) < 0)
		return -1;
	if (process_close_fds(0, e) < 0)
		return -1;
	return process_exec(p, exe, e);
}

static __attribute__((noreturn)) void workload_main(struct workload *w)
{
	berr_t e = BERR_INIT;
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	workload_setup(w, &e);
	sync_send_error(w->sync_fd, &e);
	_exit(e.errnum == ENOENT ? 127 : e.errnum == EACCES ? 126 : 1);
}

int workload_spawn(struct workload *w, pid_t *pid, berr_t *e)
{
	unsigned long flags = CLONE_NEWNS | SIGCHLD;
	pid_t child;

	if (spec_find_ns(w->spec, NS_PID))
		flags |= CLONE_NEWPID;
	/* A plain fork with namespace flags: the child runs on a copy of
	 * this stack, as runtime/init.c's fork_pid_init does. */
	child = syscall(SYS_clone, flags, 0, NULL, NULL, 0);
	if (child < 0)
		return berr_sys(e, "clone the workload");
	if (child == 0)
		workload_main(w);
	*pid = child;
	return 0;
}
