/* runtime/image_run.c: `berth run --image REF`: an image's layers from the
 * store as the lower layers of an overlay mounted inside the container, and
 * a bundle generated under the store that lives and dies with the container. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/json.h"
#include "common/log.h"
#include "common/util.h"
#include "image_run.h"
#include "spec_default.h"
#include "state.h"

static char **join_args(const struct image_runtime *rt, char *const *cmd)
{
	char *const *tail = cmd && cmd[0] ? cmd : rt->cmd;
	size_t n = 0;
	char **args = NULL;

	for (size_t i = 0; rt->entrypoint && rt->entrypoint[i]; i++)
		strv_append(&args, &n, xstrdup(rt->entrypoint[i]));
	for (size_t i = 0; tail && tail[i]; i++)
		strv_append(&args, &n, xstrdup(tail[i]));
	return args;
}

/* An image's container writes to its root (docker's and podman's
 * behaviour; run --image gives it an upper layer for that): the default
 * config's read-only root is turned off. The generator's text is known, so
 * the flag is flipped in place; re-parsing the 12 kB document (seccomp's
 * allow-list) would cost run --image 0.3 ms. Any other shape is parsed. */
static char *writable_root(char *json, berr_t *e)
{
	static const char ro[] = "\"path\": \"rootfs\",\n\t\t\"readonly\": true\n";
	char *at = strstr(json, ro);
	_cleanup_json_ yajl_val doc = NULL;
	struct json_writer *w;
	yajl_val flag;
	char *out;

	if (at) {
		size_t pre = at - json + sizeof ro - 1 - strlen("true\n");

		return xasprintf("%.*sfalse%s", (int)pre, json, at + sizeof ro - 2);
	}
	if (json_parse(json, "generated config.json", &doc, e) < 0)
		return NULL;
	flag = json_get(json_get(doc, "root"), "readonly");
	if (flag)
		flag->type = yajl_t_false;
	w = json_writer_new_pretty();
	json_value(w, doc);
	out = xasprintf("%s\n", json_writer_str(w));
	json_writer_free(w);
	return out;
}

char *image_config_json(const struct image_runtime *rt, const struct id_maps *rootless,
			char *const *cmd, bool terminal, berr_t *e)
{
	_cleanup_strv_ char **args = join_args(rt, cmd);
	_cleanup_strv_ char **env = strv_dup(rt->env);
	_cleanup_free_ char *json = NULL;
	size_t n = strv_len(env);
	struct spec_defaults d = {
		.rootless = rootless != NULL,
		.idmaps = rootless,
		.terminal = terminal,
		.cwd = rt->cwd && *rt->cwd ? rt->cwd : "/",
		.uid = rt->uid,
		.gid = rt->gid,
		.additional_gids = rt->additional_gids,
		.n_additional_gids = rt->n_additional_gids,
		.stop_signal = rt->stop_signal,
		.annotation_keys = rt->label_keys,
		.annotation_values = rt->label_values,
	};

	/* Nothing to run: `image unpack` keeps berth's default ("sh"), run
	 * needs to be told. */
	if ((!args || !args[0]) && cmd) {
		berr_set(e, EINVAL, "the image has no Entrypoint or Cmd: give a command (after --)");
		return NULL;
	}
	if (terminal)
		strv_append(&env, &n, xstrdup("TERM=xterm"));
	d.args = args && args[0] ? args : NULL;
	d.env = env;
	json = spec_default_json(&d);
	return writable_root(json, e);
}

char *image_container_id(void)
{
	unsigned char r[6];

	if (getrandom(r, sizeof r, 0) != sizeof r) {
		uint64_t t = now_ns() ^ (uint64_t)getpid() << 32;

		memcpy(r, &t, sizeof r);
	}
	return xasprintf("berth-%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3], r[4], r[5]);
}

/* ROOT/.image-bundles/ID: config.json and the rootfs mount point, in the
 * state root (a tmpfs normally: nothing is written to disk for a container
 * whose writable layer is in memory). */
static int memory_bundle_dir(const char *root, const char *id, char **dir, berr_t *e)
{
	_cleanup_free_ char *parent = xasprintf("%s/" IMAGE_BUNDLES_DIR, root);
	_cleanup_free_ char *path = xasprintf("%s/%s", parent, id);
	_cleanup_free_ char *rootfs = xasprintf("%s/rootfs", path);

	if (state_validate_id(id, e) < 0 || mkdir_p(parent, 0700, e) < 0)
		return -1;
	if (mkdir(path, 0700) < 0) {
		if (errno == EEXIST)
			return berr_set(e, EEXIST, "container \"%s\" already has a bundle (%s)", id, path);
		return berr_sys(e, "mkdir \"%s\"", path);
	}
	if (mkdir(rootfs, 0755) < 0) {
		berr_sys(e, "mkdir \"%s\"", rootfs);
		rmdir(path);
		return -1;
	}
	*dir = steal_ptr(path);
	return 0;
}

static int make_bundle_dir(const char *store, const struct create_opts *o,
			   const struct image_run_opts *io, char **dir, berr_t *e)
{
	return io->rw_in_store ? image_store_container_dir(store, o->id, dir, e)
			       : memory_bundle_dir(o->root, o->id, dir, e);
}

/* A leftover of a berth that died (no such container in the state root)
 * is removed and made again. */
static int bundle_dir(const char *store, const struct create_opts *o,
		      const struct image_run_opts *io, char **dir, berr_t *e)
{
	_cleanup_free_ char *state = NULL, *stale = NULL;

	if (make_bundle_dir(store, o, io, dir, e) == 0)
		return 0;
	if (e->errnum != EEXIST)
		return -1;
	state = xasprintf("%s/%s", o->root, o->id);
	if (access(state, F_OK) == 0 || errno != ENOENT)
		return berr_set(e, EEXIST, "container with id \"%s\" already exists", o->id);
	berr_free(e);
	stale = io->rw_in_store ? xasprintf("%s/containers/%s", store, o->id)
				: xasprintf("%s/" IMAGE_BUNDLES_DIR "/%s", o->root, o->id);
	log_debug("removing the stale bundle %s", stale);
	if (rm_rf_at(AT_FDCWD, stale, e) < 0)
		return -1;
	return make_bundle_dir(store, o, io, dir, e);
}

static void remove_dir(const char *dir, const struct id_maps *m)
{
	berr_t e = BERR_INIT;

	if (idmap_rm_rf(dir, m, &e) < 0)
		log_berr(LOG_WARNING, &e);
	berr_free(&e);
}

static int write_bundle(const char *dir, const struct image_prepared *prep,
			const struct id_maps *maps, const struct image_run_opts *io, berr_t *e)
{
	static char *const no_cmd[] = {NULL};
	_cleanup_free_ char *json = image_config_json(&prep->rt, maps,
						      io->cmd ? io->cmd : no_cmd, io->tty, e);
	_cleanup_free_ char *path = xasprintf("%s/config.json", dir);

	if (!json)
		return -1;
	return write_file(path, json, strlen(json), O_CREAT | O_EXCL, 0600, e);
}

/* An image for another architecture fails at exec with ENOEXEC; say why
 * before that. */
static void warn_platform(const char *ref, const struct image_runtime *rt)
{
	struct image_platform host;

	image_host_platform(&host);
	if (rt->architecture && *rt->architecture && strcmp(rt->architecture, host.architecture))
		log_warn("image %s is for %s/%s, this host is %s/%s", ref, rt->os ? rt->os : "?",
			 rt->architecture, host.os, host.architecture);
}

/* Rootless: the caller as 0 and its subordinate ranges from 1 on, when it
 * has them (the layers are then unpacked with those owners); the caller
 * alone otherwise. Root asking for --rootless: root alone. */
static int rootless_maps(const struct create_opts *o, struct id_maps *m,
			 struct image_opts *iopts, berr_t *e)
{
	memset(m, 0, sizeof *m);
	if (!o->rootless)
		return 0;
	if (geteuid() == 0) {
		idmap_self(m);
		return 0;
	}
	if (idmap_rootless_default(m, e) < 0)
		return -1;
	if (idmap_has_subordinate(m))
		iopts->userns = m;
	return 0;
}

/* Before anything is made: the image's user must exist in the user
 * namespace, or setgid fails deep in the container's set-up. */
static int check_image_user(const struct image_runtime *rt, const struct id_maps *m,
			    berr_t *e)
{
	bool ok = idmap_contains(m->uid, m->n_uid, rt->uid) &&
		  idmap_contains(m->gid, m->n_gid, rt->gid);
	const char *user = rt->user && *rt->user ? rt->user : "root";

	for (size_t i = 0; ok && i < rt->n_additional_gids; i++)
		ok = idmap_contains(m->gid, m->n_gid, rt->additional_gids[i]) &&
		     idmap_has_subordinate(m);
	if (ok)
		return 0;
	if (!idmap_has_subordinate(m))
		return berr_set(e, EPERM,
				"the image runs as user \"%s\" (uid %u, gid %u%s), but this rootless user namespace maps only uid and gid 0 to you: give your user ranges in /etc/subuid and /etc/subgid (usermod --add-subuids/--add-subgids) and install newuidmap (package uidmap)",
				user, rt->uid, rt->gid,
				rt->n_additional_gids ? ", with supplementary groups" : "");
	return berr_set(e, EPERM,
			"the image runs as user \"%s\" (uid %u, gid %u), beyond the ids your /etc/subuid and /etc/subgid ranges map (%llu uids, %llu gids)",
			user, rt->uid, rt->gid, (unsigned long long)idmap_span(m->uid, m->n_uid),
			(unsigned long long)idmap_span(m->gid, m->n_gid));
}

int image_run(struct create_opts *o, const struct image_run_opts *io, int *status, berr_t *e)
{
	struct image_opts iopts = {.quiet = io->quiet, .rootless = geteuid() != 0};
	struct image_prepared prep;
	_cleanup_free_ char *store_alloc = NULL, *dir = NULL, *upper = NULL, *work = NULL;
	const char *store = io->store;
	struct id_maps maps;
	int ret = -1;

	if (rootless_maps(o, &maps, &iopts, e) < 0)
		return -1;
	if (!store)
		store = store_alloc = image_store_default();
	if (image_store_prepare(store, io->ref, &iopts, &prep, e) < 0) {
		berr_wrap(e, "image %s", io->ref);
		goto out_maps;
	}
	warn_platform(io->ref, &prep.rt);
	if ((o->rootless && check_image_user(&prep.rt, &maps, e) < 0) ||
	    bundle_dir(store, o, io, &dir, e) < 0 ||
	    write_bundle(dir, &prep, o->rootless ? &maps : NULL, io, e) < 0) {
		if (dir)
			remove_dir(dir, &maps);
		goto out;
	}
	if (io->rw_in_store) {
		upper = xasprintf("%s/upper", dir);
		work = xasprintf("%s/work", dir);
	}
	o->bundle = dir;
	o->overlay_lower = prep.lowerdirs;
	o->overlay_upper = upper;
	o->overlay_work = work;
	/* Layers unpacked without privileges carry user.overlay.* xattrs. */
	o->overlay_userxattr = iopts.rootless;
	o->generated_bundle = dir;
	ret = container_run(o, status, e);
	/* Gone already when the container got as far as destroy. */
	if (ret < 0)
		remove_dir(dir, &maps);
	o->bundle = NULL;
	o->overlay_lower = NULL;
	o->overlay_upper = o->overlay_work = o->generated_bundle = NULL;
out:
	image_prepared_free(&prep);
out_maps:
	id_maps_free(&maps);
	return ret;
}
