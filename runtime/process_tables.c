/* runtime/process_tables.c: name tables of the process section and the
 * rules that tell which sysctls a container may set. */
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "common/util.h"
#include "process_tables.h"

#ifndef SCHED_DEADLINE
#define SCHED_DEADLINE 6
#endif

struct name_value {
	const char *name;
	int value;
};

static int lookup(const struct name_value *t, size_t n, const char *name)
{
	for (size_t i = 0; name && i < n; i++)
		if (strcmp(t[i].name, name) == 0)
			return t[i].value;
	return -1;
}

static const struct name_value rlimits[] = {
	{"RLIMIT_AS", RLIMIT_AS},         {"RLIMIT_CORE", RLIMIT_CORE},
	{"RLIMIT_CPU", RLIMIT_CPU},       {"RLIMIT_DATA", RLIMIT_DATA},
	{"RLIMIT_FSIZE", RLIMIT_FSIZE},   {"RLIMIT_LOCKS", RLIMIT_LOCKS},
	{"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
	{"RLIMIT_NICE", RLIMIT_NICE},     {"RLIMIT_NOFILE", RLIMIT_NOFILE},
	{"RLIMIT_NPROC", RLIMIT_NPROC},   {"RLIMIT_RSS", RLIMIT_RSS},
	{"RLIMIT_RTPRIO", RLIMIT_RTPRIO}, {"RLIMIT_RTTIME", RLIMIT_RTTIME},
	{"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING}, {"RLIMIT_STACK", RLIMIT_STACK},
};

static const struct name_value sched_policies[] = {
	{"SCHED_OTHER", SCHED_OTHER}, {"SCHED_FIFO", SCHED_FIFO},
	{"SCHED_RR", SCHED_RR},       {"SCHED_BATCH", SCHED_BATCH},
	{"SCHED_ISO", 4},             {"SCHED_IDLE", SCHED_IDLE},
	{"SCHED_DEADLINE", SCHED_DEADLINE},
};

static const struct name_value sched_flags[] = {
	{"SCHED_FLAG_RESET_ON_FORK", 0x01}, {"SCHED_FLAG_RECLAIM", 0x02},
	{"SCHED_FLAG_DL_OVERRUN", 0x04},    {"SCHED_FLAG_KEEP_POLICY", 0x08},
	{"SCHED_FLAG_KEEP_PARAMS", 0x10},   {"SCHED_FLAG_UTIL_CLAMP_MIN", 0x20},
	{"SCHED_FLAG_UTIL_CLAMP_MAX", 0x40},
};

static const struct name_value ioprio_classes[] = {
	{"IOPRIO_CLASS_RT", 1}, {"IOPRIO_CLASS_BE", 2}, {"IOPRIO_CLASS_IDLE", 3},
};

int rlimit_from_name(const char *name)
{
	return lookup(rlimits, ARRAY_SIZE(rlimits), name);
}

int sched_policy_from_name(const char *name)
{
	return lookup(sched_policies, ARRAY_SIZE(sched_policies), name);
}

int ioprio_class_from_name(const char *name)
{
	return lookup(ioprio_classes, ARRAY_SIZE(ioprio_classes), name);
}

int64_t sched_flags_from_names(char *const *names)
{
	int64_t flags = 0;

	for (size_t i = 0; names && names[i]; i++) {
		int f = lookup(sched_flags, ARRAY_SIZE(sched_flags), names[i]);

		if (f < 0)
			return -1;
		flags |= f;
	}
	return flags;
}

int cpu_list_parse(const char *list, cpu_set_t *set)
{
	_cleanup_free_ char *copy = xstrdup(list);
	char *save = NULL;

	CPU_ZERO(set);
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *dash = strchr(tok, '-');
		uint64_t lo, hi;

		if (dash)
			*dash = '\0';
		if (!parse_uint64(tok, &lo) || (dash && !parse_uint64(dash + 1, &hi)))
			return -1;
		if (!dash)
			hi = lo;
		if (lo > hi || hi >= CPU_SETSIZE)
			return -1;
		for (uint64_t c = lo; c <= hi; c++)
			CPU_SET(c, set);
	}
	return CPU_COUNT(set) ? 0 : -1;
}

char *sysctl_path(const char *key)
{
	char *path = xasprintf("/proc/sys/%s", key);

	/* Dots separate levels unless the key already uses slashes (then dots
	 * are part of names such as interface "eth0.100"). */
	if (!strchr(key, '/'))
		for (char *p = path + strlen("/proc/sys/"); *p; p++)
			if (*p == '.')
				*p = '/';
	return path;
}

int sysctl_namespace(const char *key)
{
	static const char *const ipc_keys[] = {
		"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
		"kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced",
	};
	_cleanup_free_ char *k = xstrdup(key);

	for (char *p = k; *p; p++)
		if (*p == '/')
			*p = '.';
	for (size_t i = 0; i < ARRAY_SIZE(ipc_keys); i++)
		if (strcmp(k, ipc_keys[i]) == 0)
			return NS_IPC;
	if (str_has_prefix(k, "fs.mqueue."))
		return NS_IPC;
	if (str_has_prefix(k, "net."))
		return NS_NETWORK;
	if (!strcmp(k, "kernel.hostname") || !strcmp(k, "kernel.domainname"))
		return NS_UTS;
	return -1;
}
