/* runtime/cmd_run.c: `berth run [options] ID`: create and start; in the
 * foreground berth waits and exits with the workload's status.
 * `berth run --image REF [--name ID] [-- CMD...]` runs an image. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "common/util.h"
#include "container.h"
#include "image_run.h"
#include "vm_lifecycle.h"

/* With --image, options end at the first positional: it starts the
 * command, whose own options must not be taken for berth's. */
static bool has_image_option(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strncmp(argv[i], "--image", 7) || !strncmp(argv[i], "-image", 6))
			return true;
	return false;
}

static int run_image(struct create_opts *o, struct image_run_opts *io, char **cmd, int *status,
		     berr_t *e)
{
	_cleanup_free_ char *id = NULL;
	int ret;

	if (!o->id)
		o->id = id = image_container_id();
	io->cmd = cmd;
	ret = image_run(o, io, status, e);
	if (ret < 0)
		berr_wrap(e, "run %s", o->id);
	else if (o->detach && id)
		printf("%s\n", id);
	o->id = NULL;
	return ret;
}

int cmd_run(struct global_opts *g, int argc, char **argv)
{
	struct create_opts o = {.root = g->root, .systemd_cgroup = g->systemd_cgroup,
				.rootless = g->rootless_on};
	bool keep = false;
	struct image_run_opts io = {0};
	const char *rw = "memory";
	_cleanup_strv_ char **publish = NULL;
	const struct cli_opt opts[] = {
		CREATE_CLI_OPTS(o, publish),
		{"detach", 'd', CLI_BOOL, &o.detach},
		{"keep", 0, CLI_BOOL, &keep},
		{"image", 0, CLI_STRING, &io.ref},
		{"name", 0, CLI_STRING, &o.id},
		{"store", 0, CLI_STRING, &io.store},
		{"tty", 't', CLI_BOOL, &io.tty},
		{"quiet", 'q', CLI_BOOL, &io.quiet},
		{"writable-layer", 0, CLI_STRING, &rw},
		{0},
	};
	_cleanup_free_ char **pos = NULL;
	berr_t e = BERR_INIT;
	int npos, status = 0;

	if (cli_parse(argc, argv, opts, has_image_option(argc, argv) ? 1 : 0, &pos, &npos, &e) < 0)
		return cli_fail(&e, "run");
	o.publish = publish;
	if (io.ref) {
		o.foreground = !o.detach;
		if (o.bundle || o.vm) {
			berr_set(&e, EINVAL, "--image makes its own bundle: --bundle and --vm do not apply");
			return cli_fail(&e, "run");
		}
		if (strcmp(rw, "memory") && strcmp(rw, "store")) {
			berr_set(&e, EINVAL, "--writable-layer: expected memory or store, got \"%s\"", rw);
			return cli_fail(&e, "run");
		}
		io.rw_in_store = !strcmp(rw, "store");
		if (run_image(&o, &io, pos, &status, &e) < 0)
			return cli_fail(&e, NULL);
		return status;
	}
	if (npos != 1) {
		cli_usage(&e, "run", "[options] ID, or --image REF [--name ID] [-- CMD...]");
		return cli_fail(&e, NULL);
	}
	if (keep) {
		berr_set(&e, 0, "--keep is not supported: berth deletes a foreground container when it exits");
		return cli_fail(&e, "run");
	}
	o.id = pos[0];
	o.foreground = !o.detach;
	if ((vm_requested(&o) ? vm_container_run(&o, &status, &e) :
				container_run(&o, &status, &e)) < 0) {
		int code = exec_failure_status(&e);

		cli_fail(&e, "run %s", o.id);
		return code;
	}
	return status;
}
