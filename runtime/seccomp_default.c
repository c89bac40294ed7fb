/* runtime/seccomp_default.c: the seccomp profile of berth's default config,
 * an allow-list equivalent in effect to the moby default, written for berth. */
#include <sched.h>
#include <stddef.h>

#include "common/json.h"
#include "common/util.h"
#include "seccomp_default.h"

/* Everyday syscalls. Names unknown to libseccomp on an architecture are
 * skipped by the compiler, so 32-bit compat names can stay. */
static const char *const allowed[] = {
	"accept", "accept4", "access", "adjtimex", "alarm", "arch_prctl", "bind", "brk",
	"cachestat", "capget", "capset", "chdir", "chmod", "chown", "chown32", "chroot",
	"clock_getres", "clock_getres_time64", "clock_gettime", "clock_gettime64",
	"clock_nanosleep", "clock_nanosleep_time64", "close", "close_range", "connect",
	"copy_file_range", "creat", "dup", "dup2", "dup3", "epoll_create", "epoll_create1",
	"epoll_ctl", "epoll_ctl_old", "epoll_pwait", "epoll_pwait2", "epoll_wait",
	"epoll_wait_old", "eventfd", "eventfd2", "execve", "execveat", "exit", "exit_group",
	"faccessat", "faccessat2", "fadvise64", "fadvise64_64", "fallocate", "fanotify_mark",
	"fchdir", "fchmod", "fchmodat", "fchmodat2", "fchown", "fchown32", "fchownat", "fcntl",
	"fcntl64", "fdatasync", "fgetxattr", "flistxattr", "flock", "fork", "fremovexattr",
	"fsetxattr", "fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync",
	"ftruncate", "ftruncate64", "futex", "futex_requeue", "futex_time64", "futex_wait",
	"futex_waitv", "futex_wake", "futimesat", "get_robust_list", "get_thread_area",
	"getcpu", "getcwd", "getdents", "getdents64", "getegid", "getegid32", "geteuid",
	"geteuid32", "getgid", "getgid32", "getgroups", "getgroups32", "getitimer",
	"getpeername", "getpgid", "getpgrp", "getpid", "getppid", "getpriority", "getrandom",
	"getresgid", "getresgid32", "getresuid", "getresuid32", "getrlimit", "getrusage",
	"getsid", "getsockname", "getsockopt", "gettid", "gettimeofday", "getuid", "getuid32",
	"getxattr", "inotify_add_watch", "inotify_init", "inotify_init1", "inotify_rm_watch",
	"io_cancel", "io_destroy", "io_getevents", "io_pgetevents", "io_pgetevents_time64",
	"io_setup", "io_submit", "ioctl", "ioprio_get", "ioprio_set", "kill",
	"landlock_add_rule", "landlock_create_ruleset", "landlock_restrict_self", "lchown",
	"lchown32", "lgetxattr", "link", "linkat", "listen", "listxattr", "llistxattr",
	"_llseek", "lremovexattr", "lseek", "lsetxattr", "lstat", "lstat64", "madvise",
	"map_shadow_stack", "membarrier", "memfd_create", "memfd_secret", "mincore", "mkdir",
	"mkdirat", "mknod", "mknodat", "mlock", "mlock2", "mlockall", "mmap", "mmap2",
	"modify_ldt", "mprotect", "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive",
	"mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64", "mq_unlink",
	"mremap", "msgctl", "msgget", "msgrcv", "msgsnd", "msync", "munlock", "munlockall",
	"munmap", "nanosleep", "newfstatat", "_newselect", "open", "openat", "openat2", "pause",
	"pidfd_getfd", "pidfd_open", "pidfd_send_signal", "pipe", "pipe2", "pkey_alloc",
	"pkey_free", "pkey_mprotect", "poll", "ppoll", "ppoll_time64", "prctl", "pread64",
	"preadv", "preadv2", "prlimit64", "process_mrelease", "pselect6", "pselect6_time64",
	"pwrite64", "pwritev", "pwritev2", "read", "readahead", "readlink", "readlinkat",
	"readv", "recv", "recvfrom", "recvmmsg", "recvmmsg_time64", "recvmsg",
	"remap_file_pages", "removexattr", "rename", "renameat", "renameat2",
	"restart_syscall", "rmdir", "rseq", "rt_sigaction", "rt_sigpending",
	"rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend",
	"rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sched_get_priority_max",
	"sched_get_priority_min", "sched_getaffinity", "sched_getattr", "sched_getparam",
	"sched_getscheduler", "sched_rr_get_interval", "sched_rr_get_interval_time64",
	"sched_setaffinity", "sched_setattr", "sched_setparam", "sched_setscheduler",
	"sched_yield", "seccomp", "select", "semctl", "semget", "semop", "semtimedop",
	"semtimedop_time64", "send", "sendfile", "sendfile64", "sendmmsg", "sendmsg", "sendto",
	"set_robust_list", "set_thread_area", "set_tid_address", "setfsgid", "setfsgid32",
	"setfsuid", "setfsuid32", "setgid", "setgid32", "setgroups", "setgroups32",
	"setitimer", "setpgid", "setpriority", "setregid", "setregid32", "setresgid",
	"setresgid32", "setresuid", "setresuid32", "setreuid", "setreuid32", "setrlimit",
	"setsid", "setsockopt", "setuid", "setuid32", "setxattr", "shmat", "shmctl", "shmdt",
	"shmget", "shutdown", "sigaltstack", "signalfd", "signalfd4", "sigprocmask",
	"sigreturn", "socket", "socketcall", "socketpair", "splice", "stat", "stat64",
	"statfs", "statfs64", "statx", "symlink", "symlinkat", "sync", "sync_file_range",
	"syncfs", "sysinfo", "tee", "tgkill", "time", "timer_create", "timer_delete",
	"timer_getoverrun", "timer_gettime", "timer_gettime64", "timer_settime",
	"timer_settime64", "timerfd_create", "timerfd_gettime", "timerfd_gettime64",
	"timerfd_settime", "timerfd_settime64", "times", "tkill", "truncate", "truncate64",
	"ugetrlimit", "umask", "uname", "unlink", "unlinkat", "utime", "utimensat",
	"utimensat_time64", "utimes", "vfork", "vmsplice", "wait4", "waitid", "waitpid",
	"write", "writev",
};

/* What a container must not do: load code into the kernel, reboot or swap,
 * mount or change namespaces, trace other processes, set the clock, reach
 * the kernel's keyrings, BPF, perf or io_uring. EPERM, as the kernel would
 * answer without the capability. */
static const char *const denied[] = {
	"acct", "add_key", "bpf", "clock_adjtime", "clock_adjtime64", "clock_settime",
	"clock_settime64", "create_module", "delete_module", "fanotify_init", "finit_module",
	"fsconfig", "fsmount", "fsopen", "fspick", "get_kernel_syms", "get_mempolicy",
	"init_module", "io_uring_enter", "io_uring_register", "io_uring_setup", "ioperm",
	"iopl", "kcmp", "kexec_file_load", "kexec_load", "keyctl", "lookup_dcookie", "mbind",
	"migrate_pages", "mount", "mount_setattr", "move_mount", "move_pages",
	"name_to_handle_at", "nfsservctl", "open_by_handle_at", "open_tree", "perf_event_open",
	"pivot_root", "process_madvise", "process_vm_readv", "process_vm_writev", "ptrace",
	"query_module", "quotactl", "quotactl_fd", "reboot", "request_key", "set_mempolicy",
	"setdomainname", "sethostname", "setns", "settimeofday", "stime", "swapoff", "swapon",
	"_sysctl", "sysfs", "syslog", "umount", "umount2", "unshare", "uselib",
	"userfaultfd", "ustat", "vhangup", "vm86", "vm86old",
};

/* personality(2) values that only select the ABI: LINUX, LINUX32,
 * UNAME26, UNAME26|LINUX32, and the query 0xffffffff. */
static const unsigned long personalities[] = {0x0, 0x8, 0x20000, 0x20008, 0xffffffff};

#define CLONE_NS_FLAGS (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | \
			CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP | 0x80 /* CLONE_NEWTIME */)

static void write_rule(struct json_writer *w, const char *const *names, size_t n,
		       const char *action, int errno_ret)
{
	json_begin_map(w);
	json_key(w, "names");
	json_begin_array(w);
	for (size_t i = 0; i < n; i++)
		json_str(w, names[i]);
	json_end_array(w);
	json_kv_str(w, "action", action);
	if (errno_ret)
		json_kv_i64(w, "errnoRet", errno_ret);
}

static void write_arg(struct json_writer *w, unsigned index, unsigned long value,
		      unsigned long value_two, const char *op)
{
	json_begin_map(w);
	json_kv_u64(w, "index", index);
	json_kv_u64(w, "value", value);
	json_kv_u64(w, "valueTwo", value_two);
	json_kv_str(w, "op", op);
	json_end_map(w);
}

void seccomp_default_write(struct json_writer *w)
{
	static const char *const personality[] = {"personality"};
	static const char *const clone[] = {"clone"};
	static const char *const clone3[] = {"clone3"};

	json_key(w, "seccomp");
	json_begin_map(w);
	/* Syscalls newer than this list look unimplemented, so that libc
	 * falls back to older ones instead of failing. */
	json_kv_str(w, "defaultAction", "SCMP_ACT_ERRNO");
	json_kv_i64(w, "defaultErrnoRet", 38 /* ENOSYS */);
	json_kv_strv(w, "architectures",
		     (char *[]){"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", NULL});
	json_key(w, "syscalls");
	json_begin_array(w);
	write_rule(w, allowed, ARRAY_SIZE(allowed), "SCMP_ACT_ALLOW", 0);
	json_end_map(w);
	write_rule(w, denied, ARRAY_SIZE(denied), "SCMP_ACT_ERRNO", 1 /* EPERM */);
	json_end_map(w);
	for (size_t i = 0; i < ARRAY_SIZE(personalities); i++) {
		write_rule(w, personality, 1, "SCMP_ACT_ALLOW", 0);
		json_key(w, "args");
		json_begin_array(w);
		write_arg(w, 0, personalities[i], 0, "SCMP_CMP_EQ");
		json_end_array(w);
		json_end_map(w);
	}
	/* clone: threads and processes, never new namespaces. */
	write_rule(w, clone, 1, "SCMP_ACT_ALLOW", 0);
	json_key(w, "args");
	json_begin_array(w);
	write_arg(w, 0, CLONE_NS_FLAGS, 0, "SCMP_CMP_MASKED_EQ");
	json_end_array(w);
	json_end_map(w);
	/* clone3 passes its flags in memory seccomp cannot read: ENOSYS makes
	 * libc fall back to clone, whose flags are checked above. */
	write_rule(w, clone3, 1, "SCMP_ACT_ERRNO", 38 /* ENOSYS */);
	json_end_map(w);
	json_end_array(w);
	json_end_map(w);
}
