/* vm/kernel.c: find the guest kernel (the host's Debian kernel or
 * --vm-kernel) and extract its vmlinux once, the way scripts/extract-vmlinux
 * does: find a compressor's magic in the bzImage and decompress from there. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "internal.h"

#define BOOT_DIR "/boot"
#define MODULES_ROOT "/lib/modules"

static const struct {
	const char *tool;
	const unsigned char magic[6];
	size_t len;
} compressors[] = {
	{"xz", {0xfd, '7', 'z', 'X', 'Z', 0x00}, 6},
	{"zstd", {0x28, 0xb5, 0x2f, 0xfd}, 4},
	{"gzip", {0x1f, 0x8b, 0x08}, 3},
};

char *vm_cache_dir(void)
{
	const char *env = getenv("BERTH_VM_CACHE");
	const char *xdg = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");

	if (env && *env)
		return xstrdup(env);
	if (geteuid() == 0)
		return xstrdup("/var/cache/berth");
	if (xdg && *xdg)
		return xasprintf("%s/berth", xdg);
	return xasprintf("%s/.cache/berth", home && *home ? home : "/tmp");
}

int vm_tool_start(char *const argv[], int in_fd, int out_fd, struct vm_tool *t, berr_t *e)
{
	int errpipe[2];

	t->pid = 0;
	t->err_fd = -1;
	t->name = argv[0];
	if (pipe2(errpipe, O_CLOEXEC) < 0)
		return berr_sys(e, "pipe");
	t->pid = fork();
	if (t->pid < 0) {
		close(errpipe[0]);
		close(errpipe[1]);
		return berr_sys(e, "fork %s", argv[0]);
	}
	if (t->pid == 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (dup2(in_fd >= 0 ? in_fd : null, 0) < 0 || dup2(out_fd >= 0 ? out_fd : null, 1) < 0 ||
		    dup2(errpipe[1], 2) < 0)
			_exit(126);
		execvp(argv[0], argv);
		dprintf(2, "%s", strerror(errno));
		_exit(127);
	}
	close(errpipe[1]);
	t->err_fd = errpipe[0];
	return 0;
}

int vm_tool_finish(struct vm_tool *t, berr_t *e)
{
	char msg[512];
	ssize_t n = 0, r;
	int status;

	while (n < (ssize_t)sizeof msg - 1 && (r = read(t->err_fd, msg + n, sizeof msg - 1 - n)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		n += r;
	}
	/* Whatever it still writes must not block it. */
	while (read(t->err_fd, (char[256]){0}, 256) > 0)
		;
	close(t->err_fd);
	t->err_fd = -1;
	msg[n] = '\0';
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	while (waitpid(t->pid, &status, 0) < 0) {
		if (errno != EINTR)
			return berr_sys(e, "wait for %s", t->name);
	}
	t->pid = 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		return berr_set(e, ENOENT, "run %s: %s (is it installed? make deps)", t->name,
				*msg ? msg : "not found");
	return berr_set(e, EIO, "%s failed (status %d)%s%s", t->name,
			WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
			*msg ? ": " : "", msg);
}

int vm_run_tool(char *const argv[], int in_fd, int out_fd, berr_t *e)
{
	struct vm_tool t;

	if (vm_tool_start(argv, in_fd, out_fd, &t, e) < 0)
		return -1;
	return vm_tool_finish(&t, e);
}

/* The newest /boot/vmlinuz-*, preferring the running kernel's version. */
static int default_kernel(char **out, berr_t *e)
{
	struct utsname u;
	_cleanup_free_ char *running = NULL;
	char *best = NULL;
	DIR *d;
	struct dirent *de;

	if (uname(&u) == 0) {
		running = xasprintf("%s/vmlinuz-%s", BOOT_DIR, u.release);
		if (access(running, R_OK) == 0) {
			*out = steal_ptr(running);
			return 0;
		}
	}
	d = opendir(BOOT_DIR);
	if (!d && errno != ENOENT)
		return berr_sys(e, "open \"%s\"", BOOT_DIR);
	while (d && (de = readdir(d))) {
		if (!str_has_prefix(de->d_name, "vmlinuz-"))
			continue;
		if (!best || strverscmp(de->d_name, best) > 0) {
			free(best);
			best = xstrdup(de->d_name);
		}
	}
	if (d)
		closedir(d);
	if (!best)
		return berr_set(e, ENOENT,
				"no kernel for the VM: no %s/vmlinuz-* (make deps installs linux-image-amd64; or pass --vm-kernel)",
				BOOT_DIR);
	*out = xasprintf("%s/%s", BOOT_DIR, best);
	free(best);
	return 0;
}

/* The bzImage header's version string ("6.1.0-56-amd64 (debian-kernel@...")
 * gives the modules' directory. */
static char *bzimage_version(const unsigned char *hdr, size_t len, int fd)
{
	char buf[128];
	uint16_t ptr;
	ssize_t n;

	if (len < 0x210 || memcmp(hdr + 0x202, "HdrS", 4))
		return NULL;
	ptr = hdr[0x20e] | hdr[0x20f] << 8;
	if (!ptr)
		return NULL;
	n = pread(fd, buf, sizeof buf - 1, ptr + 0x200);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	buf[strcspn(buf, " ")] = '\0';
	return *buf ? xstrdup(buf) : NULL;
}

static bool is_elf_file(const char *path, off_t min_size)
{
	unsigned char hdr[4];
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;

	return fd >= 0 && fstat(fd, &st) == 0 && st.st_size >= min_size &&
	       read(fd, hdr, 4) == 4 && !memcmp(hdr, "\177ELF", 4);
}

/* Try one compressed stream starting at `offset`. Trailing data after the
 * stream makes the tools complain: as extract-vmlinux does, what counts is
 * whether an ELF image came out. */
static bool try_decompress(const char *image, off_t offset, const char *tool, const char *dest)
{
	_cleanup_close_ int in = open(image, O_RDONLY | O_CLOEXEC);
	_cleanup_close_ int out = open(dest, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	char *argv[] = {(char *)tool, "-dcq", NULL};
	berr_t ignored = BERR_INIT;

	if (in < 0 || out < 0 || lseek(in, offset, SEEK_SET) < 0)
		return false;
	vm_run_tool(argv, in, out, &ignored);
	berr_free(&ignored);
	return is_elf_file(dest, 1 << 20);
}

static int extract_vmlinux(const char *image, const char *dest, berr_t *e)
{
	_cleanup_free_ char *data = NULL;
	_cleanup_free_ char *tmp = xasprintf("%s.tmp.%d", dest, (int)getpid());
	size_t len;

	if (read_file(image, &data, &len, e) < 0)
		return berr_wrap(e, "kernel");
	for (size_t c = 0; c < ARRAY_SIZE(compressors); c++) {
		size_t mlen = compressors[c].len;

		for (size_t off = 0; off + mlen <= len; off++) {
			const char *hit = memchr(data + off, compressors[c].magic[0], len - off);

			if (!hit)
				break;
			off = hit - data;
			if (off + mlen > len || memcmp(hit, compressors[c].magic, mlen) ||
			    !try_decompress(image, off, compressors[c].tool, tmp))
				continue;
			if (rename(tmp, dest) < 0) {
				berr_sys(e, "rename \"%s\"", tmp);
				unlink(tmp);
				return -1;
			}
			return 0;
		}
	}
	unlink(tmp);
	return berr_set(e, ENOEXEC,
			"kernel \"%s\": not a Linux kernel image (no ELF and no compressed vmlinux inside)",
			image);
}

int vm_kernel_find(const char *path, struct vm_kernel *k, berr_t *e)
{
	unsigned char hdr[0x300];
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *cache = vm_cache_dir();
	struct stat st;
	ssize_t n;

	memset(k, 0, sizeof *k);
	if (path)
		k->image = xstrdup(path);
	else if (default_kernel(&k->image, e) < 0)
		return -1;
	fd = open(k->image, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		return berr_sys(e, "kernel \"%s\"", k->image);
	if (!S_ISREG(st.st_mode))
		return berr_set(e, EINVAL, "kernel \"%s\": not a regular file", k->image);
	n = read(fd, hdr, sizeof hdr);
	if (n < 0)
		return berr_sys(e, "read kernel \"%s\"", k->image);
	if (n >= 4 && !memcmp(hdr, "\177ELF", 4)) {
		/* Already a vmlinux: its version only from a vmlinux-VERSION name. */
		const char *base = strrchr(k->image, '/');

		base = base ? base + 1 : k->image;
		k->vmlinux = xstrdup(k->image);
		if (str_has_prefix(base, "vmlinux-"))
			k->version = xstrdup(base + 8);
	} else {
		k->version = bzimage_version(hdr, n, fd);
		if (mkdir_p(cache, 0755, e) < 0)
			return berr_wrap(e, "VM cache");
		/* Keyed by version and the image's identity: a reinstalled
		 * kernel of the same version is extracted again. */
		k->vmlinux = xasprintf("%s/vmlinux-%s-%lld-%lld", cache,
				       k->version ? k->version : "unknown", (long long)st.st_size,
				       (long long)st.st_mtime);
		if (!is_elf_file(k->vmlinux, 1 << 20)) {
			log_debug("vm: extracting %s to %s", k->image, k->vmlinux);
			if (extract_vmlinux(k->image, k->vmlinux, e) < 0)
				return -1;
		}
	}
	if (k->version) {
		_cleanup_free_ char *dir = xasprintf("%s/%s", MODULES_ROOT, k->version);

		if (access(dir, R_OK) == 0)
			k->modules_dir = steal_ptr(dir);
	}
	return 0;
}

void vm_kernel_free(struct vm_kernel *k)
{
	free(k->image);
	free(k->vmlinux);
	free(k->version);
	free(k->modules_dir);
	memset(k, 0, sizeof *k);
}
