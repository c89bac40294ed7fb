/* runtime/net_lifecycle.h: the container's network through its lifecycle:
 * --net/-p (or the org.berth.net/org.berth.publish annotations) and OCI
 * linux.netDevices, from the plan before the clone to the teardown at delete. */
#ifndef BERTH_NET_LIFECYCLE_H
#define BERTH_NET_LIFECYCLE_H

#include <stdbool.h>

#include "common/error.h"
#include "container.h"
#include "spec.h"
#include "state.h"

struct container;
struct state_dir;
struct net_setup;

#define NET_ANNOTATION "org.berth.net"
#define PUBLISH_ANNOTATION "org.berth.publish" /* "8080:80,5353:53/udp" */

/* After the config is parsed, before the namespace plan: validate the
 * network options and netDevices, and set the network namespace of c->spec
 * (new, joined, or the host's). Fills c->net when there is work to do. */
int net_plan(const struct create_opts *o, struct container *c, berr_t *e);
/* After the state directory exists, before the clone: record the intent in
 * the state, lease an address and publish ports, write the /etc files and
 * add their bind mounts to c->spec. */
int net_prepare(struct container *c, berr_t *e);
/* spawn.c, before SYNC_GO: the init exists (adopted: the real init of a
 * double fork, whose namespace the intermediate unshared). Moves netDevices
 * in, plugs the veth, starts the rootless helper. */
int net_after_clone(struct container *c, bool adopted, berr_t *e);
/* delete --force, before the kill: keep the container's network namespace
 * alive so that its netDevices can still be returned. */
void net_hold(const struct container_state *st);
/* Undo everything: netDevices back to the host while their namespace is
 * still held, veth, lease and ports, the helper process. Each step goes on
 * after another's failure; what is already gone is not an error. */
int net_teardown(struct state_dir *sd, const struct container_state *st,
		 const struct spec *spec, berr_t *e);
void net_setup_free(struct net_setup *ns);

#endif
