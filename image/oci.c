/* image/oci.c: the image documents (index, manifest, config, docker's
 * manifest.json) into structs. All of it is untrusted input: every field is
 * type-checked and errors name the document and the JSON path. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/util.h"
#include "internal.h"

#define REF_NAME_ANNOTATION "org.opencontainers.image.ref.name"

static const char *const index_types[] = {
	"application/vnd.oci.image.index.v1+json",
	"application/vnd.docker.distribution.manifest.list.v2+json",
	NULL,
};

static const char *const manifest_types[] = {
	"application/vnd.oci.image.manifest.v1+json",
	"application/vnd.docker.distribution.manifest.v2+json",
	NULL,
};

static const struct {
	const char *media_type;
	enum layer_compression comp;
} layer_types[] = {
	{"application/vnd.oci.image.layer.v1.tar", COMP_NONE},
	{"application/vnd.oci.image.layer.v1.tar+gzip", COMP_GZIP},
	{"application/vnd.oci.image.layer.v1.tar+zstd", COMP_ZSTD},
	{"application/vnd.oci.image.layer.nondistributable.v1.tar", COMP_NONE},
	{"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", COMP_GZIP},
	{"application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", COMP_ZSTD},
	{"application/vnd.docker.image.rootfs.diff.tar", COMP_NONE},
	{"application/vnd.docker.image.rootfs.diff.tar.gzip", COMP_GZIP},
	{"application/vnd.docker.image.rootfs.diff.tar.zstd", COMP_ZSTD},
	{"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", COMP_GZIP},
};

enum doc_kind doc_kind_of(const char *media_type)
{
	if (!media_type)
		return DOC_UNKNOWN;
	if (strv_contains((char *const *)index_types, media_type))
		return DOC_INDEX;
	if (strv_contains((char *const *)manifest_types, media_type))
		return DOC_MANIFEST;
	return DOC_UNKNOWN;
}

enum doc_kind doc_kind_sniff(const char *text, size_t len)
{
	_cleanup_json_ yajl_val doc = NULL;
	berr_t e = BERR_INIT;
	yajl_val mt;
	enum doc_kind k = DOC_UNKNOWN;

	if (strlen(text) != len || json_parse(text, "document", &doc, &e) < 0) {
		berr_free(&e);
		return DOC_UNKNOWN;
	}
	mt = json_get(doc, "mediaType");
	if (YAJL_IS_STRING(mt))
		k = doc_kind_of(mt->u.string);
	if (k == DOC_UNKNOWN && json_get(doc, "manifests"))
		k = DOC_INDEX;
	else if (k == DOC_UNKNOWN && json_get(doc, "layers") && json_get(doc, "config"))
		k = DOC_MANIFEST;
	return k;
}

int layer_compression_of(const char *media_type, enum layer_compression *c, berr_t *e)
{
	for (size_t i = 0; media_type && i < ARRAY_SIZE(layer_types); i++) {
		if (strcmp(layer_types[i].media_type, media_type) == 0) {
			*c = layer_types[i].comp;
			return 0;
		}
	}
	return berr_set(e, ENOTSUP, "unsupported layer media type \"%s\"",
			media_type ? media_type : "(none)");
}

const char *layer_compression_name(enum layer_compression c)
{
	static const char *const names[] = {"none", "gzip", "zstd", "sniffed"};

	return names[c];
}

/* JSON text from a blob: NUL-terminated, no NUL inside. */
static int parse_doc(const char *text, size_t len, const char *what, yajl_val *doc, berr_t *e)
{
	if (strlen(text) != len)
		return berr_set(e, EINVAL, "%s: invalid JSON: contains a NUL byte", what);
	if (json_parse(text, what, doc, e) < 0)
		return -1;
	if (json_expect_object(*doc, what, e) < 0)
		return -1;
	return 0;
}

void descriptor_free(struct descriptor *d)
{
	free(d->media_type);
	free(d->ref_name);
	free(d->os);
	free(d->architecture);
	free(d->variant);
	memset(d, 0, sizeof *d);
}

static int parse_platform(yajl_val v, const char *path, struct descriptor *d, berr_t *e)
{
	if (json_expect_object(v, path, e) < 0 ||
	    json_field_str(v, path, "os", true, &d->os, e) < 0 ||
	    json_field_str(v, path, "architecture", true, &d->architecture, e) < 0 ||
	    json_field_str(v, path, "variant", false, &d->variant, e) < 0)
		return -1;
	d->has_platform = true;
	return 0;
}

static int parse_descriptor(yajl_val v, const char *path, struct descriptor *d, berr_t *e)
{
	_cleanup_free_ char *digest = NULL, *ann_path = NULL, *plat_path = NULL;
	yajl_val ann, plat;
	int64_t size = 0;
	bool has_size = false;

	memset(d, 0, sizeof *d);
	if (json_expect_object(v, path, e) < 0 ||
	    json_field_str(v, path, "mediaType", false, &d->media_type, e) < 0 ||
	    json_field_str(v, path, "digest", true, &digest, e) < 0 ||
	    json_field_i64(v, path, "size", false, &size, &has_size, e) < 0)
		return -1;
	if (digest_parse(digest, &d->digest, e) < 0)
		return berr_wrap(e, "%s.digest", path);
	if (has_size && size < 0)
		return berr_set(e, EINVAL, "%s.size: must not be negative", path);
	d->size = size;
	d->has_size = has_size;
	ann = json_get(v, "annotations");
	if (ann) {
		ann_path = json_path_key(path, "annotations");
		if (json_expect_object(ann, ann_path, e) < 0 ||
		    json_field_str(ann, ann_path, REF_NAME_ANNOTATION, false, &d->ref_name, e) < 0)
			return -1;
	}
	plat = json_get(v, "platform");
	if (plat) {
		plat_path = json_path_key(path, "platform");
		if (parse_platform(plat, plat_path, d, e) < 0)
			return -1;
	}
	return 0;
}

static int parse_descriptors(yajl_val v, const char *path, struct descriptor **out, size_t *n,
			     berr_t *e)
{
	size_t len;

	if (json_expect_array(v, path, e) < 0)
		return -1;
	len = v->u.array.len;
	*out = xcalloc(len, sizeof **out);
	*n = 0;
	for (size_t i = 0; i < len; i++) {
		_cleanup_free_ char *p = json_path_index(path, i);

		if (parse_descriptor(v->u.array.values[i], p, &(*out)[i], e) < 0) {
			descriptor_free(&(*out)[i]);
			return -1;
		}
		(*n)++;
	}
	return 0;
}

void oci_index_free(struct oci_index *ix)
{
	for (size_t i = 0; i < ix->n; i++)
		descriptor_free(&ix->manifests[i]);
	free(ix->manifests);
	memset(ix, 0, sizeof *ix);
}

int oci_index_parse(const char *text, size_t len, const char *what, struct oci_index *out,
		    berr_t *e)
{
	_cleanup_json_ yajl_val doc = NULL;
	yajl_val m;

	memset(out, 0, sizeof *out);
	if (parse_doc(text, len, what, &doc, e) < 0)
		return -1;
	m = json_get(doc, "manifests");
	if (!m)
		return berr_set(e, EINVAL, "%s: manifests: missing required field", what);
	if (parse_descriptors(m, "manifests", &out->manifests, &out->n, e) < 0) {
		oci_index_free(out);
		return berr_wrap(e, "%s", what);
	}
	return 0;
}

void oci_manifest_free(struct oci_manifest *m)
{
	free(m->media_type);
	descriptor_free(&m->config);
	for (size_t i = 0; i < m->n_layers; i++)
		descriptor_free(&m->layers[i]);
	free(m->layers);
	memset(m, 0, sizeof *m);
}

static int manifest_fields(yajl_val doc, struct oci_manifest *out, berr_t *e)
{
	yajl_val cfg = json_get(doc, "config"), layers = json_get(doc, "layers");

	if (json_field_str(doc, "", "mediaType", false, &out->media_type, e) < 0)
		return -1;
	if (out->media_type && doc_kind_of(out->media_type) != DOC_MANIFEST)
		return berr_set(e, EINVAL, "mediaType: \"%s\" is not an image manifest",
				out->media_type);
	if (!cfg)
		return berr_set(e, EINVAL, "config: missing required field");
	if (parse_descriptor(cfg, "config", &out->config, e) < 0)
		return -1;
	if (!layers)
		return berr_set(e, EINVAL, "layers: missing required field");
	if (parse_descriptors(layers, "layers", &out->layers, &out->n_layers, e) < 0)
		return -1;
	for (size_t i = 0; i < out->n_layers; i++) {
		enum layer_compression c;

		if (layer_compression_of(out->layers[i].media_type, &c, e) < 0)
			return berr_wrap(e, "layers[%zu].mediaType", i);
	}
	return 0;
}

int oci_manifest_parse(const char *text, size_t len, const char *what,
		       struct oci_manifest *out, berr_t *e)
{
	_cleanup_json_ yajl_val doc = NULL;

	memset(out, 0, sizeof *out);
	if (parse_doc(text, len, what, &doc, e) < 0)
		return -1;
	if (manifest_fields(doc, out, e) < 0) {
		oci_manifest_free(out);
		return berr_wrap(e, "%s", what);
	}
	return 0;
}

void image_runtime_free(struct image_runtime *rt)
{
	strv_free(rt->entrypoint);
	strv_free(rt->cmd);
	strv_free(rt->env);
	free(rt->cwd);
	free(rt->user);
	free(rt->additional_gids);
	strv_free(rt->label_keys);
	strv_free(rt->label_values);
	free(rt->stop_signal);
	free(rt->os);
	free(rt->architecture);
	memset(rt, 0, sizeof *rt);
}

void oci_config_free(struct oci_config *c)
{
	free(c->os);
	free(c->architecture);
	free(c->variant);
	free(c->created);
	image_runtime_free(&c->rt);
	free(c->diff_ids);
	memset(c, 0, sizeof *c);
}

static int config_process(yajl_val cfg, struct image_runtime *rt, berr_t *e)
{
	yajl_val labels;

	if (json_expect_object(cfg, "config", e) < 0 ||
	    json_field_strv(cfg, "config", "Entrypoint", &rt->entrypoint, e) < 0 ||
	    json_field_strv(cfg, "config", "Cmd", &rt->cmd, e) < 0 ||
	    json_field_strv(cfg, "config", "Env", &rt->env, e) < 0 ||
	    json_field_str(cfg, "config", "WorkingDir", false, &rt->cwd, e) < 0 ||
	    json_field_str(cfg, "config", "User", false, &rt->user, e) < 0 ||
	    json_field_str(cfg, "config", "StopSignal", false, &rt->stop_signal, e) < 0)
		return -1;
	labels = json_get(cfg, "Labels");
	if (labels && json_as_str_map(labels, "config.Labels", &rt->label_keys, &rt->label_values,
				      e) < 0)
		return -1;
	for (size_t i = 0; rt->env && rt->env[i]; i++)
		if (!strchr(rt->env[i], '='))
			return berr_set(e, EINVAL, "config.Env[%zu]: \"%s\" is not NAME=VALUE", i,
					rt->env[i]);
	if (rt->cwd && *rt->cwd && rt->cwd[0] != '/')
		return berr_set(e, EINVAL, "config.WorkingDir: \"%s\" is not an absolute path",
				rt->cwd);
	return 0;
}

static int config_diff_ids(yajl_val rootfs, struct oci_config *out, berr_t *e)
{
	_cleanup_free_ char *type = NULL;
	yajl_val ids;

	if (json_expect_object(rootfs, "rootfs", e) < 0 ||
	    json_field_str(rootfs, "rootfs", "type", true, &type, e) < 0)
		return -1;
	if (strcmp(type, "layers") != 0)
		return berr_set(e, EINVAL, "rootfs.type: expected \"layers\", got \"%s\"", type);
	ids = json_get(rootfs, "diff_ids");
	if (!ids)
		return berr_set(e, EINVAL, "rootfs.diff_ids: missing required field");
	if (json_expect_array(ids, "rootfs.diff_ids", e) < 0)
		return -1;
	out->diff_ids = xcalloc(ids->u.array.len, sizeof *out->diff_ids);
	for (size_t i = 0; i < ids->u.array.len; i++) {
		yajl_val v = ids->u.array.values[i];

		if (!YAJL_IS_STRING(v))
			return berr_set(e, EINVAL, "rootfs.diff_ids[%zu]: expected a string", i);
		if (digest_parse(v->u.string, &out->diff_ids[i], e) < 0)
			return berr_wrap(e, "rootfs.diff_ids[%zu]", i);
		out->n_diff_ids++;
	}
	return 0;
}

static int config_fields(yajl_val doc, struct oci_config *out, berr_t *e)
{
	yajl_val cfg = json_get(doc, "config"), rootfs = json_get(doc, "rootfs");

	if (json_field_str(doc, "", "os", false, &out->os, e) < 0 ||
	    json_field_str(doc, "", "architecture", false, &out->architecture, e) < 0 ||
	    json_field_str(doc, "", "variant", false, &out->variant, e) < 0 ||
	    json_field_str(doc, "", "created", false, &out->created, e) < 0)
		return -1;
	if (cfg && config_process(cfg, &out->rt, e) < 0)
		return -1;
	out->has_user = out->rt.user && *out->rt.user;
	if (!rootfs)
		return berr_set(e, EINVAL, "rootfs: missing required field");
	if (config_diff_ids(rootfs, out, e) < 0)
		return -1;
	out->rt.os = out->os ? xstrdup(out->os) : NULL;
	out->rt.architecture = out->architecture ? xstrdup(out->architecture) : NULL;
	return 0;
}

int oci_config_parse(const char *text, size_t len, const char *what, struct oci_config *out,
		     berr_t *e)
{
	_cleanup_json_ yajl_val doc = NULL;

	memset(out, 0, sizeof *out);
	if (parse_doc(text, len, what, &doc, e) < 0)
		return -1;
	if (config_fields(doc, out, e) < 0) {
		oci_config_free(out);
		return berr_wrap(e, "%s", what);
	}
	return 0;
}

void docker_manifest_free(struct docker_manifest *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->entries[i].config);
		strv_free(m->entries[i].repo_tags);
		strv_free(m->entries[i].layers);
	}
	free(m->entries);
	memset(m, 0, sizeof *m);
}

static int docker_entry_parse(yajl_val v, const char *path, struct docker_entry *d, berr_t *e)
{
	if (json_expect_object(v, path, e) < 0 ||
	    json_field_str(v, path, "Config", true, &d->config, e) < 0 ||
	    json_field_strv(v, path, "RepoTags", &d->repo_tags, e) < 0 ||
	    json_field_strv(v, path, "Layers", &d->layers, e) < 0)
		return -1;
	if (!d->layers)
		return berr_set(e, EINVAL, "%s.Layers: missing required field", path);
	d->n_layers = strv_len(d->layers);
	return 0;
}

int docker_manifest_parse(const char *text, size_t len, struct docker_manifest *out, berr_t *e)
{
	_cleanup_json_ yajl_val doc = NULL;

	memset(out, 0, sizeof *out);
	if (strlen(text) != len)
		return berr_set(e, EINVAL, "manifest.json: invalid JSON: contains a NUL byte");
	if (json_parse(text, "manifest.json", &doc, e) < 0 ||
	    json_expect_array(doc, "manifest.json", e) < 0)
		return -1;
	out->entries = xcalloc(doc->u.array.len, sizeof *out->entries);
	for (size_t i = 0; i < doc->u.array.len; i++) {
		_cleanup_free_ char *p = json_path_index("", i);

		out->n++;
		if (docker_entry_parse(doc->u.array.values[i], p, &out->entries[i], e) < 0) {
			docker_manifest_free(out);
			return berr_wrap(e, "manifest.json");
		}
	}
	return 0;
}

int image_parse_check(const char *text, size_t len, berr_t *e)
{
	struct oci_index ix;
	struct oci_manifest m;
	struct oci_config c;
	struct docker_manifest dm;
	int r = -1;

	switch (doc_kind_sniff(text, len)) {
	case DOC_INDEX:
		if ((r = oci_index_parse(text, len, "index", &ix, e)) == 0)
			oci_index_free(&ix);
		return r;
	case DOC_MANIFEST:
		if ((r = oci_manifest_parse(text, len, "manifest", &m, e)) == 0)
			oci_manifest_free(&m);
		return r;
	case DOC_UNKNOWN:
		break;
	}
	if (len && text[0] == '[') {
		if ((r = docker_manifest_parse(text, len, &dm, e)) == 0)
			docker_manifest_free(&dm);
		return r;
	}
	if ((r = oci_config_parse(text, len, "config", &c, e)) == 0)
		oci_config_free(&c);
	return r;
}
