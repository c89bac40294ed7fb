/* image/image.h: OCI image layouts, oci-archive and docker-archive tarballs
 * into root filesystems: verified blobs, safe layer unpacking, the layer store.
 *
 * libarchive and libcrypto are not linked into berth: they are loaded with
 * dlopen on first use (image/lazylibs.c). Linking libarchive pulls libxml2
 * and ICU in and costs every berth invocation about 2.3 ms and 3.6 MB of RSS,
 * libcrypto another 1.3 ms and 1.6 MB, measured here; `berth run` of a plain
 * bundle must stay faster and smaller than crun, so only the commands that
 * read an image pay for them. With -Wl,--as-needed and no direct reference,
 * the Makefile's PKG_LIBS leaves both out of the binary (check: ldd berth).
 * A stored image reached through an OCI layout needs neither (see
 * image_store_prepare). */
#ifndef BERTH_IMAGE_H
#define BERTH_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"
#include "common/idmap.h"

/* Defaults of the limits that turn a decompression bomb into an error. */
#define IMAGE_DEFAULT_MAX_BYTES (64ull << 30)
#define IMAGE_DEFAULT_MAX_ENTRIES 4000000ull

struct image_opts {
	bool quiet;              /* no progress bar even on a terminal */
	bool rootless;           /* no chown/mknod: owners go to user.rootlesscontainers */
	/* The store only: unpack in a user namespace with these maps (rootless
	 * with subordinate ids): owners chowned to the mapped ids, no device
	 * nodes. The store remembers its maps and refuses others. */
	const struct id_maps *userns;
	uint64_t max_bytes;      /* of file data per unpack; 0: the default */
	uint64_t max_entries;    /* tar entries per unpack; 0: the default */
};

/* What a bundle's config.json takes from the image config, with the user
 * resolved against the image's /etc/passwd and /etc/group. */
struct image_runtime {
	char **entrypoint;       /* NULL-terminated, may be NULL */
	char **cmd;
	char **env;              /* with PATH and HOME added when the image has none */
	char *cwd;               /* "/" when the image says nothing */
	char *user;              /* as the image wrote it, may be NULL */
	uint32_t uid, gid;
	uint32_t *additional_gids;
	size_t n_additional_gids;
	char **label_keys, **label_values; /* Labels, for annotations */
	char *stop_signal;       /* may be NULL */
	char *os, *architecture; /* of the image config */
};
void image_runtime_free(struct image_runtime *rt);

/* An image reference, resolved to a manifest and a verified config. REF is
 *   PATH                     the only image (or "latest") of a layout or archive
 *   PATH:TAG                 org.opencontainers.image.ref.name, or a docker
 *                            archive's RepoTags entry (PATH:name:tag)
 *   PATH@sha256:HEX          a manifest or index by digest
 * PATH is an OCI layout directory, an oci-archive or a docker-archive. An
 * index picks the host's platform (nested indexes included). */
struct image;
int image_open(const char *ref, struct image **out, berr_t *e);
void image_free(struct image *img);

/* Write BUNDLE/rootfs from every layer and then BUNDLE/config.json, which
 * make_config generates from the resolved runtime settings. BUNDLE may exist
 * but must not contain rootfs or config.json; on any failure nothing of the
 * unpack remains (BUNDLE itself is removed when this call created it). */
typedef char *(*image_config_fn)(const struct image_runtime *rt, void *arg);
int image_unpack_bundle(struct image *img, const char *bundle, const struct image_opts *o,
			image_config_fn make_config, void *arg, berr_t *e);

/* `image inspect`: manifest and config summary as pretty JSON; malloc'd. */
int image_inspect_json(struct image *img, char **out, berr_t *e);

/* `image ls`: the tagged (and untagged) images of a layout or archive. */
struct image_tag {
	char *name;              /* ref name or RepoTag; NULL when untagged */
	char *digest;            /* of the manifest or index (docker: of the config) */
	char *media_type;
	uint64_t size;
};
int image_list(const char *path, struct image_tag **out, size_t *n, berr_t *e);
void image_tags_free(struct image_tag *tags, size_t n);

/* ---- the layer store: layers unpacked once, shared by containers ----
 *
 * STORE/layers/sha256/HEX   one layer by diff_id, in overlayfs form (whiteouts
 *                           are 0:0 char devices, opaque dirs carry
 *                           trusted.overlay.opaque, user.overlay.opaque
 *                           rootless); a directory exists only complete
 * STORE/layers/chain/HEX    a layer whose tar lacks entries for some parent
 *                           directories: their metadata comes from the layers
 *                           below, so it is keyed by ChainID instead
 * STORE/images/ALG-HEX.json what a resolved image needs to run, keyed by the
 *                           digest the reference named in the layout's index
 *                           (docker-archive: the config's digest)
 * STORE/owners              how the files keep their owners: "chown" (root),
 *                           "xattr" (rootless, user.rootlesscontainers) or
 *                           "userns UIDMAP;GIDMAP" (rootless, chowned in a
 *                           user namespace); a store keeps one
 * STORE/locks/HEX           flock per layer: one unpacker, the others wait
 * STORE/tmp/HEX             a layer being unpacked (renamed when complete)
 * STORE/containers/ID/      run --image --writable-layer store: config.json,
 *                           rootfs/ (mount point), upper/, work/; removed with
 *                           the container. By default the writable layer is a
 *                           tmpfs inside the container's mount namespace and
 *                           the bundle lives in the state root (runtime/). */

/* /var/lib/berth as root, $XDG_DATA_HOME/berth (~/.local/share/berth)
 * otherwise; malloc'd. */
char *image_store_default(void);

struct image_prepared {
	struct image_runtime rt;
	char **lowerdirs;        /* absolute, top layer first, NULL-terminated */
	bool from_record;        /* served from STORE/images without reading blobs */
};
void image_prepared_free(struct image_prepared *p);

/* Make sure every layer of REF is in the store and return the overlay's
 * lower directories and the runtime settings. A reference into a layout
 * whose top digest has a record is served from the record: index.json is
 * read, no blob is, and neither libarchive nor libcrypto is loaded. This is
 * sound because the record is keyed by a content digest: whatever the layout
 * holds now, content with that digest was verified when the record was made,
 * and the store (0700, written only by berth) is trusted. */
int image_store_prepare(const char *store, const char *ref, const struct image_opts *o,
			struct image_prepared *out, berr_t *e);

/* STORE/containers/ID with rootfs/, upper/ and work/ (exclusive: fails when
 * it exists); *dir gets its absolute path. */
int image_store_container_dir(const char *store, const char *id, char **dir, berr_t *e);

/* ---- pure helpers, exposed for unit tests and fuzzing ---- */

/* Split REF into PATH and TAG or DIGEST: PATH is the longest prefix ending
 * before a ':' or '@' for which exists() holds (the whole string first). */
struct image_ref {
	char *path;
	char *tag;               /* NULL when none */
	char *digest;            /* "sha256:..." or NULL */
};
int image_ref_parse(const char *ref, bool (*exists)(const char *path), struct image_ref *out,
		    berr_t *e);
void image_ref_free(struct image_ref *r);

/* A tar member name as a path relative to the root: leading '/' and "./"
 * dropped, "." and ".." resolved lexically without going above the root.
 * "." for the root itself; NULL for an empty name. malloc'd. */
char *image_tar_path(const char *name);

enum whiteout_kind { WHITEOUT_NONE, WHITEOUT_FILE, WHITEOUT_OPAQUE, WHITEOUT_META };
/* Classify a cleaned member path: ".wh..wh..opq" marks its directory
 * opaque, ".wh.NAME" hides NAME of lower layers, other ".wh..wh.*" names are
 * aufs metadata (skipped, as docker does). *target gets the directory
 * (opaque) or the hidden path (file), malloc'd. Fails on names that cannot
 * be a whiteout of anything (".wh.", ".wh..", ".wh..."). */
int image_whiteout_classify(const char *path, enum whiteout_kind *kind, char **target,
			    berr_t *e);

/* Resolve an image config's User against passwd/group text (either may be
 * NULL): "name", "uid", "name:group", "uid:gid", "name:gid", "uid:group".
 * A name must exist; a number need not. The group defaults to the user's
 * primary group (0 without a passwd entry); additional gids are the groups
 * that list the user as a member. */
struct image_user {
	uint32_t uid, gid;
	uint32_t *additional_gids;
	size_t n_additional_gids;
	char *home;              /* from passwd, NULL when unknown */
};
int image_user_resolve(const char *user, const char *passwd, const char *group,
		       struct image_user *out, berr_t *e);
void image_user_free(struct image_user *u);

/* The platform score of a candidate for the host: -1 when it cannot run
 * here, higher is better (an exact variant beats an older compatible one). */
struct image_platform {
	const char *os, *architecture, *variant;
};
void image_host_platform(struct image_platform *p);
int image_platform_score(const struct image_platform *host, const struct image_platform *cand);

/* The user.rootlesscontainers value (protobuf Resource{uid=1, gid=2});
 * returns its length (0: uid and gid are 0, the xattr is left out). */
size_t image_rootless_xattr(uint32_t uid, uint32_t gid, unsigned char buf[16]);

/* Parse an index or manifest or docker manifest.json (fuzzing entry point):
 * 0 when valid. */
int image_parse_check(const char *text, size_t len, berr_t *e);

#endif
