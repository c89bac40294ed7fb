/* netns/store.h: the network store, private to netns/: definitions and
 * leases in ROOT/networks/NAME.json under one lock. */
#ifndef BERTH_NETNS_STORE_H
#define BERTH_NETNS_STORE_H

#include "internal.h"

struct net_store {
	char *root;
	char *dir;
	int dirfd;
	int lockfd; /* flock held from open to close */
};

int net_check_name(const char *name, berr_t *e);
/* Make ROOT/networks if needed and take its lock. */
int store_open(const char *root, struct net_store *s, berr_t *e);
void store_close(struct net_store *s);
/* ENOENT: "network NAME does not exist". */
int store_load(struct net_store *s, const char *name, struct net_network *out, berr_t *e);
int store_save(struct net_store *s, const struct net_network *n, berr_t *e);
int store_remove(struct net_store *s, const char *name, berr_t *e);
/* Names of every network, sorted, NULL-terminated. */
int store_names(struct net_store *s, char ***out, berr_t *e);
void net_lease_clear(struct net_lease *l);

#endif
