/* netns/network.c: berth's bridge networks: the bridge with the gateway
 * address, leases from the store, a veth pair per container whose inner end
 * is created directly inside the container's namespace as eth0. */
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "store.h"

#define CONTAINER_IFNAME "eth0"

static uint32_t host_first(const struct ipv4_net *n)
{
	return n->addr + 1;
}

static uint32_t host_last(const struct ipv4_net *n)
{
	return (n->addr | (0xffffffffu >> n->len)) - 1;
}

/* ---- bridge ---- */

static int bridge_create(const struct net_network *n, berr_t *e)
{
	char buf[NETLINK_BUF];
	struct nlmsghdr *nlh = rtnl_new(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof *ifm);
	struct nlattr *info;

	ifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, n->name);
	if (n->mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, n->mtu);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
	mnl_attr_nest_end(nlh, info);
	if (rtnl_talk(nlh, "create bridge", e) < 0)
		return berr_wrap(e, "\"%s\"", n->name);
	return 0;
}

/* Routes of this namespace and the store's other networks must not
 * overlap the subnet: the containers' traffic would go astray. */
static int check_overlap(struct net_store *s, const struct net_network *n, berr_t *e)
{
	_cleanup_free_ struct route4 *routes = NULL;
	_cleanup_strv_ char **names = NULL;
	unsigned int own = if_nametoindex(n->name);
	char a[IPV4_CIDRLEN], b[IPV4_CIDRLEN], dev[IF_NAMESIZE];
	size_t nr;

	if (route_list_ipv4(&routes, &nr, e) < 0)
		return -1;
	for (size_t i = 0; i < nr; i++) {
		if ((own && routes[i].oif == own) || !ipv4_overlap(&routes[i].dst, &n->subnet))
			continue;
		if (!routes[i].oif || !if_indextoname(routes[i].oif, dev))
			snprintf(dev, sizeof dev, "?");
		return berr_set(e, EEXIST,
				"subnet %s of network \"%s\" overlaps the route %s dev %s: choose another subnet (berth net create %s --subnet CIDR)",
				ipv4_cidr_str(&n->subnet, a), n->name,
				ipv4_cidr_str(&routes[i].dst, b), dev, n->name);
	}
	if (store_names(s, &names, e) < 0)
		return -1;
	for (size_t i = 0; names[i]; i++) {
		struct net_network other;
		berr_t ignored = BERR_INIT;
		bool overlap;

		if (!strcmp(names[i], n->name) || store_load(s, names[i], &other, &ignored) < 0) {
			berr_free(&ignored);
			continue;
		}
		overlap = ipv4_overlap(&other.subnet, &n->subnet);
		if (overlap)
			berr_set(e, EEXIST, "subnet %s of network \"%s\" overlaps network \"%s\" (%s)",
				 ipv4_cidr_str(&n->subnet, a), n->name, other.name,
				 ipv4_cidr_str(&other.subnet, b));
		net_network_free(&other);
		if (overlap)
			return -1;
	}
	return 0;
}

/* The bridge of a defined network, made again when it is missing (a
 * reboot, or someone deleted it): up, with the gateway address. */
static int ensure_bridge(struct net_store *s, const struct net_network *n, bool *created,
			 berr_t *e)
{
	struct link_info li;

	*created = false;
	if (link_get(n->name, &li, e) < 0) {
		if (e->errnum != ENODEV)
			return -1;
		berr_free(e);
		if (check_overlap(s, n, e) < 0 || bridge_create(n, e) < 0)
			return -1;
		*created = true;
		log_debug("network %s: created bridge %s", n->name, n->name);
		if (link_get(n->name, &li, e) < 0)
			goto undo;
	} else if (strcmp(li.kind, "bridge")) {
		return berr_set(e, EEXIST, "network \"%s\": interface \"%s\" exists and is not a bridge",
				n->name, n->name);
	}
	if (addr_add_ipv4(li.index, n->gateway, n->subnet.len, e) < 0 ||
	    link_set_flags(li.index, IFF_UP, IFF_UP, "bring up bridge", e) < 0) {
		berr_wrap(e, "network \"%s\"", n->name);
		goto undo;
	}
	if (n->nat && (nft_ensure_table(e) < 0 || nft_nat_subnet(&n->subnet, true, e) < 0))
		goto undo;
	return 0;
undo:
	if (*created) {
		berr_t ignored = BERR_INIT;

		link_delete(n->name, &ignored);
		berr_free(&ignored);
	}
	return -1;
}

bool net_bridge_present(const struct net_network *n)
{
	return netns_link_exists(n->name);
}

/* ---- networks ---- */

static int define_network(struct net_store *s, const struct net_create_opts *o,
			  struct net_network *n, berr_t *e)
{
	char when[64];
	bool created;

	memset(n, 0, sizeof *n);
	if (ipv4_parse_cidr(o->subnet ? o->subnet : NET_DEFAULT_SUBNET, &n->subnet, e) < 0)
		return -1;
	if (n->subnet.len > 30)
		return berr_set(e, EINVAL, "subnet \"%s\": a network needs a /30 or larger", o->subnet);
	if (o->mtu && (o->mtu < 68 || o->mtu > 65535))
		return berr_set(e, EINVAL, "--mtu %u: must be 68 to 65535", o->mtu);
	n->name = xstrdup(o->name);
	n->gateway = host_first(&n->subnet);
	n->mtu = o->mtu;
	n->nat = o->nat;
	format_rfc3339_now(when, sizeof when);
	n->created = xstrdup(when);
	/* A bridge by that name that no definition owns belongs to someone
	 * else (another berth root, an admin): never take it over. */
	if (netns_link_exists(n->name))
		return berr_set(e, EEXIST,
				"network \"%s\": an interface of that name already exists and is not a network of the berth root %s",
				n->name, s->root);
	if (check_overlap(s, n, e) < 0 || ensure_bridge(s, n, &created, e) < 0)
		return -1;
	if (store_save(s, n, e) < 0) {
		berr_t ignored = BERR_INIT;

		link_delete(n->name, &ignored);
		berr_free(&ignored);
		return -1;
	}
	return 0;
}

int net_create(const char *root, const struct net_create_opts *o, berr_t *e)
{
	struct net_store s;
	struct net_network n = {0};
	int ret = -1;

	if (net_check_name(o->name, e) < 0)
		return -1;
	if (store_open(root, &s, e) < 0)
		goto out;
	if (store_load(&s, o->name, &n, e) == 0) {
		berr_set(e, EEXIST, "network \"%s\" already exists", o->name);
		goto out;
	}
	if (e->errnum != ENOENT)
		goto out;
	berr_free(e);
	ret = define_network(&s, o, &n, e);
out:
	net_network_free(&n);
	store_close(&s);
	return ret;
}

/* Give back what a lease holds: its veth (when the namespace did not take
 * it along) and its published ports. */
static void lease_undo(const struct net_lease *l)
{
	berr_t e = BERR_INIT;

	if (netns_link_exists(l->veth) && link_delete(l->veth, &e) < 0)
		log_warn("%s", e.msg);
	berr_free(&e);
	nft_publish_remove(l->ports, l->n_ports);
}

static void drop_lease(struct net_network *n, size_t i)
{
	lease_undo(&n->leases[i]);
	net_lease_clear(&n->leases[i]);
	memmove(&n->leases[i], &n->leases[i + 1], (n->n_leases - i - 1) * sizeof *n->leases);
	n->n_leases--;
}

/* Leases of containers that are gone (a crash of berth, a state directory
 * removed by hand), and an earlier lease of the container being made. */
static bool reclaim(struct net_store *s, struct net_network *n, const char *container,
		    net_alive_fn alive)
{
	bool changed = false;

	for (size_t i = 0; i < n->n_leases;) {
		const struct net_lease *l = &n->leases[i];

		if ((container && !strcmp(l->container, container)) || !alive(s->root, l->container)) {
			log_debug("network %s: reclaiming %s of container %s", n->name, l->ip,
				  l->container);
			drop_lease(n, i);
			changed = true;
		} else {
			i++;
		}
	}
	return changed;
}

int net_remove(const char *root, const char *name, net_alive_fn alive, berr_t *e)
{
	struct net_store s;
	struct net_network n = {0};
	int ret = -1;

	if (store_open(root, &s, e) < 0 || store_load(&s, name, &n, e) < 0)
		goto out;
	reclaim(&s, &n, NULL, alive);
	if (n.n_leases) {
		_cleanup_free_ char *users = xstrdup("");

		for (size_t i = 0; i < n.n_leases; i++) {
			char *next = xasprintf("%s%s%s", users, i ? ", " : "", n.leases[i].container);

			free(users);
			users = next;
		}
		if (store_save(&s, &n, e) == 0)
			berr_set(e, EBUSY, "network \"%s\" is in use by %s", name, users);
		goto out;
	}
	if (netns_link_exists(n.name) && link_delete(n.name, e) < 0)
		goto out;
	if (n.nat) {
		berr_t ignored = BERR_INIT;

		nft_nat_subnet(&n.subnet, false, &ignored);
		berr_free(&ignored);
	}
	ret = store_remove(&s, name, e);
out:
	net_network_free(&n);
	store_close(&s);
	return ret;
}

int net_list(const char *root, struct net_network **out, size_t *count, berr_t *e)
{
	struct net_store s;
	_cleanup_strv_ char **names = NULL;
	struct net_network *list = NULL;
	size_t n = 0;

	if (store_open(root, &s, e) < 0 || store_names(&s, &names, e) < 0) {
		store_close(&s);
		return -1;
	}
	for (size_t i = 0; names[i]; i++) {
		list = xreallocarray(list, n + 1, sizeof *list);
		if (store_load(&s, names[i], &list[n], e) < 0) {
			for (size_t j = 0; j < n; j++)
				net_network_free(&list[j]);
			free(list);
			store_close(&s);
			return -1;
		}
		n++;
	}
	store_close(&s);
	*out = list;
	*count = n;
	return 0;
}

/* ---- leases ---- */

void net_attachment_free(struct net_attachment *a)
{
	free(a->network);
	free(a->veth);
	memset(a, 0, sizeof *a);
}

/* A port is one of this namespace's: unique across every network. */
static int check_ports(struct net_store *s, const struct net_port *ports, size_t n_ports,
		       berr_t *e)
{
	_cleanup_strv_ char **names = NULL;

	for (size_t i = 0; i < n_ports; i++)
		for (size_t j = 0; j < i; j++)
			if (ports[i].host == ports[j].host && !strcmp(ports[i].proto, ports[j].proto))
				return berr_set(e, EINVAL, "port %u/%s is published twice",
						ports[i].host, ports[i].proto);
	if (n_ports && store_names(s, &names, e) < 0)
		return -1;
	for (size_t k = 0; n_ports && names[k]; k++) {
		struct net_network other;
		berr_t ignored = BERR_INIT;

		if (store_load(s, names[k], &other, &ignored) < 0) {
			berr_free(&ignored);
			continue;
		}
		for (size_t l = 0; l < other.n_leases; l++)
			for (size_t p = 0; p < other.leases[l].n_ports; p++)
				for (size_t i = 0; i < n_ports; i++) {
					const struct net_port *q = &other.leases[l].ports[p];

					if (q->host != ports[i].host || strcmp(q->proto, ports[i].proto))
						continue;
					berr_set(e, EADDRINUSE,
						 "port %u/%s is already published by container \"%s\"",
						 q->host, q->proto, other.leases[l].container);
					net_network_free(&other);
					return -1;
				}
		net_network_free(&other);
	}
	for (size_t i = 0; i < n_ports; i++)
		if (nft_publish_exists(&ports[i]))
			return berr_set(e, EADDRINUSE,
					"port %u/%s is already published (nftables map publish_%s of table ip berth)",
					ports[i].host, ports[i].proto, ports[i].proto);
	return 0;
}

static int pick_address(const struct net_network *n, uint32_t *out, berr_t *e)
{
	char cidr[IPV4_CIDRLEN];

	for (uint32_t a = host_first(&n->subnet); a <= host_last(&n->subnet); a++) {
		bool used = a == n->gateway;

		for (size_t i = 0; i < n->n_leases && !used; i++) {
			uint32_t l;

			used = ipv4_parse(n->leases[i].ip, &l) && l == a;
		}
		if (!used) {
			*out = a;
			return 0;
		}
	}
	return berr_set(e, ENOSPC, "network \"%s\" (%s) has no free address: %zu containers hold every lease",
			n->name, ipv4_cidr_str(&n->subnet, cidr), n->n_leases);
}

static int load_or_default(struct net_store *s, const char *network, struct net_network *n,
			   berr_t *e)
{
	struct net_create_opts o = {.name = network};

	if (store_load(s, network, n, e) == 0)
		return 0;
	if (e->errnum != ENOENT)
		return -1;
	if (strcmp(network, NET_DEFAULT_NAME))
		return berr_set(e, ENOENT,
				"network \"%s\" does not exist (create it: berth net create %s --subnet CIDR)",
				network, network);
	berr_free(e);
	log_debug("network %s: first use, creating it with subnet %s", network, NET_DEFAULT_SUBNET);
	return define_network(s, &o, n, e);
}

int net_acquire(const char *root, const char *network, const char *container,
		const struct net_port *ports, size_t n_ports, net_alive_fn alive,
		struct net_attachment *out, berr_t *e)
{
	struct net_store s;
	struct net_network n = {0};
	struct net_lease *l;
	struct link_info li;
	char ip[IPV4_STRLEN], veth[IF_NAMESIZE];
	uint32_t addr = 0;
	bool created;
	int ret = -1;

	memset(out, 0, sizeof *out);
	if (store_open(root, &s, e) < 0 || load_or_default(&s, network, &n, e) < 0 ||
	    ensure_bridge(&s, &n, &created, e) < 0)
		goto out;
	if (reclaim(&s, &n, container, alive) && store_save(&s, &n, e) < 0)
		goto out;
	if (check_ports(&s, ports, n_ports, e) < 0 || pick_address(&n, &addr, e) < 0 ||
	    link_get(n.name, &li, e) < 0)
		goto out;
	/* Named after the address: unique while the lease is held, and a
	 * leftover of a crash is recognised by its lease. */
	snprintf(veth, sizeof veth, "bth%08x", addr);
	if (n_ports && (nft_ensure_table(e) < 0 || nft_publish_add(ports, n_ports, addr, e) < 0))
		goto out;
	n.leases = xreallocarray(n.leases, n.n_leases + 1, sizeof *n.leases);
	l = &n.leases[n.n_leases++];
	memset(l, 0, sizeof *l);
	l->ip = xstrdup(ipv4_str(addr, ip));
	l->container = xstrdup(container);
	l->veth = xstrdup(veth);
	if (n_ports) {
		l->ports = xcalloc(n_ports, sizeof *l->ports);
		memcpy(l->ports, ports, n_ports * sizeof *ports);
		l->n_ports = n_ports;
	}
	if (store_save(&s, &n, e) < 0) {
		nft_publish_remove(ports, n_ports);
		goto out;
	}
	out->network = xstrdup(n.name);
	out->ip = addr;
	out->gateway = n.gateway;
	out->prefixlen = n.subnet.len;
	out->mtu = li.mtu;
	out->veth = xstrdup(veth);
	log_debug("network %s: leased %s to container %s (veth %s)", n.name, ip, container, veth);
	ret = 0;
out:
	net_network_free(&n);
	store_close(&s);
	return ret;
}

static int veth_create(const struct net_attachment *a, int nsfd, berr_t *e)
{
	char buf[NETLINK_BUF];
	struct nlmsghdr *nlh = rtnl_new(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof *ifm), *peer;
	struct nlattr *info, *data, *peer_attr;

	ifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, a->veth);
	mnl_attr_put_u32(nlh, IFLA_MTU, a->mtu);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	/* The peer is born inside the container's namespace, already named
	 * eth0: no moment where it sits on the host under another name. */
	peer_attr = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	peer = mnl_nlmsg_put_extra_header(nlh, sizeof *peer);
	memset(peer, 0, sizeof *peer);
	peer->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, CONTAINER_IFNAME);
	mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, nsfd);
	mnl_attr_put_u32(nlh, IFLA_MTU, a->mtu);
	mnl_attr_nest_end(nlh, peer_attr);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	return rtnl_talk(nlh, "create veth pair", e);
}

static int enslave_and_up(const char *ifname, const char *bridge, berr_t *e)
{
	char buf[NETLINK_BUF];
	struct nlmsghdr *nlh = rtnl_new(buf, RTM_NEWLINK, 0);
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof *ifm);
	unsigned int index = if_nametoindex(ifname), master = if_nametoindex(bridge);

	if (!index || !master)
		return berr_sys(e, "attach \"%s\" to bridge \"%s\"", ifname, bridge);
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = index;
	ifm->ifi_flags = IFF_UP;
	ifm->ifi_change = IFF_UP;
	mnl_attr_put_u32(nlh, IFLA_MASTER, master);
	if (rtnl_talk(nlh, "attach to bridge", e) < 0)
		return berr_wrap(e, "\"%s\" to \"%s\"", ifname, bridge);
	return 0;
}

/* Inside the container's namespace. */
static int configure_inside(const struct net_attachment *a, berr_t *e)
{
	unsigned int index = if_nametoindex(CONTAINER_IFNAME);

	if (!index)
		return berr_sys(e, "interface " CONTAINER_IFNAME " in the container");
	if (addr_add_ipv4(index, a->ip, a->prefixlen, e) < 0 ||
	    link_set_flags(index, IFF_UP, IFF_UP, "bring up " CONTAINER_IFNAME, e) < 0 ||
	    route_add_default_ipv4(index, a->gateway, e) < 0)
		return berr_wrap(e, "container side");
	return 0;
}

int net_attach(const struct net_attachment *a, int nsfd, berr_t *e)
{
	berr_t ignored = BERR_INIT;
	int saved = -1, ret;

	ret = veth_create(a, nsfd, e);
	if (ret < 0 && e->errnum == EEXIST && netns_link_exists(a->veth)) {
		/* A leftover of a crash: its name is this lease's. */
		berr_free(e);
		if (link_delete(a->veth, e) < 0)
			return berr_wrap(e, "network \"%s\"", a->network);
		ret = veth_create(a, nsfd, e);
	}
	if (ret < 0)
		return berr_wrap(e, "network \"%s\": \"%s\"", a->network, a->veth);
	if (enslave_and_up(a->veth, a->network, e) < 0 || netns_enter(nsfd, &saved, e) < 0)
		goto undo;
	ret = configure_inside(a, e);
	netns_leave(saved);
	if (ret < 0)
		goto undo;
	return 0;
undo:
	link_delete(a->veth, &ignored);
	berr_free(&ignored);
	return berr_wrap(e, "network \"%s\"", a->network);
}

int net_release(const char *root, const char *network, const char *container, berr_t *e)
{
	struct net_store s;
	struct net_network n = {0};
	bool changed = false;
	int ret = -1;

	if (store_open(root, &s, e) < 0)
		goto out;
	if (store_load(&s, network, &n, e) < 0) {
		/* Removed with `berth net rm` after a crash: nothing is held. */
		if (e->errnum == ENOENT) {
			berr_free(e);
			ret = 0;
		}
		goto out;
	}
	for (size_t i = 0; i < n.n_leases;) {
		if (strcmp(n.leases[i].container, container)) {
			i++;
			continue;
		}
		log_debug("network %s: releasing %s of container %s", n.name, n.leases[i].ip,
			  container);
		drop_lease(&n, i);
		changed = true;
	}
	ret = changed ? store_save(&s, &n, e) : 0;
out:
	net_network_free(&n);
	store_close(&s);
	return ret;
}
