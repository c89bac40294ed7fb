/* image/user.c: an image config's User ("name", "uid", "name:group", ...)
 * resolved against the image's own /etc/passwd and /etc/group, the way
 * runc and docker read them; and the environment an image process gets. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/path.h"
#include "common/util.h"
#include "internal.h"

#define USER_FILE_MAX (16u << 20)
#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* One line split at ':' into at most n fields; false when it has fewer
 * than `need` or is a comment, blank or NIS (+/-) line. */
static bool split_fields(char *line, char **f, size_t n, size_t need)
{
	size_t i = 0;

	if (!*line || *line == '#' || *line == '+' || *line == '-')
		return false;
	f[i++] = line;
	for (char *p = line; *p && i < n; p++) {
		if (*p == ':') {
			*p = '\0';
			f[i++] = p + 1;
		}
	}
	for (size_t k = i; k < n; k++)
		f[k] = NULL;
	return i >= need;
}

static bool parse_id(const char *s, uint32_t *out)
{
	uint64_t v;

	if (!s || !parse_uint64(s, &v) || v >= UINT32_MAX)
		return false;
	*out = v;
	return true;
}

struct pw_match {
	bool found;
	char *name, *home;
	uint32_t uid, gid;
};

/* The first passwd line whose name is `user`, or whose uid is `user` when
 * it is a number (runc's rule). */
static void find_passwd(const char *passwd, const char *user, struct pw_match *m)
{
	_cleanup_free_ char *copy = passwd ? xstrdup(passwd) : NULL;
	uint32_t want = 0;
	bool numeric = parse_id(user, &want);
	char *save = NULL;

	memset(m, 0, sizeof *m);
	for (char *line = copy ? strtok_r(copy, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *f[7];
		uint32_t uid, gid;

		if (!split_fields(line, f, 7, 4) || !parse_id(f[2], &uid) || !parse_id(f[3], &gid))
			continue;
		if (strcmp(f[0], user) != 0 && !(numeric && uid == want))
			continue;
		m->found = true;
		m->name = xstrdup(f[0]);
		m->home = f[5] && *f[5] ? xstrdup(f[5]) : NULL;
		m->uid = uid;
		m->gid = gid;
		return;
	}
}

static bool member_of(char *members, const char *name)
{
	char *save = NULL;

	for (char *m = strtok_r(members, ",", &save); m; m = strtok_r(NULL, ",", &save))
		if (strcmp(m, name) == 0)
			return true;
	return false;
}

static void add_gid(struct image_user *u, uint32_t gid)
{
	if (gid == u->gid)
		return;
	for (size_t i = 0; i < u->n_additional_gids; i++)
		if (u->additional_gids[i] == gid)
			return;
	u->additional_gids = xreallocarray(u->additional_gids, u->n_additional_gids + 1,
					   sizeof *u->additional_gids);
	u->additional_gids[u->n_additional_gids++] = gid;
}

/* `want` by name or number: 0 and *gid set when found. With `member`,
 * instead add every group listing that user to the additional gids. */
static int scan_groups(const char *group, const char *want, uint32_t *gid, const char *member,
		       struct image_user *u)
{
	_cleanup_free_ char *copy = group ? xstrdup(group) : NULL;
	uint32_t num = 0;
	bool numeric = want && parse_id(want, &num);
	char *save = NULL;

	for (char *line = copy ? strtok_r(copy, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *f[4];
		uint32_t id;

		if (!split_fields(line, f, 4, 3) || !parse_id(f[2], &id))
			continue;
		if (member) {
			if (f[3] && member_of(f[3], member))
				add_gid(u, id);
		} else if (strcmp(f[0], want) == 0 || (numeric && id == num)) {
			*gid = id;
			return 0;
		}
	}
	return -1;
}

int image_user_resolve(const char *user, const char *passwd, const char *group,
		       struct image_user *out, berr_t *e)
{
	_cleanup_free_ char *spec = xstrdup(user && *user ? user : "0");
	char *colon = strchr(spec, ':');
	const char *uname = spec, *gname = colon ? colon + 1 : NULL;
	struct pw_match pw;

	memset(out, 0, sizeof *out);
	if (colon)
		*colon = '\0';
	if (!*uname)
		uname = "0";
	find_passwd(passwd, uname, &pw);
	if (pw.found) {
		out->uid = pw.uid;
		out->gid = pw.gid;
		out->home = steal_ptr(pw.home);
	} else if (!parse_id(uname, &out->uid)) {
		return berr_set(e, ENOENT, "user \"%s\": no such user in the image's /etc/passwd",
				uname);
	}
	if (gname && *gname && scan_groups(group, gname, &out->gid, NULL, out) < 0 &&
	    !parse_id(gname, &out->gid)) {
		free(pw.name);
		image_user_free(out);
		return berr_set(e, ENOENT, "group \"%s\": no such group in the image's /etc/group",
				gname);
	}
	if (pw.name)
		scan_groups(group, NULL, NULL, pw.name, out);
	free(pw.name);
	return 0;
}

void image_user_free(struct image_user *u)
{
	free(u->additional_gids);
	free(u->home);
	memset(u, 0, sizeof *u);
}

int user_file_read_fd(int fd, const char *path, char **out, berr_t *e)
{
	_cleanup_free_ char *buf = NULL;
	size_t n = 0, cap = 0;

	for (;;) {
		ssize_t r;

		if (n + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			buf = xrealloc(buf, cap);
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return berr_sys(e, "read the image's %s", path);
		if (r == 0)
			break;
		n += r;
		if (n > USER_FILE_MAX)
			return berr_set(e, EFBIG, "the image's %s is larger than %u bytes", path,
					USER_FILE_MAX);
	}
	buf[n] = '\0';
	/* A NUL byte ends the text: the parser sees only what is before. */
	*out = steal_ptr(buf);
	return 0;
}

static int read_user_file(int rootfd, const char *path, char **out, berr_t *e)
{
	_cleanup_close_ int fd = root_open(rootfd, path, O_RDONLY, 0, e);

	*out = NULL;
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP) {
			berr_free(e);
			return 0;
		}
		return -1;
	}
	return user_file_read_fd(fd, path, out, e);
}

int user_files_read(int rootfd, char **passwd, char **group, berr_t *e)
{
	if (read_user_file(rootfd, "/etc/passwd", passwd, e) < 0)
		return -1;
	if (read_user_file(rootfd, "/etc/group", group, e) < 0) {
		free(*passwd);
		*passwd = NULL;
		return -1;
	}
	return 0;
}

static bool env_has(char *const *env, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; env && env[i]; i++)
		if (strncmp(env[i], name, n) == 0 && env[i][n] == '=')
			return true;
	return false;
}

int user_apply(struct image_runtime *rt, const char *passwd, const char *group, berr_t *e)
{
	struct image_user u;
	size_t n = strv_len(rt->env);

	if (image_user_resolve(rt->user, passwd, group, &u, e) < 0)
		return -1;
	rt->uid = u.uid;
	rt->gid = u.gid;
	free(rt->additional_gids);
	rt->additional_gids = steal_ptr(u.additional_gids);
	rt->n_additional_gids = u.n_additional_gids;
	/* As docker and podman do: a PATH when the image sets none, and the
	 * user's HOME unless the image chose one. */
	if (!env_has(rt->env, "PATH"))
		strv_append(&rt->env, &n, xstrdup(DEFAULT_PATH));
	if (!env_has(rt->env, "HOME"))
		strv_append(&rt->env, &n, xasprintf("HOME=%s", u.home ? u.home : "/"));
	if (!rt->cwd || !*rt->cwd) {
		free(rt->cwd);
		rt->cwd = xstrdup("/");
	}
	image_user_free(&u);
	return 0;
}
