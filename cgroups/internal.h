/* cgroups/internal.h: what the files of cgroups/ share and nobody else uses:
 * controller names, the host's hierarchies, the resource -> file plan, eBPF. */
#ifndef BERTH_CGROUPS_INTERNAL_H
#define BERTH_CGROUPS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/bpf.h>

#include "cgroups/cgroups.h"
#include "common/error.h"

/* ---- controllers ---- */

enum cg_ctrl {
	CG_CPU,
	CG_CPUACCT, /* v1 only: cgroup v2 reports usage in the core cpu.stat */
	CG_CPUSET,
	CG_MEMORY,
	CG_PIDS,
	CG_IO,      /* "io" in v2, "blkio" in v1 */
	CG_HUGETLB,
	CG_RDMA,
	CG_NET_CLS, /* v1 only */
	CG_NET_PRIO,/* v1 only */
	CG_DEVICES, /* v1 only: v2 filters devices with eBPF */
	CG_FREEZER, /* v1 only: berth freezes through v2's core cgroup.freeze */
	CG_MISC,
	CG_CTRL_COUNT,
	CG_NONE = CG_CTRL_COUNT
};

#define CG_BIT(c) (1u << (c))

/* The name of a controller in v2 ("io") or v1 ("blkio"); NULL when the
 * controller has no such interface. */
const char *cg_ctrl_v2_name(enum cg_ctrl c);
const char *cg_ctrl_v1_name(enum cg_ctrl c);
/* A controller name to its enum; CG_NONE when berth does not manage it. */
enum cg_ctrl cg_ctrl_from_v2_name(const char *name);
enum cg_ctrl cg_ctrl_from_v1_name(const char *name);
/* "cpu cpuacct" -> mask (space or comma separated names); unknown ignored. */
uint32_t cg_v2_mask_parse(const char *list);
uint32_t cg_v1_mask_parse(const char *list);
/* The mask as "cpu,cpuacct" (v1 names); malloc'd. */
char *cg_v1_mask_format(uint32_t mask);

/* ---- the host: /proc/self/mountinfo and /proc/self/cgroup ---- */

struct cg_v1_mount {
	char *mountpoint;
	char *root;     /* the hierarchy path mounted there ("/" normally) */
	uint32_t mask;  /* controllers berth manages that are bound to it */
};

struct cg_mounts {
	char *v2_mountpoint; /* NULL: no cgroup2 mounted */
	char *v2_root;
	struct cg_v1_mount *v1;
	size_t n_v1;
};

int cg_mounts_parse(const char *mountinfo, struct cg_mounts *out, berr_t *e);
void cg_mounts_free(struct cg_mounts *m);

/* berth's own cgroup, as /proc/self/cgroup says. */
struct cg_self {
	char *v2_path;                 /* the "0::" line; NULL when absent */
	char *v1_paths[CG_CTRL_COUNT]; /* per controller; NULL when absent */
};

int cg_self_parse(const char *proc_self_cgroup, struct cg_self *out, berr_t *e);
void cg_self_free(struct cg_self *s);

/* Lexically clean a cgroupsPath: collapse "//" and ".", resolve "..", and
 * fail if the path would climb above its base (the hierarchy root for an
 * absolute path, berth's own cgroup for a relative one) or names the base
 * itself. *out has no leading or trailing '/'. */
int cg_clean_path(const char *path, char **out, bool *absolute, berr_t *e);

/* ---- a container's cgroup ---- */

/* One hierarchy's directory for the container. */
struct cg_dir {
	char *mount;    /* where the hierarchy is mounted */
	char *base;     /* the existing directory the relative part hangs from */
	char *path;     /* base + "/" + rel: the container's directory */
	uint32_t mask;  /* v1: controllers bound to this hierarchy */
	int created;    /* components of rel that cgroup_create made (rollback) */
	int owned;      /* trailing components cgroup_destroy removes when empty */
};

struct cgroup {
	struct cg_dir v2;
	uint32_t v2_avail;    /* controllers cgroup v2 offers to this cgroup */
	struct cg_dir *v1;
	size_t n_v1;
	char *rel;            /* the cleaned relative part, e.g. "berth/c1" */
	bool default_path;    /* rel is berth's own default "berth/<id>" */
	char *saved;          /* what cgroup_path() returns */
};

/* Fill cg's directories (nothing is created) from the parsed host state.
 * cgroups_path may be NULL: the default berth/<id> under berth's cgroup. */
int cg_resolve(const struct cg_mounts *m, const struct cg_self *self,
	       const char *cgroups_path, const char *id, struct cgroup *cg,
	       berr_t *e);
/* Free the members of cg (not cg itself). */
void cg_clear(struct cgroup *cg);
/* The v1 directory that holds controller c, or NULL. */
const struct cg_dir *cg_v1_dir(const struct cgroup *cg, enum cg_ctrl c);
uint32_t cg_v1_mask(const struct cgroup *cg);
/* The saved form of cg (JSON) and back. */
char *cg_serialize(const struct cgroup *cg);
int cg_deserialize(const char *text, struct cgroup *cg, berr_t *e);
/* The controllers the v2 hierarchy offers (the mount's cgroup.controllers):
 * berth enables them down to the container's cgroup itself. */
uint32_t cg_v2_available(const char *mount);

/* ---- the resource -> file plan ---- */

enum {
	/* ENOENT is not an error: the kernel may lack this file. */
	CGW_OPTIONAL = 1 << 0,
	/* On EINVAL, write the next entry first and then this one again (v1
	 * memory vs memsw, cfs period vs quota: which order the kernel accepts
	 * depends on the current values). */
	CGW_SWAP_ON_EINVAL = 1 << 1,
	/* value is the rest of a line whose first field is kept from the
	 * file's current content (cpu.max when only the period changes). */
	CGW_KEEP_FIRST_FIELD = 1 << 2,
};

struct cg_write {
	char *key;        /* below linux.resources, for errors ("memory.limit") */
	enum cg_ctrl ctrl;/* CG_NONE: a v2 core file */
	bool v2;          /* in the v2 directory, else in ctrl's v1 directory */
	char *file, *value;
	char *alt_file, *alt_value; /* tried when file does not exist */
	unsigned flags;
};

struct cg_plan {
	struct cg_write *w;
	size_t n;
	uint32_t v2_needed;     /* controllers to enable in v2 ancestors */
	bool bpf_devices;       /* install the device rules as eBPF (v2) */
};

/* Where each controller lives, for the planner. */
struct cg_host {
	uint32_t v2_mask, v1_mask;
};

/* Turn resources into the list of writes for this host, validating that
 * every requested limit has somewhere to go. Pure: no I/O. */
int cg_plan_resources(const struct cgroup_resources *r, const struct cg_host *h,
		      struct cg_plan *out, berr_t *e);
void cg_plan_free(struct cg_plan *p);

/* The conversions the table uses (exposed for the unit tests). */
uint64_t cg_shares_to_weight(uint64_t shares);
uint64_t cg_blkio_weight_to_io_weight(uint64_t weight);
/* runc's rules for memory.swap.max from the v1-style memory+swap value:
 * returns 1 and fills *out ("max" as -1) when something must be written,
 * 0 when memory.swap.max is left alone, -1 on an impossible combination. */
int cg_swap_v2(const opt_i64 *swap, const opt_i64 *limit, int64_t *out, berr_t *e);
/* A device rule in the v1 devices.allow/deny syntax ("c 1:3 rwm"). */
char *cg_device_rule_v1(char type, int64_t major, int64_t minor, const char *access);

/* Run a plan on cg: enable v2 controllers, write every file, devices. */
int cg_apply_plan(struct cgroup *cg, const struct cg_plan *p,
		  const struct cgroup_resources *r, berr_t *e);
/* Enable the controllers of mask in cgroup.subtree_control of every v2
 * ancestor of cg (from the mount down to cg's parent). */
int cg_enable_v2_controllers(const struct cgroup *cg, uint32_t mask, berr_t *e);

/* ---- eBPF device filter (cgroup v2) ---- */

/* Build a BPF_PROG_TYPE_CGROUP_DEVICE program: the last matching rule
 * decides, no match denies. Pure; *insns is malloc'd. */
void cg_bpf_build(const struct cg_device_rule *rules, size_t n,
		  struct bpf_insn **insns, size_t *n_insns);
/* Load the program for rules and attach it to the cgroup directory,
 * replacing the programs berth attached there before. */
int cg_bpf_apply(const char *cgroup_dir, const struct cg_device_rule *rules,
		 size_t n, berr_t *e);
/* Ids of the device programs attached directly to the cgroup. */
int cg_bpf_query(const char *cgroup_dir, uint32_t **ids, size_t *n, berr_t *e);

/* ---- small file helpers shared by the module ---- */

/* Read dir/file; the content without the trailing newline. */
int cg_read(const char *dir, const char *file, char **out, berr_t *e);
/* Write value to dir/file in one write(2). */
int cg_write(const char *dir, const char *file, const char *value, berr_t *e);
/* "key value" lines (cgroup.events, memory.stat, cpu.stat): find key. */
bool cg_kv_lookup(const char *text, const char *key, uint64_t *out);
/* Every pid in dir's cgroup.procs and in its descendants. */
int cg_collect_pids(const char *dir, pid_t **pids, size_t *n, berr_t *e);

#endif
