/* tests/unit/test_cgroups_parse.c: cgroups/ without privileges: parsing, the
 * resource -> file table, conversions, paths, the eBPF program; prints TAP. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroups/cgroups.h"
#include "cgroups/internal.h"
#include "common/json.h"
#include "common/util.h"
#include "tap.h"

static bool contains(const char *s, const char *needle)
{
	return s && strstr(s, needle);
}

/* JSON in C with ' for ". */
static char *json_text(const char *s)
{
	char *t = xstrdup(s);

	for (char *p = t; *p; p++)
		if (*p == '\'')
			*p = '"';
	return t;
}

static int parse(const char *json, struct cgroup_resources *r, berr_t *e)
{
	_cleanup_free_ char *text = json_text(json);
	_cleanup_json_ yajl_val v = NULL;

	if (json_parse(text, "test", &v, e) < 0)
		return -1;
	return cgroup_resources_parse(v, "linux.resources", r, e);
}

/* The error message of parsing json, or NULL when it parses. */
static char *parse_error(const char *json)
{
	struct cgroup_resources r;
	_cleanup_berr_ berr_t e = BERR_INIT;

	if (parse(json, &r, &e) < 0)
		return xstrdup(e.msg ? e.msg : "(no message)");
	cgroup_resources_free(&r);
	return NULL;
}

static void expect_error(const char *name, const char *json, const char *msg)
{
	_cleanup_free_ char *err = parse_error(json);

	if (!CHECK(name, streq(err, msg)))
		printf("#   got: %s\n#   want: %s\n", err ? err : "(success)", msg);
}

/* ---- parsing ---- */

static void test_parse_full(void)
{
	struct cgroup_resources r;
	_cleanup_berr_ berr_t e = BERR_INIT;
	int ret = parse("{'memory':{'limit':67108864,'reservation':-1,'swap':134217728,"
			"'swappiness':10,'disableOOMKiller':true,'kernel':null,'unknown':1},"
			"'cpu':{'shares':1024,'quota':50000,'period':100000,'burst':1000,"
			"'cpus':'0-1','mems':'','idle':1,'realtimeRuntime':-5},"
			"'pids':{'limit':2048},"
			"'blockIO':{'weight':500,'weightDevice':[{'major':8,'minor':0,'weight':300}],"
			"'throttleReadBpsDevice':[{'major':8,'minor':0,'rate':1048576}]},"
			"'hugepageLimits':[{'pageSize':'2MB','limit':4194304}],"
			"'network':{'classID':1048577,'priorities':[{'name':'eth0','priority':5}]},"
			"'rdma':{'mlx5_1':{'hcaHandles':3,'hcaObjects':10000}},"
			"'unified':{'memory.high':'100000'},"
			"'devices':[{'allow':false,'access':'rwm'},"
			"{'allow':true,'type':'c','major':1,'minor':3,'access':'rw'}],"
			"'futureField':{'x':1}}", &r, &e);

	if (!CHECK("parse a full resources object", ret == 0)) {
		printf("#   %s\n", e.msg);
		return;
	}
	CHECK("memory.limit", r.memory.limit.set && r.memory.limit.v == 67108864);
	CHECK("memory.reservation -1", r.memory.reservation.set && r.memory.reservation.v == -1);
	CHECK("memory.kernel null is absent", !r.memory.kernel.set);
	CHECK("memory.swappiness", r.memory.swappiness.set && r.memory.swappiness.v == 10);
	CHECK("memory.disableOOMKiller", r.memory.disable_oom_killer.set &&
					 r.memory.disable_oom_killer.v);
	CHECK("cpu.shares/quota/period", r.cpu.shares.v == 1024 && r.cpu.quota.v == 50000 &&
					 r.cpu.period.v == 100000);
	CHECK("cpu.cpus, empty mems is absent", streq(r.cpu.cpus, "0-1") && !r.cpu.mems);
	CHECK("cpu.realtimeRuntime is signed", r.cpu.realtime_runtime.v == -5);
	CHECK("pids.limit", r.pids.limit.set && r.pids.limit.v == 2048);
	CHECK("blockIO", r.blkio.weight.v == 500 && r.blkio.n_weight_devices == 1 &&
			 r.blkio.weight_devices[0].weight.v == 300 &&
			 !r.blkio.weight_devices[0].leaf_weight.set &&
			 r.blkio.n_throttle[CG_THROTTLE_READ_BPS] == 1 &&
			 r.blkio.throttle[CG_THROTTLE_READ_BPS][0].rate == 1048576);
	CHECK("hugepageLimits", r.n_hugepages == 1 && streq(r.hugepages[0].page_size, "2MB") &&
				r.hugepages[0].limit == 4194304);
	CHECK("network", r.network.class_id.v == 1048577 && r.network.n_priorities == 1 &&
			 streq(r.network.priorities[0].name, "eth0"));
	CHECK("rdma", r.n_rdma == 1 && streq(r.rdma[0].device, "mlx5_1") &&
		      r.rdma[0].hca_handles.v == 3 && r.rdma[0].hca_objects.v == 10000);
	CHECK("unified", streq(r.unified_keys[0], "memory.high") &&
			 streq(r.unified_values[0], "100000") && !r.unified_keys[1]);
	CHECK("devices: defaults type a, any major/minor", r.n_devices == 2 &&
		!r.devices[0].allow && r.devices[0].type == 'a' && r.devices[0].major == -1 &&
		r.devices[0].minor == -1 && streq(r.devices[0].access, "rwm"));
	CHECK("devices: explicit rule", r.devices[1].allow && r.devices[1].type == 'c' &&
		r.devices[1].major == 1 && r.devices[1].minor == 3 && streq(r.devices[1].access, "rw"));
	CHECK("any limit", cgroup_resources_any(&r));
	cgroup_resources_free(&r);
}

static void test_parse_errors(void)
{
	expect_error("type error names the path", "{'memory':{'limit':'64M'}}",
		     "linux.resources.memory.limit: expected an integer");
	expect_error("memory below -1", "{'memory':{'swap':-2}}",
		     "linux.resources.memory.swap: -2 is neither -1 (unlimited) nor a byte count");
	expect_error("shares is unsigned", "{'cpu':{'shares':-1}}",
		     "linux.resources.cpu.shares: expected a non-negative integer");
	expect_error("section must be an object", "{'pids':[]}",
		     "linux.resources.pids: expected an object");
	expect_error("blockIO weight range", "{'blockIO':{'weight':5}}",
		     "linux.resources.blockIO.weight: 5 is out of range 10-1000");
	expect_error("weightDevice weight range",
		     "{'blockIO':{'weightDevice':[{'major':8,'minor':0,'weight':1001}]}}",
		     "linux.resources.blockIO.weightDevice[0].weight: 1001 is out of range 10-1000");
	expect_error("throttle rate required",
		     "{'blockIO':{'throttleWriteIOPSDevice':[{'major':8,'minor':0}]}}",
		     "linux.resources.blockIO.throttleWriteIOPSDevice[0].rate: missing required field");
	expect_error("device allow required", "{'devices':[{'access':'r'}]}",
		     "linux.resources.devices[0].allow: missing required field");
	expect_error("device type", "{'devices':[{'allow':true,'type':'u'}]}",
		     "linux.resources.devices[0].type: \"u\" is not one of \"a\", \"c\", \"b\"");
	expect_error("device access", "{'devices':[{'allow':true,'access':'rx'}]}",
		     "linux.resources.devices[0].access: \"rx\" is not a combination of r, w and m");
	expect_error("device access repeated", "{'devices':[{'allow':true,'access':'rr'}]}",
		     "linux.resources.devices[0].access: \"rr\" is not a combination of r, w and m");
	expect_error("hugepage size", "{'hugepageLimits':[{'pageSize':'2M/../x','limit':1}]}",
		     "linux.resources.hugepageLimits[0].pageSize: \"2M/../x\" is not a page size "
		     "such as 2MB or 1GB");
	expect_error("unified key with a slash", "{'unified':{'../memory.max':'1'}}",
		     "linux.resources.unified: \"../memory.max\" is not a cgroup file name");
	expect_error("unified value must be a string", "{'unified':{'memory.max':1}}",
		     "linux.resources.unified.memory.max: expected a string");
	expect_error("unified cannot move processes", "{'unified':{'cgroup.procs':'1'}}",
		     "linux.resources.unified: \"cgroup.procs\" is managed by the runtime");
	expect_error("swappiness range", "{'memory':{'swappiness':101}}",
		     "linux.resources.memory.swappiness: 101 is out of range 0-100");
	expect_error("rdma name", "{'rdma':{'a b':{'hcaHandles':1}}}",
		     "linux.resources.rdma: \"a b\" is not a valid rdma device name");
	expect_error("resources must be an object", "[]", "linux.resources: expected an object");
}

static void test_any(void)
{
	struct cgroup_resources r;
	_cleanup_berr_ berr_t e = BERR_INIT;

	CHECK("any: NULL", !cgroup_resources_any(NULL));
	parse("{}", &r, &e);
	CHECK("any: empty", !cgroup_resources_any(&r));
	cgroup_resources_free(&r);
	parse("{'devices':[{'allow':false}],'memory':{'kernel':1}}", &r, &e);
	CHECK("any: device rules and ignored keys are no limit", !cgroup_resources_any(&r));
	cgroup_resources_free(&r);
	parse("{'pids':{'limit':2048}}", &r, &e);
	CHECK("any: pids.limit", cgroup_resources_any(&r));
	cgroup_resources_free(&r);
}

/* ---- conversions ---- */

static void test_conversions(void)
{
	_cleanup_berr_ berr_t e = BERR_INIT;
	int64_t v = 0;
	opt_i64 unset = { 0, false };

	CHECK("shares 2 -> weight 1", cg_shares_to_weight(2) == 1);
	CHECK("shares 1024 -> weight 39", cg_shares_to_weight(1024) == 39);
	CHECK("shares 262144 -> weight 10000", cg_shares_to_weight(262144) == 10000);
	CHECK("shares below 2 clamp", cg_shares_to_weight(0) == 1);
	CHECK("shares above 262144 clamp", cg_shares_to_weight(1u << 30) == 10000);
	CHECK("blkio weight 10 -> io.weight 1", cg_blkio_weight_to_io_weight(10) == 1);
	CHECK("blkio weight 500 -> io.weight 4950", cg_blkio_weight_to_io_weight(500) == 4950);
	CHECK("blkio weight 1000 -> io.weight 10000", cg_blkio_weight_to_io_weight(1000) == 10000);

	opt_i64 l100 = { 100, true }, s200 = { 200, true }, s100 = { 100, true };
	opt_i64 m1 = { -1, true }, s50 = { 50, true }, s0 = { 0, true };

	CHECK("swap 200 limit 100 -> swap.max 100",
	      cg_swap_v2(&s200, &l100, &v, &e) == 1 && v == 100);
	CHECK("swap == limit -> swap.max 0", cg_swap_v2(&s100, &l100, &v, &e) == 1 && v == 0);
	CHECK("swap -1 -> max", cg_swap_v2(&m1, &l100, &v, &e) == 1 && v == -1);
	CHECK("limit -1, swap unset -> max", cg_swap_v2(&unset, &m1, &v, &e) == 1 && v == -1);
	CHECK("swap unset -> left alone", cg_swap_v2(&unset, &l100, &v, &e) == 0);
	CHECK("swap 0 -> left alone (runc)", cg_swap_v2(&s0, &l100, &v, &e) == 0);
	CHECK("swap below limit fails", cg_swap_v2(&s50, &l100, &v, &e) < 0 &&
		contains(e.msg, "memory.swap: 50 is below memory.limit 100"));
	CHECK("swap without a limit fails", cg_swap_v2(&s200, &unset, &v, &e) < 0 &&
		contains(e.msg, "a swap limit needs a memory limit"));

	char *s;

	s = cg_device_rule_v1('a', -1, -1, "rwm");
	CHECK("v1 rule: all", streq(s, "a"));
	free(s);
	s = cg_device_rule_v1('c', 136, -1, "rw");
	CHECK("v1 rule: wildcard minor", streq(s, "c 136:* rw"));
	free(s);
	s = cg_device_rule_v1('b', -1, -1, "m");
	CHECK("v1 rule: wildcard both", streq(s, "b *:* m"));
	free(s);
}

/* ---- the plan ---- */

static const struct cg_write *find_write(const struct cg_plan *p, const char *file, bool v2)
{
	for (size_t i = 0; i < p->n; i++)
		if (streq(p->w[i].file, file) && p->w[i].v2 == v2)
			return &p->w[i];
	return NULL;
}

static bool has_write(const struct cg_plan *p, const char *file, bool v2, const char *value)
{
	const struct cg_write *w = find_write(p, file, v2);

	return w && streq(w->value, value);
}

static int index_of(const struct cg_plan *p, const char *file)
{
	for (size_t i = 0; i < p->n; i++)
		if (streq(p->w[i].file, file))
			return (int)i;
	return -1;
}

/* This host: v2 holds hugetlb only; v1 everything else but rdma and misc. */
static const struct cg_host hybrid = {
	.v2_mask = CG_BIT(CG_HUGETLB),
	.v1_mask = CG_BIT(CG_CPU) | CG_BIT(CG_CPUACCT) | CG_BIT(CG_CPUSET) | CG_BIT(CG_MEMORY) |
		   CG_BIT(CG_PIDS) | CG_BIT(CG_IO) | CG_BIT(CG_DEVICES),
};

static const struct cg_host pure_v2 = {
	.v2_mask = CG_BIT(CG_CPU) | CG_BIT(CG_CPUSET) | CG_BIT(CG_MEMORY) | CG_BIT(CG_PIDS) |
		   CG_BIT(CG_IO) | CG_BIT(CG_HUGETLB) | CG_BIT(CG_RDMA) | CG_BIT(CG_MISC),
};

/* Plan json for host; returns the error message or NULL. */
static char *plan(const char *json, const struct cg_host *h, struct cg_plan *p)
{
	struct cgroup_resources r;
	_cleanup_berr_ berr_t e = BERR_INIT;
	int ret;

	memset(p, 0, sizeof *p);
	if (parse(json, &r, &e) < 0)
		return xasprintf("parse: %s", e.msg);
	ret = cg_plan_resources(&r, h, p, &e);
	cgroup_resources_free(&r);
	return ret < 0 ? xstrdup(e.msg) : NULL;
}

static void test_plan_hybrid(void)
{
	struct cg_plan p;
	char *err;

	err = plan("{'pids':{'limit':2048},'memory':{'limit':67108864,'swap':134217728},"
		   "'cpu':{'shares':1024,'quota':50000,'period':100000,'cpus':'0'},"
		   "'hugepageLimits':[{'pageSize':'2MB','limit':2097152}],"
		   "'devices':[{'allow':true,'type':'c','major':1,'minor':3,'access':'rwm'},"
		   "{'allow':false,'type':'a','major':5,'access':'w'}]}", &hybrid, &p);
	if (!CHECK("hybrid: plan", !err)) {
		printf("#   %s\n", err);
		free(err);
		return;
	}
	CHECK("hybrid: podman's pids.limit goes to v1 pids.max", has_write(&p, "pids.max", false, "2048"));
	CHECK("hybrid: memory limit to v1", has_write(&p, "memory.limit_in_bytes", false, "67108864"));
	CHECK("hybrid: swap is memsw in v1", has_write(&p, "memory.memsw.limit_in_bytes", false,
						       "134217728"));
	CHECK("hybrid: limit right before memsw, swapping on EINVAL",
	      index_of(&p, "memory.memsw.limit_in_bytes") ==
		      index_of(&p, "memory.limit_in_bytes") + 1 &&
	      (find_write(&p, "memory.limit_in_bytes", false)->flags & CGW_SWAP_ON_EINVAL));
	CHECK("hybrid: cpu.shares unconverted", has_write(&p, "cpu.shares", false, "1024"));
	CHECK("hybrid: period before quota", has_write(&p, "cpu.cfs_period_us", false, "100000") &&
		has_write(&p, "cpu.cfs_quota_us", false, "50000") &&
		index_of(&p, "cpu.cfs_quota_us") == index_of(&p, "cpu.cfs_period_us") + 1);
	CHECK("hybrid: cpuset v1", has_write(&p, "cpuset.cpus", false, "0"));
	CHECK("hybrid: hugetlb in v2", has_write(&p, "hugetlb.2MB.max", true, "2097152") &&
		(find_write(&p, "hugetlb.2MB.rsvd.max", true)->flags & CGW_OPTIONAL));
	CHECK("hybrid: only hugetlb enabled in v2", p.v2_needed == CG_BIT(CG_HUGETLB));
	CHECK("hybrid: devices through v1, not eBPF", !p.bpf_devices);
	int deny = index_of(&p, "devices.deny");

	CHECK("hybrid: devices deny all first", deny >= 0 && streq(p.w[deny].value, "a"));
	CHECK("hybrid: then the rules in order", (size_t)deny + 3 < p.n &&
		streq(p.w[deny + 1].file, "devices.allow") && streq(p.w[deny + 1].value, "c 1:3 rwm") &&
		streq(p.w[deny + 2].file, "devices.deny") && streq(p.w[deny + 2].value, "c 5:* w") &&
		streq(p.w[deny + 3].file, "devices.deny") && streq(p.w[deny + 3].value, "b 5:* w"));
	cg_plan_free(&p);

	err = plan("{'rdma':{'mlx5_1':{'hcaHandles':3}}}", &hybrid, &p);
	CHECK("hybrid: rdma fails naming the controller", streq(err,
		"linux.resources.rdma: the rdma controller is not available on this host "
		"(neither cgroup v2 nor v1)"));
	free(err);
	err = plan("{'network':{'classID':1}}", &hybrid, &p);
	CHECK("hybrid: net_cls not mounted fails", contains(err,
		"linux.resources.network.classID: the net_cls controller is not available"));
	free(err);
	err = plan("{'unified':{'memory.high':'1000'}}", &hybrid, &p);
	CHECK("hybrid: unified key of a v1 controller fails", streq(err,
		"linux.resources.unified.memory.high: the memory controller is not available in "
		"cgroup v2 on this host (it is bound to cgroup v1)"));
	free(err);
	err = plan("{'unified':{'cgroup.max.descendants':'10','hugetlb.2MB.max':'0'}}", &hybrid, &p);
	CHECK("hybrid: unified core and v2 controller files", !err &&
		has_write(&p, "cgroup.max.descendants", true, "10") &&
		has_write(&p, "hugetlb.2MB.max", true, "0") && p.v2_needed == CG_BIT(CG_HUGETLB));
	free(err);
	cg_plan_free(&p);
	err = plan("{'memory':{'limit':-1}}", &hybrid, &p);
	CHECK("hybrid: unlimited memory also lifts memsw, optionally",
	      !err && has_write(&p, "memory.limit_in_bytes", false, "-1") &&
		      has_write(&p, "memory.memsw.limit_in_bytes", false, "-1") &&
		      (find_write(&p, "memory.memsw.limit_in_bytes", false)->flags & CGW_OPTIONAL));
	free(err);
	cg_plan_free(&p);
	err = plan("{'memory':{'swappiness':0,'disableOOMKiller':true,'kernel':1}}", &hybrid, &p);
	CHECK("hybrid: v1-only memory knobs written", !err &&
		has_write(&p, "memory.swappiness", false, "0") &&
		has_write(&p, "memory.oom_control", false, "1") && p.n == 2);
	free(err);
	cg_plan_free(&p);
	err = plan("{'cpu':{'realtimePeriod':1000000,'realtimeRuntime':950000}}", &hybrid, &p);
	CHECK("hybrid: realtime to v1", !err &&
		has_write(&p, "cpu.rt_period_us", false, "1000000") &&
		has_write(&p, "cpu.rt_runtime_us", false, "950000"));
	free(err);
	cg_plan_free(&p);
	err = plan("{'blockIO':{'weight':500}}", &hybrid, &p);
	CHECK("hybrid: blkio.weight, else blkio.bfq.weight", !err &&
		has_write(&p, "blkio.weight", false, "500") &&
		streq(p.w[0].alt_file, "blkio.bfq.weight") && streq(p.w[0].alt_value, "500"));
	free(err);
	cg_plan_free(&p);
}

static void test_plan_v2(void)
{
	struct cg_plan p;
	char *err;

	err = plan("{'memory':{'limit':67108864,'swap':134217728,'reservation':-1,"
		   "'swappiness':60,'disableOOMKiller':true},"
		   "'cpu':{'shares':1024,'quota':50000,'period':100000,'burst':500,'idle':0},"
		   "'pids':{'limit':0},"
		   "'blockIO':{'weight':500,'weightDevice':[{'major':8,'minor':0,'weight':10}],"
		   "'throttleReadBpsDevice':[{'major':8,'minor':0,'rate':1048576}],"
		   "'throttleWriteIOPSDevice':[{'major':8,'minor':16,'rate':0}]},"
		   "'rdma':{'mlx5_1':{'hcaHandles':3,'hcaObjects':10000}},"
		   "'unified':{'memory.high':'50000000'},"
		   "'devices':[{'allow':false}]}", &pure_v2, &p);
	if (!CHECK("v2: plan", !err)) {
		printf("#   %s\n", err);
		free(err);
		return;
	}
	CHECK("v2: memory.max", has_write(&p, "memory.max", true, "67108864"));
	CHECK("v2: memory.swap.max is swap - limit", has_write(&p, "memory.swap.max", true, "67108864"));
	CHECK("v2: memory.low max", has_write(&p, "memory.low", true, "max"));
	CHECK("v2: swappiness and disableOOMKiller have no file",
	      !find_write(&p, "memory.swappiness", true) && !find_write(&p, "memory.oom_control", true));
	CHECK("v2: cpu.weight converted", has_write(&p, "cpu.weight", true, "39"));
	CHECK("v2: cpu.max quota period", has_write(&p, "cpu.max", true, "50000 100000"));
	size_t n_cpu_max = 0;

	for (size_t i = 0; i < p.n; i++)
		n_cpu_max += streq(p.w[i].file, "cpu.max");
	CHECK("v2: one cpu.max write", n_cpu_max == 1);
	CHECK("v2: cpu.max.burst", has_write(&p, "cpu.max.burst", true, "500"));
	CHECK("v2: cpu.idle", has_write(&p, "cpu.idle", true, "0"));
	CHECK("v2: pids.max max for 0", has_write(&p, "pids.max", true, "max"));
	const struct cg_write *w = find_write(&p, "io.bfq.weight", true);

	CHECK("v2: io.bfq.weight, else io.weight converted", w && streq(w->value, "500") &&
		streq(w->alt_file, "io.weight") && streq(w->alt_value, "4950"));
	CHECK("v2: per-device weight", p.n > (size_t)index_of(&p, "io.bfq.weight") + 1 &&
		streq(p.w[index_of(&p, "io.bfq.weight") + 1].value, "8:0 10") &&
		streq(p.w[index_of(&p, "io.bfq.weight") + 1].alt_value, "8:0 1"));
	CHECK("v2: io.max rbps", has_write(&p, "io.max", true, "8:0 rbps=1048576"));
	bool found = false;

	for (size_t i = 0; i < p.n; i++)
		found |= streq(p.w[i].file, "io.max") && streq(p.w[i].value, "8:16 wiops=max");
	CHECK("v2: io.max rate 0 is max", found);
	CHECK("v2: rdma.max", has_write(&p, "rdma.max", true, "mlx5_1 hca_handle=3 hca_object=10000"));
	CHECK("v2: unified verbatim", has_write(&p, "memory.high", true, "50000000"));
	CHECK("v2: devices as eBPF", p.bpf_devices && !find_write(&p, "devices.deny", false));
	CHECK("v2: controllers to enable", p.v2_needed == (CG_BIT(CG_MEMORY) | CG_BIT(CG_CPU) |
		CG_BIT(CG_PIDS) | CG_BIT(CG_IO) | CG_BIT(CG_RDMA)));
	cg_plan_free(&p);

	err = plan("{'cpu':{'quota':-1,'period':100000}}", &pure_v2, &p);
	CHECK("v2: quota -1 is max", !err && has_write(&p, "cpu.max", true, "max 100000"));
	free(err);
	cg_plan_free(&p);
	err = plan("{'cpu':{'period':50000}}", &pure_v2, &p);
	CHECK("v2: period alone keeps the quota", !err && has_write(&p, "cpu.max", true, "50000") &&
		(find_write(&p, "cpu.max", true)->flags & CGW_KEEP_FIRST_FIELD));
	free(err);
	cg_plan_free(&p);
	err = plan("{'memory':{'limit':100,'swap':100}}", &pure_v2, &p);
	CHECK("v2: swap == limit disables swap", !err && has_write(&p, "memory.swap.max", true, "0"));
	free(err);
	cg_plan_free(&p);
	err = plan("{'memory':{'limit':100}}", &pure_v2, &p);
	CHECK("v2: no swap given, memory.swap.max untouched", !err &&
		!find_write(&p, "memory.swap.max", true));
	free(err);
	cg_plan_free(&p);
	err = plan("{'memory':{'swap':100}}", &pure_v2, &p);
	CHECK("v2: swap without limit fails", contains(err, "a swap limit needs a memory limit"));
	free(err);
	err = plan("{'cpu':{'realtimeRuntime':1000}}", &pure_v2, &p);
	CHECK("v2: realtime rejected", streq(err, "linux.resources.cpu.realtimeRuntime: not "
		"supported by cgroup v2, which holds the cpu controller on this host"));
	free(err);
	err = plan("{'network':{'priorities':[{'name':'eth0','priority':1}]}}", &pure_v2, &p);
	CHECK("v2: net_prio fails naming key and controller", contains(err,
		"linux.resources.network.priorities: the net_prio controller is not available"));
	free(err);
	err = plan("{'hugepageLimits':[{'pageSize':'1GB','limit':0}]}", &pure_v2, &p);
	CHECK("v2: 1GB pages", !err && has_write(&p, "hugetlb.1GB.max", true, "0"));
	free(err);
	cg_plan_free(&p);
	err = plan("{'memory':{'limit':1}}", &(struct cg_host){ 0 }, &p);
	CHECK("no memory controller anywhere fails", streq(err, "linux.resources.memory.limit: "
		"the memory controller is not available on this host (neither cgroup v2 nor v1)"));
	free(err);
	err = plan("{}", &(struct cg_host){ 0 }, &p);
	CHECK("nothing asked, nothing needed", !err && p.n == 0 && !p.v2_needed);
	free(err);
	cg_plan_free(&p);
}

/* ---- eBPF device program: run it in a tiny interpreter ---- */

/* Executes exactly the instruction forms cg_bpf_build emits; -1 on any
 * other instruction or a jump out of bounds. */
static int run_bpf(const struct bpf_insn *prog, size_t n, uint32_t type, uint32_t access,
		   uint32_t major, uint32_t minor)
{
	uint32_t ctx[3] = { (access << 16) | type, major, minor };
	uint64_t reg[11] = { 0 };

	for (size_t pc = 0, steps = 0; pc < n && steps < 10000; pc++, steps++) {
		const struct bpf_insn *i = &prog[pc];
		uint8_t op = BPF_OP(i->code);

		switch (BPF_CLASS(i->code)) {
		case BPF_LDX:
			if (i->code != (BPF_LDX | BPF_MEM | BPF_W) || i->src_reg != 1 ||
			    i->off % 4 || i->off < 0 || i->off > 8)
				return -1;
			reg[i->dst_reg] = ctx[i->off / 4];
			break;
		case BPF_ALU: {
			uint32_t src = BPF_SRC(i->code) == BPF_X ? (uint32_t)reg[i->src_reg]
								 : (uint32_t)i->imm;
			uint32_t d = (uint32_t)reg[i->dst_reg];

			if (op == BPF_AND)
				d &= src;
			else if (op == BPF_RSH)
				d >>= src;
			else if (op == BPF_MOV)
				d = src;
			else
				return -1;
			reg[i->dst_reg] = d;
			break;
		}
		case BPF_ALU64:
			if (i->code != (BPF_ALU64 | BPF_MOV | BPF_K))
				return -1;
			reg[i->dst_reg] = (uint64_t)(int64_t)i->imm;
			break;
		case BPF_JMP: {
			bool jump;

			if (op == BPF_EXIT)
				return (int)reg[0];
			if (BPF_SRC(i->code) != BPF_K || (op != BPF_JNE && op != BPF_JEQ))
				return -1;
			jump = op == BPF_JNE ? reg[i->dst_reg] != (uint64_t)(int64_t)i->imm
					     : reg[i->dst_reg] == (uint64_t)(int64_t)i->imm;
			if (jump)
				pc += i->off;
			if (pc + 1 > n)
				return -1;
			break;
		}
		default:
			return -1;
		}
	}
	return -1; /* fell off the end */
}

#define CHR BPF_DEVCG_DEV_CHAR
#define BLK BPF_DEVCG_DEV_BLOCK
#define R BPF_DEVCG_ACC_READ
#define W BPF_DEVCG_ACC_WRITE
#define M BPF_DEVCG_ACC_MKNOD

static void test_bpf(void)
{
	const struct cg_device_rule rules[] = {
		{ false, 'a', -1, -1, "rwm" },
		{ true, 'c', 1, 3, "rwm" },   /* /dev/null */
		{ true, 'c', -1, -1, "m" },   /* mknod of any char device */
		{ true, 'b', -1, -1, "m" },
		{ true, 'c', 136, -1, "rw" }, /* the pty slaves */
		{ false, 'c', 1, 3, "w" },    /* then: no writing /dev/null */
	};
	struct bpf_insn *prog = NULL;
	size_t n = 0;
	bool jumps_ok = true;

	cg_bpf_build(rules, ARRAY_SIZE(rules), &prog, &n);
	CHECK("bpf: ends with exit", n > 8 && prog[n - 1].code == (BPF_JMP | BPF_EXIT));
	for (size_t i = 0; i < n; i++) {
		if (BPF_CLASS(prog[i].code) == BPF_JMP && BPF_OP(prog[i].code) != BPF_EXIT)
			jumps_ok &= prog[i].off >= 0 && i + 1 + prog[i].off < n;
	}
	CHECK("bpf: every jump lands inside the program", jumps_ok);
	CHECK("bpf: read /dev/null allowed", run_bpf(prog, n, CHR, R, 1, 3) == 1);
	CHECK("bpf: write /dev/null denied by the later rule", run_bpf(prog, n, CHR, W, 1, 3) == 0);
	CHECK("bpf: read+write /dev/null denied", run_bpf(prog, n, CHR, R | W, 1, 3) == 0);
	CHECK("bpf: mknod any char allowed", run_bpf(prog, n, CHR, M, 5, 1) == 1);
	CHECK("bpf: read /dev/console denied", run_bpf(prog, n, CHR, R, 5, 1) == 0);
	CHECK("bpf: rw pts allowed", run_bpf(prog, n, CHR, R | W, 136, 7) == 1);
	CHECK("bpf: mknod+read pts needs one rule granting both", run_bpf(prog, n, CHR, R | M, 136, 7) == 0);
	CHECK("bpf: block read denied", run_bpf(prog, n, BLK, R, 8, 0) == 0);
	CHECK("bpf: block mknod allowed", run_bpf(prog, n, BLK, M, 8, 0) == 1);
	free(prog);

	const struct cg_device_rule allow_all[] = {
		{ false, 'c', 1, 5, "rwm" },
		{ true, 'a', -1, -1, "rwm" },
	};

	cg_bpf_build(allow_all, ARRAY_SIZE(allow_all), &prog, &n);
	CHECK("bpf: a catch-all last rule ends the program (no dead code)", n == 8);
	CHECK("bpf: catch-all allows", run_bpf(prog, n, BLK, R | W | M, 8, 0) == 1 &&
		run_bpf(prog, n, CHR, R, 1, 5) == 1);
	free(prog);
	cg_bpf_build(NULL, 0, &prog, &n);
	CHECK("bpf: no rules denies everything", run_bpf(prog, n, CHR, R, 1, 3) == 0);
	free(prog);
}

/* ---- hierarchies and paths ---- */

static const char hybrid_mountinfo[] =
	"31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
	"32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
	"33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
	"34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
	"35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
	"36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices\n"
	"37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer\n"
	"38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio\n"
	"39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
	"40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
	"41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
	"42 31 0:36 / /mnt/pids\\040again rw,relatime - cgroup cgroup rw,pids\n";

static const char hybrid_self[] =
	"9:name=systemd:/\n8:pids:/\n7:blkio:/\n6:freezer:/\n5:devices:/\n"
	"4:memory:/process_api/abc\n3:cpuset:/\n2:cpuacct:/\n1:cpu:/\n0::/\n";

static const char *v1_path(const struct cgroup *cg, enum cg_ctrl c)
{
	const struct cg_dir *d = cg_v1_dir(cg, c);

	return d ? d->path : NULL;
}

/* Resolve; the error message or NULL. */
static char *resolve(const char *mountinfo, const char *self_text, const char *path,
		     const char *id, struct cgroup *cg)
{
	struct cg_mounts m;
	struct cg_self self;
	_cleanup_berr_ berr_t e = BERR_INIT;
	int ret;

	cg_mounts_parse(mountinfo, &m, &e);
	cg_self_parse(self_text, &self, &e);
	ret = cg_resolve(&m, &self, path, id, cg, &e);
	cg_mounts_free(&m);
	cg_self_free(&self);
	return ret < 0 ? xstrdup(e.msg) : NULL;
}

static void test_hierarchy(void)
{
	struct cg_mounts m;
	struct cg_self self;
	struct cgroup cg;
	_cleanup_berr_ berr_t e = BERR_INIT;
	char *err;

	cg_mounts_parse(hybrid_mountinfo, &m, &e);
	CHECK("mountinfo: v2 mount", streq(m.v2_mountpoint, "/sys/fs/cgroup/unified"));
	CHECK("mountinfo: v1 hierarchies once each, name=systemd excluded", m.n_v1 == 8);
	cg_mounts_free(&m);
	cg_self_parse("12:cpu,cpuacct:/a:b\n0::/x\n", &self, &e);
	CHECK("self: combined controllers, ':' in a path", streq(self.v1_paths[CG_CPU], "/a:b") &&
		streq(self.v1_paths[CG_CPUACCT], "/a:b") && streq(self.v2_path, "/x"));
	cg_self_free(&self);

	err = resolve(hybrid_mountinfo, hybrid_self, NULL, "c1", &cg);
	CHECK("default path: v2 under own cgroup", !err &&
		streq(cg.v2.path, "/sys/fs/cgroup/unified/berth/c1") && cg.default_path);
	CHECK("default path: v1 memory under its own cgroup",
	      streq(v1_path(&cg, CG_MEMORY), "/sys/fs/cgroup/memory/process_api/abc/berth/c1"));
	CHECK("default path: v1 pids", streq(v1_path(&cg, CG_PIDS), "/sys/fs/cgroup/pids/berth/c1"));
	CHECK("default path: a freezer dir, no name=systemd dir",
	      streq(v1_path(&cg, CG_FREEZER), "/sys/fs/cgroup/freezer/berth/c1") && cg.n_v1 == 8);
	free(err);
	cg_clear(&cg);

	err = resolve(hybrid_mountinfo, hybrid_self, "/a//b/./c/", "c1", &cg);
	CHECK("absolute: from each hierarchy's root", !err &&
		streq(cg.v2.path, "/sys/fs/cgroup/unified/a/b/c") &&
		streq(v1_path(&cg, CG_MEMORY), "/sys/fs/cgroup/memory/a/b/c") && !cg.default_path);
	free(err);
	cg_clear(&cg);
	err = resolve(hybrid_mountinfo, hybrid_self, "pod/x/../c2", "c1", &cg);
	CHECK("relative: under own cgroup, inner .. resolved", !err &&
		streq(cg.v2.path, "/sys/fs/cgroup/unified/pod/c2") &&
		streq(v1_path(&cg, CG_MEMORY), "/sys/fs/cgroup/memory/process_api/abc/pod/c2"));
	free(err);
	cg_clear(&cg);
	err = resolve(hybrid_mountinfo, hybrid_self, "a/../../escape", "c1", &cg);
	CHECK("relative .. escaping is rejected",
	      streq(err, "cgroupsPath \"a/../../escape\": \"..\" climbs above berth's own cgroup"));
	free(err);
	err = resolve(hybrid_mountinfo, hybrid_self, "/../etc", "c1", &cg);
	CHECK("absolute .. escaping is rejected",
	      streq(err, "cgroupsPath \"/../etc\": \"..\" climbs above the hierarchy root"));
	free(err);
	err = resolve(hybrid_mountinfo, hybrid_self, "/", "c1", &cg);
	CHECK("the root itself is rejected", contains(err, "names no cgroup below the hierarchy root"));
	free(err);
	err = resolve(hybrid_mountinfo, hybrid_self, NULL, "../x", &cg);
	CHECK("an id with / is rejected", contains(err, "container id \"../x\" cannot name a cgroup"));
	free(err);

	static const char v1_only[] =
		"32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n";

	err = resolve(v1_only, "1:cpu:/\n", NULL, "c1", &cg);
	CHECK("pure v1 host: clear error", contains(err, "no cgroup2 filesystem is mounted") &&
		contains(err, "pure cgroup v1 hosts are not supported"));
	free(err);

	static const char pure[] =
		"30 23 0:26 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate\n";

	err = resolve(pure, "0::/user.slice/session-1.scope\n", NULL, "c1", &cg);
	CHECK("pure v2: under own cgroup, no v1", !err && cg.n_v1 == 0 &&
		streq(cg.v2.path, "/sys/fs/cgroup/user.slice/session-1.scope/berth/c1"));
	free(err);
	cg_clear(&cg);

	static const char subtree[] =
		"30 23 0:26 /docker/abc /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";

	err = resolve(subtree, "0::/docker/abc/inner\n", "x", "c1", &cg);
	CHECK("a mounted subtree is stripped from the own path", !err &&
		streq(cg.v2.path, "/sys/fs/cgroup/inner/x"));
	free(err);
	cg_clear(&cg);
}

static void test_saved_form(void)
{
	struct cgroup cg, back;
	_cleanup_berr_ berr_t e = BERR_INIT;
	char *err = resolve(hybrid_mountinfo, hybrid_self, NULL, "c1", &cg);
	_cleanup_free_ char *text = NULL;

	if (!CHECK("saved form: resolve", !err)) {
		free(err);
		return;
	}
	cg.v2.owned = 2;
	text = cg_serialize(&cg);
	CHECK("saved form: parses back", cg_deserialize(text, &back, &e) == 0);
	CHECK("saved form: same directories", streq(back.v2.path, cg.v2.path) &&
		back.v2.owned == 2 && back.n_v1 == cg.n_v1 &&
		streq(v1_path(&back, CG_MEMORY), v1_path(&cg, CG_MEMORY)) &&
		cg_v1_mask(&back) == cg_v1_mask(&cg));
	cg_clear(&back);
	cg_clear(&cg);
	CHECK("saved form: a path outside its mount is refused",
	      cg_deserialize("{\"v2\":{\"path\":\"/etc/x\",\"mount\":\"/sys/fs/cgroup\"}}", &back,
			     &e) < 0 && contains(e.msg, "is not a directory below"));
	CHECK("saved form: .. is refused",
	      cg_deserialize("{\"v2\":{\"path\":\"/sys/fs/cgroup/../../etc\","
			     "\"mount\":\"/sys/fs/cgroup\"}}", &back, &e) < 0);
}

int main(void)
{
	test_parse_full();
	test_parse_errors();
	test_any();
	test_conversions();
	test_plan_hybrid();
	test_plan_v2();
	test_bpf();
	test_hierarchy();
	test_saved_form();
	return tap_done();
}
