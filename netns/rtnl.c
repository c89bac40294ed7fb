/* netns/rtnl.c: rtnetlink requests and dumps with libmnl. A socket lives for
 * one request, so that it belongs to the caller's current network namespace. */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "common/util.h"
#include "internal.h"

static unsigned int next_seq;

struct nlmsghdr *rtnl_new(char *buf, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	if (!next_seq)
		next_seq = time(NULL);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++next_seq;
	return nlh;
}

static struct mnl_socket *rtnl_open(const char *what, unsigned int *portid, berr_t *e)
{
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);

	if (!nl) {
		berr_sys(e, "%s: open rtnetlink socket", what);
		return NULL;
	}
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		berr_sys(e, "%s: bind rtnetlink socket", what);
		mnl_socket_close(nl);
		return NULL;
	}
	*portid = mnl_socket_get_portid(nl);
	return nl;
}

/* One request and every reply message until the acknowledgement (or the
 * end of a dump); NLMSG_ERROR becomes -1 with errno set by mnl_cb_run. */
static int rtnl_exchange(struct nlmsghdr *nlh, mnl_cb_t cb, void *data, const char *what,
			 berr_t *e)
{
	char buf[NETLINK_BUF];
	unsigned int portid;
	struct mnl_socket *nl = rtnl_open(what, &portid, e);
	int ret = MNL_CB_OK;

	if (!nl)
		return -1;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		berr_sys(e, "%s: send", what);
		mnl_socket_close(nl);
		return -1;
	}
	while (ret > MNL_CB_STOP) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof buf);

		if (n < 0) {
			berr_sys(e, "%s: receive", what);
			mnl_socket_close(nl);
			return -1;
		}
		ret = mnl_cb_run(buf, n, nlh->nlmsg_seq, portid, cb, data);
	}
	if (ret < 0)
		berr_sys(e, "%s", what);
	mnl_socket_close(nl);
	return ret < 0 ? -1 : 0;
}

int rtnl_talk(struct nlmsghdr *nlh, const char *what, berr_t *e)
{
	nlh->nlmsg_flags |= NLM_F_ACK;
	return rtnl_exchange(nlh, NULL, NULL, what, e);
}

int rtnl_query(struct nlmsghdr *nlh, mnl_cb_t cb, void *data, const char *what, berr_t *e)
{
	nlh->nlmsg_flags |= NLM_F_ACK;
	return rtnl_exchange(nlh, cb, data, what, e);
}

int rtnl_dump(struct nlmsghdr *nlh, mnl_cb_t cb, void *data, const char *what, berr_t *e)
{
	nlh->nlmsg_flags |= NLM_F_DUMP;
	return rtnl_exchange(nlh, cb, data, what, e);
}
