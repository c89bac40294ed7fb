/* runtime/cmd_start.c: `berth start ID`: run the user process of a created
 * container, then its poststart hooks. */
#include <stdlib.h>

#include "cli.h"
#include "common/util.h"
#include "container.h"

int cmd_start(struct global_opts *g, int argc, char **argv)
{
	_cleanup_free_ char **pos = NULL;
	berr_t e = BERR_INIT;
	int npos;

	if (cli_parse(argc, argv, NULL, 0, &pos, &npos, &e) < 0)
		return cli_fail(&e, "start");
	if (npos != 1) {
		cli_usage(&e, "start", "ID");
		return cli_fail(&e, NULL);
	}
	if (container_start(g->root, pos[0], &e) < 0)
		return cli_fail(&e, "start %s", pos[0]);
	return 0;
}
