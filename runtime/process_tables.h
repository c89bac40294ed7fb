/* runtime/process_tables.h: name tables of the process section (rlimits,
 * schedulers, I/O classes) and sysctl rules, shared by validation and set-up. */
#ifndef BERTH_PROCESS_TABLES_H
#define BERTH_PROCESS_TABLES_H

#include <sched.h>
#include <stdbool.h>
#include <stdint.h>

#include "spec.h"

/* -1 when the name is unknown. */
int rlimit_from_name(const char *name);
int sched_policy_from_name(const char *name);
int ioprio_class_from_name(const char *name);
/* Each flag name must be known: returns -1 otherwise. */
int64_t sched_flags_from_names(char *const *names);
/* "0-3,6" -> set; -1 on a malformed list. */
int cpu_list_parse(const char *list, cpu_set_t *set);
/* "net.ipv4.ip_forward" -> "/proc/sys/net/ipv4/ip_forward"; malloc'd. */
char *sysctl_path(const char *key);
/* The namespace a sysctl belongs to, or -1 when it is not namespaced. */
int sysctl_namespace(const char *key);

#endif
