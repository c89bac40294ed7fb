/* netns/store.c: network definitions and their leases, one JSON file per
 * network under ROOT/networks, all guarded by one flock on ROOT/networks/.lock.
 *
 * The store lives under the state root, beside the containers its leases
 * name: whether a lease's container still exists is a question about that
 * root, and /run is cleared at boot together with every bridge and veth. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/json.h"
#include "common/util.h"
#include "store.h"

#define STORE_DIR "networks"
#define STORE_LOCK ".lock"

int net_check_name(const char *name, berr_t *e)
{
	if (netns_check_ifname(name, "network name", e) < 0)
		return -1;
	if (name[0] == '.' || name[0] == '-')
		return berr_set(e, EINVAL, "network name \"%s\": must not start with '.' or '-'", name);
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' || *p == '.'))
			return berr_set(e, EINVAL,
					"network name \"%s\": only letters, digits and _-. are allowed",
					name);
	return 0;
}

int store_open(const char *root, struct net_store *s, berr_t *e)
{
	memset(s, 0, sizeof *s);
	s->dirfd = s->lockfd = -1;
	s->root = xstrdup(root);
	s->dir = xasprintf("%s/%s", root, STORE_DIR);
	if (mkdir_p(s->dir, 0700, e) < 0)
		return berr_wrap(e, "network store");
	s->dirfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (s->dirfd < 0)
		return berr_sys(e, "open \"%s\"", s->dir);
	s->lockfd = openat(s->dirfd, STORE_LOCK, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (s->lockfd < 0)
		return berr_sys(e, "open \"%s/%s\"", s->dir, STORE_LOCK);
	while (flock(s->lockfd, LOCK_EX) < 0)
		if (errno != EINTR)
			return berr_sys(e, "lock \"%s/%s\"", s->dir, STORE_LOCK);
	return 0;
}

void store_close(struct net_store *s)
{
	if (s->lockfd >= 0)
		close(s->lockfd);
	if (s->dirfd >= 0)
		close(s->dirfd);
	free(s->root);
	free(s->dir);
	memset(s, 0, sizeof *s);
	s->dirfd = s->lockfd = -1;
}

void net_lease_clear(struct net_lease *l)
{
	free(l->ip);
	free(l->container);
	free(l->veth);
	free(l->ports);
	memset(l, 0, sizeof *l);
}

void net_network_free(struct net_network *n)
{
	if (!n)
		return;
	free(n->name);
	free(n->created);
	for (size_t i = 0; i < n->n_leases; i++)
		net_lease_clear(&n->leases[i]);
	free(n->leases);
	memset(n, 0, sizeof *n);
}

static int parse_lease(yajl_val v, const char *path, struct net_lease *l, berr_t *e)
{
	_cleanup_strv_ char **ports = NULL;

	if (json_expect_object(v, path, e) < 0 ||
	    json_field_str(v, path, "ip", true, &l->ip, e) < 0 ||
	    json_field_str(v, path, "container", true, &l->container, e) < 0 ||
	    json_field_str(v, path, "veth", true, &l->veth, e) < 0 ||
	    json_field_strv(v, path, "ports", &ports, e) < 0)
		return -1;
	l->n_ports = strv_len(ports);
	l->ports = l->n_ports ? xcalloc(l->n_ports, sizeof *l->ports) : NULL;
	for (size_t i = 0; i < l->n_ports; i++)
		if (net_port_parse(ports[i], &l->ports[i], e) < 0)
			return berr_wrap(e, "%s.ports", path);
	return 0;
}

void net_lease_ports_json(struct json_writer *w, const struct net_lease *l)
{
	json_key(w, "ports");
	json_begin_array(w);
	for (size_t j = 0; j < l->n_ports; j++) {
		char port[32];

		snprintf(port, sizeof port, "%u:%u/%s", l->ports[j].host, l->ports[j].container,
			 l->ports[j].proto);
		json_str(w, port);
	}
	json_end_array(w);
}

static int parse_network(yajl_val doc, const char *what, struct net_network *n, berr_t *e)
{
	_cleanup_free_ char *subnet = NULL, *gateway = NULL;
	uint64_t mtu = 0;
	yajl_val leases;

	if (json_field_str(doc, "", "name", true, &n->name, e) < 0 ||
	    json_field_str(doc, "", "subnet", true, &subnet, e) < 0 ||
	    json_field_str(doc, "", "gateway", true, &gateway, e) < 0 ||
	    json_field_u64(doc, "", "mtu", false, &mtu, NULL, e) < 0 ||
	    json_field_bool(doc, "", "nat", &n->nat, NULL, e) < 0 ||
	    json_field_str(doc, "", "created", false, &n->created, e) < 0 ||
	    ipv4_parse_cidr(subnet, &n->subnet, e) < 0)
		return berr_wrap(e, "%s", what);
	if (!ipv4_parse(gateway, &n->gateway))
		return berr_set(e, EINVAL, "%s: gateway \"%s\" is not an IPv4 address", what, gateway);
	n->mtu = mtu;
	leases = json_get(doc, "leases");
	if (!leases)
		return 0;
	if (json_expect_array(leases, "leases", e) < 0)
		return berr_wrap(e, "%s", what);
	n->leases = xcalloc(leases->u.array.len + 1, sizeof *n->leases);
	for (size_t i = 0; i < leases->u.array.len; i++) {
		_cleanup_free_ char *p = json_path_index("leases", i);

		n->n_leases++;
		if (parse_lease(leases->u.array.values[i], p, &n->leases[i], e) < 0)
			return berr_wrap(e, "%s", what);
	}
	return 0;
}

int store_load(struct net_store *s, const char *name, struct net_network *out, berr_t *e)
{
	_cleanup_free_ char *file = xasprintf("%s.json", name), *text = NULL;
	_cleanup_free_ char *what = xasprintf("%s/%s", s->dir, file);
	_cleanup_json_ yajl_val doc = NULL;

	memset(out, 0, sizeof *out);
	if (net_check_name(name, e) < 0)
		return -1;
	if (read_file_at(s->dirfd, file, &text, NULL, e) < 0) {
		if (e->errnum == ENOENT)
			return berr_set(e, ENOENT, "network \"%s\" does not exist", name);
		return -1;
	}
	if (json_parse(text, what, &doc, e) < 0 || parse_network(doc, what, out, e) < 0) {
		net_network_free(out);
		return -1;
	}
	return 0;
}

int store_save(struct net_store *s, const struct net_network *n, berr_t *e)
{
	_cleanup_free_ char *file = xasprintf("%s.json", n->name);
	struct json_writer *w = json_writer_new_pretty();
	char buf[IPV4_CIDRLEN];
	int ret;

	json_begin_map(w);
	json_kv_str(w, "name", n->name);
	json_kv_str(w, "subnet", ipv4_cidr_str(&n->subnet, buf));
	json_kv_str(w, "gateway", ipv4_str(n->gateway, buf));
	json_kv_u64(w, "mtu", n->mtu);
	json_kv_bool(w, "nat", n->nat);
	if (n->created)
		json_kv_str(w, "created", n->created);
	json_key(w, "leases");
	json_begin_array(w);
	for (size_t i = 0; i < n->n_leases; i++) {
		const struct net_lease *l = &n->leases[i];

		json_begin_map(w);
		json_kv_str(w, "ip", l->ip);
		json_kv_str(w, "container", l->container);
		json_kv_str(w, "veth", l->veth);
		net_lease_ports_json(w, l);
		json_end_map(w);
	}
	json_end_array(w);
	json_end_map(w);
	ret = write_file_atomic_at(s->dirfd, file, json_writer_str(w), json_writer_len(w), 0600, e);
	json_writer_free(w);
	return ret;
}

int store_remove(struct net_store *s, const char *name, berr_t *e)
{
	_cleanup_free_ char *file = xasprintf("%s.json", name);

	if (unlinkat(s->dirfd, file, 0) < 0 && errno != ENOENT)
		return berr_sys(e, "remove \"%s/%s\"", s->dir, file);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int store_names(struct net_store *s, char ***out, berr_t *e)
{
	int fd = dup(s->dirfd);
	char **names = NULL;
	size_t n = 0;
	struct dirent *de;
	DIR *d;

	if (fd < 0)
		return berr_sys(e, "dup");
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return berr_sys(e, "open \"%s\"", s->dir);
	}
	/* Temporary files of write_file_atomic_at start with '.'. */
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && str_has_suffix(de->d_name, ".json"))
			strv_append(&names, &n, xstrndup(de->d_name, strlen(de->d_name) - 5));
	closedir(d);
	if (n)
		qsort(names, n, sizeof *names, cmp_str);
	*out = names ? names : xcalloc(1, sizeof *names);
	return 0;
}
