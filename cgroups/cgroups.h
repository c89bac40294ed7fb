/* cgroups/cgroups.h: the cgroup module's one interface: the resource model of
 * linux.resources, and a container's cgroup (v2, plus v1 controllers on hybrid hosts). */
#ifndef BERTH_CGROUPS_H
#define BERTH_CGROUPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <yajl/yajl_tree.h>

#include "common/error.h"
#include "common/optional.h"

struct json_writer;

/* ---- linux.resources ---- */

struct cg_device_rule {
	bool allow;
	char type;      /* 'a', 'c' or 'b' */
	int64_t major;  /* -1: any */
	int64_t minor;  /* -1: any */
	char access[4]; /* subset of "rwm" */
};

struct cg_weight_device {
	int64_t major, minor;
	opt_u64 weight, leaf_weight;
};

struct cg_throttle_device {
	int64_t major, minor;
	uint64_t rate;
};

struct cg_hugepage_limit {
	char *page_size; /* "2MB", "1GB" */
	uint64_t limit;
};

struct cg_rdma_limit {
	char *device;
	opt_u64 hca_handles, hca_objects;
};

struct cg_net_priority {
	char *name;
	uint32_t priority;
};

struct cgroup_resources {
	struct {
		opt_i64 limit, reservation, swap, kernel, kernel_tcp;
		opt_u64 swappiness;
		opt_bool disable_oom_killer, use_hierarchy, check_before_update;
	} memory;
	struct {
		opt_u64 shares, period, realtime_period, burst;
		opt_i64 quota, realtime_runtime, idle;
		char *cpus, *mems;
	} cpu;
	struct {
		opt_i64 limit;
	} pids;
	struct {
		opt_u64 weight, leaf_weight;
		struct cg_weight_device *weight_devices;
		size_t n_weight_devices;
		struct cg_throttle_device *throttle[4]; /* read bps, write bps, read iops, write iops */
		size_t n_throttle[4];
	} blkio;
	struct cg_hugepage_limit *hugepages;
	size_t n_hugepages;
	struct {
		opt_u64 class_id;
		struct cg_net_priority *priorities;
		size_t n_priorities;
	} network;
	struct cg_rdma_limit *rdma;
	size_t n_rdma;
	char **unified_keys, **unified_values; /* linux.resources.unified */
	struct cg_device_rule *devices;
	size_t n_devices;
};

enum { CG_THROTTLE_READ_BPS, CG_THROTTLE_WRITE_BPS, CG_THROTTLE_READ_IOPS,
       CG_THROTTLE_WRITE_IOPS };

/* Parse a LinuxResources object (linux.resources in config.json, or the
 * file given to `update -r`); `path` names it in errors. */
int cgroup_resources_parse(yajl_val v, const char *path,
			   struct cgroup_resources *out, berr_t *e);
void cgroup_resources_free(struct cgroup_resources *r);
/* True when r asks for any limit at all (a rootless container without a
 * delegated cgroup may only run when this is false). Device rules do not
 * count, nor do the ignored kernel, kernelTCP and useHierarchy. */
bool cgroup_resources_any(const struct cgroup_resources *r);

/* ---- a container's cgroup ---- */

struct cgroup; /* opaque */

struct cgroup_config {
	const char *id;           /* container id: default path berth/<id> */
	const char *path;         /* linux.cgroupsPath, may be NULL */
	const struct cgroup_resources *resources; /* may be NULL */
	bool rootless;            /* skip quietly when nothing writable is delegated */
	bool systemd;             /* --systemd-cgroup */
};

/* Create the cgroup (v2 and, on hybrid hosts, each needed v1 hierarchy) and
 * apply the resources, before any process is placed in it. *out is NULL and
 * 0 is returned when a rootless caller has no cgroup to use. */
int cgroup_create(const struct cgroup_config *cfg, struct cgroup **out, berr_t *e);
/* Place pid in every hierarchy of the cgroup. */
int cgroup_enter(struct cgroup *cg, pid_t pid, berr_t *e);
/* Place pid in the existing sub-cgroup `sub` of the container's v2 cgroup
 * (exec --cgroup); v1 hierarchies use the container's own cgroup. */
int cgroup_enter_sub(struct cgroup *cg, const char *sub, pid_t pid, berr_t *e);
/* The string saved in state.json that cgroup_open() turns back into a handle:
 * a compact JSON object of the absolute directories in every hierarchy. */
const char *cgroup_path(const struct cgroup *cg);
int cgroup_open(const char *saved_path, struct cgroup **out, berr_t *e);
/* Remove every hierarchy's directory (rmdir only, never a cgroup with
 * processes), retrying for up to 1 s while processes drain; also the empty
 * parents this cgroup owns (berth/ for the default path, those that create
 * made for a given path). Kills nothing: call cgroup_kill_all first. */
int cgroup_destroy(struct cgroup *cg, berr_t *e);
void cgroup_free(struct cgroup *cg);

/* Signal every process of the cgroup and its descendants: cgroup.kill for
 * SIGKILL, else pid by pid until no new process appears. */
int cgroup_kill_all(struct cgroup *cg, int signo, berr_t *e);
int cgroup_freeze(struct cgroup *cg, bool frozen, berr_t *e);
/* Is the cgroup frozen (cgroup.events frozen 1)? */
int cgroup_is_frozen(struct cgroup *cg, bool *frozen, berr_t *e);
/* Every pid in the cgroup and its descendants; malloc'd array. */
int cgroup_pids(struct cgroup *cg, pid_t **pids, size_t *n, berr_t *e);
int cgroup_update(struct cgroup *cg, const struct cgroup_resources *r, berr_t *e);
/* Write the stats object of `events --stats` (runc's shape) to w. */
int cgroup_stats(struct cgroup *cg, struct json_writer *w, berr_t *e);
/* The container's OOM-kill count (memory.events oom_kill, or v1's
 * memory.oom_control); 0 when there is no memory controller. */
int cgroup_oom_kills(struct cgroup *cg, uint64_t *count, berr_t *e);

#endif
