/* image/image.c: the module's entry points for the CLI: unpack an image into
 * a bundle (all or nothing), inspect it, list what a layout or archive holds. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/json.h"
#include "common/log.h"
#include "common/util.h"
#include "internal.h"

#define INDEX_MAX (4u << 20)

static char **strv_copy_or_null(char *const *v)
{
	return v ? strv_dup(v) : NULL;
}

void runtime_copy(struct image_runtime *dst, const struct image_runtime *src)
{
	memset(dst, 0, sizeof *dst);
	dst->entrypoint = strv_copy_or_null(src->entrypoint);
	dst->cmd = strv_copy_or_null(src->cmd);
	dst->env = strv_copy_or_null(src->env);
	dst->cwd = src->cwd ? xstrdup(src->cwd) : NULL;
	dst->user = src->user ? xstrdup(src->user) : NULL;
	dst->uid = src->uid;
	dst->gid = src->gid;
	if (src->n_additional_gids) {
		dst->additional_gids = xcalloc(src->n_additional_gids, sizeof(uint32_t));
		memcpy(dst->additional_gids, src->additional_gids,
		       src->n_additional_gids * sizeof(uint32_t));
	}
	dst->n_additional_gids = src->n_additional_gids;
	dst->label_keys = strv_copy_or_null(src->label_keys);
	dst->label_values = strv_copy_or_null(src->label_values);
	dst->stop_signal = src->stop_signal ? xstrdup(src->stop_signal) : NULL;
	dst->os = src->os ? xstrdup(src->os) : NULL;
	dst->architecture = src->architecture ? xstrdup(src->architecture) : NULL;
}

/* ---- unpack ---- */

static int unpack_layers(struct image *img, int rootfd, const struct image_opts *o, berr_t *e)
{
	struct extract_opts xo = {
		.owners = o->rootless ? OWNERS_XATTR : OWNERS_CHOWN,
		.max_bytes = o->max_bytes ? o->max_bytes : IMAGE_DEFAULT_MAX_BYTES,
		.max_entries = o->max_entries ? o->max_entries : IMAGE_DEFAULT_MAX_ENTRIES,
	};
	struct extractor *x = extractor_new(rootfd, &xo);
	struct progress *prog = progress_new(o->quiet, img->m.n_layers);
	bool docker = img->src.kind == SOURCE_DOCKER_ARCHIVE;
	const struct extract_stats *st;
	int ret = 0;

	for (size_t i = 0; i < img->m.n_layers && ret == 0; i++) {
		_cleanup_free_ char *name = digest_string(&img->m.layers[i].digest);
		_cleanup_free_ char *what = xasprintf("layer %s", name);
		/* The manifest's digest of the blob proves its content; the
		 * diff_id (200 MB more to hash for a 200 MB layer) is needed
		 * only where nothing else checks the layer (docker archives)
		 * and by the store, which is keyed by it. */
		struct layer_job job = layer_job_of(img, i, what, docker);

		extractor_begin_layer(x);
		job.progress = progress_start(prog, i, name + strlen("sha256:"), job.size);
		ret = layer_apply(&job, x, e);
		progress_done(job.progress, ret == 0);
	}
	if (ret == 0)
		ret = extractor_fix_dirs(x, e);
	st = extractor_stats(x);
	if (ret == 0 && st->devices_skipped)
		log_warn("unprivileged unpack: %llu device nodes skipped",
			 (unsigned long long)st->devices_skipped);
	if (ret == 0 && st->xattrs_skipped)
		log_debug("%llu xattrs not kept", (unsigned long long)st->xattrs_skipped);
	progress_free(prog);
	extractor_free(x);
	return ret;
}

static int resolve_user_rootfs(struct image *img, int rootfd, struct image_runtime *rt,
			       berr_t *e)
{
	_cleanup_free_ char *passwd = NULL, *group = NULL;

	runtime_copy(rt, &img->cfg.rt);
	if (user_files_read(rootfd, &passwd, &group, e) < 0 || user_apply(rt, passwd, group, e) < 0)
		return -1;
	return 0;
}

static int unpack_steps(struct image *img, int bfd, const char *tmp, const struct image_opts *o,
			image_config_fn make_config, void *arg, bool *renamed, berr_t *e)
{
	_cleanup_close_ int rootfd = -1;
	_cleanup_free_ char *config = NULL;
	struct image_runtime rt = {0};
	int ret = -1;

	if (mkdirat(bfd, tmp, 0755) < 0)
		return berr_sys(e, "mkdir \"%s\"", tmp);
	rootfd = openat(bfd, tmp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (rootfd < 0)
		return berr_sys(e, "open \"%s\"", tmp);
	if (unpack_layers(img, rootfd, o, e) < 0 || resolve_user_rootfs(img, rootfd, &rt, e) < 0)
		goto out;
	config = make_config(&rt, arg);
	if (!config) {
		berr_set(e, EINVAL, "cannot generate config.json");
		goto out;
	}
	if (renameat(bfd, tmp, bfd, "rootfs") < 0) {
		berr_sys(e, "rename \"%s\" to rootfs", tmp);
		goto out;
	}
	*renamed = true;
	if (write_file_atomic_at(bfd, "config.json", config, strlen(config), 0644, e) < 0)
		goto out;
	ret = 0;
out:
	image_runtime_free(&rt);
	return ret;
}

int image_unpack_bundle(struct image *img, const char *bundle, const struct image_opts *o,
			image_config_fn make_config, void *arg, berr_t *e)
{
	_cleanup_close_ int bfd = -1;
	_cleanup_free_ char *tmp = xasprintf(".rootfs.tmp-%d", (int)getpid());
	bool created = false, renamed = false;
	berr_t e2 = BERR_INIT;
	struct stat st;
	mode_t old_umask;
	int r;

	/* 0700, as umoci does: the rootfs holds the image's set-id files. */
	if (mkdir(bundle, 0700) == 0)
		created = true;
	else if (errno != EEXIST)
		return berr_sys(e, "mkdir bundle \"%s\"", bundle);
	bfd = open(bundle, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (bfd < 0)
		return berr_sys(e, "open bundle \"%s\"", bundle);
	if (fstatat(bfd, "rootfs", &st, AT_SYMLINK_NOFOLLOW) == 0 ||
	    fstatat(bfd, "config.json", &st, AT_SYMLINK_NOFOLLOW) == 0)
		return berr_set(e, EEXIST, "bundle \"%s\" already has a rootfs or config.json", bundle);
	/* Modes are the image's, exactly. */
	old_umask = umask(0);
	r = unpack_steps(img, bfd, tmp, o, make_config, arg, &renamed, e);
	umask(old_umask);
	if (r == 0)
		return 0;
	/* Nothing half-made stays: rm_rf_at never crosses into a mount. */
	if (rm_rf_at(bfd, renamed ? "rootfs" : tmp, &e2) < 0)
		log_berr(LOG_WARNING, &e2);
	else if (created && rmdir(bundle) < 0)
		log_warn("cannot remove bundle \"%s\": %s", bundle, strerror(errno));
	berr_free(&e2);
	return -1;
}

/* ---- inspect ---- */

static void write_descriptor(struct json_writer *w, const char *key, const struct descriptor *d)
{
	_cleanup_free_ char *digest = digest_string(&d->digest);

	json_key(w, key);
	json_begin_map(w);
	json_kv_str(w, "digest", digest);
	if (d->media_type)
		json_kv_str(w, "mediaType", d->media_type);
	if (d->has_size)
		json_kv_u64(w, "size", d->size);
	json_end_map(w);
}

static void write_config(struct json_writer *w, const struct oci_config *c)
{
	const struct image_runtime *rt = &c->rt;

	if (c->created)
		json_kv_str(w, "created", c->created);
	if (rt->user)
		json_kv_str(w, "User", rt->user);
	if (rt->entrypoint)
		json_kv_strv(w, "Entrypoint", rt->entrypoint);
	if (rt->cmd)
		json_kv_strv(w, "Cmd", rt->cmd);
	if (rt->env)
		json_kv_strv(w, "Env", rt->env);
	if (rt->cwd)
		json_kv_str(w, "WorkingDir", rt->cwd);
	if (rt->label_keys) {
		json_key(w, "Labels");
		json_begin_map(w);
		for (size_t i = 0; rt->label_keys[i]; i++)
			json_kv_str(w, rt->label_keys[i], rt->label_values[i]);
		json_end_map(w);
	}
	if (rt->stop_signal)
		json_kv_str(w, "StopSignal", rt->stop_signal);
}

static void write_layers(struct json_writer *w, const struct image *img, uint64_t *total)
{
	json_key(w, "layers");
	json_begin_array(w);
	for (size_t i = 0; i < img->m.n_layers; i++) {
		const struct descriptor *d = &img->m.layers[i];
		_cleanup_free_ char *digest = digest_string(&d->digest);
		_cleanup_free_ char *diff = digest_string(&img->cfg.diff_ids[i]);

		json_begin_map(w);
		json_kv_str(w, "digest", digest);
		json_kv_str(w, "mediaType", d->media_type);
		if (d->has_size) {
			json_kv_u64(w, "size", d->size);
			*total += d->size;
		}
		json_kv_str(w, "diffID", diff);
		json_kv_str(w, "compression", layer_compression_name(img->layer_comp[i]));
		json_end_map(w);
	}
	json_end_array(w);
}

int image_inspect_json(struct image *img, char **out, berr_t *e)
{
	struct json_writer *w = json_writer_new_pretty();
	_cleanup_free_ char *top = digest_string(&img->top.digest);
	uint64_t total = 0;

	json_begin_map(w);
	json_kv_str(w, "path", img->src.path);
	json_kv_str(w, "format", source_kind_name(img->src.kind));
	if (img->ref.tag)
		json_kv_str(w, "tag", img->ref.tag);
	json_kv_str(w, "digest", top);
	if (img->src.kind != SOURCE_DOCKER_ARCHIVE)
		write_descriptor(w, "manifest", &img->manifest);
	json_key(w, "platform");
	json_begin_map(w);
	json_kv_str(w, "os", img->cfg.os ? img->cfg.os : "");
	json_kv_str(w, "architecture", img->cfg.architecture ? img->cfg.architecture : "");
	if (img->cfg.variant)
		json_kv_str(w, "variant", img->cfg.variant);
	json_end_map(w);
	write_descriptor(w, "configDescriptor", &img->m.config);
	json_key(w, "config");
	json_begin_map(w);
	write_config(w, &img->cfg);
	json_end_map(w);
	write_layers(w, img, &total);
	json_kv_u64(w, "size", total);
	json_end_map(w);
	*out = xasprintf("%s\n", json_writer_str(w));
	json_writer_free(w);
	(void)e;
	return 0;
}

/* ---- ls ---- */

void image_tags_free(struct image_tag *tags, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(tags[i].name);
		free(tags[i].digest);
		free(tags[i].media_type);
	}
	free(tags);
}

static int list_oci(struct source *s, struct image_tag **out, size_t *n, berr_t *e)
{
	_cleanup_free_ char *text = NULL;
	struct oci_index ix;
	size_t len;

	if (source_read_member(s, "index.json", INDEX_MAX, &text, &len, e) < 0 ||
	    oci_index_parse(text, len, "index.json", &ix, e) < 0)
		return -1;
	*out = xcalloc(ix.n + 1, sizeof **out);
	for (size_t i = 0; i < ix.n; i++) {
		struct descriptor *d = &ix.manifests[i];
		struct image_tag *t = &(*out)[i];

		t->name = d->ref_name ? xstrdup(d->ref_name) : NULL;
		t->digest = digest_string(&d->digest);
		t->media_type = d->media_type ? xstrdup(d->media_type) : NULL;
		t->size = d->size;
	}
	*n = ix.n;
	oci_index_free(&ix);
	return 0;
}

static int list_docker(struct source *s, struct image_tag **out, size_t *n, berr_t *e)
{
	_cleanup_free_ char *text = NULL;
	struct docker_manifest dm;
	size_t len, count = 0;

	if (source_read_member(s, "manifest.json", INDEX_MAX, &text, &len, e) < 0 ||
	    docker_manifest_parse(text, len, &dm, e) < 0)
		return -1;
	for (size_t i = 0; i < dm.n; i++)
		count += strv_len(dm.entries[i].repo_tags) ? strv_len(dm.entries[i].repo_tags) : 1;
	*out = xcalloc(count + 1, sizeof **out);
	*n = 0;
	for (size_t i = 0; i < dm.n; i++) {
		char *const *tags = dm.entries[i].repo_tags;
		_cleanup_free_ char *clean = image_tar_path(dm.entries[i].config);
		size_t k = 0;

		do {
			struct image_tag *t = &(*out)[(*n)++];

			t->name = tags && tags[k] ? xstrdup(tags[k]) : NULL;
			t->digest = clean && str_has_suffix(clean, ".json") && !strchr(clean, '/')
					    ? xasprintf("sha256:%.*s", (int)strlen(clean) - 5, clean)
					    : clean && str_has_prefix(clean, "blobs/sha256/")
						      ? xasprintf("sha256:%s", clean + 13)
						      : NULL;
			t->media_type = xstrdup("application/vnd.docker.container.image.v1+json");
		} while (tags && tags[k] && tags[++k]);
	}
	docker_manifest_free(&dm);
	return 0;
}

int image_list(const char *path, struct image_tag **out, size_t *n, berr_t *e)
{
	struct source s;
	int ret;

	*out = NULL;
	*n = 0;
	if (source_open(path, &s, e) < 0) {
		source_close(&s);
		return -1;
	}
	ret = s.kind == SOURCE_DOCKER_ARCHIVE ? list_docker(&s, out, n, e) : list_oci(&s, out, n, e);
	source_close(&s);
	return ret;
}

struct layer_job layer_job_of(struct image *img, size_t i, const char *what, bool check_diff_id)
{
	const struct descriptor *d = &img->m.layers[i];

	return (struct layer_job){
		.src = &img->src,
		.member = img->layer_members[i],
		.what = what,
		.comp = img->layer_comp[i],
		.digest = img->src.kind == SOURCE_DOCKER_ARCHIVE ? NULL : &d->digest,
		.size = d->has_size ? d->size : 0,
		.diff_id = check_diff_id ? &img->cfg.diff_ids[i] : NULL,
	};
}
