/* runtime/net_lifecycle.c: the glue between the container lifecycle and
 * netns/: which network a container asked for, when each piece is made, and
 * how every piece is undone at delete, also after a crash of berth. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "lifecycle.h"
#include "net_lifecycle.h"
#include "netns/netns.h"

/* From NET_MODE_BRIDGE on, berth has work to do after the clone. */
enum net_mode {
	NET_MODE_OCI,       /* no --net: the config's namespaces as they are */
	NET_MODE_NONE,
	NET_MODE_HOST,
	NET_MODE_NS,
	NET_MODE_BRIDGE,
	NET_MODE_PASTA,
	NET_MODE_SLIRP,
};

struct net_setup {
	enum net_mode mode;
	char *arg;                 /* the network name, or the namespace path */
	struct net_port *ports;
	size_t n_ports;
	struct net_attachment att;
	bool after_clone_done;
};

/* The container's network namespace, held by this berth process from the
 * clone (or from before a forced delete's kill) to the teardown: while it is
 * open, the namespace outlives the init, and netDevices can go back to the
 * host instead of being destroyed with it. One container per process. */
static int held_netns = -1;

void net_setup_free(struct net_setup *ns)
{
	if (!ns)
		return;
	free(ns->arg);
	free(ns->ports);
	net_attachment_free(&ns->att);
	free(ns);
}

/* ---- plan ---- */

static int parse_mode(const char *s, struct net_setup *ns, berr_t *e)
{
	if (!strcmp(s, "none")) {
		ns->mode = NET_MODE_NONE;
	} else if (!strcmp(s, "host")) {
		ns->mode = NET_MODE_HOST;
	} else if (!strcmp(s, "pasta")) {
		ns->mode = NET_MODE_PASTA;
	} else if (!strcmp(s, "slirp4netns")) {
		ns->mode = NET_MODE_SLIRP;
	} else if (!strcmp(s, "bridge") || str_has_prefix(s, "bridge:")) {
		ns->mode = NET_MODE_BRIDGE;
		ns->arg = xstrdup(s[6] ? s + 7 : NET_DEFAULT_NAME);
		if (!*ns->arg)
			return berr_set(e, EINVAL, "--net \"%s\": the network name is empty", s);
	} else if (str_has_prefix(s, "ns:") && s[3]) {
		ns->mode = NET_MODE_NS;
		ns->arg = xstrdup(s + 3);
	} else {
		return berr_set(e, EINVAL,
				"--net \"%s\": expected bridge[:NAME], none, host, ns:PATH, pasta or slirp4netns",
				s);
	}
	return 0;
}

static int parse_ports(char *const *list, const char *annotation, struct net_setup *ns,
		       berr_t *e)
{
	_cleanup_strv_ char **split = NULL;
	size_t n = 0;

	if (!list && annotation) {
		_cleanup_free_ char *copy = xstrdup(annotation);
		char *save = NULL;

		for (char *p = strtok_r(copy, ", ", &save); p; p = strtok_r(NULL, ", ", &save))
			strv_append(&split, &n, xstrdup(p));
		list = split;
	}
	ns->n_ports = strv_len(list);
	ns->ports = ns->n_ports ? xcalloc(ns->n_ports, sizeof *ns->ports) : NULL;
	for (size_t i = 0; i < ns->n_ports; i++)
		if (net_port_parse(list[i], &ns->ports[i], e) < 0)
			return -1;
	return 0;
}

/* The network entry of linux.namespaces: made new, joined, or removed. */
static void set_network_ns(struct spec_linux *lx, bool present, const char *path)
{
	size_t i;

	for (i = 0; i < lx->n_namespaces && lx->namespaces[i].type != NS_NETWORK; i++)
		;
	if (!present) {
		if (i == lx->n_namespaces)
			return;
		free(lx->namespaces[i].path);
		memmove(&lx->namespaces[i], &lx->namespaces[i + 1],
			(lx->n_namespaces - i - 1) * sizeof *lx->namespaces);
		lx->n_namespaces--;
		return;
	}
	if (i == lx->n_namespaces) {
		lx->namespaces = xreallocarray(lx->namespaces, lx->n_namespaces + 1,
					       sizeof *lx->namespaces);
		lx->namespaces[lx->n_namespaces++] = (struct spec_namespace){.type = NS_NETWORK};
	}
	free(lx->namespaces[i].path);
	lx->namespaces[i].path = path ? xstrdup(path) : NULL;
}

static bool creates_netns(const struct spec *s)
{
	const struct spec_namespace *n = spec_find_ns(s, NS_NETWORK);

	return n && !n->path;
}

/* The init unshares its namespaces itself when it joins one by path; berth
 * sees the new network namespace only through the real init of the double
 * fork that a new pid namespace makes. */
static int check_reachable(const struct spec *s, const char *what, berr_t *e)
{
	const struct spec_linux *lx = s->linux;
	bool joins = false;

	for (size_t i = 0; i < lx->n_namespaces; i++)
		if (lx->namespaces[i].path && lx->namespaces[i].type != NS_PID)
			joins = true;
	if (joins && creates_netns(s) && !(spec_find_ns(s, NS_PID) && !spec_find_ns(s, NS_PID)->path))
		return berr_set(e, EINVAL,
				"%s: with a namespace joined by path, berth can configure a new network namespace only with a new pid namespace too",
				what);
	return 0;
}

static int check_net_devices(const struct create_opts *o, const struct spec *s, berr_t *e)
{
	const struct spec_linux *lx = s->linux;

	if (!lx || !lx->n_net_devices)
		return 0;
	if (!spec_find_ns(s, NS_NETWORK))
		return berr_set(e, EINVAL,
				"linux.netDevices: the container shares the host's network namespace");
	if (o->rootless || geteuid() != 0)
		return berr_set(e, EPERM,
				"linux.netDevices: moving a host interface needs root (not available rootless)");
	for (size_t i = 0; i < lx->n_net_devices; i++) {
		const struct spec_net_device *nd = &lx->net_devices[i];

		if (netdev_check(nd->host_name, e) < 0 ||
		    (nd->container_name &&
		     netns_check_ifname(nd->container_name, "linux.netDevices name", e) < 0))
			return -1;
		for (size_t j = 0; j < i; j++) {
			const struct spec_net_device *od = &lx->net_devices[j];
			const char *a = nd->container_name ? nd->container_name : nd->host_name;
			const char *b = od->container_name ? od->container_name : od->host_name;

			if (!strcmp(a, b))
				return berr_set(e, EINVAL,
						"linux.netDevices: \"%s\" and \"%s\" would both be \"%s\" in the container",
						od->host_name, nd->host_name, a);
		}
	}
	return check_reachable(s, "linux.netDevices", e);
}

int net_plan(const struct create_opts *o, struct container *c, berr_t *e)
{
	struct spec *s = c->spec;
	const char *mode = o->net ? o->net : spec_annotation(s, NET_ANNOTATION);
	const char *publish = spec_annotation(s, PUBLISH_ANNOTATION);
	struct net_setup *ns = xzalloc(sizeof *ns);

	c->net = ns;
	if (mode && parse_mode(mode, ns, e) < 0)
		return -1;
	if (parse_ports(o->publish, o->publish ? NULL : publish, ns, e) < 0)
		return -1;
	if (ns->n_ports && ns->mode != NET_MODE_BRIDGE && ns->mode != NET_MODE_PASTA &&
	    ns->mode != NET_MODE_SLIRP)
		return berr_set(e, EINVAL, "publishing ports needs --net bridge, pasta or slirp4netns");
	if (ns->mode == NET_MODE_BRIDGE && (o->rootless || geteuid() != 0))
		return berr_set(e, EPERM,
				"--net bridge needs root: a rootless container can use --net pasta or slirp4netns");
	if (ns->mode != NET_MODE_OCI && !s->linux)
		return berr_set(e, EINVAL, "--net needs a linux section in config.json");
	switch (ns->mode) {
	case NET_MODE_OCI:
		break;
	case NET_MODE_HOST:
		set_network_ns(s->linux, false, NULL);
		break;
	case NET_MODE_NS:
		set_network_ns(s->linux, true, ns->arg);
		break;
	default:
		set_network_ns(s->linux, true, NULL);
		break;
	}
	if (ns->mode >= NET_MODE_BRIDGE && check_reachable(s, mode, e) < 0)
		return -1;
	return check_net_devices(o, s, e);
}

/* ---- before the clone ---- */

static bool has_mount_at(const struct spec *s, const char *dest)
{
	for (size_t i = 0; i < s->n_mounts; i++)
		if (!strcmp(s->mounts[i].destination, dest))
			return true;
	return false;
}

/* A bind mount from the state directory: the init's mount code does it
 * like any mount of the config, onto a target resolved inside the root. */
static void add_etc_mount(struct container *c, const char *name)
{
	_cleanup_free_ char *dest = xasprintf("/etc/%s", name);
	struct spec_mount *m;
	size_t n = 0;

	if (has_mount_at(c->spec, dest)) {
		log_debug("network: config.json mounts %s, keeping it", dest);
		return;
	}
	c->spec->mounts = xreallocarray(c->spec->mounts, c->spec->n_mounts + 1,
					sizeof *c->spec->mounts);
	m = &c->spec->mounts[c->spec->n_mounts++];
	memset(m, 0, sizeof *m);
	m->destination = steal_ptr(dest);
	m->type = xstrdup("bind");
	m->source = xasprintf("%s/%s", c->sd.path, name);
	strv_append(&m->options, &n, xstrdup("bind"));
	strv_append(&m->options, &n, xstrdup("nosuid"));
	strv_append(&m->options, &n, xstrdup("nodev"));
	strv_append(&m->options, &n, xstrdup("noexec"));
}

static int write_etc_files(struct container *c, berr_t *e)
{
	struct net_setup *ns = c->net;
	char ip[IPV4_STRLEN];
	struct net_etc etc = {
		.hostname = c->spec->hostname,
		.ip = ns->mode == NET_MODE_BRIDGE ? ipv4_str(ns->att.ip, ip) : NULL,
		.resolv = ns->mode != NET_MODE_NONE,
	};

	if (net_write_etc(c->sd.dirfd, &etc, e) < 0)
		return berr_wrap(e, "network");
	add_etc_mount(c, "hosts");
	if (etc.hostname)
		add_etc_mount(c, "hostname");
	if (etc.resolv)
		add_etc_mount(c, "resolv.conf");
	return 0;
}

static char *state_net_value(const struct net_setup *ns)
{
	switch (ns->mode) {
	case NET_MODE_BRIDGE:
		return xasprintf("bridge:%s", ns->arg);
	case NET_MODE_PASTA:
		return xstrdup("pasta");
	case NET_MODE_SLIRP:
		return xstrdup("slirp4netns");
	default:
		return NULL;
	}
}

int net_prepare(struct container *c, berr_t *e)
{
	struct net_setup *ns = c->net;

	if (!ns || ns->mode == NET_MODE_OCI || ns->mode == NET_MODE_HOST || ns->mode == NET_MODE_NS)
		return 0;
	/* The intent goes into the state first: a crash from here on leaves
	 * a container whose delete --force knows what to undo. */
	c->st.net = state_net_value(ns);
	if (c->st.net && state_write(&c->sd, &c->st, e) < 0)
		return -1;
	if (ns->mode == NET_MODE_BRIDGE &&
	    net_acquire(c->sd.root, ns->arg, c->st.id, ns->ports, ns->n_ports, state_exists,
			&ns->att, e) < 0)
		return -1;
	return write_etc_files(c, e);
}

/* ---- after the clone ---- */

static int record_helper(void *arg, pid_t pid, berr_t *e)
{
	struct container *c = arg;
	uint64_t t;

	if (proc_start_time(pid, &t, NULL) < 0)
		return berr_sys(e, "read start time of pid %d", (int)pid);
	c->st.net_helper_pid = pid;
	c->st.net_helper_start = t;
	return state_write(&c->sd, &c->st, e);
}

static int start_helper(struct container *c, berr_t *e)
{
	struct net_setup *ns = c->net;
	struct net_usermode_req r = {
		.kind = ns->mode == NET_MODE_PASTA ? NET_PASTA : NET_SLIRP4NETNS,
		.target = c->pid,
		.ports = ns->ports,
		.n_ports = ns->n_ports,
		.dir = c->sd.path,
		.record = record_helper,
		.record_arg = c,
	};
	pid_t pid;

	return net_usermode_start(&r, &pid, e);
}

static int open_netns(struct container *c, berr_t *e)
{
	char path[64];
	int fd;

	if (c->init.ns.fds[NS_NETWORK] >= 0) {
		fd = fcntl(c->init.ns.fds[NS_NETWORK], F_DUPFD_CLOEXEC, 3);
		if (fd < 0)
			return berr_sys(e, "dup network namespace fd");
		return fd;
	}
	snprintf(path, sizeof path, "/proc/%d/ns/net", (int)c->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return berr_sys(e, "open %s", path);
	return fd;
}

int net_after_clone(struct container *c, bool adopted, berr_t *e)
{
	struct net_setup *ns = c->net;
	const struct ns_plan *plan = &c->init.ns;
	const struct spec_linux *lx = c->spec->linux;
	bool late = plan->unshare_in_init && plan->create[NS_NETWORK];
	int nsfd;

	if (!ns || !lx || ns->after_clone_done ||
	    (!lx->n_net_devices && ns->mode < NET_MODE_BRIDGE))
		return 0;
	/* A new namespace the init unshares exists only once it reports the
	 * real init (adopted); a joined one or the clone's exists now. */
	if (adopted ? !late : late)
		return 0;
	if (!plan->create[NS_NETWORK] && plan->fds[NS_NETWORK] < 0)
		return 0;
	ns->after_clone_done = true;
	nsfd = open_netns(c, e);
	if (nsfd < 0)
		return berr_wrap(e, "network");
	if (held_netns >= 0)
		close(held_netns);
	held_netns = nsfd;
	for (size_t i = 0; i < lx->n_net_devices; i++)
		if (netdev_move_in(lx->net_devices[i].host_name, lx->net_devices[i].container_name,
				   nsfd, e) < 0)
			return -1;
	if (ns->mode == NET_MODE_BRIDGE && net_attach(&ns->att, nsfd, e) < 0)
		return -1;
	if ((ns->mode == NET_MODE_PASTA || ns->mode == NET_MODE_SLIRP) && start_helper(c, e) < 0)
		return -1;
	return 0;
}

/* ---- teardown ---- */

void net_hold(const struct container_state *st)
{
	char path[64];
	uint64_t t;
	int fd;

	if (st->pid <= 0 || proc_start_time(st->pid, &t, NULL) < 0 || t != st->start_time)
		return;
	snprintf(path, sizeof path, "/proc/%d/ns/net", (int)st->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	/* Verified again: the pid could have been reused while we opened. */
	if (fd >= 0 && (proc_start_time(st->pid, &t, NULL) < 0 || t != st->start_time)) {
		close(fd);
		return;
	}
	if (fd >= 0) {
		if (held_netns >= 0)
			close(held_netns);
		held_netns = fd;
	}
}

/* A joined namespace outlives the container; a new one only while held. */
static int teardown_netdevs(const struct spec *spec, berr_t *e)
{
	const struct spec_namespace *sn = spec_find_ns(spec, NS_NETWORK);
	_cleanup_close_ int joined = -1;
	int nsfd = held_netns, ret = 0;

	if (!spec->linux || !spec->linux->n_net_devices || !sn)
		return 0;
	if (sn->path) {
		joined = open(sn->path, O_RDONLY | O_CLOEXEC);
		if (joined >= 0)
			nsfd = joined;
	}
	if (nsfd < 0) {
		log_debug("netDevices: the container's network namespace is gone: the kernel returned physical devices to the initial namespace and destroyed virtual ones");
		return 0;
	}
	for (size_t i = 0; i < spec->linux->n_net_devices; i++) {
		const struct spec_net_device *nd = &spec->linux->net_devices[i];
		berr_t err = BERR_INIT;
		bool gone;

		if (netdev_move_out(nd->container_name ? nd->container_name : nd->host_name,
				    nd->host_name, nsfd, &gone, &err) < 0) {
			if (ret == 0)
				berr_move(e, &err);
			berr_free(&err);
			ret = -1;
		} else if (gone) {
			log_debug("netDevices: \"%s\" is no longer in the container", nd->host_name);
		}
	}
	return ret;
}

/* By pid, guarded by its start time against a reused pid. */
static void stop_helper(const struct container_state *st)
{
	int pidfd;
	uint64_t t;
	struct pollfd p;

	if (st->net_helper_pid <= 0)
		return;
	pidfd = syscall(SYS_pidfd_open, st->net_helper_pid, 0);
	if (pidfd < 0)
		return;
	if (proc_start_time(st->net_helper_pid, &t, NULL) < 0 || t != st->net_helper_start) {
		close(pidfd);
		return;
	}
	log_debug("network: stopping %s (pid %d)", st->net, (int)st->net_helper_pid);
	syscall(SYS_pidfd_send_signal, pidfd, SIGTERM, NULL, 0);
	p = (struct pollfd){.fd = pidfd, .events = POLLIN};
	if (poll(&p, 1, 1000) <= 0)
		syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
	close(pidfd);
}

int net_teardown(struct state_dir *sd, const struct container_state *st,
		 const struct spec *spec, berr_t *e)
{
	int ret = 0;

	if (spec && teardown_netdevs(spec, e) < 0)
		ret = -1;
	if (st->net && str_has_prefix(st->net, "bridge:")) {
		berr_t err = BERR_INIT;

		if (net_release(sd->root, st->net + 7, st->id, &err) < 0) {
			if (ret == 0)
				berr_move(e, &err);
			berr_free(&err);
			ret = -1;
		}
	}
	stop_helper(st);
	if (held_netns >= 0)
		close(held_netns);
	held_netns = -1;
	return ret < 0 ? berr_wrap(e, "network") : 0;
}
