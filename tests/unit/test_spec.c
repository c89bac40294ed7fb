/* tests/unit/test_spec.c: unit tests of runtime/spec.c, config.json into
 * structs, with the exact error text users see; prints TAP. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "runtime/spec.h"
#include "tap.h"

/* The configs below use ' for " to stay readable in C. */
static char *json_text(const char *s)
{
	char *t = xstrdup(s);

	for (char *p = t; *p; p++)
		if (*p == '\'')
			*p = '"';
	return t;
}

/* Parse; NULL on success (the spec is freed), else the error message. */
static char *parse_error(const char *config)
{
	_cleanup_free_ char *text = json_text(config);
	_cleanup_berr_ berr_t e = BERR_INIT;
	struct spec *s = NULL;

	if (spec_parse(text, "config.json", &s, &e) < 0)
		return xstrdup(e.msg ? e.msg : "(no message)");
	spec_free(s);
	return NULL;
}

static struct spec *parse_ok(const char *config)
{
	_cleanup_free_ char *text = json_text(config);
	_cleanup_berr_ berr_t e = BERR_INIT;
	struct spec *s = NULL;

	if (spec_parse(text, "config.json", &s, &e) < 0) {
		printf("#   unexpected error: %s\n", e.msg);
		return NULL;
	}
	return s;
}

static void expect_error_at(const char *config, const char *want, int line)
{
	_cleanup_free_ char *got = parse_error(config);
	_cleanup_free_ char *name = xasprintf("error \"%s\"", want);

	if (!tap_check(name, streq(got, want), line))
		printf("#   got: %s\n", got ? got : "(success)");
}

static void expect_ok_at(const char *name, const char *config, int line)
{
	_cleanup_free_ char *got = parse_error(config);

	if (!tap_check(name, got == NULL, line))
		printf("#   got: %s\n", got);
}

#define EXPECT_ERROR(config, want) expect_error_at(config, want, __LINE__)
#define EXPECT_OK(name, config) expect_ok_at(name, config, __LINE__)

#define HEAD "{'ociVersion':'1.0.2','root':{'path':'rootfs'}"
#define CFG(rest) HEAD rest "}"
#define PROC(rest) CFG(",'process':{'cwd':'/','args':['sh']" rest "}")
#define LINUX(rest) CFG(",'linux':{" rest "}")
#define SECCOMP(rest) LINUX("'seccomp':{'defaultAction':'SCMP_ACT_ALLOW'" rest "}")

static const char full_config[] =
	"{'ociVersion':'1.2.0','unknownTop':{'x':[1,2]},"
	"'root':{'path':'rootfs','readonly':true},"
	"'hostname':'box','domainname':'example.org',"
	"'mounts':["
	" {'destination':'/proc','type':'proc','source':'proc'},"
	" {'destination':'/data','type':'bind','source':'/srv','options':['rbind','ro'],"
	"  'uidMappings':[{'containerID':0,'hostID':1000,'size':1}],"
	"  'gidMappings':[{'containerID':0,'hostID':2000,'size':2}]}],"
	"'process':{'terminal':true,'consoleSize':{'height':24,'width':80},"
	" 'user':{'uid':1,'gid':2,'umask':18,'additionalGids':[5,6,4294967295],'username':'u'},"
	" 'args':['sh','-c','true'],'commandLine':'sh -c true','env':['PATH=/bin','A=b'],"
	" 'cwd':'/work',"
	" 'capabilities':{'bounding':['CAP_KILL','CAP_CHOWN'],'effective':['CAP_KILL'],"
	"  'inheritable':[],'permitted':['CAP_KILL'],'ambient':['CAP_KILL']},"
	" 'rlimits':[{'type':'RLIMIT_NOFILE','soft':1024,'hard':18446744073709551615},"
	"  {'type':'RLIMIT_CORE','soft':0,'hard':0}],"
	" 'noNewPrivileges':true,'apparmorProfile':'aa','oomScoreAdj':-500,"
	" 'scheduler':{'policy':'SCHED_DEADLINE','nice':-5,'priority':3,"
	"  'flags':['SCHED_FLAG_RESET_ON_FORK'],'runtime':100,'deadline':200,'period':300},"
	" 'selinuxLabel':'system_u:system_r:container_t:s0',"
	" 'ioPriority':{'class':'IOPRIO_CLASS_RT','priority':4},"
	" 'execCPUAffinity':{'initial':'7','final':'0-3,7'}},"
	"'hooks':{"
	" 'prestart':[{'path':'/bin/pre','args':['pre','1'],'env':['X=1'],'timeout':5}],"
	" 'createRuntime':[{'path':'/bin/cr'},{'path':'/bin/cr2'}],"
	" 'createContainer':[{'path':'/bin/cc'}],'startContainer':[{'path':'/bin/sc'}],"
	" 'poststart':[{'path':'/bin/ps'}],'poststop':[{'path':'/bin/pst'}]},"
	"'annotations':{'org.a':'1','org.b':'two'},"
	"'linux':{"
	" 'namespaces':[{'type':'pid'},{'type':'network','path':'/var/run/netns/x'},"
	"  {'type':'mount'},{'type':'ipc'},{'type':'uts'},{'type':'user'},"
	"  {'type':'cgroup'},{'type':'time'}],"
	" 'uidMappings':[{'containerID':0,'hostID':100000,'size':65536}],"
	" 'gidMappings':[{'containerID':0,'hostID':200000,'size':65536},"
	"  {'containerID':65536,'hostID':1,'size':1}],"
	" 'timeOffsets':{'monotonic':{'secs':-172800,'nanosecs':999999999},"
	"  'boottime':{'secs':3600}},"
	" 'devices':[{'type':'c','path':'/dev/fuse','major':10,'minor':229,"
	"  'fileMode':438,'uid':0,'gid':5},{'type':'p','path':'/dev/fifo'}],"
	" 'netDevices':{'eth1':{'name':'ctr0'},'eth2':{}},"
	" 'cgroupsPath':'/berth/c1',"
	" 'resources':{},"
	" 'intelRdt':{'closID':'g1','l3CacheSchema':'L3:0=ff','memBwSchema':'MB:0=50'},"
	" 'sysctl':{'net.ipv4.ip_forward':'1','kernel.msgmax':'8192'},"
	" 'seccomp':{'defaultAction':'SCMP_ACT_ERRNO','defaultErrnoRet':38,"
	"  'architectures':['SCMP_ARCH_X86_64','SCMP_ARCH_X86'],"
	"  'flags':['SECCOMP_FILTER_FLAG_LOG'],'listenerPath':'/run/l.sock',"
	"  'listenerMetadata':'meta',"
	"  'syscalls':[{'names':['read','write'],'action':'SCMP_ACT_ALLOW'},"
	"   {'names':['personality'],'action':'SCMP_ACT_ERRNO','errnoRet':1,"
	"    'args':[{'index':0,'value':8,'op':'SCMP_CMP_EQ'},"
	"     {'index':5,'value':18446744073709551615,'valueTwo':2,'op':'SCMP_CMP_MASKED_EQ'}]}]},"
	" 'rootfsPropagation':'rprivate','maskedPaths':['/proc/kcore'],"
	" 'readonlyPaths':['/proc/sys','/proc/bus'],'mountLabel':'mlabel',"
	" 'personality':{'domain':'LINUX32','flags':[]},'unknownLinux':5},"
	"'vm':{'kernel':{'path':'/boot/vmlinuz'}}}";

static void test_full_top(const struct spec *s)
{
	CHECK("full: ociVersion", streq(s->oci_version, "1.2.0"));
	CHECK("full: root", streq(s->root.path, "rootfs") && s->root.readonly);
	CHECK("full: hostname, domainname",
	      streq(s->hostname, "box") && streq(s->domainname, "example.org"));
	CHECK("full: mounts", s->n_mounts == 2 && streq(s->mounts[0].destination, "/proc") &&
	      streq(s->mounts[0].type, "proc") && streq(s->mounts[0].source, "proc") &&
	      !s->mounts[0].options && s->mounts[0].n_uid_mappings == 0);
	CHECK("full: mount options", strv_len(s->mounts[1].options) == 2 &&
	      streq(s->mounts[1].options[1], "ro"));
	CHECK("full: mount id mappings",
	      s->mounts[1].n_uid_mappings == 1 && s->mounts[1].uid_mappings[0].host_id == 1000 &&
	      s->mounts[1].n_gid_mappings == 1 && s->mounts[1].gid_mappings[0].size == 2);
	CHECK("full: hooks counts",
	      s->hooks.n_hooks[HOOK_PRESTART] == 1 && s->hooks.n_hooks[HOOK_CREATE_RUNTIME] == 2 &&
	      s->hooks.n_hooks[HOOK_CREATE_CONTAINER] == 1 &&
	      s->hooks.n_hooks[HOOK_START_CONTAINER] == 1 &&
	      s->hooks.n_hooks[HOOK_POSTSTART] == 1 && s->hooks.n_hooks[HOOK_POSTSTOP] == 1);
	CHECK("full: prestart hook", streq(s->hooks.hooks[HOOK_PRESTART][0].path, "/bin/pre") &&
	      streq(s->hooks.hooks[HOOK_PRESTART][0].args[1], "1") &&
	      streq(s->hooks.hooks[HOOK_PRESTART][0].env[0], "X=1") &&
	      s->hooks.hooks[HOOK_PRESTART][0].timeout.set &&
	      s->hooks.hooks[HOOK_PRESTART][0].timeout.v == 5);
	CHECK("full: hook without timeout",
	      streq(s->hooks.hooks[HOOK_CREATE_RUNTIME][1].path, "/bin/cr2") &&
	      !s->hooks.hooks[HOOK_CREATE_RUNTIME][1].timeout.set &&
	      streq(s->hooks.hooks[HOOK_POSTSTOP][0].path, "/bin/pst"));
	CHECK("full: annotations", streq(spec_annotation(s, "org.b"), "two") &&
	      streq(spec_annotation(s, "org.a"), "1") && !spec_annotation(s, "org.c"));
	CHECK("full: vm points into the tree",
	      s->vm && YAJL_IS_OBJECT(s->vm) && s->vm->u.object.len == 1 && s->tree);
}

static void test_full_process(const struct spec_process *p)
{
	CHECK("full: process", p != NULL);
	if (!p)
		return;
	CHECK("full: terminal, console", p->terminal && p->has_console_size &&
	      p->console_height == 24 && p->console_width == 80);
	CHECK("full: user", p->user.uid == 1 && p->user.gid == 2 && p->user.umask.set &&
	      p->user.umask.v == 18 && streq(p->user.username, "u"));
	CHECK("full: additionalGids", p->user.n_additional_gids == 3 &&
	      p->user.additional_gids[0] == 5 && p->user.additional_gids[2] == 4294967295u);
	CHECK("full: args, commandLine", strv_len(p->args) == 3 && streq(p->args[2], "true") &&
	      streq(p->command_line, "sh -c true"));
	CHECK("full: env, cwd", strv_len(p->env) == 2 && streq(p->env[1], "A=b") &&
	      streq(p->cwd, "/work"));
	CHECK("full: capabilities", p->capabilities &&
	      strv_len(p->capabilities->bounding) == 2 &&
	      streq(p->capabilities->bounding[1], "CAP_CHOWN") &&
	      p->capabilities->inheritable && !p->capabilities->inheritable[0] &&
	      streq(p->capabilities->ambient[0], "CAP_KILL"));
	CHECK("full: rlimits (uint64 max)", p->n_rlimits == 2 &&
	      streq(p->rlimits[0].type, "RLIMIT_NOFILE") && p->rlimits[0].soft == 1024 &&
	      p->rlimits[0].hard == UINT64_MAX && streq(p->rlimits[1].type, "RLIMIT_CORE"));
	CHECK("full: noNewPrivileges, apparmor, oomScoreAdj", p->no_new_privileges &&
	      streq(p->apparmor_profile, "aa") && p->oom_score_adj.set &&
	      p->oom_score_adj.v == -500);
	CHECK("full: scheduler", p->scheduler.set &&
	      streq(p->scheduler.policy, "SCHED_DEADLINE") && p->scheduler.nice == -5 &&
	      p->scheduler.priority == 3 &&
	      streq(p->scheduler.flags[0], "SCHED_FLAG_RESET_ON_FORK") &&
	      p->scheduler.runtime == 100 && p->scheduler.deadline == 200 &&
	      p->scheduler.period == 300);
	CHECK("full: selinuxLabel", streq(p->selinux_label, "system_u:system_r:container_t:s0"));
	CHECK("full: ioPriority", p->io_priority.set &&
	      streq(p->io_priority.class, "IOPRIO_CLASS_RT") && p->io_priority.priority == 4);
	CHECK("full: execCPUAffinity", streq(p->exec_cpu_affinity.initial, "7") &&
	      streq(p->exec_cpu_affinity.final, "0-3,7"));
}

static void test_full_linux_ns(const struct spec *s)
{
	const struct spec_linux *l = s->linux;

	CHECK("full: namespaces", l->n_namespaces == NS_TYPE_COUNT &&
	      l->namespaces[0].type == NS_PID && !l->namespaces[0].path &&
	      l->namespaces[7].type == NS_TIME);
	CHECK("full: spec_find_ns", spec_find_ns(s, NS_NETWORK) == &l->namespaces[1] &&
	      streq(spec_find_ns(s, NS_NETWORK)->path, "/var/run/netns/x"));
	CHECK("full: id mappings", l->n_uid_mappings == 1 &&
	      l->uid_mappings[0].host_id == 100000 && l->uid_mappings[0].size == 65536 &&
	      l->n_gid_mappings == 2 && l->gid_mappings[1].container_id == 65536);
	CHECK("full: timeOffsets", l->time_monotonic.set && l->time_monotonic.secs == -172800 &&
	      l->time_monotonic.nanosecs == 999999999 && l->time_boottime.set &&
	      l->time_boottime.secs == 3600 && l->time_boottime.nanosecs == 0);
	CHECK("full: devices", l->n_devices == 2 && l->devices[0].type == 'c' &&
	      streq(l->devices[0].path, "/dev/fuse") && l->devices[0].major == 10 &&
	      l->devices[0].minor == 229 && l->devices[0].file_mode.set &&
	      l->devices[0].file_mode.v == 438 && l->devices[0].uid.set &&
	      l->devices[0].gid.v == 5);
	CHECK("full: fifo device", l->devices[1].type == 'p' && !l->devices[1].file_mode.set &&
	      !l->devices[1].uid.set);
	CHECK("full: netDevices", l->n_net_devices == 2 &&
	      streq(l->net_devices[0].host_name, "eth1") &&
	      streq(l->net_devices[0].container_name, "ctr0") &&
	      streq(l->net_devices[1].host_name, "eth2") && !l->net_devices[1].container_name);
}

static void test_full_linux_rest(const struct spec_linux *l)
{
	const struct spec_seccomp *sc = l->seccomp;

	CHECK("full: cgroupsPath, resources",
	      streq(l->cgroups_path, "/berth/c1") && l->resources != NULL);
	CHECK("full: intelRdt", l->intel_rdt.set && streq(l->intel_rdt.clos_id, "g1") &&
	      streq(l->intel_rdt.l3_cache_schema, "L3:0=ff") &&
	      streq(l->intel_rdt.mem_bw_schema, "MB:0=50"));
	CHECK("full: sysctl", strv_len(l->sysctl_keys) == 2 &&
	      streq(l->sysctl_keys[1], "kernel.msgmax") && streq(l->sysctl_values[1], "8192"));
	CHECK("full: seccomp", sc && streq(sc->default_action, "SCMP_ACT_ERRNO") &&
	      sc->default_errno_ret.set && sc->default_errno_ret.v == 38 &&
	      streq(sc->architectures[1], "SCMP_ARCH_X86") &&
	      streq(sc->flags[0], "SECCOMP_FILTER_FLAG_LOG") &&
	      streq(sc->listener_path, "/run/l.sock") && streq(sc->listener_metadata, "meta"));
	if (!sc)
		return;
	CHECK("full: seccomp syscalls", sc->n_syscalls == 2 &&
	      streq(sc->syscalls[0].names[1], "write") && !sc->syscalls[0].errno_ret.set &&
	      sc->syscalls[0].n_args == 0 && sc->syscalls[1].errno_ret.v == 1);
	CHECK("full: seccomp args", sc->syscalls[1].n_args == 2 &&
	      sc->syscalls[1].args[0].value == 8 &&
	      streq(sc->syscalls[1].args[0].op, "SCMP_CMP_EQ") &&
	      sc->syscalls[1].args[1].index == 5 &&
	      sc->syscalls[1].args[1].value == UINT64_MAX &&
	      sc->syscalls[1].args[1].value_two == 2);
	CHECK("full: paths, labels", streq(l->rootfs_propagation, "rprivate") &&
	      streq(l->masked_paths[0], "/proc/kcore") && strv_len(l->readonly_paths) == 2 &&
	      streq(l->mount_label, "mlabel"));
	CHECK("full: personality", l->personality.set &&
	      streq(l->personality.domain, "LINUX32") && l->personality.flags &&
	      !l->personality.flags[0]);
}

static void test_full(void)
{
	struct spec *s = parse_ok(full_config);

	if (!CHECK("full config parses", s != NULL))
		return;
	test_full_top(s);
	test_full_process(s->process);
	if (CHECK("full: linux", s->linux != NULL)) {
		test_full_linux_ns(s);
		test_full_linux_rest(s->linux);
	}
	spec_free(s);
}

static void test_minimal(void)
{
	struct spec *s = parse_ok(CFG(""));

	if (!CHECK("minimal config parses", s != NULL))
		return;
	CHECK("minimal: root", streq(s->root.path, "rootfs") && !s->root.readonly);
	CHECK("minimal: nothing else", !s->process && !s->linux && s->n_mounts == 0 &&
	      !s->mounts && !s->hostname && !s->vm && !s->annotation_keys &&
	      s->hooks.n_hooks[HOOK_PRESTART] == 0);
	CHECK("minimal: lookups on absent parts",
	      !spec_find_ns(s, NS_PID) && !spec_annotation(s, "x"));
	spec_free(s);
}

static void test_required(void)
{
	EXPECT_ERROR("{'root':{'path':'r'}}", "config.json: ociVersion: missing required field");
	EXPECT_ERROR("{'ociVersion':'1.0.0'}", "config.json: root: missing required field");
	EXPECT_ERROR("{'ociVersion':'1.0.0','root':{}}",
		     "config.json: root.path: missing required field");
	EXPECT_ERROR(CFG(",'process':{'args':['sh']}"),
		     "config.json: process.cwd: missing required field");
	EXPECT_ERROR(CFG(",'process':{'cwd':'/'}"),
		     "config.json: process.args: missing required field");
	EXPECT_ERROR(CFG(",'process':{'cwd':'/','args':[]}"),
		     "config.json: process.args: must not be empty");
	EXPECT_ERROR(CFG(",'process':{'cwd':'work','args':['sh']}"),
		     "config.json: process.cwd: must be an absolute path");
	EXPECT_ERROR(CFG(",'mounts':[{'destination':'/a'},{'destination':'/b'},{'type':'tmpfs'}]"),
		     "config.json: mounts[2].destination: missing required field");
	EXPECT_ERROR(CFG(",'mounts':[{'destination':'/a','uidMappings':[{'containerID':0,'hostID':1}]}]"),
		     "config.json: mounts[0].uidMappings[0].size: missing required field");
	EXPECT_ERROR(CFG(",'hooks':{'poststop':[{'args':['x']}]}"),
		     "config.json: hooks.poststop[0].path: missing required field");
	EXPECT_ERROR(CFG(",'hooks':{'createRuntime':[{'path':'/a'},{'path':'bin/hook'}]}"),
		     "config.json: hooks.createRuntime[1].path: must be an absolute path");
	EXPECT_ERROR(CFG(",'hooks':{'prestart':[{'path':'/a','timeout':0}]}"),
		     "config.json: hooks.prestart[0].timeout: must be greater than zero");
	EXPECT_ERROR(CFG(",'hooks':{'poststart':[{'path':'/a','timeout':-3}]}"),
		     "config.json: hooks.poststart[0].timeout: must be greater than zero");
	EXPECT_ERROR(PROC(",'rlimits':[{'soft':1,'hard':2}]"),
		     "config.json: process.rlimits[0].type: missing required field");
	EXPECT_ERROR(PROC(",'rlimits':[{'type':'RLIMIT_NOFILE','hard':2}]"),
		     "config.json: process.rlimits[0].soft: missing required field");
	EXPECT_ERROR(PROC(",'rlimits':[{'type':'RLIMIT_NOFILE','soft':2}]"),
		     "config.json: process.rlimits[0].hard: missing required field");
	EXPECT_ERROR(PROC(",'scheduler':{'nice':1}"),
		     "config.json: process.scheduler.policy: missing required field");
	EXPECT_ERROR(PROC(",'ioPriority':{'priority':1}"),
		     "config.json: process.ioPriority.class: missing required field");
	EXPECT_ERROR(PROC(",'consoleSize':{'width':80}"),
		     "config.json: process.consoleSize.height: missing required field");
}

static void test_required_linux(void)
{
	EXPECT_ERROR(LINUX("'namespaces':[{'type':'pid'},{'path':'/x'}]"),
		     "config.json: linux.namespaces[1].type: missing required field");
	EXPECT_ERROR(LINUX("'namespaces':[{'type':'pid'},{'type':'foo'}]"),
		     "config.json: linux.namespaces[1].type: unknown namespace type \"foo\"");
	EXPECT_ERROR(LINUX("'namespaces':[{'type':'network','path':'run/netns/x'}]"),
		     "config.json: linux.namespaces[0].path: must be an absolute path");
	EXPECT_ERROR(LINUX("'devices':[{'type':'c','major':1,'minor':3}]"),
		     "config.json: linux.devices[0].path: missing required field");
	EXPECT_ERROR(LINUX("'devices':[{'path':'/dev/null','major':1,'minor':3}]"),
		     "config.json: linux.devices[0].type: missing required field");
	EXPECT_ERROR(LINUX("'devices':[{'path':'/dev/x','type':'z'}]"),
		     "config.json: linux.devices[0].type: unknown device type \"z\" "
		     "(expected c, b, u or p)");
	EXPECT_ERROR(LINUX("'devices':[{'path':'/dev/x','type':'b','minor':1}]"),
		     "config.json: linux.devices[0].major: missing required field");
	EXPECT_ERROR(LINUX("'uidMappings':[{'hostID':1,'size':1}]"),
		     "config.json: linux.uidMappings[0].containerID: missing required field");
	EXPECT_ERROR(LINUX("'gidMappings':[{'containerID':0,'size':1}]"),
		     "config.json: linux.gidMappings[0].hostID: missing required field");
	EXPECT_ERROR(LINUX("'seccomp':{'syscalls':[]}"),
		     "config.json: linux.seccomp.defaultAction: missing required field");
	EXPECT_ERROR(SECCOMP(",'syscalls':[{'action':'SCMP_ACT_KILL'}]"),
		     "config.json: linux.seccomp.syscalls[0].names: missing required field");
	EXPECT_ERROR(SECCOMP(",'syscalls':[{'names':[],'action':'SCMP_ACT_KILL'}]"),
		     "config.json: linux.seccomp.syscalls[0].names: must not be empty");
	EXPECT_ERROR(SECCOMP(",'syscalls':[{'names':['read']}]"),
		     "config.json: linux.seccomp.syscalls[0].action: missing required field");
	EXPECT_ERROR(SECCOMP(",'syscalls':[{'names':['read'],'action':'A','args':[{'value':1,'op':'SCMP_CMP_EQ'}]}]"),
		     "config.json: linux.seccomp.syscalls[0].args[0].index: missing required field");
	EXPECT_ERROR(SECCOMP(",'syscalls':[{'names':['read'],'action':'A','args':[{'index':1,'value':1}]}]"),
		     "config.json: linux.seccomp.syscalls[0].args[0].op: missing required field");
	EXPECT_ERROR(SECCOMP(",'syscalls':[{'names':['read'],'action':'A'},{'names':['w'],'action':'A',"
			     "'args':[{'index':0,'op':'SCMP_CMP_EQ'},{'index':6,'value':1,'op':'SCMP_CMP_EQ'}]}]"),
		     "config.json: linux.seccomp.syscalls[1].args[1].index: must be at most 5 (got 6)");
	EXPECT_ERROR(LINUX("'namespaces':[{'type':'pid'},{'type':'ipc'},{'type':'pid'}]"),
		     "config.json: linux.namespaces[2]: duplicate namespace type \"pid\" "
		     "(also in linux.namespaces[0])");
	EXPECT_ERROR(LINUX("'timeOffsets':{'realtime':{'secs':1}}"),
		     "config.json: linux.timeOffsets: unknown clock \"realtime\" "
		     "(expected monotonic or boottime)");
	EXPECT_ERROR(LINUX("'timeOffsets':{'boottime':{'nanosecs':1000000000}}"),
		     "config.json: linux.timeOffsets.boottime.nanosecs: must be less than 1000000000");
}

static void test_types(void)
{
	EXPECT_ERROR(CFG(",'process':{'cwd':'/','args':['sh',3]}"),
		     "config.json: process.args[1]: expected a string");
	EXPECT_ERROR(CFG(",'process':{'cwd':'/','args':[0]}"),
		     "config.json: process.args[0]: expected a string");
	EXPECT_ERROR("{'ociVersion':1}", "config.json: ociVersion: expected a string");
	EXPECT_ERROR("{'ociVersion':'1.0.0','root':'rootfs'}",
		     "config.json: root: expected an object");
	EXPECT_ERROR(CFG(",'mounts':{}"), "config.json: mounts: expected an array");
	EXPECT_ERROR(CFG(",'mounts':[{'destination':'/a'},'/b']"),
		     "config.json: mounts[1]: expected an object");
	EXPECT_ERROR(CFG(",'mounts':[{'destination':'/a','options':['ro',true]}]"),
		     "config.json: mounts[0].options[1]: expected a string");
	EXPECT_ERROR(PROC(",'terminal':'yes'"), "config.json: process.terminal: expected a boolean");
	EXPECT_ERROR(PROC(",'user':{'uid':'0'}"),
		     "config.json: process.user.uid: expected an integer between 0 and 4294967295");
	EXPECT_ERROR(PROC(",'user':{'additionalGids':[1,'2']}"),
		     "config.json: process.user.additionalGids[1]: expected an integer between 0 and 4294967295");
	EXPECT_ERROR(PROC(",'capabilities':{'bounding':['CAP_KILL',{}]}"),
		     "config.json: process.capabilities.bounding[1]: expected a string");
	EXPECT_ERROR(PROC(",'oomScoreAdj':1.5"), "config.json: process.oomScoreAdj: expected an integer");
	EXPECT_ERROR(CFG(",'annotations':{'a':'b','c':1}"),
		     "config.json: annotations.c: expected a string");
	EXPECT_ERROR(CFG(",'hooks':{'prestart':{}}"), "config.json: hooks.prestart: expected an array");
	EXPECT_ERROR(LINUX("'namespaces':{'type':'pid'}"),
		     "config.json: linux.namespaces: expected an array");
	EXPECT_ERROR(LINUX("'sysctl':{'kernel.x':1}"),
		     "config.json: linux.sysctl.kernel.x: expected a string");
	EXPECT_ERROR(LINUX("'timeOffsets':{'monotonic':{'secs':'1'}}"),
		     "config.json: linux.timeOffsets.monotonic.secs: expected an integer");
	EXPECT_ERROR(LINUX("'netDevices':{'eth0':{'name':5}}"),
		     "config.json: linux.netDevices.eth0.name: expected a string");
	EXPECT_ERROR(LINUX("'netDevices':['eth0']"), "config.json: linux.netDevices: expected an object");
	EXPECT_ERROR(SECCOMP(",'syscalls':[{'names':['read'],'action':'A','args':[{'index':0,'value':'1','op':'X'}]}]"),
		     "config.json: linux.seccomp.syscalls[0].args[0].value: expected a non-negative integer");
	EXPECT_ERROR(CFG(",'vm':[]"), "config.json: vm: expected an object");
	EXPECT_ERROR("[]", "config.json: expected a JSON object");
}

static void test_numbers(void)
{
	EXPECT_OK("uint64 max accepted for rlimits",
		  PROC(",'rlimits':[{'type':'RLIMIT_AS','soft':18446744073709551615,"
		       "'hard':18446744073709551615}]"));
	EXPECT_ERROR(PROC(",'rlimits':[{'type':'RLIMIT_AS','soft':18446744073709551616,'hard':1}]"),
		     "config.json: process.rlimits[0].soft: expected a non-negative integer");
	EXPECT_ERROR(PROC(",'rlimits':[{'type':'RLIMIT_AS','soft':1,'hard':-1}]"),
		     "config.json: process.rlimits[0].hard: expected a non-negative integer");
	EXPECT_ERROR(PROC(",'user':{'uid':0,'gid':-1}"),
		     "config.json: process.user.gid: expected an integer between 0 and 4294967295");
	EXPECT_ERROR(PROC(",'user':{'uid':4294967296}"),
		     "config.json: process.user.uid: expected an integer between 0 and 4294967295");
	EXPECT_ERROR(LINUX("'uidMappings':[{'containerID':0,'hostID':-5,'size':1}]"),
		     "config.json: linux.uidMappings[0].hostID: expected an integer between 0 and 4294967295");
	EXPECT_ERROR(PROC(",'consoleSize':{'height':-1,'width':80}"),
		     "config.json: process.consoleSize.height: expected an integer between 0 and 4294967295");
	EXPECT_ERROR(PROC(",'scheduler':{'policy':'SCHED_OTHER','nice':2147483648}"),
		     "config.json: process.scheduler.nice: expected a 32-bit integer");
	EXPECT_OK("negative device numbers and int64 secs",
		  LINUX("'devices':[{'type':'c','path':'/dev/x','major':-1,'minor':-1}],"
			"'timeOffsets':{'monotonic':{'secs':-9223372036854775808}}"));
}

static void test_versions(void)
{
	static const char *const good[] = { "1.0.0", "1.0.2-dev", "1.1.0", "1.2.0",
					    "1.0.0-rc5", "1.0", "1.2.1+build.5" };
	static const char *const bad[] = { "2.0.0", "0.9.0", "", "1", "1.", "1.x",
					   "1.0.", "1.0.0-", "v1.0.0", "10.0.0", "1.0.0.0" };

	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		_cleanup_free_ char *cfg = xasprintf("{'ociVersion':'%s','root':{'path':'r'}}", good[i]);
		_cleanup_free_ char *name = xasprintf("ociVersion \"%s\" accepted", good[i]);

		expect_ok_at(name, cfg, __LINE__);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		_cleanup_free_ char *cfg = xasprintf("{'ociVersion':'%s','root':{'path':'r'}}", bad[i]);
		_cleanup_free_ char *want = xasprintf("config.json: ociVersion: unsupported version "
						      "\"%s\" (berth supports 1.x)", bad[i]);

		expect_error_at(cfg, want, __LINE__);
	}
}

static void test_unknown_and_null(void)
{
	struct spec *s;

	EXPECT_OK("unknown fields ignored at every depth",
		  "{'ociVersion':'1.0.0','root':{'path':'r','zzz':1},'solaris':{},'windows':[1],"
		  "'process':{'cwd':'/','args':['a'],'user':{'uid':1,'sid':'x'},'zz':[{}]},"
		  "'mounts':[{'destination':'/x','what':{'ever':null}}],"
		  "'linux':{'seccomp':{'defaultAction':'A','syscalls':[{'names':['r'],'action':'A',"
		  "'comment':'c','args':[{'index':0,'op':'O','other':-1}]}]},'memoryPolicy':{}}}");
	s = parse_ok("{'ociVersion':'1.0.0','root':{'path':'r','readonly':null},'process':null,"
		     "'hostname':null,'mounts':null,'hooks':{'prestart':null},'annotations':null,"
		     "'linux':{'seccomp':null,'namespaces':null,'resources':null,'sysctl':null,"
		     "'timeOffsets':{'monotonic':null},'netDevices':{'eth0':null}},'vm':null}");
	if (CHECK("null is treated as absent", s != NULL)) {
		CHECK("null: fields left unset", !s->process && !s->hostname && !s->mounts &&
		      !s->root.readonly && !s->annotation_keys && !s->vm && s->linux &&
		      !s->linux->seccomp && !s->linux->resources && !s->linux->n_namespaces &&
		      !s->linux->time_monotonic.set && s->linux->n_net_devices == 0);
		spec_free(s);
	}
	EXPECT_ERROR("{'ociVersion':'1.0.0','root':null}", "config.json: root: missing required field");
	EXPECT_ERROR(CFG(",'process':{'cwd':null,'args':['a']}"),
		     "config.json: process.cwd: missing required field");
	EXPECT_ERROR(CFG(",'mounts':[null]"), "config.json: mounts[0]: expected an object");
}

/* Nesting that deep would overflow the stack in yajl_tree_free. */
static char *nested(size_t depth)
{
	static const char head[] = "{'ociVersion':'1.0.0','root':{'path':'r'},'x':'[{\\\\\\'',";
	size_t n = strlen(head), arrays = depth - 1;
	char *s = xmalloc(n + 2 * arrays + 32);
	char *p = s + n;

	memcpy(s, head, n);
	p += sprintf(p, "'y':");
	memset(p, '[', arrays);
	p += arrays;
	memset(p, ']', arrays);
	p += arrays;
	strcpy(p, "}");
	return s;
}

static void test_depth(void)
{
	_cleanup_free_ char *ok_cfg = nested(1000), *deep_cfg = nested(1001);
	_cleanup_free_ char *ok_err = parse_error(ok_cfg), *deep_err = parse_error(deep_cfg);

	CHECK("1000 levels of nesting accepted", ok_err == NULL);
	CHECK("1001 levels rejected", streq(deep_err, "config.json: invalid JSON: "
					    "nested deeper than 1000 levels"));
}

static void test_malformed(void)
{
	_cleanup_free_ char *e1 = parse_error("{'ociVersion':'1.0.0',");
	_cleanup_free_ char *e2 = parse_error("");
	_cleanup_free_ char *e3 = parse_error("{'ociVersion':'1.0.0'} trailing");

	CHECK("truncated JSON", e1 && str_has_prefix(e1, "config.json: invalid JSON"));
	CHECK("empty input", e2 && str_has_prefix(e2, "config.json: invalid JSON"));
	CHECK("trailing garbage", e3 && str_has_prefix(e3, "config.json: invalid JSON"));
	CHECK("error is one line", e1 && !strchr(e1, '\n'));
	test_depth();
}

static void test_process_alone(void)
{
	_cleanup_free_ char *text = json_text("{'cwd':'/','args':['ls'],'env':['A=1']}");
	_cleanup_free_ char *bad = json_text("{'cwd':'/','args':'ls'}");
	_cleanup_berr_ berr_t e = BERR_INIT;
	yajl_val v = yajl_tree_parse(text, NULL, 0);
	yajl_val w = yajl_tree_parse(bad, NULL, 0);
	struct spec_process *p = NULL;

	CHECK("spec_parse_process", spec_parse_process(v, "process", &p, &e) == 0 && p &&
	      streq(p->args[0], "ls") && streq(p->env[0], "A=1"));
	spec_process_free(p);
	p = NULL;
	CHECK("spec_parse_process error", spec_parse_process(w, "process", &p, &e) < 0 && !p &&
	      streq(e.msg, "process.args: expected an array"));
	yajl_tree_free(v);
	yajl_tree_free(w);
}

static void test_names(void)
{
	bool round_trip = true;

	for (int t = 0; t < NS_TYPE_COUNT; t++)
		round_trip &= spec_ns_from_name(spec_ns_name((enum spec_ns_type)t)) == t;
	CHECK("namespace names round-trip", round_trip);
	CHECK("namespace names", streq(spec_ns_name(NS_NETWORK), "network") &&
	      spec_ns_from_name("net") == -1 && spec_ns_from_name("") == -1 &&
	      !spec_ns_name(NS_TYPE_COUNT));
	CHECK("hook names", streq(spec_hook_name(HOOK_CREATE_RUNTIME), "createRuntime") &&
	      streq(spec_hook_name(HOOK_POSTSTOP), "poststop") &&
	      !spec_hook_name(HOOK_KIND_COUNT));
}

static void test_load(void)
{
	char dir[] = "/tmp/berth-test-spec-XXXXXX";
	_cleanup_berr_ berr_t e = BERR_INIT;
	_cleanup_free_ char *cfg = NULL, *text = json_text(CFG(",'hostname':'h'"));
	struct spec *s = NULL;

	if (!CHECK("mkdtemp", mkdtemp(dir) != NULL))
		return;
	cfg = xasprintf("%s/config.json", dir);
	CHECK("spec_load of a missing file names the path",
	      spec_load(dir, &s, &e) < 0 && e.msg && strstr(e.msg, cfg) && e.errnum == ENOENT);
	write_file(cfg, text, strlen(text), O_CREAT, 0600, &e);
	CHECK("spec_load", spec_load(dir, &s, &e) == 0 && s && streq(s->hostname, "h"));
	spec_freep(&s);
	CHECK("spec_freep clears", s == NULL);
	write_file(cfg, "{\"process\":{}}", strlen("{\"process\":{}}"), O_CREAT, 0600, &e);
	CHECK("spec_load error is prefixed with the path",
	      spec_load(dir, &s, &e) < 0 && str_has_prefix(e.msg, cfg) &&
	      strstr(e.msg, ": ociVersion: missing required field"));
	write_file(cfg, "{}\0{\"x\":1}", 10, O_CREAT, 0600, &e);
	CHECK("spec_load rejects a NUL byte", spec_load(dir, &s, &e) < 0 &&
	      strstr(e.msg, "invalid JSON: contains a NUL byte"));
	unlink(cfg);
	rmdir(dir);
}

int main(void)
{
	test_full();
	test_minimal();
	test_required();
	test_required_linux();
	test_types();
	test_numbers();
	test_versions();
	test_unknown_and_null();
	test_malformed();
	test_process_alone();
	test_names();
	test_load();
	return tap_done();
}
