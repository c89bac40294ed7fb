/* runtime/spec.c: config.json (OCI runtime-spec 1.x) into the typed structs
 * of spec.h; every error names the JSON path of the value it is about. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/util.h"
#include "runtime/spec.h"

/* ---- names ---- */

static const char *const ns_names[NS_TYPE_COUNT] = {
	[NS_PID] = "pid",
	[NS_NETWORK] = "network",
	[NS_MOUNT] = "mount",
	[NS_IPC] = "ipc",
	[NS_UTS] = "uts",
	[NS_USER] = "user",
	[NS_CGROUP] = "cgroup",
	[NS_TIME] = "time",
};

static const char *const hook_names[HOOK_KIND_COUNT] = {
	[HOOK_PRESTART] = "prestart",
	[HOOK_CREATE_RUNTIME] = "createRuntime",
	[HOOK_CREATE_CONTAINER] = "createContainer",
	[HOOK_START_CONTAINER] = "startContainer",
	[HOOK_POSTSTART] = "poststart",
	[HOOK_POSTSTOP] = "poststop",
};

int spec_ns_from_name(const char *name)
{
	for (size_t i = 0; name && i < NS_TYPE_COUNT; i++)
		if (strcmp(ns_names[i], name) == 0)
			return (int)i;
	return -1;
}

const char *spec_ns_name(enum spec_ns_type t)
{
	return (unsigned)t < NS_TYPE_COUNT ? ns_names[t] : NULL;
}

const char *spec_hook_name(enum spec_hook_kind k)
{
	return (unsigned)k < HOOK_KIND_COUNT ? hook_names[k] : NULL;
}

/* ---- generic readers ---- */

typedef int (*item_parse_fn)(yajl_val v, const char *path, void *item, berr_t *e);
typedef void (*item_clear_fn)(void *item);
typedef int (*object_parse_fn)(yajl_val v, const char *path, void *out, berr_t *e);

static int missing(const char *path, const char *key, berr_t *e)
{
	_cleanup_free_ char *p = json_path_key(path, key);

	return berr_set(e, EINVAL, "%s: missing required field", p);
}

static int must_be_absolute(const char *path, const char *key, const char *value,
			    berr_t *e)
{
	_cleanup_free_ char *p = NULL;

	if (value[0] == '/')
		return 0;
	p = json_path_key(path, key);
	return berr_set(e, EINVAL, "%s: must be an absolute path", p);
}

static void free_items(void *arr, size_t n, size_t size, item_clear_fn clear)
{
	for (size_t i = 0; arr && i < n; i++)
		clear((char *)arr + i * size);
	free(arr);
}

/* An array of objects, each filled by parse into a zeroed item of `size`
 * bytes. outp points to the caller's array pointer; on failure nothing is
 * kept, so the caller's struct stays as it was. */
static int parse_items(yajl_val v, const char *path, size_t size, item_parse_fn parse,
		       item_clear_fn clear, void *outp, size_t *n, berr_t *e)
{
	size_t len;
	char *arr;

	if (json_expect_array(v, path, e) < 0)
		return -1;
	len = v->u.array.len;
	arr = len ? xcalloc(len, size) : NULL;
	for (size_t i = 0; i < len; i++) {
		_cleanup_free_ char *p = json_path_index(path, i);
		yajl_val item = v->u.array.values[i];

		if (json_expect_object(item, p, e) < 0 ||
		    parse(item, p, arr + i * size, e) < 0) {
			free_items(arr, i + 1, size, clear);
			return -1;
		}
	}
	/* outp is a `struct X **` of any X: store the pointer without a cast. */
	memcpy(outp, &arr, sizeof arr);
	*n = len;
	return 0;
}

static int items_field(yajl_val obj, const char *path, const char *key, size_t size,
		       item_parse_fn parse, item_clear_fn clear, void *outp, size_t *n,
		       berr_t *e)
{
	_cleanup_free_ char *p = NULL;
	yajl_val v = json_get(obj, key);

	if (!v)
		return 0;
	p = json_path_key(path, key);
	return parse_items(v, p, size, parse, clear, outp, n, e);
}

#define ITEMS(obj, path, key, arr, n, parse, clear, e) \
	items_field(obj, path, key, sizeof *(arr), parse, clear, &(arr), &(n), e)

/* An optional member that must be an object; parse fills out from it. */
static int object_field(yajl_val obj, const char *path, const char *key,
			object_parse_fn parse, void *out, berr_t *e)
{
	_cleanup_free_ char *p = NULL;
	yajl_val v = json_get(obj, key);

	if (!v)
		return 0;
	p = json_path_key(path, key);
	if (json_expect_object(v, p, e) < 0)
		return -1;
	return parse(v, p, out, e);
}

static int strv_field_required(yajl_val obj, const char *path, const char *key,
			       char ***out, berr_t *e)
{
	if (!json_get(obj, key))
		return missing(path, key, e);
	return json_field_strv(obj, path, key, out, e);
}

static int str_map_field(yajl_val obj, const char *path, const char *key,
			 char ***keys, char ***vals, berr_t *e)
{
	_cleanup_free_ char *p = NULL;
	yajl_val v = json_get(obj, key);

	if (!v)
		return 0;
	p = json_path_key(path, key);
	return json_as_str_map(v, p, keys, vals, e);
}

static int opt_u32_field(yajl_val obj, const char *path, const char *key,
			 opt_u64 *out, berr_t *e)
{
	uint32_t v = 0;
	bool present;

	if (json_field_u32(obj, path, key, false, &v, &present, e) < 0)
		return -1;
	if (present)
		*out = (opt_u64){ .v = v, .set = true };
	return 0;
}

static int opt_i64_field(yajl_val obj, const char *path, const char *key,
			 opt_i64 *out, berr_t *e)
{
	int64_t v = 0;
	bool present;

	if (json_field_i64(obj, path, key, false, &v, &present, e) < 0)
		return -1;
	if (present)
		*out = (opt_i64){ .v = v, .set = true };
	return 0;
}

/* ---- id mappings, mounts ---- */

static int parse_id_mapping(yajl_val v, const char *path, void *item, berr_t *e)
{
	struct id_mapping *m = item;

	if (json_field_u32(v, path, "containerID", true, &m->container_id, NULL, e) < 0 ||
	    json_field_u32(v, path, "hostID", true, &m->host_id, NULL, e) < 0 ||
	    json_field_u32(v, path, "size", true, &m->size, NULL, e) < 0)
		return -1;
	return 0;
}

static void clear_nothing(void *item)
{
	(void)item;
}

static void clear_mount(void *item)
{
	struct spec_mount *m = item;

	free(m->destination);
	free(m->type);
	free(m->source);
	strv_free(m->options);
	free(m->uid_mappings);
	free(m->gid_mappings);
}

static int parse_mount(yajl_val v, const char *path, void *item, berr_t *e)
{
	struct spec_mount *m = item;

	if (json_field_str(v, path, "destination", true, &m->destination, e) < 0 ||
	    json_field_str(v, path, "type", false, &m->type, e) < 0 ||
	    json_field_str(v, path, "source", false, &m->source, e) < 0 ||
	    json_field_strv(v, path, "options", &m->options, e) < 0 ||
	    ITEMS(v, path, "uidMappings", m->uid_mappings, m->n_uid_mappings,
		  parse_id_mapping, clear_nothing, e) < 0 ||
	    ITEMS(v, path, "gidMappings", m->gid_mappings, m->n_gid_mappings,
		  parse_id_mapping, clear_nothing, e) < 0)
		return -1;
	return 0;
}

/* ---- process ---- */

static int parse_console_size(yajl_val v, const char *path, void *out, berr_t *e)
{
	struct spec_process *p = out;

	if (json_field_u32(v, path, "height", true, &p->console_height, NULL, e) < 0 ||
	    json_field_u32(v, path, "width", true, &p->console_width, NULL, e) < 0)
		return -1;
	p->has_console_size = true;
	return 0;
}

static int parse_additional_gids(yajl_val obj, const char *path, struct spec_user *u,
				 berr_t *e)
{
	_cleanup_free_ char *p = NULL;
	yajl_val v = json_get(obj, "additionalGids");

	if (!v)
		return 0;
	p = json_path_key(path, "additionalGids");
	if (json_expect_array(v, p, e) < 0)
		return -1;
	/* Owned by u at once, so that spec_process_free covers a failure. */
	u->n_additional_gids = v->u.array.len;
	u->additional_gids = xcalloc(u->n_additional_gids, sizeof(uint32_t));
	for (size_t i = 0; i < u->n_additional_gids; i++) {
		_cleanup_free_ char *ip = json_path_index(p, i);

		if (json_as_u32(v->u.array.values[i], ip, &u->additional_gids[i], e) < 0)
			return -1;
	}
	return 0;
}

static int parse_user(yajl_val v, const char *path, void *out, berr_t *e)
{
	struct spec_user *u = out;

	if (json_field_u32(v, path, "uid", false, &u->uid, NULL, e) < 0 ||
	    json_field_u32(v, path, "gid", false, &u->gid, NULL, e) < 0 ||
	    opt_u32_field(v, path, "umask", &u->umask, e) < 0 ||
	    parse_additional_gids(v, path, u, e) < 0 ||
	    json_field_str(v, path, "username", false, &u->username, e) < 0)
		return -1;
	return 0;
}

static int parse_capabilities(yajl_val v, const char *path, void *out, berr_t *e)
{
	struct spec_process *p = out;
	struct spec_capabilities *c = p->capabilities = xzalloc(sizeof *c);

	if (json_field_strv(v, path, "bounding", &c->bounding, e) < 0 ||
	    json_field_strv(v, path, "effective", &c->effective, e) < 0 ||
	    json_field_strv(v, path, "inheritable", &c->inheritable, e) < 0 ||
	    json_field_strv(v, path, "permitted", &c->permitted, e) < 0 ||
	    json_field_strv(v, path, "ambient", &c->ambient, e) < 0)
		return -1;
	return 0;
}

static void clear_rlimit(void *item)
{
	free(((struct spec_rlimit *)item)->type);
}

static int parse_rlimit(yajl_val v, const char *path, void *item, berr_t *e)
{
	struct spec_rlimit *r = item;

	if (json_field_str(v, path, "type", true, &r->type, e) < 0 ||
	    json_field_u64(v, path, "soft", true, &r->soft, NULL, e) < 0 ||
	    json_field_u64(v, path, "hard", true, &r->hard, NULL, e) < 0)
		return -1;
	return 0;
}

static int parse_scheduler(yajl_val v, const char *path, void *out, berr_t *e)
{
	struct spec_scheduler *s = out;

	s->set = true;
	if (json_field_str(v, path, "policy", true, &s->policy, e) < 0 ||
	    json_field_i32(v, path, "nice", false, &s->nice, NULL, e) < 0 ||
	    json_field_i32(v, path, "priority", false, &s->priority, NULL, e) < 0 ||
	    json_field_strv(v, path, "flags", &s->flags, e) < 0 ||
	    json_field_u64(v, path, "runtime", false, &s->runtime, NULL, e) < 0 ||
	    json_field_u64(v, path, "deadline", false, &s->deadline, NULL, e) < 0 ||
	    json_field_u64(v, path, "period", false, &s->period, NULL, e) < 0)
		return -1;
	return 0;
}

static int parse_io_priority(yajl_val v, const char *path, void *out, berr_t *e)
{
	struct spec_io_priority *io = out;

	io->set = true;
	if (json_field_str(v, path, "class", true, &io->class, e) < 0 ||
	    json_field_i32(v, path, "priority", false, &io->priority, NULL, e) < 0)
		return -1;
	return 0;
}

static int parse_cpu_affinity(yajl_val v, const char *path, void *out, berr_t *e)
{
	struct spec_cpu_affinity *a = out;

	if (json_field_str(v, path, "initial", false, &a->initial, e) < 0 ||
	    json_field_str(v, path, "final", false, &a->final, e) < 0)
		return -1;
	return 0;
}

static int parse_args_and_cwd(yajl_val v, const char *path, struct spec_process *p,
			      berr_t *e)
{
	if (strv_field_required(v, path, "args", &p->args, e) < 0)
		return -1;
	if (!p->args[0]) {
		_cleanup_free_ char *ap = json_path_key(path, "args");

		return berr_set(e, EINVAL, "%s: must not be empty", ap);
	}
	if (json_field_str(v, path, "cwd", true, &p->cwd, e) < 0)
		return -1;
	return must_be_absolute(path, "cwd", p->cwd, e);
}

static int parse_process_fields(yajl_val v, const char *path, struct spec_process *p,
				berr_t *e)
{
	if (json_field_bool(v, path, "terminal", &p->terminal, NULL, e) < 0 ||
	    object_field(v, path, "consoleSize", parse_console_size, p, e) < 0 ||
	    object_field(v, path, "user", parse_user, &p->user, e) < 0 ||
	    parse_args_and_cwd(v, path, p, e) < 0 ||
	    json_field_str(v, path, "commandLine", false, &p->command_line, e) < 0 ||
	    json_field_strv(v, path, "env", &p->env, e) < 0 ||
	    object_field(v, path, "capabilities", parse_capabilities, p, e) < 0 ||
	    ITEMS(v, path, "rlimits", p->rlimits, p->n_rlimits, parse_rlimit,
		  clear_rlimit, e) < 0 ||
	    json_field_bool(v, path, "noNewPrivileges", &p->no_new_privileges, NULL, e) < 0 ||
	    json_field_str(v, path, "apparmorProfile", false, &p->apparmor_profile, e) < 0 ||
	    opt_i64_field(v, path, "oomScoreAdj", &p->oom_score_adj, e) < 0 ||
	    object_field(v, path, "scheduler", parse_scheduler, &p->scheduler, e) < 0 ||
	    json_field_str(v, path, "selinuxLabel", false, &p->selinux_label, e) < 0 ||
	    object_field(v, path, "ioPriority", parse_io_priority, &p->io_priority, e) < 0 ||
	    object_field(v, path, "execCPUAffinity", parse_cpu_affinity,
			 &p->exec_cpu_affinity, e) < 0)
		return -1;
	return 0;
}

static void capabilities_free(struct spec_capabilities *c)
{
	if (!c)
		return;
	strv_free(c->bounding);
	strv_free(c->effective);
	strv_free(c->inheritable);
	strv_free(c->permitted);
	strv_free(c->ambient);
	free(c);
}

void spec_process_free(struct spec_process *p)
{
	if (!p)
		return;
	free(p->user.additional_gids);
	free(p->user.username);
	strv_free(p->args);
	free(p->command_line);
	strv_free(p->env);
	free(p->cwd);
	capabilities_free(p->capabilities);
	free_items(p->rlimits, p->n_rlimits, sizeof *p->rlimits, clear_rlimit);
	free(p->apparmor_profile);
	free(p->scheduler.policy);
	strv_free(p->scheduler.flags);
	free(p->selinux_label);
	free(p->io_priority.class);
	free(p->exec_cpu_affinity.initial);
	free(p->exec_cpu_affinity.final);
	free(p);
}

int spec_parse_process(yajl_val v, const char *path, struct spec_process **out,
		       berr_t *e)
{
	struct spec_process *p;

	path = path ? path : "";
	if (json_expect_object(v, path, e) < 0)
		return -1;
	p = xzalloc(sizeof *p);
	if (parse_process_fields(v, path, p, e) < 0) {
		spec_process_free(p);
		return -1;
	}
	*out = p;
	return 0;
}

static int parse_process(yajl_val v, const char *path, void *out, berr_t *e)
{
	struct spec *s = out;

	return spec_parse_process(v, path, &s->process, e);
}

/* ---- hooks ---- */

static void clear_hook(void *item)
{
	struct spec_hook *h = item;

	free(h->path);
	strv_free(h->args);
	strv_free(h->env);
}

static int parse_hook(yajl_val v, const char *path, void *item, berr_t *e)
{
	struct spec_hook *h = item;

	if (json_field_str(v, path, "path", true, &h->path, e) < 0 ||
	    must_be_absolute(path, "path", h->path, e) < 0 ||
	    json_field_strv(v, path, "args", &h->args, e) < 0 ||
	    json_field_strv(v, path, "env", &h->env, e) < 0 ||
	    opt_i64_field(v, path, "timeout", &h->timeout, e) < 0)
		return -1;
	if (h->timeout.set && h->timeout.v <= 0) {
		_cleanup_free_ char *tp = json_path_key(path, "timeout");

		return berr_set(e, EINVAL, "%s: must be greater than zero", tp);
	}
	return 0;
}

static int parse_hooks(yajl_val v, const char *path, void *out, berr_t *e)
{
	struct spec_hooks *h = out;

	for (size_t k = 0; k < HOOK_KIND_COUNT; k++)
		if (ITEMS(v, path, hook_names[k], h->hooks[k], h->n_hooks[k],
			  parse_hook, clear_hook, e) < 0)
			return -1;
	return 0;
}

/* ---- linux: namespaces, devices, network devices, time ---- */

static void clear_namespace(void *item)
{
	free(((struct spec_namespace *)item)->path);
}

static int parse_namespace(yajl_val v, const char *path, void *item, berr_t *e)
{
	struct spec_namespace *ns = item;
	_cleanup_free_ char *type = NULL;
	int t;

	if (json_field_str(v, path, "type", true, &type, e) < 0)
		return -1;
	t = spec_ns_from_name(type);
	if (t < 0) {
		_cleanup_free_ char *tp = json_path_key(path, "type");

		return berr_set(e, EINVAL, "%s: unknown namespace type \"%s\"", tp, type);
	}
	ns->type = (enum spec_ns_type)t;
	if (json_field_str(v, path, "path", false, &ns->path, e) < 0)
		return -1;
	return ns->path ? must_be_absolute(path, "path", ns->path, e) : 0;
}

/* Two entries of one type would leave it unclear which one applies. */
static int check_namespaces_unique(const struct spec_linux *l, const char *path,
				   berr_t *e)
{
	for (size_t j = 1; j < l->n_namespaces; j++) {
		for (size_t i = 0; i < j; i++) {
			if (l->namespaces[i].type != l->namespaces[j].type)
				continue;
			return berr_set(e, EINVAL,
					"%s.namespaces[%zu]: duplicate namespace type \"%s\" "
					"(also in %s.namespaces[%zu])",
					path, j, spec_ns_name(l->namespaces[j].type), path, i);
		}
	}
	return 0;
}

static void clear_device(void *item)
{
	free(((struct spec_device *)item)->path);
}

static int parse_device_type(yajl_val v, const char *path, struct spec_device *d,
			     berr_t *e)
{
	_cleanup_free_ char *type = NULL;

	if (json_field_str(v, path, "type", true, &type, e) < 0)
		return -1;
	if (strlen(type) != 1 || !strchr("cbup", type[0])) {
		_cleanup_free_ char *tp = json_path_key(path, "type");

		return berr_set(e, EINVAL,
				"%s: unknown device type \"%s\" (expected c, b, u or p)",
				tp, type);
	}
	d->type = type[0];
	return 0;
}

static int parse_device(yajl_val v, const char *path, void *item, berr_t *e)
{
	struct spec_device *d = item;
	/* A fifo has no device numbers; every other type needs both. */
	bool numbered;

	if (parse_device_type(v, path, d, e) < 0 ||
	    json_field_str(v, path, "path", true, &d->path, e) < 0 ||
	    must_be_absolute(path, "path", d->path, e) < 0)
		return -1;
	numbered = d->type != 'p';
	if (json_field_i64(v, path, "major", numbered, &d->major, NULL, e) < 0 ||
	    json_field_i64(v, path, "minor", numbered, &d->minor, NULL, e) < 0 ||
	    opt_u32_field(v, path, "fileMode", &d->file_mode, e) < 0 ||
	    opt_u32_field(v, path, "uid", &d->uid, e) < 0 ||
	    opt_u32_field(v, path, "gid", &d->gid, e) < 0)
		return -1;
	return 0;
}

static void clear_net_device(void *item)
{
	struct spec_net_device *nd = item;

	free(nd->host_name);
	free(nd->container_name);
}

/* linux.netDevices is keyed by the host's interface name. */
static int parse_net_devices(yajl_val v, const char *path, void *out, berr_t *e)
{
	struct spec_linux *l = out;
	size_t len = v->u.object.len;

	l->net_devices = len ? xcalloc(len, sizeof *l->net_devices) : NULL;
	for (size_t i = 0; i < len; i++) {
		const char *host = v->u.object.keys[i];
		yajl_val dev = v->u.object.values[i];
		_cleanup_free_ char *p = json_path_key(path, host);
		struct spec_net_device *nd;

		if (YAJL_IS_NULL(dev))
			continue;
		if (json_expect_object(dev, p, e) < 0)
			return -1;
		nd = &l->net_devices[l->n_net_devices++];
		nd->host_name = xstrdup(host);
		if (json_field_str(dev, p, "name", false, &nd->container_name, e) < 0)
			return -1;
	}
	return 0;
}

static int parse_time_offset(yajl_val v, const char *path, struct spec_time_offset *t,
			     berr_t *e)
{
	*t = (struct spec_time_offset){ .set = true };
	if (json_field_i64(v, path, "secs", false, &t->secs, NULL, e) < 0 ||
	    json_field_u32(v, path, "nanosecs", false, &t->nanosecs, NULL, e) < 0)
		return -1;
	/* The kernel rejects a timens offset of a second or more in nanoseconds. */
	if (t->nanosecs >= 1000000000) {
		_cleanup_free_ char *np = json_path_key(path, "nanosecs");

		return berr_set(e, EINVAL, "%s: must be less than 1000000000", np);
	}
	return 0;
}

static int parse_time_offsets(yajl_val v, const char *path, void *out, berr_t *e)
{
	struct spec_linux *l = out;

	for (size_t i = 0; i < v->u.object.len; i++) {
		const char *clock = v->u.object.keys[i];
		yajl_val off = v->u.object.values[i];
		_cleanup_free_ char *p = json_path_key(path, clock);
		struct spec_time_offset *t = NULL;

		if (strcmp(clock, "monotonic") == 0)
			t = &l->time_monotonic;
		else if (strcmp(clock, "boottime") == 0)
			t = &l->time_boottime;
		else
			return berr_set(e, EINVAL,
					"%s: unknown clock \"%s\" (expected monotonic or boottime)",
					path, clock);
		if (YAJL_IS_NULL(off))
			continue;
		if (json_expect_object(off, p, e) < 0 || parse_time_offset(off, p, t, e) < 0)
			return -1;
	}
	return 0;
}

/* ---- linux: seccomp ---- */

static void clear_seccomp_arg(void *item)
{
	free(((struct spec_seccomp_arg *)item)->op);
}

static int parse_seccomp_arg(yajl_val v, const char *path, void *item, berr_t *e)
{
	struct spec_seccomp_arg *a = item;

	if (json_field_u32(v, path, "index", true, &a->index, NULL, e) < 0)
		return -1;
	/* A system call has at most six arguments. */
	if (a->index > 5) {
		_cleanup_free_ char *ip = json_path_key(path, "index");

		return berr_set(e, EINVAL, "%s: must be at most 5 (got %u)", ip, a->index);
	}
	if (json_field_u64(v, path, "value", false, &a->value, NULL, e) < 0 ||
	    json_field_u64(v, path, "valueTwo", false, &a->value_two, NULL, e) < 0 ||
	    json_field_str(v, path, "op", true, &a->op, e) < 0)
		return -1;
	return 0;
}

static void clear_syscall(void *item)
{
	struct spec_seccomp_syscall *sc = item;

	strv_free(sc->names);
	free(sc->action);
	free_items(sc->args, sc->n_args, sizeof *sc->args, clear_seccomp_arg);
}

static int parse_syscall(yajl_val v, const char *path, void *item, berr_t *e)
{
	struct spec_seccomp_syscall *sc = item;

	if (strv_field_required(v, path, "names", &sc->names, e) < 0)
		return -1;
	if (!sc->names[0]) {
		_cleanup_free_ char *np = json_path_key(path, "names");

		return berr_set(e, EINVAL, "%s: must not be empty", np);
	}
	if (json_field_str(v, path, "action", true, &sc->action, e) < 0 ||
	    opt_u32_field(v, path, "errnoRet", &sc->errno_ret, e) < 0 ||
	    ITEMS(v, path, "args", sc->args, sc->n_args, parse_seccomp_arg,
		  clear_seccomp_arg, e) < 0)
		return -1;
	return 0;
}

static void seccomp_free(struct spec_seccomp *sc)
{
	if (!sc)
		return;
	free(sc->default_action);
	strv_free(sc->architectures);
	strv_free(sc->flags);
	free(sc->listener_path);
	free(sc->listener_metadata);
	free_items(sc->syscalls, sc->n_syscalls, sizeof *sc->syscalls, clear_syscall);
	free(sc);
}

static int parse_seccomp(yajl_val v, const char *path, void *out, berr_t *e)
{
	struct spec_linux *l = out;
	struct spec_seccomp *sc = l->seccomp = xzalloc(sizeof *sc);

	if (json_field_str(v, path, "defaultAction", true, &sc->default_action, e) < 0 ||
	    opt_u32_field(v, path, "defaultErrnoRet", &sc->default_errno_ret, e) < 0 ||
	    json_field_strv(v, path, "architectures", &sc->architectures, e) < 0 ||
	    json_field_strv(v, path, "flags", &sc->flags, e) < 0 ||
	    json_field_str(v, path, "listenerPath", false, &sc->listener_path, e) < 0 ||
	    json_field_str(v, path, "listenerMetadata", false, &sc->listener_metadata, e) < 0 ||
	    ITEMS(v, path, "syscalls", sc->syscalls, sc->n_syscalls, parse_syscall,
		  clear_syscall, e) < 0)
		return -1;
	return 0;
}

/* ---- linux: the rest ---- */

static int parse_personality(yajl_val v, const char *path, void *out, berr_t *e)
{
	struct spec_personality *p = out;

	p->set = true;
	if (json_field_str(v, path, "domain", false, &p->domain, e) < 0 ||
	    json_field_strv(v, path, "flags", &p->flags, e) < 0)
		return -1;
	return 0;
}

static int parse_intel_rdt(yajl_val v, const char *path, void *out, berr_t *e)
{
	struct spec_intel_rdt *r = out;

	r->set = true;
	if (json_field_str(v, path, "closID", false, &r->clos_id, e) < 0 ||
	    json_field_str(v, path, "l3CacheSchema", false, &r->l3_cache_schema, e) < 0 ||
	    json_field_str(v, path, "memBwSchema", false, &r->mem_bw_schema, e) < 0)
		return -1;
	return 0;
}

static int parse_resources(yajl_val v, const char *path, void *out, berr_t *e)
{
	struct spec_linux *l = out;

	/* Owned by l before parsing, so that spec_free releases a partial parse. */
	l->resources = xzalloc(sizeof *l->resources);
	return cgroup_resources_parse(v, path, l->resources, e);
}

static int parse_linux_ids(yajl_val v, const char *path, struct spec_linux *l,
			   berr_t *e)
{
	if (ITEMS(v, path, "namespaces", l->namespaces, l->n_namespaces,
		  parse_namespace, clear_namespace, e) < 0 ||
	    check_namespaces_unique(l, path, e) < 0 ||
	    ITEMS(v, path, "uidMappings", l->uid_mappings, l->n_uid_mappings,
		  parse_id_mapping, clear_nothing, e) < 0 ||
	    ITEMS(v, path, "gidMappings", l->gid_mappings, l->n_gid_mappings,
		  parse_id_mapping, clear_nothing, e) < 0 ||
	    object_field(v, path, "timeOffsets", parse_time_offsets, l, e) < 0)
		return -1;
	return 0;
}

static int parse_linux_fs(yajl_val v, const char *path, struct spec_linux *l,
			  berr_t *e)
{
	if (ITEMS(v, path, "devices", l->devices, l->n_devices, parse_device,
		  clear_device, e) < 0 ||
	    json_field_str(v, path, "rootfsPropagation", false, &l->rootfs_propagation, e) < 0 ||
	    json_field_strv(v, path, "maskedPaths", &l->masked_paths, e) < 0 ||
	    json_field_strv(v, path, "readonlyPaths", &l->readonly_paths, e) < 0 ||
	    json_field_str(v, path, "mountLabel", false, &l->mount_label, e) < 0)
		return -1;
	return 0;
}

static int parse_linux(yajl_val v, const char *path, void *out, berr_t *e)
{
	struct spec *s = out;
	struct spec_linux *l = s->linux = xzalloc(sizeof *l);

	if (parse_linux_ids(v, path, l, e) < 0 ||
	    parse_linux_fs(v, path, l, e) < 0 ||
	    object_field(v, path, "netDevices", parse_net_devices, l, e) < 0 ||
	    json_field_str(v, path, "cgroupsPath", false, &l->cgroups_path, e) < 0 ||
	    object_field(v, path, "resources", parse_resources, l, e) < 0 ||
	    object_field(v, path, "intelRdt", parse_intel_rdt, &l->intel_rdt, e) < 0 ||
	    str_map_field(v, path, "sysctl", &l->sysctl_keys, &l->sysctl_values, e) < 0 ||
	    object_field(v, path, "seccomp", parse_seccomp, l, e) < 0 ||
	    object_field(v, path, "personality", parse_personality, &l->personality, e) < 0)
		return -1;
	return 0;
}

static void linux_free(struct spec_linux *l)
{
	if (!l)
		return;
	free_items(l->namespaces, l->n_namespaces, sizeof *l->namespaces, clear_namespace);
	free(l->uid_mappings);
	free(l->gid_mappings);
	free_items(l->devices, l->n_devices, sizeof *l->devices, clear_device);
	free_items(l->net_devices, l->n_net_devices, sizeof *l->net_devices,
		   clear_net_device);
	free(l->cgroups_path);
	if (l->resources) {
		cgroup_resources_free(l->resources);
		free(l->resources);
	}
	free(l->intel_rdt.clos_id);
	free(l->intel_rdt.l3_cache_schema);
	free(l->intel_rdt.mem_bw_schema);
	strv_free(l->sysctl_keys);
	strv_free(l->sysctl_values);
	seccomp_free(l->seccomp);
	free(l->rootfs_propagation);
	strv_free(l->masked_paths);
	strv_free(l->readonly_paths);
	free(l->mount_label);
	free(l->personality.domain);
	strv_free(l->personality.flags);
	free(l);
}

/* ---- the document ---- */

static bool skip_digits(const char **p)
{
	const char *start = *p;

	while (**p >= '0' && **p <= '9')
		(*p)++;
	return *p != start;
}

/* "1.MINOR[.PATCH][-PRE][+BUILD]": any 1.x release or pre-release, since
 * minor versions of the runtime-spec only add fields. */
static bool version_supported(const char *v)
{
	const char *p = v + 2;

	if (strncmp(v, "1.", 2) != 0 || !skip_digits(&p))
		return false;
	if (*p == '.') {
		p++;
		if (!skip_digits(&p))
			return false;
	}
	if (*p == '-' || *p == '+')
		return p[1] != '\0';
	return *p == '\0';
}

static int parse_version(yajl_val v, struct spec *s, berr_t *e)
{
	if (json_field_str(v, "", "ociVersion", true, &s->oci_version, e) < 0)
		return -1;
	if (!version_supported(s->oci_version))
		return berr_set(e, EINVAL,
				"ociVersion: unsupported version \"%s\" (berth supports 1.x)",
				s->oci_version);
	return 0;
}

static int parse_root(yajl_val v, const char *path, void *out, berr_t *e)
{
	struct spec *s = out;

	if (json_field_str(v, path, "path", true, &s->root.path, e) < 0 ||
	    json_field_bool(v, path, "readonly", &s->root.readonly, NULL, e) < 0)
		return -1;
	return 0;
}

static int parse_vm(yajl_val v, struct spec *s, berr_t *e)
{
	s->vm = json_get(v, "vm");
	if (s->vm && json_expect_object(s->vm, "vm", e) < 0)
		return -1;
	return 0;
}

static int parse_document(yajl_val v, struct spec *s, berr_t *e)
{
	if (!YAJL_IS_OBJECT(v))
		return berr_set(e, EINVAL, "expected a JSON object");
	if (parse_version(v, s, e) < 0)
		return -1;
	/* root is optional in the schema but required on Linux. */
	if (!json_get(v, "root"))
		return missing("", "root", e);
	if (object_field(v, "", "root", parse_root, s, e) < 0 ||
	    ITEMS(v, "", "mounts", s->mounts, s->n_mounts, parse_mount, clear_mount, e) < 0 ||
	    object_field(v, "", "process", parse_process, s, e) < 0 ||
	    json_field_str(v, "", "hostname", false, &s->hostname, e) < 0 ||
	    json_field_str(v, "", "domainname", false, &s->domainname, e) < 0 ||
	    object_field(v, "", "hooks", parse_hooks, &s->hooks, e) < 0 ||
	    str_map_field(v, "", "annotations", &s->annotation_keys,
			  &s->annotation_values, e) < 0 ||
	    object_field(v, "", "linux", parse_linux, s, e) < 0 ||
	    parse_vm(v, s, e) < 0)
		return -1;
	return 0;
}

int spec_parse(const char *text, const char *what, struct spec **out, berr_t *e)
{
	_cleanup_spec_ struct spec *s = xzalloc(sizeof *s);

	what = what ? what : "config.json";
	if (json_parse(text, what, &s->tree, e) < 0)
		return -1;
	if (parse_document(s->tree, s, e) < 0)
		return berr_wrap(e, "%s", what);
	*out = steal_ptr(s);
	return 0;
}

int spec_load(const char *bundle, struct spec **out, berr_t *e)
{
	_cleanup_free_ char *path = xasprintf("%s/config.json", bundle);
	_cleanup_free_ char *text = NULL;
	size_t len = 0;

	if (read_file(path, &text, &len, e) < 0)
		return -1;
	/* yajl would stop at a NUL byte and parse only what precedes it. */
	if (strlen(text) != len)
		return berr_set(e, EINVAL, "%s: invalid JSON: contains a NUL byte", path);
	return spec_parse(text, path, out, e);
}

void spec_free(struct spec *s)
{
	if (!s)
		return;
	free(s->oci_version);
	free(s->root.path);
	free_items(s->mounts, s->n_mounts, sizeof *s->mounts, clear_mount);
	spec_process_free(s->process);
	free(s->hostname);
	free(s->domainname);
	for (size_t k = 0; k < HOOK_KIND_COUNT; k++)
		free_items(s->hooks.hooks[k], s->hooks.n_hooks[k], sizeof(struct spec_hook),
			   clear_hook);
	strv_free(s->annotation_keys);
	strv_free(s->annotation_values);
	linux_free(s->linux);
	if (s->tree)
		yajl_tree_free(s->tree);
	free(s);
}

void spec_freep(struct spec **s)
{
	spec_free(*s);
	*s = NULL;
}

/* ---- lookups ---- */

const struct spec_namespace *spec_find_ns(const struct spec *s, enum spec_ns_type t)
{
	if (!s || !s->linux)
		return NULL;
	for (size_t i = 0; i < s->linux->n_namespaces; i++)
		if (s->linux->namespaces[i].type == t)
			return &s->linux->namespaces[i];
	return NULL;
}

const char *spec_annotation(const struct spec *s, const char *key)
{
	size_t n;

	if (!s || !s->annotation_keys)
		return NULL;
	/* The last of duplicate keys wins, as with every other JSON member. */
	n = strv_len(s->annotation_keys);
	while (n-- > 0)
		if (strcmp(s->annotation_keys[n], key) == 0)
			return s->annotation_values[n];
	return NULL;
}

void spec_process_setenv(struct spec_process *p, const char *kv)
{
	size_t klen = strcspn(kv, "="), n = strv_len(p->env);

	for (size_t i = 0; i < n; i++) {
		if (strncmp(p->env[i], kv, klen) == 0 && p->env[i][klen] == '=') {
			free(p->env[i]);
			p->env[i] = xstrdup(kv);
			return;
		}
	}
	strv_append(&p->env, &n, xstrdup(kv));
}
