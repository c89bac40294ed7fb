/* image/resolve.c: from a reference to a manifest, a verified config and the
 * layers to apply: index.json (or docker's manifest.json), nested indexes,
 * the host's platform. Every blob read here is size- and digest-checked. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/log.h"
#include "common/util.h"
#include "internal.h"

#define INDEX_MAX (4u << 20)     /* image-spec: manifests up to 4 MB */
#define CONFIG_MAX (32u << 20)
#define MAX_NESTING 8

static bool path_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static void descriptor_copy(struct descriptor *dst, const struct descriptor *src)
{
	*dst = *src;
	dst->media_type = src->media_type ? xstrdup(src->media_type) : NULL;
	dst->ref_name = src->ref_name ? xstrdup(src->ref_name) : NULL;
	dst->os = src->os ? xstrdup(src->os) : NULL;
	dst->architecture = src->architecture ? xstrdup(src->architecture) : NULL;
	dst->variant = src->variant ? xstrdup(src->variant) : NULL;
}

static char *tag_list(const struct oci_index *ix)
{
	size_t cap = 1, len = 0;
	char *out = xzalloc(cap);

	for (size_t i = 0; i < ix->n; i++) {
		const char *t = ix->manifests[i].ref_name;

		if (!t)
			continue;
		out = xrealloc(out, cap += strlen(t) + 2);
		len += sprintf(out + len, "%s%s", len ? ", " : "", t);
	}
	return out;
}

/* The descriptor of index.json the reference names. */
static int pick_top(const struct oci_index *ix, const struct image_ref *ref, const char *path,
		    struct descriptor *out, berr_t *e)
{
	_cleanup_free_ char *tags = NULL;

	if (ref->digest) {
		struct digest d;

		if (digest_parse(ref->digest, &d, e) < 0)
			return -1;
		for (size_t i = 0; i < ix->n; i++) {
			if (digest_equal(&ix->manifests[i].digest, &d)) {
				descriptor_copy(out, &ix->manifests[i]);
				return 0;
			}
		}
		/* Any manifest or index blob of the layout may be named. */
		memset(out, 0, sizeof *out);
		out->digest = d;
		return 0;
	}
	for (size_t i = 0; ref->tag && i < ix->n; i++) {
		if (ix->manifests[i].ref_name && !strcmp(ix->manifests[i].ref_name, ref->tag)) {
			descriptor_copy(out, &ix->manifests[i]);
			return 0;
		}
	}
	if (!ref->tag && ix->n == 1) {
		descriptor_copy(out, &ix->manifests[0]);
		return 0;
	}
	for (size_t i = 0; !ref->tag && i < ix->n; i++) {
		if (ix->manifests[i].ref_name && !strcmp(ix->manifests[i].ref_name, "latest")) {
			descriptor_copy(out, &ix->manifests[i]);
			return 0;
		}
	}
	tags = tag_list(ix);
	if (ref->tag)
		return berr_set(e, ENOENT, "%s: no image tagged \"%s\" (tags: %s)", path, ref->tag,
				*tags ? tags : "none");
	return berr_set(e, EINVAL, "%s holds %zu images: name one with %s:TAG (tags: %s)", path,
			ix->n, path, *tags ? tags : "none");
}

static int read_index_json(struct source *s, struct oci_index *ix, berr_t *e)
{
	_cleanup_free_ char *text = NULL;
	size_t len;

	if (source_read_member(s, "index.json", INDEX_MAX, &text, &len, e) < 0)
		return -1;
	return oci_index_parse(text, len, "index.json", ix, e);
}

int image_top_digest(const char *ref, struct digest *out, berr_t *e)
{
	struct image_ref r;
	struct source s;
	struct oci_index ix = {0};
	struct descriptor top = {0};
	struct stat st;
	int ret = -1;

	if (image_ref_parse(ref, path_exists, &r, e) < 0)
		return -1;
	memset(&s, 0, sizeof s);
	s.fd = -1;
	if (stat(r.path, &st) < 0 || !S_ISDIR(st.st_mode)) {
		berr_set(e, ENOTSUP, "not a layout directory");
		goto out;
	}
	if (r.digest) {
		ret = digest_parse(r.digest, out, e);
		goto out;
	}
	if (source_open(r.path, &s, e) < 0 || read_index_json(&s, &ix, e) < 0 ||
	    pick_top(&ix, &r, r.path, &top, e) < 0)
		goto out;
	*out = top.digest;
	ret = 0;
out:
	descriptor_free(&top);
	oci_index_free(&ix);
	source_close(&s);
	image_ref_free(&r);
	return ret;
}

static const char *platform_name(const char *os, const char *arch, const char *variant,
				 char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s%s%s", os ? os : "?", arch ? arch : "?", variant ? "/" : "",
		 variant ? variant : "");
	return buf;
}

/* The best manifest of an index for this host. */
static int pick_platform(const struct oci_index *ix, const char *what, struct descriptor *out,
			 berr_t *e)
{
	struct image_platform host;
	int best = -1;
	size_t best_i = 0;
	char hb[64], buf[64];
	_cleanup_free_ char *seen = xstrdup("");

	image_host_platform(&host);
	for (size_t i = 0; i < ix->n; i++) {
		const struct descriptor *d = &ix->manifests[i];
		struct image_platform cand = {d->os, d->architecture, d->variant};
		int score = image_platform_score(&host, &cand);
		char *more;

		if (score > best) {
			best = score;
			best_i = i;
		}
		more = xasprintf("%s%s%s", seen, *seen ? ", " : "",
				 platform_name(d->os, d->architecture, d->variant, buf, sizeof buf));
		free(seen);
		seen = more;
	}
	if (best < 0)
		return berr_set(e, ENOENT, "%s: no image for %s (it has: %s)", what,
				platform_name(host.os, host.architecture, host.variant, hb, sizeof hb),
				*seen ? seen : "nothing");
	descriptor_free(out);
	descriptor_copy(out, &ix->manifests[best_i]);
	return 0;
}

/* Follow indexes down to a manifest; img->manifest and img->m get it. */
static int descend(struct image *img, struct descriptor *d, int depth, berr_t *e)
{
	_cleanup_free_ char *text = NULL, *name = digest_string(&d->digest);
	size_t len;
	enum doc_kind kind;

	if (depth > MAX_NESTING)
		return berr_set(e, ELOOP, "index %s: nested more than %d levels deep", name, MAX_NESTING);
	if (source_read_blob(&img->src, d, INDEX_MAX, &text, &len, e) < 0)
		return -1;
	kind = doc_kind_of(d->media_type);
	if (kind == DOC_UNKNOWN)
		kind = doc_kind_sniff(text, len);
	if (kind == DOC_INDEX) {
		_cleanup_free_ char *what = xasprintf("index %s", name);
		struct oci_index ix;
		struct descriptor next = {0};
		int r;

		if (oci_index_parse(text, len, what, &ix, e) < 0)
			return -1;
		r = pick_platform(&ix, what, &next, e);
		oci_index_free(&ix);
		if (r == 0)
			r = descend(img, &next, depth + 1, e);
		descriptor_free(&next);
		return r;
	}
	if (kind != DOC_MANIFEST)
		return berr_set(e, EINVAL, "blob %s is neither an image index nor a manifest", name);
	{
		_cleanup_free_ char *what = xasprintf("manifest %s", name);

		if (oci_manifest_parse(text, len, what, &img->m, e) < 0)
			return -1;
	}
	descriptor_copy(&img->manifest, d);
	return 0;
}

static int load_config_oci(struct image *img, berr_t *e)
{
	_cleanup_free_ char *text = NULL, *name = digest_string(&img->m.config.digest);
	_cleanup_free_ char *what = xasprintf("config %s", name);
	size_t len;

	if (source_read_blob(&img->src, &img->m.config, CONFIG_MAX, &text, &len, e) < 0 ||
	    oci_config_parse(text, len, what, &img->cfg, e) < 0)
		return -1;
	if (img->cfg.n_diff_ids != img->m.n_layers)
		return berr_set(e, EINVAL, "%s: %zu diff_ids for %zu layers", what, img->cfg.n_diff_ids,
				img->m.n_layers);
	img->layer_members = xcalloc(img->m.n_layers + 1, sizeof(char *));
	img->layer_comp = xcalloc(img->m.n_layers + 1, sizeof *img->layer_comp);
	for (size_t i = 0; i < img->m.n_layers; i++) {
		img->layer_members[i] = blob_member_name(&img->m.layers[i].digest);
		if (layer_compression_of(img->m.layers[i].media_type, &img->layer_comp[i], e) < 0)
			return -1;
	}
	return 0;
}

static int resolve_oci(struct image *img, berr_t *e)
{
	struct oci_index ix;

	if (read_index_json(&img->src, &ix, e) < 0)
		return -1;
	if (pick_top(&ix, &img->ref, img->src.path, &img->top, e) < 0) {
		oci_index_free(&ix);
		return -1;
	}
	oci_index_free(&ix);
	if (descend(img, &img->top, 0, e) < 0)
		return -1;
	return load_config_oci(img, e);
}

/* ---- docker-archive ---- */

/* "busybox" matches "busybox:latest", "localhost/busybox:latest" and
 * "docker.io/library/busybox:latest", as docker and podman name them. */
static char *normal_tag(const char *t)
{
	static const char *const prefixes[] = {"docker.io/library/", "docker.io/", "localhost/"};
	const char *slash, *colon;

	for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++) {
		if (str_has_prefix(t, prefixes[i])) {
			t += strlen(prefixes[i]);
			break;
		}
	}
	slash = strrchr(t, '/');
	colon = strrchr(t, ':');
	if (colon && (!slash || colon > slash))
		return xstrdup(t);
	return xasprintf("%s:latest", t);
}

static bool tag_matches(char *const *tags, const char *want)
{
	_cleanup_free_ char *w = normal_tag(want);

	for (size_t i = 0; tags && tags[i]; i++) {
		_cleanup_free_ char *t = normal_tag(tags[i]);

		if (strcmp(tags[i], want) == 0 || strcmp(t, w) == 0)
			return true;
	}
	return false;
}

/* "<hex>.json" (docker save, podman save) or "blobs/sha256/<hex>" (docker
 * 25 and later) name the config by its digest. */
static bool digest_from_member(const char *member, struct digest *d)
{
	_cleanup_free_ char *clean = image_tar_path(member);
	_cleanup_free_ char *s = NULL;
	berr_t e = BERR_INIT;
	const char *base;
	int r;

	if (!clean)
		return false;
	if (str_has_prefix(clean, "blobs/sha256/"))
		s = xasprintf("sha256:%s", clean + strlen("blobs/sha256/"));
	else if (str_has_suffix(clean, ".json") && !strchr(clean, '/'))
		s = xasprintf("sha256:%.*s", (int)(strlen(clean) - 5), clean);
	else
		return false;
	base = s;
	r = digest_parse(base, d, &e);
	berr_free(&e);
	return r == 0;
}

static int pick_docker_entry(const struct docker_manifest *dm, const struct image *img,
			     size_t *out, berr_t *e)
{
	if (img->ref.digest) {
		struct digest want, d;

		if (digest_parse(img->ref.digest, &want, e) < 0)
			return -1;
		for (size_t i = 0; i < dm->n; i++) {
			if (digest_from_member(dm->entries[i].config, &d) && digest_equal(&d, &want)) {
				*out = i;
				return 0;
			}
		}
		return berr_set(e, ENOENT, "%s: no image with config %s", img->src.path, img->ref.digest);
	}
	for (size_t i = 0; img->ref.tag && i < dm->n; i++) {
		if (tag_matches(dm->entries[i].repo_tags, img->ref.tag)) {
			*out = i;
			return 0;
		}
	}
	if (img->ref.tag)
		return berr_set(e, ENOENT, "%s: no image tagged \"%s\"", img->src.path, img->ref.tag);
	if (dm->n != 1)
		return berr_set(e, EINVAL, "%s holds %zu images: name one with %s:NAME:TAG",
				img->src.path, dm->n, img->src.path);
	*out = 0;
	return 0;
}

static int docker_config(struct image *img, const struct docker_entry *de, berr_t *e)
{
	_cleanup_free_ char *text = NULL, *clean = image_tar_path(de->config), *what = NULL;
	struct digest named, got;
	size_t len;

	if (!clean)
		return berr_set(e, EINVAL, "manifest.json: empty Config");
	if (source_read_member(&img->src, clean, CONFIG_MAX, &text, &len, e) < 0 ||
	    digest_buffer(DIGEST_SHA256, text, len, &got, e) < 0)
		return -1;
	what = xasprintf("config %s", clean);
	/* The name is the digest when it has that form: check it. */
	if (digest_from_member(de->config, &named) && digest_check(&named, &got, what, e) < 0)
		return -1;
	if (oci_config_parse(text, len, what, &img->cfg, e) < 0)
		return -1;
	img->top.digest = got;
	img->top.media_type = xstrdup("application/vnd.docker.container.image.v1+json");
	img->top.size = len;
	img->top.has_size = true;
	img->m.config.digest = got;
	img->m.config.media_type = xstrdup(img->top.media_type);
	img->m.config.size = len;
	img->m.config.has_size = true;
	return 0;
}

static int resolve_docker(struct image *img, berr_t *e)
{
	_cleanup_free_ char *text = NULL;
	struct docker_manifest dm;
	const struct docker_entry *de;
	size_t len, idx = 0;
	int ret = -1;

	if (source_read_member(&img->src, "manifest.json", INDEX_MAX, &text, &len, e) < 0 ||
	    docker_manifest_parse(text, len, &dm, e) < 0)
		return -1;
	if (pick_docker_entry(&dm, img, &idx, e) < 0)
		goto out;
	de = &dm.entries[idx];
	if (docker_config(img, de, e) < 0)
		goto out;
	if (img->cfg.n_diff_ids != de->n_layers) {
		berr_set(e, EINVAL, "%s: %zu diff_ids in the config for %zu layers", img->src.path,
			 img->cfg.n_diff_ids, de->n_layers);
		goto out;
	}
	img->m.n_layers = de->n_layers;
	img->m.layers = xcalloc(de->n_layers + 1, sizeof *img->m.layers);
	img->layer_members = xcalloc(de->n_layers + 1, sizeof(char *));
	img->layer_comp = xcalloc(de->n_layers + 1, sizeof *img->layer_comp);
	for (size_t i = 0; i < de->n_layers; i++) {
		img->layer_members[i] = image_tar_path(de->layers[i]);
		if (!img->layer_members[i]) {
			berr_set(e, EINVAL, "manifest.json: Layers[%zu] is empty", i);
			goto out;
		}
		/* docker layers are named by path; their diff_id checks them. */
		img->m.layers[i].digest = img->cfg.diff_ids[i];
		img->m.layers[i].media_type = xstrdup("application/vnd.docker.image.rootfs.diff.tar");
		img->layer_comp[i] = COMP_SNIFF;
	}
	ret = 0;
out:
	docker_manifest_free(&dm);
	return ret;
}

int image_open(const char *ref, struct image **out, berr_t *e)
{
	struct image *img = xzalloc(sizeof *img);

	img->src.fd = -1;
	if (image_ref_parse(ref, path_exists, &img->ref, e) < 0 ||
	    source_open(img->ref.path, &img->src, e) < 0 ||
	    (img->src.kind == SOURCE_DOCKER_ARCHIVE ? resolve_docker(img, e) : resolve_oci(img, e)) < 0) {
		image_free(img);
		return -1;
	}
	*out = img;
	return 0;
}

void image_free(struct image *img)
{
	if (!img)
		return;
	source_close(&img->src);
	image_ref_free(&img->ref);
	descriptor_free(&img->top);
	descriptor_free(&img->manifest);
	oci_manifest_free(&img->m);
	oci_config_free(&img->cfg);
	strv_free(img->layer_members);
	free(img->layer_comp);
	free(img);
}
