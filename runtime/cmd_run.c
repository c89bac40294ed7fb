/* runtime/cmd_run.c: `berth run [options] ID`: create and start; in the
 * foreground berth waits and exits with the workload's status. */
#include <stdlib.h>

#include "cli.h"
#include "common/util.h"
#include "container.h"

int cmd_run(struct global_opts *g, int argc, char **argv)
{
	struct create_opts o = {.root = g->root, .systemd_cgroup = g->systemd_cgroup,
				.rootless = g->rootless_on};
	bool keep = false;
	const struct cli_opt opts[] = {
		{"bundle", 'b', CLI_STRING, &o.bundle},
		{"pid-file", 0, CLI_STRING, &o.pid_file},
		{"console-socket", 0, CLI_STRING, &o.console_socket},
		{"preserve-fds", 0, CLI_INT, &o.preserve_fds},
		{"no-pivot", 0, CLI_BOOL, &o.no_pivot},
		{"no-new-keyring", 0, CLI_BOOL, &o.no_new_keyring},
		{"detach", 'd', CLI_BOOL, &o.detach},
		{"keep", 0, CLI_BOOL, &keep},
		{0},
	};
	_cleanup_free_ char **pos = NULL;
	berr_t e = BERR_INIT;
	int npos, status = 0;

	if (cli_parse(argc, argv, opts, 0, &pos, &npos, &e) < 0)
		return cli_fail(&e, "run");
	if (npos != 1) {
		cli_usage(&e, "run", "[options] ID");
		return cli_fail(&e, NULL);
	}
	if (keep) {
		berr_set(&e, 0, "--keep is not supported: berth deletes a foreground container when it exits");
		return cli_fail(&e, "run");
	}
	o.id = pos[0];
	o.foreground = !o.detach;
	if (container_run(&o, &status, &e) < 0)
		return cli_fail(&e, "run %s", o.id);
	return status;
}
