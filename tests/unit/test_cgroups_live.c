/* tests/unit/test_cgroups_live.c: the cgroup module on this machine's kernel,
 * as root, under /berth-unit-<pid> in every hierarchy (and nowhere else); TAP. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroups/cgroups.h"
#include "cgroups/internal.h"
#include "common/json.h"
#include "common/util.h"
#include "tap.h"

static char base_name[64];       /* "berth-unit-<pid>" */
static struct cg_mounts mounts;  /* every hierarchy, for checks and cleanup */
static pid_t children[16];
static size_t n_children;
static bool enabled_root_hugetlb;

static void show_error(const berr_t *e)
{
	_cleanup_free_ char *text = berr_text(e);

	printf("#   error: %s\n", text);
}

static char *slurp(const char *dir, const char *file)
{
	char *text = NULL;
	berr_t e = BERR_INIT;

	if (cg_read(dir, file, &text, &e) < 0) {
		berr_free(&e);
		return NULL;
	}
	return text;
}

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static bool procs_has(const char *dir, pid_t pid)
{
	_cleanup_free_ char *procs = slurp(dir, "cgroup.procs");
	char needle[32];

	if (!procs)
		return false;
	for (char *line = strtok(procs, "\n"); line; line = strtok(NULL, "\n")) {
		snprintf(needle, sizeof needle, "%d", (int)pid);
		if (!strcmp(line, needle))
			return true;
	}
	return false;
}

static void sleep_ms(int ms)
{
	nanosleep(&(struct timespec){ ms / 1000, (ms % 1000) * 1000000L }, NULL);
}

/* ---- processes ---- */

/* Fork a child that runs body only once released: a process must not fork
 * while it is being moved between cgroups (its children would be left
 * half-moved), and a container's init is placed while it is blocked too. */
static pid_t spawn(void (*body)(void *), void *arg, int *gate)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		char c;

		close(p[1]);
		if (read(p[0], &c, 1) != 1)
			_exit(1);
		close(p[0]);
		body(arg);
		_exit(0);
	}
	close(p[0]);
	*gate = p[1];
	if (pid > 0 && n_children < ARRAY_SIZE(children))
		children[n_children++] = pid;
	return pid;
}

static void release(int gate)
{
	if (write(gate, "x", 1) != 1)
		printf("# release: %s\n", strerror(errno));
	close(gate);
}

static void sleeper(void *arg)
{
	for (;;)
		pause();
}

/* A workload that forks a sleeping child every few milliseconds. */
static void forker(void *arg)
{
	for (;;) {
		if (fork() == 0)
			for (;;)
				pause();
		sleep_ms(5);
	}
}

/* A reaped pid may be reused by anyone: never signal it again. */
static void forget_child(pid_t pid)
{
	for (size_t i = 0; i < n_children; i++) {
		if (children[i] == pid) {
			children[i] = children[--n_children];
			return;
		}
	}
}

/* Reap everything we are the subreaper of; true when nothing is left. */
static bool reap_all(int timeout_ms)
{
	for (int waited = 0;; waited += 10) {
		pid_t p;

		while ((p = waitpid(-1, NULL, WNOHANG)) > 0)
			forget_child(p);
		if (p < 0 && errno == ECHILD)
			return true;
		if (waited >= timeout_ms)
			return false;
		sleep_ms(10);
	}
}

/* ---- cleanup: only what this test made, only with rmdir ---- */

static void rmdir_tree(const char *dir)
{
	if (!exists(dir))
		return;
	for (int round = 0; round < 50 && exists(dir); round++) {
		/* deepest first: find sub-directories by walking with opendir */
		char *stack[256];
		size_t depth = 0;

		stack[depth++] = xstrdup(dir);
		while (depth) {
			char *d = stack[depth - 1];
			bool pushed = false;
			DIR *dh = opendir(d);
			struct dirent *de;

			while (dh && (de = readdir(dh))) {
				if (de->d_type == DT_DIR && strcmp(de->d_name, ".") &&
				    strcmp(de->d_name, "..") && depth < ARRAY_SIZE(stack)) {
					stack[depth++] = xasprintf("%s/%s", d, de->d_name);
					pushed = true;
					break;
				}
			}
			if (dh)
				closedir(dh);
			if (pushed)
				continue;
			if (rmdir(d) < 0 && errno != ENOENT)
				break;
			free(d);
			depth--;
		}
		while (depth)
			free(stack[--depth]);
		if (exists(dir))
			sleep_ms(20);
	}
}

static char *v2_dir(const char *rel)
{
	return xasprintf("%s/%s%s%s", mounts.v2_mountpoint, base_name, *rel ? "/" : "", rel);
}

static char *v1_dir(enum cg_ctrl c, const char *rel)
{
	for (size_t i = 0; i < mounts.n_v1; i++)
		if (mounts.v1[i].mask & CG_BIT(c))
			return xasprintf("%s/%s%s%s", mounts.v1[i].mountpoint, base_name,
					 *rel ? "/" : "", rel);
	return NULL;
}

/* Where controller c's files are for rel on this host: v2 when the v2
 * hierarchy offers it (pure v2), else its v1 hierarchy (hybrid). */
static char *ctrl_dir(enum cg_ctrl c, const char *rel, bool *v2)
{
	*v2 = (cg_v2_available(mounts.v2_mountpoint) & CG_BIT(c)) != 0;
	return *v2 ? v2_dir(rel) : v1_dir(c, rel);
}

static void cleanup(void)
{
	for (size_t i = 0; i < n_children; i++)
		kill(children[i], SIGKILL);
	if (mounts.v2_mountpoint) {
		_cleanup_free_ char *d = v2_dir("");
		_cleanup_free_ char *kill_file = xasprintf("%s/cgroup.kill", d);
		berr_t e = BERR_INIT;

		/* Whatever is left in our own cgroups is ours. */
		if (exists(d))
			write_file(kill_file, "1", 1, 0, 0, &e);
		berr_free(&e);
		reap_all(1000);
		rmdir_tree(d);
	}
	for (size_t i = 0; i < mounts.n_v1; i++) {
		_cleanup_free_ char *d = xasprintf("%s/%s", mounts.v1[i].mountpoint, base_name);

		rmdir_tree(d);
	}
	/* Give back the root's hugetlb if we enabled it and nobody else uses
	 * the v2 hierarchy meanwhile (the kernel refuses while it is in use). */
	if (enabled_root_hugetlb) {
		berr_t e = BERR_INIT;

		if (cg_write(mounts.v2_mountpoint, "cgroup.subtree_control", "-hugetlb", &e) < 0)
			printf("# left +hugetlb in the v2 root: %s\n", e.msg);
		berr_free(&e);
		enabled_root_hugetlb = false;
	}
	reap_all(0);
}

static void on_alarm(int sig)
{
	printf("not ok %d - watchdog: test took too long\n", ++n_tests);
	exit(1); /* atexit cleanup runs */
}

/* ---- tests ---- */

static struct cgroup_resources *resources(const char *json)
{
	struct cgroup_resources *r = xzalloc(sizeof *r);
	_cleanup_json_ yajl_val v = NULL;
	berr_t e = BERR_INIT;

	if (json_parse(json, "test", &v, &e) < 0 ||
	    cgroup_resources_parse(v, "linux.resources", r, &e) < 0) {
		show_error(&e);
		berr_free(&e);
		free(r);
		return NULL;
	}
	return r;
}

static void free_resources(struct cgroup_resources *r)
{
	cgroup_resources_free(r);
	free(r);
}

static struct cgroup *create(const char *rel, const char *json, berr_t *e)
{
	_cleanup_free_ char *path = xasprintf("/%s/%s", base_name, rel);
	struct cgroup_resources *r = json ? resources(json) : NULL;
	struct cgroup_config cfg = { .id = "unit", .path = path, .resources = r };
	struct cgroup *cg = NULL;

	cgroup_create(&cfg, &cg, e);
	if (r)
		free_resources(r);
	return cg;
}

/* Is rel present in no hierarchy at all? */
static bool gone_everywhere(const char *rel)
{
	_cleanup_free_ char *d2 = v2_dir(rel);
	bool gone = !exists(d2);

	for (size_t i = 0; i < mounts.n_v1; i++) {
		_cleanup_free_ char *d = xasprintf("%s/%s/%s", mounts.v1[i].mountpoint, base_name, rel);

		if (exists(d)) {
			printf("#   still there: %s\n", d);
			gone = false;
		}
	}
	return gone;
}

static void test_lifecycle(void)
{
	_cleanup_berr_ berr_t e = BERR_INIT;
	bool pids_v2, mem_v2, huge_v2;
	_cleanup_free_ char *v2 = v2_dir("c1");
	_cleanup_free_ char *pids_dir = ctrl_dir(CG_PIDS, "c1", &pids_v2);
	_cleanup_free_ char *mem_dir = ctrl_dir(CG_MEMORY, "c1", &mem_v2);
	_cleanup_free_ char *huge_dir = ctrl_dir(CG_HUGETLB, "c1", &huge_v2);
	bool huge = huge_dir && exists("/sys/kernel/mm/hugepages/hugepages-2048kB");
	struct cgroup *cg = create("c1", huge
		? "{\"pids\":{\"limit\":10},\"memory\":{\"limit\":67108864},"
		  "\"hugepageLimits\":[{\"pageSize\":\"2MB\",\"limit\":4194304}]}"
		: "{\"pids\":{\"limit\":10},\"memory\":{\"limit\":67108864}}", &e);
	struct cgroup *again = NULL;
	_cleanup_free_ char *text = NULL;
	pid_t child;
	int gate;
	bool frozen = true;

	if (!CHECK("create /berth-unit-<pid>/c1 with pids, memory, hugetlb limits", cg)) {
		show_error(&e);
		return;
	}
	CHECK("v2 directory exists", exists(v2));
	CHECK("pids and memory directories exist", pids_dir && exists(pids_dir) &&
		mem_dir && exists(mem_dir));
	text = slurp(pids_dir, "pids.max");
	CHECK(pids_v2 ? "pids.limit 10 lands in v2 pids.max" : "pids.limit 10 lands in v1 pids.max",
	      streq(text, "10"));
	free(text);
	text = slurp(mem_dir, mem_v2 ? "memory.max" : "memory.limit_in_bytes");
	CHECK(mem_v2 ? "memory limit 64M lands in v2 memory.max"
		     : "memory limit 64M lands in v1 memory.limit_in_bytes", streq(text, "67108864"));
	free(text);
	text = NULL;
	if (huge) {
		text = slurp(huge_dir, huge_v2 ? "hugetlb.2MB.max" : "hugetlb.2MB.limit_in_bytes");
		CHECK(huge_v2 ? "hugetlb limit lands in v2 hugetlb.2MB.max"
			      : "hugetlb limit lands in v1 hugetlb.2MB.limit_in_bytes",
		      streq(text, "4194304"));
		free(text);
		text = NULL;
	} else {
		printf("ok %d # skip no 2MB hugetlb here\n", ++n_tests);
	}

	child = spawn(sleeper, NULL, &gate);
	if (!CHECK("cgroup_enter", cgroup_enter(cg, child, &e) == 0))
		show_error(&e);
	release(gate);
	CHECK("pid in v2 cgroup.procs", procs_has(v2, child));
	CHECK("pid in the pids and memory cgroups' procs (v1 on hybrid hosts)",
	      procs_has(pids_dir, child) && procs_has(mem_dir, child));

	/* From here on, as another berth process would: through the saved form. */
	if (!CHECK("cgroup_open from cgroup_path", cgroup_open(cgroup_path(cg), &again, &e) == 0)) {
		show_error(&e);
		cgroup_free(cg);
		return;
	}
	cgroup_free(cg);
	cg = again;

	struct cgroup_resources *r = resources("{\"pids\":{\"limit\":20},\"memory\":{\"limit\":134217728,"
					       "\"swap\":268435456}}");

	if (!CHECK("cgroup_update pids and memory+swap", r && cgroup_update(cg, r, &e) == 0))
		show_error(&e);
	free_resources(r);
	text = slurp(pids_dir, "pids.max");
	CHECK("updated pids.max", streq(text, "20"));
	free(text);
	text = slurp(mem_dir, mem_v2 ? "memory.max" : "memory.limit_in_bytes");
	CHECK("updated memory limit (raised past the old memory+swap)", streq(text, "134217728"));
	free(text);
	text = slurp(mem_dir, mem_v2 ? "memory.swap.max" : "memory.memsw.limit_in_bytes");
	CHECK("updated swap limit (when the kernel accounts swap)",
	      !text || streq(text, mem_v2 ? "134217728" : "268435456"));
	free(text);
	text = NULL;

	/* Lower both, then raise both past the current memory+swap: the kernel
	 * wants memsw >= limit at every step, so the order has to flip. */
	r = resources("{\"memory\":{\"limit\":33554432,\"swap\":50331648},"
		      "\"cpu\":{\"quota\":50000,\"period\":100000}}");
	if (!CHECK("update: lower memory and swap, set cpu quota", r && cgroup_update(cg, r, &e) == 0))
		show_error(&e);
	free_resources(r);
	r = resources("{\"memory\":{\"limit\":209715200,\"swap\":314572800}}");
	if (!CHECK("update: raise memory past the current memory+swap", r &&
		   cgroup_update(cg, r, &e) == 0))
		show_error(&e);
	free_resources(r);
	text = slurp(mem_dir, mem_v2 ? "memory.max" : "memory.limit_in_bytes");
	CHECK("memory limit raised", streq(text, "209715200"));
	free(text);
	{
		bool cpu_v2;
		_cleanup_free_ char *cpu_dir = ctrl_dir(CG_CPU, "c1", &cpu_v2);

		text = slurp(cpu_dir, cpu_v2 ? "cpu.max" : "cpu.cfs_quota_us");
		CHECK("cpu quota applied", streq(text, cpu_v2 ? "50000 100000" : "50000"));
		free(text);
	}
	r = resources("{\"memory\":{\"limit\":134217728,\"swap\":268435456}}");
	cgroup_update(cg, r, &e);
	free_resources(r);
	text = NULL;

	if (!CHECK("freeze", cgroup_freeze(cg, true, &e) == 0))
		show_error(&e);
	text = slurp(v2, "cgroup.events");
	CHECK("cgroup.events says frozen 1", text && strstr(text, "frozen 1"));
	free(text);
	text = NULL;
	CHECK("cgroup_is_frozen true", cgroup_is_frozen(cg, &frozen, &e) == 0 && frozen);
	if (!CHECK("thaw", cgroup_freeze(cg, false, &e) == 0))
		show_error(&e);
	CHECK("cgroup_is_frozen false", cgroup_is_frozen(cg, &frozen, &e) == 0 && !frozen);

	pid_t *pids = NULL;
	size_t n = 0;

	CHECK("cgroup_pids lists the child", cgroup_pids(cg, &pids, &n, &e) == 0 && n == 1 &&
		pids[0] == child);
	free(pids);

	struct json_writer *w = json_writer_new();
	_cleanup_json_ yajl_val stats = NULL;

	if (!CHECK("cgroup_stats", cgroup_stats(cg, w, &e) == 0 &&
				   json_parse(json_writer_str(w), "stats", &stats, &e) == 0))
		show_error(&e);
	const char *pcur[] = { "pids", "current", NULL }, *plim[] = { "pids", "limit", NULL };
	const char *mlim[] = { "memory", "usage", "limit", NULL };
	const char *cpu[] = { "cpu", "usage", "total", NULL };
	const char *huge_path[] = { "hugetlb", "2MB", "max", NULL };
	yajl_val v;

	CHECK("stats: pids.current 1, limit 20",
	      (v = yajl_tree_get(stats, pcur, yajl_t_number)) && YAJL_GET_INTEGER(v) == 1 &&
	      (v = yajl_tree_get(stats, plim, yajl_t_number)) && YAJL_GET_INTEGER(v) == 20);
	CHECK("stats: memory limit",
	      (v = yajl_tree_get(stats, mlim, yajl_t_number)) && YAJL_GET_INTEGER(v) == 134217728);
	CHECK("stats: cpu usage present", yajl_tree_get(stats, cpu, yajl_t_number) != NULL);
	CHECK("stats: hugetlb 2MB", !huge || yajl_tree_get(stats, huge_path, yajl_t_number));
	printf("#   stats: %.300s...\n", json_writer_str(w));
	json_writer_free(w);

	uint64_t ooms = 99;

	CHECK("oom kills 0", cgroup_oom_kills(cg, &ooms, &e) == 0 && ooms == 0);

	/* A workload that keeps forking, killed through cgroup.kill. */
	pid_t fk = spawn(forker, NULL, &gate);

	cgroup_enter(cg, fk, &e);
	release(gate);
	sleep_ms(60);
	CHECK("the forking workload made children", cgroup_pids(cg, &pids, &n, &e) == 0 && n > 3);
	free(pids);
	if (!CHECK("cgroup_kill_all SIGKILL", cgroup_kill_all(cg, SIGKILL, &e) == 0))
		show_error(&e);
	reap_all(2000);
	CHECK("nothing left after SIGKILL", cgroup_pids(cg, &pids, &n, &e) == 0 && n == 0);
	free(pids);

	/* And by walking cgroup.procs, for a signal other than SIGKILL. */
	fk = spawn(forker, NULL, &gate);
	cgroup_enter(cg, fk, &e);
	release(gate);
	sleep_ms(40);
	if (!CHECK("cgroup_kill_all SIGTERM walks the pids", cgroup_kill_all(cg, SIGTERM, &e) == 0))
		show_error(&e);
	reap_all(2000);
	CHECK("nothing left after SIGTERM", cgroup_pids(cg, &pids, &n, &e) == 0 && n == 0);
	free(pids);

	if (!CHECK("cgroup_destroy", cgroup_destroy(cg, &e) == 0))
		show_error(&e);
	CHECK("no c1 directory left in any hierarchy", gone_everywhere("c1"));
	CHECK("the parent it created is gone too", gone_everywhere(""));
	cgroup_free(cg);
}

static void test_failures(void)
{
	_cleanup_berr_ berr_t e = BERR_INIT;
	struct cgroup *cg;

	cg = create("bad/c2", "{\"cpu\":{\"cpus\":\"4095\"},\"pids\":{\"limit\":5}}", &e);
	CHECK("create with an impossible cpuset fails", !cg && e.msg &&
		strstr(e.msg, "linux.resources.cpu.cpus"));
	printf("#   %s\n", e.msg ? e.msg : "");
	CHECK("a failed create leaves nothing behind", gone_everywhere("bad") && gone_everywhere(""));
	cgroup_free(cg);
	berr_free(&e);

	cg = create("c3", "{\"rdma\":{\"mlx5_1\":{\"hcaHandles\":3}}}", &e);
	CHECK("rdma fails naming the controller", !cg && streq(e.msg,
		"linux.resources.rdma: the rdma controller is not available on this host "
		"(neither cgroup v2 nor v1)"));
	CHECK("nothing created for it", gone_everywhere("c3"));
	cgroup_free(cg);
}

/* A parent that exists before create is someone else's: destroy keeps it. */
static void test_foreign_parent(void)
{
	_cleanup_berr_ berr_t e = BERR_INIT;
	_cleanup_free_ char *v2 = v2_dir("mine");
	struct cgroup *cg;

	mkdir_p(v2, 0755, &e);
	for (size_t i = 0; i < mounts.n_v1; i++) {
		_cleanup_free_ char *d = xasprintf("%s/%s/mine", mounts.v1[i].mountpoint, base_name);

		mkdir_p(d, 0755, &e);
		if (mounts.v1[i].mask & CG_BIT(CG_CPUSET)) {
			/* a usable cpuset, as its owner would have made it */
			_cleanup_free_ char *top = xasprintf("%s/%s", mounts.v1[i].mountpoint, base_name);
			_cleanup_free_ char *cpus = slurp(mounts.v1[i].mountpoint, "cpuset.cpus");
			_cleanup_free_ char *mems = slurp(mounts.v1[i].mountpoint, "cpuset.mems");

			cg_write(top, "cpuset.cpus", cpus, &e);
			cg_write(top, "cpuset.mems", mems, &e);
			cg_write(d, "cpuset.cpus", cpus, &e);
			cg_write(d, "cpuset.mems", mems, &e);
		}
	}
	berr_free(&e);
	cg = create("mine/c5", "{\"pids\":{\"limit\":5}}", &e);
	if (!CHECK("create under an existing parent", cg)) {
		show_error(&e);
		return;
	}
	if (!CHECK("destroy it", cgroup_destroy(cg, &e) == 0))
		show_error(&e);
	CHECK("the leaf is gone", gone_everywhere("mine/c5"));
	CHECK("the parent berth did not create is still there", exists(v2));
	cgroup_free(cg);
	cleanup();
}

static void test_systemd(void)
{
	_cleanup_berr_ berr_t e = BERR_INIT;
	struct cgroup_config cfg = { .id = "x", .path = "/berth-unit-never", .systemd = true };
	struct cgroup *cg = NULL;

	if (exists("/run/systemd/system")) {
		printf("ok %d # skip systemd is running here\n", ++n_tests);
		return;
	}
	CHECK("--systemd-cgroup without systemd fails clearly", cgroup_create(&cfg, &cg, &e) < 0 &&
		!cg && streq(e.msg, "systemd cgroup driver requested but systemd is not running"));
}

/* The eBPF device filter, on a v2 cgroup of this host. */
struct probe {
	int go, result;
};

static void device_prober(void *arg)
{
	struct probe *p = arg;
	char c;

	while (read(p->go, &c, 1) == 1) {
		int fd_null = open("/dev/null", O_RDONLY | O_CLOEXEC);
		int err_null = fd_null < 0 ? errno : 0;
		int fd_zero = open("/dev/zero", O_RDONLY | O_CLOEXEC);
		int err_zero = fd_zero < 0 ? errno : 0;
		int res[2] = { err_null, err_zero };

		if (fd_null >= 0)
			close(fd_null);
		if (fd_zero >= 0)
			close(fd_zero);
		if (write(p->result, res, sizeof res) != sizeof res)
			_exit(1);
	}
}

static bool probe(int go, int result, int *err_null, int *err_zero)
{
	int res[2];

	if (write(go, "x", 1) != 1 || read(result, res, sizeof res) != sizeof res)
		return false;
	*err_null = res[0];
	*err_zero = res[1];
	return true;
}

static void test_bpf_devices(void)
{
	_cleanup_berr_ berr_t e = BERR_INIT;
	struct cgroup *cg = create("dev", NULL, &e);
	_cleanup_free_ char *v2 = v2_dir("dev");
	int go[2], result[2], err_null = -1, err_zero = -1;
	uint32_t *ids = NULL;
	size_t n_ids = 0;
	const struct cg_device_rule only_null[] = {
		{ false, 'a', -1, -1, "rwm" },
		{ true, 'c', 1, 3, "rwm" },
	};
	const struct cg_device_rule null_and_zero[] = {
		{ false, 'a', -1, -1, "rwm" },
		{ true, 'c', 1, 3, "rwm" },
		{ true, 'c', 1, 5, "r" },
	};

	if (!CHECK("create a cgroup for the eBPF filter", cg)) {
		show_error(&e);
		return;
	}
	if (pipe2(go, O_CLOEXEC) < 0 || pipe2(result, O_CLOEXEC) < 0)
		return;

	struct probe p = { go[0], result[1] };
	int gate;
	pid_t child = spawn(device_prober, &p, &gate);

	cgroup_enter(cg, child, &e);
	release(gate);
	if (!CHECK("attach eBPF filter allowing /dev/null only",
		   cg_bpf_apply(v2, only_null, ARRAY_SIZE(only_null), &e) == 0))
		show_error(&e);
	CHECK("/dev/null opens, /dev/zero is EPERM", probe(go[1], result[0], &err_null, &err_zero) &&
		err_null == 0 && err_zero == EPERM);
	if (!CHECK("replace it with one allowing /dev/zero too",
		   cg_bpf_apply(v2, null_and_zero, ARRAY_SIZE(null_and_zero), &e) == 0))
		show_error(&e);
	CHECK("/dev/zero opens now", probe(go[1], result[0], &err_null, &err_zero) &&
		err_null == 0 && err_zero == 0);
	CHECK("exactly one program attached after the replacement",
	      cg_bpf_query(v2, &ids, &n_ids, &e) == 0 && n_ids == 1);
	free(ids);
	close(go[1]);
	close(go[0]);
	close(result[0]);
	close(result[1]);
	kill(child, SIGKILL);
	reap_all(2000);
	if (!CHECK("destroy the eBPF cgroup", cgroup_destroy(cg, &e) == 0))
		show_error(&e);
	CHECK("nothing left of it", gone_everywhere("dev"));
	cgroup_free(cg);
}

int main(void)
{
	_cleanup_free_ char *mountinfo = NULL;
	_cleanup_free_ char *subtree = NULL;
	berr_t e = BERR_INIT;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (geteuid() != 0) {
		printf("ok 1 # skip not root\n1..1\n");
		return 0;
	}
	if (read_file("/proc/self/mountinfo", &mountinfo, NULL, &e) < 0 ||
	    cg_mounts_parse(mountinfo, &mounts, &e) < 0 || !mounts.v2_mountpoint) {
		printf("ok 1 # skip no cgroup v2 here\n1..1\n");
		berr_free(&e);
		return 0;
	}
	snprintf(base_name, sizeof base_name, "berth-unit-%d", (int)getpid());
	/* Grandchildren of the forking workloads are reparented to us. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	atexit(cleanup);
	signal(SIGALRM, on_alarm);
	alarm(120);

	/* The hugetlb check needs hugetlb enabled in the v2 root. */
	subtree = slurp(mounts.v2_mountpoint, "cgroup.subtree_control");
	enabled_root_hugetlb = subtree && !strstr(subtree, "hugetlb") &&
			       (cg_v2_available(mounts.v2_mountpoint) & CG_BIT(CG_HUGETLB));

	test_lifecycle();
	test_failures();
	test_foreign_parent();
	test_systemd();
	test_bpf_devices();
	cleanup();
	CHECK("no berth-unit directory left anywhere", gone_everywhere(""));
	return tap_done();
}
