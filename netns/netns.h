/* netns/netns.h: container networking over rtnetlink (libmnl): loopback,
 * OCI netDevices, berth's bridge networks with leases, published ports in an
 * nftables table of berth's own, and rootless user-mode networking. */
#ifndef BERTH_NETNS_H
#define BERTH_NETNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"

/* ---- links of the caller's network namespace ---- */

/* Bring an interface up by name in the caller's network namespace. */
int netns_link_up(const char *ifname, berr_t *e);
/* A new network namespace has only `lo`, and it is down: bring it up. */
int netns_loopback_up(berr_t *e);
/* Does the interface exist in the caller's network namespace? */
bool netns_link_exists(const char *ifname);
/* An interface name the kernel accepts: 1-15 bytes, no '/', ':' or space,
 * not "." or "..". `what` names it in the error. */
int netns_check_ifname(const char *name, const char *what, berr_t *e);

/* Enter the network namespace nsfd; *saved gets berth's own to go back to
 * (berth is single-threaded while it does this). */
int netns_enter(int nsfd, int *saved, berr_t *e);
void netns_leave(int saved);

/* ---- IPv4 prefixes (host byte order) ---- */

struct ipv4_net {
	uint32_t addr;
	unsigned int len;
};

#define IPV4_STRLEN 16
#define IPV4_CIDRLEN 19
bool ipv4_parse(const char *s, uint32_t *out);
/* "10.89.0.0/24": host bits must be zero. */
int ipv4_parse_cidr(const char *s, struct ipv4_net *out, berr_t *e);
const char *ipv4_str(uint32_t addr, char buf[IPV4_STRLEN]);
const char *ipv4_cidr_str(const struct ipv4_net *n, char buf[IPV4_CIDRLEN]);
bool ipv4_overlap(const struct ipv4_net *a, const struct ipv4_net *b);
bool ipv4_contains(const struct ipv4_net *n, uint32_t addr);

/* ---- published ports ---- */

struct net_port {
	uint16_t host, container;
	char proto[4]; /* "tcp" or "udp" */
};

/* "8080:80", "8080:80/udp", "80" (same port on both sides). */
int net_port_parse(const char *s, struct net_port *out, berr_t *e);

/* ---- OCI linux.netDevices ---- */

/* Check that a device can be moved: it exists here and is not lo. */
int netdev_check(const char *host_name, berr_t *e);
/* Move host_name from the caller's namespace into nsfd, renamed to ctr_name
 * (NULL: keep the name), with its addresses and up state. */
int netdev_move_in(const char *host_name, const char *ctr_name, int nsfd, berr_t *e);
/* Move it back from nsfd into the caller's namespace under its host name.
 * A device that is no longer there (a virtual device dies with its
 * namespace) is not an error: *gone says so. */
int netdev_move_out(const char *ctr_name, const char *host_name, int nsfd, bool *gone,
		    berr_t *e);

/* ---- berth's bridge networks ---- */

#define NET_DEFAULT_NAME "berth0"
/* docker uses 172.17.0.0/16 and podman 10.88.0.0/16; a /24 next to podman's
 * is unlikely to be routed already, and overlap is checked anyway. */
#define NET_DEFAULT_SUBNET "10.89.0.0/24"

struct net_lease {
	char *ip;
	char *container;
	char *veth;             /* host end of the container's veth pair */
	struct net_port *ports;
	size_t n_ports;
};

struct net_network {
	char *name;             /* also the bridge's name */
	struct ipv4_net subnet;
	uint32_t gateway;       /* the bridge's address: first host of the subnet */
	unsigned int mtu;       /* 0: the kernel's default */
	bool nat;               /* masquerade what leaves the subnet */
	char *created;
	struct net_lease *leases;
	size_t n_leases;
};

void net_network_free(struct net_network *n);

/* "ports": ["HOST:CTR/PROTO", ...] of a lease, as the lease file and
 * `berth net ls --format json` write them. */
struct json_writer;
void net_lease_ports_json(struct json_writer *w, const struct net_lease *l);

/* Does the container of a lease still exist? Leases of containers that do
 * not are reclaimed (their veth, ports and address released). */
typedef bool (*net_alive_fn)(const char *root, const char *container);

struct net_create_opts {
	const char *name;
	const char *subnet;     /* NULL: NET_DEFAULT_SUBNET */
	unsigned int mtu;
	bool nat;
};

/* Networks live in ROOT/networks/NAME.json, guarded by ROOT/networks/.lock.
 * Create: the definition and its bridge; an overlap with a route of this
 * namespace or with another network is refused. */
int net_create(const char *root, const struct net_create_opts *o, berr_t *e);
/* Remove the bridge and the definition; refused while containers use it. */
int net_remove(const char *root, const char *name, net_alive_fn alive, berr_t *e);
/* Every network with its leases, by name. */
int net_list(const char *root, struct net_network **out, size_t *n, berr_t *e);
/* Is the network's bridge present in this namespace? */
bool net_bridge_present(const struct net_network *n);

/* What a container gets on a bridge network. */
struct net_attachment {
	char *network;
	uint32_t ip, gateway;
	unsigned int prefixlen, mtu;
	char *veth;
};
void net_attachment_free(struct net_attachment *a);

/* Before the clone, under the store's lock: create the default network on
 * first use, reclaim dead leases, lease an address, publish the ports. On
 * failure nothing is left. */
int net_acquire(const char *root, const char *network, const char *container,
		const struct net_port *ports, size_t n_ports, net_alive_fn alive,
		struct net_attachment *out, berr_t *e);
/* After the clone: the veth pair, host end on the bridge, the other end as
 * eth0 in nsfd with the address, MTU and default route. */
int net_attach(const struct net_attachment *a, int nsfd, berr_t *e);
/* Delete the veth (if the namespace has not taken it along), unpublish the
 * ports, release the lease. Nothing there is not an error. */
int net_release(const char *root, const char *network, const char *container, berr_t *e);

/* ---- /etc files of a container (written into the state directory) ---- */

struct net_etc {
	const char *hostname;   /* NULL: none */
	const char *ip;         /* the container's address, NULL: none */
	bool resolv;            /* resolv.conf from the host's, loopback servers dropped */
};
/* Writes "hosts", "hostname" (when hostname) and "resolv.conf" (when
 * resolv) in dirfd. */
int net_write_etc(int dirfd, const struct net_etc *etc, berr_t *e);

/* ---- rootless: user-mode networking helpers ---- */

enum net_usermode { NET_PASTA, NET_SLIRP4NETNS };

struct net_usermode_req {
	enum net_usermode kind;
	pid_t target;           /* a process in the container's user and network namespaces */
	const struct net_port *ports;
	size_t n_ports;
	const char *dir;        /* where the helper's pid file, log and API socket go */
	/* Called with the helper's pid after the fork and before its exec, so
	 * that a crash of berth never leaves a helper no state names. */
	int (*record)(void *arg, pid_t helper, berr_t *e);
	void *record_arg;
};
/* Start the helper and wait until the namespace is configured. */
int net_usermode_start(const struct net_usermode_req *r, pid_t *helper, berr_t *e);
const char *net_usermode_name(enum net_usermode kind);

#endif
