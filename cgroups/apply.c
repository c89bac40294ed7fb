/* cgroups/apply.c: carrying out a plan of writes on a container's cgroup:
 * controllers enabled in v2 ancestors, each file written, device rules. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroups/internal.h"
#include "common/log.h"
#include "common/util.h"

int cg_read(const char *dir, const char *file, char **out, berr_t *e)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", dir, file);
	size_t len = 0;

	if (read_file(path, out, &len, e) < 0)
		return -1;
	while (len > 0 && (*out)[len - 1] == '\n')
		(*out)[--len] = '\0';
	return 0;
}

/* One write(2): cgroup files take one value (or rule) per write. Returns 0
 * or -1 with errno set. */
static int write_raw(const char *dir, const char *file, const char *value)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", dir, file);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	size_t len = strlen(value);
	ssize_t n;

	if (fd < 0)
		return -1;
	do
		n = write(fd, value, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	if ((size_t)n != len) {
		errno = EIO;
		return -1;
	}
	return 0;
}

int cg_write(const char *dir, const char *file, const char *value, berr_t *e)
{
	if (write_raw(dir, file, value) < 0)
		return berr_sys(e, "write \"%s\" to \"%s/%s\"", value, dir, file);
	return 0;
}

bool cg_kv_lookup(const char *text, const char *key, uint64_t *out)
{
	size_t kl = strlen(key);

	for (const char *line = text; line && *line;) {
		if (!strncmp(line, key, kl) && line[kl] == ' ') {
			_cleanup_free_ char *num = xstrndup(line + kl + 1, strcspn(line + kl + 1, "\n"));

			return parse_uint64(num, out);
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return false;
}

/* ---- enabling v2 controllers ---- */

int cg_enable_v2_controllers(const struct cgroup *cg, uint32_t mask, berr_t *e)
{
	const char *mount = cg->v2.mount, *leaf = cg->v2.path;
	_cleanup_free_ char *dir = xstrdup(mount);
	const char *p = leaf + strlen(mount);

	if (!mask)
		return 0;
	/* Walk mount, mount/a, mount/a/b ... down to the leaf's parent. */
	for (;;) {
		_cleanup_free_ char *current = NULL;
		uint32_t enabled;
		size_t len;

		if (cg_read(dir, "cgroup.subtree_control", &current, e) < 0)
			return berr_wrap(e, "enable cgroup v2 controllers");
		enabled = cg_v2_mask_parse(current);
		for (int c = 0; c < CG_CTRL_COUNT; c++) {
			_cleanup_free_ char *op = NULL;

			if (!(mask & CG_BIT(c)) || (enabled & CG_BIT(c)))
				continue;
			op = xasprintf("+%s", cg_ctrl_v2_name(c));
			if (write_raw(dir, "cgroup.subtree_control", op) == 0)
				continue;
			/* cgroup v2's "no internal processes" rule */
			if (errno == EBUSY)
				return berr_sys(e, "enable the %s controller in \"%s/cgroup.subtree_control\" "
						"(that cgroup has processes of its own; give the "
						"container a cgroupsPath outside it)",
						cg_ctrl_v2_name(c), dir);
			return berr_sys(e, "enable the %s controller in \"%s/cgroup.subtree_control\"",
					cg_ctrl_v2_name(c), dir);
		}
		while (*p == '/')
			p++;
		len = strcspn(p, "/");
		if (p[len] == '\0')
			return 0; /* the next component is the leaf */
		char *next = xasprintf("%s/%.*s", dir, (int)len, p);

		free(dir);
		dir = next;
		p += len;
	}
}

/* ---- writes ---- */

static const char *write_dir(const struct cgroup *cg, const struct cg_write *w, berr_t *e)
{
	const struct cg_dir *d;

	if (w->v2)
		return cg->v2.path;
	d = cg_v1_dir(cg, w->ctrl);
	if (!d) {
		berr_set(e, ENOENT, "linux.resources.%s: the container has no cgroup v1 %s directory",
			 w->key, cg_ctrl_v1_name(w->ctrl));
		return NULL;
	}
	return d->path;
}

/* cpu.max with only the period: keep the quota that is there. */
static char *keep_first_field(const char *dir, const struct cg_write *w)
{
	_cleanup_free_ char *cur = NULL;
	berr_t e = BERR_INIT;

	if (cg_read(dir, w->file, &cur, &e) < 0) {
		berr_free(&e);
		return xasprintf("max %s", w->value);
	}
	return xasprintf("%.*s %s", (int)strcspn(cur, " \n"), cur, w->value);
}

/* Returns 0, or -1 with errno of the failed write; *file names it. */
static int try_write(const char *dir, const struct cg_write *w, const char **file)
{
	_cleanup_free_ char *value = NULL;

	*file = w->file;
	if (w->flags & CGW_KEEP_FIRST_FIELD)
		value = keep_first_field(dir, w);
	if (write_raw(dir, w->file, value ? value : w->value) == 0)
		return 0;
	if (errno == ENOENT && w->alt_file) {
		*file = w->alt_file;
		if (write_raw(dir, w->alt_file, w->alt_value) == 0)
			return 0;
	}
	if (errno == ENOENT && (w->flags & CGW_OPTIONAL)) {
		log_debug("cgroup: \"%s/%s\" does not exist; skipped", dir, w->file);
		return 0;
	}
	return -1;
}

static int write_error(const struct cg_write *w, const char *dir, const char *file,
		       int err, berr_t *e)
{
	if (err == ENOENT && w->alt_file)
		return berr_set(e, err, "linux.resources.%s: neither \"%s\" nor \"%s\" exists in \"%s\" "
				"(not supported by this kernel or controller)", w->key, w->file,
				w->alt_file, dir);
	if (err == ENOENT)
		return berr_set(e, err, "linux.resources.%s: \"%s/%s\" does not exist (not supported "
				"by this kernel or controller)", w->key, dir, file);
	return berr_set(e, err, "linux.resources.%s: write \"%s\" to \"%s/%s\"", w->key,
			!strcmp(file, w->file) ? w->value : w->alt_value, dir, file);
}

static int do_write(const struct cgroup *cg, const struct cg_write *w, berr_t *e)
{
	const char *dir = write_dir(cg, w, e), *file;

	if (!dir)
		return -1;
	if (try_write(dir, w, &file) < 0)
		return write_error(w, dir, file, errno, e);
	return 0;
}

int cg_apply_plan(struct cgroup *cg, const struct cg_plan *p,
		  const struct cgroup_resources *r, berr_t *e)
{
	if (cg_enable_v2_controllers(cg, p->v2_needed, e) < 0)
		return -1;
	for (size_t i = 0; i < p->n; i++) {
		const struct cg_write *w = &p->w[i];
		const char *dir = write_dir(cg, w, e), *file;

		if (!dir)
			return -1;
		if (try_write(dir, w, &file) == 0)
			continue;
		if (errno == EINVAL && (w->flags & CGW_SWAP_ON_EINVAL) && i + 1 < p->n) {
			if (do_write(cg, &p->w[i + 1], e) < 0 || do_write(cg, w, e) < 0)
				return -1;
			i++;
			continue;
		}
		return write_error(w, dir, file, errno, e);
	}
	if (p->bpf_devices && r &&
	    cg_bpf_apply(cg->v2.path, r->devices, r->n_devices, e) < 0)
		return berr_wrap(e, "linux.resources.devices");
	return 0;
}
