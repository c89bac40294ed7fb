/* cgroups/settings.c: THE table mapping every linux.resources key to its
 * cgroup v2 file and its v1 file, and the planner that turns resources into writes. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cgroups/internal.h"
#include "common/log.h"
#include "common/util.h"

/* What to do with a key whose controller is in cgroup v2 but which has no
 * v2 file. */
enum v2_policy {
	V2_HAS_FILE, /* v2_file is set, or render knows what to do */
	V2_IGNORE,   /* no equivalent, ignored as runc does (debug log) */
	V2_WARN,     /* no equivalent, ignored with a warning */
	V2_REJECT,   /* no equivalent, and ignoring it would change behaviour */
};

struct cg_setting;
typedef int (*render_fn)(const struct cg_setting *s, const struct cgroup_resources *r,
			 const struct cg_host *h, bool v2, struct cg_plan *p, berr_t *e);

struct cg_setting {
	const char *key; /* below linux.resources */
	enum cg_ctrl ctrl; /* CG_NONE: render decides where (or nowhere) */
	const char *v2_file, *v1_file;
	enum v2_policy on_v2;
	bool (*is_set)(const struct cgroup_resources *r);
	/* The value for the one file; NULL when render writes instead. */
	char *(*value)(const struct cgroup_resources *r, bool v2);
	render_fn render;
};

/* ---- conversions ---- */

/* cgroup v1 shares (2..262144, default 1024) -> v2 weight (1..10000, default
 * 100), the linear map runc and crun use: 2 -> 1, 262144 -> 10000. */
uint64_t cg_shares_to_weight(uint64_t shares)
{
	if (shares < 2)
		shares = 2;
	if (shares > 262144)
		shares = 262144;
	return 1 + ((shares - 2) * 9999) / 262142;
}

/* blkio weight (10..1000) -> io.weight (1..10000): 10 -> 1, 1000 -> 10000. */
uint64_t cg_blkio_weight_to_io_weight(uint64_t weight)
{
	if (weight < 10)
		weight = 10;
	if (weight > 1000)
		weight = 1000;
	return 1 + (weight - 10) * 9999 / 990;
}

/* The spec's memory.swap is the v1 memory+swap limit; memory.swap.max in v2
 * is swap alone. runc's rules: unset (or 0) leaves the file alone, except
 * that an unlimited memory limit also lifts the swap limit; -1 is "max";
 * swap == limit means no swap at all. */
int cg_swap_v2(const opt_i64 *swap, const opt_i64 *limit, int64_t *out, berr_t *e)
{
	int64_t s = swap->set ? swap->v : 0, l = limit->set ? limit->v : 0;

	if (l == -1 && s == 0) {
		*out = -1;
		return 1;
	}
	if (s == 0)
		return 0;
	if (s == -1) {
		*out = -1;
		return 1;
	}
	if (l == 0 || l == -1)
		return berr_set(e, EINVAL, "linux.resources.memory.swap: a swap limit needs a "
				"memory limit (memory.swap is the memory+swap total)");
	if (s < l)
		return berr_set(e, EINVAL, "linux.resources.memory.swap: %" PRId64 " is below "
				"memory.limit %" PRId64 " (memory.swap is the memory+swap total)", s, l);
	*out = s - l;
	return 1;
}

static char *dev_part(int64_t v)
{
	return v < 0 ? xstrdup("*") : xasprintf("%" PRId64, v);
}

char *cg_device_rule_v1(char type, int64_t major, int64_t minor, const char *access)
{
	_cleanup_free_ char *ma = dev_part(major);
	_cleanup_free_ char *mi = dev_part(minor);

	if (type == 'a' && major < 0 && minor < 0 && strlen(access) == 3)
		return xstrdup("a");
	return xasprintf("%c %s:%s %s", type, ma, mi, access);
}

/* -1 is "unlimited": "max" in v2, -1 in v1. */
static char *num_or_max(int64_t v, bool v2)
{
	if (v2 && v == -1)
		return xstrdup("max");
	return xasprintf("%" PRId64, v);
}

/* ---- plan building ---- */

static struct cg_write *add_write(struct cg_plan *p, const char *key, enum cg_ctrl ctrl,
				  bool v2, char *file, char *value, unsigned flags)
{
	struct cg_write *w;

	p->w = xreallocarray(p->w, p->n + 1, sizeof *p->w);
	w = &p->w[p->n++];
	*w = (struct cg_write){ .key = xstrdup(key), .ctrl = ctrl, .v2 = v2,
				.file = file, .value = value, .flags = flags };
	return w;
}

static void add_alt(struct cg_write *w, char *file, char *value)
{
	w->alt_file = file;
	w->alt_value = value;
}

static const char *file_of(const struct cg_setting *s, bool v2)
{
	return v2 ? s->v2_file : s->v1_file;
}

/* ---- memory ---- */

static bool mem_limit_set(const struct cgroup_resources *r) { return r->memory.limit.set; }
static bool mem_reservation_set(const struct cgroup_resources *r) { return r->memory.reservation.set; }
static bool mem_swappiness_set(const struct cgroup_resources *r) { return r->memory.swappiness.set; }
static bool mem_oom_set(const struct cgroup_resources *r) { return r->memory.disable_oom_killer.set; }
static bool mem_kernel_set(const struct cgroup_resources *r) { return r->memory.kernel.set; }
static bool mem_kernel_tcp_set(const struct cgroup_resources *r) { return r->memory.kernel_tcp.set; }
static bool mem_hierarchy_set(const struct cgroup_resources *r) { return r->memory.use_hierarchy.set; }

/* Unset or 0 means "leave alone" (runc), except that lifting the memory
 * limit (-1) lifts the swap limit too. */
static bool swap_implicit(const struct cgroup_resources *r)
{
	return r->memory.limit.set && r->memory.limit.v == -1 &&
	       (!r->memory.swap.set || r->memory.swap.v == 0);
}

static bool mem_swap_set(const struct cgroup_resources *r)
{
	return (r->memory.swap.set && r->memory.swap.v != 0) || swap_implicit(r);
}

static char *mem_reservation_value(const struct cgroup_resources *r, bool v2)
{
	return num_or_max(r->memory.reservation.v, v2);
}

static char *mem_swappiness_value(const struct cgroup_resources *r, bool v2)
{
	return xasprintf("%" PRIu64, r->memory.swappiness.v);
}

static char *mem_oom_value(const struct cgroup_resources *r, bool v2)
{
	return xstrdup(r->memory.disable_oom_killer.v ? "1" : "0");
}

/* In v1, memory.limit_in_bytes may not exceed memory.memsw.limit_in_bytes:
 * when both change, which goes first depends on the current values, so the
 * limit (always written just before the swap) swaps places on EINVAL. */
static int render_mem_limit(const struct cg_setting *s, const struct cgroup_resources *r,
			    const struct cg_host *h, bool v2, struct cg_plan *p, berr_t *e)
{
	unsigned flags = !v2 && mem_swap_set(r) ? CGW_SWAP_ON_EINVAL : 0;

	add_write(p, s->key, s->ctrl, v2, xstrdup(file_of(s, v2)),
		  num_or_max(r->memory.limit.v, v2), flags);
	return 0;
}

static int render_mem_swap(const struct cg_setting *s, const struct cgroup_resources *r,
			   const struct cg_host *h, bool v2, struct cg_plan *p, berr_t *e)
{
	int64_t v;
	int ret;

	if (v2) {
		ret = cg_swap_v2(&r->memory.swap, &r->memory.limit, &v, e);
		if (ret <= 0)
			return ret;
		add_write(p, s->key, s->ctrl, true, xstrdup(s->v2_file), num_or_max(v, true),
			  swap_implicit(r) ? CGW_OPTIONAL : 0);
		return 0;
	}
	if (swap_implicit(r)) {
		/* Not asked for: fine when the kernel has no swap accounting. */
		add_write(p, s->key, s->ctrl, false, xstrdup(s->v1_file), xstrdup("-1"),
			  CGW_OPTIONAL);
		return 0;
	}
	v = r->memory.swap.v;
	if (v != -1 && r->memory.limit.set && r->memory.limit.v > 0 && v < r->memory.limit.v)
		return berr_set(e, EINVAL, "linux.resources.memory.swap: %" PRId64 " is below "
				"memory.limit %" PRId64 " (memory.swap is the memory+swap total)",
				v, r->memory.limit.v);
	add_write(p, s->key, s->ctrl, false, xstrdup(s->v1_file), num_or_max(v, false), 0);
	return 0;
}

static int render_ignored(const struct cg_setting *s, const struct cgroup_resources *r,
			  const struct cg_host *h, bool v2, struct cg_plan *p, berr_t *e)
{
	log_warn("linux.resources.%s is deprecated and ignored", s->key);
	return 0;
}

static int render_ignored_quietly(const struct cg_setting *s, const struct cgroup_resources *r,
				  const struct cg_host *h, bool v2, struct cg_plan *p, berr_t *e)
{
	log_debug("linux.resources.%s: ignored (hierarchical accounting is always on)", s->key);
	return 0;
}

/* ---- cpu ---- */

static bool cpu_shares_set(const struct cgroup_resources *r) { return r->cpu.shares.set; }
static bool cpu_period_set(const struct cgroup_resources *r) { return r->cpu.period.set; }
static bool cpu_quota_set(const struct cgroup_resources *r) { return r->cpu.quota.set; }
static bool cpu_burst_set(const struct cgroup_resources *r) { return r->cpu.burst.set; }
static bool cpu_rt_period_set(const struct cgroup_resources *r) { return r->cpu.realtime_period.set; }
static bool cpu_rt_runtime_set(const struct cgroup_resources *r) { return r->cpu.realtime_runtime.set; }
static bool cpu_idle_set(const struct cgroup_resources *r) { return r->cpu.idle.set; }
static bool cpu_cpus_set(const struct cgroup_resources *r) { return r->cpu.cpus != NULL; }
static bool cpu_mems_set(const struct cgroup_resources *r) { return r->cpu.mems != NULL; }

static char *cpu_shares_value(const struct cgroup_resources *r, bool v2)
{
	uint64_t v = r->cpu.shares.v;

	return xasprintf("%" PRIu64, v2 ? cg_shares_to_weight(v) : v);
}

static char *cpu_burst_value(const struct cgroup_resources *r, bool v2)
{
	return xasprintf("%" PRIu64, r->cpu.burst.v);
}

static char *cpu_rt_period_value(const struct cgroup_resources *r, bool v2)
{
	return xasprintf("%" PRIu64, r->cpu.realtime_period.v);
}

static char *cpu_rt_runtime_value(const struct cgroup_resources *r, bool v2)
{
	return xasprintf("%" PRId64, r->cpu.realtime_runtime.v);
}

static char *cpu_idle_value(const struct cgroup_resources *r, bool v2)
{
	return xasprintf("%" PRId64, r->cpu.idle.v);
}

static char *cpu_cpus_value(const struct cgroup_resources *r, bool v2)
{
	return xstrdup(r->cpu.cpus);
}

static char *cpu_mems_value(const struct cgroup_resources *r, bool v2)
{
	return xstrdup(r->cpu.mems);
}

/* v2 cpu.max is "QUOTA PERIOD": the quota row writes both; a period alone
 * keeps the current quota (runc and crun would reset it to "max"). v1 writes
 * the period first, and swaps with the quota when the kernel refuses. */
static int render_cpu_period(const struct cg_setting *s, const struct cgroup_resources *r,
			     const struct cg_host *h, bool v2, struct cg_plan *p, berr_t *e)
{
	char *value = xasprintf("%" PRIu64, r->cpu.period.v);

	if (v2 && r->cpu.quota.set) {
		free(value);
		return 0;
	}
	add_write(p, s->key, s->ctrl, v2, xstrdup(file_of(s, v2)), value,
		  v2 ? CGW_KEEP_FIRST_FIELD : r->cpu.quota.set ? CGW_SWAP_ON_EINVAL : 0);
	return 0;
}

static int render_cpu_quota(const struct cg_setting *s, const struct cgroup_resources *r,
			    const struct cg_host *h, bool v2, struct cg_plan *p, berr_t *e)
{
	int64_t q = r->cpu.quota.v;
	char *value;

	if (!v2)
		value = xasprintf("%" PRId64, q > 0 ? q : -1);
	else if (r->cpu.period.set)
		value = q > 0 ? xasprintf("%" PRId64 " %" PRIu64, q, r->cpu.period.v)
			      : xasprintf("max %" PRIu64, r->cpu.period.v);
	else
		value = q > 0 ? xasprintf("%" PRId64, q) : xstrdup("max");
	add_write(p, s->key, s->ctrl, v2, xstrdup(file_of(s, v2)), value, 0);
	return 0;
}

/* ---- pids ---- */

static bool pids_limit_set(const struct cgroup_resources *r) { return r->pids.limit.set; }

static char *pids_limit_value(const struct cgroup_resources *r, bool v2)
{
	return r->pids.limit.v > 0 ? xasprintf("%" PRId64, r->pids.limit.v) : xstrdup("max");
}

/* ---- block I/O ---- */

static bool io_weight_set(const struct cgroup_resources *r) { return r->blkio.weight.set; }
static bool io_leaf_weight_set(const struct cgroup_resources *r) { return r->blkio.leaf_weight.set; }
static bool io_weight_device_set(const struct cgroup_resources *r) { return r->blkio.n_weight_devices > 0; }

static bool io_throttle_set(const struct cgroup_resources *r)
{
	for (int k = 0; k < 4; k++)
		if (r->blkio.n_throttle[k])
			return true;
	return false;
}

static char *io_leaf_weight_value(const struct cgroup_resources *r, bool v2)
{
	return xasprintf("%" PRIu64, r->blkio.leaf_weight.v);
}

/* v2: BFQ's io.bfq.weight takes the blkio range as is; without BFQ,
 * io.weight (iocost) takes the converted one. v1: CFQ's blkio.weight, or
 * BFQ's blkio.bfq.weight. */
static void add_weight(struct cg_plan *p, const char *key, bool v2, const char *dev,
		       uint64_t w)
{
	struct cg_write *cw;

	if (v2) {
		cw = add_write(p, key, CG_IO, true, xstrdup("io.bfq.weight"),
			       xasprintf("%s%" PRIu64, dev, w), 0);
		add_alt(cw, xstrdup("io.weight"),
			xasprintf("%s%" PRIu64, dev, cg_blkio_weight_to_io_weight(w)));
	} else {
		cw = add_write(p, key, CG_IO, false,
			       xstrdup(*dev ? "blkio.weight_device" : "blkio.weight"),
			       xasprintf("%s%" PRIu64, dev, w), 0);
		add_alt(cw, xstrdup(*dev ? "blkio.bfq.weight_device" : "blkio.bfq.weight"),
			xasprintf("%s%" PRIu64, dev, w));
	}
}

static int render_io_weight(const struct cg_setting *s, const struct cgroup_resources *r,
			    const struct cg_host *h, bool v2, struct cg_plan *p, berr_t *e)
{
	add_weight(p, s->key, v2, "", r->blkio.weight.v);
	return 0;
}

static int render_io_weight_device(const struct cg_setting *s, const struct cgroup_resources *r,
				   const struct cg_host *h, bool v2, struct cg_plan *p, berr_t *e)
{
	for (size_t i = 0; i < r->blkio.n_weight_devices; i++) {
		const struct cg_weight_device *d = &r->blkio.weight_devices[i];
		_cleanup_free_ char *dev = xasprintf("%" PRId64 ":%" PRId64 " ", d->major, d->minor);

		if (d->weight.set)
			add_weight(p, s->key, v2, dev, d->weight.v);
		if (d->leaf_weight.set && v2)
			log_warn("linux.resources.blockIO.weightDevice[%zu].leafWeight: cgroup v2 "
				 "has no leaf weight; ignored", i);
		else if (d->leaf_weight.set)
			add_write(p, s->key, CG_IO, false, xstrdup("blkio.leaf_weight_device"),
				  xasprintf("%s%" PRIu64, dev, d->leaf_weight.v), 0);
	}
	return 0;
}

static int render_io_throttle(const struct cg_setting *s, const struct cgroup_resources *r,
			      const struct cg_host *h, bool v2, struct cg_plan *p, berr_t *e)
{
	static const struct {
		const char *key, *v2_name, *v1_file;
	} kinds[4] = {
		[CG_THROTTLE_READ_BPS] = { "blockIO.throttleReadBpsDevice", "rbps",
					   "blkio.throttle.read_bps_device" },
		[CG_THROTTLE_WRITE_BPS] = { "blockIO.throttleWriteBpsDevice", "wbps",
					    "blkio.throttle.write_bps_device" },
		[CG_THROTTLE_READ_IOPS] = { "blockIO.throttleReadIOPSDevice", "riops",
					    "blkio.throttle.read_iops_device" },
		[CG_THROTTLE_WRITE_IOPS] = { "blockIO.throttleWriteIOPSDevice", "wiops",
					     "blkio.throttle.write_iops_device" },
	};

	for (int k = 0; k < 4; k++) {
		for (size_t i = 0; i < r->blkio.n_throttle[k]; i++) {
			const struct cg_throttle_device *d = &r->blkio.throttle[k][i];
			char *value;

			/* A rate of 0 removes the limit in v1; "max" does in v2. */
			if (v2 && d->rate == 0)
				value = xasprintf("%" PRId64 ":%" PRId64 " %s=max", d->major,
						  d->minor, kinds[k].v2_name);
			else if (v2)
				value = xasprintf("%" PRId64 ":%" PRId64 " %s=%" PRIu64, d->major,
						  d->minor, kinds[k].v2_name, d->rate);
			else
				value = xasprintf("%" PRId64 ":%" PRId64 " %" PRIu64, d->major,
						  d->minor, d->rate);
			add_write(p, kinds[k].key, CG_IO, v2,
				  xstrdup(v2 ? "io.max" : kinds[k].v1_file), value, 0);
		}
	}
	return 0;
}

/* ---- hugetlb, rdma, network ---- */

static bool hugetlb_set(const struct cgroup_resources *r) { return r->n_hugepages > 0; }
static bool rdma_set(const struct cgroup_resources *r) { return r->n_rdma > 0; }
static bool net_class_set(const struct cgroup_resources *r) { return r->network.class_id.set; }
static bool net_prio_set(const struct cgroup_resources *r) { return r->network.n_priorities > 0; }

/* The reservation limit (rsvd, kernel 5.7+) follows the fault limit, as
 * in runc, so that reserved-but-unfaulted pages count too. */
static int render_hugetlb(const struct cg_setting *s, const struct cgroup_resources *r,
			  const struct cg_host *h, bool v2, struct cg_plan *p, berr_t *e)
{
	for (size_t i = 0; i < r->n_hugepages; i++) {
		const struct cg_hugepage_limit *l = &r->hugepages[i];
		const char *sz = l->page_size;

		add_write(p, s->key, CG_HUGETLB, v2,
			  v2 ? xasprintf("hugetlb.%s.max", sz)
			     : xasprintf("hugetlb.%s.limit_in_bytes", sz),
			  xasprintf("%" PRIu64, l->limit), 0);
		add_write(p, s->key, CG_HUGETLB, v2,
			  v2 ? xasprintf("hugetlb.%s.rsvd.max", sz)
			     : xasprintf("hugetlb.%s.rsvd.limit_in_bytes", sz),
			  xasprintf("%" PRIu64, l->limit), CGW_OPTIONAL);
	}
	return 0;
}

static int render_rdma(const struct cg_setting *s, const struct cgroup_resources *r,
		       const struct cg_host *h, bool v2, struct cg_plan *p, berr_t *e)
{
	for (size_t i = 0; i < r->n_rdma; i++) {
		const struct cg_rdma_limit *l = &r->rdma[i];
		_cleanup_free_ char *handles = l->hca_handles.set
			? xasprintf(" hca_handle=%" PRIu64, l->hca_handles.v) : xstrdup("");
		_cleanup_free_ char *objects = l->hca_objects.set
			? xasprintf(" hca_object=%" PRIu64, l->hca_objects.v) : xstrdup("");

		if (!l->hca_handles.set && !l->hca_objects.set)
			continue;
		add_write(p, s->key, CG_RDMA, v2, xstrdup("rdma.max"),
			  xasprintf("%s%s%s", l->device, handles, objects), 0);
	}
	return 0;
}

static char *net_class_value(const struct cgroup_resources *r, bool v2)
{
	return xasprintf("%" PRIu64, r->network.class_id.v);
}

static int render_net_prio(const struct cg_setting *s, const struct cgroup_resources *r,
			   const struct cg_host *h, bool v2, struct cg_plan *p, berr_t *e)
{
	for (size_t i = 0; i < r->network.n_priorities; i++)
		add_write(p, s->key, CG_NET_PRIO, false, xstrdup(s->v1_file),
			  xasprintf("%s %" PRIu32, r->network.priorities[i].name,
				    r->network.priorities[i].priority), 0);
	return 0;
}

/* ---- unified and devices: where they go is decided per entry ---- */

static bool unified_set(const struct cgroup_resources *r)
{
	return r->unified_keys && r->unified_keys[0];
}

static bool devices_set(const struct cgroup_resources *r) { return r->n_devices > 0; }

/* unified is cgroup v2 by definition: each key is written verbatim in the
 * v2 directory, after enabling the controller its name starts with. */
static int render_unified(const struct cg_setting *s, const struct cgroup_resources *r,
			  const struct cg_host *h, bool v2, struct cg_plan *p, berr_t *e)
{
	for (size_t i = 0; r->unified_keys[i]; i++) {
		const char *k = r->unified_keys[i];
		_cleanup_free_ char *key = xasprintf("unified.%s", k);
		_cleanup_free_ char *prefix = xstrndup(k, strcspn(k, "."));
		enum cg_ctrl c = cg_ctrl_from_v2_name(prefix);

		if (!*k || strchr(k, '/') || strstr(k, ".."))
			return berr_set(e, EINVAL, "linux.resources.%s: not a cgroup file name", key);
		if (c != CG_NONE && !(h->v2_mask & CG_BIT(c)))
			return berr_set(e, ENOTSUP, "linux.resources.%s: the %s controller is not "
					"available in cgroup v2 on this host%s", key, prefix,
					h->v1_mask & CG_BIT(c) ? " (it is bound to cgroup v1)" : "");
		if (c != CG_NONE)
			p->v2_needed |= CG_BIT(c);
		add_write(p, key, c, true, xstrdup(k), xstrdup(r->unified_values[i]), 0);
	}
	return 0;
}

/* v1: default-deny, then every rule in order, as runc does. A rule for all
 * types with specific numbers or access has no v1 syntax: it is written
 * once for 'c' and once for 'b'. v2: one eBPF program (devices_bpf.c). */
static int render_devices(const struct cg_setting *s, const struct cgroup_resources *r,
			  const struct cg_host *h, bool v2, struct cg_plan *p, berr_t *e)
{
	if (!(h->v1_mask & CG_BIT(CG_DEVICES))) {
		p->bpf_devices = true;
		return 0;
	}
	add_write(p, s->key, CG_DEVICES, false, xstrdup("devices.deny"), xstrdup("a"), 0);
	for (size_t i = 0; i < r->n_devices; i++) {
		const struct cg_device_rule *d = &r->devices[i];
		const char *file = d->allow ? "devices.allow" : "devices.deny";
		char *rule = cg_device_rule_v1(d->type, d->major, d->minor, d->access);

		if (d->type == 'a' && strcmp(rule, "a") != 0) {
			free(rule);
			add_write(p, s->key, CG_DEVICES, false, xstrdup(file),
				  cg_device_rule_v1('c', d->major, d->minor, d->access), 0);
			rule = cg_device_rule_v1('b', d->major, d->minor, d->access);
		}
		add_write(p, s->key, CG_DEVICES, false, xstrdup(file), rule, 0);
	}
	return 0;
}

/* ---- the table ---- */

static const struct cg_setting settings[] = {
	/* key, controller, v2 file, v1 file, on v2 without a file, set?, value, render */
	{ "memory.limit", CG_MEMORY, "memory.max", "memory.limit_in_bytes", V2_HAS_FILE,
	  mem_limit_set, NULL, render_mem_limit },
	/* must follow memory.limit: see render_mem_limit */
	{ "memory.swap", CG_MEMORY, "memory.swap.max", "memory.memsw.limit_in_bytes", V2_HAS_FILE,
	  mem_swap_set, NULL, render_mem_swap },
	{ "memory.reservation", CG_MEMORY, "memory.low", "memory.soft_limit_in_bytes", V2_HAS_FILE,
	  mem_reservation_set, mem_reservation_value, NULL },
	/* v2 has no per-cgroup swappiness; runc ignores it silently, berth warns */
	{ "memory.swappiness", CG_MEMORY, NULL, "memory.swappiness", V2_WARN,
	  mem_swappiness_set, mem_swappiness_value, NULL },
	/* v2 cannot disable the OOM killer; runc ignores it */
	{ "memory.disableOOMKiller", CG_MEMORY, NULL, "memory.oom_control", V2_IGNORE,
	  mem_oom_set, mem_oom_value, NULL },
	{ "memory.kernel", CG_NONE, NULL, NULL, V2_HAS_FILE, mem_kernel_set, NULL, render_ignored },
	{ "memory.kernelTCP", CG_NONE, NULL, NULL, V2_HAS_FILE, mem_kernel_tcp_set, NULL, render_ignored },
	{ "memory.useHierarchy", CG_NONE, NULL, NULL, V2_HAS_FILE, mem_hierarchy_set, NULL,
	  render_ignored_quietly },
	{ "cpu.shares", CG_CPU, "cpu.weight", "cpu.shares", V2_HAS_FILE,
	  cpu_shares_set, cpu_shares_value, NULL },
	/* the period goes before the quota: see render_cpu_period */
	{ "cpu.period", CG_CPU, "cpu.max", "cpu.cfs_period_us", V2_HAS_FILE,
	  cpu_period_set, NULL, render_cpu_period },
	{ "cpu.quota", CG_CPU, "cpu.max", "cpu.cfs_quota_us", V2_HAS_FILE,
	  cpu_quota_set, NULL, render_cpu_quota },
	{ "cpu.burst", CG_CPU, "cpu.max.burst", "cpu.cfs_burst_us", V2_HAS_FILE,
	  cpu_burst_set, cpu_burst_value, NULL },
	/* v2 has no real-time group scheduling: a silent drop would let an RT
	 * workload run unbounded */
	{ "cpu.realtimePeriod", CG_CPU, NULL, "cpu.rt_period_us", V2_REJECT,
	  cpu_rt_period_set, cpu_rt_period_value, NULL },
	{ "cpu.realtimeRuntime", CG_CPU, NULL, "cpu.rt_runtime_us", V2_REJECT,
	  cpu_rt_runtime_set, cpu_rt_runtime_value, NULL },
	{ "cpu.idle", CG_CPU, "cpu.idle", "cpu.idle", V2_HAS_FILE,
	  cpu_idle_set, cpu_idle_value, NULL },
	{ "cpu.cpus", CG_CPUSET, "cpuset.cpus", "cpuset.cpus", V2_HAS_FILE,
	  cpu_cpus_set, cpu_cpus_value, NULL },
	{ "cpu.mems", CG_CPUSET, "cpuset.mems", "cpuset.mems", V2_HAS_FILE,
	  cpu_mems_set, cpu_mems_value, NULL },
	{ "pids.limit", CG_PIDS, "pids.max", "pids.max", V2_HAS_FILE,
	  pids_limit_set, pids_limit_value, NULL },
	{ "blockIO.weight", CG_IO, "io.bfq.weight", "blkio.weight", V2_HAS_FILE,
	  io_weight_set, NULL, render_io_weight },
	{ "blockIO.leafWeight", CG_IO, NULL, "blkio.leaf_weight", V2_WARN,
	  io_leaf_weight_set, io_leaf_weight_value, NULL },
	{ "blockIO.weightDevice", CG_IO, "io.bfq.weight", "blkio.weight_device", V2_HAS_FILE,
	  io_weight_device_set, NULL, render_io_weight_device },
	{ "blockIO.throttle", CG_IO, "io.max", "blkio.throttle.*_device", V2_HAS_FILE,
	  io_throttle_set, NULL, render_io_throttle },
	{ "hugepageLimits", CG_HUGETLB, "hugetlb.<size>.max", "hugetlb.<size>.limit_in_bytes",
	  V2_HAS_FILE, hugetlb_set, NULL, render_hugetlb },
	{ "rdma", CG_RDMA, "rdma.max", "rdma.max", V2_HAS_FILE, rdma_set, NULL, render_rdma },
	{ "network.classID", CG_NET_CLS, NULL, "net_cls.classid", V2_REJECT,
	  net_class_set, net_class_value, NULL },
	{ "network.priorities", CG_NET_PRIO, NULL, "net_prio.ifpriomap", V2_REJECT,
	  net_prio_set, NULL, render_net_prio },
	{ "unified", CG_NONE, "<key>", NULL, V2_HAS_FILE, unified_set, NULL, render_unified },
	{ "devices", CG_NONE, "(eBPF)", "devices.allow/deny", V2_HAS_FILE,
	  devices_set, NULL, render_devices },
};

static int unavailable(const struct cg_setting *s, berr_t *e)
{
	const char *v1 = cg_ctrl_v1_name(s->ctrl);

	if (!cg_ctrl_v2_name(s->ctrl))
		return berr_set(e, ENOTSUP, "linux.resources.%s: the %s controller is not available "
				"on this host (it exists only in cgroup v1, and no %s hierarchy "
				"is mounted)", s->key, v1, v1);
	return berr_set(e, ENOTSUP, "linux.resources.%s: the %s controller is not available "
			"on this host (neither cgroup v2 nor v1)", s->key, cg_ctrl_v2_name(s->ctrl));
}

static int plan_setting(const struct cg_setting *s, const struct cgroup_resources *r,
			const struct cg_host *h, struct cg_plan *p, berr_t *e)
{
	bool v2;

	if (s->ctrl == CG_NONE)
		return s->render(s, r, h, true, p, e);
	if (h->v2_mask & CG_BIT(s->ctrl))
		v2 = true;
	else if (h->v1_mask & CG_BIT(s->ctrl))
		v2 = false;
	else
		return unavailable(s, e);
	if (v2 && s->on_v2 == V2_REJECT)
		return berr_set(e, ENOTSUP, "linux.resources.%s: not supported by cgroup v2, which "
				"holds the %s controller on this host", s->key,
				cg_ctrl_v2_name(s->ctrl));
	if (v2 && s->on_v2 == V2_WARN) {
		log_warn("linux.resources.%s: cgroup v2 has no equivalent; ignored", s->key);
		return 0;
	}
	if (v2 && s->on_v2 == V2_IGNORE) {
		log_debug("linux.resources.%s: cgroup v2 has no equivalent; ignored", s->key);
		return 0;
	}
	if (v2)
		p->v2_needed |= CG_BIT(s->ctrl);
	if (s->render)
		return s->render(s, r, h, v2, p, e);
	add_write(p, s->key, s->ctrl, v2, xstrdup(file_of(s, v2)), s->value(r, v2), 0);
	return 0;
}

int cg_plan_resources(const struct cgroup_resources *r, const struct cg_host *h,
		      struct cg_plan *out, berr_t *e)
{
	struct cg_plan p = { 0 };

	if (r) {
		for (size_t i = 0; i < ARRAY_SIZE(settings); i++) {
			if (!settings[i].is_set(r))
				continue;
			if (plan_setting(&settings[i], r, h, &p, e) < 0) {
				cg_plan_free(&p);
				return -1;
			}
		}
	}
	*out = p;
	return 0;
}

void cg_plan_free(struct cg_plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->w[i].key);
		free(p->w[i].file);
		free(p->w[i].value);
		free(p->w[i].alt_file);
		free(p->w[i].alt_value);
	}
	free(p->w);
	memset(p, 0, sizeof *p);
}
