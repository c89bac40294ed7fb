/* runtime/validate.h: checks of a parsed config before anything is created,
 * with errors that name the field, the value and the reason. */
#ifndef BERTH_VALIDATE_H
#define BERTH_VALIDATE_H

#include <stdbool.h>

#include "common/error.h"
#include "spec.h"

int validate_spec(const struct spec *s, bool rootless, berr_t *e);
int validate_rootfs(const char *rootfs, berr_t *e);

#endif
