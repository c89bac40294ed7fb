/* runtime/cmd_net.c: `berth net create|ls|rm`: berth's bridge networks and
 * the leases of the containers on them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "common/json.h"
#include "common/util.h"
#include "netns/netns.h"
#include "state.h"

static int net_create_cmd(struct global_opts *g, int argc, char **argv)
{
	struct net_create_opts o = {0};
	int mtu = 0;
	const struct cli_opt opts[] = {
		{"subnet", 0, CLI_STRING, &o.subnet},
		{"mtu", 0, CLI_INT, &mtu},
		{"nat", 0, CLI_BOOL, &o.nat},
		{0},
	};
	_cleanup_free_ char **pos = NULL;
	berr_t e = BERR_INIT;
	int npos;

	if (cli_parse(argc, argv, opts, 0, &pos, &npos, &e) < 0)
		return cli_fail(&e, "net create");
	if (npos != 1) {
		cli_usage(&e, "net create", "NAME [--subnet CIDR] [--mtu N] [--nat]");
		return cli_fail(&e, NULL);
	}
	if (mtu < 0) {
		berr_set(&e, EINVAL, "--mtu %d: must be 68 to 65535", mtu);
		return cli_fail(&e, "net create");
	}
	o.name = pos[0];
	o.mtu = mtu;
	if (net_create(g->root, &o, &e) < 0)
		return cli_fail(&e, "net create %s", o.name);
	return 0;
}

static int net_rm_cmd(struct global_opts *g, int argc, char **argv)
{
	_cleanup_free_ char **pos = NULL;
	berr_t e = BERR_INIT;
	int npos;

	if (cli_parse(argc, argv, NULL, 0, &pos, &npos, &e) < 0)
		return cli_fail(&e, "net rm");
	if (npos < 1) {
		cli_usage(&e, "net rm", "NAME...");
		return cli_fail(&e, NULL);
	}
	for (int i = 0; i < npos; i++)
		if (net_remove(g->root, pos[i], state_exists, &e) < 0)
			return cli_fail(&e, "net rm %s", pos[i]);
	return 0;
}

static void print_json(const char *root, const struct net_network *list, size_t n)
{
	struct json_writer *w = json_writer_new();
	char buf[IPV4_CIDRLEN];

	json_begin_array(w);
	for (size_t i = 0; i < n; i++) {
		const struct net_network *net = &list[i];

		json_begin_map(w);
		json_kv_str(w, "name", net->name);
		json_kv_str(w, "subnet", ipv4_cidr_str(&net->subnet, buf));
		json_kv_str(w, "gateway", ipv4_str(net->gateway, buf));
		json_kv_u64(w, "mtu", net->mtu);
		json_kv_bool(w, "nat", net->nat);
		json_kv_bool(w, "bridgePresent", net_bridge_present(net));
		json_key(w, "leases");
		json_begin_array(w);
		for (size_t j = 0; j < net->n_leases; j++) {
			const struct net_lease *l = &net->leases[j];

			json_begin_map(w);
			json_kv_str(w, "ip", l->ip);
			json_kv_str(w, "container", l->container);
			json_kv_str(w, "veth", l->veth);
			json_kv_bool(w, "stale", !state_exists(root, l->container));
			net_lease_ports_json(w, l);
			json_end_map(w);
		}
		json_end_array(w);
		json_end_map(w);
	}
	json_end_array(w);
	printf("%s\n", json_writer_str(w));
	json_writer_free(w);
}

static void print_table(const char *root, const struct net_network *list, size_t n)
{
	char cidr[IPV4_CIDRLEN], gw[IPV4_STRLEN];

	printf("%-16s %-18s %-15s %-5s %-4s %-7s %s\n", "NAME", "SUBNET", "GATEWAY", "MTU", "NAT",
	       "BRIDGE", "LEASES");
	for (size_t i = 0; i < n; i++) {
		const struct net_network *net = &list[i];
		char mtu[16];

		snprintf(mtu, sizeof mtu, "%u", net->mtu);
		printf("%-16s %-18s %-15s %-5s %-4s %-7s %zu\n", net->name,
		       ipv4_cidr_str(&net->subnet, cidr), ipv4_str(net->gateway, gw),
		       net->mtu ? mtu : "-", net->nat ? "yes" : "no",
		       net_bridge_present(net) ? "up" : "absent", net->n_leases);
		for (size_t j = 0; j < net->n_leases; j++) {
			const struct net_lease *l = &net->leases[j];

			printf("  %-15s %-24s %-15s", l->ip, l->container, l->veth);
			for (size_t k = 0; k < l->n_ports; k++)
				printf("%s%u->%u/%s", k ? "," : " ", l->ports[k].host,
				       l->ports[k].container, l->ports[k].proto);
			printf("%s\n", state_exists(root, l->container) ? "" : " (stale)");
		}
	}
}

static int net_ls_cmd(struct global_opts *g, int argc, char **argv)
{
	const char *format = "table";
	const struct cli_opt opts[] = {
		{"format", 'f', CLI_STRING, &format},
		{0},
	};
	_cleanup_free_ char **pos = NULL;
	struct net_network *list = NULL;
	berr_t e = BERR_INIT;
	size_t n = 0;
	int npos;

	if (cli_parse(argc, argv, opts, 0, &pos, &npos, &e) < 0)
		return cli_fail(&e, "net ls");
	if (npos != 0 || (strcmp(format, "table") && strcmp(format, "json"))) {
		cli_usage(&e, "net ls", "[--format table|json]");
		return cli_fail(&e, NULL);
	}
	if (net_list(g->root, &list, &n, &e) < 0)
		return cli_fail(&e, "net ls");
	if (!strcmp(format, "json"))
		print_json(g->root, list, n);
	else
		print_table(g->root, list, n);
	for (size_t i = 0; i < n; i++)
		net_network_free(&list[i]);
	free(list);
	return 0;
}

int cmd_net(struct global_opts *g, int argc, char **argv)
{
	static const struct {
		const char *name;
		cmd_fn fn;
	} subs[] = {
		{"create", net_create_cmd},
		{"ls", net_ls_cmd},
		{"list", net_ls_cmd},
		{"rm", net_rm_cmd},
		{"remove", net_rm_cmd},
	};
	berr_t e = BERR_INIT;

	if (argc < 2) {
		cli_usage(&e, "net", "create|ls|rm ...");
		return cli_fail(&e, NULL);
	}
	for (size_t i = 0; i < ARRAY_SIZE(subs); i++)
		if (!strcmp(argv[1], subs[i].name))
			return subs[i].fn(g, argc - 1, argv + 1);
	berr_set(&e, EINVAL, "net: unknown command \"%s\" (expected create, ls or rm)", argv[1]);
	return cli_fail(&e, NULL);
}
