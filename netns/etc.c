/* netns/etc.c: the /etc/hosts, /etc/hostname and /etc/resolv.conf a
 * networked container sees, written into its state directory and bind
 * mounted over the image's (whose own files are never edited). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "netns.h"

/* Loopback resolvers (systemd-resolved's 127.0.0.53, dnsmasq on 127.0.0.1)
 * answer only on the host's loopback, which a container cannot reach. */
static bool loopback_server(const char *addr)
{
	return str_has_prefix(addr, "127.") || !strcmp(addr, "::1");
}

static char *resolv_from_host(void)
{
	_cleanup_free_ char *text = NULL;
	char *out = xstrdup("# written by berth from the host's resolv.conf\n");
	berr_t e = BERR_INIT;
	char *save = NULL;

	if (read_file("/etc/resolv.conf", &text, NULL, &e) < 0) {
		log_debug("resolv.conf: %s", e.msg);
		berr_free(&e);
		return out;
	}
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char key[16], value[256];
		char *next;

		if (sscanf(line, " %15s %255s", key, value) != 2)
			continue;
		if (!strcmp(key, "nameserver") && loopback_server(value)) {
			log_debug("resolv.conf: leaving out the loopback server %s", value);
			continue;
		}
		if (strcmp(key, "nameserver") && strcmp(key, "search") && strcmp(key, "domain") &&
		    strcmp(key, "options"))
			continue;
		next = xasprintf("%s%s\n", out, line);
		free(out);
		out = next;
	}
	return out;
}

int net_write_etc(int dirfd, const struct net_etc *etc, berr_t *e)
{
	_cleanup_free_ char *hosts = NULL, *resolv = NULL, *hostname = NULL;

	hosts = xasprintf("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n%s%s%s%s",
			  etc->ip && etc->hostname ? etc->ip : "", etc->ip && etc->hostname ? "\t" : "",
			  etc->ip && etc->hostname ? etc->hostname : "",
			  etc->ip && etc->hostname ? "\n" : "");
	if (write_file_at(dirfd, "hosts", hosts, strlen(hosts), O_CREAT, 0644, e) < 0)
		return berr_wrap(e, "write hosts");
	if (etc->hostname) {
		hostname = xasprintf("%s\n", etc->hostname);
		if (write_file_at(dirfd, "hostname", hostname, strlen(hostname), O_CREAT, 0644, e) < 0)
			return berr_wrap(e, "write hostname");
	}
	if (etc->resolv) {
		resolv = resolv_from_host();
		if (write_file_at(dirfd, "resolv.conf", resolv, strlen(resolv), O_CREAT, 0644, e) < 0)
			return berr_wrap(e, "write resolv.conf");
	}
	return 0;
}
