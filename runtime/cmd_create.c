/* runtime/cmd_create.c: `berth create [options] ID`: set up a container from
 * a bundle and leave it waiting for `start`. */
#include <stdlib.h>

#include "cli.h"
#include "common/util.h"
#include "container.h"

int cmd_create(struct global_opts *g, int argc, char **argv)
{
	struct create_opts o = {.root = g->root, .systemd_cgroup = g->systemd_cgroup,
				.rootless = g->rootless_on};
	_cleanup_strv_ char **publish = NULL;
	const struct cli_opt opts[] = {
		CREATE_CLI_OPTS(o, publish),
		{0},
	};
	_cleanup_free_ char **pos = NULL;
	berr_t e = BERR_INIT;
	int npos;

	if (cli_parse(argc, argv, opts, 0, &pos, &npos, &e) < 0)
		return cli_fail(&e, "create");
	o.publish = publish;
	if (npos != 1) {
		cli_usage(&e, "create", "[options] ID");
		return cli_fail(&e, NULL);
	}
	o.id = pos[0];
	if (container_create(&o, &e) < 0)
		return cli_fail(&e, "create %s", o.id);
	return 0;
}
