/* runtime/ops.c: operations on an existing container: kill, state, list,
 * pause/resume, its processes, update and events; and the signal table. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroups/cgroups.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"
#include "container.h"
#include "vm_lifecycle.h"

static const struct {
	const char *name;
	int signo;
} signals[] = {
	{"HUP", SIGHUP},     {"INT", SIGINT},       {"QUIT", SIGQUIT},   {"ILL", SIGILL},
	{"TRAP", SIGTRAP},   {"ABRT", SIGABRT},     {"IOT", SIGIOT},     {"BUS", SIGBUS},
	{"FPE", SIGFPE},     {"KILL", SIGKILL},     {"USR1", SIGUSR1},   {"SEGV", SIGSEGV},
	{"USR2", SIGUSR2},   {"PIPE", SIGPIPE},     {"ALRM", SIGALRM},   {"TERM", SIGTERM},
	{"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD},   {"CLD", SIGCHLD},    {"CONT", SIGCONT},
	{"STOP", SIGSTOP},   {"TSTP", SIGTSTP},     {"TTIN", SIGTTIN},   {"TTOU", SIGTTOU},
	{"URG", SIGURG},     {"XCPU", SIGXCPU},     {"XFSZ", SIGXFSZ},   {"VTALRM", SIGVTALRM},
	{"PROF", SIGPROF},   {"WINCH", SIGWINCH},   {"IO", SIGIO},       {"POLL", SIGPOLL},
	{"PWR", SIGPWR},     {"SYS", SIGSYS},
};

int signal_parse(const char *s)
{
	uint64_t n;
	const char *name = s;

	if (parse_uint64(s, &n))
		return n > 0 && n < (uint64_t)NSIG ? (int)n : -1;
	if (strncasecmp(name, "SIG", 3) == 0)
		name += 3;
	if (strncasecmp(name, "RTMIN", 5) == 0 || strncasecmp(name, "RTMAX", 5) == 0) {
		int64_t off = 0;
		bool max = strncasecmp(name, "RTMAX", 5) == 0;

		if (name[5] && !parse_int64(name[5] == '+' ? name + 6 : name + 5, &off))
			return -1;
		n = max ? SIGRTMAX + off : SIGRTMIN + off;
		return n >= (uint64_t)SIGRTMIN && n <= (uint64_t)SIGRTMAX ? (int)n : -1;
	}
	for (size_t i = 0; i < ARRAY_SIZE(signals); i++)
		if (strcasecmp(signals[i].name, name) == 0)
			return signals[i].signo;
	return -1;
}

const char *signal_name(int signo)
{
	for (size_t i = 0; i < ARRAY_SIZE(signals); i++)
		if (signals[i].signo == signo)
			return signals[i].name;
	return NULL;
}

/* Open, lock and read a container; the caller frees with close_container. */
static int open_container(const char *root, const char *id, bool lock, struct state_dir *sd,
			  struct container_state *st, enum container_status *status, berr_t *e)
{
	memset(st, 0, sizeof *st);
	if (state_dir_open(root, id, lock, sd, e) < 0 || state_read(sd, st, e) < 0)
		return -1;
	*status = state_status(sd, st);
	return 0;
}

static void close_container(struct state_dir *sd, struct container_state *st)
{
	state_free(st);
	state_dir_close(sd);
}

static int open_cgroup(const struct container_state *st, struct cgroup **cg, berr_t *e)
{
	if (!st->cgroup_path)
		return berr_set(e, ENOENT, "container \"%s\" has no cgroup", st->id);
	return cgroup_open(st->cgroup_path, cg, e);
}

static int signal_init(const struct container_state *st, int signo, berr_t *e)
{
	int pidfd = syscall(SYS_pidfd_open, st->pid, 0);
	uint64_t t;
	int ret = 0;

	if (pidfd < 0)
		return berr_sys(e, "container \"%s\" is not running", st->id);
	/* The pidfd pins the process: check it is still our init. */
	if (proc_start_time(st->pid, &t, NULL) < 0 || t != st->start_time)
		ret = berr_set(e, ESRCH, "container \"%s\" is not running", st->id);
	else if (syscall(SYS_pidfd_send_signal, pidfd, signo, NULL, 0) < 0)
		ret = berr_sys(e, "send signal %d to pid %d", signo, st->pid);
	close(pidfd);
	return ret;
}

int container_kill(const char *root, const char *id, int signo, bool all, berr_t *e)
{
	struct state_dir sd;
	struct container_state st;
	enum container_status status;
	int ret = -1;

	if (open_container(root, id, true, &sd, &st, &status, e) < 0)
		goto out;
	if (status == STATUS_STOPPED || status == STATUS_CREATING) {
		berr_set(e, ESRCH, "container \"%s\" is not running", id);
		goto out;
	}
	if (st.vm_accel) {
		ret = vm_container_kill(&sd, &st, signo, all, e);
	} else if (all && st.cgroup_path) {
		struct cgroup *cg = NULL;

		ret = open_cgroup(&st, &cg, e);
		if (ret == 0)
			ret = cgroup_kill_all(cg, signo, e);
		if (cg)
			cgroup_free(cg);
	} else {
		ret = signal_init(&st, signo, e);
	}
out:
	close_container(&sd, &st);
	return ret;
}

int container_state_json(const char *root, const char *id, char **out, berr_t *e)
{
	struct state_dir sd;
	struct container_state st;
	enum container_status status;
	int ret = -1;

	if (open_container(root, id, false, &sd, &st, &status, e) == 0) {
		*out = state_oci_json(&st, status, true);
		ret = 0;
	}
	close_container(&sd, &st);
	return ret;
}

int container_pause(const char *root, const char *id, bool pause, berr_t *e)
{
	struct state_dir sd;
	struct container_state st;
	enum container_status status;
	struct cgroup *cg = NULL;
	int ret = -1;

	if (open_container(root, id, true, &sd, &st, &status, e) < 0)
		goto out;
	if (pause && status != STATUS_RUNNING && status != STATUS_CREATED) {
		berr_set(e, EINVAL, "cannot pause container \"%s\": it is %s", id,
			 state_status_name(status));
		goto out;
	}
	if (!pause && status != STATUS_PAUSED) {
		berr_set(e, EINVAL, "cannot resume container \"%s\": it is %s, not paused", id,
			 state_status_name(status));
		goto out;
	}
	if (open_cgroup(&st, &cg, e) == 0)
		ret = cgroup_freeze(cg, pause, e);
out:
	if (cg)
		cgroup_free(cg);
	close_container(&sd, &st);
	return ret;
}

int container_pids(const char *root, const char *id, pid_t **pids, size_t *n, berr_t *e)
{
	struct state_dir sd;
	struct container_state st;
	enum container_status status;
	struct cgroup *cg = NULL;
	int ret = -1;

	if (open_container(root, id, false, &sd, &st, &status, e) == 0 &&
	    open_cgroup(&st, &cg, e) == 0)
		ret = cgroup_pids(cg, pids, n, e);
	if (cg)
		cgroup_free(cg);
	close_container(&sd, &st);
	return ret;
}

int container_update(const char *root, const char *id, const char *resources_json,
		     const char *what, berr_t *e)
{
	struct state_dir sd;
	struct container_state st;
	enum container_status status;
	struct cgroup_resources r;
	struct cgroup *cg = NULL;
	yajl_val v = NULL;
	int ret = -1;

	memset(&r, 0, sizeof r);
	if (open_container(root, id, true, &sd, &st, &status, e) < 0)
		goto out;
	if (status == STATUS_STOPPED) {
		berr_set(e, EINVAL, "container \"%s\" is stopped", id);
		goto out;
	}
	if (json_parse(resources_json, what, &v, e) < 0 ||
	    cgroup_resources_parse(v, "", &r, e) < 0) {
		if (v)
			berr_wrap(e, "%s", what);
		goto out;
	}
	if (open_cgroup(&st, &cg, e) == 0)
		ret = cgroup_update(cg, &r, e);
out:
	json_freep(&v);
	cgroup_resources_free(&r);
	if (cg)
		cgroup_free(cg);
	close_container(&sd, &st);
	return ret;
}

static int print_event(const char *type, const char *id, struct cgroup *cg, berr_t *e)
{
	struct json_writer *w = json_writer_new();
	int ret = 0;

	json_begin_map(w);
	json_kv_str(w, "type", type);
	json_kv_str(w, "id", id);
	if (strcmp(type, "stats") == 0) {
		json_key(w, "data");
		ret = cgroup_stats(cg, w, e);
	}
	json_end_map(w);
	if (ret == 0) {
		puts(json_writer_str(w));
		fflush(stdout);
	}
	json_writer_free(w);
	return ret;
}

int container_events(const char *root, const char *id, bool stats_once, int interval_ms,
		     berr_t *e)
{
	struct state_dir sd;
	struct container_state st;
	enum container_status status;
	struct cgroup *cg = NULL;
	uint64_t ooms = 0, seen = 0, next_stats = 0;
	int ret = -1;

	if (open_container(root, id, false, &sd, &st, &status, e) < 0 ||
	    open_cgroup(&st, &cg, e) < 0)
		goto out;
	if (stats_once) {
		ret = print_event("stats", id, cg, e);
		goto out;
	}
	cgroup_oom_kills(cg, &seen, e);
	berr_free(e);
	/* Until the container stops: stats every interval, OOM kills as they
	 * happen (checked five times a second). */
	while ((status = state_status(&sd, &st)) != STATUS_STOPPED) {
		if (now_ns() >= next_stats) {
			if (print_event("stats", id, cg, e) < 0)
				goto out;
			next_stats = now_ns() + (uint64_t)interval_ms * 1000000ull;
		}
		if (cgroup_oom_kills(cg, &ooms, e) == 0 && ooms > seen) {
			seen = ooms;
			print_event("oom", id, cg, e);
		}
		berr_free(e);
		usleep(200 * 1000);
	}
	/* An OOM kill that ended the container is still worth reporting. */
	if (cgroup_oom_kills(cg, &ooms, e) == 0 && ooms > seen)
		print_event("oom", id, cg, e);
	berr_free(e);
	ret = 0;
out:
	if (cg)
		cgroup_free(cg);
	close_container(&sd, &st);
	return ret;
}

int container_list(const char *root, struct container_summary **out, size_t *n, berr_t *e)
{
	DIR *d = opendir(root);
	struct dirent *de;
	struct container_summary *list = NULL;
	size_t count = 0;

	*out = NULL;
	*n = 0;
	if (!d)
		return errno == ENOENT ? 0 : berr_sys(e, "open state root \"%s\"", root);
	while ((de = readdir(d))) {
		struct state_dir sd;
		struct container_summary cs;
		berr_t err = BERR_INIT;

		if (de->d_name[0] == '.' || de->d_type != DT_DIR)
			continue;
		if (open_container(root, de->d_name, false, &sd, &cs.st, &cs.status, &err) == 0) {
			list = xreallocarray(list, count + 1, sizeof *list);
			list[count++] = cs;
		} else {
			log_debug("list: skipping \"%s\": %s", de->d_name, err.msg);
			state_free(&cs.st);
		}
		berr_free(&err);
		state_dir_close(&sd);
	}
	closedir(d);
	*out = list;
	*n = count;
	return 0;
}

void container_list_free(struct container_summary *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		state_free(&list[i].st);
	free(list);
}
