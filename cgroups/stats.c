/* cgroups/stats.c: the `data` object of `events --stats` in runc's shape (cpu,
 * memory, pids, blkio, hugetlb), read from cgroup v2 or else from v1 files. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroups/cgroups.h"
#include "cgroups/internal.h"
#include "common/json.h"
#include "common/util.h"

/* Where a controller's files are for this cgroup: its v2 directory when v2
 * holds the controller, else its v1 directory; NULL when neither. */
static const char *ctrl_dir(const struct cgroup *cg, enum cg_ctrl c, bool *v2)
{
	const struct cg_dir *d;

	*v2 = (cg->v2_avail & CG_BIT(c)) != 0;
	if (*v2)
		return cg->v2.path;
	d = cg_v1_dir(cg, c);
	return d ? d->path : NULL;
}

static char *read_text(const char *dir, const char *file)
{
	char *text = NULL;
	berr_t e = BERR_INIT;

	if (!dir || cg_read(dir, file, &text, &e) < 0) {
		berr_free(&e);
		return NULL;
	}
	return text;
}

/* A single number; "max" reads as UINT64_MAX. Missing or odd: 0. */
static uint64_t read_u64(const char *dir, const char *file)
{
	_cleanup_free_ char *text = read_text(dir, file);
	uint64_t v = 0;

	if (!text)
		return 0;
	if (!strcmp(text, "max"))
		return UINT64_MAX;
	parse_uint64(text, &v);
	return v;
}

static uint64_t kv(const char *text, const char *key)
{
	uint64_t v = 0;

	if (text)
		cg_kv_lookup(text, key, &v);
	return v;
}

/* ---- cpu ---- */

static void write_percpu(struct json_writer *w, const char *text)
{
	json_key(w, "percpu");
	json_begin_array(w);
	for (const char *p = text; p && *p;) {
		size_t len = strcspn(p, " \n");
		_cleanup_free_ char *num = xstrndup(p, len);
		uint64_t v;

		if (len && parse_uint64(num, &v))
			json_u64(w, v);
		p += len;
		p += strspn(p, " \n");
	}
	json_end_array(w);
}

static void write_cpu(const struct cgroup *cg, struct json_writer *w)
{
	const struct cg_dir *acct = cg_v1_dir(cg, CG_CPUACCT);
	bool v2;
	const char *dir = ctrl_dir(cg, CG_CPU, &v2);
	/* usage: cgroup v2's core cpu.stat has it whether or not the cpu
	 * controller is enabled; v1's cpuacct has the per-cpu split too. */
	_cleanup_free_ char *core = read_text(cg->v2.path, "cpu.stat");
	_cleanup_free_ char *throttle = v2 ? NULL : read_text(dir, "cpu.stat");

	json_key(w, "cpu");
	json_begin_map(w);
	json_key(w, "usage");
	json_begin_map(w);
	if (!v2 && acct) {
		_cleanup_free_ char *percpu = read_text(acct->path, "cpuacct.usage_percpu");
		_cleanup_free_ char *stat = read_text(acct->path, "cpuacct.stat");
		long hz = sysconf(_SC_CLK_TCK);
		uint64_t tick_ns = hz > 0 ? 1000000000ull / (uint64_t)hz : 10000000ull;

		json_kv_u64(w, "total", read_u64(acct->path, "cpuacct.usage"));
		write_percpu(w, percpu);
		json_kv_u64(w, "kernel", kv(stat, "system") * tick_ns);
		json_kv_u64(w, "user", kv(stat, "user") * tick_ns);
	} else {
		json_kv_u64(w, "total", kv(core, "usage_usec") * 1000);
		json_kv_u64(w, "kernel", kv(core, "system_usec") * 1000);
		json_kv_u64(w, "user", kv(core, "user_usec") * 1000);
	}
	json_end_map(w);
	json_key(w, "throttling");
	json_begin_map(w);
	if (v2) {
		json_kv_u64(w, "periods", kv(core, "nr_periods"));
		json_kv_u64(w, "throttledPeriods", kv(core, "nr_throttled"));
		json_kv_u64(w, "throttledTime", kv(core, "throttled_usec") * 1000);
	} else {
		json_kv_u64(w, "periods", kv(throttle, "nr_periods"));
		json_kv_u64(w, "throttledPeriods", kv(throttle, "nr_throttled"));
		json_kv_u64(w, "throttledTime", kv(throttle, "throttled_time"));
	}
	json_end_map(w);
	json_end_map(w);
}

/* ---- memory ---- */

static void write_entry(struct json_writer *w, const char *name, uint64_t limit,
			uint64_t usage, uint64_t max, uint64_t failcnt)
{
	json_key(w, name);
	json_begin_map(w);
	json_kv_u64(w, "limit", limit);
	json_kv_u64(w, "usage", usage);
	json_kv_u64(w, "max", max);
	json_kv_u64(w, "failcnt", failcnt);
	json_end_map(w);
}

static void write_raw_map(struct json_writer *w, const char *text)
{
	json_key(w, "raw");
	json_begin_map(w);
	for (const char *p = text; p && *p;) {
		size_t len = strcspn(p, "\n");
		_cleanup_free_ char *line = xstrndup(p, len);
		char *sp = strchr(line, ' ');
		uint64_t v;

		if (sp) {
			*sp = '\0';
			if (parse_uint64(sp + 1, &v))
				json_kv_u64(w, line, v);
		}
		p += len;
		p += strspn(p, "\n");
	}
	json_end_map(w);
}

static void write_memory(const struct cgroup *cg, struct json_writer *w)
{
	bool v2;
	const char *dir = ctrl_dir(cg, CG_MEMORY, &v2);
	_cleanup_free_ char *stat = read_text(dir, "memory.stat");

	json_key(w, "memory");
	json_begin_map(w);
	if (v2) {
		_cleanup_free_ char *events = read_text(dir, "memory.events");
		uint64_t usage = read_u64(dir, "memory.current"), limit = read_u64(dir, "memory.max");
		uint64_t swap = read_u64(dir, "memory.swap.current");
		uint64_t swap_limit = read_u64(dir, "memory.swap.max");

		json_kv_u64(w, "cache", kv(stat, "file"));
		write_entry(w, "usage", limit, usage, read_u64(dir, "memory.peak"),
			    kv(events, "max"));
		/* v1 reports swap as memory+swap; runc keeps that meaning on v2. */
		write_entry(w, "swap",
			    swap_limit == UINT64_MAX || limit == UINT64_MAX ? UINT64_MAX
									     : swap_limit + limit,
			    swap + usage, read_u64(dir, "memory.swap.peak"), kv(events, "max"));
	} else {
		json_kv_u64(w, "cache", kv(stat, "cache"));
		write_entry(w, "usage", read_u64(dir, "memory.limit_in_bytes"),
			    read_u64(dir, "memory.usage_in_bytes"),
			    read_u64(dir, "memory.max_usage_in_bytes"),
			    read_u64(dir, "memory.failcnt"));
		write_entry(w, "swap", read_u64(dir, "memory.memsw.limit_in_bytes"),
			    read_u64(dir, "memory.memsw.usage_in_bytes"),
			    read_u64(dir, "memory.memsw.max_usage_in_bytes"),
			    read_u64(dir, "memory.memsw.failcnt"));
	}
	write_raw_map(w, stat);
	json_end_map(w);
}

/* ---- pids ---- */

static void write_pids(const struct cgroup *cg, struct json_writer *w)
{
	bool v2;
	const char *dir = ctrl_dir(cg, CG_PIDS, &v2);
	uint64_t limit = read_u64(dir, "pids.max");

	json_key(w, "pids");
	json_begin_map(w);
	json_kv_u64(w, "current", read_u64(dir, "pids.current"));
	/* runc reports "max" as 0, no limit */
	json_kv_u64(w, "limit", limit == UINT64_MAX ? 0 : limit);
	json_end_map(w);
}

/* ---- blkio ---- */

static void blkio_entry(struct json_writer *w, uint64_t major, uint64_t minor,
			const char *op, uint64_t value)
{
	json_begin_map(w);
	json_kv_u64(w, "major", major);
	json_kv_u64(w, "minor", minor);
	json_kv_str(w, "op", op);
	json_kv_u64(w, "value", value);
	json_end_map(w);
}

/* io.stat: "MAJ:MIN rbytes=N wbytes=N rios=N wios=N dbytes=N dios=N" */
static void io_stat_entries(struct json_writer *w, const char *text, const char *rkey,
			    const char *wkey)
{
	for (const char *p = text; p && *p;) {
		size_t len = strcspn(p, "\n");
		_cleanup_free_ char *line = xstrndup(p, len);
		unsigned long long major, minor;
		const char *keys[2] = { rkey, wkey }, *ops[2] = { "Read", "Write" };

		p += len;
		p += strspn(p, "\n");
		if (sscanf(line, "%llu:%llu", &major, &minor) != 2)
			continue;
		for (int i = 0; i < 2; i++) {
			_cleanup_free_ char *needle = xasprintf(" %s=", keys[i]);
			const char *at = strstr(line, needle);
			uint64_t v = 0;

			if (at) {
				_cleanup_free_ char *num = xstrndup(at + strlen(needle),
					strcspn(at + strlen(needle), " "));

				parse_uint64(num, &v);
			}
			blkio_entry(w, major, minor, ops[i], v);
		}
	}
}

/* blkio.throttle.*_recursive: "MAJ:MIN Op N", then "Total N". */
static void v1_blkio_entries(struct json_writer *w, const char *text)
{
	for (const char *p = text; p && *p;) {
		size_t len = strcspn(p, "\n");
		_cleanup_free_ char *line = xstrndup(p, len);
		unsigned long long major, minor, value;
		char op[16];

		p += len;
		p += strspn(p, "\n");
		if (sscanf(line, "%llu:%llu %15s %llu", &major, &minor, op, &value) == 4)
			blkio_entry(w, major, minor, op, value);
	}
}

static void write_blkio(const struct cgroup *cg, struct json_writer *w)
{
	bool v2;
	const char *dir = ctrl_dir(cg, CG_IO, &v2);

	json_key(w, "blkio");
	json_begin_map(w);
	if (v2) {
		_cleanup_free_ char *stat = read_text(dir, "io.stat");

		json_key(w, "ioServiceBytesRecursive");
		json_begin_array(w);
		io_stat_entries(w, stat, "rbytes", "wbytes");
		json_end_array(w);
		json_key(w, "ioServicedRecursive");
		json_begin_array(w);
		io_stat_entries(w, stat, "rios", "wios");
		json_end_array(w);
	} else if (dir) {
		_cleanup_free_ char *bytes =
			read_text(dir, "blkio.throttle.io_service_bytes_recursive");
		_cleanup_free_ char *ios = read_text(dir, "blkio.throttle.io_serviced_recursive");

		json_key(w, "ioServiceBytesRecursive");
		json_begin_array(w);
		v1_blkio_entries(w, bytes);
		json_end_array(w);
		json_key(w, "ioServicedRecursive");
		json_begin_array(w);
		v1_blkio_entries(w, ios);
		json_end_array(w);
	}
	json_end_map(w);
}

/* ---- hugetlb ---- */

/* /sys/kernel/mm/hugepages/hugepages-2048kB -> "2MB", as the kernel names
 * the hugetlb.<size>.* files. */
static char *page_size_name(const char *dirname)
{
	uint64_t kb;
	_cleanup_free_ char *num = NULL;

	if (!str_has_prefix(dirname, "hugepages-") || !str_has_suffix(dirname, "kB"))
		return NULL;
	num = xstrndup(dirname + 10, strlen(dirname) - 12);
	if (!parse_uint64(num, &kb) || !kb)
		return NULL;
	if (kb % (1024 * 1024) == 0)
		return xasprintf("%lluGB", (unsigned long long)(kb / (1024 * 1024)));
	if (kb % 1024 == 0)
		return xasprintf("%lluMB", (unsigned long long)(kb / 1024));
	return xasprintf("%lluKB", (unsigned long long)kb);
}

static void write_hugetlb(const struct cgroup *cg, struct json_writer *w)
{
	bool v2;
	const char *dir = ctrl_dir(cg, CG_HUGETLB, &v2);
	DIR *d = dir ? opendir("/sys/kernel/mm/hugepages") : NULL;
	struct dirent *de;

	json_key(w, "hugetlb");
	json_begin_map(w);
	while (d && (de = readdir(d))) {
		_cleanup_free_ char *size = page_size_name(de->d_name);
		_cleanup_free_ char *f1 = NULL, *f2 = NULL, *f3 = NULL, *events = NULL;

		if (!size)
			continue;
		if (v2) {
			f1 = xasprintf("hugetlb.%s.current", size);
			f2 = xasprintf("hugetlb.%s.max", size);
			f3 = xasprintf("hugetlb.%s.events", size);
			events = read_text(dir, f3);
		} else {
			f1 = xasprintf("hugetlb.%s.usage_in_bytes", size);
			f2 = xasprintf("hugetlb.%s.max_usage_in_bytes", size);
			f3 = xasprintf("hugetlb.%s.failcnt", size);
		}
		json_key(w, size);
		json_begin_map(w);
		json_kv_u64(w, "usage", read_u64(dir, f1));
		json_kv_u64(w, "max", read_u64(dir, f2));
		json_kv_u64(w, "failcnt", v2 ? kv(events, "max") : read_u64(dir, f3));
		json_end_map(w);
	}
	if (d)
		closedir(d);
	json_end_map(w);
}

/* Missing files read as zero: a controller that is not enabled has nothing
 * to report, and `events --stats` should still print what it can. */
int cgroup_stats(struct cgroup *cg, struct json_writer *w, berr_t *e)
{
	if (access(cg->v2.path, F_OK) < 0)
		return berr_sys(e, "read the stats of cgroup \"%s\"", cg->v2.path);
	json_begin_map(w);
	write_cpu(cg, w);
	write_memory(cg, w);
	write_pids(cg, w);
	write_blkio(cg, w);
	write_hugetlb(cg, w);
	json_end_map(w);
	return 0;
}
