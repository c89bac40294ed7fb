/* runtime/vm_lifecycle.c: VM mode's side of create, start, run and kill: the
 * same state directory and state.json as a container, with qemu's pid and
 * the accelerator recorded, and the workload reached through vm/vm.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/path.h"
#include "common/util.h"
#include "lifecycle.h"
#include "process_tables.h"
#include "sync.h"
#include "validate.h"
#include "vm/protocol.h"
#include "vm/vm.h"
#include "vm_lifecycle.h"
#include "waiter.h"

/* A guest kernel needs ~46 MiB of its own. */
#define VM_MIN_MEMORY (64ull << 20)
#define VM_MAX_CPUS 64

struct vm_container {
	struct spec *spec;
	char *config_text;
	struct state_dir sd;
	struct container_state st;
	struct vm_instance vm;
	bool state_dir_made;
	struct vm_share *shares;
	size_t n_shares;
};

bool vm_requested(const struct create_opts *o)
{
	_cleanup_free_ char *path = NULL, *text = NULL;
	_cleanup_spec_ struct spec *s = NULL;
	berr_t ignored = BERR_INIT;
	const char *v;

	if (o->vm)
		return true;
	/* A config that does not parse is the container path's error to report.
	 * One that never names the annotation needs no parse: the container
	 * path parses it anyway, and this runs before every create. */
	path = xasprintf("%s/config.json", o->bundle ? o->bundle : ".");
	if (read_file(path, &text, NULL, &ignored) < 0 || !strstr(text, VM_ANNOTATION) ||
	    spec_parse(text, "config.json", &s, &ignored) < 0) {
		berr_free(&ignored);
		return false;
	}
	v = spec_annotation(s, VM_ANNOTATION);
	return v && !strcmp(v, "true");
}

static int load_config(const struct create_opts *o, struct vm_container *c, berr_t *e)
{
	struct bundle_config b = {0};
	struct caps_plan *caps = NULL;
	struct seccomp_plan *seccomp = NULL;
	int ret = bundle_load(o, &b, e);

	c->config_text = b.text;
	c->spec = b.spec;
	c->st.bundle = b.bundle;
	c->st.rootfs = b.rootfs;
	if (ret < 0)
		return -1;
	/* The guest init makes these plans again; failing here keeps a bad
	 * config from costing a boot. */
	if (caps_plan_make(c->spec->process, &caps, e) < 0 ||
	    seccomp_plan_make(c->spec, NULL, &seccomp, e) < 0)
		return -1;
	caps_plan_free(caps);
	seccomp_plan_free(seccomp);
	return 0;
}

/* linux.resources.memory.limit is what the guest's MemTotal shows; else
 * --vm-memory is the guest's RAM. */
static int guest_memory(const struct create_opts *o, const struct spec *s, uint64_t *out,
			berr_t *e)
{
	const struct cgroup_resources *r = s->linux ? s->linux->resources : NULL;

	*out = VM_DEFAULT_MEMORY;
	if (r && r->memory.limit.set && r->memory.limit.v > 0)
		*out = r->memory.limit.v + VM_KERNEL_RESERVE;
	else if (o->vm_memory && !vm_parse_size(o->vm_memory, out))
		return berr_set(e, EINVAL, "--vm-memory: expected a size like 256M or 1G, got \"%s\"",
				o->vm_memory);
	*out = (*out + (1 << 20) - 1) & ~((1ull << 20) - 1);
	if (*out < VM_MIN_MEMORY)
		return berr_set(e, EINVAL, "VM memory of %llu MiB is below the %llu MiB a guest kernel needs",
				(unsigned long long)(*out >> 20), VM_MIN_MEMORY >> 20);
	return 0;
}

/* The cpu quota rounded up, else the size of cpus, else --vm-cpus. */
static int guest_cpus(const struct create_opts *o, const struct spec *s, unsigned *out,
		      berr_t *e)
{
	const struct cgroup_resources *r = s->linux ? s->linux->resources : NULL;
	uint64_t period = r && r->cpu.period.set && r->cpu.period.v ? r->cpu.period.v : 100000;
	cpu_set_t set;

	*out = VM_DEFAULT_CPUS;
	if (r && r->cpu.quota.set && r->cpu.quota.v > 0)
		*out = ((uint64_t)r->cpu.quota.v + period - 1) / period;
	else if (r && r->cpu.cpus && *r->cpu.cpus && cpu_list_parse(r->cpu.cpus, &set) == 0)
		*out = CPU_COUNT(&set);
	else if (o->vm_cpus < 0)
		return berr_set(e, EINVAL, "--vm-cpus: expected a positive number, got %d", o->vm_cpus);
	else if (o->vm_cpus > 0)
		*out = o->vm_cpus;
	if (*out > VM_MAX_CPUS)
		*out = VM_MAX_CPUS;
	return 0;
}

/* The guest mounts on a read-only image only where the image has the
 * directory; otherwise it needs a tmpfs overlay to create it. */
static bool mount_points_missing(const struct spec *s, const char *rootfs)
{
	_cleanup_close_ int rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);

	for (size_t i = 0; i < s->n_mounts && rootfd >= 0; i++) {
		const char *dest = s->mounts[i].destination;
		bool inside_earlier = false;
		berr_t ignored = BERR_INIT;
		int fd;

		for (size_t k = 0; k < i && !inside_earlier; k++) {
			size_t n = strlen(s->mounts[k].destination);

			inside_earlier = !strncmp(dest, s->mounts[k].destination, n) && dest[n] == '/';
		}
		if (inside_earlier)
			continue;
		fd = root_open(rootfd, dest, O_PATH | O_CLOEXEC, 0, &ignored);
		berr_free(&ignored);
		if (fd < 0)
			return true;
		close(fd);
	}
	return false;
}

/* qemu's pid in the state while it boots ("creating"): a berth killed now
 * leaves it to `delete`, which kills a half-created container's process. */
static int record_qemu(pid_t qemu, void *arg, berr_t *e)
{
	struct vm_container *c = arg;
	uint64_t start_time;

	if (proc_start_time(qemu, &start_time, NULL) < 0)
		return berr_sys(e, "read start time of qemu (pid %d)", (int)qemu);
	c->st.pid = qemu;
	c->st.start_time = start_time;
	return state_write(&c->sd, &c->st, e);
}

/* One bind mount: a directory is shared with the guest over 9p; anything
 * else cannot be (9p shares directories) and is skipped, said aloud. */
static int add_share(struct vm_container *c, size_t i, const struct spec_mount *m, berr_t *e)
{
	_cleanup_free_ char *src = NULL;
	struct mount_opts mo;
	struct stat st;
	bool readonly, bind;

	if (mount_opts_parse(m->options, &mo, e) < 0)
		return berr_wrap(e, "mounts[%zu]", i);
	readonly = mo.flags & MS_RDONLY;
	bind = mo.bind || (m->type && !strcmp(m->type, "bind"));
	mount_opts_free(&mo);
	if (!bind)
		return 0;
	src = m->source && m->source[0] == '/' ? xstrdup(m->source)
					       : xasprintf("%s/%s", c->st.bundle, m->source ? m->source : "");
	if (stat(src, &st) < 0)
		return berr_sys(e, "mounts[%zu]: bind source \"%s\"", i, src);
	if (!S_ISDIR(st.st_mode)) {
		log_warn("mounts[%zu]: \"%s\" is not a directory, and a VM can only share directories: not mounted on \"%s\"",
			 i, src, m->destination);
		return 0;
	}
	if (c->n_shares == VM_MAX_SHARES)
		return berr_set(e, E2BIG, "mounts[%zu]: a VM takes at most %d bind mounts of directories",
				i, VM_MAX_SHARES);
	c->shares = xreallocarray(c->shares, c->n_shares + 1, sizeof *c->shares);
	c->shares[c->n_shares++] = (struct vm_share){i, steal_ptr(src), readonly};
	return 0;
}

static int make_vm_config(const struct create_opts *o, struct vm_container *c,
			  struct vm_config *cfg, berr_t *e)
{
	const struct spec *s = c->spec;
	const char *rootfs_mode = spec_annotation(s, VM_ANNOTATION_ROOTFS);
	const struct spec_process *p = s->process;

	memset(cfg, 0, sizeof *cfg);
	cfg->state_dir = c->sd.path;
	cfg->cache_root = o->root;
	cfg->rootfs = c->st.rootfs;
	cfg->config_text = c->config_text;
	cfg->accel = o->vm_accel;
	cfg->kernel = o->vm_kernel;
	cfg->kernel_args = spec_annotation(s, VM_ANNOTATION_KERNEL_ARGS);
	cfg->rootfs_readonly = s->root.readonly;
	cfg->terminal = p->terminal;
	cfg->forward_stdin = o->foreground;
	if (p->has_console_size) {
		cfg->rows = p->console_height;
		cfg->cols = p->console_width;
	}
	/* squashfs: an image of the rootfs (writes stay in the VM); 9p: the
	 * host directory itself; 9p-overlay: it read-only, writes in the VM. */
	if (!rootfs_mode || !strcmp(rootfs_mode, "squashfs")) {
		cfg->overlay = !s->root.readonly || mount_points_missing(s, c->st.rootfs);
	} else if (!strcmp(rootfs_mode, "9p")) {
		cfg->rootfs_9p = true;
	} else if (!strcmp(rootfs_mode, "9p-overlay")) {
		cfg->rootfs_9p = true;
		cfg->rootfs_readonly = true;
		cfg->overlay = true;
	} else {
		return berr_set(e, EINVAL, "annotation %s: expected squashfs, 9p or 9p-overlay, got \"%s\"",
				VM_ANNOTATION_ROOTFS, rootfs_mode);
	}
	if (guest_memory(o, s, &cfg->memory, e) < 0 || guest_cpus(o, s, &cfg->cpus, e) < 0)
		return -1;
	for (size_t i = 0; i < s->n_mounts; i++)
		if (add_share(c, i, &s->mounts[i], e) < 0)
			return -1;
	cfg->shares = c->shares;
	cfg->n_shares = c->n_shares;
	cfg->spawned = record_qemu;
	cfg->spawned_arg = c;
	return 0;
}

static void fill_state(const struct create_opts *o, struct vm_container *c)
{
	state_begin(&c->st, o->id, c->spec);
	c->st.own_pid_ns = true; /* nothing outlives the VM */
}

static int write_pid_file(const char *path, pid_t pid, berr_t *e)
{
	char buf[32];
	int n = snprintf(buf, sizeof buf, "%d", (int)pid);
	_cleanup_free_ char *copy = xstrdup(path);
	char *slash = strrchr(copy, '/');
	_cleanup_close_ int dirfd = -1;

	if (slash)
		*slash = '\0';
	dirfd = open(slash ? (*copy ? copy : "/") : ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return berr_sys(e, "--pid-file \"%s\"", path);
	if (write_file_atomic_at(dirfd, slash ? slash + 1 : path, buf, n, 0644, e) < 0)
		return berr_wrap(e, "--pid-file");
	return 0;
}

/* The terminal's master goes to --console-socket, as a container's does. */
static int send_console(const char *socket_path, int master, berr_t *e)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return berr_sys(e, "socket");
	if (strlen(socket_path) >= sizeof sun.sun_path)
		return berr_set(e, ENAMETOOLONG, "--console-socket \"%s\": path too long", socket_path);
	strcpy(sun.sun_path, socket_path);
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) < 0)
		return berr_sys(e, "connect to --console-socket \"%s\"", socket_path);
	return send_fd(fd, master, "console", 7, e);
}

/* "created" is what state_status() says while STATE_START_SOCKET exists;
 * a VM has no start socket, so an empty file stands for it until start. */
static int mark_created(struct vm_container *c, berr_t *e)
{
	if (write_file_at(c->sd.dirfd, STATE_START_SOCKET, "", 0, O_CREAT | O_EXCL, 0600, e) < 0)
		return -1;
	c->st.vm_accel = xstrdup(c->vm.accel);
	c->st.saved_status = STATUS_CREATED;
	return state_write(&c->sd, &c->st, e);
}

/* The guest is set up and waits: the runtime namespace's hooks run on the
 * host, as they do before a container's pivot_root (their state's pid is
 * qemu's). The container namespace's hooks would have to run inside the
 * guest, from host paths it does not have: said, not silently dropped. */
static int create_hooks(struct vm_container *c, berr_t *e)
{
	const struct spec_hooks *h = &c->spec->hooks;
	_cleanup_free_ char *state = NULL;

	if (h->n_hooks[HOOK_CREATE_CONTAINER] || h->n_hooks[HOOK_START_CONTAINER])
		log_warn("hooks.createContainer and hooks.startContainer are not run in a VM");
	if (!h->n_hooks[HOOK_PRESTART] && !h->n_hooks[HOOK_CREATE_RUNTIME])
		return 0;
	state = state_oci_json(&c->st, STATUS_CREATING, false);
	if (hooks_run(c->spec, HOOK_PRESTART, state, false, e) < 0 ||
	    hooks_run(c->spec, HOOK_CREATE_RUNTIME, state, false, e) < 0)
		return -1;
	return 0;
}

static int create_steps(const struct create_opts *o, struct vm_container *c, berr_t *e)
{
	struct vm_config cfg;

	if (load_config(o, c, e) < 0)
		return -1;
	if (c->spec->process->terminal && !o->console_socket && !o->foreground)
		return berr_set(e, EINVAL,
				"process.terminal is set: --console-socket is required when not running in the foreground");
	if (state_dir_create(o->root, o->id, &c->sd, e) < 0)
		return -1;
	c->state_dir_made = true;
	fill_state(o, c);
	if (write_file_at(c->sd.dirfd, STATE_CONFIG_FILE, c->config_text, strlen(c->config_text),
			  O_CREAT | O_EXCL, 0600, e) < 0 ||
	    state_write(&c->sd, &c->st, e) < 0)
		return -1;
	if (make_vm_config(o, c, &cfg, e) < 0 || vm_create(&cfg, &c->vm, e) < 0)
		return -1;
	if (create_hooks(c, e) < 0 || mark_created(c, e) < 0)
		return -1;
	if (o->pid_file && write_pid_file(o->pid_file, c->vm.pid, e) < 0)
		return -1;
	if (c->vm.pty_master >= 0 && o->console_socket) {
		if (send_console(o->console_socket, c->vm.pty_master, e) < 0)
			return -1;
		close(c->vm.pty_master);
		c->vm.pty_master = -1;
	}
	return 0;
}

static void vm_container_free(struct vm_container *c)
{
	vm_instance_close(&c->vm);
	state_dir_close(&c->sd);
	state_free(&c->st);
	spec_free(c->spec);
	free(c->config_text);
	for (size_t i = 0; i < c->n_shares; i++)
		free(c->shares[i].source);
	free(c->shares);
	memset(c, 0, sizeof *c);
}

/* Stop qemu if it runs and remove the state directory. */
static void abort_vm(struct vm_container *c)
{
	berr_t e = BERR_INIT;

	if (c->vm.pid > 0) {
		kill(c->vm.pid, SIGKILL);
		waitpid(c->vm.pid, NULL, 0);
		c->vm.pid = 0;
	}
	if (c->state_dir_made && state_dir_remove(&c->sd, &e) < 0) {
		log_berr(LOG_WARNING, &e);
		berr_free(&e);
	}
}

static int create_vm(const struct create_opts *o, struct vm_container *c, berr_t *e)
{
	memset(c, 0, sizeof *c);
	c->sd.dirfd = -1;
	c->vm.pidfd = c->vm.pty_master = -1;
	/* The guest has no network device: say so rather than ignore it. */
	if (o->net || (o->publish && o->publish[0]))
		return berr_set(e, ENOTSUP, "--net and --publish are not supported with --vm");
	if (create_steps(o, c, e) < 0) {
		abort_vm(c);
		return -1;
	}
	return 0;
}

int vm_container_create(const struct create_opts *o, berr_t *e)
{
	struct vm_container c;
	int ret = create_vm(o, &c, e);

	vm_container_free(&c);
	return ret;
}

int vm_container_start(struct state_dir *sd, const struct container_state *st, berr_t *e)
{
	if (vm_start(sd->path, st->pid, e) < 0)
		return -1;
	if (unlinkat(sd->dirfd, STATE_START_SOCKET, 0) < 0 && errno != ENOENT)
		return berr_sys(e, "remove \"%s/%s\"", sd->path, STATE_START_SOCKET);
	return 0;
}

int vm_container_kill(struct state_dir *sd, const struct container_state *st, int signo,
		      bool all, berr_t *e)
{
	if (vm_kill(sd->path, signo, all, e) < 0) {
		if (e->errnum == ESRCH)
			return berr_set(e, ESRCH, "container \"%s\" is not running", st->id);
		return -1;
	}
	return 0;
}

static int start_and_poststart(struct vm_container *c, berr_t *e)
{
	_cleanup_free_ char *state = NULL;

	if (vm_container_start(&c->sd, &c->st, e) < 0)
		return -1;
	state = state_oci_json(&c->st, STATUS_RUNNING, false);
	return hooks_run(c->spec, HOOK_POSTSTART, state, true, e);
}

int vm_container_run(const struct create_opts *o, int *status, berr_t *e)
{
	struct vm_container c;
	sigset_t mask, old;
	int ret = -1;

	*status = 0;
	if (o->detach) {
		if (create_vm(o, &c, e) == 0) {
			ret = start_and_poststart(&c, e);
			if (ret < 0)
				abort_vm(&c);
		}
		vm_container_free(&c);
		return ret;
	}
	/* Blocked before qemu starts so that none is lost; qemu unblocks them
	 * for itself and runs in its own session. */
	waiter_signals(&mask);
	sigprocmask(SIG_BLOCK, &mask, &old);
	if (create_vm(o, &c, e) < 0)
		goto out;
	if (start_and_poststart(&c, e) < 0) {
		abort_vm(&c);
		goto out;
	}
	/* While it waits, `berth kill` and `berth delete` must get the lock. */
	state_dir_unlock(&c.sd);
	ret = vm_wait(c.sd.path, &c.vm, &mask, true, status, e);
	if (c.vm.pid > 0) {
		kill(c.vm.pid, SIGKILL);
		waitpid(c.vm.pid, NULL, 0);
		c.vm.pid = 0;
	}
	{
		/* A failed VM is cleaned up too (unless a delete --force did it
		 * meanwhile); its error is the one to report. */
		berr_t cleanup = BERR_INIT;
		int r = state_dir_relock(&c.sd, &cleanup);

		if (r < 0 && cleanup.errnum == ENOENT) {
			berr_free(&cleanup);
		} else if (r < 0 || container_destroy(&c.sd, &c.st, c.spec, &cleanup) < 0) {
			if (ret == 0) {
				berr_move(e, &cleanup);
				ret = -1;
			} else {
				log_berr(LOG_WARNING, &cleanup);
			}
		}
		berr_free(&cleanup);
	}
out:
	vm_container_free(&c);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return ret;
}
