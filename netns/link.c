/* netns/link.c: links over rtnetlink: look up, bring up, delete, and moving
 * berth in and out of a network namespace to act there. */
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "internal.h"

int netns_check_ifname(const char *name, const char *what, berr_t *e)
{
	size_t len = strlen(name);

	/* dev_valid_name() in net/core/dev.c */
	if (len == 0 || len >= IFNAMSIZ)
		return berr_set(e, EINVAL, "%s \"%s\": an interface name has 1 to %d characters",
				what, name, IFNAMSIZ - 1);
	if (!strcmp(name, ".") || !strcmp(name, "..") || strpbrk(name, "/: \t\n"))
		return berr_set(e, EINVAL, "%s \"%s\": not a valid interface name", what, name);
	return 0;
}

bool netns_link_exists(const char *ifname)
{
	return if_nametoindex(ifname) != 0;
}

int netns_enter(int nsfd, int *saved, berr_t *e)
{
	*saved = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (*saved < 0)
		return berr_sys(e, "open /proc/self/ns/net");
	if (setns(nsfd, CLONE_NEWNET) < 0) {
		berr_sys(e, "enter the container's network namespace");
		close(*saved);
		*saved = -1;
		return -1;
	}
	return 0;
}

void netns_leave(int saved)
{
	if (saved < 0)
		return;
	/* Failing to return would leave berth acting on the wrong host. */
	if (setns(saved, CLONE_NEWNET) < 0) {
		log_error("return to berth's network namespace: %s", strerror(errno));
		abort();
	}
	close(saved);
}

static int linkinfo_cb(const struct nlattr *attr, void *data)
{
	struct link_info *li = data;

	if (mnl_attr_get_type(attr) == IFLA_INFO_KIND)
		snprintf(li->kind, sizeof li->kind, "%s", mnl_attr_get_str(attr));
	return MNL_CB_OK;
}

static int link_attr_cb(const struct nlattr *attr, void *data)
{
	struct link_info *li = data;

	switch (mnl_attr_get_type(attr)) {
	case IFLA_MTU:
		li->mtu = mnl_attr_get_u32(attr);
		break;
	case IFLA_MASTER:
		li->master = mnl_attr_get_u32(attr);
		break;
	case IFLA_LINKINFO:
		mnl_attr_parse_nested(attr, linkinfo_cb, li);
		break;
	}
	return MNL_CB_OK;
}

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	struct link_info *li = data;
	struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_type != RTM_NEWLINK)
		return MNL_CB_OK;
	li->index = ifm->ifi_index;
	li->flags = ifm->ifi_flags;
	mnl_attr_parse(nlh, sizeof *ifm, link_attr_cb, li);
	return MNL_CB_OK;
}

int link_get(const char *ifname, struct link_info *out, berr_t *e)
{
	char buf[NETLINK_BUF];
	struct nlmsghdr *nlh = rtnl_new(buf, RTM_GETLINK, 0);
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof *ifm);

	memset(out, 0, sizeof *out);
	ifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname);
	if (rtnl_query(nlh, link_cb, out, "look up interface", e) < 0) {
		if (e->errnum == ENODEV)
			return berr_set(e, ENODEV, "interface \"%s\" does not exist", ifname);
		return berr_wrap(e, "\"%s\"", ifname);
	}
	return 0;
}

int link_set_flags(unsigned int index, unsigned int flags, unsigned int change,
		   const char *what, berr_t *e)
{
	char buf[NETLINK_BUF];
	struct nlmsghdr *nlh = rtnl_new(buf, RTM_NEWLINK, 0);
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof *ifm);

	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = index;
	ifm->ifi_flags = flags;
	ifm->ifi_change = change;
	return rtnl_talk(nlh, what, e);
}

int netns_link_up(const char *ifname, berr_t *e)
{
	unsigned int index = if_nametoindex(ifname);

	if (!index)
		return berr_sys(e, "interface \"%s\"", ifname);
	if (link_set_flags(index, IFF_UP, IFF_UP, "bring up interface", e) < 0)
		return berr_wrap(e, "\"%s\"", ifname);
	return 0;
}

int netns_loopback_up(berr_t *e)
{
	return netns_link_up("lo", e);
}

int link_delete(const char *ifname, berr_t *e)
{
	char buf[NETLINK_BUF];
	struct nlmsghdr *nlh = rtnl_new(buf, RTM_DELLINK, 0);
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof *ifm);

	ifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname);
	if (rtnl_talk(nlh, "delete interface", e) < 0)
		return berr_wrap(e, "\"%s\"", ifname);
	return 0;
}
