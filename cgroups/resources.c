/* cgroups/resources.c: linux.resources (runtime-spec LinuxResources) from
 * JSON into struct cgroup_resources, with JSON-path errors; and freeing it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cgroups/cgroups.h"
#include "cgroups/internal.h"
#include "common/json.h"
#include "common/util.h"

static int opt_i64_field(yajl_val obj, const char *path, const char *key,
			 opt_i64 *out, berr_t *e)
{
	bool present = false;
	int64_t v = 0;

	if (json_field_i64(obj, path, key, false, &v, &present, e) < 0)
		return -1;
	if (present) {
		out->v = v;
		out->set = true;
	}
	return 0;
}

static int opt_u64_field(yajl_val obj, const char *path, const char *key,
			 opt_u64 *out, berr_t *e)
{
	bool present = false;
	uint64_t v = 0;

	if (json_field_u64(obj, path, key, false, &v, &present, e) < 0)
		return -1;
	if (present) {
		out->v = v;
		out->set = true;
	}
	return 0;
}

static int opt_bool_field(yajl_val obj, const char *path, const char *key,
			  opt_bool *out, berr_t *e)
{
	bool present = false, v = false;

	if (json_field_bool(obj, path, key, &v, &present, e) < 0)
		return -1;
	if (present) {
		out->v = v;
		out->set = true;
	}
	return 0;
}

/* Memory values are bytes, or -1 for "unlimited". */
static int check_memory_value(const opt_i64 *v, const char *path, const char *key,
			      berr_t *e)
{
	if (v->set && v->v < -1)
		return berr_set(e, EINVAL, "%s.%s: %lld is neither -1 (unlimited) nor a byte count",
				path, key, (long long)v->v);
	return 0;
}

/* Look up an optional member that must be an object (or array): returns
 * NULL with *fpath unset when absent. */
static int sub_value(yajl_val obj, const char *path, const char *key, bool array,
		     yajl_val *out, char **fpath, berr_t *e)
{
	*out = json_get(obj, key);
	if (!*out)
		return 0;
	*fpath = json_path_key(path, key);
	return array ? json_expect_array(*out, *fpath, e)
		     : json_expect_object(*out, *fpath, e);
}

static int parse_memory(yajl_val obj, const char *path, struct cgroup_resources *r,
			berr_t *e)
{
	static const char *const i64_keys[] = { "limit", "reservation", "swap",
						"kernel", "kernelTCP" };
	opt_i64 *i64_fields[] = { &r->memory.limit, &r->memory.reservation,
				  &r->memory.swap, &r->memory.kernel,
				  &r->memory.kernel_tcp };

	for (size_t i = 0; i < ARRAY_SIZE(i64_keys); i++) {
		if (opt_i64_field(obj, path, i64_keys[i], i64_fields[i], e) < 0 ||
		    check_memory_value(i64_fields[i], path, i64_keys[i], e) < 0)
			return -1;
	}
	if (opt_u64_field(obj, path, "swappiness", &r->memory.swappiness, e) < 0)
		return -1;
	/* The kernel takes 0..100; runc rejects the rest before applying. */
	if (r->memory.swappiness.set && r->memory.swappiness.v > 100)
		return berr_set(e, EINVAL, "%s.swappiness: %llu is out of range 0-100",
				path, (unsigned long long)r->memory.swappiness.v);
	if (opt_bool_field(obj, path, "disableOOMKiller", &r->memory.disable_oom_killer, e) < 0 ||
	    opt_bool_field(obj, path, "useHierarchy", &r->memory.use_hierarchy, e) < 0 ||
	    opt_bool_field(obj, path, "checkBeforeUpdate", &r->memory.check_before_update, e) < 0)
		return -1;
	return 0;
}

static int parse_cpu(yajl_val obj, const char *path, struct cgroup_resources *r,
		     berr_t *e)
{
	if (opt_u64_field(obj, path, "shares", &r->cpu.shares, e) < 0 ||
	    opt_i64_field(obj, path, "quota", &r->cpu.quota, e) < 0 ||
	    opt_u64_field(obj, path, "burst", &r->cpu.burst, e) < 0 ||
	    opt_u64_field(obj, path, "period", &r->cpu.period, e) < 0 ||
	    opt_i64_field(obj, path, "realtimeRuntime", &r->cpu.realtime_runtime, e) < 0 ||
	    opt_u64_field(obj, path, "realtimePeriod", &r->cpu.realtime_period, e) < 0 ||
	    opt_i64_field(obj, path, "idle", &r->cpu.idle, e) < 0 ||
	    json_field_str(obj, path, "cpus", false, &r->cpu.cpus, e) < 0 ||
	    json_field_str(obj, path, "mems", false, &r->cpu.mems, e) < 0)
		return -1;
	/* An empty string means "not set" in runc and crun. */
	if (r->cpu.cpus && !*r->cpu.cpus) {
		free(r->cpu.cpus);
		r->cpu.cpus = NULL;
	}
	if (r->cpu.mems && !*r->cpu.mems) {
		free(r->cpu.mems);
		r->cpu.mems = NULL;
	}
	if (r->cpu.idle.set && r->cpu.idle.v != 0 && r->cpu.idle.v != 1)
		return berr_set(e, EINVAL, "%s.idle: expected 0 or 1", path);
	return 0;
}

static int parse_pids(yajl_val obj, const char *path, struct cgroup_resources *r,
		      berr_t *e)
{
	return opt_i64_field(obj, path, "limit", &r->pids.limit, e);
}

/* blkio weights: the kernel's range, 10..1000, checked here for a clear error. */
static int check_weight(const opt_u64 *w, const char *path, const char *key, berr_t *e)
{
	if (w->set && (w->v < 10 || w->v > 1000))
		return berr_set(e, EINVAL, "%s.%s: %llu is out of range 10-1000", path, key,
				(unsigned long long)w->v);
	return 0;
}

static int parse_weight_devices(yajl_val arr, const char *path,
				struct cgroup_resources *r, berr_t *e)
{
	size_t n = arr->u.array.len;

	r->blkio.weight_devices = xcalloc(n, sizeof *r->blkio.weight_devices);
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *p = json_path_index(path, i);
		struct cg_weight_device *d = &r->blkio.weight_devices[i];
		yajl_val item = arr->u.array.values[i];

		r->blkio.n_weight_devices = i + 1;
		if (json_expect_object(item, p, e) < 0 ||
		    json_field_i64(item, p, "major", true, &d->major, NULL, e) < 0 ||
		    json_field_i64(item, p, "minor", true, &d->minor, NULL, e) < 0 ||
		    opt_u64_field(item, p, "weight", &d->weight, e) < 0 ||
		    opt_u64_field(item, p, "leafWeight", &d->leaf_weight, e) < 0 ||
		    check_weight(&d->weight, p, "weight", e) < 0 ||
		    check_weight(&d->leaf_weight, p, "leafWeight", e) < 0)
			return -1;
		if (d->major < 0 || d->minor < 0)
			return berr_set(e, EINVAL, "%s: major and minor must not be negative", p);
	}
	return 0;
}

static int parse_throttle(yajl_val arr, const char *path, struct cg_throttle_device **out,
			  size_t *n_out, berr_t *e)
{
	size_t n = arr->u.array.len;

	*out = xcalloc(n, sizeof **out);
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *p = json_path_index(path, i);
		struct cg_throttle_device *d = &(*out)[i];
		yajl_val item = arr->u.array.values[i];

		*n_out = i + 1;
		if (json_expect_object(item, p, e) < 0 ||
		    json_field_i64(item, p, "major", true, &d->major, NULL, e) < 0 ||
		    json_field_i64(item, p, "minor", true, &d->minor, NULL, e) < 0 ||
		    json_field_u64(item, p, "rate", true, &d->rate, NULL, e) < 0)
			return -1;
		if (d->major < 0 || d->minor < 0)
			return berr_set(e, EINVAL, "%s: major and minor must not be negative", p);
	}
	return 0;
}

static int parse_blkio(yajl_val obj, const char *path, struct cgroup_resources *r,
		       berr_t *e)
{
	static const char *const throttle_keys[4] = {
		[CG_THROTTLE_READ_BPS] = "throttleReadBpsDevice",
		[CG_THROTTLE_WRITE_BPS] = "throttleWriteBpsDevice",
		[CG_THROTTLE_READ_IOPS] = "throttleReadIOPSDevice",
		[CG_THROTTLE_WRITE_IOPS] = "throttleWriteIOPSDevice",
	};
	_cleanup_free_ char *wpath = NULL;
	yajl_val v;

	if (opt_u64_field(obj, path, "weight", &r->blkio.weight, e) < 0 ||
	    opt_u64_field(obj, path, "leafWeight", &r->blkio.leaf_weight, e) < 0 ||
	    check_weight(&r->blkio.weight, path, "weight", e) < 0 ||
	    check_weight(&r->blkio.leaf_weight, path, "leafWeight", e) < 0)
		return -1;
	if (sub_value(obj, path, "weightDevice", true, &v, &wpath, e) < 0)
		return -1;
	if (v && parse_weight_devices(v, wpath, r, e) < 0)
		return -1;
	for (size_t k = 0; k < 4; k++) {
		_cleanup_free_ char *tpath = NULL;

		if (sub_value(obj, path, throttle_keys[k], true, &v, &tpath, e) < 0)
			return -1;
		if (v && parse_throttle(v, tpath, &r->blkio.throttle[k],
					&r->blkio.n_throttle[k], e) < 0)
			return -1;
	}
	return 0;
}

/* "2MB", "1GB", "64KB": the names the kernel gives hugetlb.<size>.* files. */
static bool valid_page_size(const char *s)
{
	size_t digits = strspn(s, "0123456789");

	return digits > 0 && digits < 12 &&
	       (!strcmp(s + digits, "KB") || !strcmp(s + digits, "MB") ||
		!strcmp(s + digits, "GB"));
}

static int parse_hugepages(yajl_val arr, const char *path, struct cgroup_resources *r,
			   berr_t *e)
{
	size_t n = arr->u.array.len;

	r->hugepages = xcalloc(n, sizeof *r->hugepages);
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *p = json_path_index(path, i);
		struct cg_hugepage_limit *h = &r->hugepages[i];
		yajl_val item = arr->u.array.values[i];

		r->n_hugepages = i + 1;
		if (json_expect_object(item, p, e) < 0 ||
		    json_field_str(item, p, "pageSize", true, &h->page_size, e) < 0 ||
		    json_field_u64(item, p, "limit", true, &h->limit, NULL, e) < 0)
			return -1;
		if (!valid_page_size(h->page_size))
			return berr_set(e, EINVAL, "%s.pageSize: \"%s\" is not a page size such as 2MB or 1GB",
					p, h->page_size);
	}
	return 0;
}

/* Names end up in one-line kernel files: no blanks, no '/', no control characters. */
static bool valid_token(const char *s)
{
	if (!*s || strlen(s) > 255)
		return false;
	for (const char *c = s; *c; c++)
		if ((unsigned char)*c <= ' ' || *c == '/' || *c == 0x7f)
			return false;
	return true;
}

static int parse_rdma(yajl_val obj, const char *path, struct cgroup_resources *r,
		      berr_t *e)
{
	size_t n = obj->u.object.len;

	r->rdma = xcalloc(n, sizeof *r->rdma);
	for (size_t i = 0; i < n; i++) {
		const char *name = obj->u.object.keys[i];
		_cleanup_free_ char *p = json_path_key(path, name);
		struct cg_rdma_limit *l = &r->rdma[i];
		yajl_val item = obj->u.object.values[i];
		uint32_t v;
		bool present;

		r->n_rdma = i + 1;
		l->device = xstrdup(name);
		if (!valid_token(name))
			return berr_set(e, EINVAL, "%s: \"%s\" is not a valid rdma device name", path, name);
		if (YAJL_IS_NULL(item))
			continue;
		if (json_expect_object(item, p, e) < 0)
			return -1;
		if (json_field_u32(item, p, "hcaHandles", false, &v, &present, e) < 0)
			return -1;
		if (present)
			l->hca_handles = (opt_u64){ v, true };
		if (json_field_u32(item, p, "hcaObjects", false, &v, &present, e) < 0)
			return -1;
		if (present)
			l->hca_objects = (opt_u64){ v, true };
	}
	return 0;
}

static int parse_network(yajl_val obj, const char *path, struct cgroup_resources *r,
			 berr_t *e)
{
	_cleanup_free_ char *ppath = NULL;
	yajl_val arr;
	uint32_t class_id;
	bool present;

	if (json_field_u32(obj, path, "classID", false, &class_id, &present, e) < 0)
		return -1;
	if (present)
		r->network.class_id = (opt_u64){ class_id, true };
	if (sub_value(obj, path, "priorities", true, &arr, &ppath, e) < 0)
		return -1;
	if (!arr)
		return 0;
	r->network.priorities = xcalloc(arr->u.array.len, sizeof *r->network.priorities);
	for (size_t i = 0; i < arr->u.array.len; i++) {
		_cleanup_free_ char *p = json_path_index(ppath, i);
		struct cg_net_priority *np = &r->network.priorities[i];
		yajl_val item = arr->u.array.values[i];

		r->network.n_priorities = i + 1;
		if (json_expect_object(item, p, e) < 0 ||
		    json_field_str(item, p, "name", true, &np->name, e) < 0 ||
		    json_field_u32(item, p, "priority", true, &np->priority, NULL, e) < 0)
			return -1;
		if (!valid_token(np->name))
			return berr_set(e, EINVAL, "%s.name: \"%s\" is not a valid interface name",
					p, np->name);
	}
	return 0;
}

/* A device rule: allow (required), type "a"|"c"|"b" (default "a"), major
 * and minor (absent: any), access, a subset of "rwm" (absent or "": all). */
static int parse_device_rule(yajl_val item, const char *p, struct cg_device_rule *d,
			     berr_t *e)
{
	_cleanup_free_ char *type = NULL;
	_cleanup_free_ char *access = NULL;
	bool present;

	d->type = 'a';
	d->major = d->minor = -1;
	if (json_expect_object(item, p, e) < 0 ||
	    json_field_bool(item, p, "allow", &d->allow, &present, e) < 0)
		return -1;
	if (!present)
		return berr_set(e, EINVAL, "%s.allow: missing required field", p);
	if (json_field_str(item, p, "type", false, &type, e) < 0 ||
	    json_field_i64(item, p, "major", false, &d->major, NULL, e) < 0 ||
	    json_field_i64(item, p, "minor", false, &d->minor, NULL, e) < 0 ||
	    json_field_str(item, p, "access", false, &access, e) < 0)
		return -1;
	if (type) {
		if (strlen(type) != 1 || !strchr("acb", type[0]))
			return berr_set(e, EINVAL, "%s.type: \"%s\" is not one of \"a\", \"c\", \"b\"",
					p, type);
		d->type = type[0];
	}
	if (d->major < -1 || d->minor < -1 || d->major > UINT32_MAX || d->minor > UINT32_MAX)
		return berr_set(e, EINVAL, "%s: major and minor must be -1 (any) or a device number", p);
	if (!access || !*access) {
		strcpy(d->access, "rwm");
		return 0;
	}
	for (const char *c = access; *c; c++) {
		if (!strchr("rwm", *c) || strchr(c + 1, *c))
			return berr_set(e, EINVAL, "%s.access: \"%s\" is not a combination of r, w and m",
					p, access);
	}
	strcpy(d->access, access); /* at most 3 distinct letters */
	return 0;
}

static int parse_devices(yajl_val arr, const char *path, struct cgroup_resources *r,
			 berr_t *e)
{
	size_t n = arr->u.array.len;

	r->devices = xcalloc(n, sizeof *r->devices);
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *p = json_path_index(path, i);

		r->n_devices = i + 1;
		if (parse_device_rule(arr->u.array.values[i], p, &r->devices[i], e) < 0)
			return -1;
	}
	return 0;
}

/* unified keys name files in the container's cgroup directory: nothing that
 * could reach another directory. */
static int parse_unified(yajl_val obj, const char *path, struct cgroup_resources *r,
			 berr_t *e)
{
	if (json_as_str_map(obj, path, &r->unified_keys, &r->unified_values, e) < 0)
		return -1;
	for (size_t i = 0; r->unified_keys[i]; i++) {
		const char *k = r->unified_keys[i];

		if (!*k || strchr(k, '/') || strstr(k, "..") || !strcmp(k, "."))
			return berr_set(e, EINVAL, "%s: \"%s\" is not a cgroup file name", path, k);
		if (!strcmp(k, "cgroup.procs") || !strcmp(k, "cgroup.threads") ||
		    !strcmp(k, "cgroup.subtree_control"))
			return berr_set(e, EINVAL, "%s: \"%s\" is managed by the runtime", path, k);
	}
	return 0;
}

typedef int (*section_parser)(yajl_val, const char *, struct cgroup_resources *, berr_t *);

int cgroup_resources_parse(yajl_val v, const char *path,
			   struct cgroup_resources *out, berr_t *e)
{
	static const struct {
		const char *key;
		bool array;
		section_parser parse;
	} sections[] = {
		{ "memory", false, parse_memory },
		{ "cpu", false, parse_cpu },
		{ "pids", false, parse_pids },
		{ "blockIO", false, parse_blkio },
		{ "hugepageLimits", true, parse_hugepages },
		{ "network", false, parse_network },
		{ "rdma", false, parse_rdma },
		{ "devices", true, parse_devices },
		{ "unified", false, parse_unified },
	};
	struct cgroup_resources r = { 0 };

	if (json_expect_object(v, path, e) < 0)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(sections); i++) {
		_cleanup_free_ char *spath = NULL;
		yajl_val sv;

		if (sub_value(v, path, sections[i].key, sections[i].array, &sv, &spath, e) < 0 ||
		    (sv && sections[i].parse(sv, spath, &r, e) < 0)) {
			cgroup_resources_free(&r);
			return -1;
		}
	}
	*out = r;
	return 0;
}

void cgroup_resources_free(struct cgroup_resources *r)
{
	if (!r)
		return;
	free(r->cpu.cpus);
	free(r->cpu.mems);
	free(r->blkio.weight_devices);
	for (size_t k = 0; k < 4; k++)
		free(r->blkio.throttle[k]);
	for (size_t i = 0; i < r->n_hugepages; i++)
		free(r->hugepages[i].page_size);
	free(r->hugepages);
	for (size_t i = 0; i < r->network.n_priorities; i++)
		free(r->network.priorities[i].name);
	free(r->network.priorities);
	for (size_t i = 0; i < r->n_rdma; i++)
		free(r->rdma[i].device);
	free(r->rdma);
	strv_free(r->unified_keys);
	strv_free(r->unified_values);
	free(r->devices);
	memset(r, 0, sizeof *r);
}

/* Device rules alone do not count: they restrict, they do not limit, and a
 * rootless container without a cgroup gets only the device nodes it was
 * given. kernel, kernelTCP and useHierarchy are ignored everywhere. */
bool cgroup_resources_any(const struct cgroup_resources *r)
{
	if (!r)
		return false;
	if (r->memory.limit.set || r->memory.reservation.set || r->memory.swap.set ||
	    r->memory.swappiness.set || r->memory.disable_oom_killer.set)
		return true;
	if (r->cpu.shares.set || r->cpu.quota.set || r->cpu.period.set ||
	    r->cpu.burst.set || r->cpu.realtime_runtime.set ||
	    r->cpu.realtime_period.set || r->cpu.idle.set || r->cpu.cpus || r->cpu.mems)
		return true;
	if (r->pids.limit.set)
		return true;
	if (r->blkio.weight.set || r->blkio.leaf_weight.set || r->blkio.n_weight_devices)
		return true;
	for (size_t k = 0; k < 4; k++)
		if (r->blkio.n_throttle[k])
			return true;
	return r->n_hugepages || r->network.class_id.set || r->network.n_priorities ||
	       r->n_rdma || (r->unified_keys && r->unified_keys[0]);
}
