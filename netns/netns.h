/* netns/netns.h: network namespace set-up over rtnetlink (libmnl): the
 * loopback of a new namespace; bridges and veths build on the same helpers. */
#ifndef BERTH_NETNS_H
#define BERTH_NETNS_H

#include "common/error.h"

/* Bring an interface up by name in the caller's network namespace. */
int netns_link_up(const char *ifname, berr_t *e);
/* A new network namespace has only `lo`, and it is down: bring it up. */
int netns_loopback_up(berr_t *e);

#endif
