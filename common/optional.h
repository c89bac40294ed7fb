/* common/optional.h: optional scalars for config fields whose absence means
 * "leave the kernel's value alone", distinct from an explicit zero. */
#ifndef BERTH_OPTIONAL_H
#define BERTH_OPTIONAL_H

#include <stdbool.h>
#include <stdint.h>

typedef struct { int64_t v; bool set; } opt_i64;
typedef struct { uint64_t v; bool set; } opt_u64;
typedef struct { bool v; bool set; } opt_bool;

#endif
