/* tests/unit/test_netns_parse.c: the pure parts of netns/: IPv4 prefixes,
 * their overlap, published-port specs and interface names; TAP, no privileges. */
#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "netns/netns.h"
#include "tap.h"

static bool cidr_ok(const char *s, const char *want)
{
	struct ipv4_net n;
	berr_t e = BERR_INIT;
	char buf[IPV4_CIDRLEN];
	bool ok = ipv4_parse_cidr(s, &n, &e) == 0 && !strcmp(ipv4_cidr_str(&n, buf), want);

	berr_free(&e);
	return ok;
}

static bool cidr_err(const char *s, const char *want)
{
	struct ipv4_net n;
	berr_t e = BERR_INIT;
	bool ok = ipv4_parse_cidr(s, &n, &e) < 0 && e.msg && strstr(e.msg, want);

	if (!ok)
		printf("#   %s: %s\n", s, e.msg ? e.msg : "(no error)");
	berr_free(&e);
	return ok;
}

static bool overlap(const char *a, const char *b)
{
	struct ipv4_net x, y;
	berr_t e = BERR_INIT;

	ipv4_parse_cidr(a, &x, &e);
	ipv4_parse_cidr(b, &y, &e);
	berr_free(&e);
	return ipv4_overlap(&x, &y);
}

static bool port_is(const char *s, unsigned host, unsigned ctr, const char *proto)
{
	struct net_port p;
	berr_t e = BERR_INIT;
	bool ok = net_port_parse(s, &p, &e) == 0 && p.host == host && p.container == ctr &&
		  !strcmp(p.proto, proto);

	berr_free(&e);
	return ok;
}

static bool port_bad(const char *s)
{
	struct net_port p;
	berr_t e = BERR_INIT;
	bool bad = net_port_parse(s, &p, &e) < 0 && e.msg && strstr(e.msg, s);

	berr_free(&e);
	return bad;
}

static bool ifname_ok(const char *s)
{
	berr_t e = BERR_INIT;
	bool ok = netns_check_ifname(s, "name", &e) == 0;

	berr_free(&e);
	return ok;
}

int main(void)
{
	CHECK("cidr: the default subnet", cidr_ok(NET_DEFAULT_SUBNET, "10.89.0.0/24"));
	CHECK("cidr: /0 and /32", cidr_ok("0.0.0.0/0", "0.0.0.0/0") && cidr_ok("10.1.2.3/32", "10.1.2.3/32"));
	CHECK("cidr: host bits set, with a suggestion",
	      cidr_err("10.89.0.1/24", "host bits are set (did you mean 10.89.0.0/24?)"));
	CHECK("cidr: no prefix", cidr_err("10.89.0.0", "expected ADDRESS/PREFIX"));
	CHECK("cidr: prefix too long", cidr_err("10.89.0.0/33", "prefix length must be 0 to 32"));
	CHECK("cidr: not an address", cidr_err("10.89.0/24", "is not an IPv4 address"));
	CHECK("cidr: garbage prefix", cidr_err("10.89.0.0/2x", "prefix length"));
	CHECK("overlap: nested", overlap("10.89.0.0/16", "10.89.5.0/24"));
	CHECK("overlap: symmetric", overlap("10.89.5.0/24", "10.89.0.0/16"));
	CHECK("overlap: equal", overlap("10.90.0.0/30", "10.90.0.0/30"));
	CHECK("overlap: neighbours do not", !overlap("10.89.0.0/24", "10.89.1.0/24"));
	CHECK("overlap: a /30 next to another", !overlap("10.90.0.0/30", "10.90.0.4/30"));
	CHECK("port: host:container", port_is("8080:80", 8080, 80, "tcp"));
	CHECK("port: udp", port_is("5353:53/udp", 5353, 53, "udp"));
	CHECK("port: one number is both sides", port_is("443", 443, 443, "tcp"));
	CHECK("port: explicit tcp", port_is("1:65535/tcp", 1, 65535, "tcp"));
	CHECK("port: 0 refused", port_bad("0:80"));
	CHECK("port: 65536 refused", port_bad("8080:65536"));
	CHECK("port: unknown protocol", port_bad("80/sctp"));
	CHECK("port: empty sides", port_bad(":80") && port_bad("80:"));
	CHECK("port: garbage", port_bad("80:8o"));
	CHECK("ifname: eth0 and 15 bytes", ifname_ok("eth0") && ifname_ok("abcdefghijklmno"));
	CHECK("ifname: 16 bytes refused", !ifname_ok("abcdefghijklmnop"));
	CHECK("ifname: empty, dot, slash, colon refused",
	      !ifname_ok("") && !ifname_ok(".") && !ifname_ok("..") && !ifname_ok("a/b") &&
	      !ifname_ok("a:b") && !ifname_ok("a b"));
	return tap_done();
}
