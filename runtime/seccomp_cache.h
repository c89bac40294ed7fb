/* runtime/seccomp_cache.h: compiled seccomp filters cached under the state
 * root, keyed by everything the compilation depends on. */
#ifndef BERTH_SECCOMP_CACHE_H
#define BERTH_SECCOMP_CACHE_H

#include <linux/filter.h>
#include <stddef.h>

/* 1 and a malloc'd program on a hit, 0 on a miss (root NULL: no cache). */
int seccomp_cache_lookup(const char *root, const char *key, size_t key_len,
			 struct sock_filter **insns, size_t *n);
/* Best effort: a failure is logged with --debug and otherwise ignored. */
void seccomp_cache_store(const char *root, const char *key, size_t key_len,
			 const struct sock_filter *insns, size_t n);

#endif
