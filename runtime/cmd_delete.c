/* runtime/cmd_delete.c: `berth delete [--force] ID`: remove a stopped
 * container (with --force, stop it first). */
#include <stdlib.h>

#include "cli.h"
#include "common/util.h"
#include "container.h"

int cmd_delete(struct global_opts *g, int argc, char **argv)
{
	bool force = false;
	const struct cli_opt opts[] = {
		{"force", 'f', CLI_BOOL, &force},
		{0},
	};
	_cleanup_free_ char **pos = NULL;
	berr_t e = BERR_INIT;
	int npos;

	if (cli_parse(argc, argv, opts, 0, &pos, &npos, &e) < 0)
		return cli_fail(&e, "delete");
	if (npos != 1) {
		cli_usage(&e, "delete", "[--force] ID");
		return cli_fail(&e, NULL);
	}
	if (container_delete(g->root, pos[0], force, &e) < 0)
		return cli_fail(&e, "delete %s", pos[0]);
	return 0;
}
