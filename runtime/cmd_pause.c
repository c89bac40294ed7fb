/* runtime/cmd_pause.c: `berth pause ID` and `berth resume ID`: freeze and
 * thaw every process of a container through its cgroup. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "common/util.h"
#include "container.h"

int cmd_pause(struct global_opts *g, int argc, char **argv)
{
	bool pause = strcmp(argv[0], "pause") == 0;
	_cleanup_free_ char **pos = NULL;
	berr_t e = BERR_INIT;
	int npos;

	if (cli_parse(argc, argv, NULL, 0, &pos, &npos, &e) < 0)
		return cli_fail(&e, "%s", argv[0]);
	if (npos != 1) {
		cli_usage(&e, argv[0], "ID");
		return cli_fail(&e, NULL);
	}
	if (container_pause(g->root, pos[0], pause, &e) < 0)
		return cli_fail(&e, "%s %s", argv[0], pos[0]);
	return 0;
}
