/* netns/netdev.c: OCI linux.netDevices: a host interface moved into the
 * container's network namespace (renamed on the way) and back on delete.
 *
 * The kernel drops a device's addresses when it changes namespace, so they
 * are read before the move and added again on the other side, with the up
 * state. The move and the rename are one RTM_NEWLINK (IFLA_NET_NS_FD +
 * IFLA_IFNAME), so the device never shows under a temporary name. When the
 * namespace dies first, the kernel moves physical devices to the initial
 * namespace and destroys virtual ones (veth, macvlan...): see
 * default_device_exit_net() in net/core/dev.c. */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>

#include "common/log.h"
#include "common/util.h"
#include "internal.h"

int netdev_check(const char *host_name, berr_t *e)
{
	struct link_info li;

	if (netns_check_ifname(host_name, "linux.netDevices", e) < 0)
		return -1;
	if (link_get(host_name, &li, e) < 0)
		return berr_wrap(e, "linux.netDevices");
	if (li.flags & IFF_LOOPBACK)
		return berr_set(e, EINVAL, "linux.netDevices: \"%s\" is a loopback device", host_name);
	return 0;
}

struct saved_link {
	struct link_info li;
	struct link_addr *addrs;
	size_t n_addrs;
};

static int save_link(const char *name, struct saved_link *s, berr_t *e)
{
	memset(s, 0, sizeof *s);
	if (link_get(name, &s->li, e) < 0 || addr_list(s->li.index, &s->addrs, &s->n_addrs, e) < 0)
		return -1;
	return 0;
}

static int move_link(unsigned int index, int target_nsfd, const char *new_name, berr_t *e)
{
	char buf[NETLINK_BUF];
	struct nlmsghdr *nlh = rtnl_new(buf, RTM_NEWLINK, 0);
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof *ifm);

	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = index;
	mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, target_nsfd);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, new_name);
	return rtnl_talk(nlh, "move interface", e);
}

/* In the namespace the device now lives in: its addresses and up state. */
static int restore_link(const char *name, const struct saved_link *s, berr_t *e)
{
	unsigned int index = if_nametoindex(name);

	if (!index)
		return berr_sys(e, "interface \"%s\" after the move", name);
	for (size_t i = 0; i < s->n_addrs; i++)
		if (addr_add(index, &s->addrs[i], e) < 0)
			return berr_wrap(e, "\"%s\"", name);
	if ((s->li.flags & IFF_UP) && link_set_flags(index, IFF_UP, IFF_UP, "bring up", e) < 0)
		return berr_wrap(e, "\"%s\"", name);
	return 0;
}

int netdev_move_in(const char *host_name, const char *ctr_name, int nsfd, berr_t *e)
{
	const char *name = ctr_name ? ctr_name : host_name;
	struct saved_link s;
	int saved = -1, ret;

	if (save_link(host_name, &s, e) < 0)
		goto fail;
	if (move_link(s.li.index, nsfd, name, e) < 0) {
		berr_wrap(e, "\"%s\" to \"%s\"", host_name, name);
		goto fail;
	}
	log_debug("netDevices: moved \"%s\" into the container as \"%s\"", host_name, name);
	if (netns_enter(nsfd, &saved, e) < 0)
		goto fail;
	ret = restore_link(name, &s, e);
	netns_leave(saved);
	free(s.addrs);
	return ret;
fail:
	free(s.addrs);
	return berr_wrap(e, "linux.netDevices");
}

int netdev_move_out(const char *ctr_name, const char *host_name, int nsfd, bool *gone,
		    berr_t *e)
{
	_cleanup_close_ int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	struct saved_link s = {0};
	int saved = -1, ret;

	*gone = false;
	if (self < 0)
		return berr_sys(e, "open /proc/self/ns/net");
	if (netns_enter(nsfd, &saved, e) < 0)
		return -1;
	ret = save_link(ctr_name, &s, e);
	if (ret < 0 && e->errnum == ENODEV) {
		berr_free(e);
		*gone = true;
		netns_leave(saved);
		return 0;
	}
	if (ret == 0)
		ret = move_link(s.li.index, self, host_name, e);
	netns_leave(saved);
	if (ret == 0)
		ret = restore_link(host_name, &s, e);
	free(s.addrs);
	if (ret < 0)
		return berr_wrap(e, "return network device \"%s\" to the host as \"%s\"", ctr_name,
				 host_name);
	log_debug("netDevices: returned \"%s\" to the host as \"%s\"", ctr_name, host_name);
	return 0;
}
