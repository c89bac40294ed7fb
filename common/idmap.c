/* common/idmap.c: user namespace id maps (see idmap.h). */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/idmap.h"
#include "common/log.h"
#include "common/util.h"

void id_maps_free(struct id_maps *m)
{
	free(m->uid);
	free(m->gid);
	memset(m, 0, sizeof *m);
}

bool idmap_in_userns(void)
{
	_cleanup_free_ char *text = NULL;
	berr_t e = BERR_INIT;
	unsigned long a, b, c;

	if (read_file("/proc/self/uid_map", &text, NULL, &e) < 0) {
		berr_free(&e);
		return false;
	}
	return sscanf(text, "%lu %lu %lu", &a, &b, &c) != 3 || a != 0 || b != 0 ||
	       c != 4294967295ul;
}

void idmap_self(struct id_maps *m)
{
	m->uid = xmalloc(sizeof *m->uid);
	m->gid = xmalloc(sizeof *m->gid);
	m->uid[0] = (struct id_mapping){0, geteuid(), 1};
	m->gid[0] = (struct id_mapping){0, getegid(), 1};
	m->n_uid = m->n_gid = 1;
}

/* ---- writing maps ---- */

static char *format_lines(const struct id_mapping *m, size_t n)
{
	char *out = xstrdup("");

	for (size_t i = 0; i < n; i++) {
		char *next = xasprintf("%s%u %u %u\n", out, m[i].container_id, m[i].host_id,
				       m[i].size);

		free(out);
		out = next;
	}
	return out;
}

static int write_proc_file(pid_t pid, const char *name, const char *data, berr_t *e)
{
	char path[64];

	snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, name);
	if (write_file(path, data, strlen(data), 0, 0, e) < 0)
		return berr_wrap(e, "write %s", name);
	return 0;
}

/* newuidmap PID ID HOSTID SIZE ... : the setuid helpers check /etc/subuid. */
static int run_helper(const char *helper, pid_t pid, const struct id_mapping *m, size_t n,
		      berr_t *e)
{
	size_t argc = 0;
	_cleanup_strv_ char **argv = NULL;
	pid_t child;
	int status;

	strv_append(&argv, &argc, xstrdup(helper));
	strv_append(&argv, &argc, xasprintf("%d", (int)pid));
	for (size_t i = 0; i < n; i++) {
		strv_append(&argv, &argc, xasprintf("%u", m[i].container_id));
		strv_append(&argv, &argc, xasprintf("%u", m[i].host_id));
		strv_append(&argv, &argc, xasprintf("%u", m[i].size));
	}
	child = fork();
	if (child < 0)
		return berr_sys(e, "fork %s", helper);
	if (child == 0) {
		execvp(helper, argv);
		_exit(127);
	}
	while (waitpid(child, &status, 0) < 0)
		if (errno != EINTR)
			return berr_sys(e, "wait for %s", helper);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		return berr_set(e, ENOENT, "%s not found (install the uidmap package)", helper);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return berr_set(e, EPERM,
				"%s failed: the requested mappings are not allowed for this user (see /etc/subuid and /etc/subgid)",
				helper);
	return 0;
}

static bool maps_only_self(const struct id_mapping *m, size_t n, uint32_t self)
{
	return n == 1 && m[0].size == 1 && m[0].host_id == self;
}

int idmap_write(pid_t pid, const struct id_maps *m, berr_t *e)
{
	_cleanup_free_ char *uids = format_lines(m->uid, m->n_uid);
	_cleanup_free_ char *gids = format_lines(m->gid, m->n_gid);
	bool root = geteuid() == 0;

	if (root || maps_only_self(m->gid, m->n_gid, getegid())) {
		/* Unprivileged writers must deny setgroups before gid_map. */
		if (!root && write_proc_file(pid, "setgroups", "deny", e) < 0)
			return -1;
		if (m->n_gid && write_proc_file(pid, "gid_map", gids, e) < 0)
			return -1;
	} else if (run_helper("newgidmap", pid, m->gid, m->n_gid, e) < 0) {
		return -1;
	}
	if (root || maps_only_self(m->uid, m->n_uid, geteuid())) {
		if (m->n_uid && write_proc_file(pid, "uid_map", uids, e) < 0)
			return -1;
	} else if (run_helper("newuidmap", pid, m->uid, m->n_uid, e) < 0) {
		return -1;
	}
	return 0;
}

/* ---- /etc/subuid and /etc/subgid ---- */

/* "NAME_OR_ID:START:COUNT" */
static bool parse_range(char *line, const char *user, uint32_t numeric, uint32_t *start,
			uint32_t *count)
{
	char *save = NULL, *who = strtok_r(line, ":", &save);
	char *s = strtok_r(NULL, ":", &save), *c = strtok_r(NULL, ":\n", &save);
	char num[16];
	uint64_t v1, v2;

	if (!who || !s || !c || who[0] == '#')
		return false;
	snprintf(num, sizeof num, "%u", numeric);
	if ((!user || strcmp(who, user)) && strcmp(who, num))
		return false;
	if (!parse_uint64(s, &v1) || !parse_uint64(c, &v2) || v2 == 0 || v1 + v2 > UINT32_MAX)
		return false;
	*start = v1;
	*count = v2;
	return true;
}

int idmap_subordinate(const char *file, const char *user, uint32_t numeric,
		      struct id_mapping **m, size_t *n, uint32_t *next, berr_t *e)
{
	_cleanup_free_ char *text = NULL;
	char *save = NULL;
	int found = 0;

	if (read_file(file, &text, NULL, e) < 0) {
		if (e->errnum != ENOENT)
			return -1;
		berr_free(e);
		return 0;
	}
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		uint32_t start, count;

		if (!parse_range(line, user, numeric, &start, &count) ||
		    (uint64_t)*next + count > UINT32_MAX)
			continue;
		*m = xreallocarray(*m, *n + 1, sizeof **m);
		(*m)[(*n)++] = (struct id_mapping){*next, start, count};
		*next += count;
		found++;
	}
	return found;
}

static bool have_helper(const char *name)
{
	const char *path = getenv("PATH");
	_cleanup_free_ char *copy = xstrdup(path && *path ? path : "/usr/bin:/bin");
	char *save = NULL;

	for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		_cleanup_free_ char *p = xasprintf("%s/%s", dir, name);

		if (access(p, X_OK) == 0)
			return true;
	}
	return false;
}

int idmap_rootless_default(struct id_maps *m, berr_t *e)
{
	uid_t uid = geteuid();
	struct passwd *pw = getpwuid(uid);
	const char *name = pw ? pw->pw_name : NULL;
	uint32_t next_uid = 1, next_gid = 1;
	int nu, ng;

	idmap_self(m);
	nu = idmap_subordinate("/etc/subuid", name, uid, &m->uid, &m->n_uid, &next_uid, e);
	if (nu < 0)
		goto fail;
	ng = idmap_subordinate("/etc/subgid", name, uid, &m->gid, &m->n_gid, &next_gid, e);
	if (ng < 0)
		goto fail;
	if (nu && ng && have_helper("newuidmap") && have_helper("newgidmap"))
		return 0;
	if (nu || ng)
		log_debug("rootless: subordinate ids not used (%s)",
			  nu && ng ? "newuidmap/newgidmap not installed"
				   : "a range in only one of /etc/subuid and /etc/subgid");
	m->n_uid = m->n_gid = 1;
	return 0;
fail:
	id_maps_free(m);
	return -1;
}

bool idmap_has_subordinate(const struct id_maps *m)
{
	return m->n_uid > 1 || m->n_gid > 1 || (m->n_uid && m->uid[0].size > 1) ||
	       (m->n_gid && m->gid[0].size > 1);
}

bool idmap_contains(const struct id_mapping *m, size_t n, uint32_t id)
{
	for (size_t i = 0; i < n; i++)
		if (id >= m[i].container_id && (uint64_t)id < (uint64_t)m[i].container_id + m[i].size)
			return true;
	return false;
}

uint64_t idmap_span(const struct id_mapping *m, size_t n)
{
	uint64_t end = 0;

	for (size_t i = 0; i < n; i++)
		if ((uint64_t)m[i].container_id + m[i].size > end)
			end = (uint64_t)m[i].container_id + m[i].size;
	return end;
}

static char *format_compact(const struct id_mapping *m, size_t n)
{
	char *out = xstrdup("");

	for (size_t i = 0; i < n; i++) {
		char *next = xasprintf("%s%s%u:%u:%u", out, i ? "," : "", m[i].container_id,
				       m[i].host_id, m[i].size);

		free(out);
		out = next;
	}
	return out;
}

char *idmap_format(const struct id_maps *m)
{
	_cleanup_free_ char *u = format_compact(m->uid, m->n_uid);
	_cleanup_free_ char *g = format_compact(m->gid, m->n_gid);

	return xasprintf("%s;%s", u, g);
}

/* ---- running in a user namespace ---- */

/* The child writes 'R' once it has its namespace, then its report: 'D',
 * the head, the message to EOF. */
struct report_head {
	int ret, errnum, complete;
};

static void child_report(int fd, int ret, const berr_t *e)
{
	struct report_head h = {ret, e->errnum, e->complete};
	char tag = 'D';

	if (write_all(fd, &tag, 1) < 0 || write_all(fd, &h, sizeof h) < 0)
		return;
	if (ret < 0 && e->msg)
		write_all(fd, e->msg, strlen(e->msg));
}

static void become_root_child(int ready, int go, int (*fn)(void *, berr_t *), void *arg)
{
	berr_t e = BERR_INIT;
	char c = 'R';
	int ret = -1;

	if (unshare(CLONE_NEWUSER) < 0) {
		berr_sys(&e, "unshare user namespace");
		goto out;
	}
	if (write_all(ready, &c, 1) < 0 || read_all(go, &c, 1) != 1)
		_exit(1);
	if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) {
		berr_sys(&e, "become root in the user namespace");
		goto out;
	}
	/* Allowed when newgidmap wrote the map; denied otherwise. */
	if (setgroups(0, NULL) < 0 && errno != EPERM) {
		berr_sys(&e, "setgroups in the user namespace");
		goto out;
	}
	ret = fn(arg, &e);
out:
	child_report(ready, ret, &e);
	berr_free(&e);
	fflush(NULL);
	_exit(ret < 0 ? 1 : 0);
}

static int reap(pid_t pid, int *status)
{
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

/* After the tag 'D' (has_tag) or before it. */
static int read_report(int fd, pid_t pid, bool has_tag, berr_t *e)
{
	struct report_head h;
	_cleanup_free_ char *msg = NULL;
	berr_t ignored = BERR_INIT;
	int status = 0;
	char tag = 'D';

	if ((!has_tag && read_all(fd, &tag, 1) != 1) || tag != 'D' ||
	    read_all(fd, &h, sizeof h) != sizeof h) {
		if (reap(pid, &status) == 0 && WIFSIGNALED(status))
			return berr_set(e, EIO, "the process in the user namespace was killed by signal %d",
					WTERMSIG(status));
		return berr_set(e, EIO, "the process in the user namespace died without a report");
	}
	read_fd(fd, 1 << 20, "report", &msg, NULL, &ignored);
	berr_free(&ignored);
	reap(pid, &status);
	if (h.ret >= 0)
		return 0;
	berr_set(e, h.errnum ? h.errnum : EIO, "%s", msg && *msg ? msg : "failed");
	e->complete = h.complete;
	return -1;
}

int idmap_run_in_userns(const struct id_maps *m, int (*fn)(void *arg, berr_t *e), void *arg,
			berr_t *e)
{
	int up[2], down[2];
	pid_t pid;
	char c;
	int ret = -1, status;

	if (pipe2(up, O_CLOEXEC) < 0)
		return berr_sys(e, "pipe");
	if (pipe2(down, O_CLOEXEC) < 0) {
		berr_sys(e, "pipe");
		goto close_up;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		berr_sys(e, "fork");
		goto close_down;
	}
	if (pid == 0) {
		close(up[0]);
		close(down[1]);
		become_root_child(up[1], down[0], fn, arg);
	}
	close(up[1]);
	close(down[0]);
	up[1] = down[0] = -1;
	if (read_all(up[0], &c, 1) != 1)
		c = 0;
	if (c != 'R') {
		ret = read_report(up[0], pid, c == 'D', e);
		if (ret == 0)
			ret = berr_set(e, EIO, "the process in the user namespace did not start");
		goto close_down;
	}
	if (idmap_write(pid, m, e) < 0) {
		kill(pid, SIGKILL);
		reap(pid, &status);
		goto close_down;
	}
	c = 'G';
	if (write_all(down[1], &c, 1) < 0) {
		berr_sys(e, "start the process in the user namespace");
		kill(pid, SIGKILL);
		reap(pid, &status);
		goto close_down;
	}
	ret = read_report(up[0], pid, false, e);
close_down:
	if (down[0] >= 0)
		close(down[0]);
	if (down[1] >= 0)
		close(down[1]);
close_up:
	if (up[0] >= 0)
		close(up[0]);
	if (up[1] >= 0)
		close(up[1]);
	return ret;
}

static int rm_child(void *arg, berr_t *e)
{
	return rm_rf_at(AT_FDCWD, arg, e);
}

int idmap_rm_rf(const char *path, const struct id_maps *m, berr_t *e)
{
	if (rm_rf_at(AT_FDCWD, path, e) == 0)
		return 0;
	if ((e->errnum != EACCES && e->errnum != EPERM) || geteuid() == 0 || !m ||
	    !idmap_has_subordinate(m))
		return -1;
	log_debug("removing %s in a user namespace: %s", path, e->msg);
	berr_free(e);
	return idmap_run_in_userns(m, rm_child, (void *)path, e);
}
