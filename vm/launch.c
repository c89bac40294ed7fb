/* vm/launch.c: qemu -M microvm for one container: the root filesystem image,
 * the command line, the control port (a FIFO in, a file out, in the state
 * directory) and the wait for the guest init's "ready". */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "internal.h"
#include "protocol.h"
#include "vm.h"

#define QEMU "qemu-system-x86_64"
/* Under TCG a boot takes seconds; a loaded CI machine, many. */
#define READY_TIMEOUT_MS 120000

static char *state_file(const char *state_dir, const char *name)
{
	return xasprintf("%s/%s", state_dir, name);
}

/* qemu's option syntax: a comma inside a value is written twice. */
static char *qemu_escape(const char *s)
{
	size_t n = strlen(s), commas = 0;
	char *out, *p;

	for (size_t i = 0; i < n; i++)
		commas += s[i] == ',';
	out = p = xmalloc(n + commas + 1);
	for (size_t i = 0; i < n; i++) {
		*p++ = s[i];
		if (s[i] == ',')
			*p++ = ',';
	}
	*p = '\0';
	return out;
}

bool vm_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	int shift = 0;

	if (!s || !*s || *s == '-')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return false;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case '\0': break;
	default: return false;
	}
	if ((*end == 'i' || *end == 'b' || *end == 'B') && shift) /* "256MiB", "1GB" */
		end += *end == 'i' ? 1 : 0;
	if ((*end == 'B' || *end == 'b') && shift)
		end++;
	if (*end || v > (UINT64_MAX >> shift))
		return false;
	*out = (uint64_t)v << shift;
	return true;
}

/* The host TSC's frequency: without tsc_early_khz some boots hung in the
 * guest's TSC calibration under TCG. */
static unsigned long tsc_khz(void)
{
	_cleanup_free_ char *text = NULL;
	berr_t ignored = BERR_INIT;
	const char *p;
	double mhz = 0;

	if (read_file("/sys/devices/system/cpu/cpu0/tsc_freq_khz", &text, NULL, &ignored) == 0)
		return strtoul(text, NULL, 10);
	berr_free(&ignored);
	if (read_file("/proc/cpuinfo", &text, NULL, &ignored) == 0 &&
	    (p = strstr(text, "cpu MHz")) && (p = strchr(p, ':')))
		mhz = strtod(p + 1, NULL);
	berr_free(&ignored);
	return mhz > 0 ? (unsigned long)(mhz * 1000) : 0;
}

static int choose_accel(const struct vm_config *cfg, char accel[8], berr_t *e)
{
	const char *want = cfg->accel ? cfg->accel : "auto";
	const char *why = "";
	bool usable;

	if (!strcmp(want, "tcg")) {
		strcpy(accel, "tcg");
		return 0;
	}
	if (strcmp(want, "kvm") && strcmp(want, "auto"))
		return berr_set(e, EINVAL, "--vm-accel: expected auto, kvm or tcg, got \"%s\"", want);
	usable = vm_kvm_usable(cfg->cache_root, &why);
	if (!strcmp(want, "kvm") && !usable)
		return berr_set(e, ENODEV, "--vm-accel kvm: KVM is not usable here: %s", why);
	strcpy(accel, usable ? "kvm" : "tcg");
	if (!usable)
		log_debug("vm: KVM not usable (%s): using TCG, an emulated CPU", why);
	return 0;
}

static uint64_t tree_bytes;

static int add_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	/* Data blocks, a fragment's worth of slack, and metadata per inode. */
	tree_bytes += (S_ISREG(st->st_mode) ? (uint64_t)st->st_size + 4096 : 0) + 512;
	return 0;
}

/* The root filesystem as an uncompressed squashfs image: the best guest
 * I/O. mksquashfs runs while the guest kernel boots (the guest mounts the
 * image only after berth sends "boot"). qemu sizes the disk when it opens
 * it, and mksquashfs truncates its output: so the disk is a file of an upper
 * bound of the image's size, and the image, built beside it, is copied in
 * once done. Squashfs reads only the bytes it wrote. */
static int start_root_image(const struct vm_config *cfg, const char *disk, struct vm_tool *t,
			    off_t *size, berr_t *e)
{
	_cleanup_free_ char *image = xasprintf("%s.build", disk);
	char *argv[] = {"mksquashfs", (char *)cfg->rootfs, image, "-noappend",
			"-noI", "-noD", "-noF", "-noX", "-quiet", "-no-progress",
			/* It runs beside the booting guest: leave it the other CPUs. */
			"-processors", "1", NULL};
	_cleanup_close_ int fd = -1;

	tree_bytes = 0;
	if (nftw(cfg->rootfs, add_entry, 64, FTW_PHYS | FTW_MOUNT) < 0)
		return berr_sys(e, "walk the root filesystem \"%s\"", cfg->rootfs);
	*size = (off_t)((tree_bytes + (4 << 20) + 4095) & ~4095ull);
	fd = open(disk, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return berr_sys(e, "create \"%s\"", disk);
	if (ftruncate(fd, *size) < 0)
		return berr_sys(e, "size \"%s\"", disk);
	if (vm_tool_start(argv, -1, -1, t, e) < 0)
		return berr_wrap(e, "build the VM's root image from \"%s\"", cfg->rootfs);
	return 0;
}

static int finish_root_image(struct vm_tool *t, const char *disk, off_t size, berr_t *e)
{
	_cleanup_free_ char *image = xasprintf("%s.build", disk);
	_cleanup_close_ int in = -1, out = -1;
	struct stat st;
	off_t done = 0;

	if (vm_tool_finish(t, e) < 0)
		return berr_wrap(e, "build the VM's root image");
	in = open(image, O_RDONLY | O_CLOEXEC);
	out = open(disk, O_WRONLY | O_CLOEXEC);
	if (in < 0 || out < 0 || fstat(in, &st) < 0)
		return berr_sys(e, "open the root image \"%s\"", image);
	if (st.st_size > size)
		return berr_set(e, EFBIG, "the root image (%lld bytes) outgrew its estimate (%lld)",
				(long long)st.st_size, (long long)size);
	while (done < st.st_size) {
		ssize_t n = copy_file_range(in, NULL, out, NULL, st.st_size - done, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? berr_sys(e, "copy the root image into \"%s\"", disk) :
				       berr_set(e, EIO, "short copy of the root image");
		done += n;
	}
	if (unlink(image) < 0)
		return berr_sys(e, "remove \"%s\"", image);
	return 0;
}

/* qemu gets the user's stdout and stderr as fds (-add-fd) so that it
 * shares their file offset; its file chardev asks for a write-only fd. */
static int output_fd(int fd, const char *name, berr_t *e)
{
	char path[64];
	int fl = fcntl(fd, F_GETFL), out;

	if (fl < 0)
		out = open("/dev/null", O_WRONLY | O_CLOEXEC);
	else if ((fl & O_ACCMODE) == O_WRONLY)
		out = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	else {
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
		out = open(path, O_WRONLY | O_CLOEXEC);
		if (out < 0 && errno == ENXIO)
			return berr_set(e, ENXIO, "%s is a socket: a VM writes to a pipe, file or terminal",
					name);
	}
	if (out < 0)
		return berr_sys(e, "open %s for the VM", name);
	return out;
}

static int open_pty(int *master, char **slave, berr_t *e)
{
	char name[128];

	*master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (*master < 0)
		return berr_sys(e, "open a pty");
	if (grantpt(*master) < 0 || unlockpt(*master) < 0 || ptsname_r(*master, name, sizeof name))
		return berr_sys(e, "set up the pty");
	*slave = xstrdup(name);
	return 0;
}

/* The slave for qemu: raw (the guest's hvc0 is the terminal that cooks),
 * once for writing and once for reading, as its file chardev asks. */
static int open_slave(const char *path, int *out, int *in, berr_t *e)
{
	struct termios t;

	*out = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
	*in = open(path, O_RDONLY | O_NOCTTY | O_CLOEXEC);
	if (*out < 0 || *in < 0)
		return berr_sys(e, "open the pty \"%s\"", path);
	if (tcgetattr(*out, &t) < 0)
		return berr_sys(e, "tcgetattr \"%s\"", path);
	cfmakeraw(&t);
	if (tcsetattr(*out, TCSANOW, &t) < 0)
		return berr_sys(e, "tcsetattr \"%s\"", path);
	return 0;
}

struct qemu_cmd {
	char **argv;
	size_t n;
};

static void arg(struct qemu_cmd *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void arg(struct qemu_cmd *c, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		oom();
	va_end(ap);
	strv_append(&c->argv, &c->n, s);
}

static char *kernel_cmdline(const struct vm_config *cfg)
{
	unsigned long khz = tsc_khz();
	char tsc[48] = "";

	if (khz)
		snprintf(tsc, sizeof tsc, " tsc_early_khz=%lu", khz);
	/* ttyS0 is the kernel's log (a file); panic=-1 with -no-reboot ends
	 * qemu on a panic instead of hanging. */
	/* The root's kind is on the command line so that the guest loads its
	 * modules while the console ports are still being registered. */
	return xasprintf("console=ttyS0 quiet panic=-1 rdinit=/init 8250.nr_uarts=1%s "
			 "berth.root=%s berth.overlay=%d%s%s%s",
			 tsc, cfg->rootfs_9p ? "9p" : "squashfs", cfg->overlay,
			 cfg->n_shares ? " berth.9p=1" : "", cfg->kernel_args ? " " : "",
			 cfg->kernel_args ? cfg->kernel_args : "");
}

/* Bind mounts of directories: the host directory itself, so that writes
 * land there as they do from a container (owners as the guest sets them:
 * passthrough, as for a 9p root). */
static void add_shares(struct qemu_cmd *c, const struct vm_config *cfg)
{
	for (size_t i = 0; i < cfg->n_shares; i++) {
		const struct vm_share *sh = &cfg->shares[i];
		_cleanup_free_ char *path = qemu_escape(sh->source);

		arg(c, "-fsdev");
		arg(c, "local,id=bind%zu,path=%s,multidevs=remap,security_model=%s%s", i, path,
		    sh->readonly ? "none" : "passthrough", sh->readonly ? ",readonly=on" : "");
		arg(c, "-device");
		arg(c, "virtio-9p-device,fsdev=bind%zu,mount_tag=" VM_9P_BIND_TAG "%zu", i, sh->index);
	}
}

static void build_cmdline(struct qemu_cmd *c, const struct vm_config *cfg, const char *accel,
			  const struct vm_kernel *k, const char *initrd, const char *tty)
{
	bool terminal = tty != NULL;
	_cleanup_free_ char *tty_path = tty ? qemu_escape(tty) : NULL;
	_cleanup_free_ char *dir = qemu_escape(cfg->state_dir);
	_cleanup_free_ char *append = kernel_cmdline(cfg);
	bool kvm = !strcmp(accel, "kvm");

	arg(c, QEMU);
	arg(c, "-M");
	arg(c, "microvm,acpi=on,x-option-roms=off");
	arg(c, "-accel");
	arg(c, "%s", accel);
	arg(c, "-cpu");
	arg(c, kvm ? "host" : "max");
	arg(c, "-m");
	arg(c, "%lluM", (unsigned long long)(cfg->memory >> 20));
	arg(c, "-smp");
	arg(c, "%u", cfg->cpus);
	arg(c, "-nodefaults");
	arg(c, "-no-user-config");
	arg(c, "-no-reboot");
	arg(c, "-display");
	arg(c, "none");
	arg(c, "-kernel");
	arg(c, "%s", k->vmlinux);
	arg(c, "-initrd");
	arg(c, "%s", initrd);
	arg(c, "-append");
	arg(c, "%s", append);
	arg(c, "-serial");
	arg(c, "file:%s/" VM_FILE_KERNEL_LOG, dir);
	arg(c, "-device");
	arg(c, "virtio-serial-device,max_ports=3");
	/* hvc0, hvc1, hvc2 in this order. fds 3 and 4: the user's stdout and
	 * stderr, or a terminal's slave opened for writing and for reading. */
	arg(c, "-add-fd");
	arg(c, "fd=3,set=1");
	arg(c, "-add-fd");
	arg(c, "fd=4,set=2");
	arg(c, "-chardev");
	if (terminal) {
		/* qemu 7.2's file chardev has no input-path: its serial backend
		 * opens the slave by name (fds 3 and 4 stay unused). */
		arg(c, "serial,id=out,path=%s", tty_path);
		arg(c, "-chardev");
		arg(c, "null,id=err");
	} else {
		arg(c, "file,id=out,path=/dev/fdset/1,append=on");
		arg(c, "-chardev");
		arg(c, "file,id=err,path=/dev/fdset/2,append=on");
	}
	arg(c, "-device");
	arg(c, "virtconsole,chardev=out");
	arg(c, "-device");
	arg(c, "virtconsole,chardev=err");
	arg(c, "-chardev");
	arg(c, "pipe,id=ctl,path=%s/" VM_FILE_CTL, dir);
	arg(c, "-device");
	arg(c, "virtconsole,chardev=ctl");
	if (cfg->rootfs_9p) {
		_cleanup_free_ char *root = qemu_escape(cfg->rootfs);

		/* mapped-xattr would show the guest other owners than the host's. */
		arg(c, "-fsdev");
		arg(c, "local,id=root,path=%s,multidevs=remap,security_model=%s%s", root,
		    cfg->rootfs_readonly ? "none" : "passthrough", cfg->rootfs_readonly ? ",readonly=on" : "");
		arg(c, "-device");
		arg(c, "virtio-9p-device,fsdev=root,mount_tag=" VM_9P_ROOT_TAG);
	} else {
		arg(c, "-drive");
		arg(c, "id=root,file=%s/" VM_FILE_DISK ",format=raw,if=none,readonly=on", dir);
		arg(c, "-device");
		arg(c, "virtio-blk-device,drive=root");
	}
	add_shares(c, cfg);
	strv_append(&c->argv, &c->n, NULL);
	c->n--;
}

/* fds 3 and 4 are the user's stdout and stderr (or unused); qemu's own
 * messages go to the state directory. setsid: a terminal's ^C reaches the
 * workload through berth, never qemu directly. */
static int spawn_qemu(char **argv, int out_fd, int err_fd, const char *qemu_log, pid_t *pid,
		      int *pidfd, berr_t *e)
{
	int log = open(qemu_log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int errpipe[2];
	int child_errno = 0;
	ssize_t n;

	if (log < 0)
		return berr_sys(e, "create \"%s\"", qemu_log);
	if (pipe2(errpipe, O_CLOEXEC) < 0) {
		close(log);
		return berr_sys(e, "pipe");
	}
	*pid = fork();
	if (*pid < 0) {
		close(log);
		close(errpipe[0]);
		close(errpipe[1]);
		return berr_sys(e, "fork qemu");
	}
	if (*pid == 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		setsid();
		/* Move the sources above 4 first so that dup2 cannot clobber them. */
		out_fd = out_fd >= 0 ? fcntl(out_fd, F_DUPFD_CLOEXEC, 10) : null;
		err_fd = err_fd >= 0 ? fcntl(err_fd, F_DUPFD_CLOEXEC, 10) : null;
		if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(log, 2) < 0 ||
		    dup2(out_fd, 3) < 0 || dup2(err_fd, 4) < 0) {
			child_errno = errno;
			if (write(errpipe[1], &child_errno, sizeof child_errno) < 0)
				_exit(126);
			_exit(126);
		}
		execvp(argv[0], argv);
		child_errno = errno;
		if (write(errpipe[1], &child_errno, sizeof child_errno) < 0)
			_exit(127);
		_exit(127);
	}
	close(log);
	close(errpipe[1]);
	n = read(errpipe[0], &child_errno, sizeof child_errno);
	close(errpipe[0]);
	if (n == sizeof child_errno) {
		waitpid(*pid, NULL, 0);
		*pid = 0;
		return berr_errno(e, child_errno, "start %s (make deps installs qemu-system-x86)", QEMU);
	}
	*pidfd = syscall(SYS_pidfd_open, *pid, 0);
	if (*pidfd < 0)
		return berr_sys(e, "pidfd_open qemu");
	return 0;
}

/* ---- the guest's messages: lines appended to VM_FILE_CTL_OUT ---- */

int vm_ctl_reader_open(struct vm_ctl_reader *r, const char *state_dir, berr_t *e)
{
	_cleanup_free_ char *path = state_file(state_dir, VM_FILE_CTL_OUT);

	memset(r, 0, sizeof *r);
	r->inotify = -1;
	r->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0)
		return berr_sys(e, "open \"%s\"", path);
	r->inotify = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (r->inotify < 0 || inotify_add_watch(r->inotify, path, IN_MODIFY) < 0)
		return berr_sys(e, "watch \"%s\"", path);
	return 0;
}

void vm_ctl_reader_close(struct vm_ctl_reader *r)
{
	if (r->fd >= 0)
		close(r->fd);
	if (r->inotify >= 0)
		close(r->inotify);
	r->fd = r->inotify = -1;
}

/* The next complete line, or 0 with *line empty when none is there yet. */
int vm_ctl_next_line(struct vm_ctl_reader *r, char *line, size_t size, berr_t *e)
{
	char *nl;

	*line = '\0';
	while (!(nl = memchr(r->buf, '\n', r->len))) {
		ssize_t n;

		if (r->len == sizeof r->buf)
			return berr_set(e, EPROTO, "overlong line from the VM");
		n = pread(r->fd, r->buf + r->len, sizeof r->buf - r->len, r->off);
		if (n < 0)
			return berr_sys(e, "read the VM's control output");
		if (n == 0)
			return 0;
		r->off += n;
		r->len += n;
	}
	*nl = '\0';
	snprintf(line, size, "%s", r->buf);
	r->len -= nl + 1 - r->buf;
	memmove(r->buf, nl + 1, r->len);
	return 0;
}

/* Wait for a line starting with one of `want` (NULL-terminated), qemu's
 * exit (returns 1 with *line empty) or the timeout. */
int vm_ctl_wait(struct vm_ctl_reader *r, int pidfd, const char *const *want, char *line,
		size_t size, int timeout_ms, berr_t *e)
{
	uint64_t deadline = now_ns() + (uint64_t)timeout_ms * 1000000;

	for (;;) {
		struct pollfd p[2] = {{.fd = r->inotify, .events = POLLIN}, {.fd = pidfd, .events = POLLIN}};
		int64_t left;
		char drain[4096];

		if (vm_ctl_next_line(r, line, size, e) < 0)
			return -1;
		for (size_t i = 0; *line && want[i]; i++)
			if (str_has_prefix(line, want[i]))
				return 0;
		if (*line)
			continue;
		left = (int64_t)(deadline - now_ns()) / 1000000;
		if (left <= 0)
			return berr_set(e, ETIMEDOUT, "the VM did not answer in %d s", timeout_ms / 1000);
		if (poll(p, pidfd >= 0 ? 2 : 1, left) < 0 && errno != EINTR)
			return berr_sys(e, "poll");
		while (read(r->inotify, drain, sizeof drain) > 0)
			;
		if (p[1].revents & POLLIN) {
			/* Lines written just before qemu stopped still count. */
			if (vm_ctl_next_line(r, line, size, e) < 0)
				return -1;
			for (size_t i = 0; *line && want[i]; i++)
				if (str_has_prefix(line, want[i]))
					return 0;
			if (!*line)
				return 1;
		}
	}
}

/* Why a VM stopped without saying so: qemu's error, a kernel panic, or the
 * guest init's last words on the kernel log. */
void vm_explain_failure(const char *state_dir, int qemu_status, berr_t *e)
{
	_cleanup_free_ char *klog_path = state_file(state_dir, VM_FILE_KERNEL_LOG);
	_cleanup_free_ char *qlog_path = state_file(state_dir, VM_FILE_QEMU_LOG);
	_cleanup_free_ char *klog = NULL, *qlog = NULL;
	berr_t ignored = BERR_INIT;
	const char *panic = NULL, *init_msg = NULL;
	char *p;

	if (read_file(qlog_path, &qlog, NULL, &ignored) == 0 && qemu_status != 0 && *qlog) {
		qlog[strcspn(qlog, "\n")] = '\0';
		berr_set(e, EIO, "qemu failed (status %d): %s", qemu_status, qlog);
		berr_free(&ignored);
		return;
	}
	berr_free(&ignored);
	if (read_file(klog_path, &klog, NULL, &ignored) == 0) {
		panic = strstr(klog, "Kernel panic");
		for (p = klog; (p = strstr(p, "berth-vm-init: ")); p++)
			init_msg = p;
	}
	berr_free(&ignored);
	if (panic) {
		_cleanup_free_ char *msg = xstrndup(panic, strcspn(panic, "\r\n"));

		berr_set(e, EIO, "the VM failed: its kernel panicked: %s", msg);
	} else if (init_msg) {
		_cleanup_free_ char *msg = xstrndup(init_msg, strcspn(init_msg, "\r\n"));

		berr_set(e, EIO, "the VM failed: %s", msg);
	} else if (qemu_status != 0) {
		berr_set(e, EIO, "the VM failed: qemu exited with status %d", qemu_status);
	} else {
		berr_set(e, EIO, "the VM stopped without reporting an exit status");
	}
}

int vm_ctl_send(const char *state_dir, const void *msg, size_t len, berr_t *e)
{
	_cleanup_free_ char *path = state_file(state_dir, VM_FILE_CTL_IN);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	ssize_t n;

	/* No reader: qemu is gone. */
	if (fd < 0 && (errno == ENXIO || errno == ENOENT))
		return berr_set(e, ESRCH, "the VM is not running");
	if (fd < 0)
		return berr_sys(e, "open \"%s\"", path);
	n = write(fd, msg, len);
	if (n < 0)
		return berr_sys(e, "write to the VM's control port");
	if ((size_t)n != len)
		return berr_set(e, EIO, "short write to the VM's control port");
	return 0;
}

static int make_control(const char *state_dir, int *ctl_in, berr_t *e)
{
	_cleanup_free_ char *in = state_file(state_dir, VM_FILE_CTL_IN);
	_cleanup_free_ char *out = state_file(state_dir, VM_FILE_CTL_OUT);
	int fd;

	if (mkfifo(in, 0600) < 0)
		return berr_sys(e, "mkfifo \"%s\"", in);
	fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return berr_sys(e, "create \"%s\"", out);
	close(fd);
	/* Held by berth while it writes the config: room for a large one. */
	*ctl_in = open(in, O_RDWR | O_CLOEXEC);
	if (*ctl_in < 0)
		return berr_sys(e, "open \"%s\"", in);
	if (fcntl(*ctl_in, F_SETPIPE_SZ, 1 << 20) < 0)
		log_debug("vm: F_SETPIPE_SZ: %s", strerror(errno));
	return 0;
}

static int send_boot(const struct vm_config *cfg, int ctl_in, berr_t *e)
{
	size_t len = strlen(cfg->config_text);
	_cleanup_free_ char *binds = xstrdup(""), *hdr = NULL;

	for (size_t i = 0; i < cfg->n_shares; i++) {
		char *next = xasprintf("%s%s%zu", binds, i ? "," : " binds=", cfg->shares[i].index);

		free(binds);
		binds = next;
	}
	hdr = xasprintf("boot stdin=%d terminal=%d rows=%u cols=%u%s config=%zu\n",
			cfg->forward_stdin && !cfg->terminal, cfg->terminal, cfg->rows, cfg->cols,
			binds, len);

	if (len > (1 << 20) - 512)
		return berr_set(e, EFBIG, "config.json is too large for the VM (%zu bytes)", len);
	if (write_all(ctl_in, hdr, strlen(hdr)) < 0 || write_all(ctl_in, cfg->config_text, len) < 0)
		return berr_sys(e, "send the config to the VM");
	return 0;
}

/* "hello" (the guest's ports are raw), then the config, then "ready" or
 * the reason the set-up failed. */
static int handshake(const struct vm_config *cfg, struct vm_instance *vm, int ctl_in,
		     struct vm_tool *image, const char *image_path, off_t image_size, berr_t *e)
{
	static const char *const hello[] = {"hello", "error ", NULL};
	static const char *const ready[] = {"ready", "error ", NULL};
	struct vm_ctl_reader r;
	char line[VM_CTL_LINE_MAX];
	int ret = -1, w;

	if (vm_ctl_reader_open(&r, cfg->state_dir, e) < 0)
		goto out;
	w = vm_ctl_wait(&r, vm->pidfd, hello, line, sizeof line, READY_TIMEOUT_MS, e);
	if (w == 0 && str_has_prefix(line, "hello")) {
		if (image->pid > 0 && finish_root_image(image, image_path, image_size, e) < 0)
			goto out;
		if (send_boot(cfg, ctl_in, e) < 0)
			goto out;
		w = vm_ctl_wait(&r, vm->pidfd, ready, line, sizeof line, READY_TIMEOUT_MS, e);
	}
	if (w < 0)
		goto out;
	if (w == 1) {
		int status = 0;

		waitpid(vm->pid, &status, 0);
		vm->pid = 0;
		vm_explain_failure(cfg->state_dir, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), e);
		goto out;
	}
	if (str_has_prefix(line, "error ")) {
		int errnum = 0, off = 0;

		sscanf(line, "error %d %n", &errnum, &off);
		berr_set(e, errnum, "%s", line + off);
		goto out;
	}
	ret = 0;
out:
	vm_ctl_reader_close(&r);
	return ret;
}

static void kill_qemu(struct vm_instance *vm)
{
	if (vm->pid > 0) {
		syscall(SYS_pidfd_send_signal, vm->pidfd, SIGKILL, NULL, 0);
		waitpid(vm->pid, NULL, 0);
		vm->pid = 0;
	}
}

static int launch(const struct vm_config *cfg, struct vm_instance *vm, berr_t *e)
{
	struct vm_kernel k;
	_cleanup_free_ char *initrd = NULL, *disk = state_file(cfg->state_dir, VM_FILE_DISK);
	_cleanup_free_ char *qlog = state_file(cfg->state_dir, VM_FILE_QEMU_LOG);
	_cleanup_free_ char *tty = NULL;
	_cleanup_close_ int ctl_in = -1, out = -1, err = -1;
	struct qemu_cmd cmd = {0};
	struct vm_tool image = {.pid = 0, .err_fd = -1};
	off_t image_size = 0;
	int ret = -1;

	if (choose_accel(cfg, vm->accel, e) < 0 || vm_kernel_find(cfg->kernel, &k, e) < 0)
		return -1;
	if (vm_initrd_get(&k, &initrd, e) < 0)
		goto out;
	if (!cfg->rootfs_9p && start_root_image(cfg, disk, &image, &image_size, e) < 0)
		goto out;
	if (make_control(cfg->state_dir, &ctl_in, e) < 0)
		goto out;
	if (cfg->terminal) {
		if (open_pty(&vm->pty_master, &tty, e) < 0 || open_slave(tty, &out, &err, e) < 0)
			goto out;
	} else if ((out = output_fd(STDOUT_FILENO, "stdout", e)) < 0 ||
		   (err = output_fd(STDERR_FILENO, "stderr", e)) < 0) {
		goto out;
	}
	build_cmdline(&cmd, cfg, vm->accel, &k, initrd, tty);
	if (log_debug_enabled) {
		_cleanup_free_ char *line = xstrdup("");

		for (size_t i = 0; i < cmd.n; i++) {
			char *grown = xasprintf("%s%s%s", line, i ? " " : "", cmd.argv[i]);

			free(line);
			line = grown;
		}
		log_debug("vm: %s", line);
	}
	if (spawn_qemu(cmd.argv, out, err, qlog, &vm->pid, &vm->pidfd, e) < 0)
		goto out;
	if (cfg->spawned && cfg->spawned(vm->pid, cfg->spawned_arg, e) < 0)
		goto out;
	ret = handshake(cfg, vm, ctl_in, &image, disk, image_size, e);
out:
	if (image.pid > 0) {
		berr_t ignored = BERR_INIT;

		kill(image.pid, SIGKILL);
		vm_tool_finish(&image, &ignored);
		berr_free(&ignored);
	}
	strv_free(cmd.argv);
	vm_kernel_free(&k);
	return ret;
}

int vm_create(const struct vm_config *cfg, struct vm_instance *vm, berr_t *e)
{
	uint64_t t0 = now_ns();

	memset(vm, 0, sizeof *vm);
	vm->pidfd = -1;
	vm->pty_master = -1;
	if (launch(cfg, vm, e) < 0) {
		kill_qemu(vm);
		vm_instance_close(vm);
		return -1;
	}
	vm->boot_ns = now_ns() - t0;
	log_debug("vm: created in %llu ms on %s", (unsigned long long)(vm->boot_ns / 1000000),
		  vm_accel_label(vm->accel));
	return 0;
}

void vm_instance_close(struct vm_instance *vm)
{
	if (vm->pidfd >= 0)
		close(vm->pidfd);
	if (vm->pty_master >= 0)
		close(vm->pty_master);
	vm->pidfd = vm->pty_master = -1;
}
