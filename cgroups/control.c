/* cgroups/control.c: acting on the processes of a container's cgroup:
 * listing, signalling every one of them, freezing, and counting OOM kills. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroups/cgroups.h"
#include "cgroups/internal.h"
#include "common/log.h"
#include "common/util.h"

#define FREEZE_TIMEOUT_MS 5000
#define KILL_MAX_ROUNDS 1000

struct pid_list {
	pid_t *v;
	size_t n;
};

static void pid_list_add(struct pid_list *l, pid_t pid)
{
	l->v = xreallocarray(l->v, l->n + 1, sizeof *l->v);
	l->v[l->n++] = pid;
}

static bool pid_list_has(const struct pid_list *l, pid_t pid)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i] == pid)
			return true;
	return false;
}

static int collect(const char *dir, struct pid_list *l, berr_t *e)
{
	_cleanup_free_ char *procs = NULL;
	DIR *d;
	struct dirent *de;
	int ret = 0;

	if (cg_read(dir, "cgroup.procs", &procs, e) < 0) {
		/* A sub-cgroup removed while we walk is not an error. */
		if (e->errnum == ENOENT && l->n) {
			berr_free(e);
			return 0;
		}
		return -1;
	}
	for (char *p = procs; *p;) {
		size_t len = strcspn(p, "\n");
		_cleanup_free_ char *num = xstrndup(p, len);
		int64_t pid;

		if (parse_int64(num, &pid) && pid > 0)
			pid_list_add(l, (pid_t)pid);
		p += len;
		p += strspn(p, "\n");
	}
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : berr_sys(e, "open cgroup \"%s\"", dir);
	while (ret == 0 && (de = readdir(d))) {
		_cleanup_free_ char *sub = NULL;

		if (de->d_type != DT_DIR || !strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		sub = xasprintf("%s/%s", dir, de->d_name);
		ret = collect(sub, l, e);
	}
	closedir(d);
	return ret;
}

int cg_collect_pids(const char *dir, pid_t **pids, size_t *n, berr_t *e)
{
	struct pid_list l = { 0 };

	if (collect(dir, &l, e) < 0) {
		free(l.v);
		return -1;
	}
	*pids = l.v;
	*n = l.n;
	return 0;
}

int cgroup_pids(struct cgroup *cg, pid_t **pids, size_t *n, berr_t *e)
{
	if (cg_collect_pids(cg->v2.path, pids, n, e) < 0)
		return berr_wrap(e, "list the processes of cgroup \"%s\"", cg->v2.path);
	return 0;
}

/* ---- kill ---- */

static int pidfd_open_(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static int pidfd_signal(int pidfd, int signo)
{
	return (int)syscall(SYS_pidfd_send_signal, pidfd, signo, NULL, 0);
}

/* Signal the pids of `fresh` that are still in the cgroup. A pid read from
 * cgroup.procs may die and be reused by an unrelated process before kill(2);
 * a pidfd opened first and a second look at the cgroup rule that out: if
 * the process the pidfd names had died, the signal fails with ESRCH. */
static int signal_fresh(const char *dir, const struct pid_list *fresh, int signo, berr_t *e)
{
	_cleanup_free_ int *fds = xcalloc(fresh->n, sizeof *fds);
	struct pid_list now = { 0 };
	bool no_pidfd = false;
	int ret = 0;

	for (size_t i = 0; i < fresh->n; i++) {
		fds[i] = pidfd_open_(fresh->v[i]);
		if (fds[i] < 0 && errno == ENOSYS)
			no_pidfd = true; /* kernel < 5.3 */
	}
	if (collect(dir, &now, e) < 0) {
		ret = -1;
		goto out;
	}
	for (size_t i = 0; i < fresh->n; i++) {
		int r;

		if (!pid_list_has(&now, fresh->v[i]))
			continue;
		if (fds[i] >= 0)
			r = pidfd_signal(fds[i], signo);
		else if (no_pidfd)
			r = kill(fresh->v[i], signo);
		else
			continue; /* it died before pidfd_open */
		if (r < 0 && errno != ESRCH) {
			ret = berr_sys(e, "send signal %d to pid %d", signo, (int)fresh->v[i]);
			break;
		}
	}
out:
	for (size_t i = 0; i < fresh->n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(now.v);
	return ret;
}

/* Without cgroup.kill (or for another signal), signal every process until
 * a pass finds none that was not signalled yet: a forking workload keeps
 * making new ones for a while. */
static int kill_by_walking(const char *dir, int signo, berr_t *e)
{
	struct pid_list done = { 0 };
	int ret = -1;

	for (int round = 0; round < KILL_MAX_ROUNDS; round++) {
		struct pid_list all = { 0 }, fresh = { 0 };

		if (collect(dir, &all, e) < 0)
			goto out;
		for (size_t i = 0; i < all.n; i++)
			if (!pid_list_has(&done, all.v[i]))
				pid_list_add(&fresh, all.v[i]);
		free(all.v);
		if (!fresh.n) {
			ret = 0;
			goto out;
		}
		if (signal_fresh(dir, &fresh, signo, e) < 0) {
			free(fresh.v);
			goto out;
		}
		for (size_t i = 0; i < fresh.n; i++)
			pid_list_add(&done, fresh.v[i]);
		free(fresh.v);
	}
	berr_set(e, EAGAIN, "new processes keep appearing in cgroup \"%s\"", dir);
out:
	free(done.v);
	return ret;
}

int cgroup_kill_all(struct cgroup *cg, int signo, berr_t *e)
{
	_cleanup_free_ char *kill_file = xasprintf("%s/cgroup.kill", cg->v2.path);

	/* cgroup.kill (kernel 5.14) kills the whole subtree atomically, forks
	 * in flight included. */
	if (signo == SIGKILL) {
		if (write_file(kill_file, "1", 1, 0, 0, e) == 0)
			return 0;
		if (e->errnum != ENOENT)
			return berr_wrap(e, "kill cgroup");
		berr_free(e);
	}
	if (kill_by_walking(cg->v2.path, signo, e) < 0)
		return berr_wrap(e, "signal the processes of cgroup \"%s\"", cg->v2.path);
	return 0;
}

/* ---- freeze ---- */

static int read_frozen(int fd, const char *dir, bool *frozen, berr_t *e)
{
	char buf[256];
	ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
	uint64_t v;

	if (n < 0)
		return berr_sys(e, "read \"%s/cgroup.events\"", dir);
	buf[n] = '\0';
	if (!cg_kv_lookup(buf, "frozen", &v))
		return berr_set(e, ENOTSUP, "\"%s/cgroup.events\" has no frozen state "
				"(the cgroup v2 freezer needs kernel 5.2)", dir);
	*frozen = v != 0;
	return 0;
}

int cgroup_is_frozen(struct cgroup *cg, bool *frozen, berr_t *e)
{
	_cleanup_free_ char *path = xasprintf("%s/cgroup.events", cg->v2.path);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return berr_sys(e, "open \"%s\"", path);
	return read_frozen(fd, cg->v2.path, frozen, e);
}

/* cgroup.events changes (and wakes poll with POLLPRI) once every task has
 * reached the freezer; a task stuck in the kernel can delay that. */
static int wait_frozen(const char *dir, bool want, berr_t *e)
{
	_cleanup_free_ char *path = xasprintf("%s/cgroup.events", dir);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	uint64_t deadline = now_ns() + FREEZE_TIMEOUT_MS * 1000000ull;

	if (fd < 0)
		return berr_sys(e, "open \"%s\"", path);
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLPRI };
		bool frozen;
		uint64_t now;

		if (read_frozen(fd, dir, &frozen, e) < 0)
			return -1;
		if (frozen == want)
			return 0;
		now = now_ns();
		if (now >= deadline)
			return berr_set(e, ETIMEDOUT, "cgroup \"%s\" not %s after %d ms (a process may "
					"be stuck in the kernel)", dir, want ? "frozen" : "thawed",
					FREEZE_TIMEOUT_MS);
		/* Wake up at least every 100 ms in case a notification is missed. */
		int wait_ms = (int)((deadline - now) / 1000000);

		if (poll(&pfd, 1, wait_ms > 100 ? 100 : wait_ms + 1) < 0 && errno != EINTR)
			return berr_sys(e, "poll \"%s\"", path);
	}
}

int cgroup_freeze(struct cgroup *cg, bool frozen, berr_t *e)
{
	const char *what = frozen ? "freeze" : "thaw";

	if (cg_write(cg->v2.path, "cgroup.freeze", frozen ? "1" : "0", e) < 0)
		return berr_wrap(e, "%s cgroup", what);
	if (wait_frozen(cg->v2.path, frozen, e) == 0)
		return 0;
	if (frozen) {
		/* Do not leave a half-frozen container behind. */
		berr_t undo = BERR_INIT;

		if (cg_write(cg->v2.path, "cgroup.freeze", "0", &undo) < 0)
			log_berr(LOG_WARNING, &undo);
		berr_free(&undo);
	}
	return berr_wrap(e, "%s cgroup", what);
}

/* ---- OOM kills ---- */

int cgroup_oom_kills(struct cgroup *cg, uint64_t *count, berr_t *e)
{
	_cleanup_free_ char *text = NULL;
	const struct cg_dir *d;
	const char *dir, *file;

	*count = 0;
	if (cg->v2_avail & CG_BIT(CG_MEMORY)) {
		dir = cg->v2.path;
		file = "memory.events";
	} else if ((d = cg_v1_dir(cg, CG_MEMORY))) {
		dir = d->path;
		file = "memory.oom_control";
	} else {
		log_debug("cgroup: no memory controller, no OOM-kill count");
		return 0;
	}
	if (cg_read(dir, file, &text, e) < 0) {
		if (e->errnum != ENOENT)
			return berr_wrap(e, "read the OOM-kill count");
		berr_free(e); /* v2 memory controller not enabled for this cgroup */
		return 0;
	}
	cg_kv_lookup(text, "oom_kill", count);
	return 0;
}
