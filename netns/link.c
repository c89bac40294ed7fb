/* netns/link.c: links over rtnetlink with libmnl: one request, one ack,
 * errors carried back from the kernel's NLMSG_ERROR. */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"
#include "netns.h"

/* MNL_SOCKET_BUFFER_SIZE depends on the page size at run time. */
#define NETLINK_BUF 8192

/* Send one request and wait for its acknowledgement. */
static int rtnl_talk(struct nlmsghdr *nlh, const char *what, berr_t *e)
{
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	char buf[NETLINK_BUF];
	unsigned int portid;
	ssize_t n;
	int ret;

	if (!nl)
		return berr_sys(e, "%s: open rtnetlink socket", what);
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		berr_sys(e, "%s: bind rtnetlink socket", what);
		mnl_socket_close(nl);
		return -1;
	}
	portid = mnl_socket_get_portid(nl);
	nlh->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		berr_sys(e, "%s: send", what);
		mnl_socket_close(nl);
		return -1;
	}
	n = mnl_socket_recvfrom(nl, buf, sizeof buf);
	if (n < 0) {
		berr_sys(e, "%s: receive", what);
		mnl_socket_close(nl);
		return -1;
	}
	/* mnl_cb_run turns an NLMSG_ERROR into -1 with errno set. */
	ret = mnl_cb_run(buf, n, nlh->nlmsg_seq, portid, NULL, NULL);
	if (ret < 0)
		berr_sys(e, "%s", what);
	mnl_socket_close(nl);
	return ret < 0 ? -1 : 0;
}

int netns_link_up(const char *ifname, berr_t *e)
{
	char buf[NETLINK_BUF];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifm;
	unsigned int index = if_nametoindex(ifname);

	if (!index)
		return berr_sys(e, "interface \"%s\"", ifname);
	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = time(NULL);
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof *ifm);
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = index;
	ifm->ifi_flags = IFF_UP;
	ifm->ifi_change = IFF_UP;
	if (rtnl_talk(nlh, "bring up interface", e) < 0)
		return berr_wrap(e, "\"%s\"", ifname);
	return 0;
}

int netns_loopback_up(berr_t *e)
{
	return netns_link_up("lo", e);
}
