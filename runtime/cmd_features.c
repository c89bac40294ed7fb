/* runtime/cmd_features.c: `berth features`: the OCI features document
 * (runtime-spec features.md), built from the same tables the runtime uses. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/capability.h>
#include <unistd.h>

#include "cli.h"
#include "common/json.h"
#include "common/util.h"
#include "setup.h"

static void write_capabilities(struct json_writer *w)
{
	json_key(w, "capabilities");
	json_begin_array(w);
	for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++) {
		char *lower = cap_to_name(c);
		_cleanup_free_ char *upper = xstrdup(lower);

		cap_free(lower); /* libcap's memory goes back through libcap */
		for (char *p = upper; *p; p++)
			*p = (*p >= 'a' && *p <= 'z') ? *p - 'a' + 'A' : *p;
		json_str(w, upper);
	}
	json_end_array(w);
}

static void write_linux(struct json_writer *w)
{
	json_key(w, "linux");
	json_begin_map(w);
	json_key(w, "namespaces");
	json_begin_array(w);
	for (int t = 0; t < NS_TYPE_COUNT; t++)
		json_str(w, spec_ns_name(t));
	json_end_array(w);
	write_capabilities(w);
	json_key(w, "cgroup");
	json_begin_map(w);
	json_kv_bool(w, "v1", true);
	json_kv_bool(w, "v2", true);
	json_kv_bool(w, "systemd", false);
	json_kv_bool(w, "systemdUser", false);
	json_kv_bool(w, "rdma", true);
	json_end_map(w);
	seccomp_write_features(w);
	json_key(w, "apparmor");
	json_begin_map(w);
	json_kv_bool(w, "enabled", access("/sys/kernel/security/apparmor", F_OK) == 0);
	json_end_map(w);
	json_key(w, "selinux");
	json_begin_map(w);
	json_kv_bool(w, "enabled", access("/sys/fs/selinux/enforce", F_OK) == 0);
	json_end_map(w);
	json_key(w, "intelRdt");
	json_begin_map(w);
	json_kv_bool(w, "enabled", false);
	json_end_map(w);
	json_key(w, "mountExtensions");
	json_begin_map(w);
	json_key(w, "idmap");
	json_begin_map(w);
	json_kv_bool(w, "enabled", false);
	json_end_map(w);
	json_end_map(w);
	json_end_map(w);
}

int cmd_features(struct global_opts *g, int argc, char **argv)
{
	struct json_writer *w = json_writer_new_pretty();
	_cleanup_free_ char **pos = NULL;
	berr_t e = BERR_INIT;
	int npos;

	(void)g;
	if (cli_parse(argc, argv, NULL, 0, &pos, &npos, &e) < 0 || npos != 0) {
		json_writer_free(w);
		if (!e.msg)
			cli_usage(&e, "features", "");
		return cli_fail(&e, "features");
	}
	json_begin_map(w);
	json_kv_str(w, "ociVersionMin", "1.0.0");
	json_kv_str(w, "ociVersionMax", "1.2.0");
	json_key(w, "hooks");
	json_begin_array(w);
	for (int k = 0; k < HOOK_KIND_COUNT; k++)
		json_str(w, spec_hook_name(k));
	json_end_array(w);
	json_key(w, "mountOptions");
	json_begin_array(w);
	for (size_t i = 0; mount_option_name(i); i++)
		json_str(w, mount_option_name(i));
	json_end_array(w);
	write_linux(w);
	json_key(w, "annotations");
	json_begin_map(w);
	json_kv_str(w, "org.berth.version", BERTH_VERSION);
	json_kv_str(w, "org.berth.commit", BERTH_COMMIT);
	json_end_map(w);
	json_end_map(w);
	puts(json_writer_str(w));
	json_writer_free(w);
	return 0;
}
