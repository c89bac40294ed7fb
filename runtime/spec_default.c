/* runtime/spec_default.c: the default config: runc's capability set, masked
 * and read-only kernel paths, the default seccomp profile, new namespaces,
 * and (rootless) a user namespace mapping the caller. */
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/util.h"
#include "seccomp_default.h"
#include "spec_default.h"

static const char *const default_caps[] = {
	"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE", NULL,
};

static const char *const masked_paths[] = {
	"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
	"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
	"/sys/firmware", "/sys/devices/virtual/powercap", NULL,
};

static const char *const readonly_paths[] = {
	"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL,
};

static const char *const default_env[] = {
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm", NULL,
};

static const char *const default_args[] = {"sh", NULL};

struct mount_row {
	const char *destination, *type, *source;
	const char *const options[8];
	bool rootful_only, rootless_only;
};

static const struct mount_row mounts[] = {
	{"/proc", "proc", "proc", {NULL}, false, false},
	{"/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k", NULL},
	 false, false},
	{"/dev/pts", "devpts", "devpts",
	 {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5", NULL}, true, false},
	/* gid 5 (tty) is usually not mapped in a rootless user namespace. */
	{"/dev/pts", "devpts", "devpts",
	 {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", NULL}, false, true},
	{"/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k", NULL},
	 false, false},
	{"/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev", NULL}, false, false},
	{"/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro", NULL}, false, false},
	{"/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro", NULL},
	 false, false},
};

static void write_strv(struct json_writer *w, const char *key, const char *const *v)
{
	json_kv_strv(w, key, (char *const *)v);
}

static void write_process(struct json_writer *w, const struct spec_defaults *d)
{
	json_key(w, "process");
	json_begin_map(w);
	json_kv_bool(w, "terminal", d->terminal);
	json_key(w, "user");
	json_begin_map(w);
	json_kv_u64(w, "uid", d->uid);
	json_kv_u64(w, "gid", d->gid);
	if (d->n_additional_gids) {
		json_key(w, "additionalGids");
		json_begin_array(w);
		for (size_t i = 0; i < d->n_additional_gids; i++)
			json_u64(w, d->additional_gids[i]);
		json_end_array(w);
	}
	json_end_map(w);
	write_strv(w, "args", d->args ? (const char *const *)d->args : default_args);
	write_strv(w, "env", d->env ? (const char *const *)d->env : default_env);
	json_kv_str(w, "cwd", d->cwd ? d->cwd : "/");
	json_key(w, "capabilities");
	json_begin_map(w);
	write_strv(w, "bounding", default_caps);
	write_strv(w, "effective", default_caps);
	write_strv(w, "permitted", default_caps);
	json_end_map(w);
	json_key(w, "rlimits");
	json_begin_array(w);
	json_begin_map(w);
	json_kv_str(w, "type", "RLIMIT_NOFILE");
	json_kv_u64(w, "hard", 1024);
	json_kv_u64(w, "soft", 1024);
	json_end_map(w);
	json_end_array(w);
	json_kv_bool(w, "noNewPrivileges", true);
	json_end_map(w);
}

static void write_mounts(struct json_writer *w, bool rootless)
{
	json_key(w, "mounts");
	json_begin_array(w);
	for (size_t i = 0; i < ARRAY_SIZE(mounts); i++) {
		const struct mount_row *m = &mounts[i];

		if ((m->rootful_only && rootless) || (m->rootless_only && !rootless))
			continue;
		json_begin_map(w);
		json_kv_str(w, "destination", m->destination);
		json_kv_str(w, "type", m->type);
		json_kv_str(w, "source", m->source);
		if (m->options[0])
			write_strv(w, "options", m->options);
		json_end_map(w);
	}
	json_end_array(w);
}

static void write_mapping(struct json_writer *w, const char *key, const struct id_mapping *m,
			  size_t n)
{
	json_key(w, key);
	json_begin_array(w);
	for (size_t i = 0; i < n; i++) {
		json_begin_map(w);
		json_kv_u64(w, "containerID", m[i].container_id);
		json_kv_u64(w, "hostID", m[i].host_id);
		json_kv_u64(w, "size", m[i].size);
		json_end_map(w);
	}
	json_end_array(w);
}

static void write_linux(struct json_writer *w, const struct spec_defaults *d)
{
	static const char *const namespaces[] = {"pid", "network", "ipc", "uts", "mount", "cgroup"};

	json_key(w, "linux");
	json_begin_map(w);
	if (d->rootless) {
		write_mapping(w, "uidMappings", d->idmaps->uid, d->idmaps->n_uid);
		write_mapping(w, "gidMappings", d->idmaps->gid, d->idmaps->n_gid);
	} else {
		json_key(w, "resources");
		json_begin_map(w);
		json_key(w, "devices");
		json_begin_array(w);
		json_begin_map(w);
		json_kv_bool(w, "allow", false);
		json_kv_str(w, "access", "rwm");
		json_end_map(w);
		json_end_array(w);
		json_end_map(w);
	}
	json_key(w, "namespaces");
	json_begin_array(w);
	for (size_t i = 0; i < ARRAY_SIZE(namespaces); i++) {
		json_begin_map(w);
		json_kv_str(w, "type", namespaces[i]);
		json_end_map(w);
	}
	if (d->rootless) {
		json_begin_map(w);
		json_kv_str(w, "type", "user");
		json_end_map(w);
	}
	json_end_array(w);
	write_strv(w, "maskedPaths", masked_paths);
	write_strv(w, "readonlyPaths", readonly_paths);
	seccomp_default_write(w);
	json_end_map(w);
}

char *spec_default_json(const struct spec_defaults *d)
{
	struct json_writer *w = json_writer_new_pretty();
	char *out;

	json_begin_map(w);
	json_kv_str(w, "ociVersion", "1.2.0");
	write_process(w, d);
	json_key(w, "root");
	json_begin_map(w);
	json_kv_str(w, "path", "rootfs");
	json_kv_bool(w, "readonly", true);
	json_end_map(w);
	json_kv_str(w, "hostname", d->hostname ? d->hostname : "berth");
	write_mounts(w, d->rootless);
	if (d->annotation_keys || d->stop_signal) {
		json_key(w, "annotations");
		json_begin_map(w);
		for (size_t i = 0; d->annotation_keys && d->annotation_keys[i]; i++)
			json_kv_str(w, d->annotation_keys[i], d->annotation_values[i]);
		if (d->stop_signal)
			json_kv_str(w, "org.opencontainers.image.stopSignal", d->stop_signal);
		json_end_map(w);
	}
	write_linux(w, d);
	json_end_map(w);
	out = xasprintf("%s\n", json_writer_str(w));
	json_writer_free(w);
	return out;
}
