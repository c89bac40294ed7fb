/* runtime/spec_default.h: the config berth writes by default (`berth spec`,
 * and the base of configs generated from images): confined and runnable. */
#ifndef BERTH_SPEC_DEFAULT_H
#define BERTH_SPEC_DEFAULT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/idmap.h"

struct spec_defaults {
	bool rootless;          /* user namespace mapping the caller, no cgroup limits */
	bool terminal;
	char *const *args;      /* NULL: ["sh"] */
	char *const *env;       /* NULL: PATH and TERM */
	const char *cwd;        /* NULL: "/" */
	uint32_t uid, gid;
	const uint32_t *additional_gids;
	size_t n_additional_gids;
	const char *hostname;   /* NULL: "berth" */
	const char *stop_signal; /* annotation org.opencontainers.image.stopSignal */
	char *const *annotation_keys, *const *annotation_values;
	const struct id_maps *idmaps; /* rootless: the user namespace's maps */
};

/* The config as pretty-printed JSON; malloc'd. */
char *spec_default_json(const struct spec_defaults *d);

#endif
