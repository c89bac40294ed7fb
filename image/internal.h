/* image/internal.h: the image module's private types: digests, the OCI and
 * docker documents, sources of blobs, the layer pipeline and the extractor. */
#ifndef BERTH_IMAGE_INTERNAL_H
#define BERTH_IMAGE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "common/error.h"
#include "image.h"

/* ---- digest.c ---- */

enum digest_alg { DIGEST_SHA256, DIGEST_SHA512 };
#define DIGEST_HEX_MAX 128

struct digest {
	enum digest_alg alg;
	char hex[DIGEST_HEX_MAX + 1];
};

/* "sha256:<64 lowercase hex>" or "sha512:<128>"; anything else fails. */
int digest_parse(const char *s, struct digest *d, berr_t *e);
const char *digest_alg_name(enum digest_alg alg);
/* "sha256:hex"; malloc'd. */
char *digest_string(const struct digest *d);
bool digest_equal(const struct digest *a, const struct digest *b);

struct hasher {
	void *ctx;               /* EVP_MD_CTX */
	enum digest_alg alg;
	uint64_t bytes;
};
/* Loads libcrypto on first use. */
int hasher_init(struct hasher *h, enum digest_alg alg, berr_t *e);
void hasher_update(struct hasher *h, const void *buf, size_t len);
void hasher_final(struct hasher *h, struct digest *out);
void hasher_free(struct hasher *h);
/* The digest of a buffer. */
int digest_buffer(enum digest_alg alg, const void *buf, size_t len, struct digest *out,
		  berr_t *e);
/* "blob sha256:...: digest mismatch (content has sha256:...)". */
int digest_check(const struct digest *want, const struct digest *got, const char *what,
		 berr_t *e);

/* ---- oci.c: the documents (untrusted input, fuzzed) ---- */

struct descriptor {
	char *media_type;        /* may be NULL in index.json entries */
	struct digest digest;
	uint64_t size;
	bool has_size;
	char *ref_name;          /* org.opencontainers.image.ref.name */
	char *os, *architecture, *variant; /* platform, NULL when absent */
	bool has_platform;
};
void descriptor_free(struct descriptor *d);

struct oci_index {
	struct descriptor *manifests;
	size_t n;
};
void oci_index_free(struct oci_index *ix);

struct oci_manifest {
	char *media_type;
	struct descriptor config;
	struct descriptor *layers;
	size_t n_layers;
};
void oci_manifest_free(struct oci_manifest *m);

struct oci_config {
	char *os, *architecture, *variant, *created;
	struct image_runtime rt;   /* user unresolved: uid/gid 0 */
	bool has_user;
	struct digest *diff_ids;
	size_t n_diff_ids;
};
void oci_config_free(struct oci_config *c);

struct docker_entry {
	char *config;            /* member path of the config */
	char **repo_tags;
	char **layers;           /* member paths */
	size_t n_layers;
};
struct docker_manifest {
	struct docker_entry *entries;
	size_t n;
};
void docker_manifest_free(struct docker_manifest *m);

enum doc_kind { DOC_UNKNOWN, DOC_INDEX, DOC_MANIFEST };
/* By media type; an absent or unknown one is sniffed from the document. */
enum doc_kind doc_kind_of(const char *media_type);
enum doc_kind doc_kind_sniff(const char *text, size_t len);

int oci_index_parse(const char *text, size_t len, const char *what, struct oci_index *out,
		    berr_t *e);
int oci_manifest_parse(const char *text, size_t len, const char *what,
		       struct oci_manifest *out, berr_t *e);
int oci_config_parse(const char *text, size_t len, const char *what, struct oci_config *out,
		     berr_t *e);
int docker_manifest_parse(const char *text, size_t len, struct docker_manifest *out,
			  berr_t *e);

enum layer_compression { COMP_NONE, COMP_GZIP, COMP_ZSTD, COMP_SNIFF };
/* The compression a layer media type says; fails on unknown types. */
int layer_compression_of(const char *media_type, enum layer_compression *c, berr_t *e);
const char *layer_compression_name(enum layer_compression c);

/* ---- source.c: where blobs come from ---- */

enum source_kind { SOURCE_LAYOUT, SOURCE_OCI_ARCHIVE, SOURCE_DOCKER_ARCHIVE };

struct source {
	enum source_kind kind;
	char *path;
	int fd;                  /* layout: O_PATH of the directory; archive: the file */
};
int source_open(const char *path, struct source *s, berr_t *e);
void source_close(struct source *s);
const char *source_kind_name(enum source_kind k);

/* A whole small member (index.json, manifest.json), at most `max` bytes. */
int source_read_member(struct source *s, const char *name, size_t max, char **out,
		       size_t *len, berr_t *e);
/* A whole small blob, size- and digest-checked before it is returned. */
int source_read_blob(struct source *s, const struct descriptor *d, size_t max, char **out,
		     size_t *len, berr_t *e);
/* The member name of a blob: "blobs/sha256/HEX". malloc'd. */
char *blob_member_name(const struct digest *d);

/* A stream of a large member, read in blocks. */
struct blob_stream {
	/* > 0: bytes at *buf (valid until the next call), 0: end, -1: error. */
	ssize_t (*read)(struct blob_stream *bs, const void **buf, berr_t *e);
	void (*close)(struct blob_stream *bs);
};
int source_open_stream(struct source *s, const char *member, struct blob_stream **out,
		       berr_t *e);

/* ---- extract.c: one tar entry at a time, inside a root ---- */

/* How file owners are kept: chown as root; unprivileged, in the
 * user.rootlesscontainers xattr (umoci's convention); or chown inside a user
 * namespace mapping subordinate ids (no device nodes, user.overlay.*). */
enum extract_owners { OWNERS_CHOWN, OWNERS_XATTR, OWNERS_USERNS };

struct extract_opts {
	bool overlay;            /* store form: whiteouts as overlayfs sees them */
	enum extract_owners owners;
	uint64_t max_bytes, max_entries;
	/* Store form: the layers below (top first), for what a layer refers
	 * to without carrying it (missing parent directories, hard links). */
	const int *lowerfds;
	size_t n_lowers;
	/* Store form, the layers below not known yet: fail with EAGAIN where
	 * they would be needed. */
	bool independent;
};
struct extract_stats {
	uint64_t bytes, entries;
	uint64_t devices_skipped, xattrs_skipped, owners_kept;
	bool depends_on_lowers;  /* store form: keyed by ChainID, not diff_id */
};

struct extractor;
/* rootfd: the directory the layers go into (O_PATH is enough). The caller
 * sets umask(0) around the unpack (modes are the image's, exactly; the
 * umask is the process's, shared by extractors running in threads). */
struct extractor *extractor_new(int rootfd, const struct extract_opts *o);
void extractor_free(struct extractor *x);
void extractor_begin_layer(struct extractor *x);
/* Apply one entry; file data comes from archive_read_data_block(a). */
struct archive;
struct archive_entry;
int extractor_entry(struct extractor *x, struct archive *a, struct archive_entry *en,
		    berr_t *e);
/* Directory modes and times, after their contents (end of the unpack for
 * a merged root, end of each layer in the store). */
int extractor_fix_dirs(struct extractor *x, berr_t *e);
const struct extract_stats *extractor_stats(const struct extractor *x);
/* Directories the current layer needed but did not carry (store form). */
char *const *extractor_implicit_dirs(const struct extractor *x);

/* ---- layer.c: blob -> decompression thread -> tar -> extractor ---- */

struct progress_bar;
struct layer_job {
	struct source *src;
	const char *member;               /* blob member in the source */
	const char *what;                 /* "layer sha256:..." for messages */
	enum layer_compression comp;
	const struct digest *digest;      /* of the blob as stored, may be NULL */
	uint64_t size;                    /* of the blob, 0 when unknown */
	const struct digest *diff_id;     /* of the uncompressed tar, may be NULL */
	struct progress_bar *progress;    /* may be NULL */
};
int layer_apply(const struct layer_job *job, struct extractor *x, berr_t *e);
struct image;
/* The job of the image's i-th layer; `what` names it in messages. The
 * blob's digest is checked except in docker archives (which have none);
 * the diff_id only when `check_diff_id`. */
struct layer_job layer_job_of(struct image *img, size_t i, const char *what, bool check_diff_id);

/* ---- progress.c ---- */

/* NULL (and every call a no-op) unless stderr is a terminal and !quiet. */
struct progress *progress_new(bool quiet, size_t n_layers);
void progress_free(struct progress *p);
/* One layer's bar (NULL when p is). progress_done frees it: a final line
 * when ok, the line erased otherwise. Thread-safe. */
struct progress_bar;
struct progress_bar *progress_start(struct progress *p, size_t index, const char *what,
				    uint64_t size);
void progress_update(struct progress_bar *b, uint64_t read, uint64_t bytes, uint64_t files);
void progress_done(struct progress_bar *b, bool ok);

/* ---- resolve.c: a reference to a manifest, config and layers ---- */

struct image {
	struct source src;
	struct image_ref ref;
	struct descriptor top;          /* what the reference named (docker: the config) */
	struct descriptor manifest;     /* the platform's manifest (docker: none) */
	struct oci_manifest m;          /* docker: layers filled from manifest.json */
	struct oci_config cfg;
	char **layer_members;           /* where each layer's blob is in the source */
	enum layer_compression *layer_comp;
};
/* Only what image_store_prepare's fast path needs: the top digest, without
 * reading any blob. Fails (ENOENT) when the source is not a layout. */
int image_top_digest(const char *ref, struct digest *out, berr_t *e);

/* ---- user.c ---- */

/* Read /etc/passwd and /etc/group of the root at rootfd (either may come
 * back NULL when missing), at most 16 MiB each. */
int user_files_read(int rootfd, char **passwd, char **group, berr_t *e);
/* Read one of them from an open fd, with the same limit. */
int user_file_read_fd(int fd, const char *path, char **out, berr_t *e);
/* Fill rt->uid/gid/additional_gids and HOME from the user files. */
int user_apply(struct image_runtime *rt, const char *passwd, const char *group, berr_t *e);

/* ---- store.c: merged lookups across layer directories ---- */

/* Open `path` in the union of the layer dirs (top first) as overlayfs would
 * see it: whiteouts and opaque directories hide lower entries, symlinks are
 * followed inside the union. flags: O_RDONLY or O_PATH (with O_NOFOLLOW for
 * the last component). ENOENT when hidden or missing. */
int layers_open(const int *layerfds, size_t n, const char *path, int flags, berr_t *e);
/* The same lookup, saying where: the layer (index into layerfds) and the
 * path there without symlinks (malloc'd), and its lstat. */
struct layer_hit {
	ssize_t layer;
	char *rel;
	struct stat st;
	bool followed;           /* a symlink was followed (also set on failure) */
};
int layers_lookup(const int *layerfds, size_t n, const char *path, bool follow_last,
		  struct layer_hit *hit, berr_t *e);

/* ---- small helpers shared in the module ---- */

/* A JSON-friendly copy of a string vector. */
void runtime_copy(struct image_runtime *dst, const struct image_runtime *src);

#endif
