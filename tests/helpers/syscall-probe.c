/* tests/helpers/syscall-probe.c: call each named syscall with harmless
 * arguments and print "NAME: strerror" so a test can see what seccomp says.
 * Built static: it runs inside the busybox rootfs. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static const struct {
	const char *name;
	long nr;
} calls[] = {
	{"mount", SYS_mount},         {"unshare", SYS_unshare},
	{"kexec_load", SYS_kexec_load}, {"init_module", SYS_init_module},
	{"ptrace", SYS_ptrace},       {"settimeofday", SYS_settimeofday},
	{"clock_settime", SYS_clock_settime}, {"reboot", SYS_reboot},
	{"setns", SYS_setns},         {"bpf", SYS_bpf},
};

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		size_t k;

		for (k = 0; k < sizeof calls / sizeof calls[0]; k++)
			if (strcmp(calls[k].name, argv[i]) == 0)
				break;
		if (k == sizeof calls / sizeof calls[0]) {
			printf("%s: unknown to the probe\n", argv[i]);
			continue;
		}
		/* Invalid arguments: a call that got through fails with EFAULT
		 * or EINVAL, never does anything. */
		errno = 0;
		syscall(calls[k].nr, -1L, -1L, -1L, -1L, -1L, -1L);
		printf("%s: %s\n", argv[i], strerror(errno));
	}
	return 0;
}
