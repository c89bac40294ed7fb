/* runtime/lifecycle.c: create, start and delete. A create that fails at any
 * point removes everything it made: init, cgroup, state directory. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/json.h"
#include "common/log.h"
#include "common/util.h"
#include "lifecycle.h"
#include "net_lifecycle.h"
#include "notify.h"
#include "sync.h"
#include "validate.h"
#include "vm_lifecycle.h"

/* sun_path is 108 bytes; a long --root or id would not fit, so sockets in
 * the state directory are named through the directory's fd. */
static void state_socket_addr(const struct state_dir *sd, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof *sun);
	sun->sun_family = AF_UNIX;
	snprintf(sun->sun_path, sizeof sun->sun_path, "/proc/self/fd/%d/%s", sd->dirfd,
		 STATE_START_SOCKET);
}

static int make_start_socket(struct state_dir *sd, berr_t *e)
{
	struct sockaddr_un sun;
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return berr_sys(e, "socket");
	state_socket_addr(sd, &sun);
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) < 0)
		return berr_sys(e, "bind start socket in \"%s\"", sd->path);
	if (listen(fd, 1) < 0)
		return berr_sys(e, "listen on start socket");
	return steal_fd(fd);
}

int start_and_notify(struct state_dir *sd, const struct container_state *st, berr_t *e)
{
	_cleanup_close_ int fd = -1;

	/* The socket must exist before the process can send READY=1. */
	if (st->notify_socket && (fd = notify_listen(sd->dirfd, e)) < 0)
		return -1;
	if (start_connect(sd, e) < 0)
		return -1;
	return fd >= 0 ? notify_wait_ready(fd, st->notify_socket, st->pid, e) : 0;
}

int start_connect(struct state_dir *sd, berr_t *e)
{
	struct sockaddr_un sun;
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	struct sync_msg *m = NULL;

	if (fd < 0)
		return berr_sys(e, "socket");
	state_socket_addr(sd, &sun);
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) < 0)
		return berr_sys(e, "connect to the container init");
	unlinkat(sd->dirfd, STATE_START_SOCKET, 0);
	/* The connection closes on the init's execve (close-on-exec); a
	 * message before that is the reason it could not. */
	if (sync_recv(fd, &m, NULL, e) < 0) {
		if (e->errnum == EPIPE) {
			berr_free(e);
			return 0;
		}
		return -1;
	}
	if (m->type == SYNC_ERROR)
		berr_set(e, m->errnum, "%s", m->data);
	else
		berr_set(e, EPROTO, "unexpected message from the container init");
	free(m);
	return -1;
}

/* fds 3..3+N-1 must be open: otherwise berth's own fds could land there
 * and be passed into the container. */
static int check_preserved_fds(int n, berr_t *e)
{
	for (int fd = 3; fd < 3 + n; fd++)
		if (fcntl(fd, F_GETFD) < 0)
			return berr_set(e, EBADF, "--preserve-fds %d: fd %d is not open", n, fd);
	return 0;
}

char *container_state_for_hooks(const struct container *c, enum container_status status)
{
	return state_oci_json(&c->st, status, false);
}

int bundle_load(const struct create_opts *o, struct bundle_config *b, berr_t *e)
{
	char bundle[PATH_MAX], rootfs[PATH_MAX];
	_cleanup_free_ char *config_path = NULL, *root_path = NULL;

	if (!realpath(o->bundle ? o->bundle : ".", bundle))
		return berr_sys(e, "bundle \"%s\"", o->bundle ? o->bundle : ".");
	config_path = xasprintf("%s/config.json", bundle);
	if (read_file(config_path, &b->text, NULL, e) < 0)
		return -1;
	if (spec_parse(b->text, "config.json", &b->spec, e) < 0 ||
	    validate_spec(b->spec, o->rootless, e) < 0)
		return -1;
	root_path = b->spec->root.path[0] == '/' ? xstrdup(b->spec->root.path) :
		    xasprintf("%s/%s", bundle, b->spec->root.path);
	if (!realpath(root_path, rootfs))
		return berr_sys(e, "root.path \"%s\"", root_path);
	if (validate_rootfs(rootfs, e) < 0)
		return -1;
	b->bundle = xstrdup(bundle);
	b->rootfs = xstrdup(rootfs);
	return 0;
}

static int load_config(const struct create_opts *o, struct container *c, berr_t *e)
{
	struct bundle_config b = {0};
	int ret = bundle_load(o, &b, e);

	/* The container owns what was read, also on failure (container_free). */
	c->config_text = b.text;
	c->spec = b.spec;
	c->st.bundle = b.bundle;
	c->st.rootfs = b.rootfs;
	return ret;
}

static void fill_state(const struct create_opts *o, struct container *c)
{
	struct container_state *st = &c->st;

	state_begin(st, o->id, c->spec);
	st->systemd_cgroup = o->systemd_cgroup;
	st->own_pid_ns = c->init.ns.create[NS_PID];
	st->generated_bundle = o->generated_bundle ? xstrdup(o->generated_bundle) : NULL;
}

static int prepare_init(const struct create_opts *o, struct container *c, berr_t *e)
{
	struct init_ctx *ic = &c->init;

	ic->spec = c->spec;
	ic->bundle = c->st.bundle;
	ic->rootfs = c->st.rootfs;
	ic->sync_fd = -1;
	ic->start_fd = -1;
	ic->console_fd = -1;
	ic->preserve_fds = o->preserve_fds;
	ic->no_pivot = o->no_pivot;
	ic->no_new_keyring = o->no_new_keyring;
	ic->rootless = o->rootless;
	ic->overlay_lower = o->overlay_lower;
	ic->overlay_upper = o->overlay_upper;
	ic->overlay_work = o->overlay_work;
	ic->overlay_userxattr = o->overlay_userxattr;
	for (int t = 0; t < NS_TYPE_COUNT; t++)
		ic->ns.fds[t] = -1;
	if (c->spec->process->terminal) {
		if (o->console_socket) {
			ic->console_fd = unix_connect(o->console_socket, SOCK_STREAM, "--console-socket", e);
			if (ic->console_fd < 0)
				return -1;
		} else if (o->foreground) {
			ic->pty_to_parent = true;
		} else {
			return berr_set(e, EINVAL,
					"process.terminal is set: --console-socket is required when not running in the foreground");
		}
	}
	if (caps_plan_make(c->spec->process, &ic->caps, e) < 0 ||
	    seccomp_plan_make(c->spec, o->root, &ic->seccomp, e) < 0 ||
	    ns_plan_make(c->spec, &ic->ns, e) < 0)
		return -1;
	return 0;
}

/* The name of the default cgroup (berth/NAME): the id under the default
 * root; elsewhere the id is only unique within its --root, so the root's
 * hash goes with it, or two roots' "c1" would share (and delete) one
 * cgroup. */
static char *default_cgroup_name(const char *root, const char *id)
{
	_cleanup_free_ char *def = state_default_root();
	uint32_t h = 2166136261u;

	if (strcmp(root, def) == 0)
		return xstrdup(id);
	for (const char *p = root; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return xasprintf("%s-%08x", id, h);
}

static int make_cgroup(const struct create_opts *o, struct container *c, berr_t *e)
{
	_cleanup_free_ char *name = default_cgroup_name(o->root, o->id);
	struct cgroup_config cfg = {
		.id = name,
		.path = c->spec->linux->cgroups_path,
		.resources = c->spec->linux->resources,
		.rootless = o->rootless,
		.systemd = o->systemd_cgroup,
	};

	devices_cgroup_complete(c->spec);
	if (cgroup_create(&cfg, &c->cg, e) < 0)
		return -1;
	if (c->cg)
		c->st.cgroup_path = xstrdup(cgroup_path(c->cg));
	return 0;
}

static int write_pid_file(const char *path, pid_t pid, berr_t *e)
{
	char buf[32];
	int n = snprintf(buf, sizeof buf, "%d", (int)pid);
	_cleanup_free_ char *copy = xstrdup(path);
	char *slash = strrchr(copy, '/');
	_cleanup_close_ int dirfd = -1;

	/* Atomically, so that a reader never sees a partial pid. */
	if (slash) {
		*slash = '\0';
		dirfd = open(*copy ? copy : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	} else {
		dirfd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	}
	if (dirfd < 0)
		return berr_sys(e, "--pid-file \"%s\"", path);
	if (write_file_atomic_at(dirfd, slash ? slash + 1 : path, buf, n, 0644, e) < 0)
		return berr_wrap(e, "--pid-file");
	return 0;
}

/* Undo a create that failed after the state directory was made. */
static void create_abort(struct container *c)
{
	berr_t e = BERR_INIT;

	if (c->cg) {
		if (cgroup_kill_all(c->cg, SIGKILL, &e) < 0 || cgroup_destroy(c->cg, &e) < 0) {
			log_berr(LOG_WARNING, &e);
			berr_free(&e);
		}
	}
	if (c->state_dir_made && net_teardown(&c->sd, &c->st, c->spec, &e) < 0) {
		log_berr(LOG_WARNING, &e);
		berr_free(&e);
	}
	/* The lifecycle continues at delete, which runs poststop. */
	if (c->spawned) {
		_cleanup_free_ char *state = container_state_for_hooks(c, STATUS_STOPPED);

		hooks_run(c->spec, HOOK_POSTSTOP, state, true, &e);
	}
	if (c->state_dir_made && state_dir_remove(&c->sd, &e) < 0) {
		log_berr(LOG_WARNING, &e);
		berr_free(&e);
	}
}

static int create_steps(const struct create_opts *o, struct container *c, berr_t *e)
{
	uint64_t start_time;

	if (load_config(o, c, e) < 0 || net_plan(o, c, e) < 0 || prepare_init(o, c, e) < 0)
		return -1;
	listen_fds_prepare(c->spec, &c->init.preserve_fds);
	if (c->init.preserve_fds && check_preserved_fds(c->init.preserve_fds, e) < 0)
		return -1;
	if (state_dir_create(o->root, o->id, &c->sd, e) < 0)
		return -1;
	c->state_dir_made = true;
	fill_state(o, c);
	if (notify_prepare(c->spec, c->sd.dirfd, c->sd.path, &c->st.notify_socket, e) < 0)
		return -1;
	if (write_file_at(c->sd.dirfd, STATE_CONFIG_FILE, c->config_text, strlen(c->config_text),
			  O_CREAT | O_EXCL, 0600, e) < 0 ||
	    state_write(&c->sd, &c->st, e) < 0 || net_prepare(c, e) < 0)
		return -1;
	c->init.start_fd = make_start_socket(&c->sd, e);
	if (c->init.start_fd < 0 || make_cgroup(o, c, e) < 0 || state_write(&c->sd, &c->st, e) < 0)
		return -1;
	if (spawn_container(c, e) < 0)
		return -1;
	if (proc_start_time(c->pid, &start_time, NULL) < 0)
		return berr_sys(e, "read start time of pid %d", c->pid);
	c->st.start_time = start_time;
	c->st.saved_status = STATUS_CREATED;
	if (state_write(&c->sd, &c->st, e) < 0)
		return -1;
	if (o->pid_file && write_pid_file(o->pid_file, c->pid, e) < 0)
		return -1;
	return 0;
}

int container_create_internal(const struct create_opts *o, struct container *c, berr_t *e)
{
	memset(c, 0, sizeof *c);
	c->pidfd = -1;
	c->sync_fd = -1;
	c->pty_master = -1;
	c->sd.dirfd = -1;
	c->init.start_fd = -1;
	c->init.console_fd = -1;
	for (int t = 0; t < NS_TYPE_COUNT; t++)
		c->init.ns.fds[t] = -1;
	if (create_steps(o, c, e) < 0) {
		if (c->pid > 0) {
			syscall(SYS_pidfd_send_signal, c->pidfd, SIGKILL, NULL, 0);
			waitpid(c->pid, NULL, 0);
			c->pid = 0;
		}
		if (c->state_dir_made)
			create_abort(c);
		return -1;
	}
	/* berth's copies of what only the init needed. */
	if (c->init.start_fd >= 0)
		close(c->init.start_fd);
	c->init.start_fd = -1;
	state_dir_unlock(&c->sd);
	return 0;
}

void container_free(struct container *c)
{
	struct init_ctx *ic = &c->init;

	net_setup_free(c->net);

	if (c->pidfd >= 0)
		close(c->pidfd);
	if (c->sync_fd >= 0)
		close(c->sync_fd);
	if (c->pty_master >= 0)
		close(c->pty_master);
	if (ic->start_fd >= 0)
		close(ic->start_fd);
	if (ic->console_fd >= 0)
		close(ic->console_fd);
	ns_plan_close(&ic->ns);
	caps_plan_free(ic->caps);
	seccomp_plan_free(ic->seccomp);
	free(ic->state_creating);
	free(ic->state_created);
	if (c->cg)
		cgroup_free(c->cg);
	state_dir_close(&c->sd);
	state_free(&c->st);
	spec_free(c->spec);
	free(c->config_text);
	memset(c, 0, sizeof *c);
}

int container_create(const struct create_opts *o, berr_t *e)
{
	struct container c;
	int ret;

	if (vm_requested(o))
		return vm_container_create(o, e);
	ret = container_create_internal(o, &c, e);

	container_free(&c);
	return ret;
}

int load_saved_spec(struct state_dir *sd, struct spec **out, berr_t *e)
{
	_cleanup_free_ char *text = NULL;

	if (read_file_at(sd->dirfd, STATE_CONFIG_FILE, &text, NULL, e) < 0)
		return -1;
	return spec_parse(text, STATE_CONFIG_FILE, out, e);
}

static int run_poststart(struct state_dir *sd, const struct container_state *st, berr_t *e)
{
	_cleanup_spec_ struct spec *spec = NULL;
	_cleanup_free_ char *state = NULL;

	if (load_saved_spec(sd, &spec, e) < 0)
		return -1;
	if (spec->process && spec->process->exec_cpu_affinity.final &&
	    process_set_affinity(spec->process->exec_cpu_affinity.final, st->pid, e) < 0)
		return -1;
	state = state_oci_json(st, STATUS_RUNNING, false);
	return hooks_run(spec, HOOK_POSTSTART, state, true, e);
}

int container_start(const char *root, const char *id, berr_t *e)
{
	struct state_dir sd;
	struct container_state st;
	enum container_status status;
	int ret = -1;

	if (state_dir_open(root, id, true, &sd, e) < 0)
		goto out_dir;
	if (state_read(&sd, &st, e) < 0)
		goto out_dir;
	status = state_status(&sd, &st);
	if (status != STATUS_CREATED) {
		berr_set(e, EINVAL, "cannot start container \"%s\": it is %s, not created", id,
			 state_status_name(status));
		goto out;
	}
	if (st.vm_accel) {
		if (vm_container_start(&sd, &st, e) < 0)
			goto out;
	} else if (start_and_notify(&sd, &st, e) < 0) {
		goto out;
	}
	if (run_poststart(&sd, &st, e) < 0)
		goto out;
	ret = 0;
out:
	state_free(&st);
out_dir:
	state_dir_close(&sd);
	return ret;
}

/* Wait up to `ms` for the init to go away (it is not our child). */
static void wait_gone(const struct container_state *st, int ms)
{
	int pidfd = syscall(SYS_pidfd_open, st->pid, 0);
	uint64_t t;
	bool zombie = false;

	if (pidfd < 0)
		return;
	if (proc_start_time(st->pid, &t, &zombie) < 0 || t != st->start_time) {
		close(pidfd);
		return;
	}
	for (int waited = 0; waited < ms && !zombie; waited += 10) {
		struct pollfd p = {.fd = pidfd, .events = POLLIN};

		if (poll(&p, 1, 10) > 0)
			break;
		if (proc_start_time(st->pid, &t, &zombie) < 0)
			break;
	}
	close(pidfd);
}

/* A writable layer on disk holds files of the container's ids, which a
 * rootless caller may only remove inside the container's mapping. */
static int remove_generated_bundle(const char *dir, const struct spec *spec, berr_t *e)
{
	struct id_maps m = {0};

	if (spec && spec->linux)
		m = (struct id_maps){spec->linux->uid_mappings, spec->linux->gid_mappings,
				     spec->linux->n_uid_mappings, spec->linux->n_gid_mappings};
	return idmap_rm_rf(dir, &m, e);
}

int container_destroy(struct state_dir *sd, const struct container_state *st,
		      const struct spec *spec, berr_t *e)
{
	_cleanup_free_ char *state = state_oci_json(st, STATUS_STOPPED, false);

	if (st->cgroup_path) {
		struct cgroup *cg = NULL;
		int r = cgroup_open(st->cgroup_path, &cg, e);

		/* What outlived the init (no pid namespace) goes with it. */
		if (r == 0)
			r = cgroup_kill_all(cg, SIGKILL, e);
		if (r == 0)
			r = cgroup_destroy(cg, e);
		if (cg)
			cgroup_free(cg);
		if (r < 0 && e->errnum != ENOENT)
			return berr_wrap(e, "remove cgroup");
		berr_free(e);
	}
	/* A network piece that cannot be undone (a device whose host name was
	 * taken meanwhile) must not keep the container from going away. */
	if (net_teardown(sd, st, spec, e) < 0) {
		log_berr(LOG_WARNING, e);
		berr_free(e);
	}
	if (spec)
		hooks_run(spec, HOOK_POSTSTOP, state, true, e);
	/* run --image: the bundle berth made (config, upper, work, the empty
	 * mount point; the overlay lived in the container's mount namespace). */
	if (st->generated_bundle && st->generated_bundle[0] == '/' &&
	    remove_generated_bundle(st->generated_bundle, spec, e) < 0)
		return berr_wrap(e, "remove the container's bundle");
	return state_dir_remove(sd, e);
}

static int kill_for_delete(struct state_dir *sd, const struct container_state *st, berr_t *e)
{
	int pidfd;

	if (st->cgroup_path) {
		struct cgroup *cg = NULL;

		if (cgroup_open(st->cgroup_path, &cg, e) == 0) {
			cgroup_kill_all(cg, SIGKILL, e);
			cgroup_free(cg);
		}
		berr_free(e);
	}
	pidfd = syscall(SYS_pidfd_open, st->pid, 0);
	if (pidfd >= 0) {
		uint64_t t;

		if (proc_start_time(st->pid, &t, NULL) == 0 && t == st->start_time)
			syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
		close(pidfd);
	}
	wait_gone(st, 5000);
	if (state_status(sd, st) != STATUS_STOPPED)
		return berr_set(e, EBUSY, "container \"%s\" did not stop after SIGKILL", st->id);
	return 0;
}

int container_delete(const char *root, const char *id, bool force, berr_t *e)
{
	struct state_dir sd;
	struct container_state st;
	struct spec *spec = NULL;
	enum container_status status;
	int ret = -1;

	memset(&st, 0, sizeof st);
	if (state_dir_open(root, id, true, &sd, e) < 0) {
		/* Engines delete --force after every failed create; what does
		 * not exist is already deleted (runc answers the same). */
		if (force && e->errnum == ENOENT) {
			berr_free(e);
			ret = 0;
		}
		goto out;
	}
	if (state_read(&sd, &st, e) < 0) {
		/* A create that died before writing its state: nothing to run. */
		if (force && e->errnum == ENOENT) {
			berr_free(e);
			ret = state_dir_remove(&sd, e);
		}
		goto out;
	}
	status = state_status(&sd, &st);
	/* A create that died half-way may have left its process (a VM's qemu
	 * booting): "stopped", but killed all the same. */
	if (status == STATUS_STOPPED && st.saved_status == STATUS_CREATING && st.pid > 0) {
		if (kill_for_delete(&sd, &st, e) < 0)
			goto out;
	} else if (status != STATUS_STOPPED) {
		if (!force) {
			berr_set(e, EBUSY, "cannot delete container \"%s\" that is not stopped: %s", id,
				 state_status_name(status));
			goto out;
		}
		net_hold(&st);
		if (kill_for_delete(&sd, &st, e) < 0)
			goto out;
	}
	if (load_saved_spec(&sd, &spec, e) < 0) {
		log_berr(LOG_WARNING, e);
		berr_free(e);
	}
	ret = container_destroy(&sd, &st, spec, e);
out:
	spec_free(spec);
	state_free(&st);
	state_dir_close(&sd);
	return ret;
}
