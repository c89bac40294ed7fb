/* netns/nft.c: published ports and outbound NAT in one nftables table that
 * belongs to berth (`table ip berth`), driven through the nft tool. Nothing
 * outside that table, and no sysctl but ip_forward when a publish needs it.
 *
 * The table is made once, atomically, and never holds per-container rules:
 * a publication is an element of a map (host port -> address . port) and a
 * NAT network an element of a set, so that removing exactly what one
 * container added is deleting its elements, recorded in its lease. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "internal.h"

#define NFT_TABLE "ip berth"

/* Packets to one of this host's addresses (fib daddr type local) whose
 * port is published are sent to the container: prerouting for those that
 * arrive, output for those the host itself sends. */
static const char nft_ruleset[] =
	"create table " NFT_TABLE "\n"
	"add map " NFT_TABLE " publish_tcp { type inet_service : ipv4_addr . inet_service; }\n"
	"add map " NFT_TABLE " publish_udp { type inet_service : ipv4_addr . inet_service; }\n"
	"add set " NFT_TABLE " nat_subnets { type ipv4_addr; flags interval; }\n"
	"add chain " NFT_TABLE " publish\n"
	"add rule " NFT_TABLE " publish dnat ip to tcp dport map @publish_tcp\n"
	"add rule " NFT_TABLE " publish dnat ip to udp dport map @publish_udp\n"
	"add chain " NFT_TABLE " prerouting { type nat hook prerouting priority dstnat; policy accept; }\n"
	"add rule " NFT_TABLE " prerouting fib daddr type local jump publish\n"
	"add chain " NFT_TABLE " output { type nat hook output priority -100; policy accept; }\n"
	"add rule " NFT_TABLE " output fib daddr type local jump publish\n"
	"add chain " NFT_TABLE " postrouting { type nat hook postrouting priority srcnat; policy accept; }\n"
	"add rule " NFT_TABLE " postrouting ip saddr @nat_subnets ip daddr != @nat_subnets masquerade\n";

int run_tool(char *const argv[], const char *input, const char *what, berr_t *e)
{
	int in[2], err[2], status;
	char msg[512];
	ssize_t n = 0, r;
	pid_t pid;

	if (pipe2(in, O_CLOEXEC) < 0)
		return berr_sys(e, "%s: pipe", what);
	if (pipe2(err, O_CLOEXEC) < 0) {
		close(in[0]);
		close(in[1]);
		return berr_sys(e, "%s: pipe", what);
	}
	pid = fork();
	if (pid < 0) {
		berr_sys(e, "%s: fork", what);
		close(in[0]);
		close(in[1]);
		close(err[0]);
		close(err[1]);
		return -1;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		signal(SIGPIPE, SIG_DFL);
		dup2(in[0], 0);
		dup2(null, 1);
		dup2(err[1], 2);
		execvp(argv[0], argv);
		dprintf(2, "%s not found\n", argv[0]);
		_exit(127);
	}
	close(in[0]);
	close(err[1]);
	if (input)
		write_all(in[1], input, strlen(input));
	close(in[1]);
	while ((r = read(err[0], msg + n, sizeof msg - 1 - n)) > 0 && (size_t)(n += r) < sizeof msg - 1)
		;
	msg[n] = '\0';
	close(err[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return berr_sys(e, "%s: wait for %s", what, argv[0]);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	msg[strcspn(msg, "\n")] = '\0';
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		return berr_set(e, ENOENT, "%s: %s not found (install the %s package)", what, argv[0],
				strcmp(argv[0], "nft") ? argv[0] : "nftables");
	return berr_set(e, EIO, "%s: %s failed: %s", what, argv[0], *msg ? msg : "no message");
}

static int nft(const char *input, const char *what, berr_t *e)
{
	char *argv[] = {"nft", "-f", "-", NULL};

	log_debug("nft: %s", input);
	return run_tool(argv, input, what, e);
}

static bool table_exists(void)
{
	berr_t e = BERR_INIT;
	char *argv[] = {"nft", "list", "table", "ip", "berth", NULL};
	int ret = run_tool(argv, NULL, "nft", &e);

	berr_free(&e);
	return ret == 0;
}

int nft_ensure_table(berr_t *e)
{
	if (table_exists())
		return 0;
	/* `create table` makes the batch fail whole when another berth won
	 * the race: then the table is there, complete. */
	if (nft(nft_ruleset, "create nftables table ip berth", e) < 0) {
		if (table_exists()) {
			berr_free(e);
			return 0;
		}
		return -1;
	}
	return 0;
}

bool nft_publish_exists(const struct net_port *p)
{
	_cleanup_free_ char *map = xasprintf("publish_%s", p->proto);
	char port[16];
	char *argv[] = {"nft", "get", "element", "ip", "berth", map, port, NULL};
	berr_t e = BERR_INIT;
	int ret;

	snprintf(port, sizeof port, "{ %u }", p->host);
	ret = run_tool(argv, NULL, "nft", &e);
	berr_free(&e);
	return ret == 0;
}

int nft_publish_add(const struct net_port *ports, size_t n, uint32_t ip, berr_t *e)
{
	_cleanup_free_ char *batch = xstrdup("");
	char addr[IPV4_STRLEN];

	if (n == 0)
		return 0;
	if (sysctl_ip_forward_on("published ports are forwarded to the container", e) < 0)
		return -1;
	ipv4_str(ip, addr);
	for (size_t i = 0; i < n; i++) {
		char *next = xasprintf("%screate element " NFT_TABLE " publish_%s { %u : %s . %u }\n",
				       batch, ports[i].proto, ports[i].host, addr,
				       ports[i].container);

		free(batch);
		batch = next;
	}
	/* One batch: all the container's ports or none. */
	return nft(batch, "publish ports", e);
}

void nft_publish_remove(const struct net_port *ports, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *cmd = xasprintf("delete element " NFT_TABLE " publish_%s { %u }\n",
						     ports[i].proto, ports[i].host);
		berr_t e = BERR_INIT;

		if (nft(cmd, "unpublish", &e) < 0)
			log_debug("unpublish %u/%s: %s", ports[i].host, ports[i].proto, e.msg);
		berr_free(&e);
	}
}

int nft_nat_subnet(const struct ipv4_net *subnet, bool add, berr_t *e)
{
	char cidr[IPV4_CIDRLEN];
	_cleanup_free_ char *cmd = NULL;

	ipv4_cidr_str(subnet, cidr);
	if (add && sysctl_ip_forward_on("outbound NAT routes the network's traffic", e) < 0)
		return -1;
	cmd = xasprintf("%s element " NFT_TABLE " nat_subnets { %s }\n", add ? "add" : "delete",
			cidr);
	return nft(cmd, add ? "add outbound NAT" : "remove outbound NAT", e);
}

int sysctl_ip_forward_on(const char *why, berr_t *e)
{
	static const char path[] = "/proc/sys/net/ipv4/ip_forward";
	_cleanup_free_ char *cur = NULL;

	if (read_file(path, &cur, NULL, e) < 0)
		return -1;
	if (cur[0] == '1')
		return 0;
	log_debug("setting net.ipv4.ip_forward=1 in berth's network namespace: %s", why);
	if (write_file(path, "1\n", 2, 0, 0, e) < 0)
		return berr_wrap(e, "turn on net.ipv4.ip_forward");
	return 0;
}
