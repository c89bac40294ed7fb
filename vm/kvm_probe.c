/* vm/kvm_probe.c: is /dev/kvm good enough for a Linux guest? A tiny 64-bit
 * VM runs a timed loop and an int3 through its own IDT; a software "KVM"
 * (kvm_pvm without hardware virtualisation) fails or crawls. Once per boot. */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "vm.h"

#define PROBE_CACHE ".vm-kvm-probe"
#define PROBE_TIMEOUT_MS 3000
#define MEM_SIZE 0x10000
#define LOOP_COUNT 200000
/* An emulated CPU is ~1,700x slower than native; hardware KVM ~1x. */
#define MAX_SLOWDOWN 30

/* Guest physical layout of the probe VM. */
enum {
	PML4 = 0x1000, PDPT = 0x2000, PD = 0x3000,
	CODE = 0x4000, HANDLER = 0x5000, IDT = 0x6000, GDT = 0x7000, STACK_TOP = 0x9000,
	DONE_PORT = 0x10, DONE_VALUE = 0x42,
};

struct probe_result {
	bool usable;
	char why[200];
};

static void put64(uint8_t *mem, size_t at, uint64_t v)
{
	memcpy(mem + at, &v, sizeof v);
}

static void build_guest(uint8_t *mem)
{
	/* mov ecx, LOOP_COUNT; 1: dec ecx; jnz 1b; int3; hlt */
	static const uint8_t code[] = {0xb9, LOOP_COUNT & 0xff, (LOOP_COUNT >> 8) & 0xff,
				       (LOOP_COUNT >> 16) & 0xff, LOOP_COUNT >> 24,
				       0xff, 0xc9, 0x75, 0xfc, 0xcc, 0xf4};
	/* The #BP handler: mov al, DONE_VALUE; out DONE_PORT, al; hlt */
	static const uint8_t handler[] = {0xb0, DONE_VALUE, 0xe6, DONE_PORT, 0xf4};
	uint8_t *gate = mem + IDT + 3 * 16;

	put64(mem, PML4, PDPT | 3);
	put64(mem, PDPT, PD | 3);
	put64(mem, PD, 0x83); /* 2 MiB page at 0, present + writable */
	memcpy(mem + CODE, code, sizeof code);
	memcpy(mem + HANDLER, handler, sizeof handler);
	/* 64-bit interrupt gate for vector 3: selector 8, present, DPL 0. */
	gate[0] = HANDLER & 0xff;
	gate[1] = (HANDLER >> 8) & 0xff;
	gate[2] = 0x08;
	gate[5] = 0x8e;
	put64(mem, GDT + 8, 0x00af9a000000ffffull);  /* 64-bit code */
	put64(mem, GDT + 16, 0x00cf92000000ffffull); /* data */
}

static void set_segments(struct kvm_sregs *s)
{
	struct kvm_segment code = {.base = 0, .limit = 0xffffffff, .selector = 8, .type = 11,
				   .present = 1, .s = 1, .l = 1, .g = 1};
	struct kvm_segment data = {.base = 0, .limit = 0xffffffff, .selector = 16, .type = 3,
				   .present = 1, .s = 1, .db = 1, .g = 1};

	s->cs = code;
	s->ds = s->es = s->fs = s->gs = s->ss = data;
	s->gdt.base = GDT;
	s->gdt.limit = 23;
	s->idt.base = IDT;
	s->idt.limit = 256 * 16 - 1;
	s->cr3 = PML4;
	s->cr4 = 0x20;         /* PAE */
	s->cr0 = 0x80000011;   /* PG | ET | PE */
	s->efer = 0x500;       /* LME | LMA */
}

static uint64_t native_loop_ns(void)
{
	uint64_t t0 = now_ns();
	unsigned n = LOOP_COUNT;

	__asm__ volatile("1: dec %0\n\tjnz 1b" : "+r"(n));
	return now_ns() - t0;
}

static int set_cpuid(int kvm, int vcpu, struct probe_result *r)
{
	size_t size = sizeof(struct kvm_cpuid2) + 256 * sizeof(struct kvm_cpuid_entry2);
	_cleanup_free_ struct kvm_cpuid2 *cpuid = xzalloc(size);

	cpuid->nent = 256;
	if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, cpuid) < 0 || ioctl(vcpu, KVM_SET_CPUID2, cpuid) < 0) {
		snprintf(r->why, sizeof r->why, "set the vCPU's CPUID: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static void explain_exit(const struct kvm_run *run, struct probe_result *r)
{
	switch (run->exit_reason) {
	case KVM_EXIT_INTERNAL_ERROR:
		snprintf(r->why, sizeof r->why,
			 "KVM internal error (suberror %u) on an int3 in 64-bit mode: /dev/kvm emulates the CPU without hardware virtualisation",
			 run->internal.suberror);
		break;
	case KVM_EXIT_SHUTDOWN:
		snprintf(r->why, sizeof r->why, "the probe VM triple-faulted on an int3 through its IDT");
		break;
	case KVM_EXIT_FAIL_ENTRY:
		snprintf(r->why, sizeof r->why, "VM entry failed (hardware reason %llx)",
			 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		break;
	case KVM_EXIT_HLT:
		snprintf(r->why, sizeof r->why, "the probe's int3 did not reach its handler");
		break;
	default:
		snprintf(r->why, sizeof r->why, "unexpected exit %u from the probe VM", run->exit_reason);
	}
}

static void probe(struct probe_result *r)
{
	_cleanup_close_ int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	_cleanup_close_ int vmfd = -1, vcpu = -1;
	struct kvm_userspace_memory_region region = {.memory_size = MEM_SIZE};
	struct kvm_sregs sregs;
	struct kvm_regs regs = {.rip = CODE, .rsp = STACK_TOP, .rflags = 2};
	struct kvm_run *run;
	uint8_t *mem;
	uint64_t t0, guest_ns, host_ns;
	int run_size;

	if (kvm < 0) {
		snprintf(r->why, sizeof r->why, "open /dev/kvm: %s", strerror(errno));
		return;
	}
	if (ioctl(kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION ||
	    (vmfd = ioctl(kvm, KVM_CREATE_VM, 0)) < 0) {
		snprintf(r->why, sizeof r->why, "create a VM: %s", strerror(errno));
		return;
	}
	mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		snprintf(r->why, sizeof r->why, "mmap guest memory: %s", strerror(errno));
		return;
	}
	build_guest(mem);
	region.userspace_addr = (uintptr_t)mem;
	vcpu = ioctl(vmfd, KVM_CREATE_VCPU, 0);
	run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (ioctl(vmfd, KVM_SET_USER_MEMORY_REGION, &region) < 0 || vcpu < 0 || run_size <= 0) {
		snprintf(r->why, sizeof r->why, "set up the probe VM: %s", strerror(errno));
		return;
	}
	run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED || set_cpuid(kvm, vcpu, r) < 0 ||
	    ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0) {
		if (!*r->why)
			snprintf(r->why, sizeof r->why, "set up the probe vCPU: %s", strerror(errno));
		return;
	}
	set_segments(&sregs);
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0 || ioctl(vcpu, KVM_SET_REGS, &regs) < 0) {
		snprintf(r->why, sizeof r->why, "enter 64-bit mode: %s", strerror(errno));
		return;
	}
	t0 = now_ns();
	if (ioctl(vcpu, KVM_RUN, 0) < 0) {
		snprintf(r->why, sizeof r->why, "KVM_RUN: %s", strerror(errno));
		return;
	}
	guest_ns = now_ns() - t0;
	if (run->exit_reason != KVM_EXIT_IO || run->io.port != DONE_PORT ||
	    ((uint8_t *)run)[run->io.data_offset] != DONE_VALUE) {
		explain_exit(run, r);
		return;
	}
	host_ns = native_loop_ns();
	if (host_ns && guest_ns / host_ns > MAX_SLOWDOWN) {
		snprintf(r->why, sizeof r->why,
			 "KVM runs the probe %llux slower than the host: the CPU is emulated",
			 (unsigned long long)(guest_ns / host_ns));
		return;
	}
	r->usable = true;
	snprintf(r->why, sizeof r->why, "KVM ran the probe in %llu us",
		 (unsigned long long)(guest_ns / 1000));
}

/* In a child with a deadline: a broken hypervisor may hang in KVM_RUN. */
static void probe_with_timeout(struct probe_result *r)
{
	int fds[2], status;
	pid_t pid;

	memset(r, 0, sizeof *r);
	if (pipe2(fds, O_CLOEXEC) < 0) {
		snprintf(r->why, sizeof r->why, "pipe: %s", strerror(errno));
		return;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(r->why, sizeof r->why, "fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return;
	}
	if (pid == 0) {
		struct probe_result child = {0};

		close(fds[0]);
		probe(&child);
		_exit(write_all(fds[1], &child, sizeof child) < 0);
	}
	close(fds[1]);
	{
		struct pollfd p = {.fd = fds[0], .events = POLLIN};

		if (poll(&p, 1, PROBE_TIMEOUT_MS) <= 0 || read_all(fds[0], r, sizeof *r) != sizeof *r) {
			memset(r, 0, sizeof *r);
			snprintf(r->why, sizeof r->why, "the KVM probe did not finish in %d ms",
				 PROBE_TIMEOUT_MS);
			kill(pid, SIGKILL);
		}
	}
	close(fds[0]);
	waitpid(pid, &status, 0);
	r->why[sizeof r->why - 1] = '\0';
}

static char *boot_id(void)
{
	char *text = NULL;
	berr_t ignored = BERR_INIT;

	if (read_file("/proc/sys/kernel/random/boot_id", &text, NULL, &ignored) < 0) {
		berr_free(&ignored);
		return xstrdup("unknown");
	}
	text[strcspn(text, "\n")] = '\0';
	return text;
}

bool vm_kvm_usable(const char *cache_root, const char **why)
{
	static struct probe_result r;
	_cleanup_free_ char *id = boot_id(), *path = NULL, *text = NULL, *line = NULL;
	berr_t err = BERR_INIT;

	path = xasprintf("%s/%s", cache_root ? cache_root : "/run", PROBE_CACHE);
	/* "BOOT_ID\nUSABLE\nWHY\n" */
	if (read_file(path, &text, NULL, &err) == 0) {
		char *usable = strchr(text, '\n'), *reason = usable ? strchr(usable + 1, '\n') : NULL;

		if (usable && reason && !strncmp(text, id, usable - text) &&
		    (size_t)(usable - text) == strlen(id)) {
			r.usable = usable[1] == '1';
			snprintf(r.why, sizeof r.why, "%.*s", (int)strcspn(reason + 1, "\n"), reason + 1);
			*why = r.why;
			return r.usable;
		}
	}
	berr_free(&err);
	probe_with_timeout(&r);
	log_debug("vm: KVM probe: %s", r.why);
	line = xasprintf("%s\n%d\n%s\n", id, r.usable, r.why);
	if (mkdir_p(cache_root ? cache_root : "/run", 0700, &err) < 0 ||
	    write_file(path, line, strlen(line), O_CREAT, 0600, &err) < 0) {
		log_debug("vm: cannot cache the KVM probe: %s", err.msg);
		berr_free(&err);
	}
	*why = r.why;
	return r.usable;
}

const char *vm_accel_label(const char *accel)
{
	return accel && !strcmp(accel, "kvm") ? "KVM" : "TCG (emulated CPU)";
}
