/* cgroups/devices_bpf.c: device rules on cgroup v2 (no devices controller): an
 * eBPF program assembled here, loaded and attached with the raw bpf(2) call. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroups/internal.h"
#include "common/log.h"
#include "common/util.h"

/* ---- building the program ----
 *
 * The kernel calls the program with a struct bpf_cgroup_dev_ctx in r1:
 *   access_type (u32, offset 0): (BPF_DEVCG_ACC_* << 16) | BPF_DEVCG_DEV_*
 *   major (u32, offset 4), minor (u32, offset 8)
 * and allows the access when it returns 1.
 *
 * The OCI spec orders rules so that a later rule overrides an earlier one,
 * so the program tests them from the last to the first and returns at the
 * first match; nothing matching means deny. An allow rule matches only when
 * it grants every requested access bit (as the v1 controller does); a deny
 * rule matches when it names any of them, so that "allow rwm, deny w" never
 * lets an O_RDWR open through. */

enum { R_CTX = 1, R_TYPE = 2, R_ACCESS = 3, R_MAJOR = 4, R_MINOR = 5, R_TMP = 1 };

static struct bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	return (struct bpf_insn){ .code = code, .dst_reg = dst, .src_reg = src,
				  .off = off, .imm = imm };
}

#define LDX_W(dst, src, off) insn(BPF_LDX | BPF_MEM | BPF_W, dst, src, off, 0)
#define ALU32_IMM(op, dst, imm) insn(BPF_ALU | (op) | BPF_K, dst, 0, 0, imm)
#define MOV32_REG(dst, src) insn(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0)
#define MOV64_IMM(dst, imm) insn(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm)
/* Jumps are emitted with off = 0 and pointed at the end of the rule later. */
#define JMP_IMM(op, dst, imm) insn(BPF_JMP | (op) | BPF_K, dst, 0, 0, imm)
#define EXIT() insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

struct prog {
	struct bpf_insn *insns;
	size_t n;
};

static void emit(struct prog *p, struct bpf_insn i)
{
	p->insns = xreallocarray(p->insns, p->n + 1, sizeof *p->insns);
	p->insns[p->n++] = i;
}

static int32_t access_mask(const char *access)
{
	int32_t m = 0;

	for (const char *c = access; *c; c++)
		m |= *c == 'r' ? BPF_DEVCG_ACC_READ : *c == 'w' ? BPF_DEVCG_ACC_WRITE
			      : *c == 'm' ? BPF_DEVCG_ACC_MKNOD : 0;
	return m;
}

#define ACC_ALL (BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD)

/* Emit one rule; returns false when it matches everything (so nothing
 * before it can ever be reached). */
static bool emit_rule(struct prog *p, const struct cg_device_rule *d)
{
	size_t start = p->n;
	int32_t acc = access_mask(d->access);

	if (d->type != 'a')
		emit(p, JMP_IMM(BPF_JNE, R_TYPE,
				d->type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK));
	if (acc != ACC_ALL) {
		emit(p, MOV32_REG(R_TMP, R_ACCESS));
		if (d->allow) {
			emit(p, ALU32_IMM(BPF_AND, R_TMP, ~acc & ACC_ALL));
			emit(p, JMP_IMM(BPF_JNE, R_TMP, 0));
		} else {
			emit(p, ALU32_IMM(BPF_AND, R_TMP, acc));
			emit(p, JMP_IMM(BPF_JEQ, R_TMP, 0));
		}
	}
	if (d->major >= 0)
		emit(p, JMP_IMM(BPF_JNE, R_MAJOR, (int32_t)d->major));
	if (d->minor >= 0)
		emit(p, JMP_IMM(BPF_JNE, R_MINOR, (int32_t)d->minor));
	bool conditional = p->n > start;

	emit(p, MOV64_IMM(0, d->allow ? 1 : 0));
	emit(p, EXIT());
	/* Every conditional jump of the rule skips to the next rule. */
	for (size_t i = start; i < p->n; i++) {
		uint8_t cls = BPF_CLASS(p->insns[i].code);

		if (cls == BPF_JMP && BPF_OP(p->insns[i].code) != BPF_EXIT)
			p->insns[i].off = (int16_t)(p->n - i - 1);
	}
	return conditional;
}

void cg_bpf_build(const struct cg_device_rule *rules, size_t n,
		  struct bpf_insn **insns, size_t *n_insns)
{
	struct prog p = { 0 };
	bool reachable = true;

	emit(&p, LDX_W(R_TYPE, R_CTX, 0));
	emit(&p, ALU32_IMM(BPF_AND, R_TYPE, 0xffff));
	emit(&p, LDX_W(R_ACCESS, R_CTX, 0));
	emit(&p, ALU32_IMM(BPF_RSH, R_ACCESS, 16));
	emit(&p, LDX_W(R_MAJOR, R_CTX, 4));
	emit(&p, LDX_W(R_MINOR, R_CTX, 8));
	for (size_t i = n; i-- > 0 && reachable;)
		reachable = emit_rule(&p, &rules[i]);
	/* The verifier rejects unreachable code: no default after a catch-all. */
	if (reachable) {
		emit(&p, MOV64_IMM(0, 0));
		emit(&p, EXIT());
	}
	*insns = p.insns;
	*n_insns = p.n;
}

/* ---- loading and attaching ---- */

static int sys_bpf(int cmd, union bpf_attr *attr)
{
	return (int)syscall(__NR_bpf, cmd, attr, sizeof *attr);
}

static int load_program(const struct bpf_insn *insns, size_t n, berr_t *e)
{
	static const char license[] = "Apache-2.0";
	union bpf_attr attr;
	_cleanup_free_ char *log = NULL;
	int fd;

	memset(&attr, 0, sizeof attr);
	attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	attr.insns = (uint64_t)(uintptr_t)insns;
	attr.insn_cnt = (uint32_t)n;
	attr.license = (uint64_t)(uintptr_t)license;
	fd = sys_bpf(BPF_PROG_LOAD, &attr);
	if (fd >= 0)
		return fd;
	if (errno != EINVAL && errno != EACCES)
		return berr_sys(e, "load the eBPF device filter");
	/* Ask the verifier why, for the error message. */
	log = xzalloc(65536);
	attr.log_level = 1;
	attr.log_buf = (uint64_t)(uintptr_t)log;
	attr.log_size = 65536;
	fd = sys_bpf(BPF_PROG_LOAD, &attr);
	if (fd >= 0)
		return fd;
	int saved = errno;
	size_t len = strlen(log);

	while (len > 0 && log[len - 1] == '\n')
		log[--len] = '\0';
	const char *last = strrchr(log, '\n');

	return berr_set(e, saved, "load the eBPF device filter: verifier: %s",
			last ? last + 1 : log);
}

static int query_ids(int cgfd, uint32_t **ids, size_t *n, const char *dir, berr_t *e)
{
	uint32_t cap = 64;

	for (;;) {
		union bpf_attr attr;
		uint32_t *buf = xcalloc(cap, sizeof *buf);

		memset(&attr, 0, sizeof attr);
		attr.query.target_fd = cgfd;
		attr.query.attach_type = BPF_CGROUP_DEVICE;
		attr.query.prog_ids = (uint64_t)(uintptr_t)buf;
		attr.query.prog_cnt = cap;
		if (sys_bpf(BPF_PROG_QUERY, &attr) == 0) {
			*ids = buf;
			*n = attr.query.prog_cnt;
			return 0;
		}
		free(buf);
		if (errno != ENOSPC || cap >= 65536)
			return berr_sys(e, "query the eBPF device filters of \"%s\"", dir);
		cap *= 16;
	}
}

int cg_bpf_query(const char *cgroup_dir, uint32_t **ids, size_t *n, berr_t *e)
{
	_cleanup_close_ int cgfd = open(cgroup_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (cgfd < 0)
		return berr_sys(e, "open \"%s\"", cgroup_dir);
	return query_ids(cgfd, ids, n, cgroup_dir, e);
}

/* Detach a program that an earlier filter of this cgroup left behind. */
static int detach_id(int cgfd, uint32_t id, const char *dir, berr_t *e)
{
	union bpf_attr attr;
	_cleanup_close_ int progfd = -1;

	memset(&attr, 0, sizeof attr);
	attr.prog_id = id;
	progfd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &attr);
	if (progfd < 0) {
		if (errno == ENOENT)
			return 0; /* gone meanwhile */
		return berr_sys(e, "get the eBPF program %u attached to \"%s\"", id, dir);
	}
	memset(&attr, 0, sizeof attr);
	attr.target_fd = cgfd;
	attr.attach_bpf_fd = progfd;
	attr.attach_type = BPF_CGROUP_DEVICE;
	if (sys_bpf(BPF_PROG_DETACH, &attr) < 0 && errno != ENOENT)
		return berr_sys(e, "detach the old eBPF device filter from \"%s\"", dir);
	return 0;
}

/* The new filter is attached before the old ones go, so the cgroup is never
 * without one; in between both run and both must allow. */
int cg_bpf_apply(const char *cgroup_dir, const struct cg_device_rule *rules, size_t n,
		 berr_t *e)
{
	_cleanup_free_ struct bpf_insn *insns = NULL;
	_cleanup_free_ uint32_t *old = NULL;
	_cleanup_close_ int cgfd = -1;
	_cleanup_close_ int progfd = -1;
	union bpf_attr attr;
	size_t n_insns, n_old = 0;

	cg_bpf_build(rules, n, &insns, &n_insns);
	cgfd = open(cgroup_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cgfd < 0)
		return berr_sys(e, "open \"%s\"", cgroup_dir);
	if (query_ids(cgfd, &old, &n_old, cgroup_dir, e) < 0)
		return -1;
	progfd = load_program(insns, n_insns, e);
	if (progfd < 0)
		return -1;
	memset(&attr, 0, sizeof attr);
	attr.target_fd = cgfd;
	attr.attach_bpf_fd = progfd;
	attr.attach_type = BPF_CGROUP_DEVICE;
	attr.attach_flags = BPF_F_ALLOW_MULTI;
	if (sys_bpf(BPF_PROG_ATTACH, &attr) < 0)
		return berr_sys(e, "attach the eBPF device filter to \"%s\"", cgroup_dir);
	for (size_t i = 0; i < n_old; i++)
		if (detach_id(cgfd, old[i], cgroup_dir, e) < 0)
			return -1;
	log_debug("cgroup: eBPF device filter of %zu rules (%zu instructions) on \"%s\"",
		  n, n_insns, cgroup_dir);
	return 0;
}
