/* vm/guest/init.c: berth's init inside a VM (pid 1): loads the kernel
 * modules, takes the config from the control port, mounts the root, runs the
 * workload and reports its exit status before powering off. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"
#include "guest.h"
#include "runtime/sync.h"
#include "vm/protocol.h"

#define MODULES_DIR "/modules"
#define NEWROOT "/newroot"
#define DEVICE_WAIT_MS 20000

/* The control port: buffered reads of lines and payloads. */
struct control {
	int fd;
	char buf[16384];
	size_t len;
};

struct guest {
	struct control ctl;
	int out_fd, err_fd;          /* hvc0, hvc1 */
	int null_fd;                 /* the initramfs' /dev/null: the root may have none */
	struct boot_opts boot;
	char *config_text;
	struct spec *spec;
	struct workload w;
	pid_t child;
	int sync_fd;                 /* our end of the workload's socketpair */
	int stdin_pipe, stdout_pipe, stderr_pipe; /* our ends, -1 when closed */
	bool started;
};

void guest_log(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n, fd;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof buf - 2)
		n = sizeof buf - 2;
	buf[n++] = '\n';
	/* The kernel log (ttyS0, the VM's log file), timestamped; the console
	 * before /dev is mounted. */
	fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || dprintf(fd, "<6>berth-vm-init: %.*s", n, buf) < 0)
		dprintf(STDERR_FILENO, "berth-vm-init: %.*s", n, buf);
	if (fd >= 0)
		close(fd);
}

static uint64_t ms_now(void)
{
	return now_ns() / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

static void ctl_send(struct guest *g, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* ---- early boot: filesystems, modules, devices ---- */

static int mount_early(berr_t *e)
{
	static const struct {
		const char *type, *target;
	} fs[] = {{"devtmpfs", "/dev"}, {"proc", "/proc"}, {"sysfs", "/sys"}};

	for (size_t i = 0; i < ARRAY_SIZE(fs); i++) {
		if (mkdir(fs[i].target, 0755) < 0 && errno != EEXIST)
			return berr_sys(e, "mkdir \"%s\"", fs[i].target);
		if (mount(fs[i].type, fs[i].target, fs[i].type, MS_NOSUID, NULL) < 0 && errno != EBUSY)
			return berr_sys(e, "mount %s on \"%s\"", fs[i].type, fs[i].target);
	}
	return 0;
}

/* MODULES_DIR/GROUP.list names the modules of a group in modules.dep order
 * (dependencies first), as berth wrote it when it packed the initramfs. */
static int load_modules(const char *group, berr_t *e)
{
	_cleanup_free_ char *list_path = xasprintf("%s/%s.list", MODULES_DIR, group);
	_cleanup_free_ char *text = NULL;
	char *save = NULL;

	if (read_file(list_path, &text, NULL, e) < 0)
		return berr_wrap(e, "module list \"%s\"", group);
	for (char *name = strtok_r(text, "\n", &save); name; name = strtok_r(NULL, "\n", &save)) {
		_cleanup_free_ char *path = xasprintf("%s/%s.ko", MODULES_DIR, name);
		_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);

		if (fd < 0)
			return berr_sys(e, "open module \"%s\"", path);
		if (syscall(SYS_finit_module, fd, "", 0) < 0 && errno != EEXIST)
			return berr_sys(e, "load module \"%s\"", name);
	}
	return 0;
}

/* Devices of freshly loaded drivers appear asynchronously: retry. The hvc
 * nodes exist from boot and give ENODEV until their port is registered. */
static int open_device(const char *path, int flags, berr_t *e)
{
	uint64_t deadline = ms_now() + DEVICE_WAIT_MS;
	int fd;

	for (;;) {
		fd = open(path, flags | O_CLOEXEC);
		if (fd >= 0)
			return fd;
		if ((errno != ENOENT && errno != ENODEV && errno != ENXIO) || ms_now() > deadline)
			return berr_sys(e, "open \"%s\"", path);
		sleep_ms(1);
	}
}

static int make_raw(int fd, const char *name, berr_t *e)
{
	struct termios t;

	if (tcgetattr(fd, &t) < 0)
		return berr_sys(e, "tcgetattr %s", name);
	cfmakeraw(&t);
	if (tcsetattr(fd, TCSANOW, &t) < 0)
		return berr_sys(e, "tcsetattr %s", name);
	return 0;
}

static int open_ports(struct guest *g, berr_t *e)
{
	g->ctl.fd = open_device(VM_PORT_CONTROL, O_RDWR, e);
	if (g->ctl.fd < 0 || make_raw(g->ctl.fd, "hvc2", e) < 0)
		return -1;
	g->out_fd = open_device(VM_PORT_STDOUT, O_RDWR | O_NOCTTY, e);
	if (g->out_fd < 0)
		return -1;
	g->err_fd = open_device(VM_PORT_STDERR, O_RDWR | O_NOCTTY, e);
	if (g->err_fd < 0 || make_raw(g->err_fd, "hvc1", e) < 0 ||
	    make_raw(g->out_fd, "hvc0", e) < 0)
		return -1;
	/* The host sends nothing before this: input that arrived before raw
	 * mode would have been echoed and translated by the line discipline. */
	ctl_send(g, "hello");
	return 0;
}

static void loopback_up(void)
{
	struct ifreq ifr = {0};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return;
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
			guest_log("bring lo up: %s", strerror(errno));
	}
	close(fd);
}

/* ---- the control port ---- */

static int ctl_fill(struct control *c, berr_t *e)
{
	ssize_t n;

	if (c->len == sizeof c->buf)
		return berr_set(e, EMSGSIZE, "control message too long");
	do
		n = read(c->fd, c->buf + c->len, sizeof c->buf - c->len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return berr_sys(e, "read the control port");
	if (n == 0)
		return berr_set(e, EPIPE, "the control port closed");
	c->len += n;
	return 0;
}

static void ctl_consume(struct control *c, size_t n)
{
	memmove(c->buf, c->buf + n, c->len - n);
	c->len -= n;
}

/* A whole line into `line` (without the newline), blocking. */
static int ctl_read_line(struct control *c, char *line, size_t size, berr_t *e)
{
	char *nl;

	while (!(nl = memchr(c->buf, '\n', c->len)))
		if (ctl_fill(c, e) < 0)
			return -1;
	if ((size_t)(nl - c->buf) >= size)
		return berr_set(e, EMSGSIZE, "control line too long");
	memcpy(line, c->buf, nl - c->buf);
	line[nl - c->buf] = '\0';
	ctl_consume(c, nl - c->buf + 1);
	return 0;
}

/* Exactly len payload bytes, into a malloc'd NUL-terminated buffer. */
static int ctl_read_payload(struct control *c, size_t len, char **out, berr_t *e)
{
	char *buf = xmalloc(len + 1);
	size_t have = 0;

	while (have < len) {
		size_t take;

		if (c->len == 0 && ctl_fill(c, e) < 0) {
			free(buf);
			return -1;
		}
		take = c->len < len - have ? c->len : len - have;
		memcpy(buf + have, c->buf, take);
		ctl_consume(c, take);
		have += take;
	}
	buf[len] = '\0';
	*out = buf;
	return 0;
}

static void ctl_send(struct guest *g, const char *fmt, ...)
{
	char line[VM_CTL_LINE_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof line - 2)
		n = sizeof line - 2;
	/* A message never spans lines: newlines in an error become spaces. */
	for (int i = 0; i < n; i++)
		if (line[i] == '\n')
			line[i] = ' ';
	line[n++] = '\n';
	if (g->ctl.fd < 0 || write_all(g->ctl.fd, line, n) < 0)
		guest_log("cannot report \"%.*s\" to the host", n - 1, line);
}

static bool boot_flag(const char *tok, const char *key, bool *out)
{
	size_t k = strlen(key);

	if (strncmp(tok, key, k) || tok[k] != '=')
		return false;
	*out = tok[k + 1] == '1';
	return true;
}

/* "3,5": the indexes of the mounts shared over 9p. */
static int parse_binds(char *list, struct boot_opts *b, berr_t *e)
{
	char *save = NULL;
	uint64_t v;

	for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (!parse_uint64(t, &v) || b->n_binds == VM_MAX_SHARES)
			return berr_set(e, EPROTO, "boot: bad binds= entry \"%s\"", t);
		b->binds[b->n_binds++] = v;
	}
	return 0;
}

/* "boot stdin=1 ... config=LEN" and the config after it. */
static int read_boot(struct guest *g, berr_t *e)
{
	char line[VM_CTL_LINE_MAX];
	char *save = NULL;
	uint64_t config_len = 0, v;
	bool have_config = false;

	if (ctl_read_line(&g->ctl, line, sizeof line, e) < 0)
		return -1;
	if (strncmp(line, "boot ", 5))
		return berr_set(e, EPROTO, "expected a boot message, got \"%.40s\"", line);
	for (char *tok = strtok_r(line + 5, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		struct boot_opts *b = &g->boot;

		if (str_has_prefix(tok, "config=") && parse_uint64(tok + 7, &config_len))
			have_config = true;
		else if (str_has_prefix(tok, "rows=") && parse_uint64(tok + 5, &v))
			b->rows = v;
		else if (str_has_prefix(tok, "cols=") && parse_uint64(tok + 5, &v))
			b->cols = v;
		else if (str_has_prefix(tok, "binds=") && parse_binds(tok + 6, b, e) < 0)
			return -1;
		else if (str_has_prefix(tok, "binds="))
			continue;
		else if (!boot_flag(tok, "stdin", &b->stdin_forwarded) &&
			 !boot_flag(tok, "terminal", &b->terminal))
			guest_log("unknown boot option \"%s\" ignored", tok);
	}
	if (!have_config || config_len > 16 * 1024 * 1024)
		return berr_set(e, EPROTO, "boot message without a valid config length");
	return ctl_read_payload(&g->ctl, config_len, &g->config_text, e);
}

/* ---- the root filesystem ---- */

static int mount_root(struct guest *g, berr_t *e)
{
	const struct boot_opts *b = &g->boot;
	const char *lower = b->overlay ? "/lower" : NEWROOT;

	if (mkdir(lower, 0755) < 0 && errno != EEXIST)
		return berr_sys(e, "mkdir \"%s\"", lower);
	if (!strcmp(b->root, "squashfs")) {
		_cleanup_close_ int fd = open_device("/dev/vda", O_RDONLY, e);

		if (fd < 0)
			return -1;
		/* berth builds the image while the guest boots: what the kernel
		 * read of the disk before "boot" (its partition scan) is stale. */
		if (ioctl(fd, BLKFLSBUF, 0) < 0)
			return berr_sys(e, "flush the cache of /dev/vda");
		if (mount("/dev/vda", lower, "squashfs", MS_RDONLY, NULL) < 0)
			return berr_sys(e, "mount the root squashfs");
	} else if (!strcmp(b->root, "9p")) {
		/* Under an overlay the share is read-only for the VM's life:
		 * cache it. Writable, the host's copy must stay the truth. */
		if (mount(VM_9P_ROOT_TAG, lower, "9p", b->overlay ? MS_RDONLY : 0,
			  b->overlay ? "trans=virtio,version=9p2000.L,msize=524288,cache=loose" :
				       "trans=virtio,version=9p2000.L,msize=524288,cache=mmap") < 0)
			return berr_sys(e, "mount the root over 9p");
	} else {
		return berr_set(e, EINVAL, "unknown root type \"%s\"", b->root);
	}
	if (!b->overlay)
		return 0;
	if (mkdir("/rw", 0755) < 0 && errno != EEXIST)
		return berr_sys(e, "mkdir /rw");
	if (mount("tmpfs", "/rw", "tmpfs", 0, "mode=0755") < 0)
		return berr_sys(e, "mount the overlay's tmpfs");
	if (mkdir("/rw/upper", 0755) < 0 || mkdir("/rw/work", 0755) < 0)
		return berr_sys(e, "mkdir the overlay's directories");
	if (mkdir(NEWROOT, 0755) < 0 && errno != EEXIST)
		return berr_sys(e, "mkdir \"%s\"", NEWROOT);
	if (mount("overlay", NEWROOT, "overlay", 0,
		  "lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work") < 0)
		return berr_sys(e, "mount the root overlay");
	return 0;
}

/* The initramfs cannot be pivoted away from: move the new root over it and
 * chroot, as switch_root does. */
static int switch_root(berr_t *e)
{
	if (chdir(NEWROOT) < 0)
		return berr_sys(e, "chdir \"%s\"", NEWROOT);
	if (mount(NEWROOT, "/", NULL, MS_MOVE, NULL) < 0)
		return berr_sys(e, "move the root to /");
	if (chroot(".") < 0)
		return berr_sys(e, "chroot to the new root");
	if (chdir("/") < 0)
		return berr_sys(e, "chdir /");
	return 0;
}

/* ---- the workload ---- */

static int make_pipe(int fds[2], berr_t *e)
{
	if (pipe2(fds, O_CLOEXEC) < 0)
		return berr_sys(e, "pipe");
	return 0;
}

static int prepare_workload(struct guest *g, berr_t *e)
{
	struct workload *w = &g->w;
	int sv[2], in[2] = {-1, -1}, out[2], err[2];

	if (spec_parse(g->config_text, "config.json", &g->spec, e) < 0)
		return -1;
	if (!g->spec->process)
		return berr_set(e, EINVAL, "process: missing required field");
	w->spec = g->spec;
	w->terminal = g->boot.terminal;
	w->rows = g->boot.rows;
	w->cols = g->boot.cols;
	w->tty_fd = g->out_fd;
	w->readonly_root = g->spec->root.readonly;
	w->binds = g->boot.binds;
	w->n_binds = g->boot.n_binds;
	/* Plans are made here, before the clone, as berth does on the host. */
	if (caps_plan_make(g->spec->process, &w->caps, e) < 0 ||
	    seccomp_plan_make(g->spec, NULL, &w->seccomp, e) < 0)
		return -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return berr_sys(e, "socketpair");
	g->sync_fd = sv[0];
	w->sync_fd = sv[1];
	if (!w->terminal) {
		if (g->boot.stdin_forwarded) {
			if (make_pipe(in, e) < 0)
				return -1;
		} else {
			in[0] = fcntl(g->null_fd, F_DUPFD_CLOEXEC, 3);
			if (in[0] < 0)
				return berr_sys(e, "dup /dev/null");
		}
		if (make_pipe(out, e) < 0 || make_pipe(err, e) < 0)
			return -1;
		w->stdio[0] = in[0];
		w->stdio[1] = out[1];
		w->stdio[2] = err[1];
		g->stdin_pipe = in[1];
		g->stdout_pipe = out[0];
		g->stderr_pipe = err[0];
	} else if (make_raw(g->out_fd, "hvc0", e) < 0) {
		return -1;
	} else {
		/* The line discipline of hvc0 is the workload's terminal. */
		struct termios t;

		/* Whatever arrived while the port was being opened is noise. */
		tcflush(g->out_fd, TCIFLUSH);
		if (tcgetattr(g->out_fd, &t) == 0) {
			t.c_iflag |= ICRNL | IXON;
			t.c_oflag |= OPOST | ONLCR;
			t.c_lflag |= ISIG | ICANON | ECHO | ECHOE | ECHOK | IEXTEN;
			tcsetattr(g->out_fd, TCSANOW, &t);
		}
	}
	if (workload_spawn(w, &g->child, e) < 0)
		return -1;
	/* The child's copies. */
	close(w->sync_fd);
	w->sync_fd = -1;
	for (int i = 0; i < 3 && !w->terminal; i++) {
		close(w->stdio[i]);
		w->stdio[i] = -1;
	}
	return sync_expect(g->sync_fd, SYNC_CREATED, NULL, NULL, e);
}

static void drain(int *fd, int to)
{
	char buf[16384];
	ssize_t n;

	if (*fd < 0)
		return;
	n = read(*fd, buf, sizeof buf);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0 || write_all(to, buf, n) < 0) {
		close(*fd);
		*fd = -1;
	}
}

static void signal_workload(struct guest *g, int signo, bool all)
{
	/* pid 1 is this init: kill(-1) reaches every other process. */
	if (kill(all ? -1 : g->child, signo) < 0 && errno != ESRCH)
		guest_log("kill %d: %s", signo, strerror(errno));
}

static int start_workload(struct guest *g, berr_t *e)
{
	struct sync_msg *m = NULL;

	if (g->started)
		return 0;
	g->started = true;
	if (sync_send(g->sync_fd, SYNC_GO, 0, NULL, 0, -1, e) < 0)
		return -1;
	/* The socket closes on execve; a message first is why it failed. */
	if (sync_recv(g->sync_fd, &m, NULL, e) < 0) {
		if (e->errnum != EPIPE)
			return -1;
		berr_free(e);
		ctl_send(g, "started");
		return 0;
	}
	if (m->type == SYNC_ERROR)
		ctl_send(g, "error %d %s", m->errnum, m->data);
	free(m);
	return 0;
}

/* One host message; payloads follow "stdin LEN". */
static int handle_control(struct guest *g, berr_t *e)
{
	char line[VM_CTL_LINE_MAX];
	uint64_t a = 0, b = 0;

	if (ctl_read_line(&g->ctl, line, sizeof line, e) < 0)
		return -1;
	if (!strcmp(line, "start"))
		return start_workload(g, e);
	if (sscanf(line, "kill %" SCNu64, &a) == 1 && a > 0 && a < 65) {
		signal_workload(g, a, false);
	} else if (sscanf(line, "killall %" SCNu64, &a) == 1 && a > 0 && a < 65) {
		signal_workload(g, a, true);
	} else if (sscanf(line, "stdin %" SCNu64, &a) == 1 && a <= VM_STDIN_CHUNK) {
		_cleanup_free_ char *data = NULL;

		if (ctl_read_payload(&g->ctl, a, &data, e) < 0)
			return -1;
		if (g->stdin_pipe >= 0 && write_all(g->stdin_pipe, data, a) < 0) {
			close(g->stdin_pipe);
			g->stdin_pipe = -1;
		}
	} else if (!strcmp(line, "eof")) {
		if (g->stdin_pipe >= 0)
			close(g->stdin_pipe);
		g->stdin_pipe = -1;
	} else if (sscanf(line, "winsize %" SCNu64 " %" SCNu64, &a, &b) == 2) {
		struct winsize ws = {.ws_row = a, .ws_col = b};

		if (g->boot.terminal)
			ioctl(g->out_fd, TIOCSWINSZ, &ws);
	} else {
		guest_log("unknown control message \"%.60s\" ignored", line);
	}
	return 0;
}

static int exit_status(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 255;
}

/* Relay output and control messages until the workload exits; pid 1 also
 * reaps every orphan. Returns the workload's exit status. */
static int supervise(struct guest *g, berr_t *e)
{
	sigset_t mask;
	_cleanup_close_ int sigfd = -1;
	int status = -1;

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sigfd < 0)
		return berr_sys(e, "signalfd");
	while (status < 0) {
		struct pollfd p[4] = {
			{.fd = sigfd, .events = POLLIN},
			{.fd = g->ctl.fd, .events = POLLIN},
			{.fd = g->stdout_pipe, .events = POLLIN},
			{.fd = g->stderr_pipe, .events = POLLIN},
		};
		struct signalfd_siginfo si;
		int ws;
		pid_t pid;

		/* Lines already buffered are handled before waiting. */
		if (g->ctl.len && memchr(g->ctl.buf, '\n', g->ctl.len)) {
			if (handle_control(g, e) < 0)
				return -1;
			continue;
		}
		if (poll(p, 4, -1) < 0 && errno != EINTR)
			return berr_sys(e, "poll");
		if (p[1].revents & POLLIN && handle_control(g, e) < 0)
			return -1;
		if (p[2].revents)
			drain(&g->stdout_pipe, g->out_fd);
		if (p[3].revents)
			drain(&g->stderr_pipe, g->err_fd);
		if (!(p[0].revents & POLLIN))
			continue;
		while (read(sigfd, &si, sizeof si) == sizeof si)
			;
		while ((pid = waitpid(-1, &ws, WNOHANG)) > 0)
			if (pid == g->child)
				status = exit_status(ws);
	}
	/* What the workload wrote just before it exited; orphans that keep the
	 * pipes open do not hold the report back. */
	for (int *fd = &g->stdout_pipe; fd; fd = fd == &g->stdout_pipe ? &g->stderr_pipe : NULL) {
		if (*fd < 0)
			continue;
		fcntl(*fd, F_SETFL, O_NONBLOCK);
		while (*fd >= 0) {
			struct pollfd p = {.fd = *fd, .events = POLLIN};

			if (poll(&p, 1, 0) <= 0)
				break;
			drain(fd, fd == &g->stdout_pipe ? g->out_fd : g->err_fd);
		}
	}
	return status;
}

/* berth.root= and berth.overlay= from the kernel command line. */
static int read_cmdline(struct boot_opts *b, berr_t *e)
{
	_cleanup_free_ char *text = NULL;
	char *save = NULL;

	if (read_file("/proc/cmdline", &text, NULL, e) < 0)
		return -1;
	for (char *tok = strtok_r(text, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save)) {
		if (str_has_prefix(tok, "berth.root="))
			snprintf(b->root, sizeof b->root, "%s", tok + 11);
		else if (str_has_prefix(tok, "berth.overlay="))
			b->overlay = tok[14] == '1';
		else if (!strcmp(tok, "berth.9p=1"))
			b->shares = true;
	}
	if (strcmp(b->root, "squashfs") && strcmp(b->root, "9p"))
		return berr_set(e, EINVAL, "berth.root: expected squashfs or 9p, got \"%s\"", b->root);
	return 0;
}

/* Every module first: the console ports and the disk are registered by the
 * kernel's workers while the next module loads. */
static int load_all_modules(const struct boot_opts *b, berr_t *e)
{
	if (load_modules("base", e) < 0 || load_modules(b->root, e) < 0)
		return -1;
	if (b->shares && strcmp(b->root, "9p") && load_modules("9p", e) < 0)
		return -1;
	return b->overlay ? load_modules("overlay", e) : 0;
}

static int guest_boot(struct guest *g, berr_t *e)
{
	if (mount_early(e) < 0)
		return -1;
	g->null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (g->null_fd < 0)
		return berr_sys(e, "open /dev/null");
	if (read_cmdline(&g->boot, e) < 0 ||
	    load_all_modules(&g->boot, e) < 0 || open_ports(g, e) < 0)
		return -1;
	if (read_boot(g, e) < 0 || mount_root(g, e) < 0 || switch_root(e) < 0)
		return -1;
	loopback_up();
	if (prepare_workload(g, e) < 0)
		return -1;
	ctl_send(g, "ready");
	return 0;
}

static __attribute__((noreturn)) void power_off(struct guest *g)
{
	/* Everything written to the ports reaches qemu before it stops. */
	if (g->out_fd >= 0)
		tcdrain(g->out_fd);
	if (g->err_fd >= 0)
		tcdrain(g->err_fd);
	if (g->ctl.fd >= 0)
		tcdrain(g->ctl.fd);
	sync();
	reboot(RB_POWER_OFF);
	guest_log("power off: %s", strerror(errno));
	for (;;)
		pause();
}

int main(void)
{
	struct guest g = {
		.ctl.fd = -1, .out_fd = -1, .err_fd = -1, .null_fd = -1, .sync_fd = -1,
		.stdin_pipe = -1, .stdout_pipe = -1, .stderr_pipe = -1,
	};
	berr_t e = BERR_INIT;
	int status;

	if (getpid() != 1) {
		fprintf(stderr, "berth-vm-init: runs only as the init of a berth VM\n");
		return 1;
	}
	if (guest_boot(&g, &e) < 0) {
		_cleanup_free_ char *msg = berr_text(&e);

		guest_log("%s", msg);
		ctl_send(&g, "error %d %s", e.errnum, msg);
		power_off(&g);
	}
	status = supervise(&g, &e);
	if (status < 0) {
		_cleanup_free_ char *msg = berr_text(&e);

		guest_log("%s", msg);
		ctl_send(&g, "error %d %s", e.errnum, msg);
		power_off(&g);
	}
	ctl_send(&g, "exit %d", status);
	power_off(&g);
}
