/* netns/ipv4.c: IPv4 prefixes and published-port specs: parsing, printing
 * and overlap. Pure functions, unit-tested without privileges. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "netns.h"

static uint32_t prefix_mask(unsigned int len)
{
	return len == 0 ? 0 : 0xffffffffu << (32 - len);
}

bool ipv4_parse(const char *s, uint32_t *out)
{
	struct in_addr a;

	/* inet_pton takes only the dotted quad: no "10.1" shorthand. */
	if (inet_pton(AF_INET, s, &a) != 1)
		return false;
	*out = ntohl(a.s_addr);
	return true;
}

int ipv4_parse_cidr(const char *s, struct ipv4_net *out, berr_t *e)
{
	_cleanup_free_ char *copy = xstrdup(s);
	char *slash = strchr(copy, '/');
	uint64_t len;
	char buf[IPV4_CIDRLEN];

	if (!slash)
		return berr_set(e, EINVAL, "subnet \"%s\": expected ADDRESS/PREFIX, e.g. %s", s,
				NET_DEFAULT_SUBNET);
	*slash = '\0';
	if (!ipv4_parse(copy, &out->addr))
		return berr_set(e, EINVAL, "subnet \"%s\": \"%s\" is not an IPv4 address", s, copy);
	if (!parse_uint64(slash + 1, &len) || len > 32)
		return berr_set(e, EINVAL, "subnet \"%s\": the prefix length must be 0 to 32", s);
	out->len = len;
	if (out->addr & ~prefix_mask(out->len)) {
		struct ipv4_net net = {out->addr & prefix_mask(out->len), out->len};

		return berr_set(e, EINVAL, "subnet \"%s\": host bits are set (did you mean %s?)", s,
				ipv4_cidr_str(&net, buf));
	}
	return 0;
}

const char *ipv4_str(uint32_t addr, char buf[IPV4_STRLEN])
{
	snprintf(buf, IPV4_STRLEN, "%u.%u.%u.%u", addr >> 24, (addr >> 16) & 255,
		 (addr >> 8) & 255, addr & 255);
	return buf;
}

const char *ipv4_cidr_str(const struct ipv4_net *n, char buf[IPV4_CIDRLEN])
{
	char a[IPV4_STRLEN];

	snprintf(buf, IPV4_CIDRLEN, "%s/%u", ipv4_str(n->addr, a), n->len);
	return buf;
}

bool ipv4_contains(const struct ipv4_net *n, uint32_t addr)
{
	return (addr & prefix_mask(n->len)) == (n->addr & prefix_mask(n->len));
}

bool ipv4_overlap(const struct ipv4_net *a, const struct ipv4_net *b)
{
	unsigned int len = a->len < b->len ? a->len : b->len;

	return (a->addr & prefix_mask(len)) == (b->addr & prefix_mask(len));
}

static bool parse_port(const char *s, uint16_t *out)
{
	uint64_t v;

	if (!parse_uint64(s, &v) || v == 0 || v > 65535)
		return false;
	*out = v;
	return true;
}

int net_port_parse(const char *s, struct net_port *out, berr_t *e)
{
	_cleanup_free_ char *copy = xstrdup(s);
	char *proto = strchr(copy, '/');
	char *colon;

	memset(out, 0, sizeof *out);
	if (proto) {
		*proto++ = '\0';
		if (strcmp(proto, "tcp") && strcmp(proto, "udp"))
			return berr_set(e, EINVAL, "publish \"%s\": the protocol must be tcp or udp", s);
	}
	snprintf(out->proto, sizeof out->proto, "%s", proto ? proto : "tcp");
	colon = strchr(copy, ':');
	if (colon)
		*colon++ = '\0';
	if (!parse_port(copy, &out->host) ||
	    !parse_port(colon ? colon : copy, &out->container))
		return berr_set(e, EINVAL,
				"publish \"%s\": expected HOSTPORT:CONTAINERPORT[/tcp|udp] with ports 1-65535",
				s);
	return 0;
}
