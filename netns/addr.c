/* netns/addr.c: addresses and routes over rtnetlink: list and add addresses
 * of a link, the default route, and the IPv4 routes an overlap check needs. */
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "internal.h"

struct addr_dump {
	unsigned int index;
	struct link_addr *list;
	size_t n;
};

static int addr_cb(const struct nlmsghdr *nlh, void *data)
{
	struct addr_dump *d = data;
	struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	struct nlattr *attr;
	struct link_addr a = {0};
	bool have = false;
	size_t len = ifa->ifa_family == AF_INET ? 4 : 16;

	if (nlh->nlmsg_type != RTM_NEWADDR || ifa->ifa_index != d->index)
		return MNL_CB_OK;
	if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6)
		return MNL_CB_OK;
	/* Link-local IPv6 addresses come back by themselves. */
	if (ifa->ifa_scope == RT_SCOPE_LINK)
		return MNL_CB_OK;
	mnl_attr_for_each(attr, nlh, sizeof *ifa) {
		/* IFA_LOCAL is the address itself; IFA_ADDRESS is the peer's
		 * on point-to-point links, and the only one for IPv6. */
		if ((mnl_attr_get_type(attr) == IFA_LOCAL ||
		     (mnl_attr_get_type(attr) == IFA_ADDRESS && !have)) &&
		    mnl_attr_get_payload_len(attr) == len) {
			memcpy(a.addr, mnl_attr_get_payload(attr), len);
			have = true;
		}
	}
	if (!have)
		return MNL_CB_OK;
	a.family = ifa->ifa_family;
	a.prefixlen = ifa->ifa_prefixlen;
	a.scope = ifa->ifa_scope;
	d->list = xreallocarray(d->list, d->n + 1, sizeof *d->list);
	d->list[d->n++] = a;
	return MNL_CB_OK;
}

int addr_list(unsigned int index, struct link_addr **out, size_t *n, berr_t *e)
{
	char buf[NETLINK_BUF];
	struct nlmsghdr *nlh = rtnl_new(buf, RTM_GETADDR, 0);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof *ifa);
	struct addr_dump d = {.index = index};

	ifa->ifa_family = AF_UNSPEC;
	if (rtnl_dump(nlh, addr_cb, &d, "list addresses", e) < 0) {
		free(d.list);
		return -1;
	}
	*out = d.list;
	*n = d.n;
	return 0;
}

int addr_add(unsigned int index, const struct link_addr *a, berr_t *e)
{
	char buf[NETLINK_BUF];
	struct nlmsghdr *nlh = rtnl_new(buf, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof *ifa);
	size_t len = a->family == AF_INET ? 4 : 16;

	ifa->ifa_family = a->family;
	ifa->ifa_prefixlen = a->prefixlen;
	ifa->ifa_scope = a->scope;
	ifa->ifa_index = index;
	mnl_attr_put(nlh, IFA_LOCAL, len, a->addr);
	mnl_attr_put(nlh, IFA_ADDRESS, len, a->addr);
	if (a->family == AF_INET && a->prefixlen < 31) {
		uint32_t host, brd;

		memcpy(&host, a->addr, 4);
		brd = htonl(ntohl(host) | (0xffffffffu >> a->prefixlen));
		mnl_attr_put_u32(nlh, IFA_BROADCAST, brd);
	}
	return rtnl_talk(nlh, "add address", e);
}

int addr_add_ipv4(unsigned int index, uint32_t addr, unsigned int prefixlen, berr_t *e)
{
	struct link_addr a = {.family = AF_INET, .prefixlen = prefixlen,
			      .scope = RT_SCOPE_UNIVERSE};
	uint32_t be = htonl(addr);

	memcpy(a.addr, &be, 4);
	return addr_add(index, &a, e);
}

int route_add_default_ipv4(unsigned int index, uint32_t gateway, berr_t *e)
{
	char buf[NETLINK_BUF];
	struct nlmsghdr *nlh = rtnl_new(buf, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof *rtm);

	rtm->rtm_family = AF_INET;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_BOOT;
	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put_u32(nlh, RTA_GATEWAY, htonl(gateway));
	mnl_attr_put_u32(nlh, RTA_OIF, index);
	return rtnl_talk(nlh, "add default route", e);
}

struct route_dump {
	struct route4 *list;
	size_t n;
};

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	struct route_dump *d = data;
	struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	struct nlattr *attr;
	struct route4 r = {.dst.len = rtm->rtm_dst_len};
	bool have = false;

	if (nlh->nlmsg_type != RTM_NEWROUTE || rtm->rtm_family != AF_INET ||
	    rtm->rtm_dst_len == 0)
		return MNL_CB_OK;
	mnl_attr_for_each(attr, nlh, sizeof *rtm) {
		if (mnl_attr_get_type(attr) == RTA_DST && mnl_attr_get_payload_len(attr) == 4) {
			r.dst.addr = ntohl(mnl_attr_get_u32(attr));
			have = true;
		} else if (mnl_attr_get_type(attr) == RTA_OIF) {
			r.oif = mnl_attr_get_u32(attr);
		}
	}
	if (!have)
		return MNL_CB_OK;
	d->list = xreallocarray(d->list, d->n + 1, sizeof *d->list);
	d->list[d->n++] = r;
	return MNL_CB_OK;
}

int route_list_ipv4(struct route4 **out, size_t *n, berr_t *e)
{
	char buf[NETLINK_BUF];
	struct nlmsghdr *nlh = rtnl_new(buf, RTM_GETROUTE, 0);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof *rtm);
	struct route_dump d = {0};

	rtm->rtm_family = AF_INET;
	if (rtnl_dump(nlh, route_cb, &d, "list routes", e) < 0) {
		free(d.list);
		return -1;
	}
	*out = d.list;
	*n = d.n;
	return 0;
}
