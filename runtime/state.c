/* runtime/state.c: container state directories, their locks and state.json.
 * Readers never lock: state.json is replaced atomically by rename. */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cgroups/cgroups.h"
#include "common/idmap.h"
#include "common/json.h"
#include "common/util.h"
#include "spec.h"
#include "state.h"

static char *owner_name(void)
{
	struct passwd *pw = getpwuid(geteuid());

	return pw ? xstrdup(pw->pw_name) : xasprintf("%u", (unsigned)geteuid());
}

void state_begin(struct container_state *st, const char *id, const struct spec *s)
{
	char when[64];

	format_rfc3339_now(when, sizeof when);
	st->id = xstrdup(id);
	st->oci_version = xstrdup(s->oci_version);
	st->created = xstrdup(when);
	st->owner = owner_name();
	st->saved_status = STATUS_CREATING;
	st->creator_pid = getpid();
	st->use_terminal = s->process->terminal;
	st->annotation_keys = strv_dup(s->annotation_keys);
	st->annotation_values = strv_dup(s->annotation_values);
}

char *state_default_root(void)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR"), *user = getenv("USER");
	bool have_xdg = xdg && *xdg;

	/* Root of a user namespace (rootless podman runs its runtime so)
	 * cannot write /run: its XDG_RUNTIME_DIR is used, unless it is really
	 * root's own session (runc's rule). */
	if (geteuid() == 0 &&
	    (!have_xdg || !idmap_in_userns() || (user && !strcmp(user, "root"))))
		return xstrdup("/run/berth");
	if (have_xdg)
		return xasprintf("%s/berth", xdg);
	return xasprintf("/tmp/berth-%u", (unsigned)geteuid());
}

int state_validate_id(const char *id, berr_t *e)
{
	size_t len = strlen(id);

	if (len == 0)
		return berr_set(e, EINVAL, "container id must not be empty");
	if (len > 1024)
		return berr_set(e, EINVAL, "container id is longer than 1024 characters");
	if (!strcmp(id, ".") || !strcmp(id, ".."))
		return berr_set(e, EINVAL, "invalid container id \"%s\"", id);
	for (const char *p = id; *p; p++) {
		char c = *p;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '+' || c == '-' || c == '.'))
			return berr_set(e, EINVAL,
					"invalid container id \"%s\": only letters, digits and _+-. are allowed",
					id);
	}
	return 0;
}

bool state_exists(const char *root, const char *id)
{
	_cleanup_free_ char *path = NULL;
	berr_t e = BERR_INIT;

	if (state_validate_id(id, &e) < 0) {
		berr_free(&e);
		return false;
	}
	path = xasprintf("%s/%s", root, id);
	return access(path, F_OK) == 0;
}

static int ensure_root(const char *root, berr_t *e)
{
	/* As root, traversable (0711): a container's user namespace root must
	 * reach what berth binds from the state directory. Rootless, that
	 * root is the owner. */
	mode_t mode = geteuid() == 0 ? 0711 : 0700;
	struct stat st;

	if (mkdir_p(root, mode, e) < 0)
		return berr_wrap(e, "state root");
	if (stat(root, &st) < 0)
		return berr_sys(e, "stat state root \"%s\"", root);
	if (!S_ISDIR(st.st_mode))
		return berr_set(e, ENOTDIR, "state root \"%s\" is not a directory", root);
	/* A shared place like /tmp/berth-UID could have been made by someone
	 * else to watch or feed our state. */
	if (st.st_uid != geteuid())
		return berr_set(e, EPERM, "state root \"%s\" belongs to uid %u, not to uid %u", root,
				(unsigned)st.st_uid, (unsigned)geteuid());
	return 0;
}

static void sd_init(struct state_dir *sd, const char *root, const char *id)
{
	sd->root = xstrdup(root);
	sd->id = xstrdup(id);
	sd->path = xasprintf("%s/%s", root, id);
	sd->dirfd = -1;
	sd->locked = false;
}

static int lock_dir(struct state_dir *sd, berr_t *e)
{
	struct stat st;

	while (flock(sd->dirfd, LOCK_EX) < 0) {
		if (errno != EINTR)
			return berr_sys(e, "lock \"%s\"", sd->path);
	}
	sd->locked = true;
	/* The holder before us may have deleted the container. */
	if (fstat(sd->dirfd, &st) < 0)
		return berr_sys(e, "stat \"%s\"", sd->path);
	if (st.st_nlink == 0)
		return berr_set(e, ENOENT, "container \"%s\" does not exist", sd->id);
	return 0;
}

int state_dir_create(const char *root, const char *id, struct state_dir *sd, berr_t *e)
{
	sd_init(sd, root, id);
	if (state_validate_id(id, e) < 0 || ensure_root(root, e) < 0)
		return -1;
	/* 0711 as runc: files berth binds into the container (the network's
	 * /etc files, the notify socket) must be reachable by a user
	 * namespace's root; the directory itself cannot be listed. */
	if (mkdir(sd->path, 0711) < 0) {
		if (errno == EEXIST)
			return berr_set(e, EEXIST, "container with id \"%s\" already exists", id);
		return berr_sys(e, "mkdir \"%s\"", sd->path);
	}
	sd->dirfd = open(sd->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (sd->dirfd < 0)
		return berr_sys(e, "open \"%s\"", sd->path);
	return lock_dir(sd, e);
}

int state_dir_open(const char *root, const char *id, bool lock, struct state_dir *sd,
		   berr_t *e)
{
	sd_init(sd, root, id);
	if (state_validate_id(id, e) < 0)
		return -1;
	sd->dirfd = open(sd->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (sd->dirfd < 0) {
		if (errno == ENOENT)
			return berr_set(e, ENOENT, "container \"%s\" does not exist", id);
		return berr_sys(e, "open \"%s\"", sd->path);
	}
	return lock ? lock_dir(sd, e) : 0;
}

void state_dir_unlock(struct state_dir *sd)
{
	if (sd->locked && sd->dirfd >= 0)
		flock(sd->dirfd, LOCK_UN);
	sd->locked = false;
}

int state_dir_relock(struct state_dir *sd, berr_t *e)
{
	return lock_dir(sd, e);
}

void state_dir_close(struct state_dir *sd)
{
	if (sd->dirfd >= 0)
		close(sd->dirfd); /* drops the lock */
	free(sd->root);
	free(sd->id);
	free(sd->path);
	memset(sd, 0, sizeof *sd);
	sd->dirfd = -1;
}

int state_dir_remove(struct state_dir *sd, berr_t *e)
{
	_cleanup_close_ int rootfd = open(sd->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (rootfd < 0)
		return berr_sys(e, "open \"%s\"", sd->root);
	return rm_rf_at(rootfd, sd->id, e);
}

static const char *const status_names[] = {
	[STATUS_CREATING] = "creating",
	[STATUS_CREATED] = "created",
	[STATUS_RUNNING] = "running",
	[STATUS_STOPPED] = "stopped",
	[STATUS_PAUSED] = "paused",
};

const char *state_status_name(enum container_status s)
{
	return status_names[s];
}

static void write_annotations(struct json_writer *w, const struct container_state *st)
{
	json_key(w, "annotations");
	json_begin_map(w);
	for (size_t i = 0; st->annotation_keys && st->annotation_keys[i]; i++)
		json_kv_str(w, st->annotation_keys[i], st->annotation_values[i]);
	json_end_map(w);
}

int state_write(struct state_dir *sd, const struct container_state *st, berr_t *e)
{
	struct json_writer *w = json_writer_new();
	int ret;

	json_begin_map(w);
	json_kv_str(w, "ociVersion", st->oci_version);
	json_kv_str(w, "id", st->id);
	json_kv_str(w, "status", state_status_name(st->saved_status));
	json_kv_i64(w, "pid", st->pid);
	json_kv_str(w, "bundle", st->bundle);
	write_annotations(w, st);
	json_kv_str(w, "rootfs", st->rootfs);
	json_kv_str(w, "created", st->created);
	json_kv_str(w, "owner", st->owner);
	json_kv_u64(w, "startTime", st->start_time);
	json_kv_i64(w, "creatorPid", st->creator_pid);
	if (st->cgroup_path)
		json_kv_str(w, "cgroupPath", st->cgroup_path);
	json_kv_bool(w, "systemdCgroup", st->systemd_cgroup);
	json_kv_bool(w, "ownPidNamespace", st->own_pid_ns);
	json_kv_bool(w, "terminal", st->use_terminal);
	if (st->vm_accel)
		json_kv_str(w, "vmAccel", st->vm_accel);
	if (st->generated_bundle)
		json_kv_str(w, "generatedBundle", st->generated_bundle);
	if (st->notify_socket)
		json_kv_str(w, "notifySocket", st->notify_socket);
	if (st->net)
		json_kv_str(w, "net", st->net);
	if (st->net_helper_pid) {
		json_kv_i64(w, "netHelperPid", st->net_helper_pid);
		json_kv_u64(w, "netHelperStartTime", st->net_helper_start);
	}
	json_end_map(w);
	ret = write_file_atomic_at(sd->dirfd, STATE_FILE, json_writer_str(w),
				   json_writer_len(w), 0600, e);
	json_writer_free(w);
	return ret;
}

int state_read(struct state_dir *sd, struct container_state *st, berr_t *e)
{
	_cleanup_free_ char *text = NULL;
	_cleanup_json_ yajl_val doc = NULL;
	_cleanup_free_ char *status = NULL;
	int64_t pid = 0, creator = 0, helper = 0;
	yajl_val ann;

	memset(st, 0, sizeof *st);
	if (read_file_at(sd->dirfd, STATE_FILE, &text, NULL, e) < 0) {
		if (e->errnum == ENOENT)
			return berr_set(e, ENOENT, "container \"%s\" does not exist", sd->id);
		return -1;
	}
	if (json_parse(text, STATE_FILE, &doc, e) < 0)
		return -1;
	if (json_field_str(doc, "", "id", true, &st->id, e) < 0 ||
	    json_field_str(doc, "", "ociVersion", true, &st->oci_version, e) < 0 ||
	    json_field_str(doc, "", "status", true, &status, e) < 0 ||
	    json_field_i64(doc, "", "pid", true, &pid, NULL, e) < 0 ||
	    json_field_str(doc, "", "bundle", true, &st->bundle, e) < 0 ||
	    json_field_str(doc, "", "rootfs", false, &st->rootfs, e) < 0 ||
	    json_field_str(doc, "", "created", false, &st->created, e) < 0 ||
	    json_field_str(doc, "", "owner", false, &st->owner, e) < 0 ||
	    json_field_u64(doc, "", "startTime", false, &st->start_time, NULL, e) < 0 ||
	    json_field_i64(doc, "", "creatorPid", false, &creator, NULL, e) < 0 ||
	    json_field_str(doc, "", "cgroupPath", false, &st->cgroup_path, e) < 0 ||
	    json_field_bool(doc, "", "systemdCgroup", &st->systemd_cgroup, NULL, e) < 0 ||
	    json_field_bool(doc, "", "ownPidNamespace", &st->own_pid_ns, NULL, e) < 0 ||
	    json_field_bool(doc, "", "terminal", &st->use_terminal, NULL, e) < 0 ||
	    json_field_str(doc, "", "vmAccel", false, &st->vm_accel, e) < 0 ||
	    json_field_str(doc, "", "generatedBundle", false, &st->generated_bundle, e) < 0 ||
	    json_field_str(doc, "", "notifySocket", false, &st->notify_socket, e) < 0) {
		berr_wrap(e, "%s/%s", sd->path, STATE_FILE);
		state_free(st);
		return -1;
	}
	if (json_field_str(doc, "", "net", false, &st->net, e) < 0 ||
	    json_field_i64(doc, "", "netHelperPid", false, &helper, NULL, e) < 0 ||
	    json_field_u64(doc, "", "netHelperStartTime", false, &st->net_helper_start, NULL, e) < 0) {
		berr_wrap(e, "%s/%s", sd->path, STATE_FILE);
		state_free(st);
		return -1;
	}
	st->net_helper_pid = helper;
	ann = json_get(doc, "annotations");
	if (ann && json_as_str_map(ann, "annotations", &st->annotation_keys,
				   &st->annotation_values, e) < 0) {
		state_free(st);
		return -1;
	}
	st->pid = pid;
	st->creator_pid = creator;
	st->saved_status = strcmp(status, "creating") == 0 ? STATUS_CREATING : STATUS_CREATED;
	return 0;
}

void state_free(struct container_state *st)
{
	free(st->id);
	free(st->oci_version);
	free(st->bundle);
	free(st->rootfs);
	free(st->created);
	free(st->owner);
	free(st->cgroup_path);
	free(st->vm_accel);
	free(st->generated_bundle);
	free(st->notify_socket);
	strv_free(st->annotation_keys);
	strv_free(st->annotation_values);
	free(st->net);
	memset(st, 0, sizeof *st);
}

int proc_start_time(pid_t pid, uint64_t *start_time, bool *zombie)
{
	char path[64], buf[1024];
	_cleanup_close_ int fd = -1;
	ssize_t n;
	char *p, state;
	unsigned long long t;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read_all(fd, buf, sizeof buf - 1);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* comm may contain spaces and parentheses: parse after the last ')'. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1,
			 " %c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
			 &state, &t) != 2) {
		errno = EINVAL;
		return -1;
	}
	*start_time = t;
	if (zombie)
		*zombie = state == 'Z' || state == 'X';
	return 0;
}

static bool init_alive(const struct container_state *st)
{
	uint64_t t;
	bool zombie;

	if (st->pid <= 0)
		return false;
	if (proc_start_time(st->pid, &t, &zombie) < 0)
		return false;
	return !zombie && t == st->start_time;
}

static bool creator_alive(pid_t pid)
{
	return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

enum container_status state_status(struct state_dir *sd, const struct container_state *st)
{
	struct stat sb;

	if (st->saved_status == STATUS_CREATING) {
		/* A create that died half-way leaves a stopped container for
		 * `delete --force` to clean. */
		return creator_alive(st->creator_pid) ? STATUS_CREATING : STATUS_STOPPED;
	}
	if (!init_alive(st))
		return STATUS_STOPPED;
	if (st->cgroup_path) {
		_cleanup_berr_ berr_t err = BERR_INIT;
		struct cgroup *cg = NULL;
		bool frozen = false;

		if (cgroup_open(st->cgroup_path, &cg, &err) == 0) {
			if (cgroup_is_frozen(cg, &frozen, &err) == 0 && frozen) {
				cgroup_free(cg);
				return STATUS_PAUSED;
			}
			cgroup_free(cg);
		}
	}
	if (fstatat(sd->dirfd, STATE_START_SOCKET, &sb, AT_SYMLINK_NOFOLLOW) == 0)
		return STATUS_CREATED;
	return STATUS_RUNNING;
}

char *state_oci_json(const struct container_state *st, enum container_status status,
		     bool pretty)
{
	struct json_writer *w = pretty ? json_writer_new_pretty() : json_writer_new();
	char *out;

	json_begin_map(w);
	json_kv_str(w, "ociVersion", st->oci_version);
	json_kv_str(w, "id", st->id);
	json_kv_str(w, "status", state_status_name(status));
	/* The spec requires pid while created or running; 0 once stopped. */
	json_kv_i64(w, "pid", status == STATUS_STOPPED ? 0 : st->pid);
	json_kv_str(w, "bundle", st->bundle);
	write_annotations(w, st);
	if (st->rootfs)
		json_kv_str(w, "rootfs", st->rootfs);
	if (st->created)
		json_kv_str(w, "created", st->created);
	if (st->owner)
		json_kv_str(w, "owner", st->owner);
	if (st->vm_accel)
		json_kv_str(w, "vmAccel", st->vm_accel);
	json_end_map(w);
	out = xstrdup(json_writer_str(w));
	json_writer_free(w);
	return out;
}
