/* vm/initrd.c: the guest's initramfs, packed once per kernel and guest init
 * and cached: /init (berth-vm-init), the modules the guest needs (virtio,
 * squashfs, overlay, 9p) and their load order from modules.dep. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/log.h"
#include "common/path.h"
#include "common/util.h"
#include "internal.h"

/* Groups the guest init loads by name (vm/guest/init.c): "base" always,
 * then what the root filesystem needs. */
static const struct {
	const char *group;
	const char *roots[3];
} module_groups[] = {
	{"base", {"virtio_mmio", "virtio_console", NULL}},
	{"squashfs", {"virtio_blk", "squashfs", NULL}},
	{"overlay", {"overlay", NULL}},
	{"9p", {"9pnet_virtio", "9p", NULL}},
};

#define SIG_MAGIC "~Module signature appended~\n"

struct module {
	char *name; /* "virtio_mmio" */
	char *path; /* relative to the modules directory */
	char **deps;
	bool listed;
};

struct moddep {
	struct module *mods;
	size_t n;
	char *builtin; /* modules.builtin, whole */
};

struct cpio {
	FILE *f;
	unsigned ino;
};

/* ---- modules.dep ---- */

/* "kernel/drivers/virtio/virtio_mmio.ko(.xz)" -> "virtio_mmio" */
static char *module_name(const char *path)
{
	const char *base = strrchr(path, '/');
	char *name = xstrdup(base ? base + 1 : path);

	name[strcspn(name, ".")] = '\0';
	/* Module names use '_' where file names may use '-'. */
	for (char *p = name; *p; p++)
		if (*p == '-')
			*p = '_';
	return name;
}

static int moddep_load(const char *dir, struct moddep *md, berr_t *e)
{
	_cleanup_free_ char *path = xasprintf("%s/modules.dep", dir);
	_cleanup_free_ char *text = NULL, *builtin_path = xasprintf("%s/modules.builtin", dir);
	char *save = NULL;
	berr_t ignored = BERR_INIT;

	if (read_file(path, &text, NULL, e) < 0)
		return -1;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *colon = strchr(line, ':'), *dsave = NULL;
		struct module *m;
		size_t nd = 0;

		if (!colon)
			continue;
		*colon = '\0';
		md->mods = xreallocarray(md->mods, md->n + 1, sizeof *md->mods);
		m = &md->mods[md->n++];
		memset(m, 0, sizeof *m);
		m->path = xstrdup(line);
		m->name = module_name(line);
		for (char *d = strtok_r(colon + 1, " ", &dsave); d; d = strtok_r(NULL, " ", &dsave))
			strv_append(&m->deps, &nd, module_name(d));
	}
	if (read_file(builtin_path, &md->builtin, NULL, &ignored) < 0)
		md->builtin = xstrdup("");
	berr_free(&ignored);
	return 0;
}

static void moddep_free(struct moddep *md)
{
	for (size_t i = 0; i < md->n; i++) {
		free(md->mods[i].name);
		free(md->mods[i].path);
		strv_free(md->mods[i].deps);
	}
	free(md->mods);
	free(md->builtin);
}

static struct module *moddep_find(struct moddep *md, const char *name)
{
	for (size_t i = 0; i < md->n; i++)
		if (!strcmp(md->mods[i].name, name))
			return &md->mods[i];
	return NULL;
}

static bool is_builtin(const struct moddep *md, const char *name)
{
	_cleanup_free_ char *needle = xasprintf("/%s.ko\n", name);

	return strstr(md->builtin, needle) != NULL;
}

/* Dependencies first. modules.dep lists a module's dependencies so that
 * loading them from last to first works (as modprobe does). */
static int order_module(struct moddep *md, const char *name, char ***order, size_t *n,
			int depth, berr_t *e)
{
	struct module *m = moddep_find(md, name);
	size_t nd;

	if (!m) {
		if (is_builtin(md, name))
			return 0;
		return berr_set(e, ENOENT, "kernel module \"%s\" is neither built in nor in modules.dep",
				name);
	}
	if (m->listed)
		return 0;
	if (depth > 32)
		return berr_set(e, ELOOP, "kernel module \"%s\": dependency loop", name);
	nd = strv_len(m->deps);
	for (size_t i = nd; i > 0; i--)
		if (order_module(md, m->deps[i - 1], order, n, depth + 1, e) < 0)
			return -1;
	m->listed = true;
	strv_append(order, n, xstrdup(m->name));
	return 0;
}

/* ---- cpio (newc) ---- */

static void cpio_header(struct cpio *c, const char *name, mode_t mode, size_t size,
			unsigned rmajor, unsigned rminor)
{
	size_t namesize = strlen(name) + 1;

	fprintf(c->f, "070701%08X%08X%08X%08X%08X%08X%08zX%08X%08X%08X%08X%08zX%08X",
		++c->ino, (unsigned)mode, 0u, 0u, 1u, 0u, size, 0u, 0u, rmajor, rminor, namesize, 0u);
	fwrite(name, 1, namesize, c->f);
	/* Header (110 bytes) and name padded to 4. */
	for (size_t pad = (110 + namesize) % 4; pad && pad < 4; pad++)
		fputc(0, c->f);
}

static void cpio_data(struct cpio *c, const void *data, size_t size)
{
	fwrite(data, 1, size, c->f);
	for (size_t pad = size % 4; pad && pad < 4; pad++)
		fputc(0, c->f);
}

static void cpio_file(struct cpio *c, const char *name, mode_t mode, const void *data, size_t size)
{
	cpio_header(c, name, S_IFREG | mode, size, 0, 0);
	cpio_data(c, data, size);
}

/* The appended signature costs an RSA check and a SHA-256 of the module
 * under an emulated CPU for nothing: the guest trusts what berth packed. */
static size_t strip_signature(const char *data, size_t len)
{
	size_t mlen = strlen(SIG_MAGIC);
	const unsigned char *p;
	uint32_t sig_len;

	if (len < mlen + 12 || memcmp(data + len - mlen, SIG_MAGIC, mlen))
		return len;
	p = (const unsigned char *)data + len - mlen - 4;
	sig_len = (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
	if (sig_len + mlen + 12 > len)
		return len;
	return len - mlen - 12 - sig_len;
}

static int read_module(const char *dir, const struct module *m, char **data, size_t *len,
		       berr_t *e)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", dir, m->path);
	const char *tool = str_has_suffix(path, ".xz") ? "xz" :
			   str_has_suffix(path, ".zst") ? "zstd" : NULL;
	_cleanup_close_ int in = -1, tmp = -1;
	char fdbuf[FD_PATH_LEN];

	if (!tool)
		return read_file(path, data, len, e);
	/* A compressed module is decompressed here, once, not in the guest. */
	in = open(path, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return berr_sys(e, "open \"%s\"", path);
	tmp = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (tmp < 0)
		return berr_sys(e, "temporary file for \"%s\"", path);
	if (vm_run_tool((char *[]){(char *)tool, "-dcq", NULL}, in, tmp, e) < 0)
		return berr_wrap(e, "decompress \"%s\"", path);
	return read_file(fd_path(tmp, fdbuf), data, len, e);
}

static int find_guest_init(char **out, berr_t *e)
{
	const char *env = getenv("BERTH_VM_INIT");
	char exe[PATH_MAX];
	ssize_t n;
	const char *const candidates[] = {"berth-vm-init", "../libexec/berth/berth-vm-init"};

	if (env && *env) {
		if (access(env, R_OK) < 0)
			return berr_sys(e, "BERTH_VM_INIT \"%s\"", env);
		*out = xstrdup(env);
		return 0;
	}
	n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n < 0)
		return berr_sys(e, "readlink /proc/self/exe");
	exe[n] = '\0';
	dirname(exe);
	for (size_t i = 0; i < ARRAY_SIZE(candidates); i++) {
		char *path = xasprintf("%s/%s", exe, candidates[i]);

		if (access(path, R_OK) == 0) {
			*out = path;
			return 0;
		}
		free(path);
	}
	return berr_set(e, ENOENT,
			"the guest init berth-vm-init is not beside berth in \"%s\" (make builds it)", exe);
}

static int write_modules(struct cpio *c, const struct vm_kernel *k, berr_t *e)
{
	struct moddep md = {0};
	int ret = -1;

	cpio_header(c, "modules", S_IFDIR | 0755, 0, 0, 0);
	if (!k->modules_dir) {
		/* No modules for this kernel: everything must be built in. */
		for (size_t g = 0; g < ARRAY_SIZE(module_groups); g++) {
			_cleanup_free_ char *name = xasprintf("modules/%s.list", module_groups[g].group);

			cpio_file(c, name, 0644, "", 0);
		}
		return 0;
	}
	if (moddep_load(k->modules_dir, &md, e) < 0)
		goto out;
	for (size_t g = 0; g < ARRAY_SIZE(module_groups); g++) {
		_cleanup_strv_ char **order = NULL;
		_cleanup_free_ char *list = xstrdup(""), *list_name = NULL;
		size_t n = 0;

		for (size_t r = 0; module_groups[g].roots[r]; r++)
			if (order_module(&md, module_groups[g].roots[r], &order, &n, 0, e) < 0)
				goto out;
		for (size_t i = 0; i < n; i++) {
			struct module *m = moddep_find(&md, order[i]);
			_cleanup_free_ char *data = NULL, *name = xasprintf("modules/%s.ko", order[i]);
			char *grown;
			size_t len;

			if (read_module(k->modules_dir, m, &data, &len, e) < 0)
				goto out;
			cpio_file(c, name, 0644, data, strip_signature(data, len));
			grown = xasprintf("%s%s\n", list, order[i]);
			free(list);
			list = grown;
		}
		list_name = xasprintf("modules/%s.list", module_groups[g].group);
		cpio_file(c, list_name, 0644, list, strlen(list));
	}
	ret = 0;
out:
	moddep_free(&md);
	return ret;
}

static int write_initrd(const char *dest, const char *init_path, const struct vm_kernel *k,
			berr_t *e)
{
	_cleanup_free_ char *tmp = xasprintf("%s.tmp.%d", dest, (int)getpid());
	_cleanup_free_ char *init = NULL;
	struct cpio c = {0};
	size_t init_len;
	int ret = -1;

	if (read_file(init_path, &init, &init_len, e) < 0)
		return berr_wrap(e, "guest init");
	c.f = fopen(tmp, "we");
	if (!c.f)
		return berr_sys(e, "create \"%s\"", tmp);
	cpio_header(&c, "dev", S_IFDIR | 0755, 0, 0, 0);
	/* The kernel opens it for init's stdio before anything is mounted. */
	cpio_header(&c, "dev/console", S_IFCHR | 0600, 0, 5, 1);
	cpio_file(&c, "init", 0755, init, init_len);
	if (write_modules(&c, k, e) < 0)
		goto out;
	cpio_header(&c, "TRAILER!!!", 0, 0, 0, 0);
	if (fflush(c.f) != 0 || ferror(c.f)) {
		berr_sys(e, "write \"%s\"", tmp);
		goto out;
	}
	if (rename(tmp, dest) < 0) {
		berr_sys(e, "rename \"%s\"", tmp);
		goto out;
	}
	ret = 0;
out:
	fclose(c.f);
	if (ret < 0)
		unlink(tmp);
	return ret;
}

int vm_initrd_get(const struct vm_kernel *k, char **path, berr_t *e)
{
	_cleanup_free_ char *init = NULL, *cache = vm_cache_dir(), *dest = NULL;
	struct stat st;

	if (find_guest_init(&init, e) < 0)
		return -1;
	if (stat(init, &st) < 0)
		return berr_sys(e, "guest init \"%s\"", init);
	if (mkdir_p(cache, 0755, e) < 0)
		return berr_wrap(e, "VM cache");
	/* A rebuilt guest init or another kernel gets its own initramfs. */
	dest = xasprintf("%s/initrd-%s-%lld-%lld.%09ld.cpio", cache,
			 k->version ? k->version : "builtin", (long long)st.st_size,
			 (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	if (access(dest, R_OK) != 0) {
		log_debug("vm: packing the initramfs %s", dest);
		if (write_initrd(dest, init, k, e) < 0)
			return berr_wrap(e, "initramfs");
	}
	*path = steal_ptr(dest);
	return 0;
}
