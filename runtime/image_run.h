/* runtime/image_run.h: images in the lifecycle: config.json generated from an
 * image config, and `run --image`; private to runtime/. */
#ifndef BERTH_IMAGE_RUN_H
#define BERTH_IMAGE_RUN_H

#include <stdbool.h>

#include "common/error.h"
#include "container.h"
#include "image/image.h"

/* config.json for an image: berth's defaults (as `berth spec`) with the
 * image's args (Entrypoint + Cmd, or Entrypoint + cmd when cmd has
 * elements), env, cwd, user, Labels and StopSignal as annotations, and a
 * writable root. cmd NULL (image unpack): an image with nothing to run gets
 * the default "sh"; cmd non-NULL (run): NULL and *e set. rootless: the
 * user namespace's maps, NULL for none. */
char *image_config_json(const struct image_runtime *rt, const struct id_maps *rootless,
			char *const *cmd, bool terminal, berr_t *e);

struct image_run_opts {
	const char *ref;
	const char *store;      /* NULL: image_store_default() */
	char *const *cmd;       /* replaces the image's Cmd; may be NULL */
	bool tty;
	bool quiet;
	/* The writable layer: false (default), a tmpfs inside the container's
	 * mount namespace (no disk I/O to set up or remove, bounded by the
	 * container's memory); true, STORE/containers/ID/{upper,work} on disk. */
	bool rw_in_store;
};

/* Under the state root: the generated bundles of in-memory containers. */
#define IMAGE_BUNDLES_DIR ".image-bundles"


/* "berth-" and 12 random hex digits, for run --image without --name. */
char *image_container_id(void);

/* run --image: layers into the store (once), a generated bundle
 * (ROOT/.image-bundles/ID, or STORE/containers/ID with the writable layer),
 * and container_run with an overlay root; the bundle goes with the
 * container. */
int image_run(struct create_opts *o, const struct image_run_opts *io, int *status, berr_t *e);

#endif
