/* runtime/cmd_update.c: `berth update [flags | -r FILE] ID`: change a running
 * container's resources. Flags become a LinuxResources object so that both
 * go through the one parser of cgroups/. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "common/json.h"
#include "common/util.h"
#include "container.h"

/* "512m", "1G", "1024" -> bytes; -1 stays -1 (unlimited). */
static int parse_bytes(const char *s, int64_t *out)
{
	char *end;
	long long v;
	int64_t mult = 1;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s)
		return -1;
	switch (*end) {
	case 'k': case 'K': mult = 1ll << 10; end++; break;
	case 'm': case 'M': mult = 1ll << 20; end++; break;
	case 'g': case 'G': mult = 1ll << 30; end++; break;
	case 't': case 'T': mult = 1ll << 40; end++; break;
	}
	if (*end == 'b' || *end == 'B')
		end++;
	if (*end || (v != -1 && v < 0))
		return -1;
	*out = v == -1 ? -1 : v * mult;
	return 0;
}

struct update_flags {
	const char *memory, *memory_swap, *memory_reservation;
	const char *cpu_quota, *cpu_period, *cpu_share, *cpu_weight, *cpu_burst;
	const char *cpu_rt_period, *cpu_rt_runtime, *cpuset_cpus, *cpuset_mems;
	const char *pids_limit, *blkio_weight;
};

static int number(const char *flag, const char *v, bool bytes, int64_t *out, berr_t *e)
{
	if ((bytes ? parse_bytes(v, out) : (parse_int64(v, out) ? 0 : -1)) < 0)
		return berr_set(e, EINVAL, "--%s: invalid value \"%s\"", flag, v);
	return 0;
}

static int kv_number(struct json_writer *w, const char *key, const char *flag, const char *v,
		     bool bytes, berr_t *e)
{
	int64_t n;

	if (number(flag, v, bytes, &n, e) < 0)
		return -1;
	json_kv_i64(w, key, n);
	return 0;
}

/* Build the resources object from the flags; NULL when no flag was given. */
static char *flags_to_json(const struct update_flags *f, berr_t *e)
{
	struct json_writer *w = json_writer_new();
	bool any = false;
	int r = 0;
	char *out;

	json_begin_map(w);
	if (f->memory || f->memory_swap || f->memory_reservation) {
		any = true;
		json_key(w, "memory");
		json_begin_map(w);
		if (f->memory)
			r |= kv_number(w, "limit", "memory", f->memory, true, e);
		if (f->memory_swap)
			r |= kv_number(w, "swap", "memory-swap", f->memory_swap, true, e);
		if (f->memory_reservation)
			r |= kv_number(w, "reservation", "memory-reservation", f->memory_reservation, true, e);
		json_end_map(w);
	}
	if (f->cpu_quota || f->cpu_period || f->cpu_share || f->cpu_burst || f->cpu_rt_period ||
	    f->cpu_rt_runtime || f->cpuset_cpus || f->cpuset_mems) {
		any = true;
		json_key(w, "cpu");
		json_begin_map(w);
		if (f->cpu_quota)
			r |= kv_number(w, "quota", "cpu-quota", f->cpu_quota, false, e);
		if (f->cpu_period)
			r |= kv_number(w, "period", "cpu-period", f->cpu_period, false, e);
		if (f->cpu_share)
			r |= kv_number(w, "shares", "cpu-share", f->cpu_share, false, e);
		if (f->cpu_burst)
			r |= kv_number(w, "burst", "cpu-burst", f->cpu_burst, false, e);
		if (f->cpu_rt_period)
			r |= kv_number(w, "realtimePeriod", "cpu-rt-period", f->cpu_rt_period, false, e);
		if (f->cpu_rt_runtime)
			r |= kv_number(w, "realtimeRuntime", "cpu-rt-runtime", f->cpu_rt_runtime, false, e);
		if (f->cpuset_cpus)
			json_kv_str(w, "cpus", f->cpuset_cpus);
		if (f->cpuset_mems)
			json_kv_str(w, "mems", f->cpuset_mems);
		json_end_map(w);
	}
	if (f->pids_limit) {
		any = true;
		json_key(w, "pids");
		json_begin_map(w);
		r |= kv_number(w, "limit", "pids-limit", f->pids_limit, false, e);
		json_end_map(w);
	}
	if (f->blkio_weight) {
		any = true;
		json_key(w, "blockIO");
		json_begin_map(w);
		r |= kv_number(w, "weight", "blkio-weight", f->blkio_weight, false, e);
		json_end_map(w);
	}
	/* cgroup v2's own unit: passed through as cpu.weight. */
	if (f->cpu_weight) {
		int64_t n;

		any = true;
		r |= number("cpu-weight", f->cpu_weight, false, &n, e);
		json_key(w, "unified");
		json_begin_map(w);
		json_kv_str(w, "cpu.weight", f->cpu_weight);
		json_end_map(w);
	}
	json_end_map(w);
	out = any && r == 0 ? xstrdup(json_writer_str(w)) : NULL;
	json_writer_free(w);
	return out;
}

static char *read_resources(const char *path, berr_t *e)
{
	char *text = NULL;

	if (strcmp(path, "-") == 0) {
		if (read_file("/dev/stdin", &text, NULL, e) < 0)
			return NULL;
	} else if (read_file(path, &text, NULL, e) < 0) {
		return NULL;
	}
	return text;
}

int cmd_update(struct global_opts *g, int argc, char **argv)
{
	struct update_flags f = {0};
	const char *resources = NULL;
	const struct cli_opt opts[] = {
		{"resources", 'r', CLI_STRING, &resources},
		{"memory", 'm', CLI_STRING, &f.memory},
		{"memory-swap", 0, CLI_STRING, &f.memory_swap},
		{"memory-reservation", 0, CLI_STRING, &f.memory_reservation},
		{"cpu-quota", 0, CLI_STRING, &f.cpu_quota},
		{"cpu-period", 0, CLI_STRING, &f.cpu_period},
		{"cpu-share", 0, CLI_STRING, &f.cpu_share},
		{"cpu-shares", 0, CLI_STRING, &f.cpu_share},
		{"cpu-weight", 0, CLI_STRING, &f.cpu_weight},
		{"cpu-burst", 0, CLI_STRING, &f.cpu_burst},
		{"cpu-rt-period", 0, CLI_STRING, &f.cpu_rt_period},
		{"cpu-rt-runtime", 0, CLI_STRING, &f.cpu_rt_runtime},
		{"cpuset-cpus", 0, CLI_STRING, &f.cpuset_cpus},
		{"cpuset-mems", 0, CLI_STRING, &f.cpuset_mems},
		{"pids-limit", 0, CLI_STRING, &f.pids_limit},
		{"blkio-weight", 0, CLI_STRING, &f.blkio_weight},
		{0},
	};
	_cleanup_free_ char **pos = NULL;
	_cleanup_free_ char *json = NULL, *from_flags = NULL;
	berr_t e = BERR_INIT;
	int npos;

	if (cli_parse(argc, argv, opts, 0, &pos, &npos, &e) < 0)
		return cli_fail(&e, "update");
	if (npos != 1) {
		cli_usage(&e, "update", "[--resources FILE | --memory N --pids-limit N ...] ID");
		return cli_fail(&e, NULL);
	}
	from_flags = flags_to_json(&f, &e);
	if (e.msg)
		return cli_fail(&e, "update %s", pos[0]);
	if (resources && from_flags) {
		berr_set(&e, EINVAL, "--resources and resource flags cannot be combined");
		return cli_fail(&e, "update %s", pos[0]);
	}
	json = resources ? read_resources(resources, &e) : steal_ptr(from_flags);
	if (!json) {
		if (!e.msg)
			berr_set(&e, EINVAL, "nothing to update: give --resources or a resource flag");
		return cli_fail(&e, "update %s", pos[0]);
	}
	if (container_update(g->root, pos[0], json,
			     !resources ? "flags" : strcmp(resources, "-") ? resources : "stdin", &e) < 0)
		return cli_fail(&e, "update %s", pos[0]);
	return 0;
}
