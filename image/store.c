/* image/store.c: the layer store: each layer unpacked once (under a lock,
 * into a temporary directory renamed when complete) in overlayfs form, the
 * records that let a stored image start without reading a blob, and the
 * per-container directories of run --image. Layout: see image/image.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/json.h"
#include "common/log.h"
#include "common/util.h"
#include "internal.h"

#define MAX_SYMLINK_HOPS 40
#define RECORD_VERSION 1

char *image_store_default(void)
{
	const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");

	if (geteuid() == 0)
		return xstrdup("/var/lib/berth");
	if (xdg && *xdg == '/')
		return xasprintf("%s/berth", xdg);
	if (home && *home == '/')
		return xasprintf("%s/.local/share/berth", home);
	return xasprintf("/tmp/berth-store-%u", (unsigned)geteuid());
}

void image_prepared_free(struct image_prepared *p)
{
	image_runtime_free(&p->rt);
	strv_free(p->lowerdirs);
	memset(p, 0, sizeof *p);
}

/* ---- merged lookups across layer directories (overlayfs semantics) ---- */

static bool is_whiteout(const struct stat *st)
{
	return S_ISCHR(st->st_mode) && st->st_rdev == 0;
}

static bool is_opaque(int layerfd, const char *rel)
{
	_cleanup_close_ int fd = openat(layerfd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	char v[2];

	if (fd < 0)
		return false;
	return (fgetxattr(fd, "trusted.overlay.opaque", v, sizeof v) == 1 && v[0] == 'y') ||
	       (fgetxattr(fd, "user.overlay.opaque", v, sizeof v) == 1 && v[0] == 'y');
}

struct lookup {
	const int *fds;
	size_t n;
	size_t *active, n_active;   /* layers where the prefix is a visible directory */
	size_t *next;
};

/* The layers that see `rel` (the prefix's next component) as a directory,
 * or the one layer that has it as a non-directory (*nondir). */
static void lookup_step(struct lookup *lk, const char *rel, ssize_t *nondir, struct stat *nst)
{
	size_t n_next = 0;

	*nondir = -1;
	for (size_t k = 0; k < lk->n_active; k++) {
		size_t l = lk->active[k];
		struct stat st;

		if (fstatat(lk->fds[l], rel, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (is_whiteout(&st))
			break;
		if (S_ISDIR(st.st_mode)) {
			lk->next[n_next++] = l;
			if (is_opaque(lk->fds[l], rel))
				break;
			continue;
		}
		/* A file under a directory of an upper layer is hidden. */
		if (!n_next) {
			*nondir = l;
			*nst = st;
		}
		break;
	}
	memcpy(lk->active, lk->next, n_next * sizeof *lk->next);
	lk->n_active = n_next;
}

static char *follow_link(int layerfd, const char *rel, const char *prefix, const char *rest,
			 berr_t *e)
{
	char target[PATH_MAX];
	ssize_t n = readlinkat(layerfd, rel, target, sizeof target - 1);
	_cleanup_free_ char *joined = NULL;

	if (n < 0)
		return berr_sys(e, "readlink \"%s\"", rel), NULL;
	target[n] = '\0';
	if (target[0] == '/')
		joined = xasprintf("%s%s%s", target, *rest ? "/" : "", rest);
	else
		joined = xasprintf("%s%s%s%s%s", prefix, *prefix ? "/" : "", target, *rest ? "/" : "",
				   rest);
	return image_tar_path(joined);
}

static void lookup_start(struct lookup *lk)
{
	lk->n_active = 0;
	for (size_t l = 0; l < lk->n; l++) {
		lk->active[lk->n_active++] = l;
		if (is_opaque(lk->fds[l], "."))
			break;
	}
}

/* One pass over the components of cur; 1 when a symlink restarted it
 * (cur replaced), 0 when resolved (hit filled), -1 on error. */
static int lookup_pass(struct lookup *lk, char **cur, bool follow_last, const char *path,
		       struct layer_hit *hit, berr_t *e)
{
	_cleanup_free_ char *prefix = xstrdup("");
	_cleanup_free_ char *copy = xstrdup(*cur);
	char *p = copy, *comp;

	lookup_start(lk);
	while ((comp = strsep(&p, "/"))) {
		_cleanup_free_ char *rel = *prefix ? xasprintf("%s/%s", prefix, comp) : xstrdup(comp);
		bool last = p == NULL;
		ssize_t nondir;
		struct stat st;

		lookup_step(lk, rel, &nondir, &st);
		if (nondir >= 0) {
			if (S_ISLNK(st.st_mode) && (!last || follow_last)) {
				char *to = follow_link(lk->fds[nondir], rel, prefix, p ? p : "", e);

				if (!to)
					return -1;
				free(*cur);
				*cur = to;
				return 1;
			}
			if (!last)
				return berr_set(e, ENOTDIR, "\"%s\": not a directory", rel);
			hit->layer = nondir;
			hit->st = st;
			hit->rel = steal_ptr(rel);
			return 0;
		}
		if (!lk->n_active)
			return berr_set(e, ENOENT, "\"%s\": no such file in the image", path);
		if (last) {
			hit->layer = lk->active[0];
			if (fstatat(lk->fds[hit->layer], rel, &hit->st, AT_SYMLINK_NOFOLLOW) < 0)
				return berr_sys(e, "stat \"%s\"", rel);
			hit->rel = steal_ptr(rel);
			return 0;
		}
		free(prefix);
		prefix = steal_ptr(rel);
	}
	return berr_set(e, EINVAL, "\"%s\": empty path", path);
}

int layers_lookup(const int *layerfds, size_t n, const char *path, bool follow_last,
		  struct layer_hit *hit, berr_t *e)
{
	_cleanup_free_ char *cur = image_tar_path(path);
	_cleanup_free_ size_t *active = xcalloc(n + 1, sizeof *active);
	_cleanup_free_ size_t *next = xcalloc(n + 1, sizeof *next);
	struct lookup lk = {layerfds, n, active, 0, next};

	memset(hit, 0, sizeof *hit);
	hit->layer = -1;
	if (!n)
		return berr_set(e, ENOENT, "\"%s\": no layers", path);
	for (int hops = 0; hops <= MAX_SYMLINK_HOPS; hops++) {
		int r;

		if (!cur || !strcmp(cur, ".")) {
			hit->layer = 0;
			hit->rel = xstrdup(".");
			return fstatat(layerfds[0], ".", &hit->st, 0) < 0 ? berr_sys(e, "stat the root") : 0;
		}
		r = lookup_pass(&lk, &cur, follow_last, path, hit, e);
		if (r <= 0)
			return r;
		hit->followed = true;
	}
	return berr_set(e, ELOOP, "\"%s\": too many levels of symbolic links", path);
}

int layers_open(const int *layerfds, size_t n, const char *path, int flags, berr_t *e)
{
	struct layer_hit hit;
	int fd;

	if (layers_lookup(layerfds, n, path, !(flags & O_NOFOLLOW), &hit, e) < 0)
		return -1;
	fd = openat(layerfds[hit.layer], hit.rel, flags | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		berr_sys(e, "open \"%s\"", hit.rel);
	free(hit.rel);
	return fd;
}

/* ---- the store's directories ---- */

static int store_open(const char *store, char **abs, int *fd, berr_t *e)
{
	static const char *const subdirs[] = {"layers", "layers/sha256", "layers/sha512",
					      "layers/chain", "images", "locks", "tmp", "containers"};
	char real[PATH_MAX];
	_cleanup_close_ int dfd = -1;

	if (mkdir_p(store, 0700, e) < 0)
		return berr_wrap(e, "image store");
	if (!realpath(store, real))
		return berr_sys(e, "image store \"%s\"", store);
	dfd = open(real, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return berr_sys(e, "open image store \"%s\"", real);
	for (size_t i = 0; i < ARRAY_SIZE(subdirs); i++)
		if (mkdirat(dfd, subdirs[i], 0700) < 0 && errno != EEXIST)
			return berr_sys(e, "mkdir \"%s/%s\"", real, subdirs[i]);
	*abs = xstrdup(real);
	*fd = steal_fd(dfd);
	return 0;
}

static bool dir_exists_at(int dfd, const char *name)
{
	struct stat st;

	return fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

static char *record_name(const struct digest *d)
{
	return xasprintf("images/%s-%s.json", digest_alg_name(d->alg), d->hex);
}

/* ---- records ---- */

static void write_runtime(struct json_writer *w, const struct image_runtime *rt)
{
	json_key(w, "runtime");
	json_begin_map(w);
	if (rt->entrypoint)
		json_kv_strv(w, "entrypoint", rt->entrypoint);
	if (rt->cmd)
		json_kv_strv(w, "cmd", rt->cmd);
	json_kv_strv(w, "env", rt->env);
	json_kv_str(w, "cwd", rt->cwd ? rt->cwd : "/");
	if (rt->user)
		json_kv_str(w, "user", rt->user);
	json_kv_u64(w, "uid", rt->uid);
	json_kv_u64(w, "gid", rt->gid);
	json_key(w, "additionalGids");
	json_begin_array(w);
	for (size_t i = 0; i < rt->n_additional_gids; i++)
		json_u64(w, rt->additional_gids[i]);
	json_end_array(w);
	json_key(w, "labels");
	json_begin_map(w);
	for (size_t i = 0; rt->label_keys && rt->label_keys[i]; i++)
		json_kv_str(w, rt->label_keys[i], rt->label_values[i]);
	json_end_map(w);
	if (rt->stop_signal)
		json_kv_str(w, "stopSignal", rt->stop_signal);
	if (rt->os)
		json_kv_str(w, "os", rt->os);
	if (rt->architecture)
		json_kv_str(w, "architecture", rt->architecture);
	json_end_map(w);
}

static int record_write(int storefd, const struct digest *key, const struct image *img,
			const struct image_runtime *rt, char *const *layer_dirs, berr_t *e)
{
	struct json_writer *w = json_writer_new();
	_cleanup_free_ char *name = record_name(key);
	_cleanup_free_ char *manifest = img->src.kind != SOURCE_DOCKER_ARCHIVE
						? digest_string(&img->manifest.digest) : NULL;
	_cleanup_free_ char *config = digest_string(&img->m.config.digest);
	int ret;

	json_begin_map(w);
	json_kv_u64(w, "version", RECORD_VERSION);
	if (manifest)
		json_kv_str(w, "manifest", manifest);
	json_kv_str(w, "config", config);
	json_kv_strv(w, "layers", layer_dirs);
	write_runtime(w, rt);
	json_end_map(w);
	ret = write_file_atomic_at(storefd, name, json_writer_str(w), json_writer_len(w), 0600, e);
	json_writer_free(w);
	return ret;
}

static int read_gids(yajl_val v, struct image_runtime *rt, berr_t *e)
{
	if (!v)
		return 0;
	if (json_expect_array(v, "runtime.additionalGids", e) < 0)
		return -1;
	rt->additional_gids = xcalloc(v->u.array.len + 1, sizeof *rt->additional_gids);
	for (size_t i = 0; i < v->u.array.len; i++) {
		_cleanup_free_ char *p = json_path_index("runtime.additionalGids", i);

		if (json_as_u32(v->u.array.values[i], p, &rt->additional_gids[i], e) < 0)
			return -1;
		rt->n_additional_gids++;
	}
	return 0;
}

static int read_runtime(yajl_val r, struct image_runtime *rt, berr_t *e)
{
	const char *p = "runtime";
	yajl_val labels = json_get(r, "labels");

	if (json_expect_object(r, p, e) < 0 ||
	    json_field_strv(r, p, "entrypoint", &rt->entrypoint, e) < 0 ||
	    json_field_strv(r, p, "cmd", &rt->cmd, e) < 0 ||
	    json_field_strv(r, p, "env", &rt->env, e) < 0 ||
	    json_field_str(r, p, "cwd", false, &rt->cwd, e) < 0 ||
	    json_field_str(r, p, "user", false, &rt->user, e) < 0 ||
	    json_field_u32(r, p, "uid", true, &rt->uid, NULL, e) < 0 ||
	    json_field_u32(r, p, "gid", true, &rt->gid, NULL, e) < 0 ||
	    json_field_str(r, p, "stopSignal", false, &rt->stop_signal, e) < 0 ||
	    json_field_str(r, p, "os", false, &rt->os, e) < 0 ||
	    json_field_str(r, p, "architecture", false, &rt->architecture, e) < 0 ||
	    read_gids(json_get(r, "additionalGids"), rt, e) < 0)
		return -1;
	if (labels && json_as_str_map(labels, "runtime.labels", &rt->label_keys, &rt->label_values,
				      e) < 0)
		return -1;
	return 0;
}

/* 0 and *out filled on a hit; -1 on a miss (any reason: the slow path
 * rebuilds the record). */
static int record_load(int storefd, const char *store, const struct digest *key,
		       struct image_prepared *out)
{
	_cleanup_free_ char *name = record_name(key), *text = NULL;
	_cleanup_json_ yajl_val doc = NULL;
	_cleanup_strv_ char **layers = NULL;
	berr_t e = BERR_INIT;
	uint64_t version = 0;
	size_t n;
	int ret = -1;

	memset(out, 0, sizeof *out);
	if (read_file_at(storefd, name, &text, NULL, &e) < 0 || json_parse(text, name, &doc, &e) < 0 ||
	    json_field_u64(doc, "", "version", true, &version, NULL, &e) < 0 ||
	    version != RECORD_VERSION || json_field_strv(doc, "", "layers", &layers, &e) < 0 ||
	    !json_get(doc, "runtime") || read_runtime(json_get(doc, "runtime"), &out->rt, &e) < 0)
		goto out;
	n = strv_len(layers);
	out->lowerdirs = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		/* A layer removed by hand: rebuild. */
		if (!str_has_prefix(layers[i], "layers/") || strstr(layers[i], "..") ||
		    !dir_exists_at(storefd, layers[i]))
			goto out;
		out->lowerdirs[n - 1 - i] = xasprintf("%s/%s", store, layers[i]);
	}
	out->from_record = true;
	ret = 0;
out:
	if (e.msg)
		log_debug("image store: record %s not used: %s", name, e.msg);
	berr_free(&e);
	if (ret < 0)
		image_prepared_free(out);
	return ret;
}

/* ---- layers ---- */

static int chain_ids(const struct image *img, struct digest *chain, berr_t *e)
{
	for (size_t i = 0; i < img->cfg.n_diff_ids; i++) {
		_cleanup_free_ char *prev = NULL, *cur = NULL, *text = NULL;

		if (i == 0) {
			chain[0] = img->cfg.diff_ids[0];
			continue;
		}
		/* image-spec config.md: ChainID(L0|..|Ln) =
		 * Digest(ChainID(L0|..|Ln-1) + " " + DiffID(Ln)). */
		prev = digest_string(&chain[i - 1]);
		cur = digest_string(&img->cfg.diff_ids[i]);
		text = xasprintf("%s %s", prev, cur);
		if (digest_buffer(DIGEST_SHA256, text, strlen(text), &chain[i], e) < 0)
			return -1;
	}
	return 0;
}

struct layer_names {
	char *by_diff;   /* layers/ALG/HEX */
	char *by_chain;  /* layers/chain/HEX */
	char *tmp, *lock;
};

static void layer_names_make(const struct digest *diff, const struct digest *chain,
			     struct layer_names *ln)
{
	ln->by_diff = xasprintf("layers/%s/%s", digest_alg_name(diff->alg), diff->hex);
	ln->by_chain = xasprintf("layers/chain/%s", chain->hex);
	ln->tmp = xasprintf("tmp/%s-%s", digest_alg_name(diff->alg), diff->hex);
	ln->lock = xasprintf("locks/%s-%s", digest_alg_name(diff->alg), diff->hex);
}

static void layer_names_free(struct layer_names *ln)
{
	free(ln->by_diff);
	free(ln->by_chain);
	free(ln->tmp);
	free(ln->lock);
}

static const char *existing_layer(int storefd, const struct layer_names *ln)
{
	if (dir_exists_at(storefd, ln->by_diff))
		return ln->by_diff;
	if (dir_exists_at(storefd, ln->by_chain))
		return ln->by_chain;
	return NULL;
}

static int lock_layer(int storefd, const char *name, berr_t *e)
{
	int fd = openat(storefd, name, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd < 0)
		return berr_sys(e, "open lock \"%s\"", name);
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			berr_sys(e, "lock \"%s\"", name);
			close(fd);
			return -1;
		}
	}
	return fd;
}

struct unpack_ctx {
	struct image *img;
	int storefd;
	const struct image_opts *o;
	struct progress *progress;
	int *layerfds;           /* of the layers below, top first */
	size_t n_layerfds;
};

/* independent: unpacked beside the layers below it (in parallel), so
 * without them: EAGAIN when it turns out to need them. */
static int unpack_into(struct unpack_ctx *c, size_t i, int rootfd, bool independent,
		       bool *depends, berr_t *e)
{
	struct image *img = c->img;
	_cleanup_free_ char *dname = digest_string(&img->m.layers[i].digest);
	_cleanup_free_ char *what = xasprintf("layer %s", dname);
	struct extract_opts xo = {
		.overlay = true,
		.owners = c->o->userns ? OWNERS_USERNS : c->o->rootless ? OWNERS_XATTR : OWNERS_CHOWN,
		.max_bytes = c->o->max_bytes ? c->o->max_bytes : IMAGE_DEFAULT_MAX_BYTES,
		.max_entries = c->o->max_entries ? c->o->max_entries : IMAGE_DEFAULT_MAX_ENTRIES,
		.lowerfds = independent ? NULL : c->layerfds,
		.n_lowers = independent ? 0 : c->n_layerfds,
		.independent = independent,
	};
	/* The store is keyed by diff_id: always check it. */
	struct layer_job job = layer_job_of(img, i, what, true);
	struct extractor *x = extractor_new(rootfd, &xo);
	int ret;

	job.progress = progress_start(c->progress, i, dname + strlen("sha256:"), job.size);
	ret = layer_apply(&job, x, e);
	if (ret == 0)
		ret = extractor_fix_dirs(x, e);
	progress_done(job.progress, ret == 0);
	*depends = extractor_stats(x)->depends_on_lowers;
	extractor_free(x);
	return ret;
}

static int sync_dir(int storefd, const char *name)
{
	_cleanup_close_ int fd = openat(storefd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	return fd < 0 ? -1 : syncfs(fd);
}

static void remove_tmp(int storefd, const char *tmp)
{
	berr_t e = BERR_INIT;

	if (rm_rf_at(storefd, tmp, &e) < 0)
		log_berr(LOG_WARNING, &e);
	berr_free(&e);
}

/* Unpack layer i into tmp/ and rename it into place; *name gets where.
 * 1 (nothing kept) when an independent unpack needs the layers below. */
static int unpack_layer(struct unpack_ctx *c, size_t i, const struct layer_names *ln,
			bool independent, const char **name, berr_t *e)
{
	_cleanup_close_ int lock = -1, rootfd = -1;
	bool depends = false;

	lock = lock_layer(c->storefd, ln->lock, e);
	if (lock < 0)
		return -1;
	/* Another berth may have finished it while we waited. */
	if ((*name = existing_layer(c->storefd, ln)))
		return 0;
	log_debug("unpacking layer %zu (%s) into the store%s", i, ln->by_diff,
		  independent ? ", beside the others" : "");
	/* Under the lock, whatever is in tmp/ is a leftover of a crash. */
	if (rm_rf_at(c->storefd, ln->tmp, e) < 0)
		return -1;
	if (mkdirat(c->storefd, ln->tmp, 0755) < 0)
		return berr_sys(e, "mkdir \"%s\" in the image store", ln->tmp);
	rootfd = openat(c->storefd, ln->tmp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (rootfd < 0) {
		berr_sys(e, "open \"%s\"", ln->tmp);
		goto fail;
	}
	if (unpack_into(c, i, rootfd, independent, &depends, e) < 0) {
		if (independent && e->errnum == EAGAIN) {
			log_debug("layer %zu needs the layers below: %s", i, e->msg);
			berr_free(e);
			remove_tmp(c->storefd, ln->tmp);
			return 1;
		}
		goto fail;
	}
	/* A complete layer must not turn out half-written after a crash. */
	if (sync_dir(c->storefd, ln->tmp) < 0) {
		berr_sys(e, "sync the image store");
		goto fail;
	}
	*name = depends ? ln->by_chain : ln->by_diff;
	if (renameat(c->storefd, ln->tmp, c->storefd, *name) < 0) {
		berr_sys(e, "rename \"%s\" to \"%s\"", ln->tmp, *name);
		goto fail;
	}
	return 0;
fail:
	remove_tmp(c->storefd, ln->tmp);
	return -1;
}

/* ---- layers beside each other: both cores busy ----
 * Each unpack is a two-thread pipeline that keeps about one and a half
 * cores busy; two layers at a time fill the rest. A layer that turns out to
 * need the layers below (a rare, hand-made layer) is done again after them. */

struct layer_task {
	size_t i;
	struct layer_names ln;
	const char *name;        /* where it ended up, NULL while not done */
	bool deferred;
};

struct parallel {
	struct unpack_ctx *c;
	struct layer_task *tasks;
	size_t n, next;
	pthread_mutex_t mu;
	bool failed;
	berr_t err;
};

static void *parallel_worker(void *arg)
{
	struct parallel *pl = arg;

	for (;;) {
		struct layer_task *t;
		berr_t e = BERR_INIT;
		int r;

		pthread_mutex_lock(&pl->mu);
		t = !pl->failed && pl->next < pl->n ? &pl->tasks[pl->next++] : NULL;
		pthread_mutex_unlock(&pl->mu);
		if (!t)
			return NULL;
		r = unpack_layer(pl->c, t->i, &t->ln, true, &t->name, &e);
		if (r > 0)
			t->deferred = true;
		if (r < 0) {
			pthread_mutex_lock(&pl->mu);
			if (!pl->failed)
				berr_move(&pl->err, &e);
			pl->failed = true;
			pthread_mutex_unlock(&pl->mu);
		}
		berr_free(&e);
	}
}

static int unpack_parallel(struct unpack_ctx *c, struct layer_task *tasks, size_t n, berr_t *e)
{
	struct parallel pl = {.c = c, .tasks = tasks, .n = n, .err = BERR_INIT};
	pthread_t helper;
	bool helped;

	pthread_mutex_init(&pl.mu, NULL);
	helped = pthread_create(&helper, NULL, parallel_worker, &pl) == 0;
	parallel_worker(&pl);
	if (helped)
		pthread_join(helper, NULL);
	pthread_mutex_destroy(&pl.mu);
	if (pl.failed) {
		berr_move(e, &pl.err);
		return -1;
	}
	return 0;
}

static bool use_parallel(size_t n_tasks)
{
	return n_tasks >= 2 && sysconf(_SC_NPROCESSORS_ONLN) >= 2;
}

static int add_layerfd(struct unpack_ctx *c, const char *name, berr_t *e)
{
	int fd = openat(c->storefd, name, O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return berr_sys(e, "open \"%s\" in the image store", name);
	/* Top first: shift the lower ones down. */
	memmove(c->layerfds + 1, c->layerfds, c->n_layerfds * sizeof(int));
	c->layerfds[0] = fd;
	c->n_layerfds++;
	return 0;
}

static int ensure_layers(struct unpack_ctx *c, char **dirs, berr_t *e)
{
	struct image *img = c->img;
	size_t n = img->m.n_layers, n_tasks = 0;
	_cleanup_free_ struct digest *chain = xcalloc(n + 1, sizeof *chain);
	_cleanup_free_ struct layer_task *tasks = xcalloc(n + 1, sizeof *tasks);
	_cleanup_free_ struct layer_task **of_layer = xcalloc(n + 1, sizeof *of_layer);
	int ret = 0;

	c->layerfds = xcalloc(n + 1, sizeof(int));
	if (n && chain_ids(img, chain, e) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct layer_task *t = &tasks[n_tasks];

		layer_names_make(&img->cfg.diff_ids[i], &chain[i], &t->ln);
		t->i = i;
		t->name = existing_layer(c->storefd, &t->ln);
		if (t->name) {
			dirs[i] = xstrdup(t->name);
			layer_names_free(&t->ln);
			continue;
		}
		of_layer[i] = t;
		n_tasks++;
	}
	if (use_parallel(n_tasks))
		ret = unpack_parallel(c, tasks, n_tasks, e);
	else
		for (size_t k = 0; k < n_tasks; k++)
			tasks[k].deferred = true;
	/* In order, on top of the layers below: what waited for them. */
	for (size_t i = 0; i < n && ret == 0; i++) {
		struct layer_task *t = of_layer[i];

		if (t && t->deferred)
			ret = unpack_layer(c, i, &t->ln, false, &t->name, e) < 0 ? -1 : 0;
		if (ret == 0 && t)
			dirs[i] = xstrdup(t->name);
		if (ret == 0)
			ret = add_layerfd(c, dirs[i], e);
	}
	for (size_t k = 0; k < n_tasks; k++)
		layer_names_free(&tasks[k].ln);
	return ret;
}

static int resolve_user_layers(struct unpack_ctx *c, struct image_runtime *rt, berr_t *e)
{
	_cleanup_free_ char *passwd = NULL, *group = NULL;
	static const char *const files[] = {"/etc/passwd", "/etc/group"};
	char **out[] = {&passwd, &group};

	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		_cleanup_close_ int fd = c->n_layerfds
						 ? layers_open(c->layerfds, c->n_layerfds, files[i], O_RDONLY, e)
						 : -1;

		if (fd < 0) {
			berr_free(e);
			continue;
		}
		if (user_file_read_fd(fd, files[i], out[i], e) < 0)
			return -1;
	}
	return user_apply(rt, passwd, group, e);
}

static void close_layerfds(struct unpack_ctx *c)
{
	for (size_t i = 0; i < c->n_layerfds; i++)
		close(c->layerfds[i]);
	free(c->layerfds);
	c->layerfds = NULL;
	c->n_layerfds = 0;
}

/* tmp/ entries of unpacks that died: whatever has no lock holder. */
static void sweep_tmp(int storefd)
{
	_cleanup_close_ int fd = openat(storefd, "tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;

	if (!d)
		return;
	fd = -1;
	while ((de = readdir(d))) {
		_cleanup_free_ char *lock = xasprintf("locks/%s", de->d_name);
		_cleanup_free_ char *tmp = xasprintf("tmp/%s", de->d_name);
		_cleanup_close_ int lfd = -1;
		berr_t e = BERR_INIT;

		if (de->d_name[0] == '.')
			continue;
		lfd = openat(storefd, lock, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
		if (lfd < 0 || flock(lfd, LOCK_EX | LOCK_NB) < 0)
			continue;
		log_debug("image store: removing the leftover %s", tmp);
		rm_rf_at(storefd, tmp, &e);
		berr_free(&e);
	}
	closedir(d);
}

static int prepare_slow(struct image *img, int storefd, const char *store,
			const struct image_opts *o, struct image_prepared *out, berr_t *e)
{
	size_t n = img->m.n_layers;
	_cleanup_strv_ char **dirs = xcalloc(n + 1, sizeof(char *));
	struct unpack_ctx c = {.img = img, .storefd = storefd, .o = o};
	mode_t old_umask;
	int ret = -1;

	sweep_tmp(storefd);
	c.progress = progress_new(o->quiet, n);
	/* Modes are the image's, exactly. */
	old_umask = umask(0);
	ret = ensure_layers(&c, dirs, e);
	umask(old_umask);
	if (ret < 0)
		goto out;
	ret = -1;
	runtime_copy(&out->rt, &img->cfg.rt);
	if (resolve_user_layers(&c, &out->rt, e) < 0)
		goto out;
	out->lowerdirs = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		out->lowerdirs[n - 1 - i] = xasprintf("%s/%s", store, dirs[i]);
	if (record_write(storefd, &img->top.digest, img, &out->rt, dirs, e) < 0)
		goto out;
	ret = 0;
out:
	close_layerfds(&c);
	progress_free(c.progress);
	return ret;
}

/* STORE/owners says how the store's files keep their owners; layers of one
 * kind are useless (or wrong) under another, so a store keeps one. */
static char *owners_mode(const struct image_opts *o)
{
	_cleanup_free_ char *maps = o->userns ? idmap_format(o->userns) : NULL;

	if (maps)
		return xasprintf("userns %s\n", maps);
	return xstrdup(o->rootless ? "xattr\n" : "chown\n");
}

static int check_owners(int storefd, const char *store, const struct image_opts *o, berr_t *e)
{
	_cleanup_free_ char *want = owners_mode(o), *have = NULL;

	if (read_file_at(storefd, "owners", &have, NULL, e) < 0) {
		if (e->errnum != ENOENT)
			return -1;
		berr_free(e);
		return write_file_atomic_at(storefd, "owners", want, strlen(want), 0600, e);
	}
	if (strcmp(have, want) == 0)
		return 0;
	have[strcspn(have, "\n")] = want[strcspn(want, "\n")] = '\0';
	return berr_set(e, EINVAL,
			"image store \"%s\" keeps file owners as \"%s\", this berth needs \"%s\" (the user's /etc/subuid or /etc/subgid ranges changed?): use another --store, or remove this one (its files may belong to subordinate ids: unshare --map-root-user --map-auto rm -rf %s)",
			store, have, want, store);
}

struct userns_prepare {
	struct image *img;
	int storefd;
	const char *store;
	const struct image_opts *o;
};

static int prepare_child(void *arg, berr_t *e)
{
	struct userns_prepare *p = arg;
	struct image_prepared out = {0};
	int ret = prepare_slow(p->img, p->storefd, p->store, p->o, &out, e);

	image_prepared_free(&out);
	return ret;
}

/* Rootless with subordinate ids: the layers are unpacked as root of a user
 * namespace with the container's maps, so that their owners are the ids
 * the container sees. The child writes the record; it is the answer. */
static int prepare_in_userns(struct image *img, int storefd, const char *store,
			     const struct image_opts *o, struct image_prepared *out, berr_t *e)
{
	struct userns_prepare p = {img, storefd, store, o};

	memset(out, 0, sizeof *out);
	if (idmap_run_in_userns(o->userns, prepare_child, &p, e) < 0)
		return -1;
	if (record_load(storefd, store, &img->top.digest, out) < 0)
		return berr_set(e, EIO, "image store \"%s\": the record of the unpack cannot be read",
				store);
	out->from_record = false;
	return 0;
}

int image_store_prepare(const char *store, const char *ref, const struct image_opts *o,
			struct image_prepared *out, berr_t *e)
{
	_cleanup_free_ char *abs = NULL;
	_cleanup_close_ int storefd = -1;
	struct image *img = NULL;
	struct digest top;
	berr_t miss = BERR_INIT;
	int ret;

	memset(out, 0, sizeof *out);
	if (store_open(store, &abs, &storefd, e) < 0 || check_owners(storefd, abs, o, e) < 0)
		return -1;
	if (image_top_digest(ref, &top, &miss) == 0 && record_load(storefd, abs, &top, out) == 0) {
		log_debug("image %s: from the store's record (%s-%s)", ref, digest_alg_name(top.alg),
			  top.hex);
		return 0;
	}
	berr_free(&miss);
	if (image_open(ref, &img, e) < 0)
		return -1;
	if (o->userns)
		ret = prepare_in_userns(img, storefd, abs, o, out, e);
	else
		ret = prepare_slow(img, storefd, abs, o, out, e);
	if (ret < 0)
		image_prepared_free(out);
	image_free(img);
	return ret;
}

static bool valid_id(const char *id)
{
	if (!*id || !strcmp(id, ".") || !strcmp(id, "..") || strlen(id) > 1024)
		return false;
	for (const char *p = id; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '_' || *p == '+' || *p == '-' || *p == '.'))
			return false;
	return true;
}

int image_store_container_dir(const char *store, const char *id, char **dir, berr_t *e)
{
	static const char *const subdirs[] = {"rootfs", "upper", "work"};
	_cleanup_free_ char *abs = NULL, *rel = NULL;
	_cleanup_close_ int storefd = -1, cfd = -1;

	if (!valid_id(id))
		return berr_set(e, EINVAL,
				"invalid container id \"%s\": only letters, digits and _+-. are allowed", id);
	if (store_open(store, &abs, &storefd, e) < 0)
		return -1;
	rel = xasprintf("containers/%s", id);
	if (mkdirat(storefd, rel, 0700) < 0) {
		if (errno == EEXIST)
			return berr_set(e, EEXIST, "container \"%s\" already has a directory in the image store (%s/%s)",
					id, abs, rel);
		return berr_sys(e, "mkdir \"%s/%s\"", abs, rel);
	}
	cfd = openat(storefd, rel, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	for (size_t i = 0; cfd >= 0 && i < ARRAY_SIZE(subdirs); i++) {
		if (mkdirat(cfd, subdirs[i], 0755) < 0) {
			berr_t e2 = BERR_INIT;

			berr_sys(e, "mkdir \"%s/%s/%s\"", abs, rel, subdirs[i]);
			rm_rf_at(storefd, rel, &e2);
			berr_free(&e2);
			return -1;
		}
	}
	if (cfd < 0)
		return berr_sys(e, "open \"%s/%s\"", abs, rel);
	*dir = xasprintf("%s/%s", abs, rel);
	return 0;
}
