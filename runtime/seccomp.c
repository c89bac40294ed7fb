/* runtime/seccomp.c: linux.seccomp compiled by libseccomp in berth into a
 * BPF program; the init loads it with seccomp(2) right before execve and,
 * for SCMP_ACT_NOTIFY, hands the listener fd to listenerPath. */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "common/json.h"
#include "common/log.h"
#include "common/util.h"
#include "seccomp_cache.h"
#include "setup.h"
#include "sync.h"

#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

struct seccomp_plan {
	struct sock_filter *insns;
	size_t n_insns;
	unsigned int flags;
	int listener_fd;         /* connected socket to listenerPath, or -1 */
	char *listener_metadata;
};

static const struct {
	const char *name;
	uint32_t action;
	bool takes_errno;
} actions[] = {
	{"SCMP_ACT_KILL", SCMP_ACT_KILL, false},
	{"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD, false},
	{"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS, false},
	{"SCMP_ACT_TRAP", SCMP_ACT_TRAP, false},
	{"SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0), true},
	{"SCMP_ACT_TRACE", SCMP_ACT_TRACE(0), true},
	{"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW, false},
	{"SCMP_ACT_LOG", SCMP_ACT_LOG, false},
	{"SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY, false},
};

static const struct {
	const char *name;
	enum scmp_compare op;
} operators[] = {
	{"SCMP_CMP_NE", SCMP_CMP_NE}, {"SCMP_CMP_LT", SCMP_CMP_LT},
	{"SCMP_CMP_LE", SCMP_CMP_LE}, {"SCMP_CMP_EQ", SCMP_CMP_EQ},
	{"SCMP_CMP_GE", SCMP_CMP_GE}, {"SCMP_CMP_GT", SCMP_CMP_GT},
	{"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

static const struct {
	const char *name;
	unsigned int flag;
} filter_flags[] = {
	{"SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC},
	{"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG},
	{"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW},
	{"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV},
};

/* "SCMP_ARCH_X86_64" -> libseccomp's "x86_64". */
static uint32_t arch_from_name(const char *name)
{
	_cleanup_free_ char *lower = NULL;

	if (!str_has_prefix(name, "SCMP_ARCH_"))
		return 0;
	lower = xstrdup(name + strlen("SCMP_ARCH_"));
	for (char *p = lower; *p; p++)
		*p = (*p >= 'A' && *p <= 'Z') ? *p - 'A' + 'a' : *p;
	return seccomp_arch_resolve_name(lower);
}

static int parse_action(const char *name, opt_u64 errno_ret, const char *path,
			uint32_t *out, berr_t *e)
{
	for (size_t i = 0; i < ARRAY_SIZE(actions); i++) {
		if (strcmp(actions[i].name, name) != 0)
			continue;
		if (!actions[i].takes_errno) {
			*out = actions[i].action;
			return 0;
		}
		if (errno_ret.set && errno_ret.v > 4095)
			return berr_set(e, EINVAL, "%s.errnoRet: %llu is not an errno value", path,
					(unsigned long long)errno_ret.v);
		*out = actions[i].action | (errno_ret.set ? errno_ret.v : EPERM);
		return 0;
	}
	return berr_set(e, EINVAL, "%s.action: unknown seccomp action \"%s\"", path, name);
}

static int parse_args(const struct spec_seccomp_syscall *sc, const char *path,
		      struct scmp_arg_cmp *cmp, berr_t *e)
{
	for (size_t i = 0; i < sc->n_args; i++) {
		const struct spec_seccomp_arg *a = &sc->args[i];
		size_t k;

		for (k = 0; k < ARRAY_SIZE(operators); k++)
			if (a->op && strcmp(operators[k].name, a->op) == 0)
				break;
		if (k == ARRAY_SIZE(operators))
			return berr_set(e, EINVAL, "%s.args[%zu].op: unknown operator \"%s\"", path, i,
					a->op ? a->op : "");
		if (a->index > 5)
			return berr_set(e, EINVAL, "%s.args[%zu].index: %u is above 5", path, i, a->index);
		cmp[i] = (struct scmp_arg_cmp){
			.arg = a->index, .op = operators[k].op,
			.datum_a = a->value, .datum_b = a->value_two,
		};
	}
	return 0;
}

static bool distinct_indexes(const struct scmp_arg_cmp *cmp, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (cmp[i].arg == cmp[j].arg)
				return false;
	return true;
}

/* One rule per name. libseccomp takes one comparison per argument in a
 * rule, so comparisons on the same argument become separate rules (OR), as
 * runc and crun do. */
static int add_syscall(scmp_filter_ctx ctx, const struct spec_seccomp_syscall *sc,
		       uint32_t default_action, const char *path, berr_t *e)
{
	struct scmp_arg_cmp cmp[6];
	uint32_t action;

	if (sc->n_args > 6)
		return berr_set(e, EINVAL, "%s.args: more than 6 comparisons", path);
	if (parse_action(sc->action, sc->errno_ret, path, &action, e) < 0 ||
	    parse_args(sc, path, cmp, e) < 0)
		return -1;
	if (action == default_action)
		return 0; /* libseccomp rejects rules equal to the default */
	for (size_t i = 0; sc->names && sc->names[i]; i++) {
		int nr = seccomp_syscall_resolve_name(sc->names[i]);
		int r = 0;

		if (nr == __NR_SCMP_ERROR) {
			log_debug("seccomp: syscall \"%s\" unknown to libseccomp, skipped", sc->names[i]);
			continue;
		}
		if (distinct_indexes(cmp, sc->n_args)) {
			r = seccomp_rule_add_array(ctx, action, nr, sc->n_args, cmp);
		} else {
			for (size_t k = 0; k < sc->n_args && r == 0; k++)
				r = seccomp_rule_add_array(ctx, action, nr, 1, &cmp[k]);
		}
		if (r < 0)
			return berr_errno(e, -r, "%s: add rule for \"%s\"", path, sc->names[i]);
	}
	return 0;
}

/* Everything the compiled program depends on: berth, libseccomp, the
 * kernel (libseccomp probes its API level), and the profile itself. */
static char *cache_key(const struct spec *s)
{
	const struct scmp_version *v = seccomp_version();
	struct json_writer *w = json_writer_new();
	struct utsname u;
	char *key;

	uname(&u);
	json_value(w, json_get(json_get(s->tree, "linux"), "seccomp"));
	key = xasprintf("berth %s\nlibseccomp %u.%u.%u\nkernel %s %s\n%s", BERTH_VERSION,
			v->major, v->minor, v->micro, u.release, u.machine, json_writer_str(w));
	json_writer_free(w);
	return key;
}

static int compile(const struct spec_seccomp *sp, struct seccomp_plan *plan, berr_t *e)
{
	scmp_filter_ctx ctx;
	uint32_t default_action;
	_cleanup_close_ int fd = -1;
	char *buf = NULL;
	size_t len = 0;
	int r, ret = -1;

	if (parse_action(sp->default_action, sp->default_errno_ret, "linux.seccomp.default",
			 &default_action, e) < 0)
		return berr_wrap(e, "linux.seccomp.defaultAction");
	ctx = seccomp_init(default_action);
	if (!ctx)
		return berr_set(e, EINVAL, "linux.seccomp: cannot initialise libseccomp");
	for (size_t i = 0; sp->architectures && sp->architectures[i]; i++) {
		uint32_t arch = arch_from_name(sp->architectures[i]);

		if (!arch) {
			berr_set(e, EINVAL, "linux.seccomp.architectures[%zu]: unknown architecture \"%s\"",
				 i, sp->architectures[i]);
			goto out;
		}
		r = seccomp_arch_add(ctx, arch);
		if (r < 0 && r != -EEXIST) {
			berr_errno(e, -r, "linux.seccomp.architectures[%zu]: add \"%s\"", i,
				 sp->architectures[i]);
			goto out;
		}
	}
	for (size_t i = 0; i < sp->n_syscalls; i++) {
		_cleanup_free_ char *path = xasprintf("linux.seccomp.syscalls[%zu]", i);

		if (add_syscall(ctx, &sp->syscalls[i], default_action, path, e) < 0)
			goto out;
	}
	fd = memfd_create("berth-seccomp", MFD_CLOEXEC);
	if (fd < 0) {
		berr_sys(e, "memfd_create");
		goto out;
	}
	r = seccomp_export_bpf(ctx, fd);
	if (r < 0) {
		berr_errno(e, -r, "linux.seccomp: export the filter");
		goto out;
	}
	if (lseek(fd, 0, SEEK_SET) < 0) {
		berr_sys(e, "seek the seccomp filter");
		goto out;
	}
	if (read_fd(fd, 0, "the seccomp filter", &buf, &len, e) < 0)
		goto out;
	plan->insns = (struct sock_filter *)buf;
	plan->n_insns = len / sizeof(struct sock_filter);
	ret = 0;
out:
	seccomp_release(ctx);
	return ret;
}

static int parse_flags(const struct spec_seccomp *sp, unsigned int *flags, berr_t *e)
{
	for (size_t i = 0; sp->flags && sp->flags[i]; i++) {
		size_t k;

		for (k = 0; k < ARRAY_SIZE(filter_flags); k++)
			if (strcmp(filter_flags[k].name, sp->flags[i]) == 0)
				break;
		if (k == ARRAY_SIZE(filter_flags))
			return berr_set(e, EINVAL, "linux.seccomp.flags[%zu]: unknown flag \"%s\"", i,
					sp->flags[i]);
		*flags |= filter_flags[k].flag;
	}
	return 0;
}

static bool uses_notify(const struct spec_seccomp *sp)
{
	if (strcmp(sp->default_action, "SCMP_ACT_NOTIFY") == 0)
		return true;
	for (size_t i = 0; i < sp->n_syscalls; i++)
		if (sp->syscalls[i].action && strcmp(sp->syscalls[i].action, "SCMP_ACT_NOTIFY") == 0)
			return true;
	return false;
}

int seccomp_plan_make(const struct spec *s, const char *cache_root, struct seccomp_plan **out,
		      berr_t *e)
{
	const struct spec_seccomp *sp = s->linux ? s->linux->seccomp : NULL;
	_cleanup_free_ char *key = NULL;
	struct seccomp_plan *plan;
	*out = NULL;
	if (!sp)
		return 0;
	plan = xzalloc(sizeof *plan);
	plan->listener_fd = -1;
	if (parse_flags(sp, &plan->flags, e) < 0)
		goto fail;
	key = cache_key(s);
	if (!seccomp_cache_lookup(cache_root, key, strlen(key), &plan->insns, &plan->n_insns)) {
		if (compile(sp, plan, e) < 0)
			goto fail;
		seccomp_cache_store(cache_root, key, strlen(key), plan->insns, plan->n_insns);
	}
	if (uses_notify(sp)) {
		if (!sp->listener_path) {
			berr_set(e, EINVAL, "linux.seccomp: SCMP_ACT_NOTIFY needs a listenerPath");
			goto fail;
		}
		plan->flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
		plan->listener_fd = unix_connect(sp->listener_path, SOCK_STREAM,
						    "linux.seccomp.listenerPath", e);
		if (plan->listener_fd < 0)
			goto fail;
		plan->listener_metadata = xstrdup(sp->listener_metadata ? sp->listener_metadata : "");
	}
	*out = plan;
	return 0;
fail:
	seccomp_plan_free(plan);
	return -1;
}

void seccomp_plan_free(struct seccomp_plan *plan)
{
	if (!plan)
		return;
	free(plan->insns);
	free(plan->listener_metadata);
	if (plan->listener_fd >= 0)
		close(plan->listener_fd);
	free(plan);
}

void seccomp_write_features(struct json_writer *w)
{
	static const char *const archs[] = {
		"SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_ARM",
		"SCMP_ARCH_AARCH64", "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32",
		"SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
		"SCMP_ARCH_PPC64", "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390", "SCMP_ARCH_S390X",
		"SCMP_ARCH_PARISC", "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64",
	};

	json_key(w, "seccomp");
	json_begin_map(w);
	json_kv_bool(w, "enabled", true);
	json_key(w, "actions");
	json_begin_array(w);
	for (size_t i = 0; i < ARRAY_SIZE(actions); i++)
		json_str(w, actions[i].name);
	json_end_array(w);
	json_key(w, "operators");
	json_begin_array(w);
	for (size_t i = 0; i < ARRAY_SIZE(operators); i++)
		json_str(w, operators[i].name);
	json_end_array(w);
	json_key(w, "archs");
	json_begin_array(w);
	for (size_t i = 0; i < ARRAY_SIZE(archs); i++)
		if (arch_from_name(archs[i]))
			json_str(w, archs[i]);
	json_end_array(w);
	for (int k = 0; k < 2; k++) {
		json_key(w, k ? "supportedFlags" : "knownFlags");
		json_begin_array(w);
		for (size_t i = 0; i < ARRAY_SIZE(filter_flags); i++)
			json_str(w, filter_flags[i].name);
		json_end_array(w);
	}
	json_end_map(w);
}

/* The runtime-spec's "container process state" sent with the notify fd. */
static char *process_state_json(const struct seccomp_plan *plan, const char *state_json)
{
	struct json_writer *w = json_writer_new();
	_cleanup_json_ yajl_val state = NULL;
	berr_t ignored = BERR_INIT;
	yajl_val pid = NULL;
	char *out;

	if (state_json && json_parse(state_json, "state", &state, &ignored) == 0)
		pid = json_get(state, "pid");
	berr_free(&ignored);
	json_begin_map(w);
	json_kv_str(w, "ociVersion", "1.2.0");
	json_kv_strv(w, "fds", (char *[]){"seccompFd", NULL});
	json_key(w, "pid");
	json_value(w, pid);
	json_kv_str(w, "metadata", plan->listener_metadata);
	json_key(w, "state");
	json_value(w, state);
	json_end_map(w);
	out = xstrdup(json_writer_str(w));
	json_writer_free(w);
	return out;
}

int seccomp_plan_load(struct seccomp_plan *plan, const char *state_json, berr_t *e)
{
	struct sock_fprog prog;
	long fd;

	if (!plan)
		return 0;
	prog.len = plan->n_insns;
	prog.filter = plan->insns;
	fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, plan->flags, &prog);
	if (fd < 0)
		return berr_sys(e, "load seccomp filter");
	if (plan->listener_fd >= 0) {
		_cleanup_free_ char *msg = process_state_json(plan, state_json);
		int r = send_fd(plan->listener_fd, fd, msg, strlen(msg), e);

		close(fd);
		close(plan->listener_fd);
		plan->listener_fd = -1;
		if (r < 0)
			return berr_wrap(e, "send seccomp notify fd to the listener");
	}
	return 0;
}
