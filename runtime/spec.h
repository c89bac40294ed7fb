/* runtime/spec.h: the OCI runtime-spec 1.x config (config.json) as typed
 * structs, and the parser that fills them with JSON-path errors. */
#ifndef BERTH_SPEC_H
#define BERTH_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <yajl/yajl_tree.h>

#include "cgroups/cgroups.h"
#include "common/error.h"
#include "common/idmap.h"
#include "common/optional.h"

/* -std=gnu11 predefines `linux` as 1, which would turn the member
 * `struct spec *->linux` below into a syntax error. */
#undef linux


struct spec_mount {
	char *destination; /* required */
	char *type;        /* may be NULL */
	char *source;      /* may be NULL */
	char **options;    /* NULL-terminated, may be NULL */
	struct id_mapping *uid_mappings, *gid_mappings; /* idmapped mounts */
	size_t n_uid_mappings, n_gid_mappings;
};

struct spec_rlimit {
	char *type; /* "RLIMIT_NOFILE" */
	uint64_t soft, hard;
};

struct spec_capabilities {
	/* each NULL-terminated; NULL when the set is absent */
	char **bounding, **effective, **inheritable, **permitted, **ambient;
};

struct spec_user {
	uint32_t uid, gid;
	opt_u64 umask;
	uint32_t *additional_gids;
	size_t n_additional_gids;
	char *username; /* windows; kept for completeness */
};

struct spec_scheduler {
	bool set;
	char *policy; /* "SCHED_OTHER", ... (required when set) */
	int32_t nice, priority;
	char **flags;
	uint64_t runtime, deadline, period;
};

struct spec_io_priority {
	bool set;
	char *class; /* "IOPRIO_CLASS_RT", "_BE", "_IDLE" */
	int32_t priority;
};

struct spec_cpu_affinity {
	char *initial, *final;
};

struct spec_process {
	bool terminal;
	bool has_console_size;
	uint32_t console_height, console_width;
	struct spec_user user;
	char **args; /* required, non-empty on Linux */
	char *command_line;
	char **env;
	char *cwd; /* required, absolute */
	struct spec_capabilities *capabilities; /* NULL when absent */
	struct spec_rlimit *rlimits;
	size_t n_rlimits;
	bool no_new_privileges;
	char *apparmor_profile;
	opt_i64 oom_score_adj;
	struct spec_scheduler scheduler;
	char *selinux_label;
	struct spec_io_priority io_priority;
	struct spec_cpu_affinity exec_cpu_affinity;
};

struct spec_hook {
	char *path; /* required, absolute */
	char **args;
	char **env;
	opt_i64 timeout; /* seconds, > 0 */
};

enum spec_hook_kind {
	HOOK_PRESTART,
	HOOK_CREATE_RUNTIME,
	HOOK_CREATE_CONTAINER,
	HOOK_START_CONTAINER,
	HOOK_POSTSTART,
	HOOK_POSTSTOP,
	HOOK_KIND_COUNT
};

struct spec_hooks {
	struct spec_hook *hooks[HOOK_KIND_COUNT];
	size_t n_hooks[HOOK_KIND_COUNT];
};

enum spec_ns_type {
	NS_PID,
	NS_NETWORK,
	NS_MOUNT,
	NS_IPC,
	NS_UTS,
	NS_USER,
	NS_CGROUP,
	NS_TIME,
	NS_TYPE_COUNT
};

struct spec_namespace {
	enum spec_ns_type type;
	char *path; /* NULL: create a new one */
};

struct spec_device {
	char type;  /* 'c', 'b', 'u' or 'p' */
	char *path; /* required, absolute in the container */
	int64_t major, minor;
	opt_u64 file_mode;
	opt_u64 uid, gid;
};

struct spec_time_offset {
	bool set;
	int64_t secs;
	uint32_t nanosecs;
};

struct spec_seccomp_arg {
	uint32_t index; /* 0..5 */
	uint64_t value, value_two;
	char *op; /* "SCMP_CMP_EQ", ... */
};

struct spec_seccomp_syscall {
	char **names;
	char *action;
	opt_u64 errno_ret;
	struct spec_seccomp_arg *args;
	size_t n_args;
};

struct spec_seccomp {
	char *default_action;
	opt_u64 default_errno_ret;
	char **architectures;
	char **flags;
	char *listener_path;
	char *listener_metadata;
	struct spec_seccomp_syscall *syscalls;
	size_t n_syscalls;
};

struct spec_personality {
	bool set;
	char *domain; /* "LINUX" or "LINUX32" */
	char **flags;
};

struct spec_net_device {
	char *host_name;      /* the key in linux.netDevices */
	char *container_name; /* may be NULL: keep the host name */
};

struct spec_intel_rdt {
	bool set;
	char *clos_id, *l3_cache_schema, *mem_bw_schema;
};

struct spec_linux {
	struct spec_namespace *namespaces;
	size_t n_namespaces;
	struct id_mapping *uid_mappings, *gid_mappings;
	size_t n_uid_mappings, n_gid_mappings;
	struct spec_time_offset time_monotonic, time_boottime;
	struct spec_device *devices;
	size_t n_devices;
	struct spec_net_device *net_devices;
	size_t n_net_devices;
	char *cgroups_path;
	struct cgroup_resources *resources; /* NULL when absent */
	struct spec_intel_rdt intel_rdt;
	char **sysctl_keys, **sysctl_values;
	struct spec_seccomp *seccomp; /* NULL when absent */
	char *rootfs_propagation;
	char **masked_paths;
	char **readonly_paths;
	char *mount_label;
	struct spec_personality personality;
};

struct spec {
	char *oci_version; /* required, "1.x.y" */
	struct {
		char *path; /* required */
		bool readonly;
	} root;
	struct spec_mount *mounts;
	size_t n_mounts;
	struct spec_process *process; /* NULL when absent (allowed by the spec for create) */
	char *hostname, *domainname;
	struct spec_hooks hooks;
	char **annotation_keys, **annotation_values;
	struct spec_linux *linux; /* NULL when absent */
	yajl_val vm;              /* the "vm" object, passed through when present */
	yajl_val tree;            /* the whole parsed document, owned */
};

/* Parse config.json text. `what` prefixes errors ("config.json"). */
int spec_parse(const char *text, const char *what, struct spec **out, berr_t *e);
/* Read and parse BUNDLE/config.json. */
int spec_load(const char *bundle, struct spec **out, berr_t *e);
void spec_free(struct spec *s);
#define _cleanup_spec_ __attribute__((cleanup(spec_freep)))
void spec_freep(struct spec **s);

/* Parse a process object (config.json's process, or `exec --process`). */
int spec_parse_process(yajl_val v, const char *path, struct spec_process **out,
		       berr_t *e);
void spec_process_free(struct spec_process *p);

/* Name <-> namespace type ("pid", "network", "mount", "ipc", "uts", "user",
 * "cgroup", "time"); spec_ns_from_name returns -1 when unknown. */
int spec_ns_from_name(const char *name);
const char *spec_ns_name(enum spec_ns_type t);
const char *spec_hook_name(enum spec_hook_kind k);

/* Set KEY=VALUE in a process's env, replacing KEY's previous value. */
void spec_process_setenv(struct spec_process *p, const char *kv);

/* Look up: the namespace entry of type t, or NULL. */
const struct spec_namespace *spec_find_ns(const struct spec *s, enum spec_ns_type t);
/* An annotation's value, or NULL. */
const char *spec_annotation(const struct spec *s, const char *key);

#endif
