/* netns/internal.h: what the files of netns/ share and nothing outside uses:
 * the rtnetlink request helpers and the nft and /proc plumbing. */
#ifndef BERTH_NETNS_INTERNAL_H
#define BERTH_NETNS_INTERNAL_H

#include <libmnl/libmnl.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "netns.h"

/* MNL_SOCKET_BUFFER_SIZE depends on the page size at run time; a dump
 * reply can fill a whole page of messages. */
#define NETLINK_BUF 16384

/* A request header of `type` with `flags` (NLM_F_REQUEST is added) in buf. */
struct nlmsghdr *rtnl_new(char *buf, uint16_t type, uint16_t flags);
/* Send one request in the caller's network namespace and wait for its
 * acknowledgement; errors read "WHAT: strerror". */
int rtnl_talk(struct nlmsghdr *nlh, const char *what, berr_t *e);
/* A request whose reply is one message (a GET by name), given to cb. */
int rtnl_query(struct nlmsghdr *nlh, mnl_cb_t cb, void *data, const char *what, berr_t *e);
/* Send a dump request and call cb on every message of the reply. */
int rtnl_dump(struct nlmsghdr *nlh, mnl_cb_t cb, void *data, const char *what, berr_t *e);

/* link.c */
struct link_info {
	unsigned int index;
	unsigned int mtu;
	unsigned int master;   /* ifindex of the bridge it is enslaved to, 0 */
	unsigned int flags;    /* IFF_* */
	char kind[16];         /* "bridge", "veth", "" for a physical device */
};
/* ENODEV when there is no such interface. */
int link_get(const char *ifname, struct link_info *out, berr_t *e);
int link_set_flags(unsigned int index, unsigned int flags, unsigned int change,
		   const char *what, berr_t *e);
int link_delete(const char *ifname, berr_t *e);

/* addr.c: IPv4 and IPv6 addresses of one link, kept as raw attributes so
 * that a moved device gets back exactly what it had. */
struct link_addr {
	unsigned char family, prefixlen, scope;
	unsigned char addr[16];
};
int addr_list(unsigned int index, struct link_addr **out, size_t *n, berr_t *e);
int addr_add(unsigned int index, const struct link_addr *a, berr_t *e);
int addr_add_ipv4(unsigned int index, uint32_t addr, unsigned int prefixlen, berr_t *e);
int route_add_default_ipv4(unsigned int index, uint32_t gateway, berr_t *e);
/* Every IPv4 route with a prefix (not the default route) in every table. */
struct route4 {
	struct ipv4_net dst;
	unsigned int oif;
};
int route_list_ipv4(struct route4 **out, size_t *n, berr_t *e);

/* nft.c */
int nft_ensure_table(berr_t *e);
int nft_publish_add(const struct net_port *ports, size_t n, uint32_t ip, berr_t *e);
/* Remove what is there; a missing element is not an error. */
void nft_publish_remove(const struct net_port *ports, size_t n);
/* Is the host port published (by anyone) in this network namespace? */
bool nft_publish_exists(const struct net_port *p);
int nft_nat_subnet(const struct ipv4_net *subnet, bool add, berr_t *e);
/* net.ipv4.ip_forward = 1 when it is 0, said with --debug. */
int sysctl_ip_forward_on(const char *why, berr_t *e);

/* Run argv with `input` on stdin; the first line of its stderr becomes the
 * message of a failure. */
int run_tool(char *const argv[], const char *input, const char *what, berr_t *e);

#endif
